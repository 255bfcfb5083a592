"""Who paid: known accounts, a memory that learns, names written any way, groups.

* **Known accounts**: OPEN_ITEMS.csv says which IBAN each customer pays from.
* **Memory** (:class:`PayerMemory`): payer account or name -> customer, counted from
  confirmed matches (:meth:`PayerMemory.learned`). It is a value: learning returns a
  new memory, so a host stores it like any other record.
* **Names**: :func:`name_key` folds accents, case, punctuation and legal forms
  (``Müller GmbH & Co. KG`` -> ``MULLER``); :func:`name_similarity` is the Dice
  coefficient of character trigrams (standard library only, no new dependency).
* **Groups**: a parent company pays for its subsidiaries; the policy's group map
  (parent customer id -> subsidiaries) lets the parent's account vouch for them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

import attrs

__all__ = [
    "LEGAL_FORMS",
    "PayerMemory",
    "name_key",
    "name_similarity",
    "normalise_account",
    "trigrams",
]

#: Words left out of names before they are compared (legal forms and fillers).
LEGAL_FORMS: Final = frozenset(
    {
        "AB", "AG", "AND", "AS", "BV", "CIE", "CO", "COMPANY", "CORP", "CORPORATION", "DBA",
        "EG", "EK", "ET", "EV", "GBR", "GMBH", "INC", "KG", "KGAA", "LIMITED",
        "LLC", "LLP", "LTD", "MBH", "NV", "OG", "OHG", "OY", "PLC", "PTY", "SA", "SARL",
        "SAS", "SE", "SL", "SNC", "SPA", "SRL", "THE", "UG", "UND",
    }
)  # fmt: skip
_WORD: Final = re.compile(r"[0-9A-Z]+")
_MAX_NAME: Final = 256


def normalise_account(account: str) -> str:
    """An account identifier as compared: no spaces, upper case (not validated).

    >>> normalise_account("de89 3704 0044 0532 0130 00")
    'DE89370400440532013000'
    """
    return "".join(account.split()).upper()


def name_key(name: str) -> str:
    """A name folded for comparison: accents, case, punctuation and legal forms gone.

    >>> name_key("Müller GmbH & Co. KG"), name_key("  ACME corp. ")
    ('MULLER', 'ACME')
    """
    name = name[:_MAX_NAME]
    if name.isascii():
        plain = name.upper()
    else:
        folded = unicodedata.normalize("NFKD", name)
        plain = "".join(ch for ch in folded if not unicodedata.combining(ch)).upper()
    # "S.A." and "e.K." are one word each: dots go before the words are cut.
    words = [w for w in _WORD.findall(plain.replace(".", "")) if w not in LEGAL_FORMS]
    return " ".join(words)


def trigrams(key: str) -> frozenset[str]:
    """Character trigrams of a name key, padded so short names still have some."""
    padded = f"  {key} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def name_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice coefficient of two trigram sets (1.0 the same, 0.0 nothing shared).

    >>> round(name_similarity(trigrams("ACME TRADING"), trigrams("ACME TRADNG")), 2)
    0.8
    """
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


# --------------------------------------------------------------------------- memory


def _frozen_counts(value: Mapping[str, Mapping[str, int]]) -> Mapping[str, Mapping[str, int]]:
    return MappingProxyType({k: MappingProxyType(dict(v)) for k, v in value.items()})


@attrs.frozen
class PayerMemory:
    """Which customers a payer's account or name has paid for, and how often.

    Attributes:
        accounts: Normalised account -> customer id -> confirmed matches.
        names: Name key (:func:`name_key`) -> customer id -> confirmed matches.
    """

    accounts: Mapping[str, Mapping[str, int]] = attrs.field(factory=dict, converter=_frozen_counts)
    names: Mapping[str, Mapping[str, int]] = attrs.field(factory=dict, converter=_frozen_counts)

    def learned(self, confirmations: Iterable[tuple[str, str, str]]) -> PayerMemory:
        """A memory that also knows ``(account, name, customer_id)`` confirmations.

        Empty accounts or names are skipped; each confirmation counts once.

        >>> m = PayerMemory().learned([("DE89 3704", "Acme GmbH", "C1")])
        >>> dict(m.accounts["DE893704"]), dict(m.names["ACME"])
        ({'C1': 1}, {'C1': 1})
        """
        accounts = {k: dict(v) for k, v in self.accounts.items()}
        names = {k: dict(v) for k, v in self.names.items()}
        for account, name, customer_id in confirmations:
            if not customer_id:
                continue
            acc = normalise_account(account)
            if acc:
                counts = accounts.setdefault(acc, {})
                counts[customer_id] = counts.get(customer_id, 0) + 1
            key = name_key(name)
            if key:
                counts = names.setdefault(key, {})
                counts[customer_id] = counts.get(customer_id, 0) + 1
        return PayerMemory(accounts=accounts, names=names)

    def for_account(self, account: str) -> Mapping[str, int]:
        """Customers this (normalised) account paid for, with counts."""
        return self.accounts.get(account, _EMPTY)

    def for_name(self, key: str) -> Mapping[str, int]:
        """Customers this name key paid for, with counts."""
        return self.names.get(key, _EMPTY)


_EMPTY: Final[Mapping[str, int]] = MappingProxyType({})
