"""Known-image hash sets read from their files and kept as the region's, blind-indexed.

Two formats:
- Project VIC's VICS JSON: an object whose `value` lists media (VICS 2.0: `MediaID`, `Category`,
  `MD5`, `SHA1`, ...) or cases each with a `Media` list (VICS 1.x); read as a stream (ijson), so
  a set of millions of entries is never held whole. A `Category` of 0 (not categorised) grades
  nothing and is skipped; the others are kept as `VICS <n>`, the set's own scale.
- CSV hash lists with a header naming any of `md5`, `sha1`, `pdq` and `category` (UK grades
  `A`, `B`, `C`, `NOT_INDECENT`).

Each hash is normalised and blind-indexed exactly as a synced media item's hash is (the
region's `BlindIndex`, `policies/normalise.py`), so a listed hash and a case's image meet on the
same key, and no hash is kept in clear. A listed PDQ hash first joins the region's image
clusters (`federation/near_images.py`), as a synced one does: near a cluster already there, it is
listed under that cluster's key; otherwise it becomes a cluster of its own (its hash sealed under
the region's hash set key, `HASH_SET_KEYS`), which a resized or recompressed copy synced later
joins. Either way a near copy of a listed picture meets the listing and is pre-graded.

The file is read more than once, streamed each time: first checked whole (a file that is not
valid JSON or CSV, or has no usable entry, is refused and nothing is changed), then its PDQ
hashes clustered, then written in batches.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ijson

from federation.near_images import NearImages, NewImage
from graph.hashsets import HashSets, KnownHash
from policies.audit import AuditLog
from policies.blind_index import BlindIndex
from policies.normalise import InvalidIdentifier, Unlinkable, pdq

HASH_KINDS = ("md5", "sha1", "pdq")
VICS_HASHES = {"MD5": "md5", "SHA1": "sha1", "PDQ": "pdq"}
UK_GRADES = {"A", "B", "C", "NOT_INDECENT"}
SHOWN_SKIPS = 10
HASHSET_IMPORT = "hashset.import"  # the audit action
# The data key a hash set's PDQ clusters are sealed under: the region's, not a force's (no force
# code has lower-case letters, so it is never taken for one).
HASH_SET_KEYS = "region-hashsets"
CLUSTER_BATCH = 5000


class HashSetFileError(Exception):
    """The file cannot be read as a hash set; nothing was imported."""


@dataclass(frozen=True)
class Entry:
    where: str  # "line 12" or "entry 12": never a value
    kind: str
    value: str
    category: str


@dataclass
class HashSetImport:
    listed: int = 0
    entries: int = 0
    skipped: list[str] = field(default_factory=list)  # the first reasons, by place


def file_format(path: Path) -> str:
    return "vics" if path.suffix.lower() == ".json" else "csv"


def entries(path: Path, skipped: list[str]) -> Iterator[Entry]:
    """The usable hash entries of a file; what cannot be used goes to `skipped`."""
    if file_format(path) == "vics":
        yield from _vics(path, skipped)
    else:
        yield from _csv(path, skipped)


def _vics(path: Path, skipped: list[str]) -> Iterator[Entry]:
    number = 0
    try:
        with path.open("rb") as handle:
            for item in ijson.items(handle, "value.item"):
                listed = (item.get("Media") or [item]) if isinstance(item, dict) else [item]
                for media in listed:
                    number += 1
                    yield from _vics_media(media, f"entry {number}", skipped)
    except ijson.JSONError:  # its message may quote the file: hashes stay out of it
        raise HashSetFileError(f"not a VICS JSON file (after entry {number})") from None


def _vics_media(media: Any, where: str, skipped: list[str]) -> Iterator[Entry]:
    if not isinstance(media, dict):
        skipped.append(f"{where}: not an object")
        return
    category = media.get("Category")
    if category in (None, 0, "0"):
        skipped.append(f"{where}: not categorised")
        return
    found = False
    for name, kind in VICS_HASHES.items():
        value = media.get(name)
        if isinstance(value, str) and value:
            found = True
            yield Entry(where, kind, value, f"VICS {category}")
    if not found:
        skipped.append(f"{where}: no MD5, SHA1 or PDQ")


def _csv(path: Path, skipped: list[str]) -> Iterator[Entry]:
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = {h.strip().lower() for h in reader.fieldnames or []}
            if "category" not in header or not header & set(HASH_KINDS):
                raise HashSetFileError(
                    "a CSV hash list needs a header with category and md5, sha1 or pdq"
                )
            for row in reader:
                where = f"line {reader.line_num}"
                values = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
                grade = values.get("category", "").upper()
                if grade not in UK_GRADES:
                    skipped.append(f"{where}: category must be A, B, C or NOT_INDECENT")
                    continue
                hashes = [(k, values[k]) for k in HASH_KINDS if values.get(k)]
                if not hashes:
                    skipped.append(f"{where}: no hash")
                for kind, value in hashes:
                    yield Entry(where, kind, value, grade)
    except UnicodeDecodeError:
        raise HashSetFileError("not a CSV hash list: not UTF-8 text") from None
    except csv.Error as error:
        raise HashSetFileError(f"not a CSV hash list: {error}") from None


def indexed(
    found: Iterator[Entry],
    blind: BlindIndex,
    skipped: list[str],
    clusters: Mapping[str, str] | None = None,
) -> Iterator[KnownHash]:
    """Each usable entry as its blind index; a PDQ hash as its image cluster's (`clusters`, by
    normalised hash), when it has one."""
    for entry in found:
        try:
            if entry.kind == "pdq":
                normalised = pdq(entry.value)
                key = blind.of("pdq", (clusters or {}).get(normalised, normalised))
            else:
                key = blind.index(entry.kind, entry.value)
        except (InvalidIdentifier, Unlinkable):
            skipped.append(f"{entry.where}: not a valid {entry.kind} hash")
            continue
        yield KnownHash(key, entry.category)


async def _clusters(path: Path, near: NearImages, set_key: str) -> dict[str, str]:
    """Each listed PDQ hash's image cluster (joining the region's, or a new one)."""
    hashes: dict[str, None] = {}
    for entry in entries(path, []):
        if entry.kind == "pdq":
            try:
                hashes[pdq(entry.value)] = None
            except InvalidIdentifier:
                continue  # counted as skipped by the check
    listed = list(hashes)
    mapping: dict[str, str] = {}
    for start in range(0, len(listed), CLUSTER_BATCH):
        batch = listed[start : start + CLUSTER_BATCH]
        mapping.update(
            await near.canonical([NewImage(h, HASH_SET_KEYS, set_key, "/pdq") for h in batch])
        )
    return mapping


async def import_hash_set(
    path: Path,
    sets: HashSets,
    blind: BlindIndex,
    *,
    name: str,
    source: str,
    set_date: str | None,
    near: NearImages | None = None,
    audit: AuditLog | None = None,
    actor: str | None = None,
) -> HashSetImport:
    """Check the whole file, then keep it as the set `name` (replacing a set of that name);
    its PDQ hashes joined to the region's image clusters `near` (exact matches only without);
    audited, with its counts, when an audit log is given."""
    checked = HashSetImport()
    for _ in indexed(entries(path, checked.skipped), blind, checked.skipped):
        checked.entries += 1
    if not checked.entries:
        raise HashSetFileError("no usable hash in the file; nothing was imported")
    ignored: list[str] = []
    set_key = f"{source}:{name}"
    clusters = await _clusters(path, near, set_key) if near is not None else {}
    checked.listed = await sets.replace(
        set_key,
        source=source,
        name=name,
        set_date=set_date,
        hashes=indexed(entries(path, ignored), blind, ignored, clusters),
    )
    if audit is not None:
        await audit.record(
            actor=actor,
            action=HASHSET_IMPORT,
            target=f"hashset:{source}:{name}",
            detail=f"listed={checked.listed} read={checked.entries} skipped={len(checked.skipped)}",
        )
    return checked
