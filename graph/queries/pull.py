"""Pull federation: the hub's place in each force connector's feed, one node per force.

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
