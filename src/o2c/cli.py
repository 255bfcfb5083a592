"""The ``o2c`` command line: ``o2c demo`` (more commands arrive with the engine)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from o2c import __version__

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``o2c`` command.

    Returns:
        The process exit status.
    """
    parser = argparse.ArgumentParser(prog="o2c", description="Order-to-cash as a library.")
    parser.add_argument("--version", action="version", version=f"o2c {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run a small scripted order-to-cash cycle and explain it")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from o2c.demo import run  # noqa: PLC0415 - keep `o2c --help` fast

        run(lambda line: print(line, file=sys.stdout))
        return 0
    return 2  # pragma: no cover - argparse enforces the choices


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
