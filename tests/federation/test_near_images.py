"""Near-duplicate images: a resized, recompressed or cropped copy links cases as the picture
does, on each engine; a different picture does not. Real PDQ hashes of synthetic pictures."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from federation.near_images import NearImages, NewImage, hamming
from graph import GraphStore
from graph.keyring_store import MemoryKeyStore
from policies.blind_index import BlindIndex
from policies.crypto import FieldCipher
from policies.keys import KeyRing, LocalKeyFile
from tests.federation.conftest import Hub
from tests.federation.pictures import cropped, pdq, picture, recompressed, resized
from tests.gateway.graphql_client import data, summary, sync_all

THRESHOLD = 31  # the linking rules' default

LINKS = """query C($f: String!, $r: String!) { case(force: $f, caseRef: $r) {
  links { force caseRef } } }"""
HOLDERS = """query H($v: String!) {
  holders(identifier: {kind: PDQ, value: $v}, purpose: "check a referral's image") {
    force caseRef } }"""


@pytest.fixture(scope="module")
def hashes() -> dict[str, str]:
    original = picture(1)
    return {
        "original": pdq(original),
        "resized": pdq(resized(original)),
        "recompressed": pdq(recompressed(original)),
        "cropped": pdq(cropped(original)),
        "other": pdq(picture(2)),
        "third": pdq(picture(3)),
    }


def test_copies_of_a_picture_are_near_and_other_pictures_are_not(
    hashes: dict[str, str],
) -> None:
    for copy in ("resized", "recompressed", "cropped"):
        assert hamming(hashes["original"], hashes[copy]) <= THRESHOLD, copy
    # Not exact copies: only the distance can join these to the picture.
    assert hashes["resized"] != hashes["original"] != hashes["cropped"]
    for other in ("other", "third"):
        assert hamming(hashes["original"], hashes[other]) > THRESHOLD


def case_with(force: str, number: int, image: str) -> dict[str, object]:
    """A case holding one image: its own file (MD5), and the picture's PDQ hash."""
    media = {"md5": f"{number:032x}", "pdq": image.upper(), "category": "A"}
    return summary(force, number, schema="crossforce/case-summary/v1.1", media=[media])


async def test_a_near_copy_links_cases_across_forces_and_is_found_by_search(
    hub: Hub, hashes: dict[str, str]
) -> None:
    await sync_all(
        hub,
        [
            case_with("AS", 1, hashes["original"]),
            case_with("GL", 2, hashes["resized"]),
            case_with("WI", 3, hashes["other"]),
        ],
    )
    links = await data(hub, "analyst-AS", LINKS, {"f": "AS", "r": "AS-T-0001"})
    assert [(x["force"], x["caseRef"]) for x in links["case"]["links"]] == [("GL", "GL-T-0002")]
    found = await data(hub, "analyst-AS", HOLDERS, {"v": hashes["cropped"]})
    assert sorted((h["force"], h["caseRef"]) for h in found["holders"]) == [
        ("AS", "AS-T-0001"), ("GL", "GL-T-0002")
    ]  # fmt: skip
    other = await data(hub, "analyst-AS", HOLDERS, {"v": hashes["third"]})
    assert other["holders"] == []


@pytest.fixture
def replica(graph_store: GraphStore, tmp_path: Path) -> Callable[[], NearImages]:
    """A replica's index of the region's image clusters, on one empty graph and one key ring,
    at the default threshold."""
    cipher = FieldCipher(KeyRing(MemoryKeyStore(), LocalKeyFile.in_data_dir(tmp_path)))
    return lambda: NearImages(graph_store, cipher, BlindIndex(b"k" * 32), THRESHOLD)


def images_of(force: str, hashes: list[str]) -> list[NewImage]:
    return [NewImage(h, force, f"{force}-{i}", "/media/0/pdq") for i, h in enumerate(hashes)]


async def test_the_index_finds_exactly_what_a_full_scan_finds_up_to_the_threshold(
    replica: Callable[[], NearImages],
) -> None:
    rng = random.Random(7)
    near = replica()
    stored = [f"{rng.getrandbits(256):064x}" for _ in range(500)]
    await near.canonical(images_of("AS", stored))
    assert len(near) == 500
    for flips in (0, 1, 8, 20, 31, 32, 60):
        for base in rng.sample(stored, 10):
            bits = int(base, 16)
            for bit in rng.sample(range(256), flips):
                bits ^= 1 << bit
            query = f"{bits:064x}"
            scan = min(stored, key=lambda h: hamming(h, query))
            expected = scan if hamming(scan, query) <= THRESHOLD else None
            found = near.nearest(query)
            assert (found is None) == (expected is None), (flips, found, expected)
            if found is not None and expected is not None:
                assert hamming(found, query) == hamming(expected, query)
    # Another replica's index reads the clusters from the graph, keys and all.
    other = replica()
    await other.refresh()
    assert len(other) == 500 and other.nearest(stored[3]) == stored[3]


def sequential_clusters(known: list[str], hashes: list[str]) -> dict[str, str]:
    """Each hash's cluster as one image after another would make it: the nearest of the clusters
    so far within the threshold (the earliest on a tie), else a cluster of its own."""
    clusters, mapping = list(known), {}
    for h in hashes:
        if h in mapping:
            continue
        near = [(hamming(c, h), n, c) for n, c in enumerate(clusters)]
        best = min(near, default=None)
        if best is None or best[0] > THRESHOLD:
            clusters.append(h)
            mapping[h] = h
        else:
            mapping[h] = best[2]
    return mapping


def flipped(base: str, bits: int, rng: random.Random) -> str:
    value = int(base, 16)
    for bit in rng.sample(range(256), bits):
        value ^= 1 << bit
    return f"{value:064x}"


async def test_a_batch_clusters_as_its_images_would_one_after_another(
    replica: Callable[[], NearImages],
) -> None:
    rng = random.Random(11)
    near = replica()
    known = [f"{rng.getrandbits(256):064x}" for _ in range(40)]
    await near.canonical(images_of("AS", known))

    # Near copies of known pictures, new pictures and near copies of those, repeats, in one batch.
    new = [f"{rng.getrandbits(256):064x}" for _ in range(40)]
    batch = [
        flipped(rng.choice(known + new), rng.choice([0, 5, 20, 31, 40]), rng) for _ in range(200)
    ]
    batch = [*new[:20], *batch, *batch[:10]]
    assert await near.canonical(images_of("GL", batch)) == sequential_clusters(known, batch)
    assert len(near) == len(set(sequential_clusters(known, batch).values()) | set(known))
