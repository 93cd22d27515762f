"""`Subscription.paymentStatusChanged` over graphql-transport-ws on a real server.

The hub runs under uvicorn on 127.0.0.1 (tests/schema/test_payments.py's `env`: the PayU
sandbox, a notify URL); a `websockets` client speaks the protocol as a portal's would. Changes
come from the payer's clicks (the sandbox notifies the hub over HTTP), from a booking, and on
PostgreSQL from another process.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from auth.clock import warsaw_today
from auth.errors import ServiceUnavailableError
from bench.payments import COLLECTIVE, Credit, statement_text
from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD
from models.gateway import GatewayOrder
from models.invoice import GatewayStatus, GatewayTransaction, Invoice, Payment
from resolvers import booking, payment_live
from resolvers.ids import from_global_id, to_global_id
from tests.auth.helpers import TOKEN_CREATE, staff_token
from tests.conftest import LOGIN
from tests.schema.test_payments import Env, click, env, new_invoice, orders_of, started

__all__ = ["env"]  # the module's fixture, shared

PROTOCOL = "graphql-transport-ws"
LIVE = """
subscription($id: ID!) {
  paymentStatusChanged(paymentId: $id) {
    payment { id status }
    invoices { number amountDue { amount } payment { status canPay } }
  }
}
"""
IMPORT = """mutation($content: String!) { statementImport(input: {content: $content}) {
  summary { booked } errors { code } } }"""
STATUS = (
    """query($id: ID!) { node(id: $id) { ... on Invoice { status payment { status message } } } }"""
)
PAYER = "PL61109010140000071219812874"
WAIT = 10.0  # seconds any one message may take: a bound, not a measurement


def ws_url(env: Env) -> str:
    return env.notify_url.replace("http://", "ws://").replace("/gateway/payu/notify", "/graphql")


@asynccontextmanager
async def signed_in(
    env: Env, token: str | None = None, **options: Any
) -> AsyncIterator[ClientConnection]:
    async with connect(ws_url(env), subprotocols=[PROTOCOL], **options) as ws:  # type: ignore[list-item]
        payload = {"authorization": f"Bearer {token or env.anna}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert (await receive(ws))["type"] == "connection_ack"
        yield ws


async def receive(ws: ClientConnection) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        if message["type"] != "ping":
            return dict(message)
        await ws.send(json.dumps({"type": "pong"}))


async def subscribe(ws: ClientConnection, payment_id: str, op: str = "1") -> None:
    payload = {"query": LIVE, "variables": {"id": payment_id}}
    await ws.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))


async def pushed(ws: ClientConnection) -> dict[str, Any]:
    message = await receive(ws)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    return dict(message["payload"]["data"]["paymentStatusChanged"])


def shown(update: dict[str, Any]) -> tuple[str, list[str], list[bool]]:
    invoices = update["invoices"]
    return (
        update["payment"]["status"],
        [invoice["amountDue"]["amount"] for invoice in invoices],
        [invoice["payment"]["canPay"] for invoice in invoices],
    )


async def book(env: Env, invoice: str, amount: str) -> None:
    """A credit booked to the company, allocated to the invoice its title names (as a statement
    import does)."""
    owner, invoice_pk = env.client_pk, from_global_id(invoice)[1]
    today = warsaw_today(datetime.now(UTC))
    async with env.hub.db.write() as session:
        row = await session.get(Invoice, invoice_pk)
        assert row is not None
        credit = Payment(client_id=owner, booked_on=today, amount=Decimal(amount), title=row.number)
        session.add(credit)
        await session.flush()
        assert credit.id is not None
        named = {credit.id: invoice_pk}
        await booking.allocate(session, today=today, named=named, client_ids=[owner])


async def test_a_payment_is_pushed_as_it_is_then_accepted_then_paid(env: Env) -> None:
    invoice = await new_invoice(env, "800.00")
    payment = await started(env, [invoice])
    async with signed_in(env) as ws:
        await subscribe(ws, payment["id"])
        assert shown(await pushed(ws)) == ("IN_PROGRESS", ["800.00"], [False])
        await click(env, payment, "approve")  # the sandbox notifies the hub
        assert shown(await pushed(ws)) == ("ACCEPTED", ["800.00"], [False])
        await book(env, invoice, "300.00")  # a partial payment arrives first
        assert shown(await pushed(ws)) == ("ACCEPTED", ["500.00"], [False])
        await book(env, invoice, "500.00")
        assert shown(await pushed(ws)) == ("ACCEPTED", ["0.00"], [False])
        assert await receive(ws) == {"id": "1", "type": "complete"}  # nothing more can change


async def numbered_as_the_hub_numbers(env: Env, invoice: str) -> str:
    """FV/yyyy/mm/nnnnnn, the number a transfer's title names and the import looks for."""
    invoice_pk = from_global_id(invoice)[1]
    number = f"FV/2099/12/{invoice_pk:06d}"
    async with env.hub.db.write() as session:
        row = await session.get(Invoice, invoice_pk)
        assert row is not None
        row.number = number
    return number


async def test_a_payment_clicked_through_ends_paid_when_its_bank_statement_is_imported(
    env: Env,
) -> None:
    invoice = await new_invoice(env, "1845.27")
    number = await numbered_as_the_hub_numbers(env, invoice)
    payment = await started(env, [invoice])
    async with signed_in(env) as ws:
        await subscribe(ws, payment["id"])
        assert shown(await pushed(ws)) == ("IN_PROGRESS", ["1845.27"], [False])
        await click(env, payment, "approve")
        assert shown(await pushed(ws)) == ("ACCEPTED", ["1845.27"], [False])
        # Two days later the gateway's transfer is on the lessor's bank statement.
        today = warsaw_today(datetime.now(UTC))
        credit = Credit(
            "full", COLLECTIVE, today, Decimal("1845.27"), f"PAYU {number}", PAYER, "PAYU"
        )
        content = statement_text(
            account=COLLECTIVE, number="00001/001", day=today, credits=[credit]
        )
        staff = await staff_token(env.hub)
        imported = await env.hub.gql(IMPORT, {"content": content}, token=staff)
        assert imported["data"]["statementImport"]["errors"] == [], imported
        assert shown(await pushed(ws)) == ("ACCEPTED", ["0.00"], [False])
        assert await receive(ws) == {"id": "1", "type": "complete"}
    paid = await env.hub.gql(STATUS, {"id": invoice}, token=env.anna)
    assert paid["data"]["node"] == {
        "status": "PAID",
        "payment": {"status": "ACCEPTED", "message": "Faktura jest opłacona."},
    }


async def test_a_declined_payment_unlocks_the_button_and_ends_the_subscription(env: Env) -> None:
    invoice = await new_invoice(env, "120.00")
    payment = await started(env, [invoice])
    async with signed_in(env) as ws:
        await subscribe(ws, payment["id"])
        assert shown(await pushed(ws)) == ("IN_PROGRESS", ["120.00"], [False])
        await click(env, payment, "decline")
        assert shown(await pushed(ws)) == ("FAILED", ["120.00"], [True])
        assert await receive(ws) == {"id": "1", "type": "complete"}


async def test_a_change_nobody_sees_pushes_nothing(env: Env) -> None:
    first, second = await new_invoice(env, "50.00"), await new_invoice(env, "70.00")
    payment = await started(env, [first])
    async with signed_in(env) as ws:
        await subscribe(ws, payment["id"])
        assert shown(await pushed(ws)) == ("IN_PROGRESS", ["50.00"], [False])
        await book(env, second, "70.00")  # another invoice of the same company
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), 1.0)


async def test_a_missing_payment_is_not_found_and_a_token_without_invoices_read_refused(
    env: Env,
) -> None:
    invoice = await new_invoice(env, "10.00")
    payment = await started(env, [invoice])
    missing = to_global_id("OnlinePayment", 10**9)
    async with signed_in(env) as ws:
        await subscribe(ws, missing)
        assert refusal(await receive(ws)) == [
            ("NOT_FOUND", ["paymentStatusChanged"], "Nie znaleziono.")
        ]
    variables = {"c": env.client, "s": ["CONTRACTS_READ"], "ro": True}
    created = await env.hub.gql(TOKEN_CREATE, variables, token=env.anna)
    contracts_only = created["data"]["apiTokenCreate"]["token"]
    async with signed_in(env, contracts_only) as ws:
        await subscribe(ws, payment["id"])
        [(code, path, _text)] = refusal(await receive(ws))
    assert (code, path) == ("FORBIDDEN", ["paymentStatusChanged"])


async def test_another_companys_payment_is_answered_as_missing(env: Env) -> None:
    theirs = await new_invoice(env, "25.00", client_pk=env.other_pk)
    async with env.hub.db.write() as session:  # a payment of a company anna is not in
        order = GatewayOrder(
            client_id=env.other_pk,
            provider="payu",
            ext_order_id=uuid.uuid4().hex,
            idempotency_key=uuid.uuid4().hex,
            amount=Decimal("25.00"),
            status=GatewayStatus.IN_PROGRESS,
        )
        session.add(order)
        await session.flush()
        session.add(
            GatewayTransaction(
                order_id=order.id,
                client_id=env.other_pk,
                invoice_id=from_global_id(theirs)[1],
                amount=Decimal("25.00"),
                status=GatewayStatus.IN_PROGRESS,
            )
        )
    async with signed_in(env) as ws:
        await subscribe(ws, to_global_id("OnlinePayment", order.id))  # type: ignore[arg-type]
        [(code, path, _text)] = refusal(await receive(ws))
    assert (code, path) == ("NOT_FOUND", ["paymentStatusChanged"])


def refusal(message: dict[str, Any]) -> list[tuple[str, list[Any], str]]:
    """A subscription refused before it started: the protocol's `error` message, the errors
    with their paths and in Polish."""
    assert message["type"] == "error", message
    return [(e["extensions"]["code"], e["path"], e["message"]) for e in message["payload"]]


def stream_error(message: dict[str, Any]) -> list[tuple[str, str]]:
    """A subscription that fails while it runs: a `next` without data."""
    assert message["type"] == "next" and message["payload"]["data"] is None, message
    return [(e["extensions"]["code"], e["message"]) for e in message["payload"]["errors"]]


async def test_an_anonymous_or_foreign_origin_connection_is_refused(env: Env) -> None:
    async with connect(ws_url(env), subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        with pytest.raises(ConnectionClosed) as closed:
            await receive(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    with pytest.raises(Exception, match="403"):
        async with connect(ws_url(env), subprotocols=[PROTOCOL], origin="https://evil.test"):  # type: ignore[list-item, arg-type]
            pass


async def test_queries_and_mutations_are_refused_over_the_websocket(env: Env) -> None:
    """A socket outlives its sign-in: what it runs must verify the token each time, which only
    subscriptions do; a signed-out socket must not mint tokens."""
    async with signed_in(env) as ws:
        for op, query in (("q", "{ viewer { clients { client { id } } } }"), ("m", TOKEN_CREATE)):
            variables = {"c": env.client, "s": None, "ro": False}
            payload = {"query": query, "variables": variables}
            await ws.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))
            message = await receive(ws)
            assert message["type"] == "error" and message["id"] == op, message
            assert [e["extensions"]["code"] for e in message["payload"]] == ["SUBSCRIPTIONS_ONLY"]


async def test_a_connection_holds_at_most_the_configured_subscriptions(env: Env) -> None:
    invoice = await new_invoice(env, "15.00")
    payment = await started(env, [invoice])
    limit = env.settings.max_subscriptions
    async with signed_in(env) as ws:
        for op in range(limit):
            await subscribe(ws, payment["id"], str(op))
            assert (await pushed(ws))["payment"]["status"] == "IN_PROGRESS"
        await subscribe(ws, payment["id"], "one too many")
        message = await receive(ws)
    assert message["type"] == "error" and message["id"] == "one too many"


async def test_signing_out_ends_the_subscription_at_its_next_push(env: Env) -> None:
    login = await env.hub.gql(LOGIN, {"login": DEMO_MAIN_EMAIL, "password": DEMO_PASSWORD})
    token = login["data"]["login"]["token"]  # a session of its own, ended below
    invoice = await new_invoice(env, "40.00")
    payment = await started(env, [invoice])
    async with signed_in(env, token) as ws:
        await subscribe(ws, payment["id"])
        assert shown(await pushed(ws))[0] == "IN_PROGRESS"
        signed_out = await env.hub.gql("mutation { logout { errors { code } } }", token=token)
        assert signed_out["data"]["logout"]["errors"] == []
        await click(env, payment, "approve")
        [(code, text)] = stream_error(await receive(ws))
        assert code == "UNAUTHENTICATED" and text == "Zaloguj się, aby to zobaczyć."
        assert await receive(ws) == {"id": "1", "type": "complete"}


async def test_a_database_away_for_a_moment_delays_a_push_but_does_not_end_it(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoice = await new_invoice(env, "44.00")
    payment = await started(env, [invoice])
    reads = payment_live._order
    faults = [ServiceUnavailableError(), ServiceUnavailableError()]

    async def restarting(*args: Any) -> Any:
        if faults:
            raise faults.pop()
        return await reads(*args)

    async with signed_in(env) as ws:
        await subscribe(ws, payment["id"])
        assert shown(await pushed(ws))[0] == "IN_PROGRESS"
        monkeypatch.setattr(payment_live, "_order", restarting)
        await click(env, payment, "approve")
        assert shown(await pushed(ws)) == ("ACCEPTED", ["44.00"], [False])
    assert faults == []  # both reads failed and were tried again


async def test_a_fault_while_streaming_is_masked_coded_and_in_polish(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoice = await new_invoice(env, "33.00")
    payment = await started(env, [invoice])
    async with signed_in(env) as ws:
        await subscribe(ws, payment["id"])
        assert shown(await pushed(ws))[0] == "IN_PROGRESS"

        async def broken(*_args: object) -> None:
            raise RuntimeError("connection to server lost: SELECT … FROM gateway_orders")

        monkeypatch.setattr(payment_live, "_fresh", broken)
        await click(env, payment, "approve")
        [(code, text)] = stream_error(await receive(ws))
        assert (code, text) == ("INTERNAL_SERVER_ERROR", "Wystąpił nieoczekiwany błąd.")
        assert await receive(ws) == {"id": "1", "type": "complete"}


OTHER_PROCESS = textwrap.dedent(
    """
    import asyncio, sys
    from decimal import Decimal
    from hub.db import Database
    from models.base import utcnow
    from models.invoice import GatewayStatus
    from resolvers.gateway import OrderState
    from resolvers.payments import apply_notification

    async def main(url, ext, provider, amount):
        db = Database.from_url(url)
        state = OrderState(ext, provider, GatewayStatus.ACCEPTED, Decimal(amount), "PLN")
        print(await apply_notification(db, state, now=utcnow()))
        await db.dispose()

    asyncio.run(main(*sys.argv[1:]))
    """
)


async def test_a_status_changed_by_another_process_is_pushed(env: Env, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("across processes on PostgreSQL (LISTEN/NOTIFY); SQLite signals in-process")
    invoice = await new_invoice(env, "65.00")
    payment = await started(env, [invoice])
    [order] = await orders_of(env, invoice)
    async with signed_in(env) as ws:
        await subscribe(ws, payment["id"])
        assert shown(await pushed(ws))[0] == "IN_PROGRESS"
        command = [sys.executable, "-c", OTHER_PROCESS, env.settings.database_url]
        command += [order.ext_order_id, order.provider_order_id or uuid.uuid4().hex, "65.00"]
        done = await asyncio.to_thread(
            subprocess.run, command, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr[-2000:]
        assert shown(await pushed(ws)) == ("ACCEPTED", ["65.00"], [False])
