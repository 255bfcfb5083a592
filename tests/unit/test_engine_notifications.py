"""Notifications: queued by a command, sent only after it commits, in the reader's locale."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.factories import customer, mugs

from o2c.adapters.fake_carrier import FakeCarrier
from o2c.clock import FixedClock
from o2c.engine import O2C
from o2c.errors import NotFoundError
from o2c.ports import Notification


class Outbox:
    """A notifier that keeps what it is sent, and can be told to fail."""

    def __init__(self, *, fail: bool = False) -> None:
        self.sent: list[Notification] = []
        self.fail = fail

    def send(self, notification: Notification) -> None:
        if self.fail:
            raise RuntimeError("mail server down")
        self.sent.append(notification)


def engine(notifier: Outbox) -> tuple[O2C, FixedClock]:
    clock = FixedClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    o2c = O2C(clock=clock, carriers={"dhl": FakeCarrier(clock=clock)}, notifier=notifier)
    o2c.add_customer("c", customer(limit="100.00", locale="de_DE"))
    o2c.receive_stock("s", "MUG", 10)
    return o2c, clock


def test_a_credit_hold_tells_the_customer_why() -> None:
    outbox = Outbox()
    o2c, _ = engine(outbox)
    order = o2c.place_order("o", customer_id="ada", lines=mugs(9, "10.00"))  # 107.10 > 100.00
    assert order.state.value == "on_hold"
    [note] = outbox.sent
    assert (note.kind, note.customer_id, note.related_id) == ("order.held", "ada", order.id)
    assert note.locale == "de_DE"
    assert note.body == "\n".join(o2c.credit_decision(order.id).explain())


def test_invoice_and_delivery_notifications_follow_the_cycle() -> None:
    outbox = Outbox()
    o2c, clock = engine(outbox)
    order = o2c.place_order("o", customer_id="ada", lines=mugs(2, "10.00"))
    parcel = o2c.ship("s1", order.id)
    clock.advance(days=5)
    o2c.track_shipment("t", parcel.id)
    invoice = o2c.invoice_order("i", order.id)
    assert [n.kind for n in outbox.sent] == ["shipment.delivered", "invoice.issued"]
    issued = outbox.sent[-1]
    assert issued.related_id == invoice.id
    assert "23,80\xa0€" in issued.body  # 2 x 10.00 + 19 %, written for de_DE
    o2c.track_shipment("t2", parcel.id)  # nothing new: no second delivery notice
    assert [n.kind for n in outbox.sent].count("shipment.delivered") == 1


def test_a_failing_notifier_does_not_undo_the_call() -> None:
    o2c, _ = engine(Outbox(fail=True))
    order = o2c.place_order("o", customer_id="ada", lines=mugs(9, "10.00"))
    assert o2c.order(order.id).state.value == "on_hold"


def test_a_refused_call_sends_nothing() -> None:
    outbox = Outbox()
    o2c, _ = engine(outbox)
    with pytest.raises(NotFoundError):
        o2c.place_order("o", customer_id="nobody", lines=mugs(9, "10.00"))
    assert outbox.sent == []
