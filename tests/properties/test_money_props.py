"""Properties of money: exactness, allocation, parsing."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.errors import AmountParseError
from o2c.money import Money, RoundingMode, minor_units, money_sum, parse_amount

CURRENCIES = st.sampled_from(["EUR", "USD", "JPY", "KWD", "CHF", "BHD", "CLP", "GBP"])


@st.composite
def money(draw: st.DrawFn, currency: str | None = None, *, signed: bool = True) -> Money:
    cur = currency or draw(CURRENCIES)
    mu = minor_units(cur)
    units = draw(st.integers(min_value=-(10**12) if signed else 0, max_value=10**12))
    return Money(Decimal(units).scaleb(-mu), cur)


ratios = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=10**6),
        st.decimals(min_value=0, max_value=1000, places=3, allow_nan=False),
    ),
    min_size=1,
    max_size=30,
).filter(lambda rs: any(r > 0 for r in rs))


@given(money(), ratios)
def test_allocation_sums_exactly_and_stays_within_one_unit(total: Money, rs: list[object]) -> None:
    parts = total.allocate(rs)  # type: ignore[arg-type]
    assert len(parts) == len(rs)
    assert money_sum(parts, total.currency) == total
    unit = Fraction(1, 10**total.minor_units)
    weight = sum(Fraction(r) for r in rs)  # type: ignore[arg-type]
    for part, r in zip(parts, rs, strict=True):
        exact = Fraction(total.amount) * Fraction(r) / weight  # type: ignore[arg-type]
        assert abs(Fraction(part.amount) - exact) < unit
        assert part.currency == total.currency
        assert part.is_rounded()


@given(money(), ratios)
def test_allocation_is_deterministic_and_sign_symmetric(total: Money, rs: list[int]) -> None:
    assert total.allocate(rs) == total.allocate(rs)
    assert tuple(-p for p in total.allocate(rs)) == (-total).allocate(rs)


@given(st.data(), CURRENCIES)
def test_addition_is_exact_and_reversible(data: st.DataObject, currency: str) -> None:
    a = data.draw(money(currency))
    b = data.draw(money(currency))
    assert (a + b) - b == a
    assert a + b == b + a
    assert (a + b).amount == a.amount + b.amount


@given(money(), st.sampled_from(list(RoundingMode)))
def test_rounding_is_idempotent_and_close(m: Money, mode: RoundingMode) -> None:
    finer = m * Decimal("1.0007")
    once = finer.round(mode)
    assert once.is_rounded()
    assert once.round(mode) == once
    assert abs(once.amount - finer.amount) < Decimal(1).scaleb(-m.minor_units)


@given(
    st.integers(min_value=-(10**17), max_value=10**17),
    st.integers(min_value=0, max_value=12),
)
def test_parse_round_trips_every_plain_decimal(units: int, places: int) -> None:
    value = Decimal(units).scaleb(-places)
    text = f"{value:f}"
    assert parse_amount(text) == value


@given(st.text(max_size=40))
def test_parse_accepts_only_plain_ascii_decimals(text: str) -> None:
    try:
        value = parse_amount(text)
    except AmountParseError as err:
        assert 0 <= err.position <= len(text)
        return
    body = text.lstrip("+-")
    assert body.replace(".", "", 1).isascii()
    assert body.replace(".", "", 1).isdigit()
    assert value.is_finite()
    assert not (value.is_zero() and text.startswith("-"))


@pytest.mark.parametrize("locale", ["en_US", "de_DE", "fr_FR", "ja_JP"])
@given(m=money())
def test_formatting_never_fails(locale: str, m: Money) -> None:
    assert m.format(locale)
