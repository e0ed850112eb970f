"""Which cases hold one identifier: the identifier search (`holders`), one blind index read.

The identifier's entity key is its blind index, so the search is one lookup on the entity label's
key index and the cases pointing at it. Each row carries the case's sealed fields (whom to call
needs no second read) and the forces whose link events the intake ceiling holds
(federation/intake.py), so the gateway can leave out what the change feed holds back.
"""

from graph.queries.links import ENTITY_KINDS

_HOLDERS = """
OPTIONAL MATCH (h:LinkHold)
WITH collect(DISTINCT h.force) AS held
MATCH (:{label} {{key: $key}})<--(c:Case)
RETURN DISTINCT c.key AS key, c.force AS force, c.caseRef AS caseRef, c.sealed AS sealed, held
ORDER BY force, caseRef
"""

# By entity label (a fixed name, never a caller's text): the cases holding the entity `$key`.
HOLDERS_OF = {label: _HOLDERS.format(label=label) for label in ENTITY_KINDS}
