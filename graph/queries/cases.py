"""Writing cases: versioned upsert with entities, and tombstones.

A case's relationships and victims are replaced whole by each newer version; entity nodes that no
case uses any more are removed in the same statement, so a case is always complete or absent.
A tombstone leaves a `Tombstone` node holding the version, so an older copy arriving late stays
stale instead of bringing the case back.

Every statement that writes a case's facts or its tombstone ends by stamping what it wrote with
the next number of the `cases` counter (`STAMP_SEQ`), so replicas' read models follow the cases
in commit order (docs/scaling.md, "The read model").
"""

from typing import Literal

# The written nodes (`{node}`, collected with the keys of their rows) stamped with one sequence
# number, taken from the `cases` counter last of all in the statement. Setting `lock` first
# write-locks the counter until the transaction ends (Neo4j; FalkorDB runs one statement at a
# time), so numbers are given in commit order: when a reader sees the counter at n, every write
# numbered n or less has committed. Taken last, the lock is held only to the commit, and a
# writer holding it waits for no other lock. Nothing written: no number taken, no row returned.
# `epoch`, new with each counter, tells a reader that numbering began again (a graph cleared, or
# restored from a backup).
STAMP_SEQ = """
WITH collect({node}) AS written, collect({key}) AS keys
WHERE size(written) > 0
MERGE (counter:Counter {{key: 'cases'}})
  ON CREATE SET counter.value = 0, counter.epoch = randomUUID()
SET counter.lock = true
WITH written, keys, counter, counter.value + 1 AS seq
SET counter.value = seq, counter.lock = false
FOREACH (n IN written | SET n.seq = seq)
WITH keys
UNWIND keys AS key
"""

# Collects what the case held before, deletes it, and yields `previous` entity nodes for cleanup
# and `touched`: the cases that shared an entity with it, whose link counts the after-sync step
# recounts (federation/after_sync/step.py), with those still to recount for an earlier version
# or tombstone.
_DETACH_PREVIOUS = """
OPTIONAL MATCH (k)-->()<--(o:Case) WHERE o <> k
WITH c, t, k, collect(DISTINCT o.key) AS around
WITH c, t, k, around
  + CASE WHEN k.afterSyncPending = true THEN coalesce(k.touched, []) ELSE [] END
  + CASE WHEN t.afterSyncPending = true THEN coalesce(t.touched, []) ELSE [] END AS touched
OPTIONAL MATCH (k)-[r]->(e)
WITH c, t, k, touched, collect(r) AS rels, collect(e) AS held
WITH c, t, k, touched, rels,
     [x IN held WHERE NOT x:Victim] AS previous, [x IN held WHERE x:Victim] AS victims
FOREACH (r IN rels | DELETE r)
FOREACH (v IN victims | DETACH DELETE v)
"""

_REMOVE_ORPHANS = """
WITH c, {node}, previous
CALL {{
  WITH previous
  UNWIND previous AS e
  WITH DISTINCT e WHERE NOT (e)--()
  DELETE e
}}
"""

# A case row's entity lists: the row's field, the entity label, the relationship from the case.
CASE_ENTITIES = (
    ("persons", "Person", "SUSPECT"),
    ("devices", "Device", "USES_DEVICE"),
    ("accounts", "Account", "USES_ACCOUNT"),
    ("ips", "IPAddress", "SEEN_FROM"),
    ("media", "Media", "CONTAINS_MEDIA"),
    ("series", "Series", "IN_SERIES"),
)
# The victims' contacts: the row's field and the contacted entity's label.
VICTIM_CONTACTS = (("contactPersons", "Person"), ("contactAccounts", "Account"))


def case_content(make: Literal["CREATE", "MERGE"]) -> str:
    """The clauses writing a case row `c`'s entities, victims and the pairs between them under
    the case node `k`. Entity nodes are shared between cases, so always merged; `make` ("CREATE"
    or "MERGE") makes the case's own relationships and victims: CREATE where the case's previous
    ones were just removed (the hub's upsert, `UPSERT` and `INSERT`), MERGE where nothing was
    (the benchmark's baseline, graph/queries/baseline.py)."""
    clauses = [
        f"FOREACH (x IN c.{field} |\n"
        f"  MERGE (e:{label} {{key: x.key}}) {make} (k)-[r:{rel}]->(e) SET r = x.props)"
        for field, label, rel in CASE_ENTITIES
    ]
    clauses.append(
        "FOREACH (v IN c.victims |\n"
        f"  {make} (x:Victim {{key: v.key}}) SET x = v.props {make} (k)-[:HAS_VICTIM]->(x))"
    )
    clauses.append(
        "FOREACH (d IN c.depicts |\n"
        f"  MERGE (m:Media {{key: d.media}}) MERGE (x:Victim {{key: d.victim}}) "
        f"{make} (m)-[:DEPICTS]->(x))"
    )
    clauses += [
        f"FOREACH (d IN c.{field} |\n"
        f"  MERGE (e:{label} {{key: d.entity}}) MERGE (x:Victim {{key: d.victim}}) "
        f"{make} (x)-[:CONTACTED]->(e))"
        for field, label in VICTIM_CONTACTS
    ]
    return "\n".join(clauses) + "\n"


# The case's properties and content, written under the case node `k`. `syncedAt` is the graph's
# own clock at the write; replicas follow writes by `seq` (STAMP_SEQ).
_WRITE_CONTENT = """
SET k = c.props
SET k.syncedAt = timestamp()
""" + case_content("CREATE")

# An empty list rather than null: FalkorDB removes other properties with one set to null.
_KEEP_TOUCHED = """
SET {node}.touched = touched
"""

UPSERT = (
    """
UNWIND $cases AS c
OPTIONAL MATCH (t:Tombstone {key: c.key})
WITH c, t WHERE t IS NULL OR t.version < c.version
MERGE (k:Case {key: c.key})
  ON CREATE SET k.version = 0
WITH c, t, k WHERE k.version < c.version
"""
    + _DETACH_PREVIOUS
    + """
FOREACH (x IN CASE WHEN t IS NULL THEN [] ELSE [t] END | DELETE x)
"""
    + _WRITE_CONTENT
    + _KEEP_TOUCHED.format(node="k")
    + _REMOVE_ORPHANS.format(node="k")
    + STAMP_SEQ.format(node="k", key="c.key")
    + "RETURN key"
)

# Cases the hub has never held, neither live nor as a tombstone: nothing to detach or clean up,
# which makes the common first sync cheaper. A case that exists after all (another request wrote
# it meanwhile) is left alone and not returned; the caller writes it with UPSERT.
INSERT = (
    """
UNWIND $cases AS c
OPTIONAL MATCH (t:Tombstone {key: c.key})
WITH c WHERE t IS NULL
MERGE (k:Case {key: c.key})
  ON CREATE SET k.version = 0
WITH c, k WHERE k.version = 0
"""
    + _WRITE_CONTENT
    + STAMP_SEQ.format(node="k", key="c.key")
    + "RETURN key"
)

TOMBSTONE = (
    """
UNWIND $cases AS c
OPTIONAL MATCH (t:Tombstone {key: c.key})
WITH c, t WHERE t IS NULL OR t.version < c.version
OPTIONAL MATCH (k:Case {key: c.key})
WITH c, t, k WHERE k IS NULL OR k.version < c.version
MERGE (n:Tombstone {key: c.key})
SET n.version = c.version, n.force = c.force, n.syncedAt = timestamp()
WITH c, t, k
"""
    + _DETACH_PREVIOUS
    + """
FOREACH (x IN CASE WHEN k IS NULL THEN [] ELSE [k] END | DETACH DELETE x)
WITH c, previous, touched
MATCH (n:Tombstone {key: c.key})
SET n.afterSyncPending = true
"""
    + _KEEP_TOUCHED.format(node="n")
    + _REMOVE_ORPHANS.format(node="n")
    + STAMP_SEQ.format(node="n", key="c.key")
    + "RETURN key"
)

# Only keys the graph holds come back: a first sync's batch answers with no rows.
VERSIONS = """
UNWIND $keys AS key
OPTIONAL MATCH (k:Case {key: key})
OPTIONAL MATCH (t:Tombstone {key: key})
WITH key, coalesce(k.version, t.version) AS version
WHERE version IS NOT NULL
RETURN key, version
"""
