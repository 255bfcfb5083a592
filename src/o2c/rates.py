"""Rate shopping: every carrier's quotes, one choice by a rule, and why.

The engine asks each carrier for rates (:meth:`o2c.ports.Carrier.rates`). A carrier
that fails to quote is skipped and reported (:class:`QuoteFailure`); the quotes left
(:class:`Quote`) are chosen from by a rule:

* ``"cheapest"`` (the default): lowest price, then earliest promise, then carrier
  name, then service code.
* ``"fastest"``: earliest promised delivery, then lowest price, then carrier, service.
* a host's rule: a callable given the quotes (sorted cheapest first) that returns one
  of them, or None to fall back to the cheapest; or the ``o2c_choose_rate`` pluggy
  hook, asked before the configured rule.

Tie-breaks end in carrier name and service code, so the same quotes always give the
same choice. The :class:`RateChoice` is kept on the shipment: the rule, every quote,
every failure, and a sentence saying why (:meth:`RateChoice.explain`).

Prices are compared only within one currency: ``"cheapest"`` over quotes in several
currencies raises :class:`~o2c.errors.RateCurrencyMismatchError` (give a host rule).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import TypeAlias

import attrs

from o2c.errors import RateChoiceError, RateCurrencyMismatchError
from o2c.money import Money
from o2c.ports import Rate

__all__ = [
    "Quote",
    "QuoteFailure",
    "RateChoice",
    "RateChooser",
    "RateRule",
    "choose",
    "promise",
]


class RateRule(StrEnum):
    """The built-in rules."""

    CHEAPEST = "cheapest"
    FASTEST = "fastest"


@attrs.frozen(kw_only=True)
class Quote:
    """One carrier's offer, as o2c compares it.

    Attributes:
        carrier: The carrier's name in the engine (it may call itself otherwise).
        rate: The carrier's rate, exactly as quoted (bought back with it).
        promised_by: When delivery is promised (:func:`promise`).
    """

    carrier: str
    rate: Rate
    promised_by: datetime

    @property
    def service(self) -> str:
        """The service code."""
        return self.rate.service

    @property
    def amount(self) -> Money:
        """The price."""
        return self.rate.amount

    def describe(self) -> str:
        """``"dhl express 9.90 EUR, by 2026-03-03"``."""
        return (
            f"{self.carrier} {self.service} {self.amount.amount} {self.amount.currency}, "
            f"by {self.promised_by.date().isoformat()}"
        )


@attrs.frozen(kw_only=True)
class QuoteFailure:
    """A carrier that could not quote.

    Attributes:
        carrier: The carrier's name in the engine.
        error: The error's type (an o2c error's ``code`` when it has one).
        message: What it said (shortened).
    """

    carrier: str
    error: str
    message: str

    @classmethod
    def of(cls, carrier: str, exc: BaseException) -> QuoteFailure:
        """The failure a raised exception describes."""
        code = getattr(exc, "code", None)
        return cls(
            carrier=carrier,
            error=code if isinstance(code, str) else type(exc).__name__,
            message=str(exc)[:200],
        )


#: A host's rule: the quotes (cheapest first) -> the chosen one, or None.
RateChooser: TypeAlias = Callable[[Sequence[Quote]], Quote | None]


@attrs.frozen(kw_only=True)
class RateChoice:
    """Which rate a shipment was sent with, and why (kept on the shipment).

    Attributes:
        rule: ``"cheapest"``, ``"fastest"``, ``"host"`` (a callable in the config) or
            ``"plugin:<name>"`` (an ``o2c_choose_rate`` implementation).
        chosen: The quote bought.
        quotes: Every quote considered, cheapest first.
        failures: Carriers that failed to quote, by name.
        reason: One sentence for people.
    """

    rule: str
    chosen: Quote
    quotes: tuple[Quote, ...]
    failures: tuple[QuoteFailure, ...] = ()
    reason: str = ""

    def explain(self) -> str:
        """The choice in words: the rule, the winner, the others, the failures."""
        lines = [f"{self.reason} (rule: {self.rule})."]
        lines += [f"{'*' if q == self.chosen else '-'} {q.describe()}" for q in self.quotes]
        lines += [f"! {f.carrier} did not quote: {f.error}" for f in self.failures]
        return "\n".join(lines)


def promise(rate: Rate, now: datetime) -> datetime:
    """When a rate promises delivery: the carrier's date, or else the end of the
    (UTC) day ``transit_days`` calendar days after ``now``.

    >>> from o2c.money import Money
    >>> r = Rate(carrier="x", service="std", amount=Money("1", "EUR"), transit_days=2)
    >>> promise(r, datetime(2026, 3, 2, 9, tzinfo=UTC)).isoformat()
    '2026-03-04T23:59:59.999999+00:00'
    """
    if rate.promised_by is not None:
        return rate.promised_by
    day = (now.astimezone(UTC) + timedelta(days=rate.transit_days)).date()
    return datetime.combine(day, time.max, tzinfo=UTC)


def _price_key(q: Quote) -> tuple[object, ...]:
    return (q.amount.currency, q.amount.amount, q.promised_by, q.carrier, q.service)


def _speed_key(q: Quote) -> tuple[object, ...]:
    return (q.promised_by, q.amount.currency, q.amount.amount, q.carrier, q.service)


def choose(
    quotes: Iterable[Quote],
    rule: RateRule | str | RateChooser,
    *,
    failures: Sequence[QuoteFailure] = (),
    decided: tuple[str, Quote] | None = None,
) -> RateChoice:
    """Choose one quote by ``rule``.

    Args:
        quotes: At least one quote.
        rule: A :class:`RateRule` (or its name) or a host callable.
        failures: Carriers that failed to quote (kept on the choice).
        decided: A choice already made by a plugin (``(plugin name, quote)``); it
            must be one of ``quotes``.

    Returns:
        The :class:`RateChoice`.

    Raises:
        RateChoiceError: no quotes, an unknown rule name, or a rule (callable or
            plugin) that answered something other than one of the quotes.
        RateCurrencyMismatchError: ``"cheapest"`` over quotes in several currencies.
    """
    ordered = tuple(sorted(quotes, key=_price_key))
    if not ordered:
        raise RateChoiceError(rule=str(rule), reason="no carrier quoted")
    if decided is not None:
        plugin, quote = decided
        _require_one_of(quote, ordered, f"plugin:{plugin}")
        return RateChoice(
            rule=f"plugin:{plugin}",
            chosen=quote,
            quotes=ordered,
            failures=tuple(failures),
            reason=f"plugin {plugin} chose {quote.describe()}",
        )
    if callable(rule) and not isinstance(rule, str):
        picked = rule(ordered)
        if picked is not None:
            _require_one_of(picked, ordered, "host")
            return RateChoice(
                rule="host",
                chosen=picked,
                quotes=ordered,
                failures=tuple(failures),
                reason=f"the host's rule chose {picked.describe()}",
            )
        rule = RateRule.CHEAPEST
    try:
        named = RateRule(rule)
    except ValueError:
        raise RateChoiceError(
            rule=str(rule), reason="not cheapest, fastest or a callable"
        ) from None
    if named is RateRule.FASTEST:
        best = min(ordered, key=_speed_key)
        reason = f"earliest promised delivery: {best.describe()}"
    else:
        currencies = sorted({q.amount.currency for q in ordered})
        if len(currencies) > 1:
            raise RateCurrencyMismatchError(currencies=tuple(currencies))
        best = ordered[0]
        reason = f"lowest price: {best.describe()}"
    return RateChoice(
        rule=named.value, chosen=best, quotes=ordered, failures=tuple(failures), reason=reason
    )


def _require_one_of(picked: object, quotes: tuple[Quote, ...], rule: str) -> None:
    if not isinstance(picked, Quote) or picked not in quotes:
        raise RateChoiceError(
            rule=rule, reason=f"answered {type(picked).__name__}, not one of the quotes"
        )
