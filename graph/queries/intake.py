"""Each force's daily intake (new cases, new identifiers) and the holds on its link events.

Kept in the graph so every replica counts the same figures. `IntakeDay` nodes carry the day as
days since the epoch (UTC); two replicas creating one day's node at once leave two nodes, which
the reads add up (and a batch adds to one of them), so no uniqueness constraint is needed. The
day's `released*` figures are what an administrator's release let through: the ceiling applies to
what came after.
"""

from graph.migrations import ENTITY_LABELS

# Entity kinds whose first sight counts as a new identifier: the ones an invented case would
# carry to probe for other forces' holdings. Image hashes cannot be enumerated, and one seizure
# brings thousands of new ones, so they are left out.
COUNTED_LABELS = tuple(label for label in ENTITY_LABELS if label != "Media")

# The entity keys (by label, one parameter per label) that the graph already holds, each with
# whether a case of another force holds it too. Keys not returned are new to the hub.
KNOWN_ENTITIES = "\nUNION ALL\n".join(
    f"""UNWIND ${label} AS key
MATCH (e:{label} {{key: key}})
OPTIONAL MATCH (e)<--(o:Case) WHERE o.force <> $force
RETURN key, count(o) > 0 AS elsewhere"""
    for label in COUNTED_LABELS
)

# The same on Neo4j, whose `EXISTS {}` stops at the first case of another force instead of
# counting them all (FalkorDB has no existential subquery).
KNOWN_ENTITIES_NEO4J = "\nUNION ALL\n".join(
    f"""UNWIND ${label} AS key
MATCH (e:{label} {{key: key}})
RETURN key, EXISTS {{ MATCH (e)<--(o:Case) WHERE o.force <> $force }} AS elsewhere"""
    for label in COUNTED_LABELS
)

# Adds a batch's figures to the force's day, and returns the day (less what was released) with
# the sums of the days before it in the window, and whether the force's link events are held.
ADD = """
OPTIONAL MATCH (old:IntakeDay {force: $force, day: $day})
WITH old LIMIT 1
FOREACH (_ IN CASE WHEN old IS NULL THEN [1] ELSE [] END |
  CREATE (:IntakeDay {force: $force, day: $day, cases: $cases, identifiers: $identifiers}))
FOREACH (d IN CASE WHEN old IS NULL THEN [] ELSE [old] END |
  SET d.cases = d.cases + $cases, d.identifiers = d.identifiers + $identifiers)
WITH count(*) AS added
OPTIONAL MATCH (h:LinkHold {force: $force})
WITH count(h) AS holds
MATCH (x:IntakeDay {force: $force})
WHERE x.day >= $from AND x.day <= $day
RETURN holds > 0 AS held,
  sum(CASE WHEN x.day = $day THEN x.cases - coalesce(x.releasedCases, 0) ELSE 0 END) AS cases,
  sum(CASE WHEN x.day = $day THEN x.identifiers - coalesce(x.releasedIdentifiers, 0)
      ELSE 0 END) AS identifiers,
  sum(CASE WHEN x.day < $day THEN x.cases ELSE 0 END) AS casesBefore,
  sum(CASE WHEN x.day < $day THEN x.identifiers ELSE 0 END) AS identifiersBefore
"""

# Holds the force's link events; one row with `created` true only for the statement that made
# the hold (so the region is alerted once per hold).
HOLD = """
OPTIONAL MATCH (h:LinkHold {force: $force})
WITH count(h) AS holds
FOREACH (_ IN CASE WHEN holds = 0 THEN [1] ELSE [] END |
  CREATE (:LinkHold {force: $force, since: $now}))
RETURN holds = 0 AS created
"""

HELD_FORCES = """
MATCH (h:LinkHold)
WHERE h.force IN $forces
RETURN DISTINCT h.force AS force
"""

# Lifting a hold: what the day held so far counts as released, so the ceiling applies afresh.
LIFT = """
OPTIONAL MATCH (h:LinkHold {force: $force})
WITH collect(h) AS holds
FOREACH (h IN holds | DELETE h)
WITH size(holds) AS lifted
OPTIONAL MATCH (d:IntakeDay {force: $force, day: $day})
SET d.releasedCases = d.cases, d.releasedIdentifiers = d.identifiers
RETURN lifted
"""

HOLDS = """
MATCH (h:LinkHold)
OPTIONAL MATCH (c:HeldChange {heldFor: h.force})
RETURN h.force AS force, min(h.since) AS since, count(c) AS events
ORDER BY force
"""
