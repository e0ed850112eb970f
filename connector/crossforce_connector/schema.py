"""The Graphene schema of the connector: `caseSummaries(since, first)`, a cursor-paged feed.

```graphql
type Query { caseSummaries(since: String, first: Int = 100): CaseSummaryConnection! }
type CaseSummaryConnection { edges: [CaseSummaryEdge!]!  pageInfo: PageInfo! }
type CaseSummaryEdge { cursor: String!  node: CaseSummary! }
type PageInfo { endCursor: String  hasNextPage: Boolean! }
scalar CaseSummary   # a JSON object in the case-summary.v1 shape
```

A force with a Graphene schema of its own adds `case_summaries_field(feed)` to its `Query`;
otherwise `build_schema(feed)` is the whole schema.
"""

from __future__ import annotations

import logging
from typing import Any

import graphene  # type: ignore[import-untyped]
from graphene.types.generic import GenericScalar  # type: ignore[import-untyped]
from graphql import GraphQLError

from crossforce_connector.feed import CaseFeed, FeedPage, InvalidCursor

log = logging.getLogger("crossforce.force_connector")

DEFAULT_FIRST = 100
MAX_FIRST = 500


class CaseSummary(GenericScalar):  # type: ignore[misc]
    """A case summary: a JSON object in the hub's `case-summary.v1` shape."""


class PageInfo(graphene.ObjectType):  # type: ignore[misc]
    end_cursor = graphene.String(description="`since` for the next page; null before any case")
    has_next_page = graphene.Boolean(required=True)


class CaseSummaryEdge(graphene.ObjectType):  # type: ignore[misc]
    cursor = graphene.String(required=True)
    node = graphene.Field(CaseSummary, required=True)


class CaseSummaryConnection(graphene.ObjectType):  # type: ignore[misc]
    edges = graphene.List(graphene.NonNull(CaseSummaryEdge), required=True)
    page_info = graphene.Field(PageInfo, required=True)


def _connection(page: FeedPage) -> CaseSummaryConnection:
    return CaseSummaryConnection(
        edges=[CaseSummaryEdge(cursor=e.cursor, node=e.summary) for e in page.entries],
        page_info=PageInfo(end_cursor=page.end_cursor, has_next_page=page.has_next_page),
    )


def case_summaries_field(feed: CaseFeed) -> graphene.Field:
    """The `caseSummaries` field over `feed`, for a force's own Graphene `Query`."""

    def resolve(
        _root: Any, _info: Any, since: str | None = None, first: int = DEFAULT_FIRST
    ) -> Any:
        if not 1 <= first <= MAX_FIRST:
            raise GraphQLError(f"first must be between 1 and {MAX_FIRST}")
        try:
            return _connection(feed.page(since, first))
        except InvalidCursor as error:
            raise GraphQLError(str(error)) from None
        except Exception:
            # The force's own storage failed; its details (and any data in them) stay here.
            log.exception("the case feed failed")
            raise GraphQLError("the case feed is unavailable; retry later") from None

    return graphene.Field(
        CaseSummaryConnection,
        required=True,
        since=graphene.String(description="endCursor of the previous page; omit to start"),
        first=graphene.Int(default_value=DEFAULT_FIRST, description=f"1 to {MAX_FIRST}"),
        resolver=resolve,
        description="Case summaries after `since`, oldest change first; newest versions only, "
        "tombstones included.",
    )


def build_schema(feed: CaseFeed) -> graphene.Schema:
    """A schema with only the connector's query."""
    query = type("Query", (graphene.ObjectType,), {"case_summaries": case_summaries_field(feed)})
    return graphene.Schema(query=query, auto_camelcase=True)
