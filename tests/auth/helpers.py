"""Helpers of the account tests: reading the outbox, fresh client addresses."""

from __future__ import annotations

import itertools
import re
from typing import Any

from sqlalchemy import func, select

from auth.passwords import hash_password
from auth.scopes import ALL_SCOPES
from hub.demo import DEMO_PASSWORD
from models.client import Client
from models.identity import Membership, StaffRole, User
from models.outbox import Channel, OutboxMessage
from resolvers.ids import to_global_id
from tests.conftest import LOGIN, Hub

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


async def inactive_user(hub: Hub, index: int) -> User:
    """The main account of client 100003 + index: each test owns one, not activated by the demo."""
    async with hub.db.read() as session:
        query = (
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .join(Client, Client.id == Membership.client_id)
            .where(Client.number == str(100003 + index), Membership.is_main.is_(True))
        )
        return (await session.execute(query)).scalars().one()


async def user_with_password(hub: Hub, index: int) -> tuple[User, str]:
    """A main account of its own for a test, given DEMO_PASSWORD; returns it and its number."""
    user = await inactive_user(hub, index)
    async with hub.db.write() as session:
        stored = await session.get(User, user.id)
        stored.password_hash = hash_password(DEMO_PASSWORD)  # type: ignore[union-attr]
    return user, str(100003 + index)


_accounts = itertools.count(1)


async def new_main_account(hub: Hub, *, password: str | None = DEMO_PASSWORD) -> tuple[User, str]:
    """A company and its main account of the test's own; without a password: not activated.

    Returns the user and the client number (a login too). Nothing in the names contains a
    digit, so only the number itself trips the password rules.
    """
    n = next(_accounts)
    number = f"7{n:05d}"  # far past the demo's numbers
    async with hub.db.write() as session:
        client = Client(
            number=number,
            name="Próba Flota sp. z o.o.",
            nip=f"99{n:08d}",
            regon="123456785",
            street="ul. Testowa 1",
            postal_code="00-001",
            city="Warszawa",
            email=f"biuro.{number}@proba.pl",
            phone="+48 600 000 000",
            einvoice_email=f"faktury.{number}@proba.pl",
        )
        user = User(
            email=f"konto.{number}@proba.pl",
            first_name="Zofia",
            last_name="Wiśniewska",
            phone=f"+48 601 {number}",
            password_hash=hash_password(password) if password else None,
        )
        session.add_all([client, user])
        await session.flush()
        scopes = sorted(scope.value for scope in ALL_SCOPES)
        session.add(
            Membership(user_id=user.id, client_id=client.id, is_main=True, scopes=scopes)  # type: ignore[arg-type]
        )
    return user, number


async def token_of(hub: Hub, email: str, password: str = DEMO_PASSWORD) -> str:
    body = await hub.gql(LOGIN, {"login": email, "password": password}, ip=fresh_ip())
    return body["data"]["login"]["token"]  # type: ignore[no-any-return]


async def staff_token(hub: Hub, role: StaffRole = StaffRole.ADMIN) -> str:
    """A staff account of the given role (the demo's admin may have reset its password)."""
    email = f"{role.value.lower()}@staff.leasehub.pl"
    async with hub.db.write() as session:
        if (await session.execute(select(User).where(User.email == email))).first() is None:
            session.add(
                User(
                    email=email,
                    first_name="Staff",
                    last_name=role.value.title(),
                    staff_role=role,
                    password_hash=hash_password(DEMO_PASSWORD),
                )
            )
    return await token_of(hub, email)


TOKEN_CREATE = """mutation($c: ID!, $s: [Scope!], $ro: Boolean!) {
  apiTokenCreate(input: {name: "Power BI", clientId: $c, scopes: $s, readOnly: $ro}) {
    token apiToken { id name scopes readOnly lastUsedAt } errors { field code } } }"""


async def first_company(hub: Hub) -> str:
    async with hub.db.read() as session:
        client = (
            await session.execute(select(Client).where(Client.number == "100001"))
        ).scalar_one()
    return to_global_id("Client", client.id)  # type: ignore[arg-type]
