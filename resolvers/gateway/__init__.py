"""Payment gateways behind one small interface, so another provider (Przelewy24, Autopay)
is one more module: create an order, ask for its status, verify a notification.

Statuses reach the hub only from a verified notification or from asking the gateway; a
payer's return to the portal (its query string) changes nothing. Every call is bounded in
time; a failed call opens the circuit breaker, and the pay button says "unavailable" until
its cool-down passed and the next start tries the gateway again.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from models.invoice import GatewayStatus

if TYPE_CHECKING:
    from hub.settings import Settings


@dataclass(frozen=True, slots=True)
class OrderLine:
    name: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What the hub asks the gateway to collect: amounts are computed here, never sent in."""

    ext_order_id: str
    amount: Decimal
    currency: str
    description: str
    notify_url: str
    continue_url: str
    customer_ip: str
    lines: tuple[OrderLine, ...]


@dataclass(frozen=True, slots=True)
class CreatedOrder:
    provider_order_id: str
    redirect_url: str


@dataclass(frozen=True, slots=True)
class OrderState:
    """An order as the gateway reports it (in a notification or when asked)."""

    ext_order_id: str
    provider_order_id: str | None  # None: an order that never reached the gateway
    status: GatewayStatus
    amount: Decimal | None
    currency: str | None


class GatewayError(Exception):
    """The gateway did not answer in time, failed, or refused: the payment cannot start."""


class OrderNotFound(GatewayError):
    """The gateway answered that it has no such order (it may have forgotten it: a sandbox
    restarted). An answer, not a failure: the circuit breaker stays closed."""


class NotificationRefusal(enum.StrEnum):
    UNSIGNED = "UNSIGNED"
    INVALID_SIGNATURE = "INVALID_SIGNATURE"
    MALFORMED = "MALFORMED"


class InvalidNotification(Exception):
    def __init__(self, reason: NotificationRefusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


class GatewayProvider(Protocol):
    name: str

    def available(self) -> bool:
        """False while the circuit breaker is open (the gateway failed lately)."""
        ...

    async def create_order(self, order: OrderRequest) -> CreatedOrder:
        """Raises `GatewayError`."""
        ...

    async def retrieve_order(self, provider_order_id: str) -> OrderState:
        """Raises `OrderNotFound` or (any other failure) `GatewayError`."""
        ...

    def verify_notification(self, body: bytes, headers: Mapping[str, str]) -> OrderState:
        """The order a signed notification reports; raises `InvalidNotification`."""
        ...


class CircuitBreaker:
    """Open for `cooldown` seconds after a failure; closed again by itself afterwards."""

    def __init__(self, cooldown: float) -> None:
        self.cooldown = cooldown
        self._open_until = 0.0

    def available(self) -> bool:
        return time.monotonic() >= self._open_until

    def failed(self) -> None:
        self._open_until = time.monotonic() + self.cooldown

    def succeeded(self) -> None:
        self._open_until = 0.0


def provider_of(settings: Settings) -> GatewayProvider | None:
    """The configured gateway, or None: then payments are unavailable."""
    if settings.payu_base_url is None:
        return None
    from resolvers.gateway.payu import PayuConfig, payu_provider

    return payu_provider(
        PayuConfig(
            base_url=settings.payu_base_url.rstrip("/"),
            pos_id=settings.payu_pos_id,
            client_id=settings.payu_client_id,
            client_secret=settings.payu_client_secret,
            second_key=settings.payu_second_key,
            timeout=settings.payu_timeout_seconds,
            cooldown=settings.payu_cooldown_seconds,
        )
    )
