"""``o2c match``: the command-line contract, end to end on small files."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from tests.camt_render import render_camt

from o2c.cli import EXIT_INPUT, EXIT_IO, EXIT_OK, EXIT_USAGE, main
from o2c.matching.csvio import MATCHES_COLUMNS, OPEN_ITEMS_COLUMNS
from o2c.money import Money
from o2c.statements import Statement, StatementEntry

STATEMENT_COLUMNS = (
    "line_id,booking_date,amount,currency,counterparty_name,counterparty_iban,"
    "remittance_info,end_to_end_id"
)
ITEMS = [
    "INV-2026-000123,acme,Acme GmbH,DE89370400440532013000,EUR,1190.00,2026-02-01,2026-03-03,,",
    "INV-2026-000124,acme,Acme GmbH,DE89370400440532013000,EUR,250.00,2026-02-01,2026-03-03,"
    "2,2026-03-10",
    "INV-2026-000200,beta,Beta AG,DE02120300000000202051,EUR,99.90,2026-02-01,2026-03-03,,",
    "INV-2026-000201,beta,Beta AG,DE02120300000000202051,EUR,99.90,2026-02-05,2026-03-07,,",
]
LINES = [
    "L1,2026-03-10,1190.00,EUR,ACME GMBH,DE89370400440532013000,inv 2026 123,NOTPROVIDED",
    "L2,2026-03-10,245.00,EUR,Acme GmbH,DE89370400440532013000,INV2026000124,NOTPROVIDED",
    "L3,2026-03-10,99.90,EUR,Beta AG,DE02120300000000202051,Payment,NOTPROVIDED",
    "L4,2026-03-10,-50.00,EUR,Supplier,,Invoice 4711,NOTPROVIDED",
    "L5,2026-03-10,12.34,EUR,Someone,,Thanks,NOTPROVIDED",
]


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {
        "invoices": write(tmp_path / "OPEN_ITEMS.csv", ",".join(OPEN_ITEMS_COLUMNS), ITEMS),
        "statement": write(tmp_path / "statement.csv", STATEMENT_COLUMNS, LINES),
        "output": tmp_path / "out" / "MATCHES.csv",
    }


def run(files: dict[str, Path], *extra: str) -> int:
    files["output"].parent.mkdir(exist_ok=True)
    argv = [
        "match",
        "--invoices",
        str(files["invoices"]),
        "--statement",
        str(files["statement"]),
        "--output",
        str(files["output"]),
        *extra,
    ]
    return main(argv)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == MATCHES_COLUMNS
        return list(reader)


def test_match_writes_one_row_per_allocation(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(files) == EXIT_OK
    got = rows(files["output"])
    by_line = {(r["line_id"], r["invoice_number"]): r for r in got}
    assert [r["line_id"] for r in got] == ["L1", "L2", "L3", "L4", "L5"]
    l1 = by_line["L1", "INV-2026-000123"]
    assert (l1["amount_applied"], l1["status"]) == ("1190.00", "auto")
    assert float(l1["confidence"]) >= 0.9
    assert "INV-2026-000123" in l1["reason"]
    l2 = by_line["L2", "INV-2026-000124"]  # 2 % discount: 5.00 is not cash
    assert (l2["amount_applied"], l2["status"]) == ("245.00", "auto")
    # two open items of 99.90: suggested, the best proposal's allocation only
    (l3,) = [r for r in got if r["line_id"] == "L3" and r["invoice_number"]]
    assert l3["status"] == "suggested"
    assert "not applied" in l3["reason"]
    assert by_line["L4", ""]["reason"] == "outgoing"
    assert by_line["L4", ""]["status"] == "unmatched"
    assert by_line["L5", ""]["amount_applied"] == "0"
    out = capsys.readouterr().out
    assert "5 lines: 2 applied, 1 suggested, 2 unmatched" in out


def test_the_suggested_line_lists_the_oldest_identical_invoice_first(
    files: dict[str, Path],
) -> None:
    assert run(files) == EXIT_OK
    (l3,) = [r for r in rows(files["output"]) if r["line_id"] == "L3"]
    assert l3["invoice_number"] == "INV-2026-000200"


def test_a_group_map_and_a_memory_file_are_used(files: dict[str, Path], tmp_path: Path) -> None:
    files["statement"] = write(
        tmp_path / "s2.csv",
        STATEMENT_COLUMNS,
        ["P1,2026-03-10,1190.00,EUR,Acme UK,GB33BUKB20201555555555,Payment,NOTPROVIDED"],
    )
    assert run(files) == EXIT_OK
    assert rows(files["output"])[0]["status"] == "suggested"  # the amount alone
    memory = write(
        tmp_path / "memory.csv", "account,name,customer_id", ["GB33BUKB20201555555555,,acme"]
    )
    groups = write(tmp_path / "groups.csv", "parent_id,customer_id", ["acme,beta"])
    assert run(files, "--memory", str(memory), "--groups", str(groups)) == EXIT_OK
    (row,) = rows(files["output"])
    assert (row["invoice_number"], row["status"]) == ("INV-2026-000123", "auto")


def test_a_camt053_statement_is_read_by_its_account_servicer_reference(
    files: dict[str, Path], tmp_path: Path
) -> None:
    entry = StatementEntry(
        line_id="ACCTSVCR-1",
        booking_date=date(2026, 3, 10),
        amount=Money("1190.00", "EUR"),
        counterparty_name="Acme GmbH",
        counterparty_iban="DE89370400440532013000",
        remittance="Rechnung INV-2026-000123",
    )
    statement = Statement("S1", "DE44500105175407324931", "EUR", (entry,))
    camt = tmp_path / "statement.xml"
    camt.write_bytes(render_camt([statement]))
    files["statement"] = camt
    assert run(files, "--format", "camt053") == EXIT_OK
    (row,) = rows(files["output"])
    assert (row["line_id"], row["invoice_number"], row["status"]) == (
        "ACCTSVCR-1",
        "INV-2026-000123",
        "auto",
    )
    assert run(files) == EXIT_OK  # --format auto tells camt by its content


def test_an_mt940_statement_is_read_by_its_bank_reference(
    files: dict[str, Path], tmp_path: Path
) -> None:
    mt940 = tmp_path / "statement.sta"
    mt940.write_bytes(
        b":20:S1\n:25:DE44500105175407324931\n:28C:1\n:60F:C260301EUR0,00\n"
        b":61:260310C1190,00NTRFNONREF//B1\n:86:Rechnung INV-2026-000123\n"
        b":62F:C260310EUR1190,00\n-"
    )
    files["statement"] = mt940
    assert run(files, "--format", "mt940") == EXIT_OK
    (row,) = rows(files["output"])
    assert (row["line_id"], row["invoice_number"], row["amount_applied"], row["status"]) == (
        "B1",
        "INV-2026-000123",
        "1190.00",
        "auto",
    )


def test_today_holds_back_lines_booked_later(files: dict[str, Path]) -> None:
    assert run(files, "--today", "2026-03-09") == EXIT_OK
    assert {r["status"] for r in rows(files["output"]) if r["invoice_number"]} == {"suggested"}


def test_bad_input_is_a_typed_error_on_stderr_and_nothing_is_written(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    files["invoices"].write_text(
        ",".join(OPEN_ITEMS_COLUMNS) + "\nINV-1,C1,A,,EUR,1.000,00,2026-02-01,2026-03-03,,\n",
        encoding="utf-8",
    )
    assert run(files) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "matching.bad_file" in err
    assert "row=2" in err
    assert not files["output"].exists()
    assert list(files["output"].parent.iterdir()) == []  # no temporary file left either


def test_a_bad_statement_leaves_an_existing_output_untouched(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(files) == EXIT_OK
    before = files["output"].read_bytes()
    files["statement"].write_text(STATEMENT_COLUMNS + "\nL1,2026-03-10,NaN,EUR,,,x,\n", "utf-8")
    assert run(files) == EXIT_INPUT
    assert "statement" in capsys.readouterr().err
    assert files["output"].read_bytes() == before


def test_invalid_utf8_is_refused(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    files["invoices"].write_bytes(b"invoice_number\xff\n")
    assert run(files) == EXIT_INPUT
    assert "UTF-8" in capsys.readouterr().err


def test_a_missing_file_is_an_io_error(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    files["statement"] = files["statement"].with_name("nope.csv")
    assert run(files) == EXIT_IO
    assert "nope.csv" in capsys.readouterr().err


def test_an_unwritable_output_folder_is_an_io_error(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    files["output"] = tmp_path / "missing" / "deeper" / "MATCHES.csv"
    argv = ["match", "--invoices", str(files["invoices"]), "--statement", str(files["statement"])]
    assert main([*argv, "--output", str(files["output"])]) == EXIT_IO
    assert "o2c match: error" in capsys.readouterr().err


def test_the_output_may_not_overwrite_an_input(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    files["output"] = files["invoices"]
    before = files["invoices"].read_bytes()
    assert run(files) == EXIT_USAGE
    assert "overwrite an input" in capsys.readouterr().err
    assert files["invoices"].read_bytes() == before


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["match", "--invoices", "x.csv"])
    assert caught.value.code == EXIT_USAGE
    with pytest.raises(SystemExit) as caught:
        main(["match", "--invoices", "a", "--statement", "b", "--output", "c", "--format", "ofx"])
    assert caught.value.code == EXIT_USAGE
    assert "ofx" in capsys.readouterr().err


def test_a_write_that_fails_half_way_leaves_nothing_behind(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import o2c.matching.csvio

    def broken(results: object, out: object) -> int:
        out.write("line_id,invoice_number\nL1,")  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(o2c.matching.csvio, "write_matches", broken)
    assert run(files) == EXIT_IO
    assert "No space left" in capsys.readouterr().err
    assert list(files["output"].parent.iterdir()) == []
