"""Asking the gateway about online payments whose notification never came (issue 13, point 2).

A gateway may lose a notification (the sandbox's `drop` switch does it on purpose); the order
would stay IN_PROGRESS and its invoices' PAY button locked for ever. A round here:

- fails the orders the gateway never created (no `provider_order_id`) once they are
  `UNKNOWN_AFTER` old: such an order never gave the payer a redirect, and a start in flight
  ends, one way or the other, within the provider's timeout, far sooner; and, as old, those
  the gateway no longer knows (it answers 404: a sandbox restarted), which nobody can pay;
- asks the gateway about the orders IN_PROGRESS for `ASK_AFTER` since their last change,
  oldest first, at most `limit` of them, one call at a time (each bounded by the provider's
  timeout), and stops asking once the circuit breaker opens;
- applies every answer through `apply_notification`, as a verified notification: forward
  only, once, whatever notification or other round comes at the same time.

An order is claimed before it is asked by moving its `updated_at` to `now` under the same
condition that selected it: of parallel rounds (several server processes, the CLI) one asks,
and an order the gateway still calls pending goes to the back of the queue for `ASK_AFTER`,
so a few orders never answered never starve the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlmodel import col

from models.base import utcnow
from models.gateway import GatewayOrder
from models.invoice import GatewayStatus
from resolvers.gateway import (
    GatewayError,
    GatewayProvider,
    OrderNotFound,
    OrderState,
    provider_of,
)
from resolvers.payments import OrderMismatch, UnknownOrder, apply_notification

if TYPE_CHECKING:
    from hub.db import Database
    from hub.settings import Settings

logger = logging.getLogger("leasehub.gateway")
ASK_AFTER = timedelta(minutes=2)  # a notification normally comes within seconds
UNKNOWN_AFTER = timedelta(minutes=15)  # ≫ the provider's timeout of a start in flight
ROUND_LIMIT = 20  # orders asked per round: a slow gateway holds a round ≤ 20 timeouts
POLL_INTERVAL_SECONDS = 30.0  # between rounds of `poll_continuously`
# The provider bounds each call itself; this bounds the round even for one that does not.
CALL_GRACE_SECONDS = 1.0

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class PollReport:
    asked: int = 0  # orders the gateway was asked about
    changed: int = 0  # of them, ended (ACCEPTED or FAILED) by its answer
    failed_unknown: int = 0  # never created at the gateway and old: FAILED
    errors: int = 0  # calls that failed, answers that did not match the order
    left: int = 0  # not asked: the gateway was unavailable (circuit breaker open)


async def poll_stuck_orders(
    *,
    db: Database,
    settings: Settings,
    now: datetime,
    limit: int = ROUND_LIMIT,
    progress: Progress | None = None,
) -> PollReport:
    """One round: old orders unknown to the gateway fail, stuck ones are asked about."""
    report = PollReport()
    provider = provider_of(settings)
    if provider is None:
        return report  # no gateway configured: no payment can have started through one
    await _fail_unknown(db, now=now, limit=limit, report=report)
    stuck = await _stuck(db, now=now, limit=limit)
    for done, order in enumerate(stuck):
        if not provider.available():
            report.left = len(stuck) - done
            logger.warning("gateway poll: gateway unavailable, %s orders left", report.left)
            break
        await _ask(db, provider, order, now=now, bound=_bound(settings), report=report)
        if progress is not None:
            progress(done + 1, len(stuck))
    return report


async def poll_continuously(
    *, db: Database, settings: Settings, interval: float, stop: asyncio.Event
) -> None:
    """Round after round until `stop` is set; a stop ends the loop between rounds."""
    while not stop.is_set():
        try:
            report = await poll_stuck_orders(db=db, settings=settings, now=utcnow())
        except Exception:  # the database away for a while must not end the polling for good
            logger.exception("gateway poll: round failed")
        else:
            if report.asked or report.failed_unknown or report.errors:
                logger.info("gateway poll: %s", report)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


def _bound(settings: Settings) -> float:
    return settings.payu_timeout_seconds + CALL_GRACE_SECONDS


async def _stuck(db: Database, *, now: datetime, limit: int) -> Sequence[GatewayOrder]:
    async with db.read() as session:
        query = (
            select(GatewayOrder)
            .where(
                col(GatewayOrder.status) == GatewayStatus.IN_PROGRESS,
                col(GatewayOrder.provider_order_id).is_not(None),
                col(GatewayOrder.updated_at) < now - ASK_AFTER,
            )
            .order_by(col(GatewayOrder.updated_at), col(GatewayOrder.id))
            .limit(limit)
        )
        return (await session.execute(query)).scalars().all()


async def _claim(db: Database, order: GatewayOrder, *, now: datetime) -> bool:
    """The order is this round's to ask; False when another round took it or it ended."""
    async with db.write() as session:
        claimed = await session.execute(
            update(GatewayOrder)
            .where(
                col(GatewayOrder.id) == order.id,
                col(GatewayOrder.status) == GatewayStatus.IN_PROGRESS,
                col(GatewayOrder.updated_at) < now - ASK_AFTER,
            )
            .values(updated_at=now)
            .execution_options(synchronize_session=False)
        )
    return int(claimed.rowcount or 0) == 1  # type: ignore[attr-defined]


async def _ask(
    db: Database,
    provider: GatewayProvider,
    order: GatewayOrder,
    *,
    now: datetime,
    bound: float,
    report: PollReport,
) -> None:
    """Asks about one order and applies the answer; its failure is counted, never raised."""
    if order.provider_order_id is None or not await _claim(db, order, now=now):
        return
    report.asked += 1
    try:
        async with asyncio.timeout(bound):
            state = await provider.retrieve_order(order.provider_order_id)
        if await apply_notification(db, state, now=now):
            report.changed += 1
    except OrderNotFound:
        # Forgotten by the gateway (a sandbox restarted): nobody can pay it any more.
        if order.created_at < now - UNKNOWN_AFTER and await apply_notification(
            db, _failed(order), now=now, assumed=True
        ):
            report.failed_unknown += 1
        else:
            report.errors += 1
    except (GatewayError, TimeoutError) as error:
        report.errors += 1
        logger.warning("gateway poll: order %s not answered: %s", order.ext_order_id, error)
    except (OrderMismatch, UnknownOrder) as error:
        report.errors += 1
        logger.warning("gateway poll: order %s: %s", order.ext_order_id, type(error).__name__)
    except Exception:  # one order's fault must not stop the others
        report.errors += 1
        logger.exception("gateway poll: order %s failed", order.ext_order_id)


async def _fail_unknown(db: Database, *, now: datetime, limit: int, report: PollReport) -> None:
    """Orders whose start never reached the gateway (the process stopped in between)."""
    async with db.read() as session:
        query = (
            select(GatewayOrder)
            .where(
                col(GatewayOrder.status) == GatewayStatus.IN_PROGRESS,
                col(GatewayOrder.provider_order_id).is_(None),
                col(GatewayOrder.created_at) < now - UNKNOWN_AFTER,
            )
            .order_by(col(GatewayOrder.created_at), col(GatewayOrder.id))
            .limit(limit)
        )
        unknown = (await session.execute(query)).scalars().all()
    for order in unknown:
        try:
            if await apply_notification(db, _failed(order), now=now, assumed=True):
                report.failed_unknown += 1
        except Exception:  # e.g. the order vanished meanwhile: the others still go on
            report.errors += 1
            logger.exception("gateway poll: unknown order %s not failed", order.ext_order_id)


def _failed(order: GatewayOrder) -> OrderState:
    """FAILED, with the gateway id the order has (None for one that never reached it): a
    made-up one would turn a later real notification into an `OrderMismatch` (refused, so
    resent by the gateway for ever) instead of a late status that is ignored."""
    return OrderState(
        ext_order_id=order.ext_order_id,
        provider_order_id=order.provider_order_id,
        status=GatewayStatus.FAILED,
        amount=None,
        currency=None,
    )
