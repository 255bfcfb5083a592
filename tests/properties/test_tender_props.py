"""Properties of payment methods: store credit, the refund plan, split tender and refunds
through the engine, and carriers' COD remittances.

Oracles are plain integer models (cents) built from the operations' arguments; the
engine properties also read every record back and check the ledgers agree.

Three properties drive the whole engine and are heavier than the rest, so they lower
their example count: the COD remittance property (60), the split-tender property (80),
and the whole-engine state machine of ``test_engine_machine.py`` with tender rules
added (40 runs of 50 steps, see ``TenderMachine``). Under the CI profile the file runs
in about 15 seconds.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, multiple, rule
from tests.properties.test_engine_machine import CARD, LINES, REFUSED, EngineMachine, share
from tests.unit.engine_cases import ADA, mugs, new_world

from o2c.adapters.faulty_gateway import Fault
from o2c.cash import Receipt, summarize
from o2c.errors import (
    InsufficientStoreCreditError,
    RefundExceedsRefundableError,
    RemittanceAlreadyRecordedError,
)
from o2c.invoices import Invoice
from o2c.money import Money
from o2c.payments import PaymentMethod
from o2c.ports import Kind
from o2c.remittance import CodFacts, CodStatus, reconcile
from o2c.store_credit import StoreCreditAccount, open_account
from o2c.tenders import REFUND_OUTCOMES, RefundSource, plan_refund, refund_rank

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
METHODS = ["store_credit", "card", "wallet", "bank_transfer", "cash_on_delivery"]


def cents(n: int) -> Money:
    return Money.from_minor_units(n, "EUR")


# --------------------------------------------------------------------------- store credit


OPS = st.lists(
    st.tuples(st.sampled_from(["grant", "redeem", "reverse"]), st.integers(1, 5_000)),
    max_size=30,
)


@given(ops=OPS)
def test_store_credit_balance_is_granted_less_redeemed_less_reversed(
    ops: list[tuple[str, int]],
) -> None:
    account = open_account("ada", "EUR")
    model = {"grant": 0, "redeem": 0, "reverse": 0}
    for n, (op, amount) in enumerate(ops):
        balance = model["grant"] - model["redeem"] - model["reverse"]
        entry = f"SC-{n}"
        try:
            if op == "grant":
                account, events = account.grant(entry, cents(amount), T0, reason="goodwill")
            elif op == "redeem":
                account, events = account.redeem(entry, cents(amount), T0, reference="TND")
            else:
                account, events = account.reverse(entry, cents(amount), T0, reason="expired")
        except InsufficientStoreCreditError as refused:
            assert op != "grant"
            assert amount > balance
            assert refused.balance == cents(balance)
            continue
        assert op == "grant" or amount <= balance
        model[op] += amount
        assert events[0].balance == account.balance  # type: ignore[attr-defined]
    assert account.granted == cents(model["grant"])
    assert account.redeemed == cents(model["redeem"])
    assert account.reversed == cents(model["reverse"])
    assert account.balance == account.granted - account.redeemed - account.reversed
    assert not account.balance.is_negative()
    rebuilt = StoreCreditAccount(customer_id="ada", currency="EUR", entries=account.entries)
    assert rebuilt == account


# --------------------------------------------------------------------------- refund plan

SOURCES = st.lists(
    st.tuples(
        st.sampled_from(METHODS),
        st.integers(0, 5),  # minutes after T0
        st.integers(0, 3_000),  # unapplied cents
        st.integers(0, 3_000),  # applied cents
    ),
    min_size=1,
    max_size=6,
)


def _priority(sources: list[RefundSource], i: int) -> tuple[int, float, int]:
    s = sources[i]
    return (refund_rank(s.method), -s.created_at.timestamp(), -i)


@given(specs=SOURCES, data=st.data())
def test_a_refund_plan_spreads_exactly_within_each_tender(
    specs: list[tuple[str, int, int, int]], data: st.DataObject
) -> None:
    sources = [
        RefundSource(
            tender_id=f"T{i}",
            method=PaymentMethod(method),
            created_at=T0 + timedelta(minutes=minutes),
            unapplied=cents(unapplied),
            applied=cents(applied),
        )
        for i, (method, minutes, unapplied, applied) in enumerate(specs)
    ]
    total = sum(u + a for _, _, u, a in specs)
    amount = data.draw(st.integers(1, total + 500), label="amount")
    if amount > total:
        with pytest.raises(RefundExceedsRefundableError) as refused:
            plan_refund("SO-1", cents(amount), sources)
        assert refused.value.excess == cents(amount - total)
        return
    plan = dict(plan_refund("SO-1", cents(amount), sources))
    assert len(plan) == len(list(plan_refund("SO-1", cents(amount), sources)))  # each once
    assert sum((m for m in plan.values()), cents(0)) == cents(amount)
    taken = [plan.get(s.tender_id, cents(0)) for s in sources]
    for s, t in zip(sources, taken, strict=True):
        assert cents(0) <= t <= s.refundable
    # A tender's part comes from its money on account first.
    on_account = [t.min(s.unapplied) for s, t in zip(sources, taken, strict=True)]
    applied = [t - u for t, u in zip(taken, on_account, strict=True)]
    # No money applied to an invoice is taken while money on account is left.
    if any(a.is_positive() for a in applied):
        assert all(u == s.unapplied for u, s in zip(on_account, sources, strict=True))
    # Within each, a tender gets something only when every one before it is exhausted.
    for got, limit in ((on_account, "unapplied"), (applied, "applied")):
        ranked = sorted(range(len(sources)), key=lambda i: _priority(sources, i))
        for pos, j in enumerate(ranked):
            if got[j].is_positive():
                for i in ranked[:pos]:
                    assert got[i] == getattr(sources[i], limit)


# --------------------------------------------------------------------------- remittances


@dataclass(frozen=True)
class Parcel:
    cod: int
    delivered: bool
    remitted: int


PARCELS = st.lists(
    st.builds(Parcel, st.integers(1, 50_000), st.booleans(), st.sampled_from([0, 0, 0, 100])),
    min_size=1,
    max_size=5,
)


@given(parcels=PARCELS, data=st.data())
def test_a_remittance_reports_exactly_its_discrepancies(
    parcels: list[Parcel], data: st.DataObject
) -> None:
    known = {
        f"SH-{i}": CodFacts(
            shipment_id=f"SH-{i}",
            carrier="dhl",
            cod_amount=cents(p.cod),
            delivered=p.delivered,
            remitted=cents(p.remitted) if p.remitted else None,
        )
        for i, p in enumerate(parcels)
    }
    ids = [*known, "SH-X"]
    items = data.draw(
        st.lists(st.tuples(st.sampled_from(ids), st.integers(1, 60_000)), min_size=1, max_size=8),
        label="items",
    )
    fee = data.draw(st.integers(0, sum(a for _, a in items)), label="fee")
    remittance, events = reconcile(
        carrier="dhl",
        remittance_id="R-1",
        items=[(sid, cents(a)) for sid, a in items],
        fee=cents(fee),
        facts=lambda sid: known.get(sid, CodFacts(shipment_id=None)),
        now=T0,
    )
    running = {sid: f.remitted.in_minor_units() if f.remitted else 0 for sid, f in known.items()}
    expected: list[CodStatus] = []
    for sid, amount in items:
        if sid not in known:
            expected.append(CodStatus.UNKNOWN)
            continue
        facts = known[sid]
        owed = max(facts.cod_amount.in_minor_units() - running[sid], 0)  # type: ignore[union-attr]
        running[sid] += amount
        if not facts.delivered:
            expected.append(CodStatus.NOT_DELIVERED)
        elif amount == owed:
            expected.append(CodStatus.SETTLED)
        else:
            expected.append(CodStatus.SHORT if amount < owed else CodStatus.OVER)
    assert [ln.status for ln in remittance.lines] == expected
    assert remittance.gross == cents(sum(a for _, a in items))
    assert remittance.net == remittance.gross - cents(fee)
    found = [e for e in events if type(e).__name__ == "CodDiscrepancyFound"]
    assert len(found) == sum(1 for s in expected if s is not CodStatus.SETTLED)
    assert any(type(e).__name__ == "CarrierFeeBooked" for e in events) == (fee > 0)


COD_ITEMS = st.lists(
    st.tuples(
        st.integers(0, 3),  # which parcel (3: an id o2c never issued)
        st.sampled_from(["exact", "exact", "short", "over", "skip"]),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60)  # each example ships and delivers parcels through the engine
@given(delivered=st.lists(st.booleans(), min_size=3, max_size=3), plan=COD_ITEMS)
def test_cod_remittances_through_the_engine_book_once_and_keep_the_rest_open(
    delivered: list[bool], plan: list[tuple[int, str]]
) -> None:
    w = new_world()
    w.engine.add_customer("c", ADA)
    w.engine.receive_stock("s", "MUG", 10)
    shipments: list[str] = []
    for n, arrives in enumerate(delivered):
        order = w.engine.place_order(f"o{n}", customer_id="ada", lines=[mugs(1)])
        shipment = w.engine.ship(f"ship{n}", order.id, cod_amount=Money("59.50", "EUR"))
        shipments.append(shipment.id)
        if arrives:
            w.engine.confirm_delivery(f"d{n}", shipment.id)
    items: list[tuple[str, Money]] = []
    for which, how in plan:
        if how == "skip":
            continue
        cents_ = {"exact": 5950, "short": 5000, "over": 6000}[how]
        items.append((shipments[which] if which < 3 else "SH-999999", cents(cents_)))
    assume(items)
    first = w.engine.record_cod_remittance("remit", "dhl", "R-1", items)
    state = w.snapshot()
    assert w.engine.record_cod_remittance("remit", "dhl", "R-1", items) == first
    with pytest.raises(RemittanceAlreadyRecordedError):
        w.engine.record_cod_remittance("remit-again", "dhl", "R-1", items)
    assert w.snapshot() == state
    # Every shipment's account: collected (once delivered) less what this remittance paid.
    paid: dict[str, int] = defaultdict(int)
    for sid, amount in items:
        paid[sid] += amount.in_minor_units()
    position = w.engine.cod_position("dhl", "EUR")
    open_now = {i.shipment_id: i.open.in_minor_units() for i in position.items}
    for sid, arrives in zip(shipments, delivered, strict=True):
        assert open_now.get(sid, 0) == (5950 if arrives else 0) - paid.get(sid, 0)
    assert sum(ln.amount.in_minor_units() for _, ln in position.unmatched) == paid.get(
        "SH-999999", 0
    )
    unexpected = [ln for ln in first.lines if ln.status is not CodStatus.SETTLED]
    assert len(first.discrepancies) == len(unexpected)


# --------------------------------------------------------------------------- split tender


TENDERS = st.lists(
    st.one_of(
        st.tuples(st.just("store_credit"), st.integers(1, 100), st.just(0)),
        st.tuples(st.sampled_from(["card", "wallet"]), st.integers(1, 100), st.integers(0, 100)),
        st.tuples(st.just("bank_transfer"), st.integers(1, 100), st.integers(0, 120)),
    ),
    min_size=1,
    max_size=4,
)
REFUNDS = st.lists(st.integers(1, 120), min_size=1, max_size=4)


def _pct(money: Money, percent: int) -> Money:
    units = money.in_minor_units() * percent // 100
    return cents(max(units, 1))


def _records(w: Any, kind: Kind) -> list[Any]:
    with w.storage.inner.begin() as uow:
        return list(uow.all(kind.value))


def _ledgers_agree(w: Any) -> None:
    receipts: list[Receipt] = _records(w, Kind.RECEIPT)
    summarize(receipts)  # cash received = applied + unapplied + refunded, per customer
    invoices: dict[str, Invoice] = {i.id: i for i in _records(w, Kind.INVOICE)}
    for receipt in receipts:
        for invoice_id in receipt.invoice_ids:
            assert invoices[invoice_id].applied_by(receipt.id) == receipt.applied_to(invoice_id)
    for invoice in invoices.values():
        assert not invoice.open_amount.is_negative()


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(
    qty=st.integers(1, 4),
    credit=st.integers(0, 30_000),
    tenders=TENDERS,
    invoice_first=st.booleans(),
    refunds=REFUNDS,
    decline_refunds=st.booleans(),
)
def test_split_tenders_refund_within_what_each_took(
    *,
    qty: int,
    credit: int,
    tenders: list[tuple[str, int, int]],
    invoice_first: bool,
    refunds: list[int],
    decline_refunds: bool,
) -> None:
    w = new_world()
    keys = (f"k{n}" for n in count())
    w.engine.add_customer(next(keys), ADA)
    w.engine.receive_stock(next(keys), "MUG", 10)
    order = w.engine.place_order(next(keys), customer_id="ada", lines=[mugs(qty)])
    total = order.totals.total
    if credit:
        w.engine.grant_store_credit(next(keys), "ada", cents(credit), reason="goodwill")
    if invoice_first:
        w.engine.invoice_order(next(keys), order.id, "ordered")
    for method, percent, second in tenders:
        room = total - sum((t.counted for t in w.engine.order_tenders(order.id)), cents(0))
        if not room.is_positive():
            break
        amount = _pct(room, percent)
        if method == "store_credit":
            balance = w.engine.store_credit("ada").balance
            if not balance.is_positive():
                continue
            w.engine.pay_with_store_credit(next(keys), order.id, amount.min(balance))
        elif method == "bank_transfer":
            tender = w.engine.expect_bank_transfer(next(keys), order.id, amount)
            if second:  # the customer pays second% of what was asked
                receipt = w.engine.receive_payment(
                    next(keys), amount=_pct(amount, second), reference=tender.reference
                )
                w.engine.apply_bank_transfer(next(keys), receipt.id)
        else:
            payment = w.engine.authorize_payment(
                next(keys), order.id, token=CARD, amount=amount, method=method
            )
            if second:  # a capture of second% of the authorization
                w.engine.capture_payment(next(keys), payment.id, _pct(amount, second))
    if not invoice_first:
        w.engine.invoice_order(next(keys), order.id, "ordered")
    views = w.engine.order_tenders(order.id)
    assert sum((t.counted for t in views), cents(0)) <= total  # never more than the total
    took = {t.tender_id: t.taken for t in views}
    if decline_refunds:
        w.gateway.inject("refund", Fault.DECLINE, times=None)
    granted_back = cents(0)
    for percent in refunds:
        before = {t.tender_id: t for t in w.engine.order_tenders(order.id)}
        refundable = sum((t.refundable for t in before.values()), cents(0))
        amount = _pct(refundable if refundable.is_positive() else total, percent)
        note(f"refund {amount} of {refundable}")
        if amount > refundable:
            with pytest.raises(RefundExceedsRefundableError) as refused:
                w.engine.refund_order(next(keys), order.id, amount)
            assert refused.value.excess == amount - refundable
            continue
        result = w.engine.refund_order(next(keys), order.id, amount)
        assert result.refunded == amount
        per_tender: dict[str, Money] = defaultdict(lambda: cents(0))
        for part in result.parts:
            per_tender[part.tender_id] += part.amount
            if part.outcome == "store_credit":
                granted_back += part.amount
        for tender_id, given_back in per_tender.items():
            assert given_back <= before[tender_id].refundable
        _ledgers_agree(w)
    after = w.engine.order_tenders(order.id)
    for t in after:
        assert t.refunded <= t.taken == took[t.tender_id]
        assert not t.refundable.is_negative()
    account = w.engine.store_credit("ada")
    redeemed = sum((t.taken for t in after if t.method is PaymentMethod.STORE_CREDIT), cents(0))
    assert account.balance == account.granted - account.redeemed - account.reversed
    assert account.redeemed == redeemed
    assert account.granted == cents(credit) + granted_back
    assert not account.balance.is_negative()


# --------------------------------------------------------------------------- the whole engine

SHARES_OF_BALANCE = st.sampled_from(["0.5", "1", "1.1"])
REFUND_SHARES = st.sampled_from([None, "0.01", "0.3", "1", "1.1"])


class TenderMachine(EngineMachine):
    """The engine machine with store credit, bank transfers, order refunds and COD
    remittances mixed into its random calls; every ledger invariant of the base
    machine still runs after each step, and the tender invariants below too."""

    def __init__(self) -> None:
        super().__init__()
        self.remittances = 0

    @rule(customer=st.sampled_from(["big", "big2", "low"]), amount=st.integers(1, 20_000))
    def grant_store_credit(self, customer: str, amount: int) -> None:
        self.call("grant_store_credit", customer, cents(amount), reason="goodwill")

    @rule(customer=st.sampled_from(["big", "big2", "low"]), amount=SHARES_OF_BALANCE)
    def revoke_store_credit(self, customer: str, amount: str) -> None:
        balance = self.read("store_credit", customer).balance
        money = share(balance, amount) if balance.is_positive() else cents(1)
        self.call("revoke_store_credit", customer, money, reason="expired")

    @rule(order=EngineMachine.orders, amount=st.sampled_from([None, "0.1", "0.5", "1.2"]))
    def pay_with_store_credit(self, order: str, amount: str | None) -> None:
        current = self.read("order", order)
        self.call("grant_store_credit", current.customer_id, current.totals.total, reason="gift")
        self.call("pay_with_store_credit", order, share(current.totals.total, amount))

    @rule(
        order=EngineMachine.orders,
        amount=st.sampled_from([None, "0.3", "1.2"]),
        paid=st.sampled_from([None, "0.5", "1", "1.5"]),
    )
    def bank_transfer(self, order: str, amount: str | None, paid: str | None) -> None:
        total = self.read("order", order).totals.total
        tender = self.call("expect_bank_transfer", order, share(total, amount))
        if tender is REFUSED or paid is None:
            return
        money = share(tender.amount, paid)
        receipt = self.call(
            "receive_payment", amount=money, reference=f"thanks {tender.reference.lower()}"
        )
        if receipt is not REFUSED:
            self.call("apply_bank_transfer", receipt.id)

    @rule(order=EngineMachine.orders, amount=REFUND_SHARES)
    def refund_order(self, order: str, amount: str | None) -> None:
        views = self.read("order_tenders", order)
        zero = Money.zero(self.read("order", order).currency)
        refundable = sum((v.refundable for v in views), zero)
        money = share(refundable, amount) if refundable.is_positive() else None
        result = self.call("refund_order", order, money)
        if result is REFUSED:
            return
        assert result.refunded == (money if money is not None else refundable)
        by_tender: dict[str, Money] = defaultdict(lambda: zero)
        for part in result.parts:
            if part.outcome in REFUND_OUTCOMES:
                by_tender[part.tender_id] += part.amount
        limits = {v.tender_id: v.refundable for v in views}
        for tender_id, amount_back in by_tender.items():
            assert amount_back <= limits[tender_id]

    @rule(
        target=EngineMachine.orders,
        customer=st.sampled_from(["big", "big2"]),
        lines=LINES,
        credit=st.sampled_from(["0.2", "0.5", "1"]),
        wallet=st.booleans(),
        capture=st.sampled_from([None, "0.5", "1"]),
        invoice_first=st.booleans(),
        refund=REFUND_SHARES,
    )
    def split_tender_cycle(
        self,
        *,
        customer: str,
        lines: list[Any],
        credit: str,
        wallet: bool,
        capture: str | None,
        invoice_first: bool,
        refund: str | None,
    ) -> Any:
        """Store credit and a card (or wallet) for the rest, captured in part or in
        full, invoiced before or after, then refunded."""
        order = self.place(customer, lines)
        if order is REFUSED:
            return multiple()
        total = order.totals.total
        self.call("grant_store_credit", customer, share(total, credit), reason="gift")
        self.call("pay_with_store_credit", order.id, share(total, credit))
        # _invoke, not call: "method" is an argument of both.
        method = "wallet" if wallet else "card"
        payment = self._invoke(
            "authorize_payment", (self.key(), order.id), {"token": CARD, "method": method}
        )
        if invoice_first and self.call("invoice_order", order.id, "ordered") is not REFUSED:
            self.ordered_basis.add(order.id)
        if payment is not REFUSED:
            self.order_payments[order.id].append(payment.id)
            if capture is not None:
                self.call("capture_payment", payment.id, share(payment.amount, capture))
        if not invoice_first and self.call("invoice_order", order.id, "ordered") is not REFUSED:
            self.ordered_basis.add(order.id)
        self.refund_order(order.id, refund)
        return order.id

    @rule(
        target=EngineMachine.orders,
        customer=st.sampled_from(["big", "big2"]),
        lines=LINES,
        paid=st.sampled_from(["0.5", "1", "1.5"]),
        invoice_first=st.booleans(),
        refund=REFUND_SHARES,
    )
    def bank_transfer_cycle(
        self, customer: str, lines: list[Any], paid: str, invoice_first: bool, refund: str | None
    ) -> Any:
        """An order awaiting a transfer; the customer pays (a part, all, too much)
        quoting the reference; then a refund."""
        order = self.place(customer, lines)
        if order is REFUSED:
            return multiple()
        if invoice_first and self.call("invoice_order", order.id, "ordered") is not REFUSED:
            self.ordered_basis.add(order.id)
        self.bank_transfer(order.id, None, paid)
        if not invoice_first and self.call("invoice_order", order.id, "ordered") is not REFUSED:
            self.ordered_basis.add(order.id)
        self.refund_order(order.id, refund)
        return order.id

    @rule(
        customer=st.sampled_from(["big", "big2"]),
        lines=LINES,
        delivered=st.booleans(),
        how=st.sampled_from(["exact", "exact", "short", "over", "unknown"]),
        fee=st.sampled_from([None, "0.01"]),
    )
    def cod_cycle(
        self, customer: str, lines: list[Any], delivered: bool, how: str, fee: str | None
    ) -> None:
        """A parcel cash on delivery, maybe delivered, and the carrier's remittance."""
        order = self.place(customer, lines)
        if order is REFUSED:
            return
        cod = order.totals.total
        shipment = self.call("ship", order.id, None, cod_amount=cod)
        if shipment is REFUSED:
            return
        if delivered:
            self.call("confirm_delivery", shipment.id)
        amount = {"exact": cod, "short": share(cod, "0.5"), "over": share(cod, "1.5")}.get(how, cod)
        line_id = "SH-999999" if how == "unknown" else shipment.id
        self.remittances += 1
        self.call(
            "record_cod_remittance",
            "dhl",
            f"R-{self.remittances}",
            [(line_id, amount)],
            share(amount, fee) if fee else None,
        )

    @rule(
        picked=st.lists(
            st.tuples(EngineMachine.shipments, st.sampled_from(["1", "1", "0.5", "1.5"])),
            min_size=1,
            max_size=3,
        ),
        fee=st.sampled_from([None, "0.01"]),
    )
    def remit(self, picked: list[tuple[str, str]], fee: str | None) -> None:
        items = []
        for shipment_id, fraction in picked:
            shipment = self.read("shipment", shipment_id)
            base = shipment.cod_amount or self.read("order", shipment.order_id).totals.total
            items.append((shipment_id, share(base, fraction)))
        if len({m.currency for _, m in items}) != 1:
            return
        self.remittances += 1
        money = share(items[0][1], fee) if fee else None
        self.call("record_cod_remittance", "dhl", f"R-{self.remittances}", items, money)

    @invariant()
    def tender_ledgers_agree(self) -> None:
        rec = self.records()
        accounts: list[StoreCreditAccount] = rec[Kind.STORE_CREDIT.value]
        receipts: list[Receipt] = rec[Kind.RECEIPT.value]
        by_tender: dict[str, list[Receipt]] = defaultdict(list)
        for r in receipts:
            if r.tender_id:
                by_tender[r.tender_id].append(r)
        redeemed: dict[str, Money] = {}
        for account in accounts:
            assert account.balance == account.granted - account.redeemed - account.reversed
            assert not account.balance.is_negative()
            for entry in account.entries:
                if entry.kind.value == "redeem":
                    zero = Money.zero(entry.amount.currency)
                    redeemed[entry.reference] = redeemed.get(entry.reference, zero) + entry.amount
        for tender in rec[Kind.TENDER.value]:
            mine = by_tender[tender.id]
            taken = sum((r.amount for r in mine), Money.zero(tender.currency))
            given_back = sum((r.refunded for r in mine), Money.zero(tender.currency))
            assert given_back <= taken
            if tender.method is PaymentMethod.STORE_CREDIT:
                assert taken == tender.amount == redeemed.get(tender.id)
        for ledger in rec[Kind.COD_COLLECTION.value]:
            lines = [
                ln.amount
                for r in rec[Kind.COD_REMITTANCE.value]
                for ln in r.lines
                if ln.shipment_id == ledger.shipment_id and ln.status is not CodStatus.UNKNOWN
            ]
            assert ledger.remitted == sum(lines, Money.zero(ledger.cod_amount.currency))


TenderMachine.TestCase.settings = settings(
    max_examples=40,  # the full engine machine with more rules: heavy, see the module doc
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestTenderMachine = TenderMachine.TestCase
