"""Staff roles (issue 15, point 1): what each role may use, written out by hand here so that a
change to the role table (auth/staff.py) shows up as a failing row, not a silent new right.

"Allowed" means the request got past the permission check: it is answered with a payload error
or a missing object (every probe here is built to write nothing), never with FORBIDDEN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col
from strawberry.permission import PermissionExtension
from strawberry.types.base import StrawberryObjectDefinition

from auth.staff import StaffPermission
from models.identity import StaffRole, User
from resolvers.ids import to_global_id
from schema import schema
from schema.base import HasStaffPermission
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
    "clientUsers": Probe("query($c: ID!) { client(id: $c) { users { isMain } } }", {}),
    # AUDIT_READ
    "auditLog": Probe("{ admin { auditLog(first: 1) { nodes { id } } } }", {}),
    # SUPPORT_VIEW: an empty reason is answered REQUIRED before anything is looked up
    "supportViewStart": Probe(
        'mutation($u: ID!) { adminSupportViewStart(input: {userId: $u, reason: ""}) '
        "{ errors { code } } }",
        {"u": to_global_id("User", MISSING)},
    ),
    # DATA_IMPORT: a dry run of nothing writes nothing
    "adminImport": Probe(
        "mutation { adminImport(input: {kind: CLIENTS, rows: [], dryRun: true}) "
        "{ errors { code } } }",
        {},
    ),
    # STAFF_MANAGE: enabling a staff account that is active changes nothing
    "staffEnable": Probe(
        'mutation($s: ID!) { adminUserEnable(input: {userId: $s, reason: "Probe: active"}) '
        "{ errors { code } } }",
        {},
    ),
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

CLIENTS_READ = {"users", "clientUsers"}
READS_EVERYTHING = CLIENTS_READ | {"requestQueue", "threadInbox", "tyreQueue", "contracts"}
READS_EVERYTHING |= {"invoices"}
ALLOWED: dict[StaffRole, set[str]] = {
    StaffRole.ADMIN: set(PROBES),
    StaffRole.CUSTOMER_SERVICE: READS_EVERYTHING
    | {"userUnlock", "userDisable", "requestAssign", "threadAssign", "documentIssue"}
    | {"supportViewStart"},
    StaffRole.TYRE_DESK: CLIENTS_READ | {"tyreQueue", "contracts", "relocationDispatch"},
    StaffRole.FINANCE: CLIENTS_READ
    | {"contracts", "invoices", "invoiceIssue", "documentIssue", "adminImport"},
    StaffRole.AUDITOR: READS_EVERYTHING | {"auditLog"},  # reads, never writes
}


async def _staff_account(hub: Hub) -> str:
    """An active staff account: its management needs STAFF_MANAGE besides USERS_MANAGE."""
    await staff_token(hub, StaffRole.AUDITOR)
    async with hub.db.read() as session:
        query = select(col(User.id)).where(col(User.email) == "auditor@staff.leasehub.pl")
        pk = (await session.execute(query)).scalar_one()
    assert pk is not None
    return to_global_id("User", pk)


async def _ask(hub: Hub, name: str, token: str) -> list[str]:
    probe = PROBES[name]
    variables = {"c": await first_company(hub), "s": await _staff_account(hub), **probe.variables}
    variables = {key: value for key, value in variables.items() if f"${key}" in probe.query}
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
    writes = set(PROBES) - READS_EVERYTHING - {"auditLog"}
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


DECLARED = {
    ("Mutation", "statementImport"): StaffPermission.INVOICES_MANAGE,
    ("Mutation", "paymentAllocate"): StaffPermission.INVOICES_MANAGE,
    ("Mutation", "interestNotesIssue"): StaffPermission.INVOICES_MANAGE,
    ("Mutation", "adminSupportViewStart"): StaffPermission.SUPPORT_VIEW,
    ("Mutation", "adminImport"): StaffPermission.DATA_IMPORT,
    ("Admin", "auditLog"): StaffPermission.AUDIT_READ,
    ("Admin", "users"): StaffPermission.CLIENTS_READ,
    ("Admin", "clients"): StaffPermission.CLIENTS_READ,
    ("Admin", "messageThreads"): StaffPermission.CLIENTS_READ,
    ("Admin", "requests"): StaffPermission.CLIENTS_READ,
    ("Admin", "tyreRelocations"): StaffPermission.CLIENTS_READ,
    ("Client", "users"): StaffPermission.CLIENTS_READ,
}


def _declared(type_name: str, field_name: str) -> set[StaffPermission]:
    definition = schema.get_type_by_name(type_name)
    assert isinstance(definition, StrawberryObjectDefinition)
    graphql_name = schema.config.name_converter.get_graphql_name
    field = next(f for f in definition.fields if graphql_name(f) == field_name)
    return {
        permission.permission
        for extension in field.extensions
        if isinstance(extension, PermissionExtension)
        for permission in extension.permissions
        if isinstance(permission, HasStaffPermission)
    }


@pytest.mark.parametrize(("type_name", "field_name"), sorted(DECLARED))
def test_staff_fields_declare_their_permission_on_the_schema(
    type_name: str, field_name: str
) -> None:
    """Declared on the field, so the schema (and a reviewer) shows who may use it."""
    assert _declared(type_name, field_name) == {DECLARED[type_name, field_name]}
