"""Engine part:

Payment methods beyond the card: wallets, bank transfer, store credit, cash on delivery,
split tender."""

from __future__ import annotations

from o2c.engine.aftersales import AfterSalesMixin

__all__ = ["TenderMixin"]


class TenderMixin(AfterSalesMixin):
    """Payment methods beyond the card:
    wallets, bank transfer, store credit, cash on delivery, split tender.
    """
