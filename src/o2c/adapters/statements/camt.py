"""ISO 20022 camt.052 / camt.053 / camt.054 reader (``pip install o2c[camt]``).

:func:`read_camt` reads a bank-to-customer statement (camt.053), account report
(camt.052) or debit/credit notification (camt.054), versions ``.001.01`` to
``.001.13``, into :class:`o2c.statements.Statement` values. Elements are found by
local name within the document's own namespace, so one reader serves every version.

Everything read is checked; anything malformed or hostile raises a
:class:`o2c.errors.StatementFormatError` (or a subclass) with a position, and nothing
is returned. See docs/statements.md for the mapping and every decision.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

import attrs

from o2c.adapters.statements._xml import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_ELEMENTS,
    Node,
    SafeXMLReader,
    check_bytes,
    xml_strip,
)
from o2c.errors import (
    StatementBalanceError,
    StatementValueError,
    UnsupportedStatementError,
)
from o2c.money import Money, is_currency, money_sum, parse_amount
from o2c.statements import Balance, BalanceKind, EntryDetail, Statement, StatementEntry

__all__ = [
    "CAMT_NAMESPACE",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_ELEMENTS",
    "SUPPORTED_VERSIONS",
    "read_camt",
]

#: The namespaces read: ``urn:iso:std:iso:20022:tech:xsd:camt.05{2,3,4}.001.NN``.
CAMT_NAMESPACE: Final = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.(05[234])\.001\.(\d\d)")
#: Message versions read (``.001.01`` to ``.001.13``).
SUPPORTED_VERSIONS: Final = range(1, 14)

# message -> (message element, statement element)
_MESSAGES: Final = {
    "052": ("BkToCstmrAcctRpt", "Rpt"),
    "053": ("BkToCstmrStmt", "Stmt"),
    "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
}
_BALANCE_KINDS: Final = {
    "OPBD": BalanceKind.OPENING,
    "PRCD": BalanceKind.OPENING,
    "CLBD": BalanceKind.CLOSING,
    "CLAV": BalanceKind.CLOSING_AVAILABLE,
}
_SIGNS: Final = {"CRDT": 1, "DBIT": -1}
_BOOLEANS: Final = {"true": True, "1": True, "false": False, "0": False}
_DATE: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DATE_TIME: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(\.\d{1,12})?"
    r"(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?"
)
_CURRENCY: Final = re.compile(r"[A-Z]{3}")
_AMOUNT: Final = re.compile(r"[0-9]+(\.[0-9]+)?")
#: The schema's amount type: at most 18 digits, 5 of them after the point.
_MAX_TOTAL_DIGITS: Final = 18
_MAX_FRACTION_DIGITS: Final = 5
_MAX_SHOWN: Final = 64


def read_camt(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_elements: int = DEFAULT_MAX_ELEMENTS,
    include_pending: bool = False,
    check_balances: bool = True,
) -> tuple[Statement, ...]:
    """Read a camt.052, camt.053 or camt.054 file into statements (one per
    ``Stmt``/``Rpt``/``Ntfctn``, in file order).

    Args:
        data: The file's bytes (UTF-8; a UTF-8 byte order mark is allowed).
        max_bytes: Larger files are refused before parsing.
        max_depth: Deepest element nesting accepted.
        max_elements: Most elements accepted.
        include_pending: Keep entries the bank has not booked (``Sts`` other than
            ``BOOK``) with ``booked=False``; by default they are left out.
        check_balances: Refuse a statement whose opening balance plus its booked
            entries is not its closing balance (when it states both).

    Raises:
        StatementTooLargeError: over ``max_bytes``.
        StatementEncodingError: not UTF-8, or invalid UTF-8 bytes.
        UnsafeStatementError: a DTD, an entity, an external reference or XInclude.
        UnsupportedStatementError: not a camt.052/053/054 document (ZIP, another
            root, namespace or version).
        StatementValueError: a field is missing or invalid (amount, date, currency,
            indicator), or amounts disagree in currency.
        StatementBalanceError: balances do not reconcile (with ``check_balances``).
        StatementFormatError: anything else malformed (truncated, not well formed,
            too deep, too many elements, empty).

    >>> xml = b'''<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
    ... <BkToCstmrStmt><GrpHdr><MsgId>1</MsgId></GrpHdr><Stmt><Id>S1</Id>
    ... <Acct><Id><IBAN>DE89 3704 0044 0532 0130 00</IBAN></Id><Ccy>EUR</Ccy></Acct>
    ... <Ntry><Amt Ccy="EUR">12.50</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    ... <BookgDt><Dt>2026-03-02</Dt></BookgDt><AcctSvcrRef>B1</AcctSvcrRef></Ntry>
    ... </Stmt></BkToCstmrStmt></Document>'''
    >>> (statement,) = read_camt(xml)
    >>> statement.account, statement.entries[0].amount
    ('DE89370400440532013000', Money('12.50', 'EUR'))
    """
    raw = check_bytes(data, fmt="camt", max_bytes=max_bytes)
    reader = _CamtReader(
        max_depth=max_depth,
        max_elements=max_elements,
        include_pending=include_pending,
        check_balances=check_balances,
    )
    reader.parse(raw)
    return reader.finish()


# --------------------------------------------------------------------------- values


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "..."


@attrs.frozen
class _Where:
    """A position: an element path for people plus the parser's line and column."""

    path: str
    line: int
    column: int

    def at(self, node: Node, *names: str) -> _Where:
        return _Where("/".join((self.path, *names)) if names else self.path, node.line, node.column)

    def text(self) -> str:
        return f"{self.path} (line {self.line}, column {self.column})"


class _Fields:
    """Reads and checks the values of one message version."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt

    def bad(self, where: _Where, field: str, value: str, reason: str) -> StatementValueError:
        return StatementValueError(
            format=self.fmt,
            position=where.text(),
            reason=reason,
            field=field,
            value=_cut(value),
            line=where.line,
            column=where.column,
        )

    def missing(self, parent: Node, where: _Where, *path: str) -> StatementValueError:
        name = "/".join(path)
        return self.bad(
            where.at(parent, name), path[-1], "", f"the mandatory element {name} is missing"
        )

    def required(self, parent: Node, where: _Where, *path: str) -> Node:
        node = parent.child(*path)
        if node is None:
            raise self.missing(parent, where, *path)
        return node

    def required_text(self, parent: Node, where: _Where, *path: str) -> str:
        node = self.required(parent, where, *path)
        text = xml_strip(node.text)
        if not text:
            name = "/".join(path)
            raise self.bad(where.at(node, name), path[-1], "", f"{name} is empty")
        return text

    def currency(self, text: str, where: _Where, field: str) -> str:
        if not _CURRENCY.fullmatch(text) or not is_currency(text):
            raise self.bad(where, field, text, f"{text!r} is not an ISO 4217 currency code")
        return text

    def amount(self, node: Node, where: _Where) -> Money:
        """An amount element (``<Amt Ccy="EUR">12.50</Amt>``): unsigned, at most 18
        digits of which 5 decimals, kept exactly as written."""
        ccy = self.currency(node.attrib.get("Ccy", ""), where, "Ccy")
        text = xml_strip(node.text)
        if not _AMOUNT.fullmatch(text):
            raise self.bad(
                where,
                node.name,
                text,
                "an amount is unsigned ASCII digits with an optional '.' and decimals "
                "(no sign, exponent, grouping, NaN or empty)",
            )
        digits = text.replace(".", "").lstrip("0")
        decimals = len(text) - text.index(".") - 1 if "." in text else 0
        if len(digits) > _MAX_TOTAL_DIGITS or decimals > _MAX_FRACTION_DIGITS:
            raise self.bad(
                where,
                node.name,
                text,
                f"more than {_MAX_TOTAL_DIGITS} digits or {_MAX_FRACTION_DIGITS} decimals",
            )
        # The checks above admit only what parse_amount and Money accept.
        return Money(parse_amount(text, max_fraction_digits=_MAX_FRACTION_DIGITS), ccy)

    def sign(self, parent: Node, where: _Where) -> int:
        sign = self.optional_sign(parent, where)
        if sign is None:
            raise self.missing(parent, where, "CdtDbtInd")
        return sign

    def optional_sign(self, parent: Node, where: _Where) -> int | None:
        node = parent.child("CdtDbtInd")
        if node is None:
            return None
        text = xml_strip(node.text)
        if text not in _SIGNS:
            raise self.bad(
                where.at(node, "CdtDbtInd"), "CdtDbtInd", text, "CdtDbtInd is CRDT or DBIT"
            )
        return _SIGNS[text]

    def signed_amount(self, parent: Node, where: _Where) -> Money:
        node = self.required(parent, where, "Amt")
        return _signed(self.amount(node, where.at(node, "Amt")), self.sign(parent, where))

    def date_choice(self, parent: Node, where: _Where, name: str) -> date | None:
        """``<BookgDt><Dt>..</Dt></BookgDt>`` or ``<DtTm>``: the date (of a date-time,
        the date as written, in the file's own offset)."""
        node = parent.child(name)
        if node is None:
            return None
        here = where.at(node, name)
        inner = node.child("Dt")
        if inner is not None:
            return self.date(xml_strip(inner.text), here.at(inner, "Dt"), "Dt")
        inner = node.child("DtTm")
        if inner is not None:
            text = xml_strip(inner.text)
            if _DATE_TIME.fullmatch(text) is None:
                raise self.bad(here.at(inner, "DtTm"), "DtTm", text, "not an ISO date-time")
            return self.date(text[:10], here.at(inner, "DtTm"), "DtTm")
        raise self.bad(here, name, "", f"{name} has neither Dt nor DtTm")

    def date(self, text: str, where: _Where, field: str) -> date:
        match = _DATE.fullmatch(text)
        if match is not None:
            try:
                return date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                pass
        raise self.bad(where, field, text, f"{text!r} is not a date (YYYY-MM-DD)")

    def boolean(self, node: Node, where: _Where) -> bool:
        text = xml_strip(node.text)
        if text not in _BOOLEANS:
            raise self.bad(where, node.name, text, f"{node.name} is true or false")
        return _BOOLEANS[text]


def _signed(amount: Money, sign: int) -> Money:
    return -amount if sign < 0 and not amount.is_zero() else amount


# --------------------------------------------------------------------------- parts


@attrs.frozen
class _Detail:
    """A TxDtls read but not yet placed in its entry (its sign may come from it)."""

    where: _Where
    amounts: tuple[Money, ...]
    sign: int | None
    parties: dict[int, tuple[str, str]]  # sign -> (name, account)
    remittance: str
    structured_reference: str
    end_to_end_id: str
    bank_code: str


@attrs.frozen
class _Entry:
    where: _Where
    entry: StatementEntry


def _bank_code(node: Node | None) -> str:
    if node is None:
        return ""
    domain = node.child("Domn")
    if domain is not None:
        parts = (
            domain.text_at("Cd"),
            domain.text_at("Fmly", "Cd"),
            domain.text_at("Fmly", "SubFmlyCd"),
        )
        return "/".join(p for p in parts if p)
    return node.text_at("Prtry", "Cd")


def _party_name(parties: Node, role: str) -> str:
    party = parties.child(role)
    if party is None:
        return ""
    return (
        party.text_at("Nm")
        or party.text_at("Pty", "Nm")
        or party.text_at("Agt", "FinInstnId", "Nm")
        or party.text_at("Agt", "FinInstnId", "BICFI")
        or party.text_at("Agt", "FinInstnId", "BIC")
    )


def _account(node: Node | None) -> str:
    if node is None:
        return ""
    iban = node.text_at("Id", "IBAN")
    if iban:
        return normalise_iban(iban)
    return node.text_at("Id", "Othr", "Id") or node.text_at("Id", "PrtryAcct", "Id")


def normalise_iban(text: str) -> str:
    """An IBAN without spaces, upper case."""
    return "".join(text.split()).upper()


def _parties(node: Node | None) -> dict[int, tuple[str, str]]:
    """Counterparty by direction: money in comes from the debtor, money out goes to
    the creditor; the ultimate party stands in when the direct one has no name."""
    if node is None:
        return {}
    debtor = _party_name(node, "Dbtr") or _party_name(node, "UltmtDbtr")
    creditor = _party_name(node, "Cdtr") or _party_name(node, "UltmtCdtr")
    return {
        1: (debtor, _account(node.child("DbtrAcct"))),
        -1: (creditor, _account(node.child("CdtrAcct"))),
    }


def _remittance(node: Node) -> tuple[str, str]:
    """(unstructured text, first structured creditor reference). Further structured
    references are appended to the text so a text match can still find them."""
    info = node.child("RmtInf")
    if info is None:
        return node.text_at("AddtlTxInf"), ""
    lines = [xml_strip(u.text) for u in info.all("Ustrd")]
    refs = []
    for structured in info.all("Strd"):
        ref = structured.text_at("CdtrRefInf", "Ref") or structured.text_at("CdtrRefInf", "CdtrRef")
        if ref:
            refs.append(ref)
    text = " ".join(line for line in (*lines, *refs[1:]) if line)
    return text or node.text_at("AddtlTxInf"), refs[0] if refs else ""


# --------------------------------------------------------------------------- the reader

# Statement children kept until the statement ends; Bal and Ntry are consumed as they
# end, and everything else is dropped (not needed), so memory stays bounded.
_STATEMENT_KEEPS: Final = frozenset({"Id", "Acct"})


class _CamtReader(SafeXMLReader):
    hook_depth = 4  # Document/message/statement/Ntry ...
    hook_names = frozenset({"TxDtls"})  # ... and Ntry/NtryDtls/TxDtls

    def __init__(
        self, *, max_depth: int, max_elements: int, include_pending: bool, check_balances: bool
    ) -> None:
        super().__init__(fmt="camt", max_depth=max_depth, max_elements=max_elements)
        self.include_pending = include_pending
        self.check_balances = check_balances
        self.fields = _Fields("camt")
        self.message = ""
        self.statement_element = ""
        self.statements: list[Statement] = []
        self._message: Node | None = None
        self._statement_no = 0
        self._entry_no = 0
        self._entries: list[_Entry] = []
        self._balances: list[tuple[Balance, _Where]] = []
        self._details: list[_Detail] = []

    # -- structure ----------------------------------------------------------------

    def root_start(self, namespace: str, name: str, node: Node) -> None:
        where = node.where()
        if name != "Document":
            raise UnsupportedStatementError(
                format=self.fmt,
                position=where,
                reason=f"the root element is {_cut(name)!r}, not a camt 'Document'",
            )
        match = CAMT_NAMESPACE.fullmatch(namespace)
        if match is None:
            raise UnsupportedStatementError(
                format=self.fmt,
                position=where,
                reason=f"the namespace {_cut(namespace)!r} is not camt.052/053/054",
            )
        if int(match[2]) not in SUPPORTED_VERSIONS:
            raise UnsupportedStatementError(
                format=self.fmt,
                position=where,
                reason=f"camt.{match[1]}.001.{match[2]} is not a supported version",
            )
        self.fmt = f"camt.{match[1]}.001.{match[2]}"
        self.fields = _Fields(self.fmt)
        self.message, self.statement_element = _MESSAGES[match[1]]

    def element_start(self, node: Node, depth: int) -> None:
        if depth == 2:
            if node.name not in (self.message, self.message + "V01") or self._message:
                raise UnsupportedStatementError(
                    format=self.fmt,
                    position=node.where(),
                    reason=(
                        f"a {self.fmt} Document holds one {self.message}, not {_cut(node.name)!r}"
                    ),
                )
            self._message = node
        elif depth == 3 and node.name == self.statement_element:
            self._statement_no += 1
            self._entry_no = 0
            self._entries = []
            self._balances = []
        elif depth == 4 and node.name == "Ntry":
            self._entry_no += 1
            self._details = []

    def element_end(self, node: Node, depth: int) -> bool:
        if depth == 6 and node.name == "TxDtls" and self._parent_is("NtryDtls"):
            path = f"{self._entry_path()}/TxDtls[{len(self._details) + 1}]"
            self._details.append(self._detail(node, _Where(path, node.line, node.column)))
            return True
        if depth == 4 and self._parent_is(self.statement_element):
            if node.name == "Ntry":
                where = _Where(self._entry_path(), node.line, node.column)
                self._entries.append(_Entry(where, self._entry(node, where)))
            elif node.name == "Bal":
                path = f"{self._statement_path()}/Bal[{len(self._balances) + 1}]"
                where = _Where(path, node.line, node.column)
                self._balances.append((self._balance(node, where), where))
            return node.name not in _STATEMENT_KEEPS
        if depth == 3:
            if node.name == self.statement_element:
                self.statements.append(self._statement(node))
            return True
        return False

    def _parent_is(self, name: str) -> bool:
        parent = self.parent()
        return parent is not None and parent.name == name

    def _statement_path(self) -> str:
        return f"{self.statement_element}[{self._statement_no}]"

    def _entry_path(self) -> str:
        return f"{self._statement_path()}/Ntry[{self._entry_no}]"

    def finish(self) -> tuple[Statement, ...]:
        if not self.statements:
            message = self._message
            if message is None:
                root = self.root
                line, column = (root.line, root.column) if root is not None else (1, 1)
                raise self.fields.bad(
                    _Where("Document", line, column),
                    self.message,
                    "",
                    f"the Document has no {self.message}",
                )
            raise self.fields.bad(
                _Where(message.name, message.line, message.column),
                self.statement_element,
                "",
                f"the {message.name} has no {self.statement_element} (one is mandatory)",
            )
        return tuple(self.statements)

    # -- transactions -------------------------------------------------------------

    def _detail(self, node: Node, where: _Where) -> _Detail:
        f = self.fields
        amounts = []
        for path in (("AmtDtls", "TxAmt", "Amt"), ("Amt",), ("AmtDtls", "CntrValAmt", "Amt")):
            found = node.child(*path)
            if found is not None:
                amounts.append(f.amount(found, where.at(found, *path)))
        remittance, reference = _remittance(node)
        return _Detail(
            where=where,
            amounts=tuple(amounts),
            sign=f.optional_sign(node, where),
            parties=_parties(node.child("RltdPties")),
            remittance=remittance,
            structured_reference=reference,
            end_to_end_id=node.text_at("Refs", "EndToEndId"),
            bank_code=_bank_code(node.child("BkTxCd")),
        )

    def _entry(self, node: Node, where: _Where) -> StatementEntry:
        f = self.fields
        amount = f.signed_amount(node, where)
        sign = f.sign(node, where)
        reversal_node = node.child("RvslInd")
        reversal = (
            f.boolean(reversal_node, where.at(reversal_node, "RvslInd"))
            if reversal_node is not None
            else False
        )
        status_node = node.child("Sts")
        status = ""
        if status_node is not None:
            status = (
                xml_strip(status_node.text)
                or status_node.text_at("Cd")
                or status_node.text_at("Prtry")
            )
        value = f.date_choice(node, where, "ValDt")
        booking = f.date_choice(node, where, "BookgDt") or value
        if booking is None:
            raise f.missing(node, where, "BookgDt")
        details = self._details
        self._details = []
        fields: dict[str, str] = {
            "remittance": node.text_at("AddtlNtryInf"),
            "bank_code": _bank_code(node.child("BkTxCd")),
        }
        parts: tuple[EntryDetail, ...] = ()
        if len(details) == 1:
            one = details[0]
            name, account = one.parties.get(one.sign or sign, ("", ""))
            fields.update(
                counterparty_name=name,
                counterparty_iban=account,
                remittance=one.remittance or fields["remittance"],
                structured_reference=one.structured_reference,
                end_to_end_id=one.end_to_end_id,
                bank_code=fields["bank_code"] or one.bank_code,
            )
        elif details:
            parts = self._batch(details, amount, sign, where)
        statement = self.parent()
        # Stmt/Id precedes the entries; when it is missing _statement refuses the file.
        position = f"{statement.text_at('Id') if statement else ''}/Ntry[{self._entry_no}]"
        return StatementEntry(
            line_id=node.text_at("AcctSvcrRef") or node.text_at("NtryRef") or position,
            booking_date=booking,
            amount=amount,
            value_date=value,
            reversal=reversal,
            details=parts,
            booked=status in ("", "BOOK"),
            **fields,
        )

    def _batch(
        self, details: list[_Detail], amount: Money, sign: int, where: _Where
    ) -> tuple[EntryDetail, ...]:
        f = self.fields
        parts = []
        for detail in details:
            own = next((a for a in detail.amounts if a.currency == amount.currency), None)
            if own is None:
                reason = (
                    f"a transaction of a batch entry has no amount in {amount.currency}"
                    if detail.amounts
                    else "a transaction of a batch entry has no amount (Amt or AmtDtls/TxAmt)"
                )
                raise f.bad(detail.where, "Amt", "", reason + "; the entry cannot be split")
            detail_sign = detail.sign or sign
            name, account = detail.parties.get(detail_sign, ("", ""))
            parts.append(
                EntryDetail(
                    amount=_signed(own, detail_sign),
                    counterparty_name=name,
                    counterparty_iban=account,
                    remittance=detail.remittance,
                    structured_reference=detail.structured_reference,
                    end_to_end_id=detail.end_to_end_id,
                )
            )
        total = money_sum((p.amount for p in parts), amount.currency)
        if total != amount:
            raise f.bad(
                where,
                "TxDtls",
                str(total),
                f"the {len(parts)} transactions sum to {total}, the entry is {amount}",
            )
        return tuple(parts)

    # -- statements ---------------------------------------------------------------

    def _statement(self, node: Node) -> Statement:
        f = self.fields
        where = _Where(self._statement_path(), node.line, node.column)
        statement_id = f.required_text(node, where, "Id")
        acct = f.required(node, where, "Acct")
        account = _account(acct)
        if not account:
            raise f.bad(where.at(acct, "Acct"), "Acct", "", "the account has no IBAN or other id")
        currency = ""
        ccy_node = acct.child("Ccy")
        if ccy_node is not None:
            currency = f.currency(xml_strip(ccy_node.text), where.at(ccy_node, "Acct/Ccy"), "Ccy")
        balances, self._balances = self._balances, []
        entries, self._entries = self._entries, []
        amounts = (*(b.amount for b, _ in balances), *(e.entry.amount for e in entries))
        currency = currency or next((m.currency for m in amounts), "")
        if not currency:
            raise f.bad(
                where.at(acct, "Acct"),
                "Ccy",
                "",
                "the statement names no currency and has no amounts",
            )
        for balance, here in balances:
            self._same_currency(balance.amount, currency, here)
        for item in entries:
            self._same_currency(item.entry.amount, currency, item.where)
        kept = [e.entry for e in entries if self.include_pending or e.entry.booked]
        statement = Statement(
            statement_id=statement_id,
            account=account,
            currency=currency,
            entries=_unique_line_ids(kept),
            balances=tuple(b for b, _ in balances),
            source_format=self.fmt,
        )
        if self.check_balances:
            self._check_balances(statement, where, balances)
        return statement

    def _balance(self, node: Node, where: _Where) -> Balance:
        f = self.fields
        kind_node = f.required(node, where, "Tp", "CdOrPrtry")
        code = kind_node.text_at("Cd") or kind_node.text_at("Prtry")
        if not code:
            raise f.bad(where.at(kind_node, "Tp/CdOrPrtry"), "Cd", "", "the balance type is empty")
        on = f.date_choice(node, where, "Dt")
        if on is None:
            raise f.missing(node, where, "Dt")
        return Balance(
            kind=_BALANCE_KINDS.get(code, BalanceKind.OTHER),
            amount=f.signed_amount(node, where),
            on=on,
            code=code,
        )

    def _same_currency(self, amount: Money, currency: str, where: _Where) -> None:
        if amount.currency != currency:
            raise self.fields.bad(
                where,
                "Ccy",
                amount.currency,
                f"an amount in {amount.currency} on an account in {currency}",
            )

    def _check_balances(
        self, statement: Statement, where: _Where, balances: list[tuple[Balance, _Where]]
    ) -> None:
        opening = statement.balance(BalanceKind.OPENING)
        closing = statement.balance(BalanceKind.CLOSING)
        if opening is None or closing is None:
            return
        moved = money_sum((e.amount for e in statement.entries if e.booked), statement.currency)
        if opening.amount + moved == closing.amount:
            return
        at = next((w for b, w in balances if b is closing), where)
        raise StatementBalanceError(
            format=self.fmt,
            position=at.text(),
            reason=(
                f"opening {opening.amount} + booked entries {moved} = {opening.amount + moved}, "
                f"but the closing balance is {closing.amount}"
            ),
            statement_id=statement.statement_id,
            opening=opening.amount,
            movements=moved,
            closing=closing.amount,
            line=at.line,
            column=at.column,
        )


def _unique_line_ids(entries: list[StatementEntry]) -> tuple[StatementEntry, ...]:
    """Line ids are unique within a statement: a repeated bank reference gets ``#2``,
    ``#3``... in file order (the first keeps it as written)."""
    used: set[str] = set()
    out = []
    for entry in entries:
        line_id = entry.line_id
        count = 1
        while line_id in used:
            count += 1
            line_id = f"{entry.line_id}#{count}"
        used.add(line_id)
        out.append(entry if line_id == entry.line_id else attrs.evolve(entry, line_id=line_id))
    return tuple(out)
