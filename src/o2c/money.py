"""Exact money: a ``Decimal`` amount and an ISO 4217 currency, never a float.

Design notes:

* Arithmetic runs in a private decimal context that *traps* inexact results, so an
  operation either is exact or raises; nothing is rounded behind your back (the
  default context silently rounds past 28 digits).
* Amounts are not forced to the currency's minor unit: a unit price of 0.0125 EUR
  is legitimate. Rounding happens only where you ask, with an explicit mode.
* Minor units come from the CLDR data that babel ships (JPY 0, EUR 2, KWD 3, ...).
* :meth:`Money.allocate` splits an amount by ratios with the largest-remainder
  method: the parts always sum back exactly and none is more than one unit of the
  allocation's scale away from its exact share.
* Text is parsed strictly by :func:`parse_amount`: ASCII digits, one optional
  sign, one optional ``.``; no exponents, underscores, grouping separators,
  non-ASCII digits, NaN, infinities, negative zero or over-long values.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any, Final

import attrs
from babel import numbers as babel_numbers

from o2c.errors import (
    AllocationError,
    AmountParseError,
    CurrencyMismatchError,
    InvalidAmountError,
    UnknownCurrencyError,
)

__all__ = [
    "MAX_FRACTION_DIGITS",
    "MAX_INTEGER_DIGITS",
    "Money",
    "RoundingMode",
    "is_currency",
    "minor_units",
    "money_sum",
    "parse_amount",
    "require_amount",
    "to_decimal",
]

#: Longest integer part accepted (10**18 of any currency is beyond any real document).
MAX_INTEGER_DIGITS: Final = 18
#: Longest fractional part accepted for text and for values built inside o2c.
MAX_FRACTION_DIGITS: Final = 24
#: Longest fractional part accepted by :func:`parse_amount` by default.
MAX_PARSED_FRACTION_DIGITS: Final = 12
#: The most significant digits a parsed amount may have (Decimal's default precision).
MAX_PARSED_DIGITS: Final = 28
#: Text longer than this is refused before it is scanned (bounded time on hostile input).
MAX_TEXT_LENGTH: Final = 64

# Enough precision that sums and products of bounded amounts are exact; anything
# that is not exact raises instead of rounding.
_EXACT: Final = decimal.Context(
    prec=120,
    rounding=decimal.ROUND_HALF_EVEN,
    Emin=-999,
    Emax=999,
    traps=[
        decimal.InvalidOperation,
        decimal.DivisionByZero,
        decimal.Overflow,
        decimal.Inexact,
        decimal.Rounded,
    ],
)
_ZERO: Final = Decimal(0)
_ZEROS: dict[str, Money] = {}
_HUNDRED: Final = Decimal(100)


class RoundingMode(StrEnum):
    """Rounding modes, named after and valued as :mod:`decimal`'s constants."""

    HALF_UP = decimal.ROUND_HALF_UP
    HALF_EVEN = decimal.ROUND_HALF_EVEN
    HALF_DOWN = decimal.ROUND_HALF_DOWN
    UP = decimal.ROUND_UP
    DOWN = decimal.ROUND_DOWN
    CEILING = decimal.ROUND_CEILING
    FLOOR = decimal.ROUND_FLOOR


# --------------------------------------------------------------------------- currencies


@lru_cache(maxsize=1)
def _known_currencies() -> frozenset[str]:
    return frozenset(babel_numbers.list_currencies())


def is_currency(code: object) -> bool:
    """True when ``code`` is an ISO 4217 code in babel's CLDR data."""
    return isinstance(code, str) and code in _known_currencies()


@lru_cache(maxsize=512)
def minor_units(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (CLDR data via babel).

    Raises:
        UnknownCurrencyError: ``currency`` is not a known ISO 4217 code.

    >>> minor_units("EUR"), minor_units("JPY"), minor_units("KWD")
    (2, 0, 3)
    """
    if not is_currency(currency):
        raise UnknownCurrencyError(currency=currency)
    return int(babel_numbers.get_currency_precision(currency))


def _check_currency(_instance: object, _attribute: object, value: Any) -> None:
    if not is_currency(value):
        raise UnknownCurrencyError(currency=value)


# --------------------------------------------------------------------------- decimals


def parse_amount(
    text: str,
    *,
    max_integer_digits: int = MAX_INTEGER_DIGITS,
    max_fraction_digits: int = MAX_PARSED_FRACTION_DIGITS,
) -> Decimal:
    """Parse a plain decimal string strictly.

    Accepted: ``[+-]DIGITS[.DIGITS]`` with ASCII digits only. Refused, each with the
    position of the first offending character: empty text, white space, exponents
    (``1e3``), ``NaN``/``Infinity``, underscores (``1_000``), grouping (``1,000.00``),
    non-ASCII digits, a bare ``.5`` or ``5.``, negative zero, and values longer than
    the limits.

    Raises:
        AmountParseError: the text is not a plain decimal within the limits.

    >>> parse_amount("-1234.50")
    Decimal('-1234.50')
    """
    if not isinstance(text, str):
        raise AmountParseError(
            "amount text must be a str", text=_cut(repr(text)), position=0, reason="not text"
        )
    if len(text) > MAX_TEXT_LENGTH:
        raise AmountParseError(
            text=_cut(text),
            position=MAX_TEXT_LENGTH,
            reason=f"longer than {MAX_TEXT_LENGTH} characters",
        )
    if not text:
        raise AmountParseError(text=text, position=0, reason="empty")
    pos = 0
    negative = False
    if text[0] in "+-":
        negative = text[0] == "-"
        pos = 1
    int_start = pos
    while pos < len(text) and "0" <= text[pos] <= "9":
        pos += 1
    int_digits = pos - int_start
    if int_digits == 0:
        raise AmountParseError(text=text, position=pos, reason="a digit was expected")
    frac_digits = 0
    if pos < len(text) and text[pos] == ".":
        pos += 1
        frac_start = pos
        while pos < len(text) and "0" <= text[pos] <= "9":
            pos += 1
        frac_digits = pos - frac_start
        if frac_digits == 0:
            raise AmountParseError(text=text, position=pos, reason="a digit was expected after '.'")
    if pos != len(text):
        raise AmountParseError(
            text=text, position=pos, reason=f"unexpected character {text[pos]!r}"
        )
    significant = text[int_start:].replace(".", "").lstrip("0")
    integer_part = text[int_start : int_start + int_digits].lstrip("0")
    if len(integer_part) > max_integer_digits:
        raise AmountParseError(
            text=text,
            position=int_start + max_integer_digits,
            reason=f"more than {max_integer_digits} integer digits",
        )
    if frac_digits > max_fraction_digits:
        raise AmountParseError(
            text=text,
            position=int_start + int_digits + 1 + max_fraction_digits,
            reason=f"more than {max_fraction_digits} decimal places",
        )
    if len(significant) > MAX_PARSED_DIGITS:
        raise AmountParseError(
            text=text, position=0, reason=f"more than {MAX_PARSED_DIGITS} significant digits"
        )
    value = Decimal(text)
    if negative and not value:
        raise AmountParseError(text=text, position=0, reason="negative zero")
    return value


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT_LENGTH else text[:MAX_TEXT_LENGTH] + "..."


def to_decimal(value: object, *, what: str = "amount") -> Decimal:
    """Convert an ``int``, a ``Decimal`` or a plain decimal string to a bounded ``Decimal``.

    Floats and bools are refused (a float has already lost the exact value). Decimal
    values must be finite and within :data:`MAX_INTEGER_DIGITS` integer and
    :data:`MAX_FRACTION_DIGITS` fractional digits. Negative zero becomes zero.

    Raises:
        InvalidAmountError: the value cannot be an exact amount.
        AmountParseError: a string was refused by :func:`parse_amount`.
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise InvalidAmountError(value=value, reason=f"a bool is not an {what}")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        return parse_amount(value)
    elif isinstance(value, float):
        raise InvalidAmountError(
            value=value,
            reason=f"a float cannot be an exact {what}; pass Decimal or a string",
        )
    else:
        raise InvalidAmountError(value=value, reason=f"{type(value).__name__} is not an {what}")
    if not result.is_finite():
        raise InvalidAmountError(value=result, reason=f"the {what} must be finite")
    exponent = _exponent(result)
    if exponent < -MAX_FRACTION_DIGITS:
        raise InvalidAmountError(
            value=result, reason=f"more than {MAX_FRACTION_DIGITS} decimal places"
        )
    if result and result.adjusted() >= MAX_INTEGER_DIGITS:
        raise InvalidAmountError(
            value=result, reason=f"more than {MAX_INTEGER_DIGITS} integer digits"
        )
    if exponent > 0:
        # 1E+2 is written as 100 so that str() and documents never show exponents.
        result = result.quantize(Decimal(1))
    if result.is_zero() and result.is_signed():
        result = result.copy_abs()
    return result


def _amount_converter(value: object) -> Decimal:
    return to_decimal(value)


# --------------------------------------------------------------------------- money


@attrs.frozen(eq=True, order=False, repr=False)
class Money:
    """An exact amount of one currency.

    Args:
        amount: ``Decimal``, ``int`` or a plain decimal string (never a float).
        currency: ISO 4217 code, e.g. ``"EUR"``.

    Raises:
        InvalidAmountError: the amount is a float, infinite, NaN or out of bounds.
        UnknownCurrencyError: the currency is not ISO 4217.

    >>> Money("10.00", "EUR") + Money("2.5", "EUR")
    Money('12.50', 'EUR')
    """

    amount: Decimal = attrs.field(converter=_amount_converter)
    currency: str = attrs.field(validator=_check_currency)

    # -- construction -------------------------------------------------------------

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in ``currency``, at the currency's minor-unit scale."""
        # Money is immutable, so one zero per currency serves every caller.
        found = _ZEROS.get(currency)
        if found is None or cls is not Money:
            found = cls(_ZERO.scaleb(-minor_units(currency)), currency)
            if cls is Money:
                _ZEROS[currency] = found
        return found

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """Build from strictly parsed text (see :func:`parse_amount`)."""
        return cls(parse_amount(text), currency)

    @classmethod
    def _trusted(cls, amount: Decimal, currency: str) -> Money:
        # Results of exact arithmetic on valid money need no re-validation.
        inst = object.__new__(cls)
        object.__setattr__(inst, "amount", amount)
        object.__setattr__(inst, "currency", currency)
        return inst

    # -- inspection ---------------------------------------------------------------

    @property
    def minor_units(self) -> int:
        """Decimal places of this currency's minor unit."""
        return minor_units(self.currency)

    def is_zero(self) -> bool:
        """True for an amount of zero."""
        return self.amount.is_zero()

    def is_positive(self) -> bool:
        """True for an amount above zero."""
        return self.amount > 0

    def is_negative(self) -> bool:
        """True for an amount below zero."""
        return self.amount < 0

    def is_rounded(self) -> bool:
        """True when the amount is a whole number of minor units."""
        return self.amount == self.amount.quantize(_unit(self.currency), rounding="ROUND_DOWN")

    def in_minor_units(self) -> int:
        """The amount as an integer number of minor units (it must be rounded).

        Raises:
            InvalidAmountError: the amount has more decimals than the currency allows.
        """
        if not self.is_rounded():
            raise InvalidAmountError(
                value=self.amount, reason=f"not a whole number of {self.currency} minor units"
            )
        return int(self.amount.scaleb(self.minor_units))

    @classmethod
    def from_minor_units(cls, units: int, currency: str) -> Money:
        """Build from an integer count of minor units (cents for EUR)."""
        if isinstance(units, bool) or not isinstance(units, int):
            raise InvalidAmountError(value=units, reason="minor units must be an int")
        return cls(Decimal(units).scaleb(-minor_units(currency)), currency)

    # -- arithmetic ---------------------------------------------------------------

    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise InvalidAmountError(value=other, reason="only Money combines with Money")
        if other.currency != self.currency:
            raise CurrencyMismatchError(left=self.currency, right=other.currency)
        return other

    def __add__(self, other: Money) -> Money:
        o = self._same(other)
        return Money._trusted(_exact(_EXACT.add, self.amount, o.amount), self.currency)

    def __sub__(self, other: Money) -> Money:
        o = self._same(other)
        return Money._trusted(_exact(_EXACT.subtract, self.amount, o.amount), self.currency)

    def __neg__(self) -> Money:
        return Money(_EXACT.minus(self.amount), self.currency)

    def __abs__(self) -> Money:
        return Money._trusted(self.amount.copy_abs(), self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        f = to_decimal(factor, what="factor")
        return Money(_exact(_EXACT.multiply, self.amount, f), self.currency)

    __rmul__ = __mul__

    def percent(self, rate: int | Decimal) -> Money:
        """``rate`` percent of this amount, exact (not rounded): ``Money(200) .percent(19)``."""
        r = to_decimal(rate, what="percent")
        product = _exact(_EXACT.multiply, self.amount, r)
        return Money(_exact(_EXACT.divide, product, _HUNDRED), self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def min(self, other: Money) -> Money:
        """The smaller of two amounts of the same currency."""
        return self if self <= other else other

    def max(self, other: Money) -> Money:
        """The larger of two amounts of the same currency."""
        return self if self >= other else other

    # -- rounding and allocation -------------------------------------------------

    def round(self, mode: RoundingMode) -> Money:
        """Round to the currency's minor unit with an explicit mode.

        >>> Money("0.125", "EUR").round(RoundingMode.HALF_UP)
        Money('0.13', 'EUR')
        """
        return Money._trusted(
            self.amount.quantize(_unit(self.currency), rounding=str(RoundingMode(mode))),
            self.currency,
        )

    def allocate(self, ratios: Sequence[int | Decimal]) -> tuple[Money, ...]:
        """Split into parts proportional to ``ratios``; the parts sum exactly to ``self``.

        Uses the largest-remainder method at the finer of the currency's minor unit
        and the amount's own scale: each part is within one such unit of its exact
        share, and remainders go to the largest fractional shares (earliest first on
        ties), so the result is deterministic.

        Raises:
            AllocationError: no ratios, a negative ratio, or all ratios zero.

        >>> [str(m) for m in Money("100.00", "EUR").allocate([1, 1, 1])]
        ['33.34 EUR', '33.33 EUR', '33.33 EUR']
        """
        if not ratios:
            raise AllocationError("no ratios given")
        weights = _integer_weights(ratios)
        total_weight = sum(weights)
        if total_weight == 0:
            raise AllocationError("all ratios are zero")
        scale = max(self.minor_units, -_exponent(self.amount))
        units = int(self.amount.scaleb(scale))
        sign = -1 if units < 0 else 1
        units = abs(units)
        floors: list[int] = []
        remainders: list[int] = []
        for w in weights:
            q, r = divmod(units * w, total_weight)
            floors.append(q)
            remainders.append(r)
        left = units - sum(floors)
        order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
        for i in order[:left]:
            floors[i] += 1
        return tuple(
            Money._trusted(Decimal(sign * f).scaleb(-scale), self.currency) for f in floors
        )

    # -- presentation -------------------------------------------------------------

    def format(self, locale: str = "en_US") -> str:
        """Format for people with babel, e.g. ``'1.234,50\xa0€'`` for ``de_DE``."""
        return str(babel_numbers.format_currency(self.amount, self.currency, locale=locale))

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def __repr__(self) -> str:
        return f"Money('{self.amount}', '{self.currency}')"


def require_amount(value: object, field: str, *, allow: str = "positive") -> Money:
    """``value`` if it is Money in whole minor units of its currency and of the sign
    ``allow`` names: ``"positive"`` (above zero), ``"non_negative"`` or ``"any"``.

    Raises:
        InvalidAmountError: not Money, the wrong sign, or a fraction of a minor unit.
    """
    if not isinstance(value, Money):
        raise InvalidAmountError(value=value, reason=f"{field} must be Money")
    if (allow == "positive" and not value.is_positive()) or (
        allow == "non_negative" and value.is_negative()
    ):
        raise InvalidAmountError(value=value, reason=f"{field} must be positive")
    if not value.is_rounded():
        raise InvalidAmountError(
            value=value, reason=f"{field} must be whole {value.currency} minor units"
        )
    return value


def money_sum(items: Iterable[Money], currency: str) -> Money:
    """Sum amounts of one currency; the sum of nothing is zero in ``currency``.

    Raises:
        CurrencyMismatchError: an item is in another currency.
    """
    zero = Money.zero(currency)
    total = zero.amount
    add = _EXACT.add
    for item in items:
        # The checks of Money.__add__, without a Money per partial sum.
        total = _exact(add, total, zero._same(item).amount)
    return Money._trusted(total, currency)


@lru_cache(maxsize=512)
def _unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def _exact(op: object, a: Decimal, b: Decimal) -> Decimal:
    try:
        result = op(a, b)  # type: ignore[operator]
    except decimal.DecimalException as exc:
        raise InvalidAmountError(
            value=f"{a} {getattr(op, '__name__', 'op')} {b}",
            reason="the result is not exact within o2c's bounds",
        ) from exc
    if not isinstance(result, Decimal):  # pragma: no cover - decimal always returns Decimal
        raise InvalidAmountError(value=result, reason="not a decimal result")
    return result


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):
        raise InvalidAmountError(value=value, reason="the amount must be finite")
    return exponent


def _integer_weights(ratios: Sequence[int | Decimal]) -> list[int]:
    if all(isinstance(r, int) and not isinstance(r, bool) for r in ratios):
        # Whole-number weights (e.g. scaled fractions) need no bound: integer maths is exact.
        ints = [int(r) for r in ratios]
        if any(v < 0 for v in ints):
            raise AllocationError("a ratio is negative", ratios=tuple(str(v) for v in ints))
        return ints
    values = [to_decimal(r, what="ratio") for r in ratios]
    if any(v < 0 for v in values):
        raise AllocationError("a ratio is negative", ratios=tuple(str(v) for v in values))
    scale = 0
    for v in values:
        scale = max(scale, -_exponent(v))
    return [int(v.scaleb(scale)) for v in values]
