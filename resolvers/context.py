"""The typed per-request context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from auth.captcha import CaptchaVerifier
from auth.viewer import Viewer
from loaders.base import Loaders
from models.i18n import Language

if TYPE_CHECKING:  # hub builds the context; resolvers only use what it hands them
    from hub.db import Database
    from hub.settings import Settings


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
