"""Contracts: their terms (leases and loans over vehicles, machines and IT equipment), the leased
items with VINs, plates and serial numbers, the whole repayment schedule with its instalments
invoiced up to two weeks ahead, and the yearly insurance policies (re-invoiced when the lessor
insures the asset). A fleet leases its cars and vans one contract per vehicle, mostly on
operating leases, choosing among the few models of its car policy."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from hub.demo.draft import (
    ClientDraft,
    ContractDraft,
    LeasedVehicle,
    Terms,
    VehicleModel,
)
from hub.demo.invoice import issue_invoice
from hub.demo.rows import Row, add_years, day_between, pick, split_amount, stamps
from hub.demo.texts import City
from models import Contract, Instalment, InsurancePolicy, LeasedItem
from models.base import to_money
from models.contract import ContractKind, ContractStatus, Currency, ItemCategory, PolicyKind
from models.finance import (
    ScheduleRow,
    add_months,
    delivery_tax_base,
    repayment_schedule,
    round_money,
    vat_for,
)
from models.invoice import InvoiceKind

TERMINATION_RATE = 0.02
INSURED_VIA_LESSOR_RATE = 0.4  # the lessor insures the asset and re-invoices the premium
GAP_RATE = 0.25

_CATEGORY_WEIGHTS = (
    (ItemCategory.VEHICLE, 60),
    (ItemCategory.MACHINE, 25),
    (ItemCategory.IT_EQUIPMENT, 15),
)
_KIND_WEIGHTS = (
    (ContractKind.OPERATING_LEASE, 55),
    (ContractKind.FINANCIAL_LEASE, 35),
    (ContractKind.LOAN, 10),
)
_TERMS = (24, 36, 36, 48, 48, 60)
_NET_VALUE = (40_000, 600_001)  # randrange bounds, in PLN
# A fleet: mostly cars and vans on operating leases, one vehicle per contract.
_FLEET_CATEGORY_WEIGHTS = (
    (ItemCategory.VEHICLE, 92),
    (ItemCategory.MACHINE, 4),
    (ItemCategory.IT_EQUIPMENT, 4),
)
_FLEET_KIND_WEIGHTS = (
    (ContractKind.OPERATING_LEASE, 75),
    (ContractKind.FINANCIAL_LEASE, 22),
    (ContractKind.LOAN, 3),
)
_FLEET_VEHICLE_VALUE = (70_000, 260_001)  # one car or van
_FLEET_CAR_MODELS = (2, 4)  # how many car models, and van models, a fleet's car policy allows
_FLEET_VAN_MODELS = (0, 2)
_PAYMENT_DAYS = (10, 15, 20, 25)

_VEHICLE_MODELS = (
    VehicleModel("Samochód osobowy", "Škoda", "Octavia", "205/55 R16", "TMB"),
    VehicleModel("Samochód osobowy", "Škoda", "Superb", "215/55 R17", "TMB"),
    VehicleModel("Samochód osobowy", "Toyota", "Corolla", "205/55 R16", "SB1"),
    VehicleModel("Samochód osobowy", "Volkswagen", "Passat", "215/55 R17", "WVW"),
    VehicleModel("Samochód osobowy", "Kia", "Ceed", "205/55 R16", "U5Y"),
    VehicleModel("Samochód osobowy", "Hyundai", "Tucson", "225/60 R17", "TMA"),
    VehicleModel("Samochód osobowy", "Audi", "A4", "225/50 R17", "WAU"),
    VehicleModel("Samochód osobowy", "BMW", "320d", "225/45 R18", "WBA"),
    VehicleModel("Samochód osobowy", "Dacia", "Duster", "215/65 R16", "UU1"),
    VehicleModel("Samochód osobowy", "Opel", "Astra", "205/55 R16", "W0L"),
    VehicleModel("Samochód dostawczy", "Ford", "Transit Custom", "215/65 R16C", "WF0"),
    VehicleModel("Samochód dostawczy", "Renault", "Master", "225/65 R16C", "VF1"),
    VehicleModel("Samochód dostawczy", "Mercedes-Benz", "Sprinter", "235/65 R16C", "WDB"),
    VehicleModel("Samochód dostawczy", "Fiat", "Ducato", "215/70 R15C", "ZFA"),
    VehicleModel("Samochód dostawczy", "Iveco", "Daily", "225/65 R16C", "ZCF"),
    VehicleModel("Samochód dostawczy", "Citroën", "Berlingo", "205/60 R16", "VF7"),
    VehicleModel("Ciągnik siodłowy", "Volvo", "FH 500", "315/70 R22.5", "YV2"),
    VehicleModel("Ciągnik siodłowy", "Scania", "R 450", "315/70 R22.5", "YS2"),
    VehicleModel("Ciągnik siodłowy", "DAF", "XF 480", "315/70 R22.5", "XLR"),
)
_CARS = tuple(m for m in _VEHICLE_MODELS if m.label == "Samochód osobowy")
_VANS = tuple(m for m in _VEHICLE_MODELS if m.label == "Samochód dostawczy")
_VIN_CHARACTERS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"  # a VIN never uses I, O or Q
# Goods of annex 15 of the VAT Act among them (split payment on their delivery): computers and
# other automatic data-processing machines, PKWiU 26.20.1. Disk arrays (only hard disks of
# 26.20.2 are listed), switches and presses are not.
_ANNEX_15_EQUIPMENT = frozenset({"Serwer", "Zestaw laptopów (25 szt.)", "Stacje robocze (10 szt.)"})
# (name, manufacturer, model, serial-number prefix)
_EQUIPMENT: dict[ItemCategory, tuple[tuple[str, str, str, str], ...]] = {
    ItemCategory.MACHINE: (
        ("Koparko-ładowarka", "JCB", "3CX", "JCB3CX"),
        ("Wózek widłowy", "Toyota", "8FBE15T", "TMHE"),
        ("Ładowarka teleskopowa", "Manitou", "MT 1440", "MAN"),
        ("Ciągnik rolniczy", "John Deere", "6155R", "1L06155R"),
        ("Ciągnik rolniczy", "Ursus", "C-380", "URS"),
        ("Kombajn zbożowy", "Claas", "Lexion 760", "C76"),
        ("Koparka gąsienicowa", "Caterpillar", "320", "CAT0320"),
        ("Centrum obróbcze CNC", "DMG Mori", "DMU 50", "DMU"),
        ("Prasa krawędziowa", "Amada", "HFE 100-3", "AMD"),
    ),
    ItemCategory.IT_EQUIPMENT: (
        ("Serwer", "Dell", "PowerEdge R750", "SRV"),
        ("Macierz dyskowa", "HPE", "MSA 2060", "HPE"),
        ("Przełącznik sieciowy", "Cisco", "Catalyst 9300", "FCW"),
        ("Zestaw laptopów (25 szt.)", "Lenovo", "ThinkPad T14", "PF"),
        ("Drukarka produkcyjna", "Konica Minolta", "AccurioPress C4080", "A9V"),
        ("Stacje robocze (10 szt.)", "HP", "Z4 G5", "CZC"),
    ),
}
_INSURERS = (
    ("PZU", "PZU"),
    ("Warta", "WAR"),
    ("Allianz", "ALZ"),
    ("Ergo Hestia", "EH"),
    ("Generali", "GEN"),
    ("Compensa", "CMP"),
)
_POLICY_NAMES = {PolicyKind.OC_AC: "OC/AC", PolicyKind.PROPERTY: "mienia", PolicyKind.GAP: "GAP"}


def contract_plan(draft: ClientDraft) -> list[Terms]:
    """The terms of all the client's contracts, drawn before any row. A fleet first settles
    its car policy and its payment day; small fleets are more common than large ones."""
    rng = draft.rng
    if draft.fleet:
        low, high = draft.world.spec.fleet_contracts
        count = round(rng.triangular(low, high, low))
        cars, vans = rng.randint(*_FLEET_CAR_MODELS), rng.randint(*_FLEET_VAN_MODELS)
        draft.vehicle_models = (*rng.sample(_CARS, cars), *rng.sample(_VANS, vans))
        draft.payment_day = rng.choice(_PAYMENT_DAYS)
    else:
        count = contract_count(draft)
    return [contract_terms(draft, position) for position in range(count)]


def contract_count(draft: ClientDraft) -> int:
    """How many contracts a client other than a fleet has; a demo client has at least three."""
    count = draft.rng.randint(*draft.world.spec.contracts_per_client)
    return max(count, 3) if draft.rich else count


def contract_terms(draft: ClientDraft, position: int) -> Terms:
    """The terms of the client's contract number `position` (from 0), drawn before any row."""
    rng, today = draft.rng, draft.today
    showcase = draft.rich and position < 2
    if showcase:  # running long enough for history, far from its end
        months_ago = rng.randint(14, 30) if position == 0 else rng.randint(3, 10)
        start = add_months(today, -months_ago, today.day)
        months, category = 48, ItemCategory.VEHICLE
    else:
        earliest, latest = add_months(today, -60, today.day), add_months(today, -1, today.day)
        start, months = day_between(rng, earliest, latest), rng.choice(_TERMS)
        category = pick(rng, _FLEET_CATEGORY_WEIGHTS if draft.fleet else _CATEGORY_WEIGHTS)
    one_vehicle = draft.fleet and category is ItemCategory.VEHICLE
    net = to_money(rng.randrange(*(_FLEET_VEHICLE_VALUE if one_vehicle else _NET_VALUE), 100))
    return Terms(
        category=category,
        kind=pick(rng, _FLEET_KIND_WEIGHTS if draft.fleet else _KIND_WEIGHTS),
        start=start,
        months=months,
        net_value=net,
        initial_fee=round_money(net * rng.randint(10, 20) / 100),
        residual=round_money(net * rng.randint(1, 30) / 100),
        rate=Decimal(rng.randint(600, 1100)).scaleb(-4),
        payment_day=draft.payment_day or rng.choice(_PAYMENT_DAYS),
        showcase=showcase,
    )


def add_contract(draft: ClientDraft, terms: Terms) -> None:
    """The contract with its items, initial fee, schedule and policies, in that order."""
    first_due = add_months(terms.start, 1, terms.payment_day)
    status, end = _status(draft, terms, add_months(first_due, terms.months - 1, terms.payment_day))
    prefix = "UP" if terms.kind is ContractKind.LOAN else "UL"  # umowa pożyczki / leasingu
    number = draft.world.numbers.number(f"{prefix}/{terms.start:%Y/%m}/", terms.start, width=5)
    contract_id = draft.rows.add(
        Contract,
        {
            "client_id": draft.client_id,
            "number": number,
            "kind": terms.kind,
            "status": status,
            "currency": Currency.PLN,
            "start_date": terms.start,
            "end_date": end,
            "net_value": terms.net_value,
            "initial_fee": terms.initial_fee,
            "residual_value": terms.residual,
            "annual_rate": terms.rate,
            "term_months": terms.months,
            "payment_day": terms.payment_day,
            **stamps(terms.start, end if end < draft.today else terms.start),
        },
    )
    contract = ContractDraft(contract_id, number, terms, status, end)
    draft.contracts.append(contract)
    _items(draft, contract)
    schedule = _schedule_rows(terms, first_due)
    _initial_invoice(draft, contract, schedule)
    _schedule(draft, contract, schedule)
    _policies(draft, contract)


def _initial_invoice(
    draft: ClientDraft, contract: ContractDraft, schedule: list[ScheduleRow]
) -> None:
    """The initial fee's invoice; under a financial lease it is the invoice of the delivery,
    taxed on everything the contract makes the lessee pay (models.finance.vat_for), of which
    the initial fee and the VAT are due now and the rest with the instalments."""
    terms = contract.terms
    treatment = vat_for(contract_kind=terms.kind, invoice_kind=InvoiceKind.INITIAL_FEE)
    tax_base, what = None, "Opłata wstępna"
    if treatment.whole_contract:
        nets = (row.net for row in schedule)
        tax_base = delivery_tax_base(
            initial_fee=terms.initial_fee, instalment_nets=nets, residual=terms.residual
        )
        what = "Dostawa przedmiotu leasingu finansowego (opłata wstępna, raty i wykup)"
    issue_invoice(
        draft,
        contract,
        InvoiceKind.INITIAL_FEE,
        issue=terms.start,
        due=terms.start + timedelta(days=7),
        net=terms.initial_fee,
        description=f"{what} – umowa {contract.number}",
        tax_base=tax_base,
    )


def _status(draft: ClientDraft, terms: Terms, last_due: date) -> tuple[ContractStatus, date]:
    """Status and end date: a terminated contract ends on the day it was terminated."""
    stoppable_from = add_months(terms.start, 12, terms.start.day)
    stoppable_to = min(last_due, draft.today) - timedelta(days=1)
    if (
        draft.rng.random() < TERMINATION_RATE
        and not terms.showcase
        and stoppable_from < stoppable_to
    ):
        return ContractStatus.TERMINATED, day_between(draft.rng, stoppable_from, stoppable_to)
    return (ContractStatus.ENDED if last_due < draft.today else ContractStatus.ACTIVE), last_due


def _items(draft: ClientDraft, contract: ContractDraft) -> None:
    terms, rng = contract.terms, draft.rng
    if draft.fleet and terms.category is ItemCategory.VEHICLE:
        count = 1
    else:
        count = rng.randint(2, 3) if terms.showcase else rng.randint(1, 3)
    for value in split_amount(rng, terms.net_value, count):
        described = (
            _vehicle_item(draft, contract)
            if terms.category is ItemCategory.VEHICLE
            else _equipment_item(draft, terms.category)
        )
        contract.split_payment_goods |= described["split_payment_goods"]
        draft.rows.add(
            LeasedItem,
            {
                "client_id": draft.client_id,
                "contract_id": contract.id,
                "category": terms.category,
                "net_value": value,
                "production_year": terms.start.year - rng.choice((0, 0, 0, 1, 2)),
                **described,
                **stamps(terms.start),
            },
        )


def _vehicle_item(draft: ClientDraft, contract: ContractDraft) -> Row:
    model = draft.rng.choice(draft.vehicle_models or _VEHICLE_MODELS)
    vehicle = LeasedVehicle(model, _vin(draft.rng, model.wmi), _registration(draft.rng, draft.city))
    contract.vehicles.append(vehicle)
    return {
        "name": f"{model.label} {model.make} {model.model}",
        "manufacturer": model.make,
        "model": model.model,
        "serial_number": None,
        "vin": vehicle.vin,
        "registration_number": vehicle.registration,
        "split_payment_goods": False,
    }


def _equipment_item(draft: ClientDraft, category: ItemCategory) -> Row:
    name, make, model, serial_prefix = draft.rng.choice(_EQUIPMENT[category])
    serial = f"{serial_prefix}{draft.rng.randint(10_000_000, 99_999_999)}"
    return {
        "name": f"{name} {make} {model}",
        "manufacturer": make,
        "model": model,
        "serial_number": serial,
        "vin": None,
        "registration_number": None,
        "split_payment_goods": name in _ANNEX_15_EQUIPMENT,
    }


def _schedule_rows(terms: Terms, first_due: date) -> list[ScheduleRow]:
    """The whole schedule, its VAT as the VAT Act taxes the contract's instalments."""
    treatment = vat_for(contract_kind=terms.kind, invoice_kind=InvoiceKind.INSTALMENT)
    schedule = repayment_schedule(
        capital=terms.net_value - terms.initial_fee,
        annual_rate=terms.rate,
        months=terms.months,
        residual=terms.residual,
        first_due=first_due,
        payment_day=terms.payment_day,
        vat=treatment.category,
    )
    return list(schedule)


def _schedule(draft: ClientDraft, contract: ContractDraft, schedule: list[ScheduleRow]) -> None:
    """The schedule's rows; instalments due within 14 days (or before a termination) are
    invoiced, each invoice issued 14 days before its due date."""
    terms = contract.terms
    category = vat_for(contract_kind=terms.kind, invoice_kind=InvoiceKind.INSTALMENT).category
    invoiced_until = min(draft.today + timedelta(days=14), contract.end)
    for row in schedule:
        invoice = None
        if row.due_date <= invoiced_until:
            invoice = issue_invoice(
                draft,
                contract,
                InvoiceKind.INSTALMENT,
                issue=row.due_date - timedelta(days=14),
                due=row.due_date,
                net=row.net,
                description=f"Rata {row.number}/{terms.months} – umowa {contract.number}",
            )
        draft.rows.add(
            Instalment,
            {
                "client_id": draft.client_id,
                "contract_id": contract.id,
                "number": row.number,
                "due_date": row.due_date,
                "capital": row.capital,
                "interest": row.interest,
                "net": row.net,
                "vat_rate": category.percent,
                "vat_category": category,
                "vat": row.vat,
                "gross": row.gross,
                "remaining_capital": row.remaining_capital,
                "invoice_id": invoice.id if invoice else None,
                **stamps(terms.start, invoice.issue if invoice else None),
            },
        )


def _policies(draft: ClientDraft, contract: ContractDraft) -> None:
    """Yearly OC/AC (vehicles) or property (machines) policies from the contract's start."""
    terms, rng = contract.terms, draft.rng
    if terms.category is ItemCategory.IT_EQUIPMENT:
        return
    kind = PolicyKind.OC_AC if terms.category is ItemCategory.VEHICLE else PolicyKind.PROPERTY
    via_lessor = rng.random() < INSURED_VIA_LESSOR_RATE
    insurer = rng.choice(_INSURERS)
    insured = round_money(terms.net_value * Decimal("1.23"))
    year = 0
    while (start := add_years(terms.start, year)) <= min(draft.today, contract.end):
        if rng.random() < 0.2:  # renewals sometimes go to another insurer
            insurer = rng.choice(_INSURERS)
        value = round_money(insured * (1 - Decimal("0.1") * year))  # the asset depreciates
        end = min(add_years(terms.start, year + 1) - timedelta(days=1), contract.end)
        premium = round_money(value * rng.randint(25, 55) / 1000)
        number = _policy(draft, contract, kind, insurer, (start, end), value, premium)
        if via_lessor:
            issue_invoice(
                draft,
                contract,
                InvoiceKind.INSURANCE,
                issue=start,
                due=start + timedelta(days=14),
                net=premium,
                description=f"Refaktura składki {_POLICY_NAMES[kind]} – polisa {number}, "
                f"umowa {contract.number}",
            )
        year += 1
    if kind is PolicyKind.OC_AC and rng.random() < GAP_RATE:
        _policy(
            draft,
            contract,
            PolicyKind.GAP,
            rng.choice(_INSURERS),
            (terms.start, contract.end),
            insured,
            round_money(insured * rng.randint(10, 20) / 1000),
        )


def _policy(
    draft: ClientDraft,
    contract: ContractDraft,
    kind: PolicyKind,
    insurer: tuple[str, str],
    period: tuple[date, date],
    sum_insured: Decimal,
    premium: Decimal,
) -> str:
    name, code = insurer
    number = f"{code}/{period[0].year}/{draft.rng.randint(1_000_000, 9_999_999)}"
    contract.policies.append(number)
    draft.rows.add(
        InsurancePolicy,
        {
            "client_id": draft.client_id,
            "contract_id": contract.id,
            "kind": kind,
            "insurer": name,
            "policy_number": number,
            "start_date": period[0],
            "end_date": period[1],
            "sum_insured": sum_insured,
            "premium": premium,
            **stamps(period[0]),
        },
    )
    return number


def _vin(rng: random.Random, wmi: str) -> str:
    descriptor = "".join(rng.choices(_VIN_CHARACTERS, k=8))
    return f"{wmi}{descriptor}{rng.randint(0, 999_999):06d}"


def _registration(rng: random.Random, city: City) -> str:
    prefix = rng.choice(city.plates)
    if rng.random() < 0.7:
        return f"{prefix}{rng.randint(10_000, 99_999)}"
    return f"{prefix}{rng.randint(1000, 9999)}{rng.choice('ACEHKLMNPRSTUWXY')}"
