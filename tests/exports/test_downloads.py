"""Signed download links: the file for the right person, one refusal for everything else."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import openpyxl
from sqlalchemy import select

from exports.links import sign
from hub.demo import DEMO_MAIN_EMAIL, DEMO_SUB_EMAIL
from models.base import utcnow
from models.contract import Contract
from models.identity import User
from tests.auth.helpers import TOKEN_CREATE, first_company, token_of
from tests.conftest import Hub
from tests.schema.helpers import client_ids, error_codes

LINKS = """query($id: ID!, $f: ScheduleFormat!, $pl: Boolean!) { client(id: $id) {
  contracts(first: 1) { nodes { number scheduleDownloadUrl(format: $f, polish: $pl) } } } }"""


async def link_for(hub: Hub, fmt: str = "XLSX", polish: bool = True, who: str = "anna") -> str:
    client_id = (await client_ids(hub, who))[0]
    body = await hub.gql(LINKS, {"id": client_id, "f": fmt, "pl": polish}, as_=who)
    return body["data"]["client"]["contracts"]["nodes"][0]["scheduleDownloadUrl"]  # type: ignore[no-any-return]


async def test_schedule_downloads_as_typed_xlsx_with_safe_headers(hub: Hub) -> None:
    response = await hub.client.get(await link_for(hub))
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith('attachment; filename="harmonogram-')
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet["B1"].value == "Termin płatności"
    assert isinstance(sheet["B2"].value, datetime) and isinstance(sheet["C2"].value, float)


async def test_schedule_downloads_as_csv_with_a_bom(hub: Hub) -> None:
    response = await hub.client.get(await link_for(hub, "CSV", polish=False))
    assert response.status_code == 200 and response.content.startswith("\ufeff".encode())
    assert response.content.decode("utf-8-sig").startswith("No.,Due date,Capital")


async def test_tampered_expired_and_other_tenant_links_are_refused_alike(hub: Hub) -> None:
    good = await link_for(hub)
    base, token = good.rsplit("/", 1)
    tampered = f"{base}/{token[:-3]}{'A' if token[-3] != 'A' else 'B'}{token[-2:]}"
    async with hub.db.read() as session:
        jan = (await session.execute(select(User).where(User.email == DEMO_SUB_EMAIL))).scalar_one()
        anna = (
            await session.execute(select(User).where(User.email == DEMO_MAIN_EMAIL))
        ).scalar_one()
        contracts = (await session.execute(select(Contract))).scalars().all()
    assert hub.settings is not None
    secret = hub.settings.secret_key
    foreign = next(c for c in contracts if c.client_id not in (1, 2))  # not Jan's company
    other_tenant = sign(secret, kind="schedule", object_id=foreign.id, user_id=jan.id, now=utcnow())
    expired = sign(
        secret,
        kind="schedule",
        object_id=contracts[0].id,
        user_id=anna.id,
        now=utcnow() - timedelta(minutes=10),
    )
    missing = sign(secret, kind="schedule", object_id=10**9, user_id=anna.id, now=utcnow())
    answers = [
        await hub.client.get(url)
        for url in (
            tampered,
            f"{base}/{other_tenant}",
            f"{base}/{expired}",
            f"{base}/{missing}",
            f"{base}/not-a-token",
        )
    ]
    assert {r.status_code for r in answers} == {404}
    assert len({r.content for r in answers}) == 1


async def test_no_link_without_the_schedule_scope_and_none_after_access_ends(flows: Hub) -> None:
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    company = await first_company(flows)
    token = (
        await flows.gql(
            TOKEN_CREATE, {"c": company, "s": ["INVOICES_READ"], "ro": True}, token=anna
        )
    )["data"]["apiTokenCreate"]["token"]
    query = """query($id: ID!) { client(id: $id) { contracts(first: 1) {
      nodes { scheduleDownloadUrl } } } }"""
    denied = await flows.gql(query, {"id": company}, token=token)
    assert "FORBIDDEN" in error_codes(denied)
    jan = await token_of(flows, DEMO_SUB_EMAIL)
    url = (await flows.gql(query, {"id": company}, token=jan))["data"]["client"]["contracts"][
        "nodes"
    ][0]["scheduleDownloadUrl"]
    assert (await flows.client.get(url)).status_code == 200
    subaccounts = await flows.gql(
        "query($id: ID!) { client(id: $id) { subaccounts { id user { email } } } }",
        {"id": company},
        token=anna,
    )
    jan_id = next(
        s["id"]
        for s in subaccounts["data"]["client"]["subaccounts"]
        if s["user"]["email"] == DEMO_SUB_EMAIL
    )
    await flows.gql(
        "mutation($id: ID!) { subaccountUpdate(input: {id: $id, isActive: false}) "
        "{ errors { code } } }",
        {"id": jan_id},
        token=anna,
    )
    assert (await flows.client.get(url)).status_code == 404
    await flows.gql(
        "mutation($id: ID!) { subaccountUpdate(input: {id: $id, isActive: true}) "
        "{ errors { code } } }",
        {"id": jan_id},
        token=anna,
    )
