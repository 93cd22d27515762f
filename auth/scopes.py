"""The permission scope catalogue: what a subaccount or an API token may be given."""

from __future__ import annotations

import enum
from dataclasses import dataclass


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
    group: str
    description: str


CATALOGUE: tuple[ScopeInfo, ...] = (
    ScopeInfo(Scope.CONTRACTS_READ, "Contracts", "See contracts and their leased items"),
    ScopeInfo(Scope.SCHEDULES_READ, "Contracts", "See repayment schedules"),
    ScopeInfo(Scope.POLICIES_READ, "Contracts", "See insurance policies"),
    ScopeInfo(Scope.INVOICES_READ, "Invoices and settlements", "See invoices and their status"),
    ScopeInfo(
        Scope.PAYMENTS_READ,
        "Invoices and settlements",
        "See booked payments, settlements, overpayments and repayment accounts",
    ),
    ScopeInfo(Scope.PAYMENTS_PAY, "Invoices and settlements", "Pay invoices online"),
    ScopeInfo(Scope.DOCUMENTS_READ, "Documents", "See and download documents"),
    ScopeInfo(Scope.REQUESTS_READ, "Requests", "See requests and their stages"),
    ScopeInfo(Scope.REQUESTS_WRITE, "Requests", "File requests and answer them"),
    ScopeInfo(Scope.MESSAGES_READ, "Messages", "Read messages to customer service"),
    ScopeInfo(Scope.MESSAGES_WRITE, "Messages", "Write messages to customer service"),
    ScopeInfo(Scope.TYRES_READ, "Fleet", "See vehicles and tyre deposits"),
    ScopeInfo(Scope.TYRES_WRITE, "Fleet", "Order tyre relocations"),
    ScopeInfo(Scope.PROFILE_WRITE, "Company", "Edit the company's contact data"),
    ScopeInfo(Scope.SUBACCOUNTS_MANAGE, "Company", "Manage subaccounts"),
)

ALL_SCOPES: frozenset[Scope] = frozenset(Scope)
READ_SCOPES: frozenset[Scope] = frozenset(s for s in Scope if s.value.endswith(":read"))
