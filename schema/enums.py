"""The domain enums of models/, exposed as GraphQL enums (values are API: never rename)."""

from __future__ import annotations

import strawberry

from auth.scopes import Scope
from exports.tables import ScheduleFormat, TableFormat
from models.contract import ContractKind, ContractStatus, ItemCategory, PolicyKind
from models.document import DocumentKind
from models.identity import StaffRole
from models.invoice import GatewayStatus, InvoiceKind, PaymentSource
from models.message import ThreadStatus
from models.request import RequestDecision, RequestStage, RequestType
from models.settlement import InstalmentState, InvoiceStatus
from models.tyre import RelocationStatus, TyreSeason
from models.vat import VatCategory

for enum_cls, description in (
    (Scope, "A permission a user holds in one client company."),
    (TableFormat, "A table file format."),
    (ScheduleFormat, "A repayment schedule file format."),
    (ContractKind, None),
    (ContractStatus, None),
    (ItemCategory, None),
    (PolicyKind, None),
    (DocumentKind, None),
    (StaffRole, None),
    (GatewayStatus, "State of an online payment of an invoice."),
    (InvoiceKind, None),
    (PaymentSource, None),
    (ThreadStatus, None),
    (
        RequestStage,
        "Where a request stands: SUBMITTED, IN_REVIEW, WAITING_FOR_CLIENT (the lessor waits for "
        "the client's answer), decided (COMPLETED when accepted, REJECTED), CLOSED.",
    ),
    (RequestDecision, "Customer service's decision on a request."),
    (RequestType, None),
    (InstalmentState, "Settlement state of a schedule row."),
    (InvoiceStatus, "Derived from booked payments and correcting invoices."),
    (RelocationStatus, None),
    (TyreSeason, None),
    (
        VatCategory,
        'The VAT rate an invoice prints, or "zw" (EXEMPT) and "np" (NOT_SUBJECT) where no VAT '
        "is charged.",
    ),
):
    strawberry.enum(enum_cls, description=description)
