"""Customers: who buys, where goods go, how they pay, and how groups hang together.

A :class:`Customer` is always valid: its constructor collects *every* problem and
raises one :class:`~o2c.errors.ValidationError`. :func:`validate_customer` runs the
same checks on raw values and returns a :class:`~o2c.validation.ValidationResult`
instead, so a host can show all issues on a form before building anything.

Checks rely on data babel ships (CLDR): ISO 4217 currencies, ISO 3166 territories,
locales. IBANs are checked structurally and by their ISO 7064 mod-97 check digits;
country-specific lengths are deliberately not checked, because the SWIFT registry
changes (Costa Rica went from 21 to 22 characters) and a stale table would refuse
valid accounts.

Customer groups are parent links (``parent_id``); :func:`group_members` and
:func:`ancestors` walk them and refuse cycles with a typed error instead of looping.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Final

import attrs
from babel import Locale, UnknownLocaleError

from o2c.clock import require_aware
from o2c.errors import CustomerHierarchyCycleError, NotFoundError
from o2c.events import CustomerBlocked, CustomerUnblocked
from o2c.money import Money, is_currency
from o2c.validation import Issue, Severity, ValidationResult

__all__ = [
    "Address",
    "Customer",
    "ancestors",
    "block",
    "group_members",
    "group_root",
    "iban_problem",
    "is_country",
    "is_valid_iban",
    "normalize_iban",
    "unblock",
    "validate_address",
    "validate_customer",
]

# Two-letter codes babel lists as territories that are not ISO 3166-1 assigned:
# exceptionally reserved (AC, CP, DG, EA, IC, TA), groupings (EU, EZ, UN), private
# use (QO, XA, XB) and "unknown" (ZZ). XK (Kosovo) stays: it is user-assigned but
# used by the EU and in IBANs.
_NOT_ISO_3166: Final = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}
)
_IBAN_SHAPE: Final = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]+", re.ASCII)
_IBAN_MIN, _IBAN_MAX = 15, 34
# Deliberately loose: one "@", no white space, a dot in the domain. Deliverability is
# the mail system's business, not the domain's.
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_EMAIL_MAX: Final = 254


# --------------------------------------------------------------------------- countries


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    codes = (str(code) for code in Locale("en").territories)
    return frozenset(
        code
        for code in codes
        if len(code) == 2 and code.isascii() and code.isalpha() and code not in _NOT_ISO_3166
    )


def is_country(code: object) -> bool:
    """True when ``code`` is an upper-case ISO 3166-1 alpha-2 code in babel's CLDR data.

    >>> is_country("DE"), is_country("de"), is_country("EU")
    (True, False, False)
    """
    return isinstance(code, str) and code in _countries()


def _normalize_country(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _address_lines(value: object) -> object:
    # A single string is one line, not a sequence of one-character lines.
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Iterable):
        return tuple(value)
    return value


def _blank(value: object) -> bool:
    return not isinstance(value, str) or not value.strip()


def validate_address(
    *,
    name: object,
    lines: object,
    city: object,
    postal_code: object,
    country: object,
    region: object = None,
    prefix: str = "",
) -> ValidationResult:
    """Check raw address fields; paths start with ``prefix`` (e.g. ``"billing_address."``).

    Postal codes may be empty: several countries (Hong Kong, the UAE, ...) have none.
    """
    issues: list[Issue] = []
    if _blank(name):
        issues.append(Issue("address.name_missing", f"{prefix}name", "a name is required"))
    line_values = _address_lines(lines)
    if not isinstance(line_values, tuple) or all(_blank(x) for x in line_values):
        issues.append(
            Issue("address.lines_missing", f"{prefix}lines", "at least one street line is required")
        )
    else:
        issues.extend(
            Issue("address.line_invalid", f"{prefix}lines[{i}]", "a line must be text")
            for i, x in enumerate(line_values)
            if not isinstance(x, str)
        )
    if _blank(city):
        issues.append(Issue("address.city_missing", f"{prefix}city", "a city is required"))
    if not isinstance(postal_code, str):
        issues.append(Issue("address.postal_code_invalid", f"{prefix}postal_code", "must be text"))
    if not is_country(_normalize_country(country)):
        issues.append(
            Issue(
                "address.country_invalid",
                f"{prefix}country",
                f"{country!r} is not an ISO 3166-1 alpha-2 country code",
            )
        )
    if region is not None and _blank(region):
        issues.append(
            Issue("address.region_invalid", f"{prefix}region", "leave out or give a region")
        )
    return ValidationResult.of(issues)


@attrs.frozen(kw_only=True)
class Address:
    """A postal address.

    Args:
        name: Addressee (person or company).
        lines: Street lines; a single string is one line.
        city: City or locality.
        postal_code: Postal code ("" where the country has none).
        country: ISO 3166-1 alpha-2 code; case and surrounding spaces are normalised.
        region: State, province or county, when the country uses one.

    Raises:
        ValidationError: listing every problem (codes ``address.*``).
    """

    name: str
    lines: tuple[str, ...] = attrs.field(converter=_address_lines)
    city: str
    postal_code: str = ""
    country: str = attrs.field(converter=_normalize_country)
    region: str | None = None

    def __attrs_post_init__(self) -> None:
        validate_address(
            name=self.name,
            lines=self.lines,
            city=self.city,
            postal_code=self.postal_code,
            country=self.country,
            region=self.region,
        ).raise_if_invalid("address")


# --------------------------------------------------------------------------- IBAN


def normalize_iban(value: str) -> str:
    """Remove all white space and upper-case: ``"de89 3704 ..."`` -> ``"DE893704..."``."""
    return "".join(value.split()).upper()


def iban_problem(iban: str) -> str | None:
    """Why ``iban`` (already normalised) is not a valid IBAN, or None when it is.

    Checks the shape (country letters, two check digits, ASCII letters and digits),
    the overall length (15 to 34), the country code and the ISO 7064 mod-97 check.
    """
    if not _IBAN_SHAPE.fullmatch(iban):
        return "an IBAN is two letters, two check digits and letters or digits"
    if not _IBAN_MIN <= len(iban) <= _IBAN_MAX:
        return f"an IBAN has {_IBAN_MIN} to {_IBAN_MAX} characters, this one {len(iban)}"
    if not is_country(iban[:2]):
        return f"{iban[:2]!r} is not a country code"
    # Check digits are 98 - (n mod 97), i.e. 02..98; 00, 01 and 99 can pass mod 97
    # only by accident (99 = 2 mod 97).
    if iban[2:4] in {"00", "01", "99"}:
        return f"check digits {iban[2:4]} are never issued"
    rearranged = iban[4:] + iban[:4]
    number = int("".join(str(int(ch, 36)) for ch in rearranged))
    if number % 97 != 1:
        return "the check digits do not match (mod 97)"
    return None


def is_valid_iban(value: object) -> bool:
    """True when ``value`` is a valid IBAN once spaces and case are normalised.

    >>> is_valid_iban("de89 3704 0044 0532 0130 00"), is_valid_iban("DE88370400440532013000")
    (True, False)
    """
    return isinstance(value, str) and iban_problem(normalize_iban(value)) is None


def _normalize_ibans(value: object) -> object:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, Iterable):
        return value
    return tuple(normalize_iban(v) if isinstance(v, str) else v for v in value)


# --------------------------------------------------------------------------- locales


def _normalize_locale(value: object) -> object:
    # "EN-us" and "en_US" name the same locale; store babel's canonical spelling.
    if not isinstance(value, str):
        return value
    try:
        return str(Locale.parse(value.strip().replace("-", "_")))
    except (ValueError, TypeError, UnknownLocaleError):
        return value


def _locale_ok(value: object) -> bool:
    if not isinstance(value, str) or not value:
        return False
    try:
        Locale.parse(value.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return False
    return True


# --------------------------------------------------------------------------- customers


def validate_customer(
    *,
    id: object,
    name: object,
    currency: object,
    billing_address: object,
    shipping_addresses: object,
    payment_terms: object,
    default_shipping: object = 0,
    credit_limit: object = None,
    parent_id: object = None,
    bank_accounts: object = (),
    locale: object = "en_US",
    email: object = None,
    tax_id: object = None,
    blocked: object = False,
    blocked_reason: object = "",
) -> ValidationResult:
    """Check raw customer fields and return every issue (codes ``customer.*``).

    Takes the same keywords as :class:`Customer`. IBANs and the locale are normalised
    before they are checked, as the constructor does.

    >>> validate_customer(id="C1", name="ACME", currency="EUR", billing_address=None,
    ...     shipping_addresses=(), payment_terms="NET30").ok
    False
    """
    issues: list[Issue] = []
    if _blank(id):
        issues.append(Issue("customer.id_missing", "id", "an id is required"))
    if _blank(name):
        issues.append(Issue("customer.name_missing", "name", "a name is required"))
    if not is_currency(currency):
        issues.append(
            Issue("customer.currency_unknown", "currency", f"{currency!r} is not ISO 4217")
        )
    if not isinstance(billing_address, Address):
        issues.append(
            Issue("customer.address_invalid", "billing_address", "an Address is required")
        )
    issues.extend(_shipping_issues(shipping_addresses, default_shipping))
    if _blank(payment_terms):
        issues.append(
            Issue("customer.payment_terms_missing", "payment_terms", "a terms code is required")
        )
    issues.extend(_credit_limit_issues(credit_limit, currency))
    if parent_id is not None:
        if _blank(parent_id):
            issues.append(
                Issue("customer.parent_id_invalid", "parent_id", "give a parent id or None")
            )
        elif parent_id == id:
            issues.append(
                Issue("customer.parent_is_self", "parent_id", "a customer cannot be its own parent")
            )
    issues.extend(_bank_account_issues(bank_accounts))
    if not _locale_ok(locale):
        issues.append(
            Issue("customer.locale_invalid", "locale", f"{locale!r} is not a known locale")
        )
    if email is not None and (
        not isinstance(email, str) or len(email) > _EMAIL_MAX or not _EMAIL.fullmatch(email)
    ):
        issues.append(
            Issue("customer.email_invalid", "email", "expected an address like name@example.com")
        )
    if tax_id is not None and _blank(tax_id):
        issues.append(Issue("customer.tax_id_invalid", "tax_id", "leave out or give a tax id"))
    if not isinstance(blocked, bool):
        issues.append(Issue("customer.blocked_invalid", "blocked", "must be True or False"))
    if not isinstance(blocked_reason, str):
        issues.append(Issue("customer.blocked_reason_invalid", "blocked_reason", "must be text"))
    return ValidationResult.of(issues)


def _shipping_issues(shipping_addresses: object, default_shipping: object) -> list[Issue]:
    issues: list[Issue] = []
    if not isinstance(shipping_addresses, Sequence) or isinstance(shipping_addresses, str):
        return [
            Issue(
                "customer.shipping_address_missing",
                "shipping_addresses",
                "a sequence of at least one Address is required",
            )
        ]
    if not shipping_addresses:
        issues.append(
            Issue(
                "customer.shipping_address_missing",
                "shipping_addresses",
                "at least one shipping address is required",
            )
        )
    issues.extend(
        Issue("customer.address_invalid", f"shipping_addresses[{i}]", "an Address is required")
        for i, a in enumerate(shipping_addresses)
        if not isinstance(a, Address)
    )
    if (
        isinstance(default_shipping, bool)
        or not isinstance(default_shipping, int)
        or not 0 <= default_shipping < max(len(shipping_addresses), 1)
    ):
        issues.append(
            Issue(
                "customer.default_shipping_invalid",
                "default_shipping",
                "must be the index of one of the shipping addresses",
            )
        )
    return issues


def _credit_limit_issues(credit_limit: object, currency: object) -> list[Issue]:
    if credit_limit is None:
        return []
    if not isinstance(credit_limit, Money):
        return [Issue("customer.credit_limit_invalid", "credit_limit", "must be Money or None")]
    issues = []
    if is_currency(currency) and credit_limit.currency != currency:
        issues.append(
            Issue(
                "customer.credit_limit_currency",
                "credit_limit",
                f"the limit is in {credit_limit.currency}, the customer in {currency}",
            )
        )
    if credit_limit.is_negative():
        issues.append(
            Issue("customer.credit_limit_negative", "credit_limit", "a limit cannot be negative")
        )
    return issues


def _bank_account_issues(bank_accounts: object) -> list[Issue]:
    accounts = _normalize_ibans(bank_accounts)
    if not isinstance(accounts, tuple):
        return [
            Issue("customer.bank_accounts_invalid", "bank_accounts", "must be a sequence of IBANs")
        ]
    issues: list[Issue] = []
    seen: set[str] = set()
    for i, iban in enumerate(accounts):
        field = f"bank_accounts[{i}]"
        if not isinstance(iban, str):
            issues.append(Issue("customer.iban_invalid", field, "an IBAN must be text"))
            continue
        problem = iban_problem(iban)
        if problem is not None:
            issues.append(Issue("customer.iban_invalid", field, problem))
        elif iban in seen:
            issues.append(Issue("customer.iban_duplicate", field, "listed twice", Severity.WARNING))
        seen.add(iban)
    return issues


@attrs.frozen(kw_only=True)
class Customer:
    """A customer (a buyer; possibly a member of a group through ``parent_id``).

    Args:
        id: Caller-given identifier.
        name: Legal or display name.
        currency: ISO 4217 code orders default to.
        billing_address: Where invoices go.
        shipping_addresses: At least one delivery address.
        payment_terms: A terms code such as ``"NET30"`` (terms live in :mod:`o2c.terms`).
        default_shipping: Index into ``shipping_addresses``.
        credit_limit: Limit in the customer's currency; None for no limit set.
        parent_id: The parent company in a group, if any.
        bank_accounts: IBANs the customer pays from (spaces removed, upper-cased);
            cash application learns the payer from them.
        locale: Babel locale for documents, e.g. ``"de_DE"`` (normalised).
        email: Contact address, if any.
        tax_id: VAT or tax number, if any.
        blocked: True blocks new orders.
        blocked_reason: Why it is blocked.

    Raises:
        ValidationError: listing every problem (see :func:`validate_customer`).
    """

    id: str
    name: str
    currency: str
    billing_address: Address
    shipping_addresses: tuple[Address, ...] = attrs.field(converter=_address_lines)
    payment_terms: str
    default_shipping: int = 0
    credit_limit: Money | None = None
    parent_id: str | None = None
    bank_accounts: tuple[str, ...] = attrs.field(default=(), converter=_normalize_ibans)
    locale: str = attrs.field(default="en_US", converter=_normalize_locale)
    email: str | None = None
    tax_id: str | None = None
    blocked: bool = False
    blocked_reason: str = ""

    def __attrs_post_init__(self) -> None:
        validate_customer(
            id=self.id,
            name=self.name,
            currency=self.currency,
            billing_address=self.billing_address,
            shipping_addresses=self.shipping_addresses,
            payment_terms=self.payment_terms,
            default_shipping=self.default_shipping,
            credit_limit=self.credit_limit,
            parent_id=self.parent_id,
            bank_accounts=self.bank_accounts,
            locale=self.locale,
            email=self.email,
            tax_id=self.tax_id,
            blocked=self.blocked,
            blocked_reason=self.blocked_reason,
        ).raise_if_invalid("customer")

    @property
    def default_shipping_address(self) -> Address:
        """The shipping address orders use unless told otherwise."""
        return self.shipping_addresses[self.default_shipping]

    def pays_from(self, iban: str) -> bool:
        """True when ``iban`` (any spacing or case) is one of the customer's accounts."""
        return normalize_iban(iban) in self.bank_accounts


def block(
    customer: Customer, reason: str, now: datetime
) -> tuple[Customer, tuple[CustomerBlocked, ...]]:
    """Block new orders for ``customer`` (e.g. a dunning level or a fraud suspicion).

    Blocking a blocked customer changes nothing and emits no event, so a retried
    command is harmless.

    Raises:
        ValidationError: ``reason`` is blank.
        DomainError: ``now`` is naive.
    """
    require_aware(now)
    if _blank(reason):
        ValidationResult(
            (Issue("customer.block_reason_missing", "reason", "say why the customer is blocked"),)
        ).raise_if_invalid("block")
    if customer.blocked:
        return customer, ()
    event = CustomerBlocked(aggregate_id=customer.id, occurred_at=now, reason=reason)
    return attrs.evolve(customer, blocked=True, blocked_reason=reason), (event,)


def unblock(customer: Customer, now: datetime) -> tuple[Customer, tuple[CustomerUnblocked, ...]]:
    """Lift a block; unblocking an unblocked customer changes nothing.

    Raises:
        DomainError: ``now`` is naive.
    """
    require_aware(now)
    if not customer.blocked:
        return customer, ()
    event = CustomerUnblocked(aggregate_id=customer.id, occurred_at=now)
    return attrs.evolve(customer, blocked=False, blocked_reason=""), (event,)


# --------------------------------------------------------------------------- groups


def _index(customers: Iterable[Customer]) -> dict[str, Customer]:
    by_id: dict[str, Customer] = {}
    issues = []
    for i, c in enumerate(customers):
        if c.id in by_id:
            issues.append(Issue("customer.duplicate_id", f"customers[{i}]", f"{c.id!r} twice"))
        by_id[c.id] = c
    ValidationResult.of(issues).raise_if_invalid("customers")
    return by_id


def _chain(by_id: dict[str, Customer], customer_id: str) -> tuple[Customer, ...]:
    if customer_id not in by_id:
        raise NotFoundError(kind="customer", id=customer_id)
    path: list[str] = [customer_id]
    position = {customer_id: 0}
    chain: list[Customer] = []
    parent = by_id[customer_id].parent_id
    # A parent outside the set (another company, not loaded) ends the chain.
    while parent is not None and parent in by_id:
        if parent in position:
            loop = path[position[parent] :]
            start = loop.index(min(loop))
            raise CustomerHierarchyCycleError(cycle=tuple(loop[start:] + loop[:start]))
        position[parent] = len(path)
        path.append(parent)
        chain.append(by_id[parent])
        parent = by_id[parent].parent_id
    return tuple(chain)


def ancestors(customers: Iterable[Customer], customer_id: str) -> tuple[Customer, ...]:
    """The parent, grandparent, ... of ``customer_id``, nearest first.

    The chain ends at a customer without a parent or whose parent is not in
    ``customers``.

    Raises:
        NotFoundError: ``customer_id`` is not among ``customers``.
        CustomerHierarchyCycleError: the parent links loop.
        ValidationError: two customers share an id.
    """
    return _chain(_index(customers), customer_id)


def group_root(customers: Iterable[Customer], customer_id: str) -> Customer:
    """The top of ``customer_id``'s group (itself when it has no parent in ``customers``).

    Raises:
        NotFoundError: ``customer_id`` is not among ``customers``.
        CustomerHierarchyCycleError: the parent links loop.
        ValidationError: two customers share an id.
    """
    by_id = _index(customers)
    chain = _chain(by_id, customer_id)
    return chain[-1] if chain else by_id[customer_id]


def group_members(customers: Iterable[Customer], root_id: str) -> tuple[Customer, ...]:
    """Every descendant of ``root_id`` (children, grandchildren, ...), root excluded.

    Breadth first, children of one parent ordered by id, so the result is
    deterministic.

    Raises:
        NotFoundError: ``root_id`` is not among ``customers``.
        CustomerHierarchyCycleError: the root's parent links loop (a loop through a
            descendant always passes through the root).
        ValidationError: two customers share an id.
    """
    by_id = _index(customers)
    _chain(by_id, root_id)
    children: dict[str, list[Customer]] = {}
    for c in sorted(by_id.values(), key=lambda c: c.id):
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append(c)
    members: list[Customer] = []
    # Each customer has one parent, so a loop below the root would have to pass
    # through the root; the root's chain is loop-free (checked above), hence the
    # walk below is a tree walk and terminates.
    todo = deque([root_id])
    while todo:
        for child in children.get(todo.popleft(), ()):
            members.append(child)
            todo.append(child.id)
    return tuple(members)
