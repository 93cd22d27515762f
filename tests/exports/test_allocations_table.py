"""Settlement detail for BI (issue 13 point 6): which payment settled which invoice, how much, when.

`allocationsTableUrl` pulls the client's payment allocations as a table, like the other BI tables;
the API's own settlement view (`Invoice.allocations`, `Payment.allocations`, `unallocated`) is
read through loaders, so its statements do not grow with the list.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import select, update

from auth.revocation import ACCESS_HANDLED, access_changed
from auth.scopes import Scope
from auth.tokens import hash_secret
from hub.demo import DEMO_MAIN_EMAIL, DemoSpec, load_demo
from models.base import utcnow
from models.identity import AuthToken
from models.invoice import Invoice, Payment, PaymentAllocation
from resolvers.ids import from_global_id, to_global_id
from tests.auth.helpers import TOKEN_CREATE, token_of
from tests.conftest import DatabaseFactory, Hub, count_statements, open_hub
from tests.exports.test_bi_tables import pull
from tests.loaders.test_statement_count import shapes
from tests.schema.helpers import error_codes

ALLOCATIONS = """query($id: ID!, $f: TableFormat! = CSV, $since: DateTime, $pl: Boolean! = false,
                      $filter: AllocationFilterInput) {
  client(id: $id) {
    allocationsTableUrl(format: $f, updatedSince: $since, polish: $pl, filter: $filter) } }"""
ENGLISH = [
    "Id",
    "Client id",
    "Payment id",
    "Invoice id",
    "Invoice number",
    "Amount",
    "Currency",
    "Allocated on",
    "Payment booked on",
    "Created at (UTC)",
    "Updated at (UTC)",
]
POLISH = [
    "Id",
    "Id klienta",
    "Id płatności",
    "Id faktury",
    "Numer faktury",
    "Kwota",
    "Waluta",
    "Data rozliczenia",
    "Data księgowania płatności",
    "Utworzono (UTC)",
    "Zmieniono (UTC)",
]


@dataclass
class Setup:
    hub: Hub
    client_pk: int
    other_pk: int  # a company the pulls never ask for
    anna: str

    @property
    def company(self) -> str:
        return to_global_id("Client", self.client_pk)


@pytest.fixture(scope="module")
async def setup(databases: DatabaseFactory) -> AsyncIterator[Setup]:
    """A demo of its own: `updatedSince` right after loading it must find nothing."""
    hub, db = await open_hub(await databases.create())
    await load_demo(db.engine, DemoSpec(clients=4, seed=5))
    anna = await token_of(hub, DEMO_MAIN_EMAIL)
    viewer = await hub.gql("{ viewer { clients { client { id } } } }", token=anna)
    company = viewer["data"]["viewer"]["clients"][0]["client"]["id"]
    async with db.read() as session:
        owners = set((await session.execute(select(PaymentAllocation.client_id))).scalars())
    client_pk = next(pk for pk in owners if to_global_id("Client", pk) == company)
    yield Setup(hub, client_pk, min(owners - {client_pk}), anna)
    await hub.close()
    await db.dispose()


def _pk(global_id: str) -> int:
    return from_global_id(global_id)[1]


async def _stored(setup: Setup, client_pk: int) -> dict[str, dict[str, Any]]:
    """The client's allocations as the database holds them, by global id."""
    query = (
        select(PaymentAllocation, Invoice.number, Payment.booked_on, Payment.currency)
        .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)  # type: ignore[arg-type]
        .join(Payment, Payment.id == PaymentAllocation.payment_id)  # type: ignore[arg-type]
        .where(PaymentAllocation.client_id == client_pk)
    )
    async with setup.hub.db.read() as session:
        rows = (await session.execute(query)).all()
    return {
        to_global_id("PaymentAllocation", a.id): {
            "Payment id": to_global_id("Payment", a.payment_id),
            "Invoice id": to_global_id("Invoice", a.invoice_id),
            "Invoice number": number,
            "Amount": a.amount,
            "Currency": currency.value,
            "Allocated on": a.allocated_on.isoformat(),
            "Payment booked on": booked_on.isoformat(),
        }
        for a, number, booked_on, currency in rows
    }


async def _csv(setup: Setup, token: str | None = None, **variables: Any) -> pd.DataFrame:
    given = {"id": setup.company, **variables}
    _, content, _ = await pull(setup.hub, ALLOCATIONS, given, token=token or setup.anna)
    polish = bool(variables.get("pl"))
    return pd.read_csv(
        io.BytesIO(content), encoding="utf-8-sig", sep=";" if polish else ",", dtype=str
    )


def _pulled(table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    rows = table.to_dict("records")
    return {
        row["Id"]: {key: row[key] for key in ENGLISH[2:9]} | {"Amount": Decimal(row["Amount"])}
        for row in rows
    }


async def _allocate(setup: Setup, client_pk: int, amount: Decimal) -> int:
    """A new payment of `amount` settled against one of the client's invoices."""
    async with setup.hub.db.write() as session:
        invoice = (
            await session.execute(
                select(Invoice).where(Invoice.client_id == client_pk).order_by(Invoice.id).limit(1)
            )
        ).scalar_one()
        payment = Payment(
            client_id=client_pk, booked_on=date(2026, 11, 20), amount=amount, title="T"
        )
        session.add(payment)
        await session.flush()
        allocation = PaymentAllocation(
            client_id=client_pk,
            payment_id=payment.id,  # type: ignore[arg-type]
            invoice_id=invoice.id,  # type: ignore[arg-type]
            amount=amount,
            allocated_on=date(2026, 11, 21),
        )
        session.add(allocation)
        await session.flush()
        return allocation.id  # type: ignore[return-value]


async def test_a_full_pull_lists_exactly_the_companys_allocations_with_their_amounts(
    setup: Setup,
) -> None:
    stored = await _stored(setup, setup.client_pk)
    assert len(stored) > 5  # the demo settles invoices
    table = await _csv(setup)
    assert list(table.columns) == ENGLISH
    assert _pulled(table) == stored
    assert set(table["Client id"]) == {setup.company}
    pks = [_pk(gid) for gid in table["Id"]]
    assert pks == sorted(pks)  # keyset pages, in id order


async def test_another_companys_allocations_never_appear(setup: Setup) -> None:
    theirs = await _stored(setup, setup.other_pk)
    assert theirs  # there is something to leak
    since = utcnow()
    await _allocate(setup, setup.other_pk, Decimal("77.70"))
    assert set((await _csv(setup))["Id"]).isdisjoint(theirs)
    assert (await _csv(setup, since=since.isoformat())).empty


async def test_updated_since_lists_only_an_allocation_written_after_it(setup: Setup) -> None:
    since = utcnow()
    assert (await _csv(setup, since=since.isoformat())).empty  # the demo, loaded before it
    pk = await _allocate(setup, setup.client_pk, Decimal("123.45"))
    table = await _csv(setup, since=since.isoformat())
    gid = to_global_id("PaymentAllocation", pk)
    assert _pulled(table) == {gid: (await _stored(setup, setup.client_pk))[gid]}
    assert table["Amount"][0] == "123.45" and table["Allocated on"][0] == "2026-11-21"
    assert pd.Timestamp(table["Updated at (UTC)"][0], tz="UTC") <= pd.Timestamp(utcnow())


async def test_a_polish_pull_has_polish_headers_and_the_rozliczenia_file_name(
    setup: Setup,
) -> None:
    given = {"id": setup.company, "pl": True}
    _, content, headers = await pull(setup.hub, ALLOCATIONS, given, token=setup.anna)
    assert headers["content-disposition"] == 'attachment; filename="rozliczenia.csv"'
    table = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig", sep=";", dtype=str)
    assert list(table.columns) == POLISH
    stored = await _stored(setup, setup.client_pk)
    assert len(table) == len(stored)
    amounts = {
        gid: Decimal(text.replace(",", "."))
        for gid, text in zip(table["Id"], table["Kwota"], strict=True)
    }
    assert amounts == {gid: row["Amount"] for gid, row in stored.items()}


async def test_an_xlsx_pull_has_typed_cells(setup: Setup) -> None:
    given = {"id": setup.company, "f": "XLSX"}
    _, content, headers = await pull(setup.hub, ALLOCATIONS, given, token=setup.anna)
    assert headers["content-disposition"] == 'attachment; filename="allocations.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).active
    assert sheet is not None
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert list(header) == ENGLISH
    stored = await _stored(setup, setup.client_pk)
    assert len(rows) == len(stored)
    row = dict(zip(header, rows[0], strict=True))
    assert Decimal(str(row["Amount"])) == stored[str(row["Id"])]["Amount"]
    for key in ("Allocated on", "Payment booked on", "Created at (UTC)", "Updated at (UTC)"):
        assert hasattr(row[key], "year"), key  # a date cell, not text


async def _token(setup: Setup, scopes: list[str]) -> str:
    body = await setup.hub.gql(
        TOKEN_CREATE, {"c": setup.company, "s": scopes, "ro": True}, token=setup.anna
    )
    return body["data"]["apiTokenCreate"]["token"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("scopes", "allowed"),
    [
        (["INVOICES_READ"], False),
        (["PAYMENTS_READ"], False),
        (["SCHEDULES_READ"], False),
        (["INVOICES_READ", "PAYMENTS_READ"], True),
    ],
)
async def test_allocations_need_the_invoices_scope_and_the_payments_scope(
    setup: Setup, scopes: list[str], allowed: bool
) -> None:
    token = await _token(setup, scopes)
    body = await setup.hub.gql(
        "query($id: ID!) { client(id: $id) { allocationsTableUrl } }",
        {"id": setup.company},
        token=token,
    )
    url = body["data"]["client"]["allocationsTableUrl"]
    if allowed:
        assert "errors" not in body, body
        response = await setup.hub.client.get(url)
        assert response.status_code == 200
        assert len(pd.read_csv(io.BytesIO(response.content), encoding="utf-8-sig")) > 0
    else:
        assert url is None and error_codes(body) == ["FORBIDDEN"]


async def test_a_link_stops_working_when_its_token_loses_the_payments_scope(
    setup: Setup,
) -> None:
    token = await _token(setup, ["INVOICES_READ", "PAYMENTS_READ"])
    body = await setup.hub.gql(
        "query($id: ID!) { client(id: $id) { allocationsTableUrl } }",
        {"id": setup.company},
        token=token,
    )
    url = body["data"]["client"]["allocationsTableUrl"]
    mine = AuthToken.token_hash == hash_secret(token)  # type: ignore[arg-type]
    async with setup.hub.db.write() as session:  # as if the token had been narrowed since
        owner = (await session.execute(select(AuthToken.user_id).where(mine))).scalar_one()
        await access_changed(session, [owner])
        await session.execute(
            update(AuthToken)
            .where(mine)
            .values(scopes=[Scope.INVOICES_READ.value])
            .execution_options(**ACCESS_HANDLED)
        )
    answer = await setup.hub.client.get(url)
    assert answer.status_code == 404, answer.text[:300]


async def test_filters_narrow_the_pull_to_an_invoice_a_contract_or_dates(setup: Setup) -> None:
    stored = await _stored(setup, setup.client_pk)
    invoice = next(iter(stored.values()))["Invoice id"]
    by_invoice = await _csv(setup, filter={"invoiceId": invoice})
    assert set(by_invoice["Id"]) == {g for g, r in stored.items() if r["Invoice id"] == invoice}
    days = sorted(row["Allocated on"] for row in stored.values())
    middle = days[len(days) // 2]
    dated = await _csv(setup, filter={"allocatedFrom": middle, "allocatedTo": middle})
    assert set(dated["Id"]) == {g for g, r in stored.items() if r["Allocated on"] == middle}
    async with setup.hub.db.read() as session:
        invoices = dict((await session.execute(select(Invoice.id, Invoice.contract_id))).all())
    contract = next(c for c in invoices.values() if c is not None)
    in_contract = await _csv(setup, filter={"contractId": to_global_id("Contract", contract)})
    assert set(in_contract["Id"]) == {
        g for g, r in stored.items() if invoices[_pk(r["Invoice id"])] == contract
    }


async def test_bad_filters_are_refused_and_another_companys_invoice_is_not_found(
    setup: Setup,
) -> None:
    theirs = next(iter((await _stored(setup, setup.other_pk)).values()))["Invoice id"]
    variables = {"id": setup.company, "filter": {"invoiceId": theirs}}
    body = await setup.hub.gql(ALLOCATIONS, variables, token=setup.anna)
    assert error_codes(body) == ["NOT_FOUND"]
    assert body["errors"][0]["extensions"]["field"] == "filter.invoiceId"
    backwards = {"allocatedFrom": "2026-02-01", "allocatedTo": "2026-01-01"}
    body = await setup.hub.gql(
        ALLOCATIONS, {"id": setup.company, "filter": backwards}, token=setup.anna
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "filter.allocatedFrom"


SETTLEMENT = """query($id: ID!, $n: Int!) { client(id: $id) {
  payments(first: $n) { nodes {
    bookedOn unallocated { amount }
    allocations { amount { amount } allocatedOn invoice { number status amountDue { amount }
                  allocations { amount { amount } payment { bookedOn } } } } } } } }"""


async def test_the_settlement_view_costs_the_same_statements_for_two_or_forty_payments(
    setup: Setup,
) -> None:
    counted = []
    for first in (2, 40):
        with count_statements(setup.hub.db) as statements:
            body = await setup.hub.gql(
                SETTLEMENT, {"id": setup.company, "n": first}, token=setup.anna
            )
        assert "errors" not in body, body
        nodes = body["data"]["client"]["payments"]["nodes"]
        counted.append((shapes(statements), sum(len(n["allocations"]) for n in nodes)))
    (few, few_rows), (many, many_rows) = counted
    assert many_rows >= 5 * max(few_rows, 1)  # the longer list really is longer
    assert few == many
