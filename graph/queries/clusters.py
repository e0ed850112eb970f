"""Near-duplicate clusters: the region's image clusters (PDQ, one per distinct picture) and video
clusters (vPDQ, one per distinct video).

An image cluster is named by the blind index of its first PDQ hash (the `Media` key every near
copy of it is stored under) and keeps that hash sealed as the case that brought it sealed it
(force, case reference and field), so a shredded force key takes the hash out of the search too.
A video cluster is named by a blind index too and lists the image clusters of its frames
(`frames`: their `Media` keys), which is all the matching needs: no frame hash is kept.

Each kind is numbered from a counter of its own, so every replica's in-memory index reads only
the clusters added since it last looked. Both kinds are added by one statement shape, built for
each label below (a label cannot be a query parameter).
"""


def _numbered_since(label: str, kept: tuple[str, ...]) -> str:
    """The clusters of `label` numbered after `$since`, oldest first, with their `kept`
    properties."""
    columns = "".join(f", c.{name} AS {name}" for name in kept)
    return f"""
MATCH (c:{label})
WHERE c.seq > $since
RETURN c.key AS key, c.seq AS seq{columns}
ORDER BY c.seq
"""


def _add_numbered(label: str, counter: str, kept: tuple[str, ...]) -> str:
    """New clusters of `label` (`$clusters`: maps of `key` and the `kept` properties), numbered
    from the `counter` in the order of their keys; one already there (another replica got there
    first) keeps its properties and its number. The counter is locked first, as the cases
    counter is, so two replicas adding at once number one after the other."""
    kept_set = ", ".join(f"c.{name} = x.{name}" for name in kept)
    return f"""
MERGE (counter:Counter {{key: '{counter}'}})
  ON CREATE SET counter.value = 0
SET counter.lock = true
WITH counter
UNWIND $clusters AS x
MERGE (c:{label} {{key: x.key}})
  ON CREATE SET {kept_set}, c.new = true
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


_IMAGE_KEPT = ("force", "caseRef", "field", "sealed")
_VIDEO_KEPT = ("frames",)

IMAGES_SINCE = _numbered_since("ImageCluster", _IMAGE_KEPT)
ADD_IMAGES = _add_numbered("ImageCluster", "imageClusters", _IMAGE_KEPT)
VIDEOS_SINCE = _numbered_since("VideoCluster", _VIDEO_KEPT)
ADD_VIDEOS = _add_numbered("VideoCluster", "videoClusters", _VIDEO_KEPT)
