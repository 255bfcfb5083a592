"""Every MT940 and CSV file of the shared samples is read or refused with a typed error
that says why, and the outcome of each file is pinned here: a reader change that makes
a file change its outcome fails this test.

The samples (``shared/samples/mt940`` and ``shared/samples/csv``, described in their
``SOURCES.md``) are read in place and never copied into the repository. Most MT940
files are parser test fixtures written by hand: 40 of the 70 refused are refused
because their balances do not reconcile (opening + entries != closing), which o2c
refuses (other libraries read them without a word). The OCA CSV files each get the
column mapping of their layout; those whose data cannot be one statement (two
currencies, contradicting signs) are refused. docs/statements.md lists every outcome.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from o2c.adapters.statements.csv_reader import CsvMapping, read_csv
from o2c.adapters.statements.mt940 import read_mt940
from o2c.engine import O2C
from o2c.errors import (
    StatementBalanceError,
    StatementEncodingError,
    StatementFormatError,
    StatementStructureError,
    StatementValueError,
    UnsupportedStatementError,
)
from o2c.statements import Statement

pytestmark = pytest.mark.samples


@attrs.frozen
class Read:
    """Read: this many statements and entries, every statement reconciling."""

    statements: int
    entries: int


@attrs.frozen
class Refused:
    """Refused with this error at this position."""

    error: type[StatementFormatError]
    position: str


def read(statements: int, entries: int) -> Read:
    return Read(statements, entries)


def refused(error: type[StatementFormatError], position: str) -> Refused:
    return Refused(error, position)


# file (relative to samples/mt940) -> outcome
MT940: dict[str, Read | Refused] = {
    "jejik-mt940/K4262927_20200905-080000-952.txt": refused(StatementStructureError, "line 6"),
    "jejik-mt940/abnamro.txt": refused(StatementBalanceError, "line 4"),
    "jejik-mt940/abnamro2.txt": read(1, 1),
    "jejik-mt940/bayerischelandesbank.txt": refused(StatementBalanceError, "line 1"),
    "jejik-mt940/bil.txt": read(1, 1),
    "jejik-mt940/bug-core-5401.txt": refused(StatementBalanceError, "line 1"),
    "jejik-mt940/commerzbank.txt": refused(StatementBalanceError, "line 1"),
    "jejik-mt940/deutschebank.txt": refused(StatementBalanceError, "line 1"),
    "jejik-mt940/generic.txt": read(2, 2),
    "jejik-mt940/ing-4.txt": read(1, 4),
    "jejik-mt940/ing-dos.txt": refused(StatementBalanceError, "line 4"),
    "jejik-mt940/ing-unix-2.txt": refused(StatementBalanceError, "line 4"),
    "jejik-mt940/ing-unix-3.txt": refused(StatementBalanceError, "line 4"),
    "jejik-mt940/knab.txt": refused(StatementBalanceError, "line 12"),
    "jejik-mt940/landesbankhessen.txt": read(1, 1),
    "jejik-mt940/lbbw.txt": read(1, 2),
    "jejik-mt940/lbbw2.txt": refused(StatementValueError, "line 4"),
    "jejik-mt940/oldenburgischelandesbank.txt": refused(StatementBalanceError, "line 1"),
    "jejik-mt940/oldenburgischelandesbank2.txt": refused(StatementStructureError, "line 6"),
    "jejik-mt940/oldenburgischelandesbankmitbindestrich.txt": refused(
        StatementBalanceError, "line 1"
    ),
    "jejik-mt940/paribas.txt": read(2, 2),
    "jejik-mt940/postfinance.txt": refused(StatementBalanceError, "line 16"),
    "jejik-mt940/rabobank-iban.txt": read(2, 4),
    "jejik-mt940/rabobank.txt": refused(StatementBalanceError, "line 2"),
    "jejik-mt940/raiffeisen-kaernten.txt": read(1, 1),
    "jejik-mt940/raiffeisen.txt": read(1, 1),
    "jejik-mt940/sns.txt": read(2, 2),
    "jejik-mt940/solaris.txt": refused(StatementBalanceError, "line 1"),
    "jejik-mt940/sparkasse.txt": read(2, 2),
    "jejik-mt940/sparkasse2.txt": refused(StatementBalanceError, "line 1"),
    "jejik-mt940/sparkasse3.txt": refused(StatementBalanceError, "line 1"),
    "jejik-mt940/sparkasse_interim_balance.txt": read(3, 2),
    "jejik-mt940/triodos.txt": refused(StatementBalanceError, "line 1"),
    "jejik-mt940/volksbankenraiffeisenbanken.txt": read(8, 12),
    "oca-bank-statement-import_AGPL/test-ing.940": read(1, 8),
    "oca-bank-statement-import_AGPL/test-rabo.swi": read(4, 2),
    "oca-bank-statement-import_AGPL/test-sns.940": refused(StatementStructureError, "line 73"),
    "oca-bank-statement-import_AGPL/test-wrong-file.940": read(1, 1),
    "php-mt940/Abn/issue48": read(1, 2),
    "php-mt940/Abn/sample": read(4, 5),
    "php-mt940/Abn/sample2": refused(StatementBalanceError, "line 4"),
    "php-mt940/Asn/sample": read(7, 3),
    "php-mt940/Btrl/sample": refused(StatementBalanceError, "line 2"),
    "php-mt940/Bunq/sample": read(1, 111),
    "php-mt940/Hsbc/sample": refused(StatementBalanceError, "line 1"),
    "php-mt940/Ing/sample": refused(StatementBalanceError, "line 4"),
    "php-mt940/Kbs/sample": read(1, 3),
    "php-mt940/Kbs/sample2": read(1, 7),
    "php-mt940/Knab/sample": refused(StatementBalanceError, "line 2"),
    "php-mt940/Knab/sample2": read(1, 1),
    "php-mt940/Knab/sample3": refused(StatementBalanceError, "line 2"),
    "php-mt940/Kontist/sample": read(1, 6),
    "php-mt940/Penta/sample": read(1, 30),
    "php-mt940/Rabo/sample": refused(StatementBalanceError, "line 2"),
    "php-mt940/Rabo/sample2": refused(StatementBalanceError, "line 2"),
    "php-mt940/Rabo/sample3": refused(StatementBalanceError, "line 2"),
    "php-mt940/Rabo/sample4": refused(StatementBalanceError, "line 2"),
    "php-mt940/Spk/sample": read(4, 10),
    "php-mt940/Triodos/sample": read(2, 8),
    "php-mt940/Zetb/sample": read(1, 8),
    "wolph-mt940/ASNB/mt940.txt": read(31, 8),
    "wolph-mt940/ASNB/mt940_with_spaces_for_entry_date.txt": read(31, 8),
    "wolph-mt940/betterplace/amount_formats.sta": refused(StatementStructureError, "line 1"),
    "wolph-mt940/betterplace/currency_in_25.sta": refused(StatementStructureError, "line 1"),
    "wolph-mt940/betterplace/empty_86.sta": refused(StatementStructureError, "line 1"),
    "wolph-mt940/betterplace/empty_entry_date.sta": refused(StatementStructureError, "line 1"),
    "wolph-mt940/betterplace/empty_line.sta": refused(StatementStructureError, "line 2"),
    "wolph-mt940/betterplace/missing_crlf_at_end.sta": refused(StatementStructureError, "line 1"),
    "wolph-mt940/betterplace/sepa_mt9401.sta": read(26, 97),
    "wolph-mt940/betterplace/sepa_snippet.sta": refused(StatementBalanceError, "line 25"),
    "wolph-mt940/betterplace/sepa_snippet_broken.sta": refused(StatementStructureError, "line 6"),
    "wolph-mt940/betterplace/with_binary_character.sta": read(2, 4),
    "wolph-mt940/citi/mt940.txt": read(1, 5),
    "wolph-mt940/cmxl/account_balance_credit.sta": refused(StatementStructureError, "line 1"),
    "wolph-mt940/cmxl/account_balance_debit.sta": refused(StatementStructureError, "line 1"),
    "wolph-mt940/cmxl/account_identification_iban.sta": refused(StatementStructureError, "line 1"),
    "wolph-mt940/cmxl/account_identification_legacy.sta": refused(
        StatementStructureError, "line 1"
    ),
    "wolph-mt940/cmxl/available_balance.sta": refused(StatementStructureError, "line 1"),
    "wolph-mt940/cmxl/closing_balance.sta": refused(StatementStructureError, "line 1"),
    "wolph-mt940/cmxl/mt940.sta": read(3, 16),
    "wolph-mt940/cmxl/reference.sta": refused(StatementStructureError, "line 1"),
    "wolph-mt940/cmxl/statement_details.sta": refused(StatementStructureError, "line 1"),
    "wolph-mt940/cmxl/statement_line.sta": refused(StatementStructureError, "line 1"),
    "wolph-mt940/cmxl/statement_number.sta": refused(StatementStructureError, "line 1"),
    "wolph-mt940/jejik/abnamro.sta": refused(StatementBalanceError, "line 4"),
    "wolph-mt940/jejik/generic.sta": read(2, 2),
    "wolph-mt940/jejik/ing.sta": refused(StatementBalanceError, "line 4"),
    "wolph-mt940/jejik/knab.sta": refused(StatementBalanceError, "line 10"),
    "wolph-mt940/jejik/postfinance.sta": refused(StatementBalanceError, "line 15"),
    "wolph-mt940/jejik/rabobank-iban.sta": read(2, 4),
    "wolph-mt940/jejik/rabobank.sta": refused(StatementBalanceError, "line 2"),
    "wolph-mt940/jejik/sns.sta": read(2, 2),
    "wolph-mt940/jejik/triodos.sta": refused(StatementBalanceError, "line 1"),
    "wolph-mt940/mBank/mt940.sta": read(1, 3),
    "wolph-mt940/mBank/mt942.sta": refused(UnsupportedStatementError, "line 5"),
    "wolph-mt940/mBank/with_newline_in_tnr.sta": refused(StatementBalanceError, "line 2"),
    "wolph-mt940/sberbank/171011_01234945.sta": read(1, 3),
    "wolph-mt940/self-provided/account_identification.sta": refused(
        StatementStructureError, "line 2"
    ),
    "wolph-mt940/self-provided/details_60-63.sta": refused(StatementBalanceError, "line 1"),
    "wolph-mt940/self-provided/empty_non_swift.sta": refused(StatementStructureError, "line 1"),
    "wolph-mt940/self-provided/february_30.sta": read(1, 1),
    "wolph-mt940/self-provided/gv_codes.sta": refused(StatementStructureError, "line 7"),
    "wolph-mt940/self-provided/invalid_statement.sta": refused(StatementStructureError, "line 5"),
    "wolph-mt940/self-provided/long_statement_number.sta": read(1, 0),
    "wolph-mt940/self-provided/malformed_details.sta": refused(StatementBalanceError, "line 1"),
    "wolph-mt940/self-provided/mt942.sta": refused(UnsupportedStatementError, "line 4"),
    "wolph-mt940/self-provided/multiline.sta": refused(StatementStructureError, "line 38"),
    "wolph-mt940/self-provided/overly_long_details.sta": refused(StatementBalanceError, "line 1"),
    "wolph-mt940/self-provided/raiffeisen-cmi.sta": refused(StatementEncodingError, "byte 312"),
    "wolph-mt940/self-provided/raphaelm.sta": refused(StatementValueError, "line 27"),
    "wolph-mt940/self-provided/sparkassen.sta": refused(StatementStructureError, "line 1"),
    "wolph-mt940/self-provided/transaction_details_wrapped.sta": read(1, 1),
    "wolph-mt940/self-provided/whitespace.sta": refused(StatementBalanceError, "line 1"),
    "wolph-mt940/self-provided/wrapped_timestamp.sta": read(1, 1),
}


def _outcome(read_file: object) -> Read | Refused:
    try:
        statements = read_file()  # type: ignore[operator]
    except StatementFormatError as exc:
        assert exc.reason, "a refusal says why"
        assert exc.position
        return Refused(type(exc), exc.position)
    for statement in statements:
        assert isinstance(statement, Statement)
        assert statement.reconciles is not False
    return Read(len(statements), sum(len(s.entries) for s in statements))


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_every_mt940_sample_is_in_the_table(samples_dir: Path) -> None:
    assert _files(samples_dir / "mt940") == sorted(MT940)


@pytest.mark.parametrize("name", sorted(MT940))
def test_each_mt940_sample_keeps_its_outcome(samples_dir: Path, name: str) -> None:
    data = (samples_dir / "mt940" / name).read_bytes()
    assert _outcome(lambda: read_mt940(data)) == MT940[name]


def test_mt940_read_refused_counts(samples_dir: Path) -> None:
    outcomes = list(MT940.values())
    assert sum(isinstance(o, Read) for o in outcomes) == 44
    balance = [o for o in outcomes if isinstance(o, Refused) and o.error is StatementBalanceError]
    assert len(balance) == 39


def test_a_sample_in_another_encoding_reads_when_the_encoding_is_given(samples_dir: Path) -> None:
    # Raiffeisen Hungary writes code page 852: neither UTF-8 nor Windows-1252, so it is
    # refused unread; named, it is read, and then refused for its balances (its
    # amounts were anonymised without keeping them consistent).
    data = (samples_dir / "mt940/wolph-mt940/self-provided/raiffeisen-cmi.sta").read_bytes()
    with pytest.raises(StatementBalanceError) as refused_balance:
        read_mt940(data, encoding="cp852")
    assert str(refused_balance.value.difference) == "1123264.00 HUF"
    (statement,) = read_mt940(data, encoding="cp852", check_balances=False)
    assert "összevont utánvét" in statement.entries[0].remittance


def test_every_readable_mt940_sample_is_imported_once(samples_dir: Path) -> None:
    engine = O2C()
    stored = 0
    for number, (name, outcome) in enumerate(sorted(MT940.items())):
        if not isinstance(outcome, Read):
            continue
        data = (samples_dir / "mt940" / name).read_bytes()
        for index, statement in enumerate(read_mt940(data)):
            result = engine.import_statement(f"first-{number}-{index}", statement)
            again = engine.import_statement(f"again-{number}-{index}", statement)
            assert again.new == ()
            assert again.known == result.new + result.known
            stored += len(result.new)
    lines = engine.bank_lines()
    assert len(lines) == stored
    assert len({(line.account, line.key) for line in lines}) == stored


# -- CSV --------------------------------------------------------------------------------

OCA = {
    "booking_date": "Date",
    "date_format": "%m/%d/%Y",
    "thousands_separator": ",",
    "counterparty_name": "Partner Name",
    "counterparty_iban": "Bank Account",
    "remittance": ("Label",),
}
PAYPAL = {
    "line_id": "Transaction ID",
    "amount": "Net",
    "currency": "Currency",
    "counterparty_name": "Name",
    "balance": "Balance",
}
ADYEN = {
    "booking_date": "Creation Date",
    "date_format": "%Y-%m-%d %H:%M:%S",
    "debit": "Net Debit (NC)",
    "credit": "Net Credit (NC)",
    "currency": "Net Currency",
}

# file (relative to samples/csv/oca-bank-statement-import_AGPL) -> (its mapping, outcome)
CSV: dict[str, tuple[CsvMapping, Read | Refused]] = {
    "balance.csv": (
        CsvMapping(amount="Amount", balance="Balance", default_currency="EUR", **OCA),
        read(1, 2),
    ),
    # a signed amount with a D/C column: "-1,533.50" marked C is contradictory
    "debit_credit.csv": (
        CsvMapping(
            amount="Amount", indicator="D/C", balance="Balance", default_currency="EUR", **OCA
        ),
        refused(StatementValueError, "line 3, column 3 (Amount)"),
    ),
    # a negative amount in the credit column
    "debit_credit_amount.csv": (
        CsvMapping(
            debit="Debit", credit="Credit", balance="Balance", default_currency="EUR", **OCA
        ),
        refused(StatementValueError, "line 3, column 4 (Credit)"),
    ),
    "meta_data_separated_credit_debit.csv": (
        CsvMapping(
            booking_date="Date",
            date_format="%d/%m/%y",
            line_id="Operation Number",
            debit="Debit",
            credit="Credit",
            debit_sign="negative",
            decimal_separator=",",
            remittance=("Label", "Detail"),
            default_currency="EUR",
            header_row=5,
            end_marker="Balance at start of period",
        ),
        read(1, 4),
    ),
    # USD and EUR lines in one file
    "multi_currency.csv": (
        CsvMapping(amount="Amount", currency="Currency", **OCA),
        refused(StatementValueError, "line 3, column 3 (Currency)"),
    ),
    "original_currency.csv": (
        CsvMapping(amount="Amount", currency="Currency", **OCA),
        read(1, 1),
    ),
    "sample_statement_en.csv": (
        CsvMapping(amount="Amount", currency="Currency", **OCA),
        refused(StatementValueError, "line 3, column 3 (Currency)"),
    ),
    "sample_statement_credit_card_inverse_sign_en.csv": (
        CsvMapping(amount="Amount", currency="Currency", **OCA),
        refused(StatementValueError, "line 3, column 3 (Currency)"),
    ),
    # PayPal activity: USD and EUR lines (currency conversions) in one file
    "paypal_activity_en.csv": (
        CsvMapping(
            booking_date="Date",
            date_format="%d/%m/%Y",
            thousands_separator=",",
            remittance=("Type", "Subject"),
            **PAYPAL,
        ),
        refused(StatementValueError, "line 4, column 7 (Currency)"),
    ),
    "paypal_statement_en.csv": (
        CsvMapping(
            booking_date="Date",
            date_format="%m/%d/%Y",
            thousands_separator=",",
            remittance=("Description",),
            **PAYPAL,
        ),
        refused(StatementValueError, "line 10, column 5 (Currency)"),
    ),
    "paypal_statement_es.csv": (
        CsvMapping(
            booking_date="Fecha",
            date_format="%d/%m/%Y",
            line_id="Id. de transacción",
            amount="Neto",
            currency="Divisa",
            decimal_separator=",",
            thousands_separator=".",
            counterparty_name="Nombre",
            remittance=("Descripción",),
            balance="Saldo",
        ),
        read(1, 4),
    ),
    "settlement_detail_report_batch_238.csv": (
        CsvMapping(remittance=("Type", "Modification Reference"), **ADYEN),
        read(1, 3),
    ),
    "settlement_detail_report_batch_380.csv": (
        CsvMapping(remittance=("Type", "Merchant Reference", "Modification Reference"), **ADYEN),
        read(1, 228),
    ),
}
CSV_ROOT = "csv/oca-bank-statement-import_AGPL"


def test_every_csv_sample_is_in_the_table(samples_dir: Path) -> None:
    assert _files(samples_dir / CSV_ROOT) == sorted(CSV)


@pytest.mark.parametrize("name", sorted(CSV))
def test_each_csv_sample_keeps_its_outcome(samples_dir: Path, name: str) -> None:
    mapping, expected = CSV[name]
    data = (samples_dir / CSV_ROOT / name).read_bytes()
    assert _outcome(lambda: read_csv(data, mapping)) == expected


def test_csv_samples_with_running_balances_reconcile(samples_dir: Path) -> None:
    for name in ("balance.csv", "paypal_statement_es.csv"):
        mapping, _ = CSV[name]
        (statement,) = read_csv((samples_dir / CSV_ROOT / name).read_bytes(), mapping)
        assert statement.reconciles is True
