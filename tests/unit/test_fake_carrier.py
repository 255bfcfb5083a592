"""FakeCarrier: rates, idempotent labels, scripted tracking, scenarios and noise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.adapters.fake_carrier import (
    FakeCarrier,
    Scenario,
    ServiceLevel,
    WeightBand,
    default_services,
)
from o2c.clock import FixedClock
from o2c.customers import Address
from o2c.errors import (
    CarrierConfigError,
    CarrierRateError,
    CarrierRequestError,
    CarrierUnavailableError,
    ConflictError,
    IdempotencyConflictError,
    LabelAlreadyUsedError,
    LabelIdempotencyConflictError,
    LabelNotFoundError,
    NotFoundError,
    TrackingNumberNotFoundError,
    UnknownCurrencyError,
)
from o2c.lifecycles import SHIPMENT_WORKFLOW, ShipmentEvent, ShipmentState
from o2c.money import Money
from o2c.ports import Carrier, CarrierScan, Rate, ShipmentRequest, TrackingStatus
from o2c.tracking import DHL_LIKE, TARGETS, path

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SE = ShipmentEvent
T = TrackingStatus
ADDRESS = Address(
    name="Ada Lovelace", lines=("1 Main Street",), city="Berlin", postal_code="10115", country="DE"
)


def shipment(sid: str = "S1", grams: int = 800, parcels: int = 1, **kw: object) -> ShipmentRequest:
    return ShipmentRequest(
        shipment_id=sid,
        ship_to=ADDRESS,
        weight_grams=grams,
        parcels=parcels,
        **kw,  # type: ignore[arg-type]
    )


def eur(value: str) -> Money:
    return Money(value, "EUR")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def carrier(clock: FixedClock) -> FakeCarrier:
    return FakeCarrier(clock=clock)


def buy(carrier: FakeCarrier, sid: str = "S1", service: str = "standard", key: str = ""):
    req = shipment(sid)
    rate = next(r for r in carrier.rates(req) if r.service == service)
    return carrier.buy_label(req, rate, key or f"key-{sid}")


def statuses(events) -> list[TrackingStatus]:
    return [e.status for e in events]


def test_it_is_a_carrier(carrier: FakeCarrier):
    port: Carrier = carrier
    assert port.rates(shipment())


# --------------------------------------------------------------------------- rates


def test_default_rates_quote_standard_and_express_by_weight_band(carrier: FakeCarrier):
    assert carrier.rates(shipment(grams=800)) == [
        Rate(carrier="fake", service="standard", amount=eur("4.90"), transit_days=3),
        Rate(carrier="fake", service="express", amount=eur("9.90"), transit_days=1),
    ]
    assert [r.amount for r in carrier.rates(shipment(grams=1001))] == [eur("6.90"), eur("14.90")]
    assert [r.amount for r in carrier.rates(shipment(grams=31_500))] == [
        eur("15.90"),
        eur("29.90"),
    ]


def test_parcels_split_the_weight_and_are_priced_each(carrier: FakeCarrier):
    rates = carrier.rates(shipment(grams=9_000, parcels=3))
    assert [r.amount for r in rates] == [eur("20.70"), eur("44.70")]


def test_too_heavy_parcels_get_no_rate(carrier: FakeCarrier):
    assert carrier.rates(shipment(grams=31_501)) == []


def test_rates_use_the_carriers_currency(clock: FixedClock):
    carrier = FakeCarrier(clock=clock, name="acme", currency="JPY")
    rate = carrier.rates(shipment())[0]
    assert rate.amount == Money("5", "JPY")
    assert rate.carrier == "acme"


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ("not a request", "request"),
        (shipment(grams=0), "weight_grams"),
        (shipment(grams=-5), "weight_grams"),
        (shipment(grams=True), "weight_grams"),  # type: ignore[arg-type]
        (shipment(grams="800"), "weight_grams"),  # type: ignore[arg-type]
        (shipment(parcels=0), "parcels"),
        (shipment(sid=""), "shipment_id"),
        (shipment(sid=" S1"), "shipment_id"),
        (attrs.evolve(shipment(), ship_to="Berlin"), "ship_to"),
        (shipment(declared_value="10"), "declared_value"),
        (shipment(cod_amount=eur("-1")), "cod_amount"),
    ],
)
def test_garbled_requests_are_refused(carrier: FakeCarrier, bad: object, field: str):
    with pytest.raises(CarrierRequestError) as err:
        carrier.rates(bad)  # type: ignore[arg-type]
    assert err.value.field == field


# --------------------------------------------------------------------------- labels


def test_labels_get_deterministic_ids_and_tracking_numbers(carrier: FakeCarrier):
    assert carrier.next_tracking_number == "FAKE000001"
    first = buy(carrier, "S1")
    second = buy(carrier, "S2", "express")
    assert (first.label_id, first.tracking_number) == ("fake_lbl_000001", "FAKE000001")
    assert (second.label_id, second.tracking_number) == ("fake_lbl_000002", "FAKE000002")
    assert (first.service, first.cost, first.carrier) == ("standard", eur("4.90"), "fake")
    assert second.cost == eur("9.90")
    assert b"FAKE000001" in first.document
    assert carrier.labels_bought == 2


def test_buying_again_under_a_key_returns_the_same_label(carrier: FakeCarrier):
    first = buy(carrier, key="k1")
    again = buy(carrier, key="k1")
    assert again == first
    assert carrier.labels_bought == 1


def test_a_key_reused_with_another_request_or_rate_is_a_conflict(carrier: FakeCarrier):
    buy(carrier, "S1", key="k1")
    with pytest.raises(LabelIdempotencyConflictError) as err:
        buy(carrier, "S2", key="k1")
    assert (err.value.key, err.value.field) == ("k1", "request")
    assert isinstance(err.value, IdempotencyConflictError)
    assert isinstance(err.value, ConflictError)
    with pytest.raises(LabelIdempotencyConflictError) as err:
        buy(carrier, "S1", "express", key="k1")
    assert err.value.field == "rate"
    assert carrier.labels_bought == 1


def test_a_new_key_buys_a_new_label(carrier: FakeCarrier):
    assert buy(carrier, key="k1") != buy(carrier, key="k2")
    assert carrier.labels_bought == 2


@pytest.mark.parametrize(
    ("rate", "reason"),
    [
        (Rate(carrier="other", service="standard", amount=eur("4.90"), transit_days=3), "other"),
        (Rate(carrier="fake", service="overnight", amount=eur("4.90"), transit_days=3), "unknown"),
        (Rate(carrier="fake", service="standard", amount=eur("1.00"), transit_days=3), "current"),
        (Rate(carrier="fake", service="standard", amount=eur("4.90"), transit_days=1), "current"),
    ],
)
def test_foreign_unknown_or_stale_rates_are_refused(carrier: FakeCarrier, rate: Rate, reason):
    with pytest.raises(CarrierRateError) as err:
        carrier.buy_label(shipment(), rate, "k1")
    assert reason in err.value.reason
    assert carrier.labels_bought == 0


def test_a_rate_for_a_lighter_parcel_is_refused(carrier: FakeCarrier):
    light = carrier.rates(shipment(grams=500))[0]
    with pytest.raises(CarrierRateError):
        carrier.buy_label(shipment(grams=4_000), light, "k1")


@pytest.mark.parametrize("key", ["", " k", "k\n", "ключ", 5, "k" * 256])
def test_malformed_keys_are_refused(carrier: FakeCarrier, key: object):
    rate = carrier.rates(shipment())[0]
    with pytest.raises(CarrierRequestError) as err:
        carrier.buy_label(shipment(), rate, key)  # type: ignore[arg-type]
    assert err.value.field == "idempotency_key"


def test_buy_label_refuses_a_non_rate(carrier: FakeCarrier):
    with pytest.raises(CarrierRateError):
        carrier.buy_label(shipment(), "standard", "k1")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- tracking


def test_normal_parcel_travels_with_the_clock(carrier: FakeCarrier, clock: FixedClock):
    label = buy(carrier)
    number = label.tracking_number
    assert carrier.track(number) == []
    clock.advance(hours=2)
    [picked] = carrier.track(number)
    assert (picked.status, picked.description) == (T.IN_TRANSIT, "Shipment picked up")
    assert picked.occurred_at == T0 + timedelta(hours=2)
    assert picked.event_id == "FAKE000001-E01"
    clock.set(T0 + timedelta(days=3))
    assert statuses(carrier.track(number)) == [T.IN_TRANSIT, T.OUT_FOR_DELIVERY]
    clock.advance(hours=4)
    events = carrier.track(number)
    assert statuses(events) == [T.IN_TRANSIT, T.OUT_FOR_DELIVERY, T.DELIVERED]
    assert events[-1].location == "Berlin, DE"
    assert carrier.track(number) == events  # stable ids and order


def test_express_is_delivered_after_one_day(carrier: FakeCarrier):
    label = buy(carrier, service="express")
    deliver = carrier.script(label.tracking_number)[-1]
    assert deliver.status is T.DELIVERED
    assert deliver.occurred_at == T0 + timedelta(days=1, hours=4)


EXPECTED = {
    Scenario.NORMAL: ([T.IN_TRANSIT, T.OUT_FOR_DELIVERY, T.DELIVERED], ShipmentState.DELIVERED),
    Scenario.DELAYED: ([T.IN_TRANSIT, T.OUT_FOR_DELIVERY, T.DELIVERED], ShipmentState.DELIVERED),
    Scenario.EXCEPTION: (
        [T.IN_TRANSIT, T.OUT_FOR_DELIVERY, T.FAILED_ATTEMPT, T.IN_TRANSIT, T.DELIVERED],
        ShipmentState.DELIVERED,
    ),
    Scenario.LOST: ([T.IN_TRANSIT, T.EXCEPTION, T.LOST], ShipmentState.LOST),
    Scenario.RETURNED: (
        [T.IN_TRANSIT, T.OUT_FOR_DELIVERY, T.FAILED_ATTEMPT, T.RETURNED],
        ShipmentState.RETURNED_TO_SENDER,
    ),
}


@pytest.mark.parametrize("scenario", list(Scenario))
def test_every_scenario_follows_the_shipment_table(
    carrier: FakeCarrier, clock: FixedClock, scenario: Scenario
):
    carrier.plan_next(scenario)
    label = buy(carrier)
    clock.advance(days=30)
    events = carrier.track(label.tracking_number)
    expected_events, final = EXPECTED[scenario]
    assert statuses(events) == expected_events
    # Every scan is a step of the table (no scan is skipped), ending in the final state.
    state = SHIPMENT_WORKFLOW.apply(ShipmentState.PENDING, SE.BUY_LABEL)
    for event in events:
        target = TARGETS[event.status]
        assert target is not None
        assert len(path(state, target) or ()) == 1, (state, event.status)
        state = target
    assert state is final
    times = [e.occurred_at for e in events]
    assert times == sorted(times)
    assert len({e.event_id for e in events}) == len(events)
    assert all(e.description and e.location for e in events)


def test_delayed_delivery_comes_two_days_late(carrier: FakeCarrier):
    normal = carrier.script(buy(carrier, "S1").tracking_number)
    carrier.plan_next("delayed")
    delayed = carrier.script(buy(carrier, "S2").tracking_number)
    assert delayed[-1].occurred_at - normal[-1].occurred_at == timedelta(days=2)


def test_exception_scan_is_in_the_carriers_words(carrier: FakeCarrier):
    carrier.plan_next(Scenario.EXCEPTION)
    script = carrier.script(buy(carrier).tracking_number)
    assert script[2].description == "Delivery attempted - recipient absent"


def test_plan_next_queues_one_scenario_per_label(carrier: FakeCarrier):
    carrier.plan_next(Scenario.LOST)
    carrier.plan_next(Scenario.RETURNED)
    got = [carrier.script(buy(carrier, f"S{i}").tracking_number)[-1].status for i in range(3)]
    assert got == [T.LOST, T.RETURNED, T.DELIVERED]


def test_plan_by_tracking_number_before_buying_wins_over_the_queue(carrier: FakeCarrier):
    carrier.plan_next(Scenario.RETURNED)
    carrier.plan("FAKE000001", Scenario.LOST)
    first = carrier.script(buy(carrier, "S1").tracking_number)
    second = carrier.script(buy(carrier, "S2").tracking_number)
    assert first[-1].status is T.LOST
    assert second[-1].status is T.RETURNED


def test_replanning_a_bought_label_is_allowed_until_scans_would_change(
    carrier: FakeCarrier, clock: FixedClock
):
    number = buy(carrier).tracking_number
    clock.advance(hours=3)  # hand-over revealed; every scenario shares it
    carrier.plan(number, Scenario.LOST)
    clock.advance(days=3)
    assert statuses(carrier.track(number)) == [T.IN_TRANSIT, T.EXCEPTION]
    with pytest.raises(CarrierConfigError) as err:
        carrier.plan(number, Scenario.NORMAL)
    assert err.value.field == "scenario"


@pytest.mark.parametrize("bad", ["vanished", "", 3, None])
def test_unknown_scenarios_are_refused(carrier: FakeCarrier, bad: object):
    with pytest.raises(CarrierConfigError):
        carrier.plan_next(bad)  # type: ignore[arg-type]
    with pytest.raises(CarrierConfigError):
        carrier.plan("FAKE000001", bad)  # type: ignore[arg-type]


def test_unknown_tracking_numbers_are_not_found(carrier: FakeCarrier):
    with pytest.raises(TrackingNumberNotFoundError) as err:
        carrier.track("FAKE999999")
    assert isinstance(err.value, NotFoundError)
    assert (err.value.kind, err.value.id) == ("tracking_number", "FAKE999999")
    with pytest.raises(CarrierRequestError):
        carrier.track("")


# --------------------------------------------------------------------------- noise


def test_noisy_tracking_repeats_and_shuffles_deterministically(clock: FixedClock):
    carrier = FakeCarrier(clock=clock, noisy=True, seed=7)
    carrier.plan_next(Scenario.EXCEPTION)
    number = buy(carrier).tracking_number
    clock.advance(days=30)
    noisy = carrier.track(number)
    clean = carrier.script(number)
    assert len(noisy) > len(clean)
    assert {e.event_id: e for e in noisy} == {e.event_id: e for e in clean}
    assert noisy == carrier.track(number)
    twin_clock = FixedClock(T0)
    twin = FakeCarrier(clock=twin_clock, noisy=True, seed=7)
    twin.plan_next(Scenario.EXCEPTION)
    twin_number = buy(twin).tracking_number
    twin_clock.advance(days=30)
    assert twin.track(twin_number) == noisy


def test_noise_can_put_scans_out_of_order():
    found_shuffled = False
    for seed in range(20):
        clock = FixedClock(T0)
        carrier = FakeCarrier(clock=clock, noisy=True, seed=seed)
        carrier.plan_next(Scenario.EXCEPTION)
        number = buy(carrier).tracking_number
        clock.advance(days=30)
        times = [e.occurred_at for e in carrier.track(number)]
        found_shuffled |= times != sorted(times)
    assert found_shuffled


def test_noisy_tracking_of_an_unscanned_parcel_is_empty(clock: FixedClock):
    carrier = FakeCarrier(clock=clock, noisy=True)
    assert carrier.track(buy(carrier).tracking_number) == []


@given(hours=st.integers(min_value=0, max_value=24 * 12), seed=st.integers(0, 1000))
def test_noisy_tracking_reveals_exactly_the_due_scans(hours: int, seed: int):
    clock = FixedClock(T0)
    carrier = FakeCarrier(clock=clock, noisy=True, seed=seed)
    carrier.plan_next(Scenario.RETURNED)
    number = buy(carrier).tracking_number
    clock.advance(hours=hours)
    seen = carrier.track(number)
    due = [e for e in carrier.script(number) if e.occurred_at <= clock.now()]
    assert {e.event_id for e in seen} == {e.event_id for e in due}
    assert all(e.occurred_at <= clock.now() for e in seen)


# --------------------------------------------------------------------------- void


def test_void_marks_an_unused_label_and_it_never_moves(carrier: FakeCarrier, clock: FixedClock):
    label = buy(carrier)
    carrier.void_label(label.label_id)
    carrier.void_label(label.label_id)  # voiding twice is a no-op
    assert carrier.is_void(label.label_id)
    clock.advance(days=10)
    assert carrier.track(label.tracking_number) == []


def test_a_scanned_label_cannot_be_voided(carrier: FakeCarrier, clock: FixedClock):
    label = buy(carrier)
    clock.advance(hours=2)
    with pytest.raises(LabelAlreadyUsedError) as err:
        carrier.void_label(label.label_id)
    assert err.value.tracking_number == label.tracking_number
    assert not carrier.is_void(label.label_id)


@pytest.mark.parametrize("label_id", ["fake_lbl_999999", "", None])
def test_voiding_an_unknown_label_is_not_found(carrier: FakeCarrier, label_id: object):
    with pytest.raises(LabelNotFoundError) as err:
        carrier.void_label(label_id)  # type: ignore[arg-type]
    assert err.value.kind == "label"
    with pytest.raises(LabelNotFoundError):
        carrier.is_void(label_id)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- configuration


def test_custom_services_and_name(clock: FixedClock):
    cargo = ServiceLevel(
        code="cargo",
        transit_days=5,
        bands=[WeightBand(max_grams=100_000, price=eur("49.00"))],
    )
    carrier = FakeCarrier(clock=clock, name="Acme Freight", services=(cargo,))
    [rate] = carrier.rates(shipment(grams=50_000))
    assert (rate.service, rate.amount, rate.transit_days) == ("cargo", eur("49.00"), 5)
    label = carrier.buy_label(shipment(grams=50_000), rate, "k1")
    assert label.tracking_number == "ACME000001"
    assert carrier.services == (cargo,)


def test_default_services_are_standard_and_express():
    assert [s.code for s in default_services()] == ["standard", "express"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"clock": "now"},
        {"name": "--"},
        {"name": 3},
        {"services": ()},
        {"services": ("standard",)},
        {"services": default_services() + default_services()},
        {"services": default_services("USD")},
    ],
)
def test_bad_configuration_is_refused(clock: FixedClock, kwargs: dict[str, object]):
    with pytest.raises(CarrierConfigError):
        FakeCarrier(**{"clock": clock, **kwargs})  # type: ignore[arg-type]


def test_unknown_currency_is_refused(clock: FixedClock):
    with pytest.raises(UnknownCurrencyError):
        FakeCarrier(clock=clock, currency="XYZ")


@pytest.mark.parametrize(
    "make",
    [
        lambda: WeightBand(max_grams=0, price=eur("1")),
        lambda: WeightBand(max_grams=10, price=eur("-1")),
        lambda: WeightBand(max_grams=10, price="1"),
        lambda: ServiceLevel(
            code="", transit_days=1, bands=[WeightBand(max_grams=1, price=eur("1"))]
        ),
        lambda: ServiceLevel(
            code="x", transit_days=0, bands=[WeightBand(max_grams=1, price=eur("1"))]
        ),
        lambda: ServiceLevel(code="x", transit_days=1, bands=[]),
        lambda: ServiceLevel(
            code="x",
            transit_days=1,
            bands=[
                WeightBand(max_grams=9, price=eur("1")),
                WeightBand(max_grams=5, price=eur("2")),
            ],
        ),
        lambda: ServiceLevel(
            code="x",
            transit_days=1,
            bands=[
                WeightBand(max_grams=1, price=eur("1")),
                WeightBand(max_grams=5, price=Money("2", "USD")),
            ],
        ),
    ],
)
def test_bad_services_are_refused(make):
    with pytest.raises(CarrierConfigError):
        make()


# --------------------------------------------------------------------------- dialects, outages


def test_a_dialect_speaks_its_own_codes_and_reads_them_back(clock: FixedClock):
    carrier = FakeCarrier(clock=clock, name="dhl", dialect=DHL_LIKE)
    label = buy(carrier)
    clock.advance(days=5)
    raw = carrier.webhook(label.tracking_number)
    assert [scan.code for scan in raw] == ["PU", "WC", "OK"]
    normalised = [carrier.normalise(scan) for scan in raw]
    assert statuses(normalised) == [T.IN_TRANSIT, T.OUT_FOR_DELIVERY, T.DELIVERED]
    assert normalised == carrier.track(label.tracking_number)
    assert [e.raw_status for e in normalised] == ["PU", "WC", "OK"]


def test_without_a_dialect_the_carrier_speaks_o2c_words(carrier: FakeCarrier, clock: FixedClock):
    label = buy(carrier)
    clock.advance(days=5)
    assert [s.code for s in carrier.webhook(label.tracking_number)] == [
        "IN_TRANSIT",
        "OUT_FOR_DELIVERY",
        "DELIVERED",
    ]


def test_an_injected_unknown_code_reads_as_an_exception_with_its_words(clock: FixedClock):
    carrier = FakeCarrier(clock=clock, dialect=DHL_LIKE)
    label = buy(carrier)
    carrier.inject(label.tracking_number, "ZZ-9", after=timedelta(hours=5), description="gremlins")
    clock.advance(hours=6)
    scans = carrier.track(label.tracking_number)
    odd = scans[-1]
    assert (odd.status, odd.raw_status) == (T.EXCEPTION, "ZZ-9")
    assert odd.description == "unknown dhl-like status 'ZZ-9': gremlins"
    with pytest.raises(CarrierConfigError):
        carrier.inject(label.tracking_number, " ", after=timedelta(0))
    with pytest.raises(CarrierConfigError):
        carrier.inject(label.tracking_number, "X", after=timedelta(hours=-1))


def test_a_voided_label_sends_no_webhook_and_counts_as_voided(
    carrier: FakeCarrier, clock: FixedClock
):
    label = buy(carrier)
    carrier.void_label(label.label_id)
    carrier.void_label(label.label_id)  # twice is a no-op
    clock.advance(days=5)
    assert carrier.webhook(label.tracking_number) == []
    assert (carrier.labels_bought, carrier.labels_voided) == (1, 1)


def test_an_outage_fails_quotes_until_it_ends(carrier: FakeCarrier):
    carrier.set_outage()
    with pytest.raises(CarrierUnavailableError) as info:
        carrier.rates(shipment())
    assert info.value.retryable
    carrier.set_outage(False)
    assert carrier.rates(shipment())


def test_the_same_key_never_buys_twice(carrier: FakeCarrier):
    first = buy(carrier, key="k-1")
    assert buy(carrier, key="k-1") == first
    assert carrier.labels_bought == 1


def test_webhook_scans_are_carrier_scans(carrier: FakeCarrier, clock: FixedClock):
    label = buy(carrier)
    clock.advance(hours=3)
    (scan,) = carrier.webhook(label.tracking_number)
    assert isinstance(scan, CarrierScan)
    assert scan.event_id == f"{label.tracking_number}-E01"
