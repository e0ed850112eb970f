"""Victims across forces: who is depicted by the same images or series, and what was done.

Victims stay force-owned records; a group is computed from shared `Media` and `Series` nodes and
named by its anchor. Claims and recorded actions hang off the group id, not off any force's record.
"""

# Every victim with the shared things that may join it to another force's victim.
VICTIM_LINKS = """
MATCH (c:Case)-[r:CONTAINS_MEDIA]->(m:Media)-[:DEPICTS]->(v:Victim)
RETURN v.key AS victim, v.force AS force, v.caseRef AS caseRef, v.ref AS ref,
       v.ageBand AS ageBand, v.identified AS identified, 'Media:' + m.key AS link,
       r.category AS category
UNION ALL
MATCH (s:Series)<-[:IN_SERIES]-(c:Case)-[:HAS_VICTIM]->(v:Victim)<-[:DEPICTS]-(:Media)
RETURN DISTINCT v.key AS victim, v.force AS force, v.caseRef AS caseRef, v.ref AS ref,
       v.ageBand AS ageBand, v.identified AS identified, 'Series:' + s.key AS link,
       null AS category
"""

CLAIMS = """
UNWIND $groups AS g
MATCH (c:VictimGroupClaim {group: g})
RETURN c.group AS group, c.force AS force, c.client AS client, c.at AS at
"""

ACTIONS = """
UNWIND $groups AS g
MATCH (a:VictimAction {group: g})
RETURN a.group AS group, a.kind AS kind, a.force AS force, a.at AS at, a.victim AS victim,
       a.referredTo AS referredTo, a.outcome AS outcome
ORDER BY a.at
"""

# A claim is taken when free, already the caller force's, or left stale by an absent officer.
CLAIM = """
MERGE (c:VictimGroupClaim {group: $group})
WITH c WHERE c.force IS NULL OR c.force = $force OR c.at < $staleBefore
SET c.force = $force, c.client = $client, c.at = $now
RETURN c.force AS force, c.at AS at
"""

RELEASE = """
MATCH (c:VictimGroupClaim {group: $group})
WHERE c.force = $force OR c.at < $staleBefore
DELETE c
RETURN count(*) AS released
"""

RECORD_ACTION = """
CREATE (a:VictimAction {group: $group, kind: $kind, force: $force, client: $client, at: $at,
                        victim: $victim})
SET a.referredTo = $referredTo, a.outcome = $outcome
RETURN a.at AS at
"""
