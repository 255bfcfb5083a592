"""Score cash application against the generator's ground truth, per kind of line.

    python benchmarks/cashapp/score.py --lines 2000 --seed 7            # generate, run, score
    python benchmarks/cashapp/score.py --dir /tmp/cashapp               # score existing files

Runs the engine twice on the same files: through the API (``o2c.matching.match``,
which sees every proposal) and end to end through the command line
(``python -m o2c.cli match ... --output MATCHES.csv``, which writes the best proposal
only). Prints, per kind and in total:

* **precision**: of the auto-applied allocations, the share with the right invoice
  and the right amount;
* **recall**: of the lines whose own data determines the answer, the share applied
  exactly right without a person (all of the line's allocations, nothing else; a line
  whose answer is "nothing" counts when nothing was applied);
* **coverage**: of the true allocations not auto-applied, the share found among the
  line's suggestions (API: any proposal; CLI: the best one, the only one written).

The last line is machine-readable:
``cashapp_quality lines=N precision=P recall=R coverage=C cli_precision=... ...``.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks.cashapp` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.cashapp.generator import generate, write

from o2c.adapters.statements.detect import read_statement
from o2c.matching.csvio import read_groups, read_open_items
from o2c.matching.engine import match
from o2c.matching.model import LineResult, MatchStatus
from o2c.matching.policy import MatchPolicy

__all__ = ["Score", "Truth", "read_truth", "run_api", "run_cli", "score"]

Alloc = tuple[str, Decimal]  # (invoice number, cash)


@dataclass
class Truth:
    """What one line should do."""

    kind: str
    determined: bool
    allocations: set[Alloc] = field(default_factory=set)


@dataclass
class Outcome:
    """What the engine did with one line."""

    status: str
    auto: set[Alloc] = field(default_factory=set)
    suggested: set[Alloc] = field(default_factory=set)


@dataclass
class Tally:
    """Counts for one kind (or all)."""

    lines: int = 0
    determined: int = 0
    determined_right: int = 0
    determined_alloc: int = 0  # determined lines that should apply something
    determined_alloc_right: int = 0
    auto_lines: int = 0
    auto_allocs: int = 0
    auto_right: int = 0
    missed: int = 0  # true allocations not auto-applied
    missed_covered: int = 0

    def add(self, other: Tally) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def precision(self) -> float:
        return self.auto_right / self.auto_allocs if self.auto_allocs else 1.0

    @property
    def recall(self) -> float:
        return self.determined_right / self.determined if self.determined else 1.0

    @property
    def recall_alloc(self) -> float:
        if not self.determined_alloc:
            return 1.0
        return self.determined_alloc_right / self.determined_alloc

    @property
    def coverage(self) -> float:
        return self.missed_covered / self.missed if self.missed else 1.0


@dataclass
class Score:
    """Per-kind tallies and the total."""

    kinds: dict[str, Tally]
    total: Tally


def read_truth(path: Path) -> dict[str, Truth]:
    """truth.csv -> line id -> Truth."""
    truth: dict[str, Truth] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            t = truth.setdefault(row["line_id"], Truth(row["kind"], row["determined"] == "1"))
            if row["invoice_number"]:
                t.allocations.add((row["invoice_number"], Decimal(row["amount"])))
    return truth


def _allocs(proposal_allocations: Iterable[tuple[str, Decimal]]) -> set[Alloc]:
    return {(n, a.normalize()) for n, a in proposal_allocations}


def run_api(folder: Path) -> dict[str, Outcome]:
    """Match through the API; every proposal counts as a suggestion."""
    with (folder / "OPEN_ITEMS.csv").open(newline="", encoding="utf-8") as f:
        items = read_open_items(f)
    with (folder / "groups.csv").open(newline="", encoding="utf-8") as f:
        groups = read_groups(f)
    statements = read_statement((folder / "statement.csv").read_bytes(), "csv")
    entries = [e for s in statements for e in s.entries]
    results = match(entries, items, policy=MatchPolicy(groups=groups))
    return {r.line_id: _outcome(r) for r in results}


def _outcome(result: LineResult) -> Outcome:
    out = Outcome(result.status.value)
    for k, proposal in enumerate(result.proposals):
        allocs = _allocs((a.invoice_number, a.amount.amount) for a in proposal.allocations)
        if k == 0 and result.status is MatchStatus.AUTO:
            out.auto = allocs
        else:
            out.suggested |= allocs
    return out


def run_cli(folder: Path) -> dict[str, Outcome]:
    """Match end to end through ``o2c match`` and read MATCHES.csv back."""
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "MATCHES.csv"
        subprocess.run(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "o2c.cli",
                "match",
                "--invoices",
                str(folder / "OPEN_ITEMS.csv"),
                "--statement",
                str(folder / "statement.csv"),
                "--format",
                "csv",
                "--groups",
                str(folder / "groups.csv"),
                "--output",
                str(output),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        outcomes: dict[str, Outcome] = {}
        with output.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                out = outcomes.setdefault(row["line_id"], Outcome(row["status"]))
                if not row["invoice_number"]:
                    continue
                alloc = (row["invoice_number"], Decimal(row["amount_applied"]).normalize())
                (out.auto if row["status"] == "auto" else out.suggested).add(alloc)
        return outcomes


def score(truth: dict[str, Truth], outcomes: dict[str, Outcome]) -> Score:
    """Tally outcomes against the truth, per kind."""
    kinds: dict[str, Tally] = defaultdict(Tally)
    for line_id, t in truth.items():
        got = outcomes.get(line_id, Outcome("missing"))
        tally = kinds[t.kind]
        want = {(n, a.normalize()) for n, a in t.allocations}
        tally.lines += 1
        if got.auto:
            tally.auto_lines += 1
            tally.auto_allocs += len(got.auto)
            tally.auto_right += len(got.auto & want)
        if t.determined:
            tally.determined += 1
            right = got.auto == want
            tally.determined_right += right
            if want:
                tally.determined_alloc += 1
                tally.determined_alloc_right += right
        for alloc in want - got.auto:
            tally.missed += 1
            tally.missed_covered += alloc in got.suggested
    total = Tally()
    for tally in kinds.values():
        total.add(tally)
    return Score(dict(sorted(kinds.items())), total)


def report(name: str, result: Score) -> list[str]:
    """The table, one line per kind."""
    head = (
        f"{name:<22}{'lines':>7}{'determ':>8}{'auto':>7}{'precision':>11}"
        f"{'recall':>9}{'recall*':>9}{'missed':>8}{'coverage':>10}"
    )
    out = [head, "-" * len(head)]
    for kind, t in [*result.kinds.items(), ("TOTAL", result.total)]:
        out.append(
            f"{kind:<22}{t.lines:>7}{t.determined:>8}{t.auto_lines:>7}"
            f"{t.precision:>11.2%}{t.recall:>9.2%}{t.recall_alloc:>9.2%}"
            f"{t.missed:>8}{t.coverage:>10.2%}"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    """Generate (or read) a scenario, run both ways, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="score the files in this folder")
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-cli", action="store_true", help="skip the end-to-end CLI run")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.dir or Path(tmp)
        if args.dir is None:
            write(generate(args.lines, args.seed), folder)
        truth = read_truth(folder / "truth.csv")
        api = score(truth, run_api(folder))
        print("\n".join(report("API", api)))
        summary = (
            f"cashapp_quality lines={api.total.lines} precision={api.total.precision:.4f} "
            f"recall={api.total.recall:.4f} recall_alloc={api.total.recall_alloc:.4f} "
            f"coverage={api.total.coverage:.4f}"
        )
        if not args.no_cli:
            cli = score(truth, run_cli(folder))
            print()
            print("\n".join(report("CLI (MATCHES.csv)", cli)))
            summary += (
                f" cli_precision={cli.total.precision:.4f} cli_recall={cli.total.recall:.4f}"
                f" cli_coverage={cli.total.coverage:.4f}"
            )
    print()
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
