"""Near-duplicate videos (vPDQ): a re-encoded or resized copy of a video links like the video.

A force sends a video's vPDQ hash as Meta's vpdq computes it: one PDQ hash per sampled frame,
with the frame's number, timestamp and quality (`media[].vpdq`). Each frame hash goes through the
region's near-duplicate image index (`federation/near_images.py`) like any PDQ hash, so a frame
is known by its image cluster. Two videos are one when, as vpdq's own matching rule has it,
enough of each one's frames match the other's: of the distinct frames of quality at least
`QUALITY_MIN`, a share of at least `MATCH_SHARE` of each video's frames is among the other's
(frames match when they fall in one image cluster, that is within the linking distance). A video
is then stored under its video cluster's `Media` key, so links, counts and pre-grading follow a
near copy of a video as they follow an exact copy of an image.

Candidates are the clusters sharing at least one frame with the new video, found in this
replica's memory; each is checked by the share both ways. Clusters live in the graph
(`graph/clusters.py`) as blind indexes only, and each replica reads the ones others
added before each batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from graph import GraphStore
from graph.clusters import ClusterStore, VideoCluster
from policies.blind_index import BlindIndex

QUALITY_MIN = 50  # vpdq's quality tolerance: flatter frames (a black screen) match anything
MATCH_SHARE = 0.8  # of each video's distinct frames, found in the other's (vpdq's 80 %)


@dataclass(frozen=True)
class NewVideo:
    """A video of a case being synced: its frames' image cluster keys (quality-filtered)."""

    fingerprint: str  # what names it in the batch (`prepare.video_fingerprint`)
    frames: frozenset[str]


def shares(a: frozenset[str], b: frozenset[str]) -> tuple[float, float]:
    """The share of `a`'s frames found in `b`, and of `b`'s found in `a`."""
    common = len(a & b)
    return (common / len(a) if a else 0.0, common / len(b) if b else 0.0)


def same_video(a: frozenset[str], b: frozenset[str]) -> bool:
    return min(shares(a, b)) >= MATCH_SHARE


class NearVideos:
    """The region's video clusters: kept in the graph, matched in this replica's memory."""

    def __init__(self, store: GraphStore, blind: BlindIndex) -> None:
        self._clusters = ClusterStore(store)
        self._blind = blind
        self._frames: dict[str, frozenset[str]] = {}  # cluster key -> its frames
        self._by_frame: dict[str, set[str]] = {}  # frame -> the clusters showing it
        self._seq = 0
        self._lock = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._frames)

    def _add(self, key: str, frames: frozenset[str]) -> None:
        self._frames[key] = frames
        for frame in frames:
            self._by_frame.setdefault(frame, set()).add(key)

    def nearest(self, frames: frozenset[str]) -> str | None:
        """The cluster this video is a copy of, if any: of those sharing a frame with it, the
        one sharing the most, when both shares reach `MATCH_SHARE`."""
        candidates: set[str] = set()
        for frame in frames:
            candidates |= self._by_frame.get(frame, set())
        best = None
        best_common = 0
        for key in sorted(candidates):
            known = self._frames[key]
            common = len(frames & known)
            if common > best_common and same_video(frames, known):
                best, best_common = key, common
        return best

    async def refresh(self) -> None:
        """Add the clusters other replicas (or this one) numbered since the last look."""
        for cluster in await self._clusters.videos_since(self._seq):
            self._seq = max(self._seq, cluster.seq)
            if cluster.key not in self._frames:
                self._add(cluster.key, cluster.frames)

    async def canonical(self, videos: Sequence[NewVideo]) -> dict[str, str]:
        """Each video's cluster key (its `Media` key): an existing cluster it is a copy of, else
        a new cluster of its own (kept in the graph before the cases that use it are written)."""
        async with self._lock:
            await self.refresh()
            mapping: dict[str, str] = {}
            added: list[VideoCluster] = []
            for video in videos:
                if video.fingerprint in mapping or not video.frames:
                    continue
                key = self.nearest(video.frames)
                if key is None:
                    key = self._blind.of("vpdq", ",".join(sorted(video.frames)))
                    self._add(key, video.frames)
                    added.append(VideoCluster(key, video.frames))
                mapping[video.fingerprint] = key
            await self._clusters.add_videos(added)
            return mapping
