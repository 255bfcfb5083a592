"""Bank statement readers: camt.052/053/054 (``o2c[camt]``), MT940 (``o2c[mt940]``) and CSV.

Every reader returns :class:`o2c.statements.Statement` values; a malformed or hostile
file raises a typed error with a position and nothing is returned.
"""

from __future__ import annotations
