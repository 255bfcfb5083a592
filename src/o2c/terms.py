"""Payment terms: when an invoice's total falls due, in what parts, and at what discount.

The model follows the best open ERPs:

* **Lines** (Odoo, ERPNext): each line takes a *portion* of the total, a percentage
  or the *balance* (whatever the percentage lines leave), and a due rule.
* **Due rules** (Tryton): a chain of :class:`DueStep` values, each one a
  :class:`dateutil.relativedelta.relativedelta` applied to the result of the previous
  one. "Net 30", "end of month + 10", "the 15th of the next month" and "30 days, then
  end of month" are all chains, and 31 January + 1 month is 28/29 February.
* **Early-payment discount tiers** (Odoo, the classic "2/10 net 30"): several tiers,
  the best one still valid on the payment date applies.

Rules this module guarantees (and its property tests check):

* Amounts: :meth:`PaymentTerms.schedule` splits the total with the largest-remainder
  method (as :meth:`o2c.money.Money.allocate` does, on exact rationals) in proportion
  to the portions, the balance line's portion being ``100 - sum(percentages)``. Every
  instalment is a whole number of minor units, has the sign of the total (credit notes
  give negative instalments), is within one minor unit of its exact share, and the
  instalments sum *exactly* to the total. Ties for the last minor unit go to the
  earliest line, so 100 EUR in three equal parts is 33.34 + 33.33 + 33.33.
  Percentages are exact rationals (:class:`fractions.Fraction`), so equal thirds are
  expressible exactly.
* Dates (the sort/merge rule): a rule that lands before the invoice date is due on the
  invoice date; instalments of zero (a tiny total split many ways) are dropped; the rest
  are sorted by due date (stable: lines keep their order on equal dates) and instalments
  due on the same date are merged into one. Due dates therefore strictly increase. A
  zero total gives one zero instalment on the latest due date of the terms.
* Overdue (the anchor complaint, frappe/erpnext#58220): an instalment is overdue from
  the day *after* its due date; settlements cover instalments oldest first; an invoice
  is overdue as soon as its *first unpaid* instalment is overdue, not only when the last
  one is.
* Discounts: a tier "P % within N days" is valid for a payment made on or before the
  invoice date + N days. The base is :attr:`PaymentTerms.discount_on`:
  :attr:`DiscountBase.TOTAL` (default) computes the discount on the total *including*
  tax, like Odoo's "included" treatment (reducing the tax accordingly is the ledger's
  job); :attr:`DiscountBase.NET` computes it on the untaxed amount and leaves tax alone,
  like Odoo's "excluded" treatment.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any, Final, Literal, TypeAlias

import attrs
from dateutil.relativedelta import relativedelta, weekday

from o2c.errors import DueDateOutOfRangeError, InvalidAmountError, InvalidPaymentTermsError
from o2c.money import Money, RoundingMode, to_decimal
from o2c.validation import Issue

__all__ = [
    "BALANCE",
    "DiscountBase",
    "DiscountTier",
    "DueRule",
    "DueStep",
    "EarlyPaymentDiscount",
    "Instalment",
    "PaymentTerms",
    "Portion",
    "TermLine",
    "day_of_next_month",
    "days_overdue",
    "end_of_month",
    "first_unpaid",
    "instalments",
    "is_overdue",
    "net",
    "two_ten_net_thirty",
    "unpaid_instalments",
]

#: The portion of a line that takes whatever the percentage lines leave.
BALANCE: Final = "balance"

#: A line's portion: an exact percentage of the total, or :data:`BALANCE`.
Portion: TypeAlias = Fraction | Literal["balance"]

_HUNDRED: Final = Fraction(100)
# Bounds keep every rule inside datetime's calendar for any realistic invoice date.
_MAX_MONTHS: Final = 1200
_MAX_WEEKS: Final = 5300
_MAX_DAYS: Final = 36600


def _invalid(code: str, field: str, message: str) -> InvalidPaymentTermsError:
    issue = Issue(code=code, field=field, message=message)
    return InvalidPaymentTermsError(f"payment terms are not valid: {issue}", issues=(issue,))


# --------------------------------------------------------------------------- due rules


_Validator: TypeAlias = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _bounded_int(limit: int, prefix: str = "terms.step") -> _Validator:
    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
            raise _invalid(
                f"{prefix}.{attribute.name}_out_of_range",
                attribute.name,
                f"{attribute.name} must be an int between 0 and {limit}, not {value!r}",
            )

    return check


def _optional_int(low: int, high: int) -> _Validator:
    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _invalid(
                f"terms.step.{attribute.name}_out_of_range",
                attribute.name,
                f"{attribute.name} must be None or an int between {low} and {high}, not {value!r}",
            )

    return check


@attrs.frozen
class DueStep:
    """One link of a due-rule chain: a relativedelta, as in Tryton's payment terms.

    The month is set to ``month`` (if given) and ``months`` are added; the day is then
    ``day`` (if given, else the start's day) clamped to that month's length, so
    ``day=31`` means "end of month" and 31 Jan + 1 month is 28/29 Feb; then ``weeks``
    and ``days`` are added; finally the date moves forward to ``weekday`` (0 = Monday,
    on or after) if one is given. This is :class:`~dateutil.relativedelta.relativedelta`'s
    own order.

    Args:
        months: Calendar months to add (0 to 1200).
        weeks: Weeks to add (0 to 5300).
        days: Days to add (0 to 36600).
        day: Day of month to set first (1 to 31, clamped to the month's length).
        month: Month to set first (1 to 12).
        weekday: Move forward to this weekday (0 Monday to 6 Sunday), on or after.

    Raises:
        InvalidPaymentTermsError: a field is out of range (negative steps are refused:
            chains only move forward).
    """

    months: int = attrs.field(default=0, validator=_bounded_int(_MAX_MONTHS))
    weeks: int = attrs.field(default=0, validator=_bounded_int(_MAX_WEEKS))
    days: int = attrs.field(default=0, validator=_bounded_int(_MAX_DAYS))
    day: int | None = attrs.field(default=None, validator=_optional_int(1, 31))
    month: int | None = attrs.field(default=None, validator=_optional_int(1, 12))
    weekday: int | None = attrs.field(default=None, validator=_optional_int(0, 6))

    def to_relativedelta(self) -> relativedelta:
        """The step as a :class:`~dateutil.relativedelta.relativedelta`."""
        return relativedelta(
            months=self.months,
            weeks=self.weeks,
            days=self.days,
            day=self.day,
            month=self.month,
            weekday=None if self.weekday is None else weekday(self.weekday)(+1),
        )

    def __str__(self) -> str:
        parts = []
        if self.month is not None:
            parts.append(f"month={self.month}")
        if self.day is not None:
            parts.append("end of month" if self.day == 31 else f"day={self.day}")
        parts.extend(
            f"+{value} {name}"
            for name, value in (("months", self.months), ("weeks", self.weeks))
            if value
        )
        if self.days:
            parts.append(f"+{self.days} days")
        if self.weekday is not None:
            parts.append(f"next weekday {self.weekday}")
        return " ".join(parts) or "same day"


def _tuple_of_steps(value: Iterable[DueStep]) -> tuple[DueStep, ...]:
    return tuple(value)


@attrs.frozen
class DueRule:
    """A chain of :class:`DueStep` values, applied one after the other to a start date.

    The empty chain means "due on the invoice date". Compose rules with :meth:`then`:
    ``DueRule.days(30).then(DueRule.end_of_month())`` is "30 days, end of month".

    >>> DueRule.months(1).apply(date(2023, 1, 31))
    datetime.date(2023, 2, 28)
    >>> DueRule.end_of_month(plus_days=10).apply(date(2024, 2, 5))
    datetime.date(2024, 3, 10)
    """

    steps: tuple[DueStep, ...] = attrs.field(default=(), converter=_tuple_of_steps)

    # -- constructors -------------------------------------------------------------

    @classmethod
    def immediate(cls) -> DueRule:
        """Due on the start date."""
        return cls()

    @classmethod
    def days(cls, days: int) -> DueRule:
        """Due ``days`` days after the start date ("net N")."""
        return cls((DueStep(days=days),))

    @classmethod
    def months(cls, months: int) -> DueRule:
        """Due ``months`` calendar months later (31 Jan + 1 month = 28/29 Feb)."""
        return cls((DueStep(months=months),))

    @classmethod
    def end_of_month(cls, plus_days: int = 0) -> DueRule:
        """Due at the end of the start date's month, plus ``plus_days`` days."""
        return cls((DueStep(day=31, days=plus_days),))

    @classmethod
    def day_of_month(cls, day: int, months_ahead: int = 1) -> DueRule:
        """Due on ``day`` (clamped to the month's length) ``months_ahead`` months later."""
        return cls((DueStep(months=months_ahead, day=day),))

    def then(self, other: DueRule) -> DueRule:
        """This chain followed by ``other``'s steps."""
        return DueRule(self.steps + other.steps)

    # -- use ----------------------------------------------------------------------

    def apply(self, start: date) -> date:
        """The date the chain reaches from ``start``.

        Raises:
            DueDateOutOfRangeError: the result falls outside years 1 to 9999.
        """
        result = start
        try:
            for step in self.steps:
                result = result + step.to_relativedelta()
        except (ValueError, OverflowError) as exc:
            raise DueDateOutOfRangeError(start=start.isoformat(), rule=str(self)) from exc
        return result

    def __str__(self) -> str:
        return ", then ".join(str(s) for s in self.steps) or "same day"


# --------------------------------------------------------------------------- lines


def _portion(value: object) -> Portion:
    if value == BALANCE:
        return BALANCE
    if isinstance(value, Fraction):
        return value
    try:
        return Fraction(to_decimal(value, what="percent"))
    except InvalidAmountError as exc:
        raise _invalid(
            "terms.line.portion_invalid",
            "portion",
            f"a portion is an exact percentage (Decimal, int, str, Fraction) or "
            f"{BALANCE!r}, not {value!r}",
        ) from exc


def _check_portion(_instance: object, _attribute: object, value: Portion) -> None:
    if isinstance(value, Fraction) and not 0 < value <= _HUNDRED:
        raise _invalid(
            "terms.line.percent_out_of_range",
            "portion",
            f"a percentage portion must lie in (0, 100], not {value}",
        )


@attrs.frozen
class TermLine:
    """One part of the terms: a portion of the total and when it falls due.

    Args:
        portion: Percentage of the total in (0, 100] (``Decimal("30")``, ``30``,
            ``"30"`` or an exact ``Fraction(100, 3)``), or :data:`BALANCE` for the rest.
        due: When the part falls due, from the invoice date.

    Raises:
        InvalidPaymentTermsError: the portion is not a percentage in (0, 100] or
            :data:`BALANCE` (floats are refused).
    """

    portion: Portion = attrs.field(converter=_portion, validator=_check_portion)
    due: DueRule = attrs.field(factory=DueRule)

    @property
    def is_balance(self) -> bool:
        """True for the balance line."""
        return self.portion == BALANCE

    @property
    def percent(self) -> Fraction | None:
        """The percentage, or None for the balance line."""
        return None if self.portion == BALANCE else self.portion


@attrs.frozen
class Instalment:
    """A part of a total that falls due on one date.

    Attributes:
        due_date: The last day it may be paid without being overdue.
        amount: The amount due then (negative for credit notes).
    """

    due_date: date
    amount: Money

    def is_overdue(self, today: date) -> bool:
        """True from the day after the due date."""
        return today > self.due_date


# --------------------------------------------------------------------------- discounts


class DiscountBase(StrEnum):
    """What an early-payment discount is computed on."""

    TOTAL = "total"
    NET = "net"


def _tier_percent(value: object) -> Decimal:
    try:
        percent = to_decimal(value, what="percent")
    except InvalidAmountError as exc:
        raise _invalid(
            "terms.discount.percent_invalid", "percent", f"not an exact percentage: {value!r}"
        ) from exc
    if not 0 < percent < 100:
        raise _invalid(
            "terms.discount.percent_out_of_range",
            "percent",
            f"a discount percentage must lie in (0, 100), not {percent}",
        )
    return percent


@attrs.frozen
class DiscountTier:
    """An early-payment discount: ``percent`` % off if paid within ``days`` days.

    Raises:
        InvalidPaymentTermsError: the percentage is not in (0, 100) or the days are
            not an int from 0 to 36600.
    """

    percent: Decimal = attrs.field(converter=_tier_percent)
    days: int = attrs.field(validator=_bounded_int(_MAX_DAYS, "terms.discount"))

    def valid_until(self, invoice_date: date) -> date:
        """The last payment date that still earns this tier."""
        return invoice_date + timedelta(days=self.days)


@attrs.frozen
class EarlyPaymentDiscount:
    """The discount a payment on a given date earns.

    Attributes:
        percent: The tier's percentage.
        amount: The discount, rounded to the currency's minor unit.
        base: The amount the percentage was taken of.
        valid_until: The last payment date of the tier.
    """

    percent: Decimal
    amount: Money
    base: Money
    valid_until: date


# --------------------------------------------------------------------------- terms


def _tuple_of_lines(value: Iterable[TermLine]) -> tuple[TermLine, ...]:
    return tuple(value)


def _tuple_of_tiers(value: Iterable[DiscountTier]) -> tuple[DiscountTier, ...]:
    return tuple(value)


def _discount_base(value: object) -> DiscountBase:
    if isinstance(value, str) and value in {b.value for b in DiscountBase}:
        return DiscountBase(value)
    raise _invalid(
        "terms.discount.base_invalid",
        "discount_on",
        f"the discount base is 'total' or 'net', not {value!r}",
    )


@attrs.frozen
class PaymentTerms:
    """Named payment terms: lines that split the total over due dates, and discounts.

    Args:
        code: Short identifier, e.g. ``"NET30"``.
        name: Label for documents.
        lines: The parts, in order; at most one :data:`BALANCE` line, and it is last.
            Percentages sum to at most 100, and to exactly 100 without a balance line.
        discounts: Early-payment discount tiers; a later tier (more days) must offer
            a smaller percentage, and no two tiers share a number of days.
        discount_on: The base of the discount (see the module doc).

    Raises:
        InvalidPaymentTermsError: listing every problem found.
    """

    code: str
    name: str
    lines: tuple[TermLine, ...] = attrs.field(converter=_tuple_of_lines)
    discounts: tuple[DiscountTier, ...] = attrs.field(default=(), converter=_tuple_of_tiers)
    discount_on: DiscountBase = attrs.field(default=DiscountBase.TOTAL, converter=_discount_base)

    def __attrs_post_init__(self) -> None:
        issues = list(self._issues())
        if issues:
            raise InvalidPaymentTermsError(
                f"payment terms {self.code!r} are not valid: " + "; ".join(str(i) for i in issues),
                issues=tuple(issues),
            )

    def _issues(self) -> Iterable[Issue]:
        if not self.code.strip():
            yield Issue("terms.code_empty", "code", "the terms need a code")
        if not self.lines:
            yield Issue("terms.no_lines", "lines", "the terms need at least one line")
        balances = [i for i, line in enumerate(self.lines) if line.is_balance]
        if len(balances) > 1:
            yield Issue(
                "terms.several_balance_lines", "lines", "at most one line may be the balance"
            )
        if balances and balances[-1] != len(self.lines) - 1:
            yield Issue(
                "terms.balance_not_last",
                f"lines[{balances[-1]}]",
                "the balance line must be the last line",
            )
        percent_sum = self._percent_sum()
        if percent_sum > _HUNDRED:
            yield Issue(
                "terms.percent_sum_over_100",
                "lines",
                f"the percentages sum to {_fmt(percent_sum)}, more than 100",
            )
        elif self.lines and not balances and percent_sum != _HUNDRED:
            yield Issue(
                "terms.percent_sum_not_100",
                "lines",
                f"without a balance line the percentages must sum to 100, not {_fmt(percent_sum)}",
            )
        seen_days: set[int] = set()
        ordered = sorted(self.discounts, key=lambda t: t.days)
        for i, tier in enumerate(ordered):
            if tier.days in seen_days:
                yield Issue(
                    "terms.discount.duplicate_days",
                    "discounts",
                    f"two discount tiers end after {tier.days} days",
                )
            seen_days.add(tier.days)
            if i and tier.percent >= ordered[i - 1].percent:
                yield Issue(
                    "terms.discount.not_decreasing",
                    "discounts",
                    "a tier with more days must offer a smaller percentage "
                    f"({tier.percent} % after {tier.days} days is not below "
                    f"{ordered[i - 1].percent} % after {ordered[i - 1].days} days)",
                )

    def _percent_sum(self) -> Fraction:
        return sum((line.percent for line in self.lines if line.percent is not None), Fraction(0))

    # -- schedule -----------------------------------------------------------------

    def due_dates(self, invoice_date: date) -> tuple[date, ...]:
        """Each line's due date from ``invoice_date``, in line order (never before it)."""
        return tuple(max(line.due.apply(invoice_date), invoice_date) for line in self.lines)

    def schedule(self, total: Money, invoice_date: date) -> tuple[Instalment, ...]:
        """Split ``total`` into instalments (see the module doc for every rule).

        Raises:
            InvalidAmountError: ``total`` is not a whole number of minor units.
            DueDateOutOfRangeError: a rule leaves the calendar.

        >>> [str(i.amount) for i in instalments([DueRule.days(d) for d in (0, 30, 60)])
        ...     .schedule(Money("100.00", "EUR"), date(2024, 1, 1))]
        ['33.34 EUR', '33.33 EUR', '33.33 EUR']
        """
        if not total.is_rounded():
            raise InvalidAmountError(
                value=str(total), reason="a schedule splits a total rounded to minor units"
            )
        dates = self.due_dates(invoice_date)
        balance = _HUNDRED - self._percent_sum()
        shares = [balance if line.percent is None else line.percent for line in self.lines]
        parts = _allocate(total, shares)
        merged: dict[date, Money] = {}
        for due, part in sorted(
            ((d, p) for d, p in zip(dates, parts, strict=True) if not p.is_zero()),
            key=lambda pair: pair[0],
        ):
            merged[due] = merged[due] + part if due in merged else part
        if not merged:
            return (Instalment(due_date=max(dates), amount=total),)
        return tuple(Instalment(due_date=d, amount=a) for d, a in merged.items())

    def final_due_date(self, invoice_date: date) -> date:
        """The latest due date of any line."""
        return max(self.due_dates(invoice_date))

    # -- discounts ----------------------------------------------------------------

    def discount_valid_until(self, invoice_date: date) -> date | None:
        """The last payment date that earns any discount (None without tiers)."""
        if not self.discounts:
            return None
        return max(t.valid_until(invoice_date) for t in self.discounts)

    def discount_for(
        self,
        total: Money,
        invoice_date: date,
        payment_date: date,
        *,
        net: Money | None = None,
        mode: RoundingMode = RoundingMode.HALF_UP,
    ) -> EarlyPaymentDiscount | None:
        """The best discount a payment on ``payment_date`` earns, or None.

        Args:
            total: The document total, tax included.
            invoice_date: The date the tiers count from.
            payment_date: When the customer pays.
            net: The untaxed amount; required when :attr:`discount_on` is NET.
            mode: How the discount is rounded to the minor unit.

        Raises:
            InvalidAmountError: ``net`` is missing while the discount is on the net.
        """
        valid = [t for t in self.discounts if payment_date <= t.valid_until(invoice_date)]
        if not valid:
            return None
        if self.discount_on is DiscountBase.NET:
            if net is None:
                raise InvalidAmountError(
                    value=None, reason=f"terms {self.code!r} discount the net amount; pass net"
                )
            base = net
        else:
            base = total
        best = max(valid, key=lambda t: t.percent)
        return EarlyPaymentDiscount(
            percent=best.percent,
            amount=base.percent(best.percent).round(mode),
            base=base,
            valid_until=best.valid_until(invoice_date),
        )


def _allocate(total: Money, shares: Sequence[Fraction]) -> tuple[Money, ...]:
    """Largest-remainder split of a rounded ``total`` by exact rational ``shares``.

    The same method as :meth:`Money.allocate` (remainders to the largest fractional
    parts, earliest first on ties), done on Python integers so that percentages with
    many decimals or awkward denominators never hit decimal bounds.
    """
    common = math.lcm(*(s.denominator for s in shares))
    weights = [int(s * common) for s in shares]
    weight = sum(weights)
    units = total.in_minor_units()
    sign = -1 if units < 0 else 1
    floors = []
    remainders = []
    for w in weights:
        q, r = divmod(abs(units) * w, weight)
        floors.append(q)
        remainders.append(r)
    for i in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[
        : abs(units) - sum(floors)
    ]:
        floors[i] += 1
    return tuple(Money.from_minor_units(sign * f, total.currency) for f in floors)


def _fmt(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


# --------------------------------------------------------------------------- factories


def net(days: int, *, code: str | None = None, name: str | None = None) -> PaymentTerms:
    """Everything due ``days`` days after the invoice date ("net 30")."""
    return PaymentTerms(
        code=code or f"NET{days}",
        name=name or f"Net {days} days",
        lines=(TermLine(BALANCE, DueRule.days(days)),),
    )


def end_of_month(
    plus_days: int = 0, *, code: str | None = None, name: str | None = None
) -> PaymentTerms:
    """Everything due at the end of the invoice's month, plus ``plus_days`` days."""
    suffix = f"+{plus_days}" if plus_days else ""
    return PaymentTerms(
        code=code or f"EOM{suffix}",
        name=name or ("End of month" + (f" + {plus_days} days" if plus_days else "")),
        lines=(TermLine(BALANCE, DueRule.end_of_month(plus_days)),),
    )


def day_of_next_month(
    day: int, *, code: str | None = None, name: str | None = None
) -> PaymentTerms:
    """Everything due on ``day`` of the month after the invoice (clamped to its length)."""
    return PaymentTerms(
        code=code or f"DOM{day}",
        name=name or f"Day {day} of next month",
        lines=(TermLine(BALANCE, DueRule.day_of_month(day)),),
    )


def two_ten_net_thirty() -> PaymentTerms:
    """2 % off within 10 days, otherwise net 30 ("2/10 net 30")."""
    return PaymentTerms(
        code="2/10NET30",
        name="2 % 10 days, net 30 days",
        lines=(TermLine(BALANCE, DueRule.days(30)),),
        discounts=(DiscountTier(Decimal(2), 10),),
    )


def instalments(
    parts: Sequence[DueRule | tuple[object, DueRule]],
    *,
    code: str | None = None,
    name: str | None = None,
    discounts: Sequence[DiscountTier] = (),
) -> PaymentTerms:
    """Terms in several parts.

    Args:
        parts: Either due rules only, for equal parts (exact thirds and so on), or
            ``(portion, rule)`` pairs where the portion is a percentage or
            :data:`BALANCE`.
        code: Defaults to ``"INST{n}"``.
        name: Defaults to ``"{n} instalments"``.
        discounts: Early-payment discount tiers.

    Raises:
        InvalidPaymentTermsError: no parts, mixed forms, or the lines are inconsistent.
    """
    if not parts:
        raise _invalid("terms.no_lines", "lines", "instalments need at least one part")
    rules_only = all(isinstance(p, DueRule) for p in parts)
    if rules_only:
        share = _HUNDRED / len(parts)
        lines = tuple(TermLine(share, p) for p in parts if isinstance(p, DueRule))
    elif any(isinstance(p, DueRule) for p in parts):
        raise _invalid(
            "terms.instalments_mixed",
            "parts",
            "give either due rules only (equal parts) or (portion, rule) pairs only",
        )
    else:
        lines = tuple(TermLine(p[0], p[1]) for p in parts if isinstance(p, tuple))
    n = len(parts)
    return PaymentTerms(
        code=code or f"INST{n}",
        name=name or f"{n} instalments",
        lines=lines,
        discounts=tuple(discounts),
    )


# --------------------------------------------------------------------------- overdue


def unpaid_instalments(schedule: Sequence[Instalment], settled: Money) -> tuple[Instalment, ...]:
    """What remains of each instalment once ``settled`` has covered them oldest first.

    ``settled`` is everything that reduced the open amount (payments, credit notes,
    write-offs, discounts). Fully covered instalments are left out; a partly covered
    one appears with its remaining amount. Signs follow the schedule (credit notes).
    """
    covered = abs(settled.amount)
    result = []
    for inst in schedule:
        size = abs(inst.amount.amount)
        taken = min(size, covered)
        covered -= taken
        if taken < size:
            remaining = size - taken
            amount = Money(-remaining if inst.amount.is_negative() else remaining, settled.currency)
            result.append(Instalment(due_date=inst.due_date, amount=amount))
    return tuple(result)


def first_unpaid(schedule: Sequence[Instalment], settled: Money) -> Instalment | None:
    """The oldest instalment not fully covered by ``settled`` (remaining amount), if any."""
    rest = unpaid_instalments(schedule, settled)
    return rest[0] if rest else None


def is_overdue(schedule: Sequence[Instalment], settled: Money, today: date) -> bool:
    """True when the first unpaid instalment's due date is before ``today``."""
    first = first_unpaid(schedule, settled)
    return first is not None and first.is_overdue(today)


def days_overdue(schedule: Sequence[Instalment], settled: Money, today: date) -> int:
    """Days since the first unpaid instalment fell due (0 when nothing is overdue)."""
    first = first_unpaid(schedule, settled)
    if first is None:
        return 0
    return max(0, (today - first.due_date).days)
