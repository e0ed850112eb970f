"""Pull federation: the hub's place in each force connector's feed, and who reads it: one
node per force, holding the cursor and the lease of the one replica that pulls the force.

The cursor is opaque text from the connector; it is written only after the page it ends has
committed, so a hub that dies mid-page reads that page again (its records are then stale).
"""

READ_CURSOR = """
MATCH (p:PullCursor {force: $force})
RETURN p.cursor AS cursor
"""

WRITE_CURSOR = """
MERGE (p:PullCursor {force: $force})
SET p.cursor = $cursor, p.at = $at
RETURN p.cursor AS cursor
"""

# Only the lease's holder moves the cursor (or anyone while no lease was ever taken, as before
# leases): a replica that stalled past its lease cannot move back a cursor its successor moved on.
WRITE_CURSOR_HELD = """
MERGE (p:PullCursor {force: $force})
WITH p WHERE p.leaseHolder IS NULL OR p.leaseHolder = $holder
SET p.cursor = $cursor, p.at = $at
RETURN p.cursor AS cursor
"""

# The pull lease of one force: taken when free, expired or already ours, on the graph's clock
# (so replicas' clocks need not agree). The first SET locks the node on Neo4j before the lease
# is read, so two replicas taking it at once are serialised and one of them reads the other's
# holder (FalkorDB runs writes one at a time anyway). Who holds it, and for how many more
# milliseconds, comes back either way.
TAKE_LEASE = """
MERGE (p:PullCursor {force: $force})
SET p.leaseLock = true
WITH p, timestamp() AS now
WITH p, now, (p.leaseHolder IS NULL OR p.leaseHolder = $holder OR p.leaseUntil < now) AS free
SET p.leaseLock = false,
    p.leaseHolder = CASE WHEN free THEN $holder ELSE p.leaseHolder END,
    p.leaseUntil = CASE WHEN free THEN now + $ttl ELSE p.leaseUntil END
RETURN p.leaseHolder AS holder, p.leaseUntil - now AS remaining
"""

# A replica stopping hands the lease back at once, rather than let it run out.
RELEASE_LEASE = """
MATCH (p:PullCursor {force: $force})
WHERE p.leaseHolder = $holder
SET p.leaseUntil = 0
RETURN p.force AS force
"""
