"""Returns (RMAs): request limits, decisions, parcels received, closing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest

from o2c.customers import Address, Customer
from o2c.errors import (
    CardDataRefusedError,
    InvalidAmountError,
    InvalidReturnQuantityError,
    InvalidTransitionError,
    NaiveDatetimeError,
    OrderLineNotFoundError,
    ReturnFieldError,
    ReturnLineNotFoundError,
    ReturnNotAllowedError,
    ReturnQuantityExceededError,
    ReturnReceiptExceededError,
)
from o2c.events import (
    ItemQuantity,
    ReturnAuthorized,
    ReturnCancelled,
    ReturnClosed,
    ReturnReceived,
    ReturnRejected,
    ReturnRequested,
)
from o2c.lifecycles import OrderState, ReturnState
from o2c.money import Money
from o2c.orders import (
    Order,
    OrderLine,
    approve,
    complete,
    new_order,
    place,
    record_delivery,
    record_invoiced,
    record_return,
    record_shipment,
)
from o2c.returns import (
    ReturnAuthorization,
    ReturnLine,
    authorize,
    cancel,
    close,
    open_quantities,
    receive,
    received_quantities,
    reject,
    request_return,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ADDR = Address(name="ACME", lines=("Hauptstr. 1",), city="Berlin", country="DE")
R = ReturnState


def at(days: int) -> datetime:
    return T0 + timedelta(days=days)


def order_with(delivered: dict[str, int], *, complete_it: bool = False) -> Order:
    """Lines A (5 units) and B (2 units), confirmed, with some units delivered."""
    customer = Customer(
        id="C1",
        name="ACME",
        currency="EUR",
        billing_address=ADDR,
        shipping_addresses=(ADDR,),
        payment_terms="NET30",
    )
    lines = [
        OrderLine(line_id="A", sku="SKU-A", quantity=5, unit_price=Money("10.00", "EUR")),
        OrderLine(line_id="B", sku="SKU-B", quantity=2, unit_price=Money("3.00", "EUR")),
    ]
    order, _ = new_order(
        order_id="O1", customer=customer, lines=lines, shipping_address=ADDR, now=T0
    )
    order, _ = place(order, T0)
    order, _ = approve(order, T0)
    if delivered:
        order, _ = record_shipment(order, delivered, T0)
        order, _ = record_delivery(order, delivered, T0)
    if complete_it:
        order, _ = record_invoiced(order, {"A": 5, "B": 2}, T0)
        order, _ = complete(order, T0)
    return order


def requested(order: Order | None = None, **changes: Any) -> ReturnAuthorization:
    fields: dict[str, Any] = {
        "return_id": "R1",
        "order": order or order_with({"A": 4, "B": 2}),
        "quantities": {"A": 3, "B": 1},
        "reason": "wrong size",
        "now": at(1),
    }
    fields.update(changes)
    rma, _ = request_return(**fields)
    return rma


def authorized(**changes: Any) -> ReturnAuthorization:
    rma, _ = authorize(requested(**changes), at(2))
    return rma


def items(**quantities: int | str) -> tuple[ItemQuantity, ...]:
    return tuple(
        ItemQuantity(line_id=k, sku=f"SKU-{k}", quantity=Decimal(v)) for k, v in quantities.items()
    )


# --------------------------------------------------------------------------- lines


def test_return_line_quantities_stay_in_order() -> None:
    line = ReturnLine("A", "SKU-A", 3, received=2, restocked=1)
    assert line.outstanding == 1
    with pytest.raises(ReturnFieldError) as info:
        ReturnLine("A", "SKU-A", 0)
    assert info.value.field == "quantity"
    with pytest.raises(ReturnFieldError) as info:
        ReturnLine("A", "SKU-A", 3, received=4)
    assert info.value.field == "received"
    with pytest.raises(ReturnFieldError) as info:
        ReturnLine("A", "SKU-A", 3, received=1, restocked=2)
    assert info.value.field == "restocked"
    with pytest.raises(ReturnFieldError):
        ReturnLine("A", "SKU-A", 3, received=-1)
    with pytest.raises(InvalidAmountError):
        ReturnLine("A", "SKU-A", 1.5)  # type: ignore[arg-type]
    with pytest.raises(ReturnFieldError) as info:
        ReturnLine("", "SKU-A", 1)
    assert info.value.field == "line_id"


# --------------------------------------------------------------------------- request


def test_request_return() -> None:
    order = order_with({"A": 4, "B": 2})
    rma, events = request_return(
        return_id="R1",
        order=order,
        quantities={"B": 1, "A": Decimal(3)},
        reason="wrong size",
        now=at(1),
    )
    assert rma.state is R.REQUESTED
    assert (rma.order_id, rma.customer_id, rma.requested_at) == ("O1", "C1", at(1))
    # Lines follow the order's line order, whatever order they were asked in.
    assert rma.lines == (ReturnLine("A", "SKU-A", 3), ReturnLine("B", "SKU-B", 1))
    assert rma.is_open
    assert events == (
        ReturnRequested(
            aggregate_id="R1",
            occurred_at=at(1),
            order_id="O1",
            customer_id="C1",
            lines=items(A=3, B=1),
            reason="wrong size",
        ),
    )


def test_completed_orders_take_returns() -> None:
    order = order_with({"A": 5, "B": 2}, complete_it=True)
    assert order.state is OrderState.COMPLETED
    rma = requested(order, quantities={"A": 5})
    assert rma.line("A").quantity == 5


def test_orders_in_other_states_take_no_returns() -> None:
    order = order_with({})
    draft = attrs.evolve(order, state=OrderState.DRAFT, confirmed_at=None)
    with pytest.raises(ReturnNotAllowedError) as info:
        requested(draft)
    assert (info.value.order_id, info.value.state) == ("O1", "draft")
    with pytest.raises(ReturnFieldError) as field:
        requested("O1")
    assert field.value.field == "order"


def test_request_limit_is_delivered_minus_returned_minus_requested() -> None:
    order = order_with({"A": 4, "B": 2})
    order, _ = record_return(order, {"A": 1}, at(1))
    with pytest.raises(ReturnQuantityExceededError) as info:
        requested(order, quantities={"A": 2}, already_requested={"A": Decimal(2)})
    err = info.value
    assert (err.line_id, err.requested, err.available) == ("A", "2", "1")
    assert (err.delivered, err.returned, err.already_requested) == ("4", "1", "2")
    assert (err.return_id, err.order_id) == ("R1", "O1")
    assert "line A" in str(err)
    assert requested(order, quantities={"A": 1}, already_requested={"A": 2}).lines[0].quantity == 1
    # Nothing delivered on a line: nothing to return.
    with pytest.raises(ReturnQuantityExceededError) as info:
        requested(order_with({"A": 1}), quantities={"B": "0.5"})
    assert info.value.available == "0"


@pytest.mark.parametrize(
    ("quantities", "line_id"),
    [({}, ""), ({"A": 0}, "A"), ({"A": -1}, "A"), ({"A": 1.0}, "A"), ({"A": "x"}, "A")],
)
def test_request_quantities_must_be_positive(quantities: dict[str, object], line_id: str) -> None:
    with pytest.raises(InvalidReturnQuantityError) as info:
        requested(quantities=quantities)
    assert info.value.line_id == line_id


def test_request_names_known_lines() -> None:
    with pytest.raises(OrderLineNotFoundError) as info:
        requested(quantities={"Z": 1})
    assert info.value.id == "Z"


def test_already_requested_is_checked() -> None:
    with pytest.raises(InvalidReturnQuantityError, match="negative"):
        requested(already_requested={"A": Decimal(-5)})
    with pytest.raises(InvalidReturnQuantityError):
        requested(already_requested={"A": 0.5})
    with pytest.raises(ReturnFieldError):
        requested(already_requested=[("A", 1)])
    # Lines not asked for now do not matter.
    assert requested(already_requested={"B": 1, "Z": 7}).state is R.REQUESTED


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"reason": ""}, ReturnFieldError),
        ({"reason": "   "}, ReturnFieldError),
        ({"reason": "x" * 1001}, ReturnFieldError),
        ({"reason": "refund to 4111-1111-1111-1111"}, CardDataRefusedError),
        ({"return_id": ""}, ReturnFieldError),
        ({"now": "tomorrow"}, ReturnFieldError),
        ({"now": datetime(2026, 3, 3)}, NaiveDatetimeError),
    ],
)
def test_request_refuses_bad_fields(changes: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        requested(**changes)


# --------------------------------------------------------------------------- decisions


def test_authorize_reject_cancel() -> None:
    rma, events = authorize(requested(), at(2))
    assert (rma.state, rma.authorized_at) == (R.AUTHORIZED, at(2))
    assert events == (
        ReturnAuthorized(
            aggregate_id="R1", occurred_at=at(2), order_id="O1", lines=items(A=3, B=1)
        ),
    )
    no, events = reject(requested(), "outside the return window", at(2))
    assert (no.state, no.rejection_reason, no.closed_at) == (
        R.REJECTED,
        "outside the return window",
        at(2),
    )
    assert not no.is_open
    assert events == (
        ReturnRejected(
            aggregate_id="R1", occurred_at=at(2), order_id="O1", reason="outside the return window"
        ),
    )
    for rma_before in (requested(), authorized()):
        gone, events = cancel(rma_before, "customer keeps it", at(3))
        assert (gone.state, gone.cancellation_reason, gone.closed_at) == (
            R.CANCELLED,
            "customer keeps it",
            at(3),
        )
        assert events == (
            ReturnCancelled(
                aggregate_id="R1", occurred_at=at(3), order_id="O1", reason="customer keeps it"
            ),
        )


def test_decision_refusals() -> None:
    rma = authorized()
    with pytest.raises(InvalidTransitionError):
        authorize(rma, at(3))
    with pytest.raises(InvalidTransitionError):
        reject(rma, "too late", at(3))
    with pytest.raises(ReturnFieldError):
        reject(requested(), "", at(3))
    with pytest.raises(CardDataRefusedError):
        cancel(requested(), "card 4111111111111111", at(3))
    received, _ = receive(rma, {"A": 1}, at(4))
    with pytest.raises(InvalidTransitionError) as info:
        cancel(received, "changed mind", at(5))
    assert info.value.state == "received"


# --------------------------------------------------------------------------- receipt


def test_receive_in_two_parcels() -> None:
    rma, events = receive(authorized(), {"A": 2}, at(5))
    assert rma.state is R.RECEIVED
    assert rma.line("A").received == 2
    assert rma.line("A").restocked == 2
    assert rma.received_at == at(5)
    assert events == (
        ReturnReceived(
            aggregate_id="R1",
            occurred_at=at(5),
            order_id="O1",
            received=items(A=2),
            restocked=items(A=2),
            complete=False,
        ),
    )
    rma, events = receive(rma, {"A": 1, "B": 1}, at(6), restock={"B": False})
    assert rma.is_fully_received
    assert rma.line("B").restocked == 0
    assert events[0] == ReturnReceived(
        aggregate_id="R1",
        occurred_at=at(6),
        order_id="O1",
        received=items(A=1, B=1),
        restocked=items(A=1),
        complete=True,
    )
    assert received_quantities(rma) == {"A": Decimal(3), "B": Decimal(1)}


def test_receive_everything_for_scrap() -> None:
    rma, events = receive(authorized(), {"A": "1.5"}, at(5), restock=False)
    assert rma.line("A").received == Decimal("1.5")
    assert rma.line("A").restocked == 0
    assert isinstance(events[0], ReturnReceived)
    assert events[0].restocked == ()


def test_receive_refusals() -> None:
    with pytest.raises(InvalidTransitionError) as info:
        receive(requested(), {"A": 1}, at(5))
    assert info.value.allowed == ("authorize", "reject", "cancel")
    rma = authorized()
    with pytest.raises(ReturnLineNotFoundError) as missing:
        receive(rma, {"Z": 1}, at(5))
    assert (missing.value.id, missing.value.return_id, missing.value.kind) == (
        "Z",
        "R1",
        "return_line",
    )
    with pytest.raises(ReturnReceiptExceededError) as exceeded:
        receive(rma, {"A": 4}, at(5))
    assert (exceeded.value.line_id, exceeded.value.outstanding) == ("A", "3")
    partly, _ = receive(rma, {"A": 2}, at(5))
    with pytest.raises(ReturnReceiptExceededError) as exceeded:
        receive(partly, {"A": 2}, at(6))
    assert exceeded.value.outstanding == "1"
    with pytest.raises(InvalidReturnQuantityError):
        receive(rma, {"A": 0}, at(5))
    with pytest.raises(InvalidReturnQuantityError):
        receive(rma, {}, at(5))
    with pytest.raises(ReturnFieldError) as field:
        receive(rma, {"A": 1}, at(5), restock={"B": True})
    assert field.value.field == "restock"
    with pytest.raises(ReturnFieldError):
        receive(rma, {"A": 1}, at(5), restock={"A": "yes"})  # type: ignore[dict-item]
    with pytest.raises(ReturnFieldError):
        receive(rma, {"A": 1}, at(5), restock="yes")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- closing


def test_close_credits_what_was_received() -> None:
    rma, _ = receive(authorized(), {"A": 2}, at(5), restock=False)
    done, events = close(rma, credit_note_id="CN-7", refund_ids=["RF-1"], now=at(9))
    assert done.state is R.CLOSED
    assert (done.credit_note_id, done.refund_ids, done.closed_at) == ("CN-7", ("RF-1",), at(9))
    assert not done.is_open
    assert events == (
        ReturnClosed(
            aggregate_id="R1",
            occurred_at=at(9),
            order_id="O1",
            customer_id="C1",
            received=items(A=2),
            short=items(A=1, B=1),
            credit_note_id="CN-7",
            refund_ids=("RF-1",),
        ),
    )


def test_close_without_money() -> None:
    rma, _ = receive(authorized(), {"A": 3, "B": 1}, at(5))
    done, events = close(rma, credit_note_id=None, refund_ids=(), now=at(9))
    assert isinstance(events[0], ReturnClosed)
    assert events[0].short == ()
    assert done.credit_note_id is None


def test_close_refusals() -> None:
    with pytest.raises(InvalidTransitionError):
        close(authorized(), credit_note_id="CN-7", refund_ids=(), now=at(9))
    rma, _ = receive(authorized(), {"A": 1}, at(5))
    with pytest.raises(ReturnFieldError) as info:
        close(rma, credit_note_id="CN-7", refund_ids="RF-1", now=at(9))
    assert info.value.field == "refund_ids"
    with pytest.raises(ReturnFieldError):
        close(rma, credit_note_id="CN-7", refund_ids=["RF-1", "RF-1"], now=at(9))
    with pytest.raises(ReturnFieldError) as info:
        close(rma, credit_note_id=" ", refund_ids=(), now=at(9))
    assert info.value.field == "credit_note_id"
    done, _ = close(rma, credit_note_id=None, refund_ids=(), now=at(9))
    with pytest.raises(InvalidTransitionError):
        close(done, credit_note_id=None, refund_ids=(), now=at(10))


def test_closed_return_is_recorded_on_a_completed_order() -> None:
    order = order_with({"A": 5, "B": 2}, complete_it=True)
    rma = requested(order, quantities={"A": 2})
    rma, _ = authorize(rma, at(2))
    rma, _ = receive(rma, {"A": 2}, at(3))
    rma, events = close(rma, credit_note_id="CN-1", refund_ids=(), now=at(4))
    closed = events[0]
    assert isinstance(closed, ReturnClosed)
    order, _ = record_return(order, {i.line_id: i.quantity for i in closed.received}, at(4))
    assert order.line("A").returned == 2
    assert order.state is OrderState.COMPLETED
    # The next request sees the returned units gone.
    with pytest.raises(ReturnQuantityExceededError) as info:
        requested(order, return_id="R2", quantities={"A": 4})
    assert info.value.available == "3"


# --------------------------------------------------------------------------- queries


def test_open_quantities() -> None:
    open_one = requested()
    other, _ = request_return(
        return_id="R2",
        order=order_with({"A": 4, "B": 2}),
        quantities={"A": 1},
        reason="damaged",
        now=at(1),
    )
    other, _ = authorize(other, at(2))
    other, _ = receive(other, {"A": 1}, at(3))
    gone, _ = cancel(requested(return_id="R3"), "no", at(2))
    rejected, _ = reject(requested(return_id="R4"), "no", at(2))
    closed, _ = close(other, credit_note_id=None, refund_ids=(), now=at(4))
    rmas = [open_one, other, gone, rejected]
    assert open_quantities(rmas) == {"A": Decimal(4), "B": Decimal(1)}
    # When received units are already recorded as returned, they are not held again.
    assert open_quantities(rmas, received_recorded=True) == {"A": Decimal(3), "B": Decimal(1)}
    assert open_quantities([closed, gone, rejected]) == {}
    assert open_quantities([]) == {}
    with pytest.raises(ReturnFieldError):
        open_quantities([open_one, attrs.evolve(open_one, order_id="O2")])


def test_received_quantities_leave_out_lines_with_nothing() -> None:
    assert received_quantities(authorized()) == {}


def test_rebuilt_returns_are_checked() -> None:
    rma = requested()
    with pytest.raises(ReturnFieldError) as info:
        attrs.evolve(rma, lines=())
    assert info.value.field == "lines"
    with pytest.raises(ReturnFieldError):
        attrs.evolve(rma, lines=(ReturnLine("A", "SKU-A", 1),) * 2)
    with pytest.raises(ReturnFieldError):
        attrs.evolve(rma, lines=("A",))
    with pytest.raises(ReturnFieldError) as info:
        attrs.evolve(rma, lines=(ReturnLine("A", "SKU-A", 3, received=1),))
    assert info.value.reason == "state"
    with pytest.raises(ReturnFieldError) as info:
        attrs.evolve(rma, state="lost")
    assert info.value.field == "state"
    assert ReturnAuthorization(**attrs.asdict(rma, recurse=False)) == rma
    with pytest.raises(ReturnLineNotFoundError):
        rma.line("Z")
