"""Small helpers shared by the schema tests."""

from __future__ import annotations

from typing import Any

import pytest

from loaders.invoice import SettlementByInvoiceIdLoader
from resolvers.ids import from_global_id, to_global_id
from tests.conftest import Hub

VIEWER_CLIENTS = """
{ viewer { isStaff user { email } clients { isMainAccount scopes client { id name number } } } }
"""


async def client_ids(hub: Hub, who: str) -> list[str]:
    body = await hub.gql(VIEWER_CLIENTS, as_=who)
    return [access["client"]["id"] for access in body["data"]["viewer"]["clients"]]


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]


def other_client_id(own: list[str]) -> str:
    """A client id of the demo data that is not in `own` (the demo has 8 clients)."""
    taken = {from_global_id(gid)[1] for gid in own}
    return to_global_id("Client", next(pk for pk in range(1, 9) if pk not in taken))


def break_settlements(monkeypatch: pytest.MonkeyPatch, message: str) -> None:
    """Every settlement batch fails with `message`: an invoice's status cannot be worked out."""

    async def broken(*_args: object) -> list[object]:
        raise RuntimeError(message)

    monkeypatch.setattr(SettlementByInvoiceIdLoader, "load_batch", broken)
