"""Rows that leave a BI table are pulled as `deletions` (issue 12 point 6).

An accepted schedule change that shortens the term deletes the unpaid instalments past it; a
pull by `updatedSince` never sees a row that is gone, so each deletion is recorded in the
decision's transaction and pulled as a table of its own. The requests, contracts and the hub
are those of tests/schema/test_request_processing.py: a term of 30 months shortened to 26
deletes instalments 27–30.
"""

from __future__ import annotations

import asyncio
import io
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.clock import warsaw_today
from auth.scopes import Scope
from auth.viewer import Viewer
from hub.db import Database
from models.base import utcnow
from models.client import Client
from models.deletion import DeletableTable, DeletedRow
from resolvers import request_processing
from resolvers.ids import to_global_id
from resolvers.request_catalogue import InstalmentOption
from resolvers.simulation import ScheduleChange
from resolvers.tables import TABLES, table_pages
from tests.auth.helpers import TOKEN_CREATE
from tests.conftest import count_statements
from tests.exports.test_bi_tables import pull
from tests.schema import test_request_processing as processing
from tests.schema.helpers import error_codes
from tests.schema.test_request_processing import (
    DECIDE,
    Setup,
    _schedule_change,
    codes,
    instalments_of,
    stored_request,
)

setup = processing.setup  # the module's hub: a demo of two companies, anna, staff

DELETIONS = """query($id: ID!, $since: DateTime, $pl: Boolean! = false) {
  client(id: $id) { deletionsTableUrl(updatedSince: $since, polish: $pl) } }"""
SHORTER = ScheduleChange(months=26, option=InstalmentOption.AUTO)  # from a term of 30
LONGER = ScheduleChange(months=25, option=InstalmentOption.AUTO)  # from a term of 24


async def _past_term(db: Database, contract_pk: int, months: int) -> set[int]:
    return {row.id or 0 for row in await instalments_of(db, contract_pk) if row.number > months}


async def _recorded(db: Database, *, client_pk: int | None = None) -> list[DeletedRow]:
    query = select(DeletedRow).order_by(DeletedRow.id)  # type: ignore[arg-type]
    if client_pk is not None:
        query = query.where(DeletedRow.client_id == client_pk)
    async with AsyncSession(db.engine) as session:
        return list((await session.execute(query)).scalars())


async def _pulled_ids(setup: Setup, since: datetime, *, client_pk: int | None = None) -> set[str]:
    company = to_global_id("Client", client_pk or setup.client_pk)
    variables = {"id": company, "since": since.isoformat()}
    _, content, _ = await pull(setup.hub, DELETIONS, variables, token=setup.tokens["anna"])
    return set(pd.read_csv(io.BytesIO(content), encoding="utf-8-sig")["Id"])


def _gids(pks: set[int]) -> set[str]:
    return {to_global_id("Instalment", pk) for pk in pks}


async def test_an_accepted_shortening_records_one_deletion_per_deleted_instalment(
    setup: Setup,
) -> None:
    contract_pk, request_id = await _schedule_change(setup, 30, SHORTER)
    deleted = await _past_term(setup.db, contract_pk, 26)
    assert len(deleted) == 4
    before = len(await _recorded(setup.db))
    with count_statements(setup.db) as statements:
        result = await setup.ok(DECIDE, r=request_id, d="ACCEPTED", a="Skracamy okres umowy.")
    assert result["errors"] == []
    assert await _past_term(setup.db, contract_pk, 26) == set()
    recorded = (await _recorded(setup.db))[before:]
    decided_at = (await stored_request(setup.db, request_id)).decided_at
    assert sorted(row.row_id for row in recorded) == sorted(deleted)
    assert {(r.client_id, r.table_name, r.deleted_at) for r in recorded} == {
        (setup.client_pk, DeletableTable.INSTALMENTS, decided_at)
    }
    # One DELETE and one INSERT, however many instalments go.
    written = [s.lstrip().upper() for s in statements]
    assert sum(s.startswith("DELETE FROM INSTALMENTS") for s in written) == 1
    assert sum(s.startswith("INSERT INTO DELETED_ROWS") for s in written) == 1


async def test_an_accepted_lengthening_records_no_deletion(setup: Setup) -> None:
    contract_pk, request_id = await _schedule_change(setup, 24, LONGER)
    before = await _recorded(setup.db)
    result = await setup.ok(DECIDE, r=request_id, d="ACCEPTED", a="Wydłużamy okres umowy.")
    assert result["errors"] == []
    assert len(await instalments_of(setup.db, contract_pk)) == 25
    assert await _recorded(setup.db) == before


async def test_a_pull_since_just_before_the_decision_lists_exactly_the_deleted_rows(
    setup: Setup,
) -> None:
    contract_pk, request_id = await _schedule_change(setup, 30, SHORTER)
    deleted = await _past_term(setup.db, contract_pk, 26)
    since = utcnow()
    result = await setup.ok(DECIDE, r=request_id, d="ACCEPTED", a="Skracamy okres umowy.")
    assert result["errors"] == []
    assert await _pulled_ids(setup, since) == _gids(deleted)
    assert await _pulled_ids(setup, utcnow()) == set()


async def test_a_polish_pull_of_deletions_has_its_own_file_name_and_headers(
    setup: Setup,
) -> None:
    contract_pk, request_id = await _schedule_change(setup, 30, SHORTER)
    deleted = await _past_term(setup.db, contract_pk, 26)
    since = utcnow()
    assert (await setup.ok(DECIDE, r=request_id, d="ACCEPTED", a="Skracamy."))["errors"] == []
    company = to_global_id("Client", setup.client_pk)
    variables = {"id": company, "since": since.isoformat(), "pl": True}
    _, content, headers = await pull(setup.hub, DELETIONS, variables, token=setup.tokens["anna"])
    assert headers["content-disposition"] == 'attachment; filename="usuniete.csv"'
    table = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig", sep=";")
    assert list(table.columns) == ["Tabela", "Id", "Id klienta", "Usunięto (UTC)"]
    assert set(table["Tabela"]) == {"instalments"}
    assert set(table["Id"]) == _gids(deleted)
    assert set(table["Id klienta"]) == {company}


async def test_another_companys_deletions_never_appear(setup: Setup) -> None:
    async with AsyncSession(setup.db.engine) as session:
        other_pk = (
            await session.execute(select(Client.id).where(Client.id != setup.client_pk).limit(1))
        ).scalar_one()
    theirs = Setup(setup.hub, other_pk, setup.tokens)
    contract_pk, request_id = await _schedule_change(theirs, 30, SHORTER)
    deleted = await _past_term(setup.db, contract_pk, 26)
    since = utcnow()
    assert (await setup.ok(DECIDE, r=request_id, d="ACCEPTED", a="Skracamy."))["errors"] == []
    recorded = await _recorded(setup.db, client_pk=other_pk)
    assert {row.row_id for row in recorded} >= deleted  # written, for the other company
    assert await _pulled_ids(setup, since) == set()


async def test_a_decision_failing_half_way_records_no_deletion(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract_pk, request_id = await _schedule_change(setup, 30, SHORTER)
    before = await _recorded(setup.db)

    async def broken(*_args: Any) -> None:
        raise RuntimeError("the contract cannot be written")  # after the instalments went

    monkeypatch.setattr(request_processing, "_write_contract_terms", broken)
    body = await setup.gql(DECIDE, r=request_id, d="ACCEPTED", a="Skracamy.")
    assert body["errors"][0]["message"] == "Wystąpił nieoczekiwany błąd."
    assert len(await instalments_of(setup.db, contract_pk)) == 30
    assert await _recorded(setup.db) == before
    assert (await stored_request(setup.db, request_id)).decision is None


async def test_of_parallel_decisions_the_deletions_are_recorded_once(setup: Setup) -> None:
    contract_pk, request_id = await _schedule_change(setup, 30, SHORTER)
    deleted = await _past_term(setup.db, contract_pk, 26)
    before = len(await _recorded(setup.db))
    results = await asyncio.gather(
        *(setup.ok(DECIDE, r=request_id, d="ACCEPTED", a=f"Decyzja {n}") for n in range(20))
    )
    assert sum(not result["errors"] for result in results) == 1
    assert all(codes(r) == [("requestId", "ALREADY_DECIDED")] for r in results if r["errors"])
    recorded = (await _recorded(setup.db))[before:]
    assert sorted(row.row_id for row in recorded) == sorted(deleted)


@pytest.mark.parametrize(
    ("scopes", "allowed"), [(["INVOICES_READ"], False), (["SCHEDULES_READ"], True)]
)
async def test_deletions_need_the_schedules_scope_as_instalments_do(
    setup: Setup, scopes: list[str], allowed: bool
) -> None:
    company = to_global_id("Client", setup.client_pk)
    created = await setup.hub.gql(
        TOKEN_CREATE, {"c": company, "s": scopes, "ro": True}, token=setup.tokens["anna"]
    )
    token = created["data"]["apiTokenCreate"]["token"]
    body = await setup.hub.gql(
        "query($id: ID!) { client(id: $id) { instalmentsTableUrl deletionsTableUrl } }",
        {"id": company},
        token=token,
    )
    links = body["data"]["client"]
    if allowed:
        assert "errors" not in body, body
        response = await setup.hub.client.get(links["deletionsTableUrl"])
        assert response.status_code == 200
    else:
        assert links == {"instalmentsTableUrl": None, "deletionsTableUrl": None}
        assert error_codes(body) == ["FORBIDDEN", "FORBIDDEN"]


async def _pulled_rows(setup: Setup, viewer: Viewer) -> list[dict[str, Any]]:
    """Straight through the table, as a link built for `viewer` would pull it."""
    table = TABLES["deletions"]
    ctx: Any = SimpleNamespace(viewer=viewer)
    filters = await table.build_filters(ctx, setup.client_pk, None)
    pages = table_pages(
        setup.db,
        table,
        client_id=setup.client_pk,
        filters=filters,
        updated_since=None,
        today=warsaw_today(utcnow()),
    )
    return [row async for page in pages for row in page]


async def test_a_deleted_row_needs_the_scope_of_the_table_it_left(setup: Setup) -> None:
    contract_pk, request_id = await _schedule_change(setup, 30, SHORTER)
    deleted = await _past_term(setup.db, contract_pk, 26)
    assert (await setup.ok(DECIDE, r=request_id, d="ACCEPTED", a="Skracamy."))["errors"] == []
    reader = Viewer(user_id=1, memberships={setup.client_pk: frozenset({Scope.SCHEDULES_READ})})
    pulled = {row["id"] for row in await _pulled_rows(setup, reader)}
    assert _gids(deleted) <= pulled
    blind = Viewer(user_id=1, memberships={setup.client_pk: frozenset({Scope.INVOICES_READ})})
    assert await _pulled_rows(setup, blind) == []
