"""Regrade alerts, computed from the region's facts and the cross-force links of its cases."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import strawberry

from gateway import priority
from gateway.alerts import reasons_given_links
from gateway.facts import CaseFacts
from gateway.graphql.context import Context
from gateway.graphql.types import RiskLevel
from graph.queries import reading


@strawberry.type(description="A case graded LOW or MEDIUM that carries signs of higher risk.")
class RegradeAlert:
    force: str
    case_ref: str
    risk_level: RiskLevel
    reasons: list[str]


async def cross_force_links(context: Context, keys: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Other forces' linked cases per case: (other key, its risk level)."""
    if not keys:
        return {}
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in await context.graph.read(reading.CROSS_FORCE_RISKS, {"keys": keys}):
        found[row["case"]].append((row["other"], row["riskLevel"]))
    return found


async def regrade_alerts(context: Context, facts: Iterable[CaseFacts]) -> list[RegradeAlert]:
    regradable = [f for f in facts if f.open and f.risk_level in priority.REGRADABLE]
    links = await cross_force_links(context, [f.key for f in regradable])
    alerts = []
    for fact in regradable:
        reasons = reasons_given_links(fact, links.get(fact.key, []))
        if reasons:
            alerts.append(
                RegradeAlert(
                    force=fact.force,
                    case_ref=fact.case_ref,
                    risk_level=RiskLevel(fact.risk_level),
                    reasons=reasons,
                )
            )
    # Most signs first: the cases most likely graded too low.
    return sorted(alerts, key=lambda a: (-len(a.reasons), a.force, a.case_ref))
