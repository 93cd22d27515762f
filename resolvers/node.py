"""`node(id)`: any object by its global id, through the same tenancy and scope checks."""

from __future__ import annotations

from typing import Any

from auth.access import require_authenticated, require_client, require_scope
from auth.errors import NotFoundError
from auth.scopes import Scope
from loaders.base import ByIdLoader
from loaders.client import ClientByIdLoader
from loaders.contract import (
    ContractByIdLoader,
    InstalmentByIdLoader,
    LeasedItemByIdLoader,
    PolicyByIdLoader,
)
from loaders.document import DocumentByIdLoader
from loaders.invoice import InvoiceByIdLoader, InvoiceDuplicateByIdLoader, PaymentByIdLoader
from loaders.message import ThreadByIdLoader
from loaders.request import RequestByIdLoader
from loaders.tyre import CentreByIdLoader, VehicleByIdLoader
from models.client import Client
from resolvers.context import Context
from resolvers.ids import from_global_id

# type name -> (loader, scope needed in the owning client; None: membership is enough)
NODE_TYPES: dict[str, tuple[type[ByIdLoader[Any]], Scope | None]] = {
    "Client": (ClientByIdLoader, None),
    "Contract": (ContractByIdLoader, Scope.CONTRACTS_READ),
    "LeasedItem": (LeasedItemByIdLoader, Scope.CONTRACTS_READ),
    "Instalment": (InstalmentByIdLoader, Scope.SCHEDULES_READ),
    "InsurancePolicy": (PolicyByIdLoader, Scope.POLICIES_READ),
    "Invoice": (InvoiceByIdLoader, Scope.INVOICES_READ),
    "InvoiceDuplicate": (InvoiceDuplicateByIdLoader, Scope.INVOICES_READ),
    "Payment": (PaymentByIdLoader, Scope.PAYMENTS_READ),
    "Document": (DocumentByIdLoader, Scope.DOCUMENTS_READ),
    "Request": (RequestByIdLoader, Scope.REQUESTS_READ),
    "MessageThread": (ThreadByIdLoader, Scope.MESSAGES_READ),
    "Vehicle": (VehicleByIdLoader, Scope.TYRES_READ),
}
SHARED_TYPES: dict[str, type[ByIdLoader[Any]]] = {"TyreServiceCentre": CentreByIdLoader}


async def resolve_node(ctx: Context, global_id: str) -> Any:
    require_authenticated(ctx.viewer)
    type_name, pk = from_global_id(global_id)
    if type_name in SHARED_TYPES:
        return await _load(ctx, SHARED_TYPES[type_name], pk)
    if type_name not in NODE_TYPES:
        raise NotFoundError
    loader, scope = NODE_TYPES[type_name]
    row = await _load(ctx, loader, pk)
    client_id = row.id if isinstance(row, Client) else row.client_id
    if scope is None:
        require_client(ctx.viewer, client_id)
    else:
        require_scope(ctx.viewer, client_id, scope)
    return row


async def _load(ctx: Context, loader: type[ByIdLoader[Any]], pk: int) -> Any:
    row = await ctx.loaders[loader].load(pk)
    if row is None:
        raise NotFoundError
    return row
