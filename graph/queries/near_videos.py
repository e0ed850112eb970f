"""Near-duplicate videos: the region's video clusters, one per distinct video (vPDQ).

A cluster is named by a blind index (the `Media` key every near copy of the video is stored
under) and lists the image clusters of its frames (`frames`: their `Media` keys, blind indexes
too), which is all the matching needs: no frame hash is kept here. Each cluster is numbered from
the `videoClusters` counter, so every replica's in-memory registry reads only the clusters added
since it last looked.
"""

# Clusters numbered after `$since`, oldest first.
VIDEOS_SINCE = """
MATCH (v:VideoCluster)
WHERE v.seq > $since
RETURN v.key AS key, v.seq AS seq, v.frames AS frames
ORDER BY v.seq
"""

# New clusters, numbered in the order given; one already there keeps its number. The counter
# is locked first, as the image clusters' is.
ADD_VIDEOS = """
MERGE (counter:Counter {key: 'videoClusters'})
  ON CREATE SET counter.value = 0
SET counter.lock = true
WITH counter
UNWIND $videos AS x
MERGE (v:VideoCluster {key: x.key})
  ON CREATE SET v.frames = x.frames, v.new = true
WITH counter, v
ORDER BY v.key
WITH counter, collect(v) AS videos
WITH counter, [v IN videos WHERE v.new] AS added
SET counter.value = counter.value + size(added), counter.lock = false
WITH counter, added, counter.value - size(added) AS base
UNWIND range(0, size(added) - 1) AS i
WITH added[i] AS v, base + i + 1 AS seq
SET v.seq = seq
REMOVE v.new
RETURN v.key AS key, v.seq AS seq
"""
