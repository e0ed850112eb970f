"""The change feed: what the hub learned that concerns one force, in commit order.

Sequence numbers come from one counter node, locked for the length of the writing transaction
(the `SET c.lock` idiom), so a change with a higher seq never commits before a lower one and a
reader paging by seq misses nothing.
"""

# Cross-force pairs among the given cases: one row per (case, other force's case, entity kind),
# with the other case's risk level, which regrade alerts weigh, and its link count as the
# after-sync step last kept it (`federation.changes.link_events` tells a case of so many).
CROSS_FORCE_LINKS = """
UNWIND $keys AS key
MATCH (k:Case {key: key})-->(e)<--(o:Case)
WHERE o.force <> k.force
RETURN DISTINCT k.key AS case, k.force AS force, k.caseRef AS caseRef, labels(e)[0] AS label,
       o.key AS other, o.force AS otherForce, o.caseRef AS otherCaseRef, o.riskLevel AS otherRisk,
       o.linkedCases AS otherLinked
"""

# Appends the events whose dedupe key is not on the feed yet, and only those. The check runs
# after the counter is locked, so two writers (replicas, or a sync and a recovery) appending the
# same event one after the other add it once.
APPEND = """
MERGE (counter:Counter {key: 'changes'}) ON CREATE SET counter.value = 0
SET counter.lock = true
WITH counter
UNWIND $events AS ev
OPTIONAL MATCH (old:Change {dedupe: ev.dedupe})
WITH counter, collect(CASE WHEN old IS NULL THEN ev END) AS fresh
WITH counter, fresh, counter.value AS base
FOREACH (i IN range(0, size(fresh) - 1) |
  CREATE (ch:Change {seq: base + i + 1})
  SET ch += fresh[i])
SET counter.value = base + size(fresh), counter.lock = false
RETURN size(fresh) AS added
"""

PAGE = """
MATCH (ch:Change {force: $force})
WHERE ch.seq > $since
RETURN ch.seq AS seq, ch.kind AS kind, ch.caseRef AS caseRef, ch.otherForce AS otherForce,
       ch.otherCaseRef AS otherCaseRef, ch.otherKey AS otherKey, ch.via AS via, ch.at AS at,
       ch.reasons AS reasons, ch.group AS group
ORDER BY seq
LIMIT $limit
"""

OFFICER_SEALS = """
UNWIND $keys AS key
MATCH (c:Case {key: key})
RETURN c.key AS key, c.force AS force, c.caseRef AS caseRef, c.sealed AS sealed
"""
