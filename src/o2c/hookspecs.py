"""The plugin contract: pluggy markers, hook specifications and registration records.

Everything a plugin author needs is in this module; :mod:`o2c.plugins` is the host's
side (it loads plugins and calls the hooks). A plugin is a module or an object whose
methods are marked with :data:`hookimpl`; it is registered in code
(``Plugins().register(plugin)``) or installed with an entry point in the ``"o2c"``
group::

    [project.entry-points.o2c]
    acme = "acme_o2c.plugin"

Every hook is named ``o2c_...``. There are three kinds:

* **Registration hooks** (``o2c_register_*``) return a sequence of records, one per
  adapter the plugin offers (a :class:`StorageRecord` per storage backend ...). Every
  implementation is called; a name registered twice for one role is refused.
* **Decision hooks** shape the engine's decisions: ``o2c_credit_rules`` adds credit
  rules (every implementation is called), ``o2c_credit_policy`` replaces the credit
  policy (the first implementation that answers wins; o2c's own answer runs last),
  ``o2c_choose_rate`` picks a carrier rate (the first answer wins; else
  ``EngineConfig.rate_rule``).
* **The event hook** ``o2c_handle_event`` receives every domain event after the unit
  of work that caused it has committed.

Hook implementations are called one at a time, in pluggy's order (last registered
first; ``tryfirst``/``trylast`` honoured), so that o2c can name the plugin behind every
result and every failure. An exception raised by an implementation reaches the caller
as a :class:`~o2c.errors.PluginHookError` (a :class:`~o2c.errors.SubscriberError` for
the event hook) naming the plugin, with the original chained. Hook wrappers
(``wrapper=True``, ``hookwrapper=True``) are refused on o2c hooks.

Records live here rather than in :mod:`o2c.plugins` so that a plugin imports one
module. They are frozen and validate themselves: a malformed record raises
:class:`~o2c.errors.InvalidRecordError` where it is built, inside the plugin.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

import attrs
import pluggy

from o2c.credit import CreditPolicy, CreditRule
from o2c.errors import InvalidRecordError
from o2c.events import DomainEvent
from o2c.money import is_currency
from o2c.ports import (
    Carrier,
    FulfilmentProvider,
    Inventory,
    Notifier,
    PaymentGateway,
    ShipmentRequest,
    StatementReader,
    Storage,
    TaxProvider,
)
from o2c.rates import Quote

__all__ = [
    "PROJECT",
    "CarrierRecord",
    "FulfilmentProviderRecord",
    "GatewayRecord",
    "InventoryRecord",
    "NotifierRecord",
    "StatementReaderRecord",
    "StorageRecord",
    "TaxRecord",
    "hookimpl",
    "hookspec",
    "o2c_choose_rate",
    "o2c_credit_policy",
    "o2c_credit_rules",
    "o2c_handle_event",
    "o2c_register_carriers",
    "o2c_register_fulfilment_providers",
    "o2c_register_gateways",
    "o2c_register_inventories",
    "o2c_register_notifiers",
    "o2c_register_statement_readers",
    "o2c_register_storage",
    "o2c_register_tax_providers",
]

#: The pluggy project name, which is also the entry-point group.
PROJECT = "o2c"

#: Marks a hook specification (o2c's own use).
hookspec = pluggy.HookspecMarker(PROJECT)

#: Marks a plugin's hook implementation: ``@hookimpl`` or ``@hookimpl(tryfirst=True)``.
hookimpl = pluggy.HookimplMarker(PROJECT)


# --------------------------------------------------------------------------- records

# Adapter names end up in configuration files, URLs and log lines: keep them plain.
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,63}")
# Services, capabilities and statement formats may start with a digit and contain
# dots ("2day", "camt.053").
_TOKEN = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_MAX_DESCRIPTION = 500


def _refuse(record: str, field: str, value: object, reason: str) -> InvalidRecordError:
    return InvalidRecordError(
        f"{record}.{field}: {reason}", record=record, field=field, value=value, reason=reason
    )


def _check_common(record: object, name: object, factory: object, description: object) -> None:
    kind = type(record).__name__
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise _refuse(
            kind,
            "name",
            name,
            "must be 1-64 characters: a lowercase letter, then lowercase letters, "
            "digits, '_' or '-'",
        )
    if not callable(factory):
        raise _refuse(kind, "factory", factory, "must be callable")
    if not isinstance(description, str) or len(description) > _MAX_DESCRIPTION:
        raise _refuse(
            kind, "description", description, f"must be a string of at most {_MAX_DESCRIPTION}"
        )


def _items(record: str, field: str, value: object) -> tuple[object, ...]:
    # A bare string is iterable but is surely a mistake ({"EUR"} meant, "EUR" written).
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise _refuse(record, field, value, "must be a collection of strings, not a string")
    return tuple(value)


def _tokens(record: str, field: str, value: object, *, unique: bool) -> tuple[str, ...]:
    items = _items(record, field, value)
    tokens: list[str] = []
    for item in items:
        if not isinstance(item, str) or _TOKEN.fullmatch(item) is None:
            raise _refuse(
                record,
                field,
                item,
                "each entry must be 1-64 characters: lowercase letters, digits, '_', '.' or '-'",
            )
        tokens.append(item)
    if unique and len(set(tokens)) != len(tokens):
        raise _refuse(record, field, items, "an entry is listed twice")
    return tuple(tokens)


# Converters validate too: attrs runs them before __attrs_post_init__, and each knows
# its record and field, so the error can name both.


def _currencies(value: Iterable[str]) -> frozenset[str]:
    codes: set[str] = set()
    for code in _items("GatewayRecord", "currencies", value):
        if not isinstance(code, str) or not is_currency(code):
            raise _refuse("GatewayRecord", "currencies", code, "is not an ISO 4217 currency code")
        codes.add(code)
    return frozenset(codes)


def _capabilities(value: Iterable[str]) -> frozenset[str]:
    return frozenset(_tokens("GatewayRecord", "capabilities", value, unique=False))


def _services(value: Iterable[str]) -> tuple[str, ...]:
    return _tokens("CarrierRecord", "services", value, unique=True)


def _formats(value: Iterable[str]) -> tuple[str, ...]:
    formats = _tokens("StatementReaderRecord", "formats", value, unique=True)
    if not formats:
        raise _refuse("StatementReaderRecord", "formats", value, "must name at least one format")
    return formats


@attrs.frozen
class StorageRecord:
    """A storage backend a plugin offers.

    Args:
        name: The backend's name, e.g. ``"sqlite"`` (what a host configures).
        factory: Opens the storage; gets the host's optional URL or configuration
            string (``None``: the backend's default).
        description: One line for people.

    Raises:
        InvalidRecordError: A malformed name, a factory that is not callable, or a
            description that is not a short string.

    >>> StorageRecord("sqlite", factory=lambda url: None).name
    'sqlite'
    """

    name: str
    factory: Callable[[str | None], Storage]
    description: str = ""

    def __attrs_post_init__(self) -> None:
        _check_common(self, self.name, self.factory, self.description)


@attrs.frozen
class GatewayRecord:
    """A payment gateway a plugin offers.

    Args:
        name: The gateway's name, e.g. ``"stripe"``.
        factory: Builds the gateway (configuration is the plugin's business).
        currencies: ISO 4217 codes it accepts; empty means every currency.
        capabilities: What it can do beyond the port's methods, e.g.
            ``"partial_capture"``, ``"multi_capture"``, ``"webhooks"``, ``"3ds"``.
        description: One line for people.

    Raises:
        InvalidRecordError: A malformed name or capability, an unknown currency, a
            bare string where a collection is expected, or a factory that is not callable.

    >>> sorted(GatewayRecord("acme", factory=object, currencies={"EUR", "USD"}).currencies)
    ['EUR', 'USD']
    """

    name: str
    factory: Callable[[], PaymentGateway]
    currencies: frozenset[str] = attrs.field(default=frozenset(), converter=_currencies)
    capabilities: frozenset[str] = attrs.field(default=frozenset(), converter=_capabilities)
    description: str = ""

    def __attrs_post_init__(self) -> None:
        _check_common(self, self.name, self.factory, self.description)

    def accepts(self, currency: str) -> bool:
        """True when the gateway takes payments in ``currency``."""
        return not self.currencies or currency in self.currencies


@attrs.frozen
class CarrierRecord:
    """A parcel carrier a plugin offers.

    Args:
        name: The carrier's name, e.g. ``"dhl"``.
        factory: Builds the carrier.
        services: Service codes it quotes, e.g. ``("standard", "express")``; empty
            when it does not say.
        description: One line for people.

    Raises:
        InvalidRecordError: A malformed name or service, a service listed twice, or a
            factory that is not callable.

    >>> CarrierRecord("dhl", factory=object, services=["standard"]).services
    ('standard',)
    """

    name: str
    factory: Callable[[], Carrier]
    services: tuple[str, ...] = attrs.field(default=(), converter=_services)
    description: str = ""

    def __attrs_post_init__(self) -> None:
        _check_common(self, self.name, self.factory, self.description)


@attrs.frozen
class FulfilmentProviderRecord:
    """A fulfilment provider (3PL) a plugin offers.

    Args:
        name: The provider's name, e.g. ``"shipbob"``.
        factory: Builds the provider (a :class:`~o2c.ports.FulfilmentProvider`).
        description: One line for people.

    Raises:
        InvalidRecordError: A malformed name, or a factory that is not callable.

    >>> FulfilmentProviderRecord("acme-3pl", factory=object).name
    'acme-3pl'
    """

    name: str
    factory: Callable[[], FulfilmentProvider]
    description: str = ""

    def __attrs_post_init__(self) -> None:
        _check_common(self, self.name, self.factory, self.description)


@attrs.frozen
class InventoryRecord:
    """An inventory (stock keeping) a plugin offers.

    Args:
        name: The inventory's name, e.g. ``"wms"``.
        factory: Builds the inventory.
        description: One line for people.

    Raises:
        InvalidRecordError: A malformed name or a factory that is not callable.
    """

    name: str
    factory: Callable[[], Inventory]
    description: str = ""

    def __attrs_post_init__(self) -> None:
        _check_common(self, self.name, self.factory, self.description)


@attrs.frozen
class TaxRecord:
    """A tax provider a plugin offers.

    Args:
        name: The provider's name, e.g. ``"avalara"``.
        factory: Builds the provider.
        description: One line for people.

    Raises:
        InvalidRecordError: A malformed name or a factory that is not callable.
    """

    name: str
    factory: Callable[[], TaxProvider]
    description: str = ""

    def __attrs_post_init__(self) -> None:
        _check_common(self, self.name, self.factory, self.description)


@attrs.frozen
class NotifierRecord:
    """A notifier (mail, chat ...) a plugin offers.

    Args:
        name: The notifier's name, e.g. ``"smtp"``.
        factory: Builds the notifier.
        description: One line for people.

    Raises:
        InvalidRecordError: A malformed name or a factory that is not callable.
    """

    name: str
    factory: Callable[[], Notifier]
    description: str = ""

    def __attrs_post_init__(self) -> None:
        _check_common(self, self.name, self.factory, self.description)


@attrs.frozen
class StatementReaderRecord:
    """A bank statement reader a plugin offers.

    Args:
        name: The reader's name, e.g. ``"camt053"``.
        factory: Builds the reader.
        formats: The statement formats it reads, e.g. ``("camt.053",)`` (at least one).
        description: One line for people.

    Raises:
        InvalidRecordError: A malformed name or format, no format at all, or a factory
            that is not callable.
    """

    name: str
    factory: Callable[[], StatementReader]
    formats: tuple[str, ...] = attrs.field(converter=_formats)
    description: str = ""

    def __attrs_post_init__(self) -> None:
        _check_common(self, self.name, self.factory, self.description)


# --------------------------------------------------------------------------- registration hooks

# Specifications are never called by pluggy; the raise only satisfies the type checker
# for hooks that return a value.


@hookspec
def o2c_register_storage() -> Sequence[StorageRecord]:
    """Offer storage backends.

    Every implementation is called. A backend name offered twice (by one plugin or by
    two) raises :class:`~o2c.errors.DuplicateAdapterError`.

    Returns:
        One :class:`StorageRecord` per backend (an empty sequence or ``None``: none).

    Example:
        >>> from o2c.hookspecs import StorageRecord, hookimpl
        >>> from o2c.plugins import Plugins
        >>> def open_sqlite(url):
        ...     return SqliteStorage(url or ":memory:")  # your adapter class
        >>> class AcmeStorage:
        ...     @hookimpl
        ...     def o2c_register_storage(self):
        ...         return [StorageRecord("sqlite", factory=open_sqlite)]
        >>> plugins = Plugins()
        >>> plugins.register(AcmeStorage(), name="acme-storage")
        'acme-storage'
        >>> list(plugins.storages())
        ['sqlite']
    """
    raise NotImplementedError


@hookspec
def o2c_register_gateways() -> Sequence[GatewayRecord]:
    """Offer payment gateways.

    Every implementation is called. A gateway name offered twice raises
    :class:`~o2c.errors.DuplicateAdapterError`.

    Returns:
        One :class:`GatewayRecord` per gateway (an empty sequence or ``None``: none).

    Example:
        >>> from o2c.hookspecs import GatewayRecord, hookimpl
        >>> from o2c.plugins import Plugins
        >>> class AcmePay:
        ...     @hookimpl
        ...     def o2c_register_gateways(self):
        ...         return [GatewayRecord("acmepay", factory=AcmePay, currencies={"EUR"},
        ...                               capabilities={"partial_capture"})]
        >>> plugins = Plugins()
        >>> _ = plugins.register(AcmePay(), name="acmepay")
        >>> plugins.gateways()["acmepay"].accepts("USD")
        False
    """
    raise NotImplementedError


@hookspec
def o2c_register_carriers() -> Sequence[CarrierRecord]:
    """Offer parcel carriers.

    Every implementation is called. A carrier name offered twice raises
    :class:`~o2c.errors.DuplicateAdapterError`.

    Returns:
        One :class:`CarrierRecord` per carrier (an empty sequence or ``None``: none).

    Example:
        >>> from o2c.hookspecs import CarrierRecord, hookimpl
        >>> from o2c.plugins import Plugins
        >>> class Parcels:
        ...     @hookimpl
        ...     def o2c_register_carriers(self):
        ...         return [CarrierRecord("parcels", factory=Parcels,
        ...                               services=("standard", "express"))]
        >>> plugins = Plugins()
        >>> _ = plugins.register(Parcels(), name="parcels")
        >>> plugins.carriers()["parcels"].services
        ('standard', 'express')
    """
    raise NotImplementedError


@hookspec
def o2c_register_fulfilment_providers() -> Sequence[FulfilmentProviderRecord]:
    """Offer fulfilment providers (3PLs that pick, pack and ship for o2c).

    Every implementation is called. A provider name offered twice raises
    :class:`~o2c.errors.DuplicateAdapterError`. Providers passed to
    ``O2C(fulfilment_providers=...)`` are added to (and override) these.

    Returns:
        One :class:`FulfilmentProviderRecord` per provider (an empty sequence or
        ``None``: none).

    Example:
        >>> from o2c.hookspecs import FulfilmentProviderRecord, hookimpl
        >>> from o2c.plugins import Plugins
        >>> class Warehouse:
        ...     @hookimpl
        ...     def o2c_register_fulfilment_providers(self):
        ...         return [FulfilmentProviderRecord("acme-3pl", factory=Warehouse)]
        >>> plugins = Plugins()
        >>> _ = plugins.register(Warehouse(), name="warehouse")
        >>> list(plugins.fulfilment_providers())
        ['acme-3pl']
    """
    raise NotImplementedError


@hookspec
def o2c_register_inventories() -> Sequence[InventoryRecord]:
    """Offer inventories (stock and reservations, e.g. a bridge to a WMS).

    Every implementation is called. An inventory name offered twice raises
    :class:`~o2c.errors.DuplicateAdapterError`.

    Returns:
        One :class:`InventoryRecord` per inventory (an empty sequence or ``None``: none).

    Example:
        >>> from o2c.hookspecs import InventoryRecord, hookimpl
        >>> from o2c.plugins import Plugins
        >>> class Wms:
        ...     @hookimpl
        ...     def o2c_register_inventories(self):
        ...         return [InventoryRecord("wms", factory=Wms)]
        >>> plugins = Plugins()
        >>> _ = plugins.register(Wms(), name="wms")
        >>> list(plugins.inventories())
        ['wms']
    """
    raise NotImplementedError


@hookspec
def o2c_register_tax_providers() -> Sequence[TaxRecord]:
    """Offer tax providers.

    Every implementation is called. A provider name offered twice raises
    :class:`~o2c.errors.DuplicateAdapterError`.

    Returns:
        One :class:`TaxRecord` per provider (an empty sequence or ``None``: none).

    Example:
        >>> from o2c.hookspecs import TaxRecord, hookimpl
        >>> from o2c.plugins import Plugins
        >>> class FlatTax:
        ...     @hookimpl
        ...     def o2c_register_tax_providers(self):
        ...         return [TaxRecord("flat", factory=FlatTax)]
        >>> plugins = Plugins()
        >>> _ = plugins.register(FlatTax(), name="flat-tax")
        >>> list(plugins.tax_providers())
        ['flat']
    """
    raise NotImplementedError


@hookspec
def o2c_register_notifiers() -> Sequence[NotifierRecord]:
    """Offer notifiers (mail, chat, tickets ...).

    Every implementation is called. A notifier name offered twice raises
    :class:`~o2c.errors.DuplicateAdapterError`.

    Returns:
        One :class:`NotifierRecord` per notifier (an empty sequence or ``None``: none).

    Example:
        >>> from o2c.hookspecs import NotifierRecord, hookimpl
        >>> from o2c.plugins import Plugins
        >>> class Mail:
        ...     @hookimpl
        ...     def o2c_register_notifiers(self):
        ...         return [NotifierRecord("smtp", factory=Mail, description="mail via SMTP")]
        >>> plugins = Plugins()
        >>> _ = plugins.register(Mail(), name="mail")
        >>> plugins.notifiers()["smtp"].description
        'mail via SMTP'
    """
    raise NotImplementedError


@hookspec
def o2c_register_statement_readers() -> Sequence[StatementReaderRecord]:
    """Offer bank statement readers.

    Every implementation is called. A reader name offered twice raises
    :class:`~o2c.errors.DuplicateAdapterError`.

    Returns:
        One :class:`StatementReaderRecord` per reader (an empty sequence or ``None``: none).

    Example:
        >>> from o2c.hookspecs import StatementReaderRecord, hookimpl
        >>> from o2c.plugins import Plugins
        >>> class Camt:
        ...     @hookimpl
        ...     def o2c_register_statement_readers(self):
        ...         return [StatementReaderRecord("camt", factory=Camt,
        ...                                       formats=("camt.053", "camt.054"))]
        >>> plugins = Plugins()
        >>> _ = plugins.register(Camt(), name="camt")
        >>> plugins.statement_readers()["camt"].formats
        ('camt.053', 'camt.054')
    """
    raise NotImplementedError


# --------------------------------------------------------------------------- decision hooks


@hookspec
def o2c_credit_rules(customer_id: str) -> Sequence[CreditRule]:
    """Add credit rules for a customer's orders.

    Every implementation is called; the rules of all of them, in call order, are
    appended to the customer's credit policy (see ``o2c_credit_policy``). A rule can
    only add restrictions: the most severe verdict of all rules wins. Rule names must
    be unique within the policy, including the built-in ones (``"customer_blocked"``,
    ``"credit_limit"`` ...), or building the policy fails.

    Args:
        customer_id: The customer whose order is checked.

    Returns:
        Rules (objects with a ``name`` and ``evaluate(request)``, see
        :class:`~o2c.credit.CreditRule`); an empty sequence or ``None``: none.

    Example:
        >>> from o2c.credit import CreditRequest, RuleOutcome
        >>> from o2c.hookspecs import hookimpl
        >>> from o2c.plugins import Plugins
        >>> class NoBigOrders:
        ...     name = "no_big_orders"
        ...     def evaluate(self, request: CreditRequest) -> RuleOutcome | None:
        ...         if request.amount.amount > 10_000:
        ...             return RuleOutcome.hold("order above 10,000", "acme.big_order")
        ...         return None
        >>> class Acme:
        ...     @hookimpl
        ...     def o2c_credit_rules(self, customer_id):
        ...         return [NoBigOrders()]
        >>> plugins = Plugins()
        >>> _ = plugins.register(Acme(), name="acme")
        >>> [rule.name for rule in plugins.credit_policy("C-1").rules][-2:]
        ['no_limit', 'no_big_orders']
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def o2c_credit_policy(customer_id: str, rules: tuple[CreditRule, ...]) -> CreditPolicy | None:
    """Choose the credit policy for a customer's orders.

    The first implementation that returns a policy wins (``firstresult``).
    o2c's own implementation is registered with ``trylast=True`` and always runs
    after every host or plugin implementation (even one marked ``trylast``); it answers
    :meth:`CreditPolicy.default() <o2c.credit.CreditPolicy.default>` with ``rules``
    appended. An implementation that wants the default for some customers returns
    ``None`` for them.

    Args:
        customer_id: The customer whose order is checked.
        rules: The extra rules every ``o2c_credit_rules`` implementation returned, in
            call order; a replacing policy should include them.

    Returns:
        A :class:`~o2c.credit.CreditPolicy`, or ``None`` to let the next one decide.

    Example:
        >>> from o2c.credit import CreditOutcome, CreditPolicy
        >>> from o2c.hookspecs import hookimpl
        >>> from o2c.plugins import Plugins
        >>> class Lenient:
        ...     @hookimpl
        ...     def o2c_credit_policy(self, customer_id, rules):
        ...         if customer_id.startswith("VIP-"):
        ...             base = CreditPolicy.default(no_limit=CreditOutcome.APPROVE)
        ...             return CreditPolicy(base.rules + rules, name="vip")
        ...         return None
        >>> plugins = Plugins()
        >>> _ = plugins.register(Lenient(), name="lenient")
        >>> plugins.credit_policy("VIP-7").name, plugins.credit_policy("C-1").name
        ('vip', 'default')
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def o2c_choose_rate(request: ShipmentRequest, quotes: tuple[Quote, ...]) -> Quote | None:
    """Choose the carrier rate a shipment is sent with (rate shopping).

    The first implementation that returns a quote wins (``firstresult``); when none
    does, ``EngineConfig.rate_rule`` decides (``"cheapest"`` by default). The answer
    must be one of ``quotes`` (the very value), or the shipment fails with
    :class:`~o2c.errors.RateChoiceError`. The choice is kept on the shipment as
    ``rate_choice`` with the rule ``"plugin:<name>"``.

    Args:
        request: The parcel (destination, weight, cash on delivery).
        quotes: Every quote of the carriers asked that offer the service wanted,
            cheapest first (ties by promised delivery, carrier, service). Carriers
            that failed to quote are not among them.

    Returns:
        One of ``quotes``, or ``None`` to let the next implementation (or the rule)
        decide.

    Example:
        >>> from datetime import UTC, datetime
        >>> from o2c.customers import Address
        >>> from o2c.hookspecs import hookimpl
        >>> from o2c.money import Money
        >>> from o2c.plugins import Plugins
        >>> from o2c.ports import Rate, ShipmentRequest
        >>> from o2c.rates import Quote
        >>> class GreenFirst:
        ...     @hookimpl
        ...     def o2c_choose_rate(self, request, quotes):
        ...         return next((q for q in quotes if q.carrier == "bike"), None)
        >>> plugins = Plugins()
        >>> _ = plugins.register(GreenFirst(), name="green")
        >>> when = datetime(2026, 3, 3, tzinfo=UTC)
        >>> quotes = tuple(
        ...     Quote(carrier=c, rate=Rate(carrier=c, service="std",
        ...           amount=Money(p, "EUR"), transit_days=1), promised_by=when)
        ...     for c, p in (("dhl", "4.90"), ("bike", "6.00")))
        >>> to = Address(name="Ada", lines=("1 Main St",), city="Berlin", country="DE")
        >>> request = ShipmentRequest(shipment_id="SH-1", ship_to=to, weight_grams=500)
        >>> plugins.choose_rate(request, quotes)[1].carrier
        'bike'
    """
    raise NotImplementedError


# --------------------------------------------------------------------------- event hook


@hookspec
def o2c_handle_event(event: DomainEvent, seq: int) -> None:
    """Receive a domain event after the change that caused it has committed.

    Delivery is **at least once, in outbox order**: the engine reads committed outbox
    entries oldest first and calls every subscriber with each; once all of them
    returned, the entry is marked delivered. An event is therefore never seen before
    its unit of work committed, and never for a change that was rolled back.

    Subscribers **must be idempotent** (``seq`` is unique per entry and is a good
    deduplication key): an entry can be delivered again after a crash or a failure.

    Failure policy: a subscriber that raises stops delivery at that entry. The engine
    gets a :class:`~o2c.errors.SubscriberError` naming the plugin (the original
    exception is its ``__cause__``); subscribers after it do not see the entry, nor
    does anyone see later entries, in this dispatch. The entry stays pending in the
    outbox and the whole entry is delivered again, to every subscriber, on the next
    dispatch. The engine call that caused the event has already committed and is
    not undone.

    Args:
        event: The event (a frozen :class:`~o2c.events.DomainEvent`).
        seq: Its position in the outbox; strictly increasing in commit order.

    Example:
        >>> from datetime import UTC, datetime
        >>> from o2c.events import DomainEvent
        >>> from o2c.hookspecs import hookimpl
        >>> from o2c.plugins import Plugins
        >>> seen = {}
        >>> class Audit:
        ...     @hookimpl
        ...     def o2c_handle_event(self, event, seq):
        ...         seen.setdefault(seq, event.name)  # idempotent: keyed by seq
        >>> plugins = Plugins()
        >>> _ = plugins.register(Audit(), name="audit")
        >>> event = DomainEvent(aggregate_id="SO-1", occurred_at=datetime(2025, 1, 2, tzinfo=UTC))
        >>> plugins.handle_event(event, 1)
        >>> plugins.handle_event(event, 1)  # redelivered
        >>> seen
        {1: 'DomainEvent'}
    """
