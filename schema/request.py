"""GraphQL types of requests (wnioski) and the catalogue of request types."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from auth.scopes import Scope
from loaders.request import (
    AttachmentByIdLoader,
    AttachmentsByStageIdLoader,
    RequestByIdLoader,
    StagesByRequestIdLoader,
)
from models.attachment import Attachment as AttachmentRow
from models.attachment import AttachmentKind, AttachmentPurpose, AttachmentStatus
from models.i18n import Language, translate
from models.request import Request as RequestRow
from models.request import RequestStage, RequestStageEntry, RequestType
from resolvers.attachments import ATTACHMENT
from resolvers.links import link
from resolvers.node import attachment_access, in_client
from resolvers.request import REQUEST_TYPES
from schema.base import Info, Node, node_id, node_type

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
