"""Cash application: match incoming money on bank statements to open invoices.

Auto-applies only when sure, suggests otherwise, and says why (see docs/cash-application.md).

>>> from o2c.matching import match, MatchPolicy, PayerMemory
"""

from __future__ import annotations

from o2c.matching.engine import confirmations, match
from o2c.matching.model import Allocation, LineResult, MatchStatus, OpenItem, Proposal, Signal
from o2c.matching.payers import PayerMemory
from o2c.matching.policy import MatchPolicy, Weights

__all__ = [
    "Allocation",
    "LineResult",
    "MatchPolicy",
    "MatchStatus",
    "OpenItem",
    "PayerMemory",
    "Proposal",
    "Signal",
    "Weights",
    "confirmations",
    "match",
]
