"""One client in the making: its own random stream, its ids, and what each domain has generated
for it so far (contracts and their vehicles and policies, invoices, payments), which the domains
after it read. `hub.demo.client.build_client` calls the domains in a fixed order."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from hub.demo.identity import UserRef
from hub.demo.rows import Row, Rows
from hub.demo.spec import RICH_CLIENTS
from hub.demo.texts import CITIES
from hub.demo.world import DemoWorld
from models.contract import ContractKind, ContractStatus, ItemCategory
from models.invoice import InvoiceKind


class ClientDraft:
    """Everything of one client, drawn from the client's own random stream in a fixed order:
    every client's rows are the same whatever the batch size."""

    def __init__(self, world: DemoWorld, rows: Rows, index: int) -> None:
        self.world = world
        self.rows = rows
        self.index = index
        self.rng = random.Random(f"{world.spec.seed}:{index}")
        self.today = world.spec.today
        self.rich = index <= RICH_CLIENTS
        self.fleet = index in world.spec.fleets  # leases its cars and vans by the dozen
        # What a fleet keeps the same across its contracts: the models its car policy allows
        # (none: any model) and one payment day.
        self.vehicle_models: tuple[VehicleModel, ...] = ()
        self.payment_day: int | None = None
        self.client_id = 0
        self.name = ""
        self.domain = ""
        self.einvoice_email = ""
        self.payer_iban = ""
        self.city = CITIES[0]
        self.authors: tuple[UserRef, ...] = ()
        self.contracts: list[ContractDraft] = []
        # Corrections are left out: they are settled together with the invoice they correct.
        self.invoices: list[InvoiceDraft] = []
        self.payments: list[Row] = []
        self.paid_in_full: list[tuple[Row, InvoiceDraft]] = []
        self.issued: list[tuple[date, Decimal]] = []  # every invoice's gross, for balances
        self.documents = 0  # a demo client gets other documents until it has RICH_DOCUMENTS
        self.relocations = 0  # client #1 shows one relocation whatever the draws

    @property
    def main(self) -> UserRef:
        return self.authors[0]


@dataclass(frozen=True, slots=True)
class Terms:
    category: ItemCategory
    kind: ContractKind
    start: date
    months: int
    net_value: Decimal
    initial_fee: Decimal
    residual: Decimal
    rate: Decimal
    payment_day: int
    showcase: bool  # a demo client's long-running vehicle contract


@dataclass(frozen=True, slots=True)
class LeasedVehicle:
    model: VehicleModel
    vin: str
    registration: str


@dataclass(frozen=True, slots=True)
class VehicleModel:
    label: str
    make: str
    model: str
    tyre_size: str
    wmi: str  # the manufacturer prefix of its VINs


@dataclass(slots=True)
class ContractDraft:
    """A generated contract as the later domains need it: requests, threads and the fleet
    refer to its vehicles and policies."""

    id: int
    number: str
    terms: Terms
    status: ContractStatus
    end: date
    vehicles: list[LeasedVehicle] = field(default_factory=list)
    policies: list[str] = field(default_factory=list)
    split_payment_goods: bool = False  # an item is goods of annex 15 of the VAT Act

    @property
    def active(self) -> bool:
        return self.status is ContractStatus.ACTIVE


@dataclass(slots=True)
class InvoiceDraft:
    """A generated invoice as settling it needs it."""

    id: int
    number: str
    kind: InvoiceKind
    contract: ContractDraft
    issue: date
    due: date
    gross: Decimal
    due_amount: Decimal  # gross after corrections: what a full payment allocates
