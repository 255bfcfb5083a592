"""Engine part:

The payment reconciler: unknown and pending gateway outcomes resolved by asking again."""

from __future__ import annotations

from o2c.engine.aftersales import AfterSalesMixin

__all__ = ["ReconcileMixin"]


class ReconcileMixin(AfterSalesMixin):
    """The payment reconciler:
    unknown and pending gateway outcomes resolved by asking again.
    """
