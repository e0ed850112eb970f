"""The force connector: a force system exposes its case summaries for the hub to pull.

A small library a force system embeds when it cannot call out to the hub: a Graphene schema
with `caseSummaries(since, first)` over the force's own data, served over HTTP to the hub only
(its client-credentials token, validated against the hub's identity provider). It needs
`graphene`, `httpx` and `joserfc`, nothing of the hub. See docs/pull.md.

```python
feed = IterableFeed(load_summaries, position=lambda s: s["changedAt"])
endpoint = connector(feed, issuer="https://hub.example/", audience="crossforce")
app = asgi_app(endpoint)       # or wsgi_app(endpoint), or endpoint.handle(...) in a view
```
"""

from __future__ import annotations

from crossforce_connector.auth import Forbidden, HubTokenVerifier, Unauthorized
from crossforce_connector.feed import (
    CaseFeed,
    Entry,
    FeedPage,
    InvalidCursor,
    IterableFeed,
    QueryFeed,
)
from crossforce_connector.http import Endpoint, Reply, asgi_app, wsgi_app
from crossforce_connector.schema import build_schema, case_summaries_field

__all__ = [
    "CaseFeed",
    "Endpoint",
    "Entry",
    "FeedPage",
    "Forbidden",
    "HubTokenVerifier",
    "InvalidCursor",
    "IterableFeed",
    "QueryFeed",
    "Reply",
    "Unauthorized",
    "asgi_app",
    "build_schema",
    "case_summaries_field",
    "connector",
    "wsgi_app",
]


def connector(feed: CaseFeed, *, issuer: str, audience: str = "crossforce") -> Endpoint:
    """The endpoint for `feed`, readable by the hub's `hub` client with `pull:read`."""
    return Endpoint(build_schema(feed), HubTokenVerifier(issuer, audience=audience))
