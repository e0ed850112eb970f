"""Case facts: the personal-data-free metadata that figures, alerts and priorities are made of.

Each fact carries the case rules it was read under (`facts_of(row, rules)`), so its target, and
the score and signs derived from it, follow `case_rules.yaml` wherever the fact goes: the
after-sync step, the read model, a figure counted for a period."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from policies.case_rules import CaseRules

DAY_MS = 86_400_000
OTHER_METHOD = "OTHER"  # the method of a v1 record's `enforcementAt`


@dataclass(frozen=True, slots=True)
class CaseFacts:
    key: str
    force: str
    case_ref: str
    risk_level: str
    status: str
    open: bool
    source: str
    received_at: int
    rules: CaseRules = field(compare=False, repr=False)
    enforcement_at: int | None = None
    last_activity_at: int | None = None
    opened_at: int | None = None
    access_to_children: bool = False
    media_a: int = 0
    media_b: int = 0
    media_c: int = 0
    victims_identified: int = 0
    victims_unidentified: int = 0
    victim_in_contact: bool = False
    grooming_indicated: bool = False
    contact_abuse_indicated: bool = False
    registered_sex_offender: bool = False
    self_generated_imagery: bool = False
    devices_unexamined: int = 0
    oldest_unexamined_seized_at: int | None = None
    first_safeguarding_at: int | None = None
    synced_at: int = 0
    seq: int = 0  # the sequence number of its write (graph/queries/cases.py): later is higher
    # Kept by the after-sync step (federation/after_sync/link_counts.py): the other forces'
    # cases this one shares an entity with, the keys of those graded high risk, and its media
    # items another case had graded first.
    linked_cases: int = 0
    linked_high: tuple[str, ...] = ()
    views_avoided: int = 0
    # Schema v1.1 (docs/schema.md, "What the hub keeps of v1.1"): the enforcement actions,
    # earliest first, as two parallel tuples; the outcome; when the case was resolved (the
    # earlier of outcome and closing); the team holding it.
    enforcement_times: tuple[int, ...] = ()
    enforcement_methods: tuple[str, ...] = ()
    outcome_kind: str | None = None
    outcome_at: int | None = None
    resolved_at: int | None = None
    team: str | None = None
    # When the risk level held now was assessed: before then the graph does not know which level
    # was in force (it keeps no earlier versions); the daily history says so (gateway/history.py).
    risk_assessed_at: int | None = None

    @property
    def target_days(self) -> int:
        """Days from referral receipt to enforcement (`targets` of the case rules)."""
        return self.rules.target_days[self.risk_level]

    @property
    def due_at(self) -> int:
        return self.received_at + self.target_days * DAY_MS

    def awaiting_enforcement(self) -> bool:
        return self.open and self.enforcement_at is None

    def past_target(self, now_ms: int) -> bool:
        return self.awaiting_enforcement() and self.due_at < now_ms

    def days_to_enforcement(self) -> float | None:
        if self.enforcement_at is None:
            return None
        return (self.enforcement_at - self.received_at) / DAY_MS


def _int(row: Mapping[str, Any], name: str) -> int:
    return int(row.get(name) or 0)


def _intern(value: Any) -> str | None:
    return None if value is None else sys.intern(str(value))


def _actions(row: Mapping[str, Any]) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The enforcement actions' times and methods, earliest first. A case stored without them
    (before graph migration 11 ran) has its `enforcementAt` as one action of method `OTHER`, as
    migration 11 would make it."""
    times = row.get("enforcementTimes")
    if times is None:
        first = row.get("enforcementAt")
        return ((), ()) if first is None else ((int(first),), (OTHER_METHOD,))
    methods = row.get("enforcementMethods") or ()
    pairs = sorted(zip((int(t) for t in times), methods, strict=False))
    return tuple(t for t, _ in pairs), tuple(sys.intern(str(m)) for _, m in pairs)


def facts_of(row: Mapping[str, Any], rules: CaseRules) -> CaseFacts:
    """From a `CASE_METADATA` row (absent properties come back as None), under these rules. The
    few forces, levels, statuses and sources are interned: one string each, not one per case of
    a million."""
    times, methods = _actions(row)
    return CaseFacts(
        key=row["key"],
        force=sys.intern(row["force"]),
        case_ref=row["caseRef"],
        risk_level=sys.intern(row["riskLevel"]),
        status=sys.intern(row["status"]),
        open=bool(row["open"]),
        source=sys.intern(row["source"]),
        received_at=int(row["receivedAt"]),
        rules=rules,
        enforcement_at=row.get("enforcementAt"),
        last_activity_at=row.get("lastActivityAt"),
        opened_at=row.get("openedAt"),
        access_to_children=bool(row.get("accessToChildren")),
        media_a=_int(row, "mediaA"),
        media_b=_int(row, "mediaB"),
        media_c=_int(row, "mediaC"),
        victims_identified=_int(row, "victimsIdentified"),
        victims_unidentified=_int(row, "victimsUnidentified"),
        victim_in_contact=bool(row.get("victimInContact")),
        grooming_indicated=bool(row.get("groomingIndicated")),
        contact_abuse_indicated=bool(row.get("contactAbuseIndicated")),
        registered_sex_offender=bool(row.get("registeredSexOffender")),
        self_generated_imagery=bool(row.get("selfGeneratedImagery")),
        devices_unexamined=_int(row, "devicesUnexamined"),
        oldest_unexamined_seized_at=row.get("oldestUnexaminedSeizedAt"),
        first_safeguarding_at=row.get("firstSafeguardingAt"),
        synced_at=_int(row, "syncedAt"),
        seq=_int(row, "seq"),
        linked_cases=_int(row, "linkedCases"),
        linked_high=tuple(row.get("linkedHigh") or ()),
        views_avoided=_int(row, "viewsAvoided"),
        enforcement_times=times,
        enforcement_methods=methods,
        outcome_kind=_intern(row.get("outcomeKind")),
        outcome_at=row.get("outcomeAt"),
        resolved_at=row.get("resolvedAt"),
        team=_intern(row.get("team")),
        risk_assessed_at=row.get("riskAssessedAt"),
    )
