"""`admin.requests`: customer service's queue of every company's requests, nearest deadline
first, with its filters; staff only, and its statement count does not grow with the page."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db import Database
from hub.demo import DEMO_STAFF_EMAIL, DemoSpec, load_demo
from models.client import Client
from models.request import RequestStage, RequestType
from resolvers.ids import to_global_id
from tests.conftest import DatabaseFactory, Hub, count_statements, open_hub
from tests.schema.helpers import desk_tokens, error_codes
from tests.schema.test_request_processing import add_contract, add_request, today, user_pk

QUEUE = """query($f: AdminRequestFilterInput, $first: Int, $after: String) {
  admin { requests(filter: $f, first: $first, after: $after) {
    nodes { id number stage type dueOn overdue }
    pageInfo { hasNextPage endCursor } } } }"""
WIDE = """query($f: AdminRequestFilterInput) { admin { requests(filter: $f, first: 50) { nodes {
  number stage dueOn overdue assignee { email } contract { number client { name } }
  history { stage } } } } }"""


@dataclass
class Setup:
    hub: Hub
    tokens: dict[str, str]
    client_pk: int  # the demo's first company

    @property
    def db(self) -> Database:
        return self.hub.db

    async def queue(self, who: str = "operator", **variables: Any) -> dict[str, Any]:
        return await self.hub.gql(QUEUE, variables, token=self.tokens[who])

    async def nodes(self, **wanted: Any) -> list[dict[str, Any]]:
        body = await self.queue(f=wanted, first=100)
        assert "errors" not in body, body["errors"]
        return body["data"]["admin"]["requests"]["nodes"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
async def setup(databases: DatabaseFactory) -> AsyncIterator[Setup]:
    hub, db = await open_hub(await databases.create())
    await load_demo(db.engine, DemoSpec(clients=2, seed=5))
    tokens, client_pk = await desk_tokens(hub)
    yield Setup(hub, tokens, client_pk)
    await hub.close()
    await db.dispose()


async def add_company(db: Database) -> int:
    """A company of its own, so that a test sees only its own requests."""
    digits = str(uuid.uuid4().int)[:10]
    async with AsyncSession(db.engine, expire_on_commit=False) as session:
        client = Client(
            number=digits[:8],
            name=f"Kolejka {digits} sp. z o.o.",
            nip=digits,
            regon="123456785",
            street="ul. Prosta 1",
            postal_code="00-001",
            city="Warszawa",
            email=f"biuro{digits}@firma.test",
            phone="+48 22 000 00 00",
            einvoice_email=f"faktury{digits}@firma.test",
        )
        session.add(client)
        await session.commit()
        return client.id or 0


def gid(pk: int) -> str:
    return to_global_id("Client", pk)


async def test_the_queue_lists_the_nearest_deadline_first_and_pages_with_stable_cursors(
    setup: Setup,
) -> None:
    company = await add_company(setup.db)
    days = [5, 1, 3, 1, 2]
    ids = [await add_request(setup.db, company, due_on=today() + timedelta(days=d)) for d in days]
    expected = [ids[i] for i in sorted(range(len(days)), key=lambda i: (days[i], i))]
    first = await setup.queue(f={"clientId": gid(company)}, first=2)
    page = first["data"]["admin"]["requests"]
    assert [node["id"] for node in page["nodes"]] == expected[:2]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await setup.queue(
        f={"clientId": gid(company)}, first=10, after=page["pageInfo"]["endCursor"]
    )
    assert [node["id"] for node in rest["data"]["admin"]["requests"]["nodes"]] == expected[2:]


async def test_the_queue_filters_by_stage_and_kind(setup: Setup) -> None:
    company = await add_company(setup.db)
    submitted = await add_request(setup.db, company, RequestType.POLICY_DUPLICATE)
    waiting = await add_request(
        setup.db, company, RequestType.CLIENT_DATA_CHANGE, stage=RequestStage.WAITING_FOR_CLIENT
    )
    closed = await add_request(
        setup.db, company, RequestType.POLICY_DUPLICATE, stage=RequestStage.CLOSED
    )
    mine = {"clientId": gid(company)}
    by_stage = await setup.nodes(**mine, stages=["SUBMITTED", "WAITING_FOR_CLIENT"])
    assert {node["id"] for node in by_stage} == {submitted, waiting}
    by_kind = await setup.nodes(**mine, kinds=["POLICY_DUPLICATE"])
    assert {node["id"] for node in by_kind} == {submitted, closed}
    both = await setup.nodes(**mine, kinds=["POLICY_DUPLICATE"], stages=["CLOSED"])
    assert [node["id"] for node in both] == [closed]


async def test_the_queue_filters_by_company(setup: Setup) -> None:
    one, other = await add_company(setup.db), await add_company(setup.db)
    mine = await add_request(setup.db, one)
    await add_request(setup.db, other)
    assert [node["id"] for node in await setup.nodes(clientId=gid(one))] == [mine]
    everyone = {node["id"] for node in await setup.nodes()}
    assert mine in everyone and len(everyone) >= 2


async def test_the_queue_filters_by_assignee_and_unassigned(setup: Setup) -> None:
    company = await add_company(setup.db)
    operator = await user_pk(setup.db, "customer_service@staff.leasehub.pl")
    admin = await user_pk(setup.db, DEMO_STAFF_EMAIL)
    taken = await add_request(setup.db, company, assignee_id=operator)
    others = await add_request(setup.db, company, assignee_id=admin)
    free = await add_request(setup.db, company)
    mine = {"clientId": gid(company)}
    assigned = await setup.nodes(**mine, assigneeId=to_global_id("User", operator))
    assert [node["id"] for node in assigned] == [taken]
    assert [node["id"] for node in await setup.nodes(**mine, unassigned=True)] == [free]
    assert {node["id"] for node in await setup.nodes(**mine, unassigned=False)} == {taken, others}


async def test_the_queue_filters_overdue_requests_still_open_after_their_deadline(
    setup: Setup,
) -> None:
    company = await add_company(setup.db)
    late = await add_request(setup.db, company, due_on=today() - timedelta(days=1))
    await add_request(setup.db, company, due_on=today())  # due today: not late yet
    await add_request(
        setup.db, company, stage=RequestStage.COMPLETED, due_on=today() - timedelta(days=9)
    )
    mine = {"clientId": gid(company)}
    overdue = await setup.nodes(**mine, overdue=True)
    assert [(node["id"], node["overdue"]) for node in overdue] == [(late, True)]
    on_time = await setup.nodes(**mine, overdue=False)
    assert len(on_time) == 2 and not any(node["overdue"] for node in on_time)


async def test_a_client_cannot_see_the_queue(setup: Setup) -> None:
    body = await setup.queue("anna")
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["data"] is None or body["data"]["admin"] is None


async def test_an_auditor_may_read_the_queue(setup: Setup) -> None:
    company = await add_company(setup.db)
    request_id = await add_request(setup.db, company)
    body = await setup.queue("auditor", f={"clientId": gid(company)})
    assert [node["id"] for node in body["data"]["admin"]["requests"]["nodes"]] == [request_id]


async def _fill(setup: Setup, count: int) -> int:
    company = await add_company(setup.db)
    contracts = [await add_contract(setup.db, company) for _ in range(3)]
    operator = await user_pk(setup.db, "customer_service@staff.leasehub.pl")
    for index in range(count):
        await add_request(
            setup.db,
            company,
            RequestType.PAYMENT_DAY_CHANGE,
            contract_pk=contracts[index % 3],
            assignee_id=operator if index % 2 else None,
            due_on=today() + timedelta(days=index % 7 - 3),
        )
    return company


async def test_the_statement_count_of_a_queue_page_does_not_grow_with_its_size(
    setup: Setup,
) -> None:
    counts = []
    for size in (5, 40):
        company = await _fill(setup, size)
        # The session is looked up once and then cached: both counts start from a warm one.
        await setup.hub.gql("{ viewer { isStaff } }", token=setup.tokens["admin"])
        with count_statements(setup.db) as statements:
            body = await setup.hub.gql(
                WIDE, {"f": {"clientId": gid(company)}}, token=setup.tokens["admin"]
            )
        assert "errors" not in body, body["errors"]
        nodes = body["data"]["admin"]["requests"]["nodes"]
        assert len(nodes) == size
        assert all(node["contract"]["client"]["name"].startswith("Kolejka") for node in nodes)
        assert {node["assignee"]["email"] for node in nodes if node["assignee"]} == {
            "customer_service@staff.leasehub.pl"
        }
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
