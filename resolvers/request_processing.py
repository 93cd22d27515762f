"""Customer service processes requests (REQ-6, issue 12 points 5 and 6): the staff queue,
taking a request, moving its stage, writing to the client and deciding.

Every write rule holds in the database, not in Python: a stage moves by a conditional UPDATE on
the stage it was read in (of two staff moving at once one wins, the other hears
STAGE_CHANGED_MEANWHILE), and a request is decided by an UPDATE that only an open request
passes (parallel decisions give one decision and one effect). An accepted decision's effect —
new due dates, a new schedule, the company's new data — is written in the decision's own
transaction: a failure anywhere leaves the request undecided and the data as it was.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, delete, insert, not_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.access import require_staff_read
from auth.scopes import Scope
from auth.staff import StaffPermission
from loaders.paging import Ordering, Page
from models.client import Client
from models.contract import Contract, ContractStatus, Instalment
from models.deletion import DeletableTable, DeletedRow
from models.finance import ScheduleRow
from models.i18n import DEFAULT_LANGUAGE, Msg, _, translate
from models.outbox import Channel
from models.request import (
    OPEN_STAGES,
    Request,
    RequestDecision,
    RequestStage,
    RequestStageEntry,
    RequestType,
)
from resolvers import outbox
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData
from resolvers.ids import pk_of
from resolvers.paging import root_list
from resolvers.simulation import (
    Simulation,
    simulate_payment_day,
    simulation_from_json,
    split_schedule,
)
from resolvers.staff import active_staff_with
from resolvers.validation import found, text_error

# The nearest deadline first; the id keeps cursors stable among requests due on one day.
QUEUE_ORDERING = Ordering(("due_on",), descending=False)
COMMENT_MAX = 4000  # what staff write with a stage move, as the client writes a reply
ANSWER_MAX = 8000  # requests.answer, and whole in its history entry

# The moves staff make by hand; deciding (COMPLETED, REJECTED) goes through `decide` only.
MOVES: dict[RequestStage, frozenset[RequestStage]] = {
    RequestStage.SUBMITTED: frozenset({RequestStage.IN_REVIEW}),
    RequestStage.IN_REVIEW: frozenset({RequestStage.WAITING_FOR_CLIENT}),
    RequestStage.WAITING_FOR_CLIENT: frozenset({RequestStage.IN_REVIEW}),
    RequestStage.COMPLETED: frozenset({RequestStage.CLOSED}),
    RequestStage.REJECTED: frozenset({RequestStage.CLOSED}),
}
DECIDED_STAGE = {
    RequestDecision.ACCEPTED: RequestStage.COMPLETED,
    RequestDecision.REJECTED: RequestStage.REJECTED,
}


def _error(field: str | None, code: str, message: Msg) -> UserErrorData:
    return UserErrorData(field=field, code=code, message=message)


NOT_FOUND = _error("requestId", "NOT_FOUND", _("Not found."))
ALREADY_DECIDED = _error("requestId", "ALREADY_DECIDED", _("The request has already been decided."))
CHANGED_MEANWHILE = _error(
    "stage",
    "STAGE_CHANGED_MEANWHILE",
    _("Someone changed the request's stage meanwhile; look at it again."),
)
OUTDATED = _error(
    "requestId",
    "SIMULATION_OUTDATED",
    _(
        "The contract's schedule has changed since the request was filed; the client has to "
        "file it again."
    ),
)


# ---- the queue ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueFilter:
    stages: frozenset[RequestStage] = frozenset()
    kinds: frozenset[RequestType] = frozenset()
    client_global_id: str | None = None
    assignee_global_id: str | None = None
    unassigned: bool | None = None
    overdue: bool | None = None


def _overdue(ctx: Context) -> Any:
    """Still undecided after its deadline (Warsaw working days, fixed at filing)."""
    return and_(col(Request.stage).in_(OPEN_STAGES), col(Request.due_on) < ctx.today)


def _queue_query(ctx: Context, wanted: QueueFilter) -> Select[Any]:
    # Every request has a deadline since migration 0013 (backfilled, set at filing); keyset
    # cursors compare it, so a row without one could never be paged past.
    query = select(Request).where(col(Request.due_on).is_not(None))
    if wanted.stages:
        query = query.where(col(Request.stage).in_(wanted.stages))
    if wanted.kinds:
        query = query.where(col(Request.type).in_(wanted.kinds))
    if wanted.client_global_id is not None:
        client_pk = pk_of(wanted.client_global_id, "Client", field="clientId")
        query = query.where(col(Request.client_id) == client_pk)
    if wanted.assignee_global_id is not None:
        user_pk = pk_of(wanted.assignee_global_id, "User", field="assigneeId")
        query = query.where(col(Request.assignee_id) == user_pk)
    if wanted.unassigned is not None:
        nobody = col(Request.assignee_id).is_(None)
        query = query.where(nobody if wanted.unassigned else not_(nobody))
    if wanted.overdue is not None:
        query = query.where(_overdue(ctx) if wanted.overdue else not_(_overdue(ctx)))
    return query


async def request_queue(
    ctx: Context, *, wanted: QueueFilter, first: int | None, after: str | None
) -> Page[Request]:
    """Every company's requests for customer service: staff whose role reads requests."""
    require_staff_read(ctx.viewer, Scope.REQUESTS_READ)
    return await root_list(
        ctx,
        _queue_query(ctx, wanted),
        model=Request,
        ordering=QUEUE_ORDERING,
        first=first,
        after=after,
    )


# ---- shared by the writes ----------------------------------------------------------------


async def _moved(
    session: AsyncSession,
    ctx: Context,
    pk: int,
    *,
    from_stages: Sequence[RequestStage],
    **values: Any,
) -> bool:
    """One conditional UPDATE: only a request still in one of `from_stages` changes."""
    result = await session.execute(
        update(Request)
        .where(col(Request.id) == pk, col(Request.stage).in_(from_stages))
        .values(updated_at=ctx.now, **values)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


def _entry(ctx: Context, request: Request, stage: RequestStage, comment: str) -> RequestStageEntry:
    return RequestStageEntry(
        client_id=request.client_id,
        request_id=request.id or 0,
        stage=stage,
        comment=comment,
        from_client=False,
        author_id=ctx.viewer.user_id,
        created_at=ctx.now,
        updated_at=ctx.now,
    )


def _email_contact(
    session: AsyncSession, request: Request, *, template: str, subject: Msg, body: Msg
) -> None:
    """To the person the request names for contact, in Polish (the portals' language: the staff
    member's own says nothing about the reader's). The text stays in the portal: the e-mail
    only says there is something to read."""
    outbox.enqueue(
        session,
        channel=Channel.EMAIL,
        recipient=request.contact_email,
        template=template,
        subject=translate(subject, DEFAULT_LANGUAGE),
        body=outbox.letter(DEFAULT_LANGUAGE, outbox.GREETING_COMPANY, body),
        client_id=request.client_id,
    )


async def _fresh(session: AsyncSession, pk: int) -> Request:
    request = await session.get(Request, pk, populate_existing=True)
    if request is None:
        raise Abort(NOT_FOUND)
    return request


# ---- taking a request --------------------------------------------------------------------


async def _staff_member(session: AsyncSession, pk: int) -> int:
    """An active staff member whose role processes requests (an auditor only looks)."""
    if await active_staff_with(session, pk, StaffPermission.REQUESTS_MANAGE) is None:
        raise Abort(_error("assigneeId", "NOT_FOUND", _("Not found.")))
    return pk


async def assign(
    ctx: Context, *, request_global_id: str, assignee_global_id: str | None
) -> tuple[Request | None, list[UserErrorData]]:
    """ "Take a request": it gets an assignee (the caller unless named), and a request nobody
    looked at yet moves to IN_REVIEW."""
    pk = pk_of(request_global_id, "Request", field="requestId")
    assignee_pk = (
        pk_of(assignee_global_id, "User", field="assigneeId")
        if assignee_global_id is not None
        else ctx.viewer.user_id
    )
    try:
        async with ctx.db.write() as session:
            assignee_id = await _staff_member(session, assignee_pk or 0)
            if not await _moved(session, ctx, pk, from_stages=OPEN_STAGES, assignee_id=assignee_id):
                await _fresh(session, pk)  # NOT_FOUND when missing
                raise Abort(ALREADY_DECIDED)
            submitted = (RequestStage.SUBMITTED,)
            started = await _moved(
                session, ctx, pk, from_stages=submitted, stage=RequestStage.IN_REVIEW
            )
            request = await _fresh(session, pk)
            if started:
                session.add(_entry(ctx, request, RequestStage.IN_REVIEW, ""))
    except Abort as abort:
        return None, abort.errors
    ctx.loaders.clear()
    return request, []


# ---- stage changes -----------------------------------------------------------------------


def _move_errors(current: RequestStage, target: RequestStage) -> list[UserErrorData]:
    if target in DECIDED_STAGE.values():
        message = _("A request is accepted or rejected with requestDecide.")
        return [_error("stage", "USE_REQUEST_DECIDE", message)]
    if target is current:
        return [_error("stage", "STAGE_UNCHANGED", _("The request is in this stage already."))]
    if target not in MOVES.get(current, frozenset()):
        message = _(
            "A request cannot move from {current} to {target}.", current=current, target=target
        )
        return [_error("stage", "STAGE_CHANGE_NOT_ALLOWED", message)]
    return []


async def read_stage(session: AsyncSession, pk: int) -> RequestStage:
    """The stage the move starts from (the move holds only while it is still this one)."""
    return (await _fresh(session, pk)).stage


async def change_stage(
    ctx: Context, *, request_global_id: str, stage: RequestStage, comment: str
) -> tuple[Request | None, list[UserErrorData]]:
    pk = pk_of(request_global_id, "Request", field="requestId")
    waiting = stage is RequestStage.WAITING_FOR_CLIENT  # what the client must answer
    errors = found(text_error(comment, field="comment", limit=COMMENT_MAX, required=waiting))
    if errors:
        return None, errors
    try:
        async with ctx.db.write() as session:
            current = await read_stage(session, pk)
            if errors := _move_errors(current, stage):
                raise Abort(*errors)
            if not await _moved(session, ctx, pk, from_stages=(current,), stage=stage):
                raise Abort(CHANGED_MEANWHILE)
            request = await _fresh(session, pk)
            session.add(_entry(ctx, request, stage, comment.strip()))
            if waiting:
                _email_contact(
                    session,
                    request,
                    template="request_waiting",
                    subject=_(
                        "Request {number}: we are waiting for your answer", number=request.number
                    ),
                    body=_(
                        "Customer service has written to you about request {number} and is "
                        "waiting for your answer. Read the message and answer in the client "
                        "portal.",
                        number=request.number,
                    ),
                )
    except Abort as abort:
        return None, abort.errors
    ctx.loaders.clear()
    return request, []


# ---- decisions and their effects ---------------------------------------------------------


async def _contract(session: AsyncSession, request: Request) -> Contract:
    """The request's contract, locked: no other change of it runs beside the effect."""
    contract = None
    if request.contract_id is not None:
        contract = await session.get(Contract, request.contract_id, with_for_update=True)
    if contract is None or contract.client_id != request.client_id:
        raise Abort(_error("contractId", "NOT_FOUND", _("No such contract of this client.")))
    if contract.status is not ContractStatus.ACTIVE:  # ended since filing
        raise Abort(_error("contractId", "CONTRACT_NOT_ACTIVE", _("The contract is not active.")))
    return contract


async def _instalments(session: AsyncSession, contract: Contract) -> list[Instalment]:
    query = select(Instalment).where(col(Instalment.contract_id) == contract.id)
    return list((await session.execute(query)).scalars())


def _still_unpaid(contract: Contract, number: int) -> Any:
    """A future instalment that is still open to change: an invoice fixes it."""
    return and_(
        col(Instalment.contract_id) == contract.id,
        col(Instalment.number) == number,
        col(Instalment.invoice_id).is_(None),
    )


async def _update_instalment(
    session: AsyncSession, contract: Contract, number: int, values: dict[str, Any]
) -> None:
    result = await session.execute(
        update(Instalment)
        .where(_still_unpaid(contract, number))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if int(result.rowcount or 0) != 1:  # type: ignore[attr-defined]
        raise Abort(OUTDATED)  # invoiced since it was read


async def _update_contract(session: AsyncSession, contract: Contract, **values: Any) -> None:
    await session.execute(
        update(Contract)
        .where(col(Contract.id) == contract.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def _move_payment_day(session: AsyncSession, ctx: Context, request: Request) -> None:
    """The unpaid future instalments fall due on the new day of their months; amounts stay."""
    contract = await _contract(session, request)
    day = int(request.details["day"])
    simulation = simulate_payment_day(
        contract, await _instalments(session, contract), today=ctx.today, day=day
    )
    if isinstance(simulation, list):
        raise Abort(*simulation)
    for row in simulation.instalments:
        await _update_instalment(
            session, contract, row.number, {"due_date": row.due_date, "updated_at": ctx.now}
        )
    last_due = max(row.due_date for row in simulation.instalments)
    await _update_contract(
        session, contract, payment_day=day, end_date=last_due, updated_at=ctx.now
    )


@dataclass(frozen=True, slots=True)
class _Sums:
    instalment: Decimal
    total_interest: Decimal
    total_to_pay: Decimal


def _sums(rows: Sequence[Instalment | ScheduleRow], residual: Decimal) -> _Sums:
    """As resolvers/simulation.py sums the schedule a simulation started from."""
    zero = Decimal("0.00")
    return _Sums(
        instalment=rows[0].net if rows else zero,
        total_interest=sum((row.interest for row in rows), zero),
        total_to_pay=sum((row.gross for row in rows), zero) + residual,
    )


def _check_current(
    contract: Contract, instalments: list[Instalment], today: date, simulation: Simulation
) -> list[Instalment]:
    """The unpaid future instalments the simulation replaces; SIMULATION_OUTDATED when one of
    them became fixed (invoiced, due) since filing, or the schedule changed otherwise."""
    split = split_schedule(contract, instalments, today)
    first = min((row.number for row in simulation.instalments), default=0)
    before = simulation.before
    filed = _Sums(before.instalment, before.total_interest, before.total_to_pay)
    if (
        not split.future
        or split.future[0].number != first
        or contract.payment_day != simulation.payment_day
        or _sums(split.future, contract.residual_value) != filed
    ):
        raise Abort(OUTDATED)
    return split.future


def _row_values(row: ScheduleRow, simulation: Simulation, ctx: Context) -> dict[str, Any]:
    category = simulation.vat_category
    return {
        "due_date": row.due_date,
        "capital": row.capital,
        "interest": row.interest,
        "net": row.net,
        "vat_category": category,
        "vat_rate": category.percent,
        "vat": row.vat,
        "gross": row.gross,
        "remaining_capital": row.remaining_capital,
        "updated_at": ctx.now,
    }


async def _replace_schedule(session: AsyncSession, ctx: Context, request: Request) -> None:
    """The stored simulation becomes the schedule: rows of the same number change in place (so
    BI pulls by `updatedSince` see them), new numbers are added, numbers past the new term go."""
    if request.simulation is None:
        raise Abort(OUTDATED)
    simulation = simulation_from_json(request.simulation)
    contract = await _contract(session, request)
    future = _check_current(contract, await _instalments(session, contract), ctx.today, simulation)
    existing = {row.number for row in future}
    for row in simulation.instalments:
        values = _row_values(row, simulation, ctx)
        if row.number in existing:
            await _update_instalment(session, contract, row.number, values)
        else:
            session.add(
                Instalment(
                    client_id=contract.client_id,
                    contract_id=contract.id or 0,
                    number=row.number,
                    created_at=ctx.now,
                    **values,
                )
            )
    await _drop_past_term(session, ctx, contract, term_months=simulation.term_months)
    await _write_contract_terms(session, ctx, contract, simulation)


async def _drop_past_term(
    session: AsyncSession, ctx: Context, contract: Contract, *, term_months: int
) -> None:
    """Unpaid instalments past the new term go, each leaving a `DeletedRow`: a BI pull by
    `updatedSince` never sees a row that is gone. Two statements however many rows: the
    DELETE answers the ids it removed (RETURNING: SQLite 3.35+, PostgreSQL), so exactly the
    rows that went are recorded, in the decision's transaction: a decision that fails later
    records nothing."""
    gone = await session.execute(
        delete(Instalment)
        .where(
            col(Instalment.contract_id) == contract.id,
            col(Instalment.number) > term_months,
            col(Instalment.invoice_id).is_(None),
        )
        .returning(col(Instalment.id))
    )
    records = [
        {
            "client_id": contract.client_id,
            "table_name": DeletableTable.INSTALMENTS,
            "row_id": row_id,
            "deleted_at": ctx.now,
        }
        for row_id in gone.scalars()
    ]
    if records:
        await session.execute(insert(DeletedRow), records)


async def _write_contract_terms(
    session: AsyncSession, ctx: Context, contract: Contract, simulation: Simulation
) -> None:
    last_due = max(row.due_date for row in simulation.instalments)
    await _update_contract(
        session,
        contract,
        term_months=simulation.term_months,
        residual_value=simulation.residual_value,
        end_date=last_due,
        updated_at=ctx.now,
    )


# The form's field names (resolvers/request_catalogue.py) → the company's columns.
CLIENT_FIELDS = {
    "email": "email",
    "phone": "phone",
    "street": "street",
    "postalCode": "postal_code",
    "city": "city",
}
OFFICE_FIELDS = ("street", "postalCode", "city")


def _client_values(details: dict[str, Any], fields: Sequence[str]) -> dict[str, str]:
    values = {}
    for name in fields:
        given = str(details.get(name) or "").strip()
        if not given:
            continue  # a field left out keeps the company's value
        column = CLIENT_FIELDS[name]
        if len(given) > Client.__table__.c[column].type.length:  # type: ignore[attr-defined]
            message = _("{field} is too long for the company's data.", field=name)
            raise Abort(_error(name, "TOO_LONG", message))
        values[column] = given
    return values


async def _change_client(
    session: AsyncSession, ctx: Context, request: Request, fields: Sequence[str]
) -> None:
    values = _client_values(request.details, fields)
    if values:
        await session.execute(
            update(Client)
            .where(col(Client.id) == request.client_id)
            .values(updated_at=ctx.now, **values)
            .execution_options(synchronize_session=False)
        )


async def _change_client_data(session: AsyncSession, ctx: Context, request: Request) -> None:
    await _change_client(session, ctx, request, tuple(CLIENT_FIELDS))


async def _change_office(session: AsyncSession, ctx: Context, request: Request) -> None:
    await _change_client(session, ctx, request, OFFICE_FIELDS)


Effect = Callable[[AsyncSession, Context, Request], Awaitable[None]]
# What an accepted request changes; the other kinds are answered, not applied.
EFFECTS: dict[RequestType, Effect] = {
    RequestType.PAYMENT_DAY_CHANGE: _move_payment_day,
    RequestType.SCHEDULE_CHANGE: _replace_schedule,
    RequestType.CLIENT_DATA_CHANGE: _change_client_data,
    RequestType.REGISTERED_OFFICE_CHANGE: _change_office,
}


def _notify_decision(session: AsyncSession, request: Request, decision: RequestDecision) -> None:
    accepted = decision is RequestDecision.ACCEPTED
    _email_contact(
        session,
        request,
        template="request_decided",
        subject=(
            _("Request {number} has been accepted", number=request.number)
            if accepted
            else _("Request {number} has been rejected", number=request.number)
        ),
        body=_(
            "Customer service has decided on request {number}. Read the answer in the client "
            "portal.",
            number=request.number,
        ),
    )


async def decide(
    ctx: Context, *, request_global_id: str, decision: RequestDecision, answer: str
) -> tuple[Request | None, list[UserErrorData]]:
    """Once per request: the decision, the final answer, the effect, the history entry and the
    e-mail, in one transaction."""
    pk = pk_of(request_global_id, "Request", field="requestId")
    if errors := found(text_error(answer, field="answer", limit=ANSWER_MAX)):
        return None, errors
    stage = DECIDED_STAGE[decision]
    try:
        async with ctx.db.write() as session:
            values = {"decision": decision, "decided_at": ctx.now, "answer": answer.strip()}
            if not await _moved(session, ctx, pk, from_stages=OPEN_STAGES, stage=stage, **values):
                await _fresh(session, pk)  # NOT_FOUND when missing
                raise Abort(ALREADY_DECIDED)
            request = await _fresh(session, pk)
            effect = EFFECTS.get(request.type)
            if decision is RequestDecision.ACCEPTED and effect is not None:
                await effect(session, ctx, request)
            session.add(_entry(ctx, request, stage, answer.strip()))
            _notify_decision(session, request, decision)
    except Abort as abort:
        return None, abort.errors
    ctx.loaders.clear()
    return request, []
