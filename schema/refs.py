"""Lazy references between domain modules, so that no two schema modules import each other."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

if TYPE_CHECKING:
    from schema.client import BankAccount, Client
    from schema.contract import Contract, Instalment
    from schema.dashboard import Dashboard
    from schema.document import Document, DocumentFilterInput
    from schema.invoice import Invoice, InvoiceFilterInput, Payment, PaymentFilterInput
    from schema.message import MessageThread
    from schema.request import Request
    from schema.subaccount import ApiToken, Subaccount
    from schema.tyre import Vehicle

BankAccountRef = Annotated["BankAccount", strawberry.lazy("schema.client")]
ClientRef = Annotated["Client", strawberry.lazy("schema.client")]
ContractRef = Annotated["Contract", strawberry.lazy("schema.contract")]
InstalmentRef = Annotated["Instalment", strawberry.lazy("schema.contract")]
DashboardRef = Annotated["Dashboard", strawberry.lazy("schema.dashboard")]
DocumentRef = Annotated["Document", strawberry.lazy("schema.document")]
DocumentFilterRef = Annotated["DocumentFilterInput", strawberry.lazy("schema.document")]
InvoiceRef = Annotated["Invoice", strawberry.lazy("schema.invoice")]
InvoiceFilterRef = Annotated["InvoiceFilterInput", strawberry.lazy("schema.invoice")]
PaymentRef = Annotated["Payment", strawberry.lazy("schema.invoice")]
PaymentFilterRef = Annotated["PaymentFilterInput", strawberry.lazy("schema.invoice")]
ThreadRef = Annotated["MessageThread", strawberry.lazy("schema.message")]
RequestRef = Annotated["Request", strawberry.lazy("schema.request")]
VehicleRef = Annotated["Vehicle", strawberry.lazy("schema.tyre")]
SubaccountRef = Annotated["Subaccount", strawberry.lazy("schema.subaccount")]
ApiTokenRef = Annotated["ApiToken", strawberry.lazy("schema.subaccount")]
