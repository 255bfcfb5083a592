"""A scripted third-party logistics provider (3PL) for tests, demos and simulations.

:class:`FakeThreePL` implements :class:`o2c.ports.FulfilmentProvider` in memory.
:meth:`~FakeThreePL.submit` acknowledges a request (idempotent per key: a retry gets
the first acknowledgement and counts no new submission) and gives it a script chosen
by a :class:`Plan`; :meth:`~FakeThreePL.reports` reveals the reports whose time has
come on the injected clock. Each parcel goes with ``carrier`` and gets a tracking
number ``3PL0001-1``, ``3PL0001-2`` ...

========= ===========================================================================
on_time   one report, everything in one parcel, ``lead`` after the request (4 h)
late      the same, ``late_by`` after the request (3 days: past a 2-day SLA)
partial   the first half of every line (rounded down, at least one line) after
          ``lead``; the rest in a second report a day later
partial_never  the first report of ``partial`` only: the rest never ships
never     no report at all
========= ===========================================================================

Reports are cumulative: a later report lists every parcel so far, as many real 3PLs
do; o2c applies each parcel once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

import attrs

from o2c.clock import Clock, require_aware
from o2c.errors import FulfilmentRequestError, FulfilmentRequestNotFoundError
from o2c.ports import (
    FulfilmentAck,
    FulfilmentLine,
    FulfilmentReport,
    FulfilmentRequest,
    ReportedParcel,
)

__all__ = ["FakeThreePL", "Plan"]

_MAX_KEY = 255


class Plan(StrEnum):
    """How a request is fulfilled."""

    ON_TIME = "on_time"
    LATE = "late"
    PARTIAL = "partial"
    PARTIAL_NEVER = "partial_never"
    NEVER = "never"


def _plan(value: object) -> Plan:
    if isinstance(value, str) and value in Plan.__members__.values():
        return Plan(value)
    raise FulfilmentRequestError(
        field="plan", reason=f"{str(value)[:40]!r} is not one of {', '.join(Plan)}"
    )


@attrs.frozen(kw_only=True)
class _Job:
    request: FulfilmentRequest
    key: str
    ack: FulfilmentAck
    plan: Plan
    number: int


class FakeThreePL:
    """An in-memory 3PL that ships on time, late, partially or never, by plan.

    Args:
        clock: Decides which reports :meth:`reports` has revealed.
        name: The provider's name (its references start with it).
        carrier: The carrier its parcels go with (``None``: its own vans, untracked).
        lead: How long after a request the first parcel ships.
        late_by: How long a ``late`` request takes.

    Raises:
        FulfilmentRequestError: a bad name, clock or duration.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        name: str = "3pl",
        carrier: str | None = "fake-post",
        lead: timedelta = timedelta(hours=4),
        late_by: timedelta = timedelta(days=3),
    ) -> None:
        if not isinstance(clock, Clock):
            raise FulfilmentRequestError(field="clock", reason="must have a now() method")
        if not isinstance(name, str) or not name.isalnum():
            raise FulfilmentRequestError(field="name", reason="letters and digits only")
        for field, value in (("lead", lead), ("late_by", late_by)):
            if not isinstance(value, timedelta) or value <= timedelta(0):
                raise FulfilmentRequestError(field=field, reason="must be a positive timedelta")
        self.name = name
        self.carrier = carrier
        self._clock = clock
        self._lead = lead
        self._late_by = late_by
        self._by_key: dict[str, _Job] = {}
        self._by_request: dict[str, _Job] = {}
        self._next_plans: list[Plan] = []

    # -- inspection -----------------------------------------------------------------

    @property
    def submissions(self) -> int:
        """Requests accepted (a retry under a known key does not count)."""
        return len(self._by_key)

    def plan_next(self, plan: Plan | str) -> None:
        """Give the next new request ``plan``; calls queue up, one request each.

        Raises:
            FulfilmentRequestError: not a :class:`Plan`.
        """
        self._next_plans.append(_plan(plan))

    def script(self, request_id: str) -> list[FulfilmentReport]:
        """Every report planned for the request, revealed or not, in time order.

        Raises:
            FulfilmentRequestNotFoundError: no such request.
        """
        return self._reports(self._job(request_id))

    # -- the port -------------------------------------------------------------------

    def submit(self, request: FulfilmentRequest, idempotency_key: str) -> FulfilmentAck:
        """Accept a request; the same key returns the first acknowledgement.

        Raises:
            FulfilmentRequestError: a malformed request or key, a key reused for
                another request, or a request id submitted under another key.
        """
        if not isinstance(idempotency_key, str) or not 1 <= len(idempotency_key) <= _MAX_KEY:
            raise FulfilmentRequestError(field="idempotency_key", reason="1-255 characters")
        if not isinstance(request, FulfilmentRequest) or not request.lines:
            raise FulfilmentRequestError(field="request", reason="a FulfilmentRequest with lines")
        known = self._by_key.get(idempotency_key)
        if known is not None:
            if known.request != request:
                raise FulfilmentRequestError(
                    field="idempotency_key", reason="used for another request"
                )
            return known.ack
        if request.request_id in self._by_request:
            raise FulfilmentRequestError(field="request_id", reason="submitted under another key")
        now = require_aware(self._clock.now())
        number = len(self._by_key) + 1
        ack = FulfilmentAck(
            request_id=request.request_id,
            reference=f"{self.name.upper()}-{number:06d}",
            accepted_at=now,
        )
        plan = self._next_plans.pop(0) if self._next_plans else Plan.ON_TIME
        job = _Job(request=request, key=idempotency_key, ack=ack, plan=plan, number=number)
        self._by_key[idempotency_key] = job
        self._by_request[request.request_id] = job
        return ack

    def reports(self, request_id: str) -> list[FulfilmentReport]:
        """Reports whose time has come on the clock, oldest first.

        Raises:
            FulfilmentRequestNotFoundError: no such request.
        """
        now = require_aware(self._clock.now())
        return [r for r in self._reports(self._job(request_id)) if r.reported_at <= now]

    # -- internals ------------------------------------------------------------------

    def _job(self, request_id: str) -> _Job:
        job = self._by_request.get(request_id) if isinstance(request_id, str) else None
        if job is None:
            raise FulfilmentRequestNotFoundError(kind="fulfilment_request", id=str(request_id))
        return job

    def _parcel(
        self, job: _Job, n: int, at: datetime, lines: Sequence[FulfilmentLine]
    ) -> ReportedParcel:
        tracked = self.carrier is not None
        return ReportedParcel(
            parcel_id=f"P{job.number:04d}-{n}",
            shipped_at=at,
            lines=tuple(lines),
            carrier=self.carrier,
            tracking_number=f"3PL{job.number:04d}-{n}" if tracked else None,
            service="standard" if tracked else None,
        )

    def _report(
        self, job: _Job, n: int, at: datetime, parcels: list[ReportedParcel]
    ) -> FulfilmentReport:
        return FulfilmentReport(
            report_id=f"{job.ack.reference}-R{n}",
            request_id=job.request.request_id,
            reported_at=at,
            parcels=tuple(parcels),
        )

    def _reports(self, job: _Job) -> list[FulfilmentReport]:
        start = job.ack.accepted_at
        lines = job.request.lines
        if job.plan is Plan.NEVER:
            return []
        if job.plan in (Plan.ON_TIME, Plan.LATE):
            at = start + (self._lead if job.plan is Plan.ON_TIME else self._late_by)
            return [self._report(job, 1, at, [self._parcel(job, 1, at, lines)])]
        first, rest = _halves(lines)
        at = start + self._lead
        one = self._parcel(job, 1, at, first)
        out = [self._report(job, 1, at, [one])]
        if job.plan is Plan.PARTIAL and rest:
            later = at + timedelta(days=1)
            out.append(self._report(job, 2, later, [one, self._parcel(job, 2, later, rest)]))
        return out


def _halves(
    lines: Sequence[FulfilmentLine],
) -> tuple[list[FulfilmentLine], list[FulfilmentLine]]:
    """Half of every line (rounded down to a unit) now, the rest later; the first
    line ships at least one unit so the first parcel is never empty."""
    first: list[FulfilmentLine] = []
    rest: list[FulfilmentLine] = []
    for i, line in enumerate(lines):
        now = (line.quantity / 2).to_integral_value(rounding=ROUND_FLOOR)
        if i == 0 and now == 0:
            now = min(line.quantity, Decimal(1))
        if now > 0:
            first.append(attrs.evolve(line, quantity=now))
        if line.quantity - now > 0:
            rest.append(attrs.evolve(line, quantity=line.quantity - now))
    return first, rest
