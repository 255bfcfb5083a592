"""How fast cash application is, against how fast the files can merely be read.

    python benchmarks/cashapp/speed.py                       # 10k/20k, then 100k/200k
    python benchmarks/cashapp/speed.py --lines 100000 --invoices 200000

For each size the generator writes a scenario (not timed), then a fresh process
measures, on the same files:

* ``read_s``: reading OPEN_ITEMS.csv and statement.csv with the ``csv`` module (rows
  as lists, nothing else): the floor any tool pays;
* ``parse_s``: turning them into o2c values (:func:`o2c.matching.csvio.read_open_items`,
  and the statement reader :func:`o2c.adapters.statements.detect.read_statement`),
  with every amount, date and currency checked;
* ``match_s``: :func:`o2c.matching.match` on those values: indexes built once, then
  every line matched and decided;
* ``peak_mib``: the process's peak resident memory (``resource.getrusage``).

``ratio = match_s / read_s`` (the acceptance: at most 5). The run ends with one line
per size, the largest last:
``cashapp_speed lines=L invoices=I read_s=R match_s=M ratio=X peak_mib=P``.
"""

from __future__ import annotations

import argparse
import csv
import gc
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks.cashapp` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

__all__ = ["measure"]


def measure(folder: Path) -> dict[str, float]:
    """Time reading, parsing and matching the files in ``folder`` (this process)."""
    from o2c.adapters.statements.detect import read_statement  # noqa: PLC0415
    from o2c.matching.csvio import read_groups, read_open_items  # noqa: PLC0415
    from o2c.matching.engine import match  # noqa: PLC0415
    from o2c.matching.policy import MatchPolicy  # noqa: PLC0415

    items_path = folder / "OPEN_ITEMS.csv"
    statement_path = folder / "statement.csv"
    gc.collect()
    start = time.perf_counter()
    with items_path.open(newline="", encoding="utf-8") as f:
        raw_items = list(csv.reader(f))
    with statement_path.open(newline="", encoding="utf-8") as f:
        raw_lines = list(csv.reader(f))
    read_s = time.perf_counter() - start
    del raw_items, raw_lines
    gc.collect()

    start = time.perf_counter()
    with items_path.open(newline="", encoding="utf-8") as f:
        items = read_open_items(f)
    statements = read_statement(statement_path.read_bytes(), "csv")
    entries = [e for s in statements for e in s.entries]
    with (folder / "groups.csv").open(newline="", encoding="utf-8") as f:
        policy = MatchPolicy(groups=read_groups(f))
    parse_s = time.perf_counter() - start
    gc.collect()

    start = time.perf_counter()
    results = match(entries, items, policy=policy)
    match_s = time.perf_counter() - start
    auto = sum(1 for r in results if r.status.value == "auto")
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "lines": len(entries),
        "invoices": len(items),
        "read_s": read_s,
        "parse_s": parse_s,
        "match_s": match_s,
        "auto": auto,
        "peak_mib": peak_kib / 1024,
    }


def _run(lines: int, invoices: int, seed: int) -> dict[str, float]:
    from benchmarks.cashapp.generator import generate, write  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write(generate(lines, seed, invoices), folder)
        out = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, __file__, "--measure", str(folder)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    values = dict(part.split("=") for part in out.split())
    return {k: float(v) for k, v in values.items()}


def main(argv: list[str] | None = None) -> int:
    """Measure one size, or the two standard ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int)
    parser.add_argument("--invoices", type=int)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        figures = measure(args.measure)
        print(" ".join(f"{k}={v}" for k, v in figures.items()))
        return 0
    sizes = (
        [(args.lines, args.invoices or 2 * args.lines)]
        if args.lines
        else [(10_000, 20_000), (100_000, 200_000)]
    )
    rows = []
    for lines, invoices in sizes:
        f = _run(lines, invoices, args.seed)
        rows.append(f)
        per_line = f["match_s"] / f["lines"] * 1e6
        print(
            f"lines={int(f['lines'])} invoices={int(f['invoices'])}: read {f['read_s']:.2f} s, "
            f"parse {f['parse_s']:.2f} s, match {f['match_s']:.2f} s ({per_line:.1f} us/line, "
            f"{int(f['auto'])} auto-applied), peak {f['peak_mib']:.0f} MiB",
            flush=True,
        )
    for f in rows:
        ratio = f["match_s"] / f["read_s"]
        print(
            f"cashapp_speed lines={int(f['lines'])} invoices={int(f['invoices'])} "
            f"read_s={f['read_s']:.3f} match_s={f['match_s']:.3f} ratio={ratio:.2f} "
            f"peak_mib={f['peak_mib']:.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
