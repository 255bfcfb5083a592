"""Credit policy: explainable approve / hold / reject decisions on orders.

The credit module is pure domain. It never looks anything up: the engine gathers the
facts (the customer's credit profile, its exposure and, for a group, the consolidated
group exposure), passes them in a :class:`CreditRequest`, and gets back a
:class:`CreditDecision` and the events it caused from :func:`check_credit`.

How a decision is made (after Tryton's credit limit, ERPNext's customer/group limits and
credit-controller role, and SAP FSCM's documented decisions and risk classes):

* **Exposure** is what the customer owes or will owe: named components (open
  receivables, confirmed but unbilled orders, shipped but not invoiced, open disputes,
  plus any names a host adds) summed into :attr:`Exposure.total`. Components are
  additive, so the engine must pass *disjoint* amounts, and the order being checked
  must not be in them (a re-check of a held or reopened order passes the exposure
  *without* that order, so it is counted exactly once).
* **Rules** are pluggable (:class:`CreditRule`). A :class:`CreditPolicy` runs *every*
  rule, so the decision explains everything, and the most severe verdict wins
  (REJECT > HOLD > APPROVE). A rule can therefore only add restrictions: no rule can
  approve what another holds. When no rule has an opinion the policy's
  ``when_silent`` outcome applies (HOLD by default: silence is not consent).
* **No limit configured** (``limit=None``) means "nobody has set one", not "unlimited":
  the default policy HOLDs such orders for review (:class:`NoLimitRule`); a host that
  wants Tryton's behaviour (no limit = no check) configures ``no_limit=APPROVE``.
* **The limit is inclusive**: exposure + order == limit is within the limit; only
  strictly greater holds.
* **Overrides** are the only way to loosen a decision: :func:`apply_override` records
  who, why, when and under which authority, keeps the policy's outcome, and emits
  :class:`~o2c.events.CreditOverridden`. A blocked customer's REJECT needs an override
  that says ``allow_blocked``.

Races are the engine's business, not this module's: it must hold the customer's (and
the group's) credit lock from gathering the facts until the approved order is counted
in the exposure, so that two orders cannot both pass against the same headroom.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

import attrs

from o2c.clock import require_aware
from o2c.errors import (
    BlockedCustomerOverrideError,
    CreditCurrencyError,
    CreditLimitExceededError,
    CreditNotApprovedError,
    CreditOverrideRefusedError,
    CreditPolicyError,
    InvalidCreditInputError,
    OverrideAmountExceededError,
    OverrideNotAuthorisedError,
    UnknownCurrencyError,
)
from o2c.events import CreditChecked, CreditOverridden
from o2c.money import Money, is_currency, money_sum

__all__ = [
    "CreditDecision",
    "CreditFacts",
    "CreditOutcome",
    "CreditOverride",
    "CreditPolicy",
    "CreditProfile",
    "CreditRequest",
    "CreditRule",
    "CustomerBlockedRule",
    "DunningLevelRule",
    "Exposure",
    "ExposureComponent",
    "GroupLimitRule",
    "NoLimitRule",
    "OverdueRule",
    "OwnLimitRule",
    "ReasonCode",
    "RiskClassRule",
    "RuleOutcome",
    "RuleVerdict",
    "apply_override",
    "check_credit",
    "consolidate_group",
    "default_rules",
]

_MAX_NAME = 64


# --------------------------------------------------------------------------- outcomes


class CreditOutcome(StrEnum):
    """What a credit check decides, from least to most severe."""

    APPROVE = "approve"
    HOLD = "hold"
    REJECT = "reject"

    @property
    def severity(self) -> int:
        """0 for APPROVE, 1 for HOLD, 2 for REJECT; the policy keeps the highest."""
        return _SEVERITY[self]


_SEVERITY: dict[CreditOutcome, int] = {
    CreditOutcome.APPROVE: 0,
    CreditOutcome.HOLD: 1,
    CreditOutcome.REJECT: 2,
}


def _outcome(value: str) -> CreditOutcome:
    try:
        return CreditOutcome(value)
    except ValueError:
        raise _invalid(
            "outcome", f"{value!r:.40} is not one of {[o.value for o in CreditOutcome]}"
        ) from None


class ReasonCode(StrEnum):
    """Stable reason codes of the built-in rules (hosts map them without parsing text)."""

    CUSTOMER_BLOCKED = "credit.customer_blocked"
    CUSTOMER_NOT_BLOCKED = "credit.customer_not_blocked"
    DUNNING_BLOCKED = "credit.dunning_blocked"
    DUNNING_OK = "credit.dunning_ok"
    OVERDUE = "credit.overdue"
    OVERDUE_OK = "credit.overdue_ok"
    LIMIT_EXCEEDED = "credit.limit_exceeded"
    WITHIN_LIMIT = "credit.within_limit"
    GROUP_LIMIT_EXCEEDED = "credit.group_limit_exceeded"
    WITHIN_GROUP_LIMIT = "credit.within_group_limit"
    NO_LIMIT = "credit.no_limit"
    RISK_CLASS = "credit.risk_class"
    NO_OPINION = "credit.no_opinion"
    SILENT_POLICY = "credit.silent_policy"


_LIMIT_CODES = frozenset({ReasonCode.LIMIT_EXCEEDED, ReasonCode.GROUP_LIMIT_EXCEEDED})


# --------------------------------------------------------------------------- helpers


def _invalid(what: str, reason: str) -> InvalidCreditInputError:
    return InvalidCreditInputError(f"{what}: {reason}", what=what, reason=reason)


def _require_name(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _invalid(what, "must be a non-empty string")
    return value


def _require_currency(value: object) -> str:
    if not isinstance(value, str) or not is_currency(value):
        raise UnknownCurrencyError(currency=value)
    return value


def _require_money(value: object, currency: str, what: str, *, signed: bool = False) -> Money:
    if not isinstance(value, Money):
        raise _invalid(what, f"must be Money, not {type(value).__name__}")
    if value.currency != currency:
        raise CreditCurrencyError(
            f"{what} is in {value.currency}, expected {currency}",
            what=what,
            left=currency,
            right=value.currency,
        )
    if not signed and value.is_negative():
        raise _invalid(what, f"must not be negative (got {value})")
    return value


def _plain(value: str) -> str:
    # Codes travel in events and storage: keep plain strings, not enum members.
    return str(value) if isinstance(value, str) else value


def _require_count(value: object, what: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _invalid(what, f"must be an int >= {minimum}")
    return value


# --------------------------------------------------------------------------- exposure


class ExposureComponent(StrEnum):
    """The standard, disjoint parts of a customer's credit exposure.

    Hosts may add their own component names (e.g. ``"pending_payments"``); they sort
    after these, alphabetically.
    """

    #: Issued invoices not yet paid (net of unapplied cash, so it may be negative).
    OPEN_RECEIVABLES = "open_receivables"
    #: Confirmed orders neither shipped nor invoiced.
    UNBILLED_ORDERS = "unbilled_orders"
    #: Goods shipped and not yet invoiced.
    SHIPPED_NOT_INVOICED = "shipped_not_invoiced"
    #: Disputed amounts no longer on an open invoice (deductions, chargebacks).
    OPEN_DISPUTES = "open_disputes"


_STANDARD_ORDER: dict[str, int] = {str(c): i for i, c in enumerate(ExposureComponent)}

#: Components as a mapping (keys may be :class:`ExposureComponent` members) or pairs.
ComponentsInput = (
    Mapping[str, Money] | Mapping[ExposureComponent, Money] | Iterable[tuple[str, Money]]
)


def _component_key(name: str) -> tuple[int, str]:
    return (_STANDARD_ORDER.get(name, len(_STANDARD_ORDER)), name)


def _component_name(name: object) -> str:
    if not isinstance(name, str) or not name or name != name.strip() or len(name) > _MAX_NAME:
        raise _invalid(
            "exposure.components",
            f"a component name must be a trimmed, non-empty string of at most {_MAX_NAME} "
            f"characters (got {name!r:.80})",
        )
    return str(name.value) if isinstance(name, StrEnum) else name


def _normalise_components(value: ComponentsInput) -> tuple[tuple[str, Money], ...]:
    pairs = value.items() if isinstance(value, Mapping) else value
    seen: dict[str, Money] = {}
    for pair in pairs:
        try:
            name, amount = pair
        except (TypeError, ValueError):
            raise _invalid("exposure.components", "expected (name, Money) pairs") from None
        key = _component_name(name)
        if key in seen:
            raise _invalid("exposure.components", f"component {key!r} is given twice")
        if not isinstance(amount, Money):
            raise _invalid(f"exposure.components[{key!r}]", "must be Money")
        seen[key] = amount
    return tuple(sorted(seen.items(), key=lambda kv: _component_key(kv[0])))


def _normalise_members(value: Iterable[str]) -> tuple[str, ...]:
    members = tuple(value)
    for m in members:
        _require_name(m, "exposure.members")
    if len(set(members)) != len(members):
        raise _invalid("exposure.members", "a member is listed twice")
    return tuple(sorted(members))


@attrs.frozen
class Exposure:
    """What a customer (or a consolidated group) owes or will owe, by component.

    Components are kept in a stable order (standard components first, in
    :class:`ExposureComponent` order, then host-defined names alphabetically), so two
    exposures with the same amounts are equal however they were built.

    Args:
        customer_id: The customer, or the group id for a consolidated exposure.
        currency: The credit currency; every component must be in it.
        components: ``name -> Money`` (a mapping or pairs). Amounts may be negative
            (a customer's credit balance reduces exposure).
        members: For a consolidated group, the customers it covers; empty otherwise.

    Raises:
        InvalidCreditInputError: A bad or duplicate component name, or a non-Money amount.
        CreditCurrencyError: A component in another currency.

    >>> e = Exposure.of("C-1", "EUR", {"unbilled_orders": Money("3000", "EUR"),
    ...                                "open_receivables": Money("6000", "EUR")})
    >>> [name for name, _ in e.components], str(e.total)
    (['open_receivables', 'unbilled_orders'], '9000.00 EUR')
    """

    customer_id: str = attrs.field()
    currency: str = attrs.field(converter=_require_currency)
    components: tuple[tuple[str, Money], ...] = attrs.field(
        default=(), converter=_normalise_components
    )
    members: tuple[str, ...] = attrs.field(default=(), converter=_normalise_members)

    def __attrs_post_init__(self) -> None:
        _require_name(self.customer_id, "exposure.customer_id")
        for name, amount in self.components:
            _require_money(amount, self.currency, f"exposure component {name!r}", signed=True)

    @classmethod
    def of(
        cls,
        customer_id: str,
        currency: str,
        components: ComponentsInput = (),
    ) -> Exposure:
        """Build an exposure from a mapping (or pairs) of component name to amount."""
        return cls(customer_id, currency, components)

    @classmethod
    def zero(cls, customer_id: str, currency: str) -> Exposure:
        """An exposure with no components (total zero)."""
        return cls(customer_id, currency)

    @property
    def total(self) -> Money:
        """The sum of all components (zero when there are none)."""
        return money_sum((amount for _, amount in self.components), self.currency)

    @property
    def names(self) -> tuple[str, ...]:
        """Component names, in the stable order."""
        return tuple(name for name, _ in self.components)

    def component(self, name: str) -> Money:
        """The amount of one component; zero when the component is absent."""
        for key, amount in self.components:
            if key == name:
                return amount
        return Money.zero(self.currency)

    def as_dict(self) -> dict[str, Money]:
        """The components as a new ``dict`` (in the stable order)."""
        return dict(self.components)

    def plus(self, name: str, amount: Money) -> Exposure:
        """A new exposure with ``amount`` added to component ``name`` (created if absent).

        Raises:
            CreditCurrencyError: ``amount`` is in another currency.
        """
        key = _component_name(name)
        _require_money(amount, self.currency, f"exposure component {key!r}", signed=True)
        parts = self.as_dict()
        parts[key] = parts[key] + amount if key in parts else amount
        return attrs.evolve(self, components=parts)

    def describe(self) -> str:
        """One line: ``total = a name + b name ...``."""
        if not self.components:
            return f"{self.total} (no components)"
        parts = " + ".join(f"{name} {amount}" for name, amount in self.components)
        return f"{self.total} = {parts}"


def consolidate_group(group_id: str, currency: str, members: Iterable[Exposure]) -> Exposure:
    """Sum members' exposures into the exposure of a parent/child credit group.

    Members may themselves be consolidated sub-groups (a hierarchy): their covered
    customers are flattened into the result's ``members``. A customer covered twice
    would be counted twice, so that is refused. There is no FX in the core: every
    member must already be in the group's currency.

    Args:
        group_id: The group's id (the result's ``customer_id``).
        currency: The group's credit currency.
        members: The members' exposures (customers or sub-groups).

    Returns:
        An exposure whose components are the per-name sums of the members'.

    Raises:
        CreditCurrencyError: A member's exposure is in another currency.
        InvalidCreditInputError: A customer is covered twice, or the group id is empty.
    """
    _require_name(group_id, "group_id")
    currency = _require_currency(currency)
    sums: dict[str, Money] = {}
    covered: list[str] = []
    for member in members:
        if not isinstance(member, Exposure):
            raise _invalid("group members", f"must be Exposure, not {type(member).__name__}")
        if member.currency != currency:
            raise CreditCurrencyError(
                f"group member {member.customer_id!r} is in {member.currency}, "
                f"the group {group_id!r} in {currency}",
                what=f"group member {member.customer_id!r}",
                left=currency,
                right=member.currency,
            )
        for customer in member.members or (member.customer_id,):
            if customer in covered:
                raise _invalid(
                    "group members", f"customer {customer!r} is covered twice in {group_id!r}"
                )
            covered.append(customer)
        for name, amount in member.components:
            sums[name] = sums[name] + amount if name in sums else amount
    return Exposure(group_id, currency, sums, members=covered)


# --------------------------------------------------------------------------- facts


def _default_overdue(profile: CreditProfile) -> Money:
    return Money.zero(profile.currency)


@attrs.frozen(kw_only=True)
class CreditProfile:
    """A customer's credit settings and standing, as the engine found them.

    Args:
        customer_id: The customer.
        currency: The credit currency (limit, exposure and orders are all in it).
        limit: The customer's own credit limit; ``None`` = none configured (see
            :class:`NoLimitRule`: the default policy holds such orders for review).
        group_id: The credit group (parent account) the customer belongs to, if any.
        group_limit: The group's limit (requires ``group_id``).
        blocked: The customer is blocked for new sales (the default policy rejects).
        blocked_reason: Why, for the explanation.
        overdue_amount: Total overdue receivables (>= 0).
        oldest_overdue_days: Days the oldest overdue item is past due (>= 0).
        dunning_level: Current dunning level (0 = not in dunning).
        dunning_block_level: The level from which new sales are held; ``None`` = never.
        risk_class: Optional risk class (SAP FSCM style), e.g. ``"high"``.

    Raises:
        InvalidCreditInputError: A negative amount or count, an empty id, or a group
            limit without a group.
        CreditCurrencyError: An amount not in ``currency``.
    """

    customer_id: str
    currency: str = attrs.field(converter=_require_currency)
    limit: Money | None = None
    group_id: str | None = None
    group_limit: Money | None = None
    blocked: bool = False
    blocked_reason: str = ""
    overdue_amount: Money = attrs.field(default=attrs.Factory(_default_overdue, takes_self=True))
    oldest_overdue_days: int = 0
    dunning_level: int = 0
    dunning_block_level: int | None = None
    risk_class: str | None = None

    def __attrs_post_init__(self) -> None:
        _require_name(self.customer_id, "profile.customer_id")
        if self.limit is not None:
            _require_money(self.limit, self.currency, "profile.limit")
        if self.group_id is not None:
            _require_name(self.group_id, "profile.group_id")
        if self.group_limit is not None:
            if self.group_id is None:
                raise _invalid("profile.group_limit", "a group limit needs a group_id")
            _require_money(self.group_limit, self.currency, "profile.group_limit")
        if not isinstance(self.blocked, bool):
            raise _invalid("profile.blocked", "must be a bool")
        if not isinstance(self.blocked_reason, str):
            raise _invalid("profile.blocked_reason", "must be a string")
        _require_money(self.overdue_amount, self.currency, "profile.overdue_amount")
        _require_count(self.oldest_overdue_days, "profile.oldest_overdue_days")
        _require_count(self.dunning_level, "profile.dunning_level")
        if self.dunning_block_level is not None:
            _require_count(self.dunning_block_level, "profile.dunning_block_level", minimum=1)
        if self.risk_class is not None:
            _require_name(self.risk_class, "profile.risk_class")


@attrs.frozen(kw_only=True)
class CreditFacts:
    """Everything the policy may look at besides the order: profile and exposures.

    Args:
        profile: The customer's credit profile.
        exposure: The customer's exposure, *excluding* the order being checked.
        group_exposure: The consolidated exposure of ``profile.group_id`` (including
            this customer, excluding the order); required when the group has a limit.

    Raises:
        InvalidCreditInputError: The exposures describe another customer or group, or a
            group limit is configured without a group exposure.
        CreditCurrencyError: An exposure is not in the profile's currency.
    """

    profile: CreditProfile
    exposure: Exposure
    group_exposure: Exposure | None = None

    def __attrs_post_init__(self) -> None:
        p = self.profile
        if self.exposure.customer_id != p.customer_id:
            raise _invalid(
                "facts.exposure",
                f"is for {self.exposure.customer_id!r}, the profile for {p.customer_id!r}",
            )
        _check_same_currency(self.exposure.currency, p.currency, "facts.exposure")
        g = self.group_exposure
        if g is None:
            if p.group_limit is not None:
                raise _invalid(
                    "facts.group_exposure", "the group has a limit but no exposure was given"
                )
            return
        if p.group_id is None:
            raise _invalid("facts.group_exposure", "given for a customer without a group")
        if g.customer_id != p.group_id:
            raise _invalid(
                "facts.group_exposure", f"is for {g.customer_id!r}, the group is {p.group_id!r}"
            )
        _check_same_currency(g.currency, p.currency, "facts.group_exposure")
        if g.members and p.customer_id not in g.members:
            raise _invalid("facts.group_exposure", f"does not cover the customer {p.customer_id!r}")


def _check_same_currency(found: str, expected: str, what: str) -> None:
    if found != expected:
        raise CreditCurrencyError(
            f"{what} is in {found}, expected {expected}", what=what, left=expected, right=found
        )


@attrs.frozen(kw_only=True)
class CreditRequest:
    """A request to check credit for one order.

    Args:
        order_id: The order.
        customer_id: Its customer (must match the facts).
        amount: The order amount to add to the exposure (>= 0, credit currency).
        requested_at: When the check was asked for (timezone-aware).
        facts: The customer's credit facts.

    Raises:
        InvalidCreditInputError: Empty ids, another customer's facts, a negative amount.
        CreditCurrencyError: The amount is not in the credit currency.
    """

    order_id: str
    customer_id: str
    amount: Money
    requested_at: datetime
    facts: CreditFacts

    def __attrs_post_init__(self) -> None:
        _require_name(self.order_id, "request.order_id")
        _require_name(self.customer_id, "request.customer_id")
        if self.customer_id != self.facts.profile.customer_id:
            raise _invalid(
                "request.customer_id",
                f"is {self.customer_id!r}, the facts are for {self.facts.profile.customer_id!r}",
            )
        _require_money(self.amount, self.currency, "request.amount")
        require_aware(self.requested_at)

    @property
    def currency(self) -> str:
        """The credit currency."""
        return self.facts.profile.currency

    @property
    def profile(self) -> CreditProfile:
        """Shortcut to ``facts.profile``."""
        return self.facts.profile

    @property
    def exposure(self) -> Exposure:
        """Shortcut to ``facts.exposure``."""
        return self.facts.exposure

    @property
    def group_exposure(self) -> Exposure | None:
        """Shortcut to ``facts.group_exposure``."""
        return self.facts.group_exposure

    @property
    def headroom(self) -> Money | None:
        """``limit - exposure - order`` (None without a limit; may be negative)."""
        limit = self.profile.limit
        if limit is None:
            return None
        return limit - self.exposure.total - self.amount

    @property
    def group_headroom(self) -> Money | None:
        """``group limit - group exposure - order`` (None without a group limit)."""
        limit = self.profile.group_limit
        if limit is None or self.group_exposure is None:
            return None
        return limit - self.group_exposure.total - self.amount


# --------------------------------------------------------------------------- rules


@attrs.frozen
class RuleOutcome:
    """A rule's opinion: an outcome, a human message and a stable reason code.

    Args:
        outcome: APPROVE, HOLD or REJECT.
        message: Why, for people (non-empty).
        code: Stable machine code, e.g. ``"credit.limit_exceeded"``.
    """

    outcome: CreditOutcome = attrs.field(converter=_outcome)
    message: str
    code: str = attrs.field(converter=_plain)

    def __attrs_post_init__(self) -> None:
        _require_name(self.message, "rule outcome message")
        _require_name(self.code, "rule outcome code")

    @classmethod
    def approve(cls, message: str, code: str) -> RuleOutcome:
        """An APPROVE opinion."""
        return cls(CreditOutcome.APPROVE, message, code)

    @classmethod
    def hold(cls, message: str, code: str) -> RuleOutcome:
        """A HOLD opinion."""
        return cls(CreditOutcome.HOLD, message, code)

    @classmethod
    def reject(cls, message: str, code: str) -> RuleOutcome:
        """A REJECT opinion."""
        return cls(CreditOutcome.REJECT, message, code)


@runtime_checkable
class CreditRule(Protocol):
    """A pluggable credit rule.

    A rule must be pure and deterministic: it looks only at the request, never at a
    clock, a database or a random source. ``evaluate`` returns ``None`` when the rule
    has no opinion (it does not apply to this request).
    """

    @property
    def name(self) -> str:
        """Unique name within a policy, shown in explanations."""

    def evaluate(self, request: CreditRequest) -> RuleOutcome | None:
        """The rule's opinion on the request, or ``None``."""


@attrs.frozen
class CustomerBlockedRule:
    """A blocked customer is REJECTED (an override must say ``allow_blocked``)."""

    name: str = "customer_blocked"

    def evaluate(self, request: CreditRequest) -> RuleOutcome | None:
        """REJECT when the profile says blocked, APPROVE otherwise."""
        p = request.profile
        if p.blocked:
            why = f": {p.blocked_reason}" if p.blocked_reason else ""
            return RuleOutcome.reject(
                f"customer {p.customer_id} is blocked{why}", ReasonCode.CUSTOMER_BLOCKED
            )
        return RuleOutcome.approve("customer is not blocked", ReasonCode.CUSTOMER_NOT_BLOCKED)


@attrs.frozen
class DunningLevelRule:
    """HOLD when the dunning level has reached the level that blocks new sales (Tryton)."""

    name: str = "dunning_level"

    def evaluate(self, request: CreditRequest) -> RuleOutcome | None:
        """No opinion when no blocking level is configured."""
        p = request.profile
        if p.dunning_block_level is None:
            return None
        if p.dunning_level >= p.dunning_block_level:
            return RuleOutcome.hold(
                f"dunning level {p.dunning_level} reached the blocking level "
                f"{p.dunning_block_level}",
                ReasonCode.DUNNING_BLOCKED,
            )
        return RuleOutcome.approve(
            f"dunning level {p.dunning_level} is below the blocking level {p.dunning_block_level}",
            ReasonCode.DUNNING_OK,
        )


def _tolerances(value: Iterable[Money]) -> tuple[Money, ...]:
    amounts = tuple(value)
    currencies = [m.currency for m in amounts if isinstance(m, Money)]
    if len(currencies) != len(amounts):
        raise _invalid("OverdueRule.max_amounts", "every tolerance must be Money")
    if len(set(currencies)) != len(currencies):
        raise _invalid("OverdueRule.max_amounts", "at most one tolerance per currency")
    if any(m.is_negative() for m in amounts):
        raise _invalid("OverdueRule.max_amounts", "a tolerance must not be negative")
    return tuple(sorted(amounts, key=lambda m: m.currency))


def _optional_days(value: int | None) -> int | None:
    return None if value is None else _require_count(value, "OverdueRule.max_days")


@attrs.frozen
class OverdueRule:
    """HOLD when overdue receivables exceed a tolerance in amount and in age.

    The order is held when the overdue amount is above the amount tolerance of the
    credit currency (zero when none is configured for it) **and**, if ``max_days`` is
    set, the oldest overdue item is more than ``max_days`` past due. So:
    amount-only tolerance: ``max_days=None, max_amounts=(Money("500", "EUR"),)``;
    age-only: ``max_days=30``; both: more than 500 overdue *and* older than 30 days.

    Args:
        name: Rule name.
        max_days: Oldest overdue age tolerated; ``None`` = age not considered.
        max_amounts: Overdue amount tolerated per currency (one Money per currency).
    """

    name: str = "overdue"
    max_days: int | None = attrs.field(default=30, converter=_optional_days)
    max_amounts: tuple[Money, ...] = attrs.field(default=(), converter=_tolerances)

    def tolerance(self, currency: str) -> Money:
        """The overdue amount tolerated in ``currency`` (zero when not configured)."""
        for m in self.max_amounts:
            if m.currency == currency:
                return m
        return Money.zero(currency)

    def evaluate(self, request: CreditRequest) -> RuleOutcome | None:
        """HOLD beyond the tolerance, APPROVE within it."""
        p = request.profile
        if p.overdue_amount.is_zero():
            return RuleOutcome.approve("nothing is overdue", ReasonCode.OVERDUE_OK)
        tolerance = self.tolerance(p.currency)
        over_amount = p.overdue_amount > tolerance
        over_age = self.max_days is None or p.oldest_overdue_days > self.max_days
        age = f"oldest {p.oldest_overdue_days} days"
        allowed = f"tolerance {tolerance}" + (
            "" if self.max_days is None else f" and {self.max_days} days"
        )
        if over_amount and over_age:
            return RuleOutcome.hold(
                f"{p.overdue_amount} overdue ({age}) is beyond the {allowed}",
                ReasonCode.OVERDUE,
            )
        return RuleOutcome.approve(
            f"{p.overdue_amount} overdue ({age}) is within the {allowed}", ReasonCode.OVERDUE_OK
        )


def _limit_outcome(
    who: str,
    exposure: Exposure,
    amount: Money,
    limit: Money,
    *,
    over: ReasonCode,
    within: ReasonCode,
) -> RuleOutcome:
    after = exposure.total + amount
    if after > limit:
        return RuleOutcome.hold(
            f"{who} exposure {exposure.total} + order {amount} = {after} exceeds the limit "
            f"{limit} by {after - limit}",
            over,
        )
    return RuleOutcome.approve(
        f"{who} exposure {exposure.total} + order {amount} = {after} is within the limit "
        f"{limit} (headroom {limit - after})",
        within,
    )


@attrs.frozen
class OwnLimitRule:
    """HOLD when exposure + order is strictly greater than the customer's limit."""

    name: str = "credit_limit"

    def evaluate(self, request: CreditRequest) -> RuleOutcome | None:
        """No opinion without a limit (see :class:`NoLimitRule`)."""
        limit = request.profile.limit
        if limit is None:
            return None
        return _limit_outcome(
            "customer",
            request.exposure,
            request.amount,
            limit,
            over=ReasonCode.LIMIT_EXCEEDED,
            within=ReasonCode.WITHIN_LIMIT,
        )


@attrs.frozen
class GroupLimitRule:
    """HOLD when group exposure + order is strictly greater than the group's limit."""

    name: str = "group_limit"

    def evaluate(self, request: CreditRequest) -> RuleOutcome | None:
        """No opinion when the customer has no group limit."""
        limit = request.profile.group_limit
        group = request.group_exposure
        if limit is None or group is None:
            return None
        return _limit_outcome(
            f"group {group.customer_id}",
            group,
            request.amount,
            limit,
            over=ReasonCode.GROUP_LIMIT_EXCEEDED,
            within=ReasonCode.WITHIN_GROUP_LIMIT,
        )


@attrs.frozen
class NoLimitRule:
    """Decide for customers without a configured limit (default: HOLD for review).

    ``limit=None`` usually means nobody has assessed the customer yet, so the safe
    default is a review. Set ``outcome=APPROVE`` for "no limit means unlimited"
    (Tryton's behaviour) or REJECT for "no sale on credit without a limit".
    """

    name: str = "no_limit"
    outcome: CreditOutcome = attrs.field(default=CreditOutcome.HOLD, converter=_outcome)

    def evaluate(self, request: CreditRequest) -> RuleOutcome | None:
        """No opinion when the customer has a limit."""
        if request.profile.limit is not None:
            return None
        return RuleOutcome(
            self.outcome,
            f"no credit limit is configured; the policy says {self.outcome.value}",
            ReasonCode.NO_LIMIT,
        )


def _class_set(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


@attrs.frozen
class RiskClassRule:
    """HOLD or REJECT customers in given risk classes (SAP FSCM style); not a default rule.

    Args:
        name: Rule name.
        hold_classes: Risk classes whose orders are held.
        reject_classes: Risk classes whose orders are rejected.
    """

    name: str = "risk_class"
    hold_classes: frozenset[str] = attrs.field(default=frozenset(), converter=_class_set)
    reject_classes: frozenset[str] = attrs.field(default=frozenset(), converter=_class_set)

    def evaluate(self, request: CreditRequest) -> RuleOutcome | None:
        """No opinion for other classes or no class."""
        risk = request.profile.risk_class
        if risk is not None and risk in self.reject_classes:
            return RuleOutcome.reject(f"risk class {risk!r} is rejected", ReasonCode.RISK_CLASS)
        if risk is not None and risk in self.hold_classes:
            return RuleOutcome.hold(f"risk class {risk!r} is held", ReasonCode.RISK_CLASS)
        return None


def default_rules(
    *,
    no_limit: CreditOutcome = CreditOutcome.HOLD,
    overdue_max_days: int | None = 30,
    overdue_max_amounts: Iterable[Money] = (),
) -> tuple[CreditRule, ...]:
    """The built-in rules in their default order.

    Blocked customer (REJECT), dunning level (HOLD), overdue beyond tolerance (HOLD),
    own limit (HOLD), group limit (HOLD), no limit configured (``no_limit``).
    """
    return (
        CustomerBlockedRule(),
        DunningLevelRule(),
        OverdueRule(max_days=overdue_max_days, max_amounts=tuple(overdue_max_amounts)),
        OwnLimitRule(),
        GroupLimitRule(),
        NoLimitRule(outcome=no_limit),
    )


# --------------------------------------------------------------------------- policy


@attrs.frozen
class RuleVerdict:
    """What one rule said during a check (``outcome=None``: no opinion).

    Args:
        rule: The rule's name.
        outcome: Its outcome, or None when it had no opinion.
        message: Its explanation.
        code: Its reason code (``credit.no_opinion`` without an opinion).
    """

    rule: str
    outcome: CreditOutcome | None
    message: str
    code: str = attrs.field(converter=_plain)

    def line(self) -> str:
        """``rule: OUTCOME - message`` for explanations."""
        label = "no opinion" if self.outcome is None else self.outcome.value.upper()
        return f"{self.rule}: {label} - {self.message} [{self.code}]"


def _rules(value: Iterable[CreditRule]) -> tuple[CreditRule, ...]:
    return tuple(value)


@attrs.frozen
class CreditPolicy:
    """An ordered set of credit rules that together decide.

    Every rule runs (so the decision explains everything); the most severe outcome wins
    and the first rule, in order, that gave it is the deciding rule. When no rule has an
    opinion, ``when_silent`` decides (HOLD by default).

    Args:
        rules: The rules, in order (at least one; names unique).
        name: Policy name, recorded on decisions.
        version: Policy version, recorded on decisions.
        when_silent: Outcome when every rule abstains.

    Raises:
        CreditPolicyError: No rules, a duplicate rule name, or an object that is not a rule.
    """

    rules: tuple[CreditRule, ...] = attrs.field(converter=_rules)
    name: str = "default"
    version: str = "1"
    when_silent: CreditOutcome = attrs.field(default=CreditOutcome.HOLD, converter=_outcome)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise CreditPolicyError(policy=repr(self.name), reason="the name must not be empty")
        if not isinstance(self.version, str) or not self.version.strip():
            raise CreditPolicyError(policy=self.name, reason="the version must not be empty")
        if not self.rules:
            raise CreditPolicyError(policy=self.name, reason="a policy needs at least one rule")
        names: set[str] = set()
        for rule in self.rules:
            if not isinstance(rule, CreditRule) or not isinstance(rule.name, str):
                raise CreditPolicyError(
                    policy=self.name, reason=f"{type(rule).__name__} is not a CreditRule"
                )
            if not rule.name.strip():
                raise CreditPolicyError(policy=self.name, reason="a rule has an empty name")
            if rule.name in names:
                raise CreditPolicyError(
                    policy=self.name, reason=f"rule name {rule.name!r} is used twice"
                )
            names.add(rule.name)

    @classmethod
    def default(
        cls,
        *,
        no_limit: CreditOutcome = CreditOutcome.HOLD,
        overdue_max_days: int | None = 30,
        overdue_max_amounts: Iterable[Money] = (),
        name: str = "default",
        version: str = "1",
    ) -> CreditPolicy:
        """The policy made of :func:`default_rules`."""
        return cls(
            default_rules(
                no_limit=no_limit,
                overdue_max_days=overdue_max_days,
                overdue_max_amounts=overdue_max_amounts,
            ),
            name=name,
            version=version,
        )

    def evaluate(self, request: CreditRequest) -> tuple[RuleVerdict, ...]:
        """Run every rule on the request, in order.

        Raises:
            CreditPolicyError: A rule returned something other than RuleOutcome or None.
        """
        verdicts: list[RuleVerdict] = []
        for rule in self.rules:
            result = rule.evaluate(request)
            if result is None:
                verdicts.append(
                    RuleVerdict(
                        rule.name, None, "no opinion (not applicable)", ReasonCode.NO_OPINION
                    )
                )
            elif isinstance(result, RuleOutcome):
                verdicts.append(RuleVerdict(rule.name, result.outcome, result.message, result.code))
            else:
                raise CreditPolicyError(
                    policy=self.name,
                    reason=f"rule {rule.name!r} returned {type(result).__name__}, "
                    "not RuleOutcome or None",
                )
        return tuple(verdicts)

    def decide(self, verdicts: Iterable[RuleVerdict]) -> tuple[CreditOutcome, str | None]:
        """The most severe outcome and the first rule that gave it (None when silent)."""
        best: RuleVerdict | None = None
        for v in verdicts:
            if v.outcome is not None and (best is None or v.outcome.severity > _sev(best)):
                best = v
        if best is None or best.outcome is None:
            return self.when_silent, None
        return best.outcome, best.rule


def _sev(verdict: RuleVerdict) -> int:
    return -1 if verdict.outcome is None else verdict.outcome.severity


# --------------------------------------------------------------------------- overrides


def _optional_money(value: Money | None) -> Money | None:
    if value is not None and (not isinstance(value, Money) or value.is_negative()):
        raise _invalid("override.max_amount", "must be Money >= 0 or None")
    return value


@attrs.frozen(kw_only=True)
class CreditOverride:
    """An authorised person's approval of an order the policy held or rejected.

    Args:
        by: Who (a user id).
        reason: Why (non-empty; it is audited).
        at: When (timezone-aware; not before the decision).
        authority: The role acted under, e.g. ``"credit_controller"``.
        max_amount: The most this override may approve (an approval ceiling), if any.
        allow_blocked: Also lift a blocked customer's rejection.

    Raises:
        InvalidCreditInputError: An empty ``by``, ``reason`` or ``authority``, or a
            negative ``max_amount``.
    """

    by: str
    reason: str
    at: datetime
    authority: str
    max_amount: Money | None = attrs.field(default=None, converter=_optional_money)
    allow_blocked: bool = False

    def __attrs_post_init__(self) -> None:
        _require_name(self.by, "override.by")
        _require_name(self.reason, "override.reason")
        _require_name(self.authority, "override.authority")
        require_aware(self.at)
        if not isinstance(self.allow_blocked, bool):
            raise _invalid("override.allow_blocked", "must be a bool")


# --------------------------------------------------------------------------- decision


@attrs.frozen(kw_only=True)
class CreditDecision:
    """A documented credit decision that explains itself.

    ``policy_outcome`` is what the policy decided; ``outcome`` is what stands (APPROVE
    once overridden). Headrooms are derived from the recorded facts, so they cannot
    disagree with them.

    Args:
        order_id: The order.
        customer_id: Its customer.
        order_amount: The amount checked.
        exposure: The customer's exposure before the order.
        limit: The customer's limit (None when none is configured).
        group_id: The customer's credit group, if any.
        group_exposure: The group's exposure before the order, if given.
        group_limit: The group's limit, if any.
        risk_class: The customer's risk class, if any.
        verdicts: Every rule's verdict, in policy order.
        policy_outcome: The policy's outcome.
        deciding_rule: The rule that decided (None when the policy was silent).
        requested_at: When the check was requested.
        decided_at: When it was decided.
        policy_name: The policy's name.
        policy_version: The policy's version.
        override: The override, once applied.

    Raises:
        InvalidCreditInputError: An override on a decision the policy approved.
    """

    order_id: str
    customer_id: str
    order_amount: Money
    exposure: Exposure
    limit: Money | None
    group_id: str | None = None
    group_exposure: Exposure | None = None
    group_limit: Money | None = None
    risk_class: str | None = None
    verdicts: tuple[RuleVerdict, ...]
    policy_outcome: CreditOutcome = attrs.field(converter=_outcome)
    deciding_rule: str | None
    requested_at: datetime
    decided_at: datetime
    policy_name: str
    policy_version: str
    override: CreditOverride | None = None

    def __attrs_post_init__(self) -> None:
        require_aware(self.decided_at)
        if self.override is not None and self.policy_outcome is CreditOutcome.APPROVE:
            raise _invalid("decision.override", "an approved decision has nothing to override")

    @property
    def outcome(self) -> CreditOutcome:
        """The outcome that stands: APPROVE when overridden, else the policy's."""
        return CreditOutcome.APPROVE if self.override is not None else self.policy_outcome

    @property
    def overridden(self) -> bool:
        """True when an override was applied."""
        return self.override is not None

    @property
    def approved(self) -> bool:
        """True when the order may proceed."""
        return self.outcome is CreditOutcome.APPROVE

    @property
    def exposure_after(self) -> Money:
        """Exposure including the order."""
        return self.exposure.total + self.order_amount

    @property
    def headroom(self) -> Money | None:
        """``limit - exposure - order`` (None without a limit; negative when exceeded)."""
        return None if self.limit is None else self.limit - self.exposure_after

    @property
    def group_headroom(self) -> Money | None:
        """``group limit - group exposure - order`` (None without both)."""
        if self.group_limit is None or self.group_exposure is None:
            return None
        return self.group_limit - self.group_exposure.total - self.order_amount

    @property
    def reasons(self) -> tuple[str, ...]:
        """Reason codes of every rule that held or rejected, in policy order."""
        return tuple(
            v.code
            for v in self.verdicts
            if v.outcome is not None and v.outcome is not CreditOutcome.APPROVE
        )

    @property
    def rejects_blocked_customer(self) -> bool:
        """True when a rule rejected because the customer is blocked."""
        return any(
            v.outcome is CreditOutcome.REJECT and v.code == ReasonCode.CUSTOMER_BLOCKED
            for v in self.verdicts
        )

    def explain(self) -> tuple[str, ...]:
        """The decision as readable lines: outcome, amounts, every rule, any override."""
        by = f"rule {self.deciding_rule!r}" if self.deciding_rule else "no rule (policy silent)"
        policy = (
            f"policy {self.policy_name} v{self.policy_version} decided "
            f"{self.policy_outcome.value.upper()} by {by} at {self.decided_at.isoformat()}"
        )
        head = "APPROVE by override" if self.overridden else self.outcome.value.upper()
        lines = [
            f"Credit {head} for order {self.order_id} (customer {self.customer_id}): {policy}",
            f"Order amount: {self.order_amount}",
            f"Exposure: {self.exposure.describe()}",
            f"Exposure with order: {self.exposure_after}",
        ]
        if self.limit is None:
            lines.append("Limit: none configured")
        else:
            lines.append(f"Limit: {self.limit}; headroom after order: {self.headroom}")
        if self.group_id is not None:
            g = self.group_exposure
            lines.append(
                f"Group {self.group_id}: exposure "
                f"{'not given' if g is None else g.describe()}; limit "
                f"{'none' if self.group_limit is None else self.group_limit}"
                + ("" if self.group_headroom is None else f"; headroom {self.group_headroom}")
            )
        if self.risk_class is not None:
            lines.append(f"Risk class: {self.risk_class}")
        lines.append(f"Rules ({len(self.verdicts)}):")
        lines.extend(f"  - {v.line()}" for v in self.verdicts)
        if self.override is not None:
            o = self.override
            cap = "" if o.max_amount is None else f", up to {o.max_amount}"
            lines.append(
                f"Overridden by {o.by} ({o.authority}{cap}) at {o.at.isoformat()}: {o.reason}; "
                f"the policy had decided {self.policy_outcome.value.upper()}"
            )
        return tuple(lines)

    def require_approved(self) -> CreditDecision:
        """Return self when approved; raise otherwise (for use cases that need approval).

        Raises:
            CreditLimitExceededError: A limit rule decided the hold.
            CreditNotApprovedError: Another rule held or rejected.
        """
        if self.approved:
            return self
        deciding = next((v for v in self.verdicts if v.rule == self.deciding_rule), None)
        error = (
            CreditLimitExceededError
            if deciding is not None and deciding.code in _LIMIT_CODES
            else CreditNotApprovedError
        )
        raise error(
            f"order {self.order_id} was not approved: {self.outcome.value}",
            order_id=self.order_id,
            outcome=self.outcome.value,
            deciding_rule=self.deciding_rule,
            reasons=self.reasons,
        )


# --------------------------------------------------------------------------- operations


def check_credit(
    policy: CreditPolicy, request: CreditRequest, now: datetime
) -> tuple[CreditDecision, tuple[CreditChecked]]:
    """Decide on an order's credit and record the check.

    Args:
        policy: The rules to apply.
        request: The order and the facts the engine gathered.
        now: The decision instant (timezone-aware, from the injected clock).

    Returns:
        The decision and one :class:`~o2c.events.CreditChecked` event.

    Raises:
        CreditPolicyError: A rule returned something other than RuleOutcome or None.
        DomainError: ``now`` is naive.
    """
    now = require_aware(now)
    verdicts = policy.evaluate(request)
    outcome, deciding = policy.decide(verdicts)
    p = request.profile
    decision = CreditDecision(
        order_id=request.order_id,
        customer_id=request.customer_id,
        order_amount=request.amount,
        exposure=request.exposure,
        limit=p.limit,
        group_id=p.group_id,
        group_exposure=request.group_exposure,
        group_limit=p.group_limit,
        risk_class=p.risk_class,
        verdicts=verdicts,
        policy_outcome=outcome,
        deciding_rule=deciding,
        requested_at=request.requested_at,
        decided_at=now,
        policy_name=policy.name,
        policy_version=policy.version,
    )
    event = CreditChecked(
        aggregate_id=request.order_id,
        occurred_at=now,
        customer_id=request.customer_id,
        outcome=outcome.value,
        deciding_rule=deciding,
        reasons=decision.reasons,
        order_amount=request.amount,
        exposure_total=request.exposure.total,
        limit=p.limit,
        headroom=decision.headroom,
        policy_name=policy.name,
        policy_version=policy.version,
    )
    return decision, (event,)


def apply_override(
    decision: CreditDecision,
    override: CreditOverride,
    *,
    authorities: Collection[str] | None = None,
) -> tuple[CreditDecision, tuple[CreditOverridden]]:
    """Approve a held or rejected order on an authorised person's word.

    The new decision keeps the policy's outcome, deciding rule and verdicts, and
    records the override; the event carries who, why, when and under which role.

    Args:
        decision: A decision the policy held or rejected.
        override: Who approves, why, when, under which authority.
        authorities: Roles allowed to override (ERPNext's credit controller); ``None``
            leaves that check to the host.

    Returns:
        The approved decision and one :class:`~o2c.events.CreditOverridden` event.

    Raises:
        CreditOverrideRefusedError: The decision is already overridden or approved, or
            the override predates the decision.
        OverrideNotAuthorisedError: ``override.authority`` is not in ``authorities``.
        BlockedCustomerOverrideError: The customer is blocked and the override does
            not say ``allow_blocked``.
        CreditCurrencyError: ``override.max_amount`` is in another currency.
        OverrideAmountExceededError: ``override.max_amount`` is below the order amount.
    """
    order = decision.order_id
    if decision.override is not None:
        raise CreditOverrideRefusedError(
            order_id=order, reason="the decision is already overridden"
        )
    if decision.policy_outcome is CreditOutcome.APPROVE:
        raise CreditOverrideRefusedError(
            order_id=order, reason="the policy approved; there is nothing to override"
        )
    if override.at < decision.decided_at:
        raise CreditOverrideRefusedError(
            order_id=order, reason="the override is dated before the decision"
        )
    if authorities is not None and override.authority not in authorities:
        raise OverrideNotAuthorisedError(
            order_id=order,
            reason=f"role {override.authority!r} may not override",
            authority=override.authority,
            allowed=tuple(sorted(authorities)),
        )
    if decision.rejects_blocked_customer and not override.allow_blocked:
        raise BlockedCustomerOverrideError(
            order_id=order, reason="the customer is blocked and allow_blocked is not set"
        )
    if override.max_amount is not None:
        _check_same_currency(
            override.max_amount.currency, decision.order_amount.currency, "override.max_amount"
        )
        if override.max_amount < decision.order_amount:
            raise OverrideAmountExceededError(
                order_id=order,
                reason="the order is larger than the override's maximum",
                max_amount=override.max_amount,
                order_amount=decision.order_amount,
            )
    approved = attrs.evolve(decision, override=override)
    event = CreditOverridden(
        aggregate_id=order,
        occurred_at=override.at,
        customer_id=decision.customer_id,
        by=override.by,
        authority=override.authority,
        reason=override.reason,
        policy_outcome=decision.policy_outcome.value,
        deciding_rule=decision.deciding_rule,
        order_amount=decision.order_amount,
        max_amount=override.max_amount,
        allow_blocked=override.allow_blocked,
    )
    return approved, (event,)
