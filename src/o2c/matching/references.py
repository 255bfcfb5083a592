"""Invoice numbers found in free text, whatever the payer did to them.

Payers quote ``INV-2026-000123`` as ``inv 2026 123``, ``INV2026000123``,
``Rechnung 2026/000123`` or ``2026-123``, often with several invoices on one line and
among dates, amounts and order numbers. Both sides are reduced to the same *keys*:

* **raw**: letters and digits only, upper case (``INV2026000123``);
* **stripped**: the same after the leading zeros of every digit group are dropped,
  where a group starts after a letter or a separator (``INV2026123``);
* **bare**: either of the two without the leading letters (``2026000123``,
  ``2026123``), for payers who leave the prefix off.

An invoice is indexed under its keys; a text is cut into alphanumeric tokens, and the
runs of up to :data:`MAX_WINDOW` adjacent tokens (joined across short separators,
never across ``,`` or ``;``) are looked up, so ``INV 2026 000123`` and
``INV-2026-000123`` find the same invoice. Dates (``2026-03-12``, ``12.03.2026``,
``12/03/26``) are masked first: with leading zeros dropped they read like invoice
numbers (so an invoice number shaped like a date is not found in text). A hit inside a
longer hit is dropped (the ``2026-000123`` inside ``INV-2026-000123`` is not a second
reference).

ISO 11649 structured references (``RF18 5390 0754 7034``) are checked by their
mod-97 check digits (:func:`is_valid_rf`); the payload of a valid one is looked up
like any text.

A reference *one edit away* (:func:`one_edit_apart`: one character added, dropped,
changed, or two neighbours swapped) is never a hit here: the engine tries it only
against invoices that something else (the amount, the payer) already points at,
because a typo can name another real invoice.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Final

__all__ = [
    "MAX_WINDOW",
    "Hit",
    "ReferenceIndex",
    "Window",
    "is_valid_rf",
    "one_edit_apart",
    "reference_keys",
    "rf_reference",
    "scan",
    "window_text",
]

#: Most adjacent tokens joined into one candidate reference.
MAX_WINDOW: Final = 4
#: Shortest key that is indexed or looked up (shorter ones are everywhere in text).
MIN_KEY_LENGTH: Final = 4
#: Bare (letterless) keys shorter than this are weak evidence: dates and amounts look alike.
SHORT_BARE_LENGTH: Final = 6
#: Shortest run of text tried one edit away from an invoice number.
MIN_FUZZY_LENGTH: Final = 6
#: Longest text scanned per line (remittance fields are 140 characters a part).
MAX_TEXT_LENGTH: Final = 4096

_LETTERS: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_NON_ALNUM: Final = re.compile(r"[^0-9A-Z]+")
_NON_ALNUM_LINES: Final = re.compile(r"[^0-9A-Z\n]+")
_LEADING_ZEROS: Final = re.compile(r"(?<![0-9])0+(?=[0-9])")
_TOKEN: Final = re.compile(r"[0-9A-Za-z]+")
_TOKEN_GAP: Final = re.compile(r"([0-9A-Za-z]+)([^0-9A-Za-z]*)")
_DATE_HINT: Final = re.compile(r"[0-9][./-][0-9]{1,2}[./-][0-9]")
_LETTER_AFTER_DIGIT: Final = re.compile(r"[0-9][A-Z]")
_DIGIT: Final = re.compile(r"[0-9]")
_RF: Final = re.compile(r"RF[0-9]{2}[0-9A-Z]{1,21}")
_RF_START: Final = re.compile(r"RF[0-9]{2}")
_GAP_CHARS: Final = " -/._:#"
# Dates are masked before scanning: "2026-03-12" would otherwise read as INV-2026-000312.
_DATE: Final = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}|[0-9]{1,2}[./][0-9]{1,2}[./][0-9]{2,4})"
    r"(?![0-9A-Za-z])"
)


def reference_keys(number: str) -> tuple[str, ...]:
    """The keys an invoice number is found under (raw, stripped, and both bare).

    Keys shorter than :data:`MIN_KEY_LENGTH` or without a digit are left out.

    >>> reference_keys("INV-2026-000123")
    ('INV2026000123', 'INV2026123', '2026000123', '2026123')
    """
    up = number.upper()
    raw = _NON_ALNUM.sub("", up)
    stripped = _NON_ALNUM.sub("", _LEADING_ZEROS.sub("", up))
    keys: list[str] = []
    for key in (raw, stripped, raw.lstrip(_LETTERS), stripped.lstrip(_LETTERS)):
        if key not in keys and len(key) >= MIN_KEY_LENGTH and _DIGIT.search(key):
            keys.append(key)
    return tuple(keys)


def _bulk_keys(numbers: Sequence[str]) -> tuple[list[str], list[str]]:
    # A few regex passes over all numbers joined (C speed); "\n" is a non-digit, so the
    # lookbehind sees each number's start as a group start, like reference_keys.
    text = "\n".join(n.replace("\n", " ") for n in numbers).upper()
    raw = _NON_ALNUM_LINES.sub("", text).split("\n")
    stripped = _NON_ALNUM_LINES.sub("", _LEADING_ZEROS.sub("", text)).split("\n")
    return raw, stripped


def is_valid_rf(reference: str) -> bool:
    """True for an ISO 11649 creditor reference with correct check digits.

    Spaces are ignored and case does not matter.

    >>> is_valid_rf("RF18 5390 0754 7034"), is_valid_rf("RF19 5390 0754 7034")
    (True, False)
    """
    ref = reference.replace(" ", "").upper()
    if not _RF.fullmatch(ref):
        return False
    return _mod97(ref[4:] + ref[:4]) == 1


def rf_reference(payload: str) -> str:
    """The ISO 11649 reference ``RFnn<payload>`` for ``payload`` (letters and digits).

    >>> rf_reference("539007547034")
    'RF18539007547034'
    """
    body = _NON_ALNUM.sub("", payload.upper())
    if not body or len(body) > 21:
        raise ValueError("an RF payload has 1 to 21 letters or digits")
    check = 98 - _mod97(body + "RF00")
    return f"RF{check:02d}{body}"


def _mod97(text: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in text)) % 97


def one_edit_apart(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by exactly one edit: a character inserted,
    deleted or replaced, or two adjacent characters swapped.

    >>> one_edit_apart("INV2026124", "INV2026123"), one_edit_apart("INV2026213", "INV2026123")
    (True, True)
    """
    la, lb = len(a), len(b)
    if a == b or abs(la - lb) > 1:
        return False
    if la > lb:
        a, b, la, lb = b, a, lb, la
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True  # replaced
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    return a[i:] == b[i + 1 :]  # b has one character more


# --------------------------------------------------------------------------- the index


class Hit:
    """Open items a run of text names.

    Attributes:
        ids: Item positions in the index (one, or several when invoices share a key).
        seen: The text as the payer wrote it.
        key: The key it matched.
        short: True for a short all-digit key (dates and amounts look alike).
        structured: True when it came from a valid ISO 11649 reference.
    """

    __slots__ = ("ids", "key", "seen", "short", "structured")

    def __init__(
        self,
        ids: tuple[int, ...],
        seen: str,
        key: str,
        *,
        short: bool = False,
        structured: bool = False,
    ) -> None:
        self.ids = ids
        self.seen = seen
        self.key = key
        self.short = short
        self.structured = structured

    def __repr__(self) -> str:
        return f"Hit({self.ids!r}, {self.seen!r}, {self.key!r})"


#: A run of text that looks like a reference: ``(raw key, stripped key, tokens as written,
#: first token, last token)``; :func:`window_text` gives the text as written.
Window = tuple[str, str, list[tuple[str, str]], int, int]


def window_text(window: Window) -> str:
    """The text of a window as the payer wrote it."""
    _raw, _stripped, written, i, j = window
    return _seen(written, i, j)


class ReferenceIndex:
    """Keys of invoice numbers to item positions; built once, looked up per line.

    Building is a handful of C-speed passes (regexes over all numbers joined, dict
    construction from zips) and one Python pass to find keys shared by invoices.
    """

    __slots__ = (
        "_keys",
        "_multi",
        "letters_inside",
        "max_length",
        "prefixes",
        "raw_keys",
        "stripped_keys",
    )

    def __init__(self, numbers: Sequence[str]) -> None:
        raw, stripped = _bulk_keys(numbers)
        bare_raw = [r.lstrip(_LETTERS) for r in raw]
        bare_stripped = [s.lstrip(_LETTERS) for s in stripped]
        ids = range(len(raw))
        variants = (bare_stripped, bare_raw, stripped, raw)
        keys: dict[str, int] = {}
        for variant in variants:  # later variants win: raw keys first
            keys.update(zip(variant, ids, strict=True))
        multi: dict[str, set[int]] = {}
        for variant in variants:
            for key, i in zip(variant, ids, strict=True):
                j = keys[key]
                if j != i:
                    multi.setdefault(key, {j}).add(i)
        for key in [k for k in keys if len(k) < MIN_KEY_LENGTH or k.isalpha()]:
            del keys[key]
            multi.pop(key, None)
        self._keys = keys
        self._multi = {k: tuple(sorted(v)) for k, v in multi.items()}
        self.prefixes = frozenset(
            r[: len(r) - len(b)] for r, b in zip(raw, bare_raw, strict=True) if len(b) != len(r)
        )
        self.max_length = max(map(len, raw), default=0)
        #: Per item: its raw and stripped key (for the one-edit-away check).
        self.raw_keys = raw
        self.stripped_keys = stripped
        # Do letters ever follow digits in a number ("2026-A-17")? If not, a run of
        # text never continues into a word.
        self.letters_inside = any(_LETTER_AFTER_DIGIT.search(r) for r in bare_raw)

    def lookup(self, key: str) -> tuple[int, ...]:
        """Item positions filed under ``key`` (ascending)."""
        found = self._keys.get(key)
        if found is None:
            return ()
        return self._multi.get(key) or (found,)

    def collisions(self) -> Counter[str]:
        """Keys shared by several invoices (e.g. ``INV-0123`` and ``INV-123``)."""
        return Counter({k: len(v) for k, v in self._multi.items()})


def scan(
    texts: Iterable[str], index: ReferenceIndex, *, windows: list[Window] | None = None
) -> list[Hit]:
    """Every invoice reference found in ``texts``, in the order written.

    Args:
        texts: Remittance, structured reference, end-to-end id ...
        index: The invoices.
        windows: When given, filled with every run of at least
            :data:`MIN_FUZZY_LENGTH` characters that looks like a reference (for the
            one-edit-away check).
    """
    # One pass over all the texts: ";" between them is never joined across.
    text = " ; ".join(t[:MAX_TEXT_LENGTH] for t in texts if t and _DIGIT.search(t))
    if not text:  # every key has a digit
        return []
    hits: list[Hit] = []
    seen: set[tuple[int, ...]] = set()
    for hit in _scan_one(text, index, windows):
        if hit.ids not in seen:
            seen.add(hit.ids)
            hits.append(hit)
    return hits


def _rf_at(tokens: list[str], gaps: list[str], i: int) -> int:
    """How many tokens from ``i`` form a valid RF reference (0: none)."""
    joined = tokens[i]
    best = 1 if is_valid_rf(joined) else 0
    for j in range(i + 1, min(len(tokens), i + 7)):
        if gaps[j - 1] != " ":
            break
        joined += tokens[j]
        if len(joined) > 25:
            break
        if is_valid_rf(joined):
            best = j - i + 1
    return best


def _strip_token(token: str) -> str:
    """A token without the leading zeros of its digit groups (``000123`` -> ``123``)."""
    if token.isdigit():
        return token.lstrip("0") or "0"
    return _LEADING_ZEROS.sub("", token)


def _mask_date(m: re.Match[str]) -> str:
    return " " * (m.end() - m.start())


def _seen(written: list[tuple[str, str]], i: int, j: int) -> str:
    """The text of tokens ``i..j`` as written (gaps included)."""
    parts = [written[k][0] + written[k][1] for k in range(i, j)]
    return "".join(parts) + written[j][0]


def _scan_rf(
    tokens: list[str],
    gaps: list[str],
    *,
    written: list[tuple[str, str]],
    i: int,
    index: ReferenceIndex,
    windows: list[Window] | None,
    found: list[tuple[int, int, Hit]],
) -> int:
    """Hits of the RF reference starting at token ``i``; the tokens it spans (0: invalid)."""
    width = _rf_at(tokens, gaps, i)
    if width:
        payload = "".join(tokens[i : i + width])[4:]
        seen = _seen(written, i, i + width - 1)
        for hit in _scan_one(payload, index, None):
            hit.structured = True
            hit.seen = seen
            found.append((i, i + width, hit))
        return width
    # Wrong check digits: the payload may still be a reference, not a vouched one.
    found.extend((i, i + 1, hit) for hit in _scan_one(tokens[i][4:], index, windows))
    return 0


def _scan_one(text: str, index: ReferenceIndex, windows: list[Window] | None) -> list[Hit]:
    masked = _DATE.sub(_mask_date, text) if _DATE_HINT.search(text) else text
    written = _TOKEN_GAP.findall(masked)  # [(token as written, gap after it)]
    tokens = [t.upper() for t, _g in written]
    gaps = [g for _t, g in written]
    n = len(tokens)
    found: list[tuple[int, int, Hit]] = []
    longest = index.max_length
    prefixes = index.prefixes
    keys = index._keys
    multi = index._multi
    stripped_tokens = [_strip_token(t) if "0" in t else t for t in tokens]
    joinable = [False] + [
        0 < len(g) <= 2 and not g.strip(_GAP_CHARS) for g in gaps[:-1]
    ]  # joinable[j]: token j may continue a run
    words_end = not index.letters_inside
    skip_until = 0
    for i in range(n):
        if i < skip_until:
            continue
        tok = tokens[i]
        if tok.isalpha():
            if tok not in prefixes:
                continue
        elif tok.startswith("RF") and _RF_START.match(tok):
            width = _scan_rf(
                tokens, gaps, written=written, i=i, index=index, windows=windows, found=found
            )
            if width:
                skip_until = i + width
                continue
        raw = ""
        stripped = ""
        for j in range(i, min(n, i + MAX_WINDOW)):
            if j > i and (not joinable[j] or (words_end and tokens[j].isalpha())):
                break
            raw += tokens[j]
            stripped += stripped_tokens[j]
            if len(stripped) > longest + 1:
                break
            if len(raw) < MIN_KEY_LENGTH or raw.isalpha():
                continue
            key = raw
            first = keys.get(raw)
            if first is None and stripped != raw:
                key = stripped
                first = keys.get(stripped)
            if first is not None:
                ids = multi.get(key) or (first,)
                short = len(key) < SHORT_BARE_LENGTH and key.isdigit()
                found.append((i, j + 1, Hit(ids, _seen(written, i, j), key, short=short)))
            if windows is not None and len(raw) >= MIN_FUZZY_LENGTH:
                windows.append((raw, stripped, written, i, j))
    if len(found) < 2:
        return [hit for _s, _e, hit in found]
    # A hit inside a longer one is part of it, not a reference of its own.
    return [
        hit
        for (s, e, hit) in found
        if not any(s2 <= s and e <= e2 and e2 - s2 > e - s for (s2, e2, _h) in found)
    ]
