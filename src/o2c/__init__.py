"""o2c: order-to-cash as a library. The curated public API lives here; no logic."""

from o2c.errors import O2CError
from o2c.money import Money, RoundingMode

__all__ = ["Money", "O2CError", "RoundingMode"]
__version__ = "0.1.0.dev0"
