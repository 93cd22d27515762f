"""Column types and mixins shared by every table.

Money is Numeric(14, 2) and never float; timestamps are stored as UTC and read back as aware
datetimes on both SQLite (which has no time zones) and PostgreSQL.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

MONEY_DIGITS = 14
MONEY_PLACES = 2
CENT = Decimal("0.01")


MAX_ID = 2**31 - 1  # ids are INTEGER columns: a larger number names no row (and PostgreSQL
# refuses to compare with it), so ids from outside above it are "not found" before any query


def parse_id(text: str) -> int | None:
    """An id typed or carried from outside: ASCII digits within MAX_ID, else None."""
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) > MAX_ID:
        return None
    return int(text)


def utcnow() -> datetime:
    return datetime.now(UTC)


class _Row(Protocol):
    @property
    def id(self) -> int | None: ...


def stored_id(row: _Row) -> int:
    """The primary key of a row read from the database (SQLModel types it `int | None`, since
    a new row has none until it is flushed)."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no primary key yet: it was never flushed")
    return row.id


def to_money(value: Decimal | int | str | None) -> Decimal:
    """Round to grosze; SQLite sums come back as binary floats, so every total passes here."""
    return Decimal(value or 0).quantize(CENT)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp that is always UTC: naive values are refused on write."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_type(enum_cls: type[enum.Enum]) -> sa.Enum:
    """Enums are stored as their values in VARCHAR: adding a value needs no ALTER TYPE."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def money_field(**kwargs: Any) -> Any:
    return Field(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs)


def external_id_field() -> Any:
    """The core leasing system's key of a row it sent (`leasehub import`): unique, while rows
    the hub made itself leave it NULL (a unique index lets NULLs repeat on both databases)."""
    return Field(default=None, max_length=64, unique=True, index=True)


def client_fk() -> Any:
    """Every tenant-owned row carries its client: one predicate for every tenancy check."""
    return Field(foreign_key="clients.id", index=True, ondelete="CASCADE")


class Timestamped(SQLModel):
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Moves on every ORM update, so BI tools can pull what changed since their last pull.
    updated_at: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTime,
        index=True,
        sa_column_kwargs={"onupdate": utcnow},
    )
