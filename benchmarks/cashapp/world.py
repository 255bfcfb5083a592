"""The generator's world: its values (customers, invoices, lines), vocabulary and helpers."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

__all__ = [
    "DEDUCTION",
    "FIRST",
    "FORMS",
    "GENERIC",
    "SECOND",
    "STRANGERS",
    "UNRELATED",
    "Customer",
    "Invoice",
    "Line",
    "Scenario",
    "count_sums",
    "german",
    "iban",
    "money",
]

FIRST = (
    "Nordwind", "Alpen", "Baltic", "Crescent", "Delta", "Elbe", "Falcon", "Granite", "Harbor",
    "Iris", "Juniper", "Kestrel", "Linden", "Meridian", "Nova", "Orion", "Pioneer", "Quartz",
    "Rhein", "Summit", "Tauern", "Union", "Vega", "Weser", "Xenon", "Yukon", "Zenith",
    "Müller", "Schäfer", "Lefèvre", "Øresund", "Acme", "Blue Ocean", "Green Valley",
)  # fmt: skip
SECOND = (
    "Logistik", "Trading", "Bau", "Foods", "Systems", "Maschinenbau", "Retail", "Pharma",
    "Textil", "Energy", "Media", "Holz", "Medical", "Software", "Metall", "Services",
)  # fmt: skip
FORMS = ("GmbH", "AG", "GmbH & Co. KG", "Ltd", "Inc.", "S.A.", "B.V.", "SE", "e.K.", "")
STRANGERS = (
    "Factoring Partner AG", "Payment Services Ltd", "J. Smith", "Treuhand Süd GmbH",
    "Global Remit Inc", "M. Rossi", "Clearing House BV",
)  # fmt: skip
GENERIC = (
    "", "Payment", "Zahlung", "Thank you", "Überweisung", "Sammelüberweisung", "Invoice payment",
    "PO 4500{po}", "Kd-Nr {cust}", "Payment {date}", "Zahlung vom {date}",
)  # fmt: skip
UNRELATED = (
    "Refund supplier credit", "Interest", "Cash deposit", "Tax refund", "Insurance claim payout",
    "Transfer own account", "Rebate Q1", "Erstattung",
)  # fmt: skip
DEDUCTION = (
    "less {amount} damaged goods",
    "abzgl. {amount} Reklamation",
    "deducted {amount} for missing items",
    "short {amount} price dispute",
)


def iban(rng: random.Random) -> str:
    bban = "".join(rng.choice("0123456789") for _ in range(18))
    check = 98 - int(bban + "131400") % 97  # "DE00" -> D=13, E=14
    return f"DE{check:02d}{bban}"


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def german(cents: int) -> str:
    whole = f"{cents // 100:,}".replace(",", ".")
    return f"{whole},{cents % 100:02d}"


def count_sums(values: list[int], target: int, max_size: int) -> int:
    """How many subsets of 2..max_size values sum to target (capped at 2)."""
    counts: dict[tuple[int, int], int] = {(0, 0): 1}
    for v in values:
        if v > target:
            continue
        for (size, total), n in list(counts.items()):
            if size < max_size and total + v <= target:
                key = (size + 1, total + v)
                counts[key] = min(2, counts.get(key, 0) + n)
    return min(2, sum(n for (size, total), n in counts.items() if total == target and size > 1))


@dataclass
class Customer:
    """A customer of the seller."""

    id: str
    name: str
    iban: str
    currency: str
    subscription: bool = False
    parent: str = ""


@dataclass
class Invoice:
    """An open invoice (numbered after everything is generated)."""

    key: int
    customer: Customer
    cents: int
    invoice_date: date
    discount_percent: Decimal | None = None
    discount_until: date | None = None
    number: str = ""
    reserved: bool = False  # paid by some line: never a typo's or a duplicate's target

    @property
    def due_date(self) -> date:
        """Net 30."""
        return self.invoice_date + timedelta(days=30)

    def discount_cents(self) -> int:
        """The discount o2c computes: half up to the cent."""
        if self.discount_percent is None:
            return 0
        exact = Decimal(self.cents) * self.discount_percent / 100
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass
class Line:
    """A statement line; its text is rendered once invoices have numbers."""

    kind: str
    booking_date: date
    cents: int
    currency: str
    name: str = ""
    iban: str = ""
    render: Callable[[], str] = lambda: ""
    e2e: str = "NOTPROVIDED"
    truth: list[tuple[Invoice, int]] = field(default_factory=list)
    determined: bool = False
    line_id: str = ""
    check: Callable[[], bool] | None = None  # decides `determined` once all is known
    after: Line | None = None  # the second line of a pair goes somewhere after this one
    text: str = ""


@dataclass
class Scenario:
    """Everything one run writes."""

    customers: list[Customer]
    invoices: list[Invoice]
    lines: list[Line]
    groups: dict[str, list[str]]
