"""Booking bank statements (INV-3, INV-4): MT940 credits become payments, settled to invoices.

1. `parse_statement` reads MT940 with the `mt-940` library and the structured field 86 of
   Polish banks itself: subfields `~NN` (PKO BP, mBank, Pekao) or `<NN` (ING, Millennium),
   `^NN` (BNP): title in 20–25, counterparty account in 38 (or sort code 30 + number 31),
   name in 32–33. The library only knows the German `?NN` layout.
2. `book_statement` matches each credit to a company: by its repayment account
   (`BankAccount.iban`, the lessor's virtual account) when the statement is that account's own
   (field 25) or the line names it, else by an invoice number in the title. One row per credit
   goes to `statement_lines`, whose unique key makes a re-import (or two at once) book nothing
   twice; a matched credit becomes a `Payment`.
3. Allocation: a new payment settles the invoice its title names first, then the company's
   oldest due; what is left is an overpayment. Every import ends by applying all companies'
   open overpayments to their open invoices, oldest due first, so an overpayment lowers the
   next invoice as soon as one is issued (at the next import). Amounts due are the rule of
   loaders/invoice.py (`INVOICE_DUE`, `PAYMENT_LEFT`), read under a per-company lock.

The number of SQL statements of an import does not grow with its lines (a handful per import,
the inserts sent as batches).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import mt940
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.errors import NotFoundError
from hub.events import announce, invoice_topic
from loaders.invoice import INVOICE_DUE, PAYMENT_LEFT
from models.base import to_money, utcnow
from models.client import BankAccount, Client
from models.contract import Currency
from models.i18n import _
from models.invoice import Invoice, InvoiceKind, Payment, PaymentAllocation, PaymentSource
from models.statement import StatementLine
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData
from resolvers.ids import pk_of

INVOICE_NUMBER = re.compile(r"FV/\d{4}/\d{2}/\d{6}", re.IGNORECASE)
IBAN = re.compile(r"PL\d{26}")
SEPARATORS = "~<^"
TITLE_KEYS = ("20", "21", "22", "23", "24", "25")
_ZERO = Decimal("0.00")
# Lines per INSERT: 15 values each stays far below SQLite's bound-variable limit (32,766).
_PAYMENTS: Any = Payment.__table__  # type: ignore[attr-defined]
_LINES: Any = StatementLine.__table__  # type: ignore[attr-defined]  # Core: no ORM sync


class InvalidStatement(ValueError):
    """The file is not an MT940 statement the import can read."""


# -- parsing ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Credit:
    """One credit line of a statement, as the bank told it."""

    account: str  # field 25: whose statement this is
    statement: str  # 28C number/sequence @ the opening balance's date
    position: int
    bank_reference: str | None
    value_date: date
    amount: Decimal
    currency: str
    title: str
    payer_iban: str | None
    payer_name: str
    named_accounts: tuple[str, ...]  # accounts the line names (title, subfields)

    @property
    def invoice_numbers(self) -> list[str]:
        return [number.upper() for number in INVOICE_NUMBER.findall(self.title)]


@dataclass(frozen=True, slots=True)
class ParsedStatement:
    credits: list[Credit]
    lines: int  # every line of field 61, debits too
    debits: int


def subfields(details: str) -> dict[str, str]:
    """Field 86 of a Polish bank: `020~00…~20…`, `051<00…<20…`; unknown layouts give {}.

    Lines of the field are cut at fixed widths, so they join without a space."""
    text = "".join(line.strip("\r") for line in details.splitlines())
    body = text[3:] if text[:3].isdigit() else text
    if not body or body[0] not in SEPARATORS:
        return {}
    found: dict[str, str] = {}
    for part in body[1:].split(body[0]):
        key, value = part[:2], part[2:]
        found[key] = found.get(key, "") + value
    return found


def _compact(account: str) -> str:
    return re.sub(r"[\s/-]", "", account).upper()


def _payer_iban(fields: dict[str, str]) -> str | None:
    if iban := _compact(fields.get("38", "")):
        return iban[:34]
    sort_code, number = _compact(fields.get("30", "")), _compact(fields.get("31", ""))
    domestic = (sort_code + number)[-26:] if len(sort_code + number) >= 24 else ""
    return f"PL{domestic}"[:34] if len(domestic) == 26 else None


def _credit(transaction: Any, *, account: str, statement: str, position: int) -> Credit:
    data = transaction.data
    details = data.get("transaction_details") or ""
    fields = subfields(details)
    title = "".join(fields.get(key, "") for key in TITLE_KEYS) if fields else details
    named = {_compact(match) for match in IBAN.findall(_compact(title))}
    return Credit(
        account=account,
        statement=statement,
        position=position,
        bank_reference=(data.get("bank_reference") or None),
        value_date=date(data["date"].year, data["date"].month, data["date"].day),
        amount=to_money(abs(data["amount"].amount)),
        currency=str(data.get("currency") or "PLN"),
        title=" ".join(title.split())[:400],
        payer_iban=_payer_iban(fields),
        payer_name=" ".join((fields.get("32", "") + fields.get("33", "")).split())[:200],
        named_accounts=tuple(sorted(named)),
    )


def _blocks(content: str) -> list[str]:
    """One text per statement: a file holds one per account and day, each from its :20:."""
    starts = [m.start() for m in re.finditer(r"^:20:", content, re.MULTILINE)]
    ends = [*starts[1:], len(content)]
    return [content[a:b] for a, b in zip(starts, ends[: len(starts)], strict=True)]


def _statement(block: str) -> tuple[list[Credit], int, int]:
    try:
        transactions = mt940.parse(block)
    except Exception as error:  # the library raises bare RuntimeErrors on malformed fields
        raise InvalidStatement(str(error).split("\n")[0][:200]) from error
    data = transactions.data
    account = _compact(str(data.get("account_identification") or ""))
    if not account or "statement_number" not in data:
        raise InvalidStatement("no account (25) or statement number (28C)")
    opening = data.get("final_opening_balance") or data.get("intermediate_opening_balance")
    opened = f"@{opening.date}" if opening is not None else ""
    number = f"{data['statement_number']}/{data.get('sequence_number') or ''}{opened}"
    credits: list[Credit] = []
    debits = 0
    for position, transaction in enumerate(transactions, start=1):
        # RC/RD reverse a credit/debit: a reversed credit is money going out, never booked.
        currency = str(transaction.data.get("currency") or "PLN")
        if currency not in Currency.__members__:
            raise InvalidStatement(f"currency {currency[:3]} is not booked here")
        if transaction.data.get("status") == "C":
            credits.append(
                _credit(transaction, account=account[:34], statement=number[:40], position=position)
            )
        else:
            debits += 1
    return credits, len(transactions), debits


def parse_statement(content: str) -> ParsedStatement:
    """Every credit of every statement in an MT940 file; InvalidStatement if none can be read."""
    blocks = _blocks(content.replace("\r\n", "\n"))
    if not blocks:
        raise InvalidStatement("no statement (:20:) in the file")
    credits: list[Credit] = []
    lines = debits = 0
    for block in blocks:
        found, count, debit_count = _statement(block)
        credits += found
        lines += count
        debits += debit_count
    return ParsedStatement(credits=credits, lines=lines, debits=debits)


def decode(raw: bytes) -> str:
    """Polish banks send UTF-8 or Windows-1250 (older exports CP852); try them in that order."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1250", errors="replace")


# -- matching -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Match:
    credit: Credit
    client_id: int | None
    invoice_id: int | None  # named in the title, of that client


async def _clients_by_account(session: AsyncSession, accounts: set[str]) -> dict[str, int]:
    if not accounts:
        return {}
    rows = await session.execute(
        select(col(BankAccount.iban), col(BankAccount.client_id)).where(
            col(BankAccount.iban).in_(sorted(accounts))
        )
    )
    return {iban: client_id for iban, client_id in rows}


async def _invoices_by_number(
    session: AsyncSession, numbers: set[str]
) -> dict[str, tuple[int, int]]:
    if not numbers:
        return {}
    rows: Any = await session.execute(
        select(col(Invoice.number), col(Invoice.id), col(Invoice.client_id)).where(
            col(Invoice.number).in_(sorted(numbers))
        )
    )
    return {str(number).upper(): (invoice_id, client_id) for number, invoice_id, client_id in rows}


async def match_credits(session: AsyncSession, *, credits: Sequence[Credit]) -> list[Match]:
    """Two lookups for the whole statement: the accounts, then the invoice numbers."""
    by_account = await _clients_by_account(
        session, {a for c in credits for a in (c.account, *c.named_accounts)}
    )
    by_number = await _invoices_by_number(session, {n for c in credits for n in c.invoice_numbers})
    matches = []
    for credit in credits:
        named = [by_number[n] for n in credit.invoice_numbers if n in by_number]
        client_id = next(
            (by_account[a] for a in (credit.account, *credit.named_accounts) if a in by_account),
            named[0][1] if named else None,
        )
        invoice_id = next((pk for pk, owner in named if owner == client_id), None)
        matches.append(Match(credit=credit, client_id=client_id, invoice_id=invoice_id))
    return matches


# -- allocation ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Open:
    id: int
    left: Decimal


async def lock_clients(session: AsyncSession, client_ids: Iterable[int]) -> None:
    """Settlement of a company is serial: its client row is locked (in id order, so two
    imports never deadlock). SQLite's write transaction is serial already."""
    ids = sorted(set(client_ids))
    if ids and session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(
            select(col(Client.id))
            .where(col(Client.id).in_(ids))
            .order_by(col(Client.id))
            .with_for_update()
        )


async def _open_invoices(session: AsyncSession, client_ids: list[int]) -> dict[int, list[_Open]]:
    """Open invoices per company, oldest due first: the due of loaders/invoice.py."""
    rows: Any = await session.execute(
        select(col(Invoice.client_id), col(Invoice.id), INVOICE_DUE)
        .where(
            col(Invoice.client_id).in_(client_ids),
            col(Invoice.kind) != InvoiceKind.CORRECTION,
            INVOICE_DUE > 0,
        )
        .order_by(col(Invoice.due_date), col(Invoice.id))
    )
    found: dict[int, list[_Open]] = defaultdict(list)
    for client_id, invoice_id, due in rows:
        found[client_id].append(_Open(invoice_id, to_money(due)))
    return found


async def _open_payments(
    session: AsyncSession, client_ids: list[int] | None
) -> dict[int, list[_Open]]:
    """Unsettled money per company (all companies when None), oldest booked first."""
    query = select(col(Payment.client_id), col(Payment.id), PAYMENT_LEFT).where(PAYMENT_LEFT > 0)
    if client_ids is not None:
        query = query.where(col(Payment.client_id).in_(client_ids))
    rows: Any = await session.execute(query.order_by(col(Payment.booked_on), col(Payment.id)))
    found: dict[int, list[_Open]] = defaultdict(list)
    for client_id, payment_id, left in rows:
        found[client_id].append(_Open(payment_id, to_money(left)))
    return found


def _settle(
    payment: _Open, invoice: _Open, rows: list[dict[str, Any]], base: dict[str, Any]
) -> Decimal:
    amount = min(payment.left, invoice.left)
    if amount > 0:
        payment.left -= amount
        invoice.left -= amount
        rows.append({**base, "payment_id": payment.id, "invoice_id": invoice.id, "amount": amount})
    return amount


@dataclass(slots=True)
class Allocated:
    amount: Decimal = _ZERO
    rows: int = 0


async def allocate(
    session: AsyncSession,
    *,
    today: date,
    named: dict[int, int] | None = None,
    client_ids: list[int] | None = None,
) -> Allocated:
    """Apply open payments to open invoices, oldest booked money first: each payment to the
    invoice its title named (`named`: payment id → invoice id), then to the oldest due.

    `client_ids` None: every company with unsettled money. Locks the companies first."""
    payments = await _open_payments(session, client_ids)
    companies = sorted(payments)
    if not companies:
        return Allocated()
    await lock_clients(session, companies)
    # Read again under the lock: a parallel allocation may have settled some of it.
    payments = await _open_payments(session, companies)
    invoices = await _open_invoices(session, companies)
    now = utcnow()
    base: dict[str, Any] = {"allocated_on": today, "created_at": now, "updated_at": now}
    rows: list[dict[str, Any]] = []
    total = _ZERO
    for client_id in companies:
        by_id = {invoice.id: invoice for invoice in invoices.get(client_id, [])}
        base["client_id"] = client_id
        # Money in the order it came: each payment its named invoice first, then the oldest.
        for payment in payments[client_id]:
            target = by_id.get((named or {}).get(payment.id, -1))
            for invoice in ([target] if target else []) + invoices.get(client_id, []):
                if payment.left <= 0:
                    break
                total += _settle(payment, invoice, rows, base)
    if rows:
        await session.execute(insert(PaymentAllocation), rows)
        await announce(session, {invoice_topic(row["invoice_id"]) for row in rows})
    return Allocated(amount=to_money(total), rows=len(rows))


# -- the import ---------------------------------------------------------------------------


@dataclass(slots=True)
class ImportSummary:
    lines: int = 0  # statement lines read (field 61), debits too
    credits: int = 0
    booked: int = 0  # credits booked as payments of a company
    duplicates: int = 0  # credits imported before: skipped
    unmatched: int = 0  # new credits of no recognised company: kept, booked to nobody
    debits: int = 0
    booked_amount: Decimal = _ZERO
    allocated_amount: Decimal = _ZERO  # settled to invoices by this import
    overpayments: Decimal = _ZERO  # what the booked companies still have unsettled
    unmatched_lines: list[Credit] = field(default_factory=list)


def _insert(session: AsyncSession) -> Any:
    """INSERT … ON CONFLICT DO NOTHING in the session's dialect."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    # Core, not the ORM's bulk insert: that leaves out the None values of each row, so rows
    # with Nones in other columns went in separate statements.
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_LINES)


def _line_row(match: Match, file_name: str | None, now: Any) -> dict[str, Any]:
    credit = match.credit
    return {
        "account": credit.account,
        "statement": credit.statement,
        "position": credit.position,
        "bank_reference": credit.bank_reference,
        "value_date": credit.value_date,
        "amount": credit.amount,
        "currency": credit.currency,
        "title": credit.title,
        "payer_iban": credit.payer_iban,
        "payer_name": credit.payer_name,
        "file_name": file_name,
        "client_id": match.client_id,
        "payment_id": None,
        "created_at": now,
        "updated_at": now,
    }


async def _claim_lines(
    session: AsyncSession, matches: list[Match], file_name: str | None
) -> list[tuple[int, Match]]:
    """Insert the lines not imported before; the unique key decides, also between two
    imports at once (the later waits for the earlier's commit, then inserts nothing).

    One statement with the rows as parameter sets: SQLAlchemy sends them in pages of many
    rows each and compiles the statement once, where `.values(rows)` built and compiled a new
    statement of 15 parameters a row for every page (most of a repeated import's time)."""
    if not matches:
        return []
    now = utcnow()
    keyed = {(m.credit.account, m.credit.statement, m.credit.position): m for m in matches}
    rows = [_line_row(m, file_name, now) for m in keyed.values()]
    result = await session.execute(
        _insert(session)
        .on_conflict_do_nothing(index_elements=["account", "statement", "position"])
        .returning(_LINES.c.id, _LINES.c.account, _LINES.c.statement, _LINES.c.position),
        rows,
    )
    return [(line_id, keyed[(a, s, p)]) for line_id, a, s, p in result]


async def _book_payments(session: AsyncSession, claimed: list[tuple[int, Match]]) -> dict[int, int]:
    """A payment per new matched line; answers payment id → the invoice its title named."""
    booked = [(line_id, m) for line_id, m in claimed if m.client_id is not None]
    if not booked:
        return {}
    now = utcnow()
    rows = [
        {
            "client_id": m.client_id,
            "booked_on": m.credit.value_date,
            "amount": m.credit.amount,
            "currency": Currency(m.credit.currency),
            "title": m.credit.title[:200],
            "payer_iban": m.credit.payer_iban,
            "source": PaymentSource.TRANSFER,
            "created_at": now,
            "updated_at": now,
        }
        for _, m in booked
    ]
    ids = await _insert_payments(session, rows)
    await session.execute(
        update(_LINES)
        .where(_LINES.c.id == bindparam("line"))
        .values(payment_id=bindparam("payment")),
        [{"line": line_id, "payment": pid} for (line_id, _), pid in zip(booked, ids, strict=True)],
    )
    return {
        pid: m.invoice_id
        for (_, m), pid in zip(booked, ids, strict=True)
        if m.invoice_id is not None
    }


async def _insert_payments(session: AsyncSession, rows: list[dict[str, Any]]) -> list[int]:
    """The rows' new ids, in the rows' order, in a number of statements that does not grow
    with the rows. PostgreSQL keeps RETURNING in parameter order; SQLite cannot without a
    sentinel column, and SQLAlchemy would send one INSERT a row there, so the ids are given
    here: a write transaction holds SQLite's write lock from its BEGIN (hub/db.py), so the ids
    after the largest are nobody else's."""
    if session.get_bind().dialect.name == "postgresql":
        statement = insert(_PAYMENTS).returning(_PAYMENTS.c.id, sort_by_parameter_order=True)
        return list((await session.execute(statement, rows)).scalars())
    largest = (await session.execute(select(func.max(col(Payment.id))))).scalar_one() or 0
    ids = list(range(largest + 1, largest + 1 + len(rows)))
    numbered = [row | {"id": pk} for row, pk in zip(rows, ids, strict=True)]
    await session.execute(insert(_PAYMENTS), numbered)
    return ids


async def book_statement(
    session: AsyncSession, *, content: str, file_name: str | None, today: date
) -> ImportSummary:
    """Parse, match, book and allocate one MT940 file in the caller's transaction."""
    parsed = parse_statement(content)
    matches = await match_credits(session, credits=parsed.credits)
    claimed = await _claim_lines(session, matches, file_name)
    named = await _book_payments(session, claimed)
    allocated = await allocate(session, today=today, named=named)
    booked = [m for _, m in claimed if m.client_id is not None]
    unmatched = [m.credit for _, m in claimed if m.client_id is None]
    companies = sorted({m.client_id for m in booked if m.client_id is not None})
    left = await _open_payments(session, companies) if companies else {}
    return ImportSummary(
        lines=parsed.lines,
        credits=len(parsed.credits),
        booked=len(booked),
        duplicates=len(parsed.credits) - len(claimed),
        unmatched=len(unmatched),
        debits=parsed.debits,
        booked_amount=to_money(sum((m.credit.amount for m in booked), _ZERO)),
        allocated_amount=allocated.amount,
        overpayments=to_money(sum((p.left for ps in left.values() for p in ps), _ZERO)),
        unmatched_lines=unmatched,
    )


def _invalid(detail: str) -> UserErrorData:
    return UserErrorData(
        field="content",
        code="INVALID_STATEMENT",
        message=_("The file is not an MT940 statement that can be read: {detail}", detail=detail),
    )


async def import_statement(
    ctx: Context, *, content: str, file_name: str | None
) -> tuple[ImportSummary | None, list[UserErrorData]]:
    """The staff mutation `statementImport`: the same booking as `leasehub import-statement`."""
    try:
        async with ctx.db.write() as session:
            summary = await book_statement(
                session, content=content, file_name=file_name, today=ctx.today
            )
    except InvalidStatement as error:
        return None, [_invalid(str(error))]
    return summary, []


# -- manual allocation --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ManualAllocation:
    payment_global_id: str
    invoice_global_id: str
    amount: Decimal


def _error(field_name: str, code: str, message: Any) -> UserErrorData:
    return UserErrorData(field=field_name, code=code, message=message)


def _amount_error(amount: Decimal) -> UserErrorData | None:
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        return _error(
            "amount", "INVALID_AMOUNT", _("Give a positive amount with at most two decimals.")
        )
    return None


async def _left_and_due(
    session: AsyncSession, payment_id: int, invoice_id: int
) -> tuple[int, Decimal, int, Decimal, InvoiceKind]:
    payment = (
        await session.execute(
            select(col(Payment.client_id), PAYMENT_LEFT).where(col(Payment.id) == payment_id)
        )
    ).first()
    if payment is None:
        raise NotFoundError(field="paymentId")
    invoice = (
        await session.execute(
            select(col(Invoice.client_id), INVOICE_DUE, col(Invoice.kind)).where(
                col(Invoice.id) == invoice_id
            )
        )
    ).first()
    if invoice is None or invoice[0] != payment[0]:
        # Another company's invoice answers as a missing one.
        raise Abort(_error("invoiceId", "NOT_FOUND", _("No such invoice of this client.")))
    return payment[0], to_money(payment[1]), invoice[0], to_money(invoice[1]), invoice[2]


async def allocate_payment(
    ctx: Context, order: ManualAllocation
) -> tuple[PaymentAllocation | None, list[UserErrorData]]:
    """Staff settle part of a payment's unallocated money against one invoice of the same
    company: never more than is left of the payment nor than the invoice still has due. The
    company is locked while its sums are read, so parallel allocations cannot exceed either."""
    payment_id = pk_of(order.payment_global_id, "Payment", field="paymentId")
    invoice_id = pk_of(order.invoice_global_id, "Invoice", field="invoiceId")
    if error := _amount_error(order.amount):
        return None, [error]
    try:
        async with ctx.db.write() as session:
            owner = (
                await session.execute(
                    select(col(Payment.client_id)).where(col(Payment.id) == payment_id)
                )
            ).scalar_one_or_none()
            if owner is None:
                raise NotFoundError(field="paymentId")
            await lock_clients(session, [owner])
            client_id, left, _owner, due, kind = await _left_and_due(
                session, payment_id, invoice_id
            )
            if kind is InvoiceKind.CORRECTION:
                raise Abort(
                    _error(
                        "invoiceId",
                        "NOTHING_DUE",
                        _("A correcting invoice is settled by the invoice it corrects."),
                    )
                )
            if order.amount > left:
                message = _("The payment has only {amount} left to allocate.", amount=left)
                raise Abort(_error("amount", "MORE_THAN_UNALLOCATED", message))
            if order.amount > due:
                message = _("The invoice has only {amount} left to pay.", amount=due)
                raise Abort(_error("amount", "MORE_THAN_DUE", message))
            row = PaymentAllocation(
                client_id=client_id,
                payment_id=payment_id,
                invoice_id=invoice_id,
                amount=to_money(order.amount),
                allocated_on=ctx.today,
            )
            session.add(row)
            await session.flush()
            await announce(session, [invoice_topic(invoice_id)])
    except Abort as abort:
        return None, abort.errors
    return row, []


__all__ = [
    "Credit",
    "ImportSummary",
    "InvalidStatement",
    "ManualAllocation",
    "allocate",
    "allocate_payment",
    "book_statement",
    "decode",
    "import_statement",
    "parse_statement",
    "subfields",
]
