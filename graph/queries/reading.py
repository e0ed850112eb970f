"""What people read: cases with their parts, case metadata for figures, victims and neighbourhoods.

Every read returns plain values; sealed fields stay sealed (the gateway decides who sees them).
"""

# Case nodes by key, with the entities they point at (the force's own view of each link).
CASES = """
UNWIND $keys AS key
MATCH (c:Case {key: key})
RETURN properties(c) AS case
"""

CASE_PARTS = """
UNWIND $keys AS key
MATCH (c:Case {key: key})-[r]->(e)
WHERE NOT e:Victim
RETURN key AS case, type(r) AS rel, properties(r) AS props, labels(e)[0] AS label, e.key AS entity
"""

CASE_VICTIMS = """
UNWIND $keys AS key
MATCH (:Case {key: key})-[:HAS_VICTIM]->(v:Victim)
RETURN key AS case, properties(v) AS victim
ORDER BY v.idx
"""

# The metadata that figures and the priority queue are computed from: no personal data.
_METADATA = """
RETURN c.key AS key, c.force AS force, c.caseRef AS caseRef, c.riskLevel AS riskLevel,
       c.riskAssessedAt AS riskAssessedAt, c.status AS status, c.open AS open,
       c.referralSource AS source,
       c.receivedAt AS receivedAt, c.enforcementAt AS enforcementAt,
       c.lastActivityAt AS lastActivityAt, c.openedAt AS openedAt, c.closedAt AS closedAt,
       c.accessToChildren AS accessToChildren, c.mediaA AS mediaA, c.mediaB AS mediaB,
       c.mediaC AS mediaC, c.victimsIdentified AS victimsIdentified,
       c.victimsUnidentified AS victimsUnidentified, c.victimInContact AS victimInContact,
       c.groomingIndicated AS groomingIndicated, c.contactAbuseIndicated AS contactAbuseIndicated,
       c.registeredSexOffender AS registeredSexOffender,
       'SELF_GENERATED_IMAGERY' IN coalesce(c.offences, []) AS selfGeneratedImagery,
       c.devicesUnexamined AS devicesUnexamined,
       c.oldestUnexaminedSeizedAt AS oldestUnexaminedSeizedAt,
       c.firstSafeguardingAt AS firstSafeguardingAt, c.syncedAt AS syncedAt, c.seq AS seq,
       c.linkedCases AS linkedCases, c.linkedHigh AS linkedHigh, c.viewsAvoided AS viewsAvoided,
       c.enforcementTimes AS enforcementTimes, c.enforcementMethods AS enforcementMethods,
       c.outcomeKind AS outcomeKind, c.outcomeAt AS outcomeAt, c.resolvedAt AS resolvedAt,
       c.team AS team
"""

CASE_METADATA = "MATCH (c:Case)" + _METADATA

# The same, a page at a time by the engine's node ids: a million cases read in one result stall
# the reader while it parses them all, and hold every row at once.
CASE_ID_CEILING = "MATCH (c:Case) RETURN max(id(c)) AS top"
CASE_METADATA_BY_ID = "MATCH (c:Case) WHERE id(c) >= $low AND id(c) < $high" + _METADATA

# The newest sequence number given to a write of cases (graph/queries/cases.py STAMP_SEQ): every
# write numbered so far has committed; and the numbering's epoch. Nulls before the first write.
# With it, the counter of kept history days (graph/queries/history.py): read in the same look, so
# that a replica knows its days held in memory are current without reading them.
CASES_SEQ = """
OPTIONAL MATCH (n:Counter {key: 'cases'})
OPTIONAL MATCH (d:Counter {key: 'forceDays'})
RETURN n.value AS seq, n.epoch AS epoch, d.value AS days, d.epoch AS daysEpoch
"""

# Cases, and tombstones of removed cases, written after one sequence number up to another: a
# replica's read model kept up to date without reading every case.
CASE_METADATA_AFTER = "MATCH (c:Case) WHERE c.seq > $after AND c.seq <= $upto" + _METADATA
REMOVED_AFTER = """
MATCH (t:Tombstone) WHERE t.seq > $after AND t.seq <= $upto
RETURN t.key AS key, t.seq AS seq
"""

CASE_METADATA_BY_KEY = "UNWIND $keys AS key MATCH (c:Case {key: key})" + _METADATA

# For each media item of the cases: the grades other cases (any force) gave the same image.
MEDIA_GRADED_ELSEWHERE = """
UNWIND $keys AS key
MATCH (c:Case {key: key})-[r:CONTAINS_MEDIA]->(m:Media)
OPTIONAL MATCH (m)<-[o:CONTAINS_MEDIA]-(d:Case)
WHERE d.key <> key AND o.category IN ['A', 'B', 'C', 'NOT_INDECENT']
RETURN key AS case, r.idx AS item, r.category AS category, collect(DISTINCT o.category) AS elsewhere
"""
