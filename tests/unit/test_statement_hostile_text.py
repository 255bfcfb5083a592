"""Hostile and malformed MT940 and CSV files: each one is refused with a typed error
that says where, within 2 seconds and 256 MB, and nothing of it reaches the engine.

The inputs are generated from two good files (one MT940 statement, one STATEMENT.csv):
cut short at many points, invalid UTF-8 at many positions, every spelling of a bad
amount, mandatory tags missing or out of order, files over the size limit, absurd
lines, NUL and other control bytes, a CSV "bomb" of columns, formula cells, broken
envelopes and quoting, and bytes that are no statement at all. (The camt reader's XML
inputs are in the camt tests.)
"""

from __future__ import annotations

import re
import time
import tracemalloc
from collections.abc import Iterator

import attrs
import pytest

from o2c.adapters.memory import MemoryStorage
from o2c.adapters.statements._text import DEFAULT_MAX_BYTES
from o2c.adapters.statements.csv_reader import STATEMENT_CSV
from o2c.adapters.statements.detect import read_statement
from o2c.engine import O2C
from o2c.errors import (
    StatementEncodingError,
    StatementFormatError,
    StatementStructureError,
    StatementTooLargeError,
    StatementValueError,
    UnsupportedStatementError,
)

TIME_LIMIT = 2.0
MEMORY_LIMIT = 256 * 1024 * 1024
IBAN = "DE89370400440532013000"

GOOD_MT940 = (
    "{1:F01BANKDEFFXXXX0000000000}{2:I940BANKDEFFXXXXN}{4:\n"
    ":20:STMT1\n"
    f":25:{IBAN}\n"
    ":28C:7/1\n"
    ":60F:C260301EUR100,00\n"
    ":61:2603020302C19,99NTRFNONREF//B1\n"
    ":86:166?00GUTSCHRIFT?20SVWZ+Invoice INV-1?32Ada Lovelace\n"
    ":62F:C260302EUR119,99\n"
    "-}"
).encode()
GOOD_CSV = (
    "line_id,booking_date,amount,currency,counterparty_name,counterparty_iban,"
    "remittance_info,end_to_end_id\n"
    f"L1,2026-03-02,119.00,EUR,Ada Lovelace,{IBAN},INV-1,E2E-1\n"
    "L2,2026-03-03,-30.00,EUR,Bank,,fees,\n"
).encode()
CSV_MAPPING = attrs.evolve(STATEMENT_CSV, account=IBAN)
POSITION = re.compile(r"(line \d+(, column \d+.*)?|byte \d+|\(input\))")


@attrs.frozen
class Hostile:
    name: str
    data: bytes
    format: str
    error: type[StatementFormatError]
    encoding: str | None = None
    max_bytes: int = DEFAULT_MAX_BYTES


def _mt940(name: str, data: bytes, error: type[StatementFormatError], **kw: object) -> Hostile:
    return Hostile(f"mt940-{name}", data, "mt940", error, **kw)  # type: ignore[arg-type]


def _csv(name: str, data: bytes, error: type[StatementFormatError], **kw: object) -> Hostile:
    return Hostile(f"csv-{name}", data, "csv", error, **kw)  # type: ignore[arg-type]


def _mt940_cases() -> Iterator[Hostile]:
    closing_end = GOOD_MT940.index(b"119,99") + len(b"119,99")
    # cut short anywhere before the closing balance is complete
    for cut in range(60, closing_end, 17):
        yield _mt940(f"cut-{cut}", GOOD_MT940[:cut], StatementFormatError)
    # invalid UTF-8 in a file declared UTF-8
    for at in range(0, len(GOOD_MT940), 29):
        for bad in (b"\xff", b"\xc3\x28", b"\xed\xa0\x80"):
            data = GOOD_MT940[:at] + bad + GOOD_MT940[at:]
            yield _mt940(f"utf8-{at}-{bad.hex()}", data, StatementEncodingError, encoding="utf-8")
    for amount in (
        "NaN",
        "1e3",
        "1,000.00",
        "1.000,00",
        "-19,99",
        "19,999",
        "1_9,99",
        "Infinity",
        "\u0661\u0669,99",
        "0x13",
        "19,99,",
        " 19,99",
        "9" * 16 + ",00",
    ):
        data = GOOD_MT940.replace(b"C19,99NTRF", f"C{amount}NTRF".encode())
        yield _mt940(f"amount-{amount}", data, StatementValueError)
    for balance in (
        "C260301EUR1e2",
        "C260301EURNaN",
        "C260301EUR1.000,00",
        "C260399EUR100,00",
        "C260301EU100,00",
        "Z260301EUR100,00",
        "C260301EUR",
    ):
        data = GOOD_MT940.replace(b"C260301EUR100,00", balance.encode())
        yield _mt940(f"balance-{balance}", data, StatementValueError)
    for tag in (
        b":20:STMT1\n",
        f":25:{IBAN}\n".encode(),
        b":60F:C260301EUR100,00\n",
        b":62F:C260302EUR119,99\n",
    ):
        yield _mt940(
            f"missing-{tag[:5].decode()}", GOOD_MT940.replace(tag, b""), StatementFormatError
        )
    swaps = {
        "account-after-opening": (
            f":25:{IBAN}\n:28C:7/1\n:60F:C260301EUR100,00\n",
            f":28C:7/1\n:60F:C260301EUR100,00\n:25:{IBAN}\n",
        ),
        "closing-before-entry": (
            ":61:2603020302C19,99NTRFNONREF//B1\n"
            ":86:166?00GUTSCHRIFT?20SVWZ+Invoice INV-1?32Ada Lovelace\n"
            ":62F:C260302EUR119,99\n",
            ":62F:C260302EUR119,99\n:61:2603020302C19,99NTRFNONREF//B1\n",
        ),
        "20-in-the-middle": (":61:", ":20:X\n:61:"),
        "unknown-tag": (":28C:7/1\n", ":28C:7/1\n:99:what\n"),
        "twice-opening": (
            ":60F:C260301EUR100,00\n",
            ":60F:C260301EUR100,00\n:60F:C260301EUR100,00\n",
        ),
        "entry-before-20": (":20:STMT1\n", ":61:2603020302C19,99NTRFNONREF\n:20:STMT1\n"),
    }
    for name, (old, new) in swaps.items():
        yield _mt940(
            f"order-{name}", GOOD_MT940.replace(old.encode(), new.encode()), StatementFormatError
        )
    yield _mt940(
        "over-the-limit", GOOD_MT940, StatementTooLargeError, max_bytes=len(GOOD_MT940) - 1
    )
    yield _mt940(
        "over-the-default-limit", b":20:" + b"X" * DEFAULT_MAX_BYTES, StatementTooLargeError
    )
    yield _mt940(
        "absurd-line", GOOD_MT940.replace(b"Invoice", b"I" * 200_000), StatementFormatError
    )
    yield _mt940("absurd-header", b"X" * 1_000_000 + b"\n" + GOOD_MT940, StatementFormatError)
    yield _mt940("nul", GOOD_MT940.replace(b"Invoice", b"In\x00voice"), StatementFormatError)
    yield _mt940("escape", GOOD_MT940.replace(b"Invoice", b"\x1b[31mInvoice"), StatementFormatError)
    yield _mt940("bell-in-tag", GOOD_MT940.replace(b":20:", b":20:\x07"), StatementFormatError)
    yield _mt940("nested-envelope", b"{1:" * 600 + GOOD_MT940, StatementStructureError)
    yield _mt940("long-envelope", b"{1:" * 50_000 + GOOD_MT940, StatementFormatError)
    yield _mt940("open-envelope", b"{1:F01BANK\n" + GOOD_MT940, StatementStructureError)
    yield _mt940("only-61", b":61:2603020302C19,99NTRF\n" * 200_000, StatementStructureError)
    yield _mt940(
        "many-entries-no-closing",
        GOOD_MT940.replace(b":62F:C260302EUR119,99\n", b":61:2603020302C1,00NTRF//X\n" * 10_000),
        StatementFormatError,
    )
    yield _mt940(
        "mt942", GOOD_MT940.replace(b":60F:", b":34F:EURD0,\n:60F:"), UnsupportedStatementError
    )
    yield _mt940(
        "dash-storm",
        GOOD_MT940.replace(b":62F:C260302EUR119,99\n", b"-\n\n\nx\n" * 5_000),
        StatementStructureError,
    )
    yield _mt940(
        "tag-like-storm",
        GOOD_MT940.replace(b"Invoice", b"Invoice\n:12:34" * 20_000).replace(b"119,99", b"1,00"),
        StatementFormatError,
    )
    yield _mt940("not-mt940", b"hello world\n" * 3, UnsupportedStatementError)
    yield _mt940(
        "utf16", b"\xff\xfe" + GOOD_MT940.decode().encode("utf-16-le"), StatementEncodingError
    )


def _csv_cases() -> Iterator[Hostile]:
    for amount in (
        "NaN",
        "1e3",
        "1,000.00",
        "Infinity",
        "(5.00)",
        "5.00-",
        "\u0665",
        "1_000",
        "0x1F",
        ".5",
    ):
        yield _csv(
            f"amount-{amount}",
            GOOD_CSV.replace(b"119.00", f'"{amount}"'.encode()),
            StatementValueError,
        )
    for at in (0, 40, 130, len(GOOD_CSV) - 3):
        yield _csv(
            f"utf8-{at}", GOOD_CSV[:at] + b"\xc3\x28" + GOOD_CSV[at:], StatementEncodingError
        )
    for formula in ("=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1"):
        quoted = '"' + formula.replace('"', '""') + '"'
        yield _csv(
            f"formula-{formula[:4]!r}",
            GOOD_CSV.replace(b"Ada Lovelace", quoted.encode()),
            StatementValueError,
        )
    row = GOOD_CSV.index(b"\nL1") + 1
    last_cell = row + GOOD_CSV[row:].index(b",INV-1")  # before it, the row is short
    for cut in (0, 40, *range(row, last_cell, 9)):
        yield _csv(f"cut-{cut}", GOOD_CSV[:cut], StatementFormatError)
    yield _csv("column-bomb", GOOD_CSV + b"," * 60_000 + b"\n", StatementStructureError)
    yield _csv("wide-row", GOOD_CSV + b"x," * 1_000 + b"\n", StatementStructureError)
    yield _csv("cell-bomb", GOOD_CSV + b'L3,"' + b"x\n" * 70_000 + b'"\n', StatementStructureError)
    yield _csv("absurd-line", GOOD_CSV.replace(b"fees", b"f" * 100_000), StatementStructureError)
    yield _csv("nul", GOOD_CSV.replace(b"fees", b"fe\x00es"), StatementFormatError)
    yield _csv("over-the-limit", GOOD_CSV, StatementTooLargeError, max_bytes=len(GOOD_CSV) - 1)
    yield _csv("stray-quote", GOOD_CSV.replace(b"Bank", b'"Ba"nk'), StatementStructureError)
    yield _csv("duplicate-id", GOOD_CSV.replace(b"L2,", b"L1,"), StatementFormatError)
    yield _csv(
        "second-currency", GOOD_CSV.replace(b"-30.00,EUR", b"-30.00,USD"), StatementValueError
    )
    yield _csv("bad-date", GOOD_CSV.replace(b"2026-03-03", b"2026-02-31"), StatementValueError)
    yield _csv(
        "bad-iban", GOOD_CSV.replace(IBAN.encode(), b"DE00370400440532013000"), StatementValueError
    )
    yield _csv("header-only", GOOD_CSV.split(b"\n")[0] + b"\n", StatementStructureError)
    yield _csv("missing-column", GOOD_CSV.replace(b"amount,", b"sum,", 1), StatementStructureError)
    for name, data in (
        ("zip", b"PK\x03\x04" + GOOD_CSV),
        ("gzip", b"\x1f\x8b\x08" + b"\x00" * 20),
        ("pdf", b"%PDF-1.7\n"),
    ):
        yield Hostile(f"auto-{name}", data, "auto", UnsupportedStatementError)
    yield Hostile("auto-binary", bytes(range(256)) * 40, "auto", StatementFormatError)
    # A line with a comma may be CSV: then its header lacks the mapped columns.
    yield Hostile("auto-prose", b"Dear customer, see attached.", "auto", StatementStructureError)
    yield Hostile("auto-text", b"Dear customer: see attached.", "auto", UnsupportedStatementError)


CASES = [*_mt940_cases(), *_csv_cases()]


def test_there_are_enough_hostile_inputs() -> None:
    assert len(CASES) >= 40
    assert len({case.name for case in CASES}) == len(CASES)


def _import_file(engine: O2C, case: Hostile, prefix: str = "import") -> None:
    """What a host does with a file: read it, then import every statement."""
    statements = read_statement(
        case.data,
        case.format,
        csv_mapping=CSV_MAPPING,
        max_bytes=case.max_bytes,
        encoding=case.encoding,
    )
    for index, statement in enumerate(statements):
        engine.import_statement(f"{prefix}-{index}", statement)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_hostile_file_is_refused_with_a_position_in_bounded_time_and_memory(
    case: Hostile,
) -> None:
    storage = MemoryStorage()
    engine = O2C(storage)
    before = storage.snapshot()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(case.error) as refused:
            _import_file(engine, case)
    finally:
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    error = refused.value
    assert POSITION.fullmatch(error.position), error.position
    assert error.reason
    assert elapsed < TIME_LIMIT, f"{elapsed:.2f} s"
    assert peak < MEMORY_LIMIT, f"{peak / 2**20:.0f} MiB"
    assert storage.snapshot() == before  # nothing applied
    assert engine.bank_lines() == ()


def test_the_good_files_the_hostile_ones_come_from_are_read() -> None:
    engine = O2C()
    goods = ((GOOD_MT940, "mt940"), (GOOD_CSV, "csv"), (GOOD_MT940, "auto"), (GOOD_CSV, "auto"))
    for number, (data, fmt) in enumerate(goods):
        case = Hostile("good", data, fmt, StatementFormatError, encoding="utf-8")
        _import_file(engine, case, prefix=f"good-{number}")
    assert len(engine.bank_lines()) == 3  # read twice, stored once
