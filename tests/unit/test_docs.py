"""Generated documentation must match the code that generates it."""

from __future__ import annotations

import pytest
from tools.gen_docs import generated_pages

from o2c.lifecycles import ALL_WORKFLOWS


@pytest.mark.parametrize("page", sorted(generated_pages(), key=str), ids=lambda p: p.name)
def test_generated_page_is_current(page: object) -> None:
    expected = generated_pages()[page]  # type: ignore[index]
    actual = page.read_text(encoding="utf-8") if page.exists() else ""  # type: ignore[attr-defined]
    assert actual == expected, f"{page} is stale: run `make docs`"


def test_state_machine_page_covers_every_transition() -> None:
    text = next(iter(generated_pages().values()))
    for wf in ALL_WORKFLOWS:
        assert f"## {wf.name}" in text
        for t in wf.transitions:
            assert f"| `{t.source.value}` | `{t.event.value}` | `{t.target.value}` |" in text
