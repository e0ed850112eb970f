"""Victims across forces: who is depicted by the same images or series, and what was done.

Victims stay force-owned records; a group (a `VictimGroup` node, kept by the after-sync step) is
computed from shared `Media` and `Series` nodes and named by its anchor. Claims and recorded
actions hang off the group id, not off any force's record.
"""

# Victims are joined where two share an image or a series; the groups are kept by the
# after-sync step (federation/after_sync/victim_groups.py), which follows these joins out from
# the victims of the cases a sync changed until no new victim turns up.

# The victims of these cases.
VICTIMS_OF_CASES = """
UNWIND $keys AS key
MATCH (:Case {key: key})-[:HAS_VICTIM]->(v:Victim)
RETURN v.key AS victim
"""

# Every victim depicted by an image that depicts one of these victims, with the image and each
# grading of it.
_VICTIM = """v.key AS victim, v.force AS force, v.caseRef AS caseRef, v.identified AS identified"""
MEDIA_JOINS = f"""
UNWIND $victims AS key
MATCH (:Victim {{key: key}})<-[:DEPICTS]-(m:Media)
WITH DISTINCT m
MATCH (c:Case)-[r:CONTAINS_MEDIA]->(m)-[:DEPICTS]->(v:Victim)
RETURN {_VICTIM}, 'Media:' + m.key AS link, r.category AS category
"""

# Every depicted victim of a case in a series that a case of one of these victims is in.
SERIES_JOINS = f"""
UNWIND $victims AS key
MATCH (:Victim {{key: key}})<-[:HAS_VICTIM]-(:Case)-[:IN_SERIES]->(s:Series)
WITH DISTINCT s
MATCH (s)<-[:IN_SERIES]-(:Case)-[:HAS_VICTIM]->(v:Victim)<-[:DEPICTS]-(:Media)
RETURN DISTINCT {_VICTIM}, 'Series:' + s.key AS link, null AS category
"""

# The groups of these cases (a group points at the cases of its victims: a case keeps its node
# through newer versions, a victim does not).
GROUPS_OF = """
UNWIND $keys AS key
MATCH (g:VictimGroup)-[:OF_CASE]->(:Case {key: key})
WITH DISTINCT g
RETURN g.id AS id, g.unidentified AS unidentified, g.sharedImages AS sharedImages,
       g.sharedSeries AS sharedSeries, g.categories AS categories, g.victims AS victims
"""

DROP_GROUPS = """
UNWIND $ids AS id
MATCH (g:VictimGroup {id: id})
DETACH DELETE g
"""

# Which of these cases have been removed.
REMOVED = """
UNWIND $keys AS key
MATCH (t:Tombstone {key: key})
RETURN t.key AS key
"""

# Groups whose cases have all been removed: nothing points the step at them any more.
DROP_CASELESS_GROUPS = """
MATCH (g:VictimGroup)
WHERE NOT (g)-[:OF_CASE]->()
DELETE g
"""

WRITE_GROUPS = """
UNWIND $groups AS x
CREATE (g:VictimGroup {id: x.id})
SET g += x.props
WITH g, x
UNWIND x.cases AS key
MATCH (c:Case {key: key})
CREATE (g)-[:OF_CASE]->(c)
RETURN count(DISTINCT g) AS groups
"""

# The regional queue's order: groups not held by a force (`$held`: live claims) first, then
# those with the most victims not yet identified.
GROUP_COUNT = "MATCH (g:VictimGroup) RETURN count(g) AS n"
_GROUP = """
UNWIND g.victims AS key
MATCH (v:Victim {key: key})
RETURN g.id AS id, g.unidentified AS unidentified, g.sharedImages AS sharedImages,
       g.sharedSeries AS sharedSeries, g.categories AS categories,
       collect({key: v.key, force: v.force, caseRef: v.caseRef, ref: v.ref, ageBand: v.ageBand,
                identified: v.identified}) AS victims
"""
GROUP_PAGE = (
    """
MATCH (g:VictimGroup)
WITH g, g.id IN $held AS held
ORDER BY held, g.unidentified DESC, g.id
SKIP $skip LIMIT $first
WITH g, held
"""
    + _GROUP
    + """, held
ORDER BY held, unidentified DESC, id
"""
)
GROUP_BY_ID = "MATCH (g:VictimGroup {id: $id})" + _GROUP

HELD_CLAIMS = """
MATCH (c:VictimGroupClaim)
WHERE c.at >= $staleBefore
RETURN c.group AS group
"""

CLAIMS = """
UNWIND $groups AS g
MATCH (c:VictimGroupClaim {group: g})
RETURN c.group AS group, c.force AS force, c.officer AS officer, c.sealed AS sealed, c.at AS at
"""

# Every recorded step of these groups, oldest first: claims, hand-overs, identifications,
# safeguarding referrals and their updates.
ACTIONS = """
UNWIND $groups AS g
MATCH (a:VictimAction {group: g})
RETURN a.id AS id, a.group AS group, a.kind AS kind, a.force AS force, a.officer AS officer,
       a.sealed AS sealed, a.at AS at, a.victim AS victim, a.referredTo AS referredTo,
       a.outcome AS outcome, a.toForce AS toForce, a.toOfficer AS toOfficer, a.about AS about
ORDER BY a.at, a.id
"""

# A claim is taken when free, already the caller force's, or left stale by an absent officer.
CLAIM = """
MERGE (c:VictimGroupClaim {group: $group})
WITH c WHERE c.force IS NULL OR c.force = $force OR c.at < $staleBefore
SET c.force = $force, c.officer = $officer, c.sealed = $sealed, c.at = $now
RETURN c.force AS force, c.at AS at
"""

RELEASE = """
MATCH (c:VictimGroupClaim {group: $group})
WHERE c.force = $force OR c.at < $staleBefore
DELETE c
RETURN count(*) AS released
"""

# A hand-over to a named force (and officer): the claim moves to them, fresh. Nothing is set to
# null (see graph/queries/after_sync.py): no officer is '', no sealed name ''.
HAND_TO = """
MATCH (c:VictimGroupClaim {group: $group})
WHERE c.force = $force OR c.at < $staleBefore
SET c.force = $toForce, c.officer = coalesce($toOfficer, ''), c.sealed = '', c.at = $now
RETURN c.force AS force
"""

RECORD_ACTION = """
CREATE (a:VictimAction {id: $id, group: $group, kind: $kind, force: $force, client: $client,
                        officer: $officer, at: $at})
SET a.sealed = $sealed, a.victim = $victim, a.referredTo = $referredTo, a.outcome = $outcome,
    a.toForce = $toForce, a.toOfficer = $toOfficer, a.about = $about
RETURN a.id AS id
"""

# A victim is identified once across the region: the first force to record it wins, and the
# action is written with it in one statement, so a second force is told who did it instead.
IDENTIFY = """
MERGE (i:VictimIdentification {victim: $victim})
ON CREATE SET i.force = $force, i.at = $at, i.action = $id
WITH i
WHERE i.action = $id
CREATE (a:VictimAction {id: $id, group: $group, kind: 'IDENTIFIED', force: $force,
                        client: $client, officer: $officer, at: $at, victim: $victim})
SET a.sealed = $sealed
RETURN a.id AS id
"""

IDENTIFIED_BY = """
MATCH (i:VictimIdentification {victim: $victim})
RETURN i.force AS force, i.at AS at
"""

# These victims identified through the hub (their force's own record may not say so yet).
IDENTIFIED_OF = """
UNWIND $victims AS key
MATCH (i:VictimIdentification {victim: key})
RETURN i.victim AS victim
"""

# The group's queue position follows an identification at once, not at the next sync.
COUNT_IDENTIFIED = """
MATCH (g:VictimGroup {id: $group})
SET g.unidentified = CASE WHEN g.unidentified > 0 THEN g.unidentified - 1 ELSE 0 END
RETURN g.unidentified AS unidentified
"""

# A safeguarding referral's outcome, updated by the force that made it: the referral keeps the
# outcome it was recorded with (history), and its update is a step of its own.
REFERRAL = """
MATCH (a:VictimAction {id: $id, kind: 'SAFEGUARDING_REFERRAL'})
RETURN a.group AS group, a.force AS force, a.victim AS victim, a.referredTo AS referredTo,
       a.outcome AS outcome
"""

UPDATE_REFERRAL = """
MATCH (a:VictimAction {id: $id, kind: 'SAFEGUARDING_REFERRAL', force: $force})
SET a.updatedAt = $at
RETURN a.id AS id
"""
