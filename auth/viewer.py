"""Who is asking: the user, their staff role and their scopes in each client company."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from auth.scopes import Scope
from auth.staff import StaffPermission, client_scopes_of, permissions_of
from models.identity import StaffRole, TokenKind


@dataclass(frozen=True, slots=True)
class Viewer:
    user_id: int | None = None
    staff_role: StaffRole | None = None
    memberships: Mapping[int, frozenset[Scope]] = field(default_factory=dict)
    main_clients: frozenset[int] = frozenset()
    token_id: int | None = None
    token_kind: TokenKind | None = None
    read_only: bool = False
    on_behalf_of: int | None = None
    """The staff user reading as this client user in the support view (read-only, and every
    read of company data goes to the company's access log); None otherwise."""
    access_reason: str | None = None
    """Why the staff member in `on_behalf_of` reads: for the company's access log."""

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def is_staff(self) -> bool:
        return self.staff_role is not None

    @property
    def looks_as_staff(self) -> bool:
        """A person at the lessor reads: their reads of company data are access-logged."""
        return self.is_staff or self.on_behalf_of is not None

    def can_access_client(self, client_id: int) -> bool:
        return self.is_staff or client_id in self.memberships

    def scopes_for(self, client_id: int) -> frozenset[Scope]:
        if self.staff_role is not None:
            return client_scopes_of(self.staff_role)
        return self.memberships.get(client_id, frozenset())

    def has_scope(self, client_id: int, scope: Scope) -> bool:
        return scope in self.scopes_for(client_id)

    def has_staff_permission(self, permission: StaffPermission) -> bool:
        return permission in permissions_of(self.staff_role)


ANONYMOUS = Viewer()
