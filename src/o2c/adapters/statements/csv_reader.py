"""CSV bank statements read through a declarative column mapping.

A :class:`CsvMapping` says which column holds what (line id, dates, the amount or
separate debit and credit columns, currency, counterparty, remittance...), how dates
and numbers are written, and where the data starts and ends. :data:`STATEMENT_CSV` is
the layout of o2c's own ``STATEMENT.csv`` (the ``o2c match`` command's input)::

    line_id,booking_date,amount,currency,counterparty_name,counterparty_iban,remittance_info,end_to_end_id
    L1,2026-03-02,119.00,EUR,Ada Lovelace,DE89370400440532013000,INV-000001,E2E-1

Everything is checked and nothing is guessed: an amount that is not a plain number in
the mapping's notation (``NaN``, ``1e3``, ``1,000.00`` where ``.`` is the decimal
separator and no thousands separator is set, more decimals than the currency has), a
date not in the mapping's format, a row of the wrong width, a second currency, a
repeated line id, a text cell that would run as a spreadsheet formula (``=``, ``+``,
``-``, ``@``, tab, CR first) each raise a typed error naming the line and the column,
and nothing is returned.
"""

from __future__ import annotations

import base64
import codecs
import csv
import hashlib
import io
import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

import attrs

from o2c.adapters.statements._text import (
    DEFAULT_MAX_BYTES,
    check_bytes,
    check_characters,
    clean,
    decode,
    iban_or_none,
)
from o2c.errors import (
    AmountParseError,
    CsvMappingError,
    DuplicateStatementLineError,
    StatementBalanceError,
    StatementStructureError,
    StatementValueError,
)
from o2c.money import Money, is_currency, minor_units, money_sum, parse_amount
from o2c.statements import Balance, BalanceKind, Statement, StatementEntry

__all__ = [
    "FORMAT",
    "MAX_CELL_LENGTH",
    "MAX_COLUMNS",
    "MAX_LINE_LENGTH",
    "STATEMENT_CSV",
    "CsvMapping",
    "read_csv",
]

FORMAT: Final = "csv"
#: Most columns a row may have (a "CSV bomb" of columns is refused).
MAX_COLUMNS: Final = 256
#: Longest cell accepted.
MAX_CELL_LENGTH: Final = 4096
#: Longest physical line accepted (checked before the CSV parser builds a row).
MAX_LINE_LENGTH: Final = 65536

_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_THOUSANDS: Final = frozenset({"", ",", ".", " ", "'", "\u00a0", "\u202f"})
_SIGNS: Final = frozenset({"positive", "negative"})
_MAX_SHOWN: Final = 64


def _columns(value: str | Sequence[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@attrs.frozen(kw_only=True)
class CsvMapping:
    """How a bank's CSV export maps to statement entries.

    Columns are named as in the header row. Give the amount one of three ways:
    ``amount`` alone (signed: negative is money out), ``amount`` with ``indicator``
    (an unsigned amount and a debit/credit column), or ``debit`` and ``credit``
    (one of the two filled per row).

    Attributes:
        booking_date: Column of the booking date.
        amount: Column of the amount.
        indicator: Column saying debit or credit (with an unsigned ``amount``).
        debit_marks: What ``indicator`` writes for money out.
        credit_marks: What ``indicator`` writes for money in.
        debit: Column of money out.
        credit: Column of money in.
        debit_sign: How ``debit`` writes money out: ``"positive"`` (``50.00``) or
            ``"negative"`` (``-50.00``); the other sign is refused.
        line_id: Column of the bank's unique line id. Without one, each line's id is
            a hash of its content (date, amount, counterparty, text) and its
            occurrence among identical lines, so overlapping exports give the same
            line the same id.
        value_date: Column of the value date.
        currency: Column of the currency (one currency per file).
        default_currency: The currency when there is no currency column.
        counterparty_name: Column of the payer's or payee's name.
        counterparty_iban: Column of their account.
        remittance: Column(s) of the remittance text (several are joined by a space).
        end_to_end_id: Column of the end-to-end id.
        structured_reference: Column of a structured creditor reference.
        balance: Column of the running balance after each line; when given, every
            line must agree with the one before (oldest first).
        date_format: ``strptime`` format of the dates (``"%d.%m.%Y"``...).
        decimal_separator: ``"."`` or ``","``.
        thousands_separator: ``""`` (none allowed), ``","``, ``"."``, ``" "``,
            ``"'"``; groups of three digits are then required.
        delimiter: Cell delimiter.
        quotechar: Quote character.
        encoding: The file's encoding (checked strictly).
        header_row: Line number of the header (lines above it are skipped).
        end_marker: Data ends at the first row whose first cell starts with this
            text (a footer such as ``"Balance at start of period"``).
        strict_iban: A counterparty account must be a valid IBAN (or empty); when
            False an account that is not an IBAN is kept as written.
        account: The account the export is of (the file does not say).
    """

    booking_date: str
    amount: str | None = None
    indicator: str | None = None
    debit_marks: tuple[str, ...] = attrs.field(default=("D", "DBIT", "DR"), converter=_columns)
    credit_marks: tuple[str, ...] = attrs.field(default=("C", "CRDT", "CR"), converter=_columns)
    debit: str | None = None
    credit: str | None = None
    debit_sign: str = "positive"
    line_id: str | None = None
    value_date: str | None = None
    currency: str | None = None
    default_currency: str | None = None
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    remittance: tuple[str, ...] = attrs.field(default=(), converter=_columns)
    end_to_end_id: str | None = None
    structured_reference: str | None = None
    balance: str | None = None
    date_format: str = "%Y-%m-%d"
    decimal_separator: str = "."
    thousands_separator: str = ""
    delimiter: str = ","
    quotechar: str = '"'
    encoding: str = "utf-8"
    header_row: int = 1
    end_marker: str | None = None
    strict_iban: bool = False
    account: str = ""

    def __attrs_post_init__(self) -> None:
        _check_mapping(self)

    def roles(self) -> dict[str, str]:
        """Mapped column -> the role it plays (``"amount"``, ``"remittance"``...)."""
        named: dict[str, str] = {}
        for role in (
            "booking_date",
            "amount",
            "indicator",
            "debit",
            "credit",
            "line_id",
            "value_date",
            "currency",
            "counterparty_name",
            "counterparty_iban",
            "end_to_end_id",
            "structured_reference",
            "balance",
        ):
            column = getattr(self, role)
            if column is not None:
                named.setdefault(column, role)
        for column in self.remittance:
            named.setdefault(column, "remittance")
        return named


def _mapping_error(field: str, reason: str) -> CsvMappingError:
    return CsvMappingError(f"CsvMapping.{field}: {reason}", field=field, reason=reason)


def _check_mapping(mapping: CsvMapping) -> None:
    modes = (
        mapping.amount is not None and mapping.debit is None and mapping.credit is None,
        mapping.amount is None and mapping.debit is not None and mapping.credit is not None,
    )
    if not any(modes):
        raise _mapping_error("amount", "give amount, or both debit and credit")
    if mapping.indicator is not None and mapping.amount is None:
        raise _mapping_error("indicator", "an indicator column goes with an amount column")
    if mapping.debit_sign not in _SIGNS:
        raise _mapping_error("debit_sign", "'positive' or 'negative'")
    if set(mapping.debit_marks) & set(mapping.credit_marks) or not (
        mapping.debit_marks and mapping.credit_marks
    ):
        raise _mapping_error("debit_marks", "debit and credit marks must differ")
    if mapping.decimal_separator not in (".", ","):
        raise _mapping_error("decimal_separator", "'.' or ','")
    if mapping.thousands_separator not in _THOUSANDS or (
        mapping.thousands_separator == mapping.decimal_separator
    ):
        raise _mapping_error("thousands_separator", "'', ',', '.', ' ' or \"'\", not the decimal")
    if len(mapping.delimiter) != 1 or mapping.delimiter in "\r\n" + mapping.quotechar:
        raise _mapping_error("delimiter", "one character, not a line break or the quote")
    if len(mapping.quotechar) != 1 or mapping.quotechar in "\r\n":
        raise _mapping_error("quotechar", "one character, not a line break")
    try:
        codecs.lookup(mapping.encoding)
    except LookupError:
        raise _mapping_error("encoding", f"{mapping.encoding!r} is not an encoding") from None
    if isinstance(mapping.header_row, bool) or not isinstance(mapping.header_row, int):
        raise _mapping_error("header_row", "a line number")
    if mapping.header_row < 1:
        raise _mapping_error("header_row", "the header's line number, from 1")
    if mapping.currency is None and mapping.default_currency is None:
        raise _mapping_error("currency", "give a currency column or a default_currency")
    if mapping.default_currency is not None and not is_currency(mapping.default_currency):
        raise _mapping_error("default_currency", f"{mapping.default_currency!r} is not ISO 4217")
    sample = date(2031, 12, 29)
    try:
        round_trip = datetime.strptime(sample.strftime(mapping.date_format), mapping.date_format)
    except ValueError:
        round_trip = None
    if round_trip is None or round_trip.date() != sample:
        raise _mapping_error("date_format", f"{mapping.date_format!r} does not write a whole date")
    used: dict[str, str] = {}
    for role in ("booking_date", "amount", "indicator", "debit", "credit", "balance"):
        column = getattr(mapping, role)
        if column is None:
            continue
        if not column:
            raise _mapping_error(role, "a column name is not empty")
        if column in used:
            raise _mapping_error(role, f"column {column!r} is also the {used[column]}")
        used[column] = role


# --------------------------------------------------------------------------- reading


def read_csv(
    data: bytes,
    mapping: CsvMapping | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[Statement, ...]:
    """Read a CSV export into one statement (in a tuple, like the other readers).

    Args:
        data: The file's bytes.
        mapping: The layout (default :data:`STATEMENT_CSV`).
        max_bytes: Larger files are refused unread.

    Raises:
        StatementTooLargeError: over ``max_bytes``.
        StatementEncodingError: not valid in the mapping's encoding (with the byte).
        StatementStructureError: no header, a mapped column missing, a row of the
            wrong width, too many columns or too long a line, no rows.
        StatementValueError: a malformed cell (with its line and column).
        StatementBalanceError: a running balance that does not follow.
        DuplicateStatementLineError: a line id twice.
        StatementFormatError: anything else (not CSV, control characters).

    >>> data = (b"line_id,booking_date,amount,currency,counterparty_name,counterparty_iban,"
    ...         b"remittance_info,end_to_end_id\\nL1,2026-03-02,119.00,EUR,Ada,,INV-1,\\n")
    >>> (statement,) = read_csv(data)
    >>> statement.entries[0].amount, statement.entries[0].remittance
    (Money('119.00', 'EUR'), 'INV-1')
    """
    mapping = mapping if mapping is not None else STATEMENT_CSV
    raw = check_bytes(data, FORMAT, max_bytes)
    text = decode(raw, FORMAT, mapping.encoding)
    check_characters(text, FORMAT)
    _check_lines(text)
    return (_Reader(mapping, text).statement(),)


def _check_lines(text: str) -> None:
    start = 0
    number = 1
    for found in re.finditer(r"\r\n|\r|\n", text):
        if found.start() - start > MAX_LINE_LENGTH:
            break
        start = found.end()
        number += 1
    else:
        if len(text) - start <= MAX_LINE_LENGTH:
            return
    raise StatementStructureError(
        "a line is too long",
        format=FORMAT,
        position=f"line {number}, column {MAX_LINE_LENGTH + 1}",
        reason=f"longer than {MAX_LINE_LENGTH} characters",
        tag="line",
        line=number,
    )


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "..."


@attrs.frozen
class _Row:
    line: int
    cells: tuple[str, ...]


class _Reader:
    def __init__(self, mapping: CsvMapping, text: str) -> None:
        self.mapping = mapping
        self.text = text
        self.index: dict[str, int] = {}
        self.width = 0
        self.header_line = mapping.header_row

    # -- rows -----------------------------------------------------------------------

    def _rows(self) -> Iterator[_Row]:
        reader = csv.reader(
            io.StringIO(self.text, newline=""),
            delimiter=self.mapping.delimiter,
            quotechar=self.mapping.quotechar,
            strict=True,
        )
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise StatementStructureError(
                    "the file is not valid CSV",
                    format=FORMAT,
                    position=f"line {reader.line_num or line}",
                    reason=str(exc),
                    tag="row",
                    line=reader.line_num or line,
                ) from None
            if len(cells) > MAX_COLUMNS:
                raise StatementStructureError(
                    "a row has too many columns",
                    format=FORMAT,
                    position=f"line {line}, column {MAX_COLUMNS + 1}",
                    reason=f"{len(cells)} columns; at most {MAX_COLUMNS}",
                    tag="row",
                    line=line,
                )
            for column, cell in enumerate(cells, 1):
                if len(cell) > MAX_CELL_LENGTH:
                    raise StatementValueError(
                        "a cell is too long",
                        format=FORMAT,
                        position=f"line {line}, column {column}",
                        reason=f"{len(cell)} characters; at most {MAX_CELL_LENGTH}",
                        field=f"column {column}",
                        value=_cut(cell),
                        line=line,
                        column=column,
                    )
            yield _Row(line=line, cells=tuple(cells))

    def _header(self, rows: Iterator[_Row]) -> list[str]:
        for row in rows:
            if row.line < self.mapping.header_row:
                continue
            names = [cell.strip() for cell in row.cells]
            while names and not names[-1]:
                names.pop()
            self.width = len(names)
            self.header_line = row.line
            for column, name in enumerate(names):
                if name and name not in self.index:
                    self.index[name] = column
                elif name and name in self.mapping.roles():
                    raise StatementStructureError(
                        "a mapped column appears twice in the header",
                        format=FORMAT,
                        position=f"line {row.line}, column {column + 1}",
                        reason=f"column {name!r} is named twice",
                        tag="header",
                        line=row.line,
                    )
            for name, role in self.mapping.roles().items():
                if name not in self.index:
                    raise StatementStructureError(
                        "a mapped column is not in the header",
                        format=FORMAT,
                        position=f"line {row.line}",
                        reason=f"no column {name!r} (the {role}) in the header",
                        tag="header",
                        line=row.line,
                    )
            return names
        raise StatementStructureError(
            "the file has no header row",
            format=FORMAT,
            position=f"line {self.mapping.header_row}",
            reason=f"the header is expected on line {self.mapping.header_row}",
            tag="header",
            line=self.mapping.header_row,
        )

    # -- cells ----------------------------------------------------------------------

    def _cell(self, row: _Row, name: str | None) -> str:
        if name is None:
            return ""
        return row.cells[self.index[name]].strip()

    def _where(self, row: _Row, name: str) -> dict[str, Any]:
        column = self.index[name] + 1
        return {
            "format": FORMAT,
            "position": f"line {row.line}, column {column} ({name})",
            "line": row.line,
            "column": name,
        }

    def _value_error(self, row: _Row, name: str, value: str, reason: str) -> StatementValueError:
        return StatementValueError(
            f"malformed {name!r} cell on line {row.line}",
            reason=reason,
            field=name,
            value=_cut(value),
            **self._where(row, name),
        )

    def _text(self, row: _Row, name: str | None) -> str:
        value = self._cell(row, name)
        raw = row.cells[self.index[name]] if name is not None else ""
        if name is not None and (
            raw.startswith(_FORMULA_START) or value.startswith(_FORMULA_START)
        ):
            raise self._value_error(
                row, name, value, "a cell starting with =, +, -, @, tab or CR is a formula"
            )
        return clean(value)

    def _date(self, row: _Row, name: str, *, required: bool = True) -> date | None:
        value = self._cell(row, name)
        if not value and not required:
            return None
        try:
            return datetime.strptime(value, self.mapping.date_format).date()
        except ValueError:
            raise self._value_error(
                row, name, value, f"not a date in the format {self.mapping.date_format!r}"
            ) from None

    def _number(self, row: _Row, name: str, currency: str) -> Decimal | None:
        """A number in the mapping's notation; None for an empty cell."""
        value = self._cell(row, name)
        if not value:
            return None
        dec = re.escape(self.mapping.decimal_separator)
        sep = self.mapping.thousands_separator
        whole = r"\d+" if not sep else rf"(?:\d{{1,3}}(?:{re.escape(sep)}\d{{3}})+|\d+)"
        found = re.fullmatch(rf"([+-]?)({whole})(?:{dec}(\d+))?", value)
        if found is None:
            raise self._value_error(
                row,
                name,
                value,
                f"not a number with {self.mapping.decimal_separator!r} as the decimal separator"
                + (f" and {sep!r} between thousands" if sep else " and no thousands separator"),
            )
        sign, digits, fraction = found.groups()
        digits = digits.replace(sep, "") if sep else digits
        fraction = fraction or ""
        if fraction[minor_units(currency) :].strip("0"):
            raise self._value_error(
                row, name, value, f"more decimals than {currency} has ({minor_units(currency)})"
            )
        try:
            number = parse_amount(f"{digits}.{fraction}" if fraction else digits)
        except AmountParseError as exc:
            raise self._value_error(row, name, value, exc.reason) from None
        number = number.quantize(Decimal(1).scaleb(-minor_units(currency)))
        return -number if sign == "-" else number

    def _amount(self, row: _Row, currency: str) -> Decimal:
        mapping = self.mapping
        if mapping.amount is not None:
            amount = self._number(row, mapping.amount, currency)
            if amount is None:
                raise self._value_error(row, mapping.amount, "", "the amount is empty")
            if mapping.indicator is None:
                return amount
            mark = self._cell(row, mapping.indicator)
            if amount < 0 or self._cell(row, mapping.amount).startswith("+"):
                raise self._value_error(
                    row,
                    mapping.amount,
                    self._cell(row, mapping.amount),
                    "a signed amount with a debit/credit column is ambiguous",
                )
            if mark in mapping.debit_marks:
                return -amount
            if mark in mapping.credit_marks:
                return amount
            raise self._value_error(
                row,
                mapping.indicator,
                mark,
                f"neither a debit mark {mapping.debit_marks} nor a credit mark "
                f"{mapping.credit_marks}",
            )
        assert mapping.debit is not None  # noqa: S101 - checked with the mapping
        assert mapping.credit is not None  # noqa: S101
        debit = self._number(row, mapping.debit, currency)
        credit = self._number(row, mapping.credit, currency)
        debit = None if debit is None or debit == 0 else debit
        credit = None if credit is None or credit == 0 else credit
        if (debit is None) == (credit is None):
            raise self._value_error(
                row,
                mapping.debit,
                self._cell(row, mapping.debit),
                "exactly one of the debit and credit cells must hold an amount",
            )
        if credit is not None:
            if credit < 0:
                raise self._value_error(
                    row, mapping.credit, self._cell(row, mapping.credit), "a negative credit"
                )
            return credit
        assert debit is not None  # noqa: S101 - one of the two is set
        if (debit < 0) != (mapping.debit_sign == "negative"):
            raise self._value_error(
                row,
                mapping.debit,
                self._cell(row, mapping.debit),
                f"debits are written {mapping.debit_sign} in this mapping",
            )
        return -abs(debit)

    def _currency(self, row: _Row) -> str:
        if self.mapping.currency is None:
            assert self.mapping.default_currency is not None  # noqa: S101 - checked
            return self.mapping.default_currency
        value = self._cell(row, self.mapping.currency).upper()
        if not is_currency(value):
            raise self._value_error(row, self.mapping.currency, value, "not an ISO 4217 currency")
        return value

    def _iban(self, row: _Row) -> str:
        name = self.mapping.counterparty_iban
        value = self._text(row, name)
        if not value:
            return ""
        iban = iban_or_none(value)
        if iban is not None:
            return iban
        if self.mapping.strict_iban:
            assert name is not None  # noqa: S101 - a value came from it
            raise self._value_error(row, name, value, "not a valid IBAN")
        return "".join(value.split())

    # -- the statement --------------------------------------------------------------

    def statement(self) -> Statement:
        rows = self._rows()
        self._header(rows)
        mapping = self.mapping
        entries: list[StatementEntry] = []
        balances: list[tuple[Decimal, _Row]] = []
        currency = ""
        occurrences: dict[str, int] = {}
        seen: dict[str, int] = {}
        for row in rows:
            if not any(cell.strip() for cell in row.cells):
                continue
            if mapping.end_marker is not None and row.cells[0].strip().startswith(
                mapping.end_marker
            ):
                break
            self._check_width(row)
            row_currency = self._currency(row)
            if currency and row_currency != currency:
                assert mapping.currency is not None  # noqa: S101 - only a column varies
                raise self._value_error(
                    row,
                    mapping.currency,
                    row_currency,
                    f"a second currency: the lines before are in {currency}",
                )
            currency = row_currency
            entry = self._entry(row, currency, occurrences)
            if entry.line_id in seen:
                raise DuplicateStatementLineError(
                    f"line id {entry.line_id!r} appears twice",
                    format=FORMAT,
                    position=f"line {row.line}",
                    reason=f"line {seen[entry.line_id]} has this id too; every line needs its own",
                    line_id=entry.line_id,
                    line=row.line,
                )
            seen[entry.line_id] = row.line
            entries.append(entry)
            if mapping.balance is not None:
                stated = self._number(row, mapping.balance, currency)
                if stated is None:
                    raise self._value_error(row, mapping.balance, "", "the balance is empty")
                balances.append((stated, row))
        if not entries:
            raise StatementStructureError(
                "the file has no lines",
                format=FORMAT,
                position=f"line {self.header_line + 1}",
                reason="no data row after the header",
                tag="row",
                line=self.header_line + 1,
            )
        first, last = entries[0].booking_date, entries[-1].booking_date
        return Statement(
            statement_id=f"csv-{first:%Y%m%d}-{last:%Y%m%d}",
            account=mapping.account,
            currency=currency,
            entries=tuple(entries),
            balances=self._balances(entries, balances, currency),
            source_format=FORMAT,
        )

    def _check_width(self, row: _Row) -> None:
        extra = [cell for cell in row.cells[self.width :] if cell.strip()]
        if len(row.cells) < self.width or extra:
            raise StatementStructureError(
                "a row does not fit the header",
                format=FORMAT,
                position=f"line {row.line}",
                reason=f"{len(row.cells)} cells; the header has {self.width} columns",
                tag="row",
                line=row.line,
            )

    def _entry(self, row: _Row, currency: str, occurrences: dict[str, int]) -> StatementEntry:
        mapping = self.mapping
        booking_date = self._date(row, mapping.booking_date)
        assert booking_date is not None  # noqa: S101 - required
        value_date = (
            self._date(row, mapping.value_date, required=False)
            if mapping.value_date is not None
            else None
        )
        amount = Money(self._amount(row, currency), currency)
        remittance = " ".join(t for t in (self._text(row, c) for c in mapping.remittance) if t)
        entry = StatementEntry(
            line_id="",
            booking_date=booking_date,
            value_date=value_date,
            amount=amount,
            counterparty_name=self._text(row, mapping.counterparty_name),
            counterparty_iban=self._iban(row),
            remittance=remittance,
            structured_reference=self._text(row, mapping.structured_reference),
            end_to_end_id=self._text(row, mapping.end_to_end_id),
        )
        if mapping.line_id is not None:
            line_id = self._text(row, mapping.line_id)
            if not line_id:
                raise self._value_error(row, mapping.line_id, "", "the line id is empty")
        else:
            line_id = _content_id(entry, occurrences)
        return attrs.evolve(entry, line_id=line_id)

    def _balances(
        self, entries: list[StatementEntry], stated: list[tuple[Decimal, _Row]], currency: str
    ) -> tuple[Balance, ...]:
        if not stated:
            return ()
        assert self.mapping.balance is not None  # noqa: S101 - there are balances
        running = stated[0][0] - entries[0].amount.amount
        opening = Money(running, currency)
        for entry, (balance, row) in zip(entries, stated, strict=True):
            running += entry.amount.amount
            if running != balance:
                raise StatementBalanceError(
                    f"the running balance on line {row.line} does not follow",
                    reason=(
                        f"the balance before plus {entry.amount} is {Money(running, currency)}, "
                        f"the file says {Money(balance, currency)}"
                    ),
                    statement_id="csv",
                    opening=opening,
                    movements=money_sum((e.amount for e in entries), currency),
                    closing=Money(stated[-1][0], currency),
                    difference=Money(balance - running, currency),
                    **self._where(row, self.mapping.balance),
                )
        return (
            Balance(BalanceKind.OPENING, opening, entries[0].booking_date, code="csv"),
            Balance(
                BalanceKind.CLOSING, Money(stated[-1][0], currency), entries[-1].booking_date, "csv"
            ),
        )


def _content_id(entry: StatementEntry, occurrences: dict[str, int]) -> str:
    """``csv-<hash>`` of the line's content, ``-2``, ``-3``... for identical lines."""
    content = "\x1f".join(
        (
            entry.booking_date.isoformat(),
            entry.value_date.isoformat() if entry.value_date else "",
            str(entry.amount.amount),
            entry.amount.currency,
            entry.counterparty_name,
            entry.counterparty_iban,
            entry.remittance,
            entry.end_to_end_id,
            entry.structured_reference,
        )
    )
    digest = base64.b32encode(hashlib.sha256(content.encode()).digest()).decode()[:24]
    count = occurrences.get(digest, 0) + 1
    occurrences[digest] = count
    return f"csv-{digest}" + (f"-{count}" if count > 1 else "")


#: o2c's own STATEMENT.csv layout (the ``o2c match`` command's input): ISO dates, a
#: signed amount with ``.`` decimals (negative for money out), one currency, IBANs
#: checked.
STATEMENT_CSV: Final = CsvMapping(
    line_id="line_id",
    booking_date="booking_date",
    amount="amount",
    currency="currency",
    counterparty_name="counterparty_name",
    counterparty_iban="counterparty_iban",
    remittance=("remittance_info",),
    end_to_end_id="end_to_end_id",
    date_format="%Y-%m-%d",
    decimal_separator=".",
    delimiter=",",
    strict_iban=True,
)
