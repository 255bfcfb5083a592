"""Properties of cash application (o2c.matching.match) on generated statements.

Items: a few customers, invoice numbers of one scheme, amounts in cents, some with an
early-payment discount, one currency or two. Lines: amounts taken from the items
(exact, sums, parts, a little more or less) or random, remittances quoting invoices in
any formatting (or a typo, or nothing), from known, unknown or other customers'
accounts. The oracle is the items themselves: what was open before the run.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from o2c.matching import LineResult, MatchStatus, OpenItem, match
from o2c.money import Money
from o2c.statements import StatementEntry

START = date(2026, 3, 2)
CUSTOMERS = [
    ("acme", "Acme Trading GmbH", "DE89370400440532013000"),
    ("beta", "Beta Logistik AG", "DE02120300000000202051"),
    ("gamma", "Gamma Foods Ltd", ""),
]


def money(cents: int, currency: str) -> Money:
    return Money(Decimal(cents).scaleb(-2), currency)


@st.composite
def open_items(draw: st.DrawFn) -> list[OpenItem]:
    count = draw(st.integers(1, 9))
    numbers = draw(st.lists(st.integers(1, 60), min_size=count, max_size=count, unique=True))
    items = []
    for n in numbers:
        customer, name, iban = draw(st.sampled_from(CUSTOMERS))
        currency = draw(st.sampled_from(["EUR", "EUR", "EUR", "USD"]))
        cents = draw(st.sampled_from([1000, 2500, 9990]) | st.integers(1, 50_000))
        issued = START - timedelta(days=draw(st.integers(0, 40)))
        discounted = draw(st.booleans())
        items.append(
            OpenItem(
                invoice_number=f"INV-2026-{n:06d}",
                customer_id=customer,
                customer_name=name,
                customer_iban=iban,
                currency=currency,
                amount_open=money(cents, currency),
                invoice_date=issued,
                due_date=issued + timedelta(days=30),
                discount_percent=Decimal(2) if discounted else None,
                discount_until=issued + timedelta(days=10) if discounted else None,
            )
        )
    return items


def _quote(number: str, style: int) -> str:
    serial = number.rsplit("-", 1)[1]
    return [
        number,
        number.lower(),
        number.replace("-", ""),
        f"2026-{serial.lstrip('0')}",
        f"inv 2026 {serial}",
        number[:-1] + str((int(number[-1]) + 1) % 10),  # a typo
    ][style]


@st.composite
def statement(draw: st.DrawFn, items: list[OpenItem]) -> list[StatementEntry]:
    entries = []
    for k in range(draw(st.integers(1, 6))):
        chosen = draw(st.lists(st.sampled_from(items), min_size=1, max_size=3, unique=True))
        base = sum(int(i.amount_open.amount * 100) for i in chosen)
        how = draw(st.sampled_from(["exact", "exact", "part", "more", "less", "random", "out"]))
        cents = {
            "exact": base,
            "part": max(1, base // 2),
            "more": base + 500,
            "less": max(1, base - draw(st.integers(1, 300))),
            "random": draw(st.integers(1, 60_000)),
            "out": -draw(st.integers(1, 60_000)),
        }[how]
        currency = draw(st.sampled_from([chosen[0].currency, chosen[0].currency, "EUR", "USD"]))
        quoted = draw(st.sampled_from(["all", "some", "none"]))
        quotes = chosen if quoted == "all" else chosen[:1] if quoted == "some" else []
        text = " ".join(_quote(i.invoice_number, draw(st.integers(0, 5))) for i in quotes)
        payer = draw(st.sampled_from([*CUSTOMERS, ("", "Stranger Ltd", "GB33BUKB20201555555555")]))
        entries.append(
            StatementEntry(
                line_id=f"L{k}",
                booking_date=START + timedelta(days=draw(st.integers(0, 15))),
                amount=money(cents, currency),
                counterparty_name=payer[1],
                counterparty_iban=payer[2],
                remittance=text,
            )
        )
    return entries


@st.composite
def runs(draw: st.DrawFn) -> tuple[list[OpenItem], list[StatementEntry], int]:
    items = draw(open_items())
    return items, draw(statement(items)), draw(st.integers(0, 2**32 - 1))


def _check_result(result: LineResult, entry: StatementEntry, items: dict[str, OpenItem]) -> None:
    assert result.why
    confidences = [p.confidence for p in result.proposals]
    assert confidences == sorted(confidences, reverse=True)
    if result.status is MatchStatus.UNMATCHED:
        assert result.proposals == ()
    for proposal in result.proposals:
        # every proposal says why, in words
        assert proposal.signals
        assert all(s.detail for s in proposal.signals)
        assert proposal.reason
        assert 0.0 <= proposal.confidence <= 1.0
        cash = sum((a.amount for a in proposal.allocations), Money.zero(entry.amount.currency))
        unapplied = proposal.unapplied or Money.zero(entry.amount.currency)
        # the cash taken never exceeds the line, and the line is accounted for
        assert cash + unapplied == entry.amount
        for allocation in proposal.allocations:
            invoice = items[allocation.invoice_number]
            # a currency never matches another
            assert invoice.currency == entry.amount.currency
            settled = allocation.amount
            for extra in (allocation.discount, allocation.written_off, allocation.deduction):
                settled += extra or Money.zero(settled.currency)
            assert not allocation.amount.is_negative()
            assert settled <= invoice.amount_open
    if result.status is MatchStatus.AUTO:
        best = result.proposals[0]
        assert best.cautions == ()
        # an auto-applied proposal is the unique best
        assert all(best.confidence > p.confidence for p in result.proposals[1:])


@given(runs())
def test_allocations_stay_within_the_line_and_the_open_amounts(
    run: tuple[list[OpenItem], list[StatementEntry], int],
) -> None:
    items, entries, _seed = run
    by_number = {i.invoice_number: i for i in items}
    results = match(entries, items)
    assert [r.line_id for r in results] == [e.line_id for e in entries]
    applied: dict[str, Money] = defaultdict(lambda: Money.zero("EUR"))
    for result, entry in zip(results, entries, strict=True):
        _check_result(result, entry, by_number)
        if result.status is MatchStatus.AUTO:
            for a in result.proposals[0].allocations:
                settled = a.amount + (a.discount or Money.zero(a.amount.currency))
                settled += a.written_off or Money.zero(a.amount.currency)
                if a.invoice_number not in applied:
                    applied[a.invoice_number] = Money.zero(a.amount.currency)
                applied[a.invoice_number] += settled
    # over the whole run, no invoice is settled beyond what was open
    for number, total in applied.items():
        assert total <= by_number[number].amount_open


@given(runs())
def test_the_result_does_not_depend_on_the_order_of_the_items(
    run: tuple[list[OpenItem], list[StatementEntry], int],
) -> None:
    items, entries, seed = run
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    first = match(entries, items)
    assert first == match(entries, shuffled)
    assert first == match(entries, items)  # and twice the same
