"""The statutory late-interest table as the database holds it (see models/interest.py): read
whole by whoever computes interest, added to one announced half-year at a time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.interest import (
    RATE_PLACES,
    SOURCE_LIMIT,
    RateTable,
    StatutoryInterestRate,
    StatutoryRate,
    entry_problems,
)


async def stored_rates(session: AsyncSession) -> list[StatutoryRate]:
    """Every half-year of the table, oldest first (a few dozen rows: one statement)."""
    query = select(StatutoryInterestRate).order_by(col(StatutoryInterestRate.valid_from))
    return [
        StatutoryRate(row.valid_from, row.annual_rate, row.source)
        for row in (await session.execute(query)).scalars()
    ]


async def rate_table(session: AsyncSession) -> RateTable:
    return RateTable(await stored_rates(session))


class RateRefused(ValueError):
    """Why a half-year's rate was not added; raised inside the write, so nothing is written."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


async def add_rate(
    session: AsyncSession, *, valid_from: date, annual_rate: Decimal, source: str, today: date
) -> StatutoryRate:
    """Adds one half-year's rate, or raises `RateRefused`. Two runs adding the same half-year
    at once: the unique key on `valid_from` refuses the second."""
    problems = entry_problems(valid_from, annual_rate, today=today)
    source = source.strip()
    if not source:
        problems.append("give the source: the Monitor Polski position or the reference rate")
    elif len(source) > SOURCE_LIMIT:
        problems.append(f"the source has at most {SOURCE_LIMIT} characters")
    taken = select(col(StatutoryInterestRate.id)).where(
        col(StatutoryInterestRate.valid_from) == valid_from
    )
    if (await session.execute(taken)).first() is not None:
        problems.append(f"the table already has the half-year from {valid_from}")
    if problems:
        raise RateRefused(problems)
    row = StatutoryInterestRate(
        valid_from=valid_from, annual_rate=round(annual_rate, RATE_PLACES), source=source
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as error:
        raise RateRefused([f"the table already has the half-year from {valid_from}"]) from error
    return StatutoryRate(row.valid_from, row.annual_rate, row.source)
