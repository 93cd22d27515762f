"""The Starlette application: POST /graphql (GraphiQL in development) and GET /health."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry import Schema
from strawberry.asgi import GraphQL

from auth.captcha import CaptchaVerifier, ImageCaptchaVerifier
from auth.clock import warsaw_today
from auth.sessions import authenticate, bearer_secret
from hub.db import Database
from hub.downloads import download_endpoint
from hub.settings import Settings, get_settings
from loaders.base import Loaders
from models.base import utcnow
from resolvers.context import Context
from schema import build_schema

logger = logging.getLogger("leasehub")


class LeaseHubGraphQL(GraphQL[Context, None]):
    def __init__(
        self, schema: Schema, *, db: Database, settings: Settings, captcha: CaptchaVerifier
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.is_development else None,
            allow_queries_via_get=False,
        )
        self.db = db
        self.settings = settings
        self.captcha = captcha

    async def get_context(self, request: Any, response: Any) -> Context:
        now = utcnow()
        secret = bearer_secret(request.headers.get("authorization"))
        async with self.db.read() as session:
            viewer = await authenticate(session, secret=secret, now=now)
        return Context(
            request=request,
            response=response,
            viewer=viewer,
            loaders=Loaders(self.db),
            db=self.db,
            settings=self.settings,
            now=now,
            today=warsaw_today(now),
            client_ip=request.client.host if request.client else "unknown",
            captcha=self.captcha,
        )

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def create_app(
    settings: Settings | None = None,
    db: Database | None = None,
    captcha: CaptchaVerifier | None = None,
) -> Starlette:
    settings = settings or get_settings()
    database = db or Database.from_settings(settings)
    graphql = LeaseHubGraphQL(
        build_schema(settings),
        db=database,
        settings=settings,
        captcha=captcha or ImageCaptchaVerifier(settings.secret_key),
    )

    async def health(_request: Request) -> Response:
        try:
            async with database.read() as session:
                await session.execute(text("SELECT 1"))
        except Exception:  # the probe must answer, whatever the database does
            logger.exception("health check: database unreachable")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        if db is None:
            await database.dispose()

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route(
                "/download/{token}",
                download_endpoint(database, settings),
                methods=["GET"],
                name="download",
            ),
        ],
        lifespan=lifespan,
    )
