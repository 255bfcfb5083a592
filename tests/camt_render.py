"""A small test-side camt renderer: o2c Statement values -> camt.052/053/054 XML bytes.

It writes what the reader must read back to the same values (see
tests/unit/test_camt.py), in the layout each message version uses, so it doubles as
the source of valid documents that the hostile-input tests cut and corrupt. It is
deliberately independent of the reader: it builds text, not trees.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from o2c.money import Money
from o2c.statements import EntryDetail, Statement, StatementEntry

MESSAGES = {
    "052": ("BkToCstmrAcctRpt", "Rpt"),
    "053": ("BkToCstmrStmt", "Stmt"),
    "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
}


def namespace(message: str = "053", version: int = 2) -> str:
    return f"urn:iso:std:iso:20022:tech:xsd:camt.{message}.001.{version:02d}"


def _amount(tag: str, money: Money) -> str:
    return f"<{tag} Ccy={quoteattr(money.currency)}>{abs(money.amount)}</{tag}>"


def _sign(money: Money) -> str:
    return "<CdtDbtInd>DBIT</CdtDbtInd>" if money.is_negative() else "<CdtDbtInd>CRDT</CdtDbtInd>"


def _party(role: str, name: str, version: int) -> str:
    if not name:
        return ""
    inner = f"<Nm>{escape(name)}</Nm>"
    # From version 8 the parties are a choice of party or agent (Pty / Agt).
    return f"<{role}><Pty>{inner}</Pty></{role}>" if version >= 8 else f"<{role}>{inner}</{role}>"


def _account(role: str, account: str, *, spaced: bool) -> str:
    if not account:
        return ""
    if account[:2].isalpha() and account[2:4].isdigit():
        shown = (
            " ".join(account[i : i + 4] for i in range(0, len(account), 4)) if spaced else account
        )
        return f"<{role}><Id><IBAN>{escape(shown)}</IBAN></Id></{role}>"
    return f"<{role}><Id><Othr><Id>{escape(account)}</Id></Othr></Id></{role}>"


def _transaction(
    detail: EntryDetail | StatementEntry, *, version: int, with_amount: bool, spaced: bool
) -> str:
    incoming = not detail.amount.is_negative()
    role, account_role = ("Dbtr", "DbtrAcct") if incoming else ("Cdtr", "CdtrAcct")
    parts = ["<TxDtls>"]
    if detail.end_to_end_id:
        parts.append(f"<Refs><EndToEndId>{escape(detail.end_to_end_id)}</EndToEndId></Refs>")
    if with_amount:
        if version >= 3:
            parts.append(_amount("Amt", detail.amount) + _sign(detail.amount))
        else:
            parts.append(f"<AmtDtls><TxAmt>{_amount('Amt', detail.amount)}</TxAmt></AmtDtls>")
    parties = _party(role, detail.counterparty_name, version) + _account(
        account_role, detail.counterparty_iban, spaced=spaced
    )
    if parties:
        parts.append(f"<RltdPties>{parties}</RltdPties>")
    remittance = ""
    if detail.remittance:
        remittance += f"<Ustrd>{escape(detail.remittance)}</Ustrd>"
    if detail.structured_reference:
        remittance += (
            "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
            f"<Ref>{escape(detail.structured_reference)}</Ref></CdtrRefInf></Strd>"
        )
    if remittance:
        parts.append(f"<RmtInf>{remittance}</RmtInf>")
    parts.append("</TxDtls>")
    return "".join(parts)


def _bank_code(code: str) -> str:
    if not code:
        return ""
    domain, family, sub = code.split("/")
    return (
        f"<BkTxCd><Domn><Cd>{domain}</Cd><Fmly><Cd>{family}</Cd>"
        f"<SubFmlyCd>{sub}</SubFmlyCd></Fmly></Domn></BkTxCd>"
    )


def _has_single_details(entry: StatementEntry) -> bool:
    return bool(
        entry.counterparty_name
        or entry.counterparty_iban
        or entry.remittance
        or entry.structured_reference
        or entry.end_to_end_id
    )


def render_entry(
    entry: StatementEntry,
    *,
    version: int = 2,
    reference: bool = True,
    date_time: bool = False,
    spaced: bool = False,
    status: str = "BOOK",
) -> str:
    """One ``<Ntry>``. ``reference=False`` leaves out AcctSvcrRef (the reader then
    numbers the entry)."""
    parts = ["<Ntry>", _amount("Amt", entry.amount), _sign(entry.amount)]
    if entry.reversal:
        parts.append("<RvslInd>true</RvslInd>")
    parts.append(f"<Sts><Cd>{status}</Cd></Sts>" if version >= 8 else f"<Sts>{status}</Sts>")
    booking = entry.booking_date.isoformat()
    parts.append(
        f"<BookgDt><DtTm>{booking}T10:15:00+01:00</DtTm></BookgDt>"
        if date_time
        else f"<BookgDt><Dt>{booking}</Dt></BookgDt>"
    )
    if entry.value_date is not None:
        parts.append(f"<ValDt><Dt>{entry.value_date.isoformat()}</Dt></ValDt>")
    if reference:
        parts.append(f"<AcctSvcrRef>{escape(entry.line_id)}</AcctSvcrRef>")
    parts.append(_bank_code(entry.bank_code))
    if entry.details:
        parts.append("<NtryDtls>")
        if version >= 2:
            parts.append(f"<Btch><NbOfTxs>{len(entry.details)}</NbOfTxs></Btch>")
        parts.extend(
            _transaction(d, version=version, with_amount=True, spaced=spaced) for d in entry.details
        )
        parts.append("</NtryDtls>")
        if entry.remittance:
            parts.append(f"<AddtlNtryInf>{escape(entry.remittance)}</AddtlNtryInf>")
    elif _has_single_details(entry):
        parts.append(
            "<NtryDtls>"
            + _transaction(entry, version=version, with_amount=False, spaced=spaced)
            + "</NtryDtls>"
        )
    parts.append("</Ntry>")
    return "".join(parts)


def render_statement(
    statement: Statement,
    *,
    element: str = "Stmt",
    version: int = 2,
    date_time: bool = False,
    spaced: bool = False,
    account_currency: bool = True,
    extra_entries: str = "",
) -> str:
    parts = [f"<{element}><Id>{escape(statement.statement_id)}</Id>"]
    currency = f"<Ccy>{statement.currency}</Ccy>" if account_currency else ""
    account = _account("Acct", statement.account, spaced=spaced)
    parts.append(account.replace("</Acct>", currency + "</Acct>"))
    for balance in statement.balances:
        parts.append(
            f"<Bal><Tp><CdOrPrtry><Cd>{balance.code}</Cd></CdOrPrtry></Tp>"
            f"{_amount('Amt', balance.amount)}{_sign(balance.amount)}"
            f"<Dt><Dt>{balance.on.isoformat()}</Dt></Dt></Bal>"
        )
    for number, entry in enumerate(statement.entries, start=1):
        # An entry whose line id is its position gets no bank reference in the file.
        reference = entry.line_id != f"{statement.statement_id}/Ntry[{number}]"
        parts.append(
            render_entry(
                entry, version=version, reference=reference, date_time=date_time, spaced=spaced
            )
        )
    parts.append(extra_entries)
    parts.append(f"</{element}>")
    return "".join(parts)


def render_camt(
    statements: Sequence[Statement],
    *,
    message: str = "053",
    version: int = 2,
    pretty: bool = False,
    declaration: bool = True,
    **options: object,
) -> bytes:
    """A whole camt document holding ``statements``."""
    root, element = MESSAGES[message]
    if version == 1:
        root += "V01"
    body = "".join(
        render_statement(s, element=element, version=version, **options)  # type: ignore[arg-type]
        for s in statements
    )
    text = (
        ('<?xml version="1.0" encoding="UTF-8"?>\n' if declaration else "")
        + f'<Document xmlns="{namespace(message, version)}">'
        + f"<{root}><GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-03-02T09:00:00</CreDtTm></GrpHdr>"
        + body
        + f"</{root}></Document>"
    )
    if pretty:
        text = text.replace("><", ">\n  <")
    return text.encode("utf-8")
