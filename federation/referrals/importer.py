"""Turning a referral file into checked case summaries, all of it or nothing.

`referrals` reads a file of one format record by record and answers, for each, the case
summary (validated against the case summary schema for the importing force, exactly as a sync
would validate it) or why it was refused. `check` runs that over a whole file first, so an
import can refuse a file with one bad referral before anything of it is sent: a half-imported
referral file would leave intake unsure which referrals the hub holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from federation.referrals import csv_package, cybertipline
from federation.referrals.case_refs import CaseRefs
from federation.referrals.errors import MalformedFile, Unmappable
from federation.referrals.xml_records import xml_records
from federation.validation import problems_of

FORMATS = ("cybertipline", "csv")
SHOWN_PROBLEMS = 3
KEPT_GAPS = 20


class UnknownFormat(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown referral format {name!r}; known: {', '.join(FORMATS)}")


class EmptyFile(MalformedFile):
    def __init__(self, line: int, what: str) -> None:
        super().__init__(line, f"no {what} in the file")


@dataclass(frozen=True)
class Mapped:
    line: int
    reference: str
    summary: dict[str, Any]
    unmapped: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "reference": self.reference, "unmapped": list(self.unmapped)}


@dataclass(frozen=True)
class Refused:
    line: int
    reference: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "reference": self.reference, "reason": self.reason}


@dataclass
class Check:
    """A whole file read: how many referrals, which were refused, how many had gaps."""

    referrals: int = 0
    refused: list[Refused] = field(default_factory=list)
    with_gaps: int = 0  # referrals with something not mapped
    first_gaps: list[Mapped] = field(default_factory=list)  # the first KEPT_GAPS of them

    @property
    def importable(self) -> int:
        return self.referrals - len(self.refused)


Reader = Callable[[Iterable[bytes], str, datetime], Iterator[Mapped | Refused]]


def reader(name: str, case_refs: CaseRefs) -> Reader:
    """The reader of format `name`; CyberTipline case references are made by `case_refs`."""
    if name not in FORMATS:
        raise UnknownFormat(name)
    if name == "cybertipline":
        return partial(cybertipline_referrals, case_refs=case_refs)
    return csv_referrals


def cybertipline_referrals(
    chunks: Iterable[bytes], force: str, now: datetime, *, case_refs: CaseRefs
) -> Iterator[Mapped | Refused]:
    """Each CyberTipline report of the file, mapped for `force` and validated, or refused.
    Raises `MalformedFile` where the file stops being well-formed."""
    seen = 0
    for record in xml_records(chunks, cybertipline.RECORD_TAG):
        seen += 1
        reference = cybertipline.reference_of(record.element)
        try:
            mapping = cybertipline.map_report(
                record.element, force=force, now=now, case_refs=case_refs
            )
        except Unmappable as error:
            yield Refused(record.line, reference, str(error))
            continue
        yield _validated(
            record.line, mapping.reference, mapping.summary, mapping.unmapped, force, now
        )
    if not seen:
        raise EmptyFile(1, f"<{cybertipline.RECORD_TAG}> record")


def csv_referrals(chunks: Iterable[bytes], force: str, now: datetime) -> Iterator[Mapped | Refused]:
    """Each row of a CSV referral package, mapped for `force` and validated, or refused.
    Raises `MalformedFile` where the file stops being well-formed CSV."""
    seen = 0
    for line, row in csv_package.rows(chunks):
        seen += 1
        reference = row.get("reference") or None
        try:
            reference, summary, unmapped = csv_package.map_row(row, force=force, now=now)
        except Unmappable as error:
            yield Refused(line, reference, str(error))
            continue
        yield _validated(line, reference, summary, unmapped, force, now)
    if not seen:
        raise EmptyFile(2, "referral row")


def _validated(
    line: int, reference: str, summary: dict[str, Any], unmapped: list[str], force: str,
    now: datetime,
) -> Mapped | Refused:  # fmt: skip
    problems = problems_of(summary, caller_force=force, now=now)
    if problems:
        reason = "; ".join(f"{p.path or '(case)'} {p.message}" for p in problems[:SHOWN_PROBLEMS])
        return Refused(line, reference, f"the case summary would be invalid: {reason}")
    return Mapped(line, reference, summary, tuple(unmapped))


def check(outcomes: Iterable[Mapped | Refused]) -> Check:
    found = Check()
    for outcome in outcomes:
        found.referrals += 1
        if isinstance(outcome, Refused):
            found.refused.append(outcome)
        elif outcome.unmapped:
            found.with_gaps += 1
            if len(found.first_gaps) < KEPT_GAPS:
                found.first_gaps.append(outcome)
    return found
