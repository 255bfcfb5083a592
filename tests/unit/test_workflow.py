from __future__ import annotations

from enum import StrEnum

import pytest

from o2c.errors import GuardRejectedError, InvalidTransitionError, WorkflowDefinitionError
from o2c.lifecycles import ALL_WORKFLOWS, ORDER_WORKFLOW, OrderEvent, OrderState
from o2c.workflow import Transition, Workflow


class S(StrEnum):
    A = "a"
    B = "b"
    C = "c"
    D = "d"


class E(StrEnum):
    GO = "go"
    STOP = "stop"
    BACK = "back"


def _big_enough(ctx: object) -> bool:
    return isinstance(ctx, int) and ctx > 10


def make(transitions: tuple[Transition[S, E], ...], **kw: object) -> Workflow[S, E]:
    params: dict[str, object] = {
        "name": "t",
        "states": S,
        "events": E,
        "initial": S.A,
        "finals": frozenset({S.D}),
        "transitions": transitions,
    }
    params.update(kw)
    return Workflow(**params)  # type: ignore[arg-type]


GOOD = (
    Transition(S.A, E.GO, S.B),
    Transition(S.B, E.GO, S.C, guard=_big_enough),
    Transition(S.B, E.BACK, S.A),
    Transition(S.C, E.STOP, S.D),
)


def test_apply_follows_the_table() -> None:
    wf = make(GOOD)
    assert wf.apply(S.A, E.GO) is S.B
    assert wf.apply(S.B, E.GO, 11) is S.C
    assert wf.allowed(S.B) == (E.GO, E.BACK)
    assert wf.can(S.A, E.GO)
    assert not wf.can(S.A, E.STOP)
    assert wf.is_final(S.D)
    assert not wf.is_final(S.A)


def test_invalid_transition_names_state_event_and_allowed() -> None:
    wf = make(GOOD)
    with pytest.raises(InvalidTransitionError) as info:
        wf.apply(S.A, E.STOP)
    err = info.value
    assert (err.workflow, err.state, err.event, err.allowed) == ("t", "a", "stop", ("go",))
    assert "allowed" in str(err)
    assert err.code == "workflow.invalid_transition"


def test_guard_refusal_is_typed() -> None:
    wf = make(GOOD)
    with pytest.raises(GuardRejectedError) as info:
        wf.apply(S.B, E.GO, 3)
    assert info.value.guard == "_big_enough"
    assert isinstance(info.value, InvalidTransitionError)


@pytest.mark.parametrize(
    ("transitions", "kw", "problem"),
    [
        ((*GOOD, Transition(S.D, E.BACK, S.A)), {}, "final state 'd' has an outgoing"),
        ((*GOOD, Transition(S.A, E.GO, S.C)), {}, "appears twice"),
        (GOOD[:1] + GOOD[2:], {}, "unreachable"),
        (
            (
                Transition(S.A, E.GO, S.B),
                Transition(S.B, E.BACK, S.A),
                Transition(S.A, E.STOP, S.D),
            ),
            {"events": E},
            "unreachable",
        ),
        (GOOD, {"finals": frozenset({S.D, S.B})}, "final state 'b' has an outgoing"),
        (
            (
                Transition(S.A, E.GO, S.B),
                Transition(S.B, E.BACK, S.A),
                Transition(S.A, E.STOP, S.D),
                Transition(S.A, E.BACK, S.C),
            ),
            {},
            "no final state can be reached from 'c'",
        ),
        (
            (Transition(S.A, E.GO, S.B), Transition(S.B, E.GO, S.C), Transition(S.C, E.GO, S.D)),
            {},
            "event 'stop' is used by no transition",
        ),
    ],
)
def test_broken_tables_fail_when_defined(
    transitions: tuple[Transition[S, E], ...], kw: dict[str, object], problem: str
) -> None:
    with pytest.raises(WorkflowDefinitionError) as info:
        make(transitions, **kw)
    assert any(problem in p for p in info.value.problems), info.value.problems


def test_unknown_states_and_events_are_reported() -> None:
    class Other(StrEnum):
        X = "x"

    with pytest.raises(WorkflowDefinitionError) as info:
        make((*GOOD, Transition(S.C, Other.X, S.D)), initial=Other.X, finals=frozenset({Other.X}))  # type: ignore[arg-type]
    problems = " | ".join(info.value.problems)
    assert "initial state" in problems
    assert "final state" in problems
    assert "unknown event" in problems


def test_mermaid_rendering_lists_every_row_and_final() -> None:
    wf = make(GOOD)
    text = wf.to_mermaid()
    assert text.startswith("stateDiagram-v2\n    [*] --> a\n")
    assert "    b --> c: go [_big_enough]\n" in text
    assert "    d --> [*]\n" in text
    assert text.count("-->") == len(GOOD) + 2


def test_every_shipped_table_is_valid_and_renders() -> None:
    names = [wf.name for wf in ALL_WORKFLOWS]
    assert len(names) == len(set(names))
    for wf in ALL_WORKFLOWS:
        assert wf.description
        assert wf.to_mermaid().count(" --> ") >= len(wf.transitions)


def test_released_orders_are_checked_again() -> None:
    # The erpnext#33967 hole: resuming must not skip the credit check.
    assert ORDER_WORKFLOW.apply(OrderState.ON_HOLD, OrderEvent.RELEASE) is OrderState.PLACED
    assert not ORDER_WORKFLOW.can(OrderState.CANCELLED, OrderEvent.RELEASE)
