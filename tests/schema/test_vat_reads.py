"""What the API reads out of VAT by kind (issue 11): categories and printed bases of invoices
and instalments, the deprecated integer rate beside them, and remaining capital of terminated
contracts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from models.contract import Contract, ContractKind, ContractStatus
from models.invoice import Invoice
from resolvers.ids import to_global_id
from tests.conftest import Hub

CONTRACT = """query($id: ID!) { node(id: $id) { ... on Contract {
  kind status residualValue { amount } remainingCapital { amount }
  schedule { vatCategory vatRate vat { amount } net { amount } gross { amount } } } } }"""
INVOICE = """query($id: ID!) { node(id: $id) { ... on Invoice {
  kind vatCategory vatRate vatBasis net { amount } vat { amount } taxBase { amount } } } }"""
# What each kind of contract's instalments print (written from the VAT Act, not the code).
INSTALMENT_CATEGORY = {
    ContractKind.OPERATING_LEASE: "RATE_23",
    ContractKind.FINANCIAL_LEASE: "NOT_SUBJECT",
    ContractKind.LOAN: "EXEMPT",
}


async def _node(hub: Hub, query: str, type_name: str, pk: int) -> dict[str, Any]:
    body = await hub.gql(query, {"id": to_global_id(type_name, pk)}, as_="staff")
    assert "errors" not in body, body
    return body["data"]["node"]  # type: ignore[no-any-return]


async def test_terminated_contracts_report_no_remaining_capital(hub: Hub) -> None:
    async with hub.db.read() as session:
        query = select(Contract.id).where(Contract.status == ContractStatus.TERMINATED)
        terminated = list((await session.execute(query)).scalars())
    assert terminated  # the demo spec of the session's hub terminates two contracts
    for pk in terminated:
        contract = await _node(hub, CONTRACT, "Contract", pk)
        assert contract["remainingCapital"] == {"amount": "0.00"}, contract
        assert contract["residualValue"]["amount"] != "0.00"  # what was reported before


async def test_every_instalment_reads_the_category_of_its_contracts_kind(hub: Hub) -> None:
    async with hub.db.read() as session:
        contracts = list((await session.execute(select(Contract.id, Contract.kind))).all())
    for pk, kind in contracts:
        node = await _node(hub, CONTRACT, "Contract", pk)
        for row in node["schedule"]:
            assert row["vatCategory"] == INSTALMENT_CATEGORY[kind]
            net, vat = Decimal(row["net"]["amount"]), Decimal(row["vat"]["amount"])
            expected = (net * Decimal("0.23")).quantize(Decimal("0.01")) if row["vatRate"] else 0
            assert row["vatRate"] == (23 if kind is ContractKind.OPERATING_LEASE else 0)
            assert vat == expected and Decimal(row["gross"]["amount"]) == net + vat


async def test_an_invoice_reads_its_category_basis_and_tax_base(hub: Hub) -> None:
    async with hub.db.read() as session:
        rows = (await session.execute(select(Invoice).order_by(Invoice.id))).scalars()
        invoices = {(i.vat_category, i.tax_base is None): i for i in rows}
    assert len(invoices) >= 4  # 23 % with and without a tax base, zw, np
    for invoice in invoices.values():
        node = await _node(hub, INVOICE, "Invoice", invoice.id)  # type: ignore[arg-type]
        assert node["vatCategory"] == invoice.vat_category.name
        assert node["vatRate"] == invoice.vat_category.percent
        base = invoice.net if invoice.tax_base is None else invoice.tax_base
        assert node["taxBase"]["amount"] == str(base)
        if invoice.vat_category.percent:
            assert node["vatBasis"] is None
        else:
            assert node["vatBasis"].startswith(("Zwolnienie z VAT: art. 43", "Nie podlega VAT"))
