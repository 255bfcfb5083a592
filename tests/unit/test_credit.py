"""Credit policy: hand-worked decisions, every rule, every error path."""

from __future__ import annotations

import doctest
import pickle
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

import o2c.credit
from o2c.credit import (
    CreditDecision,
    CreditFacts,
    CreditOutcome,
    CreditOverride,
    CreditPolicy,
    CreditProfile,
    CreditRequest,
    CreditRule,
    CustomerBlockedRule,
    DunningLevelRule,
    Exposure,
    ExposureComponent,
    GroupLimitRule,
    NoLimitRule,
    OverdueRule,
    OwnLimitRule,
    ReasonCode,
    RiskClassRule,
    RuleOutcome,
    RuleVerdict,
    apply_override,
    check_credit,
    consolidate_group,
    default_rules,
)
from o2c.errors import (
    BlockedCustomerOverrideError,
    CreditCurrencyError,
    CreditError,
    CreditLimitExceededError,
    CreditNotApprovedError,
    CreditOverrideRefusedError,
    CreditPolicyError,
    CurrencyMismatchError,
    DomainError,
    InvalidCreditInputError,
    OverrideAmountExceededError,
    OverrideNotAuthorisedError,
    UnknownCurrencyError,
)
from o2c.events import CreditChecked, CreditOverridden
from o2c.money import Money

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
T1 = T0 + timedelta(hours=2)
OR = ExposureComponent.OPEN_RECEIVABLES
UB = ExposureComponent.UNBILLED_ORDERS
SNI = ExposureComponent.SHIPPED_NOT_INVOICED
OD = ExposureComponent.OPEN_DISPUTES


def eur(text: str) -> Money:
    return Money(text, "EUR")


def make_request(
    amount: str = "1500.00",
    *,
    components: Mapping[str, Money] | Mapping[ExposureComponent, Money] | None = None,
    group_exposure: Exposure | None = None,
    **profile: Any,
) -> CreditRequest:
    profile.setdefault("limit", eur("10000.00"))
    comps = {OR: eur("6000.00"), UB: eur("3000.00")} if components is None else dict(components)
    facts = CreditFacts(
        profile=CreditProfile(customer_id="C-1", currency="EUR", **profile),
        exposure=Exposure.of("C-1", "EUR", comps),
        group_exposure=group_exposure,
    )
    return CreditRequest(
        order_id="SO-1", customer_id="C-1", amount=eur(amount), requested_at=T0, facts=facts
    )


def decide(request: CreditRequest, policy: CreditPolicy | None = None) -> CreditDecision:
    decision, events = check_credit(policy or CreditPolicy.default(), request, T0)
    assert len(events) == 1
    return decision


def override(**kw: Any) -> CreditOverride:
    values: dict[str, Any] = {
        "by": "u-anna",
        "reason": "pays reliably; large prepayment expected",
        "at": T1,
        "authority": "credit_controller",
    }
    values.update(kw)
    return CreditOverride(**values)


# --------------------------------------------------------------------------- limit arithmetic


def test_brief_example_holds_with_headroom_minus_500() -> None:
    # limit 10,000; receivables 6,000 + unbilled 3,000 = 9,000; + order 1,500 = 10,500
    decision, (event,) = check_credit(CreditPolicy.default(), make_request("1500.00"), T0)
    assert decision.outcome is CreditOutcome.HOLD
    assert decision.policy_outcome is CreditOutcome.HOLD
    assert decision.deciding_rule == "credit_limit"
    assert decision.exposure.total == eur("9000.00")
    assert decision.exposure_after == eur("10500.00")
    assert decision.headroom == eur("-500.00")
    assert decision.reasons == ("credit.limit_exceeded",)
    assert not decision.approved
    assert not decision.overridden
    assert isinstance(event, CreditChecked)
    assert event.aggregate == "order"
    assert event.aggregate_id == "SO-1"
    assert event.occurred_at == T0
    assert event.outcome == "hold"
    assert event.deciding_rule == "credit_limit"
    assert event.reasons == ("credit.limit_exceeded",)
    assert type(event.reasons[0]) is str
    assert event.headroom == eur("-500.00")
    assert event.exposure_total == eur("9000.00")
    assert event.limit == eur("10000.00")
    assert (event.policy_name, event.policy_version) == ("default", "1")


def test_exposure_plus_order_equal_to_limit_is_within() -> None:
    # 9,000 + 1,000 = 10,000 = limit: approve with zero headroom
    decision = decide(make_request("1000.00"))
    assert decision.outcome is CreditOutcome.APPROVE
    assert decision.headroom == eur("0.00")
    # one cent more: 10,000.01 > 10,000
    decision = decide(make_request("1000.01"))
    assert decision.outcome is CreditOutcome.HOLD
    assert decision.headroom == eur("-0.01")


def test_within_limit_approves_and_first_approving_rule_is_named() -> None:
    # 9,000 + 500 = 9,500; headroom 500
    decision = decide(make_request("500.00"))
    assert decision.outcome is CreditOutcome.APPROVE
    assert decision.headroom == eur("500.00")
    assert decision.deciding_rule == "customer_blocked"
    assert decision.reasons == ()
    assert decision.require_approved() is decision
    limit = next(v for v in decision.verdicts if v.rule == "credit_limit")
    assert limit.outcome is CreditOutcome.APPROVE
    assert "9500.00 EUR is within the limit 10000.00 EUR (headroom 500.00 EUR)" in limit.message


def test_every_component_counts_including_host_defined_ones() -> None:
    # 2,000 + 1,000 + 500 + 250 + pending 300 = 4,050; limit 5,000; order 1,000 -> 5,050
    comps = {
        OR: eur("2000"),
        UB: eur("1000"),
        SNI: eur("500"),
        OD: eur("250"),
        "pending_payments": eur("300"),
    }
    decision = decide(make_request("1000", components=comps, limit=eur("5000")))
    assert decision.exposure.total == eur("4050")
    assert decision.headroom == eur("-50")
    assert decision.outcome is CreditOutcome.HOLD


def test_a_credit_balance_reduces_exposure() -> None:
    # receivables -1,000 (unapplied cash) + unbilled 10,500 = 9,500; + 500 = 10,000 = limit
    comps = {OR: eur("-1000"), UB: eur("10500")}
    decision = decide(make_request("500", components=comps))
    assert decision.outcome is CreditOutcome.APPROVE
    assert decision.headroom == eur("0.00")


# --------------------------------------------------------------------------- the other rules


def test_blocked_customer_is_rejected_even_within_limit() -> None:
    decision = decide(make_request("100.00", blocked=True, blocked_reason="fraud review"))
    assert decision.outcome is CreditOutcome.REJECT
    assert decision.deciding_rule == "customer_blocked"
    assert decision.rejects_blocked_customer
    assert len(decision.verdicts) == 6
    text = "\n".join(decision.explain())
    assert "customer C-1 is blocked: fraud review" in text
    with pytest.raises(CreditNotApprovedError) as info:
        decision.require_approved()
    assert type(info.value) is CreditNotApprovedError
    assert info.value.outcome == "reject"


def test_reject_outranks_hold_and_every_objection_is_listed() -> None:
    decision = decide(make_request("5000.00", blocked=True, dunning_level=4, dunning_block_level=3))
    assert decision.outcome is CreditOutcome.REJECT
    assert decision.reasons == (
        "credit.customer_blocked",
        "credit.dunning_blocked",
        "credit.limit_exceeded",
    )
    assert decision.headroom == eur("-4000.00")


def test_dunning_level_blocks_from_the_configured_level() -> None:
    assert decide(make_request("100", dunning_level=2, dunning_block_level=3)).approved
    held = decide(make_request("100", dunning_level=3, dunning_block_level=3))
    assert held.outcome is CreditOutcome.HOLD
    assert held.deciding_rule == "dunning_level"
    with pytest.raises(CreditNotApprovedError) as info:
        held.require_approved()
    assert type(info.value) is CreditNotApprovedError
    assert info.value.reasons == ("credit.dunning_blocked",)
    silent = decide(make_request("100", dunning_level=9))
    dunning = next(v for v in silent.verdicts if v.rule == "dunning_level")
    assert dunning.outcome is None
    assert dunning.code == "credit.no_opinion"
    assert silent.approved


@pytest.mark.parametrize(
    ("overdue", "days", "expected"),
    [
        ("0.00", 0, CreditOutcome.APPROVE),
        ("200.00", 30, CreditOutcome.APPROVE),  # 30 days is the tolerance itself
        ("200.00", 31, CreditOutcome.HOLD),
        ("0.01", 365, CreditOutcome.HOLD),
    ],
)
def test_default_overdue_tolerance_is_thirty_days(
    overdue: str, days: int, expected: CreditOutcome
) -> None:
    request = make_request("100", overdue_amount=eur(overdue), oldest_overdue_days=days)
    assert decide(request).outcome is expected


@pytest.mark.parametrize(
    ("rule", "overdue", "days", "expected"),
    [
        # amount only: 500 EUR tolerated at any age
        (OverdueRule(max_days=None, max_amounts=(eur("500"),)), "500.00", 400, "approve"),
        (OverdueRule(max_days=None, max_amounts=(eur("500"),)), "500.01", 1, "hold"),
        # amount and age: both must be exceeded
        (OverdueRule(max_days=30, max_amounts=(eur("500"),)), "600", 10, "approve"),
        (OverdueRule(max_days=30, max_amounts=(eur("500"),)), "400", 90, "approve"),
        (OverdueRule(max_days=30, max_amounts=(eur("500"),)), "600", 31, "hold"),
        # a tolerance in another currency does not apply to EUR (zero tolerance)
        (OverdueRule(max_days=None, max_amounts=(Money("900", "USD"),)), "0.01", 1, "hold"),
    ],
)
def test_overdue_tolerances_by_amount_and_age(
    rule: OverdueRule, overdue: str, days: int, expected: str
) -> None:
    policy = CreditPolicy((rule, OwnLimitRule()))
    request = make_request("100", overdue_amount=eur(overdue), oldest_overdue_days=days)
    decision = decide(request, policy)
    assert decision.outcome.value == expected


def test_overdue_rule_rejects_bad_tolerances() -> None:
    with pytest.raises(InvalidCreditInputError):
        OverdueRule(max_amounts=(eur("1"), eur("2")))
    with pytest.raises(InvalidCreditInputError):
        OverdueRule(max_amounts=(eur("-1"),))
    with pytest.raises(InvalidCreditInputError):
        OverdueRule(max_amounts=("5",))  # type: ignore[arg-type]
    with pytest.raises(InvalidCreditInputError):
        OverdueRule(max_days=-1)
    assert OverdueRule(max_amounts=(Money("1", "USD"), eur("2"))).tolerance("EUR") == eur("2")


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (CreditOutcome.HOLD, CreditOutcome.HOLD),
        (CreditOutcome.APPROVE, CreditOutcome.APPROVE),
        (CreditOutcome.REJECT, CreditOutcome.REJECT),
    ],
)
def test_no_limit_configured_follows_the_policy_setting(
    setting: CreditOutcome, expected: CreditOutcome
) -> None:
    decision = decide(make_request("100", limit=None), CreditPolicy.default(no_limit=setting))
    assert decision.outcome is expected
    assert decision.headroom is None
    assert decision.limit is None
    assert "Limit: none configured" in decision.explain()
    if expected is not CreditOutcome.APPROVE:
        assert decision.deciding_rule == "no_limit"
        assert decision.reasons == ("credit.no_limit",)


def test_no_limit_holds_by_default() -> None:
    assert decide(make_request("0.01", limit=None)).outcome is CreditOutcome.HOLD


def test_zero_limit_allows_only_a_zero_order_on_zero_exposure() -> None:
    assert decide(make_request("0", components={}, limit=eur("0"))).approved
    held = decide(make_request("0.01", components={}, limit=eur("0")))
    assert held.outcome is CreditOutcome.HOLD
    assert held.headroom == eur("-0.01")


# --------------------------------------------------------------------------- groups


def group_request(amount: str) -> CreditRequest:
    own = Exposure.of("C-1", "EUR", {OR: eur("2000.00")})
    sister = Exposure.of("C-2", "EUR", {OR: eur("40000.00"), UB: eur("6000.00")})
    group = consolidate_group("G-1", "EUR", [own, sister])
    facts = CreditFacts(
        profile=CreditProfile(
            customer_id="C-1",
            currency="EUR",
            limit=eur("10000.00"),
            group_id="G-1",
            group_limit=eur("50000.00"),
        ),
        exposure=own,
        group_exposure=group,
    )
    return CreditRequest(
        order_id="SO-9", customer_id="C-1", amount=eur(amount), requested_at=T0, facts=facts
    )


def test_group_limit_holds_when_the_group_would_exceed_it() -> None:
    # group 2,000 + 46,000 = 48,000; + 1,500 = 49,500 <= 50,000
    ok = decide(group_request("1500.00"))
    assert ok.approved
    assert ok.group_headroom == eur("500.00")
    # + 2,500 = 50,500 > 50,000 while own 2,000 + 2,500 = 4,500 is well within 10,000
    held = decide(group_request("2500.00"))
    assert group_request("2500.00").group_headroom == eur("-500.00")
    assert held.outcome is CreditOutcome.HOLD
    assert held.deciding_rule == "group_limit"
    assert held.headroom == eur("5500.00")
    assert held.group_headroom == eur("-500.00")
    assert held.reasons == ("credit.group_limit_exceeded",)
    assert any(line.startswith("Group G-1: exposure 48000.00 EUR") for line in held.explain())
    with pytest.raises(CreditLimitExceededError) as info:
        held.require_approved()
    assert info.value.deciding_rule == "group_limit"
    assert info.value.code == "credit.limit_exceeded"


def test_group_without_limit_is_explained_without_headroom() -> None:
    facts = CreditFacts(
        profile=CreditProfile(customer_id="C-1", currency="EUR", limit=eur("100"), group_id="G"),
        exposure=Exposure.zero("C-1", "EUR"),
    )
    request = CreditRequest(
        order_id="O", customer_id="C-1", amount=eur("1"), requested_at=T0, facts=facts
    )
    decision = decide(request)
    assert decision.group_headroom is None
    assert "Group G: exposure not given; limit none" in decision.explain()


def test_consolidation_sums_components_and_flattens_subgroups() -> None:
    a = Exposure.of("A", "EUR", {OR: eur("100.00"), "pending_payments": eur("5.00")})
    b = Exposure.of("B", "EUR", {OR: eur("50.00"), UB: eur("20.00")})
    c = Exposure.of("C", "EUR", {OD: eur("7.50")})
    sub = consolidate_group("SUB", "EUR", [b, c])
    assert sub.members == ("B", "C")
    top = consolidate_group("TOP", "EUR", [sub, a])
    assert top.customer_id == "TOP"
    assert top.members == ("A", "B", "C")
    assert top.components == (
        ("open_receivables", eur("150.00")),
        ("unbilled_orders", eur("20.00")),
        ("open_disputes", eur("7.50")),
        ("pending_payments", eur("5.00")),
    )
    assert top.total == eur("182.50")
    empty = consolidate_group("NONE", "EUR", [])
    assert empty.total == eur("0")
    assert empty.members == ()


def test_consolidation_refuses_other_currencies_and_double_counting() -> None:
    a = Exposure.of("A", "EUR", {OR: eur("1")})
    usd = Exposure.of("U", "USD", {OR: Money("1", "USD")})
    with pytest.raises(CreditCurrencyError) as info:
        consolidate_group("G", "EUR", [a, usd])
    assert isinstance(info.value, CurrencyMismatchError)
    assert (info.value.left, info.value.right) == ("EUR", "USD")
    assert info.value.code == "credit.currency_mismatch"
    with pytest.raises(InvalidCreditInputError, match="covered twice"):
        consolidate_group("G", "EUR", [a, consolidate_group("S", "EUR", [a])])
    with pytest.raises(InvalidCreditInputError):
        consolidate_group("G", "EUR", [a, "B"])  # type: ignore[list-item]
    with pytest.raises(InvalidCreditInputError):
        consolidate_group("", "EUR", [a])
    with pytest.raises(UnknownCurrencyError):
        consolidate_group("G", "XXQ", [a])


@pytest.mark.parametrize(
    ("kwargs", "error", "what"),
    [
        ({"group_exposure": None}, InvalidCreditInputError, "facts.group_exposure"),
        ({"group_id": None, "group_limit": None}, InvalidCreditInputError, "facts.group_exposure"),
        ({"group_exposure_id": "G-other"}, InvalidCreditInputError, "facts.group_exposure"),
        ({"group_currency": "USD"}, CreditCurrencyError, "facts.group_exposure"),
        ({"group_members": ("C-2", "C-3")}, InvalidCreditInputError, "facts.group_exposure"),
    ],
)
def test_inconsistent_group_facts_are_refused(
    kwargs: dict[str, Any], error: type[CreditError], what: str
) -> None:
    currency = kwargs.pop("group_currency", "EUR")
    members = kwargs.pop("group_members", ("C-1", "C-2"))
    gid = kwargs.pop("group_exposure_id", "G-1")
    group = Exposure(gid, currency, {OR: Money("1", currency)}, members=members)
    profile_kw: dict[str, Any] = {"group_id": "G-1", "group_limit": eur("10")}
    profile_kw.update({k: v for k, v in kwargs.items() if k != "group_exposure"})
    with pytest.raises(error) as info:
        CreditFacts(
            profile=CreditProfile(customer_id="C-1", currency="EUR", **profile_kw),
            exposure=Exposure.zero("C-1", "EUR"),
            group_exposure=kwargs.get("group_exposure", group),
        )
    assert info.value.fields["what"] == what


def test_group_exposure_without_members_list_is_accepted() -> None:
    facts = CreditFacts(
        profile=CreditProfile(customer_id="C-1", currency="EUR", group_id="G"),
        exposure=Exposure.zero("C-1", "EUR"),
        group_exposure=Exposure.of("G", "EUR", {OR: eur("5")}),
    )
    assert facts.group_exposure is not None


# --------------------------------------------------------------------------- exposure


def test_exposure_order_is_stable_whatever_the_input_order() -> None:
    pairs = [("zeta", eur("1")), (OD, eur("2")), ("alpha", eur("3")), (OR, eur("4"))]
    a = Exposure.of("C", "EUR", pairs)
    b = Exposure.of("C", "EUR", dict(reversed(pairs)))
    assert a == b
    assert a.names == ("open_receivables", "open_disputes", "alpha", "zeta")
    assert all(type(name) is str for name in a.names)
    assert a.component(UB) == eur("0")
    assert a.component("alpha") == eur("3")
    assert a.as_dict()["zeta"] == eur("1")
    assert a.describe().startswith("10.00 EUR = open_receivables 4 EUR + open_disputes 2 EUR")


def test_exposure_plus_adds_or_creates_a_component() -> None:
    e = Exposure.of("C", "EUR", {OR: eur("10.00")})
    e2 = e.plus(OR, eur("2.50")).plus("pending_payments", eur("1.00"))
    assert e2.component(OR) == eur("12.50")
    assert e2.total == eur("13.50")
    assert e.total == eur("10.00")  # unchanged
    with pytest.raises(CreditCurrencyError):
        e.plus(OR, Money("1", "USD"))
    assert Exposure.zero("C", "EUR").describe() == "0.00 EUR (no components)"


@pytest.mark.parametrize(
    "components",
    [
        [("", eur("1"))],
        [(" padded", eur("1"))],
        [("x" * 65, eur("1"))],
        [(7, eur("1"))],
        [(OR, eur("1")), ("open_receivables", eur("2"))],
        [(OR, "1.00")],
        [(OR,)],
        [OR],
    ],
)
def test_bad_exposure_components_are_refused(components: list[Any]) -> None:
    with pytest.raises(InvalidCreditInputError) as info:
        Exposure.of("C", "EUR", components)
    assert info.value.what.startswith("exposure.components")


def test_exposure_refuses_foreign_components_bad_currency_and_ids() -> None:
    with pytest.raises(CreditCurrencyError):
        Exposure.of("C", "EUR", {OR: Money("1", "USD")})
    with pytest.raises(UnknownCurrencyError):
        Exposure.of("C", "EURO", {})
    with pytest.raises(InvalidCreditInputError):
        Exposure.of("", "EUR", {})
    with pytest.raises(InvalidCreditInputError):
        Exposure("G", "EUR", (), members=("A", "A"))
    with pytest.raises(InvalidCreditInputError):
        Exposure("G", "EUR", (), members=("A", ""))


# --------------------------------------------------------------------------- facts validation


@pytest.mark.parametrize(
    ("kwargs", "error", "what"),
    [
        ({"customer_id": ""}, InvalidCreditInputError, "profile.customer_id"),
        ({"limit": Money("1", "USD")}, CreditCurrencyError, "profile.limit"),
        ({"limit": eur("-0.01")}, InvalidCreditInputError, "profile.limit"),
        ({"limit": "1000"}, InvalidCreditInputError, "profile.limit"),
        ({"group_limit": eur("5")}, InvalidCreditInputError, "profile.group_limit"),
        ({"group_id": " "}, InvalidCreditInputError, "profile.group_id"),
        (
            {"group_id": "G", "group_limit": Money("5", "USD")},
            CreditCurrencyError,
            "profile.group_limit",
        ),
        ({"blocked": 1}, InvalidCreditInputError, "profile.blocked"),
        ({"blocked_reason": None}, InvalidCreditInputError, "profile.blocked_reason"),
        ({"overdue_amount": eur("-1")}, InvalidCreditInputError, "profile.overdue_amount"),
        ({"oldest_overdue_days": -1}, InvalidCreditInputError, "profile.oldest_overdue_days"),
        ({"oldest_overdue_days": True}, InvalidCreditInputError, "profile.oldest_overdue_days"),
        ({"dunning_level": -1}, InvalidCreditInputError, "profile.dunning_level"),
        ({"dunning_block_level": 0}, InvalidCreditInputError, "profile.dunning_block_level"),
        ({"risk_class": ""}, InvalidCreditInputError, "profile.risk_class"),
    ],
)
def test_bad_profiles_are_refused(
    kwargs: dict[str, Any], error: type[CreditError], what: str
) -> None:
    values: dict[str, Any] = {"customer_id": "C-1", "currency": "EUR"}
    values.update(kwargs)
    with pytest.raises(error) as info:
        CreditProfile(**values)
    assert info.value.fields["what"] == what


def test_profile_defaults_are_explicit() -> None:
    p = CreditProfile(customer_id="C", currency="JPY")
    assert p.limit is None
    assert p.overdue_amount == Money("0", "JPY")
    assert p.dunning_block_level is None
    assert not p.blocked
    with pytest.raises(UnknownCurrencyError):
        CreditProfile(customer_id="C", currency="eur")


def test_facts_must_describe_the_profile_customer_in_its_currency() -> None:
    profile = CreditProfile(customer_id="C-1", currency="EUR")
    with pytest.raises(InvalidCreditInputError) as info:
        CreditFacts(profile=profile, exposure=Exposure.zero("C-2", "EUR"))
    assert info.value.what == "facts.exposure"
    with pytest.raises(CreditCurrencyError):
        CreditFacts(profile=profile, exposure=Exposure.zero("C-1", "USD"))


def test_bad_requests_are_refused() -> None:
    good = make_request()
    with pytest.raises(InvalidCreditInputError):
        attrs.evolve(good, order_id="")
    with pytest.raises(InvalidCreditInputError):
        attrs.evolve(good, customer_id="C-2")
    with pytest.raises(InvalidCreditInputError) as info:
        attrs.evolve(good, amount=eur("-1"))
    assert info.value.what == "request.amount"
    with pytest.raises(CreditCurrencyError):
        attrs.evolve(good, amount=Money("1", "USD"))
    with pytest.raises(DomainError, match="naive"):
        attrs.evolve(good, requested_at=datetime(2026, 1, 1))
    assert good.headroom == eur("-500.00")
    assert make_request(limit=None).headroom is None
    assert good.group_headroom is None
    assert good.currency == "EUR"


# --------------------------------------------------------------------------- policies


@attrs.frozen
class ApproveEverything:
    """A host rule that tries to loosen the policy."""

    name: str = "approve_everything"

    def evaluate(self, request: CreditRequest) -> RuleOutcome | None:
        return RuleOutcome.approve("host says yes", "host.yes")


@attrs.frozen
class Abstain:
    name: str = "abstain"

    def evaluate(self, request: CreditRequest) -> RuleOutcome | None:
        return None


@attrs.frozen
class Broken:
    name: str = "broken"

    def evaluate(self, request: CreditRequest) -> RuleOutcome | None:
        return "approve"  # type: ignore[return-value]


def test_a_host_rule_cannot_approve_what_another_rule_holds() -> None:
    policy = CreditPolicy((ApproveEverything(), *default_rules()), name="host", version="7")
    decision = decide(make_request("1500.00"), policy)
    assert decision.outcome is CreditOutcome.HOLD
    assert decision.deciding_rule == "credit_limit"
    assert decision.verdicts[0] == RuleVerdict(
        "approve_everything", CreditOutcome.APPROVE, "host says yes", "host.yes"
    )
    assert "policy host v7 decided HOLD" in decision.explain()[0]
    assert isinstance(ApproveEverything(), CreditRule)


def test_a_silent_policy_holds_by_default_and_can_be_told_otherwise() -> None:
    held = decide(make_request("1"), CreditPolicy((Abstain(),)))
    assert held.outcome is CreditOutcome.HOLD
    assert held.deciding_rule is None
    assert "no rule (policy silent)" in held.explain()[0]
    with pytest.raises(CreditNotApprovedError) as info:
        held.require_approved()
    assert type(info.value) is CreditNotApprovedError
    approved = decide(
        make_request("1"), CreditPolicy((Abstain(),), when_silent=CreditOutcome.APPROVE)
    )
    assert approved.approved


def test_risk_class_rule() -> None:
    rule = RiskClassRule(hold_classes={"medium"}, reject_classes=["high"])
    policy = CreditPolicy((rule, OwnLimitRule()))
    assert decide(make_request("1", risk_class="high"), policy).outcome is CreditOutcome.REJECT
    medium = decide(make_request("1", risk_class="medium"), policy)
    assert medium.outcome is CreditOutcome.HOLD
    assert medium.reasons == ("credit.risk_class",)
    assert "Risk class: medium" in medium.explain()
    low = decide(make_request("1", risk_class="low"), policy)
    assert low.approved
    assert low.verdicts[0].outcome is None
    assert decide(make_request("1"), policy).approved


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: CreditPolicy(()), "at least one rule"),
        (lambda: CreditPolicy((OwnLimitRule(), OwnLimitRule())), "used twice"),
        (lambda: CreditPolicy((object(),)), "is not a CreditRule"),  # type: ignore[arg-type]
        (lambda: CreditPolicy((OwnLimitRule(name=" "),)), "empty name"),
        (lambda: CreditPolicy((OwnLimitRule(),), name=""), "name must not be empty"),
        (lambda: CreditPolicy((OwnLimitRule(),), version=""), "version must not be empty"),
    ],
)
def test_bad_policies_are_refused(make: Any, reason: str) -> None:
    with pytest.raises(CreditPolicyError) as info:
        make()
    assert reason in info.value.reason
    assert info.value.code == "credit.invalid_policy"


def test_a_rule_returning_garbage_fails_loudly() -> None:
    with pytest.raises(CreditPolicyError, match="broken"):
        check_credit(CreditPolicy((Broken(),)), make_request(), T0)


def test_rule_outcomes_are_validated() -> None:
    with pytest.raises(InvalidCreditInputError):
        RuleOutcome("maybe", "m", "c")
    with pytest.raises(InvalidCreditInputError):
        RuleOutcome.hold("", "c")
    with pytest.raises(InvalidCreditInputError):
        RuleOutcome.hold("m", "")
    with pytest.raises(InvalidCreditInputError):
        NoLimitRule(outcome="later")
    assert RuleOutcome("reject", "m", ReasonCode.RISK_CLASS).outcome is CreditOutcome.REJECT
    assert [o.severity for o in CreditOutcome] == [0, 1, 2]


def test_check_credit_needs_an_aware_now() -> None:
    with pytest.raises(DomainError, match="naive"):
        check_credit(CreditPolicy.default(), make_request(), datetime(2026, 1, 1))


def test_default_rule_order_and_names() -> None:
    names = [r.name for r in CreditPolicy.default().rules]
    assert names == [
        "customer_blocked",
        "dunning_level",
        "overdue",
        "credit_limit",
        "group_limit",
        "no_limit",
    ]
    assert isinstance(CreditPolicy.default().rules[0], CustomerBlockedRule)
    assert isinstance(CreditPolicy.default().rules[1], DunningLevelRule)
    assert isinstance(CreditPolicy.default().rules[4], GroupLimitRule)


# --------------------------------------------------------------------------- overrides


def test_override_approves_a_hold_and_keeps_the_policy_outcome() -> None:
    held = decide(make_request("1500.00"))
    approved, (event,) = apply_override(held, override(max_amount=eur("2000.00")))
    assert approved.outcome is CreditOutcome.APPROVE
    assert approved.approved
    assert approved.overridden
    assert approved.policy_outcome is CreditOutcome.HOLD
    assert approved.deciding_rule == "credit_limit"
    assert approved.verdicts == held.verdicts
    assert approved.headroom == eur("-500.00")
    assert approved.require_approved() is approved
    assert isinstance(event, CreditOverridden)
    assert event.aggregate_id == "SO-1"
    assert event.occurred_at == T1
    assert (event.by, event.authority) == ("u-anna", "credit_controller")
    assert event.reason == "pays reliably; large prepayment expected"
    assert event.policy_outcome == "hold"
    assert event.deciding_rule == "credit_limit"
    assert event.order_amount == eur("1500.00")
    assert event.max_amount == eur("2000.00")
    assert not event.allow_blocked
    last = approved.explain()[-1]
    assert last.startswith("Overridden by u-anna (credit_controller, up to 2000.00 EUR)")
    assert last.endswith("the policy had decided HOLD")
    assert approved.explain()[0].startswith("Credit APPROVE by override for order SO-1")


def test_override_ceiling_equal_to_the_order_is_enough() -> None:
    held = decide(make_request("1500.00"))
    approved, _ = apply_override(held, override(max_amount=eur("1500.00")))
    assert approved.approved
    with pytest.raises(OverrideAmountExceededError) as info:
        apply_override(held, override(max_amount=eur("1499.99")))
    assert info.value.max_amount == eur("1499.99")
    assert info.value.order_amount == eur("1500.00")
    assert isinstance(info.value, CreditOverrideRefusedError)
    with pytest.raises(CreditCurrencyError):
        apply_override(held, override(max_amount=Money("5000", "USD")))


def test_blocked_customers_need_allow_blocked() -> None:
    rejected = decide(make_request("100", blocked=True))
    with pytest.raises(BlockedCustomerOverrideError) as info:
        apply_override(rejected, override())
    assert info.value.code == "credit.override_blocked_customer"
    approved, (event,) = apply_override(rejected, override(allow_blocked=True))
    assert approved.approved
    assert approved.policy_outcome is CreditOutcome.REJECT
    assert event.allow_blocked


def test_other_rejections_can_be_overridden() -> None:
    policy = CreditPolicy((RiskClassRule(reject_classes={"high"}), OwnLimitRule()))
    rejected = decide(make_request("100", risk_class="high"), policy)
    assert rejected.outcome is CreditOutcome.REJECT
    assert not rejected.rejects_blocked_customer
    approved, _ = apply_override(rejected, override())
    assert approved.approved


def test_override_authorities() -> None:
    held = decide(make_request())
    with pytest.raises(OverrideNotAuthorisedError) as info:
        apply_override(
            held, override(authority="sales_rep"), authorities={"cfo", "credit_controller"}
        )
    assert info.value.allowed == ("cfo", "credit_controller")
    assert info.value.authority == "sales_rep"
    approved, _ = apply_override(held, override(), authorities=["credit_controller"])
    assert approved.approved


def test_overrides_that_make_no_sense_are_refused() -> None:
    held = decide(make_request())
    approved, _ = apply_override(held, override())
    with pytest.raises(CreditOverrideRefusedError, match="already overridden"):
        apply_override(approved, override())
    with pytest.raises(CreditOverrideRefusedError, match="nothing to override"):
        apply_override(decide(make_request("1")), override())
    with pytest.raises(CreditOverrideRefusedError, match="before the decision"):
        apply_override(held, override(at=T0 - timedelta(seconds=1)))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"reason": ""},
        {"reason": "   "},
        {"by": ""},
        {"authority": ""},
        {"max_amount": eur("-1")},
        {"max_amount": "100"},
        {"allow_blocked": "yes"},
    ],
)
def test_bad_overrides_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidCreditInputError):
        override(**kwargs)


def test_override_time_must_be_aware() -> None:
    with pytest.raises(DomainError, match="naive"):
        override(at=datetime(2026, 1, 1))


def test_a_decision_cannot_record_an_override_of_an_approval() -> None:
    approved = decide(make_request("1"))
    with pytest.raises(InvalidCreditInputError):
        attrs.evolve(approved, override=override())


# --------------------------------------------------------------------------- explanation, errors


def test_explanation_lists_every_rule_and_the_numbers() -> None:
    lines = decide(make_request("1500.00")).explain()
    assert lines[1] == "Order amount: 1500.00 EUR"
    assert lines[2] == (
        "Exposure: 9000.00 EUR = open_receivables 6000.00 EUR + unbilled_orders 3000.00 EUR"
    )
    assert lines[3] == "Exposure with order: 10500.00 EUR"
    assert lines[4] == "Limit: 10000.00 EUR; headroom after order: -500.00 EUR"
    assert lines[5] == "Rules (6):"
    assert lines[6:] == (
        "  - customer_blocked: APPROVE - customer is not blocked [credit.customer_not_blocked]",
        "  - dunning_level: no opinion - no opinion (not applicable) [credit.no_opinion]",
        "  - overdue: APPROVE - nothing is overdue [credit.overdue_ok]",
        "  - credit_limit: HOLD - customer exposure 9000.00 EUR + order 1500.00 EUR = "
        "10500.00 EUR exceeds the limit 10000.00 EUR by 500.00 EUR [credit.limit_exceeded]",
        "  - group_limit: no opinion - no opinion (not applicable) [credit.no_opinion]",
        "  - no_limit: no opinion - no opinion (not applicable) [credit.no_opinion]",
    )


def test_credit_errors_have_codes_hints_and_survive_pickling() -> None:
    held = decide(make_request())
    with pytest.raises(CreditLimitExceededError) as info:
        held.require_approved()
    err = info.value
    assert isinstance(err, CreditNotApprovedError)
    assert isinstance(err, DomainError)
    assert "[credit.limit_exceeded]" in str(err)
    assert err.hint in str(err)
    again = pickle.loads(pickle.dumps(err))  # noqa: S301
    assert type(again) is CreditLimitExceededError
    assert again.reasons == ("credit.limit_exceeded",)
    assert again.order_id == "SO-1"


def test_module_docstring_examples_run() -> None:
    result = doctest.testmod(o2c.credit)
    assert result.failed == 0
    assert result.attempted >= 1
