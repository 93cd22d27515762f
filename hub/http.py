"""The HTTP side of POST /graphql, and the answers Starlette would otherwise give in plain text.

* GraphQL over HTTP: `application/graphql-response+json` is answered in kind when the client asks
  for it, with 400 and no `data` when the request itself is refused (parse, validation, limits,
  variables); `application/json` keeps 200 for every GraphQL answer.
* Limits: body size (413, checked while the body arrives), a JSON object as body, the number of
  variables and how deep their values nest (400).
* Every refusal and every unhandled exception is a GraphQL error body with `extensions.code`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult

from hub.logs import redact
from hub.settings import Settings
from models.i18n import Msg, _, negotiate, translate
from resolvers.context import Context
from schema.errors import INTERNAL, UNEXPECTED_TEXT, code_of

logger = logging.getLogger("leasehub.http")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
HTTP_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    500: INTERNAL,
}
# A request refused before execution answers 400 under graphql-response+json, unless the refusal
# is the server's fault.
REFUSAL_STATUS = {INTERNAL: 500, "SERVICE_UNAVAILABLE": 503}
GRAPHQL_STATUS = "leasehub.graphql_status"  # the scope key of a refusal's status


@dataclass(frozen=True, slots=True)
class RequestLimits:
    body_bytes: int
    variables: int
    variable_depth: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RequestLimits:
        return cls(
            body_bytes=settings.max_body_bytes,
            variables=settings.max_variables,
            variable_depth=settings.max_variable_depth,
        )


class Refusal(HTTPException):
    """One of our own 400s, with its text still to be put in the reader's language."""

    def __init__(self, status_code: int, text: Msg, code: str | None = None) -> None:
        super().__init__(status_code, str(text))
        self.text, self.code = text, code


class BodyTooLarge(Exception):
    """Raised by the capped receive channel as soon as the body passes the limit."""


def error_response(
    message: str, status: int, media_type: str = JSON, code: str | None = None
) -> Response:
    code = code or HTTP_CODES.get(status, "BAD_REQUEST")
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(orjson.dumps(body), status_code=status, media_type=media_type)


def _weights(accept: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        weights[media.lower()] = max(weights.get(media.lower(), 0.0), quality)
    return weights


@lru_cache(maxsize=256)  # a client sends the same Accept with every request
def negotiate_media_type(accept: str | None) -> str:
    """graphql-response+json when the client ranks it at least as high as application/json;
    application/json otherwise, also for no Accept or `*/*` (the spec's legacy clients)."""
    weights = _weights(accept or "")
    wanted = weights.get(GRAPHQL_RESPONSE, 0.0)
    return GRAPHQL_RESPONSE if wanted > 0 and wanted >= weights.get(JSON, 0.0) else JSON


def json_depth(value: object) -> int:
    """How deep objects and arrays nest in `value` (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item)
    return deepest


# PostgreSQL's text cannot hold a NUL (an unpaired surrogate never gets this far: orjson
# refuses it, and graphql-core refuses one written in the document).
_UNSTORABLE = re.compile("\x00")
# In the document: a NUL written as a GraphQL escape.
_NUL_ESCAPE = re.compile(r"\\u0000|\\u\{0+\}")


def unstorable_text(query: str, variables: dict[str, Any]) -> str | None:
    """Where a text no column could store is: `query` or the variable's path, else None.
    Refused for the whole request, so that no mutation reaches the database with it."""
    if _UNSTORABLE.search(query) or _NUL_ESCAPE.search(query):
        return "query"
    stack: list[tuple[str, object]] = [(f"variables.{name}", v) for name, v in variables.items()]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return path
        elif isinstance(item, dict):
            stack.extend((f"{path}.{key}", value) for key, value in item.items())
        elif isinstance(item, list):
            stack.extend((f"{path}.{index}", value) for index, value in enumerate(item))
    return None


def is_refused(result: ExecutionResult) -> bool:
    """A request error: refused before any field ran, so there is no data and no error path."""
    errors: list[GraphQLError] = result.errors or []
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


class HardenedGraphQL(GraphQL[Context, None]):
    """strawberry's ASGI view with the HTTP rules of this module."""

    def __init__(self, *args: Any, limits: RequestLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive=self._capped(receive))
        request.state.media_type = negotiate_media_type(request.headers.get("accept"))
        try:
            response = await self._respond(request)
        except ClientDisconnect:  # gone before its body arrived: nobody to answer, no fault
            logger.info("client left during %s %s", request.method, redact(request.url.path))
            return
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        media_type: str = request.state.media_type
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.limits.body_bytes:
            return self._too_large(request, media_type)
        try:
            response = await self.run(request)
        except HTTPException as error:
            # strawberry's own refusals stay English: they speak of the protocol, to developers
            message, code = getattr(error, "text", error.reason), getattr(error, "code", None)
            text = translate(message, negotiate(request.headers.get("accept-language")))
            return error_response(text, error.status_code, media_type, code)
        except BodyTooLarge:
            return self._too_large(request, media_type)
        response.status_code = request.scope.get(GRAPHQL_STATUS, response.status_code)
        if media_type == GRAPHQL_RESPONSE and response.media_type == JSON:
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
        return response

    def _too_large(self, request: Request, media_type: str) -> Response:
        text = _("The request body is larger than {limit} bytes.", limit=self.limits.body_bytes)
        language = negotiate(request.headers.get("accept-language"))
        return error_response(translate(text, language), 413, media_type)

    def _capped(self, receive: Receive) -> Receive:
        remaining = self.limits.body_bytes

        async def capped() -> Message:
            nonlocal remaining
            message = await receive()
            remaining -= len(message.get("body", b""))
            if remaining < 0:
                raise BodyTooLarge
            return message

        return capped

    def decode_json(self, data: str | bytes) -> object:
        # orjson refuses nesting past 1,024 levels with a JSONDecodeError (json.loads would
        # overflow the stack), which strawberry turns into a 400.
        return orjson.loads(data)

    def parse_json(self, data: str | bytes) -> Any:
        value = super().parse_json(data)
        if not isinstance(value, dict):
            raise Refusal(400, _("The request must be a JSON object."))
        return value

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        parsed = await super().parse_http_body(request)
        for item in parsed if isinstance(parsed, list) else [parsed]:
            self._check(item)
        return parsed

    def _check(self, data: GraphQLRequestData) -> None:
        self.check_request(
            query=data.query or "", variables=data.variables or {}, operation=data.operation_name
        )

    def check_request(self, *, query: str, variables: dict[str, Any], operation: object) -> None:
        """This module's limits on a request's fields; a Refusal names the one broken."""
        if not isinstance(operation, str | None):
            raise Refusal(400, _("The GraphQL operation's `operationName` must be a string."))
        if len(variables) > self.limits.variables:
            limit = self.limits.variables
            raise Refusal(400, _("At most {limit} variables are accepted.", limit=limit))
        if max(map(json_depth, variables.values()), default=0) > self.limits.variable_depth:
            depth = self.limits.variable_depth
            raise Refusal(400, _("Variables may nest at most {depth} levels deep.", depth=depth))
        if (where := unstorable_text(query, variables)) is not None:
            message = _(
                "The text in {where} contains a NUL character, which cannot be stored.",
                where=where,
            )
            raise Refusal(400, message, "INVALID_CHARACTERS")

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        answer = await super().process_result(request, result)
        if request.state.media_type == GRAPHQL_RESPONSE and is_refused(result):
            answer.pop("data", None)
            codes = [code_of(error) for error in result.errors or []]
            status = max(REFUSAL_STATUS.get(c or "", 400) for c in codes)
            request.scope[GRAPHQL_STATUS] = status
        return answer


async def internal_error(request: Request, error: Exception) -> Response:
    """Starlette's last resort answers a plain-text 500; this one a GraphQL error body."""
    path = redact(request.url.path)
    logger.error("unhandled error on %s %s", request.method, path, exc_info=error)
    language = negotiate(request.headers.get("accept-language"))
    return error_response(translate(UNEXPECTED_TEXT, language), 500)


async def http_error(request: Request, error: Exception) -> Response:
    """Starlette's own refusals (an unknown path, a method a route does not take) as JSON."""
    status = getattr(error, "status_code", 500)
    headers = getattr(error, "headers", None) or {}
    response = error_response(str(getattr(error, "detail", "")), status)
    response.headers.update(headers)  # e.g. Allow on a 405
    return response


class OriginCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, except that a preflight from an origin not allowed gets no CORS header
    at all (Starlette still lists the allowed methods and headers to it)."""

    def preflight_response(self, request_headers: Headers) -> Response:
        if self.is_allowed_origin(request_headers["origin"]):
            return super().preflight_response(request_headers)
        return PlainTextResponse("Disallowed CORS origin", status_code=400)


def cors(settings: Settings) -> dict[str, Any]:
    """The CORSMiddleware options: the origins of the settings, what a browser client sends."""
    return {
        "allow_origins": settings.allowed_origins,
        "allow_methods": ["GET", "POST", "PUT", "OPTIONS"],  # PUT: staged uploads
        "allow_headers": ["Authorization", "Content-Type"],
    }
