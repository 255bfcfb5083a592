"""The parts of cash application: reference keys, amounts, subset sums, payers, policy."""

from __future__ import annotations

from decimal import Decimal

import pytest

from o2c.errors import MatchPolicyError
from o2c.matching.amounts import FitKind, discount_units, fit, subset_sums, tolerance_units
from o2c.matching.model import MatchStatus, Proposal, Signal
from o2c.matching.payers import (
    PayerMemory,
    name_key,
    name_similarity,
    normalise_account,
    trigrams,
)
from o2c.matching.policy import MatchPolicy, Weights
from o2c.matching.references import (
    ReferenceIndex,
    is_valid_rf,
    one_edit_apart,
    reference_keys,
    rf_reference,
    scan,
    window_text,
)

NUMBERS = ["INV-2026-000123", "INV-2026-000124", "RE-4711", "2026/0815", "INV-0123", "INV-123"]


@pytest.fixture(scope="module")
def index() -> ReferenceIndex:
    return ReferenceIndex(NUMBERS)


# --------------------------------------------------------------------------- references


def test_reference_keys_cover_raw_stripped_and_bare_forms() -> None:
    assert reference_keys("INV-2026-000123") == (
        "INV2026000123",
        "INV2026123",
        "2026000123",
        "2026123",
    )
    assert reference_keys("RE-4711") == ("RE4711", "4711")
    assert reference_keys("ABC") == ()  # no digit: never a key


def test_invoices_sharing_a_key_are_both_named(index: ReferenceIndex) -> None:
    # INV-0123 and INV-123 both read as INV123.
    (hit,) = scan(["inv 123"], index)
    assert [NUMBERS[i] for i in hit.ids] == ["INV-0123", "INV-123"]
    assert index.collisions()["INV123"] == 2


def test_several_references_in_one_text_in_order(index: ReferenceIndex) -> None:
    hits = scan(["pay INV2026000124 and inv 2026-123; RE 4711"], index)
    assert [[NUMBERS[i] for i in h.ids] for h in hits] == [
        ["INV-2026-000124"],
        ["INV-2026-000123"],
        ["RE-4711"],
    ]
    assert hits[1].seen == "inv 2026-123"


def test_a_short_number_is_weak_and_a_part_of_a_longer_hit_is_not_a_hit(
    index: ReferenceIndex,
) -> None:
    (hit,) = scan(["Rechnung 4711"], index)
    assert hit.short
    (whole,) = scan(["INV-2026-000123"], index)  # 2026-000123 inside is not a second hit
    assert not whole.short
    assert [NUMBERS[i] for i in whole.ids] == ["INV-2026-000123"]


@pytest.mark.parametrize("text", ["paid 2026-08-15", "vom 15.08.2026", "am 15/08/26"])
def test_dates_are_not_read_as_invoice_numbers(index: ReferenceIndex, text: str) -> None:
    assert scan([text], index) == []


def test_runs_never_join_across_commas_or_into_words(index: ReferenceIndex) -> None:
    assert scan(["2026, 0815"], index) == []
    assert [NUMBERS[i] for h in scan(["2026/0815 paid"], index) for i in h.ids] == ["2026/0815"]


def test_rf_references_are_checked_by_their_check_digits(index: ReferenceIndex) -> None:
    assert rf_reference("539007547034") == "RF18539007547034"  # the ISO 11649 example
    rf = rf_reference("INV2026000124")
    assert is_valid_rf(rf)
    assert is_valid_rf(" ".join(rf[i : i + 4] for i in range(0, len(rf), 4)).lower())
    wrong = f"RF{(int(rf[2:4]) + 1) % 100:02d}{rf[4:]}"
    assert not is_valid_rf(wrong)
    assert not is_valid_rf("XX" + rf[2:])
    (hit,) = scan([" ".join(rf[i : i + 4] for i in range(0, len(rf), 4))], index)
    assert hit.structured
    (unvouched,) = scan([wrong], index)  # wrong digits: still text
    assert not unvouched.structured
    with pytest.raises(ValueError, match="payload"):
        rf_reference("-")


def test_windows_keep_the_text_as_written(index: ReferenceIndex) -> None:
    windows: list = []
    scan(["see INV-2026-00012X9"], index, windows=windows)
    assert any(window_text(w) == "INV-2026-00012X9" for w in windows)


@pytest.mark.parametrize(
    ("a", "b", "apart"),
    [
        ("INV2026123", "INV2026124", True),  # replaced
        ("INV2026123", "INV2026213", True),  # neighbours swapped
        ("INV2026123", "INV20261234", True),  # added
        ("INV2026123", "INV202613", True),  # dropped
        ("INV2026123", "INV2026123", False),  # the same
        ("INV2026123", "INV2026321", False),  # two edits
        ("INV2026123", "INV2026", False),
        ("AB", "BA", True),
    ],
)
def test_one_edit_apart(a: str, b: str, apart: bool) -> None:
    assert one_edit_apart(a, b) is apart
    assert one_edit_apart(b, a) is apart


# --------------------------------------------------------------------------- amounts


def test_discounts_round_half_up_and_tolerances_take_the_smaller_bound() -> None:
    assert discount_units(10_050, Decimal(2)) == 201  # 201.0
    assert discount_units(125, Decimal(2)) == 3  # 2.5 -> 3
    assert tolerance_units(100_000, 500, Decimal(2)) == 500
    assert tolerance_units(10_000, 500, Decimal(2)) == 200


def _fit(amount: int, opens: list[int], discounts: list[int] | None = None, **kw: object):  # type: ignore[no-untyped-def]
    n = len(opens)
    return fit(
        amount,
        list(range(n)),
        opens=opens,
        discounts=discounts or [0] * n,
        expired=kw.get("expired", [0] * n),  # type: ignore[arg-type]
        tolerance=kw.get("tolerance", 0),  # type: ignore[arg-type]
    )


def test_fit_kinds() -> None:
    assert _fit(300, [100, 200]).kind is FitKind.EXACT
    discounted = _fit(294, [100, 200], [2, 4])
    assert discounted.kind is FitKind.DISCOUNT
    assert [(p.cash, p.discount) for p in discounted.parts] == [(98, 2), (196, 4)]
    rounded = _fit(295, [100, 200], [2, 4])  # the payer rounded one unit less
    assert rounded.kind is FitKind.DISCOUNT
    assert sum(p.discount for p in rounded.parts) == 5
    fee = _fit(295, [100, 200], tolerance=5)
    assert fee.kind is FitKind.FEE
    assert [(p.cash, p.written_off) for p in fee.parts] == [(100, 0), (195, 5)]
    both = _fit(290, [100, 200], [2, 4], tolerance=5)
    assert both.kind is FitKind.DISCOUNT_FEE
    assert sum(p.cash for p in both.parts) == 290
    over = _fit(350, [100, 200])
    assert (over.kind, over.unapplied) == (FitKind.OVER, 50)
    partial = _fit(150, [100, 200])
    assert partial.kind is FitKind.PARTIAL
    assert [(p.item, p.cash) for p in partial.parts] == [(0, 100), (1, 50)]
    assert partial.short == 150
    lapsed = _fit(196, [200], expired=[4])
    assert lapsed.expired_discount == 4
    assert FitKind.FEE.fits
    assert not FitKind.OVER.fits


def test_a_fee_is_written_off_on_the_last_item_and_spreads_back_if_it_must() -> None:
    result = _fit(95, [90, 10], tolerance=20)
    assert result.kind is FitKind.FEE
    assert [(p.cash, p.written_off) for p in result.parts] == [(90, 0), (5, 5)]
    larger = _fit(80, [90, 10], tolerance=20)
    assert [(p.cash, p.written_off) for p in larger.parts] == [(80, 10), (0, 10)]


def test_subset_sums_finds_sets_and_says_when_it_knows_there_are_no_more() -> None:
    one = subset_sums(350, [(1, 100), (2, 200), (3, 50), (4, 400)])
    assert one.solutions == [(1, 2, 3)]
    assert one.complete
    assert one.unique
    two = subset_sums(300, [(1, 100), (2, 200), (3, 250), (4, 50)])
    assert sorted(two.solutions) == [(1, 2), (3, 4)]
    assert not two.unique
    none = subset_sums(1, [(1, 100)])
    assert (none.solutions, none.complete) == ([], True)
    assert subset_sums(0, [(1, 1)]).solutions == []


def test_subset_sums_respects_its_bounds() -> None:
    values = [(i, 1) for i in range(20)]
    assert subset_sums(6, values, max_size=5).solutions == []
    cut = subset_sums(500, [(i, 7 * i + 1) for i in range(40)], budget=50)
    assert not cut.complete
    assert not cut.unique


def test_equal_values_are_tried_in_the_order_given() -> None:
    # identical invoices: the first two given (e.g. the oldest) come first
    search = subset_sums(200, [(9, 100), (3, 100), (5, 100)], max_solutions=1)
    assert search.solutions == [(3, 9)]


# --------------------------------------------------------------------------- payers


def test_names_are_folded_before_they_are_compared() -> None:
    assert name_key("Müller GmbH & Co. KG") == "MULLER"
    assert name_key("  ACME corp. ") == "ACME"
    assert name_key("Société Générale S.A.") == "SOCIETE GENERALE"
    same = name_similarity(trigrams(name_key("Acme Trading GmbH")), trigrams("ACME TRADING"))
    assert same == 1.0
    typo = name_similarity(trigrams("ACME TRADING"), trigrams("ACME TRADNG"))
    assert 0.7 < typo < 1.0
    assert name_similarity(trigrams("ACME"), frozenset()) == 0.0
    assert name_similarity(trigrams("ACME"), trigrams("ZENITH")) < 0.2


def test_accounts_are_compared_without_spaces_or_case() -> None:
    assert normalise_account(" de89 3704\t0044 ") == "DE8937040044"


def test_the_memory_counts_confirmations_and_is_a_value() -> None:
    empty = PayerMemory()
    once = empty.learned([("DE89 3704", "Acme GmbH", "C1"), ("", "", "C9"), ("X", "Y", "")])
    twice = once.learned([("de893704", "", "C1"), ("DE893704", "", "C2")])
    assert dict(empty.accounts) == {}
    assert dict(twice.for_account("DE893704")) == {"C1": 2, "C2": 1}
    assert dict(twice.for_name("ACME")) == {"C1": 1}
    assert dict(twice.for_name("NOBODY")) == {}
    assert once != twice


# --------------------------------------------------------------------------- policy


def _proposal(confidence: float, *cautions: str) -> Proposal:
    return Proposal(
        allocations=(),
        confidence=confidence,
        signals=(Signal("amount", confidence, "x"),),
        cautions=cautions,
    )


def test_the_policy_applies_only_a_clear_leader_without_cautions() -> None:
    policy = MatchPolicy()
    assert policy.decide([])[0] is MatchStatus.UNMATCHED
    assert policy.decide([_proposal(0.95)]) == (
        MatchStatus.AUTO,
        "confidence 0.950, the only proposal",
    )
    assert policy.decide([_proposal(0.95), _proposal(0.5)])[0] is MatchStatus.AUTO
    status, why = policy.decide([_proposal(0.95), _proposal(0.93)])
    assert status is MatchStatus.SUGGESTED
    assert "almost as likely" in why
    assert policy.decide([_proposal(0.85)])[0] is MatchStatus.SUGGESTED
    assert policy.decide([_proposal(0.99, "a typo?")]) == (MatchStatus.SUGGESTED, "a typo?")


@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [
        ({"auto_threshold": 1.5}, "auto_threshold"),
        ({"margin": -0.1}, "margin"),
        ({"max_proposals": 0}, "max_proposals"),
        ({"subset_budget": True}, "subset_budget"),
        ({"fee_tolerance": Decimal(-1)}, "fee_tolerance"),
        ({"fee_tolerance_percent": 2}, "fee_tolerance_percent"),
        ({"fee_tolerances": {"JPY": Decimal("NaN")}}, "fee_tolerances"),
        ({"suggest_threshold": 0.95}, "suggest_threshold"),
        ({"name_weak": 0.9}, "name_weak"),
        ({"groups": ["acme"]}, "groups"),
        ({"groups": {"acme": "beta"}}, "groups"),
        ({"weights": "heavy"}, "weights"),
    ],
)
def test_a_bad_policy_is_refused_with_the_setting(kwargs: dict[str, object], setting: str) -> None:
    with pytest.raises(MatchPolicyError) as caught:
        MatchPolicy(**kwargs)  # type: ignore[arg-type]
    assert caught.value.setting == setting


def test_bad_weights_are_refused() -> None:
    with pytest.raises(MatchPolicyError) as caught:
        Weights(iban=2.0)
    assert caught.value.setting == "iban"


def test_per_currency_tolerances_and_groups() -> None:
    policy = MatchPolicy(
        fee_tolerances={"JPY": Decimal(500)}, groups={"parent": ["a", "parent", "b", "a"]}
    )
    assert policy.fee_tolerance_for("JPY") == Decimal(500)
    assert policy.fee_tolerance_for("EUR") == Decimal(5)
    assert policy.groups["parent"] == ("a", "b")


def test_lookup_and_long_rf_runs(index: ReferenceIndex) -> None:
    assert index.lookup("INV2026123") == (0,)
    assert index.lookup("NOPE") == ()
    rf = rf_reference("INV2026000124")
    text = " ".join(rf[i : i + 4] for i in range(0, len(rf), 4)) + " 1111 2222 3333"
    (hit,) = scan([text], index)
    assert hit.structured


def test_a_search_cut_short_knows_it() -> None:
    # even values never make an odd sum: the search has to give up, not answer "none"
    cut = subset_sums(101, [(i, 2 * i + 2) for i in range(30)], budget=50)
    assert cut.solutions == []
    assert not cut.complete
