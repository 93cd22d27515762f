"""Who is asking: the user, their staff role and their scopes in each client company."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from auth.scopes import READ_SCOPES, Scope
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

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def is_staff(self) -> bool:
        return self.staff_role is not None

    def can_access_client(self, client_id: int) -> bool:
        return self.is_staff or client_id in self.memberships

    def scopes_for(self, client_id: int) -> frozenset[Scope]:
        if self.is_staff:
            return READ_SCOPES
        return self.memberships.get(client_id, frozenset())

    def has_scope(self, client_id: int, scope: Scope) -> bool:
        return scope in self.scopes_for(client_id)


ANONYMOUS = Viewer()
