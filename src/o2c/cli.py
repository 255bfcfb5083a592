"""The ``o2c`` command line: ``o2c demo`` and ``o2c match``.

``o2c match --invoices OPEN_ITEMS.csv --statement FILE [--format auto|csv|camt053|mt940]
--output MATCHES.csv`` applies a bank statement to open items (see
docs/cash-application.md). Exit status: 0 done (whatever was matched), 1 an input
was refused (a typed error, printed on stderr), 2 bad usage, 3 a file could not be
read or written. MATCHES.csv is written to a temporary file in the same folder and
renamed into place, so it is either complete or not there (nor changed).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Final, TextIO

from o2c import __version__

__all__ = ["EXIT_INPUT", "EXIT_IO", "EXIT_OK", "EXIT_USAGE", "main"]

EXIT_OK: Final = 0
EXIT_INPUT: Final = 1
EXIT_USAGE: Final = 2
EXIT_IO: Final = 3
#: Statement formats ``--format`` accepts (the contract's four, and camt.052/054).
MATCH_FORMATS: Final = ("auto", "csv", "camt053", "mt940", "camt052", "camt054")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``o2c`` command.

    Returns:
        The process exit status.
    """
    parser = argparse.ArgumentParser(prog="o2c", description="Order-to-cash as a library.")
    parser.add_argument("--version", action="version", version=f"o2c {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run a small scripted order-to-cash cycle and explain it")
    matcher = sub.add_parser(
        "match",
        help="match a bank statement to open invoices (cash application)",
        description="Match a bank statement's incoming payments to open invoices. "
        "Writes one row per (line, invoice) allocation; see docs/cash-application.md.",
    )
    matcher.add_argument("--invoices", required=True, type=Path, help="OPEN_ITEMS.csv")
    matcher.add_argument("--statement", required=True, type=Path, help="statement file")
    matcher.add_argument("--format", default="auto", choices=MATCH_FORMATS)
    matcher.add_argument("--output", required=True, type=Path, help="MATCHES.csv to write")
    matcher.add_argument("--groups", type=Path, help="parent_id,customer_id CSV (optional)")
    matcher.add_argument(
        "--memory", type=Path, help="account,name,customer_id CSV of confirmed payers (optional)"
    )
    matcher.add_argument(
        "--today", type=date.fromisoformat, help="run date; later lines are never auto-applied"
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        from o2c.demo import run  # noqa: PLC0415 - keep `o2c --help` fast

        run(lambda line: print(line, file=sys.stdout))
        return EXIT_OK
    return _match(args)


def _fail(status: int, message: str) -> int:
    print(f"o2c match: {message}", file=sys.stderr)
    return status


def _match(args: argparse.Namespace) -> int:
    from o2c.adapters.statements.detect import read_statement  # noqa: PLC0415
    from o2c.errors import O2CError  # noqa: PLC0415
    from o2c.matching.csvio import (  # noqa: PLC0415
        read_groups,
        read_memory,
        read_open_items,
        write_matches,
    )
    from o2c.matching.engine import match  # noqa: PLC0415
    from o2c.matching.model import MatchStatus  # noqa: PLC0415
    from o2c.matching.payers import PayerMemory  # noqa: PLC0415
    from o2c.matching.policy import MatchPolicy  # noqa: PLC0415

    output: Path = args.output
    inputs = [p for p in (args.invoices, args.statement, args.groups, args.memory) if p]
    if any(_same_file(output, p) for p in inputs):
        return _fail(EXIT_USAGE, f"error: --output {output} would overwrite an input")
    try:
        with args.invoices.open(encoding="utf-8-sig", newline="") as f:
            items = read_open_items(f, file=args.invoices.name)
        statements = read_statement(args.statement.read_bytes(), args.format)
        groups: dict[str, list[str]] = {}
        if args.groups:
            with args.groups.open(encoding="utf-8-sig", newline="") as f:
                groups = read_groups(f, file=args.groups.name)
        memory = PayerMemory()
        if args.memory:
            with args.memory.open(encoding="utf-8-sig", newline="") as f:
                memory = read_memory(f, file=args.memory.name)
        entries = [entry for statement in statements for entry in statement.entries]
        results = match(
            entries, items, policy=MatchPolicy(groups=groups), memory=memory, today=args.today
        )
        rows = _write_atomically(output, lambda out: write_matches(results, out))
    except O2CError as exc:
        return _fail(EXIT_INPUT, f"error: {exc}")
    except UnicodeDecodeError as exc:
        return _fail(EXIT_INPUT, f"error: not UTF-8 text at byte {exc.start}: {exc.reason}")
    except OSError as exc:
        return _fail(EXIT_IO, f"error: {exc.strerror or exc} ({exc.filename or output})")
    counts = dict.fromkeys(MatchStatus, 0)
    for result in results:
        counts[result.status] += 1
    print(
        f"o2c match: {len(results)} lines: {counts[MatchStatus.AUTO]} applied, "
        f"{counts[MatchStatus.SUGGESTED]} suggested, {counts[MatchStatus.UNMATCHED]} unmatched; "
        f"{rows} rows written to {output}"
    )
    return EXIT_OK


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:  # pragma: no cover - resolve() does not fail on normal paths
        return False


def _write_atomically(path: Path, write: Callable[[TextIO], int]) -> int:
    """Run ``write(stream)`` into a temporary file beside ``path``, then rename it over."""
    folder = path.parent if str(path.parent) else Path()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            rows = write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return rows


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
