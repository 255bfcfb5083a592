"""Regenerate the generated parts of docs/ (``make docs``).

Generated pages: ``docs/state-machines.md`` (from ``o2c.lifecycles``) and
``docs/hooks.md`` (from ``o2c.hookspecs``). Tests fail when a generated page differs
from what this script would write.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs

from o2c import hookspecs
from o2c.lifecycles import ALL_WORKFLOWS
from o2c.workflow import render_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"

#: The record classes documented on the hooks page, in the order hooks mention them.
RECORDS = (
    hookspecs.StorageRecord,
    hookspecs.GatewayRecord,
    hookspecs.CarrierRecord,
    hookspecs.FulfilmentProviderRecord,
    hookspecs.InventoryRecord,
    hookspecs.TaxRecord,
    hookspecs.NotifierRecord,
    hookspecs.StatementReaderRecord,
)


# --------------------------------------------------------------------------- hook specs


@attrs.frozen
class HookSpecDoc:
    """What the hooks page says about one hook specification.

    Args:
        name: The hook's name.
        signature: ``def name(args) -> returns`` as written in the source.
        returns: The return annotation as written.
        firstresult: True when the first non-None answer ends the call.
        docstring: The raw docstring ("" when missing).
    """

    name: str
    signature: str
    returns: str
    firstresult: bool
    docstring: str


def _source_signature(function: Callable[..., Any]) -> tuple[str, str]:
    # Annotations are strings (PEP 563), so they print exactly as written.
    sig = inspect.signature(function)
    params = ", ".join(
        p.name if p.annotation is inspect.Parameter.empty else f"{p.name}: {p.annotation}"
        for p in sig.parameters.values()
    )
    returns = "None" if sig.return_annotation is inspect.Signature.empty else sig.return_annotation
    return f"def {function.__name__}({params}) -> {returns}", str(returns)


def hook_specs(module: ModuleType = hookspecs) -> list[HookSpecDoc]:
    """Every function of ``module`` marked with ``@hookspec``, in source order.

    Found by pluggy's marker, not by name, so a spec without the ``o2c_`` prefix is
    still listed (and a test refuses it).
    """
    marker = f"{hookspecs.PROJECT}_spec"
    specs: list[HookSpecDoc] = []
    for name, function in vars(module).items():
        opts = getattr(function, marker, None) if inspect.isfunction(function) else None
        if opts is None:
            continue
        signature, returns = _source_signature(function)
        specs.append(
            HookSpecDoc(
                name=name,
                signature=signature,
                returns=returns,
                firstresult=bool(opts.get("firstresult")),
                docstring=function.__doc__ or "",
            )
        )
    return specs


# --------------------------------------------------------------------------- docstrings

_ROLE = re.compile(r":(?:class|meth|func|data|mod|attr|exc):`(~?)([^`<]+?)\s*(?:<[^>]+>)?`")
_SECTION = re.compile(r"(Args|Returns|Raises|Yields|Example|Examples|Note|Attributes):")
_ITEM = re.compile(r"(\S[^:]*?): (.*)")


def _inline(text: str) -> str:
    """reST inline markup to Markdown: roles and double backticks become code."""

    def role(m: re.Match[str]) -> str:
        target = m.group(2).strip()
        return f"`{target.rsplit('.', 1)[-1] if m.group(1) else target}`"

    return re.sub(r"``([^`]+)``", r"`\1`", _ROLE.sub(role, text))


def _block(lines: list[str], start: int, indent: int) -> tuple[list[str], int]:
    """The lines from ``start`` indented by at least ``indent`` (blank lines included),
    dedented, and the index after them."""
    out: list[str] = []
    i = start
    while i < len(lines):
        line = lines[i]
        if line.strip() and len(line) - len(line.lstrip()) < indent:
            break
        out.append(line[indent:] if line.strip() else "")
        i += 1
    while out and not out[-1]:
        out.pop()
    while out and not out[0]:
        out.pop(0)
    return out, i


def _fence(lines: list[str], lang: str) -> list[str]:
    return [f"```{lang}", *lines, "```"]


def _items(lines: list[str]) -> Iterator[str]:
    """Google ``name: text`` entries (continuations indented) as Markdown bullets."""
    current: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        if line.startswith(" ") and current:
            current.append(line.strip())
            continue
        if current:
            yield " ".join(current)
        m = _ITEM.fullmatch(line.strip())
        current = [f"- `{m.group(1)}`: {m.group(2)}" if m else f"- {line.strip()}"]
    if current:
        yield " ".join(current)


def doc_to_markdown(doc: str) -> str:
    """A Google-style docstring (with reST inline markup) as Markdown.

    Handles what o2c's hook docstrings use: paragraphs, ``*`` bullets, ``::`` literal
    blocks, doctest blocks, and ``Args:``/``Returns:``/``Raises:``/``Example:`` sections.
    """
    lines = inspect.cleandoc(doc).splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        section = _SECTION.fullmatch(line)
        if section:
            body, i = _block(lines, i + 1, 4)
            out += [f"**{section.group(1)}:**", ""]
            if section.group(1) in ("Example", "Examples"):
                out += _fence(body, "pycon")
            elif section.group(1) in ("Args", "Raises", "Attributes"):
                out += [_inline(item) for item in _items(body)]
            else:
                out.append(_inline(" ".join(b.strip() for b in body if b.strip())))
            out.append("")
            continue
        if line.startswith(">>>"):
            # A top-level doctest block runs to the next blank line.
            end = i
            while end < len(lines) and lines[end].strip():
                end += 1
            out += [*_fence(lines[i:end], "pycon"), ""]
            i = end
            continue
        if line.endswith("::"):
            out.append(_inline(line[:-1]))
            body, i = _block(lines, i + 1, 4)
            out += ["", *_fence(body, ""), ""]
            continue
        out.append(_inline(line))
        i += 1
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# --------------------------------------------------------------------------- the hooks page


def _record_signature(cls: type[Any]) -> str:
    params = []
    for field in attrs.fields(cls):
        text = f"{field.name}: {field.type}"
        if field.default is not attrs.NOTHING:
            text += f" = {field.default!r}"
        params.append(text)
    return f"{cls.__name__}({', '.join(params)})"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_hooks() -> str:
    """The ``docs/hooks.md`` page: the hooks' contract, every hook, every record."""
    specs = hook_specs()
    out = [
        "# Hooks",
        "",
        "<!-- Generated by tools/gen_docs.py from src/o2c/hookspecs.py; do not edit. -->",
        "",
        doc_to_markdown(hookspecs.__doc__ or "").rstrip("\n"),
        "",
        "## Summary",
        "",
        "| hook | called | returns |",
        "|---|---|---|",
    ]
    for spec in specs:
        called = "until one answers (`firstresult`)" if spec.firstresult else "every implementation"
        out.append(f"| [`{spec.name}`](#{spec.name}) | {called} | `{_cell(spec.returns)}` |")
    out += ["", "## Hook specifications", ""]
    for spec in specs:
        out += [
            f"### `{spec.name}`",
            "",
            *_fence([spec.signature], "python"),
            "",
            f"firstresult: **{'yes' if spec.firstresult else 'no'}**",
            "",
            doc_to_markdown(spec.docstring).rstrip("\n"),
            "",
        ]
    out += ["## Records", "", "Plugins return these from the registration hooks.", ""]
    for cls in RECORDS:
        out += [
            f"### `{cls.__name__}`",
            "",
            *_fence([_record_signature(cls)], "python"),
            "",
            doc_to_markdown(cls.__doc__ or "").rstrip("\n"),
            "",
        ]
    return "\n".join(out).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- main


def generated_pages() -> dict[Path, str]:
    """Every generated page and the text it must have."""
    return {
        DOCS / "state-machines.md": render_markdown(ALL_WORKFLOWS, title="State machines"),
        DOCS / "hooks.md": render_hooks(),
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
