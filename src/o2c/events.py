"""Domain events: frozen, past-tense facts that a domain operation caused.

Domain operations return ``(new_state, events)``; nothing is drained from a mutable
list later. The engine writes the events to an outbox in the same unit of work and
delivers them after commit. Every event names its aggregate and when it happened.

Each domain module's events live in its own section below.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import attrs

__all__ = ["DomainEvent"]


@attrs.frozen(kw_only=True)
class DomainEvent:
    """Base of every event.

    Attributes:
        aggregate_id: Id of the aggregate that changed.
        occurred_at: When, timezone-aware (from the injected clock).
    """

    aggregate: ClassVar[str] = ""
    aggregate_id: str
    occurred_at: datetime

    @property
    def name(self) -> str:
        """The event's type name, e.g. ``"OrderPlaced"``."""
        return type(self).__name__


# --------------------------------------------------------------------------- orders & customers

# --------------------------------------------------------------------------- credit

# --------------------------------------------------------------------------- terms & invoices

# --------------------------------------------------------------------------- payments & cash

# --------------------------------------------------------------------------- disputes
