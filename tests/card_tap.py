"""The suite-wide card-data tap: everything o2c writes while the tests run is scanned.

Installed by ``tests/conftest.py``. It wraps the points where o2c's data leaves the
engine: a memory unit of work's commit (stored records, their indexes, numbering
series, idempotency records with their results, outbox events), the notifications
sent after a commit, and every log record of the ``o2c`` loggers (at DEBUG, so
nothing is filtered before the scan). ``tests/unit/test_card_data.py`` runs last and
fails if any 13-19 digit Luhn-valid run was seen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from o2c.adapters import memory
from o2c.engine import core
from o2c.testing.card_data import CardDataTap

__all__ = ["TAP", "install"]

TAP = CardDataTap()
_installed: list[Callable[[], None]] = []


class _LogTap(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f"\n{record.exc_info[1]!r}"
        TAP.scan(text, where=f"log {record.name}")


def _scan_unit(uow: Any) -> None:
    for kind, rows in uow._staged.items():
        for record_id, (record, index, _ordinal) in rows.items():
            TAP.scan(record_id, where=f"storage id {kind}")
            TAP.scan(record, where=f"storage {kind} {record_id}")
            if index:
                TAP.scan(index, where=f"storage index {kind} {record_id}")
    for name in uow._numbers or ():
        TAP.scan(name, where="storage numbering series")
    for key, record in (uow._idempotency or {}).items():
        TAP.scan(key, where="idempotency key")
        TAP.scan(record, where=f"idempotency record {key}")
    for event in uow._events or ():
        TAP.scan(event, where=f"outbox {type(event).__name__}")


def install() -> None:
    """Wrap the write points (once)."""
    if _installed:
        return
    commit = memory.MemoryUnitOfWork.commit
    after = core.EngineCore._after_commit

    def tapped_commit(self: memory.MemoryUnitOfWork) -> None:
        if self._state is None:
            _scan_unit(self)
        commit(self)

    def tapped_after_commit(self: core.EngineCore, tx: core.Tx) -> None:
        for note in tx.notifications:
            TAP.scan(note, where=f"notification {note.kind}")
        after(self, tx)

    memory.MemoryUnitOfWork.commit = tapped_commit  # type: ignore[method-assign]
    core.EngineCore._after_commit = tapped_after_commit  # type: ignore[method-assign]
    handler = _LogTap(level=logging.DEBUG)
    logger = logging.getLogger("o2c")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.DEBUG)

    def undo() -> None:
        memory.MemoryUnitOfWork.commit = commit  # type: ignore[method-assign]
        core.EngineCore._after_commit = after  # type: ignore[method-assign]
        logger.removeHandler(handler)
        logger.setLevel(level)

    _installed.append(undo)
