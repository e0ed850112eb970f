"""DataLoaders: one graph round trip per kind of thing per request, whatever the query's shape."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from strawberry.types.nodes import SelectedField, Selection

from federation.contacts import officer_contacts
from gateway.graphql.context import Context, Info
from graph.case_reads import (
    CaseParts,
    CaseReads,
    LinkedCase,
    MediaGrades,
    StoredCase,
    StoredVictim,
)
from graph.hashsets import ItemGrades

T = TypeVar("T")


@dataclass(frozen=True)
class LinkRow:
    """A link of a case as GraphQL may show it."""

    label: str
    force: str
    case_ref: str
    other: str
    held: bool  # the change feed holds this link back from the reader (`held_back`)


def _loader(
    context: Context, name: str, load: Callable[[Context, list[str]], Awaitable[list[T]]]
) -> DataLoader[str, T]:
    if name not in context.loaders:

        async def batch(keys: list[str]) -> list[T]:
            return await load(context, keys)

        context.loaders[name] = DataLoader(load_fn=batch)
    loader: DataLoader[str, T] = context.loaders[name]
    return loader


async def _cases(context: Context, keys: list[str]) -> list[StoredCase | None]:
    found = await CaseReads(context.graph).cases(keys)
    return [found.get(key) for key in keys]


async def _parts(context: Context, keys: list[str]) -> list[CaseParts]:
    found = await CaseReads(context.graph).parts(keys)
    return [found[key] for key in keys]


async def _victims(context: Context, keys: list[str]) -> list[list[StoredVictim]]:
    found = await CaseReads(context.graph).victims(keys)
    return [found[key] for key in keys]


async def _links(context: Context, keys: list[str]) -> list[list[LinkRow]]:
    found = await CaseReads(context.graph).links(keys)
    reader = context.principal.force
    shown = []
    for key in keys:
        for link in found[key]:  # the linked cases' seals: their contacts need no second read
            context.seals[link.other.key] = link.other
        shown.append([_link_row(reader, link) for link in found[key]])
    return shown


def _link_row(reader: str | None, link: LinkedCase) -> LinkRow:
    other = link.other
    held = held_back(reader, link.case_force, other.force, link.held)
    return LinkRow(link.label, other.force, other.case_ref, other.key, held)


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
    return await CaseReads(context.graph).held_forces()


async def _media_review(context: Context, keys: list[str]) -> list[list[MediaGrades]]:
    found = await CaseReads(context.graph).media_graded_elsewhere(keys)
    return [found[key] for key in keys]


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


def cases(context: Context) -> DataLoader[str, StoredCase | None]:
    return _loader(context, "cases", _cases)


def parts(context: Context) -> DataLoader[str, CaseParts]:
    return _loader(context, "parts", _parts)


def victims(context: Context) -> DataLoader[str, list[StoredVictim]]:
    return _loader(context, "victims", _victims)


def links(context: Context) -> DataLoader[str, list[LinkRow]]:
    return _loader(context, "links", _links)


def contacts(context: Context) -> DataLoader[str, str | None]:
    return _loader(context, "contacts", _contacts)


def media_review(context: Context) -> DataLoader[str, list[MediaGrades]]:
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
