"""Field checks shared by the domain modules: ids, free text, aware datetimes.

Each module raises its own typed error (``ShipmentFieldError``, ``ReturnFieldError``
...), so the checks are built per module by :class:`FieldChecks` around that error
class; attrs validators come from :meth:`FieldChecks.validator`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

from o2c.clock import require_aware
from o2c.payments import check_free_text

__all__ = ["FieldChecks"]

#: What the field errors look like: a message, then ``field`` and ``reason``.
FieldError = Callable[..., Exception]
Check = Callable[[object, str], object]
Validator = Callable[[object, "attrs.Attribute[Any]", object], None]


class FieldChecks:
    """Field checks raising ``error(message, field=..., reason=...)``.

    Args:
        error: The module's field error class.
        max_id: Longest id accepted.
        max_text: Longest free text accepted.
    """

    def __init__(self, error: FieldError, *, max_id: int, max_text: int) -> None:
        self.error = error
        self.max_id = max_id
        self.max_text = max_text

    def id(self, value: object, field: str) -> str:
        """A machine-issued id: bounded, printable, not blank. Ids are not scanned for
        card numbers: a long numeric id may pass the Luhn check by chance."""
        text = check_free_text(
            value,
            field=field,
            max_length=self.max_id,
            error=self.error,  # type: ignore[arg-type]
            scan_card_numbers=False,
        )
        if not text.strip():
            raise self.error(f"{field} is blank", field=field, reason="blank")
        return text

    def text(self, value: object, field: str, *, empty: bool = False) -> str:
        """Free text people type: bounded, printable, no card number, not blank."""
        text = check_free_text(
            value,
            field=field,
            max_length=self.max_text,
            error=self.error,  # type: ignore[arg-type]
            allow_empty=empty,
        )
        if text and not text.strip():
            raise self.error(f"{field} is blank", field=field, reason="blank")
        return text

    def optional_text(self, value: object, field: str) -> str:
        """Free text that may be empty."""
        return self.text(value, field, empty=True)

    def aware(self, value: object, field: str) -> datetime:
        """A timezone-aware datetime."""
        if not isinstance(value, datetime):
            raise self.error(f"{field} must be a datetime", field=field, reason="not a datetime")
        return require_aware(value)

    @staticmethod
    def validator(check: Check, *, optional: bool = False) -> Validator:
        """An attrs validator running ``check(value, attribute name)``; None passes
        when ``optional``."""

        def validate(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
            if value is None and optional:
                return
            check(value, attribute.name)

        return validate
