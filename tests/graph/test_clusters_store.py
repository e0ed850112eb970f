"""Near-duplicate clusters on both engines: image and video clusters numbered as they are added,
read back by key and number since a replica last looked, and one added twice (two replicas at
once) kept once with its first properties and number."""

from __future__ import annotations

import asyncio

from graph import GraphStore
from graph.clusters import ClusterStore, ImageCluster, VideoCluster


def image(key: str, force: str = "AS") -> ImageCluster:
    return ImageCluster(key, force, f"{force}-1", "/media/0/pdq", f"sealed-{key}-{force}")


async def test_image_clusters_are_numbered_and_read_since(graph_store: GraphStore) -> None:
    clusters = ClusterStore(graph_store)
    assert await clusters.add_images([image("i-b"), image("i-a")]) == 2
    first = await clusters.images_since(0)
    # Numbered in the order of their keys, within one addition.
    assert first == [
        ImageCluster("i-a", "AS", "AS-1", "/media/0/pdq", "sealed-i-a-AS", 1),
        ImageCluster("i-b", "AS", "AS-1", "/media/0/pdq", "sealed-i-b-AS", 2),
    ]
    # Another replica adds one already there: it keeps what it was first given, and its number.
    assert await clusters.add_images([image("i-a", "GL"), image("i-c", "GL")]) == 1
    assert await clusters.images_since(2) == [
        ImageCluster("i-c", "GL", "GL-1", "/media/0/pdq", "sealed-i-c-GL", 3)
    ]
    assert await clusters.images_since(3) == []
    assert await clusters.add_images([]) == 0
    assert await clusters.videos_since(0) == []  # numbered apart


async def test_video_clusters_are_numbered_apart(graph_store: GraphStore) -> None:
    clusters = ClusterStore(graph_store)
    await clusters.add_images([image("i-a")])
    frames = frozenset({"i-a", "i-b", "i-c"})
    assert await clusters.add_videos([VideoCluster("v-1", frames)]) == 1
    again = [VideoCluster("v-1", frozenset({"i-x"})), VideoCluster("v-2", frozenset({"i-z"}))]
    assert await clusters.add_videos(again) == 1
    assert await clusters.videos_since(0) == [
        VideoCluster("v-1", frames, 1), VideoCluster("v-2", frozenset({"i-z"}), 2)
    ]  # fmt: skip
    assert [c.key for c in await clusters.videos_since(1)] == ["v-2"]
    assert [c.seq for c in await clusters.images_since(0)] == [1]


async def test_replicas_adding_at_once_number_without_gaps(graph_store: GraphStore) -> None:
    clusters = ClusterStore(graph_store)
    batches = [[image(f"i-{n:02d}") for n in range(start, start + 10)] for start in (0, 5, 10, 0)]
    added = await asyncio.gather(*(clusters.add_images(batch) for batch in batches))
    assert sum(added) == 20
    kept = await clusters.images_since(0)
    assert sorted(c.key for c in kept) == [f"i-{n:02d}" for n in range(20)]
    assert [c.seq for c in kept] == list(range(1, 21))
