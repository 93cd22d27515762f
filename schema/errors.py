"""Every GraphQL error leaves with an `extensions.code`, and outside development with no hints.

Parse errors are GRAPHQL_PARSE_FAILED (TOO_MANY_TOKENS past the token limit), validation errors
GRAPHQL_VALIDATION_FAILED unless their rule names its own code (QUERY_TOO_DEEP, TOO_MANY_ALIASES,
QUERY_TOO_COSTLY, INTROSPECTION_DISABLED), errors of the request itself found when execution
starts (variables that do not coerce, an unknown operation name) BAD_USER_INPUT, masked ones
INTERNAL_SERVER_ERROR. graphql-core writes "Did you mean …?" into messages about types, fields,
arguments, input fields and enum values; those name parts of the schema, so they are cut.

Our own messages leave in the request's language (`TranslatedErrors`); graphql-core's texts
about parsing and validation stay English: they speak to whoever wrote the query.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from graphql.language import Node
from strawberry.extensions import MaskErrors, SchemaExtension

from auth.errors import PublicError
from models.i18n import DEFAULT_LANGUAGE, Language, Msg, _, translate

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
INTERNAL = "INTERNAL_SERVER_ERROR"
UNEXPECTED_TEXT = _("Unexpected error.")
UNEXPECTED = str(UNEXPECTED_TEXT)  # for answers outside GraphQL too (hub/http.py)

_SUGGESTION = re.compile(r"\s*Did you mean\b.*\Z", re.DOTALL)
_TOKEN_LIMIT = re.compile(r"contains more than \d+ tokens")


class LocalizedError(GraphQLError):
    """An error of ours raised outside any resolver (a limit, a policy), with a translatable
    message; its `message` is the English text until `TranslatedErrors` copies it."""

    def __init__(
        self, message: Msg, node: Node | None = None, *, extensions: dict[str, Any]
    ) -> None:
        super().__init__(str(message), node, extensions=extensions)
        self.text = message


def code_of(error: GraphQLError) -> str | None:
    return (error.extensions or {}).get("code")


def _set_code(error: GraphQLError, code: str) -> None:
    # In place: validation errors are cached and shared between requests, so every change here
    # must give the same error the same way twice.
    if code_of(error) is None:
        error.extensions = {**(error.extensions or {}), "code": code}


def code_parse_errors(errors: list[GraphQLError]) -> None:
    """Called from `Schema.process_errors`: ParserCache raises parse errors inside its hook, so
    no extension hook sees them, but every error list passes there."""
    for error in errors:
        # graphql-core reports the token limit as a syntax error; its message tells them apart.
        too_long = isinstance(error, GraphQLSyntaxError) and _TOKEN_LIMIT.search(error.message)
        _set_code(error, "TOO_MANY_TOKENS" if too_long else PARSE_FAILED)


def without_suggestions(message: str) -> str:
    return _SUGGESTION.sub("", message)


class CodedMaskErrors(MaskErrors):
    """strawberry's masking, with the code every masked error shares.

    Listed last, it also gives each result a subscription pushes what `ErrorCodes` and
    `TranslatedErrors` give an answer: their hooks act when the operation ends, after the
    stream, while a pushed result leaves inside its `on_stream_result` hooks, entered in the
    extensions' order. Here rather than in an extension of its own: every extension is built
    for every request, subscription or not."""

    def __init__(self, *, hide_suggestions: bool, **options: Any) -> None:
        super().__init__(**options)
        self.hide_suggestions = hide_suggestions

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": INTERNAL}
        return masked

    def on_stream_result(self, result: Any) -> Iterator[None]:
        self._stream_result_processed = True  # as MaskErrors does: masked, then coded here
        self._process_stream_result(result)
        code_result(result, hide_suggestions=self.hide_suggestions)
        translate_result(result, self.execution_context.context)
        yield


class ErrorCodes(SchemaExtension):
    """Listed first among the extensions, so that its hooks finish last: it sees the errors every
    other extension added (cost, introspection, masking)."""

    def __init__(self, *, hide_suggestions: bool) -> None:
        self.hide_suggestions = hide_suggestions

    def on_validate(self) -> Iterator[None]:
        yield
        # In place, after strawberry took the errors for its answer: the same objects.
        for error in self.execution_context.pre_execution_errors or ():
            _set_code(error, VALIDATION_FAILED)

    def on_operation(self) -> Iterator[None]:
        yield
        code_result(self.execution_context.result, hide_suggestions=self.hide_suggestions)


def code_result(result: Any, *, hide_suggestions: bool) -> None:
    errors: list[GraphQLError] = (getattr(result, "errors", None) or []) if result else []
    no_data = getattr(result, "data", None) is None
    for error in errors:
        # A path means the error came from a field; without one, with no data, the request
        # itself was refused when execution started.
        _set_code(error, "BAD_USER_INPUT" if no_data and error.path is None else INTERNAL)
        if hide_suggestions:
            error.message = without_suggestions(error.message)


def _our_message(error: GraphQLError) -> str | Msg | None:
    """The translatable message of one of our errors; None for graphql-core's own texts."""
    if isinstance(error.original_error, PublicError):
        return error.original_error.text
    if isinstance(error, LocalizedError):
        return error.text
    if code_of(error) == INTERNAL and error.message == UNEXPECTED:
        return UNEXPECTED_TEXT  # every masked error
    return None


def translated(error: GraphQLError, language: Language) -> GraphQLError:
    """A copy in `language`, never a change in place: validation errors are cached and shared
    by requests in every language."""
    message = _our_message(error)
    text = error.message if message is None else translate(message, language)
    if text == error.message:
        return error
    return GraphQLError(
        text,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        error.original_error,
        error.extensions,
    )


class TranslatedErrors(SchemaExtension):
    """Listed before every other extension, so that it finishes last: it translates the errors
    as they leave, after masking and coding. `extensions.code` is never touched."""

    def on_operation(self) -> Iterator[None]:
        yield
        translate_result(self.execution_context.result, self.execution_context.context)


def translate_result(result: Any, context: Any) -> None:
    errors: list[GraphQLError] = (getattr(result, "errors", None) or []) if result else []
    if errors:
        language = getattr(context, "language", DEFAULT_LANGUAGE)
        result.errors = [translated(error, language) for error in errors]
