"""A synthetic region: deterministic, realistic case summaries of 5 to 43 forces (docs/region.md).

    from clients.region import RegionParams, region_cases
    for case in region_cases(RegionParams(seed=7, forces=5, cases=5000)):
        ...

Everything is fictitious; only the HTTP contract's case summary shape is shared with the hub.
"""

from clients.region.cases import region_cases
from clients.region.params import (
    FORCE_CODES,
    PAST_TARGET_SHARE,
    RISK_MIX,
    SOURCE_SHARES,
    TARGET_DAYS,
    RegionParams,
    recent_start,
)
from clients.region.signs import high_risk_signs
from clients.region.volumes import counts

__all__ = [
    "FORCE_CODES",
    "PAST_TARGET_SHARE",
    "RISK_MIX",
    "SOURCE_SHARES",
    "TARGET_DAYS",
    "RegionParams",
    "counts",
    "high_risk_signs",
    "recent_start",
    "region_cases",
]
