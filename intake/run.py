"""Validating and writing intake records in batches.

Each record is checked on its own first (its cells, then the records it names); a record with
any problem is refused and reported (row, field, code, message) and the others go on: one bad
row never holds back good ones. The valid records of a batch are then written in one
transaction: a failure there (a number already used by a record the hub made itself, a
connection lost) leaves nothing of that batch and refuses all its records with BATCH_FAILED.

Writing is idempotent by external id: a new record is inserted, a record whose columns
differ is updated (and its `updated_at` moves, so BI pulls send it again), an identical one is
left alone. A batch sends the same statements whatever its size: one SELECT per kind of record
named, one SELECT of the records already there, one INSERT and one UPDATE with the rows as
parameter sets (Core statements, built once per import), and for invoices one SELECT of the
companies invoiced before and one INSERT of the notices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from auth.clock import warsaw_today
from intake.fields import Problem
from intake.files import FileFormat, Record, chunks, record_of
from intake.kinds import CLIENT, Found, Kind, Refs, Values, kinds
from models.audit import record_audit
from models.base import utcnow
from models.client import Client
from models.i18n import DEFAULT_LANGUAGE, Msg, _, translate
from models.identity import User
from models.invoice import Invoice
from models.outbox import Channel, OutboxMessage
from resolvers.booking import allocate, lock_clients
from resolvers.errors import UserErrorData
from resolvers.invoice_issue import invoice_notices
from resolvers.outbox import GREETING_COMPANY, letter

if TYPE_CHECKING:
    from hub.db import Database
    from hub.settings import Settings

BATCH_ROWS = 1000
EXTERNAL_ID_LIMIT = 64

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    field: str | None
    code: str
    message: str | Msg


@dataclass
class Summary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0
    errors: list[RowError] = field(default_factory=list)


@dataclass(slots=True)
class _Parsed:
    row: int
    external_id: str
    values: Values
    named: dict[str, str | None]  # reference name → the named record's external id


@dataclass(slots=True)
class _Outcome:
    """What one batch did, merged into the summary once its transaction committed."""

    created: list[tuple[_Parsed, Refs]] = field(default_factory=list)
    updated: list[tuple[int, _Parsed]] = field(default_factory=list)
    unchanged: int = 0
    companies: set[int] = field(default_factory=set)  # of the records written


def _required(row: int, name: str) -> RowError:
    return RowError(row, name, "REQUIRED", _("{field} is required.", field=name))


def _external_id(record: Record) -> tuple[str | None, list[RowError]]:
    value = record.cells.get("external_id")
    if value is None:
        return None, [_required(record.row, "external_id")]
    if len(value) > EXTERNAL_ID_LIMIT:
        message = _("At most {limit} characters.", limit=EXTERNAL_ID_LIMIT)
        return None, [RowError(record.row, "external_id", "TOO_LONG", message)]
    return value, []


def parse(kind: Kind, record: Record) -> _Parsed | list[RowError]:
    """A record's cells as typed values, or every problem of its cells at once."""
    external_id, errors = _external_id(record)
    values: Values = {}
    for column in kind.columns:
        cell = record.cells.get(column.name)
        if cell is None:
            values[column.name] = column.default
            if column.required:
                errors.append(_required(record.row, column.name))
            continue
        try:
            values[column.name] = column.parse(cell)
        except Problem as problem:
            errors.append(RowError(record.row, column.name, problem.code, problem.message))
    named = {ref.name: record.cells.get(ref.name) for ref in kind.references}
    errors += [
        _required(record.row, ref.name)
        for ref in kind.references
        if ref.required and named[ref.name] is None
    ]
    if errors or external_id is None:
        return errors
    return _Parsed(record.row, external_id, values, named)


class _Statements:
    """A kind's statements, built once per import so each is compiled once."""

    def __init__(self, kind: Kind) -> None:
        table: sa.Table = kind.model.__table__  # type: ignore[attr-defined]
        self.table = table
        self.existing = sa.select(
            table.c.external_id, table.c.id, *(table.c[name] for name in kind.stored)
        ).where(table.c.external_id.in_(sa.bindparam("ids", expanding=True)))
        self.insert = sa.insert(table)
        self.update = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("p_id"))
            .values(
                {name: sa.bindparam(f"p_{name}") for name in kind.stored}
                | {"updated_at": sa.bindparam("p_updated_at")}
            )
        )
        self.references = reference_selects(kind)


def reference_selects(kind: Kind) -> dict[str, Any]:
    """Per reference, the named records by external id, with the columns the checks read."""
    return {
        ref.name: sa.select(
            ref.model.__table__.c.external_id,  # type: ignore[attr-defined]
            *(ref.model.__table__.c[name] for name in ref.reads),  # type: ignore[attr-defined]
        ).where(
            ref.model.__table__.c.external_id.in_(  # type: ignore[attr-defined]
                sa.bindparam("ids", expanding=True)
            )
        )
        for ref in kind.references
    }


_INVOICES: sa.Table = Invoice.__table__  # type: ignore[attr-defined]
_INVOICED = (
    sa.select(_INVOICES.c.client_id)
    .where(_INVOICES.c.client_id.in_(sa.bindparam("ids", expanding=True)))
    .distinct()
)
_OUTBOX = sa.insert(OutboxMessage.__table__)  # type: ignore[attr-defined]


class Intake:
    """One import of one kind: feed it records chunk by chunk, then read `summary`."""

    def __init__(
        self,
        db: Database,
        kind: Kind,
        *,
        dry_run: bool,
        portal_url: str,
        batch_rows: int = BATCH_ROWS,
        progress: Progress | None = None,
        settings: Settings | None = None,
        today: date | None = None,
    ) -> None:
        self.db = db
        self.progress = progress
        self.kind = kind
        self.dry_run = dry_run
        self.portal_url = portal_url
        self.settings = settings
        self.today = today or warsaw_today(utcnow())
        self.batch_rows = batch_rows
        self.summary = Summary()
        self._sql = self._statements(kind)
        self._seen: set[str] = set()
        # A dry run writes nothing, so records the file names of its own kind (a correction's
        # invoice) are looked up here: the valid ones met so far, with what the checks read.
        self._met: dict[str, Found] = {}
        self._waiting: list[_Parsed] = []

    def _statements(self, kind: Kind) -> Any:
        return _Statements(kind)

    async def feed(self, records: Iterable[Record]) -> None:
        for record in records:
            self.summary.rows += 1
            parsed = parse(self.kind, record)
            if isinstance(parsed, list):
                self._refuse_all(parsed)
            elif parsed.external_id in self._seen:
                message = _("This external id appears earlier in the file.")
                duplicate = RowError(parsed.row, "external_id", "DUPLICATE_IN_FILE", message)
                self._refuse_all([duplicate])
            else:
                self._seen.add(parsed.external_id)
                self._waiting.append(parsed)
            if len(self._waiting) >= self.batch_rows:
                await self._flush()

    async def finish(self) -> Summary:
        await self._flush()
        return self.summary

    def _refuse_all(self, errors: list[RowError]) -> None:
        self.summary.refused += 1
        self.summary.errors += errors

    async def _flush(self) -> None:
        batch, self._waiting = self._waiting, []
        if not batch:
            return
        errors_before = len(self.summary.errors)
        outcome = _Outcome()
        try:
            if self.dry_run:
                async with self.db.read() as session:
                    await self._batch(session, batch, outcome)
            else:
                async with self.db.write() as session:
                    await self._batch(session, batch, outcome)
        except IntegrityError:
            self._batch_failed(batch, errors_before)
        else:
            self.summary.created += len(outcome.created)
            self.summary.updated += len(outcome.updated)
            self.summary.unchanged += outcome.unchanged
        if self.progress:
            self.progress(self.summary.rows)

    def _batch_failed(self, batch: list[_Parsed], errors_before: int) -> None:
        """Nothing of the batch was written: each of its records is refused, once."""
        refused = {error.row for error in self.summary.errors[errors_before:]}
        message = _(
            "Nothing of this batch was written: a record conflicts with one the hub holds "
            "(a number or key used by another record). Correct it and import the file again."
        )
        for parsed in batch:
            if parsed.row not in refused:
                self._refuse_all([RowError(parsed.row, None, "BATCH_FAILED", message)])

    async def _batch(self, session: AsyncSession, batch: list[_Parsed], outcome: _Outcome) -> None:
        """In rounds: a record naming another of its own kind in the same batch (a correction
        and its invoice) waits for the round after the named one's."""
        while batch:
            now, later = self._round_split(batch)
            await self._round(session, now, outcome)
            batch = later
        if self.kind.settles and outcome.companies and not self.dry_run:
            # Once the whole batch is in (a correction lowers what its invoice asks): money
            # paid over what was owed settles new invoices and new money settles open ones,
            # as when staff issue an invoice or a bank statement is booked.
            await allocate(session, today=self.today, client_ids=sorted(outcome.companies))

    def _round_split(self, batch: list[_Parsed]) -> tuple[list[_Parsed], list[_Parsed]]:
        own = [ref.name for ref in self.kind.references if ref.model is self.kind.model]
        if not own:
            return batch, []
        here = {parsed.external_id for parsed in batch}
        later = [p for p in batch if any(p.named[name] in here for name in own)]
        if not later or len(later) == len(batch):  # none, or a cycle: refused as unknown
            return batch, []
        waiting = {id(p) for p in later}
        return [p for p in batch if id(p) not in waiting], later

    async def _round(self, session: AsyncSession, rows: list[_Parsed], outcome: _Outcome) -> None:
        found = await self._references(session, rows)
        ready = [(p, refs) for p in rows if (refs := self._complete(p, found)) is not None]
        existing = await self._existing(session, [p.external_id for p, _ in ready])
        created: list[tuple[_Parsed, Refs]] = []
        updated: list[tuple[int, _Parsed]] = []
        for parsed, refs in ready:
            old = existing.get(parsed.external_id)
            if old is None:
                created.append((parsed, refs))
            elif self._moved(parsed, old):
                continue
            elif any(old[name] != parsed.values[name] for name in self.kind.stored):
                updated.append((old["id"], parsed))
            else:
                outcome.unchanged += 1
        if self.dry_run:
            self._remember(created)
        else:
            await self._write(session, created, updated, existing)
        outcome.created += created
        outcome.updated += updated
        if self.kind.settles:
            written = [p for p, _ in created] + [p for _, p in updated]
            outcome.companies.update(p.values["client_id"] for p in written)

    async def _references(
        self, session: AsyncSession, rows: list[_Parsed]
    ) -> dict[str, dict[str, Found]]:
        found: dict[str, dict[str, Found]] = {}
        for ref in self.kind.references:
            ids = sorted({i for p in rows if (i := p.named[ref.name]) is not None})
            result = await session.execute(self._sql.references[ref.name], {"ids": ids})
            found[ref.name] = {row["external_id"]: row for row in result.mappings()}
            if ref.model is self.kind.model:
                found[ref.name] = self._met | found[ref.name]
        return found

    def _complete(self, parsed: _Parsed, found: dict[str, dict[str, Found]]) -> Refs | None:
        """The named records, the derived columns and the checks that need them; None (and
        the record refused) on any problem."""
        refs: Refs = {}
        errors: list[UserErrorData] = []
        for ref in self.kind.references:
            named = parsed.named[ref.name]
            refs[ref.name] = None if named is None else found[ref.name].get(named)
            if named is not None and refs[ref.name] is None:
                message = _("No record with external id {id} in the hub.", id=named)
                errors.append(UserErrorData(ref.name, "UNKNOWN_REFERENCE", message))
            if ref.column:
                named_row = refs[ref.name]
                parsed.values[ref.column] = None if named_row is None else named_row["id"]
        if not errors:
            errors = self.kind.complete(parsed.values, refs)
        if errors:
            self._refuse_all([RowError(parsed.row, e.field, e.code, e.message) for e in errors])
            return None
        return refs

    def _moved(self, parsed: _Parsed, old: Found) -> bool:
        """A record of one company never moves to another (refused, CLIENT_CHANGED): its
        invoices, payments and history would follow it to a company that did not have them."""
        if "client_id" not in self.kind.stored or old["client_id"] == parsed.values["client_id"]:
            return False
        field = self.kind.references[0].name  # the record naming the company
        message = _("The record belongs to another client in the hub; it cannot be moved.")
        self._refuse_all([RowError(parsed.row, field, "CLIENT_CHANGED", message)])
        return True

    async def _existing(self, session: AsyncSession, ids: list[str]) -> dict[str, Found]:
        if not ids:
            return {}
        result = await session.execute(self._sql.existing, {"ids": ids})
        return {row["external_id"]: row for row in result.mappings()}

    def _remember(self, created: list[tuple[_Parsed, Refs]]) -> None:
        """A dry run's new records, for records of the file that name them."""
        if not any(ref.model is self.kind.model for ref in self.kind.references):
            return
        reads = {name for ref in self.kind.references for name in ref.reads}
        for parsed, _refs in created:
            values = parsed.values | {"id": None}
            self._met[parsed.external_id] = {k: v for k, v in values.items() if k in reads}

    async def _write(
        self,
        session: AsyncSession,
        created: list[tuple[_Parsed, Refs]],
        updated: list[tuple[int, _Parsed]],
        existing: dict[str, Found],
    ) -> None:
        now = utcnow()
        if created and self.kind.notices:
            await self._announce(session, created, now)
        if created:
            rows = [self._row(p, now) | {"created_at": now} for p, _ in created]
            table = self._sql.table
            inserted = await session.execute(
                self._sql.insert.returning(table.c.id, table.c.external_id), rows
            )
            ids = {external_id: pk for pk, external_id in inserted}
            for parsed, _refs in created:
                self._audit(session, ids[parsed.external_id], parsed, None)
        if updated:
            changes = [
                {f"p_{name}": p.values[name] for name in self.kind.stored}
                | {"p_id": pk, "p_updated_at": now}
                for pk, p in updated
            ]
            await session.execute(self._sql.update, changes)
            for pk, parsed in updated:
                self._audit(session, pk, parsed, existing[parsed.external_id])

    def _audit(self, session: AsyncSession, pk: int, parsed: _Parsed, old: Found | None) -> None:
        audit_row(
            session,
            table=self._sql.table.name,
            pk=pk,
            client_id=pk if self.kind.model is Client else parsed.values.get("client_id"),
            external_id=parsed.external_id,
            before=old,
            after={name: parsed.values[name] for name in self.kind.stored},
        )

    def _row(self, parsed: _Parsed, now: datetime) -> dict[str, Any]:
        values = {name: parsed.values[name] for name in self.kind.stored}
        return values | {"external_id": parsed.external_id, "updated_at": now}

    async def _announce(
        self, session: AsyncSession, created: list[tuple[_Parsed, Refs]], now: datetime
    ) -> None:
        """INV-8 for each new invoice, and AUTH-8 first for a company never invoiced before:
        asked before the batch's invoices go in, so the batch's first is the first."""
        client_ids = sorted({p.values["client_id"] for p, _ in created})
        # Locked first: a parallel import or invoiceIssue for the same company waits here, and
        # then sees this batch's invoices, so a company is welcomed once.
        await lock_clients(session, client_ids)
        invoiced = set((await session.execute(_INVOICED, {"ids": client_ids})).scalars())
        messages = []
        for parsed, refs in created:
            client = refs[CLIENT.name]
            assert client is not None
            first = client["id"] not in invoiced
            invoiced.add(client["id"])
            messages += _notice_rows(client, parsed, first=first, url=self.portal_url, now=now)
        await session.execute(_OUTBOX, messages)


def _plain(value: Any) -> Any:
    """An audit row is JSON: dates, amounts and enums as their text."""
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)


def audit_row(
    session: AsyncSession,
    *,
    table: str,
    pk: int,
    client_id: int | None,
    external_id: str,
    before: Found | None,
    after: Mapping[str, Any],
) -> None:
    """One audit row per imported record, with its id, company and the changed columns'
    before and after: the executemany statements' own rows name no record."""
    changes: dict[str, Any] = {"op": "insert" if before is None else "update"}
    changes["external_id"] = external_id
    for name, value in after.items():
        old = None if before is None else before[name]
        if old != value:
            changes[name] = [_plain(old), _plain(value)]
    record_audit(
        session.sync_session,
        object_type=table,
        object_key=str(pk),
        client_id=client_id,
        changes=changes,
    )


def _notice_rows(
    client: Found, parsed: _Parsed, *, first: bool, url: str, now: datetime
) -> list[dict[str, Any]]:
    """The outbox rows `outbox.email_client` writes, as parameter sets of one INSERT."""
    values = parsed.values
    notices = invoice_notices(
        company=client["name"],
        client_number=client["number"],
        invoice_number=values["number"],
        gross=values["gross"],
        currency=values["currency"],
        due_date=values["due_date"],
        first=first,
        portal_url=url,
    )
    return [
        {
            "channel": Channel.EMAIL,
            "recipient": client["einvoice_email"],
            "template": notice.template,
            "client_id": client["id"],
            "user_id": None,
            "subject": translate(notice.subject, DEFAULT_LANGUAGE),
            "body": letter(DEFAULT_LANGUAGE, GREETING_COMPANY, notice.body),
            "created_at": now,
            "updated_at": now,
        }
        for notice in notices
    ]


def open_intake(db: Database, kind: Kind, **options: Any) -> Intake:
    """Users are written by intake/users.py (a user, a membership, an invitation); every other
    kind is one table's rows."""
    if kind.model is not User:
        return Intake(db, kind, **options)
    from intake.users import UserIntake  # it builds on this module

    return UserIntake(db, kind, **options)


def kind_of(name: str, *, today: date) -> Kind | None:
    return kinds(today).get(name)


async def import_file(
    db: Database,
    *,
    kind: Kind,
    path: Path,
    file_format: FileFormat,
    dry_run: bool,
    portal_url: str,
    progress: Progress | None = None,
    batch_rows: int = BATCH_ROWS,
    settings: Settings | None = None,
) -> Summary:
    intake = open_intake(
        db,
        kind,
        dry_run=dry_run,
        portal_url=portal_url,
        batch_rows=batch_rows,
        progress=progress,
        settings=settings,
    )
    for chunk in chunks(path, file_format, chunk=batch_rows):
        await intake.feed(chunk)
    return await intake.finish()


async def import_rows(
    db: Database,
    *,
    kind: Kind,
    rows: list[dict[str, Any]],
    dry_run: bool,
    portal_url: str,
    settings: Settings | None = None,
    today: date | None = None,
) -> Summary:
    """Records given as objects (the staff mutation), numbered from 1."""
    intake = open_intake(
        db, kind, dry_run=dry_run, portal_url=portal_url, settings=settings, today=today
    )
    await intake.feed(record_of(number, row) for number, row in enumerate(rows, start=1))
    return await intake.finish()
