"""Generated documentation must match the code that generates it."""

from __future__ import annotations

import types

import pluggy
import pytest
from tools.gen_docs import DOCS, HookSpecDoc, doc_to_markdown, generated_pages, hook_specs

from o2c import hookspecs
from o2c.lifecycles import ALL_WORKFLOWS

HOOKS_PAGE = DOCS / "hooks.md"


@pytest.mark.parametrize("page", sorted(generated_pages(), key=str), ids=lambda p: p.name)
def test_generated_page_is_current(page: object) -> None:
    expected = generated_pages()[page]  # type: ignore[index]
    actual = page.read_text(encoding="utf-8") if page.exists() else ""  # type: ignore[attr-defined]
    assert actual == expected, f"{page} is stale: run `make docs`"


def test_state_machine_page_covers_every_transition() -> None:
    text = generated_pages()[DOCS / "state-machines.md"]
    for wf in ALL_WORKFLOWS:
        assert f"## {wf.name}" in text
        for t in wf.transitions:
            assert f"| `{t.source.value}` | `{t.event.value}` | `{t.target.value}` |" in text


# --------------------------------------------------------------------------- hooks page


def test_hooks_page_is_generated_and_current() -> None:
    pages = generated_pages()
    assert HOOKS_PAGE in pages
    assert HOOKS_PAGE.read_text(encoding="utf-8") == pages[HOOKS_PAGE], (
        "docs/hooks.md is stale: run `make docs`"
    )


def spec_problems(specs: list[HookSpecDoc]) -> list[str]:
    """Every way the specs break the house rules for hooks."""
    problems = []
    for spec in specs:
        if not spec.name.startswith("o2c_"):
            problems.append(f"{spec.name}: hook names start with 'o2c_'")
        if not spec.docstring.strip():
            problems.append(f"{spec.name}: no docstring")
        elif "Example:" not in spec.docstring or ">>>" not in spec.docstring:
            problems.append(f"{spec.name}: the docstring has no runnable Example section")
    return problems


def test_every_hookspec_is_prefixed_and_documented_with_an_example() -> None:
    specs = hook_specs()
    assert len(specs) >= 10
    assert spec_problems(specs) == []


def test_the_spec_check_catches_a_bad_spec() -> None:
    # The check above must be able to fail: feed it a module with two bad specs.
    fake = types.ModuleType("fake_specs")

    @hookspecs.hookspec
    def register_things() -> None:
        """Offer things.

        Example:
            >>> 1
            1
        """

    @hookspecs.hookspec
    def o2c_undocumented() -> None:
        pass

    fake.register_things = register_things  # type: ignore[attr-defined]
    fake.o2c_undocumented = o2c_undocumented  # type: ignore[attr-defined]
    fake.not_a_spec = lambda: None  # type: ignore[attr-defined]
    problems = spec_problems(hook_specs(fake))
    assert problems == [
        "register_things: hook names start with 'o2c_'",
        "o2c_undocumented: no docstring",
    ]


def test_the_spec_finder_agrees_with_pluggy() -> None:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    specified = {name for name, caller in vars(pm.hook).items() if caller.has_spec()}
    found = {spec.name: spec for spec in hook_specs()}
    assert set(found) == specified
    for name in specified:
        caller = getattr(pm.hook, name)
        assert found[name].firstresult == bool(caller.spec.opts.get("firstresult")), name


def test_hooks_page_shows_every_hook_signature_and_calling_convention() -> None:
    text = generated_pages()[HOOKS_PAGE]
    for spec in hook_specs():
        assert f"### `{spec.name}`" in text
        assert spec.signature in text
    section = text.split("### `o2c_credit_policy`", 1)[1].split("### ", 1)[0]
    assert "firstresult: **yes**" in section
    assert "trylast=True" in section
    events = text.split("### `o2c_handle_event`", 1)[1]
    assert "must be idempotent" in events
    assert "stays pending" in events
    for record in ("StorageRecord", "GatewayRecord", "StatementReaderRecord"):
        assert f"### `{record}`" in text


def test_docstrings_become_markdown() -> None:
    doc = """Summary with :class:`~o2c.errors.PluginError` and ``code``.

    Install it so::

        [x]
        y = 1

    Args:
        name: The name,
            continued.

    Returns:
        A value.

    Example:
        >>> 1 + 1
        2
    """
    assert doc_to_markdown(doc) == (
        "Summary with `PluginError` and `code`.\n"
        "\n"
        "Install it so:\n"
        "\n"
        "```\n[x]\ny = 1\n```\n"
        "\n"
        "**Args:**\n\n- `name`: The name, continued.\n"
        "\n"
        "**Returns:**\n\nA value.\n"
        "\n"
        "**Example:**\n\n```pycon\n>>> 1 + 1\n2\n```\n"
    )
