"""Read loaders answer light rows (loaders/rows.py), not ORM entities, from statements made once."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.exc import UnmappedInstanceError
from sqlmodel import SQLModel, col, select

from loaders.base import ByIdLoader, Loaders, ManyByKeyLoader
from loaders.client import ClientByIdLoader
from loaders.contract import (
    ContractByIdLoader,
    ContractsByClientIdLoader,
    InstalmentsByContractIdLoader,
)
from loaders.identity import SubaccountsByClientIdLoader, UserByIdLoader
from loaders.invitation import InvitationByMembershipIdLoader
from loaders.invoice import InvoicesByContractIdLoader
from loaders.paging import ChildPageLoader, PageQuery, page_statement
from loaders.request import AttachmentByIdLoader
from loaders.rows import NOT_READ, LightRow, is_row_of, make_row_type, model_of, row_type
from models.attachment import Attachment
from models.client import Client
from models.contract import Contract, Instalment
from models.identity import Membership
from schema.contract import Contract as ContractType
from schema.invoice import Invoice as InvoiceType
from tests.conftest import Hub, count_statements


def _loader_classes() -> list[type[Any]]:
    found: list[type[Any]] = []
    pending: list[type[Any]] = [ByIdLoader, ManyByKeyLoader, ChildPageLoader]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if hasattr(cls, "model"):
            found.append(cls)
    return found


async def _first(hub: Hub, model: type[SQLModel], *where: Any) -> Any:
    async with hub.db.read() as session:
        query = select(model).where(*where).order_by(col(model.id))  # type: ignore[attr-defined]
        return (await session.execute(query.limit(1))).scalars().one()


def _assert_light_copy_of(row: Any, entity: SQLModel) -> None:
    """A light row, outside every session, with the entity's column values."""
    assert isinstance(row, LightRow) and not isinstance(row, SQLModel)
    assert sa.inspect(row, raiseerr=False) is None  # no instance state: no session holds it
    assert model_of(row) is type(entity) and is_row_of(row, type(entity))
    assert row._fields and all(getattr(row, name) == getattr(entity, name) for name in row._fields)


async def test_by_id_and_grouped_loaders_answer_light_rows(hub: Hub) -> None:
    client = await _first(hub, Client)
    contract = await _first(hub, Contract, col(Contract.client_id) == client.id)
    instalment = await _first(hub, Instalment, col(Instalment.contract_id) == contract.id)
    loaders = Loaders(hub.db)
    _assert_light_copy_of(await loaders[ClientByIdLoader].load(client.id), client)
    _assert_light_copy_of(await loaders[ContractByIdLoader].load(contract.id), contract)
    schedule = await loaders[InstalmentsByContractIdLoader].load(contract.id)
    _assert_light_copy_of(schedule[0], instalment)
    assert await loaders[ContractByIdLoader].load(2**31 - 1) is None


async def test_page_loaders_answer_light_rows_with_working_cursors(hub: Hub) -> None:
    client = await _first(hub, Client)
    loaders = Loaders(hub.db)
    page = await loaders[ContractsByClientIdLoader].load((client.id, PageQuery(first=2)))
    assert page.rows and all(isinstance(row, LightRow) for row in page.rows)
    newest = await _first(hub, Contract, col(Contract.id) == page.rows[0].id)
    _assert_light_copy_of(page.rows[0], newest)
    assert page.cursor(page.rows[0])  # the cursor names the contracts list, from a light row
    invoices = await loaders[InvoicesByContractIdLoader].load((newest.id, PageQuery(first=3)))
    assert all(model_of(row).__tablename__ == "invoices" for row in invoices.rows)


async def test_identity_loaders_answer_light_rows(hub: Hub) -> None:
    subaccount = await _first(hub, Membership, col(Membership.is_main).is_(False))
    loaders = Loaders(hub.db)
    rows = await loaders[SubaccountsByClientIdLoader].load(subaccount.client_id)
    assert subaccount.id in {row.id for row in rows}
    _assert_light_copy_of(next(r for r in rows if r.id == subaccount.id), subaccount)
    user = await loaders[UserByIdLoader].load(subaccount.user_id)
    assert isinstance(user, LightRow) and user.email
    invitation = await loaders[InvitationByMembershipIdLoader].load(subaccount.id)
    assert invitation is None or isinstance(invitation, LightRow)


async def test_a_light_row_cannot_be_changed_or_written(hub: Hub) -> None:
    client = await _first(hub, Client)
    row = await Loaders(hub.db)[ClientByIdLoader].load(client.id)
    with pytest.raises(AttributeError):
        row.name = "Changed"  # type: ignore[misc]
    async with hub.db.read() as session:
        with pytest.raises(UnmappedInstanceError):
            session.add(row)


def test_every_loader_reads_every_column_but_the_heavy_ones() -> None:
    """What a type reads is a column of its model: a light row has them all, but the bytes
    of an attachment (served by the download route, which reads them itself)."""
    for loader in _loader_classes():
        model = loader.model
        columns = [column.key for column in model.__table__.columns]
        expected = [name for name in columns if name not in NOT_READ.get(model, ())]
        assert list(row_type(model)._fields) == expected, loader
    assert "content" not in row_type(Attachment)._fields
    assert AttachmentByIdLoader.model is Attachment


def test_a_light_row_carries_the_models_own_properties_and_methods() -> None:
    class Priced:
        @property
        def gross(self) -> int:
            return self.net * 2  # type: ignore[attr-defined,no-any-return]

        def plus(self, amount: int) -> int:
            return self.net + amount  # type: ignore[attr-defined,no-any-return]

    table = sa.Table(
        "priced", sa.MetaData(), sa.Column("id", sa.Integer), sa.Column("net", sa.Integer)
    )
    row = make_row_type(Priced, table)._make((1, 21))  # type: ignore[attr-defined]
    assert (row.id, row.net, row.gross, row.plus(1)) == (1, 21, 42, 22)
    assert model_of(row) is Priced


async def test_node_types_recognise_light_rows_and_entities(hub: Hub) -> None:
    contract = await _first(hub, Contract)
    row = await Loaders(hub.db)[ContractByIdLoader].load(contract.id)
    for obj in (row, contract):
        assert ContractType.is_type_of(obj, None)  # type: ignore[attr-defined]
        assert not InvoiceType.is_type_of(obj, None)  # type: ignore[attr-defined]


async def test_statements_are_built_once_and_keep_one_text_per_shape(hub: Hub) -> None:
    """On PostgreSQL the keys go as one array: the same text (one prepared statement) for any
    number of keys. SQLite gets an expanding IN."""
    assert ClientByIdLoader.statement() is ClientByIdLoader.statement()
    assert ClientByIdLoader.statement() is not ContractByIdLoader.statement()
    ids = [client.id for client in await _all(hub, Client)]
    with count_statements(hub.db) as statements:
        await Loaders(hub.db)[ClientByIdLoader].load_many(ids[:1])
        await Loaders(hub.db)[ClientByIdLoader].load_many(ids[:3])
    assert len(statements) == 2
    if hub.db.read_engine.dialect.name == "postgresql":
        assert statements[0] == statements[1] and "= ANY (" in statements[0]
    else:
        assert " IN (" in statements[0]
    before = page_statement.cache_info().hits
    for _ in range(2):
        await Loaders(hub.db)[ContractsByClientIdLoader].load((ids[0], PageQuery(first=2)))
    assert page_statement.cache_info().hits > before


async def _all(hub: Hub, model: type[SQLModel]) -> list[Any]:
    async with hub.db.read() as session:
        query = select(model).order_by(col(model.id))  # type: ignore[attr-defined]
        return list((await session.execute(query)).scalars())
