"""The schema for people, with its limits: depth, aliases, tokens, cost, introspection."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.types import ExecutionContext

from gateway.config import Settings
from gateway.graphql.errors import INTERNAL, formatted
from gateway.graphql.limits import cost_limit
from gateway.graphql.paging import MAX_PAGE
from gateway.graphql.queries import Mutation, Query
from gateway.graphql.sharing import SharingGuard, check_governed
from gateway.graphql.subscriptions import Subscription
from gateway.observability import GraphQLMetrics

log = logging.getLogger("crossforce.graphql")

CACHED_DOCUMENTS = 1000


class HubSchema(strawberry.Schema):
    """Logs each error by its code only: documents and variables may hold personal data."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            code = formatted(error)["extensions"]["code"]
            level = logging.ERROR if code == INTERNAL else logging.INFO
            log.log(level, "graphql error %s", code)


def introspection_allowed(settings: Settings) -> bool:
    if settings.graphql_introspection is not None:
        return settings.graphql_introspection
    return settings.environment == "development"


def build_schema(settings: Settings) -> strawberry.Schema:
    # The rules are made once, not per request as `QueryDepthLimiter` and `MaxAliasesLimiter`
    # make theirs: the validation cache is keyed by the rule classes too, and fresh classes on
    # every request would make every request miss it and validate the document all over again.
    limits: list[type[ASTValidationRule]] = [
        depth_rule(settings.graphql_max_depth, None),
        aliases_rule(settings.graphql_max_aliases),
        cost_limit(settings.graphql_max_cost, MAX_PAGE),
    ]
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        partial(MaxTokensLimiter, max_token_count=settings.graphql_max_tokens),
        partial(AddValidationRules, limits),
        # The same document always gets the same verdict: parse and validate it once.
        partial(ParserCache, maxsize=CACHED_DOCUMENTS),  # bounded: unique queries are cheap
        partial(ValidationCache, maxsize=CACHED_DOCUMENTS),
        SharingGuard,
        GraphQLMetrics,
    ]
    if not introspection_allowed(settings):
        extensions.append(DisableIntrospection)
    schema = HubSchema(
        query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions
    )
    check_governed(schema)
    return schema
