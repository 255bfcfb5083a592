"""Noisy cash-application scenarios with ground truth (seeded, reproducible).

    python benchmarks/cashapp/generator.py --lines 2000 --seed 7 --out /tmp/cashapp

writes ``OPEN_ITEMS.csv`` (the ``o2c match`` contract), ``statement.csv`` (the
statement CSV columns), ``groups.csv`` (parent -> subsidiaries) and ``truth.csv``:
one row per true allocation ``line_id, kind, determined, invoice_number, amount``
(a line that should apply nothing has one row with an empty invoice number).

The seller numbers its invoices densely (``INV-2025-004711``), so a typo often names
another real invoice. Customers pay from known accounts, from new ones, by name only,
through a parent company or a stranger; some are subscriptions (many open items of the
same amount), some bill in USD, GBP or CHF. Every kind of line is listed in
:data:`KINDS` with its share and whether its own data *determines* the answer.

**Determined** means: one answer fits, vouched for by two independent pieces of
evidence in the line itself: the reference and the amount, the reference and the
payer's account, or the payer's account and an amount that only one of that payer's
open items (or one set of at most five of them) adds up to. A name is not an account,
a typo is not a reference, and a reference whose amount does not fit, from a stranger,
is one piece only. Scenarios where the line's data contradicts itself (a typo that
names another open invoice) or fits several answers are not determined; the engine
should then suggest, with the truth among its suggestions.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks.cashapp` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.cashapp.world import (
    DEDUCTION,
    FIRST,
    FORMS,
    GENERIC,
    SECOND,
    STRANGERS,
    UNRELATED,
    Customer,
    Invoice,
    Line,
    Scenario,
    count_sums,
    german,
    iban,
    money,
)

__all__ = ["KINDS", "Scenario", "generate", "write"]

STATEMENT_COLUMNS = (
    "line_id",
    "booking_date",
    "amount",
    "currency",
    "counterparty_name",
    "counterparty_iban",
    "remittance_info",
    "end_to_end_id",
)
OPEN_ITEMS_COLUMNS = (
    "invoice_number",
    "customer_id",
    "customer_name",
    "customer_iban",
    "currency",
    "amount_open",
    "invoice_date",
    "due_date",
    "discount_percent",
    "discount_until",
)
TRUTH_COLUMNS = ("line_id", "kind", "determined", "invoice_number", "amount")

#: kind -> share of lines (relative). Whether a line is determined is decided per line.
KINDS: dict[str, int] = {
    "reference": 22,  # one invoice quoted in any formatting, exact amount
    "reference_rf": 4,  # ISO 11649 RF reference in the text
    "no_reference": 8,  # known account, exact amount, nothing quoted
    "multi_reference": 7,  # several invoices quoted, the sum paid (discounts taken)
    "multi_no_reference": 4,  # known account, a sum of 2-3 invoices, nothing quoted
    "partial": 4,  # quoted, 20-80 % paid, known account
    "partial_stranger": 1,  # quoted, partly paid, by someone unknown
    "discount": 6,  # quoted, early-payment discount taken in time (a third on the last day)
    "discount_expired": 2,  # quoted, discount taken after its last day (a short payment)
    "fee": 4,  # quoted, a bank fee within the tolerance deducted
    "overpayment": 3,  # quoted, paid more than open, known account
    "third_party": 4,  # a stranger pays with the reference, exact amount
    "parent_pays": 3,  # the parent company's account pays subsidiaries' invoices
    "typo_other_invoice": 2,  # a typo that names another open invoice
    "typo_no_invoice": 2,  # a typo that names nothing, known account
    "ambiguous_amount": 3,  # known account, two open items of the same amount
    "amount_only": 3,  # a stranger, no reference, an amount some invoice has
    "name_only": 3,  # a new account, the customer's name, exact amount, no reference
    "split_payment": 3,  # two lines pay one invoice (many-to-one)
    "deduction": 2,  # quoted, short with a reason ("less 40.00 damaged goods")
    "duplicate_payment": 1,  # the same invoice paid twice: the second applies nothing
    "unrelated": 4,  # nothing to do with any invoice
    "outgoing": 5,  # money out
    "wrong_currency": 2,  # quotes an invoice, but in another currency
}

#: Kinds that quote their one invoice (the end-to-end id may repeat it).
_QUOTING = frozenset(
    {"reference", "partial", "discount", "discount_expired", "fee", "overpayment", "third_party",
     "deduction", "split_payment"}
)  # fmt: skip
_CURRENCIES = (("EUR", 80), ("USD", 10), ("GBP", 5), ("CHF", 5))
#: The statement is one EUR account (a statement has one currency); customers billed in
#: other currencies who pay into it in EUR must not be matched.
ACCOUNT_CURRENCY = "EUR"
PERIOD_START = date(2026, 3, 2)


class _Gen:
    def __init__(self, lines: int, invoices: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.target_lines = lines
        self.target_invoices = max(invoices, lines * 2)
        self.customers: list[Customer] = []
        self.invoices: list[Invoice] = []
        self.by_customer: dict[str, list[Invoice]] = {}
        self.groups: dict[str, list[str]] = {}
        self.lines: list[Line] = []
        self.pending: list[Line] = []
        self.by_number: dict[str, Invoice] = {}
        self.all_keys: set[str] = set()
        self.parents: list[str] = []
        self.by_id: dict[str, Customer] = {}

    # -- master data -------------------------------------------------------------------

    def make_customers(self) -> None:
        rng = self.rng
        count = max(30, self.target_invoices // 8)
        names: set[str] = set()
        currencies = [c for c, _ in _CURRENCIES]
        weights = [w for _, w in _CURRENCIES]
        for n in range(count):
            while True:
                name = f"{rng.choice(FIRST)} {rng.choice(SECOND)}"
                if rng.random() < 0.4:
                    name += (
                        f" {rng.choice(('Nord', 'Süd', 'Ost', 'West', 'International', str(n)))}"
                    )
                if name not in names:
                    names.add(name)
                    break
            form = rng.choice(FORMS)
            self.customers.append(
                Customer(
                    id=f"C{n:06d}",
                    name=f"{name} {form}".strip(),
                    iban=iban(rng),
                    currency=rng.choices(currencies, weights)[0],
                    subscription=rng.random() < 0.08,
                )
            )
        # groups: a parent pays for two or three subsidiaries
        eur = [c for c in self.customers if c.currency == "EUR"]
        rng.shuffle(eur)
        for k in range(max(2, len(eur) // 40)):
            parent, *members = eur[k * 4 : k * 4 + rng.choice((3, 4))]
            if not members:
                break
            self.groups[parent.id] = [m.id for m in members]
            for m in members:
                m.parent = parent.id
        self.parents = sorted(self.groups)
        self.by_id = {c.id: c for c in self.customers}

    def invoice(self, customer: Customer, cents: int | None = None, *, age: int | None = None,
                booking: date | None = None, discount: bool | None = None) -> Invoice:  # fmt: skip
        rng = self.rng
        booking = booking or PERIOD_START
        if cents is None:
            if customer.subscription and self.by_customer.get(customer.id):
                cents = self.by_customer[customer.id][0].cents
            elif rng.random() < 0.1:
                cents = rng.choice((5000, 10000, 25000, 50000, 100000, 19900, 4900))
            else:
                cents = int(10 ** rng.uniform(3.3, 6.3))
        days = age if age is not None else rng.randint(5, 120)
        inv = Invoice(len(self.invoices), customer, cents, booking - timedelta(days=days))
        if discount if discount is not None else rng.random() < 0.2:
            inv.discount_percent = Decimal(rng.choice((2, 3, "1.5")))
            inv.discount_until = inv.invoice_date + timedelta(days=10)
        self.invoices.append(inv)
        self.by_customer.setdefault(customer.id, []).append(inv)
        return inv

    def customer(self, *, currency: str | None = None, small: bool = False,
                 subscription: bool | None = None) -> Customer:  # fmt: skip
        pool = self.customers
        for _ in range(200):
            c = self.rng.choice(pool)
            if currency and c.currency != currency:
                continue
            if subscription is not None and c.subscription != subscription:
                continue
            if small and len(self.by_customer.get(c.id, ())) > 12:
                continue
            return c
        return self.rng.choice([c for c in pool if not currency or c.currency == currency])

    @staticmethod
    def discount_on(inv: Invoice, booking: date) -> int:
        """The discount a payment booked that day may take."""
        valid = inv.discount_until is not None and booking <= inv.discount_until
        return inv.discount_cents() if valid else 0

    def sums(self, invs: list[Invoice], cents: int, booking: date) -> int:
        """How many sets of 2..5 invoices add up to ``cents`` (all paid in full, or all
        less the discounts still valid), capped at 2."""
        full = count_sums([i.cents for i in invs], cents, 5)
        nets = [i.cents - self.discount_on(i, booking) for i in invs]
        if nets == [i.cents for i in invs]:
            return full
        return min(2, full + count_sums(nets, cents, 5))

    # -- payer and text noise ------------------------------------------------------------

    def payer_name(self, customer: Customer) -> str:
        rng = self.rng
        name = customer.name
        roll = rng.random()
        if roll < 0.3:
            name = name.upper()
        elif roll < 0.45:
            name = name.replace("ü", "ue").replace("ä", "ae").replace("ö", "oe").replace("è", "e")
        elif roll < 0.6:
            for form in FORMS:
                if form and name.endswith(form):
                    name = name[: -len(form)].strip()
                    break
        return name[:35]

    def ref_text(self, inv: Invoice) -> str:
        rng = self.rng
        number = inv.number  # INV-2025-004711
        _, year, serial = number.split("-")
        short = serial.lstrip("0") or "0"
        styles = (
            number, number.lower(), f"INV{year}{serial}", f"INV {year} {serial}",
            f"inv-{year}-{short}", f"{year}-{serial}", f"{year}{serial}", f"Invoice {year}/{short}",
            f"RE {number}", f"#{number}", f"INV {year}-{short}", f"Inv.{year}.{serial}",
        )  # fmt: skip
        return rng.choice(styles)

    def wrap(self, refs: str, customer: Customer | None = None, booking: date | None = None,
             cents: int | None = None) -> str:  # fmt: skip
        rng = self.rng
        when = (booking or PERIOD_START).strftime("%d.%m.%Y")
        templates = [
            "{refs}", "Invoice {refs}", "Payment {refs} thank you", "Rechnung {refs} vom {date}",
            "{refs} PO 4500{po}", "Ref: {refs}", "{refs} / {amount}", "Zahlung {refs}",
        ]  # fmt: skip
        if customer is not None:
            templates.append("Kd-Nr {cust} {refs}")
        text = rng.choice(templates)
        return text.format(
            refs=refs,
            date=when,
            po=rng.randint(100000, 999999),
            cust=customer.id[1:] if customer else "",
            amount=german(cents or 0),
        )

    def generic(self, customer: Customer | None, booking: date) -> str:
        text = self.rng.choice(GENERIC)
        return text.format(
            po=self.rng.randint(100000, 999999),
            cust=customer.id[1:] if customer else "",
            date=booking.strftime("%d.%m.%Y"),
        )

    def known(self, line: Line, customer: Customer) -> Line:
        line.iban = customer.iban
        line.name = self.payer_name(customer)
        return line

    def stranger(self, line: Line) -> Line:
        line.iban = iban(self.rng)
        line.name = self.rng.choice(STRANGERS)
        return line

    # -- scenarios ----------------------------------------------------------------------

    def build(self) -> None:
        self.make_customers()
        rng = self.rng
        kinds = list(KINDS)
        weights = [KINDS[k] for k in kinds]
        plans: list[str] = []
        while len(plans) < self.target_lines:
            kind = rng.choices(kinds, weights)[0]
            plans.append(kind)
            if kind in ("split_payment", "duplicate_payment"):
                plans.append("")  # the second line of the pair
        plans = plans[: self.target_lines]
        days = 26
        for k, kind in enumerate(plans):
            if not kind:
                continue
            booking = PERIOD_START + timedelta(days=k * days // max(1, len(plans)))
            getattr(self, f"make_{kind}")(booking)
        # fillers: open invoices nobody pays in this statement
        while len(self.invoices) < self.target_invoices:
            self.invoice(self.customer())
        self.number()
        self.render()

    def new(self, kind: str, booking: date, cents: int, currency: str) -> Line:
        line = Line(kind, booking, cents, currency)
        self.lines.append(line)
        return line

    def _one(self, booking: date, *, currency: str | None = None, small: bool = False,
             discount: bool | None = None) -> tuple[Customer, Invoice]:  # fmt: skip
        customer = self.customer(currency=currency or ACCOUNT_CURRENCY, small=small)
        inv = self.invoice(customer, booking=booking, discount=discount)
        inv.reserved = True
        return customer, inv

    def _quoted(self, line: Line, invs: list[Invoice], customer: Customer | None) -> None:
        def render() -> str:
            refs = [self.ref_text(i) for i in invs]
            joined = refs[0] if len(refs) == 1 else self.rng.choice((", ", " ", "; ")).join(refs)
            return self.wrap(joined, customer, line.booking_date, line.cents)

        line.render = render

    def make_reference(self, booking: date) -> None:
        customer, inv = self._one(booking)
        line = self.new("reference", booking, inv.cents, customer.currency)
        roll = self.rng.random()
        if roll < 0.6:
            self.known(line, customer)
        elif roll < 0.85:
            line.iban = iban(self.rng)
            line.name = self.payer_name(customer)
        else:
            self.stranger(line)
        self._quoted(line, [inv], customer)
        line.truth = [(inv, inv.cents)]
        line.determined = True

    def make_reference_rf(self, booking: date) -> None:
        from o2c.matching.references import rf_reference  # noqa: PLC0415

        customer, inv = self._one(booking)
        line = self.known(self.new("reference_rf", booking, inv.cents, customer.currency), customer)

        def render() -> str:
            rf = rf_reference(inv.number)
            if self.rng.random() < 0.5:
                rf = " ".join(rf[i : i + 4] for i in range(0, len(rf), 4))
            return rf

        line.render = render
        line.truth = [(inv, inv.cents)]
        line.determined = True

    def _unique_for(self, customer: Customer, cents: int, booking: date, currency: str) -> bool:
        """Only one open item, or one set of at most five, of the customer fits."""
        if customer.currency != currency:
            return False
        invs = self.by_customer.get(customer.id, [])
        singles = 0
        for inv in invs:
            net = inv.cents - self.discount_on(inv, booking)
            singles += (inv.cents == cents) + (net == cents and net != inv.cents)
        if singles != 1 or len(invs) > 30:
            return False
        return self.sums(invs, cents, booking) == 0

    def make_no_reference(self, booking: date) -> None:
        customer = self.customer(currency=ACCOUNT_CURRENCY, small=True)
        # Without a reference, customers pay their oldest invoice first (FIFO).
        inv = self.invoice(customer, booking=booking, age=150 if customer.subscription else None)
        inv.reserved = True
        line = self.known(self.new("no_reference", booking, inv.cents, customer.currency), customer)
        line.render = lambda: self.generic(customer, booking)
        line.truth = [(inv, inv.cents)]
        line.check = lambda: self._unique_for(customer, inv.cents, booking, customer.currency)

    def make_multi_reference(self, booking: date) -> None:
        customer = self.customer(currency=ACCOUNT_CURRENCY)
        invs = [
            self.invoice(customer, booking=booking, discount=None)
            for _ in range(self.rng.randint(2, 4))
        ]
        for inv in invs:
            inv.reserved = True
            if inv.discount_until is not None and self.rng.random() < 0.7:
                inv.discount_until = booking + timedelta(days=self.rng.randint(0, 5))
                inv.invoice_date = inv.discount_until - timedelta(days=10)
        truth = []
        for inv in invs:
            valid = inv.discount_until is not None and booking <= inv.discount_until
            truth.append((inv, inv.cents - (inv.discount_cents() if valid else 0)))
        line = self.new("multi_reference", booking, sum(c for _, c in truth), customer.currency)
        if self.rng.random() < 0.8:
            self.known(line, customer)
        else:
            self.stranger(line)
        self._quoted(line, invs, customer)
        line.truth = truth
        line.determined = True

    def make_multi_no_reference(self, booking: date) -> None:
        customer = self.customer(currency=ACCOUNT_CURRENCY, small=True)
        # Without references, customers pay their oldest invoices first (FIFO).
        invs = [
            self.invoice(customer, booking=booking, discount=False,
                         age=150 + k if customer.subscription else None)
            for k in range(self.rng.randint(2, 3))
        ]  # fmt: skip
        for inv in invs:
            inv.reserved = True
        cents = sum(i.cents for i in invs)
        line = self.known(
            self.new("multi_no_reference", booking, cents, customer.currency), customer
        )
        line.render = lambda: self.generic(customer, booking)
        line.truth = [(i, i.cents) for i in invs]

        def check() -> bool:
            invs = self.by_customer[customer.id]
            singles = sum(
                1 for i in invs if cents in (i.cents, i.cents - self.discount_on(i, booking))
            )
            return singles == 0 and len(invs) <= 30 and self.sums(invs, cents, booking) == 1

        line.check = check

    def make_partial(self, booking: date, *, stranger: bool = False) -> None:
        customer, inv = self._one(booking)
        paid = int(inv.cents * self.rng.uniform(0.2, 0.8))
        kind = "partial_stranger" if stranger else "partial"
        line = self.new(kind, booking, paid, customer.currency)
        if stranger:
            self.stranger(line)
        else:
            self.known(line, customer)
        self._quoted(line, [inv], customer)
        line.truth = [(inv, paid)]
        line.determined = not stranger

    def make_partial_stranger(self, booking: date) -> None:
        self.make_partial(booking, stranger=True)

    def make_discount(self, booking: date) -> None:
        customer, inv = self._one(booking, discount=True)
        last_day = self.rng.random() < 0.33
        inv.discount_until = (
            booking if last_day else booking + timedelta(days=self.rng.randint(1, 8))
        )
        inv.invoice_date = inv.discount_until - timedelta(days=10)
        cents = inv.cents - inv.discount_cents()
        line = self.new("discount", booking, cents, customer.currency)
        if self.rng.random() < 0.7:
            self.known(line, customer)
        else:
            self.stranger(line)
        self._quoted(line, [inv], customer)
        line.truth = [(inv, cents)]
        line.determined = True

    def make_discount_expired(self, booking: date) -> None:
        customer, inv = self._one(booking, discount=True)
        inv.discount_until = booking - timedelta(days=self.rng.randint(1, 6))
        inv.invoice_date = inv.discount_until - timedelta(days=10)
        cents = inv.cents - inv.discount_cents()
        line = self.known(self.new("discount_expired", booking, cents, customer.currency), customer)
        self._quoted(line, [inv], customer)
        line.truth = [(inv, cents)]
        # Short by more than the fee tolerance: a partial payment, vouched by the account.
        tolerance = min(500, inv.cents * 2 // 100)
        line.determined = inv.discount_cents() > tolerance

    def make_fee(self, booking: date) -> None:
        customer, inv = self._one(booking)
        tolerance = min(500, inv.cents * 2 // 100)
        fee = self.rng.randint(1, max(1, tolerance))
        cents = inv.cents - fee
        line = self.new("fee", booking, cents, customer.currency)
        if self.rng.random() < 0.7:
            self.known(line, customer)
        else:
            self.stranger(line)
        self._quoted(line, [inv], customer)
        line.truth = [(inv, cents)]
        line.determined = True

    def make_overpayment(self, booking: date) -> None:
        customer, inv = self._one(booking)
        extra = self.rng.randint(1, max(1, inv.cents // 10))  # a rounding up, a little more
        line = self.known(
            self.new("overpayment", booking, inv.cents + extra, customer.currency), customer
        )
        self._quoted(line, [inv], customer)
        line.truth = [(inv, inv.cents)]
        line.determined = True

    def make_third_party(self, booking: date) -> None:
        customer, inv = self._one(booking)
        line = self.stranger(self.new("third_party", booking, inv.cents, customer.currency))
        self._quoted(line, [inv], customer)
        line.truth = [(inv, inv.cents)]
        line.determined = True

    def make_parent_pays(self, booking: date) -> None:
        parent_id = self.rng.choice(self.parents)
        parent = self.by_id[parent_id]
        if not self.by_customer.get(parent.id):
            self.invoice(parent)  # the parent's account is known from its own invoices
        members = [self.by_id[m] for m in self.groups[parent_id]]
        chosen = self.rng.sample(members, k=min(len(members), self.rng.randint(1, 2)))
        invs = [self.invoice(m, booking=booking, discount=False) for m in chosen]
        for inv in invs:
            inv.reserved = True
        cents = sum(i.cents for i in invs)
        line = self.known(self.new("parent_pays", booking, cents, parent.currency), parent)
        self._quoted(line, invs, parent)
        line.truth = [(i, i.cents) for i in invs]
        line.determined = True

    def make_typo_other_invoice(self, booking: date) -> None:
        customer, inv = self._one(booking)
        line = self.known(
            self.new("typo_other_invoice", booking, inv.cents, customer.currency), customer
        )

        def render() -> str:
            other = self.neighbour(inv)
            # No open invoice one digit away: the line quotes its own invoice after all.
            line.determined = other is None
            return self.wrap(other.number if other else inv.number, customer, booking, inv.cents)

        line.render = render
        line.truth = [(inv, inv.cents)]

    def make_typo_no_invoice(self, booking: date) -> None:
        customer, inv = self._one(booking, small=True)
        line = self.known(
            self.new("typo_no_invoice", booking, inv.cents, customer.currency), customer
        )
        typo = ""

        def render() -> str:
            nonlocal typo
            typo = self.typo(inv.number)
            return self.wrap(typo or inv.number, customer, booking)

        line.render = render
        line.truth = [(inv, inv.cents)]
        # A typo that reads as no invoice, from the known account, for an amount only
        # one of the payer's items has: determined. (render() runs before check().)
        line.check = lambda: (
            bool(typo) and self._unique_for(customer, inv.cents, booking, customer.currency)
        )

    def make_ambiguous_amount(self, booking: date) -> None:
        customer = self.customer(currency=ACCOUNT_CURRENCY, small=True)
        cents = int(10 ** self.rng.uniform(3.3, 5.5))
        first = self.invoice(customer, cents, booking=booking, discount=False, age=60)
        self.invoice(customer, cents, booking=booking, discount=False, age=30).reserved = True
        first.reserved = True
        line = self.known(self.new("ambiguous_amount", booking, cents, customer.currency), customer)
        line.render = lambda: self.generic(customer, booking)
        line.truth = [(first, cents)]
        line.determined = False

    def make_amount_only(self, booking: date) -> None:
        customer, inv = self._one(booking)
        line = self.stranger(self.new("amount_only", booking, inv.cents, customer.currency))
        line.render = lambda: self.generic(None, booking)
        line.truth = [(inv, inv.cents)]
        line.determined = False

    def make_name_only(self, booking: date) -> None:
        customer, inv = self._one(booking, small=True)
        line = self.new("name_only", booking, inv.cents, customer.currency)
        line.iban = iban(self.rng)
        line.name = self.payer_name(customer)
        line.render = lambda: self.generic(customer, booking)
        line.truth = [(inv, inv.cents)]
        line.determined = False

    def make_split_payment(self, booking: date) -> None:
        customer, inv = self._one(booking)
        first = int(inv.cents * self.rng.uniform(0.3, 0.7))
        a = self.known(self.new("split_payment", booking, first, customer.currency), customer)
        later = booking + timedelta(days=self.rng.randint(0, 3))
        b = self.known(Line("split_payment", later, inv.cents - first, customer.currency), customer)
        b.after = a
        self.pending.append(b)
        for line in (a, b):
            self._quoted(line, [inv], customer)
            line.determined = True
        a.truth = [(inv, first)]
        b.truth = [(inv, inv.cents - first)]

    def make_deduction(self, booking: date) -> None:
        customer, inv = self._one(booking)
        deducted = self.rng.randint(1000, max(1001, inv.cents // 3))
        cents = inv.cents - deducted
        if cents <= 0:
            cents, deducted = inv.cents // 2, inv.cents - inv.cents // 2
        line = self.known(self.new("deduction", booking, cents, customer.currency), customer)

        def render() -> str:
            why = self.rng.choice(DEDUCTION).format(amount=money(deducted))
            return f"{self.ref_text(inv)} {why}"

        line.render = render
        line.truth = [(inv, cents)]
        line.determined = True

    def make_duplicate_payment(self, booking: date) -> None:
        customer, inv = self._one(booking)
        a = self.known(
            self.new("duplicate_payment", booking, inv.cents, customer.currency), customer
        )
        b = self.known(Line("duplicate_payment", booking, inv.cents, customer.currency), customer)
        b.after = a
        self.pending.append(b)
        for line in (a, b):
            self._quoted(line, [inv], customer)
            line.determined = True
        a.truth = [(inv, inv.cents)]

    def make_unrelated(self, booking: date) -> None:
        cents = int(10 ** self.rng.uniform(3, 6))
        line = self.stranger(self.new("unrelated", booking, cents, ACCOUNT_CURRENCY))
        text = self.rng.choice(UNRELATED)
        line.render = lambda: text
        line.determined = True

    def make_outgoing(self, booking: date) -> None:
        cents = -int(10 ** self.rng.uniform(3, 6))
        line = self.new("outgoing", booking, cents, ACCOUNT_CURRENCY)
        line.name = "Supplier payment"
        line.iban = iban(self.rng)
        line.render = lambda: f"Invoice 2026-{self.rng.randint(1000, 9999)} supplier"
        line.determined = True

    def make_wrong_currency(self, booking: date) -> None:
        foreign = self.rng.choice([c for c, _ in _CURRENCIES if c != ACCOUNT_CURRENCY])
        customer, inv = self._one(booking, currency=foreign)
        inv.reserved = False  # it stays open: the line must not pay it
        line = self.new("wrong_currency", booking, inv.cents, ACCOUNT_CURRENCY)
        self.known(line, customer)
        self._quoted(line, [inv], customer)
        line.determined = True

    # -- numbering and rendering ------------------------------------------------------

    def neighbour(self, inv: Invoice) -> Invoice | None:
        """An open, unpaid invoice of another customer whose number is one typed digit
        away from ``inv``'s."""
        serial = inv.number.rsplit("-", 1)[1]
        positions = list(range(len(serial)))
        self.rng.shuffle(positions)
        for pos in positions:
            for digit in self.rng.sample("0123456789", 10):
                number = f"INV-2025-{serial[:pos]}{digit}{serial[pos + 1 :]}"
                other = self.by_number.get(number)
                if (
                    other
                    and not other.reserved
                    and other.customer.id != inv.customer.id
                    and other.customer.currency == inv.customer.currency
                ):
                    return other
        return None

    def typo(self, number: str) -> str:
        """``number`` with one typing error that reads as no invoice at all ("" if none)."""
        from o2c.matching.references import reference_keys  # noqa: PLC0415

        if not self.all_keys:
            self.all_keys = {k for n in self.by_number for k in reference_keys(n)}
        prefix, serial = number.rsplit("-", 1)
        tries = []
        for pos in range(len(serial)):
            tries.append(serial[:pos] + serial[pos + 1 :])  # dropped
            tries.extend(serial[:pos] + d + serial[pos:] for d in "123456789")  # added
        self.rng.shuffle(tries)
        for changed in tries:
            typo = f"{prefix}-{changed}"
            if not set(reference_keys(typo)) & self.all_keys:
                return typo
        return ""

    def number(self) -> None:
        order = list(self.invoices)
        self.rng.shuffle(order)
        for n, inv in enumerate(order, start=1):
            inv.number = f"INV-2025-{n:06d}"
        self.by_number = {inv.number: inv for inv in self.invoices}

    def render(self) -> None:
        # Second lines of pairs go somewhere after their first (a little later).
        position = {id(line): k for k, line in enumerate(self.lines)}
        slots: dict[int, list[Line]] = {}
        for line in self.pending:
            if line.after is None:  # pragma: no cover - every pending line has a first
                continue
            slot = min(len(self.lines) - 1, position[id(line.after)] + self.rng.randint(0, 40))
            slots.setdefault(slot, []).append(line)
        merged: list[Line] = []
        for k, line in enumerate(self.lines):
            merged.append(line)
            for second in slots.get(k, ()):
                # booked with the line before it: dates stay in file order, none moves
                second.booking_date = merged[-1].booking_date
                merged.append(second)
        self.lines = merged
        for k, line in enumerate(self.lines, start=1):
            line.line_id = f"L{k:07d}"
        if any(b.booking_date < a.booking_date for a, b in pairwise(self.lines)):
            raise AssertionError("booking dates out of order")  # pragma: no cover
        for line in self.lines:
            line.text = line.render()
            # Some payers' systems put the invoice number into the end-to-end id too.
            if line.kind in _QUOTING and self.rng.random() < 0.1:
                line.e2e = f"E2E-{line.truth[0][0].number.replace('-', '')}"
            if line.check is not None:
                line.determined = line.check()


def generate(lines: int = 2000, seed: int = 1, invoices: int = 0) -> Scenario:
    """A reproducible scenario with ``lines`` statement lines (and >= 2x open items)."""
    gen = _Gen(lines, invoices, seed)
    gen.build()
    return Scenario(gen.customers, gen.invoices, gen.lines, gen.groups)


def write(scenario: Scenario, out: Path) -> None:
    """Write the four files into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "OPEN_ITEMS.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(OPEN_ITEMS_COLUMNS)
        for inv in sorted(scenario.invoices, key=lambda i: i.key):
            c = inv.customer
            w.writerow((
                inv.number, c.id, c.name, c.iban, c.currency, money(inv.cents),
                inv.invoice_date.isoformat(), inv.due_date.isoformat(),
                "" if inv.discount_percent is None else str(inv.discount_percent),
                "" if inv.discount_until is None else inv.discount_until.isoformat(),
            ))  # fmt: skip
    with (out / "statement.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(STATEMENT_COLUMNS)
        for line in scenario.lines:
            w.writerow((
                line.line_id, line.booking_date.isoformat(), money(line.cents), line.currency,
                line.name, line.iban, line.text, line.e2e,
            ))  # fmt: skip
    with (out / "truth.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(TRUTH_COLUMNS)
        for line in scenario.lines:
            flag = "1" if line.determined else "0"
            if not line.truth:
                w.writerow((line.line_id, line.kind, flag, "", ""))
            for inv, cents in line.truth:
                w.writerow((line.line_id, line.kind, flag, inv.number, money(cents)))
    with (out / "groups.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(("parent_id", "customer_id"))
        for parent, members in sorted(scenario.groups.items()):
            for m in members:
                w.writerow((parent, m))


def main(argv: list[str] | None = None) -> int:
    """Command line: write a scenario."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--invoices", type=int, default=0, help="open items (default 2x lines)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    scenario = generate(args.lines, args.seed, args.invoices)
    write(scenario, args.out)
    print(
        f"wrote {len(scenario.lines)} lines, {len(scenario.invoices)} open items, "
        f"{len(scenario.groups)} groups to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
