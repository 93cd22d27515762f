"""The pay button through the PayU protocol: `Invoice.payment`, `paymentStart`, the
notification endpoint, and the sandbox gateway, all over real HTTP.

The hub and the sandbox each run on a free 127.0.0.1 port: the hub calls the sandbox's
OAuth and order API, a "browser" (httpx) opens the payer page and clicks Approve or
Decline, and the sandbox POSTs its signed notifications to the hub's notify URL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlmodel import col

from auth.clock import warsaw_today
from hub.cli import build_parser, cmd_gateway_sandbox
from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD, DEMO_SUB_EMAIL, DemoSpec, load_demo
from hub.gateway_sandbox import Sandbox
from hub.settings import PLACEHOLDER_SECRET, Settings
from models.client import Client
from models.gateway import GatewayOrder
from models.invoice import (
    GatewayStatus,
    GatewayTransaction,
    Invoice,
    InvoiceKind,
    Payment,
    PaymentAllocation,
)
from resolvers.gateway import provider_of
from resolvers.gateway.payu import signature_header
from resolvers.ids import from_global_id, to_global_id
from tests.auth.helpers import TOKEN_CREATE
from tests.conftest import LOGIN, DatabaseFactory, Hub, count_statements, open_hub
from tests.hub.live import live_server

PORTAL = "https://portal.leasehub.test"
RETURN = f"{PORTAL}/faktury/platnosc"
POS_ID = "145227"
CLIENT_SECRET = "sandbox-client-secret-0123456789abcdef"
SECOND_KEY = "sandbox-second-key-0123456789abcdef"
COOLDOWN = 1.5  # long enough for a loaded CI machine to ask the button within it

START = """
mutation($input: PaymentStartInput!) {
  paymentStart(input: $input) {
    payment { id status redirectUrl amount { amount currency } }
    errors { field code message }
  }
}
"""
BUTTON = """
query($id: ID!) { node(id: $id) { ... on Invoice { payment { status canPay message } } } }
"""
LIST = """
query($id: ID!, $first: Int!) {
  client(id: $id) {
    invoices(first: $first) { nodes { number payment { status canPay message } } }
  }
}
"""
TEXTS = {
    "IN_PROGRESS": "Płatność została rozpoczęta. Na czas realizacji przycisk ZAPŁAĆ został "
    "zablokowany.",
    "ACCEPTED": "Płatność została przyjęta, trwa rozliczenie.",
    "FAILED": "Płatność nie powiodła się. Spróbuj ponownie.",
    "NOT_STARTED": "Oczekiwanie na rozpoczęcie płatności.",
    "UNAVAILABLE": "Funkcja płatności jest chwilowo niedostępna.",
}


class Late:
    """An ASGI app set after the server started: the hub needs the server's URL first."""

    app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@dataclass
class Env:
    hub: Hub
    sandbox: Sandbox
    gateway_url: str
    notify_url: str
    client: str
    client_pk: int
    other_pk: int
    anna: str
    jan: str
    settings: Settings
    numbers: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
async def env(databases: DatabaseFactory) -> AsyncIterator[Env]:
    sandbox = Sandbox(
        pos_id=POS_ID, client_id=POS_ID, client_secret=CLIENT_SECRET, second_key=SECOND_KEY
    )
    late = Late()
    async with live_server(sandbox.app()) as gateway_url, live_server(late) as hub_url:
        notify_url = f"{hub_url}/gateway/payu/notify"
        hub, db = await open_hub(
            await databases.create(),
            LEASEHUB_PAYU_BASE_URL=gateway_url,
            LEASEHUB_PAYU_POS_ID=POS_ID,
            LEASEHUB_PAYU_CLIENT_ID=POS_ID,
            LEASEHUB_PAYU_CLIENT_SECRET=CLIENT_SECRET,
            LEASEHUB_PAYU_SECOND_KEY=SECOND_KEY,
            LEASEHUB_PAYU_NOTIFY_URL=notify_url,
            LEASEHUB_PAYU_TIMEOUT_SECONDS=2.0,
            LEASEHUB_PAYU_COOLDOWN_SECONDS=COOLDOWN,
            LEASEHUB_CORS_ORIGINS=PORTAL,
        )
        late.app = hub.app
        await load_demo(db.engine, DemoSpec(clients=3, seed=13))
        tokens = []
        for email in (DEMO_MAIN_EMAIL, DEMO_SUB_EMAIL):
            body = await hub.gql(LOGIN, {"login": email, "password": DEMO_PASSWORD})
            tokens.append(body["data"]["login"]["token"])
        viewer = await hub.gql("{ viewer { clients { client { id } } } }", token=tokens[0])
        client = viewer["data"]["viewer"]["clients"][0]["client"]["id"]
        mine = {from_global_id(c["client"]["id"])[1] for c in viewer["data"]["viewer"]["clients"]}
        async with db.read() as session:
            ids = (await session.execute(select(col(Client.id)))).scalars()
            other = next(pk for pk in ids if pk not in mine)
        assert hub.settings is not None
        yield Env(
            hub=hub,
            sandbox=sandbox,
            gateway_url=gateway_url,
            notify_url=notify_url,
            client=client,
            client_pk=from_global_id(client)[1],
            other_pk=other,
            anna=tokens[0],
            jan=tokens[1],
            settings=hub.settings,
        )
        await hub.close()
        await db.dispose()


async def new_invoice(
    env: Env, gross: str = "1234.56", *, paid: str | None = None, client_pk: int | None = None
) -> str:
    """A fresh invoice due in two weeks, with `paid` of it already booked and allocated."""
    today = warsaw_today(datetime.now(UTC))
    owner = client_pk or env.client_pk
    async with env.hub.db.write() as session:
        amount = Decimal(gross)
        invoice = Invoice(
            client_id=owner,
            number=f"FV/P/{uuid.uuid4().hex[:16]}",
            kind=InvoiceKind.INSTALMENT,
            issue_date=today,
            sale_date=today,
            due_date=today + timedelta(days=14),
            net=(amount / Decimal("1.23")).quantize(Decimal("0.01")),
            vat=amount - (amount / Decimal("1.23")).quantize(Decimal("0.01")),
            gross=amount,
        )
        session.add(invoice)
        await session.flush()
        if paid is not None:
            await _book(session, owner, invoice, Decimal(paid))
    env.numbers.append(invoice.number)
    return to_global_id("Invoice", invoice.id)  # type: ignore[arg-type]


async def _book(session: Any, owner: int, invoice: Invoice, amount: Decimal) -> None:
    today = warsaw_today(datetime.now(UTC))
    payment = Payment(client_id=owner, booked_on=today, amount=amount, title=invoice.number)
    session.add(payment)
    await session.flush()
    session.add(
        PaymentAllocation(
            client_id=owner,
            payment_id=payment.id,  # type: ignore[arg-type]
            invoice_id=invoice.id,  # type: ignore[arg-type]
            amount=amount,
            allocated_on=today,
        )
    )


async def start(
    env: Env,
    invoices: list[str],
    *,
    key: str | None = None,
    token: str | None = None,
    return_url: str = RETURN,
    client: str | None = None,
) -> dict[str, Any]:
    value = {
        "clientId": client or env.client,
        "invoiceIds": invoices,
        "returnUrl": return_url,
        "idempotencyKey": key or uuid.uuid4().hex,
    }
    return await env.hub.gql(START, {"input": value}, token=token or env.anna)


async def started(env: Env, invoices: list[str]) -> dict[str, Any]:
    body = await start(env, invoices)
    payload = body["data"]["paymentStart"]
    assert payload["errors"] == [], payload
    return dict(payload["payment"])


async def button(env: Env, invoice: str, language: str | None = None) -> dict[str, Any]:
    headers = {"Accept-Language": language} if language else None
    body = await env.hub.gql(BUTTON, {"id": invoice}, token=env.anna, headers=headers)
    return dict(body["data"]["node"]["payment"])


async def click(env: Env, payment: dict[str, Any], action: str) -> httpx.Response:
    """The payer: opens the gateway's page, then presses Approve or Decline."""
    url = payment["redirectUrl"]
    assert url.startswith(env.gateway_url + "/pay/")
    async with httpx.AsyncClient() as browser:
        page = await browser.get(url)
        assert page.status_code == 200 and "Zatwierdź" in page.text and "Odrzuć" in page.text
        return await browser.post(f"{url}/{action}")


def order_id_of(payment: dict[str, Any]) -> str:
    return str(payment["redirectUrl"]).rsplit("/", 1)[1]


def codes(body: dict[str, Any]) -> list[str]:
    payload = (body.get("data") or {}).get("paymentStart")
    if payload is None:
        return [e["extensions"]["code"] for e in body["errors"]]
    return [e["code"] for e in payload["errors"]]


async def orders_of(env: Env, invoice: str) -> list[GatewayOrder]:
    invoice_pk = from_global_id(invoice)[1]
    async with env.hub.db.read() as session:
        orders = select(col(GatewayTransaction.order_id)).where(
            col(GatewayTransaction.invoice_id) == invoice_pk
        )
        query = select(GatewayOrder).where(col(GatewayOrder.id).in_(orders.scalar_subquery()))
        return list((await session.execute(query)).scalars())


async def notify(env: Env, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["OpenPayU-Signature"] = signature
    async with httpx.AsyncClient() as gateway:
        return await gateway.post(env.notify_url, content=body, headers=headers)


def notification(order: GatewayOrder, status: str, **changes: Any) -> bytes:
    document = {
        "orderId": order.provider_order_id,
        "extOrderId": order.ext_order_id,
        "totalAmount": str(int(order.amount * 100)),
        "currencyCode": order.currency.value,
        "status": status,
    } | changes
    return orjson.dumps({"order": document})


# ---- the button ---------------------------------------------------------------------------


async def test_an_unpaid_invoice_waits_for_its_payment_in_polish_and_in_english(
    env: Env,
) -> None:
    invoice = await new_invoice(env)
    assert await button(env, invoice) == {
        "status": "NOT_STARTED",
        "canPay": True,
        "message": TEXTS["NOT_STARTED"],
    }
    english = await button(env, invoice, "en")
    assert english["message"] == "Waiting for the payment to start."


async def test_a_paid_invoice_cannot_be_paid_and_starting_it_is_refused(env: Env) -> None:
    invoice = await new_invoice(env, "500.00", paid="500.00")
    shown = await button(env, invoice)
    assert shown["canPay"] is False and shown["status"] == "NOT_STARTED"
    assert shown["message"] == "Faktura jest opłacona."
    body = await start(env, [invoice])
    assert codes(body) == ["NOTHING_DUE"] and body["data"]["paymentStart"]["payment"] is None
    assert await orders_of(env, invoice) == []


async def test_the_button_costs_the_same_statements_for_5_and_for_40_invoices(env: Env) -> None:
    for _ in range(40):
        await new_invoice(env, "10.00")
    counts = []
    for first in (5, 40):
        with count_statements(env.hub.db) as statements:
            body = await env.hub.gql(LIST, {"id": env.client, "first": first}, token=env.anna)
        nodes = body["data"]["client"]["invoices"]["nodes"]
        assert len(nodes) == first and all(n["payment"]["message"] for n in nodes)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


# ---- through the sandbox ------------------------------------------------------------------


async def test_an_approved_payment_is_accepted_and_waits_for_its_settlement(env: Env) -> None:
    invoice = await new_invoice(env)
    payment = await started(env, [invoice])
    assert payment["status"] == "IN_PROGRESS"
    assert payment["amount"] == {"amount": "1234.56", "currency": "PLN"}
    assert await button(env, invoice) == {
        "status": "IN_PROGRESS",
        "canPay": False,
        "message": TEXTS["IN_PROGRESS"],
    }
    answer = await click(env, payment, "approve")
    assert answer.status_code == 303 and answer.headers["location"] == RETURN
    assert await button(env, invoice) == {
        "status": "ACCEPTED",
        "canPay": False,
        "message": TEXTS["ACCEPTED"],
    }
    # Until a statement books the money, a second start is refused by the button, and the
    # booking ends the pending settlement.
    invoice_pk = from_global_id(invoice)[1]
    async with env.hub.db.write() as session:
        row = await session.get(Invoice, invoice_pk)
        assert row is not None
        await _book(session, env.client_pk, row, Decimal("1234.56"))
    shown = await button(env, invoice)
    assert shown == {"status": "ACCEPTED", "canPay": False, "message": "Faktura jest opłacona."}


async def test_the_gateway_reports_the_order_when_asked(env: Env) -> None:
    invoice = await new_invoice(env)
    payment = await started(env, [invoice])
    provider = provider_of(env.settings)
    assert provider is not None
    before = await provider.retrieve_order(order_id_of(payment))
    assert before.status is GatewayStatus.IN_PROGRESS and before.amount == Decimal("1234.56")
    await click(env, payment, "approve")
    after = await provider.retrieve_order(order_id_of(payment))
    assert after.status is GatewayStatus.ACCEPTED


async def test_a_declined_payment_failed_and_the_button_is_active_again(env: Env) -> None:
    invoice = await new_invoice(env)
    payment = await started(env, [invoice])
    answer = await click(env, payment, "decline")
    assert answer.headers["location"] == f"{RETURN}?error=501"
    assert await button(env, invoice) == {
        "status": "FAILED",
        "canPay": True,
        "message": TEXTS["FAILED"],
    }
    again = await started(env, [invoice])
    assert again["id"] != payment["id"] and again["status"] == "IN_PROGRESS"
    assert (await button(env, invoice))["status"] == "IN_PROGRESS"


async def test_coming_back_to_the_portal_changes_nothing_without_a_notification(
    env: Env,
) -> None:
    invoice = await new_invoice(env)
    payment = await started(env, [invoice])
    env.sandbox.switches.drop = True
    try:
        answer = await click(env, payment, "approve")
    finally:
        env.sandbox.switches.drop = False
    assert answer.headers["location"] == RETURN
    assert (await button(env, invoice))["status"] == "IN_PROGRESS"


async def test_the_amount_is_what_is_due_never_what_the_invoice_said(env: Env) -> None:
    partly = await new_invoice(env, "1234.56", paid="234.56")
    other = await new_invoice(env, "99.99")
    payment = await started(env, [partly, other])
    assert payment["amount"]["amount"] == "1099.99"
    order = env.sandbox.orders[order_id_of(payment)].document
    assert order["totalAmount"] == "109999" and order["currencyCode"] == "PLN"
    assert sorted(p["unitPrice"] for p in order["products"]) == ["100000", "9999"]
    assert order["merchantPosId"] == POS_ID and order["continueUrl"] == RETURN
    assert order["notifyUrl"] == env.notify_url


async def test_twenty_parallel_starts_create_one_gateway_order(env: Env) -> None:
    invoice = await new_invoice(env)
    known = set(env.sandbox.orders)
    bodies = await asyncio.gather(*(start(env, [invoice]) for _ in range(20)))
    payments = [b["data"]["paymentStart"]["payment"] for b in bodies]
    assert all(b["data"]["paymentStart"]["errors"] == [] for b in bodies), bodies
    assert len({p["id"] for p in payments}) == 1
    assert len(await orders_of(env, invoice)) == 1
    assert len(set(env.sandbox.orders) - known) == 1


async def test_twenty_parallel_starts_with_one_key_answer_one_payment(env: Env) -> None:
    invoice = await new_invoice(env)
    key = uuid.uuid4().hex
    bodies = await asyncio.gather(*(start(env, [invoice], key=key) for _ in range(20)))
    assert len({b["data"]["paymentStart"]["payment"]["id"] for b in bodies}) == 1
    assert len(await orders_of(env, invoice)) == 1
    again = await start(env, [invoice], key=key)
    assert (
        again["data"]["paymentStart"]["payment"]["id"]
        == bodies[0]["data"]["paymentStart"]["payment"]["id"]
    )
    other = await new_invoice(env)
    assert codes(await start(env, [other], key=key)) == ["IDEMPOTENCY_KEY_REUSED"]


async def test_a_second_start_while_one_is_in_progress_answers_the_same_payment(
    env: Env,
) -> None:
    first, second = await new_invoice(env), await new_invoice(env)
    payment = await started(env, [first])
    both = await started(env, [second, first])
    assert both["id"] == payment["id"]
    assert await orders_of(env, second) == []


# ---- refusals -----------------------------------------------------------------------------


async def test_a_return_url_off_the_portal_is_refused(env: Env) -> None:
    invoice = await new_invoice(env)
    for url in ("https://evil.example/pay", "javascript:alert(1)", f"ftp://{PORTAL[8:]}/x"):
        assert codes(await start(env, [invoice], return_url=url)) == ["INVALID_RETURN_URL"]
    assert await orders_of(env, invoice) == []


async def test_another_companys_invoice_is_answered_as_missing(env: Env) -> None:
    mine = await new_invoice(env)
    theirs = await new_invoice(env, client_pk=env.other_pk)
    body = await start(env, [mine, theirs])
    assert codes(body) == ["NOT_FOUND"] and body["data"] is None
    missing = to_global_id("Invoice", 2_000_000_000)
    assert codes(await start(env, [missing])) == ["NOT_FOUND"]
    assert await orders_of(env, mine) == [] and await orders_of(env, theirs) == []


async def test_a_subaccount_without_payments_pay_and_a_read_only_token_are_refused(
    env: Env,
) -> None:
    invoice = await new_invoice(env)
    created = await env.hub.gql(
        TOKEN_CREATE, {"c": env.client, "s": None, "ro": True}, token=env.anna
    )
    read_only = created["data"]["apiTokenCreate"]["token"]
    assert codes(await start(env, [invoice], token=read_only)) == ["FORBIDDEN"]
    assert codes(await start(env, [invoice], token=env.jan)) in (["FORBIDDEN"], ["NOT_FOUND"])
    assert await orders_of(env, invoice) == []


# ---- notifications ------------------------------------------------------------------------


async def test_unsigned_and_tampered_notifications_are_refused_and_change_nothing(
    env: Env,
) -> None:
    invoice = await new_invoice(env)
    await started(env, [invoice])
    (order,) = await orders_of(env, invoice)
    body = notification(order, "COMPLETED")
    assert (await notify(env, body, None)).status_code == 401
    forged = signature_header(body, "not-the-second-key")
    assert (await notify(env, body, forged)).status_code == 401
    signed = signature_header(body, SECOND_KEY)
    tampered = body.replace(b'"COMPLETED"', b'"CANCELED"')
    assert (await notify(env, tampered, signed)).status_code == 401
    cheaper = notification(order, "COMPLETED", totalAmount="100")
    answer = await notify(env, cheaper, signature_header(cheaper, SECOND_KEY))
    assert answer.status_code == 400
    assert (await button(env, invoice))["status"] == "IN_PROGRESS"
    sha = signature_header(body, SECOND_KEY, "SHA-256")
    assert (await notify(env, body, sha)).json() == {"status": "APPLIED"}
    assert (await button(env, invoice))["status"] == "ACCEPTED"


async def test_an_unknown_order_is_not_found(env: Env) -> None:
    body = orjson.dumps({"order": {"orderId": "X", "extOrderId": "nope", "status": "COMPLETED"}})
    assert (await notify(env, body, signature_header(body, SECOND_KEY))).status_code == 404


async def test_replayed_late_and_reordered_notifications_apply_once_and_only_forward(
    env: Env,
) -> None:
    invoice = await new_invoice(env)
    payment = await started(env, [invoice])
    env.sandbox.switches.reorder = env.sandbox.switches.duplicate = True
    try:
        await click(env, payment, "approve")  # COMPLETED, COMPLETED, PENDING, PENDING
    finally:
        env.sandbox.switches.reorder = env.sandbox.switches.duplicate = False
    assert [s for s, _ in env.sandbox.notifications[-4:]] == [
        "COMPLETED",
        "COMPLETED",
        "PENDING",
        "PENDING",
    ]
    assert all(answer == 200 for _, answer in env.sandbox.notifications[-4:])
    sandbox_order = env.sandbox.orders[order_id_of(payment)]
    # A late CANCELED (signed, of the same order) never undoes the acceptance.
    assert await env.sandbox.send(sandbox_order, "CANCELED") == 200
    assert (await button(env, invoice))["status"] == "ACCEPTED"
    invoice_pk = from_global_id(invoice)[1]
    async with env.hub.db.read() as session:
        entries = await session.execute(
            select(col(GatewayTransaction.status), func.count())
            .where(col(GatewayTransaction.invoice_id) == invoice_pk)
            .group_by(col(GatewayTransaction.status))
        )
        assert dict(entries.all()) == {GatewayStatus.ACCEPTED: 1}
    (order,) = await orders_of(env, invoice)
    assert order.status is GatewayStatus.ACCEPTED


async def test_a_failed_payment_is_not_accepted_by_a_late_completion(env: Env) -> None:
    invoice = await new_invoice(env)
    payment = await started(env, [invoice])
    await click(env, payment, "decline")
    sandbox_order = env.sandbox.orders[order_id_of(payment)]
    assert await env.sandbox.send(sandbox_order, "COMPLETED") == 200
    assert (await button(env, invoice))["status"] == "FAILED"


# ---- the gateway down ---------------------------------------------------------------------


async def test_a_gateway_down_makes_payments_unavailable_then_they_come_back(env: Env) -> None:
    invoice = await new_invoice(env)
    env.sandbox.switches.down = True
    try:
        began = asyncio.get_running_loop().time()
        body = await start(env, [invoice])
        assert asyncio.get_running_loop().time() - began < 2.5  # bounded by the timeout
        assert codes(body) == ["PAYMENT_UNAVAILABLE"]
        assert body["data"]["paymentStart"]["errors"][0]["message"] == TEXTS["UNAVAILABLE"]
        # Asked at once: within the cooldown the button says so (on a loaded machine a read
        # before it once outlasted a shorter cooldown).
        assert await button(env, invoice) == {
            "status": "UNAVAILABLE",
            "canPay": False,
            "message": TEXTS["UNAVAILABLE"],
        }
        assert await orders_of(env, invoice) == []
    finally:
        env.sandbox.switches.down = False
    await asyncio.sleep(COOLDOWN + 0.1)
    assert (await button(env, invoice))["canPay"] is True
    assert (await started(env, [invoice]))["status"] == "IN_PROGRESS"


async def test_without_a_gateway_payments_are_unavailable(env: Env) -> None:
    invoice = await new_invoice(env)
    bare, db = await open_hub(env.settings.database_url, LEASEHUB_CORS_ORIGINS=PORTAL)
    try:
        body = await bare.gql(BUTTON, {"id": invoice}, token=env.anna)
        assert body["data"]["node"]["payment"] == {
            "status": "UNAVAILABLE",
            "canPay": False,
            "message": TEXTS["UNAVAILABLE"],
        }
        value = {
            "clientId": env.client,
            "invoiceIds": [invoice],
            "returnUrl": RETURN,
            "idempotencyKey": uuid.uuid4().hex,
        }
        refused = await bare.gql(START, {"input": value}, token=env.anna)
        assert codes(refused) == ["PAYMENT_UNAVAILABLE"]
        unsigned = await bare.client.post("/gateway/payu/notify", content=b"{}")
        assert unsigned.status_code == 404
    finally:
        await bare.close()
        await db.dispose()
    assert await orders_of(env, invoice) == []
    assert (await button(env, invoice))["status"] == "NOT_STARTED"  # the hub with a gateway


def test_the_sandbox_is_a_leasehub_command() -> None:
    args = build_parser().parse_args(["gateway-sandbox", "--port", "18090"])
    assert args.port == 18090 and args.handler is cmd_gateway_sandbox


def test_placeholder_gateway_keys_are_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="LEASEHUB_PAYU_CLIENT_SECRET"):
        Settings(
            LEASEHUB_ENV="test",
            LEASEHUB_PAYU_BASE_URL="https://secure.payu.com",
            LEASEHUB_PAYU_SECOND_KEY=SECOND_KEY,
        )
    Settings(
        LEASEHUB_ENV="development",
        LEASEHUB_PAYU_BASE_URL="http://127.0.0.1:8090",
        LEASEHUB_PAYU_CLIENT_SECRET=PLACEHOLDER_SECRET,
    )
