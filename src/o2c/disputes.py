"""Disputes: card chargebacks and B2B deductions (short payments) in one model.

A :class:`Dispute` is money a customer holds back or claws back while it argues
about it: a card **chargeback** (the bank pulled the money; an *inquiry* is its
early-warning state) or a B2B **deduction** (the customer paid an invoice short,
SAP's "dispute case from a short payment"). Both follow
:data:`~o2c.lifecycles.DISPUTE_WORKFLOW`; every state change goes through
``DISPUTE_WORKFLOW.apply`` and every operation returns ``(dispute, events)``.

Rules this module keeps:

* **Evidence is submitted once per stage**: once for an inquiry and once for the
  chargeback it may escalate into (the network opens a new response window when
  it escalates). A second submission raises
  :class:`~o2c.errors.EvidenceAlreadySubmittedError`; a submission after
  ``respond_by`` raises :class:`~o2c.errors.EvidenceDeadlinePassedError`.
* **Deadlines** (:func:`expire_if_due`): a chargeback still needing a response
  after ``respond_by`` is *lost* (the networks decide for the cardholder). A
  deduction, or an inquiry, past its deadline goes to *manual review* instead: a
  deduction is a claim on our own receivable, so silence must not write it off,
  and an unanswered inquiry is decided by the issuer, not by the clock.
* **Resolution** (:func:`resolve`, recorded once, only when the dispute is final):
  a *lost* or *accepted* dispute is resolved by a ``CREDIT_NOTE`` or a
  ``WRITE_OFF`` of at most the disputed amount; a *won* or *withdrawn* deduction
  by ``COLLECT`` (the customer still owes it); a won or withdrawn chargeback and a
  closed inquiry by ``NONE`` (the money already came back or never left).
* **Dunning** pauses while a dispute is open (:func:`pauses_dunning`).
* **Provider statuses** (:func:`apply_stripe_status`) never raise for a surprise:
  a status is applied along legal transitions when it lies ahead, recorded and
  ignored when it is a duplicate, stale (out of order) or arrives after a final
  state, and sends the dispute to *manual review* when it is unknown or
  contradicts the current state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, TypeAlias, TypeVar, cast

import attrs

from o2c.clock import require_aware
from o2c.errors import (
    DisputeAlreadyResolvedError,
    DisputeNotClosedError,
    EvidenceAlreadySubmittedError,
    EvidenceDeadlinePassedError,
    InvalidAmountError,
    InvalidDisputeError,
    InvalidEvidenceError,
    InvalidResolutionError,
    InvalidStripeDisputeError,
    UnknownCurrencyError,
)
from o2c.events import (
    DisputeClosed,
    DisputeEscalated,
    DisputeEvidenceSubmitted,
    DisputeFlaggedForReview,
    DisputeOpened,
    DisputeProviderStatusIgnored,
    DisputeResolved,
    DisputeResumed,
    DomainEvent,
)
from o2c.lifecycles import DISPUTE_WORKFLOW, DisputeEvent, DisputeState
from o2c.money import Money, money_sum

__all__ = [
    "MAX_EVIDENCE_TEXT_CHARS",
    "STRIPE_STATUS_MAP",
    "Dispute",
    "DisputeKind",
    "DisputeReason",
    "Evidence",
    "EvidenceStage",
    "HistoryEntry",
    "Outcome",
    "Resolution",
    "ResolutionRecord",
    "StripeDisputeFields",
    "accept",
    "allowed_resolutions",
    "apply_stripe_status",
    "close_inquiry",
    "dispute_from_stripe",
    "disputed_amount_open",
    "escalate",
    "expire_if_due",
    "flag_for_review",
    "lose",
    "open_chargeback",
    "open_deduction",
    "open_inquiry",
    "pauses_dunning",
    "read_stripe_dispute",
    "resolve",
    "resume",
    "stripe_reason",
    "submit_evidence",
    "update_from_stripe",
    "win",
    "withdraw",
]

_D = DisputeState
_DE = DisputeEvent

#: Stripe caps the text of one dispute's evidence at 150,000 characters; so do we.
MAX_EVIDENCE_TEXT_CHARS: Final = 150_000
_MAX_ID = 255
_MAX_NAME = 64
_MAX_ITEMS = 64
_MAX_NOTE = 1_000
_MAX_RAW = 100
#: 9999-12-31T23:59:59Z, the last instant ``datetime`` can hold.
_MAX_EPOCH = 253_402_300_799

# --------------------------------------------------------------------------- vocabularies


class DisputeKind(StrEnum):
    """What is disputed: a card payment or an invoice paid short."""

    CHARGEBACK = "chargeback"
    DEDUCTION = "deduction"


class DisputeReason(StrEnum):
    """Normalised reasons for card disputes (Stripe's codes) and B2B deductions.

    Card reasons keep Stripe's spelling, so :func:`stripe_reason` is a look-up;
    the deduction reasons are the root causes an AR team records on a short
    payment. The provider's own spelling is kept on :attr:`Dispute.raw_reason`.
    """

    # card networks (Stripe's ``reason`` values)
    FRAUDULENT = "fraudulent"
    PRODUCT_NOT_RECEIVED = "product_not_received"
    DUPLICATE = "duplicate"
    SUBSCRIPTION_CANCELED = "subscription_canceled"
    PRODUCT_UNACCEPTABLE = "product_unacceptable"
    CREDIT_NOT_PROCESSED = "credit_not_processed"
    GENERAL = "general"
    UNRECOGNIZED = "unrecognized"
    BANK_CANNOT_PROCESS = "bank_cannot_process"
    CUSTOMER_INITIATED = "customer_initiated"
    DEBIT_NOT_AUTHORIZED = "debit_not_authorized"
    INCORRECT_ACCOUNT_DETAILS = "incorrect_account_details"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    NONCOMPLIANT = "noncompliant"
    # B2B deductions (root causes of a short payment)
    PRICING_ERROR = "pricing_error"
    DAMAGED_GOODS = "damaged_goods"
    SHORT_SHIPMENT = "short_shipment"
    PROMOTION_ALLOWANCE = "promotion_allowance"
    RETURNED_GOODS = "returned_goods"
    FREIGHT = "freight"
    TAX_DIFFERENCE = "tax_difference"
    UNEARNED_DISCOUNT = "unearned_discount"
    COMPLIANCE_PENALTY = "compliance_penalty"
    # anything a provider sends that o2c does not know (raw_reason keeps it)
    UNKNOWN = "unknown"


class Resolution(StrEnum):
    """The money consequence of a closed dispute (see :func:`allowed_resolutions`)."""

    CREDIT_NOTE = "credit_note"
    WRITE_OFF = "write_off"
    COLLECT = "collect"
    NONE = "none"


class EvidenceStage(StrEnum):
    """The response window evidence belongs to; each takes one submission."""

    INQUIRY = "inquiry"
    RESPONSE = "response"


# --------------------------------------------------------------------------- helpers

_E = TypeVar("_E", bound=StrEnum)


def _enum(cls: type[_E], value: object, field: str) -> _E:
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        try:
            return cls(value)
        except ValueError:
            pass
    raise InvalidDisputeError(
        field=field, reason=f"{_cut(repr(value))} is not one of {[m.value for m in cls]}"
    )


def _to_kind(value: object) -> DisputeKind:
    return _enum(DisputeKind, value, "kind")


def _to_reason(value: object) -> DisputeReason:
    return _enum(DisputeReason, value, "reason")


def _to_state(value: object) -> DisputeState:
    return _enum(DisputeState, value, "state")


def _to_stage(value: object) -> EvidenceStage:
    return _enum(EvidenceStage, value, "stage")


def _aware(value: object, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidDisputeError(field=field, reason="a timezone-aware datetime is required")
    return require_aware(value)


def _aware_or_none(value: object, field: str) -> datetime | None:
    return None if value is None else _aware(value, field)


def _text(value: object, field: str, *, limit: int = _MAX_ID) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidDisputeError(field=field, reason="a non-blank string is required")
    if len(value) > limit:
        raise InvalidDisputeError(field=field, reason=f"longer than {limit} characters")
    return value


def _text_or_none(value: object, field: str) -> str | None:
    return None if value is None else _text(value, field)


def _cut(text: str, limit: int = _MAX_RAW) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _str_field(name: str, *, optional: bool = False, limit: int = _MAX_ID) -> Any:
    def check(_inst: object, _attr: object, value: object) -> None:
        if optional and value is None:
            return
        _text(value, name, limit=limit)

    return check


def _raw_text(name: str) -> Any:
    def check(_inst: object, _attr: object, value: object) -> None:
        if not isinstance(value, str) or len(value) > _MAX_RAW:
            raise InvalidDisputeError(
                field=name, reason=f"a string of at most {_MAX_RAW} characters is required"
            )

    return check


def _datetime_field(name: str, *, optional: bool = False) -> Any:
    def check(_inst: object, _attr: object, value: object) -> None:
        if optional and value is None:
            return
        _aware(value, name)

    return check


# --------------------------------------------------------------------------- value objects


def _texts(value: object) -> tuple[tuple[str, str], ...]:
    if isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in value):
        # attrs.evolve converts again what was converted once: accept our own form.
        value = dict(value)
    if not isinstance(value, Mapping):
        raise InvalidEvidenceError(field="texts", reason="a mapping of name to text is required")
    if len(value) > _MAX_ITEMS:
        raise InvalidEvidenceError(field="texts", reason=f"more than {_MAX_ITEMS} texts")
    total = 0
    pairs: list[tuple[str, str]] = []
    for name, text in value.items():
        if not isinstance(name, str) or not name.strip() or len(name) > _MAX_NAME:
            raise InvalidEvidenceError(
                field="texts", reason=f"name {_cut(repr(name))} is not a short non-blank string"
            )
        if not isinstance(text, str) or not text.strip():
            raise InvalidEvidenceError(
                field=f"texts[{name}]", reason="a non-blank string is required"
            )
        total += len(text)
        pairs.append((name, text))
    if total > MAX_EVIDENCE_TEXT_CHARS:
        raise InvalidEvidenceError(
            field="texts", reason=f"more than {MAX_EVIDENCE_TEXT_CHARS} characters in all"
        )
    return tuple(sorted(pairs))


def _documents(value: object) -> tuple[str, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidEvidenceError(
            field="documents", reason="an iterable of document ids is required"
        )
    ids = tuple(value)
    if len(ids) > _MAX_ITEMS:
        raise InvalidEvidenceError(field="documents", reason=f"more than {_MAX_ITEMS} documents")
    for i, doc in enumerate(ids):
        if not isinstance(doc, str) or not doc.strip() or len(doc) > _MAX_ID:
            raise InvalidEvidenceError(
                field=f"documents[{i}]", reason="a document id is a short non-blank string"
            )
    if len(set(ids)) != len(ids):
        raise InvalidEvidenceError(field="documents", reason="a document id appears twice")
    return ids


@attrs.frozen(kw_only=True)
class Evidence:
    """What was submitted to contest a dispute: named texts and document ids (no files).

    Args:
        stage: The response window it answers.
        submitted_at: When it was submitted (timezone-aware).
        texts: Named texts, e.g. ``{"product_description": "..."}``.
        documents: Ids of stored documents (receipts, proofs of delivery, ...).
        via_provider: True when the provider reported the submission.

    Raises:
        InvalidEvidenceError: a text or document id is malformed, or the texts are too long.
    """

    stage: EvidenceStage = attrs.field(converter=_to_stage)
    submitted_at: datetime = attrs.field(validator=_datetime_field("submitted_at"))
    texts: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_texts)
    documents: tuple[str, ...] = attrs.field(default=(), converter=_documents)
    via_provider: bool = False

    def text(self, name: str) -> str | None:
        """The text submitted under ``name``, or None."""
        return dict(self.texts).get(name)

    def is_empty(self) -> bool:
        """True when neither a text nor a document was submitted."""
        return not self.texts and not self.documents


@attrs.frozen
class HistoryEntry:
    """One line of a dispute's audit trail.

    Args:
        event: The workflow event, ``"resolve"`` or ``"provider_status"``.
        at: When.
        source: State before.
        target: State after (equal to ``source`` when nothing moved).
        note: Why, e.g. ``"stripe: won"``.
    """

    event: str
    at: datetime
    source: DisputeState
    target: DisputeState
    note: str = ""


@attrs.frozen
class Outcome:
    """How and when a dispute closed.

    Args:
        state: The final state.
        at: When.
        by_provider: True when a provider status decided it.
        expired: True when it was lost because the deadline passed without evidence.
        note: Why, in words.
    """

    state: DisputeState
    at: datetime
    by_provider: bool = False
    expired: bool = False
    note: str = ""


@attrs.frozen
class ResolutionRecord:
    """The recorded money consequence of a closed dispute.

    Args:
        resolution: What was done.
        amount: How much (zero for :attr:`Resolution.NONE`).
        at: When it was recorded.
        reference: The document carrying it (a credit note id, ...), if given.
    """

    resolution: Resolution
    amount: Money
    at: datetime
    reference: str | None = None


# --------------------------------------------------------------------------- the aggregate


@attrs.frozen(kw_only=True)
class Dispute:
    """A chargeback or a deduction, with its evidence, outcome, resolution and history.

    Build one with :func:`open_chargeback`, :func:`open_inquiry`,
    :func:`open_deduction` or :func:`dispute_from_stripe`; the constructor exists
    for storage adapters that rebuild a recorded dispute.

    Args:
        id: The dispute's id (given by the caller).
        kind: Chargeback or deduction.
        customer_id: The customer who disputes.
        amount: The disputed amount, above zero.
        reason: The normalised reason.
        raw_reason: The reason as the provider or remittance advice spelt it.
        opened_at: When the dispute was opened.
        respond_by: Deadline for the current stage's response (None when unknown).
        invoice_id: The invoice concerned (required for a deduction).
        payment_id: The o2c payment concerned, if any.
        provider: Where it came from (``"manual"``, ``"stripe"``, ...).
        provider_id: The provider's id of the dispute.
        provider_payment_ref: The provider's id of the disputed payment (a charge id).
        provider_status: The last distinct raw status received from the provider.
        provider_statuses: Every distinct raw status received, in arrival order.
        state: Where it stands.
        inquiry_evidence: Evidence submitted during the inquiry, if any.
        evidence: Evidence submitted in response to the chargeback or deduction.
        review_reason: Why it is in manual review (None otherwise).
        outcome: How it closed (None while open).
        resolution: Its money consequence (None until recorded).
        history: The audit trail, oldest first.

    Raises:
        InvalidDisputeError: a field is missing or inconsistent.
    """

    id: str = attrs.field(validator=_str_field("id"))
    kind: DisputeKind = attrs.field(converter=_to_kind)
    customer_id: str = attrs.field(validator=_str_field("customer_id"))
    amount: Money
    reason: DisputeReason = attrs.field(converter=_to_reason)
    raw_reason: str = attrs.field(default="", validator=_raw_text("raw_reason"))
    opened_at: datetime = attrs.field(validator=_datetime_field("opened_at"))
    respond_by: datetime | None = attrs.field(
        default=None, validator=_datetime_field("respond_by", optional=True)
    )
    invoice_id: str | None = attrs.field(
        default=None, validator=_str_field("invoice_id", optional=True)
    )
    payment_id: str | None = attrs.field(
        default=None, validator=_str_field("payment_id", optional=True)
    )
    provider: str = attrs.field(default="manual", validator=_str_field("provider", limit=_MAX_NAME))
    provider_id: str | None = attrs.field(
        default=None, validator=_str_field("provider_id", optional=True)
    )
    provider_payment_ref: str | None = attrs.field(
        default=None, validator=_str_field("provider_payment_ref", optional=True)
    )
    provider_status: str | None = None
    provider_statuses: tuple[str, ...] = ()
    state: DisputeState = attrs.field(default=DisputeState.NEW, converter=_to_state)
    inquiry_evidence: Evidence | None = None
    evidence: Evidence | None = None
    review_reason: str | None = None
    outcome: Outcome | None = None
    resolution: ResolutionRecord | None = None
    history: tuple[HistoryEntry, ...] = ()

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.amount, Money) or not self.amount.is_positive():
            raise InvalidDisputeError(
                field="amount", reason="the disputed amount must be above zero"
            )
        if self.kind is DisputeKind.DEDUCTION and self.invoice_id is None:
            raise InvalidDisputeError(field="invoice_id", reason="a deduction names its invoice")
        for name, stage in (
            ("inquiry_evidence", EvidenceStage.INQUIRY),
            ("evidence", EvidenceStage.RESPONSE),
        ):
            ev = getattr(self, name)
            if ev is not None and (not isinstance(ev, Evidence) or ev.stage is not stage):
                raise InvalidDisputeError(field=name, reason=f"must be Evidence of stage {stage}")
        if self.resolution is not None and self.resolution.amount > self.amount:
            raise InvalidDisputeError(
                field="resolution", reason="the resolution exceeds the disputed amount"
            )

    # -- queries ------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """True until the dispute reaches a final state."""
        return not DISPUTE_WORKFLOW.is_final(self.state)

    @property
    def open_amount(self) -> Money:
        """The disputed amount while open, zero once closed."""
        return self.amount if self.is_open else Money.zero(self.amount.currency)

    @property
    def stage(self) -> EvidenceStage:
        """The response window the dispute is in (inquiry states, else response)."""
        return _stage_of(self.state)

    def evidence_for(self, stage: EvidenceStage) -> Evidence | None:
        """The evidence recorded for ``stage``, or None."""
        return self.inquiry_evidence if stage is EvidenceStage.INQUIRY else self.evidence


#: What every operation returns: the new dispute and the events it caused.
Result: TypeAlias = tuple[Dispute, tuple[DomainEvent, ...]]


def _stage_of(state: DisputeState) -> EvidenceStage:
    if state in (_D.INQUIRY, _D.INQUIRY_UNDER_REVIEW, _D.INQUIRY_CLOSED):
        return EvidenceStage.INQUIRY
    return EvidenceStage.RESPONSE


# --------------------------------------------------------------------------- the one step


_CLOSING: Final = frozenset({_DE.WIN, _DE.LOSE, _DE.ACCEPT, _DE.WITHDRAW, _DE.CLOSE_INQUIRY})
_RESUMES: Final = MappingProxyType(
    {
        _D.INQUIRY: _DE.RESUME_INQUIRY,
        _D.NEEDS_RESPONSE: _DE.RESUME,
        _D.UNDER_REVIEW: _DE.RESUME_REVIEW,
    }
)


def _step(
    d: Dispute,
    event: DisputeEvent,
    now: datetime,
    *,
    note: str = "",
    by_provider: bool = False,
    provider_status: str | None = None,
    evidence: Evidence | None = None,
    respond_by: datetime | None = None,
    expired: bool = False,
) -> tuple[Dispute, list[DomainEvent]]:
    """Apply one workflow event and say what happened; the only place states change.

    An escalation always sets ``respond_by``: the inquiry's deadline never carries
    over to the chargeback (None when the new one is not known).
    """
    source = d.state
    target = DISPUTE_WORKFLOW.apply(source, event)
    changes: dict[str, Any] = {
        "state": target,
        "history": (*d.history, HistoryEntry(event.value, now, source, target, note)),
    }
    if event is _DE.SUBMIT_EVIDENCE:
        submitted = cast(Evidence, evidence)
        slot = "inquiry_evidence" if submitted.stage is EvidenceStage.INQUIRY else "evidence"
        changes[slot] = submitted
    elif event is _DE.ESCALATE:
        changes["respond_by"] = respond_by
    elif event is _DE.FLAG:
        changes["review_reason"] = note
    elif event in _RESUMES.values():
        changes["review_reason"] = None
    elif event in _CLOSING:
        changes["review_reason"] = None
        changes["outcome"] = Outcome(target, now, by_provider, expired, note)
    new = attrs.evolve(d, **changes)

    base: dict[str, Any] = {"aggregate_id": d.id, "occurred_at": now}
    events: list[DomainEvent] = []
    if source is _D.NEW:
        events.append(
            DisputeOpened(
                **base,
                kind=new.kind.value,
                state=target.value,
                customer_id=new.customer_id,
                amount=new.amount,
                reason=new.reason.value,
                raw_reason=new.raw_reason,
                invoice_id=new.invoice_id,
                payment_id=new.payment_id,
                respond_by=new.respond_by,
                provider=new.provider,
                provider_id=new.provider_id,
            )
        )
    if event is _DE.SUBMIT_EVIDENCE:
        submitted = cast(Evidence, evidence)
        events.append(
            DisputeEvidenceSubmitted(
                **base,
                stage=submitted.stage.value,
                via_provider=submitted.via_provider,
                texts=tuple(name for name, _ in submitted.texts),
                documents=submitted.documents,
            )
        )
    elif event is _DE.ESCALATE:
        events.append(DisputeEscalated(**base, respond_by=new.respond_by))
    elif event is _DE.FLAG:
        events.append(
            DisputeFlaggedForReview(
                **base, reason=note, previous_state=source.value, provider_status=provider_status
            )
        )
    elif event in _RESUMES.values():
        events.append(DisputeResumed(**base, state=target.value, note=note))
    elif event in _CLOSING:
        events.append(
            DisputeClosed(
                **base,
                outcome=target.value,
                amount=new.amount,
                by_provider=by_provider,
                expired=expired,
                note=note,
            )
        )
    return new, events


def _note(note: object) -> str:
    if not isinstance(note, str):
        raise InvalidDisputeError(field="note", reason="a note is a string")
    return _cut(note, _MAX_NOTE)


# --------------------------------------------------------------------------- opening


def _open(
    event: DisputeEvent,
    dispute_id: str,
    *,
    kind: DisputeKind,
    customer_id: str,
    amount: Money,
    reason: DisputeReason | str,
    raw_reason: str | None,
    now: datetime,
    respond_by: datetime | None,
    invoice_id: str | None,
    payment_id: str | None,
    provider: str,
    provider_id: str | None,
) -> Result:
    now = _aware(now, "now")
    normalised = _enum(DisputeReason, reason, "reason")
    d = Dispute(
        id=dispute_id,
        kind=kind,
        customer_id=customer_id,
        amount=amount,
        reason=normalised,
        raw_reason=normalised.value if raw_reason is None else raw_reason,
        opened_at=now,
        respond_by=_aware_or_none(respond_by, "respond_by"),
        invoice_id=invoice_id,
        payment_id=payment_id,
        provider=provider,
        provider_id=provider_id,
    )
    d, events = _step(d, event, now)
    return d, tuple(events)


def open_chargeback(
    dispute_id: str,
    *,
    customer_id: str,
    amount: Money,
    reason: DisputeReason | str,
    now: datetime,
    respond_by: datetime | None,
    payment_id: str | None = None,
    invoice_id: str | None = None,
    raw_reason: str | None = None,
    provider: str = "manual",
    provider_id: str | None = None,
) -> Result:
    """Open a card chargeback; it starts in *needs_response*.

    Args:
        dispute_id: The new dispute's id.
        customer_id: The cardholder's customer id.
        amount: The amount the bank pulled back (above zero).
        reason: A :class:`DisputeReason` (or its value).
        now: When it is recorded (timezone-aware); also its ``opened_at``.
        respond_by: The evidence deadline (None when unknown).
        payment_id: The o2c payment disputed.
        invoice_id: The invoice it paid, if any.
        raw_reason: The provider's spelling of the reason (defaults to ``reason``).
        provider: Where it came from.
        provider_id: The provider's id of the dispute.

    Returns:
        The dispute and ``(DisputeOpened,)``.

    Raises:
        InvalidDisputeError: an argument is missing or inconsistent.
    """
    return _open(
        _DE.OPEN,
        dispute_id,
        kind=DisputeKind.CHARGEBACK,
        customer_id=customer_id,
        amount=amount,
        reason=reason,
        raw_reason=raw_reason,
        now=now,
        respond_by=respond_by,
        invoice_id=invoice_id,
        payment_id=payment_id,
        provider=provider,
        provider_id=provider_id,
    )


def open_inquiry(
    dispute_id: str,
    *,
    customer_id: str,
    amount: Money,
    reason: DisputeReason | str,
    now: datetime,
    respond_by: datetime | None,
    payment_id: str | None = None,
    invoice_id: str | None = None,
    raw_reason: str | None = None,
    provider: str = "manual",
    provider_id: str | None = None,
) -> Result:
    """Open a card inquiry (retrieval): a chargeback's warning stage; no money moved yet.

    Arguments as :func:`open_chargeback`; it starts in *inquiry*.

    Raises:
        InvalidDisputeError: an argument is missing or inconsistent.
    """
    return _open(
        _DE.OPEN_INQUIRY,
        dispute_id,
        kind=DisputeKind.CHARGEBACK,
        customer_id=customer_id,
        amount=amount,
        reason=reason,
        raw_reason=raw_reason,
        now=now,
        respond_by=respond_by,
        invoice_id=invoice_id,
        payment_id=payment_id,
        provider=provider,
        provider_id=provider_id,
    )


def open_deduction(
    dispute_id: str,
    *,
    customer_id: str,
    invoice_id: str,
    short_amount: Money,
    now: datetime,
    respond_by: datetime | None,
    reason: DisputeReason | str = DisputeReason.UNKNOWN,
    raw_reason: str | None = None,
    payment_id: str | None = None,
) -> Result:
    """Open a B2B deduction from a short payment; it starts in *needs_response*.

    The customer paid ``invoice_id`` short by ``short_amount``; the dispute case
    holds that amount out of dunning until it is collected, credited or written off.

    Args:
        dispute_id: The new dispute's id.
        customer_id: The customer who paid short.
        invoice_id: The invoice paid short.
        short_amount: The amount deducted (above zero).
        now: When it is recorded (timezone-aware).
        respond_by: When we must have answered (an internal deadline; None for none).
        reason: The root cause, if the remittance advice gave one.
        raw_reason: The customer's own reason code or text.
        payment_id: The short payment, if known.

    Returns:
        The dispute and ``(DisputeOpened,)``.

    Raises:
        InvalidDisputeError: an argument is missing or inconsistent.
    """
    return _open(
        _DE.OPEN,
        dispute_id,
        kind=DisputeKind.DEDUCTION,
        customer_id=customer_id,
        amount=short_amount,
        reason=reason,
        raw_reason=raw_reason,
        now=now,
        respond_by=respond_by,
        invoice_id=invoice_id,
        payment_id=payment_id,
        provider="manual",
        provider_id=None,
    )


# --------------------------------------------------------------------------- operations


def submit_evidence(
    dispute: Dispute,
    *,
    now: datetime,
    texts: Mapping[str, str] | None = None,
    documents: Iterable[str] = (),
) -> Result:
    """Submit evidence for the current stage (inquiry or response); once, before the deadline.

    Submitting on the deadline instant itself is still in time.

    Returns:
        The dispute (*inquiry_under_review* or *under_review*) and
        ``(DisputeEvidenceSubmitted,)``.

    Raises:
        EvidenceAlreadySubmittedError: evidence for this stage is already recorded.
        InvalidTransitionError: the dispute's state takes no evidence.
        EvidenceDeadlinePassedError: ``now`` is after ``respond_by``.
        InvalidEvidenceError: the evidence is empty or malformed.
    """
    now = _aware(now, "now")
    stage = dispute.stage
    existing = dispute.evidence_for(stage)
    if existing is not None:
        raise EvidenceAlreadySubmittedError(
            dispute_id=dispute.id, stage=stage.value, submitted_at=existing.submitted_at
        )
    DISPUTE_WORKFLOW.apply(dispute.state, _DE.SUBMIT_EVIDENCE)  # raises when not allowed
    if dispute.respond_by is not None and now > dispute.respond_by:
        raise EvidenceDeadlinePassedError(
            f"evidence for dispute {dispute.id!r} was due by {dispute.respond_by.isoformat()}",
            dispute_id=dispute.id,
            due_by=dispute.respond_by,
            submitted_at=now,
        )
    evidence = Evidence(stage=stage, submitted_at=now, texts=texts or {}, documents=documents)
    if evidence.is_empty():
        raise InvalidEvidenceError(field="evidence", reason="give at least one text or document")
    d, events = _step(dispute, _DE.SUBMIT_EVIDENCE, now, evidence=evidence)
    return d, tuple(events)


def escalate(dispute: Dispute, *, now: datetime, respond_by: datetime | None = None) -> Result:
    """An inquiry became a formal chargeback (*needs_response*), with a new deadline.

    The inquiry's deadline does not carry over: pass the chargeback's, or None
    when it is not known yet.

    Raises:
        InvalidTransitionError: the dispute is not an inquiry.
    """
    now = _aware(now, "now")
    d, events = _step(
        dispute, _DE.ESCALATE, now, respond_by=_aware_or_none(respond_by, "respond_by")
    )
    return d, tuple(events)


def _close(dispute: Dispute, event: DisputeEvent, now: datetime, note: str) -> Result:
    d, events = _step(dispute, event, _aware(now, "now"), note=_note(note))
    return d, tuple(events)


def win(dispute: Dispute, *, now: datetime, note: str = "") -> Result:
    """Decided for us (the evidence convinced the bank or the customer's claim failed).

    Raises:
        InvalidTransitionError: not *under_review* or *manual_review*.
    """
    return _close(dispute, _DE.WIN, now, note)


def lose(dispute: Dispute, *, now: datetime, note: str = "") -> Result:
    """Decided for the customer.

    Raises:
        InvalidTransitionError: not *needs_response*, *under_review* or *manual_review*.
    """
    return _close(dispute, _DE.LOSE, now, note)


def accept(dispute: Dispute, *, now: datetime, note: str = "") -> Result:
    """We concede (refund an inquiry, accept a chargeback, agree to a deduction).

    Raises:
        InvalidTransitionError: not *inquiry*, *needs_response* or *manual_review*.
    """
    return _close(dispute, _DE.ACCEPT, now, note)


def withdraw(dispute: Dispute, *, now: datetime, note: str = "") -> Result:
    """The customer concedes and withdraws the dispute.

    Raises:
        InvalidTransitionError: not *needs_response*, *under_review* or *manual_review*.
    """
    return _close(dispute, _DE.WITHDRAW, now, note)


def close_inquiry(dispute: Dispute, *, now: datetime, note: str = "") -> Result:
    """The issuer closed the inquiry without a chargeback.

    Raises:
        InvalidTransitionError: not an inquiry or in *manual_review*.
    """
    return _close(dispute, _DE.CLOSE_INQUIRY, now, note)


def flag_for_review(dispute: Dispute, *, reason: str, now: datetime) -> Result:
    """Send the dispute to *manual_review*, saying why.

    Raises:
        InvalidDisputeError: ``reason`` is blank.
        InvalidTransitionError: the dispute is final or already in review.
    """
    text = _text(reason, "reason", limit=_MAX_NOTE)
    d, events = _step(dispute, _DE.FLAG, _aware(now, "now"), note=text)
    return d, tuple(events)


def resume(dispute: Dispute, *, to: DisputeState, now: datetime, note: str = "") -> Result:
    """A person moves a dispute out of *manual_review* into an open state.

    Args:
        dispute: The dispute under review.
        to: *inquiry*, *needs_response* or *under_review*. Use :func:`win`,
            :func:`lose`, :func:`accept`, :func:`withdraw` or :func:`close_inquiry`
            to close it instead.
        now: When.
        note: Why.

    Raises:
        InvalidDisputeError: ``to`` is not a state one resumes to.
        InvalidTransitionError: the dispute is not in manual review.
    """
    target = _enum(DisputeState, to, "to")
    event = _RESUMES.get(target)
    if event is None:
        raise InvalidDisputeError(
            field="to", reason=f"resume to one of {[s.value for s in _RESUMES]}"
        )
    d, events = _step(dispute, event, _aware(now, "now"), note=_note(note))
    return d, tuple(events)


def expire_if_due(dispute: Dispute, *, now: datetime) -> Result:
    """Act on a response deadline that passed without evidence; otherwise change nothing.

    * a chargeback in *needs_response* is *lost* (``expired=True``);
    * a deduction in *needs_response*, or an inquiry, goes to *manual_review*:
      silence must not write off our own receivable, and an unanswered inquiry is
      for the issuer to escalate or close.

    Returns:
        The dispute and its events (none when nothing was due).
    """
    now = _aware(now, "now")
    due = dispute.respond_by
    if (
        dispute.state not in (_D.INQUIRY, _D.NEEDS_RESPONSE)
        or due is None
        or now <= due
        or dispute.evidence_for(dispute.stage) is not None
    ):
        return dispute, ()
    note = f"no response by {due.isoformat()}"
    if dispute.kind is DisputeKind.CHARGEBACK and dispute.state is _D.NEEDS_RESPONSE:
        d, events = _step(dispute, _DE.LOSE, now, note=note, expired=True)
    else:
        d, events = _step(dispute, _DE.FLAG, now, note=note)
    return d, tuple(events)


# --------------------------------------------------------------------------- resolution


def allowed_resolutions(dispute: Dispute) -> frozenset[Resolution]:
    """The resolutions a dispute in its current state may take (empty while open).

    * *lost*, *accepted*: ``CREDIT_NOTE`` or ``WRITE_OFF``;
    * *won*, *withdrawn*: ``COLLECT`` for a deduction, ``NONE`` for a chargeback;
    * *inquiry_closed*: ``NONE``.
    """
    state = dispute.state
    if state in (_D.LOST, _D.ACCEPTED):
        return frozenset({Resolution.CREDIT_NOTE, Resolution.WRITE_OFF})
    if state in (_D.WON, _D.WITHDRAWN):
        if dispute.kind is DisputeKind.DEDUCTION:
            return frozenset({Resolution.COLLECT})
        return frozenset({Resolution.NONE})
    if state is _D.INQUIRY_CLOSED:
        return frozenset({Resolution.NONE})
    return frozenset()


def resolve(
    dispute: Dispute,
    resolution: Resolution | str,
    *,
    now: datetime,
    amount: Money | None = None,
    reference: str | None = None,
) -> Result:
    """Record the money consequence of a closed dispute (once).

    Args:
        dispute: A dispute in a final state.
        resolution: One of :func:`allowed_resolutions`.
        now: When.
        amount: For credit notes, write-offs and collection: above zero, at most the
            disputed amount, in whole minor units (default: the disputed amount).
            For ``NONE``: zero (the default).
        reference: The document carrying it (credit note id, ...).

    Returns:
        The dispute and ``(DisputeResolved,)``.

    Raises:
        DisputeAlreadyResolvedError: a resolution is already recorded.
        DisputeNotClosedError: the dispute is still open.
        InvalidResolutionError: the resolution or amount does not fit.
        CurrencyMismatchError: ``amount`` is in another currency.
    """
    now = _aware(now, "now")
    if dispute.resolution is not None:
        raise DisputeAlreadyResolvedError(
            dispute_id=dispute.id, resolution=dispute.resolution.resolution.value
        )
    if dispute.is_open:
        raise DisputeNotClosedError(dispute_id=dispute.id, state=dispute.state.value)
    chosen = _enum(Resolution, resolution, "resolution")
    allowed = allowed_resolutions(dispute)

    def refuse(reason: str) -> InvalidResolutionError:
        return InvalidResolutionError(
            dispute_id=dispute.id,
            state=dispute.state.value,
            kind=dispute.kind.value,
            resolution=chosen.value,
            allowed=tuple(sorted(r.value for r in allowed)),
            reason=reason,
        )

    if chosen not in allowed:
        raise refuse(f"a {dispute.kind} that is {dispute.state} is not resolved by {chosen}")
    zero = Money.zero(dispute.amount.currency)
    if amount is None:
        amount = zero if chosen is Resolution.NONE else dispute.amount
    if not isinstance(amount, Money):
        raise refuse("the amount must be Money")
    if chosen is Resolution.NONE:
        if not amount.is_zero() or amount.currency != zero.currency:
            raise refuse("a resolution of none moves no money")
    else:
        if not amount.is_positive() or amount > dispute.amount:
            raise refuse(f"the amount must be above zero and at most {dispute.amount}")
        if not amount.is_rounded():
            raise refuse("the amount must be a whole number of minor units")
    ref = _text_or_none(reference, "reference")
    record = ResolutionRecord(chosen, amount, now, ref)
    entry = HistoryEntry("resolve", now, dispute.state, dispute.state, f"{chosen} {amount}")
    d = attrs.evolve(dispute, resolution=record, history=(*dispute.history, entry))
    event = DisputeResolved(
        aggregate_id=d.id,
        occurred_at=now,
        resolution=chosen.value,
        amount=amount,
        outcome=d.state.value,
        invoice_id=d.invoice_id,
        reference=ref,
    )
    return d, (event,)


# --------------------------------------------------------------------------- dunning


def pauses_dunning(dispute: Dispute) -> bool:
    """True while the dispute is open: its amount must not be dunned."""
    return dispute.is_open


def disputed_amount_open(
    disputes: Iterable[Dispute],
    currency: str,
    *,
    customer_id: str | None = None,
    invoice_id: str | None = None,
) -> Money:
    """The sum of open disputes' amounts, optionally for one customer or invoice.

    Raises:
        CurrencyMismatchError: an open dispute matching the filters is in another currency.
    """
    return money_sum(
        (
            d.amount
            for d in disputes
            if d.is_open
            and (customer_id is None or d.customer_id == customer_id)
            and (invoice_id is None or d.invoice_id == invoice_id)
        ),
        currency,
    )


# --------------------------------------------------------------------------- Stripe

#: Stripe dispute ``status`` -> o2c state. ``prevented`` (2025: the network blocked
#: or resolved it before a chargeback was filed; any refund arrives as a refund on
#: the payment) closes like an inquiry; the legacy ``charge_refunded`` (an inquiry
#: closed by refunding the charge) means we conceded.
STRIPE_STATUS_MAP: Final[Mapping[str, DisputeState]] = MappingProxyType(
    {
        "warning_needs_response": _D.INQUIRY,
        "warning_under_review": _D.INQUIRY_UNDER_REVIEW,
        "warning_closed": _D.INQUIRY_CLOSED,
        "needs_response": _D.NEEDS_RESPONSE,
        "under_review": _D.UNDER_REVIEW,
        "won": _D.WON,
        "lost": _D.LOST,
        "prevented": _D.INQUIRY_CLOSED,
        "charge_refunded": _D.ACCEPTED,
    }
)

# Events a provider's status can imply. Flagging, resuming and withdrawing are
# decisions of people, never inferred from a status.
_PROVIDER_EVENTS: Final = frozenset(
    {
        _DE.OPEN,
        _DE.OPEN_INQUIRY,
        _DE.SUBMIT_EVIDENCE,
        _DE.ESCALATE,
        _DE.CLOSE_INQUIRY,
        _DE.WIN,
        _DE.LOSE,
        _DE.ACCEPT,
    }
)

#: Stripe evidence fields that hold file ids (the rest are texts).
_STRIPE_FILE_FIELDS: Final = frozenset(
    {
        "cancellation_policy",
        "customer_communication",
        "customer_signature",
        "duplicate_charge_documentation",
        "receipt",
        "refund_policy",
        "service_documentation",
        "shipping_documentation",
        "uncategorized_file",
    }
)


_STRIPE_REASONS: Final = frozenset(
    {
        DisputeReason.FRAUDULENT,
        DisputeReason.PRODUCT_NOT_RECEIVED,
        DisputeReason.DUPLICATE,
        DisputeReason.SUBSCRIPTION_CANCELED,
        DisputeReason.PRODUCT_UNACCEPTABLE,
        DisputeReason.CREDIT_NOT_PROCESSED,
        DisputeReason.GENERAL,
        DisputeReason.UNRECOGNIZED,
        DisputeReason.BANK_CANNOT_PROCESS,
        DisputeReason.CUSTOMER_INITIATED,
        DisputeReason.DEBIT_NOT_AUTHORIZED,
        DisputeReason.INCORRECT_ACCOUNT_DETAILS,
        DisputeReason.INSUFFICIENT_FUNDS,
        DisputeReason.NONCOMPLIANT,
    }
)


def stripe_reason(raw: str) -> DisputeReason:
    """Normalise a Stripe dispute ``reason``; unknown reasons become ``UNKNOWN``.

    >>> stripe_reason("fraudulent"), stripe_reason("brand_new_reason")
    (<DisputeReason.FRAUDULENT: 'fraudulent'>, <DisputeReason.UNKNOWN: 'unknown'>)
    """
    try:
        reason = DisputeReason(raw)
    except ValueError:
        return DisputeReason.UNKNOWN
    # Only Stripe's own codes map by name; a B2B code in a card dispute is a surprise.
    return reason if reason in _STRIPE_REASONS else DisputeReason.UNKNOWN


def _edges(
    d: Dispute | None,
) -> Iterable[tuple[DisputeState, DisputeEvent, DisputeState]]:
    for t in DISPUTE_WORKFLOW.transitions:
        if t.event not in _PROVIDER_EVENTS:
            continue
        # Evidence is never inferred twice for one stage.
        if (
            d is not None
            and t.event is _DE.SUBMIT_EVIDENCE
            and d.evidence_for(_stage_of(t.source)) is not None
        ):
            continue
        yield t.source, t.event, t.target


def _provider_path(
    d: Dispute, target: DisputeState, *, prefer_evidence: bool = False
) -> tuple[DisputeEvent, ...] | None:
    """The shortest run of provider events from ``d.state`` to ``target``, or None.

    With ``prefer_evidence`` a path through an evidence submission wins over a
    shorter one without (the provider said evidence was submitted).
    """
    edges = list(_edges(d))
    found: list[tuple[DisputeEvent, ...]] = []

    def walk(state: DisputeState, path: tuple[DisputeEvent, ...], seen: set[DisputeState]) -> None:
        if state is target:
            found.append(path)
            return
        for source, event, nxt in edges:
            if source is state and nxt not in seen:
                walk(nxt, (*path, event), seen | {nxt})

    walk(d.state, (), {d.state})
    if not found:
        return None
    return min(
        found,
        key=lambda p: (prefer_evidence and _DE.SUBMIT_EVIDENCE not in p, len(p)),
    )


def _reaches(source: DisputeState, target: DisputeState) -> bool:
    todo, seen = [source], {source}
    while todo:
        state = todo.pop()
        for a, _, b in _edges(None):
            if a is state and b not in seen:
                seen.add(b)
                todo.append(b)
    return target in seen


def _follow(
    d: Dispute,
    path: Iterable[DisputeEvent],
    now: datetime,
    raw: str,
    *,
    evidence_texts: Mapping[str, str] | None = None,
    evidence_documents: tuple[str, ...] = (),
    respond_by: datetime | None = None,
) -> tuple[Dispute, list[DomainEvent]]:
    events: list[DomainEvent] = []
    note = f"{d.provider}: {raw}"
    for event in path:
        evidence = None
        if event is _DE.SUBMIT_EVIDENCE:
            evidence = Evidence(
                stage=_stage_of(d.state),
                submitted_at=now,
                texts=evidence_texts or {},
                documents=evidence_documents,
                via_provider=True,
            )
        # The provider's word decides; an unknown next deadline is not guessed.
        d, step_events = _step(
            d,
            event,
            now,
            note=note,
            by_provider=True,
            evidence=evidence,
            respond_by=respond_by,
        )
        events.extend(step_events)
    return d, events


def _record(d: Dispute, raw: str, now: datetime, why: str) -> Result:
    entry = HistoryEntry("provider_status", now, d.state, d.state, f"{raw}: {why}")
    d = attrs.evolve(d, history=(*d.history, entry))
    return d, (
        DisputeProviderStatusIgnored(
            aggregate_id=d.id, occurred_at=now, provider_status=raw, state=d.state.value, why=why
        ),
    )


def apply_stripe_status(dispute: Dispute, stripe_status: str, *, now: datetime) -> Result:
    """Bring the dispute to the state a Stripe ``status`` names, legally, or say why not.

    * a status already received (duplicate webhook) is a no-op without events;
    * in a final state, a new status is recorded and ignored (finals are never left);
    * a status whose state lies ahead is reached through legal transitions
      (``needs_response -> under_review`` is an evidence submission reported by
      the provider, ``warning_* -> needs_response`` an escalation, ...);
    * a stale status (its state lies behind, an out-of-order webhook) is recorded
      and ignored;
    * an unknown status, or one that contradicts the current state, sends the
      dispute to *manual_review* (recorded and ignored when it is already there).
      In review, only a final outcome (won, lost, ...) is applied; a person resumes.

    Raises:
        InvalidStripeDisputeError: ``stripe_status`` is not a string.
    """
    now = _aware(now, "now")
    if not isinstance(stripe_status, str):
        raise InvalidStripeDisputeError(field="status", reason="the status must be a string")
    raw = _cut(stripe_status)
    if raw in dispute.provider_statuses:
        return dispute, ()
    d = attrs.evolve(
        dispute, provider_status=raw, provider_statuses=(*dispute.provider_statuses, raw)
    )
    return _apply_provider_state(d, raw, STRIPE_STATUS_MAP.get(raw), now)


def _apply_provider_state(
    d: Dispute,
    raw: str,
    target: DisputeState | None,
    now: datetime,
    *,
    prefer_evidence: bool = False,
    evidence_texts: Mapping[str, str] | None = None,
    evidence_documents: tuple[str, ...] = (),
    respond_by: datetime | None = None,
) -> Result:
    if not d.is_open:
        return _record(d, raw, now, f"the dispute is already {d.state}")
    if target is None:
        why = f"unknown {d.provider} status {raw!r}"
    elif target is d.state:
        return _record(d, raw, now, "already in that state")
    else:
        path = _provider_path(d, target, prefer_evidence=prefer_evidence)
        if path is not None:
            d, events = _follow(
                d,
                path,
                now,
                raw,
                evidence_texts=evidence_texts,
                evidence_documents=evidence_documents,
                respond_by=respond_by,
            )
            return d, tuple(events)
        if _reaches(target, d.state):
            return _record(d, raw, now, f"stale: {target} lies behind {d.state}")
        why = f"{d.provider} status {raw!r} ({target}) cannot follow {d.state}"
    if not DISPUTE_WORKFLOW.can(d.state, _DE.FLAG):
        return _record(d, raw, now, why)
    d, events = _step(d, _DE.FLAG, now, note=why, provider_status=raw)
    return d, tuple(events)


# -- reading a Stripe dispute object (outside input: hostile) ---------------------


def _get(obj: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in obj:
        raise InvalidStripeDisputeError(field=path, reason="missing")
    return obj[key]


def _stripe_str(obj: Mapping[str, Any], key: str, path: str) -> str:
    value = _get(obj, key, path)
    if not isinstance(value, str) or not value or len(value) > _MAX_ID:
        raise InvalidStripeDisputeError(field=path, reason="a non-empty string is required")
    return value


def _stripe_epoch(value: object, path: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidStripeDisputeError(field=path, reason="a Unix timestamp (int) is required")
    if not 0 <= value <= _MAX_EPOCH:
        raise InvalidStripeDisputeError(field=path, reason="timestamp out of range")
    return datetime.fromtimestamp(value, UTC)


def _stripe_ref(value: object, path: str) -> str | None:
    """An id that Stripe may also send expanded as an object with an ``id``."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return _stripe_str(value, "id", f"{path}.id")
    if not isinstance(value, str) or not value or len(value) > _MAX_ID:
        raise InvalidStripeDisputeError(field=path, reason="an id string or an object is required")
    return value


def _stripe_evidence(value: object) -> tuple[dict[str, str], tuple[str, ...]]:
    if value is None:
        return {}, ()
    if not isinstance(value, Mapping):
        raise InvalidStripeDisputeError(field="evidence", reason="an object is required")
    texts: dict[str, str] = {}
    documents: list[str] = []
    # Only string fields are evidence; nested objects Stripe adds over time are skipped.
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str) or not item.strip():
            continue
        if key in _STRIPE_FILE_FIELDS:
            if item not in documents:
                documents.append(item)
        else:
            texts[key] = item
    try:
        return dict(_texts(texts)), _documents(documents)
    except InvalidEvidenceError as exc:
        raise InvalidStripeDisputeError(
            field=f"evidence.{exc.field}", reason=str(exc.reason)
        ) from exc


@attrs.frozen(kw_only=True)
class StripeDisputeFields:
    """What o2c reads from a Stripe dispute object, checked (see :func:`read_stripe_dispute`).

    Attributes:
        provider_id: Stripe's dispute id (``dp_...``).
        amount: The disputed amount.
        status: Stripe's ``status`` (cut to 100 characters).
        raw_reason: Stripe's ``reason`` (cut to 100 characters).
        respond_by: ``evidence_details.due_by`` (None when ``null``).
        submitted: True when ``evidence_details.submission_count`` is above zero.
        created: ``created`` (None when absent).
        charge: The disputed charge's id (``charge``), if given.
        payment_intent: The disputed payment intent's id (``payment_intent``), if given.
        texts: The evidence's non-blank string fields that are not file ids.
        documents: The evidence's file ids.
    """

    provider_id: str
    amount: Money
    status: str
    raw_reason: str
    respond_by: datetime | None
    submitted: bool
    created: datetime | None
    charge: str | None
    payment_intent: str | None
    texts: tuple[tuple[str, str], ...]
    documents: tuple[str, ...]

    @property
    def payment_ref(self) -> str | None:
        """The charge id, else the payment intent id."""
        return self.charge or self.payment_intent


def read_stripe_dispute(obj: Mapping[str, Any]) -> StripeDisputeFields:
    """Check a Stripe dispute object (outside input) and read the fields o2c uses.

    Fields o2c does not use are not looked at (Stripe adds fields over time).

    Raises:
        InvalidStripeDisputeError: not a dispute object, or a field is missing or
            garbled; ``field`` is its dotted path.
    """
    if not isinstance(obj, Mapping):
        raise InvalidStripeDisputeError(field="(object)", reason="a JSON object is required")
    kind = _get(obj, "object", "object")
    if kind != "dispute":
        raise InvalidStripeDisputeError(
            field="object", reason=f"expected 'dispute', got {_cut(repr(kind))}"
        )
    provider_id = _stripe_str(obj, "id", "id")
    units = _get(obj, "amount", "amount")
    if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
        raise InvalidStripeDisputeError(field="amount", reason="a positive integer is required")
    currency = _stripe_str(obj, "currency", "currency")
    try:
        amount = Money.from_minor_units(units, currency.upper())
    except UnknownCurrencyError as exc:
        raise InvalidStripeDisputeError(field="currency", reason="unknown currency") from exc
    except InvalidAmountError as exc:
        raise InvalidStripeDisputeError(field="amount", reason=str(exc.reason)) from exc
    status = _stripe_str(obj, "status", "status")
    raw_reason = _stripe_str(obj, "reason", "reason")
    details = _get(obj, "evidence_details", "evidence_details")
    if not isinstance(details, Mapping):
        raise InvalidStripeDisputeError(field="evidence_details", reason="an object is required")
    due_by = _get(details, "due_by", "evidence_details.due_by")
    respond_by = None if due_by is None else _stripe_epoch(due_by, "evidence_details.due_by")
    has_evidence = details.get("has_evidence", False)
    count = details.get("submission_count", 0)
    if not isinstance(has_evidence, bool):
        raise InvalidStripeDisputeError(field="evidence_details.has_evidence", reason="a bool")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise InvalidStripeDisputeError(
            field="evidence_details.submission_count", reason="a non-negative integer"
        )
    created = obj.get("created")
    texts, documents = _stripe_evidence(obj.get("evidence"))
    return StripeDisputeFields(
        provider_id=provider_id,
        amount=amount,
        status=_cut(status),
        raw_reason=_cut(raw_reason),
        respond_by=respond_by,
        # has_evidence only means staged; submission_count says it went to the bank.
        submitted=count > 0,
        created=None if created is None else _stripe_epoch(created, "created"),
        charge=_stripe_ref(obj.get("charge"), "charge"),
        payment_intent=_stripe_ref(obj.get("payment_intent"), "payment_intent"),
        texts=tuple(sorted(texts.items())),
        documents=documents,
    )


def dispute_from_stripe(
    obj: Mapping[str, Any],
    dispute_id: str,
    customer_id: str,
    now: datetime,
    *,
    invoice_id: str | None = None,
    payment_id: str | None = None,
) -> Result:
    """Build a chargeback from a Stripe dispute object (``object == "dispute"``).

    ``amount`` (minor units) and ``currency`` become :class:`~o2c.money.Money`;
    ``evidence_details.due_by`` becomes ``respond_by`` (UTC; ``null`` means
    unknown); ``created`` becomes ``opened_at`` (``now`` when absent); ``charge``
    (or ``payment_intent``) becomes ``provider_payment_ref``. The dispute is
    walked from *new* to the state of ``status`` through legal transitions; when
    Stripe says evidence was submitted (``submission_count`` above zero)
    the path goes through a submission and its string fields are kept as evidence.
    An unknown status opens the dispute in *manual_review*.

    Args:
        obj: The decoded JSON object (outside input; every field is checked).
        dispute_id: o2c's id for the dispute.
        customer_id: The customer the host resolved for the charge.
        now: When it is recorded.
        invoice_id: The invoice the charge paid, if the host knows it.
        payment_id: The o2c payment of the charge, if the host knows it.

    Returns:
        The dispute and its events (opened, then one per step).

    Raises:
        InvalidStripeDisputeError: the object is not a dispute or a field is missing or
            garbled.
        InvalidDisputeError: ``dispute_id``, ``customer_id`` or another argument is bad.
    """
    now = _aware(now, "now")
    fields = read_stripe_dispute(obj)
    d = Dispute(
        id=dispute_id,
        kind=DisputeKind.CHARGEBACK,
        customer_id=customer_id,
        amount=fields.amount,
        reason=stripe_reason(fields.raw_reason),
        raw_reason=fields.raw_reason,
        opened_at=now if fields.created is None else fields.created,
        respond_by=fields.respond_by,
        invoice_id=invoice_id,
        payment_id=payment_id,
        provider="stripe",
        provider_id=fields.provider_id,
        provider_payment_ref=fields.payment_ref,
        provider_status=fields.status,
        provider_statuses=(fields.status,),
    )
    return _apply_snapshot(d, fields, now)


def update_from_stripe(dispute: Dispute, obj: Mapping[str, Any], *, now: datetime) -> Result:
    """Bring a dispute up to date with a later Stripe dispute object (a full snapshot).

    Like :func:`apply_stripe_status`, but the whole object is read, so that the
    dispute ends the same whatever order the snapshots arrive in: the path to the
    new status goes through an evidence submission when Stripe says evidence was
    submitted (its texts are kept), and an escalation takes the object's
    ``evidence_details.due_by`` as the new deadline. A status already received
    changes nothing; a stale one is recorded and ignored; a final state is never
    left. The amount, the reason and the links stay as opened.

    Raises:
        InvalidStripeDisputeError: the object is garbled, or is another dispute's
            (``field="id"``).
    """
    now = _aware(now, "now")
    fields = read_stripe_dispute(obj)
    if fields.provider_id != dispute.provider_id:
        raise InvalidStripeDisputeError(
            field="id", reason=f"the object is dispute {fields.provider_id}, not this one"
        )
    if fields.status in dispute.provider_statuses:
        return dispute, ()
    d = attrs.evolve(
        dispute,
        provider_status=fields.status,
        provider_statuses=(*dispute.provider_statuses, fields.status),
    )
    return _apply_snapshot(d, fields, now)


def _apply_snapshot(d: Dispute, fields: StripeDisputeFields, now: datetime) -> Result:
    submitted = fields.submitted
    return _apply_provider_state(
        d,
        fields.status,
        STRIPE_STATUS_MAP.get(fields.status),
        now,
        prefer_evidence=submitted,
        evidence_texts=dict(fields.texts) if submitted else None,
        evidence_documents=fields.documents if submitted else (),
        respond_by=fields.respond_by,
    )
