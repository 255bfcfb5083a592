"""Safe XML for the statement readers: hostile input is refused with a position.

* The size cap is checked before anything is parsed.
* The bytes must be UTF-8 (a UTF-8 BOM is allowed); they are checked in bounded
  chunks before parsing, so an invalid byte is reported with its line, column and
  byte offset.
* Parsing uses defusedxml's parser with DTDs, entity declarations and external
  references forbidden (billion laughs, quadratic blowup, XXE), and refuses XInclude
  elements. No entity is ever expanded beyond the five predefined ones and
  character references.
* Depth and element count are bounded; a subclass may consume finished elements as
  the parse goes (see :meth:`SafeXMLReader.element_end`) so that memory stays bounded
  by one entry, not by the file.

The tree is a light one (:class:`Node`): local names for elements of the document's
own namespace, ``{namespace}local`` for any other, each with its line and column.
"""

from __future__ import annotations

import re
from typing import Any, Final

from o2c.errors import (
    StatementEncodingError,
    StatementFormatError,
    StatementTooLargeError,
    UnsafeStatementError,
    UnsupportedStatementError,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_ELEMENTS",
    "Node",
    "SafeXMLReader",
    "check_bytes",
    "xml_strip",
]

#: Largest file read by default (50 MiB); larger ones are refused before parsing.
DEFAULT_MAX_BYTES: Final = 50 * 1024 * 1024
#: Deepest element nesting accepted (camt needs about 15).
DEFAULT_MAX_DEPTH: Final = 100
#: Most elements held at once (elements a reader has consumed, such as finished
#: entries, no longer count); bounds memory to roughly 150 bytes per element.
DEFAULT_MAX_ELEMENTS: Final = 500_000

_XINCLUDE: Final = frozenset({"http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude"})
_UTF8_BOM: Final = b"\xef\xbb\xbf"
_OTHER_BOMS: Final = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xfe\xff", "UTF-16"),
    (b"\xff\xfe", "UTF-16"),
)
_NOT_XML: Final = (
    (b"PK\x03\x04", "a ZIP archive; unpack it and read each file on its own"),
    (b"\x1f\x8b", "a gzip archive; unpack it and read the file inside"),
    (b"%PDF", "a PDF document; ask the bank for the camt XML file"),
)
_CHUNK: Final = 1 << 20
_DECLARED_ENCODING: Final = re.compile(
    rb"\A<\?xml[^>]{0,200}?encoding\s*=\s*[\"']([^\"']{0,40})[\"']"
)
_XML_SPACE: Final = " \t\r\n"
_BLANK: Final = re.compile(rb"[ \t\r\n]*\Z")
_NO_ATTRIBUTES: Final[dict[str, str]] = {}  # shared, never written


def xml_strip(text: str) -> str:
    """Strip XML white space (space, tab, CR, LF) only, never other Unicode spaces."""
    return text.strip(_XML_SPACE)


class Node:
    """One element: its name, attributes, text (leaf elements only), children and
    where it starts (1-based line and column)."""

    __slots__ = ("attrib", "children", "column", "line", "live_before", "name", "text")

    def __init__(self, name: str, attrib: dict[str, str], line: int, column: int) -> None:
        self.name = name
        self.attrib = attrib
        self.line = line
        self.column = column
        self.text = ""
        self.children: list[Node] = []
        # Elements held before this one started (the reader's memory accounting).
        self.live_before = 0

    def child(self, *path: str) -> Node | None:
        """The first element along ``path`` (local names), or None."""
        node = self
        for name in path:
            for child in node.children:
                if child.name == name:
                    node = child
                    break
            else:
                return None
        return node

    def all(self, name: str) -> list[Node]:
        """Every child called ``name``, in document order."""
        return [c for c in self.children if c.name == name]

    def text_at(self, *path: str) -> str:
        """The stripped text of the element along ``path``; ``""`` when absent."""
        node = self.child(*path)
        return "" if node is None else xml_strip(node.text)

    def where(self) -> str:
        """``line L, column C`` of the start tag."""
        return f"line {self.line}, column {self.column}"


def _line_column(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return line, column


def check_bytes(data: object, *, fmt: str, max_bytes: int) -> bytes:
    """The size, encoding and kind checks every XML statement passes before parsing.

    Returns the bytes to parse (a ``bytearray`` or ``memoryview`` becomes ``bytes``).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise StatementFormatError(
            f"pass the file's bytes, not {type(data).__name__}",
            format=fmt,
            position="(input)",
            reason=f"expected bytes, got {type(data).__name__}",
        )
    size = len(data) if not isinstance(data, memoryview) else data.nbytes
    if size > max_bytes:
        raise StatementTooLargeError(
            format=fmt,
            position=f"byte {max_bytes}",
            reason=f"{size} bytes is over the limit of {max_bytes}",
            size=size,
            limit=max_bytes,
        )
    raw = bytes(data)
    if _BLANK.match(raw):
        raise StatementFormatError(
            format=fmt, position="byte 0", reason="the file is empty (no XML document)"
        )
    for magic, what in _NOT_XML:
        if raw.startswith(magic):
            raise UnsupportedStatementError(
                format=fmt, position="byte 0", reason=f"the file is {what}"
            )
    for bom, name in _OTHER_BOMS:
        if raw.startswith(bom):
            raise StatementEncodingError(
                format=fmt,
                position="byte 0",
                reason=f"the file is {name} (byte order mark); ISO 20022 XML is UTF-8",
            )
    _check_utf8(raw, fmt)
    body = raw[len(_UTF8_BOM) :] if raw.startswith(_UTF8_BOM) else raw
    declared = _DECLARED_ENCODING.match(body)
    if declared is not None and declared.group(1).decode("ascii", "replace").lower() != "utf-8":
        offset = declared.start(1) + (len(raw) - len(body))
        line, column = _line_column(raw, offset)
        raise StatementEncodingError(
            format=fmt,
            position=f"line {line}, column {column}",
            reason=(
                f"the file declares encoding {declared.group(1).decode('ascii', 'replace')!r}; "
                "only UTF-8 is read"
            ),
            line=line,
            column=column,
        )
    return raw


def _check_utf8(data: bytes, fmt: str) -> None:
    """Strict UTF-8 in chunks of 1 MiB (memory stays bounded)."""
    view = memoryview(data)
    pos = 0
    size = len(data)
    while pos < size:
        end = min(pos + _CHUNK, size)
        try:
            str(view[pos:end], "utf-8")
        except UnicodeDecodeError as exc:
            if end < size and exc.reason == "unexpected end of data":
                # A character cut by the chunk boundary: start the next chunk at it.
                pos += exc.start
                continue
            offset = pos + exc.start
            line, column = _line_column(data, offset)
            raise StatementEncodingError(
                format=fmt,
                position=f"line {line}, column {column} (byte {offset})",
                reason=f"invalid UTF-8 byte 0x{data[offset]:02x} ({exc.reason})",
                line=line,
                column=column,
                offset=offset,
            ) from None
        pos = end


class SafeXMLReader:
    """Parse bytes into :class:`Node` values with every safety check on.

    Subclasses override :meth:`root_start` (to refuse a wrong document at its first
    element), :meth:`element_start` and :meth:`element_end` (to consume finished
    elements); both are called only down to :attr:`hook_depth`. The format name in
    errors is :attr:`fmt` (subclasses may refine it once they know the version).
    """

    #: Deepest level at which element_start / element_end are called ...
    hook_depth = 1_000_000
    #: ... and the names for which they are also called below it.
    hook_names: frozenset[str] = frozenset()

    def __init__(self, *, fmt: str, max_depth: int, max_elements: int) -> None:
        self.fmt = fmt
        self.max_depth = max_depth
        self.max_elements = max_elements
        self.namespace = ""
        self.root: Node | None = None
        self._stack: list[Node] = []
        self._chars: list[str] = []
        self._live = 0
        self._names: dict[str, tuple[str, str]] = {}
        self._expat: Any = None

    # -- for subclasses -----------------------------------------------------------

    def root_start(self, namespace: str, name: str, node: Node) -> None:
        """Called at the root's start tag (``name`` is its local name)."""

    def element_start(self, node: Node, depth: int) -> None:
        """Called at every start tag down to :attr:`hook_depth` (the root is depth 1)."""

    def element_end(self, node: Node, depth: int) -> bool:
        """Called at every end tag down to :attr:`hook_depth` with the finished
        element; True drops it from its parent (the subclass has consumed it)."""
        return False

    def parent(self) -> Node | None:
        """The element whose content is being parsed (during :meth:`element_end`,
        the finished element's parent)."""
        return self._stack[-1] if self._stack else None

    def error(self, reason: str, *, line: int, column: int) -> StatementFormatError:
        """A format error at a parser position."""
        return StatementFormatError(
            format=self.fmt,
            position=f"line {line}, column {column}",
            reason=reason,
            line=line,
            column=column,
        )

    # -- parsing ------------------------------------------------------------------

    def parse(self, data: bytes) -> Node:
        """Parse ``data`` (already through :func:`check_bytes`); returns the root."""
        from xml.parsers import expat  # noqa: PLC0415

        from defusedxml import (  # type: ignore[import-untyped]  # noqa: PLC0415 - optional extra
            DTDForbidden,
            EntitiesForbidden,
            ExternalReferenceForbidden,
        )
        from defusedxml.ElementTree import (  # type: ignore[import-untyped]  # noqa: PLC0415
            DefusedXMLParser,
        )

        # defusedxml configures the expat parser: a DTD, an entity declaration or an
        # external reference raises. o2c then installs its own content handlers on
        # that same parser, building the light tree directly (with positions, and
        # faster than an ElementTree round trip).
        parser = self._expat = DefusedXMLParser(
            forbid_dtd=True, forbid_entities=True, forbid_external=True
        ).parser
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.DefaultHandlerExpand = None
        parser.ordered_attributes = True
        parser.buffer_text = True
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._data
        try:
            parser.Parse(data, True)
        except expat.ExpatError as exc:
            raise self.error(
                f"not well-formed XML: {expat.ErrorString(exc.code)}",
                line=exc.lineno,
                column=exc.offset + 1,
            ) from None
        except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
            raise self.unsafe(exc) from None
        finally:
            self._expat = None
        if self.root is None:  # pragma: no cover - expat refuses a document without one
            raise self.error("no root element", line=1, column=1)
        return self.root

    def unsafe(self, exc: Exception) -> UnsafeStatementError:
        """The typed error for one of defusedxml's refusals, at the parser's position."""
        feature = {
            "DTDForbidden": "DTD (document type declaration)",
            "EntitiesForbidden": "entity declaration",
            "ExternalReferenceForbidden": "external reference",
        }.get(type(exc).__name__, type(exc).__name__)
        line, column = self._position()
        return UnsafeStatementError(
            format=self.fmt,
            position=f"line {line}, column {column}",
            reason=f"the file contains a {feature}, refused for safety",
            feature=feature,
            line=line,
            column=column,
        )

    def _position(self) -> tuple[int, int]:
        parser = self._expat
        if parser is None:
            return 1, 1
        return parser.CurrentLineNumber, parser.CurrentColumnNumber + 1

    # -- expat handlers -----------------------------------------------------------

    def _split(self, tag: str) -> tuple[str, str]:
        # expat (namespace separator "}") gives "namespace}local", or "local".
        namespace, _, local = tag.rpartition("}")
        split = self._names[tag] = (namespace, local)
        return split

    def _start(self, tag: str, attributes: list[str]) -> None:
        stack = self._stack
        depth = len(stack) + 1
        parser = self._expat
        line = parser.CurrentLineNumber
        column = parser.CurrentColumnNumber + 1
        if depth > self.max_depth:
            raise self.error(
                f"elements nested deeper than {self.max_depth}", line=line, column=column
            )
        live = self._live
        self._live = live + 1
        if live >= self.max_elements:
            raise self.error(
                f"more than {self.max_elements} elements held at once", line=line, column=column
            )
        namespace, local = self._names.get(tag) or self._split(tag)
        if depth == 1:
            self.namespace = namespace
        elif namespace != self.namespace:
            if namespace in _XINCLUDE:
                raise UnsafeStatementError(
                    format=self.fmt,
                    position=f"line {line}, column {column}",
                    reason="the file contains an XInclude element, refused for safety",
                    feature="XInclude",
                    line=line,
                    column=column,
                )
            local = "{" + namespace + "}" + local
        attrib = (
            dict(zip(attributes[::2], attributes[1::2], strict=True))
            if attributes
            else _NO_ATTRIBUTES
        )
        node = Node(local, attrib, line, column)
        node.live_before = live
        if depth == 1:
            self.root = node
            self.root_start(namespace, local, node)
        else:
            stack[-1].children.append(node)
        stack.append(node)
        self._chars = []
        if depth <= self.hook_depth or local in self.hook_names:
            self.element_start(node, depth)

    def _data(self, text: str) -> None:
        self._chars.append(text)

    def _end(self, tag: str) -> None:
        stack = self._stack
        depth = len(stack)
        node = stack.pop()
        chars = self._chars
        self._chars = []
        # camt has no mixed content: the text of an element with children is layout.
        if chars and not node.children:
            node.text = chars[0] if len(chars) == 1 else "".join(chars)
        if (
            (depth <= self.hook_depth or node.name in self.hook_names)
            and self.element_end(node, depth)
            and stack
        ):
            # Consumed: drop it (it is its parent's last child) with its subtree.
            stack[-1].children.pop()
            self._live = node.live_before
