"""Counting what each sync brings that the hub had never seen, against the case rules' ceiling.

A force system could use sync as a linking oracle: invent cases carrying a range of phone
numbers, and read on its change feed which other forces hold them, with their case references and
officers. Honest syncs bring roughly the volume they brought before; an oracle brings many cases
and identifiers the hub never saw. So for every batch the hub counts the force's new cases and new
identifiers into its UTC day (in the graph, so replicas agree); once a day's figures pass the
ceiling of `case_rules.yaml`, the hub holds the link events meant for that force
(`federation.after_sync.feed.deliver`) until an administrator releases them, and alerts the region's
administrators once: an audit entry, a metric and a log line, none with any value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prometheus_client import Counter

from graph import GraphStore
from graph.cases import CaseRow, EntityLink
from graph.intake_days import COUNTED_LABELS, IntakeDays, Sighting
from policies.audit import AuditLog, AuditUnavailable
from policies.case_rules import CaseRules, IntakeDay
from policies.principal import Principal

log = logging.getLogger("crossforce.federation.intake")

CEILING_EXCEEDED = "sync.ceiling_exceeded"
DAY_MS = 86_400_000


def _counted(row: CaseRow) -> dict[str, list[EntityLink]]:
    """A prepared case row's identifiers of the counted kinds (`COUNTED_LABELS`)."""
    return {
        "Person": row["persons"],
        "Device": row["devices"],
        "Account": row["accounts"],
        "IPAddress": row["ips"],
        "Series": row["series"],
    }


NEW_CASES = Counter(
    "crossforce_sync_new_cases",
    "Cases the hub had never held, applied by sync, by force",
    ["force"],
)
NEW_IDENTIFIERS = Counter(
    "crossforce_sync_new_identifiers",
    "Identifiers the hub had never seen, brought by applied syncs, by force",
    ["force"],
)
UNAUDITED = Counter(
    "crossforce_sync_unaudited",
    "Audit entries of syncs that could not be written (the records had committed), by action",
    ["action"],
)
CEILINGS_EXCEEDED = Counter(
    "crossforce_sync_ceiling_exceeded",
    "Times a force's daily intake passed the case rules' ceiling and its link events were held",
    ["force"],
)


@dataclass
class BatchIntake:
    """What one batch brought: counts only."""

    new_cases: int = 0
    new_identifiers: int = 0
    linking_identifiers: int = 0


@dataclass
class IntakeWatch:
    store: GraphStore
    rules: CaseRules
    audit: AuditLog
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    days: IntakeDays = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.days = IntakeDays(self.store)

    async def sight(self, force: str, rows: Iterable[CaseRow]) -> Sighting:
        """Before a batch is written: which of its identifiers the hub already holds."""
        keys: dict[str, set[str]] = {label: set() for label in COUNTED_LABELS}
        for row in rows:
            for label, links in _counted(row).items():
                keys[label].update(link["key"] for link in links)
        return await self.days.sight(force, keys)

    @staticmethod
    def measure(rows: Iterable[CaseRow], new_keys: set[str], sighting: Sighting) -> BatchIntake:
        """The figures of the applied rows; `new_keys`: those cases the hub had never held."""
        identifiers: set[str] = set()
        for row in rows:
            for links in _counted(row).values():
                identifiers.update(link["key"] for link in links)
        return BatchIntake(
            new_cases=sum(1 for row in rows if row["key"] in new_keys),
            new_identifiers=len(identifiers - sighting.known),
            linking_identifiers=len(identifiers & sighting.elsewhere),
        )

    async def add(self, principal: Principal, force: str, batch: BatchIntake) -> None:
        """Count an applied batch into the force's day; hold and alert when it passes the
        ceiling."""
        if batch.new_cases == 0 and batch.new_identifiers == 0:
            return
        NEW_CASES.labels(force).inc(batch.new_cases)
        NEW_IDENTIFIERS.labels(force).inc(batch.new_identifiers)
        now_ms = int(self.clock().timestamp() * 1000)
        day = now_ms // DAY_MS
        added = await self.days.add(
            force,
            day,
            day - self.rules.intake.usual_over_days,
            batch.new_cases,
            batch.new_identifiers,
        )
        if added.held:
            return
        figures = IntakeDay(
            added.cases, added.identifiers, added.cases_before, added.identifiers_before
        )
        if self.rules.over_ceiling(figures):
            await self._hold(principal, force, figures, now_ms)

    async def _hold(self, principal: Principal, force: str, day: IntakeDay, now_ms: int) -> None:
        if not await self.days.hold(force, now_ms):
            return  # another replica's batch made the hold, and alerted
        cases, identifiers = self.rules.ceilings(day)
        CEILINGS_EXCEEDED.labels(force).inc()
        log.warning(
            "intake ceiling exceeded: link events for force %s are held",
            force,
            extra={
                "event": CEILING_EXCEEDED,
                "force": force,
                "client": principal.client_id,
                "new_cases": day.cases,
                "new_cases_ceiling": cases,
                "new_identifiers": day.identifiers,
                "new_identifiers_ceiling": identifiers,
            },
        )
        try:
            await self.audit.record(
                actor=principal,
                action=CEILING_EXCEEDED,
                target=f"force:{force}",
                outcome="held",
                detail=(
                    f"new_cases={day.cases}/{cases} new_identifiers={day.identifiers}/{identifiers}"
                ),
            )
        except AuditUnavailable:  # the hold stands; the metric and the log line still alert
            UNAUDITED.labels(CEILING_EXCEEDED).inc()
            log.error("the audit entry of a hold could not be written", extra={"force": force})
