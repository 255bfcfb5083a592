"""Injectable time. The domain never reads the clock; the engine passes ``now`` in.

Use :class:`SystemClock` in production and :class:`FixedClock` (which only moves
when told) in tests and simulations. All instants are timezone-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from o2c.errors import DomainError, NaiveDatetimeError

__all__ = ["Clock", "FixedClock", "SystemClock", "require_aware"]


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the current instant."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        """The current instant in UTC."""
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until :meth:`advance` or :meth:`set` moves it.

    >>> c = FixedClock(datetime(2026, 1, 31, tzinfo=UTC)); c.advance(days=1); c.now().day
    1
    """

    def __init__(self, start: datetime) -> None:
        self._now = require_aware(start)

    def now(self) -> datetime:
        """The instant the clock is set to."""
        return self._now

    def advance(self, **delta: float) -> datetime:
        """Move forward by a ``timedelta(**delta)``; moving back is refused."""
        step = timedelta(**delta)
        if step < timedelta(0):
            raise DomainError("a clock never runs backwards", step=str(step))
        self._now += step
        return self._now

    def set(self, instant: datetime) -> None:
        """Jump to ``instant`` (not earlier than now)."""
        instant = require_aware(instant)
        if instant < self._now:
            raise DomainError("a clock never runs backwards", now=self._now, to=instant)
        self._now = instant


def require_aware(instant: datetime) -> datetime:
    """Return ``instant`` if it carries a timezone; naive datetimes are refused."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise NaiveDatetimeError(instant=instant)
    return instant
