"""Near-duplicate images: a resized, recompressed or lightly cropped copy links like the image.

Forces send an image's PDQ perceptual hash (256 bits, 64 hex digits). Two hashes within the
linking rules' `pdq_distance` bits of each other are one picture: the second is stored under the
first's `Media` node (the cluster's key), so every link, count, victim group and pre-grading that
follows an exact copy follows a near one too, with nothing else to change.

The region's clusters live in the graph (`graph/queries/near_images.py`), their hashes sealed as
the case that brought them sealed them; each replica keeps them in memory in a faiss
multi-index-hashing index (8 substrings of 32 bits). By the pigeonhole principle two hashes at
most 31 bits apart agree within 3 bits on one of the 8 substrings, so probing each substring's
neighbours within 3 flips finds every cluster within 31 bits: the search is exact, not
approximate, up to that distance. Before each batch the index reads the clusters other replicas
added since it last looked (one small read), so replicas agree up to a race between two of them
adding near copies in the same instant, which leaves two near clusters instead of one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import faiss
import numpy as np

from graph import GraphStore
from graph.queries import near_images as q
from policies.blind_index import BlindIndex
from policies.crypto import DecryptionFailed, FieldCipher
from policies.keys import KeyringError

BITS = 256
SUBSTRINGS = 8  # of 32 bits each
FLIPS = 3  # per substring: exact for distances up to SUBSTRINGS * (FLIPS + 1) - 1 = 31


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


class NearImages:
    def __init__(
        self, store: GraphStore, cipher: FieldCipher, blind: BlindIndex, distance: int
    ) -> None:
        if distance > SUBSTRINGS * (FLIPS + 1) - 1:
            raise ValueError(f"pdq distance: at most {SUBSTRINGS * (FLIPS + 1) - 1}")
        self.distance = distance
        self._store = store
        self._cipher = cipher
        self._blind = blind
        self._index = faiss.IndexBinaryMultiHash(BITS, SUBSTRINGS, BITS // SUBSTRINGS)
        self._index.nflip = FLIPS
        self._hashes: list[str] = []  # by position in the index
        self._known: set[str] = set()  # the clusters' keys, added here or read
        self._seq = 0
        self._lock = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._hashes)

    async def refresh(self) -> None:
        """Add the clusters other replicas (or this one) numbered since the last look."""
        rows = await self._store.read(q.CLUSTERS_SINCE, {"since": self._seq})
        opened = []
        for row in rows:
            self._seq = max(self._seq, int(row["seq"]))
            if row["key"] in self._known:
                continue  # added by this replica
            self._known.add(row["key"])
            try:
                pdq = await self._cipher.open(
                    row["force"], row["caseRef"], row["field"], row["sealed"]
                )
            except (DecryptionFailed, KeyringError):
                pdq = None  # its force's key was shredded: the hash is gone from the search
            if pdq is not None:
                opened.append(pdq)
        self._add(opened)

    def nearest(self, pdq: str) -> str | None:
        """The cluster hash within the distance nearest to `pdq`, if any."""
        if not self._hashes:
            return None
        query = np.frombuffer(pdq_bytes(pdq), dtype=np.uint8).reshape(1, -1)
        distances, found = self._index.search(query, 1)
        if found[0][0] < 0 or distances[0][0] > self.distance:
            return None
        return self._hashes[int(found[0][0])]

    async def canonical(self, images: Sequence[NewImage]) -> dict[str, str]:
        """Each hash's cluster hash: an existing cluster's within the distance, else its own,
        as a new cluster (kept in the graph before the cases that use it are written)."""
        async with self._lock:  # one batch at a time through this replica's index
            await self.refresh()
            mapping: dict[str, str] = {}
            added: list[NewImage] = []
            for image in images:
                if image.pdq in mapping:
                    continue
                near = self.nearest(image.pdq)
                if near is None:
                    self._add([image.pdq])
                    self._known.add(self._blind.of("pdq", image.pdq))
                    added.append(image)
                    near = image.pdq
                mapping[image.pdq] = near
            if added:
                await self._store.write(q.ADD_CLUSTERS, {"clusters": await self._rows(added)})
            return mapping

    async def _rows(self, images: Iterable[NewImage]) -> list[dict[str, str]]:
        return [
            {
                "key": self._blind.of("pdq", image.pdq),
                "force": image.force,
                "caseRef": image.case_ref,
                "field": image.field,
                "sealed": await self._cipher.seal(
                    image.force, image.case_ref, image.field, image.pdq
                ),
            }
            for image in images
        ]

    def _add(self, hashes: list[str]) -> None:
        if not hashes:
            return
        vectors = np.frombuffer(b"".join(pdq_bytes(h) for h in hashes), dtype=np.uint8)
        self._index.add(vectors.reshape(len(hashes), BITS // 8))
        self._hashes.extend(hashes)
