"""o2c: order-to-cash as a library. The curated public API lives here; no logic.

The domain modules are imported by name (``from o2c import orders, invoices``); the
names below are the ones nearly every host needs.
"""

from o2c.clock import Clock, FixedClock, SystemClock
from o2c.errors import (
    AdapterError,
    ConflictError,
    DomainError,
    InvalidTransitionError,
    O2CError,
    PluginError,
    ValidationError,
)
from o2c.hookspecs import hookimpl, hookspec
from o2c.money import Money, RoundingMode, parse_amount
from o2c.pricing import RoundingPolicy, TaxRate, TaxRounding
from o2c.workflow import Transition, Workflow

__all__ = [
    "AdapterError",
    "Clock",
    "ConflictError",
    "DomainError",
    "FixedClock",
    "InvalidTransitionError",
    "Money",
    "O2CError",
    "PluginError",
    "RoundingMode",
    "RoundingPolicy",
    "SystemClock",
    "TaxRate",
    "TaxRounding",
    "Transition",
    "ValidationError",
    "Workflow",
    "hookimpl",
    "hookspec",
    "parse_amount",
]
__version__ = "0.1.0.dev0"
