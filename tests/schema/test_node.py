"""`node(id)` serves every Node type of the schema, and a bad id never wipes the rest of a reply."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

from graphql import GraphQLInterfaceType
from sqlalchemy import select

from hub.demo import DEMO_MAIN_EMAIL, DEMO_SUB_EMAIL
from models.attachment import Attachment
from models.client import Client
from models.identity import AuthToken, Membership, StaffRole, TokenKind, User
from models.invoice import Invoice
from models.tyre import TyreServiceCentre, Vehicle
from models.tyre_booking import AppointmentStatus, TyreAppointment
from resolvers.ids import from_global_id, to_global_id
from resolvers.node import NODE_KINDS
from schema import schema
from tests.auth.helpers import TOKEN_CREATE, first_company, staff_token, token_of
from tests.conftest import Hub
from tests.schema.helpers import error_codes

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
DUPLICATE = """mutation($id: ID!) { invoiceDuplicateGenerate(input: {invoiceId: $id}) {
  duplicate { id } errors { code } } }"""


def node_type_names() -> set[str]:
    graphql_schema = schema._schema
    node = graphql_schema.get_type("Node")
    assert isinstance(node, GraphQLInterfaceType)
    return {t.name for t in graphql_schema.get_possible_types(node)}


def test_every_node_type_of_the_schema_is_registered_for_node() -> None:
    registered = {kind.type_name for kind in NODE_KINDS.values()}
    assert node_type_names() <= registered
    assert len(node_type_names()) >= 17


async def _rows_to_fetch(hub: Hub, client_pk: int, anna: User) -> dict[str, Any]:
    """One row per Node type that the company's main account (or staff, for users) may read."""
    rows: dict[str, Any] = {}
    async with hub.db.read() as session:
        for id_name, kind in NODE_KINDS.items():
            model = kind.loader.model
            query = select(model).order_by(model.id)  # type: ignore[attr-defined]
            if model is Client:
                query = query.where(Client.id == client_pk)
            elif model is AuthToken:
                query = query.where(AuthToken.user_id == anna.id, AuthToken.kind == TokenKind.API)
            elif model is Membership:
                query = query.where(Membership.client_id == client_pk, ~Membership.is_main)
            elif "client_id" in model.__table__.c:  # type: ignore[attr-defined]
                query = query.where(model.client_id == client_pk)  # type: ignore[attr-defined]
            rows[id_name] = (await session.execute(query.limit(1))).scalars().first()
    return rows


async def _an_appointment(session: Any, client_pk: int) -> None:
    car = (
        await session.execute(select(Vehicle).where(Vehicle.client_id == client_pk).limit(1))
    ).scalar_one()
    centre = (await session.execute(select(TyreServiceCentre).limit(1))).scalar_one()
    start = datetime(2030, 6, 3, 8, tzinfo=UTC)
    session.add(
        TyreAppointment(
            client_id=client_pk,
            vehicle_id=car.id,
            centre_id=centre.id,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            seat=1,
            status=AppointmentStatus.BOOKED,
        )
    )


async def _give_every_kind_a_row(hub: Hub, company: str, anna: str) -> None:
    """Rows the demo may not have: an API token, a duplicate, an attachment of a message and
    a tyre appointment."""
    body = await hub.gql(
        TOKEN_CREATE, {"c": company, "s": ["INVOICES_READ"], "ro": True}, token=anna
    )
    assert body["data"]["apiTokenCreate"]["errors"] == []
    client_pk = from_global_id(company)[1]
    async with hub.db.write() as session:
        invoice = (
            await session.execute(select(Invoice).where(Invoice.client_id == client_pk).limit(1))
        ).scalar_one()
        if not (await session.execute(select(Attachment.id).limit(1))).first():
            session.add(
                Attachment(
                    client_id=client_pk,
                    filename="a.pdf",
                    content_type="application/pdf",
                    size=4,
                    sha256="0" * 64,
                    content=b"%PDF",
                )
            )
        await _an_appointment(session, client_pk)
    invoice_id = to_global_id("Invoice", invoice.id)  # type: ignore[arg-type]
    body = await hub.gql(DUPLICATE, {"id": invoice_id}, token=anna)
    assert body["data"]["invoiceDuplicateGenerate"]["errors"] == []


async def test_node_fetches_an_object_of_every_node_type(flows: Hub) -> None:
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    staff = await staff_token(flows, StaffRole.AUDITOR)
    company = await first_company(flows)
    await _give_every_kind_a_row(flows, company, anna)
    async with flows.db.read() as session:
        anna_row = (
            await session.execute(select(User).where(User.email == DEMO_MAIN_EMAIL))
        ).scalar_one()
    rows = await _rows_to_fetch(flows, from_global_id(company)[1], anna_row)
    fetched = set()
    for id_name, row in rows.items():
        kind = NODE_KINDS[id_name]
        if row is None:  # an attachment of another company: anna may not see it anyway
            continue
        global_id = to_global_id(id_name, row.id)
        token = staff if kind.type_name == "AdminUser" else anna
        body = await flows.gql(NODE, {"id": global_id}, token=token)
        assert "errors" not in body, (id_name, body)
        assert body["data"]["node"] == {"__typename": kind.type_name, "id": global_id}
        fetched.add(kind.type_name)
    assert node_type_names() - fetched <= {"Attachment"}


async def test_node_hides_what_the_viewer_may_not_see(flows: Hub) -> None:
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    jan = await token_of(flows, DEMO_SUB_EMAIL)
    company = await first_company(flows)
    created = await flows.gql(
        TOKEN_CREATE, {"c": company, "s": ["INVOICES_READ"], "ro": True}, token=anna
    )
    anna_token = created["data"]["apiTokenCreate"]["apiToken"]["id"]
    async with flows.db.read() as session:
        staff_user = (
            await session.execute(select(User).where(User.staff_role.is_not(None)).limit(1))
        ).scalar_one()
        jan_membership = (
            await session.execute(
                select(Membership)
                .join(User, User.id == Membership.user_id)
                .where(
                    User.email == DEMO_SUB_EMAIL,
                    Membership.client_id == from_global_id(company)[1],
                )
            )
        ).scalar_one()
    user_id = to_global_id("User", staff_user.id)  # type: ignore[arg-type]
    subaccount_id = to_global_id("Subaccount", jan_membership.id)  # type: ignore[arg-type]
    assert error_codes(await flows.gql(NODE, {"id": anna_token}, token=jan)) == ["NOT_FOUND"]
    assert error_codes(await flows.gql(NODE, {"id": user_id}, token=anna)) == ["NOT_FOUND"]
    # jan holds no subaccounts:manage: the company's subaccounts are not his to read.
    assert error_codes(await flows.gql(NODE, {"id": subaccount_id}, token=jan)) == ["FORBIDDEN"]
    own = await flows.gql(NODE, {"id": subaccount_id}, token=anna)
    assert own["data"]["node"]["__typename"] == "Subaccount"


async def test_a_bad_id_answers_null_and_keeps_the_other_roots(hub: Hub) -> None:
    query = """{ viewer { user { email } } node(id: "zzz") { id }
      client(id: "Q2xpZW50Ojk5OTk5") { name } admin { users(search: "a") { totalCount } } }"""
    body = await hub.gql(query, as_="anna")
    assert body["data"] is not None, body
    assert body["data"]["viewer"]["user"]["email"] == DEMO_MAIN_EMAIL
    assert body["data"]["node"] is None and body["data"]["client"] is None
    assert body["data"]["admin"] is None
    assert sorted(error_codes(body)) == ["FORBIDDEN", "NOT_FOUND", "NOT_FOUND"]
    assert {tuple(error["path"]) for error in body["errors"]} == {
        ("node",),
        ("client",),
        ("admin",),
    }


async def test_ids_beyond_an_integer_column_are_not_found(hub: Hub) -> None:
    """PostgreSQL refuses to compare an INTEGER with 2**31: such ids never reach the query."""
    for pk in ("99999999999999", "2147483648", "²"):
        global_id = base64.urlsafe_b64encode(f"Client:{pk}".encode()).decode()
        body = await hub.gql(NODE, {"id": global_id}, as_="anna")
        assert error_codes(body) == ["NOT_FOUND"], pk
