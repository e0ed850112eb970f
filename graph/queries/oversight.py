"""Aggregates for regional coordinators: figures only, never personal data."""

CASES_BY_FORCE_AND_RISK = """
MATCH (c:Case)
RETURN c.force AS force, c.riskLevel AS riskLevel, count(c) AS cases,
       sum(CASE WHEN c.open THEN 1 ELSE 0 END) AS open
ORDER BY force, riskLevel
"""

# Open cases quiet since before `$cut` (last activity, or referral receipt without one) whose
# force has not been told of this quiet spell yet, the longest quiet first, `$limit` at most.
STALE_UNTOLD = """
MATCH (c:Case)
WHERE c.open = true AND coalesce(c.lastActivityAt, c.receivedAt) < $cut
WITH c, coalesce(c.lastActivityAt, c.receivedAt) AS quietSince
WHERE c.staleToldFor IS NULL OR c.staleToldFor <> quietSince
RETURN c.key AS key, c.force AS force, c.caseRef AS caseRef, quietSince
ORDER BY quietSince, key
LIMIT $limit
"""

# Remembers, on each case, the quiet spell its force was told of (`$told`: maps of key and
# quietSince), unless the case was written since with other activity.
STALE_TOLD = """
UNWIND $told AS t
MATCH (c:Case {key: t.key})
WHERE coalesce(c.lastActivityAt, c.receivedAt) = t.quietSince
SET c.staleToldFor = t.quietSince
"""
