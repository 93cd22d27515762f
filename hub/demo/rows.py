"""Rows per table with their primary keys, and the small draws every domain shares.

Primary keys are assigned here rather than by the database, from counters that run across
clients in generation order, so one client batch is a few bulk INSERTs. Timestamps derive from
generated dates, never from the clock, so one spec always gives the same rows.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from sqlmodel import SQLModel

from models.finance import round_money

Row = dict[str, Any]
Batch = dict[str, list[Row]]  # rows per table name
T = TypeVar("T")


class Counters:
    """Counters that run across clients (primary keys per table)."""

    def __init__(self) -> None:
        self._last: Counter[str] = Counter()

    def next(self, key: str) -> int:
        self._last[key] += 1
        return self._last[key]


class SeriesNumbers:
    """Numbers in date order within each series (FV/2026/11/000001, NO/2026/000001 …).

    Clients are generated one after another, each over all its years, so numbering in
    generation order put a later client's earlier invoice after an earlier client's later one
    in the same monthly series. A first, counting pass over the same spec learns how many
    numbers each day of each series takes; the numbering pass then gives a document issued on
    a day the next of the numbers reserved for that day. A series starts at 1, like the staff
    mutations' `next_number`, and has no gaps.
    """

    def __init__(self, counted: Mapping[tuple[str, date], int] | None = None) -> None:
        self.taken: Counter[tuple[str, date]] = Counter()
        self._counted = counted
        self._first: dict[tuple[str, date], int] | None = None
        if counted is not None:
            self._first = {}
            running: Counter[str] = Counter()
            for series, day in sorted(counted):
                self._first[series, day] = running[series] + 1
                running[series] += counted[series, day]

    @property
    def counting(self) -> bool:
        return self._first is None

    def number(self, series: str, day: date, *, width: int = 6) -> str:
        """The next document number of `series` (its prefix, "FV/2026/11/") issued on `day`."""
        return f"{series}{self.next(series, day):0{width}d}"

    def next(self, series: str, day: date) -> int:
        """The next number of `series` for a document issued on `day` (0 while counting)."""
        self.taken[series, day] += 1
        if self._first is None:
            return 0
        taken, first = self.taken[series, day], self._first.get((series, day))
        # A numbering pass that drew differently from the counting one would reuse numbers.
        if first is None or self._counted is None or taken > self._counted[series, day]:
            raise RuntimeError(f"series {series} on {day} differs from its counting pass")
        return first + taken - 1


class Rows:
    """One batch of rows per table, primary keys drawn from the shared counters.

    No row is stamped after `stamped_until`: rows dated today (or planned for later) would
    otherwise carry a time still to come, and every incremental pull until then would report
    them as changes.
    """

    def __init__(self, counters: Counters, stamped_until: datetime) -> None:
        self._counters = counters
        self._until = stamped_until
        self.by_table: defaultdict[str, list[Row]] = defaultdict(list)

    def add(self, model: type[SQLModel], row: Row) -> int:
        name = model.__table__.name  # type: ignore[attr-defined]
        for stamp in _STAMPS:
            if row.get(stamp, self._until) > self._until:
                row[stamp] = self._until
        row["id"] = row_id = self._counters.next(name)
        self.by_table[name].append(row)
        return row_id


_STAMPS = ("created_at", "updated_at")


def pick(rng: random.Random, weighted: Sequence[tuple[T, int]]) -> T:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


@lru_cache(maxsize=16384)
def at(day: date, hour: int = 9) -> datetime:
    """A UTC timestamp derived from a generated date, never from the clock: runs repeat."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def stamps(created: date, updated: date | None = None) -> dict[str, datetime]:
    return {"created_at": at(created), "updated_at": at(updated or created)}


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max((last - first).days, 0)))


def split_amount(rng: random.Random, total: Decimal, parts: int) -> list[Decimal]:
    """`total` in `parts` uneven shares that add up to it exactly."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    shares = [round_money(total * Decimal(w / sum(weights))) for w in weights[:-1]]
    return [*shares, total - sum(shares, Decimal(0))]
