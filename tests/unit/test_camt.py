"""The camt.052/053/054 reader: the mapping, every decision, and round trips.

Hostile and malformed input has its own corpus (test_statement_hostile_xml.py); the
shared sample files are in tests/integration/test_camt_samples.py.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.camt_render import namespace, render_camt

from o2c.adapters.statements._xml import Node, SafeXMLReader, xml_strip
from o2c.adapters.statements.camt import SUPPORTED_VERSIONS, read_camt
from o2c.errors import (
    StatementBalanceError,
    StatementFormatError,
    StatementValueError,
    UnsafeStatementError,
    UnsupportedStatementError,
)
from o2c.money import Money, minor_units
from o2c.statements import Balance, BalanceKind, EntryDetail, Statement, StatementEntry

NS53 = namespace("053", 2)


def doc(
    body: str,
    *,
    ns: str = NS53,
    message: str = "BkToCstmrStmt",
    account: str = "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>",
    element: str = "Stmt",
    statement_id: str = "S1",
) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="{ns}"><{message}>'
        f"<GrpHdr><MsgId>M</MsgId></GrpHdr><{element}><Id>{statement_id}</Id>{account}"
        f"{body}</{element}></{message}></Document>"
    ).encode()


def ntry(
    inner: str = "",
    *,
    amount: str = "10.00",
    ccy: str = "EUR",
    sign: str = "CRDT",
    status: str = "<Sts>BOOK</Sts>",
    booking: str = "<BookgDt><Dt>2026-03-02</Dt></BookgDt>",
    ref: str = "",
) -> str:
    reference = f"<AcctSvcrRef>{ref}</AcctSvcrRef>" if ref else ""
    return (
        f'<Ntry><Amt Ccy="{ccy}">{amount}</Amt><CdtDbtInd>{sign}</CdtDbtInd>{status}'
        f"{booking}{reference}{inner}</Ntry>"
    )


def bal(code: str, amount: str, sign: str = "CRDT", on: str = "2026-03-01") -> str:
    return (
        f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{amount}</Amt>'
        f"<CdtDbtInd>{sign}</CdtDbtInd><Dt><Dt>{on}</Dt></Dt></Bal>"
    )


def one(data: bytes, **options: object) -> Statement:
    (statement,) = read_camt(data, **options)  # type: ignore[arg-type]
    return statement


EUR = "EUR"


# --------------------------------------------------------------------------- the mapping


FULL = doc(
    bal("PRCD", "100.00")
    + bal("CLBD", "85.55")
    + bal("CLAV", "80.00")
    + bal("ITBD", "1.00", "DBIT")
    + ntry(
        """<ValDt><Dt>2026-03-03</Dt></ValDt>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn>
          <Prtry><Cd>166</Cd></Prtry></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>E2E-1</EndToEndId></Refs>
          <RltdPties>
            <Dbtr><Nm>  Ada   Lovelace </Nm></Dbtr>
            <DbtrAcct><Id><IBAN>de89 3704 0044 0532 0130 00</IBAN></Id></DbtrAcct>
            <Cdtr><Nm>Us</Nm></Cdtr>
          </RltdPties>
          <RmtInf><Ustrd>Invoice INV-1</Ustrd><Ustrd> and INV-2 </Ustrd>
            <Strd><CdtrRefInf><Ref>RF18539007547034</Ref></CdtrRefInf></Strd>
            <Strd><CdtrRefInf><Ref>RF71INV2</Ref></CdtrRefInf></Strd>
            <Strd><AddtlRmtInf>no reference in this one</AddtlRmtInf></Strd>
          </RmtInf>
        </TxDtls></NtryDtls>
        <AddtlNtryInf>not used: the transaction has remittance</AddtlNtryInf>""",
        amount="20.55",
        ref="BANKREF-1",
    )
    + ntry(
        """<NtryRef>NREF-2</NtryRef>
        <BkTxCd><Prtry><Cd>NTRF</Cd></Prtry></BkTxCd>
        <NtryDtls><TxDtls>
          <RltdPties><Cdtr><Pty><Nm>Supplier AG</Nm></Pty></Cdtr>
            <CdtrAcct><Id><Othr><Id>0001234567</Id></Othr></Id></CdtrAcct></RltdPties>
          <AddtlTxInf>PAYMENT 42</AddtlTxInf>
        </TxDtls></NtryDtls>""",
        amount="35.00",
        sign="DBIT",
        booking="<BookgDt><DtTm>2026-03-02T23:59:59.123+02:00</DtTm></BookgDt>",
    )
    + ntry(
        "<RvslInd>true</RvslInd><AddtlNtryInf>Returned</AddtlNtryInf>",
        amount="0",
        sign="DBIT",
    )
)


def test_a_statement_is_read_field_by_field() -> None:
    s = one(FULL)
    assert (s.statement_id, s.account, s.currency, s.source_format) == (
        "S1",
        "DE89370400440532013000",
        EUR,
        "camt.053.001.02",
    )
    assert s.balances == (
        Balance(BalanceKind.OPENING, Money("100.00", EUR), date(2026, 3, 1), "PRCD"),
        Balance(BalanceKind.CLOSING, Money("85.55", EUR), date(2026, 3, 1), "CLBD"),
        Balance(BalanceKind.CLOSING_AVAILABLE, Money("80.00", EUR), date(2026, 3, 1), "CLAV"),
        Balance(BalanceKind.OTHER, Money("-1.00", EUR), date(2026, 3, 1), "ITBD"),
    )
    first, second, third = s.entries
    assert first == StatementEntry(
        line_id="BANKREF-1",
        booking_date=date(2026, 3, 2),
        amount=Money("20.55", EUR),
        value_date=date(2026, 3, 3),
        counterparty_name="Ada   Lovelace",
        counterparty_iban="DE89370400440532013000",
        # Ustrd lines joined by a space; the second structured reference follows.
        remittance="Invoice INV-1 and INV-2 RF71INV2",
        structured_reference="RF18539007547034",
        end_to_end_id="E2E-1",
        bank_code="PMNT/RCDT/ESCT",
    )
    assert second == StatementEntry(
        line_id="NREF-2",
        # The date of a date-time as written (not converted to UTC).
        booking_date=date(2026, 3, 2),
        amount=Money("-35.00", EUR),
        counterparty_name="Supplier AG",
        counterparty_iban="0001234567",
        remittance="PAYMENT 42",
        bank_code="NTRF",
    )
    assert second.is_incoming is False
    assert third == StatementEntry(
        line_id="S1/Ntry[3]",
        booking_date=date(2026, 3, 2),
        amount=Money("0", EUR),
        reversal=True,
        remittance="Returned",
    )
    assert s.reconciles is True


@pytest.mark.parametrize("version", list(SUPPORTED_VERSIONS))
@pytest.mark.parametrize("message", ["052", "053", "054"])
def test_every_message_and_version_reads_the_same_content(message: str, version: int) -> None:
    statement = Statement(
        statement_id="ST-1",
        account="CH9300762011623852957",
        currency="CHF",
        entries=(
            StatementEntry(
                line_id="R1",
                booking_date=date(2026, 3, 2),
                amount=Money("-12.30", "CHF"),
                counterparty_name="Payee",
                counterparty_iban="CH9300762011623852957",
                remittance="rent",
                bank_code="PMNT/ICDT/DMCT",
            ),
            StatementEntry(
                line_id="R2",
                booking_date=date(2026, 3, 2),
                amount=Money("7.00", "CHF"),
                details=(
                    EntryDetail(Money("3.00", "CHF"), counterparty_name="A", remittance="x"),
                    EntryDetail(Money("4.00", "CHF"), counterparty_name="B", end_to_end_id="E"),
                ),
            ),
        ),
        balances=(
            Balance(BalanceKind.OPENING, Money("10.00", "CHF"), date(2026, 3, 1), "OPBD"),
            Balance(BalanceKind.CLOSING, Money("4.70", "CHF"), date(2026, 3, 2), "CLBD"),
        ),
        source_format=f"camt.{message}.001.{version:02d}",
    )
    data = render_camt([statement], message=message, version=version, pretty=True)
    assert read_camt(data) == (statement,)


def test_camt_052_and_054_use_their_own_elements() -> None:
    report = doc(ntry(), ns=namespace("052", 6), message="BkToCstmrAcctRpt", element="Rpt")
    notification = doc(
        ntry(), ns=namespace("054", 8), message="BkToCstmrDbtCdtNtfctn", element="Ntfctn"
    )
    assert one(report).source_format == "camt.052.001.06"
    assert one(notification).source_format == "camt.054.001.08"
    # A Stmt inside an account report is not a statement of it.
    with pytest.raises(StatementValueError, match="has no Rpt"):
        read_camt(doc(ntry(), ns=namespace("052", 6), message="BkToCstmrAcctRpt"))


def test_several_statements_come_back_in_file_order() -> None:
    data = doc("").replace(
        b"</Stmt>",
        b"</Stmt><Stmt><Id>S2</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id>"
        b"</Acct>" + ntry(ccy="EUR").encode() + b"</Stmt>",
    )
    first, second = read_camt(data)
    assert (first.statement_id, len(first.entries)) == ("S1", 0)
    assert (second.statement_id, second.currency, len(second.entries)) == ("S2", EUR, 1)


# --------------------------------------------------------------------------- status


PENDING = doc(
    bal("OPBD", "1.00")
    + bal("CLBD", "3.00")
    + ntry(amount="2.00", ref="B")
    + ntry(amount="50.00", status="<Sts>PDNG</Sts>", ref="P")
    + ntry(amount="60.00", status="<Sts><Cd>INFO</Cd></Sts>", ref="I")
    + ntry(amount="70.00", status="<Sts><Prtry>FUTR</Prtry></Sts>", ref="F")
)


def test_entries_not_booked_are_left_out_by_default() -> None:
    s = one(PENDING)
    assert [e.line_id for e in s.entries] == ["B"]
    assert s.reconciles is True


def test_entries_not_booked_can_be_kept_and_do_not_move_the_balance() -> None:
    s = one(PENDING, include_pending=True)
    assert [(e.line_id, e.booked) for e in s.entries] == [
        ("B", True),
        ("P", False),
        ("I", False),
        ("F", False),
    ]
    assert s.reconciles is True


def test_an_entry_without_status_counts_as_booked() -> None:
    assert one(doc(ntry(status=""))).entries[0].booked is True


# --------------------------------------------------------------------------- batches


def tx(amount: str = "", *, ccy: str = "EUR", inner: str = "", sign: str = "") -> str:
    amt = f'<AmtDtls><TxAmt><Amt Ccy="{ccy}">{amount}</Amt></TxAmt></AmtDtls>' if amount else ""
    ind = f"<CdtDbtInd>{sign}</CdtDbtInd>" if sign else ""
    return f"<TxDtls>{amt}{ind}{inner}</TxDtls>"


def test_a_batch_keeps_each_transaction() -> None:
    body = ntry(
        "<NtryDtls><Btch><NbOfTxs>2</NbOfTxs></Btch>"
        + tx(
            "3.00",
            inner="<RltdPties><Dbtr><Nm>A</Nm></Dbtr><UltmtDbtr><Nm>UA</Nm></UltmtDbtr>"
            "<DbtrAcct><Id><IBAN>GB33BUKB20201555555555</IBAN></Id></DbtrAcct></RltdPties>"
            "<RmtInf><Strd><CdtrRefInf><CdtrRef>OLDREF</CdtrRef></CdtrRefInf></Strd></RmtInf>",
        )
        + tx(
            "4.00",
            inner="<RltdPties><UltmtDbtr><Pty><Nm>Only ultimate</Nm></Pty></UltmtDbtr>"
            "</RltdPties><Refs><EndToEndId>E2</EndToEndId></Refs>",
        )
        + "</NtryDtls><AddtlNtryInf>Batch 7</AddtlNtryInf>",
        amount="7.00",
    )
    (entry,) = one(doc(body)).entries
    assert entry.counterparty_name == ""
    assert entry.remittance == "Batch 7"
    assert entry.details == (
        EntryDetail(
            Money("3.00", EUR),
            counterparty_name="A",
            counterparty_iban="GB33BUKB20201555555555",
            structured_reference="OLDREF",
        ),
        EntryDetail(Money("4.00", EUR), counterparty_name="Only ultimate", end_to_end_id="E2"),
    )


def test_a_batch_may_mix_directions_when_each_transaction_says_so() -> None:
    body = ntry(
        "<NtryDtls>"
        + tx("10.00", sign="CRDT", inner="<RltdPties><Dbtr><Nm>In</Nm></Dbtr></RltdPties>")
        + tx("4.00", sign="DBIT", inner="<RltdPties><Cdtr><Nm>Out</Nm></Cdtr></RltdPties>")
        + "</NtryDtls>",
        amount="6.00",
    )
    (entry,) = one(doc(body)).entries
    assert [(d.amount, d.counterparty_name) for d in entry.details] == [
        (Money("10.00", EUR), "In"),
        (Money("-4.00", EUR), "Out"),
    ]


def test_a_batch_amount_is_taken_in_the_entry_currency() -> None:
    # Instructed in USD, booked in EUR: the EUR amount is the transaction's share.
    usd = '<Amt Ccy="USD">5.00</Amt><AmtDtls><InstdAmt><Amt Ccy="USD">5.00</Amt></InstdAmt>'
    body = ntry(
        "<NtryDtls>"
        + f'<TxDtls>{usd}<TxAmt><Amt Ccy="EUR">4.60</Amt></TxAmt></AmtDtls></TxDtls>'
        + f'<TxDtls>{usd}<CntrValAmt><Amt Ccy="EUR">4.40</Amt></CntrValAmt></AmtDtls></TxDtls>'
        + "</NtryDtls>",
        amount="9.00",
    )
    (entry,) = one(doc(body)).entries
    assert [d.amount for d in entry.details] == [Money("4.60", EUR), Money("4.40", EUR)]


def test_a_batch_whose_transactions_do_not_sum_to_the_entry_is_refused() -> None:
    body = ntry("<NtryDtls>" + tx("3.00") + tx("4.01") + "</NtryDtls>", amount="7.00")
    with pytest.raises(StatementValueError) as caught:
        read_camt(doc(body))
    assert caught.value.field == "TxDtls"
    assert "sum to 7.01 EUR, the entry is 7.00 EUR" in caught.value.reason
    assert caught.value.position.startswith("Stmt[1]/Ntry[1] (line 1, column")


@pytest.mark.parametrize(
    ("second", "reason"),
    [
        (tx(), "has no amount (Amt or AmtDtls/TxAmt)"),
        (tx("4.00", ccy="USD"), "has no amount in EUR"),
    ],
)
def test_a_batch_transaction_without_a_usable_amount_is_refused(second: str, reason: str) -> None:
    body = ntry("<NtryDtls>" + tx("3.00") + second + "</NtryDtls>", amount="7.00")
    with pytest.raises(StatementValueError, match="cannot be split") as caught:
        read_camt(doc(body))
    assert reason in caught.value.reason
    assert caught.value.position.startswith("Stmt[1]/Ntry[1]/TxDtls[2] (line 1")


def test_a_single_transaction_describes_the_entry_whose_amount_is_authoritative() -> None:
    # The transaction's own amount (even in another currency) does not replace the
    # entry's; its parties and remittance become the entry's.
    body = ntry(
        "<NtryDtls>"
        + tx("0", ccy="SEK", inner="<RltdPties><Dbtr><Nm>P</Nm></Dbtr></RltdPties>")
        + "</NtryDtls>",
        amount="8.85",
    )
    (entry,) = one(doc(body)).entries
    assert (entry.amount, entry.counterparty_name, entry.details) == (Money("8.85", EUR), "P", ())


def test_transaction_details_count_only_inside_entry_details() -> None:
    # A TxDtls somewhere else at the same depth is not a transaction of the entry.
    stray = "<AddtlInfInd><MsgNmId><TxDtls><AmtDtls/></TxDtls></MsgNmId></AddtlInfInd>"
    (entry,) = one(doc(ntry(stray))).entries
    assert (entry.details, entry.counterparty_name) == ((), "")


def test_transaction_bank_code_and_agent_names_are_used_when_the_entry_has_none() -> None:
    body = ntry(
        "<NtryDtls><TxDtls><BkTxCd><Prtry><Cd>Z04</Cd></Prtry></BkTxCd><RltdPties>"
        "<Dbtr><Agt><FinInstnId><BICFI>BANKCHZHXXX</BICFI></FinInstnId></Agt></Dbtr>"
        "</RltdPties></TxDtls></NtryDtls>"
    )
    (entry,) = one(doc(body)).entries
    assert (entry.bank_code, entry.counterparty_name) == ("Z04", "BANKCHZHXXX")


# --------------------------------------------------------------------------- ids, dates


def test_repeated_bank_references_are_made_unique_in_file_order() -> None:
    body = ntry(ref="R") + ntry(ref="R") + ntry(ref="R#2") + ntry(ref="R")
    ids = [e.line_id for e in one(doc(body)).entries]
    assert ids == ["R", "R#2", "R#2#2", "R#3"]
    assert len(set(ids)) == len(ids)


def test_an_entry_without_booking_date_takes_its_value_date() -> None:
    body = ntry("<ValDt><DtTm>2026-03-04T00:00:00Z</DtTm></ValDt>", booking="")
    (entry,) = one(doc(body)).entries
    assert (entry.booking_date, entry.value_date) == (date(2026, 3, 4), date(2026, 3, 4))


def test_reversal_indicator_accepts_the_schema_booleans() -> None:
    body = ntry("<RvslInd>1</RvslInd>") + ntry("<RvslInd>false</RvslInd>")
    assert [e.reversal for e in one(doc(body)).entries] == [True, False]


def test_version_1_proprietary_account_and_message_name() -> None:
    data = doc(
        ntry(ccy="SEK"),
        ns=namespace("052", 1),
        message="BkToCstmrAcctRptV01",
        element="Rpt",
        account="<Acct><Id><PrtryAcct><Id>ACC-1</Id></PrtryAcct></Id></Acct>",
    )
    s = one(data)
    assert (s.account, s.currency, s.source_format) == ("ACC-1", "SEK", "camt.052.001.01")


# --------------------------------------------------------------------------- amounts


def test_amounts_are_kept_exactly_up_to_the_schema_five_decimals() -> None:
    body = bal("OPBD", "5442.09000") + bal("CLBD", "5443.12345") + ntry(amount="1.03345")
    s = one(doc(body))
    assert s.entries[0].amount.amount == Decimal("1.03345")
    assert str(s.balances[0].amount.amount) == "5442.09000"
    assert s.reconciles is True
    with pytest.raises(StatementValueError, match="5 decimals") as caught:
        read_camt(doc(ntry(amount="1.033451")))
    assert caught.value.value == "1.033451"


def test_amount_text_may_carry_xml_white_space_only() -> None:
    (entry,) = one(doc(ntry(amount="\n   12.50\t "))).entries
    assert entry.amount == Money("12.50", EUR)
    with pytest.raises(StatementValueError):
        read_camt(doc(ntry(amount="\u00a012.50")))


def test_currency_comes_from_the_amounts_when_the_account_has_none() -> None:
    account = "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>"
    assert one(doc(ntry(ccy="JPY", amount="2700"), account=account)).currency == "JPY"
    with pytest.raises(StatementValueError, match="names no currency") as caught:
        read_camt(doc("", account=account))
    assert caught.value.field == "Ccy"


def test_an_amount_in_another_currency_than_the_account_is_refused() -> None:
    with pytest.raises(StatementValueError, match="an amount in SEK on an account in EUR") as c:
        read_camt(doc(bal("OPBD", "1.00") + ntry(ccy="SEK")))
    assert c.value.position.startswith("Stmt[1]/Ntry[1] (line 1, column ")
    with pytest.raises(StatementValueError, match="in USD on an account in EUR"):
        read_camt(doc(bal("OPBD", "1.00").replace("EUR", "USD")))


# --------------------------------------------------------------------------- balances


def test_balances_that_do_not_reconcile_are_refused_with_the_sums() -> None:
    data = doc(bal("OPBD", "100.00") + bal("CLBD", "120.00") + ntry(amount="19.99"))
    with pytest.raises(StatementBalanceError) as caught:
        read_camt(data)
    err = caught.value
    assert (err.statement_id, err.opening, err.movements, err.closing) == (
        "S1",
        Money("100.00", EUR),
        Money("19.99", EUR),
        Money("120.00", EUR),
    )
    second_balance = data.index(b"<Bal>", data.index(b"<Bal>") + 1)
    assert err.position == f"Stmt[1]/Bal[2] (line 1, column {second_balance + 1})"
    assert err.line == 1
    unchecked = one(data, check_balances=False)
    assert unchecked.reconciles is False


def test_a_statement_with_only_one_of_the_balances_is_not_checked() -> None:
    assert one(doc(bal("CLBD", "99.00") + ntry())).reconciles is None


def test_a_proprietary_balance_type_is_kept_as_other() -> None:
    body = (
        "<Bal><Tp><CdOrPrtry><Prtry>XYZ</Prtry></CdOrPrtry></Tp>"
        '<Amt Ccy="EUR">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>'
        "<Dt><DtTm>2026-03-01T12:00:00</DtTm></Dt></Bal>"
    )
    (balance,) = one(doc(body)).balances
    assert balance == Balance(BalanceKind.OTHER, Money("-1.00", EUR), date(2026, 3, 1), "XYZ")


# --------------------------------------------------------------------------- input forms


def test_bytearray_memoryview_and_a_utf8_bom_are_read() -> None:
    data = doc(ntry())
    expected = read_camt(data)
    assert read_camt(bytearray(data)) == expected
    assert read_camt(memoryview(data)) == expected
    assert read_camt(b"\xef\xbb\xbf" + data) == expected


def test_text_is_refused_it_must_be_bytes() -> None:
    with pytest.raises(StatementFormatError, match="expected bytes, got str"):
        read_camt(doc(ntry()).decode())  # type: ignore[arg-type]


def test_comments_processing_instructions_cdata_and_character_references_are_fine() -> None:
    body = ntry(
        "<!-- a comment --><?pi data?><NtryDtls><TxDtls><RmtInf>"
        "<Ustrd><![CDATA[A & B <C>]]> &#x2603; &amp;</Ustrd></RmtInf></TxDtls></NtryDtls>"
    )
    (entry,) = one(doc(body)).entries
    assert entry.remittance == "A & B <C> \u2603 &"


def test_the_error_text_names_the_position_and_what_to_do() -> None:
    with pytest.raises(StatementValueError) as caught:
        read_camt(doc(ntry(amount="1,000.00")))
    text = str(caught.value)
    assert "position='Stmt[1]/Ntry[1]/Amt (line 1, column" in text
    assert "value='1,000.00'" in text
    assert "format='camt.053.001.02'" in text
    assert caught.value.hint.startswith("Nothing of the file was imported")


# --------------------------------------------------------------------------- the XML layer


def test_safe_xml_maps_every_defusedxml_refusal_to_a_typed_error() -> None:
    # With DTDs forbidden, entity and external-reference refusals cannot be reached
    # through a document; the mapping is still checked.
    from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

    reader = SafeXMLReader(fmt="camt", max_depth=10, max_elements=10)
    cases = {
        DTDForbidden("d", None, None): "DTD (document type declaration)",
        EntitiesForbidden("e", "v", None, None, None, None): "entity declaration",
        ExternalReferenceForbidden(None, None, "file:///etc/passwd", None): "external reference",
        ValueError("other"): "ValueError",
    }
    for exc, feature in cases.items():
        err = reader.unsafe(exc)
        assert isinstance(err, UnsafeStatementError)
        assert (err.feature, err.position) == (feature, "line 1, column 1")


def test_node_lookup_and_white_space() -> None:
    reader = SafeXMLReader(fmt="x", max_depth=10, max_elements=100)
    root = reader.parse(b"<a><b><c> t </c></b><b/><d xmlns='urn:other'><c/></d></a>")
    assert root.text_at("b", "c") == "t"
    assert root.text_at("b", "x") == ""
    assert [n.name for n in root.all("b")] == ["b", "b"]
    assert root.children[2].name == "{urn:other}d"
    assert isinstance(root.child("b"), Node)
    assert reader.parent() is None
    assert xml_strip("\u00a0 x \n") == "\u00a0 x"


def test_a_wrong_message_element_is_refused_at_once() -> None:
    with pytest.raises(UnsupportedStatementError, match="holds one BkToCstmrStmt"):
        read_camt(doc(ntry(), message="BkToCstmrAcctRpt"))


# --------------------------------------------------------------------------- properties

CURRENCIES = ("EUR", "CHF", "JPY", "KWD", "SEK")
SAFE = st.characters(
    codec="utf-8", categories=("L", "N", "P", "S"), exclude_characters="\ufffe\uffff"
)
# Drawn from a fixed list mostly (fast), with some free text for the unexpected.
NAMES = st.sampled_from(
    [
        "",
        "Ada Lovelace",
        "Müller & Söhne <GmbH>",
        "\"Quoted\" 'single'",
        "中文 付款人",
        "a  b",
        "]]> &amp;",
        "\u00a0nbsp at the edges\u00a0",
    ]
) | st.text(SAFE, max_size=6)
IDS = st.integers(0, 10**9).map(lambda n: f"ID{n}")
IBANS = st.builds(
    lambda country, number: f"{country}{number:020d}",
    st.sampled_from(["DE", "CH", "NL", "GB"]),
    st.integers(0, 10**20 - 1),
)
OTHER_ACCOUNTS = st.integers(10**4, 10**12).map(str)
ACCOUNTS = IBANS | OTHER_ACCOUNTS | st.just("")
DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
CODES = st.sampled_from(["", "PMNT/RCDT/ESCT", "PMNT/ICDT/DMCT", "PMNT/RDDT/ESDD"])


@st.composite
def magnitudes(draw: st.DrawFn, currency: str, minimum: int = 0) -> Money:
    places = draw(st.sampled_from([minor_units(currency), 5]))
    units = draw(st.integers(minimum, 10**11))
    return Money(Decimal(units).scaleb(-places), currency)


def _signed(money: Money, negative: bool) -> Money:
    return -money if negative else money


@st.composite
def entries(draw: st.DrawFn, statement_id: str, number: int, currency: str) -> StatementEntry:
    negative = draw(st.booleans())
    # The bank's reference (unique here; repeats are tested apart), or none: the position.
    line_id = draw(st.sampled_from([f"{statement_id}/Ntry[{number}]", f"REF-{number}"]))
    common = {
        "line_id": line_id,
        "booking_date": draw(DATES),
        "value_date": draw(st.none() | DATES),
        "reversal": draw(st.booleans()),
        "bank_code": draw(CODES),
    }
    if draw(st.booleans()):
        details = tuple(
            EntryDetail(
                amount=_signed(draw(magnitudes(currency, minimum=1)), negative),
                counterparty_name=draw(NAMES),
                counterparty_iban=draw(ACCOUNTS),
                remittance=draw(NAMES),
                structured_reference=draw(st.just("") | IDS),
                end_to_end_id=draw(st.just("") | IDS),
            )
            for _ in range(draw(st.integers(2, 3)))
        )
        total = sum((d.amount for d in details), Money.zero(currency))
        return StatementEntry(amount=total, details=details, remittance=draw(NAMES), **common)
    return StatementEntry(
        amount=_signed(draw(magnitudes(currency)), negative),
        counterparty_name=draw(NAMES),
        counterparty_iban=draw(ACCOUNTS),
        remittance=draw(NAMES),
        structured_reference=draw(st.just("") | IDS),
        end_to_end_id=draw(st.just("") | IDS),
        **common,
    )


@st.composite
def statements(
    draw: st.DrawFn, index: int, source_format: str, *, balanced: bool | None = None
) -> Statement:
    currency = draw(st.sampled_from(CURRENCIES))
    statement_id = f"{draw(IDS)}-{index}"
    items = tuple(
        draw(entries(statement_id, n, currency)) for n in range(1, draw(st.integers(0, 4)) + 1)
    )
    balances: tuple[Balance, ...] = ()
    if draw(st.booleans()) if balanced is None else balanced:
        opening = _signed(draw(magnitudes(currency)), draw(st.booleans()))
        closing = opening + sum((e.amount for e in items), Money.zero(currency))
        on = draw(DATES)
        balances = (
            Balance(BalanceKind.OPENING, opening, on, draw(st.sampled_from(["OPBD", "PRCD"]))),
            Balance(BalanceKind.CLOSING, closing, on, "CLBD"),
        )
        if draw(st.booleans()):
            extra = _signed(draw(magnitudes(currency)), draw(st.booleans()))
            balances += (Balance(BalanceKind.OTHER, extra, on, "ITAV"),)
    return Statement(
        statement_id=statement_id,
        account=draw(IBANS | OTHER_ACCOUNTS),
        currency=currency,
        entries=items,
        balances=balances,
        source_format=source_format,
    )


@st.composite
def documents(draw: st.DrawFn) -> tuple[tuple[Statement, ...], bytes]:
    message = draw(st.sampled_from(["052", "053", "054"]))
    version = draw(st.sampled_from(list(SUPPORTED_VERSIONS)))
    fmt = f"camt.{message}.001.{version:02d}"
    values = tuple(draw(statements(i, fmt)) for i in range(draw(st.integers(1, 2))))
    data = render_camt(
        values,
        message=message,
        version=version,
        pretty=draw(st.booleans()),
        declaration=draw(st.booleans()),
        date_time=draw(st.booleans()),
        spaced=draw(st.booleans()),
    )
    return values, data


@given(documents())
def test_rendered_statements_read_back_to_the_same_values(case: tuple) -> None:  # type: ignore[type-arg]
    values, data = case
    read = read_camt(data)
    assert read == values
    for statement in read:
        # Consistent generated balances reconcile: opening + entries == closing.
        assert statement.reconciles is (True if statement.balances else None)


@given(
    st.sampled_from(["052", "053", "054"]).flatmap(
        lambda message: statements(0, f"camt.{message}.001.08", balanced=True)
    ),
    st.integers(1, 10**6),
)
def test_a_changed_closing_balance_is_always_caught(statement: Statement, delta: int) -> None:
    opening, closing, *others = statement.balances
    shifted = attrs.evolve(
        closing, amount=closing.amount + Money(Decimal(delta).scaleb(-2), statement.currency)
    )
    broken = attrs.evolve(statement, balances=(opening, shifted, *others))
    data = render_camt([broken], message=statement.source_format[5:8], version=8)
    with pytest.raises(StatementBalanceError) as caught:
        read_camt(data)
    assert caught.value.statement_id == statement.statement_id
    assert caught.value.closing == shifted.amount
    assert one(data, check_balances=False).reconciles is False
    # The consistent original reads and reconciles.
    assert one(render_camt([statement], message=statement.source_format[5:8], version=8)) == (
        statement
    )


def test_docstring_examples_run() -> None:
    import doctest

    from o2c.adapters.statements import camt

    result = doctest.testmod(camt)
    assert result.attempted > 0
    assert result.failed == 0
