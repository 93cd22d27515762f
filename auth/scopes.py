"""The permission scope catalogue: what a subaccount or an API token may be given."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from models.i18n import Msg, _


class Scope(enum.StrEnum):
    CONTRACTS_READ = "contracts:read"
    SCHEDULES_READ = "schedules:read"
    POLICIES_READ = "policies:read"
    INVOICES_READ = "invoices:read"
    PAYMENTS_READ = "payments:read"
    PAYMENTS_PAY = "payments:pay"
    DOCUMENTS_READ = "documents:read"
    REQUESTS_READ = "requests:read"
    REQUESTS_WRITE = "requests:write"
    MESSAGES_READ = "messages:read"
    MESSAGES_WRITE = "messages:write"
    TYRES_READ = "tyres:read"
    TYRES_WRITE = "tyres:write"
    PROFILE_WRITE = "profile:write"
    SUBACCOUNTS_MANAGE = "subaccounts:manage"


@dataclass(frozen=True, slots=True)
class ScopeInfo:
    scope: Scope
    group: Msg
    description: Msg


CONTRACTS = _("Contracts")
INVOICES = _("Invoices and settlements")
DOCUMENTS = _("Documents")
REQUESTS = _("Requests")
MESSAGES = _("Messages")
FLEET = _("Fleet")
COMPANY = _("Company")

CATALOGUE: tuple[ScopeInfo, ...] = (
    ScopeInfo(Scope.CONTRACTS_READ, CONTRACTS, _("See contracts and their leased items")),
    ScopeInfo(Scope.SCHEDULES_READ, CONTRACTS, _("See repayment schedules")),
    ScopeInfo(Scope.POLICIES_READ, CONTRACTS, _("See insurance policies")),
    ScopeInfo(Scope.INVOICES_READ, INVOICES, _("See invoices and their status")),
    ScopeInfo(
        Scope.PAYMENTS_READ,
        INVOICES,
        _("See booked payments, settlements, overpayments and repayment accounts"),
    ),
    ScopeInfo(Scope.PAYMENTS_PAY, INVOICES, _("Pay invoices online")),
    ScopeInfo(Scope.DOCUMENTS_READ, DOCUMENTS, _("See and download documents")),
    ScopeInfo(Scope.REQUESTS_READ, REQUESTS, _("See requests and their stages")),
    ScopeInfo(Scope.REQUESTS_WRITE, REQUESTS, _("File requests and answer them")),
    ScopeInfo(Scope.MESSAGES_READ, MESSAGES, _("Read messages to customer service")),
    ScopeInfo(Scope.MESSAGES_WRITE, MESSAGES, _("Write messages to customer service")),
    ScopeInfo(Scope.TYRES_READ, FLEET, _("See vehicles and tyre deposits")),
    ScopeInfo(Scope.TYRES_WRITE, FLEET, _("Order tyre relocations")),
    ScopeInfo(Scope.PROFILE_WRITE, COMPANY, _("Edit the company's contact data")),
    ScopeInfo(Scope.SUBACCOUNTS_MANAGE, COMPANY, _("Manage subaccounts")),
)

ALL_SCOPES: frozenset[Scope] = frozenset(Scope)
READ_SCOPES: frozenset[Scope] = frozenset(s for s in Scope if s.value.endswith(":read"))
