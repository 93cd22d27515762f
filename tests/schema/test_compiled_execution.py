"""The compiled execution path: planned queries answer exactly as graphql-core's generic path.

The suite's cross-check (tests/crosscheck.py) compares the two paths on every query any test
sends; these tests aim it at the corners — fragments, aliases, @skip/@include by variable,
interfaces, introspection, forbidden fields, errors inside lists with null propagation — and
check that the plan really runs and that a difference would be seen.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from graphql import ExecutionResult, GraphQLError
from graphql.execution.executor import Executor

from loaders.client import ClientByIdLoader
from loaders.contract import InstalmentsByContractIdLoader
from models.identity import StaffRole
from schema.base import Money
from schema.execution import CompiledExecutor, ObjectPlan
from tests import crosscheck
from tests.auth.helpers import staff_token
from tests.conftest import Hub
from tests.schema.helpers import break_settlements, client_ids

CORNERS = """
query Corners($id: ID!, $withSchedule: Boolean!, $skipItems: Boolean!, $first: Int) {
  __typename
  kind: __type(name: "Invoice") { name }
  client(id: $id) {
    __typename
    ...Names
    company: name
    contracts(first: $first) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id ... on Contract { number } } }
      nodes {
        number
        items @skip(if: $skipItems) { name }
        schedule @include(if: $withSchedule) { number dueDate gross { amount currency } }
        invoices(first: 3) { nodes { ...InvoiceFields } }
      }
    }
    payments(first: 2) { nodes { bookedOn } }
    dashboard { settlements { amountDue { amount } } latestInvoices { number status } }
  }
}
fragment Names on Client { id name nip }
fragment InvoiceFields on Invoice { __typename id number status amountDue { amount } }
"""


async def _checked(hub: Hub, query: str, variables: dict[str, object], who: str | None) -> dict:
    before = crosscheck.CHECKED[0]
    body = await hub.gql(query, variables, as_=who)
    assert crosscheck.CHECKED[0] == before + 1  # the query went through both paths
    return body


@pytest.mark.parametrize("who", ["anna", "jan", "staff"])
@pytest.mark.parametrize(("with_schedule", "skip_items"), [(True, False), (False, True)])
async def test_paths_agree_on_fragments_aliases_directives_and_forbidden_fields(
    hub: Hub, who: str, with_schedule: bool, skip_items: bool
) -> None:
    client_id = (await client_ids(hub, "jan" if who == "jan" else "anna"))[0]
    variables = {"id": client_id, "withSchedule": with_schedule, "skipItems": skip_items}
    body = await _checked(hub, CORNERS, {**variables, "first": 2}, who)
    contracts = body["data"]["client"]["contracts"]["nodes"]
    assert contracts and ("schedule" in contracts[0]) is with_schedule
    assert ("items" in contracts[0]) is not skip_items
    if who == "jan":  # payments:read is not his: null and an error at its path, as generic does
        assert body["data"]["client"]["payments"] is None
        assert ["client", "payments"] in [error["path"] for error in body["errors"]]


async def test_paths_agree_on_nodes_and_not_found(hub: Hub) -> None:
    invoice_query = "query($id: ID!) { client(id: $id) { invoices(first: 2) { nodes { id } } } }"
    client_id = (await client_ids(hub, "anna"))[0]
    listed = await hub.gql(invoice_query, {"id": client_id}, as_="anna")
    invoice_id = listed["data"]["client"]["invoices"]["nodes"][0]["id"]
    query = """query($id: ID!) { node(id: $id) { __typename id
      ... on Invoice { number contract { number } } ... on Contract { number } }
      missing: node(id: "not-an-id") { id } }"""
    body = await _checked(hub, query, {"id": invoice_id}, "anna")
    assert body["data"]["node"]["__typename"] == "Invoice" and body["data"]["missing"] is None


async def test_paths_agree_on_an_argument_refused_at_run_time_beside_an_async_field(
    hub: Hub,
) -> None:
    """A null for a non-null argument passes validation when its variable has a default; the
    argument's error is the field's at once, before any resolver runs, async or not, so it
    is reported even when a later non-null field (the catalogue: anonymous) nulls the data."""
    query = 'query($id: ID = "x") { node(id: $id) { id } scopeCatalogue { scope } }'
    body = await _checked(hub, query, {"id": None}, None)
    assert body["data"] is None
    assert [error["path"] for error in body["errors"]] == [["node"], ["scopeCatalogue"]]


async def test_paths_agree_when_a_list_item_fails_and_nulls_propagate(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_settlements(monkeypatch, "settlements are down")
    client_id = (await client_ids(hub, "anna"))[0]
    # Each invoice once: graphql-core's own path cancels a loader future two branches share
    # when one of them fails (see tests/crosscheck.py), and then has no answer to compare.
    query = """query($id: ID!) { client(id: $id) { name
      invoices(first: 3) { nodes { number status } }
      contracts(first: 1) { nodes { number items { name } } } } }"""
    body = await _checked(hub, query, {"id": client_id}, "anna")
    assert body["data"]["client"]["name"] and body["errors"]
    paths = [error["path"] for error in body["errors"]]
    assert ["client", "invoices", "nodes", 0, "status"] in paths


async def test_paths_agree_when_a_plain_attribute_is_null_or_not_plain_data(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows_by_id = ClientByIdLoader._by_id

    def damaged(self: ClientByIdLoader, *args: Any) -> list[Any]:
        rows = rows_by_id(self, *args)
        return [row._replace(name=None, nip=object()) for row in rows]  # type: ignore[union-attr]

    client_id = (await client_ids(hub, "anna"))[0]
    monkeypatch.setattr(ClientByIdLoader, "_by_id", damaged)
    body = await _checked(
        hub, "query($id: ID!) { client(id: $id) { id number name nip } }", {"id": client_id}, "anna"
    )
    assert body["data"] == {"client": None}  # the null went up to the nullable client
    assert body["errors"][0]["path"] == ["client", "name"]  # (masked: a server fault)


async def test_a_planned_query_runs_without_graphql_cores_field_machinery(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    generic = Executor.execute_field

    def counted(self: Executor, *args: object, **kwargs: object) -> object:
        calls.append("execute_field")
        return generic(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(CompiledExecutor, "crosscheck", None)
    monkeypatch.setattr(Executor, "execute_field", counted)
    client_id = (await client_ids(hub, "anna"))[0]
    query = """query($id: ID!) { client(id: $id) { contracts(first: 5) { nodes { number
      schedule { number dueDate gross { amount } settlementState }
      invoices(first: 5) { nodes { number status amountDue { amount } } } } } } }"""
    body = await hub.gql(query, {"id": client_id}, as_="anna")
    assert body["data"]["client"]["contracts"]["nodes"] and "errors" not in body
    assert calls == []
    await hub.gql("mutation { __typename }")
    assert calls  # mutations keep graphql-core's path


async def test_staff_fields_with_a_declared_permission_are_planned_too(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`staff_permission(...)` is checked by the plan once per field: a staff console's big
    answer (every client's contracts) must not fall back to graphql-core field by field, and a
    refusal is the same on both paths."""
    calls: list[str] = []
    generic = Executor.execute_field

    def counted(self: Executor, *args: object, **kwargs: object) -> object:
        calls.append("execute_field")
        return generic(self, *args, **kwargs)  # type: ignore[arg-type]

    query = """{ admin { clients(first: 3) { nodes { number
      contracts(first: 2) { nodes { number } } } } } }"""
    monkeypatch.setattr(CompiledExecutor, "crosscheck", None)
    monkeypatch.setattr(Executor, "execute_field", counted)
    body = await hub.gql(query, as_="staff")
    assert body["data"]["admin"]["clients"]["nodes"] and "errors" not in body
    assert calls == []  # planned: no field went through graphql-core
    monkeypatch.undo()
    before = crosscheck.CHECKED[0]
    tyre_desk = await staff_token(hub, StaffRole.TYRE_DESK)
    audit = "{ admin { auditLog(first: 1) { nodes { action } } } }"
    refused = await hub.gql(audit, token=tyre_desk)
    assert crosscheck.CHECKED[0] == before + 1  # both paths answered, the same
    assert [error["extensions"]["code"] for error in refused["errors"]] == ["FORBIDDEN"]


SCHEDULE = """query($id: ID!) { client(id: $id) { contracts(first: 2) { nodes { number
  schedule { __typename id number dueDate vatCategory gross { amount currency } } } } } }"""


def _objects_run_one_by_one(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The object types the compiled path completes field by field (not flat)."""
    seen: list[str] = []
    general = CompiledExecutor.run_object

    def counted(self: CompiledExecutor, plan: ObjectPlan, *args: object) -> object:
        seen.append(plan.type.name)
        return general(self, plan, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(CompiledExecutor, "run_object", counted)
    return seen


async def test_a_synchronous_subtree_is_serialised_flat(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _objects_run_one_by_one(monkeypatch)
    built: list[object] = []
    money_init = Money.__init__

    def counted(self: Money, *args: object, **kwargs: object) -> None:
        built.append(self)
        money_init(self, *args, **kwargs)  # type: ignore[arg-type]

    client_id = (await client_ids(hub, "anna"))[0]
    monkeypatch.setattr(CompiledExecutor, "crosscheck", None)  # graphql-core's path builds them
    monkeypatch.setattr(Money, "__init__", counted)
    body = await hub.gql(SCHEDULE, {"id": client_id}, as_="anna")
    assert built == []  # the amounts were read from the rows: no Money object built
    monkeypatch.undo()
    seen = _objects_run_one_by_one(monkeypatch)
    body = await _checked(hub, SCHEDULE, {"id": client_id}, "anna")
    schedule = body["data"]["client"]["contracts"]["nodes"][0]["schedule"]
    assert len(schedule) > 2 and "errors" not in body
    assert schedule[0]["__typename"] == "Instalment" and schedule[0]["gross"]["currency"] == "PLN"
    # Instalments and their Money values went flat; both paths gave the same bytes.
    assert "Contract" in seen and "Instalment" not in seen and "Money" not in seen


@pytest.mark.parametrize(
    ("damage", "field"),
    [
        ({"number": None}, "number"),  # a null where the schema forbids one
        ({"number": 2**40}, "number"),  # past GraphQL's 32-bit Int
        ({"due_date": "2026-13-45"}, "dueDate"),  # a value the scalar refuses
        ({"vat_category": object()}, "vatCategory"),  # not plain data
    ],
)
async def test_an_irregular_value_in_a_flat_subtree_gets_the_general_paths_answer(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, damage: dict[str, object], field: str
) -> None:
    generic_load = InstalmentsByContractIdLoader.load_batch

    async def damaged(self: InstalmentsByContractIdLoader, connection: object, keys: list) -> list:
        lists = await generic_load(self, connection, keys)  # type: ignore[arg-type]
        return [
            [row._replace(**damage) if row.number == 2 else row for row in rows] for rows in lists
        ]

    client_id = (await client_ids(hub, "anna"))[0]
    monkeypatch.setattr(InstalmentsByContractIdLoader, "load_batch", damaged)
    seen = _objects_run_one_by_one(monkeypatch)
    body = await _checked(hub, SCHEDULE, {"id": client_id}, "anna")
    paths = [error["path"] for error in body["errors"]]
    assert ["client", "contracts", "nodes", 0, "schedule", 1, field] in paths
    assert body["data"]["client"]["contracts"]["nodes"][0]["schedule"] is None  # null went up
    assert "Instalment" in seen  # the damaged list was completed item by item


async def test_an_object_of_another_type_in_a_flat_list_gets_the_general_paths_answer(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    generic_load = InstalmentsByContractIdLoader.load_batch

    class Stranger:  # has every attribute an instalment has, but is not one
        def __init__(self, row: object) -> None:
            self.__dict__.update(row._asdict())  # type: ignore[attr-defined]

    async def mixed(self: InstalmentsByContractIdLoader, connection: object, keys: list) -> list:
        lists = await generic_load(self, connection, keys)  # type: ignore[arg-type]
        return [[Stranger(row) if row.number == 2 else row for row in rows] for rows in lists]

    client_id = (await client_ids(hub, "anna"))[0]
    monkeypatch.setattr(InstalmentsByContractIdLoader, "load_batch", mixed)
    body = await _checked(hub, SCHEDULE, {"id": client_id}, "anna")
    paths = [error["path"] for error in body["errors"]]
    assert ["client", "contracts", "nodes", 0, "schedule", 1] in paths  # the type check held
    assert body["data"]["client"]["contracts"]["nodes"][0]["schedule"] is None


def test_crosscheck_sees_a_different_answer() -> None:
    same = ExecutionResult({"a": 1}, None)
    assert crosscheck.render(same) == crosscheck.render(ExecutionResult({"a": 1}, None))
    assert crosscheck.render(same) != crosscheck.render(ExecutionResult({"a": 2}, None))
    assert crosscheck.render(same) != crosscheck.render(
        ExecutionResult({"a": 1}, [GraphQLError("x", path=["a"])])
    )
    reordered = ExecutionResult({"b": 1, "a": 1}, None)
    assert crosscheck.render(reordered) != crosscheck.render(ExecutionResult({"a": 1, "b": 1}))


def test_resolvers_read_only_the_context_of_their_info() -> None:
    """The plan hands one Info per field and request to every object it resolves (its `path` is
    None): production code may read `info.context` only."""
    root = Path(__file__).resolve().parents[2]
    used: set[str] = set()
    info_attribute = re.compile(r"(?<![.\w])info\.([a-z_]+)")  # `info.x`, not `session.info.x`
    for package in ("auth", "exports", "hub", "loaders", "models", "resolvers", "schema"):
        for source in (root / package).rglob("*.py"):
            used |= set(info_attribute.findall(source.read_text(encoding="utf-8")))
    assert used == {"context"}
