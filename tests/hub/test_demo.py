"""Demo data: valid identifiers, consistent money, the demo accounts, and repeatable output."""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

import models
from auth.passwords import verify_password
from auth.scopes import Scope
from hub.db import make_engine
from hub.demo import (
    DEMO_MAIN_EMAIL,
    DEMO_PASSWORD,
    DEMO_STAFF_EMAIL,
    DEMO_SUB_EMAIL,
    LESSOR_NIP,
    SUBACCOUNT_SCOPES,
    DemoDataExists,
    DemoSpec,
    load_demo,
)
from hub.demo.identity import DEMO_ROLE_STAFF
from models.base import to_money
from models.identifiers import is_valid_iban, is_valid_ksef_number, is_valid_nip, is_valid_regon
from models.identity import StaffRole
from models.request import RequestType
from resolvers.request_catalogue import FORMS
from resolvers.request_file import field_errors

SPEC = DemoSpec(clients=12, seed=2026, today=date(2026, 3, 15))  # client 100003 is a fleet
COMPARED = (
    models.Client,
    models.Contract,
    models.Instalment,
    models.Invoice,
    models.PaymentAllocation,
    models.Document,
    models.TyreServiceCentre,
    models.TyreDeposit,
    models.Request,
    models.Attachment,
)
TODAY = SPEC.today
Row = dict[str, Any]


async def fresh_engine(path: Path) -> AsyncEngine:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    return engine


async def loaded(path: Path, spec: DemoSpec) -> AsyncEngine:
    engine = await fresh_engine(path)
    await load_demo(engine, spec)
    return engine


@pytest.fixture(scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncEngine]:
    engine = await loaded(tmp_path_factory.mktemp("demo") / "demo.db", SPEC)
    yield engine
    await engine.dispose()


async def rows(engine: AsyncEngine, model: type[SQLModel]) -> list[Row]:
    table = model.__table__  # type: ignore[attr-defined]
    async with engine.connect() as conn:
        result = await conn.execute(sa.select(table).order_by(table.c.id))
        return [dict(row) for row in result.mappings()]


def money(value: Any) -> Decimal:
    return to_money(Decimal(str(value)))


def sums_by(items: list[Row], key: str, amount: str = "amount") -> defaultdict[int, Decimal]:
    totals: defaultdict[int, Decimal] = defaultdict(Decimal)
    for item in items:
        totals[item[key]] += money(item[amount])
    return totals


def amounts_due(invoices: list[Row]) -> dict[int, Decimal]:
    """Each invoice's gross after its corrections (a correction itself is due nothing)."""
    corrections = [i for i in invoices if i["corrects_id"]]
    corrected = sums_by(corrections, "corrects_id", amount="gross")
    return {
        i["id"]: money(i["gross"]) + corrected[i["id"]] for i in invoices if not i["corrects_id"]
    }


async def test_identifiers_pass_their_checksums(demo: AsyncEngine) -> None:
    assert is_valid_nip(LESSOR_NIP)
    clients = await rows(demo, models.Client)
    assert all(is_valid_nip(c["nip"]) and is_valid_regon(c["regon"]) for c in clients)
    assert len({c["nip"] for c in clients}) == len(clients)
    assert all(is_valid_iban(a["iban"]) for a in await rows(demo, models.BankAccount))
    # Which invoices have one at all: tests/hub/test_demo_vat.py (KSeF only from its date).
    numbered = [i for i in await rows(demo, models.Invoice) if i["ksef_number"]]
    assert numbered and all(is_valid_ksef_number(i["ksef_number"]) for i in numbered)
    assert all(i["ksef_number"].startswith(LESSOR_NIP) for i in numbered)


async def test_clients_look_polish(demo: AsyncEngine) -> None:
    clients = await rows(demo, models.Client)
    assert [c["number"] for c in clients] == [str(100001 + i) for i in range(len(clients))]
    assert all(re.fullmatch(r"\d\d-\d\d\d", c["postal_code"]) for c in clients)
    assert all(c["phone"].startswith("+48 ") for c in clients)
    assert any(set(c["name"] + c["street"] + c["city"]) & set("ąćęłńóśźżŁŚŻ") for c in clients)


async def test_schedule_ends_at_residual_value(demo: AsyncEngine) -> None:
    schedules: defaultdict[int, list[Row]] = defaultdict(list)
    for instalment in await rows(demo, models.Instalment):
        schedules[instalment["contract_id"]].append(instalment)
    for contract in await rows(demo, models.Contract):
        schedule = sorted(schedules[contract["id"]], key=lambda i: i["number"])
        assert len(schedule) == contract["term_months"]
        assert money(schedule[-1]["remaining_capital"]) == money(contract["residual_value"])
        repaid = sum(money(i["capital"]) for i in schedule)
        financed = money(contract["net_value"]) - money(contract["initial_fee"])
        assert repaid == financed - money(contract["residual_value"])


async def test_contract_terms_stay_in_their_ranges(demo: AsyncEngine) -> None:
    contracts = await rows(demo, models.Contract)
    assert len({c["number"] for c in contracts}) == len(contracts)
    for contract in contracts:
        net = money(contract["net_value"])
        assert re.fullmatch(r"U[LP]/\d{4}/\d\d/\d{5}", contract["number"])
        assert Decimal(40_000) <= net <= Decimal(600_000)
        assert net * Decimal("0.10") <= money(contract["initial_fee"]) <= net * Decimal("0.20")
        assert net * Decimal("0.01") <= money(contract["residual_value"]) <= net * Decimal("0.30")
        assert 24 <= contract["term_months"] <= 60 and contract["payment_day"] in {10, 15, 20, 25}
        assert Decimal("0.06") <= Decimal(str(contract["annual_rate"])) <= Decimal("0.11")
        assert contract["start_date"] < TODAY
        ended = contract["end_date"] < TODAY
        assert (contract["status"] == "ACTIVE") != ended or contract["status"] == "TERMINATED"


async def test_instalments_are_invoiced_two_weeks_ahead(demo: AsyncEngine) -> None:
    invoices = {i["id"]: i for i in await rows(demo, models.Invoice)}
    running = {c["id"] for c in await rows(demo, models.Contract) if c["status"] != "TERMINATED"}
    horizon = TODAY + timedelta(days=14)
    for instalment in await rows(demo, models.Instalment):
        if instalment["contract_id"] in running:
            assert (instalment["invoice_id"] is not None) == (instalment["due_date"] <= horizon)
        if instalment["invoice_id"] is None:
            continue
        invoice = invoices[instalment["invoice_id"]]
        assert invoice["kind"] == "INSTALMENT" and invoice["due_date"] == instalment["due_date"]
        assert invoice["issue_date"] == invoice["due_date"] - timedelta(days=14)
        assert money(invoice["gross"]) == money(instalment["gross"])


async def test_invoice_amounts_and_numbers(demo: AsyncEngine) -> None:
    invoices = await rows(demo, models.Invoice)
    assert len({i["number"] for i in invoices}) == len(invoices)
    for invoice in invoices:
        assert re.fullmatch(r"FV/\d{4}/\d\d/\d{6}", invoice["number"])
        net, vat, gross = (money(invoice[k]) for k in ("net", "vat", "gross"))
        assert gross == net + vat  # the VAT itself, by kind: tests/hub/test_demo_vat.py
    corrections = [i for i in invoices if i["kind"] == "CORRECTION"]
    assert corrections and all(money(c["gross"]) < 0 and c["corrects_id"] for c in corrections)


async def test_allocations_never_exceed_invoices_or_payments(demo: AsyncEngine) -> None:
    invoices = {i["id"]: i for i in await rows(demo, models.Invoice)}
    payments = {p["id"]: p for p in await rows(demo, models.Payment)}
    allocations = await rows(demo, models.PaymentAllocation)
    due = amounts_due(list(invoices.values()))
    for invoice_id, paid in sums_by(allocations, "invoice_id").items():
        assert paid <= due[invoice_id]
    for payment_id, allocated in sums_by(allocations, "payment_id").items():
        assert allocated <= money(payments[payment_id]["amount"])
    for allocation in allocations:
        owner = invoices[allocation["invoice_id"]]["client_id"]
        assert allocation["client_id"] == owner == payments[allocation["payment_id"]]["client_id"]


async def test_settlements_show_partial_overdue_and_overpaid_cases(demo: AsyncEngine) -> None:
    invoices = await rows(demo, models.Invoice)
    payments = await rows(demo, models.Payment)
    allocations = await rows(demo, models.PaymentAllocation)
    due = amounts_due(invoices)
    paid = sums_by(allocations, "invoice_id")
    allocated = sums_by(allocations, "payment_id")
    invoices = [i for i in invoices if i["id"] in due]
    partial = {i["client_id"] for i in invoices if 0 < paid[i["id"]] < due[i["id"]]}
    overdue = {i["client_id"] for i in invoices if i["due_date"] < TODAY and not paid[i["id"]]}
    overpaid = {p["client_id"] for p in payments if money(p["amount"]) > allocated[p["id"]]}
    assert {1, 2} <= partial & overdue & overpaid


async def test_vehicle_contracts_have_an_active_and_an_expired_policy(demo: AsyncEngine) -> None:
    policies = [p for p in await rows(demo, models.InsurancePolicy) if p["client_id"] == 1]
    vehicle_policies = [p for p in policies if p["kind"] == "OC_AC"]
    assert any(p["start_date"] <= TODAY <= p["end_date"] for p in vehicle_policies)
    assert any(p["end_date"] < TODAY for p in vehicle_policies)


async def test_demo_clients_are_rich(demo: AsyncEngine) -> None:
    for model, least in (
        (models.Contract, 3),
        (models.Document, 6),
        (models.Request, 2),
        (models.MessageThread, 1),
        (models.TyreDeposit, 1),
    ):
        found = [r["client_id"] for r in await rows(demo, model)]
        assert min(found.count(1), found.count(2)) >= least, model.__name__
    deposits = await rows(demo, models.TyreDeposit)
    assert any(d["client_id"] == 1 and d["released_on"] is None for d in deposits)
    assert any(r["client_id"] == 1 for r in await rows(demo, models.TyreRelocation))


async def test_request_stage_is_its_last_history_entry(demo: AsyncEngine) -> None:
    history: defaultdict[int, list[Row]] = defaultdict(list)
    for entry in await rows(demo, models.RequestStageEntry):
        history[entry["request_id"]].append(entry)
    for request in await rows(demo, models.Request):
        entries = history[request["id"]]
        assert entries[0]["stage"] == "SUBMITTED" and entries[-1]["stage"] == request["stage"]
        assert re.fullmatch(r"WN/\d{4}/\d{6}", request["number"]) and request["details"]


DECIMAL_FIELDS = frozenset({"netAmount", "residualPercent"})


async def test_request_details_are_their_forms_fields_as_filing_checks_them(
    demo: AsyncEngine,
) -> None:
    kinds = set()
    for request in await rows(demo, models.Request):
        form = FORMS[RequestType(request["type"])]
        names = {field.name for field in form.fields}
        assert set(request["details"]) <= names, (request["type"], request["details"])
        # As the GraphQL input types them: decimals are stored as strings.
        typed = {
            name: Decimal(value) if isinstance(value, str) and name in DECIMAL_FIELDS else value
            for name, value in request["details"].items()
        }
        assert field_errors(form, typed) == [], request["details"]
        kinds.add(request["type"])
    assert len(kinds) >= 8


async def test_attachments_carry_their_size_and_digest(demo: AsyncEngine) -> None:
    attachments = await rows(demo, models.Attachment)
    assert attachments
    for attachment in attachments:
        assert attachment["size"] == len(attachment["content"])
        assert attachment["sha256"] == hashlib.sha256(attachment["content"]).hexdigest()


async def test_vehicles_and_tyre_centres(demo: AsyncEngine) -> None:
    vehicles = await rows(demo, models.Vehicle)
    assert all(re.fullmatch(r"[A-HJ-NPR-Z0-9]{17}", v["vin"]) for v in vehicles)
    assert all(re.fullmatch(r"[A-Z]{2}[0-9A-Z]{5}", v["registration_number"]) for v in vehicles)
    centres = await rows(demo, models.TyreServiceCentre)
    booking = [c["online_booking_url"] for c in centres]
    assert any(url is None for url in booking)
    assert all(re.fullmatch(r"https://rezerwacje\.[a-z0-9-]+\.pl/", u) for u in booking if u)
    assert 0 < sum(not c["is_active"] for c in centres) < len(centres)
    deposits = await rows(demo, models.TyreDeposit)
    active_centres = {c["id"] for c in centres if c["is_active"]}
    assert all(d["centre_id"] in active_centres for d in deposits if d["released_on"] is None)
    stored = sums_by([d for d in deposits if d["released_on"] is None], "centre_id", "tyre_count")
    assert all(stored[c["id"]] <= c["capacity"] for c in centres)  # even with a fleet in town


def test_fleets_are_one_in_every_twenty_clients_drawn_from_the_seed() -> None:
    spec = DemoSpec(clients=2000, seed=2026)
    fleets = spec.fleets
    assert len(fleets) == 100
    assert Counter((index - 1) // 20 for index in fleets) == dict.fromkeys(range(100), 1)
    assert min(fleets) > 2  # the demo logins' clients stay as they are
    assert DemoSpec(clients=2000, seed=2026).fleets == fleets  # the seed alone decides
    assert replace(spec, clients=500).fleets == {i for i in fleets if i <= 500}
    assert DemoSpec(clients=2000, seed=2027).fleets != fleets
    assert not replace(spec, fleet_every=0).fleets
    with pytest.raises(ValueError, match="unusable demo spec"):
        DemoSpec(fleet_contracts=(0, 60))


async def test_fleets_lease_twenty_to_sixty_cars_and_vans_with_everything_else(
    demo: AsyncEngine,
) -> None:
    """A fleet's contracts come with their schedules, invoices, payments, policies and fleet
    vehicles like anyone's; that the same spec gives the same fleets, row for row, is
    `test_same_spec_gives_same_rows_whatever_the_batch_size`."""
    numbers = {c["id"]: int(c["number"]) - 100000 for c in await rows(demo, models.Client)}
    fleets = {client_id for client_id, index in numbers.items() if index in SPEC.fleets}
    assert fleets == {3}
    contracts = await rows(demo, models.Contract)
    per_client = Counter(c["client_id"] for c in contracts)
    assert all(20 <= per_client[f] <= 60 for f in fleets)
    assert all(per_client[c] <= 4 for c in numbers if c not in fleets)
    fleet_contracts = {c["id"]: c for c in contracts if c["client_id"] in fleets}

    instalments = Counter(i["contract_id"] for i in await rows(demo, models.Instalment))
    invoices = [i for i in await rows(demo, models.Invoice) if i["contract_id"] in fleet_contracts]
    kinds = {(i["contract_id"], i["kind"]) for i in invoices}
    for contract_id, contract in fleet_contracts.items():
        assert instalments[contract_id] == contract["term_months"]
        assert (contract_id, "INITIAL_FEE") in kinds
    # Invoiced up to two weeks ahead (test_instalments_are_invoiced_two_weeks_ahead): contracts
    # started over five years, so on average a good year and more of instalments per contract.
    assert sum(i["kind"] == "INSTALMENT" for i in invoices) >= 10 * len(fleet_contracts)
    payment_days = {(c["client_id"], c["payment_day"]) for c in fleet_contracts.values()}
    assert len(payment_days) == len(fleets)  # one per fleet, as fleet managers have it

    items = [i for i in await rows(demo, models.LeasedItem) if i["contract_id"] in fleet_contracts]
    vehicles = [i for i in items if i["category"] == "VEHICLE"]
    assert len({i["contract_id"] for i in vehicles}) >= 0.75 * len(fleet_contracts)
    assert len(vehicles) == len({i["contract_id"] for i in vehicles})  # one vehicle a contract
    assert all(re.match(r"Samochód (osobowy|dostawczy) ", i["name"]) for i in vehicles)
    fleet_cars = {v["vin"] for v in await rows(demo, models.Vehicle) if v["client_id"] in fleets}
    assert fleet_cars == {i["vin"] for i in vehicles}
    insured = {p["contract_id"] for p in await rows(demo, models.InsurancePolicy)}
    assert {i["contract_id"] for i in vehicles} <= insured

    # What falls due on one day is paid on time with one transfer, allocated invoice by invoice.
    allocations = await rows(demo, models.PaymentAllocation)
    per_payment = Counter(a["payment_id"] for a in allocations if a["client_id"] in fleets)
    paid = {i["id"] for i in invoices} & {a["invoice_id"] for a in allocations}
    assert len(paid) > len(invoices) // 2 and max(per_payment.values()) >= 10


async def test_demo_users_have_their_memberships(demo: AsyncEngine) -> None:
    users = {u["email"]: u for u in await rows(demo, models.User)}
    anna, jan, staff = (users[e] for e in (DEMO_MAIN_EMAIL, DEMO_SUB_EMAIL, DEMO_STAFF_EMAIL))
    assert all(verify_password(u["password_hash"], DEMO_PASSWORD) for u in (anna, jan, staff))
    assert sum(u["password_hash"] is not None for u in users.values()) == 3 + len(DEMO_ROLE_STAFF)
    assert (staff["first_name"], staff["staff_role"]) == ("Ewa", StaffRole.ADMIN)
    colleagues = [users[email] for _role, email, _person, _phone in DEMO_ROLE_STAFF]
    assert [u["staff_role"] for u in colleagues] == [role for role, *_ in DEMO_ROLE_STAFF]
    assert {staff["staff_role"], *(u["staff_role"] for u in colleagues)} == set(StaffRole)
    assert all(verify_password(u["password_hash"], DEMO_PASSWORD) for u in colleagues)
    memberships = await rows(demo, models.Membership)
    access = {(m["user_id"], m["client_id"]): m for m in memberships}
    all_scopes = sorted(s.value for s in Scope)
    assert access[anna["id"], 1]["scopes"] == access[anna["id"], 2]["scopes"] == all_scopes
    assert access[anna["id"], 1]["is_main"] and access[anna["id"], 2]["is_main"]
    sub = access[jan["id"], 1]
    assert not sub["is_main"] and sub["created_by_id"] == anna["id"]
    assert sub["scopes"] == [s.value for s in SUBACCOUNT_SCOPES]
    assert not any(m["user_id"] == staff["id"] for m in memberships)
    mains = [m["client_id"] for m in memberships if m["is_main"]]
    assert sorted(mains) == list(range(1, SPEC.clients + 1))  # one main account per client


async def test_timestamps_read_back_as_utc(demo: AsyncEngine) -> None:
    async with AsyncSession(demo) as session:
        invoice = (await session.exec(select(models.Invoice).limit(1))).one()
    assert invoice.created_at.tzinfo is UTC
    assert invoice.created_at.date() == invoice.issue_date


async def test_counts_are_the_rows_stored(tmp_path: Path) -> None:
    engine = await fresh_engine(tmp_path / "counted.db")
    seen: list[tuple[int, int]] = []
    spec = replace(SPEC, clients=3, batch_clients=2)
    counts = await load_demo(engine, spec, lambda done, total: seen.append((done, total)))
    assert seen == [(2, 3), (3, 3)]
    for table in SQLModel.metadata.sorted_tables:
        async with engine.connect() as conn:
            stored = (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar()
        assert counts[table.name] == stored, table.name
    await engine.dispose()


async def test_same_spec_gives_same_rows_whatever_the_batch_size(
    demo: AsyncEngine, tmp_path: Path
) -> None:
    again = await loaded(tmp_path / "again.db", replace(SPEC, batch_clients=5))
    try:
        for model in COMPARED:
            assert await rows(again, model) == await rows(demo, model), model.__name__
        users = zip(await rows(again, models.User), await rows(demo, models.User), strict=True)
        for theirs, ours in users:
            del theirs["password_hash"], ours["password_hash"]  # argon2 salts every hash anew
            assert theirs == ours
    finally:
        await again.dispose()


async def test_another_seed_gives_other_clients(demo: AsyncEngine, tmp_path: Path) -> None:
    other = await loaded(tmp_path / "other.db", replace(SPEC, seed=SPEC.seed + 1))
    try:
        names = [
            [(c["name"], c["nip"]) for c in await rows(e, models.Client)] for e in (demo, other)
        ]
        assert not set(names[0]) & set(names[1])
    finally:
        await other.dispose()


async def test_loading_into_a_database_with_clients_is_refused(demo: AsyncEngine) -> None:
    before = len(await rows(demo, models.User))
    with pytest.raises(DemoDataExists):
        await load_demo(demo, SPEC)
    assert len(await rows(demo, models.User)) == before
