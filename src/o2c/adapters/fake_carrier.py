"""A scripted parcel carrier for tests, demos and simulations.

:class:`FakeCarrier` implements :class:`o2c.ports.Carrier` in memory:

* :meth:`~FakeCarrier.rates` quotes each :class:`ServiceLevel` (``"standard"``,
  3 days, and ``"express"``, 1 day, by default) from its weight bands.
* :meth:`~FakeCarrier.buy_label` is idempotent per key and hands out deterministic
  tracking numbers (``"FAKE000001"``, ``"FAKE000002"`` ...).
* Every label gets a tracking script relative to its purchase time, chosen by a
  :class:`Scenario`; :meth:`~FakeCarrier.track` reveals the scans whose time has come
  on the injected clock. Move a :class:`~o2c.clock.FixedClock` to watch a parcel travel.

Scripts (``T`` is the service's transit days; every scan's ``status`` is a
:class:`~o2c.ports.TrackingStatus`):

========== ==============================================================================
normal     in_transit +2 h (picked up), out_for_delivery +T, delivered +T+4 h
delayed    as normal, two days later (+T+2 d, +T+2 d+4 h)
exception  in_transit, out_for_delivery +T, failed_attempt +T+4 h (recipient absent),
           in_transit +T+1 d (redelivery), delivered +T+1 d+4 h
lost       in_transit, exception +T (missed scan), lost +T+5 d
returned   in_transit, out_for_delivery +T, failed_attempt +T+4 h, returned +T+3 d
========== ==============================================================================

With ``noisy=True``, :meth:`~FakeCarrier.track` repeats some scans and shuffles them
(deterministically, from ``seed``), as real carrier APIs do; duplicates share their
``event_id``, so an engine can de-duplicate.

**Dialects.** With ``dialect`` (e.g. :data:`o2c.tracking.DHL_LIKE`) the carrier speaks
its own codes: :meth:`~FakeCarrier.webhook` gives the raw
:class:`~o2c.ports.CarrierScan` values a webhook would carry, :meth:`~FakeCarrier.normalise`
reads them back (the carrier is a :class:`~o2c.ports.TrackingDialect`), and
:meth:`~FakeCarrier.track` returns normalised scans whose ``raw_status`` is the code.
:meth:`~FakeCarrier.inject` adds a scan with any code (an unknown one reads as an
exception). :meth:`~FakeCarrier.set_outage` makes quoting fail, for rate shopping.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

import attrs

from o2c.clock import Clock, require_aware
from o2c.customers import Address
from o2c.errors import (
    CarrierConfigError,
    CarrierRateError,
    CarrierRequestError,
    CarrierUnavailableError,
    LabelAlreadyUsedError,
    LabelIdempotencyConflictError,
    LabelNotFoundError,
    TrackingNumberNotFoundError,
)
from o2c.money import Money, RoundingMode
from o2c.ports import CarrierScan, Label, Rate, ShipmentRequest, TrackingEvent, TrackingStatus
from o2c.tracking import STANDARD, StatusMap

__all__ = ["FakeCarrier", "Scenario", "ServiceLevel", "WeightBand", "default_services"]

_MAX_KEY_LENGTH = 255
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)


class Scenario(StrEnum):
    """What happens to a parcel after its label is bought."""

    NORMAL = "normal"
    DELAYED = "delayed"
    EXCEPTION = "exception"
    LOST = "lost"
    RETURNED = "returned"


def _config(field: str, reason: str) -> CarrierConfigError:
    return CarrierConfigError(field=field, reason=reason)


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


@attrs.frozen(kw_only=True)
class WeightBand:
    """The price of a parcel up to a weight.

    Args:
        max_grams: Heaviest parcel (inclusive) the band prices.
        price: Price per parcel.

    Raises:
        CarrierConfigError: a non-positive weight, or a price that is not Money >= 0.
    """

    max_grams: int
    price: Money

    def __attrs_post_init__(self) -> None:
        if not _positive_int(self.max_grams):
            raise _config("max_grams", "must be a positive int")
        if not isinstance(self.price, Money) or self.price.is_negative():
            raise _config("price", "must be Money, zero or more")


def _band_tuple(value: Iterable[WeightBand]) -> tuple[WeightBand, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class ServiceLevel:
    """A service the carrier sells.

    Args:
        code: Service code, e.g. ``"standard"``.
        transit_days: Promised days from hand-over to delivery (at least 1).
        bands: Weight bands by increasing ``max_grams``; a parcel heavier than the last
            band cannot use the service.

    Raises:
        CarrierConfigError: empty code, bad transit days, no bands or unsorted bands.
    """

    code: str
    transit_days: int
    bands: tuple[WeightBand, ...] = attrs.field(converter=_band_tuple)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code.strip():
            raise _config("code", "must be non-empty text")
        if not _positive_int(self.transit_days):
            raise _config("transit_days", "must be a positive int")
        if not self.bands or not all(isinstance(b, WeightBand) for b in self.bands):
            raise _config("bands", "must be one or more WeightBand")
        limits = [band.max_grams for band in self.bands]
        if limits != sorted(set(limits)):
            raise _config("bands", "max_grams must increase strictly")
        if len({band.price.currency for band in self.bands}) != 1:
            raise _config("bands", "all prices must share a currency")

    def price_for(self, parcel_grams: int) -> Money | None:
        """Price of one parcel of ``parcel_grams``, or None when it is too heavy."""
        for band in self.bands:
            if parcel_grams <= band.max_grams:
                return band.price
        return None


def default_services(currency: str = "EUR") -> tuple[ServiceLevel, ...]:
    """``standard`` (3 days) and ``express`` (1 day), priced in four bands up to 31.5 kg."""
    limits = (1_000, 5_000, 10_000, 31_500)

    def bands(prices: tuple[str, ...]) -> tuple[WeightBand, ...]:
        # Rounded so that currencies without cents get whole prices.
        return tuple(
            WeightBand(
                max_grams=grams, price=Money(Decimal(p), currency).round(RoundingMode.HALF_UP)
            )
            for grams, p in zip(limits, prices, strict=True)
        )

    return (
        ServiceLevel(
            code="standard", transit_days=3, bands=bands(("4.90", "6.90", "9.90", "15.90"))
        ),
        ServiceLevel(
            code="express", transit_days=1, bands=bands(("9.90", "14.90", "19.90", "29.90"))
        ),
    )


@attrs.frozen
class _Step:
    after: timedelta
    status: TrackingStatus
    description: str
    at_destination: bool = False
    code: str | None = None  # a raw code (injected scans); None: the dialect's word


_T = TrackingStatus
_PICKED_UP = _Step(2 * _HOUR, _T.IN_TRANSIT, "Shipment picked up")
_ABSENT = "Delivery attempted - recipient absent"
_DELIVERED = "Delivered - handed to recipient"
_OUT = "Out for delivery"


def _script(scenario: Scenario, transit_days: int) -> tuple[_Step, ...]:
    """The scans of a parcel, as offsets from the label's purchase."""
    t = transit_days * _DAY
    if scenario is Scenario.DELAYED:
        t += 2 * _DAY
    if scenario in (Scenario.NORMAL, Scenario.DELAYED):
        return (
            _PICKED_UP,
            _Step(t, _T.OUT_FOR_DELIVERY, _OUT, at_destination=True),
            _Step(t + 4 * _HOUR, _T.DELIVERED, _DELIVERED, at_destination=True),
        )
    if scenario is Scenario.EXCEPTION:
        return (
            _PICKED_UP,
            _Step(t, _T.OUT_FOR_DELIVERY, _OUT, at_destination=True),
            _Step(t + 4 * _HOUR, _T.FAILED_ATTEMPT, _ABSENT, at_destination=True),
            _Step(t + _DAY, _T.IN_TRANSIT, "Redelivery scheduled", at_destination=True),
            _Step(t + _DAY + 4 * _HOUR, _T.DELIVERED, _DELIVERED, at_destination=True),
        )
    if scenario is Scenario.LOST:
        return (
            _PICKED_UP,
            _Step(t, _T.EXCEPTION, "Shipment delayed - missed scan at sorting hub"),
            _Step(t + 5 * _DAY, _T.LOST, "Shipment could not be located - declared lost"),
        )
    return (
        _PICKED_UP,
        _Step(t, _T.OUT_FOR_DELIVERY, _OUT, at_destination=True),
        _Step(t + 4 * _HOUR, _T.FAILED_ATTEMPT, _ABSENT, at_destination=True),
        _Step(t + 3 * _DAY, _T.RETURNED, "Not collected - returning to sender"),
    )


@attrs.frozen(kw_only=True)
class _Parcel:
    label: Label
    request: ShipmentRequest
    rate: Rate
    key: str
    bought_at: datetime
    scenario: Scenario
    transit_days: int
    voided: bool = False
    extra: tuple[_Step, ...] = ()


def _to_scenario(value: object) -> Scenario:
    if isinstance(value, str) and value in Scenario.__members__.values():
        return Scenario(value)
    allowed = ", ".join(s.value for s in Scenario)
    raise _config("scenario", f"{value!r} is not one of {allowed}")


def _check_text(value: object, field: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= _MAX_KEY_LENGTH:
        raise CarrierRequestError(field=field, reason=f"must be 1..{_MAX_KEY_LENGTH} characters")
    if not all(" " <= ch <= "~" for ch in value) or value != value.strip():
        raise CarrierRequestError(field=field, reason="must be printable ASCII, no outer spaces")
    return value


def _check_request(request: object) -> ShipmentRequest:
    if not isinstance(request, ShipmentRequest):
        raise CarrierRequestError(field="request", reason="must be a ShipmentRequest")
    _check_text(request.shipment_id, "shipment_id")
    if not isinstance(request.ship_to, Address):
        raise CarrierRequestError(field="ship_to", reason="must be an Address")
    if not _positive_int(request.weight_grams):
        raise CarrierRequestError(field="weight_grams", reason="must be a positive int")
    if not _positive_int(request.parcels):
        raise CarrierRequestError(field="parcels", reason="must be a positive int")
    for field in ("declared_value", "cod_amount"):
        value = getattr(request, field)
        if value is not None and (not isinstance(value, Money) or value.is_negative()):
            raise CarrierRequestError(field=field, reason="must be Money, zero or more, or None")
    return request


def _digest(*parts: object) -> int:
    text = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big")


class FakeCarrier:
    """An in-memory carrier with scripted tracking.

    Args:
        clock: Decides which scans :meth:`track` has revealed.
        name: Carrier name (on rates and labels); tracking numbers start with its
            first four letters and digits, upper-cased.
        currency: Currency of every price.
        services: Services sold (default: :func:`default_services`).
        noisy: Repeat and shuffle scans in :meth:`track`.
        seed: Seed of the noise.
        dialect: The status codes it speaks (None: o2c's own words).

    Raises:
        CarrierConfigError: a bad name, clock or service list, or prices in another
            currency.
        UnknownCurrencyError: ``currency`` is not ISO 4217.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        name: str = "fake",
        currency: str = "EUR",
        services: tuple[ServiceLevel, ...] | None = None,
        noisy: bool = False,
        seed: int = 0,
        dialect: StatusMap | None = None,
    ) -> None:
        if not isinstance(clock, Clock):
            raise _config("clock", "must have a now() method")
        if not isinstance(name, str) or not any(ch.isalnum() for ch in name):
            raise _config("name", "must be text with a letter or digit")
        Money.zero(currency)  # refuses an unknown currency
        chosen = default_services(currency) if services is None else tuple(services)
        if not chosen or not all(isinstance(s, ServiceLevel) for s in chosen):
            raise _config("services", "must be one or more ServiceLevel")
        if len({s.code for s in chosen}) != len(chosen):
            raise _config("services", "service codes must be unique")
        if any(s.bands[0].price.currency != currency for s in chosen):
            raise _config("services", f"prices must be in {currency}")
        self.name = name
        self.currency = currency
        self.noisy = noisy
        self.seed = seed
        self.dialect = dialect if dialect is not None else STANDARD
        self.outage = False
        self.labels_voided = 0
        self._clock = clock
        self._services = {s.code: s for s in chosen}
        self._prefix = "".join(ch for ch in name if ch.isalnum()).upper()[:4]
        self._by_key: dict[str, _Parcel] = {}
        self._by_tracking: dict[str, _Parcel] = {}
        self._by_label: dict[str, str] = {}
        self._planned: dict[str, Scenario] = {}
        self._next_scenarios: list[Scenario] = []

    # -- inspection -----------------------------------------------------------------

    @property
    def services(self) -> tuple[ServiceLevel, ...]:
        """The services sold, in quoting order."""
        return tuple(self._services.values())

    @property
    def labels_bought(self) -> int:
        """Labels bought so far (replays under a known key do not count)."""
        return len(self._by_key)

    @property
    def next_tracking_number(self) -> str:
        """The tracking number the next new label will get (for :meth:`plan`)."""
        return self._tracking_number(len(self._by_key) + 1)

    def is_void(self, label_id: str) -> bool:
        """True once the label was voided.

        Raises:
            LabelNotFoundError: no such label.
        """
        return self._parcel_of_label(label_id).voided

    def script(self, tracking_number: str) -> list[TrackingEvent]:
        """Every scan planned for the parcel, revealed or not, in time order (no noise).

        Raises:
            TrackingNumberNotFoundError: no such tracking number.
        """
        return self._events(self._parcel(tracking_number))

    # -- scenarios ------------------------------------------------------------------

    def plan_next(self, scenario: Scenario | str) -> None:
        """Give the next new label ``scenario``; calls queue up, one label each.

        Raises:
            CarrierConfigError: not a :class:`Scenario`.
        """
        self._next_scenarios.append(_to_scenario(scenario))

    def plan(self, tracking_number: str, scenario: Scenario | str) -> None:
        """Give the parcel with ``tracking_number`` a scenario, before or after buying.

        Replanning a bought label rebuilds its script from the purchase time; it is
        refused when scans already revealed would change.

        Raises:
            CarrierConfigError: not a :class:`Scenario`, or revealed scans would change.
            CarrierRequestError: a malformed tracking number.
        """
        chosen = _to_scenario(scenario)
        number = _check_text(tracking_number, "tracking_number")
        parcel = self._by_tracking.get(number)
        if parcel is None:
            self._planned[number] = chosen
            return
        replanned = attrs.evolve(parcel, scenario=chosen)
        if self._visible(replanned) != self._visible(parcel):
            raise _config("scenario", "scans already revealed would change")
        self._by_tracking[number] = replanned
        self._by_key[parcel.key] = replanned

    # -- the port -------------------------------------------------------------------

    def rates(self, request: ShipmentRequest) -> list[Rate]:
        """A rate per service that takes the parcel (empty when it is too heavy).

        Parcels are priced at the total weight split evenly (rounded up to the gram).

        Raises:
            CarrierRequestError: the request is malformed.
            CarrierUnavailableError: the carrier is in an outage (:meth:`set_outage`).
        """
        if self.outage:
            raise CarrierUnavailableError(carrier=self.name, retryable=True)
        request = _check_request(request)
        parcel_grams = -(-request.weight_grams // request.parcels)
        quotes: list[Rate] = []
        for service in self._services.values():
            price = service.price_for(parcel_grams)
            if price is not None:
                quotes.append(
                    Rate(
                        carrier=self.name,
                        service=service.code,
                        amount=price * request.parcels,
                        transit_days=service.transit_days,
                    )
                )
        return quotes

    def buy_label(self, request: ShipmentRequest, rate: Rate, idempotency_key: str) -> Label:
        """Buy a label; the same key with the same request and rate returns the same label.

        Raises:
            CarrierRequestError: a malformed request or key.
            LabelIdempotencyConflictError: the key was used for another request or rate.
            CarrierRateError: the rate is not this carrier's current quote for the request.
        """
        key = _check_text(idempotency_key, "idempotency_key")
        request = _check_request(request)
        if not isinstance(rate, Rate):
            raise CarrierRateError(service="", reason="not a Rate")
        known = self._by_key.get(key)
        if known is not None:
            if known.request != request:
                raise LabelIdempotencyConflictError(key=key, field="request")
            if known.rate != rate:
                raise LabelIdempotencyConflictError(key=key, field="rate")
            return known.label
        if rate not in self.rates(request):
            raise CarrierRateError(
                service=str(rate.service), reason=self._why_not_quoted(request, rate)
            )
        now = require_aware(self._clock.now())
        number = self._tracking_number(len(self._by_key) + 1)
        scenario = self._planned.pop(number, None)
        if scenario is None:
            scenario = self._next_scenarios.pop(0) if self._next_scenarios else Scenario.NORMAL
        label = Label(
            label_id=f"{self.name}_lbl_{len(self._by_key) + 1:06d}",
            carrier=self.name,
            service=rate.service,
            tracking_number=number,
            cost=rate.amount,
            document=self._document(number, request, rate),
        )
        parcel = _Parcel(
            label=label,
            request=request,
            rate=rate,
            key=key,
            bought_at=now,
            scenario=scenario,
            transit_days=rate.transit_days,
        )
        self._by_key[key] = parcel
        self._by_tracking[number] = parcel
        self._by_label[label.label_id] = number
        return label

    def void_label(self, label_id: str) -> None:
        """Cancel a label the carrier has not scanned yet; voiding twice is a no-op.

        Raises:
            LabelNotFoundError: no such label.
            LabelAlreadyUsedError: the parcel was already handed over.
        """
        parcel = self._parcel_of_label(label_id)
        if parcel.voided:
            return
        if self._visible(parcel):
            raise LabelAlreadyUsedError(
                label_id=label_id, tracking_number=parcel.label.tracking_number
            )
        voided = attrs.evolve(parcel, voided=True)
        self._by_tracking[parcel.label.tracking_number] = voided
        self._by_key[parcel.key] = voided
        self.labels_voided += 1

    def track(self, tracking_number: str) -> list[TrackingEvent]:
        """Scans whose time has come on the clock; none for a voided label.

        In time order, unless ``noisy``: then some scans repeat and the order is
        shuffled, the same way for the same revealed scans.

        Raises:
            CarrierRequestError: a malformed tracking number.
            TrackingNumberNotFoundError: no such tracking number.
        """
        parcel = self._parcel(tracking_number)
        visible = self._visible(parcel)
        if not self.noisy or not visible:
            return visible
        copies: list[tuple[int, TrackingEvent]] = []
        for position, event in enumerate(visible):
            # The first scan always repeats, so noise is never silently absent.
            repeats = 2 if position == 0 else 1 + _digest(self.seed, event.event_id) % 2
            copies.extend((n, event) for n in range(repeats))
        copies.sort(key=lambda pair: _digest(self.seed, pair[1].event_id, pair[0], len(visible)))
        return [event for _, event in copies]

    # -- dialect, webhooks, outages --------------------------------------------------

    def normalise(self, scan: CarrierScan) -> TrackingEvent:
        """A raw scan in o2c's vocabulary, read through :attr:`dialect`
        (:class:`~o2c.ports.TrackingDialect`)."""
        return self.dialect.normalise(scan)

    def webhook(self, tracking_number: str) -> list[CarrierScan]:
        """The raw scans revealed so far, as a webhook would push them (in the
        carrier's codes, time order, no noise; none for a voided label).

        Raises:
            TrackingNumberNotFoundError: no such tracking number.
        """
        parcel = self._parcel(tracking_number)
        if parcel.voided:
            return []
        now = require_aware(self._clock.now())
        scans = [scan for scan in self._raw(parcel) if scan.occurred_at <= now]
        return sorted(scans, key=lambda s: (s.occurred_at, s.event_id))

    def inject(
        self, tracking_number: str, code: str, *, after: timedelta, description: str = ""
    ) -> None:
        """Add a scan with the raw ``code`` to a parcel's script, ``after`` its purchase.

        Raises:
            TrackingNumberNotFoundError: no such tracking number.
            CarrierConfigError: an empty code, or a negative offset.
        """
        parcel = self._parcel(tracking_number)
        if not isinstance(code, str) or not code.strip():
            raise _config("code", "must be non-empty text")
        if not isinstance(after, timedelta) or after < timedelta(0):
            raise _config("after", "must be a timedelta, zero or more")
        step = _Step(after, TrackingStatus.EXCEPTION, description, code=code)
        updated = attrs.evolve(parcel, extra=(*parcel.extra, step))
        self._by_tracking[tracking_number] = updated
        self._by_key[parcel.key] = updated

    def set_outage(self, on: bool = True) -> None:
        """Make :meth:`rates` fail (as a carrier API that is down), or recover."""
        self.outage = on

    # -- internals ------------------------------------------------------------------

    def _tracking_number(self, counter: int) -> str:
        return f"{self._prefix}{counter:06d}"

    def _parcel(self, tracking_number: str) -> _Parcel:
        number = _check_text(tracking_number, "tracking_number")
        parcel = self._by_tracking.get(number)
        if parcel is None:
            raise TrackingNumberNotFoundError(kind="tracking_number", id=number)
        return parcel

    def _parcel_of_label(self, label_id: str) -> _Parcel:
        number = self._by_label.get(label_id) if isinstance(label_id, str) else None
        if number is None:
            raise LabelNotFoundError(kind="label", id=str(label_id))
        return self._by_tracking[number]

    def _raw(self, parcel: _Parcel) -> list[CarrierScan]:
        number = parcel.label.tracking_number
        destination = f"{parcel.request.ship_to.city}, {parcel.request.ship_to.country}"
        steps = [
            (f"E{seq:02d}", s)
            for seq, s in enumerate(_script(parcel.scenario, parcel.transit_days), 1)
        ]
        steps += [(f"X{seq:02d}", s) for seq, s in enumerate(parcel.extra, 1)]
        return [
            CarrierScan(
                event_id=f"{number}-{suffix}",
                tracking_number=number,
                occurred_at=parcel.bought_at + step.after,
                code=step.code if step.code is not None else self.dialect.code_for(step.status),
                description=step.description,
                location=destination if step.at_destination else "Origin depot",
            )
            for suffix, step in steps
        ]

    def _events(self, parcel: _Parcel) -> list[TrackingEvent]:
        events = [self.normalise(scan) for scan in self._raw(parcel)]
        return sorted(events, key=lambda e: (e.occurred_at, e.event_id))

    def _visible(self, parcel: _Parcel) -> list[TrackingEvent]:
        if parcel.voided:
            return []
        now = require_aware(self._clock.now())
        return [event for event in self._events(parcel) if event.occurred_at <= now]

    def _why_not_quoted(self, request: ShipmentRequest, rate: Rate) -> str:
        if rate.carrier != self.name:
            return f"quoted by {rate.carrier!r}, not {self.name!r}"
        if rate.service not in self._services:
            return "unknown service"
        return "not the current quote for this request (price, transit days or weight)"

    def _document(self, number: str, request: ShipmentRequest, rate: Rate) -> bytes:
        to = request.ship_to
        lines = (
            f"{self.name.upper()} {rate.service.upper()}",
            f"Tracking: {number}",
            f"Shipment: {request.shipment_id}",
            f"To: {to.name}, {', '.join(to.lines)}, {to.postal_code} {to.city}, {to.country}",
            f"Weight: {request.weight_grams} g in {request.parcels} parcel(s)",
        )
        return "\n".join(lines).encode()
