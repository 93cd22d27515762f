"""Accent- and case-insensitive text search, the same on SQLite, PostgreSQL and in Python.

"Łódź", "ŁÓDŹ" and "lodz" must find the same rows. SQLite's lower() folds ASCII only, and
PostgreSQL's depends on the cluster's locale, so neither is used: the text is folded by one
rule, `fold`, which SQLite runs as a registered function and PostgreSQL as `translate()` over a
table built from the same rule.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Any

from sqlalchemy import String, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

SQLITE_FUNCTION = "lh_fold"

# Letters with diacritics that PostgreSQL folds in SQL: Polish first, then the neighbours'
# (German, Czech, Slovak, Lithuanian, French) found in names and streets of client data.
_ACCENTED = "ĄĆĘŁŃÓŚŹŻąćęłńóśźżÄÖÜäöüÁČĎÉĚÍŇŘŠŤÚŮÝŽáčďéěíňřšťúůýžĖĮŲŪėįųūÀÂÇÈÊËÎÏÔÙÛŸàâçèêëîïôùûÿÑñ"


def fold(text: str) -> str:
    """Lower case without diacritics: "Łódź" -> "lodz". ł has no decomposition, so it is mapped."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@cache
def _translate_table() -> tuple[str, str]:
    """Upper-case ASCII and the accented letters, each with its one-letter fold."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + _ACCENTED
    folded = "".join(fold(letter) for letter in letters)
    if len(folded) != len(letters):
        raise ValueError("translate() needs every folded letter to stay one letter")
    return letters, folded


class folded(FunctionElement[str]):
    """`fold(column)` in SQL."""

    type = String()
    inherit_cache = True


@compiles(folded, "sqlite")
def _fold_on_sqlite(element: folded, compiler: Any, **kw: Any) -> str:
    return f"{SQLITE_FUNCTION}({compiler.process(element.clauses, **kw)})"


@compiles(folded)
def _fold_elsewhere(element: folded, compiler: Any, **kw: Any) -> str:
    source, target = _translate_table()
    translated = func.translate(*element.clauses, source, target)
    return compiler.process(translated, **kw)


def contains(column: Any, term: str) -> ColumnElement[bool]:
    """The column's text contains `term`, ignoring case and accents."""
    escaped = fold(term).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return folded(column).like(f"%{escaped}%", escape="\\")


def equals(column: Any, term: str) -> ColumnElement[bool]:
    return folded(column) == fold(term)


def register_sqlite_fold(dbapi_connection: Any) -> None:
    """Called for every new SQLite connection: SQL's fold is Python's."""
    dbapi_connection.create_function(
        SQLITE_FUNCTION, 1, lambda text: None if text is None else fold(text), deterministic=True
    )
