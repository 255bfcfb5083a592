"""One entry point for every statement format, telling them apart by content.

>>> from o2c.adapters.statements.detect import read_statement
>>> (statement,) = read_statement(b":20:S1\\n:25:DE89370400440532013000\\n:28C:1\\n"
...     b":60F:C260301EUR0,00\\n:61:260302C5,00NTRFNONREF//B1\\n:62F:C260302EUR5,00\\n-")
>>> statement.source_format, statement.entries[0].line_id
('mt940', 'B1')
"""

from __future__ import annotations

import re
from typing import Final

from o2c.adapters.statements._text import DEFAULT_MAX_BYTES, check_bytes
from o2c.adapters.statements.csv_reader import CsvMapping, read_csv
from o2c.errors import ConfigurationError, UnsupportedStatementError
from o2c.statements import Statement

__all__ = ["FORMATS", "detect_format", "read_statement"]

#: The ``format`` values :func:`read_statement` accepts.
FORMATS: Final = ("auto", "csv", "camt053", "camt052", "camt054", "mt940")

_HEAD: Final = 4096
_MT940: Final = re.compile(rb"(?m)^(?:\x01)?(?:\{1:|:20:|:940:)")
_ARCHIVES: Final = (
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"%PDF", "a PDF document"),
)
_CSV_DELIMITERS: Final = (b",", b";", b"\t", b"|")


def detect_format(data: bytes) -> str:
    """``"camt"``, ``"mt940"`` or ``"csv"``, from the first bytes.

    XML is camt (the camt reader then says which message and version); a SWIFT
    envelope or a ``:20:`` line is MT940; a first line with a delimiter is CSV.

    Raises:
        UnsupportedStatementError: an archive, a PDF, or none of the three.
    """
    head = data[:_HEAD]
    for magic, what in _ARCHIVES:
        if head.startswith(magic):
            raise UnsupportedStatementError(
                f"the file is {what}, not a statement",
                format="auto",
                position="byte 0",
                reason=f"{what}: unpack or export the statement file itself",
            )
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<"):
        return "camt"
    if _MT940.search(text):
        return "mt940"
    first = text.split(b"\n", 1)[0]
    if any(d in first for d in _CSV_DELIMITERS):
        return "csv"
    raise UnsupportedStatementError(
        "the statement's format cannot be told",
        format="auto",
        position="byte 0",
        reason="not XML (camt), not MT940 (no ':20:' or SWIFT block), not CSV (no delimiter)",
    )


def read_statement(
    data: bytes,
    format: str = "auto",
    *,
    csv_mapping: CsvMapping | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    encoding: str | None = None,
) -> tuple[Statement, ...]:
    """Read a bank statement file of any supported format.

    Args:
        data: The file's bytes.
        format: ``"auto"`` (by content), ``"csv"``, ``"camt053"``, ``"camt052"``,
            ``"camt054"`` or ``"mt940"``. A named camt message must be that message.
        csv_mapping: The CSV layout (default :data:`~o2c.adapters.statements.
            csv_reader.STATEMENT_CSV`); CSV is read only with ``format="csv"`` or when
            detected.
        max_bytes: Larger files are refused unread.
        encoding: MT940 only: the bank's encoding (see
            :func:`~o2c.adapters.statements.mt940.read_mt940`). CSV files use the
            mapping's; camt files are UTF-8.

    Raises:
        ConfigurationError: an unknown ``format``.
        UnsupportedStatementError: the format cannot be told, or the camt message is
            not the one named.
        StatementFormatError: (and its subclasses) from the reader.
    """
    if format not in FORMATS:
        raise ConfigurationError(
            f"unknown statement format {format!r}", setting="format", value=format
        )
    raw = check_bytes(data, format, max_bytes)
    kind = detect_format(raw) if format == "auto" else format
    # The MT940 and camt readers need their extras (o2c[mt940], o2c[camt]): imported
    # only when a file of theirs comes.
    if kind == "mt940":
        from o2c.adapters.statements.mt940 import read_mt940  # noqa: PLC0415

        return read_mt940(raw, encoding=encoding, max_bytes=max_bytes)
    if kind == "csv":
        return read_csv(raw, csv_mapping, max_bytes=max_bytes)
    from o2c.adapters.statements.camt import read_camt  # noqa: PLC0415

    statements = read_camt(raw, max_bytes=max_bytes)
    if kind != "camt":
        wanted = f"camt.{kind[4:]}"
        for statement in statements:
            if not statement.source_format.startswith(wanted):
                raise UnsupportedStatementError(
                    f"the file is {statement.source_format}, not {wanted}",
                    format=statement.source_format,
                    position=f"statement {statement.statement_id}",
                    reason=f"format={format!r} was asked for",
                )
    return statements
