"""Line amounts, tax and document totals, shared by orders, invoices and credit notes.

The rounding rule is an explicit choice (:class:`RoundingPolicy`), because the
one-cent drift between rounding tax per line and per document is a classic ERP bug
(frappe/erpnext#33681, saleor/saleor#12348):

* :attr:`TaxRounding.PER_LINE`: each line's tax is rounded, the document's tax is
  their sum.
* :attr:`TaxRounding.PER_DOCUMENT`: the net amounts are summed per tax rate and the
  tax of each rate is rounded once (EN 16931's VAT breakdown works this way).

Whichever rule is chosen, :class:`Totals` also reports ``rounding_difference``: the
chosen tax minus the sum of per-line rounded taxes, so the difference can be booked
instead of drifting. Net line amounts are always rounded per line. Every total is
an exact sum of its parts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Final, Protocol

import attrs

from o2c.errors import DomainError, InvalidAmountError
from o2c.money import Money, RoundingMode, money_sum, to_decimal

__all__ = [
    "Chargeable",
    "LineAmounts",
    "RoundingPolicy",
    "TaxBreakdown",
    "TaxRate",
    "TaxRounding",
    "Totals",
    "compute_line",
    "compute_totals",
    "spread_discount",
]

_HUNDRED = Decimal(100)


def _percent(value: object) -> Decimal:
    d = to_decimal(value, what="percent")
    if not Decimal(0) <= d <= _HUNDRED:
        raise InvalidAmountError(value=d, reason="a percentage must lie between 0 and 100")
    return d


@attrs.frozen
class TaxRate:
    """A tax applied to a line's net amount.

    Args:
        code: Identifier, e.g. ``"DE-VAT-19"``; rates are grouped by code in breakdowns.
        percent: The rate in percent (``Decimal("19")`` for 19 %), 0 to 100.
        category: EN 16931 VAT category code (S standard, Z zero, E exempt,
            AE reverse charge, K intra-community, G export, O outside scope, ...).
        name: Label for documents.
    """

    code: str
    percent: Decimal = attrs.field(converter=_percent)
    category: str = "S"
    name: str = ""


class TaxRounding(StrEnum):
    """Where tax is rounded."""

    PER_LINE = "per_line"
    PER_DOCUMENT = "per_document"


@attrs.frozen
class RoundingPolicy:
    """How a document rounds: where tax is rounded and with which mode."""

    tax: TaxRounding = TaxRounding.PER_LINE
    mode: RoundingMode = RoundingMode.HALF_UP


class Chargeable(Protocol):
    """What pricing needs from a line (order lines and invoice lines both qualify)."""

    @property
    def quantity(self) -> Decimal:
        """How many units."""

    @property
    def unit_price(self) -> Money:
        """Price of one unit before discount and tax."""

    @property
    def discount_percent(self) -> Decimal:
        """Line discount in percent (0 to 100)."""

    @property
    def discount_amount(self) -> Money | None:
        """Fixed discount on the whole line, after the percentage (None for none)."""

    @property
    def tax_rates(self) -> tuple[TaxRate, ...]:
        """Taxes applied to the line's net amount (each on the net, not compounded)."""


@attrs.frozen
class LineAmounts:
    """Amounts of one line.

    Attributes:
        gross: quantity x unit price, exact.
        discount: total discount, exact.
        net: gross - discount, rounded to the currency's minor unit.
        taxes: per tax rate, the line's tax rounded (used by PER_LINE).
        exact_taxes: per tax rate, the unrounded tax (what PER_DOCUMENT sums).
    """

    gross: Money
    discount: Money
    net: Money
    taxes: tuple[tuple[TaxRate, Money], ...]
    exact_taxes: tuple[tuple[TaxRate, Money], ...]

    @property
    def tax(self) -> Money:
        """The line's rounded tax."""
        return money_sum((t for _, t in self.taxes), self.net.currency)

    @property
    def total(self) -> Money:
        """Net plus rounded tax."""
        return self.net + self.tax


def compute_line(line: Chargeable, policy: RoundingPolicy) -> LineAmounts:
    """Amounts of one line under ``policy``.

    Raises:
        DomainError: the discount exceeds the line's gross amount.
    """
    gross = line.unit_price * line.quantity
    discount = gross.percent(line.discount_percent)
    if line.discount_amount is not None:
        discount = discount + line.discount_amount
    exact_net = gross - discount
    if exact_net.is_negative():
        raise DomainError(
            "the line's discount exceeds its gross amount",
            gross=str(gross),
            discount=str(discount),
        )
    net = exact_net.round(policy.mode)
    exact = tuple((rate, net.percent(rate.percent)) for rate in line.tax_rates)
    rounded = tuple((rate, tax.round(policy.mode)) for rate, tax in exact)
    return LineAmounts(gross=gross, discount=discount, net=net, taxes=rounded, exact_taxes=exact)


@attrs.frozen
class TaxBreakdown:
    """Tax of one rate over a whole document."""

    rate: TaxRate
    base: Money
    tax: Money


@attrs.frozen
class Totals:
    """A document's totals; ``total == net + tax`` exactly.

    Attributes:
        lines: Amounts of every line, in order.
        net: Sum of the lines' net amounts.
        tax: Tax under the chosen policy.
        total: ``net + tax``.
        breakdown: One entry per tax code, in first-seen order.
        rounding_difference: ``tax`` minus the sum of per-line rounded taxes (zero
            under PER_LINE); book it rather than lose it.
    """

    currency: str
    lines: tuple[LineAmounts, ...]
    net: Money
    tax: Money
    total: Money
    breakdown: tuple[TaxBreakdown, ...]
    rounding_difference: Money


def compute_totals(lines: Sequence[Chargeable], currency: str, policy: RoundingPolicy) -> Totals:
    """Totals of a document made of ``lines``, all in ``currency``.

    Totals depend only on the priced fields of the lines, so documents that change
    in other ways (an order recording a shipment) reuse the totals already computed.

    Raises:
        CurrencyMismatchError: a line is priced in another currency.
    """
    key = (
        currency,
        policy,
        tuple(
            (ln.quantity, ln.unit_price, ln.discount_percent, ln.discount_amount, ln.tax_rates)
            for ln in lines
        ),
    )
    try:
        return _totals_cache(key, lines, currency, policy)
    except TypeError:  # an unhashable hand-made line: compute without the cache
        return _compute_totals(lines, currency, policy)


_CACHE: dict[object, Totals] = {}
_CACHE_LIMIT: Final = 8192


def _totals_cache(
    key: object, lines: Sequence[Chargeable], currency: str, policy: RoundingPolicy
) -> Totals:
    found = _CACHE.get(key)
    if found is None:
        found = _compute_totals(lines, currency, policy)
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = found
    return found


def _compute_totals(lines: Sequence[Chargeable], currency: str, policy: RoundingPolicy) -> Totals:
    amounts = tuple(compute_line(line, policy) for line in lines)
    net = money_sum((a.net for a in amounts), currency)
    order: list[str] = []
    rates: dict[str, TaxRate] = {}
    bases: dict[str, Money] = {}
    rounded_sum: dict[str, Money] = {}
    exact_sum: dict[str, Money] = {}
    zero = Money.zero(currency)
    for a in amounts:
        for (rate, tax), (_, exact) in zip(a.taxes, a.exact_taxes, strict=True):
            if rate.code not in rates:
                order.append(rate.code)
                rates[rate.code] = rate
            elif rates[rate.code] != rate:
                raise DomainError(
                    "two different tax rates share one code",
                    code=rate.code,
                    first=str(rates[rate.code].percent),
                    second=str(rate.percent),
                )
            bases[rate.code] = bases.get(rate.code, zero) + a.net
            rounded_sum[rate.code] = rounded_sum.get(rate.code, zero) + tax
            exact_sum[rate.code] = exact_sum.get(rate.code, zero) + exact
    breakdown = []
    for code in order:
        if policy.tax is TaxRounding.PER_LINE:
            tax = rounded_sum[code]
        else:
            tax = exact_sum[code].round(policy.mode)
        breakdown.append(TaxBreakdown(rate=rates[code], base=bases[code], tax=tax))
    tax_total = money_sum((b.tax for b in breakdown), currency)
    line_rounded_total = money_sum(rounded_sum.values(), currency)
    return Totals(
        currency=currency,
        lines=amounts,
        net=net,
        tax=tax_total,
        total=net + tax_total,
        breakdown=tuple(breakdown),
        rounding_difference=tax_total - line_rounded_total,
    )


def spread_discount(nets: Iterable[Money], discount: Money) -> tuple[Money, ...]:
    """Spread a document-level discount over lines in proportion to their net amounts.

    The parts sum exactly to ``discount`` (largest remainder), so a document discount
    can be stored as per-line ``discount_amount`` values and taxed correctly per rate.

    Raises:
        DomainError: the discount exceeds the lines' total or there is nothing to discount.
    """
    values = list(nets)
    total = money_sum(values, discount.currency)
    if discount.is_negative() or discount > total:
        raise DomainError(
            "a document discount must lie between zero and the net total",
            discount=str(discount),
            net_total=str(total),
        )
    if total.is_zero():
        return tuple(Money.zero(discount.currency) for _ in values)
    return discount.allocate([v.amount for v in values])
