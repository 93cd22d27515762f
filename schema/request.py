"""GraphQL types of requests (wnioski) and the catalogue of request types."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from auth.scopes import Scope
from loaders.client import ClientByIdLoader
from loaders.contract import ContractByIdLoader
from loaders.identity import UserByIdLoader
from loaders.request import (
    AttachmentByIdLoader,
    AttachmentsByStageIdLoader,
    RequestByIdLoader,
    StagesByRequestIdLoader,
    UnreadByRequestIdLoader,
)
from models.attachment import Attachment as AttachmentRow
from models.attachment import AttachmentKind, AttachmentPurpose, AttachmentStatus
from models.i18n import Language, translate
from models.request import (
    OPEN_STAGES,
    RequestDecision,
    RequestStage,
    RequestStageEntry,
    RequestType,
)
from models.request import Request as RequestRow
from resolvers.attachments import ATTACHMENT
from resolvers.links import link
from resolvers.node import attachment_access, in_client
from resolvers.request import REQUEST_TYPES
from resolvers.simulation import simulation_from_json
from schema.base import Info, Node, node_id, node_type, scoped
from schema.refs import ClientRef, ContractRef
from schema.simulation import ScheduleSimulation

if TYPE_CHECKING:
    from schema.admin import AdminUser

for _enum, _description in (
    (AttachmentKind, "What a file is, decided by its content."),
    (AttachmentPurpose, "What a file is uploaded for: a request (filing, reply) or a message."),
    (AttachmentStatus, "Where a staged upload stands."),
):
    strawberry.enum(_enum, description=_description)


@strawberry.type(description="A file attached to a request stage or a message.")
@node_type(AttachmentRow, loader=AttachmentByIdLoader, access=attachment_access)
class Attachment(Node):
    id: strawberry.ID = node_id("Attachment")
    filename: str = strawberry.field(description="The name as the client gave it, for display.")
    content_type: str
    size: int
    sha256: str
    kind: AttachmentKind | None = strawberry.field(
        description="Decided by the content at upload; empty for files stored before."
    )
    status: AttachmentStatus

    @strawberry.field(description="A filing, reply or message has used the file (only once).")
    def used(self, root: AttachmentRow) -> bool:
        hangs = root.request_stage_id is not None or root.message_id is not None
        return root.claimed_at is not None or hangs

    @strawberry.field(description="A link, valid for 5 minutes, to the file; once uploaded.")
    def download_url(self, root: AttachmentRow, info: Info) -> str | None:
        if root.status is not AttachmentStatus.READY:
            return None
        return link(info.context, kind=ATTACHMENT, object_id=root.id)  # type: ignore[arg-type]


@strawberry.type(description="A step of a request's history.")
class RequestStageChange:
    stage: RequestStage
    comment: str
    from_client: bool = strawberry.field(description="Written by the client, not the lessor.")
    created_at: datetime

    @strawberry.field
    async def attachments(self, root: RequestStageEntry, info: Info) -> list[Attachment]:
        return await info.context.loaders[AttachmentsByStageIdLoader].load(root.id)

    @strawberry.field(
        description="The other side has read it: staff an entry of the client, the client "
        "one of staff (requestMarkRead)."
    )
    def read(self, root: RequestStageEntry) -> bool:
        return root.read_at is not None

    @strawberry.field(description="Who wrote it: the person's name; null when unknown.")
    async def author(self, root: RequestStageEntry, info: Info) -> str | None:
        if root.author_id is None:
            return None
        user = await info.context.loaders[UserByIdLoader].load(root.author_id)
        return None if user is None else f"{user.first_name} {user.last_name}".strip()


@strawberry.type(description="A request to change a contract or to get a document.")
@node_type(RequestRow, loader=RequestByIdLoader, access=in_client(Scope.REQUESTS_READ))
class Request(Node):
    id: strawberry.ID = node_id("Request")
    number: str
    type: RequestType
    stage: RequestStage
    details: JSON = strawberry.field(description="The type's own fields, as filed.")
    contact_name: str
    contact_email: str
    contact_phone: str
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="The lessor waits for the client's answer.")
    def awaiting_client(self, root: RequestRow) -> bool:
        return root.stage is RequestStage.WAITING_FOR_CLIENT

    @strawberry.field(description="Stage history with messages, oldest first.")
    async def history(self, root: RequestRow, info: Info) -> list[RequestStageChange]:
        return await info.context.loaders[StagesByRequestIdLoader].load(root.id)

    @strawberry.field(
        description="History entries of the other side the viewer has not read: staff's for "
        "the client, the client's for staff."
    )
    async def unread_count(self, root: RequestRow, info: Info) -> int:
        # The viewer reads the other side's entries: staff the client's, the client staff's.
        key = (root.id, info.context.viewer.is_staff)
        return await info.context.loaders[UnreadByRequestIdLoader].load(key)

    @strawberry.field(description="The company that filed it.")
    async def client(self, root: RequestRow, info: Info) -> ClientRef:
        return await info.context.loaders[ClientByIdLoader].load(root.client_id)

    @strawberry.field(extensions=scoped(Scope.CONTRACTS_READ))
    async def contract(self, root: RequestRow, info: Info) -> ContractRef | None:
        if root.contract_id is None:
            return None
        return await info.context.loaders[ContractByIdLoader].load(root.contract_id)

    @strawberry.field(
        description="The what-if schedule a payment-day or schedule change was filed with; "
        "accepting the request applies exactly this. Needs contracts:read, as the contract.",
        extensions=scoped(Scope.CONTRACTS_READ),
    )
    async def simulation(self, root: RequestRow, info: Info) -> ScheduleSimulation | None:
        if root.simulation is None or root.contract_id is None:
            return None
        contract = await info.context.loaders[ContractByIdLoader].load(root.contract_id)
        if contract is None:
            return None
        return ScheduleSimulation.of(simulation_from_json(root.simulation), contract.currency)

    decision: RequestDecision | None = strawberry.field(
        description="Customer service's decision; null until decided."
    )
    answer: str | None = strawberry.field(description="Customer service's final answer.")
    decided_at: datetime | None
    due_on: date | None = strawberry.field(
        description="The last day (Warsaw) customer service has to decide, in working days "
        "per kind from filing."
    )

    @strawberry.field(description="Still open after its deadline (dueOn before today).")
    def overdue(self, root: RequestRow, info: Info) -> bool:
        due_on = root.due_on
        return root.stage in OPEN_STAGES and due_on is not None and due_on < info.context.today

    @strawberry.field(description="The staff member who took the request; null for clients.")
    async def assignee(
        self, root: RequestRow, info: Info
    ) -> Annotated[AdminUser, strawberry.lazy("schema.admin")] | None:
        if root.assignee_id is None or not info.context.viewer.is_staff:
            return None
        return await info.context.loaders[UserByIdLoader].load(root.assignee_id)


@strawberry.type(description="A kind of request a client may file.")
class RequestTypeInfo:
    type: RequestType
    name: str
    description: str

    @classmethod
    def of(cls, kind: RequestType, language: Language) -> RequestTypeInfo:
        name, description = REQUEST_TYPES[kind]
        return cls(
            type=kind, name=translate(name, language), description=translate(description, language)
        )
