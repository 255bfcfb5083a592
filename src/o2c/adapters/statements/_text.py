"""What the text readers (MT940, CSV) share: bounded input, strict decoding, positions.

Every function here raises a :class:`~o2c.errors.StatementFormatError` (or a subclass)
whose ``position`` says where, for people: ``"byte 1234"`` before the bytes are text,
``"line 12, column 5"`` after.
"""

from __future__ import annotations

import codecs
import re
from typing import Final

from o2c.cash import normalise_iban
from o2c.errors import (
    CashFieldError,
    StatementEncodingError,
    StatementFormatError,
    StatementTooLargeError,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FALLBACK_ENCODING",
    "check_bytes",
    "check_characters",
    "clean",
    "decode",
    "iban_or_none",
    "position",
    "split_lines",
]

#: Larger files are refused unread (the same limit as the camt reader's).
DEFAULT_MAX_BYTES: Final = 50 * 1024 * 1024
#: Tried when undeclared bytes are not UTF-8 (see :func:`decode`).
FALLBACK_ENCODING: Final = "cp1252"

_UTF8_BOM: Final = b"\xef\xbb\xbf"
_OTHER_BOMS: Final = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xfe\xff", "UTF-16"),
    (b"\xff\xfe", "UTF-16"),
)
# Control characters a statement never holds: C0 except tab, line feed and carriage
# return, DEL, and C1 (what Latin-1 makes of stray 0x80-0x9f bytes).
_CONTROL: Final = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAK: Final = re.compile(r"\r\n|\r|\n")
_SPACES: Final = re.compile(r"\s+")


def check_bytes(data: object, fmt: str, max_bytes: int) -> bytes:
    """The input as ``bytes``, refused when it is not bytes or is over ``max_bytes``.

    Raises:
        StatementTooLargeError: larger than ``max_bytes`` (nothing was read).
        StatementFormatError: not bytes.
    """
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise StatementFormatError(
            "a statement is read from bytes",
            format=fmt,
            position="(input)",
            reason=f"got {type(data).__name__}, not bytes",
        )
    if len(data) > max_bytes:
        raise StatementTooLargeError(
            format=fmt,
            position=f"byte {max_bytes}",
            reason=f"{len(data)} bytes is over the limit of {max_bytes}",
            size=len(data),
            limit=max_bytes,
        )
    return data


def decode(data: bytes, fmt: str, encoding: str | None) -> str:
    """Bytes to text, strictly.

    * A UTF-8 byte order mark declares UTF-8: the rest must be valid UTF-8.
    * ``encoding`` given: the bytes must be valid in it (``"utf-8"`` refuses anything
      that is not UTF-8).
    * ``encoding`` None: UTF-8 if the bytes are valid UTF-8, else Windows-1252 (the
      usual encoding of European bank exports that are not UTF-8; its five undefined
      bytes are refused).

    UTF-16 and UTF-32 (by their byte order marks) are refused.

    Raises:
        StatementEncodingError: invalid bytes (``position`` is the byte offset), a
            UTF-16/32 file, or an unknown encoding name.
    """
    for bom, name in _OTHER_BOMS:
        if data.startswith(bom):
            raise StatementEncodingError(
                f"{name} files are not read",
                format=fmt,
                position="byte 0",
                reason=f"{name} byte order mark; save the file as UTF-8",
            )
    if data.startswith(_UTF8_BOM):
        return _decode(data[len(_UTF8_BOM) :], "utf-8", fmt, offset=len(_UTF8_BOM))
    if encoding is not None:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            raise StatementEncodingError(
                f"unknown encoding {encoding!r}",
                format=fmt,
                position="(input)",
                reason=f"{encoding!r} is not an encoding Python knows",
            ) from None
        return _decode(data, name, fmt)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as not_utf8:
        try:
            return data.decode(FALLBACK_ENCODING)
        except UnicodeDecodeError as exc:
            raise StatementEncodingError(
                "the file is neither UTF-8 nor Windows-1252",
                format=fmt,
                position=f"byte {exc.start}",
                reason=(
                    f"byte 0x{data[not_utf8.start]:02x} at {not_utf8.start} is not UTF-8 and "
                    f"byte 0x{data[exc.start]:02x} at {exc.start} is not Windows-1252"
                ),
                offset=exc.start,
            ) from None


def _decode(data: bytes, encoding: str, fmt: str, *, offset: int = 0) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        at = offset + exc.start
        raise StatementEncodingError(
            f"the file is not valid {encoding}",
            format=fmt,
            position=f"byte {at}",
            reason=f"byte 0x{data[exc.start]:02x} at {at} is not valid {encoding}",
            offset=at,
        ) from None


def split_lines(text: str) -> list[str]:
    """Lines, however they end (CR LF, LF or a lone CR); no other character breaks a
    line (unlike :meth:`str.splitlines`, which also breaks at U+2028 and others)."""
    return _LINE_BREAK.split(text)


def position(lines_before: int, column: int) -> str:
    """``"line L, column C"`` (both 1-based) for people."""
    return f"line {lines_before}, column {column}"


def check_characters(text: str, fmt: str) -> None:
    """Refuse NUL and other control characters (tab and line breaks are allowed).

    Raises:
        StatementFormatError: with the line and column of the first one.
    """
    found = _CONTROL.search(text)
    if found is None:
        return
    index = found.start()
    line = text.count("\n", 0, index) + text.count("\r", 0, index) - text.count("\r\n", 0, index)
    start = max(text.rfind("\n", 0, index), text.rfind("\r", 0, index)) + 1
    raise StatementFormatError(
        "the file holds a control character",
        format=fmt,
        position=position(line + 1, index - start + 1),
        reason=f"control character U+{ord(found.group()):04X}",
        line=line + 1,
        column=index - start + 1,
    )


def clean(text: str) -> str:
    """Text with every run of white space (line breaks, tabs) made one space, stripped."""
    return _SPACES.sub(" ", text).strip()


def iban_or_none(text: str) -> str | None:
    """The normalised IBAN when ``text`` is one (mod-97 checked), else None."""
    if not text or len(text) > 64:
        return None
    try:
        return normalise_iban(text)
    except CashFieldError:
        return None
