"""Argon2 runs off the event loop: other requests are answered while a password is checked."""

from __future__ import annotations

import asyncio
import threading

import pytest
from argon2 import PasswordHasher, extract_parameters

from auth import passwords
from hub.demo import DEMO_PASSWORD
from models.identity import User
from resolvers import identity
from tests.auth.helpers import fresh_ip, new_main_account
from tests.conftest import LOGIN, Hub

GUARD = 30  # seconds: only so that a blocked loop fails the test instead of hanging it


async def test_a_light_request_is_answered_while_a_password_is_being_checked(
    flows: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, _ = await new_main_account(flows)
    checking, light_answered = threading.Event(), threading.Event()
    answered_meanwhile: list[bool] = []
    real = passwords.verify_password

    def held_verify(password_hash: str | None, password: str) -> bool:
        """Holds the check until the light request is answered; on the loop that never comes."""
        checking.set()
        answered_meanwhile.append(light_answered.wait(GUARD))
        return real(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password", held_verify)
    variables = {"login": user.email, "password": DEMO_PASSWORD}
    login = asyncio.create_task(flows.gql(LOGIN, variables, ip=fresh_ip()))
    assert await asyncio.to_thread(checking.wait, GUARD)
    light = await flows.gql("{ __typename }")
    light_answered.set()
    assert light["data"] == {"__typename": "Query"}
    body = await login
    assert body["data"]["login"]["token"] and answered_meanwhile == [True]


async def test_hashes_in_the_pool_verify_like_the_plain_ones() -> None:
    hashed = await passwords.hash_in_worker("Zielone#Jabłko7", workers=2)
    assert passwords.verify_password(hashed, "Zielone#Jabłko7")
    assert await passwords.verify_in_worker(hashed, "Zielone#Jabłko7", workers=2)
    assert not await passwords.verify_in_worker(hashed, "zielone#jabłko7", workers=2)
    assert not await passwords.verify_in_worker(None, "Zielone#Jabłko7", workers=2)


async def test_a_hash_with_four_lanes_signs_in_and_is_redone_in_one(flows: Hub) -> None:
    user, _ = await new_main_account(flows)
    old = PasswordHasher(parallelism=4).hash(DEMO_PASSWORD)  # argon2-cffi's default lanes
    async with flows.db.write() as session:
        stored = await session.get(User, user.id)
        assert stored is not None
        stored.password_hash = old
    variables = {"login": user.email, "password": DEMO_PASSWORD}
    body = await flows.gql(LOGIN, variables, ip=fresh_ip())
    assert body["data"]["login"]["token"]
    async with flows.db.read() as session:
        redone = (await session.get(User, user.id)).password_hash  # type: ignore[union-attr]
    assert redone != old and extract_parameters(redone).parallelism == 1
    assert passwords.verify_password(redone, DEMO_PASSWORD)


async def test_a_login_checked_while_the_password_changes_gets_no_session(
    flows: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The password is checked outside the transaction; a change landing meanwhile wins."""
    user, _ = await new_main_account(flows)
    real = identity.password_matches

    async def changed_meanwhile(checked: User | None, password: str, *, workers: int) -> bool:
        matches = await real(checked, password, workers=workers)
        async with flows.db.write() as session:  # the owner's passwordChange commits now
            stored = await session.get(User, user.id)
            assert stored is not None
            stored.password_hash = passwords.hash_password("Nowe#Haslo2026")
        return matches

    monkeypatch.setattr(identity, "password_matches", changed_meanwhile)
    variables = {"login": user.email, "password": DEMO_PASSWORD}
    body = await flows.gql(LOGIN, variables, ip=fresh_ip())
    assert body["data"]["login"]["token"] is None
    assert [e["code"] for e in body["data"]["login"]["errors"]] == ["INVALID_CREDENTIALS"]
    async with flows.db.read() as session:
        stored = await session.get(User, user.id)
    assert stored is not None and passwords.verify_password(stored.password_hash, "Nowe#Haslo2026")
