"""SQL pieces for statements that loaders build once and run with each batch's values.

A loader's statement is the same for every batch; only the keys differ. Built once, no batch
constructs it again or regenerates its cache key (memoised on the statement object); its keys
are one bound parameter, `:keys`.

On PostgreSQL the keys go as one array, `column = ANY($1::INTEGER[])`: the SQL text is the same
for any number of keys, so the prepared statement asyncpg keeps per connection
(`statement_cache_size`, hub/db.py; loaders send theirs straight to asyncpg, hub/raw_reads.py)
serves every batch. An expanding `IN ($1, …, $n)` would be a new statement, prepared anew, for
each batch size: the raw read path refuses one. SQLite has no arrays and gets the expanding `IN`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

KEYS = "keys"


class KeysIn(ColumnElement[bool]):
    """`column` is one of the bound list `:name` (`KEYS` by default)."""

    __visit_name__ = "keys_in"
    inherit_cache = True  # the cache key is made of `_traverse_internals`
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]
    _is_implicitly_boolean = True  # a condition already: SQLite must not get "… = 1" appended
    type = Boolean()

    def __init__(self, column: ColumnElement[Any], name: str = KEYS) -> None:
        self.column = column
        self.name = name


@compiles(KeysIn)
def _expanding_in(element: KeysIn, compiler: SQLCompiler, **kw: Any) -> str:
    keys: BindParameter[Any] = bindparam(element.name, expanding=True)
    return compiler.process(element.column.in_(keys), **kw)


@compiles(KeysIn, "postgresql")
def _equals_any(element: KeysIn, compiler: SQLCompiler, **kw: Any) -> str:
    keys = bindparam(element.name, type_=ARRAY(element.column.type))
    return compiler.process(element.column == any_(keys), **kw)
