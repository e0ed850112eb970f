"""The benchmark baseline: the same nodes, relationships and properties the hub writes, by plain
`UNWIND ... MERGE` over the hub's own entity clauses (`case_content`), with none of the hub's
versioning, sealing, cleanup or link detection. Like every write of cases, it takes a sequence
number for the replicas' read models (`STAMP_SEQ`)."""

from graph.queries.cases import STAMP_SEQ, case_content

RAW_UPSERT = (
    """
UNWIND $cases AS c
MERGE (k:Case {key: c.key})
SET k = c.props
"""
    + case_content("MERGE")
    + STAMP_SEQ.format(node="k", key="c.key")
    + "RETURN count(key) AS written"
)
