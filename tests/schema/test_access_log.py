"""The access log (issue 15, point 5, RODO): every read of a company's data by a person at the
lessor is on record (who, when, which parts, why); the company's main account reads it; a
client's own reads add nothing; the retention purge is its only delete path."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, insert, select
from sqlmodel import col

from models.audit import USERS_PART, AccessLogEntry, AuditEvent
from models.base import utcnow
from models.message import MessageThread
from models.request import Request
from models.tyre import TyreRelocation
from resolvers.access_log import purge_access_log
from resolvers.ids import from_global_id
from tests.conftest import Hub, count_statements
from tests.schema import test_audit_log
from tests.schema.helpers import error_codes
from tests.schema.test_audit_log import first_client

audited = test_audit_log.audited  # the same demo of its own

ACCESS_LOG = """query($c: ID!, $first: Int, $after: String) { client(id: $c) {
  accessLog(first: $first, after: $after) {
    nodes { at who { name role } asUser parts reason } pageInfo { hasNextPage endCursor } } } }"""
READ = """query($c: ID!, $first: Int) { client(id: $c) { name
  contracts(first: $first) { nodes { number } }
  invoices(first: $first) { nodes { number } } } }"""
NAME_ONLY = "query($c: ID!) { client(id: $c) { name } }"


async def entries(hub: Hub, client_pk: int) -> list[AccessLogEntry]:
    async with hub.db.read() as session:
        query = select(AccessLogEntry).where(col(AccessLogEntry.client_id) == client_pk)
        return list((await session.execute(query.order_by(col(AccessLogEntry.id)))).scalars())


async def access_log(hub: Hub, client: str, as_: str = "anna", **variables: Any) -> Any:
    body = await hub.gql(ACCESS_LOG, {"c": client, **variables}, as_=as_)
    assert "errors" not in body, body
    return body["data"]["client"]["accessLog"]


async def test_a_staff_read_is_on_the_companys_access_log_with_its_reason(audited: Hub) -> None:
    _, client = await first_client(audited, "anna")
    # Percent-encoded UTF-8: HTTP headers carry ASCII only.
    headers = {"X-Access-Reason": quote("Zgłoszenie 4711: pytanie o fakturę")}
    body = await audited.gql(READ, {"c": client, "first": 5}, as_="service", headers=headers)
    assert "errors" not in body, body
    newest = (await access_log(audited, client, first=1))["nodes"][0]
    assert newest["who"] == {"name": "Staff Customer_Service", "role": "CUSTOMER_SERVICE"}
    assert set(newest["parts"]) >= {"contracts:read", "invoices:read"}
    assert newest["reason"] == "Zgłoszenie 4711: pytanie o fakturę"
    assert newest["asUser"] is None


async def test_a_clients_own_reads_add_nothing_and_cost_no_statement(audited: Hub) -> None:
    _, client = await first_client(audited, "anna")
    pk = from_global_id(client)[1]
    before = len(await entries(audited, pk))
    with count_statements(audited.db) as seen:
        body = await audited.gql(READ, {"c": client, "first": 5}, as_="anna")
    assert "errors" not in body
    assert len(await entries(audited, pk)) == before
    assert not [s for s in seen if "access_log" in s or s.lstrip().upper().startswith("INSERT")]


async def test_a_staff_read_costs_one_insert_whatever_the_list_size(audited: Hub) -> None:
    _, client = await first_client(audited, "anna")
    pk = from_global_id(client)[1]
    counts = []
    await audited.gql(READ, {"c": client, "first": 1}, as_="admin")  # the token verified once
    for first in (1, 20):
        before = len(await entries(audited, pk))
        with count_statements(audited.db) as seen:
            body = await audited.gql(READ, {"c": client, "first": first}, as_="admin")
        assert "errors" not in body
        counts.append(len(seen))
        assert len([s for s in seen if "INSERT INTO access_log" in s]) == 1
        assert len(await entries(audited, pk)) == before + 1  # one row per request and company
    assert counts[0] == counts[1], counts


async def test_a_read_without_company_data_is_not_logged(audited: Hub) -> None:
    """The company's name is not personal or financial data: no scope, no entry."""
    _, client = await first_client(audited, "anna")
    pk = from_global_id(client)[1]
    before = len(await entries(audited, pk))
    await audited.gql(NAME_ONLY, {"c": client}, as_="admin")
    assert len(await entries(audited, pk)) == before


async def test_the_access_log_is_the_main_accounts_and_the_auditors(audited: Hub) -> None:
    _, client = await first_client(audited, "anna")
    await audited.gql(READ, {"c": client, "first": 1}, as_="admin")
    assert error_codes(await audited.gql(ACCESS_LOG, {"c": client}, as_="jan")) == ["FORBIDDEN"]
    service = await audited.gql(ACCESS_LOG, {"c": client}, as_="service")
    assert error_codes(service) == ["FORBIDDEN"]
    assert (await access_log(audited, client, as_="auditor"))["nodes"]


async def test_the_access_log_pages_newest_first(audited: Hub) -> None:
    _, client = await first_client(audited, "anna")
    for _ in range(3):
        await audited.gql(READ, {"c": client, "first": 1}, as_="admin")
    whole = (await access_log(audited, client, first=100))["nodes"]
    first = await access_log(audited, client, first=2)
    rest = await access_log(audited, client, first=100, after=first["pageInfo"]["endCursor"])
    assert first["nodes"] + rest["nodes"] == whole and len(whole) >= 3
    assert [n["at"] for n in whole] == sorted((n["at"] for n in whole), reverse=True)


async def test_the_purge_removes_only_entries_past_the_retention(audited: Hub) -> None:
    now = utcnow()
    old = {"client_id": 999_001, "staff_user_id": 1, "parts": ["invoices:read"]}
    async with audited.db.write() as session:
        await session.execute(
            insert(AccessLogEntry),
            [
                {**old, "created_at": now - timedelta(days=800)},
                {**old, "created_at": now - timedelta(days=731)},
                {**old, "created_at": now - timedelta(days=10)},
            ],
        )
    seen: list[tuple[int, int]] = []
    removed = await purge_access_log(
        audited.db, days=730, now=now, progress=lambda d, t: seen.append((d, t))
    )
    assert removed >= 2 and seen[-1] == (removed, removed)
    left = await entries(audited, 999_001)
    assert [entry.created_at > now - timedelta(days=730) for entry in left] == [True]
    async with audited.db.read() as session:
        recorded = await session.execute(
            select(func.count()).where(col(AuditEvent.object_type) == "access_log")
        )
        assert recorded.scalar_one() >= 1  # the purge itself is on the audit log


@pytest.mark.parametrize("days", [1])
async def test_the_purge_command_prints_what_it_removed(
    audited: Hub, days: int, capsys: pytest.CaptureFixture[str]
) -> None:
    from hub.cli import _access_log_purge

    assert audited.settings is not None
    removed = await _access_log_purge(audited.settings, days=days)
    assert removed >= 0
    assert "access log" in capsys.readouterr().err or removed == 0


SUPPORT_START = """mutation($u: ID!, $r: String!) {
  adminSupportViewStart(input: {userId: $u, reason: $r}) { token errors { code } } }"""


async def test_support_view_reads_are_logged_with_the_user_shown_and_the_reason(
    audited: Hub,
) -> None:
    user, client = await first_client(audited, "anna")
    started = await audited.gql(
        SUPPORT_START, {"u": user, "r": "Klient prosi o pomoc z fakturą"}, as_="service"
    )
    payload = started["data"]["adminSupportViewStart"]
    assert payload["errors"] == [], payload
    body = await audited.gql(READ, {"c": client, "first": 3}, token=payload["token"])
    assert "errors" not in body, body
    newest = (await access_log(audited, client, first=1))["nodes"][0]
    assert newest["reason"] == "Klient prosi o pomoc z fakturą"
    assert newest["who"]["role"] == "CUSTOMER_SERVICE" and newest["asUser"]
    assert {"contracts:read", "invoices:read"} <= set(newest["parts"])


LISTS = {
    "messageThreads": (MessageThread, "messages:read"),
    "requests": (Request, "requests:read"),
    "tyreRelocations": (TyreRelocation, "tyres:read"),
}


async def logged(hub: Hub, request_id: str) -> dict[int, set[str]]:
    """Company → parts of the access-log rows a request left."""
    async with hub.db.read() as session:
        query = select(AccessLogEntry).where(col(AccessLogEntry.request_id) == request_id)
        return {row.client_id: set(row.parts) for row in (await session.execute(query)).scalars()}


@pytest.mark.parametrize("name", sorted(LISTS))
async def test_every_companys_list_logs_each_company_shown(audited: Hub, name: str) -> None:
    model, part = LISTS[name]
    request_id = f"list-{name}-{uuid.uuid4().hex[:8]}"
    query = f"{{ admin {{ {name}(first: 50) {{ nodes {{ id }} }} }} }}"
    body = await audited.gql(query, as_="admin", headers={"X-Request-Id": request_id})
    assert "errors" not in body, body
    pks = [from_global_id(node["id"])[1] for node in body["data"]["admin"][name]["nodes"]]
    async with audited.db.read() as session:
        table: Any = model  # each of the three has its company
        found = await session.execute(select(table.client_id).where(col(table.id).in_(pks)))
        companies = set(found.scalars())
    assert companies  # the demo has some of each
    seen = await logged(audited, request_id)
    assert set(seen) == companies
    assert all(part in parts for parts in seen.values())


async def test_a_companys_people_read_by_staff_are_logged(audited: Hub) -> None:
    _, client = await first_client(audited, "anna")
    request_id = f"users-{uuid.uuid4().hex[:8]}"
    query = "query($c: ID!) { client(id: $c) { users { isMain user { email } } } }"
    body = await audited.gql(
        query, {"c": client}, as_="service", headers={"X-Request-Id": request_id}
    )
    assert body["data"]["client"]["users"], body
    assert (await logged(audited, request_id)) == {from_global_id(client)[1]: {USERS_PART}}


async def test_a_node_read_by_staff_is_logged(audited: Hub) -> None:
    _, client = await first_client(audited, "anna")
    invoices = await audited.gql(READ, {"c": client, "first": 1}, as_="anna")
    assert "errors" not in invoices
    ids = await audited.gql(
        "query($c: ID!) { client(id: $c) { invoices(first: 1) { nodes { id } } } }",
        {"c": client},
        as_="anna",
    )
    invoice = ids["data"]["client"]["invoices"]["nodes"][0]["id"]
    request_id = f"node-{uuid.uuid4().hex[:8]}"
    query = "query($id: ID!) { node(id: $id) { ... on Invoice { number } } }"
    body = await audited.gql(
        query, {"id": invoice}, as_="admin", headers={"X-Request-Id": request_id}
    )
    assert body["data"]["node"]["number"], body
    assert "invoices:read" in (await logged(audited, request_id))[from_global_id(client)[1]]


async def test_a_download_by_staff_is_logged_and_a_clients_is_not(audited: Hub) -> None:
    _, client = await first_client(audited, "anna")
    pk = from_global_id(client)[1]
    query = """query($c: ID!) { client(id: $c) { invoices(first: 1) {
      nodes { downloadUrl } } } }"""
    for who, more in (("anna", 0), ("admin", 1)):
        body = await audited.gql(query, {"c": client}, as_=who)
        url = body["data"]["client"]["invoices"]["nodes"][0]["downloadUrl"]
        before = len(await entries(audited, pk))
        headers = {"X-Access-Reason": quote("Reklamacja 12")}
        response = await audited.client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        after = await entries(audited, pk)
        assert len(after) == before + more, who
    assert after[-1].parts == ["invoices:read"] and after[-1].reason == "Reklamacja 12"
