"""Sharing agreements and field rules: who sees which field of which force's records, and how.

One decision function, `SharingPolicy.visibility(principal, owner_force, type, field)`, answers
for every read path; anything not granted by the agreements is `hidden` (default deny). The
agreements are YAML (policies/defaults/sharing.yaml, documented there and in docs/policies.md),
validated on load with messages that give the YAML path of each mistake.

Levels, from least to most:
- `hidden`: not there at all, not even whether it exists;
- `existence`: the owning force holds such a value (and whom to call), not the value;
- `masked`: the value exists and can be revealed with `sensitive:reveal` and a stated purpose;
- `clear`: the value itself.

A principal with several scopes gets the most open level any of its scopes grants. The relation
is `own` when the principal acts for the owning force, `other` otherwise (a principal with no
force is always `other`); per-pair agreements between two forces override `other`.

Records: `SharingPolicy.record_view(principal, owner_force)` decides, from the same rules, how much
of one force's case a reader may know at all (`RecordView`: `FULL`, `EXISTENCE` or `NONE`). Every
read that names another force's case or person (a link, a contact, a queue entry, an alert, a
victim group, a drawing, the change feed's contacts) passes through it before any field rule.

Reveals: `sensitive:reveal` lifts a `masked` field to `clear` for one field, once, audited. An
`existence` field is revealable only where an agreement lists it under `revealable` (e.g. two
forces in a joint operation); the defaults list none, so another force's suspects stay
`existence` until their force is called.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from policies.audit import FAILED, POLICY_RELOAD, AuditLog
from policies.principal import Principal
from policies.scopes import (
    ALL_SCOPES,
    FORCE_CODE,
    SENSITIVE_REVEAL,
    PolicyFileError,
    format_errors,
)


class Visibility(enum.IntEnum):
    HIDDEN = 0
    EXISTENCE = 1
    MASKED = 2
    CLEAR = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class RecordView(enum.IntEnum):
    """How much of one force's case a reader may know at all."""

    NONE = 0  # not even that it exists
    EXISTENCE = 1  # that the force holds such a case, not which one nor whom to call
    FULL = 2  # which case it is (its reference) and whom to call; each field as its rule says


# The summary field that identifies each kind of shared entity (graph labels).
IDENTIFYING: dict[str, tuple[str, str]] = {
    "Person": ("suspect", "familyName"),
    "Device": ("device", "imei"),
    "Account": ("account", "handle"),
    "IPAddress": ("ipAddress", "address"),
    "Media": ("media", "sha1"),
    "Series": ("media", "seriesRef"),
}


# Field names per type, as in case-summary.v1.schema.json. Items of a victim's `safeguarding`
# list are addressed as `safeguarding.<field>`.
FIELDS: dict[str, tuple[str, ...]] = {
    "case": (
        "schema",
        "force",
        "caseRef",
        "version",
        "deleted",
        "status",
        "openedAt",
        "enforcementAt",
        "lastActivityAt",
        "closedAt",
        "offences",
        "summary",
    ),
    "referral": ("source", "reference", "receivedAt"),
    "risk": ("level", "assessedAt", "tool", "rationale"),
    "officer": ("name", "email", "phone"),
    "suspect": (
        "ref",
        "givenName",
        "familyName",
        "dateOfBirth",
        "pncId",
        "phones",
        "emails",
        "postcodes",
        "accessToChildren",
        "registeredSexOffender",
        "arrestedAt",
    ),
    "device": ("ref", "type", "imei", "serial", "make", "usedBy", "seizedAt", "examinedAt"),
    "account": ("ref", "platform", "handle", "usedBy"),
    "ipAddress": ("address", "seenAt", "usedBy"),
    "victim": (
        "ref",
        "identified",
        "givenName",
        "familyName",
        "dateOfBirth",
        "ageBand",
        "contactWith",
        "safeguarding.referredTo",
        "safeguarding.referredAt",
        "safeguarding.outcome",
    ),
    "media": ("sha1", "md5", "category", "gradedAt", "seriesRef", "depicts", "foundOn"),
}

_KNOWN = {type_name: frozenset(names) for type_name, names in FIELDS.items()}

# Fields the schema marks sensitive: never stored in clear by the hub.
SENSITIVE: frozenset[tuple[str, str]] = frozenset(
    {
        ("case", "summary"),
        ("referral", "reference"),
        ("risk", "rationale"),
        ("officer", "name"),
        ("officer", "email"),
        ("officer", "phone"),
        *(
            ("suspect", f)
            for f in (
                "givenName",
                "familyName",
                "dateOfBirth",
                "pncId",
                "phones",
                "emails",
                "postcodes",
            )
        ),
        ("device", "imei"),
        ("device", "serial"),
        ("account", "handle"),
        ("ipAddress", "address"),
        ("victim", "givenName"),
        ("victim", "familyName"),
        ("victim", "dateOfBirth"),
        ("victim", "safeguarding.outcome"),
        ("media", "sha1"),
        ("media", "md5"),
    }
)

# Top-level members of a case summary: lists of items, and nested objects.
_LISTS = {
    "suspects": "suspect",
    "devices": "device",
    "accounts": "account",
    "ipAddresses": "ipAddress",
    "victims": "victim",
    "media": "media",
}
_OBJECTS = ("referral", "risk", "officer")
# Fields whose value is a list: a pointer may name one element (`/suspects/0/phones/1`).
LIST_FIELDS = frozenset(
    {
        ("case", "offences"),
        ("suspect", "phones"),
        ("suspect", "emails"),
        ("suspect", "postcodes"),
        ("device", "usedBy"),
        ("account", "usedBy"),
        ("ipAddress", "usedBy"),
        ("victim", "contactWith"),
        ("media", "depicts"),
        ("media", "foundOn"),
    }
)
_INDEX = re.compile(r"^(0|[1-9][0-9]{0,5})$")


class UnknownField(ValueError):
    """A JSON pointer that does not name a field of a case summary."""


def field_of_pointer(pointer: str) -> tuple[str, str]:
    """(type, field) of a JSON pointer into a case summary (RFC 6901).

    `/summary` is ("case", "summary"), `/officer/phone` ("officer", "phone"),
    `/suspects/0/familyName` ("suspect", "familyName"), `/suspects/0/phones/1` ("suspect",
    "phones"), `/victims/2/safeguarding/0/outcome` ("victim", "safeguarding.outcome").
    """
    if not pointer.startswith("/"):
        raise UnknownField("a field is a JSON pointer such as /suspects/0/familyName")
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]
    head = parts[0]
    if len(parts) == 1 and head in FIELDS["case"]:
        return "case", head
    if len(parts) == 2 and ("case", head) in LIST_FIELDS and _INDEX.match(parts[1]):
        return "case", head
    if len(parts) == 2 and head in _OBJECTS and parts[1] in FIELDS[head]:
        return head, parts[1]
    if head in _LISTS and len(parts) >= 3 and _INDEX.match(parts[1]):
        kind, rest = _LISTS[head], parts[2:]
        if len(rest) == 1 and rest[0] in FIELDS[kind]:
            return kind, rest[0]
        if len(rest) == 2 and (kind, rest[0]) in LIST_FIELDS and _INDEX.match(rest[1]):
            return kind, rest[0]  # one element of a list-valued field, e.g. phones/1
        if kind == "victim" and len(rest) == 3 and rest[0] == "safeguarding":
            name = f"safeguarding.{rest[2]}"
            if _INDEX.match(rest[1]) and name in FIELDS[kind]:
                return kind, name
    raise UnknownField("not a field of a case summary")


LEVELS = {level.label: level for level in Visibility}
Level = Literal["clear", "masked", "existence", "hidden"]


class _Relation(BaseModel):
    """Rules for one relation (own force, other force, or one pair of forces)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: dict[str, dict[str, Level]] = Field(default_factory=dict)
    revealable: list[str] = Field(default_factory=list)

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, value: dict[str, dict[str, Level]]) -> dict[str, dict[str, Level]]:
        for type_name, rules in value.items():
            if type_name not in FIELDS:
                raise ValueError(f"unknown type {type_name!r}; known: {', '.join(FIELDS)}")
            for field_name in rules:
                if field_name != "*" and field_name not in FIELDS[type_name]:
                    raise ValueError(f"unknown field {type_name}.{field_name}")
        return value

    @field_validator("revealable")
    @classmethod
    def _known_revealable(cls, value: list[str]) -> list[str]:
        for item in value:
            type_name, _, field_name = item.partition(".")
            if type_name not in FIELDS or (
                field_name != "*" and field_name not in FIELDS[type_name]
            ):
                raise ValueError(f"revealable: {item!r} is not type.field or type.*")
        return value


class _Pair(_Relation):
    between: list[str] | None = None
    viewer: str | None = None
    owner: str | None = None

    @model_validator(mode="after")
    def _one_form(self) -> _Pair:
        if self.between is not None:
            if self.viewer or self.owner or len(self.between) != 2:
                raise ValueError("give either `between: [A, B]` or `viewer` and `owner`")
            forces = self.between
        elif self.viewer and self.owner:
            forces = [self.viewer, self.owner]
        else:
            raise ValueError("give either `between: [A, B]` or `viewer` and `owner`")
        if not all(FORCE_CODE.match(force) for force in forces):
            raise ValueError("forces are codes of 2 to 4 capital letters")
        return self

    def directions(self) -> list[tuple[str, str]]:
        if self.between is not None:
            a, b = self.between
            return [(a, b), (b, a)]
        assert self.viewer and self.owner
        return [(self.viewer, self.owner)]


class _Agreement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    own: _Relation = Field(default_factory=_Relation)
    other: _Relation = Field(default_factory=_Relation)
    pairs: list[_Pair] = Field(default_factory=list)


class _SharingFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    agreements: dict[str, _Agreement]

    @field_validator("version")
    @classmethod
    def _supported(cls, value: int) -> int:
        if value != 1:
            raise ValueError("only version 1 is supported")
        return value

    @field_validator("agreements")
    @classmethod
    def _known_scopes(cls, value: dict[str, _Agreement]) -> dict[str, _Agreement]:
        unknown = sorted(set(value) - ALL_SCOPES)
        if unknown:
            raise ValueError("unknown scope(s): " + ", ".join(unknown))
        return value


@dataclass(frozen=True)
class _Rules:
    levels: Mapping[tuple[str, str], Visibility]  # (type, field) -> level; "*" for a type
    revealable: frozenset[tuple[str, str]]  # (type, field); field "*" for the whole type

    def level(self, type_name: str, field_name: str) -> Visibility | None:
        found = self.levels.get((type_name, field_name))
        return found if found is not None else self.levels.get((type_name, "*"))

    def reveals(self, type_name: str, field_name: str) -> bool:
        return (type_name, field_name) in self.revealable or (type_name, "*") in self.revealable


def _rules(relation: _Relation) -> _Rules:
    levels = {
        (type_name, field_name): LEVELS[level]
        for type_name, rules in relation.fields.items()
        for field_name, level in rules.items()
    }
    revealable = frozenset(
        (item.partition(".")[0], item.partition(".")[2]) for item in relation.revealable
    )
    return _Rules(levels, revealable)


@dataclass(frozen=True)
class _ScopeRules:
    own: _Rules
    other: _Rules
    pairs: Mapping[tuple[str, str], _Rules]  # (viewer force, owner force) -> overrides


class SharingPolicy:
    """The loaded agreements; immutable, so a reload swaps in a whole new one."""

    def __init__(self, agreements: Mapping[str, _ScopeRules], digest: str) -> None:
        self._agreements = dict(agreements)
        self.digest = digest

    def visibility(
        self, principal: Principal, owner_force: str, type_name: str, field_name: str
    ) -> Visibility:
        """How `principal` may see `field_name` of a `type_name` record owned by `owner_force`."""
        return self._decide(principal, owner_force, type_name, field_name)[0]

    def record_view(self, principal: Principal, owner_force: str) -> RecordView:
        """How much `principal` may know of a case of `owner_force`: the record-level decision.

        `FULL` when its reference shows in clear; `EXISTENCE` when only that the force holds
        such a case may be known (the reference at `existence` or `masked`, or only the force
        in clear); `NONE` otherwise. A type whose reference cannot be blank (a link, a queue
        entry) shows a case only at `FULL`."""
        reference = self.visibility(principal, owner_force, "case", "caseRef")
        if reference == Visibility.CLEAR:
            return RecordView.FULL
        if reference > Visibility.HIDDEN or (
            self.visibility(principal, owner_force, "case", "force") == Visibility.CLEAR
        ):
            return RecordView.EXISTENCE
        return RecordView.NONE

    def entity_identified(self, principal: Principal, label: str, owners: Iterable[str]) -> bool:
        """Whether `principal` may know more of a shared entity (label as in the graph) than that
        these forces hold it: some owner's agreement shows its identifying field, even masked."""
        type_name, field_name = IDENTIFYING[label]
        return any(
            self.visibility(principal, owner, type_name, field_name) >= Visibility.MASKED
            for owner in owners
        )

    def visibility_of_pointer(
        self, principal: Principal, owner_force: str, pointer: str
    ) -> Visibility:
        type_name, field_name = field_of_pointer(pointer)
        return self.visibility(principal, owner_force, type_name, field_name)

    def can_reveal(self, principal: Principal, owner_force: str, pointer: str) -> bool:
        """May `principal` reveal the field at `pointer` (e.g. `/suspects/0/familyName`)?

        Needs `sensitive:reveal`, and the field `masked` for the principal, or `existence`
        where an agreement lists it as revealable. Raises `UnknownField` for a bad pointer.
        """
        type_name, field_name = field_of_pointer(pointer)
        if SENSITIVE_REVEAL not in principal.scopes:
            return False
        level, revealable = self._decide(principal, owner_force, type_name, field_name)
        return level == Visibility.MASKED or (level == Visibility.EXISTENCE and revealable)

    def _decide(
        self, principal: Principal, owner_force: str, type_name: str, field_name: str
    ) -> tuple[Visibility, bool]:
        best, revealable = Visibility.HIDDEN, False
        if field_name not in _KNOWN.get(type_name, ()):
            # A field the catalogue does not know (e.g. added to the schema later) is never
            # let through by a "*" rule: it stays hidden until the catalogue and rules name it.
            return best, revealable
        for scope in principal.scopes:
            rules = self._agreements.get(scope)
            if rules is None:
                continue
            level, reveals = _for_relation(
                rules, principal.force, owner_force, type_name, field_name
            )
            if level > best:
                best, revealable = level, reveals
            elif level == best:
                revealable = revealable or reveals
        return best, revealable


def _for_relation(
    rules: _ScopeRules,
    viewer: str | None,
    owner: str,
    type_name: str,
    field_name: str,
) -> tuple[Visibility, bool]:
    if viewer is not None and viewer == owner:
        level = rules.own.level(type_name, field_name)
        return level or Visibility.HIDDEN, rules.own.reveals(type_name, field_name)
    level = rules.other.level(type_name, field_name)
    reveals = rules.other.reveals(type_name, field_name)
    pair = rules.pairs.get((viewer, owner)) if viewer is not None else None
    if pair is not None:
        override = pair.level(type_name, field_name)
        level = override if override is not None else level
        reveals = reveals or pair.reveals(type_name, field_name)
    return level or Visibility.HIDDEN, reveals


def parse_sharing(text: str, *, source: str = "sharing.yaml") -> SharingPolicy:
    """Validate and compile agreements; `PolicyFileError` names the YAML path of each mistake."""
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PolicyFileError(f"{source}: not valid YAML ({error})") from None
    if isinstance(raw, dict):
        # Top-level `x-...` keys hold YAML anchors for reuse; they are not agreements.
        raw = {key: value for key, value in raw.items() if not str(key).startswith("x-")}
    try:
        parsed = _SharingFile.model_validate(raw)
    except ValidationError as error:
        raise PolicyFileError(f"{source}: {format_errors(error)}") from None
    compiled = {}
    for scope, agreement in parsed.agreements.items():
        pairs: dict[tuple[str, str], _Rules] = {}
        for index, pair in enumerate(agreement.pairs):
            for direction in pair.directions():
                if direction in pairs:
                    raise PolicyFileError(
                        f"{source}: agreements.{scope}.pairs.{index}: "
                        f"{direction[0]} -> {direction[1]} is agreed twice"
                    )
                pairs[direction] = _rules(pair)
        compiled[scope] = _ScopeRules(_rules(agreement.own), _rules(agreement.other), pairs)
    return SharingPolicy(compiled, hashlib.sha256(text.encode()).hexdigest())


def load_sharing(path: Path) -> SharingPolicy:
    return parse_sharing(path.read_text(encoding="utf-8"), source=path.name)


class PolicyHolder:
    """The agreements in force, reloadable at run time; every reload is audited.

    Read paths call `visibility` / `can_reveal` here, so a reload takes effect on the next call.
    """

    def __init__(self, path: Path, audit: AuditLog) -> None:
        self.path = path
        self._audit = audit
        self._current = load_sharing(path)

    @property
    def current(self) -> SharingPolicy:
        return self._current

    def visibility(
        self, principal: Principal, owner_force: str, type_name: str, field_name: str
    ) -> Visibility:
        return self._current.visibility(principal, owner_force, type_name, field_name)

    def record_view(self, principal: Principal, owner_force: str) -> RecordView:
        return self._current.record_view(principal, owner_force)

    def can_reveal(self, principal: Principal, owner_force: str, pointer: str) -> bool:
        return self._current.can_reveal(principal, owner_force, pointer)

    async def reload(self, actor: Principal | str | None) -> SharingPolicy:
        """Load the file again. An invalid file keeps the old agreements (and is audited as
        failed); a valid one takes effect only once its reload is in the audit log."""
        target = f"policy:{self.path.name}"
        try:
            policy = load_sharing(self.path)
        except (PolicyFileError, OSError):
            await self._audit.record(
                actor=actor, action=POLICY_RELOAD, target=target, outcome=FAILED
            )
            raise
        await self._audit.record(
            actor=actor, action=POLICY_RELOAD, target=f"{target}@sha256:{policy.digest}"
        )
        self._current = policy
        return policy
