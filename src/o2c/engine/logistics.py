"""Engine part:

Carriers and fulfilment providers: rate shopping, labels, cancellation, tracking, 3PL."""

from __future__ import annotations

from o2c.engine.aftersales import AfterSalesMixin

__all__ = ["LogisticsMixin"]


class LogisticsMixin(AfterSalesMixin):
    """Carriers and fulfilment providers:
    rate shopping, labels, cancellation, tracking, 3PL.
    """
