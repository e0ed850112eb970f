"""A synthetic region: deterministic, realistic case summaries of 5 to 43 forces (docs/region.md).

    from gateway.demo.region import RegionParams, region_cases
    for case in region_cases(RegionParams(seed=7, forces=5, cases=5000)):
        ...

Everything is fictitious; only the HTTP contract's case summary shape is shared with the hub.
"""

from gateway.demo.region.cases import region_cases
from gateway.demo.region.params import (
    FORCE_CODES,
    PAST_TARGET_SHARE,
    RISK_MIX,
    SOURCE_SHARES,
    TARGET_DAYS,
    RegionParams,
    recent_start,
)
from gateway.demo.region.signs import high_risk_signs
from gateway.demo.region.volumes import counts

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
