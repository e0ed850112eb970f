"""Cross-force links: paths Case -> entity <- Case, nothing else joins forces."""

ENTITY_KINDS = {
    "Person": "PERSON",
    "Device": "DEVICE",
    "Account": "ACCOUNT",
    "IPAddress": "IP_ADDRESS",
    "Media": "MEDIA",
    "Series": "SERIES",
}

# One row per (case, other case, kind of shared entity), for a batch of cases; with the other
# case's sealed fields, so whom to call about it needs no second read.
CASE_LINKS = """
UNWIND $keys AS key
MATCH (k:Case {key: key})-->(e)<--(o:Case)
WHERE o.key <> key
RETURN DISTINCT key AS case, labels(e)[0] AS label, o.force AS force, o.caseRef AS caseRef,
       o.key AS other, o.sealed AS sealed
ORDER BY case, force, caseRef, label
"""

# Cases two links away: reached through a case that shares an entity with each.
CASES_TWO_HOPS = """
MATCH (k:Case {key: $key})-->()<--(m:Case)-->()<--(o:Case)
WHERE m.key <> $key AND o.key <> $key AND o.key <> m.key
RETURN DISTINCT o.key AS key, m.key AS via
ORDER BY key, via
"""

# A case's links, each row with the forces whose link events the intake ceiling holds
# (federation/intake.py), so the gateway can hide what the change feed holds back without a
# second read.
CASE_LINKS_WITH_HOLDS = """
OPTIONAL MATCH (h:LinkHold)
WITH collect(DISTINCT h.force) AS held
UNWIND $keys AS key
MATCH (k:Case {key: key})-->(e)<--(o:Case)
WHERE o.key <> key
RETURN DISTINCT key AS case, labels(e)[0] AS label, o.force AS force, o.caseRef AS caseRef,
       o.key AS other, o.sealed AS sealed, k.force AS caseForce, held
ORDER BY case, force, caseRef, label
"""

# The forces whose link events the intake ceiling holds (federation/intake.py).
HELD_FORCES = """
MATCH (h:LinkHold)
RETURN DISTINCT h.force AS force
"""
