from __future__ import annotations

import pickle
from decimal import Decimal

import pytest

from o2c.errors import (
    AllocationError,
    AmountParseError,
    CurrencyMismatchError,
    InvalidAmountError,
    UnknownCurrencyError,
)
from o2c.money import (
    MAX_TEXT_LENGTH,
    Money,
    RoundingMode,
    is_currency,
    minor_units,
    money_sum,
    parse_amount,
    require_amount,
    to_decimal,
)

# The hostile strings of RELIABILITY.md rule 6, and their relatives.
HOSTILE = [
    "NaN",
    "nan",
    "sNaN",
    "-NaN",
    "Infinity",
    "-Infinity",
    "inf",
    "1e3",
    "1E3",
    "1.5e-2",
    "1_000",
    "1_000.00",
    "1,000.00",
    "1.000,00",
    "1 000",
    "\u0661\u0662\u0663",  # Arabic-Indic digits
    "\uff11\uff12\uff13",  # fullwidth digits
    "\u0967\u0968\u0969",  # Devanagari digits
    "-0",
    "-0.00",
    "+",
    "-",
    "",
    " 1",
    "1 ",
    "\t1",
    "1\n",
    ".5",
    "5.",
    "1..2",
    "1.2.3",
    "--1",
    "+-1",
    "0x10",
    "1/2",
    "€1",
    "1€",
    "9" * 19,  # too many integer digits
    "1." + "1" * 13,  # too many decimals
    "1" * 15 + "." + "1" * 12 + "9",  # 28+ significant digits and too many decimals
    "1" * (MAX_TEXT_LENGTH + 1),
    "1\x00",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_amount_strings_are_rejected(text: str) -> None:
    with pytest.raises(AmountParseError) as info:
        parse_amount(text)
    err = info.value
    assert 0 <= err.position <= max(len(text), MAX_TEXT_LENGTH)
    assert err.code == "money.parse_error"
    assert err.reason
    # Building money from the same text fails the same way.
    with pytest.raises(AmountParseError):
        Money(text, "EUR")


@pytest.mark.parametrize(
    ("text", "position"),
    [("1e3", 1), ("12,5", 2), ("5.", 2), (".5", 0), (" 1", 0), ("1_0", 1)],
)
def test_parse_error_positions_point_at_the_offending_character(text: str, position: int) -> None:
    with pytest.raises(AmountParseError) as info:
        parse_amount(text)
    assert info.value.position == position


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", Decimal(0)),
        ("12.50", Decimal("12.50")),
        ("-12.5", Decimal("-12.5")),
        ("+7", Decimal(7)),
        ("0007.10", Decimal("7.10")),
        ("0.00", Decimal("0.00")),
        ("999999999999999999", Decimal("999999999999999999")),
        ("1.123456789012", Decimal("1.123456789012")),
    ],
)
def test_plain_decimals_are_parsed_exactly(text: str, value: Decimal) -> None:
    parsed = parse_amount(text)
    assert parsed == value
    assert str(parsed) == str(value)


def test_parse_limits_are_configurable() -> None:
    assert parse_amount("1.12345678901234", max_fraction_digits=14) == Decimal("1.12345678901234")
    with pytest.raises(AmountParseError):
        parse_amount("12345", max_integer_digits=4)


def test_parse_refuses_non_text() -> None:
    with pytest.raises(AmountParseError):
        parse_amount(12)  # type: ignore[arg-type]


def test_floats_and_bools_are_refused() -> None:
    with pytest.raises(InvalidAmountError, match="float"):
        Money(1.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmountError):
        Money(True, "EUR")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmountError):
        Money(object(), "EUR")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmountError):
        Money("1", "EUR") * 1.5  # type: ignore[operator]


@pytest.mark.parametrize(
    "value",
    [
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        Decimal("1E+30"),
        Decimal("1E-30"),
    ],
)
def test_decimals_out_of_bounds_are_refused(value: Decimal) -> None:
    with pytest.raises(InvalidAmountError):
        Money(value, "EUR")


def test_negative_zero_and_exponents_are_normalised() -> None:
    assert str(Money(Decimal("-0.00"), "EUR")) == "0.00 EUR"
    assert not Money(Decimal("-0"), "EUR").amount.is_signed()
    assert str(Money(Decimal("1E+2"), "EUR")) == "100 EUR"
    assert to_decimal(3) == Decimal(3)


def test_currencies_and_minor_units_come_from_cldr() -> None:
    assert (minor_units("EUR"), minor_units("JPY"), minor_units("KWD"), minor_units("USD")) == (
        2,
        0,
        3,
        2,
    )
    assert is_currency("CHF")
    assert not is_currency("eur")
    assert not is_currency("XYZ1")
    assert not is_currency(None)
    with pytest.raises(UnknownCurrencyError):
        Money("1", "ABC")
    with pytest.raises(UnknownCurrencyError):
        minor_units("ZZZ")


def test_arithmetic_is_exact_and_currency_checked() -> None:
    a = Money("10.10", "EUR")
    b = Money("0.05", "EUR")
    assert a + b == Money("10.15", "EUR")
    assert a - b == Money("10.05", "EUR")
    assert -a == Money("-10.10", "EUR")
    assert abs(Money("-3", "EUR")) == Money("3", "EUR")
    assert a * 3 == Money("30.30", "EUR")
    assert 3 * a == a * 3
    assert a * Decimal("0.5") == Money("5.05", "EUR")
    assert Money("200", "EUR").percent(19) == Money("38", "EUR")
    assert Money("0.01", "EUR").percent(Decimal("33.3")) == Money("0.00333", "EUR")
    with pytest.raises(CurrencyMismatchError) as info:
        a + Money("1", "USD")
    assert (info.value.left, info.value.right) == ("EUR", "USD")
    with pytest.raises(InvalidAmountError):
        a + 1  # type: ignore[operator]


def test_comparisons_require_one_currency() -> None:
    a, b = Money("1", "EUR"), Money("2", "EUR")
    assert a < b
    assert a <= b
    assert b > a
    assert b >= a
    assert a.min(b) is a
    assert a.max(b) is b
    assert Money("1.0", "EUR") == Money("1.00", "EUR")
    assert hash(Money("1.0", "EUR")) == hash(Money("1.00", "EUR"))
    assert Money("1", "EUR") != Money("1", "USD")
    with pytest.raises(CurrencyMismatchError):
        _ = a < Money("2", "USD")


def test_predicates() -> None:
    assert Money.zero("JPY").is_zero()
    assert str(Money.zero("KWD")) == "0.000 KWD"
    assert Money("1", "EUR").is_positive()
    assert Money("-1", "EUR").is_negative()
    assert Money("1.23", "EUR").is_rounded()
    assert not Money("1.234", "EUR").is_rounded()


def test_minor_unit_conversions() -> None:
    assert Money("12.34", "EUR").in_minor_units() == 1234
    assert Money("1234", "JPY").in_minor_units() == 1234
    assert Money.from_minor_units(1234, "KWD") == Money("1.234", "KWD")
    with pytest.raises(InvalidAmountError):
        Money("1.234", "EUR").in_minor_units()
    with pytest.raises(InvalidAmountError):
        Money.from_minor_units(True, "EUR")


@pytest.mark.parametrize(
    ("amount", "mode", "expected"),
    [
        ("0.125", RoundingMode.HALF_UP, "0.13"),
        ("0.125", RoundingMode.HALF_EVEN, "0.12"),
        ("0.135", RoundingMode.HALF_EVEN, "0.14"),
        ("0.125", RoundingMode.HALF_DOWN, "0.12"),
        ("0.121", RoundingMode.UP, "0.13"),
        ("0.129", RoundingMode.DOWN, "0.12"),
        ("-0.121", RoundingMode.CEILING, "-0.12"),
        ("-0.121", RoundingMode.FLOOR, "-0.13"),
        ("-0.125", RoundingMode.HALF_UP, "-0.13"),
    ],
)
def test_rounding_uses_the_mode_given(amount: str, mode: RoundingMode, expected: str) -> None:
    assert str(Money(amount, "EUR").round(mode).amount) == expected


def test_rounding_respects_minor_units() -> None:
    assert Money("1234.5", "JPY").round(RoundingMode.HALF_UP) == Money("1235", "JPY")
    assert str(Money("1.23456", "KWD").round(RoundingMode.HALF_UP)) == "1.235 KWD"


def test_allocation_examples() -> None:
    parts = Money("100.00", "EUR").allocate([1, 1, 1])
    assert [str(p.amount) for p in parts] == ["33.34", "33.33", "33.33"]
    parts = Money("-100.00", "EUR").allocate([1, 1, 1])
    assert [str(p.amount) for p in parts] == ["-33.34", "-33.33", "-33.33"]
    parts = Money("10", "JPY").allocate([Decimal("0.5"), Decimal("0.25"), Decimal("0.25")])
    assert [p.amount for p in parts] == [5, Decimal(3), Decimal(2)]
    parts = Money("0.05", "EUR").allocate([0, 1, 0])
    assert [str(p.amount) for p in parts] == ["0.00", "0.05", "0.00"]
    # An amount finer than the minor unit is allocated at its own scale.
    parts = Money("0.001", "EUR").allocate([1, 1])
    assert sum(p.amount for p in parts) == Decimal("0.001")


@pytest.mark.parametrize("ratios", [[], [0, 0], [1, -1]])
def test_bad_ratios_are_refused(ratios: list[int]) -> None:
    with pytest.raises(AllocationError):
        Money("1", "EUR").allocate(ratios)


def test_whole_number_ratios_are_unbounded() -> None:
    big = 10**30
    parts = Money("1.00", "EUR").allocate([big, big, 2 * big])
    assert parts == (Money("0.25", "EUR"), Money("0.25", "EUR"), Money("0.50", "EUR"))


def test_money_sum() -> None:
    assert money_sum([], "EUR") == Money.zero("EUR")
    assert money_sum([Money("1.5", "EUR"), Money("2", "EUR")], "EUR") == Money("3.5", "EUR")
    with pytest.raises(CurrencyMismatchError):
        money_sum([Money("1", "USD")], "EUR")


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en_US", "€1,234.50"),
        ("de_DE", "1.234,50\xa0€"),
        ("fr_FR", "1\u202f234,50\xa0€"),
    ],
)
def test_locale_formatting(locale: str, expected: str) -> None:
    assert Money("1234.5", "EUR").format(locale) == expected


def test_yen_formats_without_decimals() -> None:
    assert Money("1234", "JPY").format("ja_JP") == "￥1,234"


def test_text_forms() -> None:
    m = Money("12.50", "EUR")
    assert str(m) == "12.50 EUR"
    assert repr(m) == "Money('12.50', 'EUR')"
    assert Money.parse("3.10", "USD") == Money("3.1", "USD")


def test_overflowing_products_raise_instead_of_rounding() -> None:
    huge = Money("999999999999999999", "EUR")
    with pytest.raises(InvalidAmountError):
        huge * Decimal("999999999999999999")


def test_errors_pickle_with_their_fields() -> None:
    with pytest.raises(AmountParseError) as info:
        parse_amount("1e3")
    clone = pickle.loads(pickle.dumps(info.value))  # noqa: S301 - our own object
    assert isinstance(clone, AmountParseError)
    assert clone.position == 1
    assert str(clone) == str(info.value)


@pytest.mark.parametrize(
    ("value", "allow", "ok"),
    [
        (Money("1.00", "EUR"), "positive", True),
        (Money("0.00", "EUR"), "positive", False),
        (Money("0.00", "EUR"), "non_negative", True),
        (Money("-1.00", "EUR"), "non_negative", False),
        (Money("-1.00", "EUR"), "any", True),
        (Money("1.005", "EUR"), "any", False),
        ("1.00", "any", False),
    ],
)
def test_require_amount_checks_type_sign_and_minor_units(
    value: object, allow: str, ok: bool
) -> None:
    if ok:
        assert require_amount(value, "amount", allow=allow) is value
    else:
        with pytest.raises(InvalidAmountError, match="amount must be"):
            require_amount(value, "amount", allow=allow)
