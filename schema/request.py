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
from models.i18n import Language, translate
from models.request import Request as RequestRow
from models.request import RequestStage, RequestStageEntry, RequestType
from resolvers.node import attachment_access, in_client
from resolvers.request import REQUEST_TYPES
from schema.base import Info, Node, node_id, node_type


@strawberry.type(description="A file attached to a request stage or a message.")
@node_type(AttachmentRow, loader=AttachmentByIdLoader, access=attachment_access)
class Attachment(Node):
    id: strawberry.ID = node_id("Attachment")
    filename: str
    content_type: str
    size: int
    sha256: str


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
