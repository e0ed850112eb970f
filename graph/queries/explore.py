"""Exploring the graph around a case or an entity, a level at a time.

Entity keys are unique across labels (each blind index mixes in its kind), so one list of keys
can be looked up under every entity label, each branch using that label's key index.
"""

from graph.queries.links import ENTITY_KINDS

# A case's entities (victims are the force's own records, not shared entities).
ENTITIES_OF_CASES = """
UNWIND $keys AS key
MATCH (c:Case {key: key})-[r]->(e)
WHERE NOT e:Victim
RETURN key AS case, type(r) AS relation, labels(e)[0] AS label, e.key AS entity
"""

_CASES_OF = """
UNWIND $keys AS key
MATCH (e:{label} {{key: key}})<-[r]-(c:Case)
RETURN key AS entity, '{label}' AS label, type(r) AS relation, c.key AS case, c.force AS force,
       c.caseRef AS caseRef, c.riskLevel AS riskLevel
"""

# The cases that hold each entity, whatever its label.
CASES_OF_ENTITIES = "\nUNION ALL\n".join(_CASES_OF.format(label=label) for label in ENTITY_KINDS)

CASE_HEADS = """
UNWIND $keys AS key
MATCH (c:Case {key: key})
RETURN c.key AS case, c.force AS force, c.caseRef AS caseRef, c.riskLevel AS riskLevel
"""

_FORCES_OF = """
UNWIND $keys AS key
MATCH (e:{label} {{key: key}})<--(c:Case)
RETURN key AS entity, '{label}' AS label, collect(DISTINCT c.force) AS forces
"""

# Every force holding each entity, drawn or not: what `heldBy` says whatever the depth.
FORCES_OF_ENTITIES = "\nUNION ALL\n".join(_FORCES_OF.format(label=label) for label in ENTITY_KINDS)
