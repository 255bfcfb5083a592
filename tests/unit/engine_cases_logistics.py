"""Engine cases of carriers and fulfilment providers (collected by engine_cases.py).

Labels are left waiting for pick-up (``hand_over_on_ship`` off) where the call needs a
shipment that has not left; the fulfilment provider is the world's ``"3pl"``.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
from tests.unit.engine_cases import ORDER, SHIPMENT, Case, Lazy, World, confirmed

from o2c.engine import EngineConfig
from o2c.engine.logistics import tracking_key
from o2c.errors import (
    FulfilmentReportError,
    NoCarrierQuotedError,
    NotFoundError,
    ShipmentFieldError,
    StockNotReservedError,
)
from o2c.ports import FulfilmentLine, FulfilmentReport

__all__ = ["CASES"]

FULFILMENT = "FO-000001"
WAITING = EngineConfig(hand_over_on_ship=False)


def labelled(w: World) -> None:
    """SO-1 is shipped as SH-000001, labelled by DHL and waiting for pick-up."""
    confirmed(w)
    w.engine.ship("setup-ship", ORDER)


def voided(w: World) -> None:
    """SH-000001's label was voided: it is pending again."""
    labelled(w)
    w.engine.void_label("setup-void", SHIPMENT)


def scanned(w: World) -> None:
    """SH-000001 left five days ago; DHL's webhook carries its scans (``made["scans"]``)."""
    confirmed(w)
    number = w.engine.ship("setup-ship", ORDER).tracking_number
    assert number is not None
    w.clock.advance(days=5)
    w.made["scans"] = tuple(w.carrier.webhook(number))


def sent(w: World) -> None:
    """SO-1 went to the 3PL (FO-000001); its report is due (``made["report"]``)."""
    confirmed(w)
    w.engine.send_to_fulfilment("setup-send", ORDER)
    w.clock.advance(hours=5)
    assert w.provider is not None
    (w.made["report"],) = w.provider.reports(FULFILMENT)


def _report(w: World) -> FulfilmentReport:
    report = w.made["report"]
    assert isinstance(report, FulfilmentReport)
    return report


def _too_many(w: World) -> FulfilmentReport:
    report = _report(w)
    parcel = report.parcels[0]
    line = FulfilmentLine(line_id="1", sku="MUG", quantity=parcel.lines[0].quantity + 1)
    return attrs.evolve(report, parcels=(attrs.evolve(parcel, lines=(line,)),))


def _tracking_key(args: Mapping[str, object]) -> str:
    events = args["events"]
    assert isinstance(events, tuple)
    return tracking_key(str(args["carrier"]), str(args["reference"]), events)


CASES: tuple[Case, ...] = (
    Case(
        "void_label",
        labelled,
        {"shipment_id": SHIPMENT},
        {"shipment_id": "SH-000002"},
        bad={"shipment_id": "SH-404"},
        config=WAITING,
    ),
    Case(
        "relabel",
        voided,
        {"shipment_id": SHIPMENT, "carrier": None, "service": None},
        {"shipment_id": "SH-000002", "carrier": "dhl", "service": "express"},
        bad={"service": "teleport"},
        bad_error=NoCarrierQuotedError,
        config=WAITING,
    ),
    Case(
        "hand_over_shipment",
        labelled,
        {"shipment_id": SHIPMENT},
        {"shipment_id": "SH-000002"},
        bad={"shipment_id": "SH-404"},
        config=WAITING,
    ),
    Case(
        "cancel_shipment",
        labelled,
        {"shipment_id": SHIPMENT, "reason": "wrong address"},
        {"shipment_id": "SH-000002", "reason": "customer called"},
        bad={"reason": " "},
        bad_error=ShipmentFieldError,
        config=WAITING,
    ),
    Case(
        "receive_tracking",
        scanned,
        {"carrier": "dhl", "reference": "DHL000001", "events": Lazy(lambda w: w.made["scans"])},
        bad={"reference": "NOPE000001"},
        key_of=_tracking_key,
        fixed=frozenset({"carrier", "reference", "events"}),
    ),
    Case(
        "send_to_fulfilment",
        confirmed,
        {"order_id": ORDER, "provider": None, "quantities": None},
        {"order_id": "SO-2", "provider": "3pl", "quantities": {"1": 1}},
        bad={"quantities": {"1": 5}},
        bad_error=StockNotReservedError,
    ),
    Case(
        "record_fulfilment_report",
        sent,
        {"provider": "3pl", "report": Lazy(_report)},
        {
            "provider": "other",
            "report": Lazy(lambda w: attrs.evolve(_report(w), report_id="R-other")),
        },
        bad={"report": Lazy(_too_many)},
        bad_error=FulfilmentReportError,
    ),
    Case(
        "poll_fulfilment",
        sent,
        {"fulfilment_id": FULFILMENT},
        {"fulfilment_id": "FO-000002"},
        bad={"fulfilment_id": "FO-404"},
        bad_error=NotFoundError,
    ),
)
