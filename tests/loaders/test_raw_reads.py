"""On PostgreSQL loader statements go straight to asyncpg (hub/raw_reads.py), skipping
SQLAlchemy's execution: every loader must read through it exactly what it reads through
SQLAlchemy, value for value and type for type (enum members, Decimals and their scale, UTC-aware
datetimes), with the same SQL text sent."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields, is_dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Column, Date, DateTime, Integer, Select, String, bindparam, event, select
from sqlalchemy.sql import visitors

import loaders
from hub.db import Database
from hub.raw_reads import UnsupportedStatementError
from loaders.base import BaseLoader, BuiltOnce, ByIdLoader, ManyByKeyLoader, table_column
from loaders.contract import ContractFilter, InstalmentFilter, RemainingCapitalByContractIdLoader
from loaders.document import DocumentFilter
from loaders.identity import RecentEventsByKeyLoader
from loaders.invoice import BalanceByClientIdLoader, InvoiceFilter, PaymentFilter
from loaders.paging import ChildCountLoader, ChildPageLoader, PageQuery
from loaders.request import (
    RequestFilter,
    UnreadByRequestIdLoader,
    UnreadRequestsByClientIdLoader,
)
from loaders.statements import KEYS, KeysIn
from loaders.tyre_booking import SlotsByCentreLoader
from models.client import Client
from models.contract import Contract, ContractStatus, Instalment
from models.document import Document, DocumentKind
from models.identity import AuthEvent
from models.invoice import Invoice, InvoiceKind, Payment
from models.request import Request, RequestStage
from models.settlement import InvoiceStatus
from models.tyre_booking import TyreCentreHours
from tests.conftest import Hub

for _module in pkgutil.iter_modules(loaders.__path__):  # every loader class, to enumerate
    importlib.import_module(f"loaders.{_module.name}")

ABSENT_ID = 2**31 - 1  # names no row: a batch may ask for one
TODAY = date.today()
DAYS = (date(2000, 1, 1), TODAY, TODAY + timedelta(days=400))
SINCE = datetime(2000, 1, 1, tzinfo=UTC)


# The raw read path is PostgreSQL's (asyncpg); SQLite reads through SQLAlchemy, which every
# other test covers. These tests are collected for PostgreSQL only, never skipped.
pytestmark = pytest.mark.parametrize("backend", ["postgresql"], scope="session")


@pytest.fixture
async def db(hub: Hub) -> AsyncIterator[Database]:
    assert hub.db.read_engine.dialect.driver == "asyncpg"
    yield hub.db


def _subclasses(root: type[Any]) -> list[type[Any]]:
    found, pending = [], [root]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("loaders."):  # not a test's own loader
            found.append(cls)
    return sorted(set(found), key=lambda cls: (cls.__module__, cls.__name__))


def _concrete_statement(cls: type[BuiltOnce]) -> Select[Any] | None:
    try:
        return cls.statement()
    except (NotImplementedError, AttributeError):  # a base class: no model or no `build`
        return None


def _keys_column(statement: Select[Any]) -> Column[Any]:
    (column,) = {
        element.column for element in visitors.iterate(statement) if isinstance(element, KeysIn)
    }
    return column


async def _values(db: Database, column: Column[Any], limit: int = 30) -> list[Any]:
    """Real values of a column, and one no row has."""
    query = select(column).distinct().where(column.is_not(None)).order_by(column).limit(limit)
    async with db.read() as session:
        found = list((await session.execute(query)).scalars())
    text = isinstance(getattr(column.type, "impl_instance", column.type), String)
    return [*found, "no such key" if text else ABSENT_ID]


@contextmanager
def _sent(db: Database) -> Iterator[tuple[list[str], list[str]]]:
    """The SQL texts each path sent: SQLAlchemy's (`before_cursor_execute` of the read engine)
    and the raw path's (`Database.statement_listeners`)."""
    through_sqlalchemy: list[str] = []
    raw: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        through_sqlalchemy.append(statement)

    engine = db.read_engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    db.statement_listeners.append(raw.append)
    try:
        yield through_sqlalchemy, raw
    finally:
        db.statement_listeners.remove(raw.append)
        event.remove(engine, "before_cursor_execute", record)


def assert_same(expected: Any, actual: Any, where: str = "") -> None:
    """Equal, and of the same type all the way down: a str is not its StrEnum member, 1.5 is
    not Decimal("1.50"), a naive datetime is not an aware one."""
    assert type(actual) is type(expected), f"{where}: {actual!r} is not {expected!r}"
    if isinstance(expected, list | tuple):
        assert len(actual) == len(expected), f"{where}: {actual!r} != {expected!r}"
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            assert_same(left, right, f"{where}[{index}]")
    elif is_dataclass(expected):
        for field in fields(expected):
            left, right = getattr(expected, field.name), getattr(actual, field.name)
            if not callable(left):  # a page's `total_count` is a fresh closure each time
                assert_same(left, right, f"{where}.{field.name}")
    elif isinstance(expected, Decimal):
        assert actual.as_tuple() == expected.as_tuple(), f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, datetime):
        assert actual == expected and actual.utcoffset() == expected.utcoffset(), where
        assert actual.tzinfo is not None, f"{where}: naive {actual!r}"
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def _filled(value: Any) -> bool:
    """Whether an answer holds a row (not only Nones, zeros and empty lists)."""
    if isinstance(value, list | tuple):
        return any(_filled(item) for item in value)
    return value is not None and value != 0 and value != Decimal(0)


async def _both_paths(db: Database, work: Callable[[Any], Any]) -> tuple[Any, Any]:
    """`work` on a SQLAlchemy connection, then on the raw path's reader; each path must have
    sent the very same SQL."""
    with _sent(db) as (through_sqlalchemy, raw):
        expected = await db.reading_rows(work)
        sent_by_sqlalchemy = list(through_sqlalchemy)
        actual = await db.reading_batch(work)
    assert sent_by_sqlalchemy, "the SQLAlchemy path sent nothing"
    assert through_sqlalchemy == sent_by_sqlalchemy, "the raw path went through SQLAlchemy"
    assert raw == sent_by_sqlalchemy
    return expected, actual


def _parameters(db: Database, statement: Select[Any], keys: list[Any]) -> list[dict[str, Any]]:
    """Bound values for each required parameter of a statement: the keys, and each day."""
    compiled = statement.compile(dialect=db.read_engine.dialect)
    required = {bind.key: bind.type for bind in compiled.binds.values() if bind.required}
    assert KEYS in required, f"no `{KEYS}` parameter in {statement}"
    variants: list[dict[str, Any]] = [{KEYS: keys}]
    for name, type_ in required.items():
        if name == KEYS:
            continue
        if isinstance(type_, Date):
            options: tuple[Any, ...] = DAYS
        elif isinstance(type_, DateTime) or isinstance(getattr(type_, "impl", None), DateTime):
            options = (SINCE,)
        elif isinstance(type_, Integer):
            options = (3,)
        else:
            raise AssertionError(f"no value to bind to {name} ({type_!r}): add one here")
        variants = [{**values, name: option} for values in variants for option in options]
    return variants


async def test_every_built_once_statement_reads_the_same_rows_straight_through_asyncpg(
    db: Database,
) -> None:
    statements = {
        cls.__name__: statement
        for cls in _subclasses(BuiltOnce)
        if (statement := _concrete_statement(cls)) is not None
    }
    assert len(statements) >= 40  # every loader of loaders/, not a handful
    filled = 0
    for name, statement in statements.items():
        keys = await _values(db, _keys_column(statement))
        for values in _parameters(db, statement, keys):

            async def rows(
                reader: Any, statement: Select[Any] = statement, values: dict[str, Any] = values
            ) -> list[tuple[Any, ...]]:
                return sorted(
                    (tuple(row) for row in await reader.execute(statement, values)), key=repr
                )

            expected, actual = await _both_paths(db, rows)
            assert_same(expected, actual, name)
            filled += bool(expected)
    assert filled >= 0.8 * len(statements)  # rows were compared, not empty answers


def _page_filters() -> dict[type[Any], list[Any]]:
    """Filters of each paged model, among them `IN` lists fixed in the statement."""
    return {
        Contract: [ContractFilter(frozenset(ContractStatus))],
        Instalment: [InstalmentFilter(due_from=date(2000, 1, 1), due_to=TODAY)],
        Document: [DocumentFilter(kinds=frozenset(DocumentKind))],
        Invoice: [
            InvoiceFilter(today=TODAY, statuses=frozenset(InvoiceStatus)),
            InvoiceFilter(today=TODAY, kinds=frozenset({InvoiceKind.CORRECTION}), archived=False),
        ],
        Payment: [PaymentFilter(unsettled_only=True)],
        Request: [RequestFilter(stages=frozenset(RequestStage))],
    }


async def _loader_batches(
    db: Database, cls: type[Any]
) -> list[tuple[Callable[[], Any], list[Any]]]:
    """Batches of real keys for a loader class: (a new loader, keys)."""
    new = lambda: cls(db)  # noqa: E731 - one loader per path: none keeps the other's cache
    if issubclass(cls, ByIdLoader):
        return [(new, await _values(db, table_column(cls.model, "id")))]
    if issubclass(cls, ManyByKeyLoader):
        return [(new, await _values(db, table_column(cls.model, cls.key)))]
    if issubclass(cls, ChildPageLoader):
        parents = (await _values(db, table_column(cls.model, cls.parent), limit=6))[:-1]
        batches = []
        for filters in [None, *_page_filters().get(cls.model, [])]:
            page = PageQuery(first=2, filters=filters)
            batches.append((new, [(parent, page) for parent in parents]))  # row_number() pages
            batches.append((new, [(parents[0], page)]))  # one parent: a plain LIMIT
            counter = lambda: ChildCountLoader(db, cls)  # noqa: E731
            batches.append((counter, [(parent, filters) for parent in parents]))
            first = await db.reading_rows(lambda c, k=[(parents[0], page)]: new().load_batch(c, k))
            if first[0].rows:  # the next page, after a cursor's values
                last = first[0].rows[-1]
                after = tuple(getattr(last, key) for key in cls.ordering.sort_keys())
                page = PageQuery(first=2, after=after, filters=filters)
                batches.append((new, [(parent, page) for parent in parents]))
                batches.append((new, [(parents[0], page)]))
        return batches
    if cls in (RemainingCapitalByContractIdLoader, BalanceByClientIdLoader):
        model = Instalment if cls is RemainingCapitalByContractIdLoader else Client
        column = table_column(model, "contract_id" if model is Instalment else "id")
        ids = await _values(db, column)
        return [(new, [(key, day) for key in ids for day in DAYS])]
    if cls is RecentEventsByKeyLoader:
        keys = await _values(db, table_column(AuthEvent, "key"))
        return [(new, [(key, moment) for key in keys for moment in (SINCE, datetime.now(UTC))])]
    if cls in (UnreadByRequestIdLoader, UnreadRequestsByClientIdLoader):  # (id, side) keys
        ids = await _values(db, _keys_column(cls.statement()))
        return [(new, [(key, side) for key in ids for side in (False, True)])]
    if cls is SlotsByCentreLoader:  # (centre, first day, last day) keys
        centres = await _values(db, table_column(TyreCentreHours, "centre_id"))
        return [(new, [(centre, TODAY, TODAY + timedelta(days=13)) for centre in centres])]
    if issubclass(cls, BuiltOnce):  # a batch of ids for one statement
        return [(new, await _values(db, _keys_column(cls.statement())))]
    raise AssertionError(f"no keys for {cls.__name__}: add a batch of them here")


def _concrete(cls: type[Any]) -> bool:
    """A loader class a request uses (`ChildCountLoader` is reached through its pages)."""
    if cls in (BaseLoader, ChildCountLoader) or cls.__name__.startswith("_"):  # bases
        return False
    if issubclass(cls, ChildPageLoader):
        return hasattr(cls, "model") and hasattr(cls, "parent")
    if issubclass(cls, ByIdLoader | ManyByKeyLoader):
        return hasattr(cls, "model")
    return True


async def test_every_loader_answers_the_same_through_asyncpg_as_through_sqlalchemy(
    db: Database,
) -> None:
    classes = [cls for cls in _subclasses(BaseLoader) if _concrete(cls)]
    assert len(classes) >= 50
    answered = 0
    for cls in classes:
        for new, keys in await _loader_batches(db, cls):

            async def batch(reader: Any, new: Any = new, keys: list[Any] = keys) -> list[Any]:
                return await new().load_batch(reader, keys)

            expected, actual = await _both_paths(db, batch)
            assert len(expected) == len(keys)
            assert_same(expected, actual, cls.__name__)
            answered += _filled([getattr(page, "rows", page) for page in expected])
    assert answered >= 50  # most batches found rows


async def test_a_statement_with_an_in_list_of_the_batch_values_is_refused(db: Database) -> None:
    """Its text would change with each batch's size: loaders send keys as one array."""
    expanding = bindparam(KEYS, expanding=True)
    statement = select(table_column(Client, "id")).where(table_column(Client, "id").in_(expanding))
    with pytest.raises(UnsupportedStatementError):
        await db.reading_batch(lambda reader: reader.execute(statement, {KEYS: [1, 2]}))
