"""A small scripted order-to-cash cycle on the pure domain (what ``o2c demo`` runs).

It drives one B2B order through credit (a hold, then an audited override), two
partial shipments, two invoices, a full payment, a short payment that opens a
deduction dispute resolved by a write-off, and closes the order, checking the
conservation laws on the way. Every step prints what happened and why.

The engine, storage and the full simulation arrive in later releases; this script
shows the domain model they are built on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from o2c import cash, credit, disputes, invoices, orders, terms
from o2c.customers import Address, Customer
from o2c.events import DomainEvent
from o2c.money import Money
from o2c.pricing import TaxRate

__all__ = ["run"]

Print = Callable[[str], None]


def _eur(text: str) -> Money:
    return Money(text, "EUR")


def run(out: Print = print) -> dict[str, object]:  # noqa: PLR0915 - a script, read top down
    """Run the scripted cycle, printing a narrative through ``out``.

    Returns:
        A summary (states and amounts) that the tests check.
    """
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    log: list[DomainEvent] = []
    ev: tuple[DomainEvent, ...]

    def step(title: str) -> None:
        out(f"\n== {title}")

    def record(events: tuple[DomainEvent, ...]) -> None:
        log.extend(events)
        for e in events:
            out(f"   event {e.name}")

    address = Address(name="Acme GmbH", lines=("Hauptstr. 1",), city="Berlin", country="DE")
    customer = Customer(
        id="C-ACME",
        name="Acme GmbH",
        currency="EUR",
        billing_address=address,
        shipping_addresses=(address,),
        payment_terms="NET30",
        credit_limit=_eur("10000.00"),
        bank_accounts=("DE89 3704 0044 0532 0130 00",),
        locale="de_DE",
    )
    net30 = terms.net(30)
    vat19 = TaxRate("DE-19", Decimal(19))
    vat7 = TaxRate("DE-7", Decimal(7))

    step("1. Capture the order")
    order, ev = orders.new_order(
        order_id="SO-1001",
        customer=customer,
        lines=[
            orders.OrderLine(
                line_id="1",
                sku="WIDGET",
                description="Widget, blue",
                quantity=Decimal(10),
                unit_price=_eur("49.90"),
                discount_percent=Decimal(5),
                tax_rates=(vat19,),
            ),
            orders.OrderLine(
                line_id="2",
                sku="MANUAL",
                description="Printed manual",
                quantity=Decimal(2),
                unit_price=_eur("15.00"),
                tax_rates=(vat7,),
            ),
        ],
        shipping_address=address,
        now=now,
    )
    record(ev)
    t = order.totals
    out(
        f"   net {t.net.format('de_DE')}, tax {t.tax.format('de_DE')},"
        f" total {t.total.format('de_DE')}"
    )
    order, ev = orders.place(order, now)
    record(ev)

    step("2. Credit check: 9,500 EUR already open, limit 10,000 EUR")
    exposure = credit.Exposure.of(
        "C-ACME",
        "EUR",
        {credit.ExposureComponent.OPEN_RECEIVABLES: _eur("9500.00")},
    )
    profile = credit.CreditProfile(
        customer_id="C-ACME", currency="EUR", limit=customer.credit_limit
    )
    request = credit.CreditRequest(
        order_id=order.id,
        customer_id=customer.id,
        amount=t.total,
        requested_at=now,
        facts=credit.CreditFacts(profile=profile, exposure=exposure),
    )
    decision, ev = credit.check_credit(credit.CreditPolicy.default(), request, now)
    record(ev)
    for line in decision.explain():
        out(f"   {line}")
    order, ev = orders.hold(order, orders.HoldKind.CREDIT, "over the credit limit", "policy", now)
    record(ev)
    decision, ev = credit.apply_override(
        decision,
        credit.CreditOverride(
            by="maria.cfo", reason="paid on time for 6 years", at=now, authority="cfo"
        ),
    )
    record(ev)
    order, ev = orders.override(order, "maria.cfo", "paid on time for 6 years", now)
    record(ev)
    out(f"   order is {order.state.value}, decision {decision.outcome.value} (overridden)")

    def ship_and_invoice(qty: dict[str, int], number: str, day: int) -> invoices.Invoice:
        nonlocal order
        ev: tuple[DomainEvent, ...]
        when = now + timedelta(days=day)
        order, ev = orders.record_shipment(order, qty, when)
        record(ev)
        lines = invoices.invoice_lines_from_order(
            order.lines, invoices.InvoicingBasis.SHIPPED, quantities=qty
        )
        draft = invoices.Invoice(
            id=f"inv-{number}",
            customer_id=customer.id,
            currency="EUR",
            lines=lines,
            terms=net30,
            order_id=order.id,
        )
        invoice, ev = draft.issue(number, when.date(), when)
        record(ev)
        order, ev = orders.record_invoiced(order, qty, when)
        record(ev)
        out(
            f"   invoice {number}: {invoice.total.format('de_DE')},"
            f" due {invoice.due_date}; order shipment {order.shipment_status.value}"
        )
        return invoice

    step("3. Ship 6 widgets and the manuals; invoice what shipped")
    inv1 = ship_and_invoice({"1": 6, "2": 2}, "INV-2026-0001", 1)
    step("4. Ship the backordered 4 widgets; invoice them")
    inv2 = ship_and_invoice({"1": 4}, "INV-2026-0002", 8)
    order, ev = orders.record_delivery(order, {"1": 10, "2": 2}, now + timedelta(days=10))
    record(ev)

    step("5. A bank transfer pays the first invoice in full")
    paid_at = now + timedelta(days=20)
    receipt1, ev = cash.receive_cash(
        receipt_id="R-1",
        amount=inv1.open_amount,
        method="bank_transfer",
        received_at=paid_at,
        reference="INV-2026-0001",
        customer_id=customer.id,
    )
    record(ev)
    receipt1, ev = receipt1.allocate(inv1.id, inv1.open_amount, inv1.open_amount, paid_at)
    record(ev)
    inv1, ev = inv1.apply_payment(inv1.open_amount, "R-1", paid_at)
    record(ev)
    out(f"   {inv1.number} is {inv1.state.value}")

    step("6. The second invoice is paid 20 EUR short: a deduction is opened")
    short = _eur("20.00")
    received = inv2.open_amount - short
    receipt2, ev = cash.receive_cash(
        receipt_id="R-2",
        amount=received,
        method="bank_transfer",
        received_at=paid_at,
        reference="INV-2026-0002 less damaged box",
        customer_id=customer.id,
    )
    record(ev)
    receipt2, ev = receipt2.allocate(inv2.id, received, inv2.open_amount, paid_at)
    record(ev)
    inv2, ev = inv2.apply_payment(received, "R-2", paid_at)
    record(ev)
    dispute, ev = disputes.open_deduction(
        "D-1",
        customer_id=customer.id,
        invoice_id=inv2.id,
        short_amount=short,
        now=paid_at,
        respond_by=paid_at + timedelta(days=14),
        reason=disputes.DisputeReason.DAMAGED_GOODS,
    )
    record(ev)
    out(f"   {inv2.number} open {inv2.open_amount.format('de_DE')}; dispute {dispute.state}")

    step("7. We accept the deduction and write the 20 EUR off")
    settled_at = paid_at + timedelta(days=3)
    dispute, ev = disputes.accept(dispute, now=settled_at, note="photos confirm the damage")
    record(ev)
    dispute, ev = disputes.resolve(
        dispute, disputes.Resolution.WRITE_OFF, now=settled_at, amount=short
    )
    record(ev)
    inv2, ev = inv2.write_off(short, "deduction D-1 accepted", settled_at)
    record(ev)
    out(f"   {inv2.number} is {inv2.state.value}; dispute {dispute.state}")

    step("8. Close the order and check the books")
    order, ev = orders.complete(order, settled_at)
    record(ev)
    summaries = cash.summarize([receipt1, receipt2])
    for s in summaries:
        cash.assert_conserved(s)
        out(
            f"   cash {s.currency}: received {s.received}, applied {s.applied},"
            f" unapplied {s.unapplied}, refunded {s.refunded} (conserved)"
        )
    open_total = inv1.open_amount + inv2.open_amount
    out(f"   order {order.state.value}; open receivables {open_total}; {len(log)} events")
    return {
        "order_state": order.state.value,
        "invoice_states": (inv1.state.value, inv2.state.value),
        "open_total": open_total,
        "events": len(log),
        "received": summaries[0].received,
        "invoiced": inv1.total + inv2.total,
        "written_off": inv2.written_off,
        "issue_dates": (inv1.issue_date, inv2.issue_date),
        "first_due": inv1.due_date or date.min,
    }
