"""Messages to people go into the outbox in the same transaction as the change behind them.

Each is written in one language, chosen by the caller: the request's (`ctx.language`) when the
message goes to the person who asked, or to their own company; Polish (`DEFAULT_LANGUAGE`,
the portals' language) when someone else caused it — staff issuing an invoice, a stranger
typing an address — whose language says nothing about the reader's. A code or a link is only
ever in a body: never in an API response, and senders never log bodies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from models.client import Client
from models.i18n import DEFAULT_LANGUAGE, Language, Msg, _, translate
from models.identity import User
from models.outbox import Channel, OutboxMessage

if TYPE_CHECKING:  # resolvers hand their context over; nothing here builds one
    from resolvers.context import Context

__all__ = ["Channel", "email_client", "email_user", "enqueue", "letter", "sms_user"]

GREETING_COMPANY = _("Hello,")
SIGNATURE = (_("The LeaseHub team"), _("This message was sent automatically."))


def letter(language: Language, greeting: Msg, body: str | Msg) -> str:
    """Greeting, body and signature, each a paragraph, in one language."""
    signature = "\n".join(translate(line, language) for line in SIGNATURE)
    parts = (translate(greeting, language), translate(body, language), signature)
    return "\n\n".join(parts)


def enqueue(
    session: AsyncSession,
    *,
    channel: Channel,
    recipient: str,
    template: str,
    body: str,
    subject: str = "",
    user_id: int | None = None,
    client_id: int | None = None,
) -> OutboxMessage:
    message = OutboxMessage(
        channel=channel,
        recipient=recipient,
        template=template,
        subject=subject,
        body=body,
        user_id=user_id,
        client_id=client_id,
    )
    session.add(message)
    return message


def email_user(
    session: AsyncSession,
    user: User,
    *,
    language: Language,
    template: str,
    subject: str | Msg,
    body: str | Msg,
    to: str | None = None,
    client_id: int | None = None,
) -> OutboxMessage:
    greeting = _("Hello {first_name},", first_name=user.first_name)
    return enqueue(
        session,
        channel=Channel.EMAIL,
        recipient=to or user.email,
        template=template,
        subject=translate(subject, language),
        body=letter(language, greeting, body),
        user_id=user.id,
        client_id=client_id,
    )


async def email_acting_user(
    session: AsyncSession,
    *,
    user_id: int | None,
    template: str,
    subject: str | Msg,
    body: str | Msg,
    client_id: int | None = None,
) -> None:
    """To the person who just acted, in Polish (the portals' language); an API token of no
    person has nobody to write to."""
    user = await session.get(User, user_id) if user_id else None
    if user is None:
        return
    email_user(
        session,
        user,
        language=DEFAULT_LANGUAGE,
        template=template,
        subject=subject,
        body=body,
        client_id=client_id,
    )


async def email_viewer(
    session: AsyncSession,
    ctx: Context,
    *,
    template: str,
    subject: str | Msg,
    body: str | Msg,
    client_id: int | None = None,
) -> None:
    """To the person acting in this request (`email_acting_user` for the request's viewer)."""
    await email_acting_user(
        session,
        user_id=ctx.viewer.user_id,
        template=template,
        subject=subject,
        body=body,
        client_id=client_id,
    )


def email_client(
    session: AsyncSession,
    client: Client,
    *,
    language: Language,
    template: str,
    subject: str | Msg,
    body: str | Msg,
) -> OutboxMessage:
    """To the company's e-invoice address, where invoices and documents are announced."""
    return enqueue(
        session,
        channel=Channel.EMAIL,
        recipient=client.einvoice_email,
        template=template,
        client_id=client.id,
        subject=translate(subject, language),
        body=letter(language, GREETING_COMPANY, body),
    )


def sms_user(
    session: AsyncSession, user: User, *, language: Language, template: str, body: str | Msg
) -> OutboxMessage:
    assert user.phone, "an SMS needs the phone on record"
    return enqueue(
        session,
        channel=Channel.SMS,
        recipient=user.phone,
        template=template,
        body=translate(body, language),
        user_id=user.id,
    )
