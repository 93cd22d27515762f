"""Writes outside GraphQL are on the audit log with who and where (issue 15, point 4): an
upload through its signed link is its user's, a gateway's notification is `gatewayNotify`."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from hub.demo import DEMO_MAIN_EMAIL
from models.audit import AuditEvent
from models.identity import User
from resolvers.gateway.payu import signature_header
from tests.conftest import Hub
from tests.hub import test_uploads
from tests.hub.test_uploads import pdf_file, upload
from tests.schema import test_payments
from tests.schema.test_payments import (
    SECOND_KEY,
    Env,
    new_invoice,
    notification,
    notify,
    orders_of,
    started,
)

uploads = test_uploads.uploads  # the module's hub with a storage folder of its own
env = test_payments.env  # a hub served over HTTP with the PayU sandbox


async def audit_rows(hub: Hub, action: str) -> list[AuditEvent]:
    async with hub.db.read() as session:
        query = select(AuditEvent).where(col(AuditEvent.action) == action)
        return list((await session.execute(query.order_by(col(AuditEvent.id)))).scalars())


async def test_an_upload_is_recorded_as_its_links_user_with_the_ip(uploads: Hub) -> None:
    response, pk = await upload(uploads, "umowa.pdf", pdf_file())
    assert response.status_code == 200, response.text
    async with uploads.db.read() as session:
        found = await session.execute(
            select(col(User.id)).where(col(User.email) == DEMO_MAIN_EMAIL)
        )
        anna = found.scalar_one()
    rows = [r for r in await audit_rows(uploads, "upload") if r.object_key == str(pk)]
    assert rows and all(r.object_type == "attachments" for r in rows)
    assert {r.actor_id for r in rows} == {anna}
    assert all(r.ip == "127.0.0.1" and r.request_id for r in rows)


async def test_a_gateway_notification_is_recorded_as_gateway_notify(env: Env) -> None:
    invoice = await new_invoice(env)
    await started(env, [invoice])
    (order,) = await orders_of(env, invoice)
    body = notification(order, "COMPLETED")
    assert (await notify(env, body, signature_header(body, SECOND_KEY))).status_code == 200
    rows = await audit_rows(env.hub, "gatewayNotify")
    mine = [r for r in rows if r.object_type == "gateway_orders" and r.object_key == str(order.id)]
    assert mine and all(r.ip == "127.0.0.1" and r.actor_id is None for r in mine)
