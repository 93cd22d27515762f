"""Asking the gateway about payments whose notification never came (resolvers/gateway/polling.py).

The hub and the PayU-protocol sandbox run over real HTTP as in test_payments.py (its module
fixture `env`, a database of this module's own); the sandbox's `drop` switch loses the
notifications, and the rounds are run with a `now` past the age at which orders are asked.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlmodel import col
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from hub.app import create_app
from hub.cli import build_parser, cmd_gateway_poll
from models.base import stored_id, to_money, utcnow
from models.gateway import PAYU, GatewayOrder
from models.invoice import GatewayStatus, GatewayTransaction
from resolvers.gateway import GatewayError, OrderNotFound, provider_of
from resolvers.gateway.payu import OAUTH_PATH, ORDERS_PATH, PayU, PayuConfig, signature_header
from resolvers.gateway.polling import (
    ASK_AFTER,
    UNKNOWN_AFTER,
    PollReport,
    poll_continuously,
    poll_stuck_orders,
)
from resolvers.ids import from_global_id
from tests.conftest import settings_for
from tests.hub.live import live_server
from tests.schema.test_payments import (
    COOLDOWN,
    SECOND_KEY,
    TEXTS,
    Env,
    button,
    click,
    env,
    new_invoice,
    notification,
    notify,
    order_id_of,
    orders_of,
    started,
)

__all__ = ["env"]  # that module's fixture, ours too


def later(after: datetime | None = None) -> datetime:
    """A moment when the orders started so far are old enough to be asked about."""
    return (after or utcnow()) + ASK_AFTER + timedelta(seconds=5)


async def poll(env: Env, now: datetime, **options: Any) -> PollReport:
    return await poll_stuck_orders(db=env.hub.db, settings=env.settings, now=now, **options)


@contextlib.contextmanager
def switched(env: Env, **switches: bool) -> Iterator[None]:
    for name, value in switches.items():
        setattr(env.sandbox.switches, name, value)
    try:
        yield
    finally:
        for name in switches:
            setattr(env.sandbox.switches, name, False)


async def stuck(env: Env, action: str | None = "approve") -> tuple[str, dict[str, Any]]:
    """An invoice whose payment the payer approved (or declined) while notifications were lost."""
    invoice = await new_invoice(env)
    payment = await started(env, [invoice])
    if action is not None:
        with switched(env, drop=True):
            await click(env, payment, action)
    return invoice, payment


async def status_of(env: Env, invoice: str) -> GatewayStatus:
    (order,) = await orders_of(env, invoice)
    return order.status


@pytest.fixture(autouse=True)
async def settled(env: Env) -> AsyncIterator[None]:
    """Each test starts with no payment under way and the gateway's breaker closed: a round
    counts every stuck order of the database, and the database is the module's."""
    async with env.hub.db.write() as session:
        for table in (GatewayOrder, GatewayTransaction):
            await session.execute(
                update(table)
                .where(col(table.status) == GatewayStatus.IN_PROGRESS)
                .values(status=GatewayStatus.FAILED)
            )
    provider = provider_of(env.settings)
    assert provider is not None
    if not provider.available():  # opened by the test before: closed after its cool-down
        await asyncio.sleep(COOLDOWN)
    yield


# ---- what a round changes -----------------------------------------------------------------


async def test_a_lost_approval_is_accepted_by_asking_the_gateway(env: Env) -> None:
    invoice, _payment = await stuck(env, "approve")
    assert (await button(env, invoice))["status"] == "IN_PROGRESS"
    report = await poll(env, later())
    assert report == PollReport(asked=1, changed=1)
    assert await button(env, invoice) == {
        "status": "ACCEPTED",
        "canPay": False,
        "message": TEXTS["ACCEPTED"],
    }


async def test_a_lost_decline_fails_and_the_pay_button_unlocks(env: Env) -> None:
    invoice, payment = await stuck(env, "decline")
    assert (await button(env, invoice))["canPay"] is False
    assert await poll(env, later()) == PollReport(asked=1, changed=1)
    assert await button(env, invoice) == {
        "status": "FAILED",
        "canPay": True,
        "message": TEXTS["FAILED"],
    }
    again = await started(env, [invoice])
    assert again["id"] != payment["id"] and again["status"] == "IN_PROGRESS"


async def test_an_order_younger_than_the_threshold_is_not_asked(env: Env) -> None:
    invoice, _payment = await stuck(env, "approve")
    young = utcnow() + ASK_AFTER - timedelta(seconds=30)
    assert await poll(env, young) == PollReport()
    assert (await button(env, invoice))["status"] == "IN_PROGRESS"
    assert await poll(env, later()) == PollReport(asked=1, changed=1)  # its age was the reason


async def test_an_order_still_pending_at_the_gateway_waits_before_it_is_asked_again(
    env: Env,
) -> None:
    invoice, _payment = await stuck(env, action=None)  # the payer never decided
    first = later()
    assert await poll(env, first) == PollReport(asked=1)
    assert await poll(env, first + timedelta(seconds=30)) == PollReport()
    assert await poll(env, later(first)) == PollReport(asked=1)
    assert (await button(env, invoice))["status"] == "IN_PROGRESS"


async def test_a_failure_of_one_order_does_not_stop_the_others(env: Env) -> None:
    tampered, payment = await stuck(env, "approve")
    honest, _other = await stuck(env, "approve")
    # The gateway reports another amount for the first order: refused as a mismatch.
    env.sandbox.orders[order_id_of(payment)].document["totalAmount"] = "100"
    report = await poll(env, later())
    assert report == PollReport(asked=2, changed=1, errors=1)
    assert await status_of(env, tampered) is GatewayStatus.IN_PROGRESS
    assert await status_of(env, honest) is GatewayStatus.ACCEPTED


async def test_at_most_the_limit_is_asked_oldest_first(env: Env) -> None:
    oldest, _first = await stuck(env, "approve")
    newest, _second = await stuck(env, "approve")
    assert await poll(env, later(), limit=1) == PollReport(asked=1, changed=1)
    assert await status_of(env, oldest) is GatewayStatus.ACCEPTED
    assert await status_of(env, newest) is GatewayStatus.IN_PROGRESS


# ---- orders the gateway never created -----------------------------------------------------


async def unknown_order(env: Env, created_at: datetime) -> str:
    """An invoice whose start was written but never reached the gateway (a stopped process)."""
    invoice = await new_invoice(env)
    async with env.hub.db.write() as session:
        order = GatewayOrder(
            client_id=env.client_pk,
            provider=PAYU,
            ext_order_id=uuid.uuid4().hex,
            amount=to_money("1234.56"),
            status=GatewayStatus.IN_PROGRESS,
            idempotency_key=uuid.uuid4().hex,
            created_at=created_at,
            updated_at=created_at,
        )
        session.add(order)
        await session.flush()
        session.add(
            GatewayTransaction(
                client_id=env.client_pk,
                invoice_id=from_global_id(invoice)[1],
                amount=order.amount,
                status=GatewayStatus.IN_PROGRESS,
                order_id=stored_id(order),
            )
        )
    return invoice


async def test_an_old_order_unknown_to_the_gateway_fails_and_a_young_one_waits(
    env: Env,
) -> None:
    now = utcnow()
    old = await unknown_order(env, now - UNKNOWN_AFTER - timedelta(minutes=1))
    young = await unknown_order(env, now - UNKNOWN_AFTER + timedelta(minutes=5))
    assert await poll(env, now) == PollReport(failed_unknown=1)
    assert await button(env, old) == {
        "status": "FAILED",
        "canPay": True,
        "message": TEXTS["FAILED"],
    }
    assert (await button(env, young))["status"] == "IN_PROGRESS"
    (order,) = await orders_of(env, old)
    assert order.provider_order_id is None  # the gateway never named it
    assert order.assumed_failed  # the hub's own reckoning, not the gateway's word
    # A late CANCELED changes nothing; were it created after all and paid, the gateway's
    # verified COMPLETED is money the payer did pay: the order is accepted.
    body = notification(order, "CANCELED", orderId="LATE0RDER")
    answer = await notify(env, body, signature_header(body, SECOND_KEY))
    assert answer.json() == {"status": "UNCHANGED"}
    body = notification(order, "COMPLETED", orderId="LATE0RDER")
    answer = await notify(env, body, signature_header(body, SECOND_KEY))
    assert answer.json() == {"status": "APPLIED"}
    assert await status_of(env, old) is GatewayStatus.ACCEPTED
    assert (await button(env, old))["status"] == "ACCEPTED"
    (order,) = await orders_of(env, old)
    assert order.provider_order_id == "LATE0RDER" and not order.assumed_failed
    again = await notify(env, body, signature_header(body, SECOND_KEY))
    assert again.json() == {"status": "UNCHANGED"}  # once


async def test_an_order_the_gateway_forgot_fails_when_old_and_the_gateway_stays_available(
    env: Env,
) -> None:
    forgotten, payment = await stuck(env, None)
    young, other = await stuck(env, None)
    del env.sandbox.orders[order_id_of(payment)]  # the sandbox restarted: 404 when asked
    del env.sandbox.orders[order_id_of(other)]
    async with env.hub.db.write() as session:  # the first was started long ago
        long_ago = utcnow() - UNKNOWN_AFTER - timedelta(minutes=1)
        (order,) = await orders_of(env, forgotten)
        await session.execute(
            update(GatewayOrder)
            .where(col(GatewayOrder.id) == order.id)
            .values(created_at=long_ago, updated_at=long_ago)
        )
    assert await poll(env, later()) == PollReport(asked=2, failed_unknown=1, errors=1)
    assert await button(env, forgotten) == {
        "status": "FAILED",
        "canPay": True,
        "message": TEXTS["FAILED"],
    }
    assert (await button(env, young))["status"] == "IN_PROGRESS"
    provider = provider_of(env.settings)
    assert provider is not None and provider.available()  # "no such order" is an answer


async def test_a_404_page_that_is_not_payus_answer_is_a_failure_not_a_forgotten_order() -> None:
    """A proxy's error page or a wrong base URL must not fail orders the payer may have paid."""

    async def token(_request: Request) -> Response:
        return JSONResponse({"access_token": "t", "token_type": "bearer", "expires_in": 3600})

    async def not_payu(_request: Request) -> Response:
        return HTMLResponse("<h1>404 Not Found</h1><p>nginx</p>", status_code=404)

    app = Starlette(
        routes=[
            Route(OAUTH_PATH, token, methods=["POST"]),
            Route(f"{ORDERS_PATH}/{{order_id}}", not_payu, methods=["GET"]),
        ]
    )
    async with live_server(app) as url:
        config = PayuConfig(url, "1", "1", "secret", "second", timeout=2.0, cooldown=60.0)
        provider = PayU(config)
        with pytest.raises(GatewayError) as raised:
            await provider.retrieve_order("ORDER1")
    assert not isinstance(raised.value, OrderNotFound)
    assert not provider.available()  # a failing gateway: the breaker opened


# ---- the gateway down, and rounds at once -------------------------------------------------


async def test_a_gateway_down_is_counted_and_changes_nothing(env: Env) -> None:
    first, _one = await stuck(env, "approve")
    second, _two = await stuck(env, "approve")
    now = later()
    with switched(env, down=True):
        began = time.monotonic()
        report = await poll(env, now)
        assert time.monotonic() - began < env.settings.payu_timeout_seconds + 1
        # The failed call opened the breaker: the other order waits for the next round.
        assert report == PollReport(asked=1, errors=1, left=1)
        assert await poll(env, now) == PollReport(left=1)  # the breaker skips the round
    assert await status_of(env, first) is GatewayStatus.IN_PROGRESS
    assert await status_of(env, second) is GatewayStatus.IN_PROGRESS
    await asyncio.sleep(COOLDOWN + 0.1)
    assert await poll(env, later(now)) == PollReport(asked=2, changed=2)


async def test_rounds_twice_and_in_parallel_change_each_order_once(env: Env) -> None:
    invoices = [(await stuck(env, "approve"))[0] for _ in range(3)]
    lost = await unknown_order(env, utcnow() - UNKNOWN_AFTER - timedelta(minutes=1))
    now = later()
    reports = await asyncio.gather(*(poll(env, now) for _ in range(4)))
    assert sum(r.asked for r in reports) == 3 and sum(r.changed for r in reports) == 3
    assert sum(r.failed_unknown for r in reports) == 1 and sum(r.errors for r in reports) == 0
    assert await poll(env, now) == PollReport()
    assert await poll(env, later(now)) == PollReport()  # ended orders are never asked again
    pks = [from_global_id(i)[1] for i in [*invoices, lost]]
    async with env.hub.db.read() as session:
        entries = await session.execute(
            select(col(GatewayTransaction.status), func.count())
            .where(col(GatewayTransaction.invoice_id).in_(pks))
            .group_by(col(GatewayTransaction.status))
        )
        assert dict(entries.all()) == {GatewayStatus.ACCEPTED: 3, GatewayStatus.FAILED: 1}


async def test_without_a_gateway_a_round_does_nothing(env: Env) -> None:
    invoice, _payment = await stuck(env, "approve")
    bare = settings_for(env.settings.database_url)
    assert bare.payu_base_url is None
    report = await poll_stuck_orders(db=env.hub.db, settings=bare, now=later())
    assert report == PollReport()
    assert await status_of(env, invoice) is GatewayStatus.IN_PROGRESS


# ---- continuously, and the command --------------------------------------------------------


async def age(env: Env, invoice: str) -> None:
    """Moves an order's last change back past the threshold, for rounds at the real now."""
    (order,) = await orders_of(env, invoice)
    async with env.hub.db.write() as session:
        await session.execute(
            update(GatewayOrder)
            .where(col(GatewayOrder.id) == order.id)
            .values(updated_at=utcnow() - ASK_AFTER - timedelta(seconds=5))
        )


async def test_polling_continuously_ends_a_stuck_order_and_stops_when_told(
    env: Env,
) -> None:
    invoice, _payment = await stuck(env, "approve")
    await age(env, invoice)
    stop = asyncio.Event()
    task = asyncio.create_task(
        poll_continuously(db=env.hub.db, settings=env.settings, interval=0.05, stop=stop)
    )
    try:
        for _ in range(100):  # 5 s at most
            if await status_of(env, invoice) is not GatewayStatus.IN_PROGRESS:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=1)
    assert (await button(env, invoice))["status"] == "ACCEPTED"


async def test_a_server_with_a_gateway_polls_from_its_start_and_stops_with_it(env: Env) -> None:
    invoice, _payment = await stuck(env, "approve")
    (order,) = await orders_of(env, invoice)
    async with env.hub.db.write() as session:  # stuck for longer than ASK_AFTER
        before = utcnow() - ASK_AFTER - timedelta(minutes=1)
        await session.execute(
            update(GatewayOrder).where(col(GatewayOrder.id) == order.id).values(updated_at=before)
        )
    app = create_app(env.settings, db=env.hub.db)
    async with app.router.lifespan_context(app):
        for _ in range(100):  # bounded: the first round starts at once, at most 10 s
            if await status_of(env, invoice) is GatewayStatus.ACCEPTED:
                break
            await asyncio.sleep(0.1)
    assert await status_of(env, invoice) is GatewayStatus.ACCEPTED


def test_gateway_poll_is_a_leasehub_command() -> None:
    args = build_parser().parse_args(["gateway-poll", "--limit", "5"])
    assert args.limit == 5 and args.handler is cmd_gateway_poll
    with pytest.raises(SystemExit):
        build_parser().parse_args(["gateway-poll", "--limit", "0"])


async def test_the_command_runs_one_round_and_prints_its_report(
    env: Env,
    capsys: pytest.CaptureFixture[str],
) -> None:
    invoice, _payment = await stuck(env, "approve")
    await age(env, invoice)
    args = argparse.Namespace(limit=None)
    assert await asyncio.to_thread(cmd_gateway_poll, env.settings, args) == 0
    assert await status_of(env, invoice) is GatewayStatus.ACCEPTED
    printed = capsys.readouterr().err
    assert "gateway-poll: 1 orders asked, 1 changed, 0 never created" in printed
    bare = settings_for(env.settings.database_url)
    assert await asyncio.to_thread(cmd_gateway_poll, bare, args) == 1
    assert "no gateway configured" in capsys.readouterr().err
