"""Atomicity of every mutating engine call: a storage failure at any write leaves no
trace, and retrying under the same key ends exactly where an undisturbed call ends,
with every outside effect (gateway money movement, carrier label) made once.

The write positions of a call are learnt from a disarmed run on a reference world
(:attr:`FaultInjectingStorage.write_log`); each position is then failed on a fresh
world brought to the same state by the row's setup.
"""

from __future__ import annotations

import pytest
from tests.unit.engine_cases import CASES, Case, World

from o2c.errors import InjectedFaultError

KEY = "atomic-key-1"


def _reference(case: Case) -> tuple[World, object, list[str]]:
    """A world where the call ran undisturbed, its result and the call's write log."""
    world = case.world()
    start = len(world.storage.write_log)
    result = case.call(world, KEY)
    log = world.storage.write_log[start:]
    assert log, "the call wrote nothing"
    assert log[-1] == "commit"
    return world, result, log


@pytest.mark.parametrize("case", CASES, ids=str)
def test_failure_at_every_write_leaves_no_trace_and_retry_completes(case: Case) -> None:
    reference, expected, log = _reference(case)
    expected_state, expected_effects = reference.snapshot(), reference.effects()

    for position, operation in enumerate(log):
        where = f"{case.name}: write {position} ({operation})"
        world = case.world()
        before = world.snapshot()
        world.storage.arm(position)

        with pytest.raises(InjectedFaultError) as failed:
            case.call(world, KEY)

        assert (failed.value.position, failed.value.operation) == (position, operation), where
        assert world.storage.inner.snapshot() == before, f"partial state after {where}"
        world.storage.disarm()
        assert case.call(world, KEY) == expected, where
        assert world.snapshot() == expected_state, where
        assert world.effects() == expected_effects, f"outside effects repeated after {where}"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_retry_storm_failing_each_write_in_turn_acts_once(case: Case) -> None:
    # One world, one key: the call fails at its first write, is retried and fails at
    # the second, and so on, then goes through.
    reference, expected, log = _reference(case)
    world = case.world()
    before = world.snapshot()

    for position in range(len(log)):
        world.storage.arm(position)
        with pytest.raises(InjectedFaultError):
            case.call(world, KEY)
        assert world.snapshot() == before, f"{case.name}: partial state at write {position}"

    world.storage.disarm()
    assert case.call(world, KEY) == expected
    assert world.snapshot() == reference.snapshot()
    assert world.effects() == reference.effects()
    assert case.call(world, KEY) == expected  # and it is stored: a replay answers
    assert world.snapshot() == reference.snapshot()


def test_table_makes_outside_effects_for_the_checks_above_to_count() -> None:
    # "Outside effects once" means something only if rows make them.
    moved_money, bought_labels, sent_out = set(), set(), set()
    for case in CASES:
        world = case.world()
        money, labels, requests = world.effects()
        case.call(world, KEY)
        after_money, after_labels, after_requests = world.effects()
        if after_money != money:
            moved_money.add(case.name)
        if after_labels != labels:
            bought_labels.add(case.name)
        if after_requests != requests:
            sent_out.add(case.name)
    assert moved_money >= {
        "authorize_payment",
        "capture_payment",
        "void_payment",
        "refund_payment",
        "pay_invoices",
        "close_return",
    }
    assert bought_labels == {"ship", "relabel"}
    assert sent_out == {"send_to_fulfilment"}  # requests to a fulfilment provider (3PL)
