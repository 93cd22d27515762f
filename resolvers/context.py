"""The typed per-request context every resolver receives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from auth.captcha import CaptchaVerifier
from auth.viewer import Viewer
from loaders.base import Loaders
from models.audit import AuditFrame
from models.i18n import Language

if TYPE_CHECKING:  # hub builds the context; resolvers only use what it hands them
    from hub.db import Database
    from hub.settings import Settings


@dataclass(slots=True)
class LaneVisit:
    """What the fast lane (hub/lane.py) and strawberry's own path tell each other about one
    HTTP request."""

    result: Any = None
    """The lane's execution of the query, which had errors: strawberry's path finishes it
    (masking, codes, translation) instead of running the query again."""
    error: Exception | None = None
    """What the lane's execution raised: raised again where strawberry's path executes."""
    document: Any = None
    """The validated document of a query strawberry's path ran, for the lane to keep."""
    operation_name: str | None = None
    """The operation strawberry chose in that document (the first, when none was named)."""


@dataclass(slots=True)
class Context:
    request: Any
    response: Any
    viewer: Viewer
    loaders: Loaders
    db: Database
    settings: Settings
    now: datetime
    today: date
    """The business day in Europe/Warsaw: due dates and "overdue" are Polish calendar days."""
    client_ip: str
    captcha: CaptchaVerifier
    language: Language
    """Of messages, e-mails and SMS this request causes: its Accept-Language, else Polish."""
    connection_params: dict[str, Any] | None = None
    """A WebSocket's `connection_init` payload (strawberry sets it); None over HTTP."""
    renew_viewer: Callable[[datetime], Awaitable[Viewer]] | None = None
    """On a WebSocket: the viewer of the connection's token verified again, for subscriptions
    that outlive a sign-out."""
    request_id: str = ""
    """The request's id (its `X-Request-Id`, or one made for it): in logs and audit rows."""
    audit: AuditFrame = field(default_factory=AuditFrame)
    """Who acts and from where: every write is recorded as its (models/audit.py), and a
    person at the lessor's reads of company data are noted in it for the access log."""
    lane: LaneVisit | None = None
    """Over HTTP, set by the fast lane (hub/lane.py)."""
