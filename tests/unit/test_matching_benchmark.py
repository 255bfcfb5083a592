"""A small run of the cash-application benchmark, so a drop in quality fails CI.

The full benchmark (thousands of lines, per-kind tables) is a script:
``python benchmarks/cashapp/score.py``; this runs a few hundred seeded lines through
the API and through ``o2c match`` and holds them to the acceptance thresholds.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from benchmarks.cashapp.generator import KINDS, generate, write
from benchmarks.cashapp.score import Outcome, Truth, read_truth, run_api, score

from o2c.cli import EXIT_OK, main

PRECISION = 0.999
RECALL = 0.97
COVERAGE = 0.90


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cashapp")
    write(generate(lines=400, seed=20260310), folder)
    return folder


def test_the_generator_writes_every_kind_with_its_truth(scenario: Path) -> None:
    truth = read_truth(scenario / "truth.csv")
    assert len(truth) >= 400
    kinds = {t.kind for t in truth.values()}
    assert len(kinds) >= len(KINDS) - 3  # a few rare kinds may not come up in 400 lines
    assert any(t.determined for t in truth.values())
    assert any(not t.determined for t in truth.values())


def test_the_api_meets_the_thresholds(scenario: Path) -> None:
    result = score(read_truth(scenario / "truth.csv"), run_api(scenario))
    total = result.total
    assert total.auto_allocs > 200
    assert total.precision >= PRECISION, total
    assert total.recall >= RECALL, total
    assert total.coverage >= COVERAGE, total


def test_the_command_line_meets_the_precision_and_recall(scenario: Path, tmp_path: Path) -> None:
    output = tmp_path / "MATCHES.csv"
    argv = ["match", "--invoices", str(scenario / "OPEN_ITEMS.csv")]
    argv += ["--statement", str(scenario / "statement.csv"), "--format", "csv"]
    argv += ["--groups", str(scenario / "groups.csv"), "--output", str(output)]
    assert main(argv) == EXIT_OK
    outcomes: dict[str, Outcome] = {}
    with output.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out = outcomes.setdefault(row["line_id"], Outcome(row["status"]))
            if row["invoice_number"]:
                alloc = (row["invoice_number"], Decimal(row["amount_applied"]).normalize())
                (out.auto if row["status"] == "auto" else out.suggested).add(alloc)
    result = score(read_truth(scenario / "truth.csv"), outcomes)
    assert result.total.precision >= PRECISION, result.total
    assert result.total.recall >= RECALL, result.total


def test_the_scorer_can_fail() -> None:
    # A matcher that applies everything to the wrong invoice scores zero.
    truth = {"L1": Truth("reference", True, {("INV-1", Decimal("10.00"))})}
    wrong = {"L1": Outcome("auto", auto={("INV-2", Decimal("10.00"))})}
    bad = score(truth, wrong).total
    assert (bad.precision, bad.recall, bad.coverage) == (0.0, 0.0, 0.0)
    right = score(truth, {"L1": Outcome("auto", auto={("INV-1", Decimal("10.00"))})}).total
    assert (right.precision, right.recall) == (1.0, 1.0)
