"""The access log of subscriptions (issue 15, point 5): a person at the lessor who signs in
with `connection_init` is logged at each push, while the socket is still open; a client's own
subscription adds nothing."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from models.audit import AccessLogEntry
from models.identity import StaffRole
from tests.auth.helpers import staff_token
from tests.schema import test_payments
from tests.schema.test_payment_live import pushed, signed_in, subscribe
from tests.schema.test_payments import Env, click, new_invoice, started

env = test_payments.env  # a hub served over HTTP with the PayU sandbox


async def entries(env: Env) -> list[AccessLogEntry]:
    async with env.hub.db.read() as session:
        query = select(AccessLogEntry).where(col(AccessLogEntry.client_id) == env.client_pk)
        return list((await session.execute(query.order_by(col(AccessLogEntry.id)))).scalars())


async def test_a_staff_subscription_is_logged_at_each_push(env: Env) -> None:
    invoice = await new_invoice(env, "120.00")
    payment = await started(env, [invoice])
    before = len(await entries(env))
    admin = await staff_token(env.hub, StaffRole.ADMIN)
    async with signed_in(env, admin) as ws:
        await subscribe(ws, payment["id"])
        await pushed(ws)
        first = await entries(env)
        assert len(first) == before + 1  # on record while the socket is open
        assert "invoices:read" in first[-1].parts and first[-1].as_user_id is None
        await click(env, payment, "approve")
        await pushed(ws)
        assert len(await entries(env)) == before + 2  # one row per push, no more
    assert len(await entries(env)) == before + 2  # closing adds nothing already written


async def test_a_clients_own_subscription_adds_nothing(env: Env) -> None:
    invoice = await new_invoice(env, "130.00")
    payment = await started(env, [invoice])
    before = len(await entries(env))
    async with signed_in(env) as ws:
        await subscribe(ws, payment["id"])
        await pushed(ws)
    assert len(await entries(env)) == before
