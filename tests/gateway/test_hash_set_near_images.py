"""Known-image hash sets meet near copies, on both engines: a resized or recompressed copy of a
picture a set lists by PDQ hash is pre-graded like the picture, whether the case was synced
before or after the set was imported; a different picture is not. Real PDQ hashes of synthetic
pictures (tests/federation/pictures.py).

One test in a module of its own: the hub's in-memory image index lives as long as the module's
hub, and each test clears the graph it mirrors."""

from __future__ import annotations

import asyncio
from pathlib import Path

from federation.hashsets import import_hash_set
from federation.near_images import hamming
from gateway.protection import audit_log_for, blind_index_for, near_images_for
from graph.hashsets import HashSets
from tests.federation.conftest import Hub
from tests.federation.pictures import pdq, picture, recompressed, resized
from tests.gateway.graphql_client import data, summary, sync_all

QUERY = """query($force: String!, $ref: String!) {
  case(force: $force, caseRef: $ref) { mediaNoViewing { item gradedBy category hashSets } }
}"""
PENDING = "MATCH (c:Case) WHERE c.afterSyncPending = true RETURN c.caseRef AS ref"
VIEWS = "{ oversight { imageViewsAvoided { force count } } }"
THRESHOLD = 31  # the linking rules' default


def case_with(force: str, number: int, images: list[str]) -> dict[str, object]:
    """A case holding images by their own files (MD5s no set lists) and PDQ hashes."""
    media = [{"md5": f"{number:016x}{i:016x}", "pdq": image} for i, image in enumerate(images)]
    return summary(force, number, schema="crossforce/case-summary/v1.1", media=media)


async def no_viewing(hub: Hub, force: str, ref: str) -> list[dict[str, object]]:
    found = await data(hub, f"analyst-{force}", QUERY, {"force": force, "ref": ref})
    items: list[dict[str, object]] = found["case"]["mediaNoViewing"]
    return items


async def test_a_near_copy_of_a_listed_picture_needs_no_viewing(hub: Hub, tmp_path: Path) -> None:
    first, second, unlisted = picture(11), picture(12), picture(13)
    listed = {"first": pdq(first), "second": pdq(second)}
    copies = {"first": pdq(resized(first)), "second": pdq(recompressed(second))}
    for name, copy in copies.items():  # near, not exact: only the distance joins them
        assert copy != listed[name] and hamming(copy, listed[name]) <= THRESHOLD
    other = pdq(unlisted)
    assert min(hamming(other, h) for h in listed.values()) > THRESHOLD

    # A copy of the first picture is synced before the set is imported ...
    await sync_all(hub, [case_with("AS", 1, [copies["first"], other])])
    listing = tmp_path / "caid.csv"
    listing.write_text(f"pdq,category\n{listed['first']},A\n{listed['second'].upper()},B\n")
    blind = blind_index_for(hub.settings)
    near = near_images_for(hub.settings, hub.store, blind, audit_log_for(hub.settings, hub.store))
    imported = await import_hash_set(
        listing, HashSets(hub.store), blind, name="caid", source="CAID", set_date=None, near=near
    )
    assert (imported.listed, imported.entries, imported.skipped) == (2, 2, [])
    # ... a copy of the second after it.
    synced = await hub.sync("force-GL", [case_with("GL", 2, [other, copies["second"]])])
    assert [r["status"] for r in synced.json()["results"]] == ["applied"]
    await counted(hub, "GL-T-0002")

    assert await no_viewing(hub, "AS", "AS-T-0001") == [
        {"item": 0, "gradedBy": "HASHSET", "category": "A", "hashSets": ["caid"]}
    ]
    assert await no_viewing(hub, "GL", "GL-T-0002") == [
        {"item": 1, "gradedBy": "HASHSET", "category": "B", "hashSets": ["caid"]}
    ]
    # No listed hash is kept in clear, the clusters' included.
    stored = repr(await hub.store.read("MATCH (n) WHERE n:KnownHash OR n:ImageCluster "
                                       "RETURN properties(n) AS n"))  # fmt: skip
    for clear in (*listed.values(), *copies.values()):
        assert clear not in stored and clear.upper() not in stored
    # The new case was counted with its view avoided; the case synced before the import is
    # sent back to be counted again (the after-sync step's sweep takes it up).
    views = await data(hub, "coordinator", VIEWS)
    assert [(v["force"], v["count"]) for v in views["oversight"]["imageViewsAvoided"]
            if v["count"]] == [("GL", 1)]  # fmt: skip
    assert await hub.store.read(PENDING) == [{"ref": "AS-T-0001"}]


async def counted(hub: Hub, case_ref: str) -> None:
    """Wait until the after-sync step has counted one case."""
    for _ in range(600):
        if {"ref": case_ref} not in await hub.store.read(PENDING):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{case_ref} was not counted within 30 s")
