"""Re-encryption after a key rotation: find cases sealed under an older data key version, write
them back resealed only if nothing changed since they were read.

`sealedWith` on a case is the data key version its fields are sealed with (one per record);
cases stored before it existed count as version 0, so they are found too.
"""

# One force's cases still on an older version, in key order after a cursor, a page at a time.
STALE_PAGE = """
MATCH (c:Case)
WHERE c.force = $force AND coalesce(c.sealedWith, 0) < $current AND c.key > $after
RETURN c.key AS key, c.caseRef AS caseRef, c.version AS version, c.sealed AS sealed
ORDER BY key
LIMIT $limit
"""

REMAINING = """
MATCH (c:Case)
WHERE c.force = $force AND coalesce(c.sealedWith, 0) < $current
RETURN count(c) AS remaining
"""

# Guarded by the case version and the exact sealed map that was read: a sync that wrote the case
# meanwhile (sealing it afresh) is never overwritten; the resealed copy is simply dropped.
WRITE_RESEALED = """
UNWIND $rows AS r
MATCH (c:Case {key: r.key})
WHERE c.version = r.version AND c.sealed = r.before
SET c.sealed = r.sealed, c.sealedWith = r.sealedWith
RETURN c.key AS key
"""
