"""The GraphQL schema: `schema.schema` is what the app serves and schema.graphql records."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from graphql import ASTValidationRule, GraphQLError
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry import Schema
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from auth.errors import PublicError
from hub.settings import Environment, Settings, get_settings
from schema import enums as enums  # registers the domain enums as GraphQL enums
from schema.admin import AdminUser
from schema.audit import audit_mutations
from schema.client import BankAccount, Client
from schema.contract import Contract, Instalment, InsurancePolicy, LeasedItem
from schema.cost import PriceCache, QueryCostLimiter
from schema.document import Document
from schema.errors import (
    UNEXPECTED,
    CodedMaskErrors,
    ErrorCodes,
    TranslatedErrors,
    code_parse_errors,
)
from schema.execution import CompiledExecutor
from schema.hooks import GeneratorHooksRunner
from schema.invoice import Invoice, Payment
from schema.limits import IntrospectionPolicy, alias_rule, depth_rule
from schema.message import MessageThread
from schema.payment_live import Subscription
from schema.query import Mutation, Query
from schema.read_only import ReadOnlyTokens
from schema.request import Attachment, Request
from schema.subaccount import ApiToken, Subaccount
from schema.tyre import TyreRelocation, TyreServiceCentre, Vehicle
from schema.tyre_booking import TyreAppointment

logger = logging.getLogger("leasehub.graphql")

NODE_TYPES = [
    AdminUser,
    ApiToken,
    Attachment,
    BankAccount,
    Client,
    Contract,
    Document,
    InsurancePolicy,
    Instalment,
    Invoice,
    LeasedItem,
    MessageThread,
    Payment,
    Request,
    Subaccount,
    TyreAppointment,
    TyreRelocation,
    TyreServiceCentre,
    Vehicle,
]


def is_unexpected(error: GraphQLError) -> bool:
    """Mask everything but syntax/validation errors and our own PublicErrors; log what we mask."""
    original = error.original_error
    if original is None or isinstance(original, PublicError | GraphQLError):
        return False
    logger.error("unexpected error at %s", error.path, exc_info=original)
    return True


class LeaseHubSchema(Schema):
    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        """Our extensions' generator hooks run without a context manager each (schema/hooks.py)."""
        return GeneratorHooksRunner(execution_context=execution_context, extensions=extensions)

    async def _execute_operation(
        self,
        execution_context: ExecutionContext,
        extensions_runner: SchemaExtensionsRunner,
        middleware_manager: Any,
        execute_function: Callable[..., Any],
        custom_context_kwargs: dict[str, Any],
    ) -> Any:
        """Over HTTP the fast lane (hub/lane.py) learns the queries strawberry validated and
        ran, and hands back the ones it ran itself whose answer has errors: their result is
        finished by strawberry's steps (masking, codes, translation) without running again;
        an exception the lane's run raised is raised again where the run would raise it."""
        lane = getattr(execution_context.context, "lane", None)
        if lane is not None:
            if lane.error is not None:
                execute_function = partial(_raise, lane.error)
            elif lane.result is not None:
                execution_context.result = lane.result
            elif execution_context.operation_type is OperationType.QUERY:
                lane.document = execution_context.graphql_document
                lane.operation_name = execution_context.operation_name
        try:
            return await super()._execute_operation(
                execution_context,
                extensions_runner,
                middleware_manager,
                execute_function,
                custom_context_kwargs,
            )
        except Exception as error:
            # strawberry answers an exception from execution itself outside every extension:
            # its text unmasked, no code. Here it is answered as a field's would be: masked,
            # logged and coded by the extensions, which see it as the operation's result.
            coded = error if isinstance(error, GraphQLError) else None
            coded = coded or GraphQLError(str(error), original_error=error)
            failed = GraphQLExecutionResult(None, [coded])
            execution_context.result = failed
            execution_context.pre_execution_errors = failed.errors
            return failed

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Expected errors are answers, not incidents: `is_unexpected` logs the others. Only the
        parse errors get their code here (see `code_parse_errors`); ErrorCodes codes the rest."""
        if execution_context is None or execution_context.graphql_document is None:
            code_parse_errors(errors)


def _raise(error: Exception, *_args: Any, **_kwargs: Any) -> Any:
    raise error


def limit_rules(settings: Settings) -> list[type[ASTValidationRule]]:
    """The depth and alias rules, built once so that ValidationCache (keyed by them) hits."""
    return [depth_rule(settings.max_query_depth), alias_rule(settings.max_aliases)]


def extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Factories, not instances: strawberry builds fresh extensions for every request.

    TranslatedErrors comes first so that it finishes last and translates the errors as they
    leave; ErrorCodes next, so that it codes what the others reported; QueryCostLimiter and
    IntrospectionPolicy act after validation, whichever order they run in. CodedMaskErrors comes
    last: it also codes and translates each result a subscription pushes, after masking it.
    """
    production = settings.environment is Environment.PRODUCTION
    policy = [partial(IntrospectionPolicy, allow_staff=settings.staff_introspection)]
    return [
        TranslatedErrors,
        partial(ErrorCodes, hide_suggestions=not settings.is_development),
        partial(AddValidationRules, limit_rules(settings)),
        partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
        partial(ParserCache, maxsize=512),
        partial(ValidationCache, maxsize=512),
        *(policy if production else []),
        partial(
            QueryCostLimiter,
            budget=settings.max_query_cost,
            page_max=settings.page_size_max,
            prices=PriceCache(),
        ),
        ReadOnlyTokens,
        partial(
            CodedMaskErrors,
            should_mask_error=is_unexpected,
            error_message=UNEXPECTED,
            hide_suggestions=not settings.is_development,
        ),
    ]


def build_schema(settings: Settings) -> Schema:
    """The schema with every mutation named on the audit log of its writes (schema/audit.py)."""
    return audit_mutations(_schema(settings))


def _schema(settings: Settings) -> Schema:
    return LeaseHubSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        config=StrawberryConfig(disable_field_suggestions=not settings.is_development),
        extensions=extensions(settings),
        execution_context_class=CompiledExecutor,
    )


schema = build_schema(get_settings())
