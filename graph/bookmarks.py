"""Read-your-writes across replicas: a request's causal scope, carried as an opaque bookmark.

A hub answers a sync on one replica; the force may read its change feed on another. On Neo4j the
second replica could read from a server (or a cluster member) that has not yet applied the
first one's commit. Neo4j's answer is the bookmark: a token naming a committed transaction, and a
transaction started with it waits until the server has applied it.

`causal_scope(after)` opens a scope for one request (a context variable, so every graph call the
request makes, whichever object makes it, is in it): reads and writes in it start after the
bookmarks in `after`, and the scope collects the bookmarks of what it commits. The request hands
`scope.token()` back to the client, who sends it with its next read, to any replica.

The token is the base64url (no padding) of a JSON list of the engine's bookmark strings, so it is
one header-safe word whatever the engine puts in a bookmark. `parse_token` refuses anything else.

FalkorDB is one server: a committed write is visible to every later read, so its adapter neither
collects nor waits for bookmarks, and a token sent to a hub on FalkorDB is checked and ignored.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import contextvars
from collections.abc import Collection, Iterable, Iterator

import orjson

MAX_TOKEN_CHARS = 4096
MAX_BOOKMARKS = 16
MAX_BOOKMARK_CHARS = 512


class BadBookmark(ValueError):
    """A bookmark token that this hub did not make (malformed, too long, or not a bookmark)."""


class CausalScope:
    """The bookmarks one request waits for (`after`) and those of what it committed."""

    def __init__(self, after: Iterable[str] = ()) -> None:
        self.after = frozenset(after)
        self._latest: set[str] = set()

    def bookmarks(self) -> frozenset[str]:
        """What a graph call in this scope starts after: the request's own commits, or what the
        client sent until the request committed something."""
        return frozenset(self._latest) or self.after

    def update(self, previous: Collection[str], new: Collection[str]) -> None:
        """A transaction in the scope committed: its bookmarks replace those it started after."""
        self._latest.difference_update(previous)
        self._latest.update(new)

    def token(self) -> str | None:
        """The opaque token naming what this request committed; None when it committed nothing."""
        return make_token(self._latest) if self._latest else None


_SCOPE: contextvars.ContextVar[CausalScope | None] = contextvars.ContextVar(
    "crossforce_causal_scope", default=None
)


def current_scope() -> CausalScope | None:
    return _SCOPE.get()


@contextlib.contextmanager
def causal_scope(after: Iterable[str] = ()) -> Iterator[CausalScope]:
    """Graph calls made inside start after `after` and record what they commit."""
    scope = CausalScope(after)
    reset = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(reset)


def make_token(bookmarks: Iterable[str]) -> str:
    encoded = base64.urlsafe_b64encode(orjson.dumps(sorted(bookmarks)))
    return encoded.rstrip(b"=").decode("ascii")


def parse_token(token: str) -> frozenset[str]:
    """The bookmarks in a token; `BadBookmark` saying what is wrong otherwise."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise BadBookmark(f"bookmark must be 1 to {MAX_TOKEN_CHARS} characters")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        values = orjson.loads(raw)
    except (binascii.Error, ValueError):
        raise BadBookmark("bookmark is not one this hub made") from None
    if not isinstance(values, list) or not 0 < len(values) <= MAX_BOOKMARKS:
        raise BadBookmark("bookmark is not one this hub made")
    for value in values:
        if (
            not isinstance(value, str)
            or not 0 < len(value) <= MAX_BOOKMARK_CHARS
            or not value.isascii()
            or not value.isprintable()
        ):
            raise BadBookmark("bookmark is not one this hub made")
    return frozenset(values)
