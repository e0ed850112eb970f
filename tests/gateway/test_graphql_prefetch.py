"""Look-ahead: a field's value is loaded beside its parent's, when the query asks for it."""

from __future__ import annotations

import asyncio
import gc

import pytest
import strawberry
from strawberry.dataloader import DataLoader

from gateway.graphql.loaders import asks_for, prefetch

seen: list[bool] = []


@strawberry.type
class Item:
    name: str = "item"
    links: list[str] = strawberry.field(default_factory=list)


@strawberry.type
class Query:
    @strawberry.field
    def item(self, info: strawberry.Info) -> Item:
        seen.append(asks_for(info, "links"))
        return Item()


SCHEMA = strawberry.Schema(query=Query)


@pytest.mark.parametrize(
    ("query", "asked"),
    [
        ("{ item { name links } }", True),
        ("{ item { name l: links } }", True),  # an alias is still the field
        ("{ item { ... on Item { links } } }", True),
        ("{ item { ...F } } fragment F on Item { name links }", True),
        ("{ item { name } }", False),
    ],
)
async def test_asks_for_finds_a_field_directly_aliased_or_in_fragments(
    query: str, asked: bool
) -> None:
    seen.clear()
    result = await SCHEMA.execute(query)
    assert result.errors is None
    assert seen == [asked]


async def test_a_prefetched_load_runs_beside_the_next_one_and_is_shared() -> None:
    started: list[str] = []
    both_started = asyncio.Event()

    def loader(name: str) -> DataLoader[str, str]:
        async def load(keys: list[str]) -> list[str]:
            started.append(name)
            if len(started) == 2:
                both_started.set()
            await asyncio.wait_for(both_started.wait(), 5)  # neither ends before both began
            return [f"{name}:{key}" for key in keys]

        return DataLoader(load_fn=load)

    links, cases = loader("links"), loader("cases")
    prefetch(links, "AS:1")
    assert await cases.load("AS:1") == "cases:AS:1"
    assert await links.load("AS:1") == "links:AS:1"  # the prefetched future, not a second load
    assert sorted(started) == ["cases", "links"]


async def test_a_prefetch_nobody_awaits_fails_quietly(caplog: pytest.LogCaptureFixture) -> None:
    async def fail(keys: list[str]) -> list[str]:
        raise RuntimeError("the graph is away")

    prefetch(DataLoader(load_fn=fail), "AS:1")
    await asyncio.sleep(0.01)
    gc.collect()  # a failed future reports at its collection
    assert "exception was never retrieved" not in caplog.text
