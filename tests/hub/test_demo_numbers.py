"""Demo document numbers: each series (FV/2026/11/…, NO/2026/…, WN/2026/…, UL/2026/03/…)
runs from 1 without gaps, in the order of the dates its documents were issued on."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import models
from hub.demo.rows import SeriesNumbers
from tests.hub.test_demo import demo, rows  # noqa: F401 (the module's demo fixture)

NUMBERED: tuple[tuple[type[SQLModel], str], ...] = (
    (models.Invoice, "issue_date"),
    (models.Document, "issue_date"),
    (models.Contract, "start_date"),
)
_SERIES = re.compile(r"(.*/)(\d+)")


def _by_series(numbered: list[tuple[str, date]]) -> dict[str, list[tuple[int, date]]]:
    series: defaultdict[str, list[tuple[int, date]]] = defaultdict(list)
    for number, day in numbered:
        match = _SERIES.fullmatch(number)
        assert match, number
        series[match[1]].append((int(match[2]), day))
    return series


def _assert_dense_and_in_date_order(numbered: list[tuple[str, date]]) -> None:
    for prefix, entries in _by_series(numbered).items():
        entries.sort()
        assert [n for n, _ in entries] == list(range(1, len(entries) + 1)), prefix
        days = [day for _, day in entries]
        assert days == sorted(days), f"{prefix}: numbers out of date order"


@pytest.mark.parametrize(("model", "dated_by"), NUMBERED)
async def test_demo_series_run_from_one_in_date_order(
    demo: AsyncEngine,  # noqa: F811
    model: type[SQLModel],
    dated_by: str,
) -> None:
    found = await rows(demo, model)
    assert found
    _assert_dense_and_in_date_order([(row["number"], row[dated_by]) for row in found])


async def test_demo_request_numbers_follow_the_day_they_were_filed(
    demo: AsyncEngine,  # noqa: F811
) -> None:
    requests = await rows(demo, models.Request)
    _assert_dense_and_in_date_order([(r["number"], r["created_at"].date()) for r in requests])


def test_a_numbering_pass_that_draws_more_than_was_counted_fails_loudly() -> None:
    counted = SeriesNumbers()
    counted.next("FV/2026/11/", date(2026, 11, 2))
    numbering = SeriesNumbers(counted.taken)
    assert numbering.number("FV/2026/11/", date(2026, 11, 2)) == "FV/2026/11/000001"
    with pytest.raises(RuntimeError, match="differs from its counting pass"):
        numbering.next("FV/2026/11/", date(2026, 11, 2))
    with pytest.raises(RuntimeError):
        numbering.next("FV/2026/11/", date(2026, 11, 3))
