"""Delivering the outbox: console or file senders in development, SMTP in production.

A sender gets the whole message but never logs its body: bodies carry codes and links.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import ColumnElement, or_, select, update
from sqlmodel import col

from hub.db import Database
from hub.settings import MailSender, Settings
from models.base import utcnow
from models.outbox import Channel, OutboxMessage

logger = logging.getLogger("leasehub.outbox")
MAX_ATTEMPTS = 5
CLAIM_LEASE = timedelta(minutes=5)  # far longer than one send; a crashed deliverer's hold ends


class Sender(Protocol):
    async def send(self, message: OutboxMessage) -> None: ...


def as_email(message: OutboxMessage, sender: str, *, readable: bool = False) -> EmailMessage:
    """The e-mail of an outbox row, dated when the change that caused it was committed.

    `readable` writes the body as plain 8-bit UTF-8 for files and terminals: quoted-printable
    would fold long lines with `=` and break the links a developer copies from them.
    """
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = make_msgid(domain="leasehub.pl")
    email.set_content(message.body, cte="8bit" if readable else None)
    return email


@dataclass
class ConsoleSender:
    """Prints whole messages: for a developer's terminal only, never for production."""

    mail_from: str

    async def send(self, message: OutboxMessage) -> None:
        if message.channel is Channel.EMAIL:
            sys.stdout.write(as_email(message, self.mail_from, readable=True).as_string() + "\n")
        else:
            sys.stdout.write(f"SMS to {message.recipient}: {message.body}\n")
        sys.stdout.flush()


@dataclass
class FileSender:
    """Writes each message to a file of its own: `.eml` for e-mail, `.txt` for SMS."""

    directory: Path
    mail_from: str

    async def send(self, message: OutboxMessage) -> None:
        await asyncio.to_thread(self._write, message)

    def _write(self, message: OutboxMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = f"{message.id:08d}-{message.template}"
        if message.channel is Channel.EMAIL:
            content = as_email(message, self.mail_from, readable=True).as_bytes()
            (self.directory / f"{stem}.eml").write_bytes(content)
        else:
            (self.directory / f"{stem}.sms.txt").write_text(
                f"To: {message.recipient}\n\n{message.body}\n", encoding="utf-8"
            )


@dataclass
class SmtpSender:
    host: str
    port: int
    mail_from: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 30.0

    def _send_blocking(self, email: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(email)

    async def send(self, message: OutboxMessage) -> None:
        if message.channel is not Channel.EMAIL:
            raise ValueError("the SMTP sender carries e-mail only")
        await asyncio.to_thread(self._send_blocking, as_email(message, self.mail_from))


def senders_for(settings: Settings) -> tuple[Sender, Sender]:
    """The e-mail and the SMS sender the settings name."""
    return sender_for(settings.mail_sender, settings), sender_for(settings.sms_sender, settings)


async def deliver_continuously(
    db: Database,
    settings: Settings,
    *,
    interval: float,
    report: bool = False,
    stop: asyncio.Event | None = None,
) -> None:
    """Deliver what waits, round after round, until `stop` is set (or the task is cancelled).

    A stop ends the loop between rounds: a round cut short mid-statement would leave its
    connection to be reset while the event loop is going away.
    """
    email, sms = senders_for(settings)
    stop = stop or asyncio.Event()
    while not stop.is_set():
        delivery = await deliver_pending(db, email=email, sms=sms)
        if report or delivery.failed:
            logger.info("outbox: %s sent, %s failed", delivery.sent, delivery.failed)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


def sender_for(kind: MailSender, settings: Settings) -> Sender:
    if kind is MailSender.CONSOLE:
        return ConsoleSender(settings.mail_from)
    if kind is MailSender.FILE:
        return FileSender(settings.outbox_dir, settings.mail_from)
    return SmtpSender(
        host=settings.smtp_host,
        port=settings.smtp_port,
        mail_from=settings.mail_from,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
    )


@dataclass(frozen=True, slots=True)
class Delivery:
    sent: int
    failed: int


async def deliver_pending(
    db: Database, *, email: Sender, sms: Sender, limit: int = 100
) -> Delivery:
    """Send what waits in the outbox, oldest first; a failure is counted and retried later.

    No transaction is open while a sender talks to the world: each message is claimed by a
    conditional update (its attempt counted, held for CLAIM_LEASE), sent, then marked sent. Two
    deliverers never send the same message at once, a slow SMTP server never holds SQLite's
    write lock, and a crash between claim and mark means one more attempt once the hold ends
    (at least once, never lost).
    """
    sent = failed = 0
    async with db.read() as session:
        waiting = (
            (
                await session.execute(
                    select(OutboxMessage)
                    .where(*_deliverable(utcnow()))
                    .order_by(col(OutboxMessage.id))
                    .limit(limit)
                )
            )
            .scalars()
            .all()
        )
    for message in waiting:
        if not await _claim(db, message):
            continue  # another deliverer took this attempt
        sender = email if message.channel is Channel.EMAIL else sms
        try:
            await sender.send(message)
        except Exception as error:  # a sender's failure must not stop the others
            failed += 1
            error_text = f"{type(error).__name__}: {error}"[:500]
            await _record(db, message, last_error=error_text, claimed_until=None)
            logger.warning(
                "outbox message %s (%s) failed: %s",
                message.id,
                message.template,
                type(error).__name__,
            )
        else:
            sent += 1
            await _record(db, message, sent_at=utcnow(), claimed_until=None)
            logger.info("outbox message %s (%s) sent", message.id, message.template)
    return Delivery(sent=sent, failed=failed)


def _deliverable(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Not sent, attempts left, and held by no other deliverer: so a deliverer never spends its
    rounds on messages another one holds (the claim checks the same once more)."""
    return (
        col(OutboxMessage.sent_at).is_(None),
        col(OutboxMessage.attempts) < MAX_ATTEMPTS,
        or_(col(OutboxMessage.claimed_until).is_(None), col(OutboxMessage.claimed_until) < now),
    )


async def _claim(db: Database, message: OutboxMessage) -> bool:
    """Count an attempt and hold the message for a while; False when another deliverer has it."""
    now = utcnow()
    async with db.write() as session:
        claimed = await session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message.id, *_deliverable(now))
            .values(attempts=col(OutboxMessage.attempts) + 1, claimed_until=now + CLAIM_LEASE)
        )
    return claimed.rowcount == 1  # type: ignore[attr-defined]


async def _record(db: Database, message: OutboxMessage, **values: Any) -> None:
    async with db.write() as session:
        await session.execute(
            update(OutboxMessage).where(col(OutboxMessage.id) == message.id).values(**values)
        )
