"""The PayU REST API v2.1 protocol (https://developers.payu.com), over httpx.

- OAuth: POST /pl/standard/user/oauth/authorize, form `grant_type=client_credentials`,
  `client_id`, `client_secret`; the bearer token is kept until shortly before it expires.
- Order create: POST /api/v2_1/orders with merchantPosId, description, currencyCode,
  totalAmount (grosze, as a string), extOrderId, notifyUrl, continueUrl, customerIp and
  products; PayU answers 302 (or 200/201) with `status.statusCode` SUCCESS, `redirectUri`
  and `orderId`. Redirects are not followed: the payer follows `redirectUri`.
- Order retrieve: GET /api/v2_1/orders/{orderId} → `orders[0]`.
- Notifications: POSTed JSON `{"order": {...}}`, signed in the `OpenPayU-Signature` header
  (`sender=…;signature=…;algorithm=MD5|SHA-256;content=DOCUMENT`): signature = hex digest
  of the raw body followed by the second key (as the openpayu SDKs check it).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import httpx
import orjson

from models.base import CENT
from models.gateway import PAYU
from models.invoice import GatewayStatus
from resolvers.gateway import (
    CircuitBreaker,
    CreatedOrder,
    GatewayError,
    InvalidNotification,
    NotificationRefusal,
    OrderNotFound,
    OrderRequest,
    OrderState,
)

OAUTH_PATH = "/pl/standard/user/oauth/authorize"
ORDERS_PATH = "/api/v2_1/orders"
NOT_FOUND = "DATA_NOT_FOUND"  # the statusCode PayU answers an unknown order with
SIGNATURE_HEADER = "openpayu-signature"
TOKEN_MARGIN_SECONDS = 60  # a token is renewed this long before PayU says it expires
STATUSES = {
    "NEW": GatewayStatus.IN_PROGRESS,
    "PENDING": GatewayStatus.IN_PROGRESS,
    "WAITING_FOR_CONFIRMATION": GatewayStatus.IN_PROGRESS,
    "COMPLETED": GatewayStatus.ACCEPTED,
    "CANCELED": GatewayStatus.FAILED,
}
DIGESTS = {"MD5": "md5", "SHA-256": "sha256", "SHA256": "sha256"}


@dataclass(frozen=True, slots=True)
class PayuConfig:
    base_url: str
    pos_id: str
    client_id: str
    client_secret: str
    second_key: str
    timeout: float
    cooldown: float


def grosze(amount: Decimal) -> str:
    """PayU's amounts: the smallest unit of the currency, as a string ("123456" = 1,234.56)."""
    return str(int((amount.quantize(CENT) * 100).to_integral_exact()))


def from_grosze(text: object) -> Decimal | None:
    try:
        return (Decimal(str(text)) / 100).quantize(CENT)
    except (InvalidOperation, ValueError):
        return None


def signature_of(body: bytes, second_key: str, algorithm: str = "MD5") -> str:
    digest = hashlib.new(DIGESTS[algorithm.upper()])
    digest.update(body + second_key.encode())
    return digest.hexdigest()


def signature_header(body: bytes, second_key: str, algorithm: str = "MD5") -> str:
    signature = signature_of(body, second_key, algorithm)
    return f"sender=checkout;signature={signature};algorithm={algorithm};content=DOCUMENT"


def _parse_header(header: str) -> dict[str, str]:
    parts = (part.partition("=") for part in header.split(";"))
    return {name.strip().lower(): value.strip() for name, _sep, value in parts if name.strip()}


def state_of(order: Any) -> OrderState:
    """An order of PayU's JSON; raises `InvalidNotification` when it is not one."""
    if not isinstance(order, dict):
        raise InvalidNotification(NotificationRefusal.MALFORMED)
    status = STATUSES.get(str(order.get("status")))
    ext_order_id, order_id = order.get("extOrderId"), order.get("orderId")
    if status is None or not isinstance(ext_order_id, str) or not isinstance(order_id, str):
        raise InvalidNotification(NotificationRefusal.MALFORMED)
    amount = order.get("totalAmount")
    currency = order.get("currencyCode")
    return OrderState(
        ext_order_id=ext_order_id,
        provider_order_id=order_id,
        status=status,
        amount=None if amount is None else from_grosze(amount),
        currency=currency if isinstance(currency, str) else None,
    )


class PayU:
    """One per configuration and process (`payu_provider`): it keeps the OAuth token and the
    circuit breaker."""

    name = PAYU

    def __init__(self, config: PayuConfig) -> None:
        self.config = config
        self.breaker = CircuitBreaker(config.cooldown)
        self._token: tuple[str, float] | None = None  # (token, monotonic expiry)

    def available(self) -> bool:
        return self.breaker.available()

    async def create_order(self, order: OrderRequest) -> CreatedOrder:
        body = {
            "merchantPosId": self.config.pos_id,
            "description": order.description,
            "currencyCode": order.currency,
            "totalAmount": grosze(order.amount),
            "extOrderId": order.ext_order_id,
            "notifyUrl": order.notify_url,
            "continueUrl": order.continue_url,
            "customerIp": order.customer_ip,
            "products": [
                {"name": line.name, "unitPrice": grosze(line.amount), "quantity": "1"}
                for line in order.lines
            ],
        }
        answer = await self._call("POST", ORDERS_PATH, json=body)
        redirect, order_id = answer.get("redirectUri"), answer.get("orderId")
        if not isinstance(redirect, str) or not isinstance(order_id, str):
            raise self._failed("order create: no redirectUri or orderId")
        return CreatedOrder(provider_order_id=order_id, redirect_url=redirect)

    async def retrieve_order(self, provider_order_id: str) -> OrderState:
        answer = await self._call("GET", f"{ORDERS_PATH}/{provider_order_id}", missing_ok=True)
        orders = answer.get("orders")
        try:
            return state_of(orders[0] if isinstance(orders, list) and orders else None)
        except InvalidNotification as error:
            raise self._failed("order retrieve: no order in the answer") from error

    def verify_notification(self, body: bytes, headers: Mapping[str, str]) -> OrderState:
        header = headers.get(SIGNATURE_HEADER)
        if not header:
            raise InvalidNotification(NotificationRefusal.UNSIGNED)
        fields = _parse_header(header)
        algorithm = fields.get("algorithm", "MD5").upper()
        given = fields.get("signature", "")
        if algorithm not in DIGESTS or not given:
            raise InvalidNotification(NotificationRefusal.INVALID_SIGNATURE)
        expected = signature_of(body, self.config.second_key, algorithm)
        if not hmac.compare_digest(expected.encode(), given.lower().encode()):
            raise InvalidNotification(NotificationRefusal.INVALID_SIGNATURE)
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise InvalidNotification(NotificationRefusal.MALFORMED) from error
        return state_of(document.get("order") if isinstance(document, dict) else None)

    # ---- HTTP ------------------------------------------------------------------------------

    def _failed(self, reason: str) -> GatewayError:
        self.breaker.failed()
        return GatewayError(reason)

    async def _call(
        self, method: str, path: str, json: Any = None, *, missing_ok: bool = False
    ) -> dict[str, Any]:
        """One authorised call, bounded in time as a whole (token included). `missing_ok`: a
        404 is the answer "no such order" (`OrderNotFound`), not a failing gateway."""
        try:
            async with asyncio.timeout(self.config.timeout):
                async with httpx.AsyncClient(
                    base_url=self.config.base_url, timeout=self.config.timeout
                ) as client:
                    token = await self._bearer(client)
                    response = await client.request(
                        method, path, json=json, headers={"Authorization": f"Bearer {token}"}
                    )
        except (httpx.HTTPError, TimeoutError) as error:
            raise self._failed(f"{method} {path}: {type(error).__name__}") from error
        if response.status_code == 401:
            self._token = None  # revoked or expired early: the next call asks for a new one
        if missing_ok and response.status_code == 404 and _status_code(response) == NOT_FOUND:
            # PayU's own answer, not a proxy's 404 page or a wrong base URL: those fail.
            self.breaker.succeeded()
            raise OrderNotFound(f"{method} {path}: {NOT_FOUND}")
        if response.status_code not in (200, 201, 302):
            raise self._failed(f"{method} {path}: HTTP {response.status_code}")
        answer = _json(response)
        if (answer.get("status") or {}).get("statusCode") != "SUCCESS":
            raise self._failed(f"{method} {path}: not SUCCESS")
        self.breaker.succeeded()
        return answer

    async def _bearer(self, client: httpx.AsyncClient) -> str:
        if self._token is not None and self._token[1] > time.monotonic():
            return self._token[0]
        response = await client.post(
            OAUTH_PATH,
            data={
                "grant_type": "client_credentials",
                "client_id": self.config.client_id,
                "client_secret": self.config.client_secret,
            },
        )
        answer = _json(response) if response.status_code == 200 else {}
        token, lifetime = answer.get("access_token"), answer.get("expires_in")
        if not isinstance(token, str) or not isinstance(lifetime, int):
            raise self._failed(f"OAuth: HTTP {response.status_code}")
        self._token = (token, time.monotonic() + lifetime - TOKEN_MARGIN_SECONDS)
        return token


def _status_code(response: httpx.Response) -> object:
    return (_json(response).get("status") or {}).get("statusCode")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


@lru_cache(maxsize=16)
def payu_provider(config: PayuConfig) -> PayU:
    return PayU(config)
