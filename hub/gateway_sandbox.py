"""A sandbox payment gateway speaking the PayU REST API v2.1 protocol, on 127.0.0.1.

`leasehub gateway-sandbox [--port N]` serves it for development (point
LEASEHUB_PAYU_BASE_URL at it); the tests drive it over real HTTP. It does what the hub uses:

- POST /pl/standard/user/oauth/authorize: client credentials → a bearer token;
- POST /api/v2_1/orders: an order (status NEW), answered 302 with `redirectUri` to its own
  payer page, `orderId` and `extOrderId`;
- GET /api/v2_1/orders/{orderId}: the order as PayU reports it;
- GET /pay/{orderId}: the payer page, with Approve and Decline (POST) buttons, which send the
  notifications (PENDING, then COMPLETED or CANCELED) to the order's notifyUrl, signed with
  the second key in `OpenPayU-Signature`, and send the payer to the continueUrl;
- POST /sandbox/switches (form or JSON): `down` (every API call answers 503), `delay`
  (seconds before notifications go), `duplicate` (each sent twice), `reorder` (the final
  status before PENDING), `drop` (none sent). GET shows them.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from resolvers.gateway.payu import from_grosze, signature_header

logger = logging.getLogger("leasehub.sandbox")
TOKEN_LIFETIME = 43199  # seconds, as PayU answers
NOTIFY_TIMEOUT = 5.0
FINAL = {"approve": "COMPLETED", "decline": "CANCELED"}


@dataclass
class Switches:
    down: bool = False
    delay: float = 0.0
    duplicate: bool = False
    reorder: bool = False
    drop: bool = False


@dataclass
class SandboxOrder:
    order_id: str
    document: dict[str, Any]  # as created, with the status PayU reports

    @property
    def status(self) -> str:
        return str(self.document["status"])


@dataclass
class Sandbox:
    pos_id: str
    client_id: str
    client_secret: str
    second_key: str
    switches: Switches = field(default_factory=Switches)
    orders: dict[str, SandboxOrder] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    notifications: list[tuple[str, int]] = field(default_factory=list)  # (status, HTTP answer)
    _pending: set[asyncio.Task[None]] = field(default_factory=set)

    # ---- the API ---------------------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        if self.switches.down:
            return _down()
        form = await _form(request)
        if (
            form.get("grant_type") != "client_credentials"
            or form.get("client_id") != self.client_id
            or not secrets.compare_digest(str(form.get("client_secret", "")), self.client_secret)
        ):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        token = secrets.token_hex(16)
        self.tokens.add(token)
        return JSONResponse(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": TOKEN_LIFETIME,
                "grant_type": "client_credentials",
            }
        )

    def _refused(self, request: Request) -> Response | None:
        if self.switches.down:
            return _down()
        scheme, _sep, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token not in self.tokens:
            return _status(401, "UNAUTHORIZED")
        return None

    async def create(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _status(400, "ERROR_SYNTAX")
        if missing := _invalid_order(body, self.pos_id):
            return _status(400, "ERROR_VALUE_MISSING", missing)
        order_id = secrets.token_hex(10).upper()
        keep = ("extOrderId", "notifyUrl", "continueUrl", "customerIp", "merchantPosId")
        document = {name: body[name] for name in keep if name in body}
        document |= {
            "orderId": order_id,
            "orderCreateDate": datetime.now(UTC).isoformat(),
            "description": body["description"],
            "currencyCode": body["currencyCode"],
            "totalAmount": body["totalAmount"],
            "products": body.get("products", []),
            "status": "NEW",
        }
        self.orders[order_id] = SandboxOrder(order_id, document)
        redirect = f"{str(request.base_url).rstrip('/')}/pay/{order_id}"
        answer = {
            "status": {"statusCode": "SUCCESS"},
            "redirectUri": redirect,
            "orderId": order_id,
            "extOrderId": body.get("extOrderId"),
        }
        return JSONResponse(answer, status_code=302, headers={"Location": redirect})

    async def retrieve(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        order = self.orders.get(request.path_params["order_id"])
        if order is None:
            return _status(404, "DATA_NOT_FOUND")
        return JSONResponse({"orders": [order.document], "status": {"statusCode": "SUCCESS"}})

    # ---- the payer -------------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        order = self.orders.get(request.path_params["order_id"])
        if order is None:
            return HTMLResponse("<h1>Nie ma takiej płatności</h1>", status_code=404)
        amount = from_grosze(order.document["totalAmount"]) or Decimal(0)
        actions = ""
        if order.status in ("NEW", "PENDING"):
            actions = "".join(
                f'<form method="post" action="/pay/{order.order_id}/{action}">'
                f'<button type="submit">{label}</button></form>'
                for action, label in (("approve", "Zatwierdź"), ("decline", "Odrzuć"))
            )
        return HTMLResponse(
            "<!doctype html><html lang=pl><meta charset=utf-8><title>Sandbox PayU</title>"
            f"<h1>Płatność {html.escape(order.order_id)}</h1>"
            f"<p>{html.escape(str(order.document['description']))}</p>"
            f"<p>Kwota: {amount:,.2f} {html.escape(order.document['currencyCode'])}</p>"
            f"<p>Status: {html.escape(order.status)}</p>{actions}</html>"
        )

    async def decide(self, request: Request) -> Response:
        order = self.orders.get(request.path_params["order_id"])
        action = request.path_params["action"]
        if order is None or action not in FINAL:
            return HTMLResponse("<h1>Nie ma takiej płatności</h1>", status_code=404)
        if order.status in ("NEW", "PENDING"):
            order.document["status"] = FINAL[action]
            await self._notify(order, ["PENDING", FINAL[action]])
        back = str(order.document.get("continueUrl") or f"/pay/{order.order_id}")
        if action == "decline":
            back += ("&" if "?" in back else "?") + "error=501"  # as PayU tells a failure
        return RedirectResponse(back, status_code=303)

    async def _notify(self, order: SandboxOrder, statuses: list[str]) -> None:
        switches = self.switches
        if switches.drop or not order.document.get("notifyUrl"):
            return
        if switches.reorder:
            statuses = list(reversed(statuses))
        sends = [status for status in statuses for _ in range(2 if switches.duplicate else 1)]
        if switches.delay > 0:
            task = asyncio.create_task(self._send_later(order, sends, switches.delay))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
            return
        for status in sends:
            await self.send(order, status)

    async def _send_later(self, order: SandboxOrder, statuses: list[str], delay: float) -> None:
        await asyncio.sleep(delay)
        for status in statuses:
            await self.send(order, status)

    async def send(self, order: SandboxOrder, status: str) -> int:
        """One signed notification of `order` with `status`; answers the HTTP status."""
        body = orjson.dumps(
            {
                "order": order.document | {"status": status},
                "localReceiptDateTime": datetime.now(UTC).isoformat(),
                "properties": [{"name": "PAYMENT_ID", "value": order.order_id[-10:]}],
            }
        )
        headers = {
            "Content-Type": "application/json",
            "OpenPayU-Signature": signature_header(body, self.second_key, "MD5"),
        }
        answer = 0
        with contextlib.suppress(httpx.HTTPError):
            async with httpx.AsyncClient(timeout=NOTIFY_TIMEOUT) as client:
                response = await client.post(
                    str(order.document["notifyUrl"]), content=body, headers=headers
                )
                answer = response.status_code
        self.notifications.append((status, answer))
        return answer

    # ---- switches --------------------------------------------------------------------------

    async def switch(self, request: Request) -> Response:
        if request.method == "POST":
            given: dict[str, Any]
            if request.headers.get("content-type", "").startswith("application/json"):
                given = orjson.loads(await request.body())
            else:
                given = dict(await _form(request))
            for name in ("down", "duplicate", "reorder", "drop"):
                if name in given:
                    setattr(self.switches, name, str(given[name]).lower() in ("1", "true", "on"))
            if "delay" in given:
                self.switches.delay = max(0.0, float(given["delay"]))
        return JSONResponse(self.switches.__dict__)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/pl/standard/user/oauth/authorize", self.authorize, methods=["POST"]),
                Route("/api/v2_1/orders", self.create, methods=["POST"]),
                Route("/api/v2_1/orders/{order_id}", self.retrieve, methods=["GET"]),
                Route("/pay/{order_id}", self.page, methods=["GET"]),
                Route("/pay/{order_id}/{action}", self.decide, methods=["POST"]),
                Route("/sandbox/switches", self.switch, methods=["GET", "POST"]),
            ]
        )


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form (without python-multipart, which the hub does not need)."""
    fields = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[-1] for name, values in fields.items()}


def _status(http: int, code: str, description: str | None = None) -> Response:
    status: dict[str, str] = {"statusCode": code}
    if description:
        status["statusDesc"] = description
    return JSONResponse({"status": status}, status_code=http)


def _down() -> Response:
    return _status(503, "SERVICE_UNAVAILABLE")


def _invalid_order(body: Any, pos_id: str) -> str | None:
    """What PayU would refuse in an order create, or None."""
    if not isinstance(body, dict):
        return "body"
    for name in ("merchantPosId", "description", "currencyCode", "totalAmount", "customerIp"):
        if not isinstance(body.get(name), str) or not body[name]:
            return name
    if body["merchantPosId"] != pos_id:
        return "merchantPosId"
    if not body["totalAmount"].isdigit() or int(body["totalAmount"]) <= 0:
        return "totalAmount"
    products = body.get("products")
    if not isinstance(products, list) or not products:
        return "products"
    total = sum(int(p.get("unitPrice", 0)) * int(p.get("quantity", 1)) for p in products)
    return None if total == int(body["totalAmount"]) else "products"
