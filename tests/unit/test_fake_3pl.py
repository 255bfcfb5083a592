"""The fake 3PL (plans on the clock, idempotent submission) and the fulfilment-order
domain (reports applied once, refused whole when wrong)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest

from o2c.adapters.fake_3pl import FakeThreePL, Plan
from o2c.clock import FixedClock
from o2c.customers import Address
from o2c.errors import (
    FulfilmentReportError,
    FulfilmentRequestError,
    FulfilmentRequestNotFoundError,
)
from o2c.events import FulfilmentReported, FulfilmentRequested
from o2c.ports import (
    FulfilmentLine,
    FulfilmentProvider,
    FulfilmentReport,
    FulfilmentRequest,
    ReportedParcel,
)
from o2c.threepl import (
    FulfilmentOrder,
    FulfilmentStatus,
    apply_report,
    open_fulfilment,
    parcel_shipment_id,
)

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
HOME = Address(name="Ada", lines=("1 Main St",), city="Berlin", country="DE")


def request(rid: str = "FO-1", *quantities: int) -> FulfilmentRequest:
    qty = quantities or (4, 3)
    return FulfilmentRequest(
        request_id=rid,
        order_id="SO-1",
        ship_to=HOME,
        lines=tuple(
            FulfilmentLine(line_id=str(n), sku=f"SKU-{n}", quantity=Decimal(q))
            for n, q in enumerate(qty, start=1)
        ),
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def tpl(clock: FixedClock) -> FakeThreePL:
    return FakeThreePL(clock=clock)


def test_it_is_a_fulfilment_provider(tpl: FakeThreePL) -> None:
    port: FulfilmentProvider = tpl
    assert port.submit(request(), "k").reference == "3PL-000001"


def test_submit_is_idempotent_per_key(tpl: FakeThreePL) -> None:
    ack = tpl.submit(request(), "k1")
    assert tpl.submit(request(), "k1") == ack
    assert tpl.submissions == 1
    with pytest.raises(FulfilmentRequestError, match="another request"):
        tpl.submit(request("FO-2"), "k1")
    with pytest.raises(FulfilmentRequestError, match="another key"):
        tpl.submit(request(), "k2")
    with pytest.raises(FulfilmentRequestError):
        tpl.submit(request(), "")
    with pytest.raises(FulfilmentRequestError):
        tpl.submit("nope", "k3")  # type: ignore[arg-type]


def test_on_time_ships_everything_after_the_lead(tpl: FakeThreePL, clock: FixedClock) -> None:
    tpl.submit(request(), "k")
    assert tpl.reports("FO-1") == []
    clock.advance(hours=4)
    (report,) = tpl.reports("FO-1")
    (parcel,) = report.parcels
    assert [(ln.line_id, ln.quantity) for ln in parcel.lines] == [("1", 4), ("2", 3)]
    assert (parcel.carrier, parcel.tracking_number) == ("fake-post", "3PL0001-1")


def test_late_partial_and_never(tpl: FakeThreePL, clock: FixedClock) -> None:
    for plan in (Plan.LATE, Plan.PARTIAL, Plan.PARTIAL_NEVER, Plan.NEVER):
        tpl.plan_next(plan)
    for n in range(1, 5):
        tpl.submit(request(f"FO-{n}"), f"k{n}")
    clock.advance(days=10)
    late = tpl.reports("FO-1")
    assert late[0].reported_at == T0 + timedelta(days=3)
    first, second = tpl.reports("FO-2")
    assert [(ln.line_id, ln.quantity) for ln in first.parcels[0].lines] == [("1", 2), ("2", 1)]
    assert len(second.parcels) == 2  # cumulative: the first parcel again, and the rest
    assert [(ln.line_id, ln.quantity) for ln in second.parcels[1].lines] == [("1", 2), ("2", 2)]
    assert len(tpl.reports("FO-3")) == 1
    assert tpl.reports("FO-4") == []


def test_a_one_unit_line_still_ships_something_first(tpl: FakeThreePL, clock: FixedClock) -> None:
    tpl.plan_next(Plan.PARTIAL)
    tpl.submit(request("FO-1", 1), "k")
    clock.advance(days=2)
    (first,) = tpl.reports("FO-1")  # nothing was left for a second report
    assert first.parcels[0].lines[0].quantity == 1


def test_untracked_provider_ships_without_tracking(clock: FixedClock) -> None:
    tpl = FakeThreePL(clock=clock, carrier=None)
    tpl.submit(request(), "k")
    (report,) = tpl.script("FO-1")
    assert (report.parcels[0].carrier, report.parcels[0].tracking_number) == (None, None)


@pytest.mark.parametrize(
    "kwargs",
    [{"name": "3 pl"}, {"lead": timedelta(0)}, {"late_by": "soon"}, {"clock": object()}],
)
def test_bad_configuration_is_refused(clock: FixedClock, kwargs: dict[str, Any]) -> None:
    with pytest.raises(FulfilmentRequestError):
        FakeThreePL(**{"clock": clock, **kwargs})


def test_unknown_requests_and_plans(tpl: FakeThreePL) -> None:
    with pytest.raises(FulfilmentRequestNotFoundError):
        tpl.reports("FO-404")
    with pytest.raises(FulfilmentRequestError):
        tpl.plan_next("sometimes")


# --------------------------------------------------------------------------- the domain


def sent() -> FulfilmentOrder:
    fo, events = open_fulfilment(
        fulfilment_id="FO-1",
        order_id="SO-1",
        customer_id="ada",
        provider="3pl",
        reference="REF-1",
        lines=request().lines,
        now=T0,
        sla=timedelta(days=2),
    )
    assert isinstance(events[0], FulfilmentRequested)
    return fo


def parcel(pid: str, *lines: tuple[str, int], **kw: Any) -> ReportedParcel:
    return ReportedParcel(
        parcel_id=pid,
        shipped_at=T0,
        lines=tuple(
            FulfilmentLine(line_id=i, sku=f"SKU-{i}", quantity=Decimal(q)) for i, q in lines
        ),
        **kw,
    )


def report(rid: str, *parcels: ReportedParcel, request_id: str = "FO-1") -> FulfilmentReport:
    return FulfilmentReport(report_id=rid, request_id=request_id, reported_at=T0, parcels=parcels)


def test_reports_apply_once_and_parcels_once() -> None:
    fo = sent()
    assert (fo.status, fo.due_by) == (FulfilmentStatus.OPEN, T0 + timedelta(days=2))
    one = parcel("P1", ("1", 2))
    fo, new, events = apply_report(fo, report("R1", one), T0)
    assert new == (one,)
    assert fo.status is FulfilmentStatus.PARTIAL
    assert isinstance(events[0], FulfilmentReported)
    assert events[0].shipment_ids == (parcel_shipment_id("FO-1", "P1"),)
    assert apply_report(fo, report("R1", one), T0) == (fo, (), ())
    two = parcel("P2", ("1", 2), ("2", 3))
    fo, new, events = apply_report(fo, report("R2", one, two), T0)
    assert new == (two,)
    assert fo.status is FulfilmentStatus.SHIPPED
    assert fo.is_overdue(T0 + timedelta(days=9)) is False
    assert fo.shipment_ids == ("FO-1/P1", "FO-1/P2")


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (parcel("P1", ("9", 1)), "was not sent"),
        (parcel("P1", ("1", 5)), "more than"),
        (parcel("P1", ("1", 0)), "above zero"),
        (parcel("P1", ("1", 1), ("1", 1)), "twice"),
        (parcel("P/1", ("1", 1)), "'/'"),
        (parcel("P1"), "at least one line"),
        (parcel("P1", ("1", 1), tracking_number="T1"), "needs its carrier"),
        (
            attrs.evolve(
                parcel("P1", ("1", 1)),
                lines=(FulfilmentLine(line_id="1", sku="OTHER", quantity=Decimal(1)),),
            ),
            "is SKU-1",
        ),
    ],
)
def test_a_wrong_parcel_refuses_the_report(bad: ReportedParcel, reason: str) -> None:
    with pytest.raises(FulfilmentReportError, match=reason):
        apply_report(sent(), report("R1", bad), T0)


def test_a_report_on_another_request_or_not_a_report_is_refused() -> None:
    with pytest.raises(FulfilmentReportError, match="reports on"):
        apply_report(sent(), report("R1", request_id="FO-2"), T0)
    with pytest.raises(FulfilmentReportError):
        apply_report(sent(), "R1", T0)  # type: ignore[arg-type]
    with pytest.raises(FulfilmentReportError):
        apply_report(sent(), report("R1", "P1"), T0)  # type: ignore[arg-type]
    with pytest.raises(FulfilmentReportError, match="FulfilmentLine"):
        apply_report(sent(), report("R1", attrs.evolve(parcel("P1"), lines=("x",))), T0)


def test_opening_needs_distinct_lines() -> None:
    line = FulfilmentLine(line_id="1", sku="SKU-1", quantity=Decimal(1))
    with pytest.raises(FulfilmentRequestError):
        open_fulfilment(
            fulfilment_id="FO-1",
            order_id="SO-1",
            customer_id="ada",
            provider="3pl",
            reference="REF",
            lines=(line, line),
            now=T0,
            sla=timedelta(days=1),
        )
