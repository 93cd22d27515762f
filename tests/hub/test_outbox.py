"""Delivering the outbox through real senders: files, and SMTP to a real SMTP server."""

from __future__ import annotations

import asyncio
import email
import email.utils
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from hub.app import create_app
from hub.db import Database
from hub.outbox import FileSender, SmtpSender, deliver_pending
from models.outbox import Channel, OutboxMessage
from tests.conftest import DatabaseFactory, settings_for
from tests.pg import free_port

LONG_LINK = "http://127.0.0.1:3000/aktywacja?token=123.Zq8m1vJXb6dKfG2yQwErTyUiOpAsDfGhJkLzXcVbNm_0987654321"


class Inbox:
    """An SMTP server's handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, _server: object, _session: object, envelope: object) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


async def _queue(db: Database, *messages: OutboxMessage) -> None:
    async with db.write() as session:
        session.add_all(messages)


def _message(channel: Channel, recipient: str, body: str) -> OutboxMessage:
    return OutboxMessage(
        channel=channel,
        recipient=recipient,
        template="test",
        subject="Zażółć gęślą jaźń",
        body=body,
    )


async def test_smtp_sender_delivers_to_a_real_server_once(
    databases: DatabaseFactory, smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_server
    db = Database.from_url(await databases.create())
    try:
        await _queue(db, _message(Channel.EMAIL, "anna@firma.pl", "Kod: 123456"))
        sender = SmtpSender(host="127.0.0.1", port=port, mail_from="hub@leasehub.pl")
        first = await deliver_pending(db, email=sender, sms=sender)
        second = await deliver_pending(db, email=sender, sms=sender)
        assert (first.sent, second.sent) == (1, 0)
        assert len(inbox.messages) == 1
        received = inbox.messages[0]
        assert received["To"] == "anna@firma.pl"
        assert (
            str(email.header.make_header(email.header.decode_header(received["Subject"])))
            == "Zażółć gęślą jaźń"
        )
        assert "Kod: 123456" in received.get_payload(decode=True).decode()
        assert email.utils.parsedate_to_datetime(received["Date"]).tzinfo is not None
    finally:
        await db.dispose()


async def test_unreachable_smtp_counts_a_failure_and_keeps_the_message(
    databases: DatabaseFactory,
) -> None:
    db = Database.from_url(await databases.create())
    try:
        await _queue(db, _message(Channel.EMAIL, "jan@firma.pl", "Kod: 654321"))
        dead = SmtpSender(
            host="127.0.0.1", port=free_port(), mail_from="hub@leasehub.pl", timeout=2
        )
        delivery = await deliver_pending(db, email=dead, sms=dead)
        assert (delivery.sent, delivery.failed) == (0, 1)
        async with db.read() as session:
            message = (await session.execute(select(OutboxMessage))).scalars().one()
        assert message.sent_at is None and message.attempts == 1
        assert "654321" not in (message.last_error or "")
    finally:
        await db.dispose()


async def test_file_sender_writes_eml_and_sms_files(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    db = Database.from_url(await databases.create())
    try:
        await _queue(
            db,
            _message(Channel.EMAIL, "anna@firma.pl", "Treść z linkiem:\n" + LONG_LINK),
            _message(Channel.SMS, "+48500100200", "Kod 111222"),
        )
        sender = FileSender(tmp_path, "hub@leasehub.pl")
        assert (await deliver_pending(db, email=sender, sms=sender)).sent == 2
        eml = next(tmp_path.glob("*.eml"))
        parsed = email.message_from_bytes(eml.read_bytes())
        assert parsed["To"] == "anna@firma.pl" and parsed["Date"]
        # The link stands whole on its line, as a developer copies it from the file.
        assert LONG_LINK in eml.read_text(encoding="utf-8").splitlines()
        assert "Kod 111222" in next(tmp_path.glob("*.sms.txt")).read_text()
    finally:
        await db.dispose()


async def test_development_server_delivers_the_outbox_as_it_goes(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.create()
    db = Database.from_url(url)
    settings = settings_for(url, LEASEHUB_OUTBOX_IN_PROCESS=True, LEASEHUB_OUTBOX_DIR=tmp_path)
    app = create_app(settings, db=db)
    try:
        async with app.router.lifespan_context(app):
            await _queue(db, _message(Channel.SMS, "+48500100200", "Kod 333444"))
            for _ in range(100):  # bounded: 2-second rounds, at most 10 s
                if list(tmp_path.glob("*.sms.txt")):
                    break
                await asyncio.sleep(0.1)
        assert "Kod 333444" in next(tmp_path.glob("*.sms.txt")).read_text()
        assert not settings_for(url).delivers_outbox_in_process  # off outside development
    finally:
        await db.dispose()


class SlowCountingSender:
    """Takes its time, as SMTP does, and counts what it was handed."""

    def __init__(self) -> None:
        self.sent: list[int] = []

    async def send(self, message: OutboxMessage) -> None:
        await asyncio.sleep(0.05)
        self.sent.append(message.id)  # type: ignore[arg-type]


async def test_two_deliverers_at_once_send_each_message_once(databases: DatabaseFactory) -> None:
    db = Database.from_url(await databases.create())
    try:
        await _queue(db, *(_message(Channel.SMS, f"+4850010020{n}", f"Kod {n}") for n in range(5)))
        sender = SlowCountingSender()
        rounds = await asyncio.gather(
            *(deliver_pending(db, email=sender, sms=sender) for _ in range(3))
        )
        assert sum(r.sent for r in rounds) == 5 and sum(r.failed for r in rounds) == 0
        assert sorted(sender.sent) == sorted(set(sender.sent)) and len(sender.sent) == 5
        async with db.read() as session:
            rows = (await session.execute(select(OutboxMessage))).scalars().all()
        assert all(row.sent_at is not None and row.attempts == 1 for row in rows)
    finally:
        await db.dispose()
