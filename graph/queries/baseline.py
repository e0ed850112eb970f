"""The benchmark baseline: the same cases and entities written by plain `UNWIND ... MERGE`,
with none of the hub's versioning, sealing or cleanup."""

RAW_UPSERT = """
UNWIND $cases AS c
MERGE (k:Case {key: c.key})
SET k = c.props
FOREACH (p IN c.persons | MERGE (e:Person {key: p.key}) MERGE (k)-[:SUSPECT]->(e))
FOREACH (d IN c.devices | MERGE (e:Device {key: d.key}) MERGE (k)-[:USES_DEVICE]->(e))
FOREACH (a IN c.accounts | MERGE (e:Account {key: a.key}) MERGE (k)-[:USES_ACCOUNT]->(e))
FOREACH (i IN c.ips | MERGE (e:IPAddress {key: i.key}) MERGE (k)-[:SEEN_FROM]->(e))
FOREACH (m IN c.media | MERGE (e:Media {key: m.key}) MERGE (k)-[:CONTAINS_MEDIA]->(e))
FOREACH (v IN c.victims | MERGE (x:Victim {key: v.key}) MERGE (k)-[:HAS_VICTIM]->(x))
RETURN count(k) AS written
"""
