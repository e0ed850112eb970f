"""The case as analysts and coordinators see it: each field governed by the sharing agreement."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import strawberry

from gateway import priority
from gateway.graphql import loaders
from gateway.graphql.context import Info
from gateway.graphql.no_viewing import NoViewingItem, no_viewing, own_force_only
from gateway.graphql.sharing import ANY_FIELD, Owned, Protected, Sealed, governed
from graph.case_reads import MediaGrades, StoredCase, StoredDevice, StoredVictim
from graph.queries.links import ENTITY_KINDS


@strawberry.enum
class RiskLevel(enum.Enum):
    VERY_HIGH = "VERY_HIGH"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


@strawberry.enum
class CaseStatus(enum.Enum):
    NEW = "NEW"
    ALLOCATED = "ALLOCATED"
    ENFORCEMENT_PLANNED = "ENFORCEMENT_PLANNED"
    ENFORCED = "ENFORCED"
    CHARGED = "CHARGED"
    CAUTIONED = "CAUTIONED"
    NO_FURTHER_ACTION = "NO_FURTHER_ACTION"
    TRANSFERRED = "TRANSFERRED"
    CLOSED = "CLOSED"


@strawberry.enum
class ReferralSource(enum.Enum):
    NCA = "NCA"
    ROCU = "ROCU"
    CHILD_PROTECTION_SYSTEM = "CHILD_PROTECTION_SYSTEM"
    NCMEC = "NCMEC"
    INDUSTRY = "INDUSTRY"
    OTHER_FORCE = "OTHER_FORCE"
    PUBLIC = "PUBLIC"
    OTHER = "OTHER"


@strawberry.enum(description="Why a case is in the queue: a part of its score.")
class PriorityReason(enum.Enum):
    RISK = priority.RISK
    WAITING = priority.WAITING
    PAST_TARGET = priority.PAST_TARGET
    ACCESS_TO_CHILDREN = priority.ACCESS_TO_CHILDREN
    MEDIA = priority.MEDIA
    UNIDENTIFIED_VICTIMS = priority.UNIDENTIFIED_VICTIMS
    IDENTIFIED_VICTIMS = priority.IDENTIFIED_VICTIMS
    VICTIM_IN_CONTACT = priority.VICTIM_IN_CONTACT
    CONTACT_ABUSE = priority.CONTACT_ABUSE
    GROOMING = priority.GROOMING
    REGISTERED_SEX_OFFENDER = priority.REGISTERED_SEX_OFFENDER
    LINKED_CASES = priority.LINKED_CASES


@strawberry.enum(description="The team holding a case (schema v1.1).")
class Team(enum.Enum):
    SPECIALIST = "SPECIALIST"
    LOCAL = "LOCAL"


@strawberry.enum(description="How an enforcement action was taken (schema v1.1).")
class EnforcementMethod(enum.Enum):
    WARRANT = "WARRANT"
    ARREST = "ARREST"
    VOLUNTARY_ATTENDANCE = "VOLUNTARY_ATTENDANCE"
    OTHER = "OTHER"


@strawberry.enum(description="How a case was disposed of (schema v1.1).")
class OutcomeKind(enum.Enum):
    CHARGED = "CHARGED"
    CONDITIONAL_CAUTION = "CONDITIONAL_CAUTION"
    CAUTION = "CAUTION"
    COMMUNITY_RESOLUTION = "COMMUNITY_RESOLUTION"
    FAST_TRACK_CPS_FILE = "FAST_TRACK_CPS_FILE"
    NO_FURTHER_ACTION = "NO_FURTHER_ACTION"
    TRANSFERRED = "TRANSFERRED"


@strawberry.enum
class EntityKind(enum.Enum):
    PERSON = "PERSON"
    DEVICE = "DEVICE"
    ACCOUNT = "ACCOUNT"
    IP_ADDRESS = "IP_ADDRESS"
    MEDIA = "MEDIA"
    SERIES = "SERIES"


def instant(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


def _sealed_at(sealed: Mapping[str, str], pointer: str) -> Sealed | None:
    ciphertext = sealed.get(pointer)
    return None if ciphertext is None else Sealed(pointer, ciphertext)


def _sealed_list(sealed: Mapping[str, str], prefix: str) -> list[Sealed]:
    found = []
    index = 0
    while (item := _sealed_at(sealed, f"{prefix}/{index}")) is not None:
        found.append(item)
        index += 1
    return found


@strawberry.type(description="The officer in charge: whom to call about the case.")
class Officer(Owned):
    owner: strawberry.Private[str]
    case_ref: strawberry.Private[str]
    sealed: strawberry.Private[Mapping[str, str]]

    @strawberry.field(metadata=governed("officer", "name"))
    def name(self) -> Protected | None:
        return _sealed_at(self.sealed, "/officer/name")  # type: ignore[return-value]

    @strawberry.field(metadata=governed("officer", "email"))
    def email(self) -> Protected | None:
        return _sealed_at(self.sealed, "/officer/email")  # type: ignore[return-value]

    @strawberry.field(metadata=governed("officer", "phone"))
    def phone(self) -> Protected | None:
        return _sealed_at(self.sealed, "/officer/phone")  # type: ignore[return-value]


@strawberry.type(description="A suspect as the owning force recorded them.")
class Suspect(Owned):
    owner: strawberry.Private[str]
    case_ref: strawberry.Private[str]
    sealed: strawberry.Private[Mapping[str, str]]
    index: strawberry.Private[int]
    suspect_ref: strawberry.Private[str | None]

    def _at(self, name: str) -> Sealed | None:
        return _sealed_at(self.sealed, f"/suspects/{self.index}/{name}")

    def _list(self, name: str) -> list[Sealed]:
        return _sealed_list(self.sealed, f"/suspects/{self.index}/{name}")

    @strawberry.field(metadata=governed("suspect", "ref"))
    def ref(self) -> str | None:
        return self.suspect_ref

    @strawberry.field(metadata=governed("suspect", "givenName"))
    def given_name(self) -> Protected | None:
        return self._at("givenName")  # type: ignore[return-value]

    @strawberry.field(metadata=governed("suspect", "familyName"))
    def family_name(self) -> Protected | None:
        return self._at("familyName")  # type: ignore[return-value]

    @strawberry.field(metadata=governed("suspect", "dateOfBirth"))
    def date_of_birth(self) -> Protected | None:
        return self._at("dateOfBirth")  # type: ignore[return-value]

    @strawberry.field(metadata=governed("suspect", "pncId"))
    def pnc_id(self) -> Protected | None:
        return self._at("pncId")  # type: ignore[return-value]

    @strawberry.field(metadata=governed("suspect", "phones"))
    def phones(self) -> list[Protected] | None:
        return self._list("phones")  # type: ignore[return-value]

    @strawberry.field(metadata=governed("suspect", "emails"))
    def emails(self) -> list[Protected] | None:
        return self._list("emails")  # type: ignore[return-value]

    @strawberry.field(metadata=governed("suspect", "postcodes"))
    def postcodes(self) -> list[Protected] | None:
        return self._list("postcodes")  # type: ignore[return-value]


@strawberry.type(description="A device linked to the case.")
class Device(Owned):
    owner: strawberry.Private[str]
    case_ref: strawberry.Private[str]
    sealed: strawberry.Private[Mapping[str, str]]
    device: strawberry.Private[StoredDevice]

    @strawberry.field(metadata=governed("device", "ref"))
    def ref(self) -> str | None:
        return self.device.ref

    @strawberry.field(metadata=governed("device", "type"))
    def type(self) -> str | None:
        return self.device.type

    @strawberry.field(metadata=governed("device", "make"))
    def make(self) -> str | None:
        return self.device.make

    @strawberry.field(metadata=governed("device", "seizedAt"))
    def seized_at(self) -> datetime | None:
        return instant(self.device.seized_at)

    @strawberry.field(metadata=governed("device", "examinedAt"))
    def examined_at(self) -> datetime | None:
        return instant(self.device.examined_at)

    @strawberry.field(metadata=governed("device", "imei"))
    def imei(self) -> Protected | None:
        pointer = f"/devices/{self.device.index}/imei"
        return _sealed_at(self.sealed, pointer)  # type: ignore[return-value]

    @strawberry.field(metadata=governed("device", "serial"))
    def serial(self) -> Protected | None:
        pointer = f"/devices/{self.device.index}/serial"
        return _sealed_at(self.sealed, pointer)  # type: ignore[return-value]


@strawberry.type(description="A child victim: identity sealed, age band and safeguarding known.")
class Victim(Owned):
    owner: strawberry.Private[str]
    case_ref: strawberry.Private[str]
    sealed: strawberry.Private[Mapping[str, str]]
    victim: strawberry.Private[StoredVictim]

    def _at(self, name: str) -> Sealed | None:
        return _sealed_at(self.sealed, f"/victims/{self.victim.index}/{name}")

    @strawberry.field(metadata=governed("victim", "ref"))
    def ref(self) -> str | None:
        return self.victim.ref

    @strawberry.field(metadata=governed("victim", "identified"))
    def identified(self) -> bool | None:
        return self.victim.identified

    @strawberry.field(metadata=governed("victim", "ageBand"))
    def age_band(self) -> str | None:
        return self.victim.age_band

    @strawberry.field(metadata=governed("victim", "givenName"))
    def given_name(self) -> Protected | None:
        return self._at("givenName")  # type: ignore[return-value]

    @strawberry.field(metadata=governed("victim", "familyName"))
    def family_name(self) -> Protected | None:
        return self._at("familyName")  # type: ignore[return-value]

    @strawberry.field(metadata=governed("victim", "dateOfBirth"))
    def date_of_birth(self) -> Protected | None:
        return self._at("dateOfBirth")  # type: ignore[return-value]

    @strawberry.field(metadata=governed("victim", "safeguarding.referredTo"))
    def safeguarding_referred_to(self) -> list[str] | None:
        return list(self.victim.safeguarding_to)


@strawberry.type(description="Another case, of any force, that shares an entity with this one.")
class CaseLink(Owned):
    owner: strawberry.Private[str]
    case_ref: strawberry.Private[str]
    other_key: strawberry.Private[str]
    kind: strawberry.Private[EntityKind]

    @strawberry.field(metadata=governed("case", "caseRef"))
    def via(self) -> EntityKind:
        return self.kind

    @strawberry.field(metadata=governed("case", "force"))
    def force(self) -> str:
        return self.owner

    @strawberry.field(name="caseRef", metadata=governed("case", "caseRef"))
    def linked_case_ref(self) -> str:
        return self.case_ref

    @strawberry.field(
        metadata=governed("officer", ANY_FIELD),
        description="The other case's officer, as far as the agreement shows them",
    )
    async def contact(self, info: Info) -> str | None:
        return await loaders.contacts(info.context).load(self.other_key)


@strawberry.type
class CategoryCount:
    category: str
    count: int


@strawberry.type(description="How many of a case's images other cases have already graded.")
class ImageReview:
    items: int
    graded_elsewhere: int = strawberry.field(
        description="images another case (any force) has graded: no need to view them again"
    )
    categories_elsewhere: list[CategoryCount] = strawberry.field(
        description="the most severe grade given elsewhere, per image"
    )


SEVERITY = ("A", "B", "C", "NOT_INDECENT")


def image_review(media: Iterable[MediaGrades]) -> ImageReview:
    grades: dict[int, set[str]] = {}
    for item in media:  # an image kept under several hashes: the grades of each
        grades.setdefault(item.item, set()).update(item.elsewhere)
    worst = [next(c for c in SEVERITY if c in found) for found in grades.values() if found]
    return ImageReview(
        items=len(grades),
        graded_elsewhere=len(worst),
        categories_elsewhere=[
            CategoryCount(category=c, count=worst.count(c)) for c in SEVERITY if c in worst
        ],
    )


@strawberry.type(description="One force's case, as far as the sharing agreement shows it.")
class Case(Owned):
    owner: strawberry.Private[str]
    case_ref: strawberry.Private[str]
    stored: strawberry.Private[StoredCase]

    @strawberry.field(metadata=governed("case", "force"))
    def force(self) -> str:
        return self.owner

    @strawberry.field(name="caseRef", metadata=governed("case", "caseRef"))
    def case_ref_field(self) -> str:
        return self.case_ref

    @strawberry.field(metadata=governed("case", "version"))
    def version(self) -> int | None:
        return self.stored.version

    @strawberry.field(metadata=governed("risk", "level"))
    def risk_level(self) -> RiskLevel:
        return RiskLevel(self.stored.risk_level)

    @strawberry.field(metadata=governed("case", "status"))
    def status(self) -> CaseStatus:
        return CaseStatus(self.stored.status)

    @strawberry.field(metadata=governed("referral", "source"))
    def referral_source(self) -> ReferralSource | None:
        source = self.stored.referral_source
        return None if source is None else ReferralSource(source)

    @strawberry.field(metadata=governed("referral", "receivedAt"))
    def received_at(self) -> datetime | None:
        return instant(self.stored.received_at)

    @strawberry.field(
        metadata=governed("referral", "receivedAt"),
        description="When the enforcement target falls: referral receipt + 7, 7, 14 or 30 days",
    )
    def enforcement_due_at(self, info: Info) -> datetime | None:
        if self.stored.received_at is None:
            return None
        days = info.context.protection.case_rules.target_days[self.stored.risk_level]
        return instant(self.stored.received_at + days * 86_400_000)

    @strawberry.field(metadata=governed("case", "openedAt"))
    def opened_at(self) -> datetime | None:
        return instant(self.stored.opened_at)

    @strawberry.field(metadata=governed("case", "enforcementAt"))
    def enforcement_at(self) -> datetime | None:
        return instant(self.stored.enforcement_at)

    @strawberry.field(metadata=governed("case", "lastActivityAt"))
    def last_activity_at(self) -> datetime | None:
        return instant(self.stored.last_activity_at)

    @strawberry.field(metadata=governed("case", "closedAt"))
    def closed_at(self) -> datetime | None:
        return instant(self.stored.closed_at)

    @strawberry.field(metadata=governed("case", "offences"))
    def offences(self) -> list[str] | None:
        return list(self.stored.offences)

    @strawberry.field(metadata=governed("case", "summary"))
    def summary(self) -> Protected | None:
        return _sealed_at(self.stored.sealed, "/summary")  # type: ignore[return-value]

    @strawberry.field(metadata=governed("referral", "reference"))
    def referral_reference(self) -> Protected | None:
        pointer = "/referral/reference"
        return _sealed_at(self.stored.sealed, pointer)  # type: ignore[return-value]

    @strawberry.field(metadata=governed("risk", "rationale"))
    def risk_rationale(self) -> Protected | None:
        return _sealed_at(self.stored.sealed, "/risk/rationale")  # type: ignore[return-value]

    @strawberry.field(metadata=governed("officer", ANY_FIELD))
    def officer(self) -> Officer | None:
        if not self.stored.has_officer:
            return None
        return Officer(owner=self.owner, case_ref=self.case_ref, sealed=self.stored.sealed)

    @strawberry.field(metadata=governed("suspect", ANY_FIELD))
    async def suspects(self, info: Info) -> list[Suspect] | None:
        refs = (await loaders.parts(info.context).load(self.stored.key)).suspect_refs
        return [
            Suspect(
                owner=self.owner,
                case_ref=self.case_ref,
                sealed=self.stored.sealed,
                index=i,
                suspect_ref=refs.get(i),
            )
            for i in range(self.stored.suspect_count)
        ]

    @strawberry.field(metadata=governed("device", ANY_FIELD))
    async def devices(self, info: Info) -> list[Device] | None:
        listed = self.stored.device_items  # every device, identifier or not
        if listed is not None:
            found = {device.index: device for device in listed}
        else:  # a case last synced before the hub kept that list: devices with an identifier
            found = dict((await loaders.parts(info.context).load(self.stored.key)).devices)
        return [
            Device(
                owner=self.owner,
                case_ref=self.case_ref,
                sealed=self.stored.sealed,
                device=found.get(i) or StoredDevice(index=i),
            )
            for i in range(self.stored.device_count)
        ]

    @strawberry.field(metadata=governed("victim", ANY_FIELD))
    async def victims(self, info: Info) -> list[Victim] | None:
        found = await loaders.victims(info.context).load(self.stored.key)
        return [
            Victim(owner=self.owner, case_ref=self.case_ref, sealed=self.stored.sealed, victim=v)
            for v in found
        ]

    @strawberry.field(metadata=governed("media", "category"))
    async def image_review(self, info: Info) -> ImageReview | None:
        return image_review(await loaders.media_review(info.context).load(self.stored.key))

    @strawberry.field(
        metadata=governed("media", "category"),
        extensions=own_force_only(),
        description="The case's images that need no viewing: graded elsewhere in the region or "
        "listed by an imported hash set (the case's own force only; empty for others)",
    )
    async def media_no_viewing(self, info: Info) -> list[NoViewingItem] | None:
        return no_viewing(await loaders.no_viewing(info.context).load(self.stored.key))

    @strawberry.field(
        metadata=governed("case", "caseRef"),
        description="Every other case, of any force, that shares an entity with this one: one "
        "entry per case and kind of entity",
    )
    async def links(self, info: Info) -> list[CaseLink]:
        """Only cases the caller may know of (the guard applies `record_view` to each link), and
        none that the change feed holds back while a force is over its intake ceiling."""
        rows = await loaders.links(info.context).load(self.stored.key)
        return [
            CaseLink(
                owner=r.force,
                case_ref=r.case_ref,
                other_key=r.other,
                kind=EntityKind(ENTITY_KINDS[r.label]),
            )
            for r in rows
            if not r.held
        ]


def case_of(stored: StoredCase) -> Case:
    return Case(owner=stored.force, case_ref=stored.case_ref, stored=stored)
