"""SWIFT MT940 reader (``pip install o2c[mt940]``).

:func:`read_mt940` reads an MT940 file (one or many statements, with or without the
SWIFT ``{1:}{2:}{4:`` envelope) into :class:`o2c.statements.Statement` values.

o2c reads the file's structure itself, strictly, and hands each entry's ``:86:``
information to the `mt-940 <https://pypi.org/project/mt-940/>`_ package (see
:mod:`o2c.adapters.statements._mt940_details`):

* every tag is checked: the mandatory ones present (``:20:``, ``:25:``, an opening
  ``:60F:``/``:60M:`` and a closing ``:62F:``/``:62M:``), in order, and every amount,
  date and currency strict (``1e3``, ``NaN``, ``1.000,00``, a 31 February... refused);
* a file whose text has ``:61:`` lines but yields no entry, or that yields no
  statement at all, is refused (other readers return nothing and no error);
* each statement must reconcile: opening balance + entries = closing balance, or it is
  refused, saying by how much (``check_balances=False`` lets a person inspect it, and
  :meth:`o2c.engine.O2C.import_statement` refuses it anyway).

Known bank quirks are tolerated, each one deliberately (see docs/statements.md): CR LF
or LF or CR line ends, blank lines, a missing final ``-``, header lines before ``:20:``
(``ABNANL2A`` / ``940``), ``:28C:`` wrapped or without a statement number, a 30
February (read as the last day of February), amounts written with a ``.`` (old
Rabobank exports), ``:61:`` without a transaction type or with a long customer
reference, a ``-`` line or a tag-like line (``:26:37``) inside ``:86:`` text, several
``:86:`` for one entry, ``:86:`` after the closing balance (statement information,
not an entry's), ``:NS:`` fields (ignored).

Anything else malformed raises a :class:`~o2c.errors.StatementFormatError` (or a
subclass) with a position (``"line 12, column 5"``) and nothing is returned.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Final

import attrs

from o2c.adapters.statements._mt940_details import (
    Details,
    DetailsMismatchError,
    EntryText,
    read_details,
)
from o2c.adapters.statements._text import (
    DEFAULT_MAX_BYTES,
    check_bytes,
    check_characters,
    clean,
    decode,
    iban_or_none,
    split_lines,
)
from o2c.errors import (
    DuplicateStatementLineError,
    StatementBalanceError,
    StatementFormatError,
    StatementStructureError,
    StatementValueError,
    UnsupportedStatementError,
)
from o2c.money import Money, is_currency, minor_units
from o2c.statements import Balance, BalanceKind, Statement, StatementEntry

__all__ = ["FORMAT", "MAX_DETAILS_LENGTH", "MAX_LINE_LENGTH", "read_mt940"]

FORMAT: Final = "mt940"
#: Longest line accepted (SWIFT writes at most 65 characters; banks write longer).
MAX_LINE_LENGTH: Final = 2048
#: Longest ``:86:`` text of one entry (SWIFT allows 6 x 65 characters).
MAX_DETAILS_LENGTH: Final = 4096
#: Non-tag lines accepted between statements (``ABNANL2A`` / ``940`` / ``ABNANL2A``).
MAX_HEADER_LINES: Final = 4
MAX_HEADER_LENGTH: Final = 40

_TAG: Final = re.compile(r":(\d{2}[A-Z]?|NS):")
_KNOWN: Final = frozenset(
    {"13", "13D", "20", "21", "25", "28", "28C", "34F", "60", "60F", "60M", "61", "62"}
    | {"62F", "62M", "64", "65", "86", "90C", "90D", "NS"}
)
_INSIDE: Final = _KNOWN - {"20"}
_INTERIM: Final = frozenset({"13", "13D", "34F", "90C", "90D"})  # MT942 interim reports
_OPENING: Final = frozenset({"60", "60F", "60M"})
_CLOSING: Final = frozenset({"62", "62F", "62M"})
_FREE_TEXT: Final = frozenset({"61", "86", "NS"})
_ENVELOPE_BLOCK: Final = re.compile(r"\{([0-9A-Z]):")
_BALANCE: Final = re.compile(r"([DC])(\d{6})([A-Z]{3})([0-9][0-9,.]{0,32})")
_STATEMENT_NUMBER: Final = re.compile(r"[0-9A-Za-z]{0,16}(?:/[0-9A-Za-z]{0,16})?")
_ENTRY: Final = re.compile(
    r"(?P<value>\d{6})(?P<entry>\d{4}|\s{4})?(?P<mark>R?[DC])(?P<funds>[A-Z])?\n?"
    r"(?P<amount>[0-9][0-9,.]{0,14})"
    # the transaction type and customer reference, or (a quirk) straight to the bank's
    # reference or the end: never letters glued to the amount ("1e3")
    r"(?: ?(?P<type>[A-Z][A-Z0-9 ]{3})(?P<customer>(?:(?!//)[^\n]){0,34})|(?=//|\n|$))"
    r"(?://(?P<bank>[^\n]{0,34}))?"
    r"(?:\n(?P<extra>[\s\S]*))?"
)
_BALANCE_KINDS: Final = {
    "60": BalanceKind.OPENING,
    "62": BalanceKind.CLOSING,
    "64": BalanceKind.CLOSING_AVAILABLE,
}
_NO_REFERENCE: Final = frozenset({"", "NONREF", "NOTPROVIDED"})
_MAX_SHOWN: Final = 64


def read_mt940(
    data: bytes,
    *,
    encoding: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    check_balances: bool = True,
) -> tuple[Statement, ...]:
    """Read an MT940 file into statements, in file order.

    Args:
        data: The file's bytes.
        encoding: ``None``: UTF-8, or Windows-1252 when the bytes are not UTF-8 (a
            UTF-8 byte order mark makes it UTF-8 only). Give the bank's encoding
            (``"utf-8"``, ``"cp1250"``...) to read it strictly in that one.
        max_bytes: Larger files are refused unread.
        check_balances: Refuse a statement whose opening balance plus its entries is
            not its closing balance. Only for inspecting a broken file: the engine
            refuses to import such a statement whatever this says.

    Line ids are the bank's references (``:61:`` ``//...``) when every entry of the
    statement has its own; otherwise ``<statement id>:<n>`` (the entry's position,
    from 1). The statement id is ``:20:/:28C:@<closing date>``.

    Raises:
        StatementTooLargeError: over ``max_bytes``.
        StatementEncodingError: invalid bytes for the encoding.
        StatementStructureError: a tag missing, out of order or unknown; text outside
            a statement; ``:61:`` lines that yield no entry.
        StatementValueError: a malformed field (amount, date, currency, balance).
        StatementBalanceError: a statement does not reconcile (``check_balances``).
        DuplicateStatementLineError: two entries of one account with one line id.
        UnsupportedStatementError: an MT942 interim report, or no MT940 at all.
        StatementFormatError: anything else (control characters, absurd lines).

    >>> text = b'''{1:F01BANKDEFFXXXX0000000000}{2:I940BANKDEFFXXXXN}{4:
    ... :20:STMT1
    ... :25:DE89370400440532013000
    ... :28C:1/1
    ... :60F:C260301EUR100,00
    ... :61:2603020302C19,99NTRFNONREF//B1
    ... :86:166?00GUTSCHRIFT?20SVWZ+Invoice INV-1?32Ada Lovelace
    ... :62F:C260302EUR119,99
    ... -}'''
    >>> (statement,) = read_mt940(text)
    >>> entry = statement.entries[0]
    >>> entry.line_id, entry.amount, entry.remittance, entry.counterparty_name
    ('B1', Money('19.99', 'EUR'), 'Invoice INV-1', 'Ada Lovelace')
    """
    raw = check_bytes(data, FORMAT, max_bytes)
    text = _unframe(decode(raw, FORMAT, encoding))
    check_characters(text, FORMAT)
    blocks = _Lexer(split_lines(text)).run()
    if not blocks:
        tagged = ":61:" in text or ":20:" in text
        raise (StatementStructureError if tagged else UnsupportedStatementError)(
            "the file holds no MT940 statement",
            format=FORMAT,
            position="line 1",
            reason="no statement (no ':20:' opens one)"
            + ("; its ':61:' lines belong to no statement" if ":61:" in text else ""),
            **({"tag": ":20:"} if tagged else {}),
        )
    statements = tuple(_read_block(block, check_balances) for block in blocks)
    entries = sum(len(s.entries) for s in statements)
    expected = sum(1 for block in blocks for f in block.fields if f.tag == "61")
    if entries != expected:  # pragma: no cover - a guard: every :61: is an entry or raises
        raise StatementStructureError(
            "some ':61:' lines yielded no entry",
            format=FORMAT,
            position=f"line {blocks[0].line}",
            reason=f"{expected} ':61:' lines but {entries} entries",
            tag=":61:",
        )
    _check_unique(statements, blocks)
    return statements


# --------------------------------------------------------------------------- lexing

# SWIFT FIN framing: SOH (0x01) before a message, ETX (0x03) after it (ETX SOH between
# two messages); Ctrl-Z (DOS end of file) at the end.
_FRAMING: Final = re.compile(r"\x03\x01|^\x01|\x03(?=\r\n|\r|\n|\Z)|\x1a+\s*\Z", re.MULTILINE)


def _unframe(text: str) -> str:
    """Drop the transmission's framing characters where they frame (SOH at the start
    of a line, ETX at its end, Ctrl-Z at the end of the file); anywhere else they are
    control characters and refused."""
    return _FRAMING.sub("", text)


@attrs.define(slots=True)
class _Field:
    """One tag and its value (continuation lines joined by ``\\n``)."""

    tag: str
    lines: list[str]
    line: int  # 1-based line of the tag

    @property
    def value(self) -> str:
        return "\n".join(self.lines)

    def where(self, offset: int = 0) -> str:
        return f"line {self.line + offset}"


@attrs.define
class _Block:
    """The fields of one statement, from its ``:20:``."""

    line: int
    fields: list[_Field] = attrs.field(factory=list)
    closed: bool = False  # a closing balance has come


def _fail(reason: str, line: int, *, tag: str = "", message: str = "") -> StatementStructureError:
    return StatementStructureError(
        message or "the MT940 file's structure is broken",
        format=FORMAT,
        position=f"line {line}",
        reason=reason,
        tag=tag,
        line=line,
    )


class _Lexer:
    """Splits the lines into statements and fields; envelopes and headers are dropped."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.blocks: list[_Block] = []
        self.block: _Block | None = None
        self.header_lines = 0
        self.in_header = False  # inside a SWIFT envelope's basic header, before {4:

    def run(self) -> list[_Block]:
        match_tag = _TAG.match
        for number, raw in enumerate(self.lines, 1):
            if len(raw) > MAX_LINE_LENGTH:
                raise StatementFormatError(
                    "a line is too long",
                    format=FORMAT,
                    position=f"line {number}, column {MAX_LINE_LENGTH + 1}",
                    reason=f"{len(raw)} characters; at most {MAX_LINE_LENGTH}",
                    line=number,
                )
            line = raw.rstrip()
            if not line:
                continue
            # The common case first: a known tag (not :20:) inside a statement.
            if line[0] == ":" and self.block is not None and not self.in_header:
                found = match_tag(line)
                if found is not None and found.group(1) in _INSIDE:
                    tag = found.group(1)
                    self.block.fields.append(_Field(tag, [line[found.end() :]], number))
                    self.block.closed = self.block.closed or tag in _CLOSING
                    continue
            self._line(line, number)
        self._close()
        return self.blocks

    def _line(self, line: str, number: int) -> None:
        if line.startswith("{") or self.in_header:
            line = self._envelope(line, number)
            if not line:
                return
        if line in ("-", "-}", "}") or line.startswith("-}{"):
            if line == "-" and self._dash_continues(number):
                assert self.block is not None  # noqa: S101 - _dash_continues checked it
                self.block.fields[-1].lines.append(line)
                return
            self._close()
            if line.startswith("-}{"):
                self._envelope(line[2:], number)
            return
        tag = _TAG.match(line)
        known = tag is not None and tag.group(1) in _KNOWN
        if tag is not None and known:
            self._tag(tag.group(1), line[tag.end() :], number)
            return
        field = self.block.fields[-1] if self.block and self.block.fields else None
        if field is not None and (tag is None or field.tag in _FREE_TEXT):
            field.lines.append(line)
            return
        if tag is not None:
            raise _fail(f"unknown tag ':{tag.group(1)}:'", number, tag=f":{tag.group(1)}:")
        self._header(line, number)

    def _tag(self, tag: str, rest: str, number: int) -> None:
        """A tag outside a statement (:meth:`run` files the others): only ``:20:``
        may open one."""
        if tag != "20":
            raise _fail(f"':{tag}:' before any ':20:'", number, tag=f":{tag}:")
        self._close()
        self.block = _Block(line=number, fields=[_Field(tag=tag, lines=[rest], line=number)])

    def _dash_continues(self, number: int) -> bool:
        """A ``-`` line inside the entries is part of the text (ING wraps ``:86:`` so),
        unless what follows starts a statement, an envelope or a closing."""
        if self.block is None or self.block.closed or not self.block.fields:
            return False
        if self.block.fields[-1].tag not in ("61", "86"):
            return False
        for index in range(number, len(self.lines)):  # no slice: a copy per dash is quadratic
            following = self.lines[index].strip()
            if following:
                return not following.startswith((":", "{", "-", "}"))
        return False

    def _header(self, line: str, number: int) -> None:
        """A line outside any statement (inside one, text joins the open field)."""
        self.header_lines += 1
        if self.header_lines > MAX_HEADER_LINES or len(line) > MAX_HEADER_LENGTH:
            raise _fail(
                f"text {_cut(line)!r} outside any statement",
                number,
                message="the file holds text that is not MT940",
            )

    def _envelope(self, line: str, number: int) -> str:
        """Drop SWIFT envelope blocks (``{1:...}{2:...}{3:{108:...}}{4:``, ``{5:...}``)
        from the start of a line; the rest (after ``{4:``) is statement text."""
        rest = line
        while rest:
            if self.in_header and not rest.startswith("{"):
                raise _fail(f"text {_cut(rest)!r} in a SWIFT header", number, tag="{")
            found = _ENVELOPE_BLOCK.match(rest)
            if found is None:
                raise _fail(f"malformed SWIFT block {_cut(rest)!r}", number, tag="{")
            if found.group(1) == "4":
                self._close()
                self.in_header = False
                self.header_lines = 0
                return rest[found.end() :].strip()
            end = _block_end(rest)
            if end is None:
                raise _fail(f"unclosed SWIFT block {_cut(rest)!r}", number, tag="{")
            self.in_header = found.group(1) in "123"
            rest = rest[end:]
        return ""

    def _close(self) -> None:
        if self.block is not None:
            self.blocks.append(self.block)
            self.block = None
            self.header_lines = 0


def _block_end(text: str) -> int | None:
    """The index after the ``}`` closing the block ``text`` starts with (nested up to
    three deep, as in ``{3:{108:REF}}``)."""
    depth = 0
    for index, char in enumerate(text):
        if char == "{":
            depth += 1
            if depth > 3:
                return None
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index + 1
    return None


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "..."


# --------------------------------------------------------------------------- fields


@attrs.frozen
class _Entry:
    line: int
    value_date: date
    booking_date: date
    mark: str
    amount: Decimal
    bank_code: str
    customer_reference: str
    bank_reference: str
    supplementary: str
    details: str


def _single(field: _Field, what: str, max_length: int = 35) -> str:
    """A one-line field's value."""
    value = field.value.strip()
    if "\n" in value or not value or len(value) > max_length:
        raise StatementValueError(
            f"malformed {what}",
            format=FORMAT,
            position=field.where(),
            reason=f"':{field.tag}:' must be one line of 1 to {max_length} characters",
            field=f":{field.tag}:",
            value=_cut(value),
            line=field.line,
        )
    return value


def _amount(text: str, currency: str, field: _Field) -> Decimal:
    """A ``15d`` amount: digits, one decimal comma (or a ``.``, as old Rabobank exports
    write it) and at most as many decimals as the currency has (zeros beyond them are
    fine)."""
    separators = text.count(",") + text.count(".")
    whole, _, fraction = text.replace(".", ",").partition(",")
    extra = fraction[minor_units(currency) :]
    if (
        separators > 1
        or not whole.isdigit()
        or (fraction and not fraction.isdigit())
        or extra.strip("0")
        or len(text.lstrip("0")) > 15
    ):
        raise StatementValueError(
            "malformed amount",
            format=FORMAT,
            position=field.where(),
            reason=(
                f"{text!r} is not an amount: digits with one decimal comma and at most "
                f"{minor_units(currency)} decimals in {currency}"
            ),
            field=f":{field.tag}:",
            value=_cut(text),
            line=field.line,
        )
    # Exact: the digits beyond the currency's decimals are zeros.
    return Decimal(f"{whole}.{fraction or '0'}").quantize(Decimal(1).scaleb(-minor_units(currency)))


def _date(text: str, field: _Field) -> date:
    """``YYMMDD``; years 00-69 are 20xx, 70-99 19xx. A 29 to 31 February (a bank bug
    some German banks have) is read as the last day of February."""
    year = int(text[:2])
    year += 2000 if year < 70 else 1900
    month, day = int(text[2:4]), int(text[4:6])
    if month == 2 and 29 <= day <= 31:
        day = min(day, calendar.monthrange(year, 2)[1])
    try:
        return date(year, month, day)
    except ValueError:
        raise StatementValueError(
            "malformed date",
            format=FORMAT,
            position=field.where(),
            reason=f"{text!r} is not a date (YYMMDD)",
            field=f":{field.tag}:",
            value=text,
            line=field.line,
        ) from None


def _balance(field: _Field) -> Balance:
    value = _single(field, "balance", max_length=48)
    found = _BALANCE.fullmatch(value)
    if found is None or not is_currency(found.group(3)):
        raise StatementValueError(
            "malformed balance",
            format=FORMAT,
            position=field.where(),
            reason=f"{_cut(value)!r} is not D/C, YYMMDD, a currency and an amount",
            field=f":{field.tag}:",
            value=_cut(value),
            line=field.line,
        )
    mark, when, currency, text = found.groups()
    amount = _amount(text, currency, field)
    kind = _BALANCE_KINDS.get(field.tag[:2], BalanceKind.OTHER)
    signed = Money(-amount if mark == "D" else amount, currency)
    return Balance(kind=kind, amount=signed, on=_date(when, field), code=field.tag)


def _entry(field: _Field, currency: str, details: str) -> _Entry:
    found = _ENTRY.fullmatch(field.value.strip(" "))
    if found is None:
        raise StatementValueError(
            "malformed statement line",
            format=FORMAT,
            position=field.where(),
            reason=(
                "':61:' must be YYMMDD[MMDD], D/C/RD/RC, an amount, the transaction type "
                "and the references"
            ),
            field=":61:",
            value=_cut(field.value),
            line=field.line,
        )
    value_date = _date(found["value"], field)
    booking_date = value_date
    entry = found["entry"] or ""
    if entry.strip():
        booking_date = _entry_date(entry, value_date, field)
    return _Entry(
        line=field.line,
        value_date=value_date,
        booking_date=booking_date,
        mark=found["mark"],
        amount=_amount(found["amount"], currency, field),
        bank_code=(found["type"] or "").strip(),
        customer_reference=(found["customer"] or "").strip(),
        bank_reference=(found["bank"] or "").strip(),
        supplementary=found["extra"] or "",
        details=details,
    )


def _entry_date(text: str, value_date: date, field: _Field) -> date:
    """``MMDD`` in the year that puts it nearest the value date (an entry booked on
    31 December for a value date of 2 January belongs to the year before)."""
    month, day = int(text[:2]), int(text[2:])
    candidates = []
    for year in (value_date.year - 1, value_date.year, value_date.year + 1):
        wanted = day
        if month == 2 and 29 <= day <= 31:  # the bank bug _date tolerates
            wanted = calendar.monthrange(year, 2)[1]
        try:
            candidates.append(date(year, month, wanted))
        except ValueError:
            continue
    if not candidates:
        raise StatementValueError(
            "malformed entry date",
            format=FORMAT,
            position=field.where(),
            reason=f"{text!r} is not a date (MMDD)",
            field=":61:",
            value=text,
            line=field.line,
        )
    return min(candidates, key=lambda d: abs((d - value_date).days))


# --------------------------------------------------------------------------- statements


def _read_block(block: _Block, check_balances: bool) -> Statement:
    fields = [f for f in block.fields if f.tag != "NS"]
    interim = next((f for f in fields if f.tag in _INTERIM), None)
    if interim is not None:
        raise UnsupportedStatementError(
            "MT942 interim reports are not read",
            format=FORMAT,
            position=interim.where(),
            reason=f"':{interim.tag}:' belongs to an MT942 interim report; import the "
            "end-of-day MT940 statement instead",
        )
    reference = _single(fields[0], "transaction reference")
    account_field, number, opening, closing = None, "", None, None
    balances: list[Balance] = []
    stated: list[tuple[Balance, _Field]] = []
    raw_entries: list[tuple[_Field, list[_Field]]] = []
    phase = 0  # 0: header, 1: entries, 2: after the closing balance
    for field in fields[1:]:
        tag = field.tag
        if phase == 1 and tag == "61":  # the common case first
            raw_entries.append((field, []))
        elif phase == 0 and tag == "21" and account_field is None:
            _single(field, "related reference")
        elif phase == 0 and tag == "25" and account_field is None:
            account_field = field
        elif phase == 0 and tag in ("28", "28C") and account_field is not None and not number:
            number = "".join(field.value.split())
            if not number or not _STATEMENT_NUMBER.fullmatch(number):
                raise StatementValueError(
                    "malformed statement number",
                    format=FORMAT,
                    position=field.where(),
                    reason="':28C:' is the statement number [/sequence number]",
                    field=f":{tag}:",
                    value=_cut(number),
                    line=field.line,
                )
        elif phase == 0 and tag in _OPENING and account_field is not None:
            opening = _balance(field)
            phase = 1
        elif phase == 1 and tag == "86" and raw_entries:
            raw_entries[-1][1].append(field)
        elif phase == 1 and tag in _CLOSING:
            closing = _balance(field)
            stated.append((closing, field))
            phase = 2
        elif phase == 2 and tag in ("64", "65"):
            balances.append(_balance(field))
            stated.append((balances[-1], field))
        elif phase == 2 and tag == "86":
            pass  # information to the account owner about the whole statement
        else:
            raise _order_error(field, phase, account_field is not None)
    if account_field is None or opening is None or closing is None:
        missing = ":25:" if account_field is None else ":60F:" if opening is None else ":62F:"
        what = {":25:": "account", ":60F:": "opening balance", ":62F:": "closing balance"}
        raise _fail(
            f"no {what[missing]} ({missing}) in the statement",
            block.fields[-1].line,
            tag=missing,
            message=f"the statement from line {block.line} has no {what[missing]}",
        )
    currency = opening.amount.currency
    for balance, field in stated:
        if balance.amount.currency != currency:
            raise StatementValueError(
                "balances in several currencies",
                format=FORMAT,
                position=field.where(),
                reason=f"{balance.code} is in {balance.amount.currency}, the opening in {currency}",
                field=f":{field.tag}:",
                value=balance.amount.currency,
                line=field.line,
            )
    entries = [_entry(field, currency, _details_text(texts)) for field, texts in raw_entries]
    statement_id = "/".join(p for p in (reference, number) if p) + f"@{closing.on.isoformat()}"
    if check_balances:  # before the details are read: a refusal costs little
        _check_balance(statement_id, entries, opening, closing, block)
    return Statement(
        statement_id=statement_id,
        account=_account(_single(account_field, "account", max_length=64)),
        currency=currency,
        entries=_entries(entries, currency, statement_id, block),
        balances=(opening, closing, *balances),
        source_format=FORMAT,
    )


def _details_text(fields: Sequence[_Field]) -> str:
    """An entry's ``:86:`` fields, joined; bounded (SWIFT allows 390 characters, banks
    write more, and the details parser's time grows with the square of the length)."""
    text = "\n".join(field.value for field in fields)
    if len(text) > MAX_DETAILS_LENGTH:
        raise StatementValueError(
            "an entry's information is too long",
            format=FORMAT,
            position=fields[0].where(),
            reason=f"{len(text)} characters of ':86:'; at most {MAX_DETAILS_LENGTH}",
            field=":86:",
            value=_cut(text),
            line=fields[0].line,
        )
    return text


def _order_error(field: _Field, phase: int, has_account: bool) -> StatementStructureError:
    tag = f":{field.tag}:"
    if phase == 0 and not has_account and field.tag not in ("20", "21"):
        return _fail(
            f"{tag} comes before the account (':25:')",
            field.line,
            tag=":25:",
            message="the statement has no account (':25:') before its balances and entries",
        )
    if phase == 0 and field.tag in {"61", "64", "65", "86"} | _CLOSING:
        return _fail(
            f"{tag} comes before the opening balance (':60F:')",
            field.line,
            tag=":60F:",
            message="the statement has no opening balance (':60F:')",
        )
    if phase == 0:
        where = "in the statement header"
    elif phase == 1:
        where = "among the entries" if field.tag != "86" else "before any ':61:'"
    else:
        where = "after the closing balance"
    return _fail(
        f"{tag} is out of place {where}",
        field.line,
        tag=tag,
        message="a tag is missing or out of order",
    )


def _account(value: str) -> str:
    """An IBAN when the field holds one (``NL10BUNQ2290325473 EUR``,
    ``BILLLULLXXX/LU540026121160200600``, ``NL77INGB0574908765EUR``), else as written."""
    candidates = [value, value.rsplit("/", 1)[-1]]
    for candidate in list(candidates):
        compact = "".join(candidate.split())
        if len(compact) > 3 and compact[-3:].isalpha() and is_currency(compact[-3:].upper()):
            candidates.append(compact[:-3])
    for candidate in candidates:
        iban = iban_or_none(candidate)
        if iban is not None:
            return iban
    return value


def _entries(
    entries: Sequence[_Entry], currency: str, statement_id: str, block: _Block
) -> tuple[StatementEntry, ...]:
    texts = [EntryText(mark=e.mark, amount=e.amount, details=e.details) for e in entries]
    try:
        found = read_details(texts)
    except (DetailsMismatchError, ValueError, ArithmeticError, RuntimeError) as exc:
        raise StatementFormatError(
            "the entries' information could not be read",
            format=FORMAT,
            position=f"line {block.line}",
            reason=f"the mt-940 package failed on this statement: {type(exc).__name__}",
            line=block.line,
        ) from None
    references = [e.bank_reference for e in entries]
    unique = len(set(references)) == len(references)
    by_bank = unique and all(r.upper() not in _NO_REFERENCE for r in references)
    out = []
    for index, (entry, parsed) in enumerate(zip(entries, found, strict=True), 1):
        details = parsed
        if not entry.details and entry.supplementary:
            details = Details(remittance=clean(entry.supplementary))
        signed = _signed(entry)
        out.append(
            StatementEntry(
                line_id=entry.bank_reference if by_bank else f"{statement_id}:{index}",
                booking_date=entry.booking_date,
                value_date=entry.value_date,
                amount=Money(signed, currency),
                reversal=entry.mark.startswith("R"),
                counterparty_name=details.counterparty_name,
                counterparty_iban=details.counterparty_iban,
                remittance=details.remittance,
                structured_reference=details.structured_reference,
                end_to_end_id=details.end_to_end_id,
                bank_code=entry.bank_code,
            )
        )
    return tuple(out)


def _check_balance(
    statement_id: str, entries: Sequence[_Entry], opening: Balance, closing: Balance, block: _Block
) -> None:
    currency = opening.amount.currency
    moved = Money(sum((_signed(e) for e in entries), Decimal(0)), currency)
    if opening.amount + moved == closing.amount:
        return
    difference = closing.amount - (opening.amount + moved)
    raise StatementBalanceError(
        f"statement {statement_id} does not reconcile: {difference} unexplained",
        format=FORMAT,
        position=f"line {block.line}",
        reason=(
            f"opening {opening.amount} + entries {moved} = {opening.amount + moved}, but the "
            f"closing balance is {closing.amount} (difference {difference})"
        ),
        statement_id=statement_id,
        opening=opening.amount,
        movements=moved,
        closing=closing.amount,
        difference=difference,
        line=block.line,
    )


def _signed(entry: _Entry) -> Decimal:
    """C and RD are money in, D and RC money out."""
    return -entry.amount if entry.mark in ("D", "RC") else entry.amount


def _check_unique(statements: Sequence[Statement], blocks: Sequence[_Block]) -> None:
    seen: dict[tuple[str, str], int] = {}
    for statement, block in zip(statements, blocks, strict=True):
        for entry in statement.entries:
            key = (statement.account, entry.line_id)
            if key in seen:
                raise DuplicateStatementLineError(
                    f"line id {entry.line_id!r} appears twice for account {statement.account}",
                    format=FORMAT,
                    position=f"line {block.line}",
                    reason=f"the statement from line {seen[key]} has an entry with this id too",
                    line_id=entry.line_id,
                    line=block.line,
                )
            seen[key] = block.line
