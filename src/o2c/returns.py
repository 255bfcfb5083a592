"""Returns: the return merchandise authorisation (RMA) of delivered goods.

A :class:`ReturnAuthorization` is an immutable aggregate moved only through
:data:`o2c.lifecycles.RETURN_WORKFLOW`: requested, authorised, received (in one or
several parcels) and closed, or rejected or cancelled before anything came back.
Every operation returns ``(rma, events)``; a refused one raises a typed error and
changes nothing.

Quantities, per line, always::

    0 < quantity
    0 <= restocked <= received <= quantity

and, per order line, when a return is requested::

    quantity <= delivered - returned - already requested by the order's open RMAs

The engine computes the last term with :func:`open_quantities` over the order's
other returns. That function counts an open return's *whole* quantity, received
or not, which is right when the order's ``returned`` quantity is recorded at
:func:`close` (:class:`~o2c.events.ReturnClosed` carries the received quantities
for :func:`o2c.orders.record_return`). An engine that records returns on receipt
instead passes ``received_recorded=True`` so nothing is counted twice.

Closing credits what was received. A return may close as soon as one parcel came
in: goods the customer never sent are not credited, and the event lists them as
``short``. (Waiting for every unit would leave returns open for ever when a
customer keeps part of the goods.)
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Final, TypeAlias

import attrs

from o2c._fields import FieldChecks
from o2c.errors import (
    InvalidAmountError,
    InvalidReturnQuantityError,
    ReturnFieldError,
    ReturnLineNotFoundError,
    ReturnNotAllowedError,
    ReturnQuantityExceededError,
    ReturnReceiptExceededError,
)
from o2c.events import (
    DomainEvent,
    ItemQuantity,
    ReturnAuthorized,
    ReturnCancelled,
    ReturnClosed,
    ReturnReceived,
    ReturnRejected,
    ReturnRequested,
)
from o2c.lifecycles import RETURN_WORKFLOW, OrderState, ReturnEvent, ReturnState
from o2c.money import to_decimal
from o2c.orders import Order
from o2c.payments import check_free_text

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_REASON_LENGTH",
    "ReturnAuthorization",
    "ReturnLine",
    "authorize",
    "cancel",
    "close",
    "open_quantities",
    "receive",
    "received_quantities",
    "reject",
    "request_return",
]

#: Longest id (return, order, line, credit note, refund) accepted.
MAX_ID_LENGTH: Final = 255
#: Longest reason accepted.
MAX_REASON_LENGTH: Final = 1_000

_ZERO: Final = Decimal(0)
# Quantities may carry up to 42 digits; the default context would round silently
# past 28. This one raises instead.
_EXACT: Final = decimal.Context(
    prec=100,
    traps=[decimal.InvalidOperation, decimal.Inexact, decimal.Rounded, decimal.Overflow],
)
#: Order states whose delivered goods may come back (a completed order included:
#: goods come back after an order is closed).
_RETURNABLE: Final = frozenset({OrderState.CONFIRMED, OrderState.COMPLETED})
_OPEN: Final = frozenset({ReturnState.REQUESTED, ReturnState.AUTHORIZED, ReturnState.RECEIVED})
#: States in which no goods can have come back yet.
_NOTHING_RECEIVED: Final = frozenset(
    {ReturnState.REQUESTED, ReturnState.AUTHORIZED, ReturnState.REJECTED, ReturnState.CANCELLED}
)


Events: TypeAlias = tuple[DomainEvent, ...]


# --------------------------------------------------------------------------- field checks


def _reason(value: object, field: str, *, empty: bool = False) -> str:
    text = check_free_text(
        value, field=field, max_length=MAX_REASON_LENGTH, error=ReturnFieldError, allow_empty=empty
    )
    if text and not text.strip():
        raise ReturnFieldError(f"{field} is blank", field=field, reason="blank")
    return text


_FIELDS: Final = FieldChecks(ReturnFieldError, max_id=MAX_ID_LENGTH, max_text=MAX_REASON_LENGTH)
_id = _FIELDS.id
_aware = _FIELDS.aware
_check_id = FieldChecks.validator(_FIELDS.id)
_check_optional_id = FieldChecks.validator(_FIELDS.id, optional=True)
_check_reason = FieldChecks.validator(_reason)
_check_optional_reason = FieldChecks.validator(_FIELDS.optional_text)
_check_aware = FieldChecks.validator(_FIELDS.aware)
_check_optional_aware = FieldChecks.validator(_FIELDS.aware, optional=True)


def _state(value: object) -> ReturnState:
    try:
        return ReturnState(str(value))
    except ValueError:
        raise ReturnFieldError(
            "unknown return state", field="state", reason=f"{str(value)[:40]!r} is no state"
        ) from None


def _quantity(value: object) -> Decimal:
    return to_decimal(value, what="quantity")


def _ids(value: object) -> tuple[str, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ReturnFieldError("refund_ids must be a sequence", field="refund_ids", reason="type")
    ids = tuple(value)
    for refund_id in ids:
        _id(refund_id, "refund_ids")
    if len(set(ids)) != len(ids):
        raise ReturnFieldError("a refund id is given twice", field="refund_ids", reason="duplicate")
    return ids


def _add(a: Decimal, b: Decimal) -> Decimal:
    return _EXACT.add(a, b)


def _sub(a: Decimal, b: Decimal) -> Decimal:
    return _EXACT.subtract(a, b)


# --------------------------------------------------------------------------- values


@attrs.frozen
class ReturnLine:
    """Units of one order line under a return.

    Args:
        line_id: The order line.
        sku: Its stock-keeping unit.
        quantity: Units the customer may send back (above zero).
        received: Units received so far.
        restocked: Of those, units put back into stock (the rest was scrapped).

    Raises:
        ReturnFieldError: a blank id or sku, or quantities out of order.
        InvalidAmountError: a quantity is a float or not an exact bounded number.
    """

    line_id: str = attrs.field(validator=_check_id)
    sku: str = attrs.field(validator=_check_id)
    quantity: Decimal = attrs.field(converter=_quantity)
    received: Decimal = attrs.field(default=_ZERO, converter=_quantity)
    restocked: Decimal = attrs.field(default=_ZERO, converter=_quantity)

    def __attrs_post_init__(self) -> None:
        if self.quantity <= 0:
            raise ReturnFieldError(
                f"line {self.line_id}: quantity must be above zero",
                field="quantity",
                reason="not above zero",
            )
        if not _ZERO <= self.received <= self.quantity:
            raise ReturnFieldError(
                f"line {self.line_id}: received must lie between 0 and the quantity",
                field="received",
                reason="out of range",
            )
        if not _ZERO <= self.restocked <= self.received:
            raise ReturnFieldError(
                f"line {self.line_id}: restocked must lie between 0 and received",
                field="restocked",
                reason="out of range",
            )

    @property
    def outstanding(self) -> Decimal:
        """Units still awaited: quantity - received."""
        return _sub(self.quantity, self.received)


def _lines(value: object) -> tuple[ReturnLine, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ReturnFieldError("lines must be a sequence", field="lines", reason="type")
    return tuple(value)


@attrs.frozen(kw_only=True)
class ReturnAuthorization:
    """A return of goods of one order (the aggregate).

    Build one with :func:`request_return`; the constructor exists for storage
    adapters that rebuild a recorded return, and re-checks its consistency.

    Args:
        id: The return's id.
        order_id: The order the goods were sold on.
        customer_id: The customer.
        lines: What may come back: at least one line, each order line once.
        reason: The customer's reason (text, no card numbers).
        requested_at: When it was asked for.
        state: Where it stands (see :data:`~o2c.lifecycles.RETURN_WORKFLOW`).
        authorized_at: When it was authorised.
        received_at: When the latest parcel arrived.
        closed_at: When it reached a final state (closed, rejected or cancelled).
        credit_note_id: The credit note that settled it, if any.
        refund_ids: The refunds that paid it back, if any.
        rejection_reason: Why it was rejected.
        cancellation_reason: Why it was cancelled.

    Raises:
        ReturnFieldError: a field is malformed, a line is given twice, or goods
            are recorded as received in a state that has received none.
    """

    id: str = attrs.field(validator=_check_id)
    order_id: str = attrs.field(validator=_check_id)
    customer_id: str = attrs.field(validator=_check_id)
    lines: tuple[ReturnLine, ...] = attrs.field(converter=_lines)
    reason: str = attrs.field(validator=_check_reason)
    requested_at: datetime = attrs.field(validator=_check_aware)
    state: ReturnState = attrs.field(default=ReturnState.REQUESTED, converter=_state)
    authorized_at: datetime | None = attrs.field(default=None, validator=_check_optional_aware)
    received_at: datetime | None = attrs.field(default=None, validator=_check_optional_aware)
    closed_at: datetime | None = attrs.field(default=None, validator=_check_optional_aware)
    credit_note_id: str | None = attrs.field(default=None, validator=_check_optional_id)
    refund_ids: tuple[str, ...] = attrs.field(default=(), converter=_ids)
    rejection_reason: str = attrs.field(default="", validator=_check_optional_reason)
    cancellation_reason: str = attrs.field(default="", validator=_check_optional_reason)

    def __attrs_post_init__(self) -> None:
        if not self.lines:
            raise ReturnFieldError("a return has lines", field="lines", reason="empty")
        seen: set[str] = set()
        for line in self.lines:
            if not isinstance(line, ReturnLine):
                raise ReturnFieldError(
                    "lines must be ReturnLine values", field="lines", reason="type"
                )
            if line.line_id in seen:
                raise ReturnFieldError(
                    f"line {line.line_id} is given twice", field="lines", reason="duplicate"
                )
            seen.add(line.line_id)
        nothing_received = self.state in _NOTHING_RECEIVED
        if nothing_received and any(line.received for line in self.lines):
            raise ReturnFieldError(
                f"goods received in state {self.state.value}", field="lines", reason="state"
            )

    # -- queries ------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """True until closed, rejected or cancelled."""
        return self.state in _OPEN

    @property
    def is_fully_received(self) -> bool:
        """True when every line's whole quantity has arrived."""
        return all(line.outstanding == 0 for line in self.lines)

    def line(self, line_id: str) -> ReturnLine:
        """The line for ``line_id``.

        Raises:
            ReturnLineNotFoundError: the return has no such line.
        """
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise ReturnLineNotFoundError(kind="return_line", id=line_id, return_id=self.id)


#: What every operation returns: the new return and the events it caused.
Result: TypeAlias = tuple[ReturnAuthorization, Events]


def _items(pairs: Iterable[tuple[ReturnLine, Decimal]]) -> tuple[ItemQuantity, ...]:
    return tuple(
        ItemQuantity(line_id=line.line_id, sku=line.sku, quantity=qty) for line, qty in pairs if qty
    )


def _positive(raw: object, return_id: str, line_id: str) -> Decimal:
    try:
        qty = to_decimal(raw, what="quantity")
    except InvalidAmountError as exc:
        raise InvalidReturnQuantityError(
            return_id=return_id,
            line_id=line_id,
            value=raw,
            reason=str(exc.fields.get("reason", exc.message)),
        ) from exc
    if qty <= 0:
        raise InvalidReturnQuantityError(
            return_id=return_id, line_id=line_id, value=raw, reason="must be above zero"
        )
    return qty


def _mapping(value: object, return_id: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping) or not value:
        raise InvalidReturnQuantityError(
            return_id=return_id, line_id="", value=value, reason="no line quantities given"
        )
    return value


# --------------------------------------------------------------------------- request


def _already(value: Mapping[str, Decimal] | None, return_id: str) -> dict[str, Decimal]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ReturnFieldError(
            "already_requested must be a mapping", field="already_requested", reason="type"
        )
    held: dict[str, Decimal] = {}
    for line_id, raw in value.items():
        try:
            qty = to_decimal(raw, what="quantity")
        except InvalidAmountError as exc:
            raise InvalidReturnQuantityError(
                return_id=return_id, line_id=str(line_id), value=raw, reason="not a quantity"
            ) from exc
        if qty < 0:
            # A negative hold would widen the limit: refuse rather than trust it.
            raise InvalidReturnQuantityError(
                return_id=return_id, line_id=str(line_id), value=raw, reason="negative"
            )
        held[str(line_id)] = qty
    return held


def request_return(
    *,
    return_id: str,
    order: Order,
    quantities: Mapping[str, Decimal | int],
    reason: str,
    now: datetime,
    already_requested: Mapping[str, Decimal] | None = None,
) -> Result:
    """Open a return (RMA) for delivered goods of an order: a new REQUESTED return.

    Args:
        return_id: The new return's id.
        order: The order (confirmed or completed).
        quantities: Units to send back per order line id (each above zero).
        reason: The customer's reason (non-blank, at most
            :data:`MAX_REASON_LENGTH` characters, no card numbers).
        now: When it was asked for.
        already_requested: Units per line held by the order's other open returns
            (:func:`open_quantities`); None when there are none.

    Returns:
        The return and ``(ReturnRequested,)``.

    Raises:
        ReturnNotAllowedError: the order is neither confirmed nor completed.
        OrderLineNotFoundError: a line id the order does not have.
        InvalidReturnQuantityError: nothing given, or a quantity not above zero.
        ReturnQuantityExceededError: naming the line and the limit
            ``delivered - returned - already_requested``.
        ReturnFieldError: a malformed id, reason or time.
        CardDataRefusedError: the reason holds a card number.
    """
    _aware(now, "now")
    rid = _id(return_id, "return_id")
    if not isinstance(order, Order):
        raise ReturnFieldError("an o2c.orders.Order is required", field="order", reason="type")
    if order.state not in _RETURNABLE:
        raise ReturnNotAllowedError(order_id=order.id, state=order.state.value)
    text = _reason(reason, "reason")
    held = _already(already_requested, rid)
    amounts: dict[str, Decimal] = {}
    for line_id, raw in _mapping(quantities, rid).items():
        line = order.line(line_id)
        qty = _positive(raw, rid, line_id)
        already = held.get(line_id, _ZERO)
        available = _sub(_sub(line.delivered, line.returned), already)
        if qty > available:
            raise ReturnQuantityExceededError(
                f"line {line_id}: at most {max(available, _ZERO)} can be returned",
                return_id=rid,
                order_id=order.id,
                line_id=line_id,
                requested=str(qty),
                available=str(max(available, _ZERO)),
                delivered=str(line.delivered),
                returned=str(line.returned),
                already_requested=str(already),
            )
        amounts[line_id] = qty
    lines = tuple(
        ReturnLine(line.line_id, line.sku, amounts[line.line_id])
        for line in order.lines
        if line.line_id in amounts
    )
    rma = ReturnAuthorization(
        id=rid,
        order_id=order.id,
        customer_id=order.customer_id,
        lines=lines,
        reason=text,
        requested_at=now,
    )
    event = ReturnRequested(
        aggregate_id=rid,
        occurred_at=now,
        order_id=order.id,
        customer_id=order.customer_id,
        lines=_items((line, line.quantity) for line in lines),
        reason=text,
    )
    return rma, (event,)


# --------------------------------------------------------------------------- decisions


def authorize(rma: ReturnAuthorization, now: datetime) -> Result:
    """Let the customer send the goods: REQUESTED -> AUTHORIZED.

    Returns:
        The return and ``(ReturnAuthorized,)``.

    Raises:
        InvalidTransitionError: not requested.
    """
    _aware(now, "now")
    state = RETURN_WORKFLOW.apply(rma.state, ReturnEvent.AUTHORIZE)
    new = attrs.evolve(rma, state=state, authorized_at=now)
    event = ReturnAuthorized(
        aggregate_id=rma.id,
        occurred_at=now,
        order_id=rma.order_id,
        lines=_items((line, line.quantity) for line in rma.lines),
    )
    return new, (event,)


def reject(rma: ReturnAuthorization, reason: str, now: datetime) -> Result:
    """Refuse the return: REQUESTED -> REJECTED.

    Returns:
        The return and ``(ReturnRejected,)``.

    Raises:
        InvalidTransitionError: not requested.
        ReturnFieldError: blank or over-long reason.
        CardDataRefusedError: the reason holds a card number.
    """
    _aware(now, "now")
    text = _reason(reason, "reason")
    state = RETURN_WORKFLOW.apply(rma.state, ReturnEvent.REJECT)
    new = attrs.evolve(rma, state=state, rejection_reason=text, closed_at=now)
    return new, (
        ReturnRejected(aggregate_id=rma.id, occurred_at=now, order_id=rma.order_id, reason=text),
    )


def cancel(rma: ReturnAuthorization, reason: str, now: datetime) -> Result:
    """Withdraw the return before any goods came back: REQUESTED or AUTHORIZED ->
    CANCELLED. Its quantities stop counting in :func:`open_quantities`.

    Returns:
        The return and ``(ReturnCancelled,)``.

    Raises:
        InvalidTransitionError: goods were already received, or it is final.
        ReturnFieldError: blank or over-long reason.
        CardDataRefusedError: the reason holds a card number.
    """
    _aware(now, "now")
    text = _reason(reason, "reason")
    state = RETURN_WORKFLOW.apply(rma.state, ReturnEvent.CANCEL)
    new = attrs.evolve(rma, state=state, cancellation_reason=text, closed_at=now)
    return new, (
        ReturnCancelled(aggregate_id=rma.id, occurred_at=now, order_id=rma.order_id, reason=text),
    )


# --------------------------------------------------------------------------- receipt


def _restock_flags(
    restock: bool | Mapping[str, bool], amounts: Mapping[str, Decimal]
) -> dict[str, bool]:
    if isinstance(restock, bool):
        return dict.fromkeys(amounts, restock)
    if not isinstance(restock, Mapping):
        raise ReturnFieldError("restock is a bool or a mapping", field="restock", reason="type")
    flags = dict.fromkeys(amounts, True)
    for line_id, flag in restock.items():
        if line_id not in amounts:
            raise ReturnFieldError(
                f"restock names line {str(line_id)[:40]!r}, which this parcel does not hold",
                field="restock",
                reason="unknown line",
            )
        if not isinstance(flag, bool):
            raise ReturnFieldError("restock flags are bools", field="restock", reason="type")
        flags[line_id] = flag
    return flags


def receive(
    rma: ReturnAuthorization,
    quantities: Mapping[str, Decimal | int],
    now: datetime,
    restock: bool | Mapping[str, bool] = True,
) -> Result:
    """Record a parcel of returned goods: AUTHORIZED or RECEIVED -> RECEIVED.

    Args:
        rma: The return.
        quantities: Units received per line id (each above zero, at most what is
            still outstanding on the line).
        now: When the parcel arrived.
        restock: True to put everything back into stock, False to scrap it, or a
            flag per line id of this parcel (lines not named are restocked).

    Returns:
        The return and ``(ReturnReceived,)`` with the units received and restocked.

    Raises:
        InvalidTransitionError: the return is not authorised (or is final).
        ReturnLineNotFoundError: a line the return does not have.
        InvalidReturnQuantityError: nothing given, or a quantity not above zero.
        ReturnReceiptExceededError: more than the line's outstanding quantity.
        ReturnFieldError: a malformed restock flag or time.
    """
    _aware(now, "now")
    state = RETURN_WORKFLOW.apply(rma.state, ReturnEvent.RECEIVE)
    amounts: dict[str, Decimal] = {}
    for line_id, raw in _mapping(quantities, rma.id).items():
        line = rma.line(line_id)
        qty = _positive(raw, rma.id, line_id)
        if qty > line.outstanding:
            raise ReturnReceiptExceededError(
                f"line {line_id}: {line.outstanding} outstanding",
                return_id=rma.id,
                line_id=line_id,
                requested=str(qty),
                outstanding=str(line.outstanding),
            )
        amounts[line_id] = qty
    flags = _restock_flags(restock, amounts)
    got: list[tuple[ReturnLine, Decimal]] = []
    back: list[tuple[ReturnLine, Decimal]] = []
    lines: list[ReturnLine] = []
    for line in rma.lines:
        arrived = amounts.get(line.line_id)
        if arrived is None:
            lines.append(line)
            continue
        kept = arrived if flags[line.line_id] else _ZERO
        got.append((line, arrived))
        back.append((line, kept))
        lines.append(
            attrs.evolve(
                line, received=_add(line.received, arrived), restocked=_add(line.restocked, kept)
            )
        )
    new = attrs.evolve(rma, state=state, lines=tuple(lines), received_at=now)
    event = ReturnReceived(
        aggregate_id=rma.id,
        occurred_at=now,
        order_id=rma.order_id,
        received=_items(got),
        restocked=_items(back),
        complete=new.is_fully_received,
    )
    return new, (event,)


def close(
    rma: ReturnAuthorization,
    *,
    credit_note_id: str | None,
    refund_ids: Sequence[str],
    now: datetime,
) -> Result:
    """Settle the return: RECEIVED -> CLOSED. It credits what was received.

    Args:
        rma: The return (at least one parcel received).
        credit_note_id: The credit note issued for the received goods, if any.
        refund_ids: The refunds that paid them back, if any.
        now: When.

    Returns:
        The return and ``(ReturnClosed,)`` with the units received (to record as
        returned on the order) and those never received (``short``).

    Raises:
        InvalidTransitionError: nothing was received yet, or it is final.
        ReturnFieldError: a malformed credit note or refund id.
    """
    _aware(now, "now")
    note = None if credit_note_id is None else _id(credit_note_id, "credit_note_id")
    refunds = _ids(refund_ids)
    state = RETURN_WORKFLOW.apply(rma.state, ReturnEvent.CLOSE)
    new = attrs.evolve(rma, state=state, credit_note_id=note, refund_ids=refunds, closed_at=now)
    event = ReturnClosed(
        aggregate_id=rma.id,
        occurred_at=now,
        order_id=rma.order_id,
        customer_id=rma.customer_id,
        received=_items((line, line.received) for line in rma.lines),
        short=_items((line, line.outstanding) for line in rma.lines),
        credit_note_id=note,
        refund_ids=refunds,
    )
    return new, (event,)


# --------------------------------------------------------------------------- queries


def received_quantities(rma: ReturnAuthorization) -> dict[str, Decimal]:
    """Units received per line id (lines with nothing received are left out)."""
    return {line.line_id: line.received for line in rma.lines if line.received}


def open_quantities(
    rmas: Iterable[ReturnAuthorization], *, received_recorded: bool = False
) -> dict[str, Decimal]:
    """Units per order line id held by the open (requested, authorised or
    received) returns among ``rmas``: the ``already_requested`` of
    :func:`request_return`. Closed, rejected and cancelled returns hold nothing.

    Args:
        rmas: Returns of one order (any state).
        received_recorded: True when the engine records received units as
            returned on the order at receipt; they are then left out here so
            nothing is counted twice.

    Raises:
        ReturnFieldError: the returns belong to different orders.
    """
    totals: dict[str, Decimal] = {}
    orders: set[str] = set()
    for rma in rmas:
        orders.add(rma.order_id)
        if len(orders) > 1:
            raise ReturnFieldError(
                "returns of different orders", field="rmas", reason="mixed orders"
            )
        if rma.state not in _OPEN:
            continue
        for line in rma.lines:
            held = line.outstanding if received_recorded else line.quantity
            totals[line.line_id] = _add(totals.get(line.line_id, _ZERO), held)
    return {line_id: qty for line_id, qty in totals.items() if qty}
