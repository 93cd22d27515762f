"""Narrowed reads (schema/narrow.py): a planned query whose fields all declare what they read
selects only those columns, and answers exactly as the whole rows would."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from loaders.rows import UnreadColumnError, narrowed
from models.contract import Contract
from schema.execution import CompiledExecutor, PlanCache
from schema.narrow import Reads
from tests import crosscheck
from tests.conftest import Hub, count_statements
from tests.schema.helpers import client_ids

_CONTRACTS = """contracts(first: 3) { totalCount pageInfo { endCursor } edges { cursor }
  nodes { id number kind status startDate endDate
    schedule { id number dueDate capital { amount currency } interest { amount }
               gross { amount } remainingCapital { amount } %s }
    invoices(first: 4) { totalCount pageInfo { endCursor hasNextPage }
      nodes { id number issueDate dueDate gross { amount currency } } } } }"""
DEEP = "query($id: ID!) { client(id: $id) { id number name %s } }" % (_CONTRACTS % "")
# paymentDeadline computes from its row: the resolver says nothing of what it reads.
COMPUTED = "query($id: ID!) { client(id: $id) { id %s } }" % (_CONTRACTS % "paymentDeadline")
NEXT_PAGE = """query($id: ID!, $after: String) { client(id: $id) {
  contracts(first: 1, after: $after) { pageInfo { endCursor } nodes { number } } } }"""


async def _answer(hub: Hub, query: str, variables: dict[str, Any]) -> tuple[Any, list[str]]:
    with count_statements(hub.db) as seen:
        body = await hub.gql(query, variables, as_="anna")
    assert "errors" not in body, body
    return body, _rows_of("instalments", seen)


def _rows_of(table: str, statements: list[str]) -> list[str]:
    """The statements that read rows of `table` (not a list's COUNT)."""
    return [each for each in statements if f"FROM {table}" in each and "count(" not in each]


async def test_a_narrowed_read_answers_as_the_whole_rows_do(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    variables = {"id": (await client_ids(hub, "anna"))[0]}
    with count_statements(hub.db) as narrowed:
        body = await hub.gql(DEEP, variables, as_="anna")
    assert "errors" not in body, body
    assert body["data"]["client"]["contracts"]["nodes"][0]["schedule"]  # something to compare
    # Plans that narrow nothing, in a cache of their own (no narrowed plan is reused).
    monkeypatch.setattr(Reads, "narrow", lambda _self: {})
    monkeypatch.setattr(CompiledExecutor, "plans", PlanCache())
    with count_statements(hub.db) as whole:
        assert await hub.gql(DEEP, variables, as_="anna") == body
    assert len(narrowed) == len(whole)  # the same statements, fewer columns
    for table in ("instalments", "invoices", "contracts"):
        read, full = _rows_of(table, narrowed), _rows_of(table, whole)
        assert read and full
        assert all("created_at" not in statement for statement in read), read
        assert all("created_at" in statement for statement in full), full
    instalments = next(statement for statement in narrowed if "FROM instalments" in statement)
    assert "remaining_capital" in instalments and ".vat," not in instalments


async def test_a_field_computed_from_its_row_reads_whole_rows(hub: Hub) -> None:
    variables = {"id": (await client_ids(hub, "anna"))[0]}
    body, instalments = await _answer(hub, COMPUTED, variables)
    assert body["data"]["client"]["contracts"]["nodes"][0]["schedule"][0]["paymentDeadline"]
    assert instalments and all("created_at" in statement for statement in instalments)


async def test_a_cursor_from_a_narrowed_page_reads_the_next_page(hub: Hub) -> None:
    variables: dict[str, Any] = {"id": (await client_ids(hub, "anna"))[0], "after": None}
    numbers = []
    for _ in range(3):
        body = await hub.gql(NEXT_PAGE, variables, as_="anna")
        contracts = body["data"]["client"]["contracts"]
        numbers += [node["number"] for node in contracts["nodes"]]
        variables["after"] = contracts["pageInfo"]["endCursor"]
    everything = await hub.gql(
        "query($id: ID!) { client(id: $id) { contracts(first: 3) { nodes { number } } } }",
        {"id": variables["id"]},
        as_="anna",
    )
    assert numbers == [
        node["number"] for node in everything["data"]["client"]["contracts"]["nodes"]
    ]
    assert len(set(numbers)) == len(numbers) > 1


@pytest.mark.parametrize(
    "use",
    [bool, str, hash, lambda value: value == 1, lambda value: value < 1, lambda value: f"{value}"],
)
def test_a_column_a_narrowed_read_left_out_fails_on_any_use(use: Any) -> None:
    row = narrowed(Contract, frozenset({"id", "number"})).make([(7, "UM/1")])[0]
    assert (row.id, row.number) == (7, "UM/1")
    with pytest.raises(UnreadColumnError):
        row.status  # noqa: B018 - reading it is the test
    with pytest.raises(UnreadColumnError):
        getattr(row, "currency", None)  # no default hides it
    with pytest.raises(UnreadColumnError):
        use(row[row._fields.index("status")])  # indexed, the tuple holds UNREAD
    assert crosscheck.UNREAD_USES  # what the suite's fixture fails a test on
    crosscheck.UNREAD_USES.clear()


async def test_a_plan_that_misses_a_read_fails_its_test(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The safety net: a declaration that forgets a column cannot answer a wrong value."""
    whole = Reads.narrow

    def forgetful(self: Reads) -> dict[type[Any], frozenset[str]]:
        reads = whole(self)
        return {**reads, Contract: reads[Contract] - {"number"}}

    monkeypatch.setattr(Reads, "narrow", forgetful)
    monkeypatch.setattr(CompiledExecutor, "plans", PlanCache())
    variables = {"id": (await client_ids(hub, "anna"))[0]}
    body = await hub.gql(DEEP, variables, as_="anna")
    assert body["errors"] and body["data"]["client"]["contracts"] is None
    # The failed contracts' schedule and invoice batches outlive the answer: let them give
    # their connections back before the session's hub is disposed.
    others = asyncio.all_tasks() - {asyncio.current_task()}
    await asyncio.wait(others, timeout=2)
    assert any("Contract.number" in use for use in crosscheck.UNREAD_USES)
    crosscheck.UNREAD_USES.clear()
