"""GraphQL types of contracts, leased items, schedules and policies."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from auth.scopes import Scope
from exports.tables import ScheduleFormat
from loaders.client import ClientByIdLoader
from loaders.contract import (
    ContractByIdLoader,
    InstalmentByIdLoader,
    InstalmentsByContractIdLoader,
    LeasedItemByIdLoader,
    LeasedItemsByContractIdLoader,
    PoliciesByContractIdLoader,
    PolicyByIdLoader,
    RemainingCapitalByContractIdLoader,
)
from loaders.invoice import (
    InvoiceByIdLoader,
    InvoicesByContractIdLoader,
)
from models.base import to_money
from models.calendar import legal_deadline
from models.contract import Contract as ContractRow
from models.contract import (
    ContractKind,
    ContractStatus,
    Currency,
    ItemCategory,
    PolicyKind,
)
from models.contract import Instalment as InstalmentRow
from models.contract import InsurancePolicy as PolicyRow
from models.contract import LeasedItem as LeasedItemRow
from models.settlement import InstalmentState
from models.vat import VatCategory
from resolvers.links import link
from resolvers.node import in_client
from schema.base import (
    Connection,
    Info,
    Money,
    Node,
    money,
    node_id,
    node_type,
    scoped,
)
from schema.invoice import PAYMENT_DEADLINE, VAT_RATE_DEPRECATED, invoice_list, invoice_standing
from schema.narrow import keys_only
from schema.refs import ClientRef, InvoiceRef
from schema.simulation import (
    ScheduleChangeSimulationInput,
    ScheduleSimulationResult,
    schedule_simulation,
)


async def _policies_in_force(root: ContractRow, info: Info) -> list[PolicyRow]:
    today = info.context.today
    policies = await info.context.loaders[PoliciesByContractIdLoader].load(root.id)
    return [p for p in policies if p.start_date <= today <= p.end_date]


@strawberry.type(description="A lease contract.")
@node_type(ContractRow, loader=ContractByIdLoader, access=in_client(Scope.CONTRACTS_READ))
class Contract(Node):
    id: strawberry.ID = node_id("Contract")
    number: str
    kind: ContractKind
    status: ContractStatus
    currency: Currency
    start_date: date
    end_date: date
    net_value: Money = money("net_value", "Net purchase value of the leased items.")
    initial_fee: Money = money("initial_fee", "Initial fee paid at the start.")
    residual_value: Money = money("residual_value", "Buy-out value the schedule ends at.")
    annual_rate: Decimal = strawberry.field(description="Nominal yearly rate, e.g. 0.0899.")
    term_months: int
    payment_day: int = strawberry.field(description="Day of month instalments fall due.")

    @strawberry.field
    async def client(self, root: ContractRow, info: Info) -> ClientRef:
        return await info.context.loaders[ClientByIdLoader].load(root.client_id)

    @strawberry.field(description="Leased items with serial numbers / VINs.")
    async def items(self, root: ContractRow, info: Info) -> list[LeasedItem]:
        return await info.context.loaders[LeasedItemsByContractIdLoader].load(root.id)

    @strawberry.field(extensions=scoped(Scope.SCHEDULES_READ), description="Repayment schedule.")
    @keys_only
    async def schedule(self, root: ContractRow, info: Info) -> list[Instalment] | None:
        return await info.context.loaders[InstalmentsByContractIdLoader].load(root.id)

    @strawberry.field(
        extensions=scoped(Scope.SCHEDULES_READ),
        description="Capital left after the instalments due so far; 0 once terminated.",
    )
    async def remaining_capital(self, root: ContractRow, info: Info) -> Money | None:
        if root.status is ContractStatus.TERMINATED:
            # Termination settles the contract: the capital still unpaid fell due then (or the
            # asset went back), so none is left to repay under the schedule.
            return Money(amount=to_money(0), currency=root.currency)
        remaining = await info.context.loaders[RemainingCapitalByContractIdLoader].load(
            (root.id, info.context.today)
        )
        capital = root.net_value - root.initial_fee if remaining is None else remaining
        return Money(amount=to_money(capital), currency=root.currency)

    @strawberry.field(
        extensions=scoped(Scope.SCHEDULES_READ),
        description="What-if: the schedule a payment-day change (paymentDay) or a schedule "
        "change (scheduleChange) would give, with the differences; writes nothing.",
    )
    async def schedule_simulation(
        self,
        root: ContractRow,
        info: Info,
        payment_day: int | None = None,
        schedule_change: ScheduleChangeSimulationInput | None = None,
    ) -> ScheduleSimulationResult | None:
        return await schedule_simulation(root, info, payment_day, schedule_change)

    @strawberry.field(
        extensions=scoped(Scope.SCHEDULES_READ),
        description="A link, valid for 5 minutes, to the schedule as PDF, XLSX or CSV.",
    )
    def schedule_download_url(
        self,
        root: ContractRow,
        info: Info,
        format: ScheduleFormat = ScheduleFormat.XLSX,
        polish: bool = True,
    ) -> str | None:
        language = "pl" if polish else "en"
        contract_id: int = root.id  # type: ignore[assignment]
        return link(
            info.context, kind="schedule", object_id=contract_id, format=format.value, lang=language
        )

    @strawberry.field(extensions=scoped(Scope.POLICIES_READ))
    async def policies(self, root: ContractRow, info: Info) -> list[InsurancePolicy] | None:
        return await info.context.loaders[PoliciesByContractIdLoader].load(root.id)

    @strawberry.field(
        extensions=scoped(Scope.POLICIES_READ),
        description="The policies in force today (e.g. OC/AC and GAP side by side).",
    )
    async def active_policies(self, root: ContractRow, info: Info) -> list[InsurancePolicy] | None:
        return await _policies_in_force(root, info)  # type: ignore[return-value]

    @strawberry.field(
        extensions=scoped(Scope.POLICIES_READ),
        description="The last policy in force today, if any.",
        deprecation_reason="A contract can have several policies in force: use activePolicies.",
    )
    async def active_policy(self, root: ContractRow, info: Info) -> InsurancePolicy | None:
        active = await _policies_in_force(root, info)
        return active[-1] if active else None  # type: ignore[return-value]

    invoices: Connection[InvoiceRef] | None = invoice_list(
        InvoicesByContractIdLoader, lambda contract: contract.client_id
    )


@strawberry.type(description="A leased item.")
@node_type(LeasedItemRow, loader=LeasedItemByIdLoader, access=in_client(Scope.CONTRACTS_READ))
class LeasedItem(Node):
    id: strawberry.ID = node_id("LeasedItem")
    category: ItemCategory
    name: str
    manufacturer: str
    model: str
    serial_number: str | None
    vin: str | None
    registration_number: str | None
    production_year: int
    net_value: Money = money("net_value", "Net value of the item.")
    split_payment_goods: bool = strawberry.field(
        description="Goods of annex 15 of the VAT Act (computers, phones …): their delivery "
        "under a financial lease is invoiced with the split-payment note above 15,000 PLN."
    )


@strawberry.type(description="One row of a repayment schedule.")
@node_type(InstalmentRow, loader=InstalmentByIdLoader, access=in_client(Scope.SCHEDULES_READ))
class Instalment(Node):
    id: strawberry.ID = node_id("Instalment")
    number: int
    due_date: date
    capital: Money = money("capital", "Capital part.")
    interest: Money = money("interest", "Interest part.")
    net: Money = money("net", "Net instalment (capital + interest).")
    vat_rate: int = strawberry.field(
        description="The VAT percentage (0 for zw and np).", deprecation_reason=VAT_RATE_DEPRECATED
    )
    vat_category: VatCategory = strawberry.field(
        description="The instalments' VAT: 23 under an operating lease, zw under a loan, np "
        "under a financial lease (taxed in full on its delivery invoice)."
    )
    vat: Money = money("vat", "VAT on the instalment.")
    gross: Money = money("gross", "Gross instalment.")
    remaining_capital: Money = money("remaining_capital", "Capital left after this instalment.")

    @strawberry.field(extensions=scoped(Scope.CONTRACTS_READ))
    async def contract(self, root: InstalmentRow, info: Info) -> Contract | None:
        return await info.context.loaders[ContractByIdLoader].load(root.contract_id)

    @strawberry.field(description=PAYMENT_DEADLINE)
    def payment_deadline(self, root: InstalmentRow) -> date:
        return legal_deadline(root.due_date)

    @strawberry.field(description="Whether the instalment is invoiced and how far it is settled.")
    async def settlement_state(self, root: InstalmentRow, info: Info) -> InstalmentState:
        if root.invoice_id is None:
            return InstalmentState.NOT_INVOICED
        invoice = await info.context.loaders[InvoiceByIdLoader].load(root.invoice_id)
        return InstalmentState((await invoice_standing(info, invoice)).status.value)

    @strawberry.field(description="What is left to pay of this instalment.")
    async def amount_due(self, root: InstalmentRow, info: Info) -> Money:
        if root.invoice_id is None:
            return Money(amount=root.gross, currency=Currency.PLN)
        invoice = await info.context.loaders[InvoiceByIdLoader].load(root.invoice_id)
        due = (await invoice_standing(info, invoice)).amount_due
        return Money(amount=due, currency=invoice.currency)

    @strawberry.field(extensions=scoped(Scope.INVOICES_READ))
    async def invoice(self, root: InstalmentRow, info: Info) -> InvoiceRef | None:
        if root.invoice_id is None:
            return None
        return await info.context.loaders[InvoiceByIdLoader].load(root.invoice_id)


@strawberry.type(description="An insurance policy of a contract.")
@node_type(PolicyRow, loader=PolicyByIdLoader, access=in_client(Scope.POLICIES_READ))
class InsurancePolicy(Node):
    id: strawberry.ID = node_id("InsurancePolicy")
    kind: PolicyKind
    insurer: str
    policy_number: str
    start_date: date
    end_date: date
    sum_insured: Money = money("sum_insured", "Sum insured.")
    premium: Money = money("premium", "Yearly premium.")

    @strawberry.field(description="In force today.")
    def is_active(self, root: PolicyRow, info: Info) -> bool:
        return root.start_date <= info.context.today <= root.end_date
