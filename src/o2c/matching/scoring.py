"""One line at a time: candidates, fits, signals, confidence, the decision.

See :mod:`o2c.matching.engine` for the sources of candidates and
:mod:`o2c.matching.policy` for how signals combine. Every proposal carries each signal
that counted, in words; a penalty is a signal with a negative weight ``w`` (the
confidence is multiplied by ``1 + w``); a note with weight 0 explains the amount.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from o2c.matching.amounts import Fit, FitKind, fit, subset_sums
from o2c.matching.context import (
    GLOBAL_AMBIGUOUS,
    GLOBAL_UNIQUE,
    PAYER_AMBIGUOUS,
    PAYER_UNIQUE,
    Add,
    Candidate,
    Context,
    Line,
    Payer,
    Scored,
    by_length,
)
from o2c.matching.model import Allocation, LineResult, MatchStatus, Proposal, Signal
from o2c.matching.payers import PayerMemory, name_key, name_similarity, trigrams
from o2c.matching.policy import MatchPolicy
from o2c.matching.references import (
    MIN_FUZZY_LENGTH,
    one_edit_apart,
    scan,
    window_text,
)
from o2c.money import Money

if TYPE_CHECKING:
    from o2c.matching.engine import Book

__all__ = ["LineMatcher"]

#: Most open items with the line's amount tried one edit away (more: the amount says little).
MAX_AMOUNT_POOL: Final = 50
#: Most quoted invoices whose subsets are searched for the amount.
MAX_QUOTED_SUBSET: Final = 12
#: Most items of a payer looked at one by one for a fee-sized difference.
MAX_PAYER_SCAN: Final = 400
#: Most invoices named in one signal's words.
_NAMED: Final = 3
#: A fitting proposal this close to a better one that does not fit makes it doubtful.
_CLOSE: Final = 0.2


class LineMatcher:
    """Matches lines one by one against a :class:`~o2c.matching.engine.Book`."""

    def __init__(
        self, book: Book, policy: MatchPolicy, memory: PayerMemory, today: date | None
    ) -> None:
        self.book = book
        self.policy = policy
        self.weights = policy.weights
        self.memory = memory
        self.today = today
        self._whos: dict[str, str] = {}
        self._grams: dict[str, frozenset[str]] = {}
        self._payer_cache: dict[tuple[str, str], tuple[dict[str, Payer], set[str]]] = {}
        self._words = tuple(w.casefold() for w in policy.deduction_words)

    # -- the line ------------------------------------------------------------------

    def match_line(self, line: Line) -> LineResult:
        """Propose, decide, and (when auto-applied) reduce the open amounts."""
        refusal = self._refusal(line)
        if refusal:
            return LineResult(line.line_id, MatchStatus.UNMATCHED, (), refusal)
        book = self.book
        currency = line.amount.currency
        exponent = book.exponent(currency)
        scaled = line.amount.amount.scaleb(exponent)
        units = int(scaled)
        if units != scaled:
            return LineResult(
                line.line_id,
                MatchStatus.UNMATCHED,
                (),
                f"the amount is not a whole number of {currency} minor units",
            )
        ctx = Context(line, units, exponent)
        for hit in scan(line.texts, book.references):
            for i in hit.ids:
                if book.currency[i] != currency:
                    ctx.other_currency.append(i)
                elif book.open[i] <= 0:
                    ctx.closed.append(i)
                else:
                    ctx.exact.setdefault(i, hit)
        self._strong_payers(ctx)
        scored = self._score_all(self._candidates(ctx), ctx)
        floor = self.policy.suggest_threshold
        kept = [s for s in scored if s.confidence >= floor][: self.policy.max_proposals]
        proposals = tuple(self._proposal(s, ctx) for s in kept)
        status, why = self.policy.decide(proposals)
        if not proposals:
            why = self._why_nothing(ctx, scored)
        elif status is MatchStatus.AUTO:
            for part in kept[0].fit.parts:
                book.apply(part.item, part.settled)
        return LineResult(line.line_id, status, proposals, why)

    def _refusal(self, line: Line) -> str:
        if not line.booked:
            return "not booked by the bank yet (pending)"
        if line.reversal:
            return "a reversal of an earlier booking: it is handled by hand"
        if line.amount.is_negative():
            return "outgoing"
        if line.amount.is_zero():
            return "zero amount"
        return ""

    def _why_nothing(self, ctx: Context, scored: list[Scored]) -> str:
        book = self.book
        if ctx.other_currency:
            i = ctx.other_currency[0]
            return (
                f"{book.items[i].invoice_number} is in {book.currency[i]}, the line in "
                f"{ctx.currency}: a currency never matches another"
            )
        if ctx.closed:
            return (
                f"{book.items[ctx.closed[0]].invoice_number} is no longer open "
                "(settled earlier in this run)"
            )
        if scored:
            return f"nothing is likely enough (best {scored[0].confidence:.2f})"
        return "no open item fits"

    # -- payers --------------------------------------------------------------------

    def _strong_payers(self, ctx: Context) -> None:
        # The same payer sends many lines: what its account and name say is kept.
        key = (ctx.line.account, ctx.line.name if self.memory.names else "")
        known = self._payer_cache.get(key)
        if known is None:
            self._identify(ctx)
            self._payer_cache[key] = (dict(ctx.payers), set(ctx.strong_payers))
        else:
            ctx.payers = dict(known[0])
            ctx.strong_payers = known[1]

    def _identify(self, ctx: Context) -> None:
        book = self.book
        w = self.weights
        line = ctx.line
        payers = ctx.payers
        account = line.account
        if account:
            known = book.account_customers.get(account, ())
            for customer in known:
                weight = w.iban if len(known) == 1 else w.iban_shared
                payers[customer] = Payer(
                    "iban",
                    weight,
                    f"the paying account ...{account[-4:]} is the known account of "
                    f"{self._who(customer)}",
                )
            learnt = self.memory.for_account(account)
            for customer in sorted(learnt):
                if customer not in payers:
                    weight = w.memory if len(learnt) == 1 else w.iban_shared
                    payers[customer] = Payer(
                        "memory",
                        weight,
                        f"the account ...{account[-4:]} paid {self._who(customer)} "
                        f"{learnt[customer]} time(s) before",
                    )
        if line.name and self.memory.names:
            learnt = self.memory.for_name(name_key(line.name))
            for customer in sorted(learnt):
                if customer not in payers:
                    weight = w.memory if len(learnt) == 1 else w.name_weak
                    payers[customer] = Payer(
                        "memory",
                        weight,
                        f"a payer named {line.name!r} paid {self._who(customer)} before",
                    )
        ctx.strong_payers = set(payers)
        self._expand_groups(payers)

    def _name_payers(self, ctx: Context) -> None:
        """Customers the payer's name identifies (only when nothing stronger did)."""
        key = name_key(ctx.line.name)
        if not key:
            return
        book = self.book
        found = list(book.customers_named(key))
        if not found:
            grams = self._line_grams(ctx)
            found = [
                c
                for c in book.customers_sharing_words(key)
                if name_similarity(grams, book.trigrams_of(c)) >= self.policy.name_strong
            ]
        if not 0 < len(found) <= 3:
            return
        for customer in found:
            ctx.payers[customer] = Payer(
                "name",
                self.weights.name_strong,
                f"the payer {ctx.line.name!r} is {self._who(customer)} by name",
            )
        self._expand_groups(ctx.payers)

    def _expand_groups(self, payers: dict[str, Payer]) -> None:
        groups = self.policy.groups
        if not groups:
            return
        for parent in sorted(payers):
            for member in groups.get(parent, ()):
                if member not in payers:
                    payers[member] = Payer(
                        "group",
                        min(self.weights.group, payers[parent].weight),
                        f"{self._who(parent)} pays for its group member {self._who(member)}",
                    )

    def _line_grams(self, ctx: Context) -> frozenset[str]:
        if ctx.grams is None:
            name = ctx.line.name
            grams = self._grams.get(name)
            if grams is None:
                grams = self._grams[name] = trigrams(name_key(name))
            ctx.grams = grams
        return ctx.grams

    def _who(self, customer: str) -> str:
        who = self._whos.get(customer)
        if who is None:
            name = self.book.customer_names.get(customer, "")
            who = f"{name} ({customer})" if name and name != customer else customer
            self._whos[customer] = who
        return who

    # -- candidates ----------------------------------------------------------------

    def _candidates(self, ctx: Context) -> dict[tuple[int, ...], Candidate]:
        book = self.book
        on = ctx.line.booking_date
        found: dict[tuple[int, ...], Candidate] = {}

        def add(ids: Iterable[int], source: str, scope: str) -> Candidate:
            key = self._by_due(ids)
            cand = found.get(key)
            if cand is None:
                cand = found[key] = Candidate(key)
            cand.sources.add(source)
            if scope and (not cand.scope or cand.scope.startswith("global")):
                cand.scope = scope
            return cand

        # 1. what the text quotes
        quoted = list(ctx.exact)
        fitted = False
        overpaid = False
        if quoted:
            whole = add(quoted, "reference", "")
            fitted = self._fits(whole, ctx)
            overpaid = self._fit_of(whole, ctx).kind is FitKind.OVER
            if 1 < len(quoted) <= MAX_QUOTED_SUBSET and not fitted:
                for variant in (False, True):
                    values = [(i, self._value(i, on, variant)) for i in sorted(quoted)]
                    search = subset_sums(
                        ctx.units, values, min_size=1, max_size=len(quoted) - 1, budget=2_000
                    )
                    for solution in search.solutions:
                        if self._fits(add(solution, "reference", ""), ctx):
                            fitted = True
        if fitted:
            return found
        # Items with exactly this amount anywhere (one more than the pool: "too many").
        by_amount = book.with_amount(ctx.units, ctx.currency, on, MAX_AMOUNT_POOL + 1)
        scope = GLOBAL_UNIQUE if len(by_amount) == 1 else GLOBAL_AMBIGUOUS
        # 2. one edit away from a quoted run, among items something else points at: the
        # amount (when few items have it), or the payer when the text quotes others too.
        # The runs of text that look like references are collected only now: most
        # lines are settled by what they quote and never need them.
        scan(ctx.line.texts, book.references, windows=ctx.windows)
        if ctx.windows:
            pool = set(by_amount) if len(by_amount) <= MAX_AMOUNT_POOL else set()
            if quoted:
                pool.update(self._payer_items(ctx, limit=MAX_PAYER_SCAN))
            for i in sorted(pool - set(ctx.exact)):
                seen = self._one_edit(i, ctx)
                if seen:
                    cand = add((i,), "fuzzy", scope if i in by_amount else "")
                    cand.fuzzy[i] = seen
                    if quoted:
                        add([*quoted, i], "fuzzy", "").fuzzy[i] = seen
        # 3. the payer's items
        if not ctx.payers and ctx.line.name:
            self._name_payers(ctx)
        if ctx.payers:
            # Sums are searched when nothing is quoted, or when the quoted invoices
            # leave money over (the payer may pay others with them).
            self._payer_candidates(ctx, add, search_sums=not quoted or overpaid)
        # 4. nothing but the amount (when nobody the payer could be fits it)
        if not any(self._fits(c, ctx) for c in found.values()):
            for i in by_amount[: 2 * self.policy.max_proposals]:
                add((i,), "amount", scope)
        return found

    def _payer_candidates(self, ctx: Context, add: Add, *, search_sums: bool) -> None:
        book = self.book
        on = ctx.line.booking_date
        units = ctx.units
        singles = []
        items = self._payer_items(ctx, limit=MAX_PAYER_SCAN)
        tolerance_of = book.tolerance
        for i in items:
            opened = book.open[i]
            net = opened - book.discount_on(i, on)
            if units in (opened, net):
                singles.append(i)
            elif opened > units:
                tol = tolerance_of(opened, ctx.currency, self.policy)
                if 0 < opened - units <= tol or 0 < net - units <= tol:
                    singles.append(i)
        solutions: list[tuple[int, ...]] = []
        complete = len(items) < MAX_PAYER_SCAN
        # Two single items fit already: sums would only add to the doubt.
        if search_sums and len(singles) < 2:
            fitting = [i for i in items if book.open[i] - book.discount_on(i, on) <= units]
            pool = sorted(fitting, key=lambda i: (book.due[i], i))
            if len(pool) > self.policy.subset_max_items:
                pool = pool[: self.policy.subset_max_items]
                complete = False  # the youngest items were not searched
            variants = [False, True] if any(book.discount_on(i, on) for i in pool) else [False]
            for variant in variants:
                search = subset_sums(
                    units,
                    [(i, self._value(i, on, variant)) for i in pool],
                    max_size=self.policy.subset_max_size,
                    # With one single fit, one sum is enough to know it is not unique.
                    max_solutions=2 - len(singles),
                    budget=self.policy.subset_budget,
                )
                complete = complete and search.complete
                solutions.extend(s for s in search.solutions if s not in solutions)
        count = len(singles) + len(solutions)
        scope = PAYER_UNIQUE if count == 1 and complete else PAYER_AMBIGUOUS
        for i in singles:
            add((i,), "payer", scope)
        for solution in solutions:
            add(solution, "payer", scope)

    def _payer_items(self, ctx: Context, *, limit: int) -> list[int]:
        book = self.book
        out: list[int] = []
        for customer in sorted(ctx.payers):
            for i in book.by_customer.get(customer, ()):
                if book.open[i] > 0 and book.currency[i] == ctx.currency:
                    out.append(i)
                    if len(out) >= limit:
                        return out
        return out

    def _value(self, i: int, on: date, discounted: bool) -> int:
        book = self.book
        return book.open[i] - (book.discount_on(i, on) if discounted else 0)

    def _by_due(self, ids: Iterable[int]) -> tuple[int, ...]:
        due = self.book.due
        return tuple(sorted(set(ids), key=lambda i: (due[i], i)))

    def _fits(self, cand: Candidate, ctx: Context) -> bool:
        return self._fit_of(cand, ctx).fits

    def _fit_of(self, cand: Candidate, ctx: Context) -> Fit:
        if cand.fit is None:
            cand.fit = self._fit(cand.ids, ctx)
        return cand.fit

    def _fit(self, ids: Sequence[int], ctx: Context) -> Fit:
        book = self.book
        on = ctx.line.booking_date
        opens = [book.open[i] for i in ids]
        return fit(
            ctx.units,
            ids,
            opens=opens,
            discounts=[book.discount_on(i, on) for i in ids],
            expired=[book.expired_discount(i, on) for i in ids],
            tolerance=book.tolerance(sum(opens), ctx.currency, self.policy),
        )

    def _one_edit(self, i: int, ctx: Context) -> str:
        """The text one edit away from item ``i``'s number, or ""."""
        buckets = ctx.buckets
        if buckets is None:
            buckets = ctx.buckets = by_length(ctx.windows)
        references = self.book.references
        raw = references.raw_keys[i]
        stripped = references.stripped_keys[i]
        for key in (raw,) if raw == stripped else (raw, stripped):
            size = len(key)
            if size < MIN_FUZZY_LENGTH:
                continue
            for length in (size - 1, size, size + 1):
                for text, window in buckets.get(length, ()):
                    if one_edit_apart(key, text):
                        return window_text(window)
        return ""

    # -- scoring -------------------------------------------------------------------

    def _score_all(self, found: dict[tuple[int, ...], Candidate], ctx: Context) -> list[Scored]:
        scored = [self._score(c, ctx) for c in found.values()]
        if len(scored) < 2:
            return scored
        fitting = [s for s in scored if s.fit.fits]
        if fitting and len(fitting) < len(scored):
            best_fit = max(fitting, key=lambda s: s.confidence)
            penalty = self.weights.penalty_misfit
            for s in scored:
                # A proposal that does not fit, with a fitting one close behind it: the
                # fitting one is likelier, and which reference is a typo cannot be told.
                if not s.fit.fits and best_fit.confidence >= s.confidence - _CLOSE:
                    names = self._numbers(best_fit.candidate.ids)
                    text = f"the amount fits {names} exactly, not this proposal"
                    s.confidence = round(s.confidence * penalty, 4)
                    s.signals.append(Signal("amount", penalty - 1, text))
                    s.cautions.append(text)
        numbers = self.book.items
        due = self.book.due
        # Equally likely: fitting first, fewer invoices first, then the oldest due first
        # (what a clerk does with identical invoices), then by number.
        scored.sort(
            key=lambda s: (
                -s.confidence,
                not s.fit.fits,
                len(s.candidate.ids),
                [due[i] for i in s.candidate.ids],
                [numbers[i].invoice_number for i in s.candidate.ids],
            )
        )
        return scored

    def _score(self, cand: Candidate, ctx: Context) -> Scored:
        book = self.book
        w = self.weights
        line = ctx.line
        ids = cand.ids
        result = self._fit_of(cand, ctx)
        signals: list[Signal] = []
        multiplier = 1.0
        # references
        quoted = [i for i in ids if i in ctx.exact]
        fuzzy = [i for i in ids if i in cand.fuzzy]
        fully_quoted = len(quoted) == len(ids)
        if quoted:
            signals.append(self._reference_signal(quoted, len(ids), ctx))
        for i in fuzzy:
            signals.append(
                Signal(
                    "reference",
                    w.reference_fuzzy,
                    f"{cand.fuzzy[i]!r} is one edit away from {book.items[i].invoice_number}",
                )
            )
        left_out = [i for i in ctx.exact if i not in ids]
        if left_out:
            multiplier *= w.penalty_left_out
            signals.append(
                Signal(
                    "left_out",
                    w.penalty_left_out - 1,
                    f"the remittance also quotes {self._numbers(left_out)}, left out here",
                )
            )
        # amount
        signals.extend(self._amount_signals(result, cand, ctx, fully_quoted))
        # payer
        payer_ok = self._payer_signals(ids, ctx, signals)
        others = [c for c in {book.customer[i] for i in ids} if c not in ctx.payers]
        if ctx.strong_payers and others:
            multiplier *= w.penalty_other_payer
            known = ", ".join(self._who(c) for c in sorted(ctx.strong_payers)[:_NAMED])
            signals.append(
                Signal(
                    "payer",
                    w.penalty_other_payer - 1,
                    f"the paying account is known for {known}, not for "
                    f"{', '.join(self._who(c) for c in sorted(others)[:_NAMED])}",
                )
            )
        # dates
        after = [i for i in ids if book.invoice_date[i] > line.booking_date]
        if after:
            multiplier *= w.penalty_dated_after
            signals.append(
                Signal(
                    "date",
                    w.penalty_dated_after - 1,
                    f"{self._numbers(after)} is dated after the payment "
                    f"({line.booking_date.isoformat()})",
                )
            )
        kind = self._kind(result, ctx)
        cautions = self._cautions(ids, result, kind, ctx, fuzzy=bool(fuzzy), payer_ok=payer_ok)
        remaining = 1.0
        for s in signals:
            if s.weight > 0:
                remaining *= 1 - s.weight
        confidence = round((1 - remaining) * multiplier, 4)
        signals.sort(key=lambda s: -s.weight)
        return Scored(cand, result, confidence, signals, cautions)

    def _reference_signal(self, quoted: list[int], size: int, ctx: Context) -> Signal:
        w = self.weights
        hits = [ctx.exact[i] for i in quoted]
        if len(quoted) == size and all(h.structured for h in hits):
            weight = w.reference_structured
            how = "the structured reference (RF, check digits valid)"
        elif all(h.short for h in hits):
            weight, how = w.reference_short, "the remittance, as a short number only,"
        else:
            weight, how = w.reference, "the remittance"
        if len(quoted) < size:
            weight *= len(quoted) / size
        return Signal("reference", weight, f"{how} quotes {self._quoted(quoted, ctx)}")

    def _cautions(
        self,
        ids: tuple[int, ...],
        result: Fit,
        kind: str,
        ctx: Context,
        *,
        fuzzy: bool,
        payer_ok: bool,
    ) -> list[str]:
        """Why this proposal must not be applied without a person (empty: nothing)."""
        line = ctx.line
        cautions: list[str] = []
        left_out = [i for i in ctx.exact if i not in ids]
        settled = [i for i in ctx.closed if i not in ids]
        if settled:
            cautions.append(
                f"the remittance quotes {self._numbers(settled)}, settled already in this run: "
                "a second payment for it?"
            )
        if fuzzy:
            if left_out:
                cautions.append(
                    f"the remittance quotes {self._numbers(left_out)}, itself an open invoice: "
                    "a typo cannot be told from a payment for it"
                )
            if not payer_ok:
                cautions.append("a reference one edit away needs the payer to confirm it")
        if self.today is not None and line.booking_date > self.today:
            cautions.append(f"the line is booked after today ({self.today.isoformat()})")
        if kind == "partial" and not self.policy.auto_partial:
            cautions.append("the policy does not apply partial payments automatically")
        if kind == "overpayment":
            if not self.policy.auto_overpayment:
                cautions.append("the policy does not apply overpayments automatically")
            if result.unapplied > sum(p.cash for p in result.parts):
                cautions.append(
                    "more than twice what is open is paid: it is probably for other invoices too"
                )
        if kind == "deduction" and not self.policy.auto_deduction:
            cautions.append("the policy does not apply deductions automatically")
        return cautions

    def _amount_signals(
        self, result: Fit, cand: Candidate, ctx: Context, fully_quoted: bool
    ) -> list[Signal]:
        book = self.book
        w = self.weights
        parts = result.parts
        total = sum(book.open[p.item] for p in parts) if result.fits else 0
        money = self._money
        kind = result.kind
        if kind is FitKind.OVER:
            opened = sum(p.cash for p in parts)
            return [
                Signal(
                    "amount",
                    0.0,
                    f"pays {money(ctx.units, ctx)} for {money(opened, ctx)} open: "
                    f"{money(result.unapplied, ctx)} stays unapplied",
                )
            ]
        if kind is FitKind.PARTIAL:
            opened = sum(book.open[i] for i in cand.ids)
            text = (
                f"pays {money(ctx.units, ctx)} of {money(opened, ctx)} open: "
                f"{money(result.short, ctx)} stays open"
            )
            if result.expired_discount:
                text += (
                    "; the payer took an early-payment discount that had expired "
                    f"({money(result.expired_discount, ctx)})"
                )
            return [Signal("amount", 0.0, text)]
        discount = sum(p.discount for p in parts)
        fee = sum(p.written_off for p in parts)
        text = f"pays {money(ctx.units, ctx)}"
        if kind is FitKind.EXACT:
            text += ", exactly what is open"
        if discount:
            until = min(d for d in (book.discount_until[p.item] for p in parts if p.discount) if d)
            text += (
                f": {money(total, ctx)} less an early-payment discount of "
                f"{money(discount, ctx)} (valid until {until.isoformat()})"
            )
        if fee:
            text += f"; {money(fee, ctx)} short, written off as a bank fee (within tolerance)"
        is_fee = kind in {FitKind.FEE, FitKind.DISCOUNT_FEE}
        if fully_quoted:
            weight = w.fee_with_reference if is_fee else w.amount_with_reference
        else:
            scope = cand.scope
            if scope == PAYER_UNIQUE:
                weight = w.fee_unique if is_fee else w.amount_unique
                text += "; the only open item (or set of items) of this payer that fits"
            elif scope == PAYER_AMBIGUOUS:
                weight = w.amount_ambiguous
                text += "; other open items of this payer fit as well"
            elif scope == GLOBAL_UNIQUE:
                weight = w.amount_global
                text += "; the only open item with this amount"
            else:
                weight = w.amount_global_ambiguous
                text += "; several open items have this amount"
        return [Signal("amount", weight, text)]

    def _payer_signals(self, ids: Sequence[int], ctx: Context, signals: list[Signal]) -> bool:
        """Add the payer's signal; True when every customer is vouched for."""
        book = self.book
        w = self.weights
        line = ctx.line
        found: list[Payer] = []
        for customer in sorted({book.customer[i] for i in ids}):
            payer = ctx.payers.get(customer)
            if payer is None and line.name:
                similarity = name_similarity(self._line_grams(ctx), book.trigrams_of(customer))
                if similarity >= self.policy.name_strong:
                    payer = Payer(
                        "name",
                        w.name_strong,
                        f"the payer {line.name!r} is {self._who(customer)} by name",
                    )
                elif similarity >= self.policy.name_weak:
                    payer = Payer(
                        "name",
                        w.name_weak,
                        f"the payer {line.name!r} resembles {self._who(customer)}",
                    )
            if payer is None:
                return False
            found.append(payer)
        if not found:
            return False
        weakest = min(found, key=lambda p: p.weight)
        details = list(dict.fromkeys(p.detail for p in found))
        signals.append(Signal(weakest.source, weakest.weight, "; ".join(details)))
        return weakest.source != "name" or weakest.weight >= w.name_strong

    # -- output --------------------------------------------------------------------

    def _kind(self, result: Fit, ctx: Context) -> str:
        if result.kind is FitKind.OVER:
            return "overpayment"
        if result.kind is FitKind.PARTIAL:
            text = " ".join(ctx.line.texts).casefold()
            if len(result.parts) == 1 and any(word in text for word in self._words):
                return "deduction"
            return "partial"
        return "one_to_one" if len(result.parts) == 1 else "one_to_many"

    def _proposal(self, s: Scored, ctx: Context) -> Proposal:
        book = self.book
        kind = self._kind(s.fit, ctx)
        money = self._money_value
        allocations = []
        for part in s.fit.parts:
            deduction = 0
            if kind == "deduction":
                deduction = book.open[part.item] - part.cash
            allocations.append(
                Allocation(
                    invoice_number=book.items[part.item].invoice_number,
                    amount=money(part.cash, ctx),
                    discount=money(part.discount, ctx) if part.discount else None,
                    written_off=money(part.written_off, ctx) if part.written_off else None,
                    deduction=money(deduction, ctx) if deduction else None,
                )
            )
        return Proposal(
            allocations=tuple(allocations),
            confidence=s.confidence,
            signals=tuple(s.signals),
            unapplied=money(s.fit.unapplied, ctx) if s.fit.unapplied else None,
            kind=kind,
            cautions=tuple(s.cautions),
        )

    @staticmethod
    def _money_value(units: int, ctx: Context) -> Money:
        # Exact integer units scaled to the currency: valid by construction.
        return Money._trusted(Decimal(units).scaleb(-ctx.exponent), ctx.currency)

    def _money(self, units: int, ctx: Context) -> str:
        exponent = ctx.exponent
        if not exponent:
            return f"{units} {ctx.currency}"
        whole, cents = divmod(abs(units), 10**exponent)
        sign = "-" if units < 0 else ""
        return f"{sign}{whole}.{cents:0{exponent}d} {ctx.currency}"

    def _numbers(self, ids: Iterable[int]) -> str:
        numbers = [self.book.items[i].invoice_number for i in ids]
        text = ", ".join(numbers[:_NAMED])
        if len(numbers) > _NAMED:
            text += f" and {len(numbers) - _NAMED} more"
        return text

    def _quoted(self, ids: Sequence[int], ctx: Context) -> str:
        parts = []
        for i in ids[:_NAMED]:
            number = self.book.items[i].invoice_number
            seen = ctx.exact[i].seen
            parts.append(number if seen == number else f"{number} (as {seen!r})")
        text = ", ".join(parts)
        if len(ids) > _NAMED:
            text += f" and {len(ids) - _NAMED} more"
        return text
