"""DataLoaders: one graph round trip per kind of thing per request, whatever the query's shape."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from strawberry.types.nodes import SelectedField, Selection

from federation.contacts import officer_contacts
from gateway.graphql.context import Context, Info
from graph.case_seals import CaseSeal
from graph.hashsets import ItemGrades
from graph.queries import links as link_queries
from graph.queries import reading

T = TypeVar("T")


@dataclass(frozen=True)
class LinkRow:
    label: str
    force: str
    case_ref: str
    other: str
    held: bool  # the change feed holds this link back from the reader (`held_back`)


def _grouped(
    rows: list[dict[str, Any]], keys: Sequence[str], by: str
) -> list[list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row[by]].append(row)
    return [groups.get(key, []) for key in keys]


def _loader(
    context: Context, name: str, load: Callable[[Context, list[str]], Awaitable[list[T]]]
) -> DataLoader[str, T]:
    if name not in context.loaders:

        async def batch(keys: list[str]) -> list[T]:
            return await load(context, keys)

        context.loaders[name] = DataLoader(load_fn=batch)
    loader: DataLoader[str, T] = context.loaders[name]
    return loader


async def _cases(context: Context, keys: list[str]) -> list[dict[str, Any] | None]:
    rows = await context.graph.read(reading.CASES, {"keys": keys})
    found = {row["case"]["key"]: dict(row["case"]) for row in rows}
    return [found.get(key) for key in keys]


async def _parts(context: Context, keys: list[str]) -> list[list[dict[str, Any]]]:
    rows = await context.graph.read(reading.CASE_PARTS, {"keys": keys})
    return _grouped(rows, keys, "case")


async def _victims(context: Context, keys: list[str]) -> list[list[dict[str, Any]]]:
    rows = await context.graph.read(reading.CASE_VICTIMS, {"keys": keys})
    return [[row["victim"] for row in group] for group in _grouped(rows, keys, "case")]


async def _links(context: Context, keys: list[str]) -> list[list[LinkRow]]:
    rows = await context.graph.read(link_queries.CASE_LINKS_WITH_HOLDS, {"keys": keys})
    for row in rows:  # the linked cases' seals: their contacts need no second round trip
        seal = CaseSeal(row["other"], row["force"], row["caseRef"], row["sealed"] or None)
        context.seals[row["other"]] = seal
    return [
        [_link_row(context.principal.force, r) for r in group]
        for group in _grouped(rows, keys, "case")
    ]


def _link_row(reader: str | None, row: dict[str, Any]) -> LinkRow:
    held = held_back(reader, row["caseForce"], row["force"], row["held"] or [])
    return LinkRow(row["label"], row["force"], row["caseRef"], row["other"], held)


def held_back(
    reader: str | None, case_force: str | None, other_force: str, held: Collection[str]
) -> bool:
    """Whether the change feed holds back the link between a case of `case_force` and one of
    `other_force` from a reader of force `reader`, so GraphQL must not show it either.

    The feed holds an event between two forces' cases while either force's link events are held
    (`federation.changes.deliver`); and a held force's readers learn of no other force's case
    through another case's links either, or the oracle would only move one hop."""
    if case_force != other_force and (case_force in held or other_force in held):
        return True
    return reader in held and other_force != reader


async def held_forces(context: Context) -> frozenset[str]:
    """The forces whose link events are held now (one small read)."""
    rows = await context.graph.read(link_queries.HELD_FORCES)
    return frozenset(row["force"] for row in rows)


async def _media_review(context: Context, keys: list[str]) -> list[list[dict[str, Any]]]:
    rows = await context.graph.read(reading.MEDIA_GRADED_ELSEWHERE, {"keys": keys})
    return _grouped(rows, keys, "case")


async def _contacts(context: Context, keys: list[str]) -> list[str | None]:
    protection = context.protection
    found = await officer_contacts(
        context.graph,
        protection.cipher,
        protection.sharing,
        context.principal,
        keys,
        read=context.seals,
    )
    return [found.get(key) for key in keys]


def cases(context: Context) -> DataLoader[str, dict[str, Any] | None]:
    return _loader(context, "cases", _cases)


def parts(context: Context) -> DataLoader[str, list[dict[str, Any]]]:
    return _loader(context, "parts", _parts)


def victims(context: Context) -> DataLoader[str, list[dict[str, Any]]]:
    return _loader(context, "victims", _victims)


def links(context: Context) -> DataLoader[str, list[LinkRow]]:
    return _loader(context, "links", _links)


def contacts(context: Context) -> DataLoader[str, str | None]:
    return _loader(context, "contacts", _contacts)


def media_review(context: Context) -> DataLoader[str, list[dict[str, Any]]]:
    return _loader(context, "media_review", _media_review)


def no_viewing(context: Context) -> DataLoader[str, list[ItemGrades]]:
    from gateway.graphql.no_viewing import load_no_viewing

    return _loader(context, "no_viewing", load_no_viewing)


def asks_for(info: Info, name: str) -> bool:
    """Whether the query asks for `name` among the fields of the value being resolved."""

    def among(selections: list[Selection]) -> bool:
        return any(
            s.name == name if isinstance(s, SelectedField) else among(s.selections)
            for s in selections  # fragments: look inside
        )

    return any(among(field.selections) for field in info.selected_fields)


def prefetch(loader: DataLoader[str, T], key: str) -> None:
    """Start loading `key` now, beside whatever the caller loads next, instead of one round trip
    after it; the resolver that needs the value later gets the same future from the loader's
    cache. A failure is reported there, not here: it is only retrieved so asyncio does not log
    it when nobody needed the value (the case was not found)."""
    asyncio.ensure_future(loader.load(key)).add_done_callback(_retrieved)


def _retrieved(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
