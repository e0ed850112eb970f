"""Identifier search: "does any force hold this?" (`holders`, issue 23).

The value is normalised and blind-indexed exactly as ingest does it (`federation/prepare.py`), so
every notation that links two cases finds them here too; the answer is one read of the entity
the blind index names. Each holding case passes the one record-level decision
(`SharingPolicy.record_view`): at `FULL` its reference and whom to call, at `EXISTENCE` only its
force (one row per force, so the count of its cases is not told either), at `NONE` nothing. What
the change feed holds back under the intake ceiling is held back here too (`loaders.held_back`).
Every search is audited with its purpose and the kind searched, never the value, before the
answer leaves. A client looking up many distinct values in a short time is sweeping, not
deconflicting (`policies/search_watch.py`): the region's administrators are alerted once and its
searches are refused with a 429 for a cool-off.

A value no force holds goes the same way as a held one (the same index read, the same audit
entry, no early answer), so the time of an empty answer does not tell a caller more than the
answer does.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Self

import strawberry
from prometheus_client import Counter

from gateway.graphql import loaders
from gateway.graphql.context import Context, Info
from gateway.graphql.errors import BadInput
from gateway.graphql.sharing import NamesCase
from graph.case_seals import CaseSeal
from graph.queries.holders import HOLDERS_OF
from policies import normalise
from policies.audit import ACCESS_DENIED, DENIED, OK, bounded
from policies.audit import MAX_PURPOSE as MAX_STORED_PURPOSE
from policies.blind_index import BlindIndex
from policies.limits import RateLimited
from policies.reveal import MAX_PURPOSE, MIN_PURPOSE, MIN_PURPOSE_WORDS
from policies.scopes import CASES_READ, Forbidden
from policies.sharing import RecordView

SEARCH = "search"  # the audit log's action
SWEEP = "search.sweep"  # the audit log's action when a client is found sweeping

log = logging.getLogger("crossforce.search")
SEARCH_SWEEPS = Counter(
    "crossforce_search_sweeps",
    "Identifier search sweeps found (a client looking up many distinct values), by client",
    ["client"],
)


@strawberry.enum(description="What kind of identifier `holders` looks for.")
class IdentifierKind(enum.Enum):
    PHONE = "PHONE"
    EMAIL = "EMAIL"
    IMEI = "IMEI"
    SERIAL = "SERIAL"
    IP_ADDRESS = "IP_ADDRESS"
    ACCOUNT = "ACCOUNT"
    MD5 = "MD5"
    SHA1 = "SHA1"
    PDQ = "PDQ"
    PERSON = "PERSON"


@strawberry.input(
    description="An identifier as a force system writes it in a case summary. ACCOUNT is "
    "`platform:handle`, SERIAL `make:serial`, PERSON `given family YYYY-MM-DD` (or "
    "`given|family|YYYY-MM-DD` when a name has several words)."
)
class IdentifierInput:
    kind: IdentifierKind
    value: str


@strawberry.type(
    description="A force holding the identifier; caseRef and contact are null where the "
    "agreement lets the caller know only that the force holds such a case."
)
class Holder(NamesCase):
    force: str
    case_ref: str | None = None
    case_key: strawberry.Private[str | None] = None

    @strawberry.field(description="The case's officer, as far as the agreement shows them")
    async def contact(self, info: Info) -> str | None:
        if self.case_key is None:
            return None
        return await loaders.contacts(info.context).load(self.case_key)

    def named_force(self) -> str | None:
        return self.force

    def within(self, view: RecordView) -> Self | None:
        if view == RecordView.FULL:
            return self
        if view == RecordView.EXISTENCE:
            return replace(self, case_ref=None, case_key=None)
        return None


@dataclass(frozen=True)
class Searched:
    """The entity label and blind index an identifier is looked up by."""

    label: str
    key: str


def _person(value: str) -> tuple[str, str, str]:
    """`given family YYYY-MM-DD`, or `given|family|YYYY-MM-DD` for names of several words."""
    if "|" in value:
        parts = [p.strip() for p in value.split("|")]
    else:
        words = value.split()
        parts = [words[0], " ".join(words[1:-1]), words[-1]] if len(words) >= 3 else []
    if len(parts) != 3 or not all(parts):
        raise normalise.InvalidIdentifier("person", "write it as given family YYYY-MM-DD")
    return parts[0], parts[1], parts[2]


def _pair(kind: str, value: str, shape: str) -> tuple[str, str]:
    first, sep, second = value.partition(":")
    if not sep or not first.strip() or not second.strip():
        raise normalise.InvalidIdentifier(kind, f"write it as {shape}")
    return first, second


def _single(kind: str) -> Callable[[BlindIndex, str], tuple[str, str]]:
    return lambda blind, value: (kind, normalise.NORMALISERS[kind](value, blind.rules))


# How each kind of identifier is normalised, as `federation/prepare.py` does at ingest: the kind
# and text its blind index is computed over.
_NORMALISED: dict[IdentifierKind, Callable[[BlindIndex, str], tuple[str, str]]] = {
    IdentifierKind.PHONE: _single("phone"),
    IdentifierKind.EMAIL: _single("email"),
    IdentifierKind.IMEI: _single("imei"),
    IdentifierKind.IP_ADDRESS: _single("ip"),
    IdentifierKind.MD5: _single("md5"),
    IdentifierKind.SHA1: _single("sha1"),
    IdentifierKind.PDQ: _single("pdq"),
    IdentifierKind.SERIAL: lambda _, v: (
        "serial",
        normalise.device_serial(*_pair("serial", v, "make:serial")),
    ),
    IdentifierKind.ACCOUNT: lambda _, v: normalise.account_key(
        *_pair("account", v, "platform:handle")
    ),
    IdentifierKind.PERSON: lambda _, v: ("person", normalise.person(*_person(v))),
}

# The entity label each blind-index kind is kept under (`federation/prepare.py`, `_entities`).
_LABELS = {
    "phone": "Person", "email": "Person", "person": "Person",
    "imei": "Device", "serial": "Device", "account": "Account", "ip": "IPAddress",
    "md5": "Media", "sha1": "Media", "pdq": "Media",
}  # fmt: skip


def searched(blind: BlindIndex, kind: IdentifierKind, value: str) -> Searched:
    """The entity an identifier is kept as; `BadInput` for a value that is not one, or that
    ingest never links (no case can be found by it: see docs/graphql.md, "Identifier search")."""
    try:
        index_kind, text = _NORMALISED[kind](blind, value)
    except normalise.Unlinkable as error:
        raise BadInput(
            f"identifier: this {kind.value} does not link ({error.reason}), so no case is "
            "found by it"
        ) from None
    except normalise.InvalidIdentifier as error:
        raise BadInput(f"identifier: not a valid {kind.value}: {error.reason}") from None
    return Searched(_LABELS[index_kind], blind.of(index_kind, text))


async def _stated(context: Context, purpose: str, target: str) -> str:
    """The purpose, whitespace folded; a missing or thin one is refused and audited."""
    stated = " ".join(purpose.split())
    words = len(stated.split())
    if MIN_PURPOSE <= len(stated) <= MAX_PURPOSE and words >= MIN_PURPOSE_WORDS:
        return stated
    await context.protection.audit.record(
        actor=context.principal,
        action=ACCESS_DENIED,
        target=target,
        outcome=DENIED,
        purpose=bounded("purpose", stated, MAX_STORED_PURPOSE),
    )
    raise Forbidden(
        f"state a purpose in a short sentence ({MIN_PURPOSE} to {MAX_PURPOSE} characters)"
    )


def _shown(context: Context, rows: list[dict[str, Any]]) -> list[Holder]:
    """The holders the caller may know of: one per case at `FULL`, one per force at
    `EXISTENCE`; none the intake ceiling holds back from the caller."""
    reader = context.principal.force
    found: list[Holder] = []
    existence: set[str] = set()
    for row in rows:
        force = row["force"]
        if loaders.held_back(reader, reader, force, row["held"] or []):
            continue
        view = context.record_view(force)
        if view == RecordView.FULL:
            seal = CaseSeal(row["key"], force, row["caseRef"], row["sealed"] or None)
            context.seals[row["key"]] = seal
            found.append(Holder(force=force, case_ref=row["caseRef"], case_key=row["key"]))
        elif view == RecordView.EXISTENCE and force not in existence:
            existence.add(force)
            found.append(Holder(force=force))
    return found


async def _near(context: Context, value: str, exact: Searched) -> Searched:
    """A PDQ hash is looked up as the image cluster within the linking distance of it, as
    ingest stores a near copy (`federation/near_images.py`)."""
    near = context.protection.near_images
    await near.refresh()
    cluster = near.nearest(normalise.pdq(value))
    if cluster is None:
        return exact
    return Searched(exact.label, context.protection.blind.of("pdq", cluster))


async def _alert_sweep(context: Context, distinct: int, window: float) -> None:
    """Tell the region's administrators, once per crossing: a metric, a log line and an audit
    entry, none with any value searched."""
    client = context.principal.client_id
    SEARCH_SWEEPS.labels(client).inc()
    log.warning(
        "identifier search sweep: client %s looked up %d distinct values in %.0f s",
        client, distinct, window,
        extra={"event": SWEEP, "client": client, "distinct": distinct, "window": window},
    )  # fmt: skip
    await context.protection.audit.record(
        actor=context.principal,
        action=SWEEP,
        target=f"client:{client}",
        outcome=DENIED,
        detail=f"distinct={distinct} window={window:.0f}s",
    )


async def search_holders(info: Info, identifier: IdentifierInput, purpose: str) -> list[Holder]:
    """The holders of one identifier the caller may know of, once the search is audited."""
    context = info.context
    context.require(CASES_READ)
    target = f"identifier:{identifier.kind.value}"
    client = context.principal.client_id
    watch = context.protection.searches
    try:
        context.protection.limiter.check(client, SEARCH)
        watch.check(client)
    except RateLimited as error:
        context.refuse(429, error)
        raise
    stated = await _stated(context, purpose, target)
    entity = searched(context.protection.blind, identifier.kind, identifier.value)
    if identifier.kind == IdentifierKind.PDQ:
        entity = await _near(context, identifier.value, entity)
    distinct = watch.note(client, entity.key)
    if distinct is not None:
        await _alert_sweep(context, distinct, watch.rules.window)
        refused = RateLimited(watch.rules.cooloff)
        context.refuse(429, refused)
        raise refused
    rows = await context.graph.read(HOLDERS_OF[entity.label], {"key": entity.key})
    found = _shown(context, rows)
    # The answer leaves only once the search is in the log (AuditUnavailable: nothing returned).
    await context.protection.audit.record(
        actor=context.principal,
        action=SEARCH,
        target=target,
        outcome=OK,
        purpose=stated,
        detail=f"holders={len(found)}",
    )
    return found
