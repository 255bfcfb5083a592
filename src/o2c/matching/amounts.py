"""How a payment's amount fits open items, in whole minor units (never floats).

A set of open items fits a line's amount in one of these ways, tried in this order:

* ``exact``: the amount is the sum of what is open.
* ``discount``: the sum less the early-payment discounts valid on the booking date
  (each ``round_half_up(open * percent / 100)``); payers round the discount their own
  way, so one minor unit per discounted item either side is accepted and the
  difference is part of the discount.
* ``fee``: short of the sum (or of the discounted sum: ``discount_fee``) by no more
  than the fee tolerance: ``min(absolute, percent of the sum)``. The difference is
  written off (a bank charge), not left open.
* ``over``: more than the sum: every item is paid and the rest stays unapplied.
* ``partial``: less than the sum beyond the tolerance: the cash goes to the items in
  due-date order (oldest first) and the rest stays open.

:func:`subset_sums` finds which of a customer's open items add up to an amount: a
depth-first search over at most ``max_items`` items (oldest due first), subsets of at
most ``max_size``, stopping after ``max_solutions`` answers or ``budget`` steps. It
says whether the search was complete, so "only one subset fits" is claimed only when
it is known.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Final

__all__ = [
    "Fit",
    "FitKind",
    "Part",
    "SubsetSearch",
    "discount_units",
    "fit",
    "subset_sums",
    "tolerance_units",
]

_HUNDRED: Final = Decimal(100)


class FitKind(StrEnum):
    """How an amount fits a set of open items."""

    EXACT = "exact"
    DISCOUNT = "discount"
    FEE = "fee"
    DISCOUNT_FEE = "discount_fee"
    OVER = "over"
    PARTIAL = "partial"

    @property
    def fits(self) -> bool:
        """True when the amount settles the items (nothing left open, nothing over)."""
        return self in _FITTING


_FITTING: Final = frozenset({FitKind.EXACT, FitKind.DISCOUNT, FitKind.FEE, FitKind.DISCOUNT_FEE})


def discount_units(open_units: int, percent: Decimal) -> int:
    """The early-payment discount on ``open_units``, rounded half up to a whole unit.

    >>> discount_units(10_050, Decimal(2))
    201
    """
    exact = Decimal(open_units) * percent / _HUNDRED
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def tolerance_units(total_units: int, absolute_units: int, percent: Decimal) -> int:
    """The largest shortfall written off as a fee: ``min(absolute, percent of total)``.

    >>> tolerance_units(100_000, 500, Decimal(2)), tolerance_units(10_000, 500, Decimal(2))
    (500, 200)
    """
    share = int(
        (Decimal(total_units) * percent / _HUNDRED).to_integral_value(rounding="ROUND_DOWN")
    )
    return max(0, min(absolute_units, share))


class Part:
    """One item's share of a fit (units): cash, discount, written off, deduction."""

    __slots__ = ("cash", "deduction", "discount", "item", "written_off")

    def __init__(
        self, item: int, cash: int, discount: int = 0, written_off: int = 0, deduction: int = 0
    ) -> None:
        self.item = item
        self.cash = cash
        self.discount = discount
        self.written_off = written_off
        self.deduction = deduction

    @property
    def settled(self) -> int:
        """What leaves the item's open amount (cash, discount and write-off)."""
        return self.cash + self.discount + self.written_off


class Fit:
    """How a line's amount is spread over a set of items.

    Attributes:
        kind: How it fits.
        parts: Per item, in due-date order (items the cash does not reach are left out).
        unapplied: Cash left over (``over`` only).
        short: What stays open (``partial`` only).
        expired_discount: Discount the payer seems to have taken after its last day.
        fits: The amount settles the items (``kind.fits``).
    """

    __slots__ = ("expired_discount", "fits", "kind", "parts", "short", "unapplied")

    def __init__(
        self,
        kind: FitKind,
        parts: list[Part],
        unapplied: int = 0,
        short: int = 0,
        expired_discount: int = 0,
    ) -> None:
        self.kind = kind
        self.fits = kind in _FITTING
        self.parts = parts
        self.unapplied = unapplied
        self.short = short
        self.expired_discount = expired_discount


def fit(
    amount: int,
    items: Sequence[int],
    *,
    opens: Sequence[int],
    discounts: Sequence[int],
    expired: Sequence[int],
    tolerance: int,
) -> Fit:
    """Spread ``amount`` over ``items`` (given in due-date order).

    Args:
        amount: The line's amount in minor units (positive).
        items: Item positions, oldest due first.
        opens: Open amount per item (same order).
        discounts: Discount valid on the booking date per item (0 when none).
        expired: Discount that was offered but expired by the booking date (0 when none).
        tolerance: Largest shortfall accepted as a fee.
    """
    total = sum(opens)
    if amount == total:
        return Fit(FitKind.EXACT, [Part(i, o) for i, o in zip(items, opens, strict=True)])
    discount = sum(discounts)
    discounted = [i for i, d in enumerate(discounts) if d]
    if discount and abs(amount - (total - discount)) <= len(discounted):
        return Fit(FitKind.DISCOUNT, _discounted(items, opens, discounts, total - amount))
    if 0 < total - amount <= tolerance:
        parts = [Part(i, o) for i, o in zip(items, opens, strict=True)]
        _write_off(parts, total - amount)
        return Fit(FitKind.FEE, parts)
    if discount and 0 < total - discount - amount <= tolerance:
        parts = _discounted(items, opens, discounts, discount)
        _write_off(parts, total - discount - amount)
        return Fit(FitKind.DISCOUNT_FEE, parts)
    if amount > total:
        return Fit(
            FitKind.OVER, [Part(i, o) for i, o in zip(items, opens, strict=True)], amount - total
        )
    parts = []
    left = amount
    for i, o in zip(items, opens, strict=True):
        if left <= 0:
            break
        cash = min(o, left)
        parts.append(Part(i, cash))
        left -= cash
    lapsed = sum(expired)
    taken = lapsed if lapsed and abs(total - lapsed - amount) <= len(items) else 0
    return Fit(FitKind.PARTIAL, parts, short=total - amount, expired_discount=taken)


def _discounted(
    items: Sequence[int], opens: Sequence[int], discounts: Sequence[int], granted: int
) -> list[Part]:
    parts = [Part(i, o - d, discount=d) for i, o, d in zip(items, opens, discounts, strict=True)]
    # The payer's rounding differs by a unit or two: the last discounted item absorbs it.
    diff = granted - sum(discounts)
    if diff:
        last = max(k for k, d in enumerate(discounts) if d)
        parts[last].discount += diff
        parts[last].cash -= diff
    return parts


def _write_off(parts: list[Part], units: int) -> None:
    # The fee is written off on the last item (the youngest), never below zero cash.
    for part in reversed(parts):
        take = min(units, part.cash)
        part.cash -= take
        part.written_off += take
        units -= take
        if not units:
            return


class SubsetSearch:
    """The subsets found, and whether the search saw every candidate subset."""

    __slots__ = ("complete", "solutions")

    def __init__(self, solutions: list[tuple[int, ...]], complete: bool) -> None:
        self.solutions = solutions
        self.complete = complete

    @property
    def unique(self) -> bool:
        """Exactly one subset fits, and the search was complete."""
        return self.complete and len(self.solutions) == 1


def subset_sums(
    target: int,
    candidates: Sequence[tuple[int, int]],
    *,
    min_size: int = 2,
    max_size: int = 5,
    max_solutions: int = 2,
    budget: int = 20_000,
) -> SubsetSearch:
    """Subsets of ``candidates`` (``(item, value)``) whose values sum to ``target``.

    Solutions are item tuples in ascending item order, found largest values first
    (equal values in the order given).
    Values that are zero, negative or above the target never take part. The search
    stops after ``max_solutions`` solutions (then it is not complete) or after
    ``budget`` steps.

    >>> s = subset_sums(300, [(1, 100), (2, 200), (3, 250), (4, 50)])
    >>> s.solutions, s.complete
    ([(3, 4), (1, 2)], False)
    """
    # Largest values first; equal values keep the caller's order (e.g. oldest due first),
    # so with identical invoices the first solutions found are the earliest ones.
    pool = sorted(((v, i) for i, v in candidates if 0 < v <= target), key=lambda p: -p[0])
    values = [v for v, _ in pool]
    n = len(values)
    prefix = [0]
    for v in values:
        prefix.append(prefix[-1] + v)
    solutions: list[tuple[int, ...]] = []
    chosen: list[int] = []
    steps = 0
    cut = False

    def dfs(k: int, remaining: int) -> bool:
        """Search from position ``k``; True stops the whole search."""
        nonlocal steps, cut
        slots = max_size - len(chosen)
        for c in range(k, n):
            # The `slots` largest values left (sorted) cannot reach: nothing later can.
            if prefix[min(n, c + slots)] - prefix[c] < remaining:
                return False
            v = values[c]
            if v > remaining:
                continue
            steps += 1
            if steps > budget:
                cut = True
                return True
            chosen.append(c)
            rest = remaining - v
            if rest == 0:
                if len(chosen) >= min_size:
                    solutions.append(tuple(sorted(pool[x][1] for x in chosen)))
                    if len(solutions) >= max_solutions:
                        chosen.pop()
                        return True
            elif slots > 1 and dfs(c + 1, rest):
                chosen.pop()
                return True
            chosen.pop()
        return False

    stopped = dfs(0, target) if target > 0 else False
    return SubsetSearch(solutions, complete=not cut and not stopped)
