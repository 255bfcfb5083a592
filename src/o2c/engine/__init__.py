"""The O2C engine: one application service for every step of the cycle.

>>> from o2c.engine import O2C
>>> engine = O2C()                      # memory storage, stock inventory, no plugins

Host code calls the engine for every step; each mutating call takes an idempotency
key as its first argument and runs in one unit of work (see :mod:`o2c.engine.core`).
Adapters come from the arguments, or from plugins (entry-point group ``o2c``) picked
by name.
"""

from __future__ import annotations

from collections.abc import Mapping

from o2c.adapters.inventory import StockInventory
from o2c.adapters.memory import MemoryStorage
from o2c.clock import Clock
from o2c.credit import CreditPolicy
from o2c.engine.cashapp import CashAppMixin
from o2c.engine.core import EngineConfig, default_terms
from o2c.engine.inbound import InboundMixin
from o2c.engine.logistics import LogisticsMixin
from o2c.engine.reconcile import ReconcileMixin
from o2c.engine.tender import TenderMixin
from o2c.engine.views import (
    InvoiceSummary,
    OrderTracking,
    ShipmentTracking,
    Statement,
    StatementEntry,
    TrackedLine,
    ViewsMixin,
)
from o2c.errors import UnknownAdapterError
from o2c.plugins import Plugins
from o2c.ports import (
    Carrier,
    FulfilmentProvider,
    Inventory,
    Notifier,
    PaymentGateway,
    Storage,
    TaxProvider,
)

__all__ = [
    "O2C",
    "EngineConfig",
    "InvoiceSummary",
    "OrderTracking",
    "ShipmentTracking",
    "Statement",
    "StatementEntry",
    "TrackedLine",
    "default_terms",
]


class O2C(CashAppMixin, InboundMixin, ReconcileMixin, TenderMixin, LogisticsMixin, ViewsMixin):
    """The order-to-cash engine.

    Args:
        storage: A :class:`~o2c.ports.Storage`, or the name of a storage registered
            by a plugin (then ``storage_url`` is passed to its factory). Default: a
            new in-memory storage.
        storage_url: Passed to a named storage's factory.
        clock: Where ``now`` comes from (default: the system clock, UTC).
        gateways: Payment gateways by name (added to those plugins register).
        carriers: Carriers by name (added to those plugins register).
        fulfilment_providers: Fulfilment providers (3PLs) by name (added to those
            plugins register).
        inventory: Stock keeping (default: :class:`StockInventory` in the storage).
        tax: Chooses line tax rates (default: keep the rates given on each line).
        notifier: Receives notifications after commit (default: none).
        config: Numbering, terms, reservation expiry ...
        plugins: A :class:`~o2c.plugins.Plugins` manager; by default one without
            entry points, so ``O2C()`` depends on nothing installed.
        load_entrypoints: Also load plugins from the ``o2c`` entry-point group.
    """

    def __init__(
        self,
        storage: Storage | str | None = None,
        *,
        storage_url: str | None = None,
        clock: Clock | None = None,
        gateways: Mapping[str, PaymentGateway] | None = None,
        carriers: Mapping[str, Carrier] | None = None,
        fulfilment_providers: Mapping[str, FulfilmentProvider] | None = None,
        inventory: Inventory | None = None,
        tax: TaxProvider | None = None,
        notifier: Notifier | None = None,
        config: EngineConfig | None = None,
        plugins: Plugins | None = None,
        load_entrypoints: bool = False,
    ) -> None:
        pm = plugins if plugins is not None else Plugins()
        if load_entrypoints:
            pm.load_entrypoints()
        if plugins is not None or load_entrypoints:
            pm.check()  # a misspelt hook fails here, loudly, not later in silence
        self.plugins = pm
        all_gateways: dict[str, PaymentGateway] = {
            name: rec.factory() for name, rec in pm.gateways().items()
        }
        all_gateways.update(gateways or {})
        all_carriers: dict[str, Carrier] = {
            name: rec.factory() for name, rec in pm.carriers().items()
        }
        all_carriers.update(carriers or {})
        all_providers: dict[str, FulfilmentProvider] = {
            name: rec.factory() for name, rec in pm.fulfilment_providers().items()
        }
        all_providers.update(fulfilment_providers or {})
        self._init_core(
            storage=self._storage(pm, storage, storage_url),
            clock=clock,
            config=config,
            inventory=inventory if inventory is not None else StockInventory(),
            gateways=all_gateways,
            carriers=all_carriers,
            fulfilment_providers=all_providers,
            tax=tax,
            notifier=notifier,
            deliver_event=pm.handle_event if pm.has_event_subscribers else None,
        )
        if pm.has_rate_choosers:
            self.choose_rate_hook = pm.choose_rate

    @staticmethod
    def _storage(pm: Plugins, storage: Storage | str | None, url: str | None) -> Storage:
        if storage is None:
            return MemoryStorage()
        if not isinstance(storage, str):
            return storage
        records = pm.storages()
        if storage == "memory" and "memory" not in records:
            return MemoryStorage()
        try:
            return records[storage].factory(url)
        except KeyError:
            raise UnknownAdapterError(
                f"no storage named {storage!r}",
                role="storage",
                name=storage,
                available=tuple(sorted({*records, "memory"})),
            ) from None

    def credit_policy(self, customer_id: str) -> CreditPolicy:
        """The credit policy for a customer: a plugin's, or o2c's default plus any
        rules plugins add."""
        return self.plugins.credit_policy(customer_id)
