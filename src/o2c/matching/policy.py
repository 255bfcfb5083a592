"""When a proposal is applied without a person, and what the evidence is worth.

A proposal's confidence combines the weights of its signals like independent
witnesses (a *noisy-or*): ``1 - (1 - w1) * (1 - w2) * ...``, then multiplies the
penalties (a payer known for another customer, an invoice dated after the payment,
quoted invoices left out). The weights are in :class:`Weights`; with the defaults an
exact reference and a fitting amount give ``1 - 0.15 * 0.5 = 0.925``.

:meth:`MatchPolicy.decide` auto-applies the best proposal only when

* its confidence is at least :attr:`MatchPolicy.auto_threshold`,
* it leads the next proposal by at least :attr:`MatchPolicy.margin` (two invoices that
  fit equally are never chosen between by a machine), and
* it carries no caution (a possible typo naming another open invoice, a reference one
  edit away that the payer does not corroborate, an amount that fits another proposal
  better, a line booked after ``today``, a kind the policy does not auto-apply).

Everything else with a confidence of at least :attr:`MatchPolicy.suggest_threshold`
is suggested, best first; below that the line is unmatched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType

import attrs

from o2c.errors import MatchPolicyError
from o2c.matching.model import MatchStatus, Proposal

__all__ = ["DEDUCTION_WORDS", "MatchPolicy", "Weights"]

#: Words in a remittance that turn a short payment into a deduction (a dispute).
DEDUCTION_WORDS: tuple[str, ...] = (
    "abzug",
    "abzgl",
    "claim",
    "damage",
    "deduct",
    "dispute",
    "gekürzt",
    "kürzung",
    "less ",
    "minus",
    "missing",
    "reklamation",
    "short",
)


def _check_unit(owner: object, name: str) -> None:
    value = getattr(owner, name)
    if isinstance(value, bool) or not isinstance(value, float | int) or not 0 <= value <= 1:
        raise MatchPolicyError(setting=name, value=value, reason="a number in [0, 1]")


@attrs.frozen(kw_only=True)
class Weights:
    """What each signal is worth (0..1; see the module doc for how they combine).

    Attributes:
        reference: The remittance quotes the invoice (any formatting).
        reference_short: ... but only as a short number (dates and amounts look alike).
        reference_structured: A valid ISO 11649 RF reference names it.
        reference_fuzzy: A reference one edit away (needs corroboration).
        amount_with_reference: The amount fits the quoted invoices (exact or discount).
        fee_with_reference: ... short by a bank fee within the tolerance.
        amount_unique: No reference, but exactly one of the payer's items (or one set
            of them) fits the amount.
        fee_unique: ... within the fee tolerance.
        amount_ambiguous: Several of the payer's items or sets fit.
        amount_global: Nothing but the amount: one open item anywhere fits.
        amount_global_ambiguous: Nothing but the amount, several items fit.
        iban: The paying account is the customer's known account.
        iban_shared: ... known for several customers.
        memory: The account (or name) paid this customer before (learnt).
        name_strong: The payer's name is the customer's (similarity >= name_strong).
        name_weak: The payer's name resembles the customer's.
        group: The payer is the parent company of the customer (group map).
        penalty_other_payer: Multiplier when the account is known for another customer.
        penalty_left_out: Multiplier when the remittance quotes open invoices left out.
        penalty_dated_after: Multiplier when an invoice is dated after the payment.
        penalty_misfit: Multiplier for a proposal whose amount does not fit (partial,
            overpayment) while another one, almost as likely, fits exactly.
    """

    reference: float = 0.85
    reference_short: float = 0.7
    reference_structured: float = 0.88
    reference_fuzzy: float = 0.4
    amount_with_reference: float = 0.5
    fee_with_reference: float = 0.4
    amount_unique: float = 0.75
    fee_unique: float = 0.5
    amount_ambiguous: float = 0.3
    amount_global: float = 0.25
    amount_global_ambiguous: float = 0.1
    iban: float = 0.65
    iban_shared: float = 0.3
    memory: float = 0.62
    name_strong: float = 0.5
    name_weak: float = 0.25
    group: float = 0.55
    penalty_other_payer: float = 0.8
    penalty_left_out: float = 0.8
    penalty_dated_after: float = 0.7
    penalty_misfit: float = 0.8

    def __attrs_post_init__(self) -> None:
        for field in attrs.fields(Weights):
            _check_unit(self, field.name)


def _groups(value: Mapping[str, Sequence[str]]) -> Mapping[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise MatchPolicyError(setting="groups", value=value, reason="a mapping parent -> members")
    out: dict[str, tuple[str, ...]] = {}
    for parent, members in value.items():
        if not isinstance(parent, str) or isinstance(members, str):
            raise MatchPolicyError(
                setting="groups", value=parent, reason="parent id -> a sequence of customer ids"
            )
        out[parent] = tuple(sorted({str(m) for m in members if m != parent}))
    return MappingProxyType(out)


def _tolerances(value: Mapping[str, Decimal]) -> Mapping[str, Decimal]:
    out: dict[str, Decimal] = {}
    for currency, amount in value.items():
        if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
            raise MatchPolicyError(
                setting="fee_tolerances", value=amount, reason="a Decimal of zero or more"
            )
        out[currency] = amount
    return MappingProxyType(out)


@attrs.frozen(kw_only=True)
class MatchPolicy:
    """How sure cash application must be, and how far it searches.

    Attributes:
        auto_threshold: Least confidence for applying without a person.
        margin: How far the best proposal must lead the next one.
        suggest_threshold: Least confidence for showing a proposal at all.
        max_proposals: Most proposals kept per line.
        fee_tolerance: Largest shortfall written off as a bank fee, in major units of
            the line's currency (``fee_tolerances`` overrides it per currency) ...
        fee_tolerance_percent: ... and never more than this percent of what is paid for.
        fee_tolerances: Per-currency absolute tolerances (``{"JPY": Decimal(500)}``).
        name_strong: Name similarity at which a name identifies the customer.
        name_weak: Name similarity at which a name supports a proposal.
        subset_max_items: Most of a payer's items searched for a sum (oldest due first).
        subset_max_size: Most items in one sum.
        subset_budget: Most search steps per line.
        groups: Parent customer id -> the customers it pays for.
        auto_partial: Auto-apply partial payments (the rest stays open).
        auto_overpayment: Auto-apply overpayments (the rest stays unapplied).
        auto_deduction: Auto-apply deductions (short payments the remittance explains;
            the host opens a dispute for the rest).
        deduction_words: Words that mark a short payment as a deduction.
        weights: What each signal is worth.
    """

    auto_threshold: float = 0.9
    margin: float = 0.05
    suggest_threshold: float = 0.1
    max_proposals: int = 5
    fee_tolerance: Decimal = Decimal(5)
    fee_tolerance_percent: Decimal = Decimal(2)
    fee_tolerances: Mapping[str, Decimal] = attrs.field(factory=dict, converter=_tolerances)
    name_strong: float = 0.85
    name_weak: float = 0.7
    subset_max_items: int = 30
    subset_max_size: int = 5
    subset_budget: int = 20_000
    groups: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, converter=_groups)
    auto_partial: bool = True
    auto_overpayment: bool = True
    auto_deduction: bool = True
    deduction_words: tuple[str, ...] = DEDUCTION_WORDS
    weights: Weights = attrs.field(factory=Weights)

    def __attrs_post_init__(self) -> None:
        for name in ("auto_threshold", "margin", "suggest_threshold", "name_strong", "name_weak"):
            _check_unit(self, name)
        for name in ("max_proposals", "subset_max_items", "subset_max_size", "subset_budget"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise MatchPolicyError(setting=name, value=value, reason="a whole number >= 1")
        for name in ("fee_tolerance", "fee_tolerance_percent"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise MatchPolicyError(setting=name, value=value, reason="a Decimal >= 0")
        if not isinstance(self.weights, Weights):
            raise MatchPolicyError(setting="weights", value=self.weights, reason="a Weights")
        if self.suggest_threshold > self.auto_threshold:
            raise MatchPolicyError(
                setting="suggest_threshold",
                value=self.suggest_threshold,
                reason="it cannot exceed auto_threshold",
            )
        if self.name_weak > self.name_strong:
            raise MatchPolicyError(
                setting="name_weak", value=self.name_weak, reason="it cannot exceed name_strong"
            )

    def fee_tolerance_for(self, currency: str) -> Decimal:
        """The absolute fee tolerance for ``currency`` in major units."""
        return self.fee_tolerances.get(currency, self.fee_tolerance)

    def decide(self, proposals: Sequence[Proposal]) -> tuple[MatchStatus, str]:
        """The status of a line with these proposals (best first), and why.

        >>> from o2c.matching.model import Proposal
        >>> MatchPolicy().decide([])
        (<MatchStatus.UNMATCHED: 'unmatched'>, 'no open item fits')
        """
        if not proposals:
            return MatchStatus.UNMATCHED, "no open item fits"
        best = proposals[0]
        if best.confidence < self.auto_threshold:
            return (
                MatchStatus.SUGGESTED,
                f"confidence {best.confidence:.3f} is below the {self.auto_threshold:.3f} "
                "needed to apply without a person",
            )
        if len(proposals) > 1 and best.confidence - proposals[1].confidence < self.margin:
            return (
                MatchStatus.SUGGESTED,
                f"two proposals are almost as likely ({best.confidence:.3f} and "
                f"{proposals[1].confidence:.3f}): a person chooses",
            )
        if best.cautions:
            return MatchStatus.SUGGESTED, "; ".join(best.cautions)
        lead = (
            f", {best.confidence - proposals[1].confidence:.3f} ahead of the next"
            if len(proposals) > 1
            else ", the only proposal"
        )
        return MatchStatus.AUTO, f"confidence {best.confidence:.3f}{lead}"
