"""Customers: addresses, IBANs, locales, structured validation, blocking and groups."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from o2c.customers import (
    Address,
    Customer,
    ancestors,
    block,
    group_members,
    group_root,
    iban_problem,
    is_country,
    is_valid_iban,
    normalize_iban,
    unblock,
    validate_address,
    validate_customer,
)
from o2c.errors import CustomerHierarchyCycleError, DomainError, NotFoundError, ValidationError
from o2c.events import CustomerBlocked, CustomerUnblocked
from o2c.money import Money
from o2c.validation import Severity

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def addr(**changes: Any) -> Address:
    fields: dict[str, Any] = {
        "name": "ACME GmbH",
        "lines": ("Hauptstr. 1",),
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
    }
    fields.update(changes)
    return Address(**fields)


def customer_fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": "C1",
        "name": "ACME GmbH",
        "currency": "EUR",
        "billing_address": addr(),
        "shipping_addresses": (addr(), addr(city="Hamburg", postal_code="20095")),
        "payment_terms": "NET30",
    }
    fields.update(changes)
    return fields


def customer(**changes: Any) -> Customer:
    return Customer(**customer_fields(**changes))


def codes(exc: ValidationError) -> list[tuple[str, str]]:
    return [(i.code, i.field) for i in exc.issues]


# --------------------------------------------------------------------------- countries


def test_is_country_uses_iso_codes_only() -> None:
    assert is_country("DE")
    assert is_country("XK")  # Kosovo: user-assigned, used in IBANs
    assert not is_country("de")  # callers normalise; the predicate is exact
    assert not is_country("EU")
    assert not is_country("ZZ")
    assert not is_country("001")
    assert not is_country(49)


# --------------------------------------------------------------------------- addresses


def test_address_normalises_country_and_single_line() -> None:
    a = Address(name="A", lines="Rue 1", city="Paris", postal_code="75001", country=" fr ")
    assert a.country == "FR"
    assert a.lines == ("Rue 1",)
    assert a.region is None


def test_address_allows_empty_postal_code() -> None:
    assert addr(country="HK", postal_code="").postal_code == ""


def test_address_reports_every_problem() -> None:
    with pytest.raises(ValidationError) as info:
        Address(name=" ", lines=(), city="", postal_code=None, country="XX", region="")  # type: ignore[arg-type]
    assert codes(info.value) == [
        ("address.name_missing", "name"),
        ("address.lines_missing", "lines"),
        ("address.city_missing", "city"),
        ("address.postal_code_invalid", "postal_code"),
        ("address.country_invalid", "country"),
        ("address.region_invalid", "region"),
    ]


def test_validate_address_prefixes_fields_and_checks_line_types() -> None:
    result = validate_address(
        name="A",
        lines=("ok", 7),
        city="X",
        postal_code="1",
        country="DE",
        prefix="billing_address.",
    )
    assert [(i.code, i.field) for i in result.issues] == [
        ("address.line_invalid", "billing_address.lines[1]")
    ]
    assert validate_address(name="A", lines=5, city="X", postal_code="", country="DE").issues[
        0
    ].code == ("address.lines_missing")


# --------------------------------------------------------------------------- IBAN


@pytest.mark.parametrize(
    "iban",
    [
        "DE89 3704 0044 0532 0130 00",
        "gb82 west 1234 5698 7654 32",
        "FR14 2004 1010 0505 0001 3M02 606",
        "NL91ABNA0417164300",
        "BE68539007547034",
        "DE02\t3704 0044 0532 0000 0000 01",
    ],
)
def test_valid_ibans(iban: str) -> None:
    assert is_valid_iban(iban)
    assert iban_problem(normalize_iban(iban)) is None


@pytest.mark.parametrize(
    ("iban", "why"),
    [
        ("DE88370400440532013000", "mod 97"),  # one check digit off
        ("DE89370400440532013001", "mod 97"),  # one account digit off
        ("DE8937040044", "characters"),  # too short
        ("ZZ89370400440532013000", "country"),
        ("DE99370400440532000000001", "never issued"),  # passes mod 97 by accident
        ("DE0X370400440532013000", "two check digits"),
        ("DÉ89370400440532013000", "two check digits"),
        ("DE89-3704-0044-0532-0130-00", "two check digits"),
        ("DE89" + "1" * 40, "characters"),
    ],
)
def test_invalid_ibans(iban: str, why: str) -> None:
    problem = iban_problem(normalize_iban(iban))
    assert problem is not None
    assert why in problem
    assert not is_valid_iban(iban)


def test_is_valid_iban_refuses_non_text() -> None:
    assert not is_valid_iban(None)
    assert normalize_iban(" de89 3704\u00a00044 ") == "DE8937040044"


# --------------------------------------------------------------------------- customers


def test_customer_normalises_ibans_and_locale() -> None:
    c = customer(
        bank_accounts=["de89 3704 0044 0532 0130 00", "NL91ABNA0417164300"],
        locale="de-de",
        credit_limit=Money("5000.00", "EUR"),
        default_shipping=1,
    )
    assert c.bank_accounts == ("DE89370400440532013000", "NL91ABNA0417164300")
    assert c.locale == "de_DE"
    assert c.default_shipping_address.city == "Hamburg"
    assert c.pays_from("DE89 3704 0044 0532 0130 00")
    assert not c.pays_from("GB82WEST12345698765432")


def test_customer_single_iban_string_is_one_account() -> None:
    assert customer(bank_accounts="DE89370400440532013000").bank_accounts == (
        "DE89370400440532013000",
    )


def test_customer_reports_every_problem_with_field_paths() -> None:
    with pytest.raises(ValidationError) as info:
        customer(
            id="",
            name="",
            currency="EUX",
            billing_address="Berlin",
            shipping_addresses=[addr(), "Hamburg"],
            payment_terms=" ",
            default_shipping=5,
            parent_id="",
            bank_accounts=["DE89370400440532013000", "DE88370400440532013000", 42],
            locale="xx_XX",
            email="not-an-email",
            tax_id="  ",
            blocked="yes",
            blocked_reason=None,
        )
    assert codes(info.value) == [
        ("customer.id_missing", "id"),
        ("customer.name_missing", "name"),
        ("customer.currency_unknown", "currency"),
        ("customer.address_invalid", "billing_address"),
        ("customer.address_invalid", "shipping_addresses[1]"),
        ("customer.default_shipping_invalid", "default_shipping"),
        ("customer.payment_terms_missing", "payment_terms"),
        ("customer.parent_id_invalid", "parent_id"),
        ("customer.iban_invalid", "bank_accounts[1]"),
        ("customer.iban_invalid", "bank_accounts[2]"),
        ("customer.locale_invalid", "locale"),
        ("customer.email_invalid", "email"),
        ("customer.tax_id_invalid", "tax_id"),
        ("customer.blocked_invalid", "blocked"),
        ("customer.blocked_reason_invalid", "blocked_reason"),
    ]


def test_credit_limit_must_match_currency_and_be_positive() -> None:
    result = validate_customer(**customer_fields(credit_limit=Money("-1.00", "USD")))
    assert [(i.code, i.field) for i in result.errors] == [
        ("customer.credit_limit_currency", "credit_limit"),
        ("customer.credit_limit_negative", "credit_limit"),
    ]
    result = validate_customer(**customer_fields(credit_limit="1000"))
    assert [i.code for i in result.errors] == ["customer.credit_limit_invalid"]
    assert validate_customer(**customer_fields(credit_limit=Money(0, "EUR"))).ok


def test_parent_cannot_be_self() -> None:
    result = validate_customer(**customer_fields(parent_id="C1"))
    assert [(i.code, i.field) for i in result.errors] == [("customer.parent_is_self", "parent_id")]


def test_shipping_addresses_must_be_a_non_empty_sequence() -> None:
    single = validate_customer(**customer_fields(shipping_addresses=addr()))
    assert [i.code for i in single.errors] == ["customer.shipping_address_missing"]
    empty = validate_customer(**customer_fields(shipping_addresses=()))
    # The default index is not reported again when there is nothing to index.
    assert [i.code for i in empty.errors] == ["customer.shipping_address_missing"]
    flag = validate_customer(**customer_fields(default_shipping=True))
    assert [i.code for i in flag.errors] == ["customer.default_shipping_invalid"]


def test_duplicate_iban_is_a_warning() -> None:
    result = validate_customer(
        **customer_fields(bank_accounts=["DE89370400440532013000", "de89 3704 0044 0532 0130 00"])
    )
    assert result.ok
    assert [(i.code, i.field, i.severity) for i in result.issues] == [
        ("customer.iban_duplicate", "bank_accounts[1]", Severity.WARNING)
    ]


def test_bank_accounts_must_be_a_sequence() -> None:
    result = validate_customer(**customer_fields(bank_accounts=7))
    assert [i.code for i in result.errors] == ["customer.bank_accounts_invalid"]


@pytest.mark.parametrize("locale", ["en_US", "de", "zh_Hant_TW", "fr-CA"])
def test_valid_locales(locale: str) -> None:
    assert validate_customer(**customer_fields(locale=locale)).ok


@pytest.mark.parametrize("locale", ["", "en_US_foo_bar", "xx", None])
def test_invalid_locales(locale: object) -> None:
    result = validate_customer(**customer_fields(locale=locale))
    assert [i.code for i in result.errors] == ["customer.locale_invalid"]


@pytest.mark.parametrize("email", ["a@b", "a b@c.de", "@c.de", "x" * 250 + "@c.de", 5])
def test_invalid_emails(email: object) -> None:
    result = validate_customer(**customer_fields(email=email))
    assert [i.code for i in result.errors] == ["customer.email_invalid"]


def test_valid_email_and_tax_id() -> None:
    c = customer(email="ar@acme.example", tax_id="DE123456789")
    assert c.email == "ar@acme.example"


def test_evolve_revalidates() -> None:
    c = customer()
    with pytest.raises(ValidationError):
        attrs.evolve(c, currency="XXX1")


# --------------------------------------------------------------------------- blocking


def test_block_and_unblock_emit_events_once() -> None:
    c = customer()
    blocked, events = block(c, "dunning level 3", NOW)
    assert blocked.blocked
    assert blocked.blocked_reason == "dunning level 3"
    assert events == (
        CustomerBlocked(aggregate_id="C1", occurred_at=NOW, reason="dunning level 3"),
    )
    assert events[0].aggregate == "customer"
    again, none = block(blocked, "another", NOW)
    assert again is blocked
    assert none == ()
    open_, lifted = unblock(blocked, NOW)
    assert not open_.blocked
    assert open_.blocked_reason == ""
    assert lifted == (CustomerUnblocked(aggregate_id="C1", occurred_at=NOW),)
    assert unblock(open_, NOW) == (open_, ())


def test_block_needs_a_reason_and_an_aware_time() -> None:
    with pytest.raises(ValidationError) as info:
        block(customer(), " ", NOW)
    assert codes(info.value) == [("customer.block_reason_missing", "reason")]
    with pytest.raises(DomainError):
        block(customer(), "why", datetime(2026, 1, 1))
    with pytest.raises(DomainError):
        unblock(customer(), datetime(2026, 1, 1))


# --------------------------------------------------------------------------- groups


def group(*links: tuple[str, str | None]) -> list[Customer]:
    return [customer(id=cid, parent_id=parent) for cid, parent in links]


def test_group_members_are_all_descendants_breadth_first() -> None:
    cs = group(
        ("HQ", None),
        ("B", "HQ"),
        ("A", "HQ"),
        ("A1", "A"),
        ("B1", "B"),
        ("A11", "A1"),
        ("OTHER", None),
        ("X", "OUTSIDE"),  # parent not loaded
    )
    assert [c.id for c in group_members(cs, "HQ")] == ["A", "B", "A1", "B1", "A11"]
    assert [c.id for c in group_members(cs, "A")] == ["A1", "A11"]
    assert group_members(cs, "A11") == ()
    assert [c.id for c in ancestors(cs, "A11")] == ["A1", "A", "HQ"]
    assert ancestors(cs, "X") == ()
    assert group_root(cs, "A11").id == "HQ"
    assert group_root(cs, "HQ").id == "HQ"


def test_cycle_through_the_root_is_a_typed_error() -> None:
    cs = group(("A", "C"), ("B", "A"), ("C", "B"), ("D", "C"))
    with pytest.raises(CustomerHierarchyCycleError) as info:
        group_members(cs, "D")
    assert info.value.cycle == ("A", "C", "B")
    assert info.value.code == "customer.hierarchy_cycle"
    with pytest.raises(CustomerHierarchyCycleError):
        group_root(cs, "B")


def test_cycle_elsewhere_does_not_break_an_unrelated_group() -> None:
    cs = group(("A", "B"), ("B", "A"), ("R", None), ("R1", "R"))
    assert [c.id for c in group_members(cs, "R")] == ["R1"]


def test_unknown_root_and_duplicate_ids() -> None:
    with pytest.raises(NotFoundError) as info:
        group_members(group(("A", None)), "Z")
    assert info.value.id == "Z"
    with pytest.raises(ValidationError) as dup:
        ancestors(group(("A", None), ("A", None)), "A")
    assert codes(dup.value) == [("customer.duplicate_id", "customers[1]")]


def test_constructor_refuses_a_non_text_locale() -> None:
    with pytest.raises(ValidationError) as info:
        customer(locale=None)
    assert codes(info.value) == [("customer.locale_invalid", "locale")]
