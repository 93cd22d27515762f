"""The staged upload of attachments: declare a file, then PUT its body to the returned link."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models.attachment import AttachmentPurpose
from resolvers import attachments
from schema.base import Info
from schema.identity import UserError, user_errors
from schema.request import Attachment


@strawberry.input(description="A file to upload: its company, name, type and exact size.")
class AttachmentUploadCreateInput:
    client_id: strawberry.ID
    file_name: str = strawberry.field(
        description="Shown as given; its type (.pdf, .doc, .docx, .zip, .jpg, .png) must "
        "match the content."
    )
    content_type: str
    size: int = strawberry.field(description="In bytes: the body must be exactly this long.")
    purpose: AttachmentPurpose = strawberry.field(
        default=AttachmentPurpose.REQUEST,
        description="REQUEST needs requests:write, MESSAGE messages:write; pictures (JPEG, "
        "PNG) go with messages only.",
    )


@strawberry.type
class AttachmentUploadCreatePayload:
    upload_url: str | None = strawberry.field(
        description="PUT the file's bytes here once, within 5 minutes."
    )
    upload_expires_at: datetime | None
    attachment: Attachment | None
    errors: list[UserError]


@strawberry.type
class AttachmentMutation:
    @strawberry.mutation(
        description="Declare a file to attach to a request, a reply or a message; the answer "
        "is a one-time upload link and the attachment's id, which one filing, reply or "
        "message may use once the upload succeeded."
    )
    async def attachment_upload_create(
        self, info: Info, input: AttachmentUploadCreateInput
    ) -> AttachmentUploadCreatePayload:
        row, url, errors = await attachments.declare(
            info.context,
            client_global_id=input.client_id,
            file_name=input.file_name,
            content_type=input.content_type,
            size=input.size,
            purpose=input.purpose,
        )
        return AttachmentUploadCreatePayload(
            upload_url=url,
            upload_expires_at=row.upload_expires_at if row else None,
            attachment=row,  # type: ignore[arg-type]
            errors=user_errors(errors),
        )
