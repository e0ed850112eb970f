"""Versioned schema migrations, described once and turned into each engine's DDL by its adapter.

Append new migrations at the end; never edit one that has shipped. Each step is idempotent, so a
migration interrupted half-way is simply applied again on the next start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ENTITY_LABELS = ("Person", "Device", "Account", "IPAddress", "Media", "Series")
FORCE_OWNED_LABELS = ("Case", "Victim", "Tombstone")


@dataclass(frozen=True)
class Step:
    kind: Literal["unique", "index"]
    label: str
    prop: str

    @property
    def name(self) -> str:
        return f"{self.kind}_{self.label}_{self.prop}".lower()


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    steps: tuple[Step, ...]
    then: str | None = None  # a statement run after the steps, on either engine: idempotent


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "unique keys of entities and force-owned nodes; case lookups",
        (
            *(Step("unique", label, "key") for label in ENTITY_LABELS + FORCE_OWNED_LABELS),
            Step("index", "Case", "force"),
            Step("index", "Case", "status"),
        ),
    ),
    Migration(
        2,
        "audit chain and change feed",
        (
            Step("unique", "AuditEntry", "seq"),
            Step("unique", "AuditHead", "key"),
            Step("unique", "Change", "seq"),
            Step("index", "Change", "force"),
            Step("unique", "Counter", "key"),
        ),
    ),
    Migration(
        3,
        "wrapped data keys, one node per force and key version",
        (
            Step("unique", "DataKey", "key"),
            Step("index", "DataKey", "force"),
        ),
    ),
    Migration(
        4,
        "pull federation: the hub's cursor in each force connector's feed",
        (Step("unique", "PullCursor", "force"),),
    ),
    Migration(
        5,
        "victim identification: one claim per victim group, actions by group",
        (
            Step("unique", "VictimGroupClaim", "group"),
            Step("index", "VictimAction", "group"),
        ),
    ),
    Migration(
        6,
        "cases by when they were last written, for replicas keeping their figures up to date",
        (Step("index", "Case", "syncedAt"),),
    ),
    Migration(
        7,
        "change feed entries by dedupe key: the check before each append stays fast as it grows",
        (Step("index", "Change", "dedupe"),),
    ),
    Migration(
        8,
        "removed cases by when they were removed, for replicas keeping their figures up to date",
        (Step("index", "Tombstone", "syncedAt"),),
    ),
    Migration(
        9,
        "link counts kept on each case: cases not counted yet go to the after-sync step",
        (),
        then="MATCH (c:Case) WHERE c.linkedCases IS NULL SET c.afterSyncPending = true",
    ),
    Migration(
        10,
        "victim groups kept by the after-sync step: cases with victims go to it",
        (Step("unique", "VictimGroup", "id"),),
        then="MATCH (c:Case)-[:HAS_VICTIM]->() WITH DISTINCT c SET c.afterSyncPending = true",
    ),
    Migration(
        11,
        "enforcement actions and resolution kept on each case (schema v1.1): cases synced "
        "before hold their enforcementAt as one action of method OTHER",
        (),
        then="""
MATCH (c:Case) WHERE c.enforcementTimes IS NULL
SET c.enforcementTimes = CASE WHEN c.enforcementAt IS NULL THEN [] ELSE [c.enforcementAt] END,
    c.enforcementMethods = CASE WHEN c.enforcementAt IS NULL THEN [] ELSE ['OTHER'] END,
    c.resolvedAt = c.closedAt,
    c.schemaVersion = 'v1'
""",
    ),
    Migration(
        12,
        "cases and tombstones by the sequence number of their write, for replicas' read models",
        (Step("index", "Case", "seq"), Step("index", "Tombstone", "seq")),
    ),
    Migration(
        13,
        "each force's figures at the end of each day, one node per force and day",
        (Step("unique", "ForceDay", "key"), Step("index", "ForceDay", "day")),
    ),
    Migration(
        14,
        "known-image hash sets: each listed hash by its blind index, each set by its key",
        (Step("unique", "KnownHash", "key"), Step("unique", "HashSet", "key")),
    ),
    Migration(
        15,
        "victim identification as team work: one identification per victim, steps by id",
        (Step("unique", "VictimIdentification", "victim"), Step("index", "VictimAction", "id")),
    ),
    Migration(
        16,
        "cases and tombstones waiting for the after-sync step, for every replica's sweep",
        (
            Step("index", "Case", "afterSyncPending"),
            Step("index", "Tombstone", "afterSyncPending"),
        ),
    ),
    Migration(
        17,
        "near-duplicate image and video clusters by key, and the intake's per-force nodes: each "
        "sync merges into them, and without an index every merge scans them all",
        (
            Step("index", "ImageCluster", "key"),
            Step("index", "VideoCluster", "key"),
            Step("index", "IntakeDay", "force"),
            Step("index", "LinkHold", "force"),
            Step("index", "HeldChange", "heldFor"),
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version

# The applied version lives in the graph itself, so every replica agrees on it.
READ_VERSION = "MATCH (s:SchemaVersion {key: 'schema'}) RETURN s.version AS version"
RECORD_VERSION = (
    "MERGE (s:SchemaVersion {key: 'schema'}) SET s.version = $version RETURN s.version AS version"
)


def pending(current: int) -> list[Migration]:
    return [m for m in MIGRATIONS if m.version > current]
