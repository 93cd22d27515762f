"""Rows that left a table BI tools pull, so an incremental pull can drop them too.

A pull by `updatedSince` sees every row written after a moment, but a deleted row is simply
gone: a BI tool pulling incrementally would keep it forever. So whatever deletes a row of a
pulled table records it here in the same transaction. Today only one thing does: an accepted
schedule change deletes the unpaid instalments past a shortened term
(resolvers/request_processing.py). A record is written once and never changed.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, client_fk, enum_type, utcnow


class DeletableTable(enum.StrEnum):
    """The BI tables (resolvers/tables.py `TABLES`) whose rows can be deleted, by their name."""

    INSTALMENTS = "instalments"


class DeletedRow(SQLModel, table=True):
    """One deleted row: which table, its id there, whose it was and when it went.

    Not `Timestamped`: like the audit log it is appended once, so one stamp says it all."""

    __tablename__ = "deleted_rows"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = client_fk()
    table_name: DeletableTable = Field(sa_type=enum_type(DeletableTable))
    row_id: int  # no foreign key: the row it names is gone
    deleted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
