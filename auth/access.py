"""The one place where ids that come from outside are checked against the viewer."""

from __future__ import annotations

from auth.errors import ForbiddenError, NotFoundError, UnauthenticatedError
from auth.scopes import Scope
from auth.staff import StaffPermission, client_scopes_of
from auth.viewer import Viewer
from models.audit import note_read
from models.i18n import Msg, _
from models.identity import TokenKind


def require_authenticated(viewer: Viewer) -> None:
    if not viewer.is_authenticated:
        raise UnauthenticatedError


def require_staff(viewer: Viewer) -> None:
    require_authenticated(viewer)
    if not viewer.is_staff:
        raise ForbiddenError(_("Only staff can see this."))


def require_staff_permission(viewer: Viewer, permission: StaffPermission) -> None:
    """A staff permission of the viewer's role; clients learn only that it is staff's."""
    require_staff(viewer)
    if not viewer.has_staff_permission(permission):
        raise ForbiddenError(missing_staff_permission(permission))


def require_staff_read(viewer: Viewer, scope: Scope) -> None:
    """Every company's list of one kind (a queue, the inbox): staff whose role reads `scope`."""
    require_staff(viewer)
    if scope not in client_scopes_of(viewer.staff_role):
        raise ForbiddenError(missing_scope(scope))


def missing_staff_permission(permission: StaffPermission) -> Msg:
    return _("Your staff role lacks the {permission} permission.", permission=permission.name)


def require_client(viewer: Viewer, client_id: int | None, *, field: str = "id") -> int:
    """The client must be one of the viewer's; otherwise it is reported as not found."""
    require_authenticated(viewer)
    if client_id is None or not viewer.can_access_client(client_id):
        raise NotFoundError(field=field)
    return client_id


def require_scope(viewer: Viewer, client_id: int | None, scope: Scope, *, field: str = "id") -> int:
    client_id = require_client(viewer, client_id, field=field)
    if not viewer.has_scope(client_id, scope):
        raise ForbiddenError(missing_scope(scope))
    if viewer.looks_as_staff:  # a person at the lessor: the company's access log
        note_read(client_id, scope)
    return client_id


def missing_scope(scope: Scope) -> Msg:
    return _("This needs the {scope} permission.", scope=scope.name)  # as the API spells it


def require_session(viewer: Viewer) -> None:
    """Account security (password, second factor, e-mail, tokens) is for people, not API tokens."""
    require_authenticated(viewer)
    if viewer.token_kind is not TokenKind.SESSION:
        raise ForbiddenError(_("Sign in to change this; API tokens cannot."))
