"""The after-sync step's bookkeeping and counts: cases (and tombstones) are written with
`afterSyncPending` set, in the same statement as the case, and the flag is cleared once the step
has run for that version. A replica about to run the step claims the cases for a while
(`afterSyncClaim`, `afterSyncClaimUntil`, on the graph's clock), so that another replica's sweep
leaves them alone until the claim runs out. The step also keeps each case's link counts
(federation/after_sync/link_counts.py)."""

from graph.queries.cases import STAMP_SEQ

# Cases and tombstones whose step has not run, whoever wrote them: taken up when a hub starts.
PENDING = """
MATCH (c:Case)
WHERE c.afterSyncPending = true
RETURN c.key AS key
UNION
MATCH (t:Tombstone)
WHERE t.afterSyncPending = true
RETURN t.key AS key
"""

# Pending for longer than `$age` ms and claimed by no live replica: what a replica that stopped
# mid-step left behind, taken up by the periodic sweep of any live one (the index on
# `afterSyncPending`, migration 16, finds them).
STALE_PENDING = """
MATCH (c:Case)
WHERE c.afterSyncPending = true AND c.syncedAt < timestamp() - $age
  AND coalesce(c.afterSyncClaimUntil, 0) < timestamp()
RETURN c.key AS key
LIMIT $limit
UNION
MATCH (t:Tombstone)
WHERE t.afterSyncPending = true AND t.syncedAt < timestamp() - $age
  AND coalesce(t.afterSyncClaimUntil, 0) < timestamp()
RETURN t.key AS key
LIMIT $limit
"""

# Of the given keys, those still pending that no other replica holds a live claim on, claimed
# for `$claim` ms, with the version the step is about to run for. The first SET locks each node
# on Neo4j before its claim is read, so two replicas claiming at once are serialised and the
# second reads the first's claim (FalkorDB runs writes one at a time anyway). No property is set
# to null here or in `_SETTLE`: FalkorDB 4 then removes other properties of the node with it
# (seen removing a case's `seq` and `status`), so a cleared flag is false, an empty claim ''.
_CLAIM = """
UNWIND $keys AS key
MATCH (n:{label} {{key: key}})
WHERE n.afterSyncPending = true
SET n.afterSyncClaimLock = true
WITH key, n, timestamp() AS now
WITH key, n, now, n.afterSyncPending = true AND (coalesce(n.afterSyncClaim, '') = ''
     OR n.afterSyncClaim = $holder OR n.afterSyncClaimUntil < now) AS free
SET n.afterSyncClaimLock = false,
    n.afterSyncClaim = CASE WHEN free THEN $holder ELSE n.afterSyncClaim END,
    n.afterSyncClaimUntil = CASE WHEN free THEN now + $claim ELSE n.afterSyncClaimUntil END
WITH key, n, free
WHERE free
RETURN key, n.version AS version
"""
CLAIM_CASES = _CLAIM.format(label="Case")
CLAIM_TOMBSTONES = _CLAIM.format(label="Tombstone")

# Cleared only for the version the step ran for: a newer one written meanwhile stays flagged.
_SETTLE = """
UNWIND $cases AS x
MATCH (n:{label} {{key: x.key}})
WHERE n.version = x.version
SET n.afterSyncPending = false, n.touched = [], n.afterSyncClaim = '',
    n.afterSyncClaimUntil = 0
RETURN count(n) AS settled
"""
SETTLE_CASES = _SETTLE.format(label="Case")
SETTLE_TOMBSTONES = _SETTLE.format(label="Tombstone")

# How many cases and tombstones still wait for the step (the sync benchmark waits for none).
PENDING_COUNT = """
OPTIONAL MATCH (c:Case)
WHERE c.afterSyncPending = true
WITH count(c) AS cases
OPTIONAL MATCH (t:Tombstone)
WHERE t.afterSyncPending = true
WITH cases, count(t) AS tombstones
RETURN cases + tombstones AS n
"""

# The cases a sync may have changed the counts of: those that share an entity with the synced
# cases now, and those that did before (`touched`, kept by the write; a removed case's is on
# its tombstone). (No OPTIONAL MATCH in these statements: FalkorDB runs one per row, which made
# them cost 5 to 9 times as much.)
AROUND = """
UNWIND $keys AS key
MATCH (c:Case {key: key})-->()<--(o:Case)
WHERE o <> c
RETURN DISTINCT o.key AS key, false AS before
UNION
UNWIND $keys AS key
MATCH (c:Case {key: key})
UNWIND coalesce(c.touched, []) AS other
RETURN DISTINCT other AS key, true AS before
UNION
UNWIND $keys AS key
MATCH (t:Tombstone {key: key})
UNWIND coalesce(t.touched, []) AS other
RETURN DISTINCT other AS key, true AS before
"""

# The cases of a force that share an entity with other forces' cases, and those cases: whose
# counts a lifted hold on the force changes.
CROSS_LINKED_OF_FORCE = """
MATCH (c:Case {force: $force})-->()<--(o:Case)
WHERE o.force <> c.force
RETURN DISTINCT c.key AS key, o.key AS other
"""

# When each image was first graded, by any case or by an imported known-image hash set listing
# it (graph/queries/hashsets.py): kept on the `Media` node for the images of the given cases, so
# that a case's image views avoided are counted from its own items. (Every image found has the
# item it was found by: a MATCH, not an OPTIONAL one, finds them all.)
FIRST_GRADED = """
UNWIND $keys AS key
MATCH (:Case {key: key})-[:CONTAINS_MEDIA]->(m:Media)
WITH DISTINCT m
MATCH (m)<-[g:CONTAINS_MEDIA]-()
WITH m, min(CASE WHEN g.category IN $graded THEN g.gradedAt END) AS graded
OPTIONAL MATCH (:KnownHash {key: m.key})<-[:LISTS]-(s:HashSet)
WITH m, graded, min(s.importedAt) AS listed
WITH m, CASE WHEN listed IS NOT NULL AND (graded IS NULL OR listed < graded) THEN listed
             ELSE graded END AS first
WHERE coalesce(m.firstGradedAt, -1) <> coalesce(first, -1)
SET m.firstGradedAt = first
RETURN count(m) AS images
"""

# Per case: up to `$cap` other forces' cases it shares an entity with, with their risk level
# (an image in thousands of cases would make counting them all cost the square of that at each
# sync); none of the forces in `$held` (their links are held, federation/after_sync/feed.py), so
# a held link takes no room under the cap.
LINKED = """
UNWIND $keys AS key
MATCH (c:Case {key: key})
CALL {
  WITH c
  MATCH (c)-->()<--(o:Case)
  WHERE o.force <> c.force AND NOT o.force IN $held
  WITH DISTINCT o LIMIT $cap
  RETURN collect([o.key, o.riskLevel]) AS linked
}
RETURN c.key AS key, linked
"""

# Per case with any: how many of its media items an earlier grading of the image spares its
# officers.
VIEWS_AVOIDED = """
UNWIND $keys AS key
MATCH (c:Case {key: key})-[r:CONTAINS_MEDIA]->(m:Media)
WHERE m.firstGradedAt < coalesce(r.gradedAt, $never)
RETURN c.key AS key, count(r) AS avoided
"""

# What the cases hold now, so that only changes are written.
HELD_COUNTS = """
UNWIND $keys AS key
MATCH (c:Case {key: key})
RETURN c.key AS key, c.linkedCases AS linkedCases, c.linkedHigh AS linkedHigh,
       c.viewsAvoided AS viewsAvoided
"""

# Stamped with the next sequence number, as any write of a case: the replicas' read models
# (gateway/region.py) take the new counts up as they take up any write.
SET_LINK_COUNTS = (
    """
UNWIND $cases AS x
MATCH (c:Case {key: x.key})
SET c.linkedCases = x.linkedCases, c.linkedHigh = coalesce(x.linkedHigh, []),
    c.viewsAvoided = x.viewsAvoided, c.syncedAt = timestamp()
"""
    + STAMP_SEQ.format(node="c", key="c.key")
    + "RETURN count(key) AS counted"
)

# Whether any case (or tombstone) of a force still waits for the step, on whichever replica: a
# change-feed read that brings a sync's bookmark waits for that sync's events.
FORCE_PENDING = """
OPTIONAL MATCH (c:Case)
WHERE c.afterSyncPending = true AND c.force = $force
WITH count(c) AS cases
OPTIONAL MATCH (t:Tombstone)
WHERE t.afterSyncPending = true AND t.force = $force
WITH cases, count(t) AS tombstones
RETURN cases + tombstones AS n
"""
