"""Cash application: match incoming money on bank statements to open invoices.

Auto-applies only when sure, suggests otherwise, and says why (see docs/cash-application.md).
"""

from __future__ import annotations

from o2c.matching.model import Allocation, LineResult, MatchStatus, OpenItem, Proposal, Signal

__all__ = ["Allocation", "LineResult", "MatchStatus", "OpenItem", "Proposal", "Signal"]
