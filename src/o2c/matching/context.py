"""What one line brings to the matcher, and the candidates it collects (internal values).

A :class:`Line` is a statement line as cash application sees it (a batch entry gives
one per transaction). The other classes are the matcher's working state for one line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Final

from o2c.matching.amounts import Fit
from o2c.matching.model import Signal
from o2c.matching.references import Hit, Window
from o2c.money import Money

__all__ = ["Candidate", "Context", "Line", "Payer", "Scored", "by_length"]

# Candidate scopes: how unique the amount is where the candidate was found.
PAYER_UNIQUE: Final = "payer-unique"
PAYER_AMBIGUOUS: Final = "payer-ambiguous"
GLOBAL_UNIQUE: Final = "global-unique"
GLOBAL_AMBIGUOUS: Final = "global-ambiguous"


class Line:
    """A statement line as cash application sees it (a batch gives one per transaction)."""

    __slots__ = (
        "account",
        "amount",
        "booked",
        "booking_date",
        "line_id",
        "name",
        "reversal",
        "texts",
    )

    def __init__(
        self,
        *,
        line_id: str,
        booking_date: date,
        amount: Money,
        name: str = "",
        account: str = "",
        texts: Sequence[str] = (),
        reversal: bool = False,
        booked: bool = True,
    ) -> None:
        self.line_id = line_id
        self.booking_date = booking_date
        self.amount = amount
        self.name = name
        self.account = account
        self.texts = tuple(texts)
        self.reversal = reversal
        self.booked = booked


class Payer:
    __slots__ = ("detail", "source", "weight")

    def __init__(self, source: str, weight: float, detail: str) -> None:
        self.source = source
        self.weight = weight
        self.detail = detail


class Candidate:
    __slots__ = ("fit", "fuzzy", "ids", "scope", "sources")

    def __init__(self, ids: tuple[int, ...]) -> None:
        self.ids = ids
        self.sources: set[str] = set()
        self.scope = ""
        self.fuzzy: dict[int, str] = {}
        self.fit: Fit | None = None


Add = Callable[[Iterable[int], str, str], Candidate]


class Scored:
    __slots__ = ("candidate", "cautions", "confidence", "fit", "signals")

    def __init__(
        self,
        candidate: Candidate,
        result: Fit,
        confidence: float,
        signals: list[Signal],
        cautions: list[str],
    ) -> None:
        self.candidate = candidate
        self.fit = result
        self.confidence = confidence
        self.signals = signals
        self.cautions = cautions


class Context:
    """What one line brings: amount in units, hits, payers."""

    __slots__ = (
        "buckets",
        "closed",
        "currency",
        "exact",
        "exponent",
        "grams",
        "line",
        "other_currency",
        "payers",
        "strong_payers",
        "units",
        "windows",
    )

    def __init__(self, line: Line, units: int, exponent: int) -> None:
        self.line = line
        self.units = units
        self.exponent = exponent
        self.currency = line.amount.currency
        self.exact: dict[int, Hit] = {}
        self.other_currency: list[int] = []
        self.closed: list[int] = []
        self.windows: list[Window] = []
        self.payers: dict[str, Payer] = {}
        self.strong_payers: set[str] = set()
        self.grams: frozenset[str] | None = None
        self.buckets: dict[int, list[tuple[str, Window]]] | None = None


def by_length(windows: Sequence[Window]) -> dict[int, list[tuple[str, Window]]]:
    buckets: dict[int, list[tuple[str, Window]]] = {}
    for window in windows:
        raw, stripped = window[0], window[1]
        buckets.setdefault(len(raw), []).append((raw, window))
        if stripped != raw:
            buckets.setdefault(len(stripped), []).append((stripped, window))
    return buckets
