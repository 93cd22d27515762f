"""SQLModel tables, one module per aggregate. Importing this package registers every table."""

from models.attachment import Attachment
from models.client import BankAccount, Client
from models.contract import Contract, Instalment, InsurancePolicy, LeasedItem
from models.deletion import DeletedRow
from models.document import Document
from models.gateway import GatewayOrder
from models.identity import (
    AuditEvent,
    AuthEvent,
    AuthToken,
    Membership,
    OneTimeCode,
    RecoveryCode,
    User,
)
from models.interest import StatutoryInterestRate
from models.invoice import (
    GatewayTransaction,
    Invoice,
    InvoiceDuplicate,
    Payment,
    PaymentAllocation,
)
from models.message import Message, MessageThread
from models.outbox import OutboxMessage
from models.request import Request, RequestStageEntry
from models.statement import StatementLine
from models.tyre import (
    TyreDeposit,
    TyreRelocation,
    TyreRelocationEvent,
    TyreServiceCentre,
    Vehicle,
)
from models.tyre_booking import TyreAppointment, TyreCentreClosedDay, TyreCentreHours

__all__ = [
    "Attachment",
    "AuditEvent",
    "AuthEvent",
    "AuthToken",
    "BankAccount",
    "Client",
    "Contract",
    "DeletedRow",
    "Document",
    "GatewayOrder",
    "GatewayTransaction",
    "Instalment",
    "InsurancePolicy",
    "Invoice",
    "InvoiceDuplicate",
    "LeasedItem",
    "Membership",
    "Message",
    "MessageThread",
    "OneTimeCode",
    "OutboxMessage",
    "Payment",
    "PaymentAllocation",
    "RecoveryCode",
    "Request",
    "RequestStageEntry",
    "StatementLine",
    "StatutoryInterestRate",
    "TyreAppointment",
    "TyreCentreClosedDay",
    "TyreCentreHours",
    "TyreDeposit",
    "TyreRelocation",
    "TyreRelocationEvent",
    "TyreServiceCentre",
    "User",
    "Vehicle",
]
