"""Regrade alerts: only open cases of the regradable levels (`$levels`, from the case rules)
can be regraded, so only theirs are read."""

# The same columns as every case-metadata read, so the gateway builds its facts from them alike.
from graph.queries.reading import _METADATA

REGRADABLE_METADATA_BY_KEY = (
    "UNWIND $keys AS key MATCH (c:Case {key: key}) "
    "WHERE c.open = true AND c.riskLevel IN $levels" + _METADATA
)
