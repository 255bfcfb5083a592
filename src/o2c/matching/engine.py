"""The matching engine: statement lines in, explained proposals out.

:func:`match` indexes the open items once (reference keys, amounts, discounted
amounts, accounts, customers), then takes the lines in order. For each line it
gathers candidate sets of items from four sources:

1. the invoices the text quotes (and the subsets of them whose sum fits);
2. invoices one edit away from a quoted run of text, among those the amount or the
   payer already point at (a typo is never enough on its own);
3. the payer's open items (known account, learnt memory, name, group): a single item
   that fits, or a set found by a bounded subset-sum;
4. nothing but the amount: open items anywhere with exactly this amount.

Each candidate is fitted to the amount (:mod:`o2c.matching.amounts`) and scored the
same way whatever found it (:mod:`o2c.matching.scoring`); the policy decides
(:meth:`o2c.matching.policy.MatchPolicy.decide`). An auto-applied line reduces the
open amounts the later lines see, so two lines never settle the same euro twice; a
suggestion changes nothing.

Cost: building the indexes is linear in the items; a line costs a few dictionary
look-ups plus work bounded by the policy (subset-sum steps, proposals kept), so a run
is near-linear in lines + items. The result does not depend on the order of the items.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from operator import attrgetter

from o2c.errors import DuplicateOpenItemError, OpenItemError
from o2c.matching.amounts import discount_units
from o2c.matching.context import Line
from o2c.matching.model import LineResult, MatchStatus, OpenItem
from o2c.matching.payers import PayerMemory, name_key, normalise_account, trigrams
from o2c.matching.policy import MatchPolicy
from o2c.matching.references import ReferenceIndex
from o2c.matching.scoring import LineMatcher
from o2c.money import is_currency, minor_units
from o2c.statements import StatementEntry

__all__ = ["Book", "confirmations", "lines_of", "match"]

_NUMBER = attrgetter("invoice_number")


def match(
    entries: Iterable[StatementEntry],
    items: Iterable[OpenItem],
    *,
    policy: MatchPolicy | None = None,
    memory: PayerMemory | None = None,
    today: date | None = None,
) -> list[LineResult]:
    """Match statement entries to open items; one result per line, in order.

    A batch entry (several :attr:`~o2c.statements.StatementEntry.details`) gives one
    line per transaction, with the line id ``"<entry line_id>:<n>"`` (1-based).

    Args:
        entries: The statement's entries, in booking order.
        items: The open items (any order: the result does not depend on it).
        policy: Thresholds, tolerances, limits, the group map; defaults apply.
        memory: What earlier confirmed matches taught about payers.
        today: The run date; a line booked after it is never auto-applied.

    The cyclic garbage collector is paused during the call (the run makes many small
    acyclic objects) and restored when it returns or raises.

    Raises:
        DuplicateOpenItemError: two items carry the same invoice number.
        OpenItemError: an item's amount is not in whole minor units of its currency,
            or its currency is unknown or differs from its amount's.
    """
    policy = policy or MatchPolicy()
    # The run allocates many small acyclic objects; the cyclic collector would rescan
    # the whole (large) heap again and again for nothing. It is restored afterwards.
    collecting = gc.isenabled()
    gc.disable()
    try:
        book = Book(items)
        matcher = LineMatcher(book, policy, memory or PayerMemory(), today)
        return [matcher.match_line(line) for entry in entries for line in lines_of(entry)]
    finally:
        if collecting:
            gc.enable()


def lines_of(entry: StatementEntry) -> Iterator[Line]:
    """The lines cash application sees in an entry (one per batch transaction)."""
    texts = (entry.remittance, entry.structured_reference, entry.end_to_end_id)
    booked = getattr(entry, "booked", True)
    if len(entry.details) <= 1:
        d = entry.details[0] if entry.details else None
        yield Line(
            line_id=entry.line_id,
            booking_date=entry.booking_date,
            amount=entry.amount,
            name=(d.counterparty_name if d else "") or entry.counterparty_name,
            account=normalise_account(
                (d.counterparty_iban if d else "") or entry.counterparty_iban
            ),
            texts=(
                tuple(t for t in (d.remittance, d.structured_reference, d.end_to_end_id) if t)
                + texts
                if d
                else texts
            ),
            reversal=entry.reversal,
            booked=booked,
        )
        return
    for n, d in enumerate(entry.details, start=1):
        yield Line(
            line_id=f"{entry.line_id}:{n}",
            booking_date=entry.booking_date,
            amount=d.amount,
            name=d.counterparty_name,
            account=normalise_account(d.counterparty_iban),
            texts=(d.remittance, d.structured_reference, d.end_to_end_id),
            reversal=entry.reversal,
            booked=booked,
        )


def confirmations(
    entries: Iterable[StatementEntry],
    results: Iterable[LineResult],
    items: Iterable[OpenItem],
    *,
    statuses: frozenset[MatchStatus] = frozenset({MatchStatus.AUTO}),
) -> list[tuple[str, str, str]]:
    """``(account, name, customer_id)`` for each applied line, to teach a memory.

    >>> # memory = memory.learned(confirmations(entries, results, items))
    """
    customer_of = {item.invoice_number: item.customer_id for item in items}
    payer = {line.line_id: (line.account, line.name) for e in entries for line in lines_of(e)}
    out: list[tuple[str, str, str]] = []
    for result in results:
        best = result.best
        if result.status not in statuses or best is None or result.line_id not in payer:
            continue
        account, name = payer[result.line_id]
        for customer in sorted({customer_of.get(a.invoice_number, "") for a in best.allocations}):
            if customer:
                out.append((account, name, customer))
    return out


# --------------------------------------------------------------------------- the book


class Book:
    """The open items, indexed once, with the open amounts a run has left.

    Items are kept in invoice-number order so that every result is independent of the
    order they were given in. Amounts are whole minor units (``int``).
    """

    __slots__ = (
        "_by_amount",
        "_by_net",
        "_name_keys",
        "_name_tokens",
        "_tolerances",
        "_trigrams",
        "account_customers",
        "by_customer",
        "currency",
        "customer",
        "customer_names",
        "discount",
        "discount_until",
        "due",
        "invoice_date",
        "items",
        "names_by_key",
        "open",
        "percent",
        "references",
        "unit_exponent",
    )

    def __init__(self, items: Iterable[OpenItem]) -> None:
        ordered = sorted(items, key=_NUMBER)
        numbers = [it.invoice_number for it in ordered]
        for k in range(1, len(numbers)):
            if numbers[k] == numbers[k - 1]:
                raise DuplicateOpenItemError(invoice_number=numbers[k])
        self.items: list[OpenItem] = ordered
        self.unit_exponent: dict[str, int] = {}
        n = len(ordered)
        self.currency: list[str] = [it.currency for it in ordered]
        self.open = self._units_of_all(ordered)
        self.discount = [0] * n
        self.percent: list[Decimal | None] = [None] * n
        self.discount_until: list[date | None] = [None] * n
        self.due: list[date] = [it.due_date for it in ordered]
        self.invoice_date: list[date] = [it.invoice_date for it in ordered]
        self.customer: list[str] = [it.customer_id for it in ordered]
        self.by_customer: dict[str, list[int]] = {}
        self.customer_names: dict[str, str] = {}
        self.account_customers: dict[str, list[str]] = {}
        self._by_amount: dict[int, list[int]] = {}
        self._by_net: dict[int, list[int]] = {}
        self._name_keys: dict[str, str] = {}
        self._tolerances: dict[str, tuple[int, int, int]] = {}
        self._trigrams: dict[str, frozenset[str]] = {}
        self._name_tokens: dict[str, list[str]] | None = None
        self.names_by_key: dict[str, list[str]] | None = None
        self._index_customers(ordered)
        self._index_amounts(ordered)
        self.references = ReferenceIndex(numbers)

    def _index_customers(self, ordered: Sequence[OpenItem]) -> None:
        by_customer = self.by_customer
        for i, customer in enumerate(self.customer):
            members = by_customer.get(customer)
            if members is None:
                by_customer[customer] = [i]
            else:
                members.append(i)
        self.customer_names = {
            customer: ordered[members[0]].customer_name for customer, members in by_customer.items()
        }
        accounts: dict[str, set[str]] = {}
        for item in ordered:
            if item.customer_iban:
                account = normalise_account(item.customer_iban)
                accounts.setdefault(account, set()).add(item.customer_id)
        self.account_customers = {a: sorted(c) for a, c in accounts.items()}

    def _index_amounts(self, ordered: Sequence[OpenItem]) -> None:
        by_amount = self._by_amount
        for i, units in enumerate(self.open):
            if units > 0:
                found = by_amount.get(units)
                if found is None:
                    by_amount[units] = [i]
                else:
                    found.append(i)
        by_net = self._by_net
        for i, item in enumerate(ordered):
            percent = item.discount_percent
            if percent and item.discount_until is not None and self.open[i] > 0:
                self.percent[i] = percent
                self.discount_until[i] = item.discount_until
                d = discount_units(self.open[i], percent)
                self.discount[i] = d
                if d:
                    by_net.setdefault(self.open[i] - d, []).append(i)

    def _units_of_all(self, ordered: Sequence[OpenItem]) -> list[int]:
        """Open amounts in minor units; every item checked."""
        for currency in set(self.currency):
            if not is_currency(currency):
                item = next(it for it in ordered if it.currency == currency)
                raise OpenItemError(
                    invoice_number=item.invoice_number,
                    field="currency",
                    reason=f"{currency!r} is not an ISO 4217 currency",
                )
            self.unit_exponent[currency] = minor_units(currency)
        exponents = self.unit_exponent
        out = []
        for item in ordered:
            amount = item.amount_open
            currency = item.currency
            if amount.currency != currency:
                raise OpenItemError(
                    invoice_number=item.invoice_number,
                    field="amount_open",
                    reason=f"the amount is in {amount.currency}, the item in {currency}",
                )
            scaled = amount.amount.scaleb(exponents[currency])
            units = int(scaled)
            if units != scaled:
                raise OpenItemError(
                    invoice_number=item.invoice_number,
                    field="amount_open",
                    reason=f"not a whole number of {currency} minor units",
                )
            out.append(units)
        return out

    # -- look-ups --------------------------------------------------------------------

    def with_amount(self, units: int, currency: str, on: date, limit: int) -> list[int]:
        """Up to ``limit`` open items of ``currency`` whose open amount, or whose open
        amount less a discount valid ``on``, is ``units`` (in index order, which is
        invoice-number order for the items as given)."""
        found: list[int] = []
        opened = self.open
        currencies = self.currency
        for i in self._by_amount.get(units, ()):
            if opened[i] == units and currencies[i] == currency and i not in found:
                found.append(i)
                if len(found) >= limit:
                    return found
        for i in self._by_net.get(units, ()):
            if currencies[i] == currency and i not in found:
                discount = self.discount_on(i, on)
                if discount and opened[i] - discount == units:
                    found.append(i)
                    if len(found) >= limit:
                        return found
        return found

    def discount_on(self, i: int, on: date) -> int:
        """The discount item ``i`` offers for a payment booked ``on`` (0 if none)."""
        until = self.discount_until[i]
        return self.discount[i] if until is not None and on <= until else 0

    def expired_discount(self, i: int, on: date) -> int:
        """The discount item ``i`` offered but no longer offers ``on`` (0 if none)."""
        until = self.discount_until[i]
        return self.discount[i] if until is not None and on > until else 0

    def tolerance(self, total: int, currency: str, policy: MatchPolicy) -> int:
        """The fee tolerance for paying ``total`` units of ``currency``:
        ``min(absolute, percent of total)`` (see :func:`~o2c.matching.amounts.tolerance_units`)."""
        rule = self._tolerances.get(currency)
        if rule is None:
            absolute = int(policy.fee_tolerance_for(currency).scaleb(self.exponent(currency)))
            num, den = policy.fee_tolerance_percent.as_integer_ratio()
            rule = self._tolerances[currency] = (absolute, num, den * 100)
        absolute, num, den = rule
        return max(0, min(absolute, total * num // den))

    def exponent(self, currency: str) -> int:
        """Minor-unit exponent of ``currency`` (2 for EUR)."""
        exponent = self.unit_exponent.get(currency)
        if exponent is None:
            exponent = self.unit_exponent[currency] = minor_units(currency)
        return exponent

    def apply(self, item: int, settled: int) -> None:
        """Reduce an item's open amount (an auto-applied allocation)."""
        left = self.open[item] - settled
        self.open[item] = left
        if left > 0:
            self._by_amount.setdefault(left, []).append(item)
            percent = self.percent[item]
            if percent:
                d = discount_units(left, percent)
                self.discount[item] = d
                if d:
                    self._by_net.setdefault(left - d, []).append(item)

    # -- names ------------------------------------------------------------------------

    def name_key_of(self, customer: str) -> str:
        """The folded name of a customer (cached)."""
        key = self._name_keys.get(customer)
        if key is None:
            key = self._name_keys[customer] = name_key(self.customer_names.get(customer, ""))
        return key

    def trigrams_of(self, customer: str) -> frozenset[str]:
        """Trigrams of a customer's folded name (cached)."""
        grams = self._trigrams.get(customer)
        if grams is None:
            grams = self._trigrams[customer] = trigrams(self.name_key_of(customer))
        return grams

    def customers_named(self, key: str) -> Sequence[str]:
        """Customers whose folded name is exactly ``key``."""
        if self.names_by_key is None:
            index: dict[str, list[str]] = {}
            for customer in sorted(self.customer_names):
                index.setdefault(self.name_key_of(customer), []).append(customer)
            self.names_by_key = index
        return self.names_by_key.get(key, ())

    def customers_sharing_words(self, key: str, limit: int = 200) -> list[str]:
        """Customers whose name shares the rarest word of ``key`` (bounded)."""
        if self._name_tokens is None:
            tokens: dict[str, list[str]] = {}
            for customer in sorted(self.customer_names):
                for word in set(self.name_key_of(customer).split()):
                    tokens.setdefault(word, []).append(customer)
            self._name_tokens = tokens
        words = [w for w in set(key.split()) if w in self._name_tokens]
        if not words:
            return []
        rarest = min(words, key=lambda w: (len(self._name_tokens[w]), w))  # type: ignore[index]
        found = self._name_tokens[rarest]
        return found if len(found) <= limit else []
