"""Properties of the credit policy: limits are never silently exceeded, decisions are stable.

The oracles below recompute exposure and limits from the raw decimals the strategies
drew, not through the code under test.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache

import attrs
from hypothesis import given
from hypothesis import strategies as st

from o2c.credit import (
    CreditDecision,
    CreditFacts,
    CreditOutcome,
    CreditOverride,
    CreditPolicy,
    CreditProfile,
    CreditRequest,
    CreditRule,
    Exposure,
    ExposureComponent,
    RiskClassRule,
    RuleOutcome,
    apply_override,
    check_credit,
    consolidate_group,
    default_rules,
)
from o2c.errors import CreditOverrideRefusedError
from o2c.events import CreditOverridden, DomainEvent
from o2c.money import Money, minor_units

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
CURRENCIES = st.sampled_from(["EUR", "JPY", "KWD"])
NAMES = [*(str(c) for c in ExposureComponent), "pending_payments", "host_extra"]
OUTCOMES = st.sampled_from(list(CreditOutcome))
AUTHORITIES = frozenset({"credit_controller", "cfo"})


def units(currency: str, value: int) -> Money:
    return Money(Decimal(value).scaleb(-minor_units(currency)), currency)


@cache
def amounts(currency: str, low: int, high: int) -> st.SearchStrategy[Money]:
    # Cached: building (and validating) strategies inside draws dominated the run time.
    return st.integers(min_value=low, max_value=high).map(lambda v: units(currency, v))


@attrs.frozen
class ApproveEverything:
    name: str = "host_approves"

    def evaluate(self, request: CreditRequest) -> RuleOutcome | None:
        return RuleOutcome.approve("the host always says yes", "host.yes")


@attrs.frozen
class Abstain:
    name: str = "host_abstains"

    def evaluate(self, request: CreditRequest) -> RuleOutcome | None:
        return None


LIMIT_KINDS = st.sampled_from(["none", "near", "any"])
NEAR = st.integers(min_value=-3, max_value=3)
SISTERS = st.integers(2, 4)
RARELY = st.integers(0, 4).map(lambda i: i == 0)
DAYS = st.integers(1, 120)
LEVELS = st.integers(0, 5)
BLOCK_LEVELS = st.none() | st.integers(1, 5)
RISK_CLASSES = st.none() | st.sampled_from(["low", "medium", "high"])
MAX_DAYS = st.none() | st.integers(0, 90)
EXTRA_RULES: list[CreditRule] = [
    ApproveEverything(),
    Abstain(),
    RiskClassRule(hold_classes={"medium"}, reject_classes={"high"}),
]
EXTRAS = st.lists(st.sampled_from(EXTRA_RULES), unique_by=lambda r: r.name)
OVERRIDE_DELAY = st.integers(-60, 86_400)


@attrs.frozen
class Case:
    request: CreditRequest
    policy: CreditPolicy
    override: CreditOverride | None
    authorities: frozenset[str] | None


NAME_LISTS = st.lists(st.sampled_from(NAMES), unique=True, max_size=len(NAMES))


@cache
def exposures(customer: str, currency: str) -> st.SearchStrategy[Exposure]:
    amount = amounts(currency, -(10**6), 10**8)

    @st.composite
    def build(draw: st.DrawFn) -> Exposure:
        comps = {n: draw(amount) for n in draw(NAME_LISTS)}
        return Exposure.of(customer, currency, comps)

    return build()


@st.composite
def limits(draw: st.DrawFn, currency: str, exposure: Money) -> Money | None:
    # Half the time the limit sits within a few minor units of the exposure after the
    # order, where an off-by-one (>= instead of >) would show.
    kind = draw(LIMIT_KINDS)
    if kind == "none":
        return None
    if kind == "near":
        delta = draw(NEAR)
        value = exposure.amount + units(currency, delta).amount
        return Money(value, currency) if value >= 0 else Money.zero(currency)
    return draw(amounts(currency, 0, 2 * 10**8))


@st.composite
def requests(draw: st.DrawFn) -> CreditRequest:
    cur = draw(CURRENCIES)
    exposure = draw(exposures("C-1", cur))
    order = draw(amounts(cur, 0, 10**7))
    limit = draw(limits(cur, exposure.total + order))
    group_exposure: Exposure | None = None
    group_limit: Money | None = None
    group_id: str | None = None
    if draw(st.booleans()):
        group_id = "G-1"
        sisters = [draw(exposures(f"C-{i}", cur)) for i in range(2, draw(SISTERS))]
        group_exposure = consolidate_group(group_id, cur, [exposure, *sisters])
        group_limit = draw(limits(cur, group_exposure.total + order))
        if group_limit is None and draw(st.booleans()):
            group_exposure = None
    overdue = draw(amounts(cur, 0, 10**6)) if draw(st.booleans()) else Money.zero(cur)
    profile = CreditProfile(
        customer_id="C-1",
        currency=cur,
        limit=limit,
        group_id=group_id,
        group_limit=group_limit,
        blocked=draw(RARELY),
        overdue_amount=overdue,
        oldest_overdue_days=0 if overdue.is_zero() else draw(DAYS),
        dunning_level=draw(LEVELS),
        dunning_block_level=draw(BLOCK_LEVELS),
        risk_class=draw(RISK_CLASSES),
    )
    facts = CreditFacts(profile=profile, exposure=exposure, group_exposure=group_exposure)
    return CreditRequest(
        order_id="SO-1", customer_id="C-1", amount=order, requested_at=NOW, facts=facts
    )


@st.composite
def policies(draw: st.DrawFn) -> CreditPolicy:
    rules: list[CreditRule] = list(
        default_rules(
            no_limit=draw(OUTCOMES),
            overdue_max_days=draw(MAX_DAYS),
        )
    )
    rules += draw(EXTRAS)
    return CreditPolicy(draw(st.permutations(rules)), when_silent=draw(OUTCOMES))


@st.composite
def overrides(draw: st.DrawFn, currency: str) -> CreditOverride | None:
    if not draw(st.booleans()):
        return None
    return CreditOverride(
        by=draw(st.sampled_from(["u-anna", "u-ben"])),
        reason=draw(st.sampled_from(["prepayment promised", "strategic customer"])),
        at=NOW + timedelta(seconds=draw(OVERRIDE_DELAY)),
        authority=draw(st.sampled_from(["credit_controller", "cfo", "sales_rep"])),
        max_amount=draw(amounts(currency, 0, 10**7)) if draw(st.booleans()) else None,
        allow_blocked=draw(st.booleans()),
    )


@st.composite
def cases(draw: st.DrawFn) -> Case:
    request = draw(requests())
    return Case(
        request=request,
        policy=draw(policies()),
        override=draw(overrides(request.currency)),
        authorities=AUTHORITIES if draw(st.booleans()) else None,
    )


def run(case: Case) -> tuple[CreditDecision, tuple[DomainEvent, ...]]:
    decision, checked = check_credit(case.policy, case.request, NOW)
    events: tuple[DomainEvent, ...] = checked
    if case.override is not None:
        try:
            decision, overridden = apply_override(
                decision, case.override, authorities=case.authorities
            )
            events += overridden
        except CreditOverrideRefusedError:
            pass
    return decision, events


def raw_total(exposure: Exposure) -> Decimal:
    return sum((amount.amount for _, amount in exposure.components), Decimal(0))


def exceeds(limit: Money | None, exposure: Exposure | None, order: Money) -> bool:
    if limit is None or exposure is None:
        return False
    return raw_total(exposure) + order.amount > limit.amount


# --------------------------------------------------------------------------- safety


@given(cases())
def test_over_limit_is_never_approved_without_a_recorded_override(case: Case) -> None:
    r = case.request
    over = exceeds(r.profile.limit, r.exposure, r.amount) or exceeds(
        r.profile.group_limit, r.group_exposure, r.amount
    )
    decision, events = run(case)
    if over:
        assert decision.policy_outcome is not CreditOutcome.APPROVE
    if over and decision.approved:
        o = decision.override
        assert o is not None
        assert decision.overridden
        audit = [e for e in events if isinstance(e, CreditOverridden)]
        assert len(audit) == 1
        assert (audit[0].by, audit[0].reason, audit[0].occurred_at) == (o.by, o.reason, o.at)
        assert audit[0].authority == o.authority
        assert audit[0].policy_outcome == decision.policy_outcome.value


@given(cases())
def test_an_approval_has_headroom_or_an_override(case: Case) -> None:
    decision, _ = run(case)
    if not decision.approved or decision.overridden:
        return
    assert decision.headroom is None or not decision.headroom.is_negative()
    assert decision.group_headroom is None or not decision.group_headroom.is_negative()
    if decision.headroom is None:
        # Approving without a limit is only possible when the policy says so.
        no_limit = next(v for v in decision.verdicts if v.rule == "no_limit")
        assert no_limit.outcome is CreditOutcome.APPROVE


@given(cases())
def test_overrides_respect_their_own_bounds(case: Case) -> None:
    decision, events = run(case)
    o = decision.override
    if o is None:
        assert not any(isinstance(e, CreditOverridden) for e in events)
        return
    assert o.max_amount is None or o.max_amount >= decision.order_amount
    assert case.authorities is None or o.authority in case.authorities
    assert o.at >= decision.decided_at
    if case.request.profile.blocked:
        assert o.allow_blocked


@given(cases())
def test_headroom_is_limit_minus_exposure_minus_order(case: Case) -> None:
    decision, _ = run(case)
    r = case.request
    if r.profile.limit is None:
        assert decision.headroom is None
    else:
        assert decision.headroom is not None
        expected = r.profile.limit.amount - raw_total(r.exposure) - r.amount.amount
        assert decision.headroom.amount == expected
        limit_verdict = next(v for v in decision.verdicts if v.rule == "credit_limit")
        assert (limit_verdict.outcome is CreditOutcome.HOLD) == (expected < 0)


# --------------------------------------------------------------------------- stability


@given(cases())
def test_decisions_are_deterministic(case: Case) -> None:
    assert run(case) == run(case)


@given(requests(), policies())
def test_the_outcome_does_not_depend_on_rule_order(
    request: CreditRequest, policy: CreditPolicy
) -> None:
    reordered = attrs.evolve(policy, rules=tuple(reversed(policy.rules)))
    a, _ = check_credit(policy, request, NOW)
    b, _ = check_credit(reordered, request, NOW)
    assert a.outcome is b.outcome
    assert Counter(a.verdicts) == Counter(b.verdicts)


@given(cases())
def test_the_explanation_lists_every_rule_that_ran(case: Case) -> None:
    decision, _ = run(case)
    names = [rule.name for rule in case.policy.rules]
    assert [v.rule for v in decision.verdicts] == names
    lines = decision.explain()
    assert f"Rules ({len(names)}):" in lines
    rule_lines = [line for line in lines if line.startswith("  - ")]
    assert [line[4:].split(":", 1)[0] for line in rule_lines] == names
    assert str(decision.order_amount) in lines[1]
    if decision.overridden:
        assert lines[-1].startswith("Overridden by ")


def severity(decision: CreditDecision) -> int:
    return decision.policy_outcome.severity


@given(
    requests(),
    policies(),
    st.sampled_from(NAMES),
    st.integers(min_value=0, max_value=10**8),
)
def test_adding_exposure_never_loosens_the_decision(
    request: CreditRequest, policy: CreditPolicy, name: str, extra_units: int
) -> None:
    extra = units(request.currency, extra_units)
    group = request.group_exposure
    facts = attrs.evolve(
        request.facts,
        exposure=request.exposure.plus(name, extra),
        group_exposure=None if group is None else group.plus(name, extra),
    )
    before, _ = check_credit(policy, request, NOW)
    after, _ = check_credit(policy, attrs.evolve(request, facts=facts), NOW)
    assert severity(after) >= severity(before)
    if before.outcome is CreditOutcome.HOLD:
        assert after.outcome is not CreditOutcome.APPROVE
    bigger_order, _ = check_credit(
        policy, attrs.evolve(request, amount=request.amount + extra), NOW
    )
    assert severity(bigger_order) >= severity(before)


# --------------------------------------------------------------------------- exposure


@given(CURRENCIES.flatmap(lambda c: st.tuples(st.just(c), exposures("C", c))), st.randoms())
def test_exposure_is_independent_of_input_order(
    drawn: tuple[str, Exposure], rnd: st.SearchStrategy[object]
) -> None:
    currency, exposure = drawn
    pairs = list(exposure.components)
    rnd.shuffle(pairs)  # type: ignore[attr-defined]
    rebuilt = Exposure.of("C", currency, pairs)
    assert rebuilt == exposure
    assert rebuilt.total.amount == raw_total(exposure)


@st.composite
def groups(draw: st.DrawFn) -> tuple[str, Sequence[Exposure]]:
    cur = draw(CURRENCIES)
    count = draw(st.integers(0, 5))
    return cur, [draw(exposures(f"M-{i}", cur)) for i in range(count)]


@given(groups(), st.randoms())
def test_group_exposure_is_the_sum_of_its_members(
    drawn: tuple[str, Sequence[Exposure]], rnd: st.SearchStrategy[object]
) -> None:
    currency, members = drawn
    group = consolidate_group("G", currency, members)
    assert group.total.amount == sum((raw_total(m) for m in members), Decimal(0))
    for name in NAMES:
        assert group.component(name).amount == sum(
            (m.component(name).amount for m in members), Decimal(0)
        )
    shuffled = list(members)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert consolidate_group("G", currency, shuffled) == group
    assert group.members == tuple(sorted(m.customer_id for m in members))
