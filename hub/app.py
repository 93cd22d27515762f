"""The Starlette application: POST /graphql (GraphiQL in development) and GET /health."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry import Schema
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message
from strawberry.types.unset import UNSET, UnsetType

from auth.cache import ViewerCache
from auth.captcha import CaptchaVerifier, ImageCaptchaVerifier
from auth.clock import warsaw_today
from auth.errors import ServiceUnavailableError, UnauthenticatedError
from auth.sessions import (
    LivenessChecks,
    authenticate,
    bearer_secret,
    still_valid,
    still_valid_together,
)
from auth.tokens import hash_secret
from auth.viewer import Viewer
from hub.asgi import HubApp
from hub.db import Database
from hub.downloads import HeavyWork, download_endpoint
from hub.http import (
    HardenedGraphQL,
    OriginCORSMiddleware,
    RequestLimits,
    cors,
    http_error,
    internal_error,
)
from hub.lane import SUB_RESPONSE, FastLane
from hub.logs import install_log_redaction
from hub.outbox import deliver_continuously
from hub.runtime import server_gc
from hub.settings import Settings, get_settings
from hub.uploads import upload_endpoint
from loaders.base import Loaders
from models.audit import AuditFrame, acting, current_frame, job
from models.base import utcnow
from models.i18n import negotiate, translate
from resolvers.access_log import ACCESS_REASON_HEADER, write_access_log
from resolvers.audit import request_frame, request_id_of
from resolvers.context import Context
from resolvers.gateway import provider_of
from resolvers.gateway.endpoint import payu_notify_endpoint
from resolvers.gateway.polling import POLL_INTERVAL_SECONDS, poll_continuously
from resolvers.sso import backchannel_logout_endpoint
from schema import build_schema

logger = logging.getLogger("leasehub")
OUTBOX_STOP_SECONDS = 10.0  # how long a stopping server waits for the outbox round in progress
OUTBOX_INTERVAL_SECONDS = 2.0
CONNECTION_INIT_SECONDS = 10  # a WebSocket that does not sign in by then is closed


class AccessLoggedWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws whose every pushed result puts its staff reads on the access log
    before it is sent, not when the socket closes."""

    view: LeaseHubGraphQL

    async def send_message(self, message: Message) -> None:
        if message["type"] == "next":
            await self.view.log_pushed_reads(self.context)
        await super().send_message(message)


class LeaseHubGraphQL(HardenedGraphQL):
    graphql_transport_ws_handler_class = AccessLoggedWSHandler

    def __init__(
        self, schema: Schema, *, db: Database, settings: Settings, captcha: CaptchaVerifier
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.is_development else None,
            allow_queries_via_get=False,
            limits=RequestLimits.from_settings(settings),
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=CONNECTION_INIT_SECONDS),
            max_subscriptions_per_connection=settings.max_subscriptions,
            # A page of another origin must not open a connection in the user's name (the
            # browser sends its Origin); clients without one are not browsers.
            allowed_origins=settings.allowed_origins,
        )
        self.db = db
        self.proxies = settings.proxies  # parsed once, not per request
        self.settings = settings
        self.captcha = captcha
        # This process's verified viewers by token hash (auth/cache.py); each hit is checked
        # against the database with one statement, so a change in any process ends it at once.
        self.viewers = ViewerCache(settings.auth_cache_size, settings.auth_cache_ttl_seconds)
        self._checks: LivenessChecks | None = None
        self.lane = FastLane(self)

    async def get_context(self, request: Any, response: Any) -> Context:
        now = utcnow()
        viewer = await self._viewer(bearer_secret(request.headers.get("authorization")), now)
        client_ip = self.proxies.client_ip(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
        )
        request_id = request_id_of(request.headers.get("x-request-id"))
        over_http = isinstance(response, Response)  # else a WebSocket: its headers are sent
        if over_http:
            response.headers["X-Request-Id"] = request_id
        return Context(
            request=request,
            response=response,
            viewer=viewer,
            # One operation per HTTP request: its plan may narrow the loaders' reads.
            loaders=Loaders(self.db, narrowable=over_http),
            db=self.db,
            settings=self.settings,
            now=now,
            today=warsaw_today(now),
            client_ip=client_ip,
            captcha=self.captcha,
            language=negotiate(request.headers.get("accept-language")),
            request_id=request_id,
            # The frame `run` made current: its writes and staff reads are this viewer's.
            audit=request_frame(current_frame(), viewer, ip=client_ip, request_id=request_id),
        )

    async def _viewer(self, secret: str | None, now: datetime) -> Viewer:
        """A token this process verified before costs one statement, shared with the requests
        that arrive together (a support view's its own); any other is authenticated in a
        session."""
        if secret and (entry := self.viewers.get(key := hash_secret(secret), now)) is not None:
            if entry.viewer.on_behalf_of is None:
                viewer = await still_valid_together(
                    self._liveness(), key=key, entry=entry, now=now, cache=self.viewers
                )
            else:
                viewer = await self.db.reading_batch(
                    lambda reader: still_valid(
                        reader, key=key, entry=entry, now=now, cache=self.viewers
                    )
                )
            if viewer is not None:
                return viewer
        return await self.db.reading(
            lambda session: authenticate(session, secret=secret, now=now, cache=self.viewers)
        )

    def _liveness(self) -> LivenessChecks:
        """Made inside the running event loop, which a DataLoader binds to (an app outlives a
        loop in tests)."""
        checks = self._checks
        if checks is None or checks.loop is not asyncio.get_running_loop():
            checks = self._checks = LivenessChecks(self.db)
        return checks

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """A WebSocket signs in with its `connection_init` payload (`{"authorization": "Bearer
        …"}`; browsers cannot set headers there) or its upgrade request's header. Anonymous
        connections are refused (4403); subscriptions verify the token again on every push."""
        params = context.connection_params
        given = params.get("authorization") if isinstance(params, dict) else None
        secret = bearer_secret(given if isinstance(given, str) else None) or bearer_secret(
            context.request.headers.get("authorization")
        )
        try:
            viewer = await self._viewer(secret, utcnow())
        except ServiceUnavailableError as error:
            raise ConnectionRejectionError({"code": error.code}) from error
        if not viewer.is_authenticated:
            raise ConnectionRejectionError({"code": UnauthenticatedError.code})
        context.viewer = viewer
        context.renew_viewer = partial(self._viewer, secret)
        # The frame was made for the upgrade request's viewer: the connection's is this one.
        request_frame(context.audit, viewer, ip=context.client_ip, request_id=context.request_id)
        return UNSET

    async def log_pushed_reads(self, context: Context) -> None:
        """A person at the lessor's reads since the last push, on record as this push goes
        (one INSERT at most; nothing for a client's own subscription)."""
        frame = context.audit
        if not frame.reads:
            return
        pushed = replace(frame, reads=frame.reads)
        frame.reads = {}  # the next push's reads start here
        reason = context.request.headers.get(ACCESS_REASON_HEADER)
        await write_access_log(self.db, pushed, reason=reason)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """A database fault while authenticating (in `get_context`) comes before execution,
        where no GraphQL error handling applies: answer with the coded error all the same."""
        try:
            with acting(AuditFrame()) as frame:
                if context is UNSET and self.lane.takes(request):
                    answer = await self.lane.answer(request)
                else:
                    answer = await super().run(request, context, root_value)
                if frame.reads:  # a person at the lessor read company data: on record first
                    reason = request.headers.get(ACCESS_REASON_HEADER)
                    await write_access_log(self.db, frame, reason=reason)
            return answer
        except ServiceUnavailableError as error:
            language = negotiate(request.headers.get("accept-language"))
            message = translate(error.text, language)
            errors = [{"message": message, "extensions": error.extensions}]
            body = {"data": None, "errors": errors}
            return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})

    async def run_strawberry(self, request: Any, context: Any) -> Any:
        """strawberry's own path, for what the fast lane hands on (hub/lane.py)."""
        return await super().run(request, context)

    async def get_sub_response(self, request: Any) -> Response:
        """The response the fast lane made the context with, when it hands the request on:
        the context's headers (X-Request-Id) are set on it."""
        made: Response | None = request.scope.get(SUB_RESPONSE)
        return made if made is not None else await super().get_sub_response(request)


async def as_job(work: Coroutine[Any, Any, None]) -> None:
    """A background loop's writes are the system's, under the loop's name (the audit log)."""
    with job(getattr(work, "__name__", "background")):
        await work


def create_app(
    settings: Settings | None = None,
    db: Database | None = None,
    captcha: CaptchaVerifier | None = None,
) -> Starlette:
    settings = settings or get_settings()
    install_log_redaction()  # however the app is started: uvicorn's access log prints paths
    database = db or Database.from_settings(settings)
    graphql = LeaseHubGraphQL(
        build_schema(settings),
        db=database,
        settings=settings,
        captcha=captcha or ImageCaptchaVerifier(settings.secret_key),
    )

    async def health(_request: Request) -> Response:
        # A connection of its own with a short timeout: an exhausted request pool or a hung
        # database never keeps the probe waiting.
        if not await database.ping(settings.health_timeout_seconds):
            logger.warning("health check: database unreachable")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    heavy = HeavyWork(settings, database)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        background = []
        if settings.delivers_outbox_in_process:
            background.append(
                deliver_continuously(
                    database, settings, interval=OUTBOX_INTERVAL_SECONDS, stop=stop
                )
            )
        if provider_of(settings) is not None:
            # Every process may ask: each order is claimed before it is asked, so once.
            background.append(
                poll_continuously(
                    db=database, settings=settings, interval=POLL_INTERVAL_SECONDS, stop=stop
                )
            )
        tasks = [asyncio.create_task(as_job(work)) for work in background]
        try:
            with server_gc(settings.gc_thresholds):
                yield
        finally:  # released however the server stops
            # The rounds in progress end first; one stuck for longer is cancelled.
            stop.set()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(task, timeout=OUTBOX_STOP_SECONDS)
            await heavy.shutdown()  # the worker processes of downloads
            if db is None:
                await database.dispose()

    app = HubApp(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route(
                "/download/{token}",
                download_endpoint(database, settings, heavy),
                methods=["GET"],
                name="download",
            ),
            Route(
                "/upload/{token}",
                upload_endpoint(database, settings),
                methods=["PUT"],
                name="upload",
            ),
            Route(
                "/gateway/payu/notify", payu_notify_endpoint(database, settings), methods=["POST"]
            ),
            Route(
                "/sso/{provider}/backchannel-logout",
                backchannel_logout_endpoint(database, settings),
                methods=["POST"],
            ),
        ],
        lifespan=lifespan,
        middleware=[Middleware(OriginCORSMiddleware, **cors(settings))],
        # JSON for every refusal and failure, never Starlette's plain text.
        exception_handlers={HTTPException: http_error, Exception: internal_error},
    )
    app.state.heavy = heavy  # the download queue, for operators and tests to look at
    return app
