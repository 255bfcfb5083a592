"""Errors, validation results and clocks."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import pytest

from o2c.clock import Clock, FixedClock, SystemClock, require_aware
from o2c.errors import (
    AdapterError,
    DomainError,
    IdempotencyConflictError,
    NotFoundError,
    O2CError,
    PluginError,
    ValidationError,
)
from o2c.validation import Issue, Severity, ValidationResult


def test_errors_render_code_fields_and_hint() -> None:
    err = IdempotencyConflictError(key="k1", field="amount")
    assert err.key == "k1"
    assert err.field == "amount"
    text = str(err)
    assert text.startswith("[idempotency.conflict] idempotency key reused")
    assert "key='k1'" in text
    assert text.endswith(IdempotencyConflictError.hint)
    assert err.fields == {"key": "k1", "field": "amount"}


def test_long_fields_are_cut_in_messages() -> None:
    err = DomainError("bad", payload="x" * 10_000)
    assert len(str(err)) < 300


def test_error_families() -> None:
    assert issubclass(NotFoundError, DomainError)
    assert issubclass(DomainError, O2CError)
    assert not issubclass(O2CError, ValueError)
    adapter = AdapterError("timeout", retryable=True, adapter="pg")
    assert adapter.retryable is True
    assert AdapterError().retryable is False
    assert PluginError().hint
    clone = pickle.loads(pickle.dumps(adapter))  # noqa: S301 - our own object
    assert clone.retryable is True
    assert clone.adapter == "pg"


def test_validation_result_collects_every_issue() -> None:
    result = ValidationResult.of(
        [
            Issue("a.bad", "lines[0].qty", "must be positive"),
            Issue("a.odd", "lines[1].price", "zero price", Severity.WARNING),
            Issue("a.worse", "currency", "unknown"),
        ]
    )
    assert not result.ok
    assert [i.code for i in result.errors] == ["a.bad", "a.worse"]
    assert [i.code for i in result.warnings] == ["a.odd"]
    with pytest.raises(ValidationError) as info:
        result.raise_if_invalid("order")
    assert len(info.value.issues) == 2
    assert "lines[0].qty" in str(info.value)
    warnings_only = ValidationResult((Issue("w", "f", "m", Severity.WARNING),))
    assert warnings_only.ok
    warnings_only.raise_if_invalid()
    assert (warnings_only + result).issues[0].code == "w"
    assert str(result.issues[0]) == "error a.bad at lines[0].qty: must be positive"


def test_fixed_clock_moves_only_forward() -> None:
    start = datetime(2024, 1, 31, 12, tzinfo=UTC)
    clock = FixedClock(start)
    assert isinstance(clock, Clock)
    assert clock.now() == start
    assert clock.advance(days=1) == start + timedelta(days=1)
    clock.set(start + timedelta(days=2))
    assert clock.now() == start + timedelta(days=2)
    with pytest.raises(DomainError):
        clock.advance(seconds=-1)
    with pytest.raises(DomainError):
        clock.set(start)
    with pytest.raises(DomainError):
        FixedClock(datetime(2024, 1, 1))


def test_system_clock_is_aware() -> None:
    now = SystemClock().now()
    assert require_aware(now) is now
