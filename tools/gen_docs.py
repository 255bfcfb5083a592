"""Regenerate the generated parts of docs/ (``make docs``).

Generated pages: ``docs/state-machines.md`` (from ``o2c.lifecycles``). Tests fail when
a generated page differs from what this script would write.
"""

from __future__ import annotations

import sys
from pathlib import Path

from o2c.lifecycles import ALL_WORKFLOWS
from o2c.workflow import render_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"


def generated_pages() -> dict[Path, str]:
    """Every generated page and the text it must have."""
    return {
        DOCS / "state-machines.md": render_markdown(ALL_WORKFLOWS, title="State machines"),
    }


def main() -> int:
    """Write every generated page; print which changed."""
    for path, text in generated_pages().items():
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(DOCS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
