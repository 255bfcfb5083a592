"""Every camt.052/053/054 file in the shared samples is read or refused, as pinned here.

The samples (``/work/shared/samples/camt05{2,3,4}``, described in the folder's
``SOURCES.md``) are read in place and never copied into the repository. Each file's
outcome is pinned in :data:`EXPECTED`: read with N entries per statement (and then
its balances reconcile wherever it states both), or refused with a typed error for a
stated reason. A file added to the folders, or a file whose outcome changes, fails
the suite. docs/statements.md lists the same outcomes.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import attrs
import pytest

from o2c.adapters.statements.camt import read_camt
from o2c.errors import (
    StatementBalanceError,
    StatementFormatError,
    StatementValueError,
    UnsupportedStatementError,
)
from o2c.money import money_sum

pytestmark = pytest.mark.samples

FOLDERS = ("camt052", "camt053", "camt054")


@attrs.frozen
class Read:
    """Read: entries per statement; ``reconciles`` per statement (None: the file does
    not state both an opening and a closing balance)."""

    entries: tuple[int, ...]
    reconciles: tuple[bool | None, ...]


@attrs.frozen
class Refused:
    """Refused with ``error`` whose reason contains ``because``."""

    error: type[StatementFormatError]
    because: str


BALANCE = StatementBalanceError
VALUE = StatementValueError

# Path (relative to the samples root) -> outcome. "!name" is a member of a ZIP archive.
EXPECTED: dict[str, Read | Refused] = {
    # camt.052: account reports
    "camt052/genkgo-camt/camt052.v1.xml": Read((1,), (None,)),
    "camt052/genkgo-camt/camt052.v2.other-account.xml": Read((1,), (None,)),
    "camt052/genkgo-camt/camt052.v2.with-account-name.xml": Refused(
        VALUE, "the mandatory element BookgDt is missing"
    ),
    "camt052/genkgo-camt/camt052.v2.xml": Read((1,), (None,)),
    "camt052/genkgo-camt/camt052.v4.xml": Refused(VALUE, "an amount in SEK on an account in CHF"),
    "camt052/genkgo-camt/camt052.v6.Amt-zero.xml": Refused(
        VALUE, "an amount in SEK on an account in CHF"
    ),
    "camt052/genkgo-camt/camt052.v6.xml": Refused(VALUE, "an amount in SEK on an account in CHF"),
    "camt052/genkgo-camt/camt052.v8.xml": Read((1,), (None,)),
    # camt.053: statements
    "camt053/genkgo-camt/camt053.v2.all-balance-types.xml": Refused(
        BALANCE, "opening 1.01 EUR + booked entries 8.850 EUR = 9.860 EUR, but the closing"
    ),
    "camt053/genkgo-camt/camt053.v2.five.decimals.xml": Refused(
        BALANCE, "= 27.000 EUR, but the closing balance is 27.050 EUR"
    ),
    "camt053/genkgo-camt/camt053.v2.minimal.ultimate.xml": Refused(
        VALUE, "an amount in SEK on an account in EUR"
    ),
    "camt053/genkgo-camt/camt053.v2.minimal.xml": Refused(
        VALUE, "an amount in SEK on an account in EUR"
    ),
    "camt053/genkgo-camt/camt053.v2.multi.statement.xml": Read((1, 1), (True, True)),
    "camt053/genkgo-camt/camt053.v2.with-account-name.xml": Refused(
        VALUE, "an amount in EUR on an account in JPY"
    ),
    "camt053/genkgo-camt/camt053.v2.with-party-ids.xml": Refused(
        VALUE, "an amount in SEK on an account in EUR"
    ),
    "camt053/genkgo-camt/camt053.v2.wrong.xml": Refused(
        VALUE, "the BkToCstmrStmt has no Stmt (one is mandatory)"
    ),
    "camt053/genkgo-camt/camt053.v3.xml": Refused(VALUE, "an amount in SEK on an account in EUR"),
    "camt053/genkgo-camt/camt053.v4.xml": Refused(VALUE, "an amount in SEK on an account in EUR"),
    "camt053/genkgo-camt/camt053.v8.xml": Refused(VALUE, "an amount in SEK on an account in EUR"),
    "camt053/genkgo-camt/camt53.only-Dt-with-DtTm.xml": Read((0,), (None,)),
    "camt053/oca-bank-statement-import_AGPL/camt053": Read((1,), (None,)),
    "camt053/oca-bank-statement-import_AGPL/test-camt053": Refused(
        BALANCE, "opening 15568.27 EUR + booked entries -12.99 EUR = 15555.28 EUR"
    ),
    "camt053/oca-bank-statement-import_AGPL/test-camt053-bookgdt-dttm": Refused(
        BALANCE, "booked entries -754.25 EUR = 14814.02 EUR, but the closing balance is 15121.12"
    ),
    "camt053/oca-bank-statement-import_AGPL/test-camt053-no-ntry": Read((0,), (True,)),
    "camt053/oca-bank-statement-import_AGPL/test-camt053-txdtls": Read((1,), (True,)),
    "camt053/oca-bank-statement-import_AGPL/test-camt053.zip": Refused(
        UnsupportedStatementError, "ZIP archive"
    ),
    "camt053/oca-bank-statement-import_AGPL/test-camt053.zip!test-camt053_02.xml": Refused(
        BALANCE, "booked entries 57.01 EUR = 15625.28 EUR, but the closing balance is 15121.12"
    ),
    "camt053/oca-bank-statement-import_AGPL/test-camt053.zip!test-camt053_03.xml": Refused(
        BALANCE, "booked entries 57.01 EUR = 15625.28 EUR, but the closing balance is 15121.12"
    ),
    # camt.054: debit/credit notifications
    "camt054/genkgo-camt/camt054.v2.with-account-name.xml": Refused(
        VALUE, "the mandatory element BookgDt is missing"
    ),
    "camt054/genkgo-camt/camt054.v2.xml": Refused(
        VALUE, "a transaction of a batch entry has no amount (Amt or AmtDtls/TxAmt)"
    ),
    "camt054/genkgo-camt/camt054.v4.xml": Refused(
        VALUE, "a transaction of a batch entry has no amount in SEK"
    ),
    "camt054/genkgo-camt/camt054.v8-with-UETR.xml": Refused(
        VALUE, "the mandatory element BookgDt is missing"
    ),
    "camt054/genkgo-camt/camt054.v8-with-financial-institution.xml": Refused(
        VALUE, "the mandatory element BookgDt is missing"
    ),
    "camt054/genkgo-camt/camt054.v8.xml": Refused(
        VALUE, "a transaction of a batch entry has no amount in SEK"
    ),
    "camt054/oca-bank-statement-import_AGPL/test-camt054": Read((1,), (None,)),
}


def _load(root: Path, name: str) -> bytes:
    path, _, member = name.partition("!")
    data = (root / path).read_bytes()
    if member:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.read(member)
    return data


def _files_on_disk(root: Path) -> set[str]:
    names = set()
    for folder in FOLDERS:
        for path in (root / folder).rglob("*"):
            if path.is_file() and path.name != "SOURCES.md":
                name = path.relative_to(root).as_posix()
                names.add(name)
                if zipfile.is_zipfile(path):
                    with zipfile.ZipFile(path) as archive:
                        names.update(f"{name}!{member}" for member in archive.namelist())
    return names


def test_every_sample_file_is_pinned(samples_dir: Path) -> None:
    on_disk = _files_on_disk(samples_dir)
    assert on_disk - EXPECTED.keys() == set(), "new sample files: pin their outcome"
    assert EXPECTED.keys() - on_disk == set(), "pinned files are gone"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_sample_file_is_read_or_refused_as_pinned(samples_dir: Path, name: str) -> None:
    data = _load(samples_dir, name)
    expected = EXPECTED[name]
    if isinstance(expected, Refused):
        with pytest.raises(StatementFormatError) as caught:
            read_camt(data)
        assert type(caught.value) is expected.error
        assert expected.because in caught.value.reason
        assert caught.value.position
        return
    statements = read_camt(data)
    assert tuple(len(s.entries) for s in statements) == expected.entries
    assert tuple(s.reconciles for s in statements) == expected.reconciles
    for statement in statements:
        assert statement.source_format.startswith(f"camt.{name[4:7]}.001.")
        assert statement.reconciles is not False
        assert len({e.line_id for e in statement.entries}) == len(statement.entries)
        for entry in statement.entries:
            assert entry.amount.currency == statement.currency
            if entry.details:
                assert (
                    money_sum((d.amount for d in entry.details), statement.currency) == entry.amount
                )


def test_the_swiss_batch_sample_keeps_both_references(samples_dir: Path) -> None:
    data = _load(samples_dir, "camt053/oca-bank-statement-import_AGPL/test-camt053-txdtls")
    (statement,) = read_camt(data)
    (entry,) = statement.entries
    assert [(str(d.amount), d.structured_reference) for d in entry.details] == [
        ("2187.00 CHF", "302388292000011111111111111"),
        ("1296.00 CHF", "302388292000022222222222222"),
    ]
    assert entry.bank_code == "PMNT/RCDT/VCOM"


def test_unbalanced_samples_can_still_be_inspected(samples_dir: Path) -> None:
    data = _load(samples_dir, "camt053/oca-bank-statement-import_AGPL/test-camt053")
    (statement,) = read_camt(data, check_balances=False)
    assert statement.reconciles is False
    assert [e.line_id for e in statement.entries] == [
        "1234Test/1/Ntry[1]",
        "1234Test/1/Ntry[2]",
        "1234Test/1/Ntry[3]",
    ]
    reversal = statement.entries[1]
    assert (reversal.reversal, len(reversal.details)) == (True, 2)
