"""The values cash application works with: open items in, proposals out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

import attrs

from o2c.money import Money

__all__ = ["Allocation", "LineResult", "MatchStatus", "OpenItem", "Proposal", "Signal"]


@attrs.frozen
class OpenItem:
    """An open invoice as cash application sees it (one row of OPEN_ITEMS.csv).

    Attributes:
        invoice_number: As printed on the invoice (what payers quote).
        customer_id: The customer it is owed by.
        customer_name: Their name (payers write it their own way).
        customer_iban: An account the customer is known to pay from ("" if none).
        currency: The invoice's currency.
        amount_open: What is still owed.
        invoice_date: Issue date.
        due_date: Due date.
        discount_percent: Early-payment discount, if any (e.g. ``Decimal("2")``).
        discount_until: Last day the discount may be taken (inclusive).
    """

    invoice_number: str
    customer_id: str
    customer_name: str
    customer_iban: str
    currency: str
    amount_open: Money
    invoice_date: date
    due_date: date
    discount_percent: Decimal | None = None
    discount_until: date | None = None


class MatchStatus(StrEnum):
    """What the policy decided for a line."""

    AUTO = "auto"  # applied without a person
    SUGGESTED = "suggested"  # a person confirms (best first)
    UNMATCHED = "unmatched"  # nothing worth showing


@attrs.frozen
class Signal:
    """One piece of evidence that counted, and how much.

    Attributes:
        name: ``"reference"``, ``"amount"``, ``"iban"``, ``"name"``, ``"memory"`` ...
        weight: Its contribution to the confidence.
        detail: What was seen, in words a clerk understands.
    """

    name: str
    weight: float
    detail: str


@attrs.frozen
class Allocation:
    """Cash from one statement line for one invoice.

    Attributes:
        invoice_number: The invoice.
        amount: Cash taken from the line for it.
        discount: Early-payment discount granted on it (not cash).
        written_off: A small difference written off (a bank fee), not cash.
        deduction: What the payer deducted, with a reason in the remittance (not cash;
            it stays open on the invoice and is for a dispute).
    """

    invoice_number: str
    amount: Money
    discount: Money | None = None
    written_off: Money | None = None
    deduction: Money | None = None


@attrs.frozen
class Proposal:
    """One way to apply a line.

    Attributes:
        allocations: Per invoice.
        confidence: 0..1.
        signals: The evidence, strongest first.
        unapplied: What stays on account (an overpayment), if anything.
        kind: ``"one_to_one"``, ``"one_to_many"``, ``"partial"`` (the rest stays open),
            ``"overpayment"`` (the rest stays unapplied) or ``"deduction"`` (a short
            payment the remittance explains: the rest is for a dispute).
        cautions: Why this proposal must not be applied without a person, if anything
            (a possible typo, an uncorroborated reference ...).
    """

    allocations: tuple[Allocation, ...]
    confidence: float
    signals: tuple[Signal, ...]
    unapplied: Money | None = None
    kind: str = "one_to_one"
    cautions: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        """The explanation in one line (for MATCHES.csv)."""
        return "; ".join(s.detail for s in self.signals)


@attrs.frozen
class LineResult:
    """What cash application says about one statement line.

    Attributes:
        line_id: The statement line.
        status: Auto-applied, suggested or unmatched.
        proposals: Best first; the first is applied when ``status`` is auto.
        why: Why the policy decided so (e.g. "two invoices fit equally").
    """

    line_id: str
    status: MatchStatus
    proposals: tuple[Proposal, ...] = ()
    why: str = ""

    @property
    def best(self) -> Proposal | None:
        """The best proposal, if any."""
        return self.proposals[0] if self.proposals else None
