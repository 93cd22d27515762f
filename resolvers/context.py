"""The typed per-request context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from auth.viewer import Viewer
from hub.db import Database
from hub.settings import Settings
from loaders.base import Loaders


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
