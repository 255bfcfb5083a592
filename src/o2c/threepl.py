"""Fulfilment orders: lines of a sales order handed to a third-party logistics provider.

A :class:`FulfilmentOrder` records what o2c asked a 3PL to pick, pack and ship
(:func:`open_fulfilment`) and what the 3PL has reported shipped since
(:func:`apply_report`). Reports arrive late, partial, twice, or not at all:

* a report is applied once (by its ``report_id``), and each parcel once (by its
  ``parcel_id``), so cumulative and incremental reports both work;
* each new parcel becomes one shipment whose id is derived from the fulfilment order
  and the parcel (:func:`parcel_shipment_id`), so the records do not depend on the
  order reports arrive in;
* a parcel that names an unknown line or ships more than was sent refuses the whole
  report (:class:`~o2c.errors.FulfilmentReportError`), and nothing of it is recorded;
* an order not shipped in full by ``due_by`` (sent + the SLA) is overdue
  (:meth:`FulfilmentOrder.is_overdue`).

Whether the order is open, partly shipped or shipped is derived from quantities, not
stored, like an order's shipment status.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Final, TypeAlias

import attrs

from o2c._fields import FieldChecks
from o2c.errors import FulfilmentReportError, FulfilmentRequestError
from o2c.events import DomainEvent, FulfilmentReported, FulfilmentRequested, ItemQuantity
from o2c.money import to_decimal
from o2c.ports import FulfilmentLine, FulfilmentReport, ReportedParcel

__all__ = [
    "FulfilmentOrder",
    "FulfilmentOrderLine",
    "FulfilmentStatus",
    "apply_report",
    "check_report",
    "open_fulfilment",
    "parcel_shipment_id",
]

#: Longest provider id (parcel, report, reference) accepted.
MAX_PROVIDER_ID: Final = 100

_FIELDS: Final = FieldChecks(FulfilmentRequestError, max_id=MAX_PROVIDER_ID, max_text=1_000)
_ZERO = Decimal(0)

Events: TypeAlias = tuple[DomainEvent, ...]


class FulfilmentStatus(StrEnum):
    """How far a fulfilment order has got (derived from quantities)."""

    OPEN = "open"
    PARTIAL = "partial"
    SHIPPED = "shipped"


@attrs.frozen(kw_only=True)
class FulfilmentOrderLine:
    """One order line sent to a 3PL.

    Attributes:
        line_id: The order line.
        sku: Its stock-keeping unit.
        quantity: Units sent to be shipped.
        shipped: Units the 3PL reported shipped.
    """

    line_id: str
    sku: str
    quantity: Decimal
    shipped: Decimal = _ZERO

    @property
    def outstanding(self) -> Decimal:
        """Units sent and not yet reported shipped."""
        return self.quantity - self.shipped


@attrs.frozen(kw_only=True)
class FulfilmentOrder:
    """Lines of one sales order at one fulfilment provider (the aggregate).

    Attributes:
        id: o2c's id (``FO-000001``); the provider's reports name it.
        order_id: The sales order.
        customer_id: The customer.
        provider: The provider's name in the engine.
        reference: The provider's own id (from its acknowledgement).
        lines: What was sent, with what shipped so far.
        sent_at: When it was sent.
        due_by: When it is overdue unless shipped in full.
        report_ids: Reports applied (sorted).
        parcel_ids: Parcels recorded (sorted).
        shipment_ids: Shipments made of them (sorted).
        last_report_at: The provider's time of its newest report.
    """

    id: str
    order_id: str
    customer_id: str
    provider: str
    reference: str
    lines: tuple[FulfilmentOrderLine, ...]
    sent_at: datetime
    due_by: datetime
    report_ids: tuple[str, ...] = ()
    parcel_ids: tuple[str, ...] = ()
    shipment_ids: tuple[str, ...] = ()
    last_report_at: datetime | None = None

    @property
    def status(self) -> FulfilmentStatus:
        """Open (nothing shipped), partial, or shipped (everything)."""
        if all(line.outstanding == 0 for line in self.lines):
            return FulfilmentStatus.SHIPPED
        if any(line.shipped > 0 for line in self.lines):
            return FulfilmentStatus.PARTIAL
        return FulfilmentStatus.OPEN

    @property
    def outstanding(self) -> dict[str, Decimal]:
        """Units per line sent and not yet reported shipped (lines with none left out)."""
        return {ln.line_id: ln.outstanding for ln in self.lines if ln.outstanding > 0}

    def is_overdue(self, now: datetime) -> bool:
        """True when not shipped in full and ``now`` is past ``due_by``."""
        return self.status is not FulfilmentStatus.SHIPPED and now > self.due_by


def _items(lines: Iterable[FulfilmentOrderLine]) -> tuple[ItemQuantity, ...]:
    return tuple(ItemQuantity(line_id=x.line_id, sku=x.sku, quantity=x.quantity) for x in lines)


def open_fulfilment(
    *,
    fulfilment_id: str,
    order_id: str,
    customer_id: str,
    provider: str,
    reference: str,
    lines: Iterable[FulfilmentLine],
    now: datetime,
    sla: timedelta,
) -> tuple[FulfilmentOrder, Events]:
    """Record lines sent to a provider (acknowledged as ``reference``).

    Returns:
        The fulfilment order and ``(FulfilmentRequested,)``.

    Raises:
        FulfilmentRequestError: a malformed reference, no lines, or a line twice.
    """
    _FIELDS.aware(now, "now")
    ref = _FIELDS.id(reference, "reference")
    rows = tuple(
        FulfilmentOrderLine(line_id=ln.line_id, sku=ln.sku, quantity=ln.quantity) for ln in lines
    )
    if not rows or len({r.line_id for r in rows}) != len(rows):
        raise FulfilmentRequestError(field="lines", reason="one line per order line, at least one")
    fo = FulfilmentOrder(
        id=fulfilment_id,
        order_id=order_id,
        customer_id=customer_id,
        provider=provider,
        reference=ref,
        lines=rows,
        sent_at=now,
        due_by=now + sla,
    )
    event = FulfilmentRequested(
        aggregate_id=fo.id,
        occurred_at=now,
        order_id=order_id,
        provider=provider,
        reference=ref,
        lines=_items(rows),
        due_by=fo.due_by,
    )
    return fo, (event,)


def parcel_shipment_id(fulfilment_id: str, parcel_id: str) -> str:
    """The id of the shipment a reported parcel becomes (stable, whatever the order
    reports arrive in)."""
    return f"{fulfilment_id}/{parcel_id}"


def _check_parcel(fo: FulfilmentOrder, report: FulfilmentReport, parcel: object) -> ReportedParcel:
    def bad(reason: str, parcel_id: str = "") -> FulfilmentReportError:
        return FulfilmentReportError(
            fulfilment_id=fo.id, report_id=report.report_id, parcel_id=parcel_id, reason=reason
        )

    if not isinstance(parcel, ReportedParcel):
        raise bad("parcels must be ReportedParcel values")
    pid = _FIELDS.id(parcel.parcel_id, "parcel_id")
    if "/" in pid:
        raise bad("a parcel id cannot contain '/'", pid)
    _FIELDS.aware(parcel.shipped_at, "shipped_at")
    for name in ("carrier", "tracking_number", "service"):
        value = getattr(parcel, name)
        if value is not None:
            _FIELDS.id(value, name)
    if parcel.tracking_number is not None and parcel.carrier is None:
        raise bad("a tracking number needs its carrier", pid)
    if not parcel.lines:
        raise bad("a parcel holds at least one line", pid)
    return parcel


def check_report(fo: FulfilmentOrder, report: object) -> FulfilmentReport:
    """A report checked against its fulfilment order (fields and ids only).

    Raises:
        FulfilmentReportError: not a report, or a report of another request.
        FulfilmentRequestError: a malformed id or time.
    """
    if not isinstance(report, FulfilmentReport):
        raise FulfilmentReportError(
            fulfilment_id=fo.id, report_id="", parcel_id="", reason="not a FulfilmentReport"
        )
    _FIELDS.id(report.report_id, "report_id")
    _FIELDS.aware(report.reported_at, "reported_at")
    if report.request_id != fo.id:
        raise FulfilmentReportError(
            fulfilment_id=fo.id,
            report_id=report.report_id,
            parcel_id="",
            reason=f"it reports on {str(report.request_id)[:80]!r}",
        )
    return report


def apply_report(
    fo: FulfilmentOrder, report: FulfilmentReport, now: datetime
) -> tuple[FulfilmentOrder, tuple[ReportedParcel, ...], Events]:
    """Apply a provider's report: record its new parcels (each once).

    Args:
        fo: The fulfilment order.
        report: The report (all parcels so far, or only new ones).
        now: When o2c received it.

    Returns:
        The fulfilment order, the parcels new to it (each to become a shipment with
        :func:`parcel_shipment_id`), and ``(FulfilmentReported,)``; a report already
        applied returns ``(fo, (), ())``.

    Raises:
        FulfilmentReportError: an unknown line, a quantity not above zero, a line
            twice in one parcel, or more shipped than was sent.
        FulfilmentRequestError: a malformed id or time.
    """
    _FIELDS.aware(now, "now")
    report = check_report(fo, report)
    if report.report_id in fo.report_ids:
        return fo, (), ()
    known = set(fo.parcel_ids)
    shipped = {ln.line_id: ln.shipped for ln in fo.lines}
    by_line = {ln.line_id: ln for ln in fo.lines}
    new: list[ReportedParcel] = []
    for raw in report.parcels:
        parcel = _check_parcel(fo, report, raw)
        if parcel.parcel_id in known:
            continue  # reported before (a cumulative report): applied once
        known.add(parcel.parcel_id)
        seen: set[str] = set()
        for line in parcel.lines:
            reason = _line_problem(line, by_line, seen)
            if reason is None:
                qty = to_decimal(line.quantity, what="quantity")
                shipped[line.line_id] += qty
                if shipped[line.line_id] > by_line[line.line_id].quantity:
                    sent = by_line[line.line_id].quantity
                    reason = f"line {line.line_id} ships more than the {sent} sent"
            if reason is not None:
                raise FulfilmentReportError(
                    fulfilment_id=fo.id,
                    report_id=report.report_id,
                    parcel_id=parcel.parcel_id,
                    reason=reason,
                )
            seen.add(line.line_id)
        new.append(parcel)
    ids = tuple(sorted(parcel_shipment_id(fo.id, p.parcel_id) for p in new))
    latest = max(filter(None, (fo.last_report_at, report.reported_at)))
    updated = attrs.evolve(
        fo,
        lines=tuple(attrs.evolve(ln, shipped=shipped[ln.line_id]) for ln in fo.lines),
        report_ids=tuple(sorted((*fo.report_ids, report.report_id))),
        parcel_ids=tuple(sorted(known)),
        shipment_ids=tuple(sorted((*fo.shipment_ids, *ids))),
        last_report_at=latest,
    )
    event = FulfilmentReported(
        aggregate_id=fo.id,
        occurred_at=now,
        order_id=fo.order_id,
        provider=fo.provider,
        report_id=report.report_id,
        shipment_ids=ids,
        complete=updated.status is FulfilmentStatus.SHIPPED,
    )
    return updated, tuple(new), (event,)


def _line_problem(
    line: object, by_line: dict[str, FulfilmentOrderLine], seen: set[str]
) -> str | None:
    if not isinstance(line, FulfilmentLine):
        return "parcel lines must be FulfilmentLine values"
    if line.line_id not in by_line:
        return f"line {str(line.line_id)[:40]!r} was not sent"
    if line.line_id in seen:
        return f"line {line.line_id} twice in one parcel"
    if line.sku != by_line[line.line_id].sku:
        return f"line {line.line_id} is {by_line[line.line_id].sku}, not {str(line.sku)[:40]!r}"
    qty = to_decimal(line.quantity, what="quantity")
    if qty <= 0:
        return f"line {line.line_id}: quantity must be above zero"
    return None
