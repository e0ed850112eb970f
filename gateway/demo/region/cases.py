"""Case summaries (`crossforce/case-summary/v1.1`) of a synthetic region, one at a time."""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gateway.demo.region import identities as ids
from gateway.demo.region.identities import Account, Device, Image, Person, SharedPool
from gateway.demo.region.params import RegionParams
from gateway.demo.region.timeline import DAY, Timeline, between, iso, pick, seeded, timeline
from gateway.demo.region.volumes import arrivals

SCHEMA = "crossforce/case-summary/v1.1"
Record = dict[str, Any]

# Chance of each high-risk sign on a case of each grade (LOW: see low_with_high_signs).
ACCESS_TO_CHILDREN = {"VERY_HIGH": 0.6, "HIGH": 0.3, "MEDIUM": 0.1}
GROOMING = {"VERY_HIGH": 0.4, "HIGH": 0.25, "MEDIUM": 0.08}
CONTACT_ABUSE = {"VERY_HIGH": 0.3, "HIGH": 0.08, "MEDIUM": 0.02}
CATEGORIES = {  # media grades by case grade; LOW without signs never holds category A
    "VERY_HIGH": (("A", 0.45), ("B", 0.25), ("C", 0.25), ("UNGRADED", 0.05)),
    "HIGH": (("A", 0.35), ("B", 0.25), ("C", 0.32), ("UNGRADED", 0.08)),
    "MEDIUM": (("A", 0.15), ("B", 0.25), ("C", 0.48), ("UNGRADED", 0.10), ("NOT_INDECENT", 0.02)),
    "LOW": (("B", 0.20), ("C", 0.65), ("UNGRADED", 0.12), ("NOT_INDECENT", 0.03)),
}
DEVICE_KINDS = (
    ("PHONE", 0.5), ("COMPUTER", 0.25), ("TABLET", 0.1), ("STORAGE", 0.1), ("CONSOLE", 0.05),
)  # fmt: skip
SAFEGUARDING = (("NSPCC", 0.3), ("CHILDRENS_SOCIAL_CARE", 0.35), ("MASH", 0.2), ("SCHOOL", 0.1),
                ("HEALTH", 0.05))  # fmt: skip
AGE_BANDS = (("0-3", 0.05), ("4-7", 0.15), ("8-12", 0.35), ("13-15", 0.35), ("16-17", 0.1))
SOURCE_TEXT = {
    "NCA": "NCA package: indecent images uploaded from a subscriber address.",
    "ROCU": "ROCU intelligence: images shared in an online group.",
    "CHILD_PROTECTION_SYSTEM": "Child Protection System: known images offered peer to peer.",
    "NCMEC": "NCMEC CyberTipline report: images uploaded to an online service.",
    "INDUSTRY": "Platform report: images and chats flagged by the service.",
    "OTHER_FORCE": "Referred by another force after a linked arrest.",
    "PUBLIC": "Report from a member of the public.",
    "OTHER": "Referral from a partner agency.",
}
SIGN_TEXT = {
    "access-to-children": "Suspect has access to children.",
    "category-a": "Category A images present.",
    "grooming-or-contact": "Chats indicate grooming or contact abuse.",
    "victim-in-contact": "A child is in contact with the suspect.",
}
SERIES_POOL, NEW_SERIES_SHARE = 64, 0.25
# Schema v1.1: who holds the case, how enforcement went, and the outcome behind the status.
SPECIALIST_TEAM = {"VERY_HIGH": 0.85, "HIGH": 0.7, "MEDIUM": 0.45, "LOW": 0.25}
WARRANT_FIRST = 0.6  # of arrests: made on executing a search warrant at the address
OTHER_ENFORCEMENT = 0.1  # of enforcements without an arrest: neither arrest nor attendance
FURTHER_ENFORCEMENT = 0.3  # a further arrest or interview once the devices are examined
OUTCOME_KINDS = {
    "CHARGED": (("CHARGED", 0.8), ("FAST_TRACK_CPS_FILE", 0.2)),
    "CAUTIONED": (("CONDITIONAL_CAUTION", 0.6), ("CAUTION", 0.4)),
    "NO_FURTHER_ACTION": (("NO_FURTHER_ACTION", 1.0),),
    "TRANSFERRED": (("TRANSFERRED", 1.0),),
    "CLOSED": (("COMMUNITY_RESOLUTION", 1.0),),
}
CLOSED_WITH_RESOLUTION = 0.5  # the rest of the closed cases record no outcome


def _count(rng: random.Random, mean: float, cap: int = 200) -> int:
    """A count with the given mean, at least 1 when the mean is at least 1 (geometric tail)."""
    if mean <= 1:
        return 1 if rng.random() < mean else 0
    scale = 1 / math.log(1 + 1 / (mean - 1))
    return min(cap, 1 + int(rng.expovariate(1 / scale)))


def _other_style(rng: random.Random, style: int, styles: int) -> int:
    """A notation different from the one the first force used."""
    return (style + 1 + int(rng.random() * (styles - 1))) % styles


@dataclass(slots=True)
class Series:
    number: int
    images: list[Image]
    victims: list[dict[str, Any]]  # victim fields without ref


@dataclass(slots=True)
class _Plan:
    """What one case will carry: its grade and which high-risk signs."""

    level: str
    access: bool
    grooming: bool
    contact: bool
    category_a: bool  # may hold category A media
    victim_in_contact: bool


class Region:
    """Generates the cases; holds only counters and bounded pools of recent identities."""

    def __init__(self, params: RegionParams) -> None:
        self.p = params
        self.rng = seeded(params.seed, "cases")
        # v1.1's fields draw from their own stream: the v1 content of a seed stays as it was.
        self.rng_v1_1 = seeded(params.seed, "cases-v1.1")
        rng = seeded(params.seed, "spaces")
        self.phone_of = ids.Permutation(rng, ids.PHONE_SPACE)
        self.postcode_of = ids.Permutation(rng, ids.POSTCODE_SPACE)
        self.imei_of = ids.Permutation(rng, 10**12)
        self.serial_of = ids.Permutation(rng, 36**10)
        self.ipv4_of = ids.Permutation(rng, ids.IPV4_SPACE)
        self.pnc_of = ids.Permutation(rng, 9_999_999)
        self.codes = params.force_codes
        self.sources = tuple(
            (k, v / sum(params.sources.values())) for k, v in params.sources.items()
        )
        self.levels = tuple(
            (k, v / sum(params.risk_mix.values())) for k, v in params.risk_mix.items()
        )
        self.end = int(params.end.timestamp())
        self.counters: dict[str, int] = {}
        self.pools = {kind: SharedPool() for kind in ("person", "device", "account", "ip", "image")}
        self.series: list[Series] = []

    def _next(self, name: str) -> int:
        n = self.counters.get(name, 0)
        self.counters[name] = n + 1
        return n

    # --- the case ------------------------------------------------------------------------------

    def cases(self) -> Iterator[Record]:
        for received, force in arrivals(self.p):
            yield self.case(force, received)

    def case(self, force: int, received: int) -> Record:
        rng, code = self.rng, self.codes[force]
        plan = self._plan(pick(rng, self.levels))
        past = self.p.past_target.get(plan.level, 0.0)
        life = timeline(rng, plan.level, received, self.end, past)
        source = pick(rng, self.sources)
        record: Record = {
            "schema": SCHEMA,
            "force": code,
            "caseRef": self._case_ref(force, received),
            "version": life.version,
            "referral": self._referral(source, force, received),
            "risk": self._risk(plan, life),
            "status": life.status,
            "team": self._team(plan.level),
            "openedAt": iso(life.opened),
        }
        if life.enforced_at is not None:
            record["enforcementAt"] = life.enforced_at
            record["enforcements"] = self._enforcements(life)
        outcome = self._outcome(life)
        if outcome is not None:
            record["outcome"] = outcome
        record["lastActivityAt"] = iso(life.last_activity)
        if life.closed is not None:
            record["closedAt"] = iso(life.closed)
        record["offences"] = self._offences(plan)
        record["summary"] = self._summary(source, plan)
        record["officer"] = self._officer(force)
        self._items(record, force, plan, life)
        return record

    def _team(self, level: str) -> str:
        """Specialist teams take most high-risk cases; local teams more of the rest."""
        return "SPECIALIST" if self.rng_v1_1.random() < SPECIALIST_TEAM[level] else "LOCAL"

    def _enforcements(self, life: Timeline) -> list[Record]:
        """The first enforcement (at `enforcementAt`), and perhaps a further one once the
        devices are examined and before the outcome."""
        rng, at = self.rng_v1_1, life.enforced_at
        if life.arrested:
            first = ["WARRANT"] if rng.random() < WARRANT_FIRST else []
            actions = [{"method": m, "at": at} for m in (*first, "ARREST")]
        else:
            method = "OTHER" if rng.random() < OTHER_ENFORCEMENT else "VOLUNTARY_ATTENDANCE"
            actions = [{"method": method, "at": at}]
        examined, until = life.examined, life.status_at
        if examined is not None and until > examined and rng.random() < FURTHER_ENFORCEMENT:
            rearrest = life.arrested and rng.random() < 0.4  # a suspect on bail arrested again
            method = "ARREST" if rearrest else "VOLUNTARY_ATTENDANCE"
            actions.append({"method": method, "at": iso(between(rng, examined, until))})
        return actions

    def _outcome(self, life: Timeline) -> Record | None:
        kinds = OUTCOME_KINDS.get(life.status)
        if kinds is None:
            return None
        rng = self.rng_v1_1
        if life.status == "CLOSED" and rng.random() >= CLOSED_WITH_RESOLUTION:
            return None
        return {"kind": pick(rng, kinds), "at": iso(life.status_at)}

    def _plan(self, level: str) -> _Plan:
        rng = self.rng
        if level == "LOW":
            if rng.random() >= self.p.low_with_high_signs:
                return _Plan(level, False, False, False, False, False)
            chosen = set(rng.sample(range(4), 1 + (rng.random() < 0.3)))
            grooming = 2 in chosen
            return _Plan(level, 0 in chosen, grooming, grooming and rng.random() < 0.3,
                         1 in chosen, 3 in chosen)  # fmt: skip
        grooming = rng.random() < GROOMING[level]
        contact = rng.random() < CONTACT_ABUSE[level]
        in_contact = (grooming or contact) and rng.random() < 0.7
        return _Plan(level, rng.random() < ACCESS_TO_CHILDREN[level], grooming, contact,
                     True, in_contact)  # fmt: skip

    def _case_ref(self, force: int, received: int) -> str:
        year = int(iso(received)[:4])
        yy = year % 100
        n = self._next(f"ref:{force}:{year}") + 1
        code = self.codes[force]
        match code:
            case "AS":
                return f"AS-{year}-{n:04d}"
            case "GL":
                return f"GL/{yy:02d}/{n:04d}"
            case "WI":
                return f"WI.{yy:02d}.{n:06d}"
            case "DC":
                return f"DC-OCSA-{yy:02d}-{n:05d}"
            case "DO":
                return f"DO{yy:02d}-{n:05d}"
            case _:
                return f"{code}-{yy:02d}-{n:05d}"

    def _referral(self, source: str, force: int, received: int) -> Record:
        referral: Record = {"source": source}
        n = self._next(f"source:{source}") + 1
        reference = {
            "NCA": f"NCA-PKG-{n:06d}",
            "ROCU": f"ROCU-{n:05d}",
            "CHILD_PROTECTION_SYSTEM": f"CPS-{n:08d}",
            "NCMEC": f"CT{100_000_000 + n:09d}",
            "INDUSTRY": f"IND-{n:07d}",
            "OTHER_FORCE": f"{self.codes[(force + 1) % len(self.codes)]}-REF-{n:05d}",
        }.get(source)
        if reference is not None:
            referral["reference"] = reference
        referral["receivedAt"] = iso(received)
        return referral

    def _risk(self, plan: _Plan, life: Timeline) -> Record:
        risk: Record = {"level": plan.level, "assessedAt": iso(life.assessed)}
        if self.rng.random() < 0.9:
            risk["tool"] = "KIRAT"
        if self.rng.random() < 0.6:
            risk["rationale"] = f"Graded {plan.level.replace('_', ' ').lower()} at receipt."
        return risk

    def _offences(self, plan: _Plan) -> list[str]:
        rng = self.rng
        chosen = {"IIOC_POSSESSION"} if rng.random() < 0.85 else set()
        for offence, share in (("IIOC_MAKING", 0.6), ("IIOC_DISTRIBUTION", 0.25),
                               ("LIVE_STREAMING", 0.03), ("SELF_GENERATED_IMAGERY", 0.05),
                               ("OTHER", 0.02)):  # fmt: skip
            if rng.random() < share:
                chosen.add(offence)
        if plan.grooming:
            r = rng.random()
            chosen.add(
                "SEXTORTION"
                if r < 0.2
                else "ONLINE_GROOMING"
                if r < 0.7
                else "SEXUAL_COMMUNICATION_WITH_CHILD"
            )
        if plan.contact:
            chosen.add("CONTACT_ABUSE_INDICATED")
        return [o for o in OFFENCE_ORDER if o in chosen] or ["IIOC_POSSESSION"]

    def _summary(self, source: str, plan: _Plan) -> str:
        signs = [
            SIGN_TEXT[name]
            for name, present in (
                ("access-to-children", plan.access),
                ("grooming-or-contact", plan.grooming or plan.contact),
                ("victim-in-contact", plan.victim_in_contact),
            )
            if present
        ]
        return " ".join(["Synthetic case.", SOURCE_TEXT[source], *signs])

    def _officer(self, force: int) -> Record:
        code = self.codes[force]
        i = int(self.rng.random() * 24)
        given = ids.GIVEN_NAMES[(force * 7 + i * 5) % len(ids.GIVEN_NAMES)]
        family = ids.FAMILY_NAMES[(force * 11 + i * 13) % len(ids.FAMILY_NAMES)]
        officer: Record = {
            "name": f"DC {given} {family}",
            "email": f"{given}.{family}@{code.lower()}.example.org".lower(),
        }
        if i % 2:
            officer["phone"] = f"0306 999 0{(force * 24 + i) % 1000:03d}"  # drama, non-geographic
        return officer

    # --- suspects, devices, accounts, addresses, victims and media -----------------------------

    def _items(self, record: Record, force: int, plan: _Plan, life: Timeline) -> None:
        rng = self.rng
        suspects = [self._suspect(force, plan, life, 1)]
        if rng.random() < 0.12:
            suspects.append(self._suspect(force, plan, life, 2))
        refs = [s["ref"] for s in suspects]
        devices = [self._device(force, life, refs, i) for i in range(1, 1 + _count(rng, 1.8, 20))]
        accounts = [self._account(force, refs, i) for i in range(1, 1 + _count(rng, 1.2, 20))]
        ips = [self._ip(force, life, accounts) for _ in range(_count(rng, 1.3, 20))]
        victims: list[Record] = []
        if plan.victim_in_contact:
            victims.append(self._contact_victim(life, accounts, refs))
        media = self._media(force, plan, life, devices, victims)
        record["suspects"] = suspects
        record["devices"] = devices
        if accounts:
            record["accounts"] = accounts
        if ips:
            record["ipAddresses"] = ips
        if victims:
            record["victims"] = victims
        if media:
            record["media"] = media

    def _suspect(self, force: int, plan: _Plan, life: Timeline, n: int) -> Record:
        rng = self.rng
        person = self._shared("person", force)
        if isinstance(person, Person):
            style = _other_style(rng, person.style, 6)
        else:
            person = self._new_person()
            self.pools["person"].add(force, person)
            style = person.style
        upper = style % 2 == 1
        out: Record = {"ref": f"P{n}"}
        out["givenName"] = person.given.upper() if upper else person.given
        out["familyName"] = person.family.upper() if upper else person.family
        if person.born:
            out["dateOfBirth"] = person.born
        if person.pnc:
            out["pncId"] = ids.pnc_text(*person.pnc, style)
        if person.phone is not None:
            out["phones"] = [ids.phone_text(person.phone, style)]
        if person.email:
            out["emails"] = [ids.email_text(person.email, style)]
        if person.postcode is not None:
            out["postcodes"] = [ids.postcode_text(person.postcode)]
        if n == 1 and plan.access:
            out["accessToChildren"] = True
        elif rng.random() < 0.5:
            out["accessToChildren"] = False
        if person.pnc and rng.random() < 0.3:
            out["registeredSexOffender"] = True
        if life.enforced is not None and life.arrested:
            out["arrestedAt"] = life.enforced_at
        return out

    def _new_person(self) -> Person:
        rng, k = self.rng, self._next("person")
        given = ids.GIVEN_NAMES[int(rng.random() * len(ids.GIVEN_NAMES))]
        family = ids.FAMILY_NAMES[int(rng.random() * len(ids.FAMILY_NAMES))]
        born = None
        if rng.random() < 0.92:
            born = f"{between(rng, 1955, 2006)}-{between(rng, 1, 12):02d}-{between(rng, 1, 28):02d}"
        pnc = (
            (between(rng, 1995, 2024), 1 + self.pnc_of(k % 9_999_999))
            if rng.random() < 0.25
            else None
        )
        phone = None
        if rng.random() < 0.65:
            slot = self._next("phone")
            phone = self.phone_of(slot) if slot < ids.PHONE_SPACE else None
        email = f"{given}.{family}{k}" if rng.random() < 0.5 or not (born or pnc or phone) else None
        postcode = None
        if rng.random() < 0.5:
            slot = self._next("postcode")
            postcode = self.postcode_of(slot) if slot < ids.POSTCODE_SPACE else None
        return Person(given, family, born, pnc, phone, email, postcode, int(rng.random() * 6))

    def _shared(self, kind: str, force: int) -> object | None:
        if self.p.overlap and self.rng.random() < self.p.overlap:
            return self.pools[kind].other_force(self.rng, force)
        return None

    def _device(self, force: int, life: Timeline, refs: list[str], n: int) -> Record:
        rng = self.rng
        device = self._shared("device", force)
        if isinstance(device, Device):
            style = _other_style(rng, device.style, ids.IMEI_STYLES)
        else:
            device = self._new_device()
            self.pools["device"].add(force, device)
            style = device.style
        out: Record = {"ref": f"D{n}", "type": device.kind}
        if device.imei:
            out["imei"] = ids.imei_text(device.imei, style)
        if device.serial and device.make:
            out["make"] = device.make if style % 2 == 0 else device.make.upper()
            serial = device.serial if style % 2 == 0 else device.serial.lower()
            out["serial"] = serial if style % 3 else f"{serial[:4]}-{serial[4:8]}-{serial[8:]}"
        out["usedBy"] = [refs[0] if len(refs) == 1 or rng.random() < 0.8 else refs[1]]
        if life.enforced is not None:
            out["seizedAt"] = life.enforced_at
            if life.examined is not None:
                out["examinedAt"] = life.examined_at
        return out

    def _new_device(self) -> Device:
        rng = self.rng
        kind = pick(rng, DEVICE_KINDS)
        imei = make = serial = None
        if (kind == "PHONE" and rng.random() < 0.95) or (kind == "TABLET" and rng.random() < 0.5):
            imei = f"00{self.imei_of(self._next('imei')):012d}"
        elif rng.random() < 0.8:
            make = ids.MAKES[int(rng.random() * len(ids.MAKES))]
            serial = _base36(self.serial_of(self._next("serial")))
        return Device(kind, imei, make, serial, int(rng.random() * ids.IMEI_STYLES))

    def _account(self, force: int, refs: list[str], n: int) -> Record:
        rng = self.rng
        account = self._shared("account", force)
        if isinstance(account, Account):
            style = _other_style(rng, account.style, 3)
        else:
            k = self._next("account")
            platform = ids.PLATFORMS[int(rng.random() * len(ids.PLATFORMS))]
            words = ids.HANDLE_WORDS
            w1, w2 = words[int(rng.random() * len(words))], words[int(rng.random() * len(words))]
            account = Account(platform, f"{w1}_{w2}{k}", int(rng.random() * 3))
            self.pools["account"].add(force, account)
            style = account.style
        if account.platform == "email":
            handle = ids.email_text(account.handle.replace("_", "."), style)
        else:
            handle = ids.handle_text(account.handle, style)
        return {"ref": f"A{n}", "platform": account.platform, "handle": handle,
                "usedBy": [refs[0]]}  # fmt: skip

    def _ip(self, force: int, life: Timeline, accounts: list[Record]) -> Record:
        rng = self.rng
        shared = self._shared("ip", force)
        if isinstance(shared, tuple):
            index, style = shared[0], _other_style(rng, shared[1], ids.IP_STYLES)
        else:
            index, style = self._next("ip"), int(rng.random() * ids.IP_STYLES)
            index = self.ipv4_of(index) if index < ids.IPV4_SPACE else index
            self.pools["ip"].add(force, (index, style))
        out: Record = {"address": ids.ip_text(index, style)}
        out["seenAt"] = iso(life.received - between(rng, 2 * DAY, 90 * DAY))
        out["usedBy"] = [accounts[0]["ref"]] if accounts else ["P1"]
        return out

    def _contact_victim(self, life: Timeline, accounts: list[Record], refs: list[str]) -> Record:
        rng = self.rng
        victim = self._victim(life, rng.random() < 0.6, pick(rng, AGE_BANDS[2:]))
        victim["ref"] = "V1"
        victim["contactWith"] = [accounts[0]["ref"] if accounts else refs[0]]
        return victim

    def _victim(self, life: Timeline, identified: bool, band: str) -> Record:
        rng = self.rng
        victim: Record = {"ref": "", "identified": identified, "ageBand": band}
        if identified:
            victim["givenName"] = ids.GIVEN_NAMES[int(rng.random() * len(ids.GIVEN_NAMES))]
            victim["familyName"] = ids.FAMILY_NAMES[int(rng.random() * len(ids.FAMILY_NAMES))]
            referred = life.assessed + between(rng, 0, 14 * DAY)
            if referred <= self.end:
                victim["safeguarding"] = [
                    {"referredTo": pick(rng, SAFEGUARDING), "referredAt": iso(referred)}
                ]
        return victim

    def _media(
        self, force: int, plan: _Plan, life: Timeline, devices: list[Record], victims: list[Record]
    ) -> list[Record]:
        rng = self.rng
        categories = CATEGORIES[plan.level] if plan.category_a or plan.level != "LOW" else None
        categories = categories or CATEGORIES["LOW"]
        graded = iso(life.received - between(rng, DAY, 20 * DAY))
        found_on = [devices[0]["ref"]] if devices else []
        items: list[Record] = []
        for _ in range(_count(rng, self.p.media_per_case, 500)):
            image = self._shared("image", force)
            if not isinstance(image, Image) or (image.category == "A" and not plan.category_a):
                image = self._new_image(categories)
                self.pools["image"].add(force, image)
                style = image.style
            else:
                style = image.style + 1
            items.append(self._media_item(image, style, graded, found_on))
        if (
            plan.category_a
            and plan.level == "LOW"
            and not any(i.get("category") == "A" for i in items)
        ):
            image = self._new_image((("A", 1.0),))
            items.append(self._media_item(image, image.style, graded, found_on))
        if rng.random() < self.p.series_share:
            items.extend(self._series_items(plan, graded, found_on, victims, life))
        return items

    def _new_image(self, categories: tuple[tuple[str, float], ...]) -> Image:
        rng = self.rng
        r = rng.random()
        sha1 = f"{rng.getrandbits(160):040x}" if r < 0.9 else None
        md5 = f"{rng.getrandbits(128):032x}" if r >= 0.8 else None
        return Image(sha1, md5, pick(rng, categories), int(rng.random() * 2))

    def _media_item(self, image: Image, style: int, graded: str, found_on: list[str]) -> Record:
        item: Record = {}
        if image.sha1:
            item["sha1"] = ids.hash_text(image.sha1, style)
        if image.md5:
            item["md5"] = ids.hash_text(image.md5, style)
        pdq = _pdq(image)
        if pdq is not None:
            item["pdq"] = ids.hash_text(pdq, style)
        item["category"] = image.category
        if image.category != "UNGRADED":
            item["gradedAt"] = graded
        if found_on:
            item["foundOn"] = found_on
        return item

    def _series_items(
        self, plan: _Plan, graded: str, found_on: list[str], victims: list[Record], life: Timeline
    ) -> list[Record]:
        rng = self.rng
        series = self._pick_series()
        images = [i for i in series.images if plan.category_a or i.category != "A"]
        if not images:
            return []
        chosen = rng.sample(images, min(len(images), 1 + int(rng.random() * 4)))
        style = int(rng.random() * 3)
        refs = []
        for template in series.victims:
            victim = self._victim(life, template["identified"], template["ageBand"])
            if template["identified"]:
                victim["givenName"] = template["givenName"]
                victim["familyName"] = template["familyName"]
            victim["ref"] = f"V{len(victims) + 1}"
            victims.append(victim)
            refs.append(victim["ref"])
        out = []
        for image in chosen:
            item = self._media_item(image, style, graded, found_on)
            item["seriesRef"] = ids.series_text(series.number, style)
            item["depicts"] = refs
            out.append(item)
        return out

    def _pick_series(self) -> Series:
        rng = self.rng
        if self.series and rng.random() >= NEW_SERIES_SHARE:
            return self.series[int(rng.random() * len(self.series))]
        number = self._next("series") + 1
        images = [
            self._new_image((("A", 0.45), ("B", 0.3), ("C", 0.25)))
            for _ in range(between(rng, 8, 40))
        ]
        victims = []
        for _ in range(between(rng, 1, 3)):
            identified = rng.random() < 0.35
            victim: dict[str, Any] = {"identified": identified, "ageBand": pick(rng, AGE_BANDS)}
            if identified:
                victim["givenName"] = ids.GIVEN_NAMES[int(rng.random() * len(ids.GIVEN_NAMES))]
                victim["familyName"] = ids.FAMILY_NAMES[int(rng.random() * len(ids.FAMILY_NAMES))]
            victims.append(victim)
        series = Series(number, images, victims)
        if len(self.series) < SERIES_POOL:
            self.series.append(series)
        else:
            self.series[number % SERIES_POOL] = series
        return series


OFFENCE_ORDER = (
    "IIOC_MAKING", "IIOC_POSSESSION", "IIOC_DISTRIBUTION", "LIVE_STREAMING", "ONLINE_GROOMING",
    "SEXUAL_COMMUNICATION_WITH_CHILD", "SEXTORTION", "CONTACT_ABUSE_INDICATED",
    "SELF_GENERATED_IMAGERY", "OTHER",
)  # fmt: skip
_DIGITS36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _base36(n: int, width: int = 10) -> str:
    out = []
    for _ in range(width):
        n, r = divmod(n, 36)
        out.append(_DIGITS36[r])
    return "".join(reversed(out))


def _pdq(image: Image) -> str | None:
    """The image's PDQ hash, the same in every case holding it; three in four items have one
    (videos and some older gradings do not). Derived, not random, so forces agree on it."""
    digest = hashlib.sha256(f"pdq:{image.sha1 or image.md5}".encode()).hexdigest()
    return digest if digest[0] not in "cdef" else None


def region_cases(params: RegionParams) -> Iterator[Record]:
    """Every case summary of the region, in order of receipt; a generator, so a region of any
    size streams in constant memory. The same parameters always give the same records."""
    return Region(params).cases()
