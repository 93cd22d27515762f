"""Staff roles (issue 15, point 1): what each role may use, written out by hand here so that a
change to the role table (auth/staff.py) shows up as a failing row, not a silent new right.

"Allowed" means the request got past the permission check: it is answered with a payload error
or a missing object (every probe here is built to write nothing), never with FORBIDDEN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from models.identity import StaffRole
from resolvers.ids import to_global_id
from tests.auth.helpers import first_company, staff_token
from tests.conftest import Hub
from tests.schema.helpers import error_codes


@dataclass(frozen=True)
class Probe:
    query: str
    variables: dict[str, Any]


MISSING = 999_999  # no row has this key: allowed probes end at "not found"

PROBES: dict[str, Probe] = {
    # CLIENTS_READ
    "users": Probe('{ admin { users(search: "zzz", first: 1) { nodes { id } } } }', {}),
    # USERS_MANAGE: an empty reason is answered REQUIRED before anything is looked up
    "userUnlock": Probe(
        'mutation($u: ID!) { adminUserUnlock(input: {userId: $u, reason: ""}) '
        "{ errors { code } } }",
        {"u": to_global_id("User", MISSING)},
    ),
    "userDisable": Probe(
        'mutation($u: ID!) { adminUserDisable(input: {userId: $u, reason: ""}) '
        "{ errors { code } } }",
        {"u": to_global_id("User", MISSING)},
    ),
    # REQUESTS_MANAGE
    "requestAssign": Probe(
        "mutation($r: ID!) { requestAssign(input: {requestId: $r}) { errors { code } } }",
        {"r": to_global_id("Request", MISSING)},
    ),
    # MESSAGES_MANAGE
    "threadAssign": Probe(
        "mutation($t: ID!) { messageThreadAssign(input: {threadId: $t}) { errors { code } } }",
        {"t": to_global_id("MessageThread", MISSING)},
    ),
    # DOCUMENTS_MANAGE: a blank title is refused before anything is written
    "documentIssue": Probe(
        """mutation($c: ID!) { documentIssue(input: {clientId: $c, kind: OTHER, title: " ",
             issueDate: "2026-11-20"}) { errors { code } } }""",
        {},
    ),
    # INVOICES_MANAGE: a negative net is refused before anything is written
    "invoiceIssue": Probe(
        """mutation($c: ID!) { invoiceIssue(input: {clientId: $c, kind: FEE, net: "-5",
             issueDate: "2026-11-20", dueDate: "2026-11-01"}) { errors { code } } }""",
        {},
    ),
    # TYRES_MANAGE
    "relocationDispatch": Probe(
        "mutation($r: ID!) { tyreRelocationDispatch(input: {relocationId: $r}) "
        "{ errors { code } } }",
        {"r": to_global_id("TyreRelocation", MISSING)},
    ),
    # Every company's lists, read with the role's client scopes
    "requestQueue": Probe("{ admin { requests(first: 1) { nodes { id } } } }", {}),
    "threadInbox": Probe("{ admin { messageThreads(first: 1) { nodes { id } } } }", {}),
    "tyreQueue": Probe("{ admin { tyreRelocations(first: 1) { nodes { id } } } }", {}),
    # One company's data, read with the role's client scopes
    "contracts": Probe(
        "query($c: ID!) { client(id: $c) { contracts(first: 1) { nodes { id } } } }", {}
    ),
    "invoices": Probe(
        "query($c: ID!) { client(id: $c) { invoices(first: 1) { nodes { id } } } }", {}
    ),
}

READS_EVERYTHING = {"users", "requestQueue", "threadInbox", "tyreQueue", "contracts", "invoices"}
ALLOWED: dict[StaffRole, set[str]] = {
    StaffRole.ADMIN: set(PROBES),
    StaffRole.CUSTOMER_SERVICE: READS_EVERYTHING
    | {"userUnlock", "userDisable", "requestAssign", "threadAssign", "documentIssue"},
    StaffRole.TYRE_DESK: {"users", "tyreQueue", "contracts", "relocationDispatch"},
    StaffRole.FINANCE: {"users", "contracts", "invoices", "invoiceIssue", "documentIssue"},
    StaffRole.AUDITOR: READS_EVERYTHING,  # reads, never writes
}


async def _ask(hub: Hub, name: str, token: str) -> list[str]:
    probe = PROBES[name]
    variables = {"c": await first_company(hub), **probe.variables}
    return error_codes(await hub.gql(probe.query, variables, token=token))


@pytest.mark.parametrize("role", list(StaffRole))
async def test_each_role_uses_what_it_is_given_and_is_refused_the_rest(
    hub: Hub, role: StaffRole
) -> None:
    token = await staff_token(hub, role)
    answers = {name: await _ask(hub, name, token) for name in PROBES}
    refused = {name for name, codes in answers.items() if codes == ["FORBIDDEN"]}
    assert set(PROBES) - refused == ALLOWED[role], answers
    assert not any("FORBIDDEN" in codes for name, codes in answers.items() if name not in refused)


async def test_clients_are_refused_every_staff_probe(hub: Hub) -> None:
    staff_only = set(PROBES) - {"contracts", "invoices"}
    for name in sorted(staff_only):
        assert await _ask(hub, name, hub.tokens["anna"]) == ["FORBIDDEN"], name


async def test_an_auditor_reads_but_every_write_is_refused(hub: Hub) -> None:
    token = await staff_token(hub, StaffRole.AUDITOR)
    writes = set(PROBES) - READS_EVERYTHING
    assert writes  # the table above has writes to refuse
    for name in sorted(writes):
        assert await _ask(hub, name, token) == ["FORBIDDEN"], name
    company = await _ask(hub, "invoices", token)
    assert company == []


VIEWER = "{ viewer { isStaff staffRole staffPermissions } }"


async def test_the_console_sees_the_role_and_its_permissions(hub: Hub) -> None:
    tyres = await hub.gql(VIEWER, token=await staff_token(hub, StaffRole.TYRE_DESK))
    assert tyres["data"]["viewer"] == {
        "isStaff": True,
        "staffRole": "TYRE_DESK",
        "staffPermissions": ["CLIENTS_READ", "TYRES_MANAGE"],
    }
    admin = await hub.gql(VIEWER, token=await staff_token(hub, StaffRole.ADMIN))
    assert "STAFF_MANAGE" in admin["data"]["viewer"]["staffPermissions"]
    client = await hub.gql(VIEWER, as_="anna")
    assert client["data"]["viewer"] == {"isStaff": False, "staffRole": None, "staffPermissions": []}


async def test_work_is_handed_only_to_staff_whose_role_does_it(hub: Hub) -> None:
    """A tyre desk member cannot be made a request's assignee (the request queue is not theirs)."""
    service = await staff_token(hub, StaffRole.CUSTOMER_SERVICE)
    tyres = await staff_token(hub, StaffRole.TYRE_DESK)
    me = await hub.gql(
        '{ admin { users(search: "tyre_desk@staff") { nodes { id } } } }', token=tyres
    )
    tyre_desk_user = me["data"]["admin"]["users"]["nodes"][0]["id"]
    queue = await hub.gql("{ admin { requests(first: 1) { nodes { id } } } }", token=service)
    request_id = queue["data"]["admin"]["requests"]["nodes"][0]["id"]
    assign = """mutation($r: ID!, $u: ID) { requestAssign(input: {requestId: $r, assigneeId: $u})
      { errors { field code } } }"""
    body = await hub.gql(assign, {"r": request_id, "u": tyre_desk_user}, token=service)
    assert body["data"]["requestAssign"]["errors"] == [{"field": "assigneeId", "code": "NOT_FOUND"}]
