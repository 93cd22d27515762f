"""GraphQL types of client companies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from auth.scopes import Scope
from auth.staff import StaffPermission
from loaders.client import BankAccountByIdLoader, BankAccountsByClientIdLoader, ClientByIdLoader
from loaders.contract import ContractFilter, ContractsByClientIdLoader
from loaders.document import DocumentsByClientIdLoader
from loaders.identity import SubaccountsByClientIdLoader
from loaders.invoice import (
    BalanceByClientIdLoader,
    InvoicesByClientIdLoader,
    PaymentsByClientIdLoader,
)
from loaders.message import ThreadsByClientIdLoader, UnreadByClientIdLoader
from loaders.request import RequestFilter, RequestsByClientIdLoader, UnreadRequestsByClientIdLoader
from loaders.tyre import VehiclesByClientIdLoader
from models.base import stored_id
from models.client import BankAccount as BankAccountRow
from models.client import Client as ClientRow
from models.contract import ContractStatus
from models.request import RequestStage, RequestType
from resolvers import access_log
from resolvers.client360 import client_users
from resolvers.invoice import document_filter, payment_filter
from resolvers.node import in_client
from resolvers.tyre import vehicle_filter
from schema.audit import AccessLogEntry
from schema.base import (
    Connection,
    Info,
    Money,
    Node,
    child_connection,
    connection,
    node_id,
    node_type,
    scoped,
    staff_permission,
)
from schema.client360 import ClientUser
from schema.document import DocumentFilterInput
from schema.invoice import InvoiceFilterInput, PaymentFilterInput, invoice_list
from schema.narrow import keys_only
from schema.refs import (
    ContractRef,
    DashboardRef,
    DocumentFilterRef,
    DocumentRef,
    InvoiceRef,
    PaymentFilterRef,
    PaymentRef,
    RequestRef,
    SubaccountRef,
    ThreadRef,
    VehicleRef,
)
from schema.request import RequestTypeInfo
from schema.tables import (
    ContractFilterInput,
    InstalmentFilterInput,
    allocations_url,
    deletions_url,
    table_url,
)

if TYPE_CHECKING:
    from schema.tyre import VehicleFilterInput

# schema/tyre.py imports this module (Address): its input is referred to lazily.
VehicleFilterRef = Annotated["VehicleFilterInput", strawberry.lazy("schema.tyre")]


@strawberry.type
class Address:
    street: str
    postal_code: str
    city: str
    country: str


@strawberry.type(description="An account the client repays to.")
@node_type(BankAccountRow, loader=BankAccountByIdLoader, access=in_client(None))
class BankAccount(Node):
    id: strawberry.ID = node_id("BankAccount")
    iban: str
    bank_name: str
    currency: str
    is_default: bool


@strawberry.type(description="A client company: the context every client-bound field lives in.")
@node_type(ClientRow, loader=ClientByIdLoader, access=in_client(None))
class Client(Node):
    id: strawberry.ID = node_id("Client")
    number: str = strawberry.field(description="Client number; also a login of the main account.")
    name: str
    nip: str
    regon: str
    email: str
    phone: str
    einvoice_email: str = strawberry.field(description="Where invoices and notices are sent.")

    @strawberry.field
    def address(self, root: ClientRow) -> Address:
        return Address(
            street=root.street, postal_code=root.postal_code, city=root.city, country=root.country
        )

    @strawberry.field(description="Accounts for repayments, the default one first.")
    async def bank_accounts(self, root: ClientRow, info: Info) -> list[BankAccount]:
        rows = await info.context.loaders[BankAccountsByClientIdLoader].load(stored_id(root))
        return sorted(rows, key=lambda row: not row.is_default)

    @strawberry.field(extensions=scoped(Scope.CONTRACTS_READ))
    @keys_only
    async def contracts(
        self,
        root: ClientRow,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        status: list[ContractStatus] | None = None,
    ) -> Connection[ContractRef] | None:
        filters = ContractFilter(statuses=frozenset(status or ()))
        return await child_connection(
            info,
            ContractsByClientIdLoader,
            stored_id(root),
            first=first,
            after=after,
            filters=filters,
        )

    invoices: Connection[InvoiceRef] | None = invoice_list(
        InvoicesByClientIdLoader, lambda client: client.id
    )

    @strawberry.field(extensions=scoped(Scope.PAYMENTS_READ))
    async def payments(
        self,
        root: ClientRow,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: PaymentFilterRef | None = None,
    ) -> Connection[PaymentRef] | None:
        filters = payment_filter(filter)
        return await child_connection(
            info,
            PaymentsByClientIdLoader,
            stored_id(root),
            first=first,
            after=after,
            filters=filters,
        )

    @strawberry.field(
        extensions=scoped(Scope.PAYMENTS_READ),
        description="Money booked but not settled against any invoice.",
    )
    async def overpayment(self, root: ClientRow, info: Info) -> Money | None:
        balance = await info.context.loaders[BalanceByClientIdLoader].load(
            (stored_id(root), info.context.today)
        )
        return Money(amount=balance.overpayment, currency="PLN")  # type: ignore[arg-type]

    @strawberry.field(extensions=scoped(Scope.DOCUMENTS_READ))
    async def documents(
        self,
        root: ClientRow,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: DocumentFilterRef | None = None,
    ) -> Connection[DocumentRef] | None:
        filters = await document_filter(info.context, client_id=stored_id(root), given=filter)
        return await child_connection(
            info,
            DocumentsByClientIdLoader,
            stored_id(root),
            first=first,
            after=after,
            filters=filters,
        )

    @strawberry.field(extensions=scoped(Scope.REQUESTS_READ))
    async def requests(
        self,
        root: ClientRow,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        stage: list[RequestStage] | None = None,
    ) -> Connection[RequestRef] | None:
        filters = RequestFilter(stages=frozenset(stage or ()))
        return await child_connection(
            info,
            RequestsByClientIdLoader,
            stored_id(root),
            first=first,
            after=after,
            filters=filters,
        )

    @strawberry.field(
        extensions=scoped(Scope.REQUESTS_READ),
        description="Requests with history entries the viewer has not read: staff's for the "
        "client, the client's for staff.",
    )
    async def unread_request_count(self, root: ClientRow, info: Info) -> int | None:
        key = (stored_id(root), info.context.viewer.is_staff)
        return await info.context.loaders[UnreadRequestsByClientIdLoader].load(key)

    @strawberry.field(extensions=scoped(Scope.MESSAGES_READ))
    async def message_threads(
        self, root: ClientRow, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[ThreadRef] | None:
        return await child_connection(
            info, ThreadsByClientIdLoader, stored_id(root), first=first, after=after
        )

    @strawberry.field(
        extensions=scoped(Scope.MESSAGES_READ),
        description="Messages of every thread the viewer has not read: staff's for the client, "
        "the client's for staff.",
    )
    async def unread_message_count(self, root: ClientRow, info: Info) -> int | None:
        unread = await info.context.loaders[UnreadByClientIdLoader].load(stored_id(root))
        return unread.for_viewer(staff=info.context.viewer.is_staff)

    @strawberry.field(
        extensions=scoped(Scope.TYRES_READ),
        description="The fleet, by registration: each car with its stored tyres and open "
        "relocation.",
    )
    async def vehicles(
        self,
        root: ClientRow,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: VehicleFilterRef | None = None,
    ) -> Connection[VehicleRef] | None:
        client_id = stored_id(root)
        filters = await vehicle_filter(info.context, client_id=client_id, given=filter)
        return await child_connection(
            info, VehiclesByClientIdLoader, client_id, first=first, after=after, filters=filters
        )

    invoices_table_url: str | None = table_url("invoices", InvoiceFilterInput)
    contracts_table_url: str | None = table_url("contracts", ContractFilterInput)
    instalments_table_url: str | None = table_url("instalments", InstalmentFilterInput)
    payments_table_url: str | None = table_url("payments", PaymentFilterInput)
    allocations_table_url: str | None = allocations_url()
    documents_table_url: str | None = table_url("documents", DocumentFilterInput)
    deletions_table_url: str | None = deletions_url()

    @strawberry.field(extensions=scoped(Scope.SUBACCOUNTS_MANAGE))
    async def subaccounts(self, root: ClientRow, info: Info) -> list[SubaccountRef] | None:
        return await info.context.loaders[SubaccountsByClientIdLoader].load(stored_id(root))

    @strawberry.field(
        extensions=staff_permission(StaffPermission.CLIENTS_READ),
        description="Staff (client 360): the company's people, main account first, with their "
        "flags, API tokens and open sessions.",
    )
    async def users(self, root: ClientRow, info: Info) -> list[ClientUser] | None:
        return await client_users(info.context, root)

    @strawberry.field(
        description="Who at the lessor read the company's data, when, which parts and why "
        "(RODO), newest first: the main account only (and staff who audit)."
    )
    async def access_log(
        self, root: ClientRow, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[AccessLogEntry]:
        page = await access_log.access_log(
            info.context, client_id=stored_id(root), first=first, after=after
        )
        return connection(page)

    @strawberry.field(
        description="Company master data is changed through this request, not edited here."
    )
    def master_data_change_request(self, info: Info) -> RequestTypeInfo:
        return RequestTypeInfo.of(RequestType.CLIENT_DATA_CHANGE, info.context.language)

    @strawberry.field(description="The home screen: each block needs its own permission.")
    def dashboard(self, root: ClientRow) -> DashboardRef:
        from schema.dashboard import Dashboard

        return Dashboard(client_id=stored_id(root))
