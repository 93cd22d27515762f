"""The GraphQL schema: `schema.schema` is what the app serves and schema.graphql records."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from graphql import ASTValidationRule, GraphQLError
from strawberry import Schema
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

import schema.enums
from auth.errors import PublicError
from hub.settings import Settings, get_settings
from schema.admin import AdminUser
from schema.client import BankAccount, Client
from schema.contract import Contract, Instalment, InsurancePolicy, LeasedItem
from schema.cost import QueryCostLimiter
from schema.document import Document
from schema.invoice import Invoice, Payment
from schema.message import MessageThread
from schema.query import Mutation, Query
from schema.read_only import ReadOnlyTokens
from schema.request import Attachment, Request
from schema.subaccount import ApiToken, Subaccount
from schema.tyre import TyreServiceCentre, Vehicle

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
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Expected errors are answers, not incidents: `is_unexpected` logs the others."""


def limit_rules(settings: Settings) -> list[type[ASTValidationRule]]:
    """The depth and alias rules, as the classes the limiter extensions would build each time."""
    depth = QueryDepthLimiter(max_depth=settings.max_query_depth)
    aliases = MaxAliasesLimiter(max_alias_count=settings.max_aliases)
    return [*depth.validation_rules, *aliases.validation_rules]


def build_schema(settings: Settings) -> Schema:
    return LeaseHubSchema(
        query=Query,
        mutation=Mutation,
        types=NODE_TYPES,
        config=StrawberryConfig(disable_field_suggestions=not settings.is_development),
        # Factories, not instances: strawberry builds fresh extensions for every request. The
        # validation rules are built once, so ValidationCache (keyed by the rule classes) hits.
        extensions=[
            partial(AddValidationRules, limit_rules(settings)),
            partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
            partial(ParserCache, maxsize=512),
            partial(ValidationCache, maxsize=512),
            partial(QueryCostLimiter, budget=settings.max_query_cost),
            ReadOnlyTokens,
            partial(MaskErrors, should_mask_error=is_unexpected, error_message="Unexpected error."),
        ],
    )


schema = build_schema(get_settings())
