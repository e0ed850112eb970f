"""NCMEC CyberTipline reports as case summaries v1.1.

A referral file holds `<cyberTiplineReport>` records (docs/intake.md): the report's
`<reportId>`, optionally `<receivedDateTime>` (when the force received it), the `<report>`
document as an electronic service provider submits it to the CyberTipline Reporting API, and
that report's `<fileDetails>` documents. Element names are the API's; namespaces are ignored.

What maps where:
- `reportId` -> `referral.reference` (sealed, like every referral reference); the case
  reference is `CT-` and a keyed digest of it (`case_refs.py`), stable across re-imports but
  not showing the report id to the forces a case reference is shared with; the receipt time ->
  `referral.receivedAt`; source `NCMEC`.
- `incidentSummary/incidentType` -> `offences`; `escalateToHighPriority` -> risk `HIGH`
  (otherwise `MEDIUM`, for intake to reassess); `reportAnnotations/sextortion` -> `SEXTORTION`.
- `personOrUserReported` -> suspect `P1` (names, date of birth, phones, emails), accounts (the
  screen name and the provider's user id, on `espService` or the incident's `platform`), IP
  addresses with their capture times, IMEIs among the device ids; `associatedAccount`s too.
- `victim` -> unidentified victims with an age band from `approximateAge`/`age`.
- `fileDetails/originalFileHash` of type MD5 or SHA1 -> `media` found on the reported account
  (with a PDQ hash too, where one is given as hashType PDQ).

Anything else a report carries is listed per referral as not mapped, by element name only:
the values are personal data and stay out of every message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element

from federation.referrals.case_refs import CaseRefs
from federation.referrals.errors import Unmappable
from federation.referrals.times import instant, iso
from federation.validation import V1_1

RECORD_TAG = "cyberTiplineReport"
CASE_REF_PREFIX = "CT"
REPORT_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]{0,59}$")
DEFAULT_RISK = "MEDIUM"
ESCALATED_RISK = "HIGH"
RISK_TOOL = "CyberTipline import"

OFFENCES = {
    "child pornography (possession, manufacture, and distribution)": "IIOC_DISTRIBUTION",
    "online enticement of children for sexual acts": "ONLINE_GROOMING",
    "unsolicited obscene material sent to a child": "SEXUAL_COMMUNICATION_WITH_CHILD",
    "child sexual molestation": "CONTACT_ABUSE_INDICATED",
    "child sex trafficking": "OTHER",
    "child sex tourism": "OTHER",
    "misleading domain name": "OTHER",
    "misleading words or digital images on the internet": "OTHER",
}
FILE_OFFENCES = {
    "liveStreaming": "LIVE_STREAMING",
    "possibleSelfProduction": "SELF_GENERATED_IMAGERY",
}
HASH_FIELDS = {
    "MD5": ("md5", 32),
    "SHA1": ("sha1", 40),
    "SHA-1": ("sha1", 40),
    "PDQ": ("pdq", 64),  # Meta's perceptual hash, where a provider reports it
}
HEX = re.compile(r"^[0-9a-fA-F]+$")
IMEI_TYPES = {"IMEI", "IMEISV"}
# Person elements the case summary has a field for; the others are reported as not mapped.
PERSON_FIELDS = {"firstName", "lastName", "dateOfBirth", "phone", "email", "age"}
REPORTED_FIELDS = {
    "personOrUserReportedPerson",
    "espIdentifier",
    "espService",
    "screenName",
    "ipCaptureEvent",
    "deviceId",
    "associatedAccount",
}
ACCOUNT_FIELDS = REPORTED_FIELDS | {"platform", "firstName", "lastName", "phone", "email"}
AGE_BANDS = ((3, "0-3"), (7, "4-7"), (12, "8-12"), (15, "13-15"), (17, "16-17"))


class Unreadable(Unmappable):
    """A report that cannot become a case summary: a required element missing or unreadable."""


@dataclass
class Mapping:
    """One referral mapped: the case summary, and what of the referral it could not hold."""

    reference: str
    summary: dict[str, Any]
    unmapped: list[str] = field(default_factory=list)


def reference_of(record: Element) -> str | None:
    """The report id, when the record has a readable one (for messages about the record)."""
    value = _text(record.find("reportId"))
    return value if value and REPORT_ID.match(value) else None


def map_report(record: Element, *, force: str, now: datetime, case_refs: CaseRefs) -> Mapping:
    """The case summary of one `<cyberTiplineReport>` for `force`, received `now` unless the
    record says when, named by `case_refs`. Raises `Unreadable` when a required element is
    missing or unreadable."""
    reference = _text(record.find("reportId"))
    if not reference:
        raise Unreadable("reportId is missing")
    if not REPORT_ID.match(reference):
        raise Unreadable("reportId must be letters, digits, '-' or '_' (at most 60)")
    report = record.find("report")
    if report is None:
        raise Unreadable("report is missing")
    summary_el = report.find("incidentSummary")
    if summary_el is None:
        raise Unreadable("report/incidentSummary is missing")
    incident_type = _text(summary_el.find("incidentType"))
    if not incident_type:
        raise Unreadable("report/incidentSummary/incidentType is missing")
    incident_at = _instant(summary_el.find("incidentDateTime"), "incidentDateTime", required=True)
    received_el = record.find("receivedDateTime")
    received = _instant(received_el, "receivedDateTime") if received_el is not None else None
    received_at = received or iso(now)

    out = Mapping(reference=reference, summary={})
    offences = [OFFENCES.get(incident_type.strip().lower(), "OTHER")]
    if incident_type.strip().lower() not in OFFENCES:
        out.unmapped.append("incidentSummary/incidentType: not one of the API's types (OTHER)")
    annotations = summary_el.find("reportAnnotations")
    if annotations is not None and annotations.find("sextortion") is not None:
        offences.append("SEXTORTION")
    escalated = _text(summary_el.find("escalateToHighPriority"))
    summary: dict[str, Any] = {
        "schema": V1_1,
        "force": force,
        "caseRef": case_refs.of(CASE_REF_PREFIX, force, reference),
        "version": 1,
        "referral": {"source": "NCMEC", "reference": reference, "receivedAt": received_at},
        "risk": {
            "level": ESCALATED_RISK if escalated else DEFAULT_RISK,
            "assessedAt": received_at,
            "tool": RISK_TOOL,
        },
        "status": "NEW",
        "openedAt": max(received_at, iso(now)),
        "lastActivityAt": incident_at,
    }
    out.summary = summary
    account_refs = _reported(report, summary, out)
    _victims(report, summary, out)
    _files(record, summary, out, account_refs, offences)
    summary["offences"] = sorted(set(offences))
    for name in ("internetDetails", "intendedRecipient", "lawEnforcement", "additionalInfo"):
        if report.find(name) is not None:
            out.unmapped.append(f"report/{name}: the case summary has no field for it")
    return out


# --- the reported person or user ----------------------------------------------------------------


def _reported(report: Element, summary: dict[str, Any], out: Mapping) -> list[str]:
    """Suspect `P1` and their accounts, IP addresses and devices; the account refs."""
    reported = report.find("personOrUserReported")
    if reported is None:
        return []
    suspect: dict[str, Any] = {"ref": "P1"}
    person = reported.find("personOrUserReportedPerson")
    if person is not None:
        _person(person, suspect, "personOrUserReportedPerson", out)
    summary["suspects"] = [suspect]
    platform = _text(reported.find("espService")) or _text(report.find("incidentSummary/platform"))
    accounts: list[dict[str, Any]] = []
    for name in ("screenName", "espIdentifier"):
        handle = _text(reported.find(name))
        if not handle:
            continue
        if not platform:
            out.unmapped.append(f"personOrUserReported/{name}: no espService or platform given")
            continue
        accounts.append(_account(len(accounts) + 1, platform, handle[:256]))
    for index, associated in enumerate(reported.findall("associatedAccount"), start=1):
        where = f"personOrUserReported/associatedAccount[{index}]"
        handle = _text(associated.find("screenName")) or _text(associated.find("espIdentifier"))
        service = _text(associated.find("platform")) or _text(associated.find("espService"))
        if handle and service:
            accounts.append(_account(len(accounts) + 1, service, handle[:256]))
        else:
            out.unmapped.append(f"{where}: needs a platform and a screen name or user id")
        out.unmapped.extend(
            f"{where}/{child.tag}: the case summary has no field for it"
            for child in associated
            if child.tag not in ACCOUNT_FIELDS
        )
    if accounts:
        summary["accounts"] = accounts
    refs = [a["ref"] for a in accounts]
    ips: list[dict[str, Any]] = []
    for index, event in enumerate(reported.findall("ipCaptureEvent"), start=1):
        address = _text(event.find("ipAddress"))
        if not address:
            out.unmapped.append(f"personOrUserReported/ipCaptureEvent[{index}]: no ipAddress")
            continue
        ip: dict[str, Any] = {"address": address[:45], "usedBy": refs or ["P1"]}
        seen = event.find("dateTime")
        if seen is not None:
            ip["seenAt"] = _instant(seen, f"ipCaptureEvent[{index}]/dateTime")
        ips.append(ip)
    if ips:
        summary["ipAddresses"] = ips
    devices: list[dict[str, Any]] = []
    for index, device in enumerate(reported.findall("deviceId"), start=1):
        kind = (_text(device.find("idType")) or "").upper()
        value = _text(device.find("idValue"))
        if kind in IMEI_TYPES and value:
            devices.append(
                {
                    "ref": f"D{len(devices) + 1}",
                    "type": "PHONE",
                    "imei": value[:32],
                    "usedBy": ["P1"],
                }
            )
        else:
            out.unmapped.append(f"personOrUserReported/deviceId[{index}]: only IMEIs are kept")
    if devices:
        summary["devices"] = devices
    out.unmapped.extend(
        f"personOrUserReported/{child.tag}: the case summary has no field for it"
        for child in reported
        if child.tag not in REPORTED_FIELDS
    )
    return refs


def _account(number: int, platform: str, handle: str) -> dict[str, Any]:
    return {"ref": f"A{number}", "platform": platform.strip().lower()[:64], "handle": handle,
            "usedBy": ["P1"]}  # fmt: skip


def _person(person: Element, into: dict[str, Any], where: str, out: Mapping) -> None:
    given, family = _text(person.find("firstName")), _text(person.find("lastName"))
    if given:
        into["givenName"] = given[:100]
    if family:
        into["familyName"] = family[:100]
    born = _text(person.find("dateOfBirth"))
    if born:
        if re.match(r"^\d{4}-\d{2}-\d{2}$", born):
            into["dateOfBirth"] = born
        else:
            out.unmapped.append(f"{where}/dateOfBirth: not a YYYY-MM-DD date")
    phones = [p for p in (_text(e) for e in person.findall("phone")) if p]
    emails = [m for m in (_text(e) for e in person.findall("email")) if m]
    if "phones" in _fields_of(into) and phones:
        into["phones"] = [p[:32] for p in phones[:20]]
    if "emails" in _fields_of(into) and emails:
        into["emails"] = [m[:254] for m in emails[:20]]
    out.unmapped.extend(
        f"{where}/{child.tag}: the case summary has no field for it"
        for child in person
        if child.tag not in PERSON_FIELDS
    )


def _fields_of(into: dict[str, Any]) -> set[str]:
    """Suspects carry phones and emails; victims do not."""
    return {"phones", "emails"} if not into["ref"].startswith("V") else set()


# --- victims and files --------------------------------------------------------------------------


def _victims(report: Element, summary: dict[str, Any], out: Mapping) -> None:
    victims: list[dict[str, Any]] = []
    for index, element in enumerate(report.findall("victim"), start=1):
        victim: dict[str, Any] = {"ref": f"V{index}", "identified": False}
        person = element.find("victimPerson")
        if person is not None:
            _person(person, victim, f"victim[{index}]/victimPerson", out)
            age = _text(person.find("age")) or _text(person.find("approximateAge"))
            if age and age.isdigit():
                victim["ageBand"] = _age_band(int(age))
        victims.append(victim)
    if victims:
        summary["victims"] = victims


def _age_band(age: int) -> str:
    return next((band for top, band in AGE_BANDS if age <= top), "UNKNOWN")


def _files(
    record: Element,
    summary: dict[str, Any],
    out: Mapping,
    account_refs: list[str],
    offences: list[str],
) -> None:
    media: list[dict[str, Any]] = []
    for index, details in enumerate(record.findall("fileDetails"), start=1):
        where = f"fileDetails[{index}]"
        item: dict[str, Any] = {}
        for hashed in details.findall("originalFileHash"):
            kind = (hashed.get("hashType") or "").strip().upper()
            value = (_text(hashed) or "").strip()
            if kind not in HASH_FIELDS:
                out.unmapped.append(f"{where}/originalFileHash: hashType {kind or '(none)'} "
                                    "has no field in the case summary")  # fmt: skip
                continue
            name, length = HASH_FIELDS[kind]
            if len(value) != length or not HEX.match(value):
                out.unmapped.append(f"{where}/originalFileHash: not a {kind} hash")
                continue
            item[name] = value.lower()
        annotations = details.find("fileAnnotations")
        if annotations is not None:
            offences.extend(
                o for tag, o in FILE_OFFENCES.items() if annotations.find(tag) is not None
            )
        if not item.keys() & {"md5", "sha1"}:  # a media item is known by one of them
            out.unmapped.append(f"{where}: no MD5 or SHA1 hash, so no media item")
            continue
        if account_refs:
            item["foundOn"] = account_refs[:1]
        media.append(item)
    if media:
        summary["media"] = media


# --- values -------------------------------------------------------------------------------------


def _text(element: Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    value = element.text.strip()
    return value or None


def _instant(element: Element | None, name: str, *, required: bool = False) -> str | None:
    """The date-time an element holds (`times.instant`); `required` refuses an empty one."""
    value = _text(element)
    if value is None and required:
        raise Unreadable(f"{name} is missing")
    return instant(value, name)
