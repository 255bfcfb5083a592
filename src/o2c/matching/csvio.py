"""The files of ``o2c match``: OPEN_ITEMS.csv in, MATCHES.csv out (and two optional inputs).

No file is opened here: readers take an iterable of text lines (an open file, a
``StringIO``), writers a text stream; the CLI owns the files.

**OPEN_ITEMS.csv**: a header row naming at least :data:`OPEN_ITEMS_COLUMNS` (any
order; other columns are ignored), then one invoice per row. Amounts are plain
decimals (``1234.50``: no grouping, no exponent), dates ISO ``YYYY-MM-DD``;
``discount_percent`` and ``discount_until`` are both empty or both set. A malformed
cell raises :class:`~o2c.errors.MatchFileError` naming its row and column.

**MATCHES.csv**: :data:`MATCHES_COLUMNS`, one row per (line, invoice) allocation;
see :func:`match_rows` for what each row says. Cells of the free-text columns
(``line_id``, ``invoice_number``, ``reason``) that begin with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return get a leading ``'`` so a spreadsheet never runs
them as a formula (OWASP CSV injection); ``amount_applied`` and ``confidence`` are
numbers written by o2c and are left alone. Card-number-like runs in ``reason`` are
masked.

**Payer memory** (``--memory``): ``account, name, customer_id`` rows, each one
confirmed match. **Group map** (``--groups``): ``parent_id, customer_id`` rows.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Final, TextIO

from o2c.errors import AmountParseError, MatchFileError, O2CError
from o2c.matching.model import LineResult, MatchStatus, OpenItem
from o2c.matching.payers import PayerMemory, normalise_account
from o2c.money import Money, is_currency, parse_amount
from o2c.payments import redact_card_numbers

__all__ = [
    "GROUP_COLUMNS",
    "MATCHES_COLUMNS",
    "MEMORY_COLUMNS",
    "OPEN_ITEMS_COLUMNS",
    "match_rows",
    "neutralise",
    "read_groups",
    "read_memory",
    "read_open_items",
    "write_matches",
]

OPEN_ITEMS_COLUMNS: Final = (
    "invoice_number",
    "customer_id",
    "customer_name",
    "customer_iban",
    "currency",
    "amount_open",
    "invoice_date",
    "due_date",
    "discount_percent",
    "discount_until",
)
MATCHES_COLUMNS: Final = (
    "line_id",
    "invoice_number",
    "amount_applied",
    "status",
    "confidence",
    "reason",
)
MEMORY_COLUMNS: Final = ("account", "name", "customer_id")
GROUP_COLUMNS: Final = ("parent_id", "customer_id")

#: Longest cell accepted in an input file.
MAX_CELL: Final = 1_000
#: Most rows accepted in an input file.
MAX_ROWS: Final = 5_000_000
_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_CONTROL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_OPTIONAL: Final = frozenset({"discount_percent", "discount_until", "customer_iban"})


def _rows(
    lines: Iterable[str], file: str, columns: Sequence[str]
) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise MatchFileError(file=file, row=0, column="", reason="the file is empty")
        names = [h.strip().lstrip("\ufeff").strip() for h in header]
        missing = [c for c in columns if c not in names]
        if missing:
            raise MatchFileError(
                file=file, row=1, column=missing[0], reason=f"the header lacks {', '.join(missing)}"
            )
        position = {c: names.index(c) for c in columns}
        width = len(names)
        for row in reader:
            number = reader.line_num
            if number > MAX_ROWS:
                raise MatchFileError(file=file, row=number, column="", reason="too many rows")
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != width:
                raise MatchFileError(
                    file=file,
                    row=number,
                    column="",
                    reason=f"{len(row)} cells where the header has {width}",
                )
            cells = {}
            for c, k in position.items():
                value = row[k]
                if len(value) > MAX_CELL or _CONTROL.search(value):
                    raise MatchFileError(
                        file=file, row=number, column=c, reason="too long or control characters"
                    )
                cells[c] = value.strip()
            yield number, cells
    except csv.Error as exc:
        raise MatchFileError(
            file=file, row=reader.line_num, column="", reason=f"not valid CSV: {exc}"
        ) from exc


def _date(value: str, file: str, row: int, column: str) -> date:
    if not _ISO_DATE.fullmatch(value):
        raise MatchFileError(file=file, row=row, column=column, reason="not an ISO date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise MatchFileError(file=file, row=row, column=column, reason="no such date") from exc


def _decimal(value: str, file: str, row: int, column: str) -> Decimal:
    try:
        return parse_amount(value)
    except AmountParseError as exc:
        raise MatchFileError(
            file=file, row=row, column=column, reason=f"{exc.reason} at {exc.position}"
        ) from exc


def read_open_items(lines: Iterable[str], *, file: str = "OPEN_ITEMS.csv") -> list[OpenItem]:
    """Read OPEN_ITEMS.csv (see the module doc).

    Raises:
        MatchFileError: the header lacks a column, or a cell is malformed (row, column).
    """
    items: list[OpenItem] = []
    text_required = ("invoice_number", "customer_id", "currency")
    for row, cells in _rows(lines, file, OPEN_ITEMS_COLUMNS):
        for column in OPEN_ITEMS_COLUMNS:
            if column not in _OPTIONAL and column != "customer_name" and not cells[column]:
                raise MatchFileError(file=file, row=row, column=column, reason="empty")
        currency = cells["currency"]
        if not is_currency(currency):
            raise MatchFileError(
                file=file, row=row, column="currency", reason="not an ISO 4217 currency code"
            )
        amount = _decimal(cells["amount_open"], file, row, "amount_open")
        percent_text, until_text = cells["discount_percent"], cells["discount_until"]
        if bool(percent_text) != bool(until_text):
            column = "discount_until" if percent_text else "discount_percent"
            raise MatchFileError(
                file=file,
                row=row,
                column=column,
                reason="discount_percent and discount_until are both set or both empty",
            )
        percent = _decimal(percent_text, file, row, "discount_percent") if percent_text else None
        if percent is not None and not 0 <= percent < 100:
            raise MatchFileError(
                file=file, row=row, column="discount_percent", reason="not in [0, 100)"
            )
        for column in text_required:
            if _CONTROL.search(cells[column]):  # pragma: no cover - refused by _rows
                raise MatchFileError(file=file, row=row, column=column, reason="control character")
        try:
            money = Money(amount, currency)
        except O2CError as exc:  # pragma: no cover - parse_amount and is_currency checked it
            raise MatchFileError(file=file, row=row, column="amount_open", reason=str(exc)) from exc
        items.append(
            OpenItem(
                invoice_number=cells["invoice_number"],
                customer_id=cells["customer_id"],
                customer_name=cells["customer_name"],
                customer_iban=normalise_account(cells["customer_iban"]),
                currency=currency,
                amount_open=money,
                invoice_date=_date(cells["invoice_date"], file, row, "invoice_date"),
                due_date=_date(cells["due_date"], file, row, "due_date"),
                discount_percent=percent,
                discount_until=(
                    _date(until_text, file, row, "discount_until") if until_text else None
                ),
            )
        )
    return items


def read_memory(lines: Iterable[str], *, file: str = "memory") -> PayerMemory:
    """Read confirmed payers (``account, name, customer_id``) into a memory."""
    confirmations = []
    for row, cells in _rows(lines, file, MEMORY_COLUMNS):
        if not cells["customer_id"]:
            raise MatchFileError(file=file, row=row, column="customer_id", reason="empty")
        if not cells["account"] and not cells["name"]:
            raise MatchFileError(file=file, row=row, column="account", reason="no account or name")
        confirmations.append((cells["account"], cells["name"], cells["customer_id"]))
    return PayerMemory().learned(confirmations)


def read_groups(lines: Iterable[str], *, file: str = "groups") -> dict[str, list[str]]:
    """Read a group map (``parent_id, customer_id``): parent -> the customers it pays for."""
    groups: dict[str, list[str]] = {}
    for row, cells in _rows(lines, file, GROUP_COLUMNS):
        for column in GROUP_COLUMNS:
            if not cells[column]:
                raise MatchFileError(file=file, row=row, column=column, reason="empty")
        groups.setdefault(cells["parent_id"], []).append(cells["customer_id"])
    return groups


# --------------------------------------------------------------------------- output


def neutralise(cell: str) -> str:
    """A free-text cell made safe for spreadsheets (OWASP CSV injection).

    >>> neutralise("=HYPERLINK(1)"), neutralise("-12"), neutralise("INV-1")
    ("'=HYPERLINK(1)", "'-12", 'INV-1')
    """
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def match_rows(results: Iterable[LineResult]) -> Iterator[tuple[str, str, str, str, str, str]]:
    """The MATCHES.csv rows for ``results`` (not yet neutralised).

    * ``auto`` and ``suggested`` lines: one row per allocation of the best proposal;
      ``amount_applied`` is the cash taken from the line for the invoice (discounts,
      write-offs and deductions are not cash); ``reason`` is the proposal's signals,
      and for a suggestion also why it was not applied.
    * ``unmatched`` lines (and outgoing ones, whose reason is ``outgoing``): one row
      with an empty ``invoice_number``, ``amount_applied`` 0 and the reason.
    """
    for result in results:
        best = result.best
        if result.status is MatchStatus.UNMATCHED or best is None:
            yield (result.line_id, "", "0", MatchStatus.UNMATCHED.value, "0", result.why)
            continue
        reason = best.reason
        if best.unapplied is not None:
            reason += f"; {best.unapplied} stays unapplied"
        if result.status is MatchStatus.SUGGESTED:
            reason += f" | not applied: {result.why}"
        confidence = f"{best.confidence:.4f}"
        for allocation in best.allocations:
            yield (
                result.line_id,
                allocation.invoice_number,
                str(allocation.amount.amount),
                result.status.value,
                confidence,
                reason,
            )


def write_matches(results: Iterable[LineResult], out: TextIO) -> int:
    """Write MATCHES.csv to ``out``; returns the number of rows written (no header)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MATCHES_COLUMNS)
    count = 0
    for line_id, number, amount, status, confidence, reason in match_rows(results):
        writer.writerow(
            (
                neutralise(line_id),
                neutralise(number),
                amount,
                status,
                confidence,
                neutralise(redact_card_numbers(reason)),
            )
        )
        count += 1
    return count
