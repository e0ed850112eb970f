"""The change feed: what the hub learned that concerns one force, in commit order.

Sequence numbers come from one counter node, locked for the length of the writing transaction
(the `SET c.lock` idiom), so a change with a higher seq never commits before a lower one and a
reader paging by seq misses nothing.
"""

# Cross-force pairs among the given cases: one row per (case, other force's case, entity kind),
# with the other case's risk level, which regrade alerts weigh, and its link count as the
# after-sync step last kept it (`federation.after_sync.links.link_events` tells a case of so many).
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

# Events held back (a force's intake went over the case rules' ceiling; `heldFor` names it): kept
# as `HeldChange` nodes with no seq, once each by dedupe key, and never appended while held, so a
# case synced again cannot bring its held links onto the feed by another way.
APPEND_HELD = """
OPTIONAL MATCH (h:HeldChange)
WITH collect(h.dedupe) AS held
UNWIND $events AS ev
WITH ev WHERE NOT ev.dedupe IN held
OPTIONAL MATCH (old:Change {dedupe: ev.dedupe})
WITH ev, old WHERE old IS NULL
CREATE (x:HeldChange)
SET x += ev
RETURN count(x) AS held
"""

# An administrator's release: the events held for a force go onto the feed, in the order they were
# held, under the counter's lock as APPEND; any that reached the feed meanwhile are dropped.
# `dedupe` is projected before the look-up: with no event held, FalkorDB refuses an index look-up
# on a property of the unmatched `h`, so a hold made before any event was held would not lift.
RELEASE_HELD = """
MERGE (counter:Counter {key: 'changes'}) ON CREATE SET counter.value = 0
SET counter.lock = true
WITH counter
OPTIONAL MATCH (h:HeldChange {heldFor: $force})
WITH counter, h, h.dedupe AS dedupe
OPTIONAL MATCH (old:Change {dedupe: dedupe})
WITH counter, h, old
ORDER BY h.at, h.dedupe
WITH counter, collect(h) AS all, collect(CASE WHEN old IS NULL THEN h END) AS fresh
WITH counter, all, fresh, counter.value AS base
FOREACH (i IN range(0, size(fresh) - 1) |
  CREATE (ch:Change {seq: base + i + 1})
  SET ch += properties(fresh[i]))
FOREACH (h IN all | DELETE h)
SET counter.value = base + size(fresh), counter.lock = false
RETURN size(fresh) AS released
"""

PAGE = """
MATCH (ch:Change {force: $force})
WHERE ch.seq > $since
RETURN ch.seq AS seq, ch.kind AS kind, ch.caseRef AS caseRef, ch.otherForce AS otherForce,
       ch.otherCaseRef AS otherCaseRef, ch.otherKey AS otherKey, ch.via AS via, ch.at AS at,
       ch.reasons AS reasons, ch.linkedHigh AS linkedHigh, ch.group AS group
ORDER BY seq
LIMIT $limit
"""

OFFICER_SEALS = """
UNWIND $keys AS key
MATCH (c:Case {key: key})
RETURN c.key AS key, c.force AS force, c.caseRef AS caseRef, c.sealed AS sealed
"""
