"""Helpers of the account tests: reading the outbox, fresh client addresses."""

from __future__ import annotations

import itertools
import re
from typing import Any

from sqlalchemy import func, select

from models.outbox import Channel, OutboxMessage
from tests.conftest import Hub

_ips = itertools.count(1)


def fresh_ip() -> str:
    """Every test gets addresses of its own: failures are counted per client IP too."""
    n = next(_ips)
    return f"10.9.{n // 250}.{n % 250 + 1}"


async def errors_of(hub: Hub, query: str, variables: dict[str, Any], **kw: Any) -> list[dict]:
    body = await hub.gql(query, variables, **kw)
    assert "errors" not in body, body
    return next(iter(body["data"].values()))["errors"]  # type: ignore[no-any-return]


async def last_message(hub: Hub, recipient: str, channel: Channel) -> OutboxMessage:
    async with hub.db.read() as session:
        query = (
            select(OutboxMessage)
            .where(
                func.lower(OutboxMessage.recipient) == recipient.lower(),
                OutboxMessage.channel == channel,
            )
            .order_by(OutboxMessage.id.desc())
        )
        return (await session.execute(query)).scalars().first()  # type: ignore[return-value]


def secret_in(message: OutboxMessage) -> str:
    link = re.search(r"token=([\w.%-]+)", message.body)
    if link:
        return link.group(1).replace("%2E", ".")
    return re.search(r"\b(\d{6})\b", message.body).group(1)  # type: ignore[union-attr]
