"""The demo runs and balances; the README's example runs exactly as written."""

from __future__ import annotations

import re

import pytest
from tests.conftest import REPO_ROOT

from o2c.cli import main
from o2c.demo import run


def test_demo_cycle_balances() -> None:
    lines: list[str] = []
    summary = run(lines.append)
    assert summary["order_state"] == "completed"
    assert summary["invoice_states"] == ("paid", "written_off")
    assert summary["open_total"].is_zero()  # type: ignore[attr-defined]
    # Everything invoiced was either received as cash or written off.
    assert summary["received"] + summary["written_off"] == summary["invoiced"]  # type: ignore[operator]
    assert any("HOLD" in line for line in lines)
    assert any("(conserved)" in line for line in lines)


def test_cli_demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    assert "order completed" in capsys.readouterr().out


def test_cli_requires_a_command() -> None:
    with pytest.raises(SystemExit):
        main([])


def test_readme_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert blocks, "the README has no python example"
    code = blocks[0]
    assert len([ln for ln in code.splitlines() if ln.strip()]) <= 40
    exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - our own README
    out = capsys.readouterr().out
    first, second = out.strip().splitlines()
    assert first == "completed paid 119,00\xa0€"
    # One mug of two came back: refunded to the card, restocked (10 - 2 + 1), nothing owed.
    assert second == "partially_refunded 9 0.00 EUR"
