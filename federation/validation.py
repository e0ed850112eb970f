"""Case summary validation: the public JSON Schema first, then what a schema cannot say.

Messages name the rule, never the value: a rejected record's content is personal data and the
answer (and any log of it) must not echo it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import jsonschema_rs

V1 = "crossforce/case-summary/v1"
V1_1 = "crossforce/case-summary/v1.1"
# Every schema the hub accepts, by the `schema` a record names, with its short name (the one
# a sync result reports) and its file under federation/schema/. The last is the newest.
SCHEMAS = {V1: "v1", V1_1: "v1.1"}
SCHEMA_ID = V1_1
MAX_VERSION = 2**63 - 1  # the graph stores 64-bit integers
FUTURE_SKEW = timedelta(minutes=10)
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Problem:
    path: str  # a JSON pointer into the record
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


def schema(schema_id: str = SCHEMA_ID) -> dict[str, Any]:
    """The JSON Schema of `schema_id`; by default the newest, which holds every field of the
    older ones (what is sensitive is read from it)."""
    name = f"case-summary.{SCHEMAS[schema_id]}.schema.json"
    text = resources.files("federation.schema").joinpath(name).read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def schema_name(record: Any) -> str | None:
    """The short name (`v1`, `v1.1`) of the schema a record names, if the hub knows it."""
    named = record.get("schema") if isinstance(record, dict) else None
    return SCHEMAS.get(named) if isinstance(named, str) else None


@cache
def _validator(schema_id: str) -> Any:
    return jsonschema_rs.validator_for(schema(schema_id), validate_formats=True)


@cache
def _newest() -> dict[str, Any]:
    return schema()


def resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """`node`, or what its local `$ref` (`#/$defs/...`) names, followed to the end."""
    while "$ref" in node:
        target: Any = root
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _newer_field(path: list[str | int], name: str) -> str | None:
    """The newest schema that defines `name` in the object at `path`, when it is newer."""
    root = _newest()
    node = resolve(root, root)
    for part in path:
        key = "items" if isinstance(part, int) else None
        node = node.get(key, {}) if key else node.get("properties", {}).get(part, {})
        node = resolve(node, root)
    return SCHEMA_ID if name in node.get("properties", {}) else None


def pointer(parts: list[str | int] | tuple[str | int, ...]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _choices(options: list[Any]) -> str:
    return ", ".join(str(o) for o in options)


def _message(kind: Any) -> str:
    name = type(kind).__name__
    if name == "Enum":
        return f"must be one of {_choices(kind.options)}"
    if name == "Constant":
        return f"must be {json.dumps(kind.expected_value)}"
    if name == "Format":
        return f"must be a valid {kind.format}"
    if name == "Type":
        return f"must be of type {' or '.join(str(t) for t in kind.types)}"
    if name == "Required":
        return "is required"
    if name == "Pattern":
        return f"must match {kind.pattern}"
    if name in ("MaxLength", "MinLength", "MaxItems", "MinItems", "Maximum", "Minimum"):
        label = {
            "MaxLength": "at most {} characters",
            "MinLength": "at least {} characters",
            "MaxItems": "at most {} items",
            "MinItems": "at least {} items",
            "Maximum": "at most {}",
            "Minimum": "at least {}",
        }[name]
        return "must be " + label.format(kind.limit)
    if name == "UniqueItems":
        return "must not repeat items"
    if name == "AnyOf":
        return "must match one of the allowed shapes"
    return "is not valid here"


def _unknown_field(record: Any, path: list[str | int], name: str) -> Problem:
    at = pointer([*path, name])
    newer = _newer_field(path, name)
    if newer is not None and record.get("schema") != newer:
        return Problem(at, f'is a field of a newer schema: needs "schema": "{newer}"')
    return Problem(at, "unknown field")


def schema_problems(record: dict[str, Any]) -> list[Problem]:
    """Problems under the schema the record names; one the hub does not know is a problem at
    `/schema`, and the rest of the record is checked against the newest."""
    named = record.get("schema")
    known = isinstance(named, str) and named in SCHEMAS
    validator = _validator(named if known else SCHEMA_ID)
    if validator.is_valid(record):
        return []
    problems: list[Problem] = []
    for error in validator.iter_errors(record):
        kind = error.kind
        path = list(error.instance_path)
        if type(kind).__name__ == "AdditionalProperties":
            problems.extend(_unknown_field(record, path, u) for u in kind.unexpected)
            continue
        if type(kind).__name__ == "Required":
            problems.append(Problem(pointer([*path, kind.property]), "is required"))
            continue
        if type(kind).__name__ == "AnyOf" and path and path[0] == "media":
            problems.append(Problem(pointer(path), "needs a sha1 or an md5"))
            continue
        if path == ["schema"]:
            problems.append(Problem("/schema", f"must be one of {_choices(list(SCHEMAS))}"))
            continue
        problems.append(Problem(pointer(path), _message(kind)))
    return problems


# A batch repeats many instants (a seizure for several devices, a day's referrals); validation
# and preparation both parse each, so each distinct text is parsed once. Datetimes are immutable.
@lru_cache(maxsize=16384)
def parse_instant(value: str) -> datetime:
    """An RFC 3339 instant (the schema's date-time); UTC when it names no offset."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _check_instant(
    at: tuple[str | int, ...], value: Any, now: datetime, problems: list[Problem]
) -> None:
    """`at`: where the value is, as JSON-pointer parts (joined only for a problem)."""
    if not isinstance(value, str):
        return
    try:
        instant = parse_instant(value)
    except ValueError:
        problems.append(Problem(pointer(at), "must be a valid date-time"))
        return
    if instant > now + FUTURE_SKEW:
        problems.append(Problem(pointer(at), "must not be in the future"))
    elif instant < EARLIEST:
        problems.append(Problem(pointer(at), "is implausibly early"))


INSTANT_FIELDS = (
    ("referral", "receivedAt"),
    ("risk", "assessedAt"),
    ("openedAt",),
    ("enforcementAt",),
    ("lastActivityAt",),
    ("closedAt",),
    ("outcome", "at"),
)

ITEM_INSTANTS = {
    "suspects": ("arrestedAt",),
    "devices": ("seizedAt", "examinedAt"),
    "ipAddresses": ("seenAt",),
    "media": ("gradedAt",),
    "enforcements": ("at",),
}


def _dates(record: dict[str, Any], now: datetime, problems: list[Problem]) -> None:
    for parts in INSTANT_FIELDS:
        value: Any = record
        for part in parts:
            value = value.get(part) if isinstance(value, dict) else None
        _check_instant(parts, value, now, problems)
    for collection, fields in ITEM_INSTANTS.items():
        for i, item in enumerate(record.get(collection) or []):
            for field in fields:
                _check_instant((collection, i, field), item.get(field), now, problems)
    for i, victim in enumerate(record.get("victims") or []):
        for j, referral in enumerate(victim.get("safeguarding") or []):
            at = ("victims", i, "safeguarding", j, "referredAt")
            _check_instant(at, referral.get("referredAt"), now, problems)
    for collection in ("suspects", "victims"):
        for i, person in enumerate(record.get(collection) or []):
            born = person.get("dateOfBirth")
            if isinstance(born, str) and date.fromisoformat(born) > now.date():
                problems.append(
                    Problem(pointer([collection, i, "dateOfBirth"]), "must not be in the future")
                )


def _refs(record: dict[str, Any], problems: list[Problem]) -> None:
    """Every local ref used to link items must name an item of the right kind in this record."""
    defined: dict[str, set[str]] = {}
    for collection in ("suspects", "devices", "accounts", "victims"):
        seen = defined.setdefault(collection, set())
        for i, item in enumerate(record.get(collection) or []):
            ref = item.get("ref")
            if ref in seen:
                problems.append(Problem(pointer([collection, i, "ref"]), "repeats another ref"))
            seen.add(ref)
    people = defined["suspects"]
    uses = {
        ("devices", "usedBy"): people,
        ("accounts", "usedBy"): people,
        ("ipAddresses", "usedBy"): people | defined["devices"] | defined["accounts"],
        ("victims", "contactWith"): people | defined["accounts"],
        ("media", "depicts"): defined["victims"],
        ("media", "foundOn"): defined["devices"] | defined["accounts"],
    }
    for (collection, field), allowed in uses.items():
        for i, item in enumerate(record.get(collection) or []):
            for j, ref in enumerate(item.get(field) or []):
                if ref not in allowed:
                    path = pointer([collection, i, field, j])
                    problems.append(Problem(path, "does not name an item of this case"))


def semantic_problems(
    record: dict[str, Any], *, caller_force: str | None, now: datetime
) -> list[Problem]:
    """Checks that need the caller or the clock; run on schema-valid records only."""
    problems: list[Problem] = []
    if record["force"] != caller_force:
        problems.append(Problem("/force", "must be the force of the sending client"))
    if record["version"] > MAX_VERSION:
        problems.append(Problem("/version", f"must be at most {MAX_VERSION}"))
    _dates(record, now, problems)
    _refs(record, problems)
    _enforcement(record, problems)
    return problems


def _enforcement(record: dict[str, Any], problems: list[Problem]) -> None:
    """`enforcementAt`, when given beside enforcement actions, is the earliest of them: one
    first enforcement, whichever way a force system writes it."""
    given = record.get("enforcementAt")
    actions = record.get("enforcements") or []
    if not isinstance(given, str) or not actions:
        return
    try:
        first = min(parse_instant(a["at"]) for a in actions)
        same = parse_instant(given) == first
    except ValueError:
        return  # an unreadable instant is already a problem of its own
    if not same:
        message = "must equal the earliest /enforcements/*/at, or be left out"
        problems.append(Problem("/enforcementAt", message))


def problems_of(record: Any, *, caller_force: str | None, now: datetime) -> list[Problem]:
    if not isinstance(record, dict):
        return [Problem("", "must be a JSON object")]
    found = schema_problems(record)
    if found:
        return found
    return semantic_problems(record, caller_force=caller_force, now=now)
