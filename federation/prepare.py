"""From a valid case summary to the row the graph stores: linked, sealed, and figures derived.

Identifiers become blind indexes (the keys of shared entity nodes); every sensitive value is
sealed under the force's data key and kept on the case as `sealed`, a JSON object from JSON
pointer to ciphertext; what coordinators count (risk, dates, media categories, safeguarding)
is kept in clear on the case, as it holds no personal data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache, partial
from typing import Any, TypeVar

import orjson

from federation.near_videos import QUALITY_MIN
from federation.sensitive import sensitive_values
from federation.validation import Problem, parse_instant, pointer, schema_name
from graph.cases import CaseRow, Contact, Depiction, EntityLink, TombstoneRow, VictimRow, case_key
from policies import normalise
from policies.blind_index import BlindIndex
from policies.case_rules import CaseRules
from policies.crypto import FieldCipher

GROOMING = frozenset({"ONLINE_GROOMING", "SEXUAL_COMMUNICATION_WITH_CHILD", "SEXTORTION"})
# A suspect's phones and e-mails link; postcodes do not (many people share one, and a person is
# not an address): they are sealed with the rest and never indexed.
PERSON_IDENTIFIERS = (("phones", "phone"), ("emails", "email"))
MEDIA_HASHES = ("sha1", "md5", "pdq")

Record = dict[str, Any]
PairT = TypeVar("PairT", Depiction, Contact)
Link = tuple[str, dict[str, Any]]


def millis(instant: str | None) -> int | None:
    if not instant:
        return None
    return _millis(instant)


# A case repeats its instants (arrest and enforcement, one seizure for several devices), and a
# batch of cases shares many: parsing each distinct text once saves a good part of preparing.
@lru_cache(maxsize=8192)
def _millis(instant: str) -> int:
    return int(parse_instant(instant).timestamp() * 1000)


def present(props: dict[str, Any]) -> dict[str, Any]:
    """Graph properties cannot be null: absent values are left out."""
    return {k: v for k, v in props.items() if v is not None}


class InvalidIdentifiers(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} invalid identifiers")
        self.problems = problems


@dataclass
class _Indexer:
    """Blind indexes of one record, gathering the problems of identifiers that will not parse.

    A well-formed value that must not link (`normalise.Unlinkable`: a placeholder, a private
    address, a number not in use) is no problem: the record is applied, the value sealed with
    the rest, and it gets no index (docs/policies.md, "What links").
    """

    blind: BlindIndex
    # Each PDQ hash's cluster (`federation/near_images.py`): a near copy is indexed as the image.
    pdq_clusters: Mapping[str, str] = field(default_factory=dict)
    # Each video's cluster key by its fingerprint (`federation/near_videos.py`).
    video_keys: Mapping[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def key(
        self, at: tuple[str | int, ...], kind: str, normaliser: Callable[..., str], *raw: object
    ) -> str | None:
        """`at`: where the identifier is, as JSON-pointer parts (joined only for a problem)."""
        try:
            text = normaliser(*raw)
        except normalise.Unlinkable:
            return None
        except normalise.InvalidIdentifier as error:
            self._invalid(at, kind, error)
            return None
        return self.blind.of(kind, text)

    def single(self, at: tuple[str | int, ...], kind: str, raw: str) -> str | None:
        """The index of a single-value identifier, normalised by `kind`'s normaliser under the
        region's linking rules."""
        try:
            text = normalise.NORMALISERS[kind](raw, self.blind.rules)
        except normalise.Unlinkable:
            return None
        except normalise.InvalidIdentifier as error:
            self._invalid(at, kind, error)
            return None
        if kind == "pdq":
            text = self.pdq_clusters.get(text, text)
        return self.blind.of(kind, text)

    def kind_and_key(
        self, at: tuple[str | int, ...], kind: str, normalised: Callable[[], tuple[str, str]]
    ) -> tuple[str, str] | None:
        """The kind and index of an identifier whose kind its normaliser decides."""
        try:
            as_kind, text = normalised()
        except normalise.Unlinkable:
            return None
        except normalise.InvalidIdentifier as error:
            self._invalid(at, kind, error)
            return None
        return as_kind, self.blind.of(as_kind, text)

    def _invalid(
        self, at: tuple[str | int, ...], kind: str, error: normalise.InvalidIdentifier
    ) -> None:
        self.problems.append(Problem(pointer(at), f"is not a valid {kind}: {error.reason}"))


def _unique(links: Iterable[Link]) -> list[EntityLink]:
    """Each entity once, with the properties of its first link (made without nulls)."""
    seen: set[str] = set()
    out: list[EntityLink] = []
    for key, props in links:
        if key not in seen:
            seen.add(key)
            out.append({"key": key, "props": props})
    return out


def _suspect_keys(suspect: Record, i: int, ix: _Indexer) -> list[str]:
    found = []
    if suspect.get("givenName") and suspect.get("familyName") and suspect.get("dateOfBirth"):
        names = (suspect["givenName"], suspect["familyName"], suspect["dateOfBirth"])
        found.append(ix.key(("suspects", i, "dateOfBirth"), "person", normalise.person, *names))
    if suspect.get("pncId"):
        found.append(ix.key(("suspects", i, "pncId"), "pnc", normalise.pnc_id, suspect["pncId"]))
    for name, kind in PERSON_IDENTIFIERS:
        for j, value in enumerate(suspect.get(name) or ()):
            found.append(ix.single(("suspects", i, name, j), kind, value))
    return [k for k in found if k is not None]


def _device_keys(device: Record, i: int, ix: _Indexer) -> list[str]:
    found = []
    if device.get("imei"):
        found.append(ix.single(("devices", i, "imei"), "imei", device["imei"]))
    if device.get("serial") and device.get("make"):
        serial = (device["make"], device["serial"])
        found.append(ix.key(("devices", i, "serial"), "serial", normalise.device_serial, *serial))
    return [k for k in found if k is not None]


def images_of(record: Record) -> list[tuple[str, str]]:
    """The case's PDQ hashes that parse, normalised, each with its JSON pointer: images', and
    video frames' of quality enough to match (`near_videos.QUALITY_MIN`)."""
    found = []
    for i, item in enumerate(record.get("media") or ()):
        if item.get("pdq"):
            try:
                found.append((normalise.pdq(item["pdq"]), pointer(("media", i, "pdq"))))
            except normalise.InvalidIdentifier:
                continue  # reported by `prepare_case`
        for j, frame in _frames(item):
            found.append((frame, pointer(("media", i, "vpdq", j, "pdq"))))
    return found


def _frames(item: Record) -> Iterator[tuple[int, str]]:
    """A video's frame hashes that can match, normalised, by position in its `vpdq`."""
    for j, frame in enumerate(item.get("vpdq") or ()):
        if frame.get("quality", 0) >= QUALITY_MIN:
            try:
                yield j, normalise.pdq(frame["pdq"])
            except normalise.InvalidIdentifier:
                continue  # the schema's pattern refused it already


def video_fingerprint(item: Record) -> str | None:
    """What names a media item's video within a batch: a digest of its frames that can match."""
    frames = [frame for _, frame in _frames(item)]
    if not frames:
        return None
    return hashlib.sha256(",".join(frames).encode()).hexdigest()


def videos_of(
    record: Record, blind: BlindIndex, pdq_clusters: Mapping[str, str]
) -> Iterator[tuple[str, frozenset[str]]]:
    """Each video of the case: its fingerprint and its frames, as their image clusters' keys."""
    for item in record.get("media") or ():
        fingerprint = video_fingerprint(item)
        if fingerprint is not None:
            frames = (pdq_clusters.get(frame, frame) for _, frame in _frames(item))
            yield fingerprint, frozenset(blind.of("pdq", frame) for frame in frames)


def _media_keys(item: Record, i: int, ix: _Indexer) -> list[str]:
    found = [
        ix.single(("media", i, kind), kind, item[kind]) for kind in MEDIA_HASHES if item.get(kind)
    ]
    fingerprint = video_fingerprint(item) if item.get("vpdq") else None
    if fingerprint is not None:
        found.append(ix.video_keys.get(fingerprint))
    return [k for k in found if k is not None]


def _device(device: Record) -> dict[str, Any]:
    """What the case's force sees of a device besides its sealed identifiers: none personal."""
    return present(
        {
            "ref": device["ref"],
            "type": device["type"],
            "make": device.get("make"),
            "seizedAt": millis(device.get("seizedAt")),
            "examinedAt": millis(device.get("examinedAt")),
        }
    )


@dataclass
class _Entities:
    """The record's links to shared entities, and the keys its local refs stand for."""

    persons: list[Link] = field(default_factory=list)
    devices: list[Link] = field(default_factory=list)
    accounts: list[Link] = field(default_factory=list)
    ips: list[Link] = field(default_factory=list)
    media: list[Link] = field(default_factory=list)
    series: list[Link] = field(default_factory=list)
    depicts: list[Depiction] = field(default_factory=list)
    # Every device of the case, in record order, as JSON kept on the case node: a device links
    # through a `USES_DEVICE` relationship only when it has an identifier, but a seized laptop
    # without a readable serial is still the case's device, and its force reads it back.
    device_items: str = "[]"
    by_ref: dict[str, list[str]] = field(default_factory=dict)  # suspect/account ref -> keys
    accounts_by_ref: dict[str, str] = field(default_factory=dict)
    email_accounts_by_ref: dict[str, str] = field(default_factory=dict)  # ref -> person key


def _entities(record: Record, case: str, ix: _Indexer) -> _Entities:
    out = _Entities()
    for i, s in enumerate(record.get("suspects") or []):
        keys = _suspect_keys(s, i, ix)
        out.by_ref[s["ref"]] = keys
        out.persons.extend((k, {"ref": s["ref"], "idx": i}) for k in keys)
    devices = [_device(d) for d in record.get("devices") or []]
    out.device_items = orjson.dumps(devices).decode()
    for i, (d, seen) in enumerate(zip(record.get("devices") or [], devices, strict=True)):
        props = {"idx": i, **seen}
        out.devices.extend((k, props) for k in _device_keys(d, i, ix))
    for i, a in enumerate(record.get("accounts") or []):
        found = ix.kind_and_key(
            ("accounts", i, "handle"),
            "account",
            partial(normalise.account_key, a["platform"], a["handle"]),
        )
        if found is None:
            continue
        kind, account = found
        if kind == "email":
            # The address itself: it meets suspects' e-mails at their person entity.
            out.email_accounts_by_ref[a["ref"]] = account
            out.persons.append((account, {"ref": a["ref"], "platform": a["platform"]}))
        else:
            out.accounts_by_ref[a["ref"]] = account
            out.accounts.append((account, {"ref": a["ref"], "idx": i, "platform": a["platform"]}))
    for i, ip in enumerate(record.get("ipAddresses") or []):
        key = ix.single(("ipAddresses", i, "address"), "ip", ip["address"])
        if key is not None:
            out.ips.append((key, present({"idx": i, "seenAt": millis(ip.get("seenAt"))})))
    for i, m in enumerate(record.get("media") or []):
        hashes = _media_keys(m, i, ix)
        props = present({"idx": i, "category": m.get("category") or "UNGRADED",
                         "gradedAt": millis(m.get("gradedAt"))})  # fmt: skip
        out.media.extend((k, props) for k in hashes)
        if m.get("seriesRef"):
            at = ("media", i, "seriesRef")
            key = ix.single(at, "series", m["seriesRef"])
            if key is not None:
                out.series.append((key, {}))
        out.depicts.extend(
            {"media": h, "victim": f"{case}:{v}"} for h in hashes for v in m.get("depicts") or []
        )
    return out


def _victims(
    record: Record, case: str, entities: _Entities
) -> tuple[list[VictimRow], list[Contact], list[Contact]]:
    victims: list[VictimRow] = []
    persons: list[Contact] = []
    accounts: list[Contact] = []
    for i, v in enumerate(record.get("victims") or []):
        key = f"{case}:{v['ref']}"
        referrals = v.get("safeguarding") or []
        props = {
            "key": key, "force": record["force"], "caseRef": record["caseRef"], "ref": v["ref"],
            "idx": i, "identified": v["identified"], "ageBand": v.get("ageBand") or "UNKNOWN",
            "safeguardingCount": len(referrals),
            "safeguardingTo": sorted({r["referredTo"] for r in referrals}),
            "firstSafeguardingAt": min((millis(r["referredAt"]) or 0 for r in referrals),
                                       default=None),
        }  # fmt: skip
        victims.append({"key": key, "props": present(props)})
        for ref in dict.fromkeys(v.get("contactWith") or []):
            persons.extend({"victim": key, "entity": k} for k in entities.by_ref.get(ref, []))
            if ref in entities.accounts_by_ref:
                accounts.append({"victim": key, "entity": entities.accounts_by_ref[ref]})
            if ref in entities.email_accounts_by_ref:
                persons.append({"victim": key, "entity": entities.email_accounts_by_ref[ref]})
    return victims, persons, accounts


async def _sealed(record: Record, cipher: FieldCipher) -> tuple[int, str]:
    """The data key version, and the JSON object from JSON pointer to ciphertext."""
    force, case_ref = record["force"], record["caseRef"]
    version, sealed = await cipher.seal_record(force, case_ref, sensitive_values(record))
    return version, orjson.dumps(sealed).decode("ascii")


def _figures(record: Record) -> dict[str, Any]:
    """What oversight, regrade alerts and the priority queue count, none of it personal."""
    suspects = record.get("suspects") or []
    devices = record.get("devices") or []
    victims = record.get("victims") or []
    offences = record.get("offences") or []
    categories = [m.get("category") or "UNGRADED" for m in record.get("media") or []]
    unexamined = [
        millis(d["seizedAt"]) or 0 for d in devices if d.get("seizedAt") and not d.get("examinedAt")
    ]
    safeguarding = [
        millis(s["referredAt"]) or 0 for v in victims for s in v.get("safeguarding") or []
    ]
    return {
        "suspectCount": len(suspects),
        "accessToChildren": any(s.get("accessToChildren") for s in suspects),
        "registeredSexOffender": any(s.get("registeredSexOffender") for s in suspects),
        "deviceCount": len(devices),
        "devicesSeized": sum(1 for d in devices if d.get("seizedAt")),
        "devicesUnexamined": len(unexamined),
        "oldestUnexaminedSeizedAt": min(unexamined, default=None),
        "mediaCount": len(categories),
        "mediaA": categories.count("A"),
        "mediaB": categories.count("B"),
        "mediaC": categories.count("C"),
        "mediaUngraded": categories.count("UNGRADED"),
        "victimCount": len(victims),
        "victimsIdentified": sum(1 for v in victims if v.get("identified")),
        "victimsUnidentified": sum(1 for v in victims if not v.get("identified")),
        "victimInContact": any(v.get("contactWith") for v in victims),
        "firstSafeguardingAt": min(safeguarding, default=None),
        "groomingIndicated": any(o in GROOMING for o in offences),
        "contactAbuseIndicated": "CONTACT_ABUSE_INDICATED" in offences,
    }


def _enforcements(record: Record) -> list[tuple[int, str]]:
    """(time, method) of every enforcement action, earliest first. A record that names only
    `enforcementAt` (every v1 record) has one action of method `OTHER` then."""
    actions = [(millis(a["at"]) or 0, a["method"]) for a in record.get("enforcements") or []]
    if not actions and record.get("enforcementAt"):
        actions = [(millis(record["enforcementAt"]) or 0, "OTHER")]
    return sorted(actions)


def _disposal(record: Record) -> dict[str, Any]:
    """Enforcement, outcome and team (schema v1.1), none of it personal."""
    actions = _enforcements(record)
    outcome = record.get("outcome") or {}
    outcome_at = millis(outcome.get("at"))
    closed_at = millis(record.get("closedAt"))
    ends = [t for t in (outcome_at, closed_at) if t is not None]
    return {
        "schemaVersion": schema_name(record),
        "team": record.get("team"),
        # Validation made a given enforcementAt equal to the earliest action.
        "enforcementAt": actions[0][0] if actions else None,
        "enforcementTimes": [at for at, _ in actions],
        "enforcementMethods": [method for _, method in actions],
        "outcomeKind": outcome.get("kind"),
        "outcomeAt": outcome_at,
        "resolvedAt": min(ends, default=None),
    }


def _case_props(
    record: Record,
    key: str,
    sealed: tuple[int, str],
    device_items: str,
    now: datetime,
    rules: CaseRules,
) -> dict[str, Any]:
    referral, risk = record["referral"], record["risk"]
    return present(
        {
            "key": key,
            "force": record["force"],
            "caseRef": record["caseRef"],
            "version": record["version"],
            "riskLevel": risk["level"],
            "riskAssessedAt": millis(risk["assessedAt"]),
            "riskTool": risk.get("tool"),
            "status": record["status"],
            # Open by the case rules' `open.closed_statuses`, as they were at this sync.
            "open": rules.is_open(record["status"]),
            "referralSource": referral["source"],
            "receivedAt": millis(referral["receivedAt"]),
            "openedAt": millis(record["openedAt"]),
            "lastActivityAt": millis(record.get("lastActivityAt")),
            "closedAt": millis(record.get("closedAt")),
            "offences": list(record.get("offences") or []),
            "hasOfficer": "officer" in record,
            "deviceItems": device_items,
            "sealed": sealed[1],
            # Every field of a record is sealed with one key version: re-encryption after a
            # rotation finds the cases still on an older one by this number.
            "sealedWith": sealed[0],
            "syncedAt": int(now.timestamp() * 1000),
            # Cleared once the after-sync step (links, regrade alerts) has run for this version;
            # a hub that stopped before then takes the case up again when it starts
            # (federation/after_sync/queue.py).
            "afterSyncPending": True,
            **_figures(record),
            **_disposal(record),
        }
    )


async def prepare_case(
    record: Record,
    *,
    blind: BlindIndex,
    cipher: FieldCipher,
    now: datetime,
    rules: CaseRules,
    pdq_clusters: Mapping[str, str] | None = None,
    video_keys: Mapping[str, str] | None = None,
) -> CaseRow:
    """The graph row of a valid, live case summary; `InvalidIdentifiers` lists what won't link.
    `pdq_clusters` maps a normalised PDQ hash to its near-duplicate cluster's hash;
    `video_keys` a video's fingerprint to its video cluster's key."""
    key = case_key(record["force"], record["caseRef"])
    indexer = _Indexer(blind, pdq_clusters or {}, video_keys or {})
    entities = _entities(record, key, indexer)
    if indexer.problems:
        raise InvalidIdentifiers(indexer.problems)
    victims, contact_persons, contact_accounts = _victims(record, key, entities)
    return {
        "key": key,
        "version": record["version"],
        "props": _case_props(
            record, key, await _sealed(record, cipher), entities.device_items, now, rules
        ),
        "persons": _unique(entities.persons),
        "devices": _unique(entities.devices),
        "accounts": _unique(entities.accounts),
        "ips": _unique(entities.ips),
        "media": _unique(entities.media),
        "series": _unique(entities.series),
        "victims": victims,
        "depicts": _distinct(entities.depicts),
        "contactPersons": _distinct(contact_persons),
        "contactAccounts": _distinct(contact_accounts),
    }


def _distinct(pairs: list[PairT]) -> list[PairT]:
    seen: set[tuple[object, ...]] = set()
    out: list[PairT] = []
    for pair in pairs:
        marker = tuple(pair.values())
        if marker not in seen:
            seen.add(marker)
            out.append(pair)
    return out


def tombstone(record: Record) -> TombstoneRow:
    return {
        "key": case_key(record["force"], record["caseRef"]),
        "force": record["force"],
        "version": record["version"],
    }
