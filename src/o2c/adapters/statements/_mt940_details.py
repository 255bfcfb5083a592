"""The information to the account owner (``:86:``) of MT940 entries.

Banks write ``:86:`` three ways, and each entry's text is read the way it is written:

* **German structured** (``166?00GUTSCHRIFT?20EREF+...?32Name``, the ZKA layout of
  German, Austrian and Luxembourg banks; Triodos writes ``>`` for ``?``): parsed by the
  `mt-940 <https://pypi.org/project/mt-940/>`_ package. ``?20``-``?29`` is the
  remittance (with the SEPA keys ``EREF+``, ``KREF+``, ``MREF+``, ``SVWZ+``, ``ABWA+``),
  ``?31`` the counterparty's account, ``?32``/``?33`` its name.
* **SWIFT codes** (``/EREF/.../CNTP/IBAN/BIC/NAME/CITY/REMI/USTD//text/``, the layout of
  ING, Rabobank, bunq, Knab...): read here.
* **Free text**: kept as the remittance.

The mt-940 package keeps its tag parsers and processors at module level. This module
never changes them: every parse builds its own :class:`mt940.models.Transactions` with
its own :class:`mt940.Options` and a fresh copy of the processor lists, so no setting
of one parse reaches another (or a host's own use of the package).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final

import attrs
import mt940
from mt940.models import Transactions

from o2c.adapters.statements._text import clean, iban_or_none

__all__ = ["MT940_OPTIONS", "Details", "EntryText", "read_details"]

#: What o2c asks of the mt-940 package: every fix of 5.x switched on (``?31`` kept
#: as the account, ``RC`` signed as the debit it is, ``:86:`` never cut short ...).
MT940_OPTIONS: Final = mt940.Options(
    applicant_iban=True,
    merge_keeps_values=True,
    reversal_sign=True,
    case_insensitive_marks=False,
    timezone_offset=True,
    unbounded_details=True,
    non_swift_free_text=True,
    floor_limit_blank_mark=True,
    strip_bom=True,
    gvc_leading_text=True,
)

_GERMAN: Final = re.compile(r"^\d{3}[?>]\d{2}")
_TRIODOS_SEPARATOR: Final = re.compile(r">(?=\d{2})")
_SWIFT_CODES: Final = (
    "EREF",
    "PREF",
    "MARF",
    "CSID",
    "CNTP",
    "REMI",
    "ORDP",
    "BENM",
    "NAME",
    "IBAN",
    "BIC",
    "ADDR",
    "ID",
    "TRCD",
    "TRTP",
    "RTRN",
    "ISDT",
    "SUM",
    "OCMT",
    "CHGS",
    "ULTC",
    "ULTD",
    "ULTB",
    "PURP",
    "BUSP",
    "EXCH",
    "IACC",
    "ACCW",
)
_SWIFT_CODE: Final = re.compile(r"/(" + "|".join(_SWIFT_CODES) + r")/")
_CREDITOR_REFERENCE: Final = re.compile(r"RF\d{2}[A-Z0-9]{1,21}")


@attrs.frozen
class EntryText:
    """What o2c hands this module for one entry.

    Attributes:
        mark: ``C``, ``D``, ``RC`` or ``RD``.
        amount: The unsigned amount.
        details: The ``:86:`` text, lines joined by ``\\n`` ("" when there is none).
    """

    mark: str
    amount: Decimal
    details: str


@attrs.frozen
class Details:
    """The parts of an entry's ``:86:`` o2c keeps."""

    counterparty_name: str = ""
    counterparty_iban: str = ""
    remittance: str = ""
    structured_reference: str = ""
    end_to_end_id: str = ""


class DetailsMismatchError(Exception):
    """The mt-940 package read the entries differently from o2c's own reading (it
    never should: o2c hands it text it has checked); the caller turns this into a
    typed error."""


def _processors() -> dict[str, list[Any]]:
    # Fresh lists: a processor appended for one parse can never reach another.
    return {slot: list(steps) for slot, steps in Transactions.DEFAULT_PROCESSORS.items()}


def _mt940_text(entries: Sequence[EntryText]) -> str:
    """A minimal statement in the package's grammar: one ``:61:`` per entry (amount
    and mark only) and its ``:86:``, so the package files each text under its entry."""
    parts = [":20:O2C", ":25:O2C", ":28C:1", ":60F:C010101EUR0,"]
    for entry in entries:
        amount = format(entry.amount, "f").replace(".", ",")
        if "," not in amount:
            amount += ","
        parts.append(f":61:010101{entry.mark}{amount}NMSCNONREF")
        details = entry.details  # German structured: never empty
        if details[3] == ">":
            details = _TRIODOS_SEPARATOR.sub("?", details)
        parts.append(f":86:{details}")
    parts.append(":62F:C010101EUR0,")
    return "\n".join(parts) + "\n"


def read_details(entries: Sequence[EntryText]) -> list[Details]:
    """The ``:86:`` parts of each entry, in order. Only German structured texts go to
    the mt-940 package (the others it would keep as they are).

    Raises:
        DetailsMismatchError: the package saw another number of entries or other
            amounts than o2c did.
    """
    german = [index for index, entry in enumerate(entries) if _GERMAN.match(entry.details)]
    parsed: dict[int, dict[str, Any]] = {}
    if german:
        subset = [entries[index] for index in german]
        transactions = Transactions(processors=_processors(), options=MT940_OPTIONS)
        transactions.parse(_mt940_text(subset))
        if len(transactions) != len(subset):
            raise DetailsMismatchError(f"{len(transactions)} entries read, {len(subset)} expected")
        for index, entry, transaction in zip(german, subset, transactions, strict=True):
            signed = -entry.amount if entry.mark in ("D", "RC") else entry.amount
            if transaction.data["amount"].amount != signed:  # pragma: no cover - a guard
                raise DetailsMismatchError(f"an amount read as {transaction.data['amount']}")
            parsed[index] = transaction.data
    return [_details(entry.details, parsed.get(index, {})) for index, entry in enumerate(entries)]


def _details(raw: str, data: dict[str, Any]) -> Details:
    if not raw:
        return Details()
    if "transaction_code" in data and "transaction_details" not in data:
        return _german(data)
    joined = raw.replace("\n", "")
    if _SWIFT_CODE.search(joined) and joined.lstrip().startswith("/"):
        return _swift(joined, raw)
    return Details(remittance=clean(raw))


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return clean(value) if isinstance(value, str) else ""


def _account(text: str) -> str:
    """An IBAN normalised, any other account number as written (spaces removed)."""
    return iban_or_none(text) or "".join(text.split())


def _german(data: dict[str, Any]) -> Details:
    remittance = _text(data, "purpose")
    account = _text(data, "applicant_iban") or _text(data, "gvc_applicant_iban")
    return Details(
        counterparty_name=_text(data, "applicant_name"),
        counterparty_iban=_account(account) if account else "",
        remittance=remittance,
        structured_reference=_creditor_reference(remittance),
        end_to_end_id=_text(data, "end_to_end_reference"),
    )


def _swift(text: str, raw: str) -> Details:
    """``/CODE/value/CODE/value...``: each value runs to the next code. Without a
    ``/REMI/`` the whole text is the remittance (a bank's own codes may hold it)."""
    codes: dict[str, str] = {}
    matches = list(_SWIFT_CODE.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        codes.setdefault(match.group(1), text[match.end() : end])
    name = codes.get("NAME", "").strip("/")
    account = codes.get("IBAN", "").strip("/")
    if "CNTP" in codes:  # account/BIC/name/city
        parts = codes["CNTP"].split("/")
        account = account or parts[0]
        name = name or (parts[2] if len(parts) > 2 else "")
    remittance, reference = _remi(codes["REMI"]) if "REMI" in codes else (clean(raw), "")
    return Details(
        counterparty_name=clean(name),
        counterparty_iban=_account(account) if account.strip() else "",
        remittance=remittance,
        structured_reference=reference or _creditor_reference(remittance),
        end_to_end_id=clean(codes.get("EREF", "").strip("/")),
    )


def _remi(value: str) -> tuple[str, str]:
    """(unstructured text, structured reference) of a ``/REMI/`` value."""
    if value.startswith("USTD/"):
        return clean(value[5:].strip("/")), ""
    if value.startswith("STRD/"):
        parts = [p for p in value[5:].split("/") if p]
        reference = clean(parts[-1]) if parts else ""
        return reference, reference
    return clean(value.strip("/")), ""


def _creditor_reference(text: str) -> str:
    """An ISO 11649 creditor reference (``RF18 5390 0754 7034``) when that is the
    whole remittance and its check digits are right, else ""."""
    compact = "".join(text.split()).upper()
    if not _CREDITOR_REFERENCE.fullmatch(compact):
        return ""
    rearranged = compact[4:] + compact[:4]
    if int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 != 1:
        return ""
    return compact
