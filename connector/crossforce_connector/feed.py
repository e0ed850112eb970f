"""The case feed a force system exposes: its case summaries, in the order they changed.

A feed is read a page at a time after a cursor. The cursor is opaque to the hub; here it is the
place of the last record returned in the feed's order. That order must follow change: a case
summary that changes (a new version, a tombstone) must move past every cursor handed out
before, or the hub never sees the change. Forces give it as `position`: a change sequence, a
row version, or an updated-at instant in one fixed ISO format.

Two ready-made feeds:

- `IterableFeed`: any iterable of case summaries, or of (position, summary) pairs, re-read on
  every page, for small systems;
- `QueryFeed`: a query the force runs itself (`WHERE seq > %s ORDER BY seq LIMIT %s`), for
  tables too large to sort in memory.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

Position = int | str
Summary = Mapping[str, Any]
MAX_CURSOR_CHARS = 1024


class InvalidCursor(ValueError):
    """A `since` the feed never handed out."""

    def __init__(self) -> None:
        super().__init__("since must be a cursor returned by an earlier page")


@dataclass(frozen=True)
class Entry:
    cursor: str
    summary: Summary


@dataclass(frozen=True)
class FeedPage:
    entries: list[Entry]
    end_cursor: str | None  # `since` again when nothing is newer: the hub keeps its place
    has_next_page: bool


class CaseFeed(Protocol):
    def page(self, since: str | None, first: int) -> FeedPage:
        """Up to `first` summaries after `since`, oldest change first."""


def encode_cursor(place: list[Any]) -> str:
    text = json.dumps(place, separators=(",", ":"), ensure_ascii=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """The place a cursor names: a list of `size` items, the first an int or a string."""
    if len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursor
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        place = json.loads(text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor from None
    if not isinstance(place, list) or len(place) != size:
        raise InvalidCursor
    if isinstance(place[0], bool) or not isinstance(place[0], int | str):
        raise InvalidCursor
    return place


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _version(summary: Summary) -> int:
    version = summary.get("version") if isinstance(summary, Mapping) else None
    return version if isinstance(version, int) and not isinstance(version, bool) else 0


def _identity(summary: Summary) -> tuple[str, str]:
    if not isinstance(summary, Mapping):
        return "", _text(summary)
    return _text(summary.get("force")), _text(summary.get("caseRef"))


def newest_only(summaries: Iterable[tuple[Position, Summary]]) -> list[tuple[Position, Summary]]:
    """One entry per case: its highest version (a tombstone is a version like any other)."""
    best: dict[tuple[str, str], tuple[Position, Summary]] = {}
    for index, (position, summary) in enumerate(summaries):
        # Something that is not an object is passed on as it is: the hub rejects it, saying why.
        key = _identity(summary) if isinstance(summary, Mapping) else ("", f"#{index}")
        held = best.get(key)
        if held is None or _version(summary) > _version(held[1]):
            best[key] = (position, summary)
    return list(best.values())


def _checked(position: object) -> Position:
    if isinstance(position, bool) or not isinstance(position, int | str):
        raise TypeError("a feed position must be an int or a str")
    return position


class IterableFeed:
    """Case summaries from any iterable, sorted by position on every page.

    `items` is an iterable that can be read again (a list, a queryset) or a function returning
    a fresh one, so each page sees the force's current data. Its items are summaries, whose
    position `position(summary)` gives, or else `(position, summary)` pairs.
    """

    def __init__(
        self,
        items: Iterable[Any] | Callable[[], Iterable[Any]],
        *,
        position: Callable[[Summary], Position] | None = None,
    ) -> None:
        self._items = items
        self._position = position

    def _pairs(self) -> Iterable[tuple[Position, Summary]]:
        items = self._items() if callable(self._items) else self._items
        if self._position is None:
            return ((_checked(p), s) for p, s in items)
        place = self._position
        return ((_checked(place(s)), s) for s in items)

    def page(self, since: str | None, first: int) -> FeedPage:
        after = decode_cursor(since, 3) if since else None
        placed = [([p, *_identity(s)], s) for p, s in newest_only(self._pairs())]
        kinds = {type(place[0]) for place, _ in placed}
        if after is not None:
            kinds.add(type(after[0]))
        if len(kinds) > 1:
            raise TypeError("feed positions must be all ints or all strs")
        if after is not None:
            placed = [item for item in placed if item[0] > after]
        placed.sort(key=lambda item: item[0])
        taken = placed[:first]
        entries = [Entry(encode_cursor(place), summary) for place, summary in taken]
        end = entries[-1].cursor if entries else since
        return FeedPage(entries, end, len(placed) > first)


class QueryFeed:
    """Case summaries from the force's own query.

    `query(after, limit)` returns up to `limit` `(position, summary)` pairs with a position
    greater than `after` (all when None), in position order; positions must be unique (a
    change sequence). Several versions of one case in one page are cut to the newest.
    """

    def __init__(
        self, query: Callable[[Position | None, int], Iterable[tuple[Position, Summary]]]
    ) -> None:
        self._query = query

    def page(self, since: str | None, first: int) -> FeedPage:
        after: Position | None = decode_cursor(since, 1)[0] if since else None
        rows = [(_checked(p), s) for p, s in self._query(after, first + 1)]
        more = len(rows) > first
        rows = rows[:first]
        end = encode_cursor([rows[-1][0]]) if rows else since
        kept = {id(summary) for _, summary in newest_only(rows)}
        entries = [Entry(encode_cursor([p]), s) for p, s in rows if id(s) in kept]
        return FeedPage(entries, end, more)
