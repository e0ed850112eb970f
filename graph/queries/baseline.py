"""The benchmark baseline: the same nodes, relationships and properties the hub writes, by plain
`UNWIND ... MERGE`, with none of the hub's versioning, sealing, cleanup or link detection. Like
every write of cases, it takes a sequence number for the replicas' read models (`STAMP_SEQ`)."""

from graph.queries.cases import STAMP_SEQ

RAW_UPSERT = (
    """
UNWIND $cases AS c
MERGE (k:Case {key: c.key})
SET k = c.props
FOREACH (p IN c.persons |
  MERGE (e:Person {key: p.key}) MERGE (k)-[r:SUSPECT]->(e) SET r = p.props)
FOREACH (d IN c.devices |
  MERGE (e:Device {key: d.key}) MERGE (k)-[r:USES_DEVICE]->(e) SET r = d.props)
FOREACH (a IN c.accounts |
  MERGE (e:Account {key: a.key}) MERGE (k)-[r:USES_ACCOUNT]->(e) SET r = a.props)
FOREACH (i IN c.ips |
  MERGE (e:IPAddress {key: i.key}) MERGE (k)-[r:SEEN_FROM]->(e) SET r = i.props)
FOREACH (m IN c.media |
  MERGE (e:Media {key: m.key}) MERGE (k)-[r:CONTAINS_MEDIA]->(e) SET r = m.props)
FOREACH (s IN c.series |
  MERGE (e:Series {key: s.key}) MERGE (k)-[r:IN_SERIES]->(e) SET r = s.props)
FOREACH (v IN c.victims |
  MERGE (x:Victim {key: v.key}) SET x = v.props MERGE (k)-[:HAS_VICTIM]->(x))
FOREACH (d IN c.depicts |
  MERGE (m:Media {key: d.media}) MERGE (x:Victim {key: d.victim}) MERGE (m)-[:DEPICTS]->(x))
FOREACH (d IN c.contactPersons |
  MERGE (e:Person {key: d.entity}) MERGE (x:Victim {key: d.victim}) MERGE (x)-[:CONTACTED]->(e))
FOREACH (d IN c.contactAccounts |
  MERGE (e:Account {key: d.entity}) MERGE (x:Victim {key: d.victim}) MERGE (x)-[:CONTACTED]->(e))
"""
    + STAMP_SEQ.format(node="k", key="c.key")
    + "RETURN count(key) AS written"
)
