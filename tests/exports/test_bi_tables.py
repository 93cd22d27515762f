"""BI pulls (USE-2): whole lists as CSV/XLSX with the API's filters and `updatedSince`."""

from __future__ import annotations

import io
import tempfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
from sqlalchemy import select

from auth.clock import warsaw_today
from hub.demo import DEMO_MAIN_EMAIL
from models.base import utcnow
from models.calendar import overdue_before
from models.client import Client
from models.identity import StaffRole
from models.invoice import Invoice, Payment, PaymentAllocation
from models.outbox import OutboxMessage
from models.settlement import InvoiceStatus
from resolvers.ids import from_global_id, to_global_id
from resolvers.tables import TABLES, table_pages
from tests.auth.helpers import TOKEN_CREATE, first_company, staff_token, token_of
from tests.conftest import Hub, count_statements
from tests.schema.helpers import client_ids, error_codes

INVOICES_TABLE = """query($id: ID!, $f: TableFormat!, $since: DateTime, $filter: InvoiceFilterInput,
                         $pl: Boolean!) {
  client(id: $id) {
    invoicesTableUrl(format: $f, updatedSince: $since, filter: $filter, polish: $pl)
    invoices(first: 100, filter: $filter) { totalCount nodes { id } } } }"""
DOCUMENTS_TABLE = """query($id: ID!, $since: DateTime) {
  client(id: $id) { documentsTableUrl(updatedSince: $since) } }"""
DOCUMENT_ISSUE = """mutation($c: ID!, $title: String!) {
  documentIssue(input: {clientId: $c, kind: OTHER, title: $title, issueDate: "2026-11-20",
                        amount: "12.50"}) {
    document { id number title } errors { field code } } }"""


async def pull(hub: Hub, query: str, variables: dict, *, token: str) -> tuple[dict, bytes, dict]:
    body = await hub.gql(query, variables, token=token)
    assert "errors" not in body, body
    url = next(v for v in body["data"]["client"].values() if isinstance(v, str))
    response = await hub.client.get(url)
    assert response.status_code == 200
    return body, response.content, dict(response.headers)


async def test_invoice_table_has_the_same_rows_as_the_filtered_list(hub: Hub) -> None:
    client_id = (await client_ids(hub, "anna"))[0]
    variables = {"id": client_id, "f": "CSV", "filter": {"status": ["PAID"]}, "pl": False}
    body, content, headers = await pull(hub, INVOICES_TABLE, variables, token=hub.tokens["anna"])
    assert headers["content-disposition"] == 'attachment; filename="invoices.csv"'
    assert headers["x-content-type-options"] == "nosniff"
    assert datetime.fromisoformat(headers["x-leasehub-pulled-at"]).tzinfo is not None
    table = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig")
    listed = body["data"]["client"]["invoices"]
    assert len(table) == listed["totalCount"] > 0
    assert set(table["Status"]) == {"PAID"}
    first_ids = {node["id"] for node in listed["nodes"]}
    assert first_ids <= set(table["Id"])
    assert table["Gross"].dtype == float and table["Amount due"].max() == 0


async def test_xlsx_table_has_typed_cells_and_polish_headers(hub: Hub) -> None:
    client_id = (await client_ids(hub, "anna"))[0]
    variables = {"id": client_id, "f": "XLSX", "filter": None, "pl": True}
    body, content, _ = await pull(hub, INVOICES_TABLE, variables, token=hub.tokens["anna"])
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("Id", "Id klienta", "Numer") and "Termin płatności" in header
    assert len(rows) - 1 == body["data"]["client"]["invoices"]["totalCount"]
    row = rows[1]
    assert isinstance(row[header.index("Termin płatności")], datetime)
    assert isinstance(row[header.index("Brutto")], float)
    assert isinstance(row[header.index("Zmieniono (UTC)")], datetime)


async def test_updated_since_returns_only_rows_changed_after_it(flows: Hub) -> None:
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    company = await first_company(flows)
    since = utcnow()
    variables = {"id": company, "f": "CSV", "since": since.isoformat(), "pl": False}
    _, content, _ = await pull(flows, INVOICES_TABLE, variables, token=anna)
    assert pd.read_csv(io.BytesIO(content), encoding="utf-8-sig").empty  # header only
    # A payment settled against one open invoice changes that invoice's status, not its row.
    client_pk = from_global_id(company)[1]
    async with flows.db.write() as session:
        invoice = (
            await session.execute(
                select(Invoice)
                .where(Invoice.client_id == client_pk, Invoice.corrects_id.is_(None))
                .order_by(Invoice.due_date.desc())
                .limit(1)
            )
        ).scalar_one()
        payment = Payment(
            client_id=client_pk, booked_on=date(2026, 11, 20), amount=invoice.gross, title="T"
        )
        session.add(payment)
        await session.flush()
        session.add(
            PaymentAllocation(
                client_id=client_pk,
                payment_id=payment.id,
                invoice_id=invoice.id,
                amount=Decimal("0.01"),
                allocated_on=date(2026, 11, 20),
            )
        )
    _, content, _ = await pull(flows, INVOICES_TABLE, variables, token=anna)
    table = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig")
    assert list(table["Id"]) == [to_global_id("Invoice", invoice.id)]  # type: ignore[arg-type]
    assert table["Paid"][0] >= 0.01
    payments_query = """query($id: ID!, $since: DateTime) {
      client(id: $id) { paymentsTableUrl(updatedSince: $since) } }"""
    _, content, _ = await pull(
        flows, payments_query, {"id": company, "since": since.isoformat()}, token=anna
    )
    payments = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig")
    assert list(payments["Id"]) == [to_global_id("Payment", payment.id)]  # type: ignore[arg-type]


async def test_issued_document_is_announced_and_pulled_with_its_formula_neutralised(
    flows: Hub,
) -> None:
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    staff = await staff_token(flows, StaffRole.FINANCE)
    company = await first_company(flows)
    since = utcnow()
    title = '=HYPERLINK("http://evil.example","Kliknij")'
    body = await flows.gql(DOCUMENT_ISSUE, {"c": company, "title": title}, token=staff)
    issued = body["data"]["documentIssue"]
    assert issued["errors"] == [] and issued["document"]["number"].startswith("DI/2026/")
    async with flows.db.read() as session:
        client = await session.get(Client, from_global_id(company)[1])
        notice = (
            await session.execute(
                select(OutboxMessage).where(OutboxMessage.template == "document_issued")
            )
        ).scalar_one()
    assert client is not None and notice.recipient == client.einvoice_email
    assert issued["document"]["number"] in notice.subject
    _, content, _ = await pull(
        flows, DOCUMENTS_TABLE, {"id": company, "since": since.isoformat()}, token=anna
    )
    table = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig")
    assert list(table["Id"]) == [issued["document"]["id"]]
    assert table["Title"][0] == "'" + title
    assert table["Amount"][0] == 12.5


async def test_document_issue_is_validated_staff_only_and_writes_nothing_on_error(
    flows: Hub,
) -> None:
    staff = await staff_token(flows, StaffRole.FINANCE)
    company = await first_company(flows)
    body = await flows.gql(DOCUMENT_ISSUE, {"c": company, "title": "  "}, token=staff)
    assert body["data"]["documentIssue"]["errors"] == [{"field": "title", "code": "REQUIRED"}]
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    denied = await flows.gql(DOCUMENT_ISSUE, {"c": company, "title": "Nota"}, token=anna)
    assert error_codes(denied) == ["FORBIDDEN"]
    auditor = await staff_token(flows, StaffRole.AUDITOR)
    assert error_codes(
        await flows.gql(DOCUMENT_ISSUE, {"c": company, "title": "Nota"}, token=auditor)
    ) == ["FORBIDDEN"]


async def test_updated_since_needs_a_time_zone(hub: Hub) -> None:
    client_id = (await client_ids(hub, "anna"))[0]
    body = await hub.gql(
        DOCUMENTS_TABLE, {"id": client_id, "since": "2026-01-01T00:00:00"}, as_="anna"
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "updatedSince"


async def test_table_link_needs_the_lists_scope(flows: Hub) -> None:
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    company = await first_company(flows)
    created = await flows.gql(
        TOKEN_CREATE, {"c": company, "s": ["INVOICES_READ"], "ro": True}, token=anna
    )
    token = created["data"]["apiTokenCreate"]["token"]
    body = await flows.gql(
        "query($id: ID!) { client(id: $id) { paymentsTableUrl invoicesTableUrl } }",
        {"id": company},
        token=token,
    )
    assert body["data"]["client"]["paymentsTableUrl"] is None
    assert body["data"]["client"]["invoicesTableUrl"].startswith("http")
    assert error_codes(body) == ["FORBIDDEN"]


async def _pages(hub: Hub, client_pk: int, **paging: int) -> list[list[dict]]:
    table = TABLES["instalments"]
    return [
        page
        async for page in table_pages(
            hub.db,
            table,
            client_id=client_pk,
            filters=table.filters(),
            updated_since=None,
            today=warsaw_today(utcnow()),
            **paging,
        )
    ]


async def test_a_pull_reads_in_pages_with_one_statement_per_page(hub: Hub) -> None:
    client_pk = from_global_id((await client_ids(hub, "anna"))[0])[1]
    whole = [row for page in await _pages(hub, client_pk) for row in page]
    with count_statements(hub.db) as statements:
        pages = await _pages(hub, client_pk, page_rows=25)
    assert len(whole) > 100 and all(len(page) <= 25 for page in pages)
    assert [row["id"] for page in pages for row in page] == [row["id"] for row in whole]
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == len(pages) + (len(whole) % 25 == 0)


async def test_polish_csv_of_overdue_invoices_matches_the_list(hub: Hub) -> None:
    """The status in a table is the API's status: the same rule, not a stored copy."""
    client_id = (await client_ids(hub, "anna"))[0]
    variables = {"id": client_id, "f": "CSV", "filter": {"status": ["OVERDUE"]}, "pl": True}
    body, content, _ = await pull(hub, INVOICES_TABLE, variables, token=hub.tokens["anna"])
    table = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig", sep=";", decimal=",")
    assert len(table) == body["data"]["client"]["invoices"]["totalCount"] > 0
    assert set(table["Status"]) <= {InvoiceStatus.OVERDUE.value}
    due = pd.to_datetime(table["Termin płatności"]).dt.date
    assert (due < warsaw_today(utcnow()) + timedelta(days=1)).all()


async def test_derived_filters_cannot_be_combined_with_updated_since(hub: Hub) -> None:
    client_id = (await client_ids(hub, "anna"))[0]
    variables = {
        "id": client_id,
        "f": "CSV",
        "filter": {"status": ["OVERDUE"]},
        "since": "2026-01-01T00:00:00Z",
        "pl": False,
    }
    body = await hub.gql(INVOICES_TABLE, variables, as_="anna")
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "filter.status"


async def test_invoices_that_fell_due_since_the_last_pull_are_pulled_again(hub: Hub) -> None:
    """Passing its payment deadline turns an invoice OVERDUE without any row being written."""
    client_id = (await client_ids(hub, "anna"))[0]
    since = utcnow() - timedelta(days=40)
    variables = {"id": client_id, "f": "CSV", "since": since.isoformat(), "pl": False}
    _, content, _ = await pull(hub, INVOICES_TABLE, variables, token=hub.tokens["anna"])
    pulled = set(pd.read_csv(io.BytesIO(content), encoding="utf-8-sig")["Id"])
    async with hub.db.read() as session:
        fell_due = (
            await session.execute(
                select(Invoice.id).where(
                    Invoice.client_id == from_global_id(client_id)[1],
                    # Overdue from the day after the legal deadline (tests/models/test_calendar.py)
                    Invoice.due_date >= overdue_before(warsaw_today(since)),
                    Invoice.due_date < overdue_before(warsaw_today(utcnow())),
                )
            )
        ).scalars()
        expected = {to_global_id("Invoice", pk) for pk in fell_due}
    assert expected and expected <= pulled


async def test_xlsx_pull_is_sent_whole_and_leaves_no_files_behind(hub: Hub) -> None:
    folders = set(Path(tempfile.gettempdir()).glob("leasehub-*"))
    client_id = (await client_ids(hub, "anna"))[0]
    body = await hub.gql(
        "query($id: ID!) { client(id: $id) { documentsTableUrl(format: XLSX, polish: true) } }",
        {"id": client_id},
        as_="anna",
    )
    url = body["data"]["client"]["documentsTableUrl"]
    assert (await hub.client.head(url)).status_code == 405  # a preview must not build it
    response = await hub.client.get(url)
    assert response.headers["content-disposition"] == 'attachment; filename="dokumenty.xlsx"'
    assert int(response.headers["content-length"]) == len(response.content)
    assert openpyxl.load_workbook(io.BytesIO(response.content)).active.max_row > 1
    assert set(Path(tempfile.gettempdir()).glob("leasehub-*")) == folders


async def test_invoice_table_sums_the_gross_of_its_corrections(hub: Hub) -> None:
    async with hub.db.read() as session:
        correction = (
            (
                await session.execute(
                    select(Invoice).where(Invoice.corrects_id.is_not(None)).order_by(Invoice.id)
                )
            )
            .scalars()
            .first()
        )
        assert correction is not None
        corrections = (
            (
                await session.execute(
                    select(Invoice.gross).where(Invoice.corrects_id == correction.corrects_id)
                )
            )
            .scalars()
            .all()
        )
    client_id = to_global_id("Client", correction.client_id)
    variables = {"id": client_id, "f": "CSV", "filter": None, "pl": False}
    _, content, _ = await pull(hub, INVOICES_TABLE, variables, token=hub.tokens["staff"])
    table = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig").set_index("Id")
    corrected = table.loc[to_global_id("Invoice", correction.corrects_id)]
    assert Decimal(str(corrected["Corrections (gross)"])) == sum(corrections, Decimal(0))
    assert "Corrected by" not in table.columns
