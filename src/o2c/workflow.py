"""State machines declared as data.

A :class:`Workflow` is a transition table over two string enums (states and events).
It is checked when it is defined, so a broken table fails at import time, not in
production:

* the initial state and every final state are states of the table;
* final states have no outgoing transitions (they absorb nothing);
* no ``(source, event)`` pair appears twice (no ambiguity);
* every state is reachable from the initial state;
* from every state a final state can be reached (nothing gets stuck).

:meth:`Workflow.apply` is a pure function from ``(state, event)`` to the next state,
raising :class:`~o2c.errors.InvalidTransitionError` that names the workflow, the
state, the event and the events that *are* allowed. :meth:`Workflow.to_mermaid`
renders the table for the docs.

Guards are plain predicates named in the table; the domain passes the context they
need to :meth:`Workflow.apply`. Methods are never injected into classes at run time
(that defeats type checkers and frozen classes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any, Generic, TypeVar

import attrs

from o2c.errors import GuardRejectedError, InvalidTransitionError, WorkflowDefinitionError

__all__ = ["Transition", "Workflow", "render_markdown"]

S = TypeVar("S", bound=StrEnum)
E = TypeVar("E", bound=StrEnum)


@attrs.frozen
class Transition(Generic[S, E]):
    """One row of a transition table.

    Args:
        source: State the row applies in.
        event: Event that fires it.
        target: State it leads to.
        guard: Optional predicate over the context passed to ``apply``; the
            transition is refused when it returns False.
        note: Why the row exists, shown in the rendered docs.
    """

    source: S
    event: E
    target: S
    guard: Callable[[Any], bool] | None = attrs.field(default=None, eq=False)
    note: str = ""

    @property
    def guard_name(self) -> str:
        """Name of the guard for docs and errors ("" when unguarded)."""
        return getattr(self.guard, "__name__", "guard") if self.guard else ""


@attrs.frozen
class Workflow(Generic[S, E]):
    """A validated transition table.

    Args:
        name: Name used in errors and docs, e.g. ``"order"``.
        states: The enum of states.
        events: The enum of events.
        initial: The state new aggregates start in.
        finals: States that end the lifecycle.
        transitions: The table.
        description: One paragraph for the docs.

    Raises:
        WorkflowDefinitionError: the table breaks one of the rules in the module doc.
    """

    name: str
    states: type[S]
    events: type[E]
    initial: S
    finals: frozenset[S]
    transitions: tuple[Transition[S, E], ...]
    description: str = ""
    _index: dict[tuple[S, E], Transition[S, E]] = attrs.field(
        init=False, repr=False, eq=False, factory=dict
    )

    def __attrs_post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise WorkflowDefinitionError(workflow=self.name, problems=tuple(problems))
        for t in self.transitions:
            self._index[(t.source, t.event)] = t

    def _problems(self) -> Iterable[str]:
        states = set(self.states)
        if self.initial not in states:
            yield f"initial state {self.initial!r} is not a state"
        for f in self.finals:
            if f not in states:
                yield f"final state {f!r} is not a state"
        seen: set[tuple[S, E]] = set()
        for t in self.transitions:
            if t.source not in states or t.target not in states:
                yield f"transition {t.source!r} -{t.event}-> {t.target!r} names an unknown state"
            if t.event not in set(self.events):
                yield f"transition on {t.event!r} names an unknown event"
            if t.source in self.finals:
                yield (
                    f"final state {t.source.value!r} has an outgoing transition"
                    f" on {t.event.value!r}"
                )
            if (t.source, t.event) in seen:
                yield f"({t.source.value!r}, {t.event.value!r}) appears twice"
            seen.add((t.source, t.event))
        forward = _closure(self.initial, self.transitions, reverse=False)
        for s in self.states:
            if s not in forward:
                yield f"state {s.value!r} is unreachable from {self.initial.value!r}"
        can_finish: set[S] = set()
        for f in self.finals:
            can_finish |= _closure(f, self.transitions, reverse=True)
        for s in self.states:
            if s not in can_finish:
                yield f"no final state can be reached from {s.value!r}"
        used = {t.event for t in self.transitions}
        for e in self.events:
            if e not in used:
                yield f"event {e.value!r} is used by no transition"

    # -- queries ------------------------------------------------------------------

    def allowed(self, state: S) -> tuple[E, ...]:
        """Events accepted in ``state``, in table order."""
        return tuple(t.event for t in self.transitions if t.source == state)

    def can(self, state: S, event: E) -> bool:
        """True when ``event`` has a row in ``state`` (guards are not evaluated)."""
        return (state, event) in self._index

    def is_final(self, state: S) -> bool:
        """True when ``state`` ends the lifecycle."""
        return state in self.finals

    # -- the pure step ------------------------------------------------------------

    def apply(self, state: S, event: E, context: object = None) -> S:
        """The state after ``event`` in ``state``.

        Raises:
            InvalidTransitionError: no row for ``(state, event)``.
            GuardRejectedError: the row's guard returned False for ``context``.
        """
        row = self._index.get((state, event))
        if row is None:
            raise InvalidTransitionError(
                f"{self.name}: '{_v(event)}' is not allowed in state '{_v(state)}'",
                workflow=self.name,
                state=_v(state),
                event=_v(event),
                allowed=tuple(e.value for e in self.allowed(state)),
            )
        if row.guard is not None and not row.guard(context):
            raise GuardRejectedError(
                f"{self.name}: '{_v(event)}' in '{_v(state)}' refused by {row.guard_name}",
                workflow=self.name,
                state=_v(state),
                event=_v(event),
                allowed=tuple(e.value for e in self.allowed(state)),
                guard=row.guard_name,
            )
        return row.target

    # -- rendering ----------------------------------------------------------------

    def to_mermaid(self) -> str:
        """The table as a Mermaid ``stateDiagram-v2`` (deterministic text)."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial.value}"]
        for t in self.transitions:
            label = t.event.value + (f" [{t.guard_name}]" if t.guard else "")
            lines.append(f"    {t.source.value} --> {t.target.value}: {label}")
        lines.extend(f"    {f.value} --> [*]" for f in self.states if f in self.finals)
        return "\n".join(lines) + "\n"


def _v(member: object) -> str:
    return str(getattr(member, "value", member))


def _closure(start: S, transitions: Iterable[Transition[S, E]], *, reverse: bool) -> set[S]:
    edges: dict[S, set[S]] = {}
    for t in transitions:
        a, b = (t.target, t.source) if reverse else (t.source, t.target)
        edges.setdefault(a, set()).add(b)
    seen = {start}
    todo = [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def render_markdown(workflows: Iterable[Workflow[Any, Any]], *, title: str) -> str:
    """A Markdown page with each workflow's description, Mermaid diagram and table.

    ``docs/state-machines.md`` is this function's output for
    :data:`o2c.lifecycles.ALL_WORKFLOWS`; a test keeps the two equal.
    """
    out = [
        f"# {title}",
        "",
        "<!-- Generated by tools/gen_docs.py from src/o2c/lifecycles.py; do not edit. -->",
        "",
    ]
    for wf in workflows:
        finals = ", ".join(f"`{s.value}`" for s in wf.states if s in wf.finals)
        out += [
            f"## {wf.name}",
            "",
            wf.description,
            "",
            f"Initial state: `{wf.initial.value}`. Final states: {finals}.",
            "",
            "```mermaid",
            wf.to_mermaid().rstrip("\n"),
            "```",
            "",
            "| from | event | to | note |",
            "|---|---|---|---|",
        ]
        for t in wf.transitions:
            note = t.note + (f" (guard: {t.guard_name})" if t.guard else "")
            out.append(f"| `{t.source.value}` | `{t.event.value}` | `{t.target.value}` | {note} |")
        out.append("")
    return "\n".join(out)
