"""Properties of invoices: totals reconcile, settlements conserve money, states follow the table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from o2c.errors import (
    CreditExceedsInvoiceError,
    DiscountExceedsOfferError,
    DiscountNotAvailableError,
    InvalidTransitionError,
    InvoiceStateError,
    OverApplicationError,
    OverInvoicingError,
    UnapplyExceedsAppliedError,
    VoidNotAllowedError,
)
from o2c.events import DomainEvent, InvoiceStateChanged
from o2c.invoices import (
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoicingBasis,
    credit_invoice,
    invoice_lines_from_order,
)
from o2c.lifecycles import INVOICE_WORKFLOW, InvoiceEvent, InvoiceState
from o2c.money import Money, minor_units
from o2c.pricing import RoundingPolicy, TaxRate, TaxRounding
from o2c.terms import DueRule, PaymentTerms, instalments, two_ten_net_thirty

NOW = datetime(2024, 1, 1, tzinfo=UTC)
CURRENCIES = ("JPY", "EUR", "KWD")
RATES = (
    TaxRate("ZERO", Decimal(0), category="Z"),
    TaxRate("VAT7", Decimal(7)),
    TaxRate("VAT19", Decimal(19)),
    TaxRate("VAT5.5", Decimal("5.5")),
)


@st.composite
def invoice_lines(draw: st.DrawFn, currency: str) -> list[InvoiceLine]:
    count = draw(st.integers(1, 5))
    result = []
    for i in range(count):
        price = Money.from_minor_units(draw(st.integers(0, 10**7)), currency)
        quantity = draw(st.decimals("0.001", "50", places=3))
        discount = draw(st.sampled_from([Decimal(0), Decimal(10), Decimal("12.5"), Decimal(100)]))
        result.append(
            InvoiceLine(
                line_id=f"l{i}",
                sku=f"S{i}",
                description="x",
                quantity=quantity,
                unit_price=price,
                discount_percent=discount,
                tax_rates=(draw(st.sampled_from(RATES)),),
            )
        )
    return result


policies = st.builds(RoundingPolicy, tax=st.sampled_from(list(TaxRounding)))


@given(st.data())
def test_totals_reconcile_with_lines(data: st.DataObject) -> None:
    currency = data.draw(st.sampled_from(CURRENCIES))
    lines = data.draw(invoice_lines(currency))
    policy = data.draw(policies)
    inv = Invoice(
        id="i",
        customer_id="c",
        currency=currency,
        lines=lines,
        terms=two_ten_net_thirty(),
        rounding=policy,
    )
    zero = Money.zero(currency)
    assert inv.total == inv.net + inv.tax
    assert sum((b.tax for b in inv.tax_breakdown), zero) == inv.tax
    # Each line has exactly one rate, so the bases partition the net amount.
    assert sum((b.base for b in inv.tax_breakdown), zero) == inv.net
    assert inv.total.is_rounded()
    unit = Fraction(1, 10 ** minor_units(currency))
    for b in inv.tax_breakdown:
        exact = Fraction(b.base.amount) * Fraction(b.rate.percent) / 100
        # One rounding per line (or one per rate) keeps the tax close to the exact tax.
        lines_with_rate = sum(1 for line in lines if line.tax_rates[0].code == b.rate.code)
        assert abs(Fraction(b.tax.amount) - exact) <= unit / 2 * lines_with_rate
    issued, _ = inv.issue("N1", date(2024, 2, 29), NOW)
    assert sum((i.amount for i in issued.schedule), zero) == issued.total


# --------------------------------------------------------------------------- the state machine


class InvoiceLifecycle(RuleBasedStateMachine):
    """Random settlements against a model of the ledgers; invariants after every step."""

    invoice: Invoice
    zero: Money

    def __init__(self) -> None:
        super().__init__()
        self.applied: dict[str, int] = {}
        self.credited = 0
        self.written_off = 0
        self.discount = 0
        self.notes = 0
        self.states: list[InvoiceState] = []

    @initialize(
        currency=st.sampled_from(CURRENCIES),
        units=st.lists(st.integers(1, 5000), min_size=1, max_size=3),
        split=st.booleans(),
        day=st.integers(0, 365 * 4),
    )
    def issue(self, currency: str, units: list[int], split: bool, day: int) -> None:
        lines = [
            InvoiceLine(
                line_id=f"l{i}",
                sku="S",
                description="x",
                quantity=Decimal(1),
                unit_price=Money.from_minor_units(u, currency),
                tax_rates=(RATES[i % len(RATES)],),
            )
            for i, u in enumerate(units)
        ]
        terms: PaymentTerms = two_ten_net_thirty()
        if split:
            terms = instalments(
                [DueRule.days(0), DueRule.months(1), DueRule.months(2)],
                discounts=two_ten_net_thirty().discounts,
            )
        draft = Invoice(id="inv", customer_id="c", currency=currency, lines=lines, terms=terms)
        self.zero = Money.zero(currency)
        self.issue_date = date(2023, 1, 1) + timedelta(days=day)
        self.states.append(draft.state)
        self.invoice = self._step(draft, draft.issue("N1", self.issue_date, NOW))

    # -- helpers ------------------------------------------------------------------

    def _units(self, money: Money) -> int:
        return money.in_minor_units()

    def _money(self, units: int) -> Money:
        return Money.from_minor_units(units, self.zero.currency)

    @property
    def total(self) -> int:
        return self._units(self.invoice.total)

    @property
    def model_open(self) -> int:
        return (
            self.total
            - sum(self.applied.values())
            - self.credited
            - self.written_off
            - self.discount
        )

    def _is_open(self) -> bool:
        return self.invoice.state in {
            InvoiceState.ISSUED,
            InvoiceState.PARTIALLY_PAID,
            InvoiceState.PAID,
        }

    def _step(self, before: Invoice, result: tuple[Invoice, tuple[DomainEvent, ...]]) -> Invoice:
        after, events = result
        state = before.state
        for event in events:
            assert event.aggregate_id == before.id
            if isinstance(event, InvoiceStateChanged):
                assert event.previous == state.value
                state = INVOICE_WORKFLOW.apply(state, InvoiceEvent(event.trigger))
                assert state.value == event.current
                self.states.append(state)
        assert state is after.state
        return after

    def _amount(self, units: int, use_open: bool) -> int:
        return self.model_open if use_open and self.model_open > 0 else units

    # -- rules --------------------------------------------------------------------

    @rule(
        units=st.integers(1, 20000),
        use_open=st.booleans(),
        ref=st.sampled_from(["p1", "p2", "p3"]),
    )
    def pay(self, units: int, use_open: bool, ref: str) -> None:
        amount = self._amount(units, use_open)
        if not self._is_open():
            with pytest.raises(InvoiceStateError):
                self.invoice.apply_payment(self._money(amount), ref, NOW)
        elif amount > self.model_open:
            with pytest.raises(OverApplicationError):
                self.invoice.apply_payment(self._money(amount), ref, NOW)
        else:
            result = self.invoice.apply_payment(self._money(amount), ref, NOW)
            self.invoice = self._step(self.invoice, result)
            self.applied[ref] = self.applied.get(ref, 0) + amount

    @rule(units=st.integers(1, 20000), everything=st.booleans(), ref=st.sampled_from(["p1", "p2"]))
    def unapply(self, units: int, everything: bool, ref: str) -> None:
        had = self.applied.get(ref, 0)
        amount = had if everything and had else units
        if not self._is_open():
            with pytest.raises(InvoiceStateError):
                self.invoice.unapply_payment(self._money(amount), ref, NOW)
        elif amount > had:
            with pytest.raises(UnapplyExceedsAppliedError):
                self.invoice.unapply_payment(self._money(amount), ref, NOW)
        else:
            result = self.invoice.unapply_payment(self._money(amount), ref, NOW)
            self.invoice = self._step(self.invoice, result)
            self.applied[ref] = had - amount

    @rule(units=st.integers(1, 300), use_open=st.booleans(), days=st.integers(0, 15))
    def take_discount(self, units: int, use_open: bool, days: int) -> None:
        amount = self._amount(units, use_open)
        paid_on = self.issue_date + timedelta(days=days)
        # Independent model of "2 % within 10 days", rounded half up.
        offer = (self.total * 2 + 50) // 100
        call = (self._money(amount), paid_on, NOW)
        if not self._is_open():
            with pytest.raises(InvoiceStateError):
                self.invoice.take_discount(*call)
        elif days > 10:
            with pytest.raises(DiscountNotAvailableError):
                self.invoice.take_discount(*call)
        elif self.discount + amount > offer:
            with pytest.raises(DiscountExceedsOfferError):
                self.invoice.take_discount(*call)
        elif amount > self.model_open:
            with pytest.raises(OverApplicationError):
                self.invoice.take_discount(*call)
        else:
            self.invoice = self._step(self.invoice, self.invoice.take_discount(*call))
            self.discount += amount

    @rule(units=st.integers(1, 20000), use_open=st.booleans())
    def credit(self, units: int, use_open: bool) -> None:
        amount = self._amount(units, use_open)
        self.notes += 1
        note = CreditNote(
            id=f"cn{self.notes}",
            number=f"CN{self.notes}",
            invoice_id="inv",
            currency=self.zero.currency,
            lines=[
                InvoiceLine(
                    line_id="1",
                    sku="S",
                    description="credit",
                    quantity=Decimal(1),
                    unit_price=self._money(amount),
                )
            ],
            reason="adjustment",
            issue_date=self.issue_date,
        )
        creditable = self.total - self.credited - self.written_off - self.discount
        if not self._is_open():
            with pytest.raises(InvoiceStateError):
                credit_invoice(self.invoice, note, NOW)
        elif amount > creditable:
            with pytest.raises(CreditExceedsInvoiceError):
                credit_invoice(self.invoice, note, NOW)
        else:
            open_before = self.model_open
            outcome = credit_invoice(self.invoice, note, NOW)
            self.invoice = self._step(self.invoice, (outcome.invoice, outcome.events))
            assert self._units(outcome.released_total) == max(0, amount - open_before)
            for released in outcome.released:
                self.applied[released.payment_ref] -= self._units(released.amount)
                assert self.applied[released.payment_ref] >= 0
            self.credited += amount

    @rule(units=st.integers(1, 20000), use_open=st.booleans())
    def write_off(self, units: int, use_open: bool) -> None:
        amount = self._amount(units, use_open)
        if not self._is_open():
            with pytest.raises(InvoiceStateError):
                self.invoice.write_off(self._money(amount), "residual", NOW)
        elif amount > self.model_open:
            with pytest.raises(OverApplicationError):
                self.invoice.write_off(self._money(amount), "residual", NOW)
        else:
            result = self.invoice.write_off(self._money(amount), "residual", NOW)
            self.invoice = self._step(self.invoice, result)
            self.written_off += amount

    @rule()
    def void(self) -> None:
        settled = sum(self.applied.values()) + self.credited + self.written_off + self.discount
        if settled:
            with pytest.raises(VoidNotAllowedError):
                self.invoice.void(NOW)
        elif self.invoice.state is not InvoiceState.ISSUED:
            with pytest.raises(InvalidTransitionError):
                self.invoice.void(NOW)
        else:
            self.invoice = self._step(self.invoice, self.invoice.void(NOW))

    # -- invariants ---------------------------------------------------------------

    @invariant()
    def money_is_conserved(self) -> None:
        inv = self.invoice
        assert inv.open_amount == (
            inv.total - inv.applied - inv.credited - inv.written_off - inv.discount_taken
        )
        assert not inv.open_amount.is_negative()
        assert self._units(inv.open_amount) == self.model_open
        assert self._units(inv.applied) == sum(self.applied.values())
        for ref, units in self.applied.items():
            assert self._units(inv.applied_by(ref)) == units
        assert self._units(inv.credited) == self.credited
        assert self._units(inv.written_off) == self.written_off
        assert self._units(inv.discount_taken) == self.discount

    @invariant()
    def credit_notes_never_exceed_the_invoice(self) -> None:
        inv = self.invoice
        assert inv.credited + inv.written_off + inv.discount_taken <= inv.total
        assert not inv.creditable_amount.is_negative()

    @invariant()
    def the_state_follows_the_open_amount(self) -> None:
        inv = self.invoice
        open_units = self.model_open
        if inv.state is InvoiceState.WRITTEN_OFF:
            assert open_units == 0
            assert self.written_off > 0
        elif inv.state is InvoiceState.VOID:
            assert open_units == self.total
        elif open_units == 0:
            assert inv.state is InvoiceState.PAID
        elif open_units == self.total:
            assert inv.state is InvoiceState.ISSUED
        else:
            assert inv.state is InvoiceState.PARTIALLY_PAID
        # Every state reached was reached through the table (checked in _step).
        assert self.states[-1] is inv.state
        assert all(s in set(InvoiceState) for s in self.states)


TestInvoiceLifecycle = InvoiceLifecycle.TestCase


# --------------------------------------------------------------------------- billing orders


@attrs.frozen
class _OrderLine:
    line_id: str
    quantity: Decimal
    shipped: Decimal
    invoiced: Decimal
    cancelled: Decimal
    unit_price: Money
    discount_amount: Money | None
    sku: str = "S"
    description: str = "x"
    discount_percent: Decimal = Decimal(0)
    tax_rates: tuple[TaxRate, ...] = ()


@given(
    quantity=st.integers(1, 40),
    cancelled=st.integers(0, 10),
    chunks=st.lists(st.integers(1, 7), min_size=1, max_size=12),
    discount_units=st.integers(0, 10**6),
    currency=st.sampled_from(CURRENCIES),
    basis=st.sampled_from(list(InvoicingBasis)),
)
def test_billing_an_order_line_in_chunks_never_overbills_and_carries_the_discount(
    *,
    quantity: int,
    cancelled: int,
    chunks: list[int],
    discount_units: int,
    currency: str,
    basis: InvoicingBasis,
) -> None:
    cancelled = min(cancelled, quantity - 1)
    due = quantity - cancelled
    discount = Money.from_minor_units(discount_units, currency)
    price = Money.from_minor_units(10**6 + discount_units, currency)
    line = _OrderLine(
        "a",
        Decimal(quantity),
        Decimal(due),
        Decimal(0),
        Decimal(cancelled),
        price,
        discount,
    )
    billed_discount = Money.zero(currency)
    for chunk in chunks:
        billable = due - int(line.invoiced)
        if chunk > billable:
            with pytest.raises(OverInvoicingError):
                invoice_lines_from_order([line], basis, quantities={"a": chunk})
            continue
        (bill,) = invoice_lines_from_order([line], basis, quantities={"a": chunk})
        assert bill.quantity == chunk
        assert bill.discount_amount is not None
        assert not bill.discount_amount.is_negative()
        billed_discount = billed_discount + bill.discount_amount
        line = attrs.evolve(line, invoiced=line.invoiced + chunk)
    rest = invoice_lines_from_order([line], basis)
    for bill in rest:
        assert bill.quantity == due - line.invoiced
        assert bill.discount_amount is not None
        billed_discount = billed_discount + bill.discount_amount
    # Whatever the chunks, billing the whole line carries exactly its fixed discount.
    assert billed_discount == discount
    done = attrs.evolve(line, invoiced=Decimal(due))
    assert invoice_lines_from_order([done], basis) == ()
