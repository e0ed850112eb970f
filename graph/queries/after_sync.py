"""The after-sync step's bookkeeping: cases are written with `afterSyncPending` set (in the same
statement as the case), and the flag is cleared once the step has run for that version."""

# Cases whose step has not run, whoever wrote them: taken up when a hub starts. (No index: run
# once per start, a scan of the cases is cheaper than keeping one up to date at every write.)
PENDING = """
MATCH (c:Case)
WHERE c.afterSyncPending = true
RETURN c.key AS key
"""

STILL_PENDING = """
UNWIND $keys AS key
MATCH (c:Case {key: key})
WHERE c.afterSyncPending = true
RETURN c.key AS key, c.version AS version
"""

SETTLE = """
UNWIND $cases AS x
MATCH (c:Case {key: x.key})
WHERE c.version = x.version
SET c.afterSyncPending = null
RETURN count(c) AS settled
"""

# How many cases still wait for the step (the sync benchmark waits for none).
PENDING_COUNT = """
MATCH (c:Case)
WHERE c.afterSyncPending = true
RETURN count(c) AS n
"""
