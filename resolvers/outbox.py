"""Messages to people go into the outbox in the same transaction as the change behind them.

Bodies are Polish, like the portals'. A code or a link is only ever in a body: never in an API
response, and senders never log bodies.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models.client import Client
from models.identity import User
from models.outbox import Channel, OutboxMessage

__all__ = ["Channel", "email_client", "email_user", "enqueue", "sms_user"]

SIGNATURE = "\n\nZespół LeaseHub\nTa wiadomość została wysłana automatycznie."


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
    template: str,
    subject: str,
    body: str,
    to: str | None = None,
    client_id: int | None = None,
) -> OutboxMessage:
    return enqueue(
        session,
        channel=Channel.EMAIL,
        recipient=to or user.email,
        template=template,
        subject=subject,
        body=f"Dzień dobry {user.first_name},\n\n{body}{SIGNATURE}",
        user_id=user.id,
        client_id=client_id,
    )


def email_client(
    session: AsyncSession, client: Client, *, template: str, subject: str, body: str
) -> OutboxMessage:
    """To the company's e-invoice address, where invoices and documents are announced."""
    return enqueue(
        session,
        channel=Channel.EMAIL,
        recipient=client.einvoice_email,
        template=template,
        client_id=client.id,
        subject=subject,
        body=f"Dzień dobry,\n\n{body}{SIGNATURE}",
    )


def sms_user(session: AsyncSession, user: User, *, template: str, body: str) -> OutboxMessage:
    assert user.phone, "an SMS needs the phone on record"
    return enqueue(
        session,
        channel=Channel.SMS,
        recipient=user.phone,
        template=template,
        body=body,
        user_id=user.id,
    )
