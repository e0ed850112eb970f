"""Near-duplicate images: a resized, recompressed or lightly cropped copy links like the image.

Forces send an image's PDQ perceptual hash (256 bits, 64 hex digits). Two hashes within the
linking rules' `pdq_distance` bits of each other are one picture: the second is stored under the
first's `Media` node (the cluster's key), so every link, count, victim group and pre-grading that
follows an exact copy follows a near one too, with nothing else to change.

The region's clusters live in the graph (`graph/clusters.py`), their hashes sealed as
the case that brought them sealed them; each replica keeps them in memory in a faiss
multi-index-hashing index (16 substrings of 16 bits). By the pigeonhole principle two hashes at
most 31 bits apart agree within 1 bit on one of the 16 substrings, so probing each substring's
bucket and its 16 one-bit neighbours finds every cluster within 31 bits: the search is exact,
not approximate, up to that distance, and looks at a few hundred buckets instead of every hash.
Before each batch the index reads the clusters other replicas added since it last looked (one
small read), so replicas agree up to a race between two of them adding near copies in the same
instant, which leaves two near clusters instead of one.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import faiss
import numpy as np

from graph import GraphStore
from graph.clusters import ClusterStore, ImageCluster
from policies.blind_index import BlindIndex
from policies.crypto import DecryptionFailed, FieldCipher
from policies.keys import KeyringError

BITS = 256
SUBSTRINGS = 16  # of 16 bits each
FLIPS = 1  # per substring: exact for distances up to SUBSTRINGS * (FLIPS + 1) - 1 = 31


def pdq_bytes(pdq: str) -> bytes:
    """A normalised PDQ hash (64 lower-case hex digits) as 32 bytes."""
    return bytes.fromhex(pdq)


def hamming(a: str, b: str) -> int:
    """How many of the 256 bits differ."""
    return (int.from_bytes(pdq_bytes(a), "big") ^ int.from_bytes(pdq_bytes(b), "big")).bit_count()


@dataclass(frozen=True)
class NewImage:
    """A PDQ hash of a case being synced, and where the case seals it."""

    pdq: str  # normalised
    force: str
    case_ref: str
    field: str  # the JSON pointer of the hash in the case summary


class ClusterIndex:
    """Image clusters' hashes in memory: the nearest within a distance, exactly."""

    def __init__(self, distance: int) -> None:
        if distance > SUBSTRINGS * (FLIPS + 1) - 1:
            raise ValueError(f"pdq distance: at most {SUBSTRINGS * (FLIPS + 1) - 1}")
        self.distance = distance
        self._index = faiss.IndexBinaryMultiHash(BITS, SUBSTRINGS, BITS // SUBSTRINGS)
        self._index.nflip = FLIPS
        # The hashes by position in the index (which cannot give them back), in added chunks.
        self._chunks: list[np.ndarray] = []
        self._starts: list[int] = []

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def nearest(self, pdq: str) -> str | None:
        """The hash within the distance nearest to `pdq`, if any."""
        hit = self.search([pdq])[0]
        return None if hit is None else hit[0]

    def search(self, pdqs: Sequence[str]) -> list[tuple[str, int] | None]:
        """For each hash, the nearest within the distance and how far it is, in one search."""
        if not len(self) or not pdqs:
            return [None] * len(pdqs)
        distances, found = self._index.search(codes_of(pdqs), 1)
        return [
            None if at < 0 or far > self.distance else (self._code(int(at)).hex(), int(far))
            for (far,), (at,) in zip(distances, found, strict=True)
        ]

    def add(self, hashes: list[str]) -> None:
        if hashes:
            codes = np.frombuffer(b"".join(pdq_bytes(h) for h in hashes), dtype=np.uint8)
            self.add_codes(codes.reshape(len(hashes), BITS // 8))

    def add_codes(self, codes: np.ndarray) -> None:
        """Hashes as an (n, 32) array of bytes: how a region of millions is loaded at once."""
        self._starts.append(len(self))
        self._chunks.append(codes)
        self._index.add(codes)

    def _code(self, position: int) -> bytes:
        chunk = bisect.bisect_right(self._starts, position) - 1
        return bytes(self._chunks[chunk][position - self._starts[chunk]])


# Set bits of each byte value.
POPCOUNT = np.array([bin(n).count("1") for n in range(256)], dtype=np.uint8)


def codes_of(pdqs: Sequence[str]) -> np.ndarray:
    """Hashes as an (n, 32) array of bytes."""
    return np.frombuffer(b"".join(pdq_bytes(p) for p in pdqs), dtype=np.uint8).reshape(-1, 32)


class BatchClusters:
    """The clusters a batch adds, searched exactly by a scan: a batch holds a few hundred."""

    def __init__(self, capacity: int, distance: int) -> None:
        self.distance = distance
        self._codes = np.zeros((capacity, BITS // 8), dtype=np.uint8)
        self._hashes: list[str] = []

    def nearest(self, pdq: str) -> tuple[str, int] | None:
        if not self._hashes:
            return None
        query = codes_of([pdq])[0]
        held = self._codes[: len(self._hashes)]
        distances = POPCOUNT[np.bitwise_xor(held, query)].sum(axis=1, dtype=np.int32)
        at = int(distances.argmin())
        far = int(distances[at])
        return (self._hashes[at], far) if far <= self.distance else None

    def add(self, pdq: str) -> None:
        self._codes[len(self._hashes)] = codes_of([pdq])[0]
        self._hashes.append(pdq)


class NearImages:
    """The region's image clusters: kept in the graph, searched in this replica's memory."""

    def __init__(
        self, store: GraphStore, cipher: FieldCipher, blind: BlindIndex, distance: int
    ) -> None:
        self.index = ClusterIndex(distance)
        self._clusters = ClusterStore(store)
        self._cipher = cipher
        self._blind = blind
        self._known: set[str] = set()  # the clusters' keys, added here or read
        self._seq = 0
        self._lock = asyncio.Lock()

    def __len__(self) -> int:
        return len(self.index)

    def nearest(self, pdq: str) -> str | None:
        return self.index.nearest(pdq)

    async def refresh(self) -> None:
        """Add the clusters other replicas (or this one) numbered since the last look."""
        opened = []
        for cluster in await self._clusters.images_since(self._seq):
            self._seq = max(self._seq, cluster.seq)
            if cluster.key in self._known:
                continue  # added by this replica
            self._known.add(cluster.key)
            try:
                pdq = await self._cipher.open(
                    cluster.force, cluster.case_ref, cluster.field, cluster.sealed
                )
            except (DecryptionFailed, KeyringError):
                pdq = None  # its force's key was shredded: the hash is gone from the search
            if pdq is not None:
                opened.append(pdq)
        self.index.add(opened)

    async def canonical(self, images: Sequence[NewImage]) -> dict[str, str]:
        """Each hash's cluster hash: an existing cluster's within the distance, else its own,
        as a new cluster (kept in the graph before the cases that use it are written)."""
        async with self._lock:  # one batch at a time through this replica's index
            await self.refresh()
            distinct = list(dict.fromkeys(image.pdq for image in images))
            known = dict(zip(distinct, self.index.search(distinct), strict=True))
            # Clusters new in this batch: a later hash of the batch may be near one of them.
            batch = BatchClusters(len(distinct), self.index.distance)
            mapping: dict[str, str] = {}
            added: list[NewImage] = []
            for image in images:
                if image.pdq in mapping:
                    continue
                best, here = known[image.pdq], batch.nearest(image.pdq)
                if here is not None and (best is None or here[1] < best[1]):
                    best = here
                if best is None:
                    batch.add(image.pdq)
                    self._known.add(self._blind.of("pdq", image.pdq))
                    added.append(image)
                mapping[image.pdq] = image.pdq if best is None else best[0]
            self.index.add([image.pdq for image in added])
            if added:
                await self._clusters.add_images(await self._sealed(added))
            return mapping

    async def _sealed(self, images: Iterable[NewImage]) -> list[ImageCluster]:
        return [
            ImageCluster(
                key=self._blind.of("pdq", image.pdq),
                force=image.force,
                case_ref=image.case_ref,
                field=image.field,
                sealed=await self._cipher.seal(image.force, image.case_ref, image.field, image.pdq),
            )
            for image in images
        ]
