"""The idempotency matrix: every mutating engine call, replayed every way.

For each row of :data:`tests.unit.engine_cases.CASES`:

* an identical replay returns an equal result, writes nothing and makes no second
  outside effect (gateway money movement, carrier label);
* a replay with one argument changed raises IdempotencyConflictError naming it;
* the key used for another operation raises IdempotencyConflictError("operation");
* a call that raised a domain error stored nothing, so its key works afterwards.
"""

from __future__ import annotations

import inspect
from decimal import Decimal

import attrs
import pytest
from tests.unit.engine_cases import (
    CASES,
    CASES_BY_NAME,
    INVOICE,
    Case,
    World,
    engine_mutating_methods,
    eur,
)

from o2c.disputes import DisputeReason
from o2c.engine import O2C
from o2c.errors import IdempotencyConflictError, NotFoundError
from o2c.invoices import InvoicingBasis
from o2c.payments import PaymentMethod

KEY = "idem-key-1"

FIELD_CASES = [
    pytest.param(case, name, id=f"{case.name}-{name}")
    for case in CASES
    for name in case.alternatives
]


def _other_operation(case: Case, world: World, key: str) -> object:
    """A call of another operation under ``key`` (valid in every setup state)."""
    if case.name == "expire_reservations":
        return world.engine.allocate_backorders(key)
    return world.engine.expire_reservations(key)


def _failing_call(case: Case, world: World, key: str) -> None:
    """A call under ``key`` that raises a domain error: the row's own bad arguments,
    or, for an operation no argument can make fail, a call naming no order."""
    if case.bad is not None:
        with pytest.raises(case.bad_error):
            case.call(world, key, **case.bad)
    else:
        with pytest.raises(NotFoundError):
            world.engine.close_order(key, "SO-404")


# -- the table itself ---------------------------------------------------------------------


def test_every_mutating_engine_method_has_a_row() -> None:
    # A new engine call fails here until it is added to the matrix.
    assert len(CASES_BY_NAME) == len(CASES), "a method has two rows"
    assert set(CASES_BY_NAME) == engine_mutating_methods()


def test_the_method_finder_sees_keyed_and_keyless_commands() -> None:
    # The guard above is only as good as engine_mutating_methods().
    found = engine_mutating_methods()
    assert {"place_order", "handle_gateway_event", "reject_return"} <= found
    assert not found & {"order", "balance", "statement", "dispatch_events", "stock"}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_row_passes_every_argument_and_an_alternative_for_each(case: Case) -> None:
    params = list(inspect.signature(getattr(O2C, case.name)).parameters)[1:]
    if case.key_of is None:
        assert params[0] == "key"
        params = params[1:]
    assert set(case.args) == set(params)
    assert set(case.alternatives) == set(case.args) - case.fixed
    if case.bad is not None:
        assert set(case.bad) <= set(case.args)


# -- (a) identical replay --------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=str)
def test_identical_replay_returns_first_result_and_changes_nothing(case: Case) -> None:
    world = case.world()
    before = world.snapshot()
    first = case.call(world, KEY)
    after, effects = world.snapshot(), world.effects()
    assert after != before, "the first call stored nothing"

    again = case.call(world, KEY)

    assert again == first
    assert world.snapshot() == after
    assert world.effects() == effects


@pytest.mark.parametrize("case", CASES, ids=str)
def test_replay_result_is_not_shared_with_the_first_caller(case: Case) -> None:
    world = case.world()
    first = case.call(world, KEY)
    if isinstance(first, list):
        expected = list(first)
        first.clear()  # the caller owns what it was given
        assert case.call(world, KEY) == expected
    else:
        assert attrs.has(type(first))
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            first.id = "changed"  # type: ignore[attr-defined]


# -- (b) one argument changed --------------------------------------------------------------


@pytest.mark.parametrize(("case", "field"), FIELD_CASES)
def test_replay_with_a_changed_argument_conflicts_and_changes_nothing(
    case: Case, field: str
) -> None:
    world = case.world()
    first = case.call(world, KEY)
    after, effects = world.snapshot(), world.effects()

    with pytest.raises(IdempotencyConflictError) as conflict:
        case.call(world, KEY, **{field: case.alternatives[field]})

    assert conflict.value.field == field
    assert conflict.value.key == case.key(world, KEY)
    assert world.snapshot() == after
    assert world.effects() == effects
    assert case.call(world, KEY) == first  # the key still answers its first call


# -- (c) another operation -------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=str)
def test_key_of_this_call_refused_for_another_operation(case: Case) -> None:
    world = case.world()
    case.call(world, KEY)
    after, effects = world.snapshot(), world.effects()

    with pytest.raises(IdempotencyConflictError) as conflict:
        _other_operation(case, world, case.key(world, KEY))

    assert conflict.value.field == "operation"
    assert world.snapshot() == after
    assert world.effects() == effects


@pytest.mark.parametrize("case", CASES, ids=str)
def test_key_of_another_operation_refused_for_this_call(case: Case) -> None:
    world = case.world()
    _other_operation(case, world, case.key(world, KEY))
    after, effects = world.snapshot(), world.effects()

    with pytest.raises(IdempotencyConflictError) as conflict:
        case.call(world, KEY)

    assert conflict.value.field == "operation"
    assert world.snapshot() == after
    assert world.effects() == effects


# -- (d) a failed call stores nothing ----------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=str)
def test_failed_call_stores_nothing_and_its_key_stays_usable(case: Case) -> None:
    world = case.world()
    before, effects = world.snapshot(), world.effects()

    _failing_call(case, world, case.key(world, KEY))

    assert world.snapshot() == before
    assert world.effects() == effects
    result = case.call(world, KEY)
    # Exactly what the call does on a world that never saw the failure.
    clean = case.world()
    assert result == case.call(clean, KEY)
    assert world.snapshot() == clean.snapshot()
    assert world.effects() == clean.effects()


# -- equal arguments written another way ---------------------------------------------------

EQUAL_FORMS = [
    pytest.param("receive_stock", "quantity", 5, "5.0", id="receive_stock-quantity"),
    pytest.param("ship", "quantities", {"1": 2}, {"1": "2"}, id="ship-quantities"),
    pytest.param(
        "request_return",
        "quantities",
        {"1": 1},
        {"1": Decimal("1.00")},
        id="request_return-quantities",
    ),
    pytest.param("receive_return", "quantities", {"1": 1}, {"1": "1"}, id="receive_return-qty"),
    pytest.param("invoice_order", "basis", "ordered", InvoicingBasis.ORDERED, id="invoice-basis"),
    pytest.param("authorize_payment", "method", "card", PaymentMethod.CARD, id="authorize-method"),
    pytest.param("pay_invoices", "invoice_ids", [INVOICE], (INVOICE,), id="pay-invoice_ids"),
    pytest.param(
        "open_chargeback", "reason", "fraudulent", DisputeReason.FRAUDULENT, id="chargeback-reason"
    ),
    pytest.param(
        "refund_unapplied",
        "amount",
        eur("20.00"),
        eur("20"),
        id="refund_unapplied-amount",
    ),
]


@pytest.mark.parametrize(("name", "field", "first", "again"), EQUAL_FORMS)
def test_replay_with_an_equal_value_written_another_way_is_a_replay(
    name: str, field: str, first: object, again: object
) -> None:
    case = CASES_BY_NAME[name]
    world = case.world()
    result = case.call(world, KEY, **{field: first})
    after = world.snapshot()

    assert case.call(world, KEY, **{field: again}) == result
    assert world.snapshot() == after
