"""Engine part:

Inbound webhooks: signed gateway events and disputes, verified and applied once."""

from __future__ import annotations

from o2c.engine.aftersales import AfterSalesMixin

__all__ = ["InboundMixin"]


class InboundMixin(AfterSalesMixin):
    """Inbound webhooks: signed gateway events and disputes, verified and applied once."""
