"""Importing statements exactly once, and bank lines becoming receipts.

Each line is stored once per account and line id, however many statements repeat it;
a line id that comes back with another amount or booking date is a conflict and the
whole statement is refused. Incoming lines become receipts only when cash
application receives them, so the cash ledger keeps its law.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.engine_cases import ADA, BOB, INVOICE, ORDER, World, eur, invoiced, new_world
from tests.unit.engine_cases_cashapp import ACCOUNT, entry, statement

from o2c.adapters.memory import MemoryStorage
from o2c.adapters.statements.csv_reader import STATEMENT_CSV
from o2c.adapters.statements.detect import detect_format, read_statement
from o2c.adapters.statements.mt940 import read_mt940
from o2c.bank_lines import BankLine, StatementImport, line_key
from o2c.cash import summarize
from o2c.clock import FixedClock
from o2c.engine import O2C
from o2c.errors import (
    BankLineAlreadyReceivedError,
    ConfigurationError,
    DuplicateStatementLineError,
    EngineStateError,
    IdempotencyConflictError,
    InsufficientUnappliedCashError,
    NotFoundError,
    StatementBalanceError,
    StatementLineConflictError,
    StatementTooLargeError,
    StatementValueError,
    UnsupportedStatementError,
)
from o2c.events import BankLineReceived, DomainEvent, StatementImported
from o2c.statements import EntryDetail, Statement, StatementEntry
from o2c.testing.card_data import card_numbers_in

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
OTHER_ACCOUNT = "NL91ABNA0417164300"
CARD = "4111 1111 1111 1111"


def _events(engine: O2C) -> list[DomainEvent]:
    storage = getattr(engine.storage, "inner", engine.storage)  # under fault injection
    assert isinstance(storage, MemoryStorage)
    return [event for _, event, _ in storage.snapshot().outbox]


def _engine() -> O2C:
    return O2C(MemoryStorage(), clock=FixedClock(NOW))


FIRST = statement(
    [
        entry("A", "119.00", counterparty_name="Ada Lovelace", remittance="INV-000001"),
        entry("B", "-30.00", remittance="bank fees"),
        entry("C", "50.00", counterparty_iban=ACCOUNT, end_to_end_id="E2E-C"),
    ]
)


# -- importing ---------------------------------------------------------------------------


def test_each_booked_entry_becomes_a_bank_line() -> None:
    engine = _engine()
    result = engine.import_statement("k1", FIRST)
    assert result == StatementImport(
        account=ACCOUNT,
        statement_id="S1",
        new=("BL-000001", "BL-000002", "BL-000003"),
        known=(),
    )
    first = engine.bank_line("BL-000001")
    assert first == BankLine(
        id="BL-000001",
        key=line_key(ACCOUNT, "A"),
        account=ACCOUNT,
        line_id="A",
        statement_id="S1",
        source_format="test",
        booking_date=date(2026, 3, 2),
        amount=eur("119.00"),
        counterparty_name="Ada Lovelace",
        remittance="INV-000001",
        imported_at=NOW,
    )
    assert (first.direction, first.receivable, first.unmatched) == ("in", True, True)
    assert engine.bank_lines() == tuple(engine.bank_line(i) for i in result.new)


def test_importing_a_statement_again_adds_nothing() -> None:
    engine = _engine()
    first = engine.import_statement("k1", FIRST)
    stored = engine.bank_lines()
    again = engine.import_statement("k2", FIRST)
    assert (again.new, again.known) == ((), first.new)
    assert engine.bank_lines() == stored


def test_an_overlapping_statement_adds_only_its_new_lines() -> None:
    engine = _engine()
    engine.import_statement("k1", FIRST)
    overlap = statement(
        [FIRST.entries[1], FIRST.entries[2], entry("D", "10.00")], statement_id="S2"
    )
    result = engine.import_statement("k2", overlap)
    assert (result.new, result.known) == (("BL-000004",), ("BL-000002", "BL-000003"))
    assert [line.line_id for line in engine.bank_lines()] == ["A", "B", "C", "D"]


def test_a_line_id_with_other_facts_is_a_conflict_and_nothing_is_stored() -> None:
    engine = _engine()
    engine.import_statement("k1", FIRST)
    storage = engine.storage
    assert isinstance(storage, MemoryStorage)
    before = storage.snapshot()
    contradicting = statement(
        [
            entry("A", "119.01"),
            entry("new", "5.00"),
            entry("C", "50.00", date(2026, 3, 3)),
            entry("B", "-30.00"),
        ],
        statement_id="S2",
    )
    with pytest.raises(StatementLineConflictError) as conflict:
        engine.import_statement("k2", contradicting)
    assert conflict.value.account == ACCOUNT
    assert conflict.value.conflicts == (
        "A: amount 119.00 EUR stored, 119.01 EUR now",
        "C: booking date 2026-03-02 stored, 2026-03-03 now",
    )
    assert storage.snapshot() == before
    # The key stayed free: the caller may import a corrected statement under it.
    assert engine.import_statement("k2", statement([entry("new", "5.00")])).new == ("BL-000004",)


def test_the_same_line_id_on_another_account_is_another_line() -> None:
    engine = _engine()
    engine.import_statement("k1", FIRST)
    other = attrs.evolve(FIRST, account=OTHER_ACCOUNT)
    assert len(engine.import_statement("k2", other).new) == 3
    assert len(engine.bank_lines(account=OTHER_ACCOUNT)) == 3
    assert len(engine.bank_lines(account=ACCOUNT)) == 3


def test_entries_the_bank_has_not_booked_are_left_out_and_counted() -> None:
    engine = _engine()
    pending = attrs.evolve(entry("P", "99.00"), booked=False)
    booked_only = statement([entry("A", "1.00"), pending], closing=eur("1001.00"))
    result = engine.import_statement("k1", booked_only)
    assert (len(result.new), result.pending) == (1, 1)


def test_a_statement_without_balances_is_imported() -> None:
    engine = _engine()
    assert (
        len(engine.import_statement("k1", statement([entry("A", "1.00")], opening=None)).new) == 1
    )


def test_a_statement_that_does_not_reconcile_is_never_imported() -> None:
    data = (
        f":20:S\n:25:{ACCOUNT}\n:28C:1\n:60F:C260301EUR100,00\n"
        ":61:2603020302C19,98NTRF//R1\n:62F:C260302EUR119,99\n-"
    ).encode()
    (inspected,) = read_mt940(data, check_balances=False)
    engine = _engine()
    with pytest.raises(StatementBalanceError) as refused:
        engine.import_statement("k1", inspected)
    assert refused.value.difference == eur("0.01")
    assert engine.bank_lines() == ()


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (attrs.evolve(FIRST, account=" "), StatementValueError),
        (statement([entry("A", "1.00"), entry("A", "2.00")]), DuplicateStatementLineError),
        (statement([entry("", "1.00")]), StatementValueError),
        (statement([entry("x" * 256, "1.00")]), StatementValueError),
        (
            Statement("S", ACCOUNT, "USD", (entry("A", "1.00"),), source_format="test"),
            StatementValueError,
        ),
        ("not a statement", StatementValueError),
    ],
    ids=["no-account", "duplicate", "empty-id", "long-id", "currency", "not-a-statement"],
)
def test_statements_that_cannot_be_imported(bad: Statement, error: type[Exception]) -> None:
    engine = _engine()
    with pytest.raises(error):
        engine.import_statement("k1", bad)
    assert engine.bank_lines() == ()


def test_the_import_emits_one_event_with_the_money() -> None:
    engine = _engine()
    result = engine.import_statement("k1", FIRST)
    engine.import_statement("k2", FIRST)
    first, again = [e for e in _events(engine) if isinstance(e, StatementImported)]
    assert first == StatementImported(
        aggregate_id=ACCOUNT,
        occurred_at=NOW,
        statement_id="S1",
        new_lines=result.new,
        known_lines=0,
        money_in=eur("169.00"),
        money_out=eur("-30.00"),
    )
    assert (again.new_lines, again.known_lines, again.money_in) == ((), 3, eur("0.00"))


def test_card_numbers_are_masked_but_lines_stay_apart() -> None:
    engine = _engine()
    detail = EntryDetail(amount=eur("1.00"), remittance=f"card {CARD}")
    card_statement = statement(
        [
            entry("4111111111111111", "1.00", remittance=f"paid with {CARD}", details=(detail,)),
            entry("4111 1111 1111 1111", "2.00", counterparty_name=f"card {CARD}"),
        ],
        account=f"acct {CARD}",
        statement_id=f"S {CARD}",
    )
    result = engine.import_statement("k1", card_statement)
    first, second = engine.bank_lines()
    assert len(result.new) == 2  # ids that mask alike are still two lines
    assert first.line_id == "************1111"
    assert first.remittance == "paid with **** **** **** 1111"
    assert first.details[0].remittance == "card **** **** **** 1111"
    assert second.counterparty_name == "card **** **** **** 1111"
    assert (result.account, first.account) == ("acct **** **** **** 1111",) * 2
    assert card_numbers_in(repr(engine.storage.snapshot())) == []  # type: ignore[attr-defined]
    assert engine.import_statement("k2", card_statement).known == result.new


# -- the bank lines view -------------------------------------------------------------------------


def test_outgoing_zero_and_reversed_lines_are_kept_but_are_not_work() -> None:
    engine = _engine()
    engine.import_statement(
        "k1",
        statement(
            [
                entry("in", "5.00"),
                entry("out", "-5.00"),
                entry("zero", "0.00"),
                entry("back", "3.00", reversal=True),
            ]
        ),
    )
    lines = {line.line_id: line for line in engine.bank_lines()}
    assert {k: v.direction for k, v in lines.items()} == {
        "in": "in",
        "out": "out",
        "zero": "zero",
        "back": "in",
    }
    assert [line.line_id for line in engine.bank_lines(unmatched_only=True)] == ["in"]
    assert engine.bank_lines(account=OTHER_ACCOUNT, unmatched_only=True) == ()
    assert [line.line_id for line in engine.bank_lines(ACCOUNT, unmatched_only=True)] == ["in"]


# -- receiving a line ---------------------------------------------------------------------------


def _imported(w: World) -> None:
    invoiced(w)
    w.engine.import_statement("setup-import", FIRST)


def test_a_received_line_is_a_receipt_once_and_leaves_the_work_list() -> None:
    w = new_world()
    _imported(w)
    receipt = w.engine.receive_bank_line("r1", "BL-000001")
    assert (receipt.amount, receipt.reference, receipt.payer_name, receipt.customer_id) == (
        eur("119.00"),
        "INV-000001",
        "Ada Lovelace",
        None,
    )
    assert receipt.unapplied == eur("119.00")
    assert w.engine.bank_line("BL-000001").receipt_id == receipt.id
    assert [line.id for line in w.engine.bank_lines(unmatched_only=True)] == ["BL-000003"]
    with pytest.raises(BankLineAlreadyReceivedError) as again:
        w.engine.receive_bank_line("r2", "BL-000001")
    assert again.value.receipt_id == receipt.id
    received = [e for e in _events(w.engine) if isinstance(e, BankLineReceived)]
    assert received == [
        BankLineReceived(
            aggregate_id="BL-000001",
            occurred_at=w.clock.now(),
            receipt_id=receipt.id,
            amount=eur("119.00"),
        )
    ]


def test_a_line_received_with_allocations_pays_the_invoice_in_one_step() -> None:
    w = new_world()
    _imported(w)
    receipt = w.engine.receive_bank_line("r1", "BL-000001", allocations={INVOICE: eur("119.00")})
    assert receipt.customer_id == ADA.id  # from the invoice
    assert receipt.unapplied == eur("0.00")
    assert w.engine.invoice(INVOICE).open_amount == eur("0.00")


def test_a_partial_allocation_leaves_the_rest_unapplied_and_the_ledger_conserved() -> None:
    w = new_world()
    _imported(w)
    first = w.engine.receive_bank_line("r1", "BL-000003", "ada", {INVOICE: eur("20.00")})
    second = w.engine.receive_bank_line("r2", "BL-000001", "ada", {INVOICE: eur("99.00")})
    assert (first.unapplied, second.unapplied) == (eur("30.00"), eur("20.00"))
    receipts = [w.engine.receipt(first.id), w.engine.receipt(second.id)]
    (summary,) = summarize(receipts)
    assert summary.received == eur("169.00")  # = the incoming lines received
    assert summary.applied + summary.unapplied == summary.received


@pytest.mark.parametrize(
    ("line", "kwargs", "error"),
    [
        ("BL-000002", {}, EngineStateError),  # money out
        ("BL-404", {}, NotFoundError),
        ("BL-000001", {"customer_id": "nobody"}, NotFoundError),
        (
            "BL-000001",
            {"customer_id": "bob", "allocations": {INVOICE: eur("1.00")}},
            EngineStateError,
        ),
        ("BL-000001", {"allocations": {"INV-404": eur("1.00")}}, NotFoundError),
        ("BL-000003", {"allocations": {INVOICE: eur("60.00")}}, InsufficientUnappliedCashError),
    ],
    ids=[
        "money-out",
        "no-line",
        "no-customer",
        "other-customers-invoice",
        "no-invoice",
        "too-much",
    ],
)
def test_lines_that_cannot_be_received(
    line: str, kwargs: dict[str, object], error: type[Exception]
) -> None:
    w = new_world()
    _imported(w)
    w.engine.add_customer("setup-bob", BOB)
    before = w.snapshot()
    with pytest.raises(error):
        w.engine.receive_bank_line("r1", line, **kwargs)  # type: ignore[arg-type]
    assert w.snapshot() == before


def test_a_reversal_is_not_received() -> None:
    engine = _engine()
    engine.import_statement("k1", statement([entry("back", "3.00", reversal=True)]))
    with pytest.raises(EngineStateError, match="reversal"):
        engine.receive_bank_line("r1", "BL-000001")


def test_a_received_line_quoting_a_transfer_reference_pays_that_order() -> None:
    w = new_world()
    invoiced(w)
    tender = w.engine.expect_bank_transfer("expect", ORDER)
    line = entry(
        "T1",
        "119.00",
        remittance=f"order SO-1 {tender.reference}",
        counterparty_iban="DE44500105175407324931",
    )
    w.engine.import_statement("import", statement([line]))
    receipt = w.engine.receive_bank_line("receive", "BL-000001")
    assert receipt.payer_iban == "DE44500105175407324931"
    applied = w.engine.apply_bank_transfer("apply", receipt.id)
    assert applied.tender_id == tender.id
    assert w.engine.invoice(INVOICE).open_amount == eur("0.00")


def test_long_or_multi_line_texts_fit_the_receipt() -> None:
    engine = _engine()
    text = "line one\nline two " + "x" * 300
    engine.import_statement(
        "k1",
        statement(
            [
                entry(
                    "A",
                    "1.00",
                    remittance=text,
                    counterparty_name="n" * 300,
                    structured_reference="RF18539007547034",
                )
            ]
        ),
    )
    receipt = engine.receive_bank_line("r1", "BL-000001")
    assert receipt.reference.startswith("RF18539007547034 line one line two xxx")
    assert len(receipt.reference) == 140
    assert receipt.payer_name is not None
    assert len(receipt.payer_name) == 140


def test_a_changed_statement_under_the_same_key_conflicts_on_statement() -> None:
    engine = _engine()
    engine.import_statement("k1", FIRST)
    with pytest.raises(IdempotencyConflictError) as conflict:
        engine.import_statement("k1", attrs.evolve(FIRST, statement_id="S9"))
    assert conflict.value.field == "statement"


# -- properties: overlapping imports --------------------------------------------------------------


POOL = st.lists(
    st.tuples(st.integers(-10_000, 10_000), st.integers(0, 30)), min_size=1, max_size=12
).map(
    lambda rows: [
        entry(f"L{i}", str(amount / 100), date(2026, 3, 1 + day % 28))
        for i, (amount, day) in enumerate(rows)
    ]
)


@st.composite
def imports(draw: st.DrawFn) -> tuple[list[StatementEntry], list[list[int]]]:
    pool = draw(POOL)
    windows = draw(
        st.lists(
            st.lists(st.integers(0, len(pool) - 1), unique=True, max_size=len(pool)),
            min_size=1,
            max_size=5,
        )
    )
    return pool, windows


@given(drawn=imports())
def test_random_overlapping_imports_store_the_union_once(
    drawn: tuple[list[StatementEntry], list[list[int]]],
) -> None:
    pool, windows = drawn
    engine = _engine()
    seen: set[str] = set()
    new_ids: list[str] = []
    for number, window in enumerate(windows):
        result = engine.import_statement(
            f"k{number}", statement([pool[i] for i in window], statement_id=f"S{number}")
        )
        by_id = {engine.bank_line(i).line_id: i for i in (*result.new, *result.known)}
        assert sorted(by_id) == sorted(pool[i].line_id for i in window)
        assert {engine.bank_line(i).line_id for i in result.new} == {
            pool[i].line_id for i in window
        } - seen
        seen |= {pool[i].line_id for i in window}
        new_ids.extend(result.new)
    stored = engine.bank_lines()
    assert len(new_ids) == len(set(new_ids)) == len(stored)
    assert {(s.line_id, s.amount, s.booking_date) for s in stored} == {
        (e.line_id, e.amount, e.booking_date) for e in {pool[i] for w in windows for i in w}
    }


@given(drawn=imports(), which=st.integers(0, 100), cents=st.integers(1, 99))
def test_a_statement_contradicting_any_stored_line_stores_nothing(
    drawn: tuple[list[StatementEntry], list[list[int]]], which: int, cents: int
) -> None:
    pool, windows = drawn
    engine = _engine()
    engine.import_statement("first", statement(pool, statement_id="all"))
    storage = engine.storage
    assert isinstance(storage, MemoryStorage)
    before = storage.snapshot()
    window = windows[0] or [0]
    changed = window[which % len(window)]
    entries = [pool[i] for i in window]
    entries[window.index(changed)] = attrs.evolve(
        pool[changed], amount=pool[changed].amount + eur(f"0.{cents:02d}")
    )
    with pytest.raises(StatementLineConflictError) as conflict:
        engine.import_statement("second", statement([*entries, entry("fresh", "1.00")]))
    assert [c.split(":")[0] for c in conflict.value.conflicts] == [pool[changed].line_id]
    assert storage.snapshot() == before


@pytest.mark.parametrize("account", ["", "12345678", "DE00370400440532013000", "D" * 65])
def test_a_receipt_keeps_the_payer_account_only_when_it_is_an_iban(account: str) -> None:
    engine = _engine()
    engine.import_statement("k1", statement([entry("A", "1.00", counterparty_iban=account)]))
    assert engine.receive_bank_line("r1", "BL-000001").payer_iban is None


# -- reading any format, then importing -------------------------------------------------------


MT940_FILE = (
    f":20:S\n:25:{ACCOUNT}\n:28C:1\n:60F:C260301EUR0,00\n"
    ":61:2603020302C5,00NTRF//R1\n:62F:C260302EUR5,00\n-"
).encode()
CSV_FILE = (
    b"line_id,booking_date,amount,currency,counterparty_name,counterparty_iban,"
    b"remittance_info,end_to_end_id\nL1,2026-03-02,5.00,EUR,,,,\n"
)


def test_read_statement_tells_the_formats_apart_and_imports_once() -> None:
    engine = _engine()
    mapping = attrs.evolve(STATEMENT_CSV, account=ACCOUNT)
    for number, data in enumerate((MT940_FILE, CSV_FILE, MT940_FILE)):
        for statement_read in read_statement(data, csv_mapping=mapping):
            engine.import_statement(f"k{number}", statement_read)
    assert [line.line_id for line in engine.bank_lines()] == ["R1", "L1"]
    assert detect_format(b"\xef\xbb\xbf  <?xml version='1.0'?><Document/>") == "camt"
    assert read_statement(CSV_FILE, "csv")[0].source_format == "csv"
    assert read_statement(MT940_FILE, "mt940", encoding="utf-8")[0].source_format == "mt940"


def test_read_statement_refuses_unknown_formats_and_archives() -> None:
    with pytest.raises(ConfigurationError):
        read_statement(MT940_FILE, "bai2")
    with pytest.raises(UnsupportedStatementError, match="ZIP"):
        read_statement(b"PK\x03\x04rest")
    with pytest.raises(StatementTooLargeError):
        read_statement(MT940_FILE, max_bytes=10)


CAMT = (
    b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
    b"<GrpHdr><MsgId>1</MsgId></GrpHdr><Stmt><Id>S1</Id><Acct><Id><IBAN>"
    + ACCOUNT.encode()
    + b'</IBAN></Id><Ccy>EUR</Ccy></Acct><Ntry><Amt Ccy="EUR">12.50</Amt>'
    b"<CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-03-02</Dt></BookgDt>"
    b"<AcctSvcrRef>B1</AcctSvcrRef></Ntry></Stmt></BkToCstmrStmt></Document>"
)


def test_read_statement_reads_camt_and_checks_the_message_asked_for() -> None:
    (auto,) = read_statement(CAMT)
    assert auto.source_format.startswith("camt.053")
    assert read_statement(CAMT, "camt053") == (auto,)
    with pytest.raises(UnsupportedStatementError, match=r"not camt\.054"):
        read_statement(CAMT, "camt054")
    engine = _engine()
    assert engine.import_statement("k1", auto).new == ("BL-000001",)
