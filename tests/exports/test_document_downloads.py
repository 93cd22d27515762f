"""Invoice, duplicate, schedule and document PDFs through signed links, end to end."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

import pypdf
from sqlalchemy import select

from auth.clock import warsaw_today
from exports.links import sign
from exports.pdf import format_date, format_money, format_percent
from hub.demo import DEMO_MAIN_EMAIL, DEMO_SUB_EMAIL
from models.base import utcnow
from models.client import Client
from models.contract import Contract
from models.document import Document, DocumentKind
from models.identity import StaffRole, User
from models.invoice import Invoice, InvoiceDuplicate, InvoiceKind
from resolvers.ids import from_global_id, to_global_id
from tests.auth.helpers import TOKEN_CREATE, first_company, staff_token, token_of
from tests.conftest import Hub
from tests.models.test_interest import PUBLISHED
from tests.schema.helpers import client_ids, error_codes
from tests.schema.test_interest_notes import invoice_paid

NODE_LINK = """query($id: ID!) { node(id: $id) {
  ... on Invoice { number downloadUrl }
  ... on Document { number downloadUrl } } }"""
DUPLICATE = """mutation($id: ID!) { invoiceDuplicateGenerate(input: {invoiceId: $id}) {
  duplicate { id issueDate requestedAt requestedById downloadUrl } errors { code } } }"""


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


async def _own_client(hub: Hub, who: str = "anna") -> int:
    return from_global_id((await client_ids(hub, who))[0])[1]


async def _download(hub: Hub, global_id: str, who: str = "anna") -> tuple[str, str]:
    body = await hub.gql(NODE_LINK, {"id": global_id}, as_=who)
    response = await hub.client.get(body["data"]["node"]["downloadUrl"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    return response.headers["content-disposition"], pdf_text(response.content)


async def _first_of(hub: Hub, model: Any, company: str) -> Any:
    async with hub.db.read() as session:
        query = select(model).where(model.client_id == from_global_id(company)[1])
        return (await session.execute(query.order_by(model.id).limit(1))).scalar_one()


async def _invoice(hub: Hub, *conditions: object) -> Invoice:
    client_id = await _own_client(hub)
    async with hub.db.read() as session:
        query = select(Invoice).where(Invoice.client_id == client_id, *conditions)
        return (await session.execute(query.order_by(Invoice.id).limit(1))).scalar_one()


async def test_invoice_pdf_shows_its_parties_amounts_ksef_and_account(hub: Hub) -> None:
    # One issued since KSeF applied: older invoices have no KSeF number (issue 11).
    numbered = Invoice.ksef_number.is_not(None)  # type: ignore[union-attr]
    invoice = await _invoice(hub, Invoice.kind == InvoiceKind.INSTALMENT, numbered)
    async with hub.db.read() as session:
        client = await session.get(Client, invoice.client_id)
    assert client is not None and hub.settings is not None
    disposition, text = await _download(hub, to_global_id("Invoice", invoice.id))
    assert disposition.startswith('attachment; filename="faktura-FV-')
    assert invoice.number in text and str(invoice.ksef_number) in text
    assert format_money(invoice.gross) in text and format_money(invoice.vat) in text
    assert format_date(invoice.issue_date) in text and format_date(invoice.due_date) in text
    assert client.name in text and client.nip in text and hub.settings.lessor_nip in text
    assert "Słownie" in text and "Numer rachunku" in text
    assert ("mechanizm podzielonej płatności" in text) is invoice.split_payment


async def test_split_payment_invoice_prints_the_mandatory_note(hub: Hub) -> None:
    # A delivery of annex-15 goods above 15,000 PLN: rare in a small demo, so stored here.
    async with hub.db.write() as session:
        contract = (
            await session.execute(select(Contract).order_by(Contract.id).limit(1))
        ).scalar_one()
        invoice = Invoice(
            client_id=contract.client_id,
            contract_id=contract.id,
            number="FV/TEST/MPP/1",
            kind=InvoiceKind.INITIAL_FEE,
            issue_date=contract.start_date,
            sale_date=contract.start_date,
            due_date=contract.start_date,
            net=Decimal("20000.00"),
            vat=Decimal("4600.00"),
            gross=Decimal("24600.00"),
            split_payment=True,
        )
        session.add(invoice)
    # Staff read every client: the note is a property of the invoice, not of who prints it.
    _, text = await _download(hub, to_global_id("Invoice", invoice.id), who="staff")
    assert "mechanizm podzielonej płatności" in text


async def test_correcting_invoice_pdf_names_the_corrected_invoice(hub: Hub) -> None:
    async with hub.db.read() as session:
        correction = (
            await session.execute(select(Invoice).where(Invoice.corrects_id.is_not(None)).limit(1))
        ).scalar_one()
        original = await session.get(Invoice, correction.corrects_id)
    assert original is not None
    _, text = await _download(hub, to_global_id("Invoice", correction.id), who="staff")
    assert "korygująca" in text.lower() and original.number in text
    assert format_money(original.gross + correction.gross) in text  # after the correction


async def test_duplicate_is_recorded_with_who_and_when_and_printed_as_a_duplicate(
    flows: Hub,
) -> None:
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    company = from_global_id(await first_company(flows))[1]
    async with flows.db.read() as session:
        invoice = (
            await session.execute(select(Invoice).where(Invoice.client_id == company).limit(1))
        ).scalar_one()
        user = (
            await session.execute(select(User).where(User.email == DEMO_MAIN_EMAIL))
        ).scalar_one()
    body = await flows.gql(DUPLICATE, {"id": to_global_id("Invoice", invoice.id)}, token=anna)
    duplicate = body["data"]["invoiceDuplicateGenerate"]["duplicate"]
    today = warsaw_today(utcnow())
    assert duplicate["issueDate"] == today.isoformat()
    assert duplicate["requestedById"] == to_global_id("User", user.id)
    async with flows.db.read() as session:
        row = await session.get(InvoiceDuplicate, from_global_id(duplicate["id"])[1])
    assert row is not None and row.requested_by_id == user.id and row.invoice_id == invoice.id
    response = await flows.client.get(duplicate["downloadUrl"])
    text = pdf_text(response.content)
    assert "DUPLIKAT" in text and format_date(today) in text and invoice.number in text
    assert format_date(invoice.issue_date) in text  # the original issue date stays
    listed = await flows.gql(
        "query($id: ID!) { node(id: $id) { ... on Invoice { duplicates { id } } } }",
        {"id": to_global_id("Invoice", invoice.id)},
        token=anna,
    )
    assert duplicate["id"] in [d["id"] for d in listed["data"]["node"]["duplicates"]]


async def test_duplicate_of_another_clients_invoice_is_not_found_and_writes_nothing(
    flows: Hub,
) -> None:
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    own = {from_global_id(gid)[1] for gid in await client_ids_of(flows, anna)}
    async with flows.db.read() as session:
        foreign = (
            await session.execute(select(Invoice).where(Invoice.client_id.not_in(own)).limit(1))
        ).scalar_one()
        before = len((await session.execute(select(InvoiceDuplicate))).all())
    body = await flows.gql(DUPLICATE, {"id": to_global_id("Invoice", foreign.id)}, token=anna)
    assert error_codes(body) == ["NOT_FOUND"]
    async with flows.db.read() as session:
        assert len((await session.execute(select(InvoiceDuplicate))).all()) == before


async def test_duplicate_needs_the_invoices_scope_and_a_writing_token(flows: Hub) -> None:
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    company = await first_company(flows)
    invoice = await _first_of(flows, Invoice, company)
    variables = {"id": to_global_id("Invoice", invoice.id)}
    for scopes, read_only in ((["DOCUMENTS_READ"], False), (["INVOICES_READ"], True)):
        created = await flows.gql(
            TOKEN_CREATE, {"c": company, "s": scopes, "ro": read_only}, token=anna
        )
        token = created["data"]["apiTokenCreate"]["token"]
        assert error_codes(await flows.gql(DUPLICATE, variables, token=token)) == ["FORBIDDEN"]


async def client_ids_of(hub: Hub, token: str) -> list[str]:
    body = await hub.gql("{ viewer { clients { client { id } } } }", token=token)
    return [access["client"]["id"] for access in body["data"]["viewer"]["clients"]]


async def _document(hub: Hub, kind: DocumentKind) -> Document:
    client_id = await _own_client(hub)
    async with hub.db.read() as session:
        query = select(Document).where(Document.kind == kind, Document.client_id == client_id)
        found = (await session.execute(query.limit(1))).scalar_one_or_none()
        if found is None:  # not every demo client has every kind; staff can print any
            query = select(Document).where(Document.kind == kind)
            found = (await session.execute(query.limit(1))).scalar_one()
    return found


async def test_interest_note_pdf_shows_the_invoice_days_rate_and_interest(hub: Hub) -> None:
    note = await _document(hub, DocumentKind.INTEREST_NOTE)
    async with hub.db.read() as session:
        charged = await session.get(Invoice, note.invoice_id)
    assert charged is not None and note.period_start and note.period_end and note.amount
    _, text = await _download(hub, to_global_id("Document", note.id), who="staff")
    assert "Nota odsetkowa" in text and note.number in text and charged.number in text
    # Each half-year of the period at its published statutory rate (issue 11).
    for day in (note.period_start, note.period_end):
        half_year = date(day.year, 1 if day.month <= 6 else 7, 1)
        assert format_percent(PUBLISHED[half_year]) in text
    assert format_money(note.amount) in text
    assert format_date(note.period_start) in text and format_date(note.period_end) in text
    days = (note.period_end - note.period_start).days + 1
    assert str(days) in text


async def test_balance_confirmation_pdf_states_the_balance_on_the_year_end(hub: Hub) -> None:
    confirmation = await _document(hub, DocumentKind.BALANCE_CONFIRMATION)
    assert confirmation.period_end is not None and confirmation.amount is not None
    _, text = await _download(hub, to_global_id("Document", confirmation.id), who="staff")
    assert "Potwierdzenie salda" in text
    assert format_date(confirmation.period_end) in text
    assert format_money(abs(confirmation.amount)) in text


async def test_schedule_pdf_lists_every_instalment(hub: Hub) -> None:
    query = """query($id: ID!) { client(id: $id) { contracts(first: 1) { nodes {
      number schedule { number dueDate gross { amount } }
      scheduleDownloadUrl(format: PDF) } } } }"""
    body = await hub.gql(query, {"id": (await client_ids(hub, "anna"))[0]}, as_="anna")
    contract = body["data"]["client"]["contracts"]["nodes"][0]
    response = await hub.client.get(contract["scheduleDownloadUrl"])
    assert response.headers["content-disposition"].endswith('.pdf"')
    text = pdf_text(response.content)
    last = contract["schedule"][-1]
    assert "Harmonogram" in text and contract["number"] in text
    assert format_date(date.fromisoformat(last["dueDate"])) in text


async def test_schedule_pdf_asked_for_in_english_is_english(hub: Hub) -> None:
    query = """query($id: ID!) { client(id: $id) { contracts(first: 1) { nodes {
      number scheduleDownloadUrl(format: PDF, polish: false) } } } }"""
    body = await hub.gql(query, {"id": (await client_ids(hub, "anna"))[0]}, as_="anna")
    contract = body["data"]["client"]["contracts"]["nodes"][0]
    response = await hub.client.get(contract["scheduleDownloadUrl"])
    assert response.headers["content-disposition"].startswith('attachment; filename="schedule-')
    text = pdf_text(response.content)
    assert "Repayment schedule" in text and "Capital remaining" in text
    assert "Harmonogram" not in text and "Kapitał" not in text
    assert contract["number"] in text


SUBACCOUNTS = "query($id: ID!) { client(id: $id) { subaccounts { id user { email } } } }"
SET_SCOPES = """mutation($id: ID!, $s: [Scope!]) { subaccountUpdate(input: {id: $id, scopes: $s})
  { errors { code } } }"""
RECENT_DOCUMENTS = """query($id: ID!) { client(id: $id) { dashboard { recentDocuments {
  number downloadUrl } } } }"""


async def test_subaccount_without_the_documents_scope_gets_no_document_link(flows: Hub) -> None:
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    company = await first_company(flows)
    listed = await flows.gql(SUBACCOUNTS, {"id": company}, token=anna)
    jan_id = next(
        s["id"]
        for s in listed["data"]["client"]["subaccounts"]
        if s["user"]["email"] == DEMO_SUB_EMAIL
    )
    jan = await token_of(flows, DEMO_SUB_EMAIL)
    allowed = await flows.gql(RECENT_DOCUMENTS, {"id": company}, token=jan)
    url = allowed["data"]["client"]["dashboard"]["recentDocuments"][0]["downloadUrl"]
    await flows.gql(SET_SCOPES, {"id": jan_id, "s": ["INVOICES_READ"]}, token=anna)
    try:
        denied = await flows.gql(RECENT_DOCUMENTS, {"id": company}, token=jan)
        assert error_codes(denied) == ["FORBIDDEN"]
        assert "downloadUrl" not in str(denied["data"])
        assert (await flows.client.get(url)).status_code == 404  # the old link died too
    finally:
        scopes = ["CONTRACTS_READ", "SCHEDULES_READ", "INVOICES_READ", "DOCUMENTS_READ"]
        await flows.gql(SET_SCOPES, {"id": jan_id, "s": scopes}, token=anna)


async def test_api_token_without_the_documents_scope_gets_no_link(flows: Hub) -> None:
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    company = await first_company(flows)
    document = await _first_of(flows, Document, company)
    created = await flows.gql(
        TOKEN_CREATE, {"c": company, "s": ["INVOICES_READ"], "ro": True}, token=anna
    )
    token = created["data"]["apiTokenCreate"]["token"]
    body = await flows.gql(NODE_LINK, {"id": to_global_id("Document", document.id)}, token=token)
    assert body["data"] == {"node": None} and error_codes(body) == ["FORBIDDEN"]
    # A link made through a token lives only as long as the token.
    invoice_link = await flows.gql(
        "query($id: ID!) { client(id: $id) { invoices(first: 1) { nodes { downloadUrl } } } }",
        {"id": company},
        token=token,
    )
    url = invoice_link["data"]["client"]["invoices"]["nodes"][0]["downloadUrl"]
    assert (await flows.client.get(url)).status_code == 200
    revoked = await flows.gql(
        "mutation($id: ID!) { apiTokenRevoke(input: {id: $id}) { errors { code } } }",
        {"id": created["data"]["apiTokenCreate"]["apiToken"]["id"]},
        token=anna,
    )
    assert revoked["data"]["apiTokenRevoke"]["errors"] == []
    assert (await flows.client.get(url)).status_code == 404


async def test_document_links_of_other_tenants_and_missing_documents_are_refused_alike(
    hub: Hub,
) -> None:
    assert hub.settings is not None
    secret = hub.settings.secret_key
    async with hub.db.read() as session:
        jan = (await session.execute(select(User).where(User.email == DEMO_SUB_EMAIL))).scalar_one()
        own = await _own_client(hub, "jan")
        foreign = (
            await session.execute(select(Document).where(Document.client_id != own).limit(1))
        ).scalar_one()
        foreign_invoice = (
            await session.execute(select(Invoice).where(Invoice.client_id != own).limit(1))
        ).scalar_one()
    now = utcnow()
    tokens = [
        sign(secret, kind="document", object_id=foreign.id, user_id=jan.id, now=now),
        sign(secret, kind="document", object_id=10**9, user_id=jan.id, now=now),
        sign(secret, kind="invoice", object_id=foreign_invoice.id, user_id=jan.id, now=now),
        sign(secret, kind="duplicate", object_id=10**9, user_id=jan.id, now=now),
        sign(secret, kind="no-such-kind", object_id=1, user_id=jan.id, now=now),
    ]
    answers = [await hub.client.get(f"/download/{token}") for token in tokens]
    assert {answer.status_code for answer in answers} == {404}
    assert len({answer.content for answer in answers}) == 1


async def test_second_correction_starts_from_the_invoice_as_first_corrected(flows: Hub) -> None:
    company = await first_company(flows)
    original = await _first_of(flows, Invoice, company)
    corrections = []
    async with flows.db.write() as session:
        for number, day, net in (("K/1", 1, "-100.00"), ("K/2", 2, "-50.00")):
            row = Invoice(
                client_id=original.client_id,
                contract_id=original.contract_id,
                number=f"FV/TEST/{number}",
                kind=InvoiceKind.CORRECTION,
                issue_date=date(2026, 11, day),
                sale_date=date(2026, 11, day),
                due_date=date(2026, 11, 20),
                net=Decimal(net),
                vat=Decimal(net) * Decimal("0.23"),
                gross=Decimal(net) * Decimal("1.23"),
                corrects_id=original.id,
                description=f"Korekta faktury {original.number} – rabat",
            )
            session.add(row)
            corrections.append(row)
    staff = await staff_token(flows, StaffRole.FINANCE)
    body = await flows.gql(
        NODE_LINK, {"id": to_global_id("Invoice", corrections[1].id)}, token=staff
    )
    text = pdf_text((await flows.client.get(body["data"]["node"]["downloadUrl"])).content)
    before = original.gross + corrections[0].gross
    assert format_money(before) in text  # the first correction is already in "before"
    assert format_money(before + corrections[1].gross) in text
    assert "rabat" in text


async def test_auditors_cannot_generate_duplicates(flows: Hub) -> None:
    invoice = await _first_of(flows, Invoice, await first_company(flows))
    auditor = await staff_token(flows, StaffRole.AUDITOR)
    body = await flows.gql(DUPLICATE, {"id": to_global_id("Invoice", invoice.id)}, token=auditor)
    assert error_codes(body) == ["FORBIDDEN"]


INTEREST_NOTE = """mutation($c: ID!, $i: ID, $rate: Decimal) {
  documentIssue(input: {clientId: $c, kind: INTEREST_NOTE, title: "Nota odsetkowa",
      issueDate: "2026-11-20", invoiceId: $i, basisAmount: "10000.00",
      periodStart: "2022-03-01", periodEnd: "2022-03-31", annualRate: $rate}) {
    document { id amount { amount } downloadUrl } errors { field code } } }"""


async def test_staff_issue_an_interest_note_with_its_interest_computed(flows: Hub) -> None:
    company = await first_company(flows)
    # Due Monday 28.02.2022 and paid late on 31.03.2022: interest from 1 March (issue 11).
    _, paid_late = await invoice_paid(
        flows,
        due=date(2022, 2, 28),
        gross="10000.00",
        paid=((date(2022, 3, 31), "10000.00"),),
        company=company,
    )
    async with flows.db.read() as session:
        invoice = await session.get(Invoice, from_global_id(paid_late)[1])
    assert invoice is not None
    staff = await staff_token(flows, StaffRole.FINANCE)
    # 11.75 % is the statutory rate of 2022 H1 (reference rate 1.75 % + 10 pp).
    variables = {"c": company, "i": paid_late, "rate": "0.1175"}
    issued = (await flows.gql(INTEREST_NOTE, variables, token=staff))["data"]["documentIssue"]
    assert issued["errors"] == []
    # 10,000.00 × 11.75 % × 31 days / 365 = 99.79
    assert issued["document"]["amount"] == {"amount": "99.79"}
    anna = await token_of(flows, DEMO_MAIN_EMAIL)
    link = await flows.gql(NODE_LINK, {"id": issued["document"]["id"]}, token=anna)
    text = pdf_text((await flows.client.get(link["data"]["node"]["downloadUrl"])).content)
    assert invoice.number in text and "11,75%" in text and "99,79" in text
    assert "01.03.2022" in text and "31.03.2022" in text


async def test_interest_note_needs_its_details_and_an_invoice_of_the_client(flows: Hub) -> None:
    company = await first_company(flows)
    staff = await staff_token(flows, StaffRole.FINANCE)
    missing = await flows.gql(INTEREST_NOTE, {"c": company, "i": None}, token=staff)
    errors = {(e["field"], e["code"]) for e in missing["data"]["documentIssue"]["errors"]}
    assert errors == {("invoiceId", "REQUIRED")}  # the rate: the statutory one when left out
    async with flows.db.read() as session:
        foreign = (
            await session.execute(
                select(Invoice).where(Invoice.client_id != from_global_id(company)[1]).limit(1)
            )
        ).scalar_one()
        before = len((await session.execute(select(Document))).all())
    variables = {"c": company, "i": to_global_id("Invoice", foreign.id), "rate": "0.14"}
    body = await flows.gql(INTEREST_NOTE, variables, token=staff)
    assert body["data"]["documentIssue"]["errors"] == [{"field": "invoiceId", "code": "NOT_FOUND"}]
    async with flows.db.read() as session:
        assert len((await session.execute(select(Document))).all()) == before
