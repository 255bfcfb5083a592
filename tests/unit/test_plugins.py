"""The pluggy layer: registration, entry points, registries, credit policy, events."""

from __future__ import annotations

import doctest
import importlib.metadata
import re
import sys
import types
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import o2c.hookspecs
import o2c.plugins
from o2c import hookimpl
from o2c.credit import (
    CreditFacts,
    CreditOutcome,
    CreditPolicy,
    CreditProfile,
    CreditRequest,
    Exposure,
    RuleOutcome,
    check_credit,
)
from o2c.errors import (
    CreditPolicyError,
    DuplicateAdapterError,
    HookResultError,
    InvalidHookArgumentError,
    InvalidRecordError,
    NotFoundError,
    PluginHookError,
    PluginLoadError,
    PluginRegistrationError,
    SubscriberError,
    UnknownHookError,
)
from o2c.events import DomainEvent
from o2c.hookspecs import (
    CarrierRecord,
    FulfilmentProviderRecord,
    GatewayRecord,
    InventoryRecord,
    NotifierRecord,
    StatementReaderRecord,
    StorageRecord,
    TaxRecord,
)
from o2c.money import Money
from o2c.plugins import DEFAULTS_PLUGIN, ENTRY_POINT_GROUP, Plugins, hook_names

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def _factory(*_: object) -> None:
    """A stand-in adapter factory (the registries never call factories)."""


# --------------------------------------------------------------------------- helpers


def _record(cls: type[Any]) -> Callable[[str], object]:
    extra = {"formats": ("csv",)} if cls is StatementReaderRecord else {}
    return lambda name: cls(name, _factory, **extra)


# One row per registration hook: hook, Plugins method, kind in errors, record builder.
REGISTRIES = [
    ("o2c_register_storage", "storages", "storage", _record(StorageRecord)),
    ("o2c_register_gateways", "gateways", "gateway", _record(GatewayRecord)),
    ("o2c_register_carriers", "carriers", "carrier", _record(CarrierRecord)),
    (
        "o2c_register_fulfilment_providers",
        "fulfilment_providers",
        "fulfilment provider",
        _record(FulfilmentProviderRecord),
    ),
    ("o2c_register_inventories", "inventories", "inventory", _record(InventoryRecord)),
    ("o2c_register_tax_providers", "tax_providers", "tax provider", _record(TaxRecord)),
    ("o2c_register_notifiers", "notifiers", "notifier", _record(NotifierRecord)),
    (
        "o2c_register_statement_readers",
        "statement_readers",
        "statement reader",
        _record(StatementReaderRecord),
    ),
]
REGISTRY_IDS = [row[1] for row in REGISTRIES]


def offering(hook: str, result: Callable[[], object]) -> object:
    """A plugin object whose ``hook`` implementation returns ``result()``."""

    def impl(self: object) -> object:
        return result()

    impl.__name__ = hook
    return type("Offering", (), {hook: hookimpl(impl)})()


def storage_plugin(*names: str) -> object:
    return offering("o2c_register_storage", lambda: [StorageRecord(n, _factory) for n in names])


def event(aggregate_id: str = "SO-1") -> DomainEvent:
    return DomainEvent(aggregate_id=aggregate_id, occurred_at=T0)


def request(amount: str, *, limit: str | None = "10000.00") -> CreditRequest:
    profile = CreditProfile(
        customer_id="C-1", currency="EUR", limit=None if limit is None else Money(limit, "EUR")
    )
    facts = CreditFacts(profile=profile, exposure=Exposure.zero("C-1", "EUR"))
    eur = Money(amount, "EUR")
    return CreditRequest(
        order_id="SO-1", customer_id="C-1", amount=eur, requested_at=T0, facts=facts
    )


@attrs.frozen
class HoldAbove:
    """A host credit rule: hold orders above a threshold."""

    threshold: Decimal
    name: str = "hold_above"

    def evaluate(self, request: CreditRequest) -> RuleOutcome | None:
        if request.amount.amount > self.threshold:
            return RuleOutcome.hold("order above threshold", "host.big_order")
        return None


# --------------------------------------------------------------------------- registration


def test_in_code_registration_returns_the_name_and_offers_the_records() -> None:
    plugins = Plugins()
    assert (plugins.names, plugins.storages()) == ((DEFAULTS_PLUGIN,), {})
    assert plugins.register(storage_plugin("sqlite", "memory"), name="acme") == "acme"
    stores = plugins.storages()
    assert list(stores) == ["memory", "sqlite"]
    assert stores["sqlite"] == StorageRecord("sqlite", _factory)
    assert plugins.names == (DEFAULTS_PLUGIN, "acme")


def test_default_names_use_the_class_and_number_repeats() -> None:
    plugins = Plugins()
    first = plugins.register(storage_plugin("a"))
    second = plugins.register(storage_plugin("b"))
    assert first.endswith(".Offering")
    assert second == f"{first}-2"


def test_a_module_plugin_is_named_after_the_module() -> None:
    module = types.ModuleType("acme_hooks")

    @hookimpl
    def o2c_register_carriers() -> list[CarrierRecord]:
        return [CarrierRecord("acme", _factory, services=["standard"])]

    module.o2c_register_carriers = o2c_register_carriers  # type: ignore[attr-defined]
    plugins = Plugins()
    assert plugins.register(module) == "acme_hooks"
    assert plugins.carriers()["acme"].services == ("standard",)


def test_registering_twice_is_refused() -> None:
    plugins = Plugins()
    plugin = storage_plugin("a")
    plugins.register(plugin, name="p")
    with pytest.raises(PluginRegistrationError) as same_object:
        plugins.register(plugin, name="q")
    with pytest.raises(PluginRegistrationError) as same_name:
        plugins.register(storage_plugin("b"), name="p")
    assert same_object.value.plugin == "q"
    assert same_name.value.plugin == "p"
    assert "already registered" in same_name.value.reason


@pytest.mark.parametrize("name", ["", 7])
def test_an_empty_or_odd_plugin_name_is_refused(name: Any) -> None:
    with pytest.raises(PluginRegistrationError):
        Plugins().register(storage_plugin("a"), name=name)


def test_none_is_not_a_plugin() -> None:
    with pytest.raises(PluginRegistrationError, match="None"):
        Plugins().register(None)


def test_an_implementation_with_an_argument_its_hook_lacks_is_refused() -> None:
    class Bad:
        @hookimpl
        def o2c_credit_rules(self, customer_id: str, order_id: str) -> list[object]:
            return []

    plugins = Plugins()
    with pytest.raises(PluginRegistrationError) as info:
        plugins.register(Bad(), name="bad")
    assert info.value.plugin == "bad"
    assert "order_id" in info.value.reason
    assert plugins.names == (DEFAULTS_PLUGIN,)


def test_a_hook_wrapper_is_refused_and_left_unregistered() -> None:
    class Wrapper:
        @hookimpl(wrapper=True)
        def o2c_handle_event(self, event: DomainEvent, seq: int) -> Iterator[None]:
            return (yield)

    plugins = Plugins()
    with pytest.raises(PluginRegistrationError, match="wrapper"):
        plugins.register(Wrapper(), name="wrapper")
    assert plugins.names == (DEFAULTS_PLUGIN,)
    assert not plugins.has_event_subscribers


# --------------------------------------------------------------------------- checking hooks


def test_check_names_a_misspelt_hook_and_suggests_the_real_one() -> None:
    class Typo:
        @hookimpl
        def o2c_register_storag(self) -> list[StorageRecord]:
            return []

    plugins = Plugins()
    plugins.register(Typo(), name="typo")
    with pytest.raises(UnknownHookError) as info:
        plugins.check()
    assert info.value.hook == "o2c_register_storag"
    assert info.value.plugin == "typo"
    assert info.value.suggestion == "o2c_register_storage"
    assert "o2c_register_storag" in str(info.value)

    class Stranger:
        @hookimpl
        def completely_unrelated(self) -> None:
            return None

    other = Plugins()
    other.register(Stranger(), name="stranger")
    with pytest.raises(UnknownHookError) as info:
        other.check()
    assert (info.value.hook, info.value.suggestion) == ("completely_unrelated", "")


def test_check_accepts_known_and_optional_hooks() -> None:
    class Fine:
        @hookimpl
        def o2c_register_storage(self) -> list[StorageRecord]:
            return []

        @hookimpl(optionalhook=True)
        def o2c_some_future_hook(self) -> None:
            return None

    plugins = Plugins()
    plugins.register(Fine(), name="fine")
    plugins.check()
    assert plugins.names == (DEFAULTS_PLUGIN, "fine")


# --------------------------------------------------------------------------- entry points


@pytest.fixture
def plugin_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], str]]:
    """Write a uniquely named module on sys.path; yields a writer returning its name."""
    monkeypatch.syspath_prepend(str(tmp_path))
    written: list[str] = []

    def write(source: str) -> str:
        name = f"o2c_test_plugin_{uuid.uuid4().hex}"
        (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
        written.append(name)
        return name

    yield write
    for name in written:
        sys.modules.pop(name, None)


def install(monkeypatch: pytest.MonkeyPatch, *entries: tuple[str, str]) -> list[str]:
    """Make ``importlib.metadata`` report these ``(name, value)`` entry points."""
    eps = [importlib.metadata.EntryPoint(n, v, ENTRY_POINT_GROUP) for n, v in entries]
    groups: list[str] = []

    def fake(*, group: str) -> list[importlib.metadata.EntryPoint]:
        groups.append(group)
        return [ep for ep in eps if ep.group == group]

    monkeypatch.setattr(importlib.metadata, "entry_points", fake)
    return groups


GOOD_PLUGIN = """
from o2c import hookimpl
from o2c.hookspecs import GatewayRecord

@hookimpl
def o2c_register_gateways():
    return [GatewayRecord("acmepay", factory=object, currencies=["EUR"])]
"""


def test_entry_points_are_loaded_on_request_under_their_names(
    plugin_module: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    groups = install(monkeypatch, ("acme", plugin_module(GOOD_PLUGIN)))
    assert Plugins().gateways() == {}  # off unless asked
    plugins = Plugins(load_entrypoints=True)
    assert groups == ["o2c"]
    assert plugins.names == (DEFAULTS_PLUGIN, "acme")
    assert plugins.gateways()["acmepay"].currencies == frozenset({"EUR"})
    assert plugins.load_entrypoints() == []  # idempotent
    later = Plugins()
    assert later.load_entrypoints() == ["acme"]
    assert list(later.gateways()) == ["acmepay"]


def test_blocked_and_preregistered_entry_points_are_skipped(
    plugin_module: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    install(monkeypatch, ("acme", plugin_module(GOOD_PLUGIN)), ("other", "no_such_module_xyz"))
    blocked = Plugins(blocked=["other"])
    assert blocked.load_entrypoints() == ["acme"]

    host = Plugins(blocked=["other"])
    host.register(storage_plugin("replacement"), name="acme")
    assert host.load_entrypoints() == []
    assert host.gateways() == {}
    assert list(host.storages()) == ["replacement"]


def test_an_entry_point_that_fails_to_import_names_itself(
    plugin_module: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    module = plugin_module("raise ImportError('needs acme-sdk')\n")
    install(monkeypatch, ("broken", module))
    with pytest.raises(PluginLoadError) as info:
        Plugins(load_entrypoints=True)
    err = info.value
    assert err.entry_point == "broken"
    assert err.value == module
    assert err.distribution == ""
    assert isinstance(err.__cause__, ImportError)
    assert "needs acme-sdk" in err.reason
    assert "broken" in str(err)


@pytest.mark.parametrize("value", ["o2c_no_such_module_at_all", "o2c.hookspecs:no_such_attribute"])
def test_a_dangling_entry_point_raises_plugin_load_error(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(monkeypatch, ("dangling", value))
    with pytest.raises(PluginLoadError) as info:
        Plugins().load_entrypoints()
    assert info.value.entry_point == "dangling"
    assert info.value.__cause__ is not None


def test_an_entry_point_whose_plugin_cannot_register_raises_plugin_load_error(
    plugin_module: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = "from o2c import hookimpl\n@hookimpl\ndef o2c_credit_rules(customer_id, extra): ...\n"
    module = plugin_module(source)
    install(monkeypatch, ("misfit", module))
    with pytest.raises(PluginLoadError) as info:
        Plugins().load_entrypoints()
    assert info.value.entry_point == "misfit"
    assert isinstance(info.value.__cause__, PluginRegistrationError)


# --------------------------------------------------------------------------- registries


@pytest.mark.parametrize(("hook", "method", "kind", "make"), REGISTRIES, ids=REGISTRY_IDS)
def test_every_registry_collects_records_from_every_plugin(
    hook: str, method: str, kind: str, make: Callable[[str], object]
) -> None:
    plugins = Plugins()
    plugins.register(offering(hook, lambda: [make("zeta")]), name="one")
    plugins.register(offering(hook, lambda: (make("alpha"), make("beta"))), name="two")
    plugins.register(offering(hook, lambda: None), name="none")
    plugins.register(offering(hook, list), name="empty")
    other_hook, _, _, other_make = next(row for row in REGISTRIES if row[0] != hook)
    plugins.register(offering(other_hook, lambda: [other_make("zeta")]), name="other-role")
    found = getattr(plugins, method)()
    assert list(found) == ["alpha", "beta", "zeta"]  # names are unique per role only
    assert found["zeta"] == make("zeta")


@pytest.mark.parametrize(("hook", "method", "kind", "make"), REGISTRIES, ids=REGISTRY_IDS)
def test_a_name_offered_by_two_plugins_names_both(
    hook: str, method: str, kind: str, make: Callable[[str], object]
) -> None:
    plugins = Plugins()
    plugins.register(offering(hook, lambda: [make("dup")]), name="early")
    plugins.register(offering(hook, lambda: [make("dup")]), name="late")
    with pytest.raises(DuplicateAdapterError) as info:
        getattr(plugins, method)()
    err = info.value
    assert (err.kind, err.name) == (kind, "dup")
    # pluggy calls the last registered plugin first.
    assert err.plugins == ("late", "early")
    assert "early" in str(err)
    assert "late" in str(err)


def test_a_name_offered_twice_by_one_plugin_is_refused() -> None:
    plugins = Plugins()
    plugins.register(storage_plugin("same", "same"), name="solo")
    with pytest.raises(DuplicateAdapterError) as info:
        plugins.storages()
    assert info.value.plugins == ("solo", "solo")


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        (lambda: StorageRecord("single", _factory), "list or tuple"),
        (lambda: "sqlite", "list or tuple"),
        (lambda: {StorageRecord("s", _factory)}, "list or tuple"),
        (lambda: [GatewayRecord("g", _factory)], "StorageRecord"),
        (lambda: ["sqlite"], "StorageRecord"),
    ],
    ids=["bare-record", "string", "set", "wrong-record", "name-only"],
)
def test_a_malformed_registration_result_names_the_plugin(
    result: Callable[[], object], reason: str
) -> None:
    plugins = Plugins()
    plugins.register(offering("o2c_register_storage", result), name="sloppy")
    with pytest.raises(HookResultError) as info:
        plugins.storages()
    assert info.value.plugin == "sloppy"
    assert info.value.hook == "o2c_register_storage"
    assert reason in info.value.reason


def test_an_exception_in_a_registration_hook_names_the_plugin_and_chains() -> None:
    def explode() -> object:
        raise RuntimeError("config file missing")

    plugins = Plugins()
    plugins.register(offering("o2c_register_notifiers", explode), name="mailer")
    with pytest.raises(PluginHookError) as info:
        plugins.notifiers()
    assert (info.value.plugin, info.value.hook) == ("mailer", "o2c_register_notifiers")
    assert isinstance(info.value.__cause__, RuntimeError)
    assert "config file missing" in info.value.reason


def test_a_bad_record_built_inside_a_hook_surfaces_with_the_plugin_name() -> None:
    plugins = Plugins()
    plugins.register(storage_plugin("Not Valid"), name="shouty")
    with pytest.raises(PluginHookError) as info:
        plugins.storages()
    assert info.value.plugin == "shouty"
    assert isinstance(info.value.__cause__, InvalidRecordError)


# --------------------------------------------------------------------------- records


@pytest.mark.parametrize(
    "name", ["", "Sqlite", "1sqlite", "_x", "-x", "a b", "a.b", "é", "a" * 65, None, 3, b"ab"]
)
def test_record_names_are_validated(name: Any) -> None:
    with pytest.raises(InvalidRecordError) as info:
        StorageRecord(name, _factory)
    assert (info.value.record, info.value.field) == ("StorageRecord", "name")


@pytest.mark.parametrize("name", ["a", "sqlite", "dhl_express", "acme-pay2", "a" * 64])
def test_plain_names_are_accepted(name: str) -> None:
    assert InventoryRecord(name, _factory).name == name


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: TaxRecord("flat", "not callable"), "factory"),  # type: ignore[arg-type]
        (lambda: NotifierRecord("mail", _factory, description=3), "description"),  # type: ignore[arg-type]
        (lambda: NotifierRecord("mail", _factory, description="x" * 501), "description"),
        (lambda: GatewayRecord("g", _factory, currencies="EUR"), "currencies"),
        (lambda: GatewayRecord("g", _factory, currencies=["EURO"]), "currencies"),
        (lambda: GatewayRecord("g", _factory, currencies=["eur"]), "currencies"),
        (lambda: GatewayRecord("g", _factory, currencies=[978]), "currencies"),  # type: ignore[list-item]
        (lambda: GatewayRecord("g", _factory, currencies=None), "currencies"),  # type: ignore[arg-type]
        (lambda: GatewayRecord("g", _factory, capabilities="refund"), "capabilities"),
        (lambda: GatewayRecord("g", _factory, capabilities=["Partial Capture"]), "capabilities"),
        (lambda: CarrierRecord("c", _factory, services=("std", "std")), "services"),
        (lambda: CarrierRecord("c", _factory, services=("",)), "services"),
        (lambda: StatementReaderRecord("r", _factory, formats=()), "formats"),
        (lambda: StatementReaderRecord("r", _factory, formats="csv"), "formats"),
        (lambda: StatementReaderRecord("r", _factory, formats=("CSV",)), "formats"),
    ],
)
def test_record_fields_are_validated(build: Callable[[], object], field: str) -> None:
    with pytest.raises(InvalidRecordError) as info:
        build()
    assert info.value.field == field
    assert info.value.code == "plugin.invalid_record"


def test_records_normalise_collections_and_are_frozen() -> None:
    gateway = GatewayRecord(
        "acme", _factory, currencies=["EUR", "EUR", "USD"], capabilities=("refund", "refund")
    )
    assert gateway.currencies == frozenset({"EUR", "USD"})
    assert gateway.capabilities == frozenset({"refund"})
    assert gateway.accepts("USD")
    assert not gateway.accepts("JPY")
    assert GatewayRecord("any", _factory).accepts("JPY")  # empty: every currency
    reader = StatementReaderRecord("camt", _factory, formats=["camt.053", "mt940"])
    assert reader.formats == ("camt.053", "mt940")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        reader.name = "other"  # type: ignore[misc]


# --------------------------------------------------------------------------- credit


def test_the_default_policy_is_credit_policy_default() -> None:
    assert Plugins().credit_policy("C-1") == CreditPolicy.default()


def test_extra_rules_are_appended_to_the_default_and_decide() -> None:
    plugins = Plugins()
    rule = HoldAbove(Decimal(100))
    plugins.register(offering_rules(lambda customer_id: [rule]), name="host-rules")
    policy = plugins.credit_policy("C-1")
    assert policy.rules == (*CreditPolicy.default().rules, rule)
    decision, _ = check_credit(policy, request("500.00"), T0)
    assert decision.outcome is CreditOutcome.HOLD
    assert decision.deciding_rule == "hold_above"


def offering_rules(rules: Callable[[str], object]) -> object:
    class Rules:
        @hookimpl
        def o2c_credit_rules(self, customer_id: str) -> object:
            return rules(customer_id)

    return Rules()


class HostPolicy:
    """A host's policy: approve everything below its rules (and record what it got)."""

    def __init__(self, answer_for: str = "") -> None:
        self.answer_for = answer_for
        self.calls: list[tuple[str, tuple[object, ...]]] = []

    @hookimpl
    def o2c_credit_policy(self, customer_id: str, rules: tuple[Any, ...]) -> CreditPolicy | None:
        self.calls.append((customer_id, rules))
        if self.answer_for and customer_id != self.answer_for:
            return None
        base = CreditPolicy.default(no_limit=CreditOutcome.APPROVE)
        return CreditPolicy(base.rules + rules, name="host", version="7")


def test_a_host_policy_wins_over_the_trylast_default() -> None:
    host = HostPolicy()
    plugins = Plugins()
    plugins.register(host, name="host")
    rule = HoldAbove(Decimal(100))
    plugins.register(offering_rules(lambda customer_id: [rule]), name="rules")
    policy = plugins.credit_policy("C-9")
    assert (policy.name, policy.version) == ("host", "7")
    assert host.calls == [("C-9", (rule,))]
    decision, _ = check_credit(policy, request("50.00", limit=None), T0)
    assert decision.outcome is CreditOutcome.APPROVE  # the default would HOLD (no limit)


def test_the_default_policy_is_trylast_so_even_a_trylast_host_beats_it() -> None:
    assert o2c.plugins._Defaults.o2c_credit_policy.o2c_impl["trylast"]  # type: ignore[attr-defined]

    class LateHost(HostPolicy):
        @hookimpl(trylast=True)
        def o2c_credit_policy(self, customer_id: str, rules: tuple[Any, ...]) -> CreditPolicy:
            return CreditPolicy.default(name="late-host")

    plugins = Plugins()
    plugins.register(LateHost(), name="late")
    assert plugins.credit_policy("C-1").name == "late-host"


def test_a_host_policy_that_abstains_falls_back_to_the_default() -> None:
    plugins = Plugins()
    plugins.register(HostPolicy(answer_for="VIP"), name="host")
    assert plugins.credit_policy("VIP").name == "host"
    assert plugins.credit_policy("C-1") == CreditPolicy.default()


def test_tryfirst_orders_host_policies() -> None:
    class Strict:
        @hookimpl(tryfirst=True)
        def o2c_credit_policy(self, customer_id: str, rules: tuple[Any, ...]) -> CreditPolicy:
            return CreditPolicy.default(name="strict")

    plugins = Plugins()
    plugins.register(Strict(), name="strict")
    plugins.register(HostPolicy(), name="host")  # registered later, but not tryfirst
    assert plugins.credit_policy("C-1").name == "strict"


def test_a_policy_hook_returning_something_else_names_the_plugin() -> None:
    class Wrong:
        @hookimpl
        def o2c_credit_policy(self, customer_id: str, rules: tuple[Any, ...]) -> object:
            return "lenient"

    plugins = Plugins()
    plugins.register(Wrong(), name="wrong")
    with pytest.raises(HookResultError) as info:
        plugins.credit_policy("C-1")
    assert (info.value.plugin, info.value.hook) == ("wrong", "o2c_credit_policy")


@pytest.mark.parametrize("result", ["rule", [object()], [lambda request: None]])
def test_a_rules_hook_returning_non_rules_names_the_plugin(result: object) -> None:
    plugins = Plugins()
    plugins.register(offering_rules(lambda customer_id: result), name="rules")
    with pytest.raises(HookResultError) as info:
        plugins.credit_rules("C-1")
    assert (info.value.plugin, info.value.hook) == ("rules", "o2c_credit_rules")


def test_an_extra_rule_named_like_a_builtin_fails_in_the_default_policy() -> None:
    plugins = Plugins()
    rule = HoldAbove(Decimal(1), name="credit_limit")
    plugins.register(offering_rules(lambda customer_id: [rule]), name="clash")
    with pytest.raises(PluginHookError) as info:
        plugins.credit_policy("C-1")
    assert info.value.plugin == DEFAULTS_PLUGIN
    assert isinstance(info.value.__cause__, CreditPolicyError)


def test_rules_hooks_see_the_customer() -> None:
    plugins = Plugins()
    seen: list[str] = []
    plugins.register(offering_rules(seen.append), name="spy")
    assert plugins.credit_rules("C-42") == ()
    assert seen == ["C-42"]


@pytest.mark.parametrize("customer_id", ["", "   ", None, 42])
def test_a_bad_customer_id_is_refused(customer_id: Any) -> None:
    with pytest.raises(InvalidHookArgumentError) as info:
        Plugins().credit_policy(customer_id)
    assert info.value.argument == "customer_id"


# --------------------------------------------------------------------------- events


class Recorder:
    def __init__(self, log: list[tuple[str, int]], label: str, fail: BaseException | None = None):
        self.log, self.label, self.fail = log, label, fail

    @hookimpl
    def o2c_handle_event(self, event: DomainEvent, seq: int) -> None:
        self.log.append((self.label, seq))
        if self.fail is not None:
            raise self.fail


def test_subscribers_receive_events_in_pluggy_order() -> None:
    log: list[tuple[str, int]] = []
    plugins = Plugins()
    plugins.register(Recorder(log, "first"), name="first")
    plugins.register(Recorder(log, "second"), name="second")
    assert plugins.has_event_subscribers
    plugins.handle_event(event(), 1)
    plugins.handle_event(event(), 2)
    assert log == [("second", 1), ("first", 1), ("second", 2), ("first", 2)]


def test_a_subscriber_may_take_only_the_event() -> None:
    got: list[DomainEvent] = []

    class EventOnly:
        @hookimpl
        def o2c_handle_event(self, event: DomainEvent) -> None:
            got.append(event)

    plugins = Plugins()
    plugins.register(EventOnly(), name="event-only")
    plugins.handle_event(event("SO-9"), 3)
    assert [e.aggregate_id for e in got] == ["SO-9"]


@pytest.mark.parametrize(
    "failure", [RuntimeError("smtp down"), NotFoundError(kind="order", id="SO-1")]
)
def test_a_failing_subscriber_is_wrapped_named_and_stops_delivery(failure: Exception) -> None:
    log: list[tuple[str, int]] = []
    plugins = Plugins()
    plugins.register(Recorder(log, "after"), name="after")
    plugins.register(Recorder(log, "broken", fail=failure), name="broken")
    with pytest.raises(SubscriberError) as info:
        plugins.handle_event(event("SO-7"), 12)
    err = info.value
    assert err.__cause__ is failure
    assert (err.plugin, err.hook, err.event, err.aggregate_id, err.seq) == (
        "broken",
        "o2c_handle_event",
        "DomainEvent",
        "SO-7",
        12,
    )
    assert log == [("broken", 12)]  # "after" never saw the entry
    assert err.code == "plugin.subscriber_failed"


def test_base_exceptions_are_not_swallowed() -> None:
    plugins = Plugins()
    plugins.register(Recorder([], "quit", fail=KeyboardInterrupt()), name="quit")
    with pytest.raises(KeyboardInterrupt):
        plugins.handle_event(event(), 1)


@pytest.mark.parametrize(
    ("args", "argument"),
    [
        (("not an event", 1), "event"),
        ((None, 1), "event"),
        ((event(), -1), "seq"),
        ((event(), True), "seq"),
        ((event(), "1"), "seq"),
    ],
)
def test_handle_event_refuses_bad_arguments(args: tuple[Any, Any], argument: str) -> None:
    with pytest.raises(InvalidHookArgumentError) as info:
        Plugins().handle_event(*args)
    assert info.value.argument == argument


# --------------------------------------------------------------------------- specs and docs


def test_hook_names_are_exactly_the_specified_hooks() -> None:
    expected = """o2c_choose_rate o2c_credit_policy o2c_credit_rules o2c_handle_event
    o2c_register_carriers o2c_register_fulfilment_providers
    o2c_register_gateways o2c_register_inventories o2c_register_notifiers
    o2c_register_statement_readers o2c_register_storage o2c_register_tax_providers"""
    assert hook_names() == tuple(expected.split())


@pytest.mark.parametrize("module", [o2c.hookspecs, o2c.plugins], ids=lambda m: m.__name__)
def test_docstring_examples_run(module: types.ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0


# --------------------------------------------------------------------------- properties

VALID_NAME = r"[a-z][a-z0-9_-]{0,63}"
valid_names = st.from_regex(VALID_NAME, fullmatch=True)


@given(names=st.sets(valid_names, max_size=12), plugin_count=st.integers(1, 4))
def test_distinct_valid_names_register_and_round_trip(names: set[str], plugin_count: int) -> None:
    ordered = sorted(names)
    plugins = Plugins()
    for i in range(plugin_count):
        share = ordered[i::plugin_count]
        plugins.register(storage_plugin(*share), name=f"p{i}")
    stores = plugins.storages()
    assert list(stores) == ordered
    assert all(stores[n].name == n for n in ordered)


@given(names=st.lists(valid_names, min_size=1, max_size=8, unique=True), data=st.data())
def test_any_duplicate_name_is_refused(names: list[str], data: st.DataObject) -> None:
    dup = data.draw(st.sampled_from(names))
    plugins = Plugins()
    plugins.register(storage_plugin(*names), name="first")
    plugins.register(storage_plugin(dup), name="second")
    with pytest.raises(DuplicateAdapterError) as info:
        plugins.storages()
    assert info.value.name == dup
    assert set(info.value.plugins) == {"first", "second"}


@given(st.text(max_size=70).filter(lambda s: re.fullmatch(VALID_NAME, s) is None))
def test_any_invalid_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidRecordError):
        CarrierRecord(name, _factory)
