"""Small helpers shared by the schema tests."""

from __future__ import annotations

from typing import Any

import pytest

from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD, DEMO_STAFF_EMAIL
from loaders.invoice import SettlementByInvoiceIdLoader
from models.identity import StaffRole
from resolvers.ids import from_global_id, to_global_id
from tests.auth.helpers import staff_token
from tests.conftest import LOGIN, Hub

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


async def desk_tokens(
    hub: Hub, operator: StaffRole = StaffRole.CUSTOMER_SERVICE
) -> tuple[dict[str, str], int]:
    """Staff and a client signed in on a demo: anna (the main account), the demo's admin, an
    operator (a staff member of the desk's role) and an auditor; and the key of anna's first
    company."""
    tokens = {}
    for who, email in (("anna", DEMO_MAIN_EMAIL), ("admin", DEMO_STAFF_EMAIL)):
        body = await hub.gql(LOGIN, {"login": email, "password": DEMO_PASSWORD})
        tokens[who] = body["data"]["login"]["token"]
    tokens["operator"] = await staff_token(hub, operator)
    tokens["auditor"] = await staff_token(hub, StaffRole.AUDITOR)
    viewer = await hub.gql("{ viewer { clients { client { id } } } }", token=tokens["anna"])
    client_pk = from_global_id(viewer["data"]["viewer"]["clients"][0]["client"]["id"])[1]
    return tokens, client_pk
