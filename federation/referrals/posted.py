"""A referral file posted to `POST /federation/v1/referrals`, imported through `Ingest`.

The body is read whole up to its own limit (an import is all or nothing, so every referral is
checked before the first is written), then mapped, then applied by the same `Ingest` a sync
uses: the caller's token, its force, the schema, the version rules and the `sync` audit entry
are the sync's own. Refusals are RFC 9457 problems whose `referrals` member lists each refused
referral by line and reference, never by a value from it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from federation.body import Item
from federation.ingest import Ingest, Result
from federation.problems import ProblemResponse, problem
from federation.referrals.case_refs import CaseRefs
from federation.referrals.errors import MalformedFile
from federation.referrals.importer import Mapped, Refused, UnknownFormat, reader
from policies.principal import Principal

SHOWN_REFUSALS = 100


@dataclass
class Imported:
    """What one posted file did: a refusal, or the results of the referrals applied."""

    refusal: ProblemResponse | None = None
    results: list[Result] = field(default_factory=list)
    mapped: list[Mapped] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)

    @property
    def any_kept(self) -> bool:
        return any(r.status != "rejected" for r in self.results)

    def body(self) -> dict[str, Any]:
        results = []
        for result, mapped in zip(self.results, self.mapped, strict=True):
            results.append({**result.as_dict(), **mapped.as_dict()})
        return {"results": results, "refused": [r.as_dict() for r in self.refused]}


@dataclass
class ReferralImport:
    ingest: Ingest
    max_bytes: int
    case_refs: CaseRefs

    async def run(
        self,
        principal: Principal,
        chunks: AsyncIterator[bytes],
        *,
        format_name: str,
        partial: bool,
        declared_length: str | None,
    ) -> Imported:
        try:
            read = reader(format_name, self.case_refs)
        except UnknownFormat as error:
            return Imported(refusal=problem("unknown-format", str(error)))
        too_large = problem("too-large", f"referral file larger than {self.max_bytes} bytes")
        if declared_length and declared_length.isdigit() and int(declared_length) > self.max_bytes:
            return Imported(refusal=too_large)
        body = bytearray()
        async for chunk in chunks:
            body.extend(chunk)
            if len(body) > self.max_bytes:
                return Imported(refusal=too_large)
        now = datetime.now(UTC)
        force = principal.force or ""
        outcome = Imported()
        try:
            for item in read([bytes(body)], force, now):
                if isinstance(item, Refused):
                    outcome.refused.append(item)
                else:
                    outcome.mapped.append(item)
        except MalformedFile as error:
            detail = f"line {error.line}: {error.reason}; nothing was imported"
            return Imported(refusal=problem("malformed-referrals", detail, extensions={
                "line": error.line}))  # fmt: skip
        if outcome.refused and not partial:
            return Imported(refusal=_unimportable(outcome.refused, len(outcome.mapped)))
        if not outcome.mapped:
            return Imported(refusal=_unimportable(outcome.refused, 0))
        outcome.results = await self.ingest.apply(principal, _items(outcome.mapped))
        return outcome


def _unimportable(refused: list[Refused], importable: int) -> ProblemResponse:
    first = refused[0]
    detail = (
        f"{len(refused)} referral(s) cannot be imported (the first at line {first.line}: "
        f"{first.reason}); nothing was imported"
    )
    if importable:
        detail += f"; {importable} could be, with partial=true"
    shown = [r.as_dict() for r in refused[:SHOWN_REFUSALS]]
    return problem("unimportable-referrals", detail, extensions={"referrals": shown})


async def _items(mapped: list[Mapped]) -> AsyncIterator[Item]:
    for index, item in enumerate(mapped):
        yield index, item.summary
