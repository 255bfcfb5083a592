"""The host's side of the plugin system: load plugins and call their hooks, typed.

:class:`Plugins` wraps a :class:`pluggy.PluginManager`. Business code calls its typed
methods (``storages()``, ``credit_policy(customer_id)``, ``handle_event(event, seq)``
...) and never touches ``pm.hook``, whose calls return ``Any``. The contract plugins
implement (markers, hook specifications, records) is in :mod:`o2c.hookspecs`.

Importing this module registers nothing. ``Plugins()`` registers o2c's own default
implementations (today: the ``trylast`` default credit policy, under the name
:data:`DEFAULTS_PLUGIN`); ``Plugins(load_entrypoints=True)`` also loads every installed
plugin of the ``"o2c"`` entry-point group.

Why hooks are called one implementation at a time (in pluggy's own order) instead of
through ``pm.hook``: a fan-out call returns a bare list, so neither a duplicate adapter
name nor an exception could be traced back to the plugin behind it. Calling each
implementation lets every error name its plugin. The price is that hook wrappers
cannot be honoured, so :meth:`Plugins.register` refuses them on o2c hooks.

>>> plugins = Plugins()
>>> plugins.names
('o2c.defaults',)
>>> plugins.credit_policy("C-1").name
'default'
"""

from __future__ import annotations

import difflib
import functools
import importlib.metadata
import inspect
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, TypeVar

import attrs
import pluggy

from o2c import hookspecs
from o2c.credit import CreditPolicy, CreditRule
from o2c.errors import (
    DuplicateAdapterError,
    HookResultError,
    InvalidHookArgumentError,
    PluginError,
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
    hookimpl,
)
from o2c.ports import ShipmentRequest
from o2c.rates import Quote

__all__ = ["DEFAULTS_PLUGIN", "ENTRY_POINT_GROUP", "Plugins", "hook_names"]

#: The entry-point group plugins are installed under.
ENTRY_POINT_GROUP = hookspecs.PROJECT

#: The name under which o2c's own default implementations are registered.
DEFAULTS_PLUGIN = "o2c.defaults"

_HANDLE_EVENT = "o2c_handle_event"


def hook_names() -> tuple[str, ...]:
    """The names of every hook o2c specifies, sorted.

    >>> "o2c_handle_event" in hook_names()
    True
    """
    marker = f"{hookspecs.PROJECT}_spec"
    return tuple(
        sorted(
            name
            for name, value in vars(hookspecs).items()
            if inspect.isfunction(value) and hasattr(value, marker)
        )
    )


class _Named(Protocol):
    @property
    def name(self) -> str: ...


R = TypeVar("R", bound=_Named)


@functools.cache
def _default_policy() -> CreditPolicy:
    # Policies are immutable; build the default once rather than on every order.
    return CreditPolicy.default()


class _Defaults:
    """o2c's own hook implementations; registered by :class:`Plugins` as ``o2c.defaults``."""

    @hookimpl(trylast=True)
    def o2c_credit_policy(self, customer_id: str, rules: tuple[CreditRule, ...]) -> CreditPolicy:
        """The default policy with every plugin's extra rules appended.

        Raises:
            CreditPolicyError: An extra rule is named like a built-in one.
        """
        del customer_id  # the default policy is the same for every customer
        policy = _default_policy()
        return attrs.evolve(policy, rules=policy.rules + rules) if rules else policy


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class Plugins:
    """The plugins of one o2c host, with typed access to every hook.

    Args:
        load_entrypoints: Also load the installed plugins of the ``"o2c"``
            entry-point group (see :meth:`load_entrypoints`).
        blocked: Entry-point names never to load (to switch off a broken plugin).

    Raises:
        PluginLoadError: ``load_entrypoints`` is set and an entry point fails.
    """

    def __init__(self, load_entrypoints: bool = False, *, blocked: Iterable[str] = ()) -> None:
        self._pm = pluggy.PluginManager(hookspecs.PROJECT)
        self._pm.add_hookspecs(hookspecs)
        self._blocked = frozenset(blocked)
        self.register(_Defaults(), name=DEFAULTS_PLUGIN)
        if load_entrypoints:
            self.load_entrypoints()

    # ------------------------------------------------------------------ registration

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the registered plugins, in registration order."""
        return tuple(name for name, _ in self._pm.list_name_plugin())

    def register(self, plugin: object, name: str | None = None) -> str:
        """Register a plugin (a module or an object with ``@hookimpl`` methods).

        Args:
            plugin: The plugin.
            name: Its name in errors and listings; by default the module's or class's
                ``__name__``, or ``module.Class`` for an instance.

        Returns:
            The name it was registered under.

        Raises:
            PluginRegistrationError: The name or the object is already registered, a
                hook implementation takes an argument its hook does not have, or
                implements an o2c hook as a wrapper.
        """
        if plugin is None:
            raise PluginRegistrationError(plugin=repr(name), reason="the plugin is None")
        label = name if name is not None else self._default_name(plugin)
        if not isinstance(label, str) or not label:
            raise PluginRegistrationError(plugin=repr(label), reason="the name must not be empty")
        try:
            registered = self._pm.register(plugin, name=label)
        except (ValueError, pluggy.PluginValidationError) as exc:
            # pluggy says "already registered" with ValueError and "bad signature"
            # with PluginValidationError; both are the plugin's (or host's) mistake.
            raise PluginRegistrationError(plugin=label, reason=_reason(exc)) from exc
        if registered is None:  # pragma: no cover - o2c never blocks names in pluggy
            raise PluginRegistrationError(plugin=label, reason="the name is blocked")
        for caller in self._pm.get_hookcallers(plugin) or ():
            wrappers = [
                impl
                for impl in caller.get_hookimpls()
                if impl.plugin is plugin and (impl.wrapper or impl.hookwrapper)
            ]
            if wrappers and caller.has_spec():
                self._pm.unregister(plugin)
                raise PluginRegistrationError(
                    plugin=label,
                    reason=f"{caller.name} is implemented as a hook wrapper; o2c calls "
                    "implementations one by one and cannot honour wrappers",
                )
        return registered

    def _default_name(self, plugin: object) -> str:
        own = getattr(plugin, "__name__", None)
        if isinstance(own, str) and own:
            return own
        cls = type(plugin)
        base = f"{cls.__module__}.{cls.__qualname__}"
        # Two instances of one class are two plugins: number the later ones.
        label, n = base, 1
        while self._pm.has_plugin(label):
            n += 1
            label = f"{base}-{n}"
        return label

    def load_entrypoints(self) -> list[str]:
        """Load the installed plugins of the ``"o2c"`` entry-point group.

        An entry point names a module or a plugin object. One whose name is already
        registered is skipped, so calling this twice loads nothing twice, and a host
        can register its own plugin under an entry point's name to replace it.

        Returns:
            The names loaded by this call, in discovery order.

        Raises:
            PluginLoadError: An entry point failed to import, or its plugin could not
                be registered; names the entry point and chains the cause.
        """
        loaded: list[str] = []
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in self._blocked or self._pm.has_plugin(ep.name):
                continue
            dist = ep.dist.name if ep.dist is not None else ""
            try:
                plugin = ep.load()
                self.register(plugin, name=ep.name)
            except Exception as exc:  # any import-time failure is the plugin's
                raise PluginLoadError(
                    f"entry point {ep.name!r} ({ep.value}) failed to load",
                    entry_point=ep.name,
                    value=ep.value,
                    distribution=dist,
                    reason=_reason(exc),
                ) from exc
            loaded.append(ep.name)
        return loaded

    def check(self) -> None:
        """Verify that every hook implementation matches an o2c hook.

        Call it once every plugin is registered (the engine does at start-up). It
        catches misspelt hook names, which pluggy would otherwise silently never call.

        Raises:
            UnknownHookError: A plugin implements a hook o2c does not specify; names
                the hook, the plugin and the closest real hook.
        """
        known = hook_names()
        for plugin_name, plugin in self._pm.list_name_plugin():
            for caller in self._pm.get_hookcallers(plugin) or ():
                if caller.has_spec():
                    continue
                mandatory = [
                    impl
                    for impl in caller.get_hookimpls()
                    if impl.plugin is plugin and not impl.optionalhook
                ]
                if mandatory:
                    close = difflib.get_close_matches(caller.name, known, n=1)
                    raise UnknownHookError(
                        f"plugin {plugin_name!r} implements unknown hook {caller.name!r}",
                        plugin=plugin_name,
                        hook=caller.name,
                        suggestion=close[0] if close else "",
                    )
        # Backstop: pluggy's own check must agree that nothing is pending.
        try:
            self._pm.check_pending()
        except pluggy.PluginValidationError as exc:  # pragma: no cover - caught above
            raise PluginError(_reason(exc)) from exc

    # ------------------------------------------------------------------ calling

    def _impls(self, hook: str) -> list[pluggy.HookImpl]:
        caller: pluggy.HookCaller = getattr(self._pm.hook, hook)
        # pluggy keeps implementations in reverse call order. o2c's defaults are
        # trylast, but pluggy calls a trylast implementation registered later (a
        # host's) after them; moving them to the end keeps them the fallback always.
        in_order = reversed(caller.get_hookimpls())
        return sorted(in_order, key=lambda impl: impl.plugin_name == DEFAULTS_PLUGIN)

    @staticmethod
    def _call(impl: pluggy.HookImpl, kwargs: Mapping[str, object]) -> object:
        args = [kwargs[name] for name in impl.argnames]
        extra = {name: kwargs[name] for name in impl.kwargnames if name in kwargs}
        return impl.function(*args, **extra)

    def _each(self, hook: str, **kwargs: object) -> list[tuple[str, object]]:
        """Call every implementation; ``(plugin name, result)`` pairs, ``None`` dropped."""
        results: list[tuple[str, object]] = []
        for impl in self._impls(hook):
            try:
                result = self._call(impl, kwargs)
            except Exception as exc:
                raise PluginHookError(
                    f"plugin {impl.plugin_name!r} raised in {hook}",
                    plugin=impl.plugin_name,
                    hook=hook,
                    reason=_reason(exc),
                ) from exc
            if result is not None:
                results.append((impl.plugin_name, result))
        return results

    def _first(self, hook: str, **kwargs: object) -> tuple[str, object] | None:
        """Call implementations until one returns something (``firstresult``)."""
        for impl in self._impls(hook):
            try:
                result = self._call(impl, kwargs)
            except Exception as exc:
                raise PluginHookError(
                    f"plugin {impl.plugin_name!r} raised in {hook}",
                    plugin=impl.plugin_name,
                    hook=hook,
                    reason=_reason(exc),
                ) from exc
            if result is not None:
                return impl.plugin_name, result
        return None

    @staticmethod
    def _sequence(hook: str, plugin: str, result: object) -> Sequence[object]:
        if isinstance(result, str | bytes) or not isinstance(result, Sequence):
            raise HookResultError(
                plugin=plugin,
                hook=hook,
                reason=f"expected a list or tuple, got {type(result).__name__}",
            )
        return result

    def _records(self, hook: str, kind: str, record_type: type[R]) -> dict[str, R]:
        found: dict[str, R] = {}
        owner: dict[str, str] = {}
        for plugin, result in self._each(hook):
            for record in self._sequence(hook, plugin, result):
                if not isinstance(record, record_type):
                    raise HookResultError(
                        plugin=plugin,
                        hook=hook,
                        reason=f"expected {record_type.__name__}, got {type(record).__name__}",
                    )
                if record.name in found:
                    raise DuplicateAdapterError(
                        f"{kind} {record.name!r} is registered by "
                        f"{owner[record.name]!r} and by {plugin!r}",
                        kind=kind,
                        name=record.name,
                        plugins=(owner[record.name], plugin),
                    )
                found[record.name] = record
                owner[record.name] = plugin
        return dict(sorted(found.items()))

    # ------------------------------------------------------------------ registries

    def storages(self) -> dict[str, StorageRecord]:
        """Every storage backend the plugins offer, by name (sorted).

        Raises:
            DuplicateAdapterError: A name is offered twice; names both plugins.
            HookResultError: An implementation returned something other than a
                list or tuple of :class:`~o2c.hookspecs.StorageRecord`.
            PluginHookError: An implementation raised.
        """
        return self._records("o2c_register_storage", "storage", StorageRecord)

    def gateways(self) -> dict[str, GatewayRecord]:
        """Every payment gateway the plugins offer, by name (sorted).

        Raises:
            DuplicateAdapterError: A name is offered twice; names both plugins.
            HookResultError: An implementation returned something else than records.
            PluginHookError: An implementation raised.
        """
        return self._records("o2c_register_gateways", "gateway", GatewayRecord)

    def carriers(self) -> dict[str, CarrierRecord]:
        """Every carrier the plugins offer, by name (sorted).

        Raises:
            DuplicateAdapterError: A name is offered twice; names both plugins.
            HookResultError: An implementation returned something else than records.
            PluginHookError: An implementation raised.
        """
        return self._records("o2c_register_carriers", "carrier", CarrierRecord)

    def fulfilment_providers(self) -> dict[str, FulfilmentProviderRecord]:
        """Every fulfilment provider (3PL) the plugins offer, by name (sorted).

        Raises:
            DuplicateAdapterError: A name is offered twice; names both plugins.
            HookResultError: An implementation returned something else than records.
            PluginHookError: An implementation raised.
        """
        return self._records(
            "o2c_register_fulfilment_providers", "fulfilment provider", FulfilmentProviderRecord
        )

    def inventories(self) -> dict[str, InventoryRecord]:
        """Every inventory the plugins offer, by name (sorted).

        Raises:
            DuplicateAdapterError: A name is offered twice; names both plugins.
            HookResultError: An implementation returned something else than records.
            PluginHookError: An implementation raised.
        """
        return self._records("o2c_register_inventories", "inventory", InventoryRecord)

    def tax_providers(self) -> dict[str, TaxRecord]:
        """Every tax provider the plugins offer, by name (sorted).

        Raises:
            DuplicateAdapterError: A name is offered twice; names both plugins.
            HookResultError: An implementation returned something else than records.
            PluginHookError: An implementation raised.
        """
        return self._records("o2c_register_tax_providers", "tax provider", TaxRecord)

    def notifiers(self) -> dict[str, NotifierRecord]:
        """Every notifier the plugins offer, by name (sorted).

        Raises:
            DuplicateAdapterError: A name is offered twice; names both plugins.
            HookResultError: An implementation returned something else than records.
            PluginHookError: An implementation raised.
        """
        return self._records("o2c_register_notifiers", "notifier", NotifierRecord)

    def statement_readers(self) -> dict[str, StatementReaderRecord]:
        """Every bank statement reader the plugins offer, by name (sorted).

        Raises:
            DuplicateAdapterError: A name is offered twice; names both plugins.
            HookResultError: An implementation returned something else than records.
            PluginHookError: An implementation raised.
        """
        return self._records(
            "o2c_register_statement_readers", "statement reader", StatementReaderRecord
        )

    # ------------------------------------------------------------------ decisions

    def credit_rules(self, customer_id: str) -> tuple[CreditRule, ...]:
        """The extra credit rules every ``o2c_credit_rules`` implementation returns.

        Raises:
            InvalidHookArgumentError: ``customer_id`` is not a non-empty string.
            HookResultError: An implementation returned something that is not a
                list or tuple of credit rules.
            PluginHookError: An implementation raised.
        """
        hook = "o2c_credit_rules"
        _require_id(hook, customer_id)
        rules: list[CreditRule] = []
        for plugin, result in self._each(hook, customer_id=customer_id):
            for rule in self._sequence(hook, plugin, result):
                if not isinstance(rule, CreditRule):
                    raise HookResultError(
                        plugin=plugin,
                        hook=hook,
                        reason=f"{type(rule).__name__} is not a CreditRule "
                        "(it needs a name and evaluate(request))",
                    )
                rules.append(rule)
        return tuple(rules)

    def credit_policy(self, customer_id: str) -> CreditPolicy:
        """The credit policy for a customer's orders.

        Collects the extra rules (``o2c_credit_rules``), then asks
        ``o2c_credit_policy``: the first policy returned wins, and o2c's default
        (``CreditPolicy.default()`` plus the extra rules) answers last.

        Raises:
            InvalidHookArgumentError: ``customer_id`` is not a non-empty string.
            HookResultError: An implementation returned something other than a
                :class:`~o2c.credit.CreditPolicy` or ``None``.
            PluginHookError: An implementation raised (e.g. the default policy, when
                an extra rule is named like a built-in one).
        """
        hook = "o2c_credit_policy"
        rules = self.credit_rules(customer_id)
        answer = self._first(hook, customer_id=customer_id, rules=rules)
        if answer is None:  # pragma: no cover - the default always answers
            raise HookResultError(plugin="", hook=hook, reason="no implementation answered")
        plugin, policy = answer
        if not isinstance(policy, CreditPolicy):
            raise HookResultError(
                plugin=plugin,
                hook=hook,
                reason=f"expected CreditPolicy or None, got {type(policy).__name__}",
            )
        return policy

    @property
    def has_rate_choosers(self) -> bool:
        """True when some plugin implements ``o2c_choose_rate``."""
        caller: pluggy.HookCaller = self._pm.hook.o2c_choose_rate
        return bool(caller.get_hookimpls())

    def choose_rate(
        self, request: ShipmentRequest, quotes: tuple[Quote, ...]
    ) -> tuple[str, Quote] | None:
        """Ask ``o2c_choose_rate``: the first implementation that answers wins.

        Returns:
            ``(plugin name, quote)``, or None when no implementation answered (the
            engine's ``rate_rule`` then decides). Whether the quote is one of
            ``quotes`` is checked by the engine (:func:`o2c.rates.choose`).

        Raises:
            HookResultError: An implementation returned something other than a
                :class:`~o2c.rates.Quote` or ``None``.
            PluginHookError: An implementation raised.
        """
        hook = "o2c_choose_rate"
        answer = self._first(hook, request=request, quotes=tuple(quotes))
        if answer is None:
            return None
        plugin, quote = answer
        if not isinstance(quote, Quote):
            raise HookResultError(
                plugin=plugin,
                hook=hook,
                reason=f"expected Quote or None, got {type(quote).__name__}",
            )
        return plugin, quote

    # ------------------------------------------------------------------ events

    @property
    def has_event_subscribers(self) -> bool:
        """True when some plugin implements ``o2c_handle_event``.

        Cheap, so the engine can skip reading the outbox when nobody listens.
        """
        caller: pluggy.HookCaller = self._pm.hook.o2c_handle_event
        return bool(caller.get_hookimpls())

    def handle_event(self, event: DomainEvent, seq: int) -> None:
        """Deliver one committed outbox entry to every subscriber, in pluggy's order.

        Call it only after the unit of work that wrote the entry committed, entries in
        outbox order, and mark the entry delivered only when this returns.

        Args:
            event: The entry's event.
            seq: The entry's outbox position (an int >= 0).

        Raises:
            InvalidHookArgumentError: ``event`` is not a DomainEvent or ``seq`` is not
                a non-negative int.
            SubscriberError: A subscriber raised; later subscribers were not called.
                Names the plugin; the original exception is ``__cause__``.
        """
        if not isinstance(event, DomainEvent):
            raise InvalidHookArgumentError(
                hook=_HANDLE_EVENT,
                argument="event",
                reason=f"expected a DomainEvent, got {type(event).__name__}",
            )
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
            raise InvalidHookArgumentError(
                hook=_HANDLE_EVENT, argument="seq", reason=f"expected an int >= 0, got {seq!r}"
            )
        kwargs = {"event": event, "seq": seq}
        for impl in self._impls(_HANDLE_EVENT):
            try:
                self._call(impl, kwargs)
            except Exception as exc:
                raise SubscriberError(
                    f"subscriber {impl.plugin_name!r} failed on {event.name} (seq {seq})",
                    plugin=impl.plugin_name,
                    hook=_HANDLE_EVENT,
                    reason=_reason(exc),
                    event=event.name,
                    aggregate_id=event.aggregate_id,
                    seq=seq,
                ) from exc


def _require_id(hook: str, customer_id: object) -> None:
    if not isinstance(customer_id, str) or not customer_id.strip():
        raise InvalidHookArgumentError(
            hook=hook, argument="customer_id", reason="must be a non-empty string"
        )
