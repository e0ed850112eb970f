"""Aggregates for regional coordinators: figures only, never personal data."""

CASES_BY_FORCE_AND_RISK = """
MATCH (c:Case)
RETURN c.force AS force, c.riskLevel AS riskLevel, count(c) AS cases,
       sum(CASE WHEN c.open THEN 1 ELSE 0 END) AS open
ORDER BY force, riskLevel
"""
