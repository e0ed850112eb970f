"""Case rules (`case_rules.yaml`): what the hub expects of the cases a force sends.

For now one section, `intake`: a daily ceiling on each force's new cases and new identifiers,
relative to that force's usual volume, above which the hub holds the force's link events and
alerts the region's administrators (federation/intake.py). Invented cases are how a force system
would use sync as a linking oracle (send a range of phone numbers, read back which other forces
hold them); honest syncs bring roughly the volume they brought before. Later sections (targets,
signs, weights) belong in the same file.

Loaded once at start from `CROSSFORCE_POLICY_DIR/case_rules.yaml`, or the default file when the
directory has none; a file that does not validate stops the hub with the YAML path of the mistake.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from policies.scopes import PolicyFileError, format_errors

DEFAULTS = Path(__file__).resolve().parent / "defaults" / "case_rules.yaml"
FILE_NAME = "case_rules.yaml"


class Ceiling(BaseModel):
    """A day's allowance: `multiple_of_usual` times the usual daily figure, never below `floor`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    multiple_of_usual: float = Field(gt=0, le=1000)
    floor: int = Field(ge=0)

    def of(self, usual_per_day: float) -> int:
        return max(self.floor, math.ceil(self.multiple_of_usual * usual_per_day))


class Intake(BaseModel):
    """Daily ceilings per force; `usual_over_days`: the days before today whose mean is usual."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    daily_new_cases: Ceiling
    daily_new_identifiers: Ceiling
    usual_over_days: int = Field(ge=1, le=366)


class _CaseRulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    intake: Intake

    @field_validator("version")
    @classmethod
    def _supported(cls, value: int) -> int:
        if value != 1:
            raise ValueError("only version 1 is supported")
        return value


@dataclass(frozen=True)
class IntakeDay:
    """A force's intake today (since the last release) and over the usual window before it."""

    cases: int
    identifiers: int
    cases_before: int  # sums over the `usual_over_days` days before today
    identifiers_before: int


@dataclass(frozen=True)
class CaseRules:
    intake: Intake
    digest: str

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
    """Validate the file; `PolicyFileError` names the YAML path of each mistake."""
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PolicyFileError(f"{source}: not valid YAML ({error.__class__.__name__})") from None
    try:
        parsed = _CaseRulesFile.model_validate(raw)
    except ValidationError as error:
        raise PolicyFileError(f"{source}: {format_errors(error)}") from None
    return CaseRules(parsed.intake, hashlib.sha256(text.encode()).hexdigest())


def load_case_rules(policy_dir: Path) -> CaseRules:
    """The directory's `case_rules.yaml`, or the default one when it has none."""
    path = policy_dir / FILE_NAME
    if not path.exists():
        path = DEFAULTS
    return parse_case_rules(path.read_text(encoding="utf-8"), source=str(path))
