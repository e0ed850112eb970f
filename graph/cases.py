"""The write side of cases, in the shape the federation API prepares them.

Everything here is already normalised, blind-indexed and encrypted: the graph layer stores what it
is given. Property maps hold only primitives and lists of primitives (FalkorDB's rule, kept for
both engines). Keys: a case is `FORCE:caseRef`, an entity its blind index, a victim
`FORCE:caseRef:ref`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from graph.port import GraphStore
from graph.queries import cases as q

Props = dict[str, Any]


class EntityLink(TypedDict):
    key: str
    props: Props  # kept on the relationship from the case: the force's own view of the entity


class Depiction(TypedDict):
    media: str
    victim: str


class Contact(TypedDict):
    victim: str
    entity: str


class VictimRow(TypedDict):
    key: str
    props: Props


class CaseRow(TypedDict):
    key: str
    version: int
    props: Props  # every property of the Case node, including key, force, caseRef and version
    persons: list[EntityLink]
    devices: list[EntityLink]
    accounts: list[EntityLink]
    ips: list[EntityLink]
    media: list[EntityLink]
    series: list[EntityLink]
    victims: list[VictimRow]
    depicts: list[Depiction]
    contactPersons: list[Contact]
    contactAccounts: list[Contact]


class TombstoneRow(TypedDict):
    key: str
    force: str
    version: int


def case_key(force: str, case_ref: str) -> str:
    return f"{force}:{case_ref}"


async def upsert_cases(store: GraphStore, cases: Sequence[CaseRow]) -> set[str]:
    """Write the cases whose version is newer than the stored one; return the keys applied.

    One statement, so the batch commits whole or not at all.
    """
    if not cases:
        return set()
    rows = await store.write(q.UPSERT, {"cases": list(cases)})
    return {row["key"] for row in rows}


async def insert_cases(store: GraphStore, cases: Sequence[CaseRow]) -> set[str]:
    """Write cases the graph has never held (no case, no tombstone); return the keys written.

    Cheaper than `upsert_cases` for a first sync. A case found to exist after all is skipped
    (not returned): write it with `upsert_cases`. One statement, committed whole or not at all.
    """
    if not cases:
        return set()
    rows = await store.write(q.INSERT, {"cases": list(cases)})
    return {row["key"] for row in rows}


async def tombstone_cases(store: GraphStore, tombstones: Sequence[TombstoneRow]) -> set[str]:
    if not tombstones:
        return set()
    rows = await store.write(q.TOMBSTONE, {"cases": list(tombstones)})
    return {row["key"] for row in rows}


async def stored_versions(store: GraphStore, keys: Sequence[str]) -> dict[str, int]:
    """The version held for each key (a live case or a tombstone); 0 when unknown."""
    held = dict.fromkeys(keys, 0)
    for row in await store.read(q.VERSIONS, {"keys": list(keys)}):
        held[row["key"]] = row["version"]
    return held
