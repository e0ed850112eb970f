"""Each force's daily figures (`ForceDay` nodes, graph migration 13): written once, read by range.

A day's node is keyed `FORCE:YYYY-MM-DD` and only created, never updated: whichever replica takes
a day's snapshot first keeps it, and a replica coming later changes nothing. Dates are ISO strings,
and each day is also held as the number YYYYMMDD, which ranges are read by (FalkorDB's index
does not bound a range of strings).
"""

# The days of `$days` (maps of key, force, date and the figures) not held yet are created; the
# keys created are returned. The `forceDays` counter goes up by the days created, in the same
# transaction: a replica holding the days in memory tells by it that it must read them again
# (`CASES_SEQ` in graph/queries/reading.py reads it beside the cases' counter); its epoch is new
# with each counter, as the cases' is.
KEEP_DAYS = """
UNWIND $days AS d
OPTIONAL MATCH (old:ForceDay {key: d.key})
WITH d, old WHERE old IS NULL
MERGE (f:ForceDay {key: d.key})
ON CREATE SET f.force = d.force, f.date = d.date, f.day = d.day, f.open = d.open,
              f.pastTarget = d.pastTarget, f.awaitingEnforcement = d.awaitingEnforcement,
              f.received = d.received, f.resolved = d.resolved,
              f.pastTargetUnsure = d.pastTargetUnsure, f.takenAt = $takenAt
WITH collect(f.key) AS keys
MERGE (counter:Counter {key: 'forceDays'})
  ON CREATE SET counter.value = 0, counter.epoch = randomUUID()
SET counter.value = counter.value + size(keys)
WITH keys
UNWIND keys AS key
RETURN key
"""

# The keys among `$keys` already held.
HELD_KEYS = """
UNWIND $keys AS key
MATCH (f:ForceDay {key: key})
RETURN f.key AS key
"""

# Every force's days from `$from` to `$to`, both included, by force then date.
DAYS_BETWEEN = """
MATCH (f:ForceDay)
WHERE f.day >= $from AND f.day <= $to
RETURN f.force AS force, f.date AS date, f.open AS open, f.pastTarget AS pastTarget,
       f.awaitingEnforcement AS awaitingEnforcement, f.received AS received,
       f.resolved AS resolved, f.pastTargetUnsure AS pastTargetUnsure
ORDER BY force, date
"""
