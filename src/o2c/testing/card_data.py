"""Find card data in what o2c (or an adapter) wrote: a tap for test suites.

PCI DSS forbids keeping a card number (PAN), CVV or track data after authorization;
o2c keeps gateway tokens only, and redacts any 13-19 digit Luhn-valid run in text it
writes (:func:`o2c.payments.redact_card_numbers`). A :class:`CardDataTap` checks that
promise: feed it everything written (stored records, outbox events, idempotency
records, log lines, notifications) and it keeps every card-number candidate it sees,
with where it was seen.

>>> tap = CardDataTap()
>>> tap.scan("order SO-1, paid by token tok_visa", where="log")
>>> tap.scan("customer note: my card is 4111 1111 1111 1111", where="log")
>>> [(f.where, f.digits) for f in tap.findings]
[('log', '4111111111111111')]

Track data is a card number followed by ``=`` and digits (track 2) or a ``%B``
prefix (track 1); both contain the card number, so the same scan finds them. A CVV
alone is three or four digits and cannot be told from any other number: it is kept
out by never accepting one (o2c's APIs take tokens, not card fields).
"""

from __future__ import annotations

import re
from typing import Final

import attrs

from o2c.payments import _card_spans

__all__ = ["CardDataTap", "Finding", "card_numbers_in"]

_CANDIDATE: Final = re.compile(r"\d[\d -]{11,}\d")


def card_numbers_in(text: str) -> list[str]:
    """The card-number candidates in ``text``, digits only, in order of appearance.

    A candidate is what :func:`o2c.payments.contains_card_number` flags: 13 to 19
    digits (spaces or hyphens between groups allowed) passing the Luhn check.

    >>> card_numbers_in("refund to 4000-0566-5566-5556 ref 12345")
    ['4000056655665556']
    """
    return ["".join(filter(str.isdigit, text[a:b])) for a, b in _card_spans(text)]


@attrs.frozen
class Finding:
    """One card-number candidate seen by a tap.

    Attributes:
        where: What was being written (e.g. ``"storage order SO-1"``, ``"log"``).
        digits: The candidate's digits.
        context: The test or step that wrote it, if the tap was told.
    """

    where: str
    digits: str
    context: str = ""


@attrs.define
class CardDataTap:
    """Collects card-number candidates from everything it is shown.

    Attributes:
        findings: What was found so far.
        scanned: How many texts were scanned (a tap that scanned nothing proves nothing).
        context: Attached to new findings (a test suite sets the running test's id).
    """

    findings: list[Finding] = attrs.field(factory=list)
    scanned: int = 0
    context: str = ""

    def scan(self, value: object, *, where: str) -> None:
        """Scan a value's text (``str`` as is, anything else by ``repr``)."""
        text = value if isinstance(value, str) else repr(value)
        self.scanned += 1
        if _CANDIDATE.search(text) is None:  # the common case: no long digit run at all
            return
        for digits in card_numbers_in(text):
            self.findings.append(Finding(where=where, digits=digits, context=self.context))

    def clear(self) -> None:
        """Forget the findings (after a test that planted card data on purpose)."""
        self.findings.clear()
