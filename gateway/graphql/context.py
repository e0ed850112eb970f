"""What every resolver sees: the caller, the graph (counted), the protection core, loaders."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import strawberry
from starlette.responses import Response

from federation.pull import PullState
from gateway.protection import Protection
from gateway.region import RegionFacts
from graph import GraphStore
from graph.case_seals import CaseSeal
from graph.port import Engine, Params, Record
from policies.limits import RateLimited
from policies.principal import Principal
from policies.scopes import Forbidden
from policies.sharing import RecordView, Visibility


class CountingStore:
    """A request's view of the graph that counts round trips, so N+1 queries show up in tests.

    Resolvers never run Cypher on it themselves: they build the typed repositories of `graph/`
    over it (`CaseReads`, `Explorer`, `IdentifierHolders`, `VictimGroupStore`), so every read
    they make is counted."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store
        self.round_trips = 0

    @property
    def engine(self) -> Engine:
        return self._store.engine

    async def read(
        self, query: str, params: Params | None = None, *, timeout: float | None = None
    ) -> list[Record]:
        self.round_trips += 1
        return await self._store.read(query, params, timeout=timeout)

    async def write(
        self, query: str, params: Params | None = None, *, timeout: float | None = None
    ) -> list[Record]:
        self.round_trips += 1
        return await self._store.write(query, params, timeout=timeout)

    async def shortest_path(
        self, start: tuple[str, str], end: tuple[str, str], max_hops: int
    ) -> list[Record] | None:
        self.round_trips += 1
        return await self._store.shortest_path(start, end, max_hops)

    async def migrate(self) -> list[int]:
        return await self._store.migrate()

    async def ping(self) -> None:
        await self._store.ping()

    async def close(self) -> None:
        """The request does not own the store: closing its view leaves the store open."""


@dataclass
class Context:
    principal: Principal
    graph: CountingStore
    protection: Protection
    region: RegionFacts
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    loaders: dict[str, Any] = field(default_factory=dict)
    # The seals of cases read as links or search holders this request, by case key: whom to
    # call about them needs no second read.
    seals: dict[str, CaseSeal] = field(default_factory=dict)
    # Set by graphql-transport-ws from `connection_init`: how a WebSocket carries its token.
    connection_params: dict[str, Any] | None = None
    poll_seconds: float = 2.0  # how often a subscription looks for news
    pulls: Callable[[], Mapping[str, PullState]] = dict  # the state of each pulled force
    # The agreements' decisions this request has asked for: a page of victim groups asks the
    # same few thousands of times.
    decided: dict[tuple[str, str, str], Visibility] = field(default_factory=dict)
    viewed: dict[str, RecordView] = field(default_factory=dict)
    # The HTTP answer's status and headers, where the request came over HTTP.
    response: Response | None = None

    @property
    def now_ms(self) -> int:
        return int(self.now.timestamp() * 1000)

    def refresh_now(self) -> int:
        """A subscription lives for hours: "now" moves on, and the agreements may change."""
        self.now = datetime.now(UTC)
        self.decided.clear()
        self.viewed.clear()
        return self.now_ms

    def refuse(self, status: int, error: RateLimited) -> None:
        """Answer this request over HTTP with `status` and Retry-After, whatever else it holds
        (the error itself is in the answer's `errors`)."""
        if self.response is not None:
            self.response.status_code = status
            self.response.headers["Retry-After"] = error.retry_after_header

    def visibility(self, owner_force: str, type_name: str, field_name: str) -> Visibility:
        key = (owner_force, type_name, field_name)
        level = self.decided.get(key)
        if level is None:
            level = self.protection.sharing.visibility(self.principal, *key)
            self.decided[key] = level
        return level

    def record_view(self, owner_force: str) -> RecordView:
        """How much the caller may know of a case of `owner_force` (`SharingPolicy.record_view`)."""
        view = self.viewed.get(owner_force)
        if view is None:
            view = self.protection.sharing.record_view(self.principal, owner_force)
            self.viewed[owner_force] = view
        return view

    def knows_case(self, owner_force: str) -> bool:
        """Whether the caller may know which case of `owner_force` a value names."""
        return self.record_view(owner_force) == RecordView.FULL

    def entity_identified(self, label: str, owners: Iterable[str]) -> bool:
        """Whether the caller may know more of a shared entity than that these forces hold it."""
        return self.protection.sharing.current.entity_identified(self.principal, label, owners)

    def require(self, *scopes: str) -> None:
        if not self.principal.scopes.intersection(scopes):
            raise Forbidden("requires scope " + " or ".join(scopes))


# Who a WebSocket is until its `connection_init` presents a token.
NOBODY = Principal(client_id="", scopes=frozenset())

Info = strawberry.Info[Context, None]
