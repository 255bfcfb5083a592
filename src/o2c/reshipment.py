"""Giving shipped quantities back to an order when the goods will not arrive.

A parcel cancelled before it left, lost by the carrier or returned to sender did not
reach the customer: the quantities it took off the order's ``to_ship`` become
shippable again (:func:`unship`). Only a confirmed order takes them back; a closed
(completed) order stays as it is, and replacing the goods is then a new order or a
credit note, the host's decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from o2c._evolve import evolved
from o2c.clock import require_aware
from o2c.errors import OrderNotConfirmedError, OrderQuantityExceededError
from o2c.events import LineQuantity, OrderLinesUnshipped
from o2c.lifecycles import OrderState
from o2c.orders import Order

__all__ = ["can_reopen", "unship"]


def can_reopen(order: Order) -> bool:
    """True when the order can take shipped quantities back (it is confirmed)."""
    return order.state is OrderState.CONFIRMED


def unship(
    order: Order, quantities: Mapping[str, Decimal], now: datetime, *, shipment_id: str, reason: str
) -> tuple[Order, tuple[OrderLinesUnshipped]]:
    """Take quantities off the lines' ``shipped`` (they may ship again).

    Args:
        order: A confirmed order.
        quantities: Units per line id, each above zero and at most shipped minus
            delivered (goods that arrived cannot be unshipped).
        now: When.
        shipment_id: The shipment that did not arrive.
        reason: Why (``"cancelled"``, ``"lost"``, ``"returned_to_sender"``).

    Returns:
        The order and ``(OrderLinesUnshipped,)``.

    Raises:
        OrderNotConfirmedError: the order is not confirmed.
        OrderLineNotFoundError: an unknown line id.
        OrderQuantityExceededError: more than shipped and not delivered.
    """
    require_aware(now)
    if not can_reopen(order):
        raise OrderNotConfirmedError(order_id=order.id, state=order.state.value, action="unship")
    moved: list[LineQuantity] = []
    lines = list(order.lines)
    priced = {ln.line_id: p for ln, p in zip(order.lines, order.totals.lines, strict=True)}
    for line_id, qty in quantities.items():
        line = order.line(line_id)
        open_qty = line.shipped - line.delivered
        if not Decimal(0) < qty <= open_qty:
            raise OrderQuantityExceededError(
                order_id=order.id,
                line_id=line_id,
                action="unship",
                requested=str(qty),
                available=str(open_qty),
            )
        index = lines.index(line)
        lines[index] = evolved(line, shipped=line.shipped - qty)
        net = priced[line_id].net
        rest = line.quantity - qty
        value = net if rest <= 0 else net.allocate([qty, rest])[0]
        moved.append(LineQuantity(line_id=line_id, sku=line.sku, quantity=qty, net_value=value))
    event = OrderLinesUnshipped(
        aggregate_id=order.id,
        occurred_at=now,
        lines=tuple(moved),
        shipment_id=shipment_id,
        reason=reason,
    )
    return evolved(order, lines=tuple(lines)), (event,)
