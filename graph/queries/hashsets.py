"""Known-image hash sets: a region's imported lists of graded image hashes, and what they spare.

A set is a `(:HashSet {key})` with its source, name and date; each hash it lists is a
`(:KnownHash {key})` whose key is the hash's blind index, computed exactly as a synced media
item's (federation/prepare.py), so a case's `(:Media)` and a listed hash with the same key are
the same image. The set's grade is on the `LISTS` relationship. Listed hashes are kept apart
from `Media`, which only cases create and remove, so a set never makes or keeps a link.
"""

# One set, created or renamed; re-importing a set of the same key replaces its listing.
UPSERT_SET = """
MERGE (s:HashSet {key: $key})
SET s.source = $source, s.name = $name, s.setDate = $setDate, s.importedAt = timestamp()
RETURN s.key AS key
"""

CLEAR_SET = """
MATCH (:HashSet {key: $key})-[l:LISTS]->()
DELETE l
RETURN count(l) AS cleared
"""

# A batch of listed hashes: `$rows` of {key, category}.
LIST_HASHES = """
MATCH (s:HashSet {key: $set})
UNWIND $rows AS x
MERGE (k:KnownHash {key: x.key})
MERGE (s)-[l:LISTS]->(k)
SET l.category = x.category
RETURN count(l) AS listed
"""

# The cases holding an image the set lists go back to the after-sync step, which counts their
# image views avoided again (any live replica takes them up: federation/after_sync/queue.py).
RECOUNT_HOLDERS = """
MATCH (:HashSet {key: $key})-[:LISTS]->(k:KnownHash)
MATCH (m:Media {key: k.key})<-[:CONTAINS_MEDIA]-(c:Case)
WITH DISTINCT c
SET c.afterSyncPending = true
RETURN count(c) AS cases
"""

SET_SIZE = """
MATCH (s:HashSet {key: $key})
OPTIONAL MATCH (s)-[l:LISTS]->()
SET s.size = 0
WITH s, count(l) AS size
SET s.size = size
RETURN size
"""

# Per case: each media item with the grades other cases gave its image and the sets listing it.
# An item with two hashes (MD5 and SHA-1) has a row for each; the caller joins them by `item`.
NO_VIEWING = """
UNWIND $keys AS key
MATCH (c:Case {key: key})-[r:CONTAINS_MEDIA]->(m:Media)
OPTIONAL MATCH (m)<-[o:CONTAINS_MEDIA]-(d:Case)
WHERE d.key <> key AND o.category IN ['A', 'B', 'C', 'NOT_INDECENT']
WITH key, r, m, collect(DISTINCT o.category) AS elsewhere
OPTIONAL MATCH (k:KnownHash {key: m.key})<-[l:LISTS]-(s:HashSet)
RETURN key AS case, r.idx AS item, elsewhere,
       collect(DISTINCT [s.name, l.category]) AS listed
"""
