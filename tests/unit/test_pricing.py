from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from o2c.errors import CurrencyMismatchError, DomainError, InvalidAmountError
from o2c.money import Money, RoundingMode
from o2c.pricing import (
    RoundingPolicy,
    TaxRate,
    TaxRounding,
    compute_line,
    compute_totals,
    spread_discount,
)

VAT19 = TaxRate("DE-19", Decimal(19))
VAT7 = TaxRate("DE-7", Decimal(7), name="reduced")


@attrs.frozen
class Line:
    quantity: Decimal
    unit_price: Money
    discount_percent: Decimal = Decimal(0)
    discount_amount: Money | None = None
    tax_rates: tuple[TaxRate, ...] = (VAT19,)


def eur(text: str) -> Money:
    return Money(text, "EUR")


def test_line_with_percent_and_fixed_discount() -> None:
    # 3 x 19.99 = 59.97; 10 % = 5.997; minus 1.00 -> 52.973 -> 52.97; VAT 19 % = 10.0643 -> 10.06
    line = Line(Decimal(3), eur("19.99"), Decimal(10), eur("1.00"))
    a = compute_line(line, RoundingPolicy())
    assert a.gross == eur("59.97")
    assert a.discount == eur("6.997")
    assert a.net == eur("52.97")
    assert a.tax == eur("10.06")
    assert a.total == eur("63.03")


def test_per_line_and_per_document_rounding_differ_by_the_booked_difference() -> None:
    # 3 x 0.03 at 19 %: 0.0057 -> 0.01 each = 0.03 per line;
    # per document 0.09 x 19 % = 0.0171 -> 0.02: the classic one-cent gap.
    lines = [Line(Decimal(1), eur("0.03")) for _ in range(3)]
    per_line = compute_totals(lines, "EUR", RoundingPolicy(TaxRounding.PER_LINE))
    per_doc = compute_totals(lines, "EUR", RoundingPolicy(TaxRounding.PER_DOCUMENT))
    assert per_line.tax == eur("0.03")
    assert per_line.rounding_difference == eur("0")
    assert per_doc.tax == eur("0.02")
    assert per_doc.rounding_difference == eur("-0.01")
    assert per_doc.total == per_doc.net + per_doc.tax == eur("0.11")


def test_breakdown_groups_by_rate_in_first_seen_order() -> None:
    lines = [
        Line(Decimal(2), eur("10.00"), tax_rates=(VAT7,)),
        Line(Decimal(1), eur("100.00")),
        Line(Decimal(1), eur("5.00"), tax_rates=(VAT7,)),
        Line(Decimal(1), eur("50.00"), tax_rates=()),
    ]
    t = compute_totals(lines, "EUR", RoundingPolicy())
    assert [b.rate.code for b in t.breakdown] == ["DE-7", "DE-19"]
    assert [b.base for b in t.breakdown] == [eur("25.00"), eur("100.00")]
    assert [b.tax for b in t.breakdown] == [eur("1.75"), eur("19.00")]
    assert t.net == eur("175.00")
    assert t.total == eur("195.75")


def test_zero_decimal_currency() -> None:
    line = Line(Decimal(3), Money("333", "JPY"), tax_rates=(TaxRate("JP-10", Decimal(10)),))
    t = compute_totals([line], "JPY", RoundingPolicy(mode=RoundingMode.DOWN))
    assert t.net == Money("999", "JPY")
    assert t.tax == Money("99", "JPY")


def test_three_decimal_currency() -> None:
    line = Line(Decimal("1.5"), Money("1.333", "KWD"), tax_rates=())
    t = compute_totals([line], "KWD", RoundingPolicy())
    assert str(t.total) == "2.000 KWD"


def test_errors() -> None:
    with pytest.raises(DomainError, match="discount exceeds"):
        compute_line(Line(Decimal(1), eur("1"), discount_amount=eur("2")), RoundingPolicy())
    with pytest.raises(CurrencyMismatchError):
        compute_totals([Line(Decimal(1), Money("1", "USD"))], "EUR", RoundingPolicy())
    clash = TaxRate("DE-19", Decimal(16))
    with pytest.raises(DomainError, match="share one code"):
        compute_totals(
            [Line(Decimal(1), eur("1")), Line(Decimal(1), eur("1"), tax_rates=(clash,))],
            "EUR",
            RoundingPolicy(),
        )
    with pytest.raises(InvalidAmountError):
        TaxRate("X", Decimal(101))
    with pytest.raises(InvalidAmountError):
        TaxRate("X", Decimal(-1))


def test_spread_discount() -> None:
    parts = spread_discount([eur("10.00"), eur("20.00"), eur("0.00")], eur("1.00"))
    assert parts == (eur("0.33"), eur("0.67"), eur("0.00"))
    assert spread_discount([eur("0")], eur("0")) == (eur("0.00"),)
    with pytest.raises(DomainError):
        spread_discount([eur("1")], eur("2"))
    with pytest.raises(DomainError):
        spread_discount([eur("1")], eur("-1"))
