"""Filing a request (REQ-2..5), answering in its history (REQ-6) and marking that history read.

Filing validates the input against the one description of every form, the request catalogue
(`FORMS`): the fields a kind's form lists (required, options, limits, text lengths) generically,
then each kind's own rules; a payment-day or schedule change is simulated by the same code as
`contract.scheduleSimulation` and stored with the request. One unit of work then writes the
request, its first history entry, the files it claims and the confirmation e-mail, or nothing.

Idempotency is the database's: the unique key (client, idempotency key) lets one of parallel
filings in. A retry finds the first filing (before any other check, so that a retry whose files
were claimed by the first one still answers it) and answers with it; a key reused for another
kind or contract is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.access import require_scope, require_staff_permission
from auth.errors import NotFoundError
from auth.scopes import Scope
from auth.staff import StaffPermission
from models.base import stored_id
from models.contract import Contract, ContractStatus, Instalment
from models.i18n import DEFAULT_LANGUAGE, Msg, _, translate
from models.outbox import Channel
from models.request import (
    OPEN_STAGES,
    Request,
    RequestStage,
    RequestStageEntry,
    RequestType,
    response_due_on,
)
from resolvers import outbox
from resolvers.attachments import FIELD_IDS, claim_attachments
from resolvers.context import Context
from resolvers.errors import Abort, UserErrorData
from resolvers.ids import pk_of
from resolvers.request import REQUEST_TYPES
from resolvers.request_catalogue import (
    FORMS,
    FormField,
    FormFieldKind,
    InstalmentOption,
    KindForm,
)
from resolvers.simulation import (
    ScheduleChange,
    Simulation,
    simulate_payment_day,
    simulate_schedule_change,
    simulation_to_json,
)
from resolvers.validation import found, number_error, text_error

KEY_MAX = 64
TEXT_MAX = 1000  # a form's text field, unless the catalogue sets its own `max`
COMMENT_MAX = 4000  # a reply: the history entry's column
NAME_MAX, EMAIL_MAX, PHONE_MAX = 200, 254, 20  # the request's contact columns
NUMBER_ATTEMPTS = 50  # parallel filings of other companies may take the same next number
# Kinds that change the contract they name: an ended or terminated one has nothing to change.
CHANGES_CONTRACT = frozenset(
    {
        RequestType.PAYMENT_DAY_CHANGE,
        RequestType.CONTRACT_VALUE_CHANGE,
        RequestType.SCHEDULE_CHANGE,
        RequestType.SCHEDULE_CHANGE_OFFER,
        RequestType.EARLY_TERMINATION_OFFER,
    }
)
# Fields whose rules are the simulation's (resolvers/simulation.py), with its codes.
SIMULATED: Mapping[RequestType, frozenset[str]] = {
    RequestType.PAYMENT_DAY_CHANGE: frozenset({"day"}),
    RequestType.SCHEDULE_CHANGE: frozenset({"residualPercent", "months", "instalments", "amounts"}),
}
# Checked once for the whole filing, not as a kind's own field.
TOP_LEVEL = frozenset(
    {FormFieldKind.CONTRACT, FormFieldKind.ATTACHMENT, FormFieldKind.CONTACT_PERSON}
)
OTHER_REASON = "OTHER"

_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_PHONE_PUNCTUATION = re.compile(r"[\s\-().]")
_POSTAL_CODE = re.compile(r"\d{2}-\d{3}")  # Polish: 00-950


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    phone: str
    email: str


@dataclass(frozen=True, slots=True)
class Filing:
    """A filing as the client sends it: `parts` holds every kind part given (one is right),
    each as its form's field names → values (enums as their value)."""

    client_global_id: str
    idempotency_key: str
    contact: Contact
    accepted_statements: tuple[str, ...]
    parts: Mapping[RequestType, Mapping[str, Any]]
    contract_global_id: str | None = None
    attachment_global_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Checked:
    """A filing that passed every check without the database."""

    client_id: int
    kind: RequestType
    values: Mapping[str, Any]
    contract_id: int | None
    attachment_ids: tuple[int, ...] = field(default_factory=tuple)


class _KeyTaken(Exception):
    """A parallel filing with the same key was first: roll back, then answer with it."""


def _error(field_name: str | None, code: str, message: Msg) -> UserErrorData:
    return UserErrorData(field=field_name, code=code, message=message)


def _required(field_name: str) -> UserErrorData:
    return _error(field_name, "REQUIRED", _("{field} is required.", field=field_name))


# ---- checks without the database ---------------------------------------------------------


def email_error(value: str, field_name: str) -> UserErrorData | None:
    if len(value) > EMAIL_MAX or not _EMAIL.fullmatch(value.strip()):
        return _error(field_name, "INVALID_EMAIL", _("Not an e-mail address."))
    return None


def phone_error(value: str, field_name: str) -> UserErrorData | None:
    """A Polish number of nine digits (with or without +48 / 0048) or an international one,
    +country code and number, 8–15 digits in all (ITU-T E.164); spaces, dashes, brackets and
    dots between the digits are allowed."""
    digits = _PHONE_PUNCTUATION.sub("", value.strip())
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    national = digits.isdigit() and len(digits) == 9
    polish = digits.startswith("+48") and digits[3:].isdigit() and len(digits) == 12
    foreign = not digits.startswith("+48") and digits[1:].isdigit() and 8 <= len(digits) - 1 <= 15
    if len(value.strip()) <= PHONE_MAX and (national or polish or (digits[:1] == "+" and foreign)):
        return None
    message = _("Give a Polish phone number of 9 digits or an international one with +.")
    return _error(field_name, "INVALID_PHONE", message)


def postal_code_error(value: str | None, field_name: str) -> UserErrorData | None:
    if value is None or not value.strip() or _POSTAL_CODE.fullmatch(value.strip()):
        return None
    return _error(field_name, "INVALID_POSTAL_CODE", _("Give a postal code as 00-000."))


def one_kind(parts: Mapping[RequestType, Mapping[str, Any]]) -> RequestType | UserErrorData:
    if len(parts) != 1:
        message = _("Give exactly one kind of request.")
        return _error(None, "ONE_KIND_REQUIRED", message)
    return next(iter(parts))


def key_error(key: str) -> UserErrorData | None:
    if 1 <= len(key) <= KEY_MAX and key.isascii() and key.isprintable():
        return None
    message = _("Give an idempotency key of 1–64 printable ASCII characters.")
    return _error("idempotencyKey", "INVALID_IDEMPOTENCY_KEY", message)


def contact_errors(contact: Contact) -> list[UserErrorData]:
    errors = found(text_error(contact.name, field="contact.name", limit=NAME_MAX))
    if error := phone_error(contact.phone, "contact.phone"):
        errors.append(error)
    if error := email_error(contact.email, "contact.email"):
        errors.append(error)
    return errors


def statement_errors(form: KindForm, accepted: Sequence[str]) -> list[UserErrorData]:
    """Exactly the form's statements: each one accepted, none made up."""
    known = {statement.id for statement in form.statements}
    errors = []
    if unknown := sorted(set(accepted) - known):
        message = _("Unknown statements: {ids}.", ids=", ".join(unknown))
        errors.append(_error("acceptedStatements", "UNKNOWN_STATEMENT", message))
    if missing := [s.id for s in form.statements if s.id not in accepted]:
        message = _("Accept every statement of the form: {ids}.", ids=", ".join(missing))
        errors.append(_error("acceptedStatements", "STATEMENT_NOT_ACCEPTED", message))
    return errors


def contract_error(form: KindForm, contract_global_id: str | None) -> UserErrorData | None:
    if form.needs_contract and contract_global_id is None:
        return _required("contractId")
    if not form.needs_contract and contract_global_id is not None:
        message = _("This kind of request is not about a contract: leave the contract out.")
        return _error("contractId", "CONTRACT_NOT_ALLOWED", message)
    return None


def attachment_error(form: KindForm, ids: Sequence[str]) -> UserErrorData | None:
    if form.attachments.required and not ids:
        message = _("This request needs a document attached.")
        return _error(FIELD_IDS, "ATTACHMENT_REQUIRED", message)
    return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _limit_error(spec: FormField, value: Decimal | int) -> UserErrorData | None:
    low, high = spec.min, spec.max
    if (low is None or value >= low) and (high is None or value <= high):
        return None
    shown = ("…" if limit is None else limit for limit in (low, high))
    message = _("Give a value from {low} to {high}.", low=next(shown), high=next(shown))
    return _error(spec.name, "OUT_OF_RANGE", message)


def _number_error(spec: FormField, value: Any) -> UserErrorData | None:
    """Money: finite, two places, above its minimum; a percentage: two places; then limits."""
    if spec.kind in (FormFieldKind.MONEY, FormFieldKind.PERCENT):
        positive = spec.kind is FormFieldKind.MONEY and spec.min is not None and spec.min > 0
        if error := number_error(Decimal(value), field=spec.name, positive=positive):
            return error
    return _limit_error(spec, value)


def value_error(spec: FormField, value: Any) -> UserErrorData | None:
    """What the catalogue says of one field: required, options, text length, number limits."""
    if _blank(value):
        return _required(spec.name) if spec.required else None
    if spec.options and str(value) not in {option.value for option in spec.options}:
        message = _("Choose one of the form's options.")
        return _error(spec.name, "NOT_AN_OPTION", message)
    if spec.kind is FormFieldKind.TEXT:
        limit = int(spec.max) if spec.max is not None else TEXT_MAX
        return text_error(str(value), field=spec.name, limit=limit, required=False)
    if spec.kind in (FormFieldKind.MONEY, FormFieldKind.PERCENT, FormFieldKind.MONTHS):
        return _number_error(spec, value)
    return None


def field_errors(form: KindForm, values: Mapping[str, Any]) -> list[UserErrorData]:
    ruled = SIMULATED.get(form.kind, frozenset())
    return [
        error
        for spec in form.fields
        if spec.kind not in TOP_LEVEL and spec.name not in ruled
        if (error := value_error(spec, values.get(spec.name))) is not None
    ]


def _payment_day_rules(values: Mapping[str, Any]) -> list[UserErrorData]:
    """The guide: a reason from the list, or "Inne" with the client's own words."""
    if values.get("reason") == OTHER_REASON and _blank(values.get("reasonText")):
        message = _("Describe the reason when you choose Other.")
        return [_error("reasonText", "REASON_TEXT_REQUIRED", message)]
    return []


def _address_rules(values: Mapping[str, Any]) -> list[UserErrorData]:
    return [e for e in (postal_code_error(values.get("postalCode"), "postalCode"),) if e]


def _client_data_rules(values: Mapping[str, Any]) -> list[UserErrorData]:
    """New contact data and/or a whole new address; at least one of them."""
    if all(_blank(value) for value in values.values()):
        message = _("Give the new data: an e-mail, a phone or an address.")
        return [_error(None, "NOTHING_TO_CHANGE", message)]
    errors = _address_rules(values)
    email, phone = values.get("email") or "", values.get("phone") or ""
    if email.strip() and (error := email_error(email, "email")):
        errors.append(error)
    if phone.strip() and (error := phone_error(phone, "phone")):
        errors.append(error)
    address = ("street", "postalCode", "city")
    if any(not _blank(values.get(name)) for name in address):
        errors += [_required(name) for name in address if _blank(values.get(name))]
    return errors


KIND_RULES: Mapping[RequestType, Callable[[Mapping[str, Any]], list[UserErrorData]]] = {
    RequestType.PAYMENT_DAY_CHANGE: _payment_day_rules,
    RequestType.REGISTERED_OFFICE_CHANGE: _address_rules,
    RequestType.CLIENT_DATA_CHANGE: _client_data_rules,
}


def _pk_or_error(global_id: str, type_name: str, field_name: str) -> int | UserErrorData:
    """A malformed id is answered as a missing row of the company (NOT_FOUND), not raised."""
    try:
        return pk_of(global_id, type_name, field=field_name)
    except NotFoundError:
        return _error(field_name, "NOT_FOUND", _("Not found."))


def _ids(filing: Filing) -> tuple[int | None, tuple[int, ...], list[UserErrorData]]:
    contract_id: int | None = None
    errors: list[UserErrorData] = []
    if filing.contract_global_id is not None:
        found = _pk_or_error(filing.contract_global_id, "Contract", "contractId")
        contract_id = found if isinstance(found, int) else None
        errors += [found] if isinstance(found, UserErrorData) else []
    ids = [_pk_or_error(gid, "Attachment", FIELD_IDS) for gid in filing.attachment_global_ids]
    errors += [e for e in ids if isinstance(e, UserErrorData)][:1]
    return contract_id, tuple(pk for pk in ids if isinstance(pk, int)), errors


def check(client_id: int, filing: Filing) -> Checked | list[UserErrorData]:
    """Every check that needs no database, all problems at once (one kind first)."""
    kind = one_kind(filing.parts)
    if isinstance(kind, UserErrorData):
        return [kind]
    form, values = FORMS[kind], filing.parts[kind]
    errors = [e for e in (key_error(filing.idempotency_key),) if e]
    errors += contact_errors(filing.contact)
    errors += statement_errors(form, filing.accepted_statements)
    errors += [e for e in (contract_error(form, filing.contract_global_id),) if e]
    errors += [e for e in (attachment_error(form, filing.attachment_global_ids),) if e]
    errors += field_errors(form, values)
    errors += KIND_RULES.get(kind, lambda _values: [])(values)
    contract_id, attachment_ids, id_errors = _ids(filing)
    if errors := errors + id_errors:
        return errors
    return Checked(client_id, kind, values, contract_id, attachment_ids)


# ---- checks with the database ------------------------------------------------------------


async def _earlier(ctx: Context, client_id: int, key: str) -> Request | None:
    async with ctx.db.read() as session:
        found = await session.execute(
            select(Request).where(
                col(Request.client_id) == client_id, col(Request.idempotency_key) == key
            )
        )
        return found.scalars().first()


def _same_filing(earlier: Request, checked: Checked) -> list[UserErrorData]:
    if earlier.type is checked.kind and earlier.contract_id == checked.contract_id:
        return []
    message = _("This idempotency key was used for another request; use a new key.")
    return [_error("idempotencyKey", "IDEMPOTENCY_KEY_REUSED", message)]


async def _contract(session: AsyncSession, checked: Checked) -> Contract | None:
    """The named contract: the company's own (another's is missing) and, where the kind
    changes it, active."""
    if checked.contract_id is None:
        return None
    contract = await session.get(Contract, checked.contract_id)
    if contract is None or contract.client_id != checked.client_id:
        raise Abort(_error("contractId", "NOT_FOUND", _("No such contract of this client.")))
    if checked.kind in CHANGES_CONTRACT and contract.status is not ContractStatus.ACTIVE:
        raise Abort(_error("contractId", "CONTRACT_NOT_ACTIVE", _("The contract is not active.")))
    return contract


def schedule_change(values: Mapping[str, Any]) -> ScheduleChange:
    percent, months = values.get("residualPercent"), values.get("months")
    return ScheduleChange(
        residual_percent=None if percent is None else Decimal(percent),
        months=None if months is None else int(months),
        option=InstalmentOption(values.get("instalments") or InstalmentOption.AUTO),
        amounts={int(a["number"]): Decimal(a["net"]) for a in values.get("amounts") or ()},
    )


async def _simulation(
    session: AsyncSession, ctx: Context, checked: Checked, contract: Contract | None
) -> Simulation | None:
    """The what-if schedule a payment-day or schedule change is filed with (or Abort with
    the simulation's own errors)."""
    if contract is None or checked.kind not in SIMULATED:
        return None
    rows = await session.execute(
        select(Instalment).where(col(Instalment.contract_id) == contract.id)
    )
    instalments = list(rows.scalars())
    if checked.kind is RequestType.PAYMENT_DAY_CHANGE:
        day = int(checked.values["day"])
        result = simulate_payment_day(contract, instalments, today=ctx.today, day=day)
    else:
        change = schedule_change(checked.values)
        result = simulate_schedule_change(contract, instalments, today=ctx.today, change=change)
    if isinstance(result, list):
        raise Abort(*result)
    return result


# ---- the write ---------------------------------------------------------------------------


def json_safe(value: Any) -> Any:
    """Details as JSON: decimals as strings (never a float), enums as their values."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Mapping):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def details_of(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: json_safe(value) for name, value in values.items() if not _blank(value)}


async def _next_number(session: AsyncSession, prefix: str) -> str:
    """The series' next number (WN/2026/000042): the demo's numbers are in the same series."""
    highest = (
        await session.execute(
            select(func.max(col(Request.number))).where(col(Request.number).like(prefix + "%"))
        )
    ).scalar_one()
    return f"{prefix}{int(highest.rsplit('/', 1)[1]) + 1 if highest else 1:06d}"


async def _key_taken(session: AsyncSession, client_id: int, key: str) -> bool:
    found = await session.execute(
        select(col(Request.id)).where(
            col(Request.client_id) == client_id, col(Request.idempotency_key) == key
        )
    )
    return found.first() is not None


# How the two databases name a clash on `requests.number` (its unnamed unique constraint).
NUMBER_NAMES = ("requests_number_key", "requests.number")


async def _insert(session: AsyncSession, ctx: Context, make: Callable[[str], Request]) -> Request:
    """The request under the series' next number, in a savepoint: a unique violation rolls
    back only the attempt (PostgreSQL aborts the whole transaction otherwise). The key taken
    by a parallel filing ends the filing; a number taken by one is drawn again."""
    prefix = f"WN/{ctx.today.year}/"
    for _attempt in range(NUMBER_ATTEMPTS):
        request = make(await _next_number(session, prefix))
        try:
            async with session.begin_nested():
                session.add(request)
                await session.flush()
            return request
        except IntegrityError as error:
            if await _key_taken(session, request.client_id, request.idempotency_key or ""):
                raise _KeyTaken from None
            if not any(name in str(error.orig) for name in NUMBER_NAMES):
                raise  # not a clash of numbers (a contract gone meanwhile): no retry helps
    raise RuntimeError("no free request number after many attempts")


def _kind_label(kind: RequestType) -> Msg:
    return REQUEST_TYPES[kind][0]


def _confirm(session: AsyncSession, request: Request) -> None:
    """Polish, the portals' language: the contact person may not be the one who filed."""
    body = _(
        "We have received request {number} ({kind}). Customer service will answer by {due_on}; "
        "you can follow its stages and answer our questions in the client portal.",
        number=request.number,
        kind=_kind_label(request.type),
        due_on=request.due_on,
    )
    outbox.enqueue(
        session,
        channel=Channel.EMAIL,
        recipient=request.contact_email,
        template="request_filed",
        subject=translate(_("Request {number} received", number=request.number), DEFAULT_LANGUAGE),
        body=outbox.letter(DEFAULT_LANGUAGE, outbox.GREETING_COMPANY, body),
        client_id=request.client_id,
    )


def _request_factory(
    ctx: Context, checked: Checked, filing: Filing, simulation: Simulation | None
) -> Callable[[str], Request]:
    contact = filing.contact

    def make(number: str) -> Request:
        return Request(
            client_id=checked.client_id,
            contract_id=checked.contract_id,
            number=number,
            type=checked.kind,
            stage=RequestStage.SUBMITTED,
            details=details_of(checked.values),
            contact_name=contact.name.strip(),
            contact_email=contact.email.strip(),
            contact_phone=contact.phone.strip(),
            created_by_id=ctx.viewer.user_id,
            idempotency_key=filing.idempotency_key,
            due_on=response_due_on(checked.kind, ctx.today),
            simulation=None if simulation is None else simulation_to_json(simulation),
            created_at=ctx.now,
            updated_at=ctx.now,
        )

    return make


async def _write(ctx: Context, checked: Checked, filing: Filing) -> Request:
    async with ctx.db.write() as session:
        contract = await _contract(session, checked)
        simulation = await _simulation(session, ctx, checked, contract)
        request = await _insert(session, ctx, _request_factory(ctx, checked, filing, simulation))
        entry = RequestStageEntry(
            client_id=checked.client_id,
            request_id=stored_id(request),
            stage=RequestStage.SUBMITTED,
            from_client=True,
            author_id=ctx.viewer.user_id,
            created_at=ctx.now,
            updated_at=ctx.now,
        )
        session.add(entry)
        await session.flush()
        await claim_attachments(
            session,
            ids=checked.attachment_ids,
            client_id=checked.client_id,
            now=ctx.now,
            request_stage_id=stored_id(entry),
        )
        _confirm(session, request)
    return request


async def _answer_earlier(
    ctx: Context, checked: Checked, key: str
) -> tuple[Request | None, list[UserErrorData]] | None:
    earlier = await _earlier(ctx, checked.client_id, key)
    if earlier is None:
        return None
    errors = _same_filing(earlier, checked)
    return (None if errors else earlier), errors


async def file_request(ctx: Context, filing: Filing) -> tuple[Request | None, list[UserErrorData]]:
    client_id = require_scope(
        ctx.viewer,
        pk_of(filing.client_global_id, "Client", field="clientId"),
        Scope.REQUESTS_WRITE,
        field="clientId",
    )
    checked = check(client_id, filing)
    if isinstance(checked, list):
        return None, checked
    if answered := await _answer_earlier(ctx, checked, filing.idempotency_key):
        return answered
    try:
        return await _write(ctx, checked, filing), []
    except Abort as abort:
        return None, abort.errors
    except _KeyTaken:
        answered = await _answer_earlier(ctx, checked, filing.idempotency_key)
        assert answered is not None, "the filing that took the key has committed"
        return answered


# ---- replies and read markers ------------------------------------------------------------


def comment_errors(comment: str) -> list[UserErrorData]:
    return found(text_error(comment, field="comment", limit=COMMENT_MAX))


async def _own_request(
    ctx: Context, session: AsyncSession, request_global_id: str, scope: Scope
) -> Request:
    """The request, for staff who manage requests or for a client holding `scope` in its
    company; another company's request is answered as a missing one."""
    row = await session.get(Request, pk_of(request_global_id, "Request", field="requestId"))
    if row is None:
        raise NotFoundError(field="requestId")
    if ctx.viewer.is_staff:
        require_staff_permission(ctx.viewer, StaffPermission.REQUESTS_MANAGE)
    else:
        require_scope(ctx.viewer, row.client_id, scope, field="requestId")
    return row


async def _touch_open(session: AsyncSession, ctx: Context, request: Request) -> RequestStage:
    """One conditional update: an open request takes the reply (a client's answer to
    WAITING_FOR_CLIENT sends it back IN_REVIEW), a decided or closed one refuses it. Parallel
    decisions wait for the row, so a reply never lands on a request decided meanwhile."""
    stage = col(Request.stage)
    new_stage: Any = stage
    if not ctx.viewer.is_staff:
        waiting = stage == RequestStage.WAITING_FOR_CLIENT
        new_stage = case((waiting, RequestStage.IN_REVIEW.value), else_=stage)
    moved = await session.execute(
        update(Request)
        .where(col(Request.id) == request.id, stage.in_(OPEN_STAGES))
        .values(stage=new_stage, updated_at=ctx.now)
        .returning(col(Request.stage))
        .execution_options(synchronize_session=False)
    )
    now_stage = moved.scalar_one_or_none()
    if now_stage is None:
        message = _("The request is decided or closed: it takes no more replies.")
        raise Abort(_error("requestId", "REQUEST_CLOSED", message))
    return RequestStage(now_stage)


def _tell_client(session: AsyncSession, request: Request) -> None:
    """Polish, the portals' language: staff's own says nothing about the client's. The text
    stays behind the portal's login, as with every other notice (the contact address was
    typed at filing and is not checked)."""
    body = _(
        "Customer service has written about your request {number} ({kind}). Read the message "
        "and answer in the client portal.",
        number=request.number,
        kind=_kind_label(request.type),
    )
    subject = _("New message about request {number}", number=request.number)
    outbox.enqueue(
        session,
        channel=Channel.EMAIL,
        recipient=request.contact_email,
        template="request_staff_reply",
        subject=translate(subject, DEFAULT_LANGUAGE),
        body=outbox.letter(DEFAULT_LANGUAGE, outbox.GREETING_COMPANY, body),
        client_id=request.client_id,
    )


async def reply(
    ctx: Context, *, request_global_id: str, comment: str, attachment_global_ids: Sequence[str]
) -> tuple[Request | None, list[UserErrorData]]:
    """A comment (with files) in the request's history: the client's answer, or staff's
    message to the client (the stage stays; the client is e-mailed)."""
    if errors := comment_errors(comment):
        return None, errors
    ids = [_pk_or_error(gid, "Attachment", FIELD_IDS) for gid in attachment_global_ids]
    if bad := [e for e in ids if isinstance(e, UserErrorData)]:
        return None, bad[:1]
    try:
        async with ctx.db.write() as session:
            request = await _own_request(ctx, session, request_global_id, Scope.REQUESTS_WRITE)
            stage = await _touch_open(session, ctx, request)
            entry = RequestStageEntry(
                client_id=request.client_id,
                request_id=stored_id(request),
                stage=stage,
                comment=comment.strip(),
                from_client=not ctx.viewer.is_staff,
                author_id=ctx.viewer.user_id,
                created_at=ctx.now,
                updated_at=ctx.now,
            )
            session.add(entry)
            await session.flush()
            await claim_attachments(
                session,
                ids=[pk for pk in ids if isinstance(pk, int)],
                client_id=request.client_id,
                now=ctx.now,
                request_stage_id=stored_id(entry),
            )
            if ctx.viewer.is_staff:
                _tell_client(session, request)
            await session.refresh(request)
    except Abort as abort:
        return None, abort.errors
    return request, []


async def mark_read(ctx: Context, *, request_global_id: str) -> Request:
    """Marks the other side's entries read (staff read the client's, the client staff's);
    marking again changes nothing. A client needs to see requests; staff must act (an
    auditor's look leaves the operators' unread markers alone)."""
    async with ctx.db.write() as session:
        request = await _own_request(ctx, session, request_global_id, Scope.REQUESTS_READ)
        await session.execute(
            update(RequestStageEntry)
            .where(
                col(RequestStageEntry.request_id) == request.id,
                col(RequestStageEntry.client_id) == request.client_id,
                col(RequestStageEntry.from_client) == ctx.viewer.is_staff,
                col(RequestStageEntry.read_at).is_(None),
            )
            .values(read_at=ctx.now)
            .execution_options(synchronize_session=False)
        )
    return request
