"""Near-duplicate images: the region's image clusters, one per distinct picture.

A cluster is named by the blind index of its first PDQ hash (the `Media` key every near copy of
it is stored under) and keeps that hash sealed as the case that brought it sealed it (force,
case reference and field), so a shredded force key takes the hash out of the search too. Each
cluster is numbered from the `imageClusters` counter, so every replica's in-memory index reads
only the clusters added since it last looked.
"""

# Clusters numbered after `$since`, oldest first.
CLUSTERS_SINCE = """
MATCH (c:ImageCluster)
WHERE c.seq > $since
RETURN c.key AS key, c.seq AS seq, c.force AS force, c.caseRef AS caseRef,
       c.field AS field, c.sealed AS sealed
ORDER BY c.seq
"""

# New clusters, numbered in the order given; one already there (another replica got there
# first) keeps its number. The counter is locked first, as the cases counter is.
ADD_CLUSTERS = """
MERGE (counter:Counter {key: 'imageClusters'})
  ON CREATE SET counter.value = 0
SET counter.lock = true
WITH counter
UNWIND $clusters AS x
MERGE (c:ImageCluster {key: x.key})
  ON CREATE SET c.force = x.force, c.caseRef = x.caseRef, c.field = x.field, c.sealed = x.sealed,
                c.new = true
WITH counter, c
ORDER BY c.key
WITH counter, collect(c) AS clusters
WITH counter, [c IN clusters WHERE c.new] AS added
SET counter.value = counter.value + size(added), counter.lock = false
WITH counter, added, counter.value - size(added) AS base
UNWIND range(0, size(added) - 1) AS i
WITH added[i] AS c, base + i + 1 AS seq
SET c.seq = seq
REMOVE c.new
RETURN c.key AS key, c.seq AS seq
"""
