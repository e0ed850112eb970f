"""The region's near-duplicate clusters, as typed values: image clusters (a sealed PDQ hash each)
and video clusters (the image clusters of their frames).

Each replica keeps the clusters in memory (`federation/near_images.py`,
`federation/near_videos.py`) and reads here, before each batch, those numbered since it last
looked; the clusters a batch brings are added here before the cases that use them are written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from graph.port import GraphStore
from graph.queries import clusters as q


@dataclass(frozen=True)
class ImageCluster:
    """An image cluster: its key (the blind index of its first hash), and that hash sealed as
    the case that brought it sealed it (its force, case reference and field)."""

    key: str
    force: str
    case_ref: str
    field: str
    sealed: str
    seq: int = 0  # its number, given when it is added (0 before)


@dataclass(frozen=True)
class VideoCluster:
    """A video cluster: its key and the image clusters of its frames."""

    key: str
    frames: frozenset[str]
    seq: int = 0  # its number, given when it is added (0 before)


@dataclass(frozen=True)
class ClusterStore:
    """Image and video clusters, numbered as they are added, over one graph store."""

    store: GraphStore

    async def images_since(self, seq: int) -> list[ImageCluster]:
        """The image clusters numbered after `seq`, oldest first."""
        rows = await self.store.read(q.IMAGES_SINCE, {"since": seq})
        return [
            ImageCluster(str(row["key"]), str(row["force"]), str(row["caseRef"]),
                         str(row["field"]), str(row["sealed"]), int(row["seq"]))
            for row in rows
        ]  # fmt: skip

    async def add_images(self, clusters: Sequence[ImageCluster]) -> int:
        """Add the clusters not there yet, numbered after the last; how many were new (one
        another replica added first keeps its hash and number)."""
        params = [
            {"key": c.key, "force": c.force, "caseRef": c.case_ref, "field": c.field,
             "sealed": c.sealed}
            for c in clusters
        ]  # fmt: skip
        return await self._add(q.ADD_IMAGES, params)

    async def videos_since(self, seq: int) -> list[VideoCluster]:
        """The video clusters numbered after `seq`, oldest first."""
        rows = await self.store.read(q.VIDEOS_SINCE, {"since": seq})
        return [
            VideoCluster(str(row["key"]), frozenset(row["frames"] or ()), int(row["seq"]))
            for row in rows
        ]

    async def add_videos(self, clusters: Sequence[VideoCluster]) -> int:
        """Add the clusters not there yet, numbered after the last; how many were new."""
        params = [{"key": c.key, "frames": sorted(c.frames)} for c in clusters]
        return await self._add(q.ADD_VIDEOS, params)

    async def _add(self, statement: str, clusters: Sequence[Mapping[str, object]]) -> int:
        if not clusters:
            return 0
        return len(await self.store.write(statement, {"clusters": list(clusters)}))
