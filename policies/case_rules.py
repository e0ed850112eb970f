"""Case rules (`case_rules.yaml`): what the region expects of its cases, as data.

One file, one place for each rule (docs/policies.md, "Case rules"):
- `open`: the statuses that close a case; every other status is open;
- `targets`: days from referral receipt to enforcement, per risk level;
- `high_risk`: the levels a link to which is a regrade sign, and that no regrade alert concerns;
- `regrade`: the levels a regrade alert may concern, and the severity of each sign (alerts with
  the most severe child-safety signs first, then the most severe links to other forces' high-risk
  cases, then the longest waiting and the longest quiet; a sign of severity 0 raises nothing);
- `stale`: the days without activity after which an open case is stale, told once to its force;
- `priority`: the weights of the priority score's parts;
- `links`: how many other forces' cases are counted per case (its priority's links, its
  high-risk names) and told of on the change feed;
- `intake`: a daily ceiling on each force's new cases and new identifiers, relative to its usual
  volume, above which the hub holds its link events (federation/intake.py): invented cases are
  how a force system would use sync as a linking oracle.

Loaded once at start from `CROSSFORCE_POLICY_DIR/case_rules.yaml`, or the default file when the
directory has none; a section the file leaves out is the default file's section, whole, so a
region states only what it changes. The rules are handed to the code that needs them (the
ingest, the after-sync step, the gateway's read model). A file that does not validate stops the
hub with the line and the YAML path of each mistake.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from policies.scopes import PolicyFileError

DEFAULTS = Path(__file__).resolve().parent / "defaults" / "case_rules.yaml"
FILE_NAME = "case_rules.yaml"

RiskLevel = Literal["VERY_HIGH", "HIGH", "MEDIUM", "LOW"]
RISK_LEVELS: tuple[RiskLevel, ...] = ("VERY_HIGH", "HIGH", "MEDIUM", "LOW")
Status = Literal[
    "NEW",
    "ALLOCATED",
    "ENFORCEMENT_PLANNED",
    "ENFORCED",
    "CHARGED",
    "CAUTIONED",
    "NO_FURTHER_ACTION",
    "TRANSFERRED",
    "CLOSED",
]  # fmt: skip (the case summary schema's statuses)
SIGNS = (
    "access_to_children", "category_a_media", "contact_abuse", "grooming", "victim_in_contact",
    "linked_high_risk", "registered_sex_offender", "self_generated_imagery",
)  # fmt: skip
# The sign that says the case is linked to another force's high-risk case: it ranks an alert only
# among alerts of equal child-safety signs (every other sign is one of those).
LINK_SIGN = "linked_high_risk"
# Signs added after the file's first version: a region's file without them takes these.
LATER_SIGNS = {"registered_sex_offender": 3, "self_generated_imagery": 3}

_STRICT = ConfigDict(extra="forbid", frozen=True)


class _Model(BaseModel):
    model_config = _STRICT


class Ceiling(_Model):
    """A day's allowance: `multiple_of_usual` times the usual daily figure, never below `floor`."""

    multiple_of_usual: float = Field(gt=0, le=1000)
    floor: int = Field(ge=0)

    def of(self, usual_per_day: float) -> int:
        return max(self.floor, math.ceil(self.multiple_of_usual * usual_per_day))


class Intake(_Model):
    """Daily ceilings per force; `usual_over_days`: the days before today whose mean is usual."""

    daily_new_cases: Ceiling
    daily_new_identifiers: Ceiling
    usual_over_days: int = Field(ge=1, le=366)


class Open(_Model):
    closed_statuses: frozenset[Status] = Field(min_length=1)


class Regrade(_Model):
    levels: frozenset[RiskLevel] = Field(min_length=1)
    signs: dict[str, int]

    @field_validator("signs")
    @classmethod
    def _severities(cls, signs: dict[str, int]) -> dict[str, int]:
        return _exactly(LATER_SIGNS | signs, SIGNS, 0, 100)

    def severity(self, sign: str) -> int:
        """A sign's severity: 0 means it raises nothing."""
        return self.signs[sign]


class Capped(_Model):
    """So many points each, at most `cap`."""

    each: float = Field(ge=0, le=1000)
    cap: float = Field(ge=0, le=1000)


class Waiting(_Model):
    """Points for waiting: up to `at_target` in proportion while the target nears; past it,
    `per_doubling` more for each doubling of the time waited (twice the target, four times...),
    so a case 18 months old outranks one 60 days old; at most `cap`."""

    at_target: float = Field(ge=0, le=1000)
    per_doubling: float = Field(0, ge=0, le=1000)
    cap: float = Field(ge=0, le=1000)


class Weights(_Model):
    risk: dict[str, float]
    waiting: Waiting
    access_to_children: float = Field(ge=0, le=1000)
    media: dict[str, float]
    unidentified_victims: Capped
    identified_victims: Capped
    victim_in_contact: float = Field(ge=0, le=1000)
    contact_abuse: float = Field(ge=0, le=1000)
    grooming: float = Field(ge=0, le=1000)
    registered_sex_offender: float = Field(0, ge=0, le=1000)
    linked_cases: Capped

    @field_validator("risk")
    @classmethod
    def _every_level(cls, risk: dict[str, float]) -> dict[str, float]:
        return _exactly(risk, RISK_LEVELS, 0, 1000)

    @field_validator("media")
    @classmethod
    def _every_category(cls, media: dict[str, float]) -> dict[str, float]:
        return _exactly(media, ("A", "B", "C"), 0, 1000)


class Links(_Model):
    counted: int = Field(ge=1, le=1000)


class Stale(_Model):
    after_days: int = Field(ge=1, le=3660)


NumberT = TypeVar("NumberT", int, float)


def _exactly(
    values: dict[str, NumberT], names: tuple[str, ...], low: float, high: float
) -> dict[str, NumberT]:
    """Every one of `names` and no other, each from `low` to `high`."""
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ValueError(f"unknown: {', '.join(unknown)} (expected {', '.join(names)})")
    missing = [name for name in names if name not in values]
    if missing:
        raise ValueError(f"missing: {', '.join(missing)}")
    bad = [name for name in names if not low <= values[name] <= high]
    if bad:
        raise ValueError(f"must be from {low:g} to {high:g}: {', '.join(bad)}")
    return values


class _CaseRulesFile(_Model):
    version: int
    open: Open
    targets: dict[str, int]
    high_risk: frozenset[RiskLevel]
    regrade: Regrade
    priority: Weights
    links: Links
    intake: Intake
    stale: Stale

    @field_validator("version")
    @classmethod
    def _supported(cls, value: int) -> int:
        if value != 1:
            raise ValueError("only version 1 is supported")
        return value

    @field_validator("targets")
    @classmethod
    def _targets(cls, targets: dict[str, int]) -> dict[str, int]:
        return _exactly(targets, RISK_LEVELS, 1, 366)

    @model_validator(mode="after")
    def _regrade_below_high(self) -> _CaseRulesFile:
        if self.regrade.levels & self.high_risk:
            raise ValueError("regrade.levels must not include a high_risk level")
        return self


@dataclass(frozen=True)
class IntakeDay:
    """A force's intake today (since the last release) and over the usual window before it."""

    cases: int
    identifiers: int
    cases_before: int  # sums over the `usual_over_days` days before today
    identifiers_before: int


@dataclass(frozen=True)
class CaseRules:
    """The validated rules; `digest` identifies the file they came from."""

    closed_statuses: frozenset[str]
    target_days: Mapping[str, int]
    high_risk: frozenset[str]
    regrade: Regrade
    priority: Weights
    links_counted: int
    intake: Intake
    stale_after_days: int
    digest: str

    def is_open(self, status: str) -> bool:
        return status not in self.closed_statuses

    def is_high(self, risk_level: str) -> bool:
        return risk_level in self.high_risk

    def ceilings(self, day: IntakeDay) -> tuple[int, int]:
        """Today's ceilings of new cases and new identifiers for a force with this history."""
        days = self.intake.usual_over_days
        return (
            self.intake.daily_new_cases.of(day.cases_before / days),
            self.intake.daily_new_identifiers.of(day.identifiers_before / days),
        )

    def over_ceiling(self, day: IntakeDay) -> bool:
        cases, identifiers = self.ceilings(day)
        return day.cases > cases or day.identifiers > identifiers


def parse_case_rules(text: str, *, source: str = FILE_NAME) -> CaseRules:
    """Validate the file; `PolicyFileError` names the line and YAML path of each mistake."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise PolicyFileError(f"{source}: not valid YAML{where}") from None
    try:
        parsed = _CaseRulesFile.model_validate(_with_default_sections(raw, source))
    except ValidationError as error:
        raise PolicyFileError(f"{source}: {_located(error, node)}") from None
    return CaseRules(
        closed_statuses=frozenset(parsed.open.closed_statuses),
        target_days=dict(parsed.targets),
        high_risk=frozenset(parsed.high_risk),
        regrade=parsed.regrade,
        priority=parsed.priority,
        links_counted=parsed.links.counted,
        intake=parsed.intake,
        stale_after_days=parsed.stale.after_days,
        digest=hashlib.sha256(text.encode()).hexdigest(),
    )


def _with_default_sections(raw: Any, source: str) -> Any:
    """The file's sections, and the default file's for those it leaves out."""
    if not isinstance(raw, dict) or Path(source) == DEFAULTS:
        return raw
    defaults = yaml.safe_load(DEFAULTS.read_text(encoding="utf-8"))
    sections = {name: value for name, value in defaults.items() if name != "version"}
    return sections | raw


def default_case_rules() -> CaseRules:
    """The rules of `policies/defaults/case_rules.yaml`, for tools and tests with no policy dir."""
    return parse_case_rules(DEFAULTS.read_text(encoding="utf-8"), source=str(DEFAULTS))


def load_case_rules(policy_dir: Path) -> CaseRules:
    """The directory's `case_rules.yaml`, or the default one when it has none."""
    path = policy_dir / FILE_NAME
    if not path.exists():
        path = DEFAULTS
    return parse_case_rules(path.read_text(encoding="utf-8"), source=str(path))


def _located(error: ValidationError, root: yaml.Node | None) -> str:
    """Pydantic's errors as `line N, path.to.field: message`, without the input value: the line
    is that of the deepest node of the path the file has."""
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        loc = [part for part in item["loc"] if not str(part).startswith("function-")]
        path = ".".join(str(part) for part in loc) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        line = _line_of(root, loc)
        lines.append(f"line {line}, {path}: {message}" if line else f"{path}: {message}")
    return "; ".join(lines)


def _line_of(node: yaml.Node | None, loc: list[int | str]) -> int | None:
    """The 1-based line of the deepest entry along `loc` that the document holds: where its key
    is written, for an entry of a mapping."""
    if node is None:
        return None
    line = node.start_mark.line
    for part in loc:
        found = _child(node, part)
        if found is None:
            break
        node, line = found
    return line + 1


def _child(node: yaml.Node, part: int | str) -> tuple[yaml.Node, int] | None:
    """The entry `part` of a mapping or sequence node, and the line it starts at."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return value, key.start_mark.line
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item: yaml.Node = node.value[part]
        return item, item.start_mark.line
    return None
