"""The small contract the schedule tests write: 10,000.00 PLN under an operating lease, 12 % a
year (1 % a month), residual 1,000.00, `term` months (24 by default), 21 instalments past due,
the 22nd the first due after today (no instalment falls due today). The figures the tests expect
are worked by hand in tests/schema/test_schedule_simulation.py's docstring."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from auth.clock import warsaw_today
from hub.db import Database
from models.contract import Contract, ContractKind, ContractStatus, Currency, Instalment
from models.finance import repayment_schedule
from models.vat import VatCategory


def months_later(day: date, months: int, on: int) -> date:
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, on)


def today() -> date:
    return warsaw_today(datetime.now(UTC))


def first_future_due() -> date:
    """Instalment 22's due date: the first after today, on the 15th (the 25th on a 15th)."""
    day = 15 if today().day != 15 else 25
    return months_later(today(), 0 if today().day < day else 1, day)


async def add_contract(db: Database, client_pk: int, *, term: int = 24) -> int:
    """The contract of the module docstring, with its stored schedule; its id."""
    first_future = first_future_due()
    day = first_future.day
    first_due = months_later(first_future, -21, day)
    async with AsyncSession(db.engine, expire_on_commit=False) as session:
        contract = Contract(
            client_id=client_pk,
            number=f"UL/TEST/{uuid.uuid4().hex[:12]}",
            kind=ContractKind.OPERATING_LEASE,
            status=ContractStatus.ACTIVE,
            currency=Currency.PLN,
            start_date=months_later(first_due, -1, day),
            end_date=months_later(first_due, term - 1, day),
            net_value=Decimal("10000.00"),
            initial_fee=Decimal("0.00"),
            residual_value=Decimal("1000.00"),
            annual_rate=Decimal("0.1200"),
            term_months=term,
            payment_day=day,
        )
        session.add(contract)
        await session.flush()
        # The stored schedule, as the lessor's system wrote it (setup, not the expectation).
        for row in repayment_schedule(
            capital=Decimal("10000.00"),
            annual_rate=Decimal("0.12"),
            months=term,
            residual=Decimal("1000.00"),
            first_due=first_due,
            payment_day=day,
        ):
            session.add(
                Instalment(
                    client_id=client_pk,
                    contract_id=contract.id,
                    number=row.number,
                    due_date=row.due_date,
                    capital=row.capital,
                    interest=row.interest,
                    net=row.net,
                    vat_category=VatCategory.RATE_23,
                    vat=row.vat,
                    gross=row.gross,
                    remaining_capital=row.remaining_capital,
                )
            )
        await session.commit()
        return contract.id or 0
