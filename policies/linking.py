"""The region's linking rules, `linking.yaml`: what a force's identifiers are read as, and which
well-formed values still link (see docs/policies.md, "What links")."""

from __future__ import annotations

from pathlib import Path

import phonenumbers
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from policies.normalise import DEFAULT_RULES, LinkingRules
from policies.scopes import PolicyFileError, format_errors


class _LinkingFile(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    version: int = Field(ge=1, le=1)
    country: str = DEFAULT_RULES.country
    private_addresses: bool = Field(DEFAULT_RULES.private_addresses, alias="privateAddresses")
    example_ranges: bool = Field(DEFAULT_RULES.example_ranges, alias="exampleRanges")
    pdq_distance: int = Field(DEFAULT_RULES.pdq_distance, ge=0, le=31, alias="pdqDistance")

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError("must be an ISO 3166 alpha-2 country code phonenumbers knows, e.g. GB")
        return value


def parse_linking_rules(text: str, *, source: str = "linking.yaml") -> LinkingRules:
    try:
        parsed = _LinkingFile.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as error:
        raise PolicyFileError(f"{source}: not valid YAML ({error.__class__.__name__})") from error
    except ValidationError as error:
        raise PolicyFileError(f"{source}: {format_errors(error)}") from error
    return LinkingRules(
        country=parsed.country,
        private_addresses=parsed.private_addresses,
        example_ranges=parsed.example_ranges,
        pdq_distance=parsed.pdq_distance,
    )


def load_linking_rules(path: Path) -> LinkingRules:
    """The rules in `path`; the built-in defaults when there is no such file."""
    if not path.exists():
        return DEFAULT_RULES
    return parse_linking_rules(path.read_text(encoding="utf-8"), source=path.name)
