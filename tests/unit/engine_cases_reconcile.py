"""Engine cases of the payment reconciler (collected by tests/unit/engine_cases.py).

``reconcile_payments`` itself is a keyless batch: it runs ``reconcile_payment`` per
payment under a derived key, so the rows below cover its unit of work;
tests/unit/test_reconciler.py covers the runs (reruns, crashes, two workers).
"""

from __future__ import annotations

from tests.unit.engine_cases import CARD, ORDER, PAYMENT, Case, World, confirmed

from o2c.adapters.faulty_gateway import Fault
from o2c.engine import EngineConfig
from o2c.payments import DeclineReason, Failed, Succeeded

__all__ = ["CASES"]


def unknown_authorization(w: World) -> None:
    """The gateway took SO-1's authorization but the answer timed out (PAY-000001's
    T1 is unknown); five minutes have passed, so the reconciler may ask."""
    confirmed(w)
    w.gateway.inject("authorize", Fault.SUCCEED_THEN_TIMEOUT)
    w.engine.authorize_payment("setup-authorize", ORDER, token=CARD)
    w.clock.advance(minutes=5)


def flagged(w: World) -> None:
    """PAY-000001's authorization stayed unknown: the gateway's status answers nothing
    usable, and after two answers (see the case's config) the reconciler flagged it."""
    confirmed(w)
    w.gateway.inject("authorize", Fault.UNDEFINED)
    w.gateway.inject("status", Fault.UNDEFINED, times=None)
    w.engine.authorize_payment("setup-authorize", ORDER, token=CARD)
    w.clock.advance(minutes=5)
    report = w.engine.reconcile_payments()
    assert [item.payment_id for item in report.flagged] == [PAYMENT]


CASES: tuple[Case, ...] = (
    Case(
        "reconcile_payment",
        unknown_authorization,
        {"payment_id": PAYMENT},
        {"payment_id": "PAY-000002"},
        bad={"payment_id": "PAY-404"},
    ),
    Case(
        "resolve_payment_flag",
        flagged,
        {
            "payment_id": PAYMENT,
            "by": "ops",
            "note": "authorized in the gateway's dashboard",
            "outcome": Succeeded(),
        },
        {
            "payment_id": "PAY-000002",
            "by": "cfo",
            "note": "declined in the dashboard",
            "outcome": Failed(DeclineReason.CARD_DECLINED),
        },
        bad={"payment_id": "PAY-404"},
        config=EngineConfig(reconciliation_max_attempts=2),
    ),
)
