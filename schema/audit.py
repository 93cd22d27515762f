"""The audit log (`admin.auditLog`) and the access log (`client.accessLog`) as the API shows them,
and the one place every mutation is named for the audit log (`audit_mutations`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from inspect import isawaitable
from typing import Any

import strawberry
from strawberry import Schema
from strawberry.scalars import JSON

from loaders.client import ClientByIdLoader
from loaders.identity import AuthTokenByIdLoader, UserByIdLoader
from models.audit import AccessLogEntry as AccessLogRow
from models.audit import AuditEvent, acting
from models.identity import StaffRole, TokenKind
from models.identity import User as UserRow
from resolvers.audit import AuditFilter, object_id
from resolvers.ids import pk_of, to_global_id
from schema.base import Info
from schema.refs import ClientRef

AUDIT_ACTION = "audit_action"  # set on each mutation's resolver: the action it records


def audit_mutations(schema: Schema) -> Schema:
    """Every root mutation runs with its name as the action of the writes it makes: the audit
    log knows what a write was for without any resolver saying so, and a new mutation cannot
    be left out (a test checks each field)."""
    mutation = schema._schema.mutation_type
    for name, field in (mutation.fields if mutation else {}).items():
        if getattr(field.resolve, AUDIT_ACTION, None) is None and field.resolve is not None:
            field.resolve = _named(name, field.resolve)
    return schema


def _named(action: str, resolve: Any) -> Any:
    async def resolve_audited(source: Any, info: Any, **kwargs: Any) -> Any:
        with acting(replace(info.context.audit, action=action)):
            result = resolve(source, info, **kwargs)
            return await result if isawaitable(result) else result

    setattr(resolve_audited, AUDIT_ACTION, action)
    return resolve_audited


# -- types ----------------------------------------------------------------------------------------


@strawberry.type(description="A person named in the audit log.")
class AuditPerson:
    row: strawberry.Private[UserRow]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id("User", self.row.id or 0))

    @strawberry.field
    def email(self) -> str:
        return self.row.email

    @strawberry.field
    def name(self) -> str:
        return _name(self.row)

    @strawberry.field
    def staff_role(self) -> StaffRole | None:
        return self.row.staff_role


@strawberry.type(description="The session or API token a write was made with (never a secret).")
class AuditToken:
    id: strawberry.ID
    kind: TokenKind
    name: str | None


def _name(person: UserRow) -> str:
    return f"{person.first_name} {person.last_name}"


async def _person(info: Info, user_id: int | None) -> AuditPerson | None:
    if user_id is None:
        return None
    row = await info.context.loaders[UserByIdLoader].load(user_id)
    return None if row is None else AuditPerson(row=row)


@strawberry.type(
    description="One change of the audit log: an object a write created, changed or "
    "deleted (or one statement that changed many rows), who made it, from where, and why "
    "(the mutation or job). Rows of one transaction share `action`, `actor` and `requestId`."
)
class AuditEntry:
    action: str = strawberry.field(
        description="The mutation (`requestFile`), a job (`job:deliver_continuously`), a "
        "staff action recorded by its resolver (`user.unlock`), or `system`."
    )
    ip: str | None
    request_id: str | None = strawberry.field(
        description="The request's id (its X-Request-Id), shared by its rows."
    )
    object_type: str | None = strawberry.field(description="The table of the changed object.")
    changes: JSON = strawberry.field(
        description='`{"op": "insert"|"update"|"delete", column: [before, after], …}`; a '
        'statement: `{"op", "set", "where", "rows"}`. Secrets show as "***".'
    )
    details: JSON = strawberry.field(
        description="What a staff action's resolver added (its reason, say)."
    )

    @strawberry.field
    def id(self, root: AuditEvent) -> strawberry.ID:
        return strawberry.ID(to_global_id("AuditEntry", root.id or 0))

    @strawberry.field(description="When it was committed (UTC).")
    def at(self, root: AuditEvent) -> datetime:
        return root.created_at

    @strawberry.field(description="Who signed in: a client user or staff; null for jobs.")
    async def actor(self, root: AuditEvent, info: Info) -> AuditPerson | None:
        return await _person(info, root.actor_id)

    @strawberry.field(description="In the support view: the staff member behind the actor.")
    async def on_behalf_of(self, root: AuditEvent, info: Info) -> AuditPerson | None:
        return await _person(info, root.on_behalf_of_id)

    @strawberry.field(description="The account a staff action was about.")
    async def target_user(self, root: AuditEvent, info: Info) -> AuditPerson | None:
        return await _person(info, root.target_user_id)

    @strawberry.field(description="The session or API token used.")
    async def token(self, root: AuditEvent, info: Info) -> AuditToken | None:
        if root.token_id is None:
            return None
        row = await info.context.loaders[AuthTokenByIdLoader].load(root.token_id)
        if row is None:
            return None
        gid = strawberry.ID(to_global_id("ApiToken", root.token_id))
        return AuditToken(id=gid, kind=row.kind, name=row.name)

    @strawberry.field(description="The company whose data changed (kept after it is deleted).")
    def client_id(self, root: AuditEvent) -> strawberry.ID | None:
        client = root.client_id
        return None if client is None else strawberry.ID(to_global_id("Client", client))

    @strawberry.field(description="The company, while it exists.")
    async def client(self, root: AuditEvent, info: Info) -> ClientRef | None:
        if root.client_id is None:
            return None
        return await info.context.loaders[ClientByIdLoader].load(root.client_id)

    @strawberry.field(
        description="The changed object's global id, or `table:id` for rows the API does "
        "not show as objects; null for a statement that changed many rows."
    )
    def object_id(self, root: AuditEvent) -> str | None:
        return object_id(root.object_type, root.object_key)


@strawberry.input(description="All given conditions must hold.")
class AuditLogFilterInput:
    client_id: strawberry.ID | None = None
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="As the actor, the staff member behind them, or the target."
    )
    action: str | None = None
    object_id: str | None = strawberry.field(
        default=None, description="A global id, or `table:id` as `objectId` shows it."
    )
    from_: datetime | None = strawberry.field(default=None, name="from")
    to: datetime | None = strawberry.field(default=None, description="Exclusive.")

    def audit_filter(self) -> AuditFilter:
        return AuditFilter(
            client_id=None
            if self.client_id is None
            else pk_of(self.client_id, "Client", field="filter.clientId"),
            user_id=None
            if self.user_id is None
            else pk_of(self.user_id, "User", field="filter.userId"),
            action=self.action,
            object_id=self.object_id,
            since=self.from_,
            until=self.to,
        )


@strawberry.type(description="A person at the lessor, as the company sees them: no e-mail.")
class LessorPerson:
    name: str
    role: StaffRole | None


@strawberry.type(
    description="A person at the lessor read the company's data (RODO): who, when, which "
    "parts (the scopes read) and why."
)
class AccessLogEntry:
    parts: list[str] = strawberry.field(
        description="The parts read, as scopes (`invoices:read`, …)."
    )
    reason: str | None = strawberry.field(
        description="The reason given (the support view's, or the X-Access-Reason header)."
    )

    @strawberry.field
    def at(self, root: AccessLogRow) -> datetime:
        return root.created_at

    @strawberry.field(description="Who at the lessor looked (name and role).")
    async def who(self, root: AccessLogRow, info: Info) -> LessorPerson | None:
        person = await info.context.loaders[UserByIdLoader].load(root.staff_user_id)
        if person is None:
            return None
        return LessorPerson(name=_name(person), role=person.staff_role)

    @strawberry.field(description="Read through the support view, as this user of the company.")
    async def as_user(self, root: AccessLogRow, info: Info) -> str | None:
        if root.as_user_id is None:
            return None
        person = await info.context.loaders[UserByIdLoader].load(root.as_user_id)
        return None if person is None else _name(person)
