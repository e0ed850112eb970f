"""Known-image hash sets, on both engines: imported from VICS JSON and CSV, kept blind-indexed,
and each case's own force told which of its images need no viewing (`Case.mediaNoViewing`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from federation.hashsets import HashSetFileError, import_hash_set
from gateway.protection import blind_index_for
from graph.hashsets import HashSets
from tests.federation.conftest import Hub
from tests.gateway.graphql_client import data, iso, summary, sync_all

LISTED_MD5 = "0cc175b9c0f1b6a831c399e269772661"
LISTED_SHA1 = "3f786850e387550fdab836ed7e6dc881de23001b"
GRADED_ELSEWHERE = "b" * 40
UNKNOWN = "c" * 32
QUERY = """query($force: String!, $ref: String!) {
  case(force: $force, caseRef: $ref) { mediaNoViewing { item gradedBy category hashSets } }
}"""
KNOWN = "MATCH (k:KnownHash) RETURN k.key AS key"


def csv_list(path: Path) -> Path:
    # An upper-case hash: listed hashes are normalised as synced ones are.
    path.write_text(f"md5,sha1,category\n{LISTED_MD5.upper()},,B\n,{'d' * 40},C\n,nothex,A\n")
    return path


def vics(path: Path) -> Path:
    media = [
        {"MediaID": 1, "Category": 1, "MD5": "e" * 32, "SHA1": LISTED_SHA1.upper()},
        {"MediaID": 2, "Category": 0, "MD5": "f" * 32},  # not categorised: grades nothing
    ]
    document = {"@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/", "value": media}
    path.write_text(json.dumps(document))
    return path


async def import_sets(hub: Hub, tmp_path: Path) -> None:
    sets = HashSets(hub.store)
    blind = blind_index_for(hub.settings)
    listed = await import_hash_set(
        csv_list(tmp_path / "caid.csv"), sets, blind, name="caid", source="CAID", set_date=None
    )
    assert (listed.listed, listed.entries) == (2, 2)
    assert listed.skipped == ["line 4: not a valid sha1 hash"]
    from_vics = await import_hash_set(
        vics(tmp_path / "vic.json"), sets, blind, name="vic", source="Project VIC", set_date=None
    )
    assert (from_vics.listed, from_vics.entries) == (2, 2)
    assert from_vics.skipped == ["entry 2: not categorised"]


async def test_each_case_lists_the_images_that_need_no_viewing(hub: Hub, tmp_path: Path) -> None:
    now = iso(datetime.now(UTC))
    media = [
        {"md5": LISTED_MD5},
        {"sha1": LISTED_SHA1},
        {"sha1": GRADED_ELSEWHERE},
        {"md5": UNKNOWN},
    ]
    await sync_all(
        hub,
        [
            summary("AS", 1, media=media),
            summary("GL", 2, media=[{"sha1": GRADED_ELSEWHERE, "category": "A", "gradedAt": now}]),
        ],
    )
    await import_sets(hub, tmp_path)

    mine = await data(hub, "analyst-AS", QUERY, {"force": "AS", "ref": "AS-T-0001"})
    theirs = await data(hub, "analyst-GL", QUERY, {"force": "AS", "ref": "AS-T-0001"})

    assert mine["case"]["mediaNoViewing"] == [
        {"item": 0, "gradedBy": "HASHSET", "category": "B", "hashSets": ["caid"]},
        {"item": 1, "gradedBy": "HASHSET", "category": "VICS 1", "hashSets": ["vic"]},
        {"item": 2, "gradedBy": "REGION", "category": "A", "hashSets": []},
    ]
    # Another force's analyst may see the case, but not which of its images need no viewing.
    assert theirs["case"] is None or theirs["case"]["mediaNoViewing"] == []


async def test_listed_hashes_are_kept_only_as_blind_indexes(hub: Hub, tmp_path: Path) -> None:
    await import_sets(hub, tmp_path)

    keys = [row["key"] for row in await hub.store.read(KNOWN)]

    assert len(keys) == 4
    for clear in (LISTED_MD5, LISTED_SHA1, "d" * 40, "e" * 32):
        assert clear not in keys and clear.upper() not in keys


async def test_a_file_that_is_no_hash_list_changes_nothing(hub: Hub, tmp_path: Path) -> None:
    await import_sets(hub, tmp_path)
    no_header = tmp_path / "bad.csv"
    no_header.write_text(f"{LISTED_MD5},A\n")
    broken = tmp_path / "bad.json"
    broken.write_text('{"value": [{"Category": 1, "MD5": "' + "a" * 32 + '"}, {"Cat')

    sets = HashSets(hub.store)
    blind = blind_index_for(hub.settings)
    for path in (no_header, broken):
        with pytest.raises(HashSetFileError):
            await import_hash_set(path, sets, blind, name="caid", source="CAID", set_date=None)

    assert len(await hub.store.read(KNOWN)) == 4  # the sets imported before are untouched


VIEWS = "{ oversight { imageViewsAvoided { force count } } }"


async def test_images_a_hash_set_lists_count_as_views_avoided(hub: Hub, tmp_path: Path) -> None:
    await import_sets(hub, tmp_path)
    # Two of the case's four items are listed; the other two nobody graded.
    media = [{"md5": LISTED_MD5}, {"sha1": LISTED_SHA1}, {"md5": "c" * 32}, {"sha1": "e" * 40}]
    await sync_all(hub, [summary("AS", 1, media=media)])
    views = await data(hub, "coordinator", VIEWS)
    assert views["oversight"]["imageViewsAvoided"] == [{"force": "AS", "count": 2}]


async def test_an_import_sends_the_cases_holding_listed_images_to_be_counted_again(
    hub: Hub, tmp_path: Path
) -> None:
    media = [{"md5": LISTED_MD5}, {"md5": "c" * 32}]
    await sync_all(hub, [summary("AS", 1, media=media), summary("GL", 2, media=media[1:])])
    await import_sets(hub, tmp_path)
    rows = await hub.store.read(
        "MATCH (c:Case) WHERE c.afterSyncPending = true RETURN c.caseRef AS ref ORDER BY ref"
    )
    assert [row["ref"] for row in rows] == ["AS-T-0001"]
