"""Engine part: inbound webhooks, verified, applied once, in any order.

:meth:`InboundMixin.receive_webhook` is what a host's HTTP endpoint calls with the raw
body and the signature header (see ``docs/webhooks.md``):

1. **Verify** the signature (:func:`o2c.webhooks.verify_signature`) under the
   gateway's secrets from :class:`~o2c.engine.EngineConfig`; a bad signature stores
   nothing.
2. **Parse** the event (:func:`o2c.adapters.stripe_events.parse_stripe_event`); a body
   that is not an event stores nothing.
3. **Apply it once**, as a command whose idempotency key is derived from the gateway
   and the event id (:func:`webhook_key`): a redelivery returns the first
   :class:`~o2c.webhooks.WebhookResult` and changes nothing.

The end state does not depend on the order events arrive in:

* a payment outcome goes the way :meth:`handle_gateway_event` goes (a final
  transaction never changes again; a late *pending* changes nothing);
* a dispute event carries the whole dispute: the first one o2c sees opens it (capped
  by the cash the payment holds, like :meth:`open_chargeback`), later ones move it
  forward (:func:`o2c.disputes.update_from_stripe`), stale ones are recorded and
  ignored, and a final state is never left;
* a dispute whose payment o2c does not know yet (its success has not arrived), or
  that holds less cash than disputed, is **parked** and opened as soon as a payment
  event makes it fit; :meth:`parked_webhooks` lists what still waits.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import cast

import attrs

from o2c import disputes
from o2c.adapters.stripe_events import (
    DisputeSnapshot,
    InboundEvent,
    PaymentAnswer,
    parse_stripe_event,
)
from o2c.disputes import Dispute, Resolution, StripeDisputeFields
from o2c.engine.aftersales import AfterSalesMixin
from o2c.engine.core import Tx, derive_key
from o2c.engine.records import disputes_of, payments_of, receipts_of
from o2c.errors import EngineStateError, WebhookSecretError
from o2c.events import WebhookProcessed
from o2c.payments import Payment, TransactionKind
from o2c.ports import Kind, UnitOfWork
from o2c.webhooks import WebhookResult, WebhookStatus, verify_signature

__all__ = ["InboundMixin", "ParkedSnapshot", "ParkedWebhook", "webhook_key"]

#: Most snapshots kept for one parked dispute (the latest by event time win).
MAX_PARKED_SNAPSHOTS = 50


def webhook_key(gateway: str, event_id: str) -> str:
    """The idempotency key :meth:`InboundMixin.receive_webhook` stores an event under."""
    return derive_key(f"webhook:{gateway}", event_id)


@attrs.frozen(kw_only=True)
class ParkedSnapshot:
    """One dispute event kept while its dispute waits.

    Attributes:
        event_id: The gateway's event id.
        event_type: Its type.
        created: When the gateway created it.
        document: The reduced dispute object (canonical JSON).
    """

    event_id: str
    event_type: str
    created: datetime
    document: str


@attrs.frozen(kw_only=True)
class ParkedWebhook:
    """A gateway's dispute as o2c knows it (stored under :attr:`Kind.WEBHOOK`): its
    events waiting for their payment, and once applied, the link to o2c's dispute.

    Attributes:
        id: ``"<gateway>:<provider dispute id>"``.
        gateway: The gateway.
        provider_id: The gateway's dispute id.
        charge: The disputed charge's id, if given.
        payment_intent: The disputed payment intent's id, if given.
        payment_id: The o2c payment named in metadata, if any.
        snapshots: The events applied together, oldest first (by event time, then id).
        reason: Why it waits (the last attempt's reason; empty once applied).
        parked_at: When the first of them arrived.
        dispute_id: The o2c dispute they opened or moved (None while waiting); later
            events of the dispute go straight to it.
    """

    id: str
    gateway: str
    provider_id: str
    charge: str | None
    payment_intent: str | None
    payment_id: str | None
    snapshots: tuple[ParkedSnapshot, ...]
    reason: str
    parked_at: datetime
    dispute_id: str | None = None

    @property
    def waiting(self) -> bool:
        """True until the snapshots opened their dispute."""
        return self.dispute_id is None


def _parked_index(record: ParkedWebhook) -> Mapping[str, str]:
    if not record.waiting:
        return {}
    index = {"waiting": "yes", "waiting_gateway": record.gateway}
    if record.charge:
        index["charge"] = f"{record.gateway}:{record.charge}"
    if record.payment_intent:
        index["payment_intent"] = f"{record.gateway}:{record.payment_intent}"
    if record.payment_id:
        index["payment_id"] = record.payment_id
    return index


def _fields(snapshot: ParkedSnapshot) -> StripeDisputeFields:
    return disputes.read_stripe_dispute(json.loads(snapshot.document))


def _order(snapshots: Sequence[ParkedSnapshot]) -> tuple[ParkedSnapshot, ...]:
    # One order whatever the arrival order: by the gateway's event time, then id.
    unique = {s.event_id: s for s in snapshots}
    ordered = sorted(unique.values(), key=lambda s: (s.created, s.event_id))
    return tuple(ordered[-MAX_PARKED_SNAPSHOTS:])


def _authorization_reference(payment: Payment) -> str | None:
    """The gateway's reference of the payment's authorization or sale (its charge)."""
    kinds = (TransactionKind.AUTHORIZE, TransactionKind.SALE)
    return next((t.gateway_reference for t in payment.transactions if t.kind in kinds), None)


def _default_resolution(allowed: frozenset[Resolution]) -> Resolution:
    for choice in (Resolution.WRITE_OFF, Resolution.COLLECT, Resolution.NONE):
        if choice in allowed:
            return choice
    return Resolution.NONE


class InboundMixin(AfterSalesMixin):
    """Inbound webhooks: signed gateway events and disputes, verified and applied once."""

    def receive_webhook(self, gateway: str, body: bytes, signature_header: str) -> WebhookResult:
        """Verify, read and apply a webhook a gateway sent (Stripe's format).

        Args:
            gateway: The gateway's name; its secrets are
                ``EngineConfig.webhook_secrets[gateway]``.
            body: The raw request body, byte for byte as received.
            signature_header: The signature header as received (``Stripe-Signature``).

        Returns:
            What was done: applied, parked (waiting for its payment) or ignored (an
            event o2c does not act on). A redelivery of the event returns the first
            result and changes nothing.

        Raises:
            WebhookSignatureError: the signature does not prove the body (one subclass
                per reason; also :class:`~o2c.errors.WebhookSecretError` when no
                secret is configured). Nothing is stored.
            WebhookPayloadError: the body is not an event o2c can read. Nothing is stored.
            IdempotencyConflictError: the event id came before with another payload.
            EngineStateError: a payment event answers a request o2c does not know.
            ContradictoryOutcomeError: it contradicts a transaction's final answer.
        """
        if not isinstance(gateway, str) or not gateway:
            raise WebhookSecretError(gateway=repr(gateway)[:80], reason="no gateway named")
        config = self.config
        verify_signature(
            body,
            signature_header,
            config.webhook_secrets.get(gateway),
            now=self.clock.now(),
            tolerance=config.webhook_tolerance,
            max_body_bytes=config.webhook_max_body_bytes,
            gateway=gateway,
        )
        event = parse_stripe_event(body)
        answered: list[tuple[str, str]] = []

        def run(tx: Tx) -> WebhookResult:
            if event.dispute is not None:
                result = self._receive_dispute(tx, gateway, event, event.dispute)
            elif event.payments:
                result = self._receive_answers(tx, gateway, event, answered)
            else:
                result = self._result(tx, gateway, event, WebhookStatus.IGNORED, event.ignored)
            tx.emit(
                (
                    WebhookProcessed(
                        aggregate_id=f"{gateway}:{event.event_id}",
                        occurred_at=tx.now,
                        gateway=gateway,
                        event_id=event.event_id,
                        event_type=event.event_type,
                        status=result.status.value,
                        reason=result.reason,
                        payment_ids=result.payment_ids,
                        dispute_id=result.dispute_id,
                    ),
                )
            )
            return result

        # The signature header is not part of the call's identity: each delivery is
        # signed anew. The body is, through its digest (the event's type and object).
        fields = {"gateway": gateway, "body": event.digest}
        return self._flagging_contradictions(
            "receive_webhook",
            webhook_key(gateway, event.event_id),
            fields,
            run,
            answered=answered,
            source=f"gateway {gateway} webhook {event.event_id}",
        )

    @staticmethod
    def _result(
        tx: Tx,
        gateway: str,
        event: InboundEvent,
        status: WebhookStatus,
        reason: str = "",
        *,
        payment_ids: Sequence[str] = (),
        dispute_id: str | None = None,
        released: Sequence[str] = (),
    ) -> WebhookResult:
        return WebhookResult(
            gateway=gateway,
            event_id=event.event_id,
            event_type=event.event_type,
            status=status,
            reason=reason,
            payment_ids=tuple(payment_ids),
            dispute_id=dispute_id,
            released=tuple(released),
            received_at=tx.now,
        )

    # -- payment outcomes ---------------------------------------------------------------

    def _receive_answers(
        self, tx: Tx, gateway: str, event: InboundEvent, answered: list[tuple[str, str]]
    ) -> WebhookResult:
        moved: list[str] = []
        opened: list[str] = []
        for answer in event.payments:
            payment = self._answer(tx, gateway, answer, answered)
            moved.append(payment.id)
            # _resolved released what the answer made fit; a payment already settled
            # may still hold disputes that waited for it to exist.
            self._release_parked(tx, gateway, payment)
        opened = tx.released
        return self._result(
            tx,
            gateway,
            event,
            WebhookStatus.APPLIED,
            payment_ids=tuple(dict.fromkeys(moved)),
            released=tuple(opened),
        )

    def _answer(
        self, tx: Tx, gateway: str, answer: PaymentAnswer, answered: list[tuple[str, str]]
    ) -> Payment:
        """Record a gateway's answer the way :meth:`handle_gateway_event` does."""
        subject = f"gateway event {answer.event_id}"
        key = answer.idempotency_key
        if key is None:
            named = payments_of(tx.uow).get(answer.payment_id) if answer.payment_id else None
            found = named.transactions if named is not None else ()
            txn = next((t for t in found if t.id == answer.transaction_id), None)
            if txn is None:
                raise EngineStateError(subject=subject, reason="it answers no request o2c made")
            key = txn.idempotency_key
        return self._answer_request(
            tx, gateway, key, answer.outcome, subject=subject, answered=answered
        )

    # -- disputes -------------------------------------------------------------------------

    def _receive_dispute(
        self, tx: Tx, gateway: str, event: InboundEvent, snap: DisputeSnapshot
    ) -> WebhookResult:
        record_id = f"{gateway}:{snap.provider_id}"
        stored = tx.uow.get(Kind.WEBHOOK.value, record_id)
        this = ParkedSnapshot(
            event_id=event.event_id,
            event_type=event.event_type,
            created=event.created,
            document=snap.document,
        )
        if isinstance(stored, ParkedWebhook) and stored.dispute_id is not None:
            # Opened before: the record links the gateway's dispute to o2c's.
            linked = disputes_of(tx.uow).require(stored.dispute_id)
            dispute, changed = self._move(tx, linked, (this,))
        else:
            earlier = stored.snapshots if isinstance(stored, ParkedWebhook) else ()
            waiting = ParkedWebhook(
                id=record_id,
                gateway=gateway,
                provider_id=snap.provider_id,
                charge=snap.charge,
                payment_intent=snap.payment_intent,
                payment_id=snap.payment_id
                or (stored.payment_id if isinstance(stored, ParkedWebhook) else None),
                snapshots=_order((*earlier, this)),
                reason="",
                parked_at=stored.parked_at if isinstance(stored, ParkedWebhook) else tx.now,
            )
            found, changed, problem = self._apply_snapshots(tx, waiting)
            if found is None:
                return self._result(tx, gateway, event, WebhookStatus.PARKED, problem)
            dispute = found
        reason = "" if changed else "the dispute was already up to date"
        return self._result(
            tx,
            gateway,
            event,
            WebhookStatus.APPLIED,
            reason,
            payment_ids=(dispute.payment_id,) if dispute.payment_id else (),
            dispute_id=dispute.id,
        )

    def _apply_snapshots(self, tx: Tx, waiting: ParkedWebhook) -> tuple[Dispute | None, bool, str]:
        """Open or move the dispute with every snapshot (oldest first), or park them.

        Once applied, the record links the gateway's dispute to o2c's (it is no longer
        waiting), so later events go straight to the dispute.

        Returns:
            ``(dispute, changed, "")`` once applied; ``(None, False, why)`` when parked.
        """
        payment = self._disputed_payment(tx, waiting)
        if payment is None:
            refs = " / ".join(r for r in (waiting.charge, waiting.payment_intent) if r)
            return self._park(
                tx, waiting, f"no payment on gateway {waiting.gateway} has the reference {refs}"
            )
        dispute = self._provider_dispute(tx, payment, waiting)
        pending = waiting.snapshots
        opened = False
        if dispute is None:
            problem = self._cannot_open(tx, payment, _fields(pending[0]))
            if problem:
                return self._park(tx, waiting, problem)
            dispute, ev = self._open_from_stripe(tx, payment, pending[0])
            tx.emit(ev)
            opened, pending = True, pending[1:]
        dispute, changed = self._move(tx, dispute, pending)
        linked = attrs.evolve(waiting, dispute_id=dispute.id, reason="")
        tx.uow.put(Kind.WEBHOOK.value, linked.id, linked, _parked_index(linked))
        return dispute, opened or changed, ""

    @staticmethod
    def _move(
        tx: Tx, dispute: Dispute, snapshots: Sequence[ParkedSnapshot]
    ) -> tuple[Dispute, bool]:
        """Bring a dispute up to date with snapshots (oldest first) and store it."""
        changed = False
        for snapshot in snapshots:
            dispute, ev = disputes.update_from_stripe(
                dispute, json.loads(snapshot.document), now=tx.now
            )
            changed = changed or bool(ev)
            tx.emit(ev)
        disputes_of(tx.uow).put(dispute)
        return dispute, changed

    @staticmethod
    def _park(tx: Tx, waiting: ParkedWebhook, reason: str) -> tuple[None, bool, str]:
        parked = attrs.evolve(waiting, reason=reason)
        tx.uow.put(Kind.WEBHOOK.value, parked.id, parked, _parked_index(parked))
        return None, False, reason

    def _open_from_stripe(
        self, tx: Tx, payment: Payment, snapshot: ParkedSnapshot
    ) -> disputes.Result:
        receipts = receipts_of(tx.uow).find("reference", payment.id)
        invoice_id = next((i for r in receipts for i in r.invoice_ids), None)
        return disputes.dispute_from_stripe(
            json.loads(snapshot.document),
            tx.number("DSP"),
            payment.customer_id or "",
            tx.now,
            invoice_id=invoice_id,
            payment_id=payment.id,
        )

    @staticmethod
    def _disputed_payment(tx: Tx, waiting: ParkedWebhook) -> Payment | None:
        repo = payments_of(tx.uow)
        if waiting.payment_id:
            named = repo.get(waiting.payment_id)
            if named is not None and named.gateway == waiting.gateway:
                return named
        for ref in (waiting.payment_intent, waiting.charge):
            if ref:
                for payment in repo.find("gateway_reference", ref):
                    if payment.gateway == waiting.gateway:
                        return payment
        return None

    @staticmethod
    def _provider_dispute(tx: Tx, payment: Payment, waiting: ParkedWebhook) -> Dispute | None:
        for dispute in disputes_of(tx.uow).find("payment_id", payment.id):
            if dispute.provider_id == waiting.provider_id:
                return dispute
        return None

    def _cannot_open(self, tx: Tx, payment: Payment, fields: StripeDisputeFields) -> str:
        """Why the dispute cannot be opened on the payment now ("" when it can)."""
        if fields.amount.currency != payment.currency:
            return (
                f"the dispute is in {fields.amount.currency}, "
                f"payment {payment.id} in {payment.currency}"
            )
        if payment.customer_id is None:
            return f"payment {payment.id} has no customer"
        held = self._refundable_cash(tx, payment)
        if fields.amount > held:
            # As open_chargeback: the bank cannot pull back more than the payment holds
            # here. A capture or sale still in flight may bring the rest.
            return f"payment {payment.id} holds {held}, less than the {fields.amount} disputed"
        return ""

    def _resolved(
        self,
        tx: Tx,
        payment: Payment,
        txn_id: str,
        outcome: object,
        invoice_ids: Sequence[str],
    ) -> Payment:
        # Whichever way an answer arrives (the call itself, the reconciler, an event or
        # a webhook), disputes parked because the payment held too little cash, or was
        # not known yet, are opened as soon as it fits them.
        payment = super()._resolved(tx, payment, txn_id, outcome, invoice_ids)
        if payment.gateway is not None:
            self._release_parked(tx, payment.gateway, payment)
        return payment

    def _release_parked(self, tx: Tx, gateway: str, payment: Payment) -> list[str]:
        """Open the parked disputes a payment event made fit; their dispute ids (also
        added to ``tx.released``)."""
        found: dict[str, ParkedWebhook] = {}
        reference = _authorization_reference(payment)
        lookups = [("payment_id", payment.id)]
        if reference:
            lookups += [
                ("charge", f"{gateway}:{reference}"),
                ("payment_intent", f"{gateway}:{reference}"),
            ]
        for field, value in lookups:
            # Only waiting records are indexed (see _parked_index).
            for record in cast(list[ParkedWebhook], tx.uow.find(Kind.WEBHOOK.value, field, value)):
                found[record.id] = record
        opened: list[str] = []
        for record in found.values():
            dispute, _, _ = self._apply_snapshots(tx, record)
            if dispute is not None:
                opened.append(dispute.id)
        tx.released += opened
        return opened

    def parked_webhooks(self, gateway: str | None = None) -> tuple[ParkedWebhook, ...]:
        """Dispute events still waiting for their payment (of every gateway, or one)."""

        def read(uow: UnitOfWork) -> tuple[ParkedWebhook, ...]:
            if gateway is None:
                rows = uow.find(Kind.WEBHOOK.value, "waiting", "yes")
            else:
                rows = uow.find(Kind.WEBHOOK.value, "waiting_gateway", gateway)
            return tuple(cast(list[ParkedWebhook], rows))

        return self._read(read)

    # -- booking a dispute the provider closed ---------------------------------------------

    def resolve_dispute(
        self, key: str, dispute_id: str, resolution: Resolution | str | None = None
    ) -> Dispute:
        """Book the money consequence of a dispute that is already closed (the
        gateway's webhook said won, lost ...), as :meth:`settle_dispute` does for a
        dispute it closes itself.

        Default resolution: a write-off for a lost or accepted dispute, collection
        for a won or withdrawn deduction, none otherwise.

        Raises:
            DisputeNotClosedError: the dispute is still open (use
                :meth:`settle_dispute`).
            DisputeAlreadyResolvedError: its resolution is recorded already.
            InvalidResolutionError: the resolution does not fit its outcome.
        """
        fields = {
            "dispute_id": dispute_id,
            "resolution": str(resolution) if resolution is not None else None,
        }

        def run(tx: Tx) -> Dispute:
            dispute = disputes_of(tx.uow).require(dispute_id)
            wanted = resolution
            if wanted is None:
                wanted = _default_resolution(disputes.allowed_resolutions(dispute))
            # Checked before any money moves: resolve() refuses what does not fit.
            disputes.resolve(dispute, wanted, now=tx.now)
            chosen = Resolution(wanted)
            reference = self._book(tx, dispute, chosen)
            dispute, ev = disputes.resolve(dispute, chosen, now=tx.now, reference=reference)
            tx.emit(ev)
            disputes_of(tx.uow).put(dispute)
            return dispute

        return self._command("resolve_dispute", key, fields, run)
