"""The per-process cache of viewers behind bearer tokens: bounded, short-lived, never trusted alone.

An entry is keyed by the token's SHA-256 (the secret itself is never kept) and holds the viewer
and the user's access version it was built at. A hit is served only after the database has
confirmed, in one primary-key statement, that the token is still live, the user still active
and the version unchanged (auth/sessions.py); the time to live bounds what that statement
cannot see (a membership edited by hand in SQL) and how long an idle token takes memory.

Only tokens that authenticated are stored: a bearer that names no live token is never cached,
so a flood of made-up tokens costs the database a lookup each but cannot push real sessions out.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from auth.viewer import Viewer


@dataclass(slots=True)
class CachedViewer:
    viewer: Viewer
    token_id: int
    version: int  # users.auth_version read no later than the data the viewer was built from
    expires_at: datetime | None
    stored_at: float  # on the cache's clock
    # API tokens: the last stamp this process knows of (its own or the database's), so
    # parallel requests with one token stamp it once.
    last_used_at: datetime | None = None


class ViewerCache:
    """A least-recently-used map with a time to live; `size` 0 turns caching off."""

    def __init__(
        self, size: int, ttl_seconds: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.size = size
        self.ttl = ttl_seconds
        self.clock = clock
        self._entries: OrderedDict[str, CachedViewer] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def enabled(self) -> bool:
        return self.size > 0 and self.ttl > 0

    def get(self, key: str, now: datetime) -> CachedViewer | None:
        """The live entry, marked as recently used; an outlived or expired one is dropped."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self.clock() - entry.stored_at >= self.ttl or (
            entry.expires_at is not None and entry.expires_at <= now
        ):
            self._entries.pop(key, None)
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: str, entry: CachedViewer) -> None:
        if not self.enabled:
            return
        current = self._entries.get(key)
        if current is not None and current.version > entry.version:
            return  # a parallel request already stored what a later version says
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def discard(self, key: str) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
