"""Structured validation results: every problem as (code, field, severity, message).

Validation collects *all* problems instead of stopping at the first, so a host can
show them together. :meth:`ValidationResult.raise_if_invalid` turns errors into one
:class:`~o2c.errors.ValidationError` carrying the whole list.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import attrs

from o2c.errors import ValidationError

__all__ = ["Issue", "Severity", "ValidationResult"]


class Severity(StrEnum):
    """How bad an issue is: errors block, warnings inform."""

    ERROR = "error"
    WARNING = "warning"


@attrs.frozen
class Issue:
    """One validation finding.

    Args:
        code: Stable machine code, e.g. ``"order.line.quantity_not_positive"``.
        field: Dotted path of the offending field, e.g. ``"lines[2].quantity"``.
        message: What is wrong, for people.
        severity: :attr:`Severity.ERROR` blocks; :attr:`Severity.WARNING` does not.
    """

    code: str
    field: str
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        return f"{self.severity.value} {self.code} at {self.field}: {self.message}"


@attrs.frozen
class ValidationResult:
    """All issues found; valid when there is no error (warnings are allowed)."""

    issues: tuple[Issue, ...] = ()

    @classmethod
    def of(cls, issues: Iterable[Issue]) -> ValidationResult:
        """Collect issues from any iterable."""
        return cls(tuple(issues))

    @property
    def ok(self) -> bool:
        """True when no issue is an error."""
        return not self.errors

    @property
    def errors(self) -> tuple[Issue, ...]:
        """The blocking issues."""
        return tuple(i for i in self.issues if i.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Issue, ...]:
        """The non-blocking issues."""
        return tuple(i for i in self.issues if i.severity is Severity.WARNING)

    def __add__(self, other: ValidationResult) -> ValidationResult:
        return ValidationResult(self.issues + other.issues)

    def raise_if_invalid(self, what: str = "input") -> None:
        """Raise one :class:`ValidationError` listing every error, if there is any."""
        if self.errors:
            raise ValidationError(
                f"{what} is not valid: " + "; ".join(str(i) for i in self.errors),
                issues=self.errors,
            )
