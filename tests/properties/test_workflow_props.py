"""Random event sequences never reach a state the tables do not allow."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from o2c.errors import InvalidTransitionError
from o2c.lifecycles import ALL_WORKFLOWS
from o2c.workflow import Workflow


@st.composite
def walks(draw: st.DrawFn) -> tuple[Workflow[Any, Any], list[Any]]:
    wf = draw(st.sampled_from(ALL_WORKFLOWS))
    events = draw(st.lists(st.sampled_from(list(wf.events)), max_size=40))
    return wf, events


@given(walks())
def test_random_event_sequences_stay_inside_the_table(walk: tuple[Any, list[Any]]) -> None:
    wf, events = walk
    rows = {(t.source, t.event): t.target for t in wf.transitions}
    state = wf.initial
    for event in events:
        if (state, event) in rows:
            new = wf.apply(state, event)
            assert new == rows[(state, event)]
            assert not wf.is_final(state)
            state = new
        else:
            try:
                wf.apply(state, event)
            except InvalidTransitionError as err:
                assert err.state == state.value
                assert event.value not in err.allowed
                assert set(err.allowed) == {e.value for (s, e) in rows if s == state}
            else:  # pragma: no cover - would be a bug
                raise AssertionError(f"{wf.name}: {event} accepted in {state}")
        assert state in set(wf.states)
