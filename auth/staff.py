"""Staff roles as declared sets of permissions (USE-3), checked like client scopes.

A role grants two things: staff permissions (what a person at the lessor may do in the console)
and the client scopes they read every company's data with. Nothing else in the code names a
role: fields and mutations declare the permission they need (`schema.base.staff_permission`,
`require_staff_permission`), so changing what a role may do is a change to this table only.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from auth.scopes import READ_SCOPES, Scope
from models.identity import StaffRole


class StaffPermission(enum.StrEnum):
    CLIENTS_READ = "clients:read"  # search companies and people, the client 360 view
    USERS_MANAGE = "users:manage"  # disable, unlock, end sessions, resets, subaccount scopes
    STAFF_MANAGE = "staff:manage"  # the same actions on a staff member's own account
    REQUESTS_MANAGE = "requests:manage"  # the request queue: assign, decide, answer
    MESSAGES_MANAGE = "messages:manage"  # answer and assign message threads
    DOCUMENTS_MANAGE = "documents:manage"  # issue documents to a company
    INVOICES_MANAGE = "invoices:manage"  # issue invoices, duplicates, interest notes, payments
    TYRES_MANAGE = "tyres:manage"  # the tyre desk: relocations, centres, slots
    AUDIT_READ = "audit:read"  # the audit and access logs
    SUPPORT_VIEW = "support:view"  # read the API as a given client user sees it
    DATA_IMPORT = "data:import"  # intake from the core leasing system


FLEET_SCOPES = frozenset({Scope.CONTRACTS_READ, Scope.TYRES_READ})
FINANCE_SCOPES = frozenset(
    {
        Scope.CONTRACTS_READ,
        Scope.SCHEDULES_READ,
        Scope.POLICIES_READ,
        Scope.INVOICES_READ,
        Scope.PAYMENTS_READ,
        Scope.DOCUMENTS_READ,
    }
)

ROLE_PERMISSIONS: Mapping[StaffRole, frozenset[StaffPermission]] = {
    StaffRole.ADMIN: frozenset(StaffPermission),
    StaffRole.CUSTOMER_SERVICE: frozenset(
        {
            StaffPermission.CLIENTS_READ,
            StaffPermission.USERS_MANAGE,
            StaffPermission.REQUESTS_MANAGE,
            StaffPermission.MESSAGES_MANAGE,
            StaffPermission.DOCUMENTS_MANAGE,
            StaffPermission.SUPPORT_VIEW,
        }
    ),
    StaffRole.TYRE_DESK: frozenset({StaffPermission.CLIENTS_READ, StaffPermission.TYRES_MANAGE}),
    StaffRole.FINANCE: frozenset(
        {
            StaffPermission.CLIENTS_READ,
            StaffPermission.INVOICES_MANAGE,
            StaffPermission.DOCUMENTS_MANAGE,
            StaffPermission.DATA_IMPORT,
        }
    ),
    # Read-only: sees what the lessor holds and who did what, changes nothing.
    StaffRole.AUDITOR: frozenset({StaffPermission.CLIENTS_READ, StaffPermission.AUDIT_READ}),
}

# The client data each role reads, in every company (staff never write through client scopes).
ROLE_CLIENT_SCOPES: Mapping[StaffRole, frozenset[Scope]] = {
    StaffRole.ADMIN: READ_SCOPES,
    StaffRole.CUSTOMER_SERVICE: READ_SCOPES,
    StaffRole.TYRE_DESK: FLEET_SCOPES,
    StaffRole.FINANCE: FINANCE_SCOPES,
    StaffRole.AUDITOR: READ_SCOPES,
}


def permissions_of(role: StaffRole | None) -> frozenset[StaffPermission]:
    return ROLE_PERMISSIONS[role] if role is not None else frozenset()


def client_scopes_of(role: StaffRole | None) -> frozenset[Scope]:
    return ROLE_CLIENT_SCOPES[role] if role is not None else frozenset()


def roles_with(permission: StaffPermission) -> frozenset[StaffRole]:
    """The roles granting `permission`: who may be handed work that needs it (an assignee)."""
    return frozenset(role for role, granted in ROLE_PERMISSIONS.items() if permission in granted)
