"""Engine part: bank statements imported once, and cash application on them."""

from __future__ import annotations

from o2c.engine.aftersales import AfterSalesMixin

__all__ = ["CashAppMixin"]


class CashAppMixin(AfterSalesMixin):
    """Bank statements imported once, and cash application on them."""
