"""The hub's Starlette application, with one shortcut for its busiest request.

A GraphQL POST from a client that is not a browser page (no `Origin`: a portal's backend, a BI
tool, a dashboard's server) passed five layers before reaching the view: the server-error
middleware, CORS (which only adds `Vary: Origin` when there is no Origin), the exception
middleware, the router's walk over the routes and the route's method check. For a small query
that was a tenth of its CPU. `HubApp` hands such a request to the view directly, with what
those layers give it: the scope's `app`, `router`, `route`, `endpoint`, `path_params` and
exception handlers; `Vary: Origin` on the answer; a `HTTPException` answered by its handler;
and any other exception given to the 500 handler (its answer sent when nothing was sent yet)
and raised on to the server, as Starlette's `ServerErrorMiddleware` does. Every other request
takes Starlette's way. `tests/hub/test_asgi.py` sends the same requests both ways and compares
the bytes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, cast

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.http import OriginCORSMiddleware

GRAPHQL_PATH = "/graphql"
# The hub's handlers are coroutines answering a Request (hub/http.py).
Handler = Callable[[Request, Exception], Awaitable[Response | None]]


class HubApp(Starlette):
    # Off, every request takes Starlette's way (the tests compare the two).
    shortcut: ClassVar[bool] = True

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        route = next(r for r in self.routes if isinstance(r, Route) and r.path == GRAPHQL_PATH)
        self._graphql: ASGIApp = route.app
        self._route = route
        self._server_error: Handler | None = None
        self._handlers: dict[Any, Handler] = {}
        self._status_handlers: dict[int, Handler] = {}
        self._direct: bool | None = None  # decided at the first request, as Starlette's stack

    def _stands_in(self) -> bool:
        """Splits the handlers as Starlette's stack does, and tells whether the shortcut stands
        in for it: CORS the only middleware of ours, a 500 handler, none of Starlette's own
        options (debug pages, a body limit), a route taking POST."""
        for key, value in self.exception_handlers.items():
            handler = cast("Handler", value)
            if key in (500, Exception):
                self._server_error = handler
            elif isinstance(key, int):
                self._status_handlers[key] = handler
            else:
                self._handlers[key] = handler
        layers = [layer.cls for layer in self.user_middleware]
        return (
            layers == [OriginCORSMiddleware]
            and self._server_error is not None
            and not self.debug
            and self.max_body_size is None
            and "POST" in (self._route.methods or ())
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._direct is None:
            self._direct = self._stands_in()
        if (
            HubApp.shortcut
            and self._direct
            and scope["type"] == "http"
            and scope["path"] == GRAPHQL_PATH
            and scope["method"] == "POST"
            and not scope.get("root_path")
            and all(name != b"origin" for name, _value in scope["headers"])
        ):
            await self._graphql_post(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def _graphql_post(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        scope["starlette.exception_handlers"] = (self._handlers, self._status_handlers)
        scope["router"] = self.router
        scope["route"] = self._route
        scope["endpoint"] = self._route.endpoint
        scope["path_params"] = {}
        started = False

        async def varied(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                headers["Vary"] = ", ".join([*headers.getlist("Vary"), "Origin"])
            await send(message)

        try:
            try:
                await self._graphql(scope, receive, varied)
            except Exception as error:
                if not await self._handled(error, scope, receive, varied, started=started):
                    raise
        except Exception as error:
            # As ServerErrorMiddleware: the handler runs (it logs), its answer goes if it can.
            assert self._server_error is not None  # always, when direct
            response = await self._server_error(Request(scope), error)
            if response is not None and not started:
                await response(scope, receive, send)
            raise

    async def _handled(
        self, error: Exception, scope: Scope, receive: Receive, send: Send, *, started: bool
    ) -> bool:
        """As Starlette's exception middleware: an exception with a handler is answered."""
        handler = None
        if isinstance(error, HTTPException):
            handler = self._status_handlers.get(error.status_code)
        if handler is None:  # the nearest class with one
            found = (self._handlers[kind] for kind in type(error).__mro__ if kind in self._handlers)
            handler = next(found, None)
        if handler is None:
            return False
        if started:
            raise RuntimeError("Caught handled exception, but response already started.") from error
        response = await handler(Request(scope, receive), error)
        if response is not None:
            await response(scope, receive, send)
        error.__traceback__ = None
        return True
