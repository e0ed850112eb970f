"""The change feed: what the hub learned that concerns one force, in commit order.

Sequence numbers come from one counter node, locked for the length of the writing transaction
(the `SET c.lock` idiom), so a change with a higher seq never commits before a lower one and a
reader paging by seq misses nothing.
"""

# Cross-force pairs among the given cases: one row per (case, other force's case, entity kind).
CROSS_FORCE_LINKS = """
UNWIND $keys AS key
MATCH (k:Case {key: key})-->(e)<--(o:Case)
WHERE o.force <> k.force
RETURN DISTINCT k.key AS case, k.force AS force, k.caseRef AS caseRef, labels(e)[0] AS label,
       o.key AS other, o.force AS otherForce, o.caseRef AS otherCaseRef
"""

KNOWN = """
UNWIND $dedupes AS d
MATCH (ch:Change {dedupe: d})
RETURN ch.dedupe AS dedupe
"""

APPEND = """
MERGE (counter:Counter {key: 'changes'}) ON CREATE SET counter.value = 0
SET counter.lock = true
WITH counter, counter.value AS base
UNWIND range(0, size($events) - 1) AS i
WITH counter, base, i, $events[i] AS ev
CREATE (ch:Change {seq: base + i + 1})
SET ch += ev
WITH counter, base, count(ch) AS added
SET counter.value = base + added, counter.lock = false
RETURN counter.value AS last
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
