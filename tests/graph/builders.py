"""Prepared case rows for graph tests, as the federation API would hand them over."""

from __future__ import annotations

from graph.cases import CaseRow, EntityLink, case_key


def link(key: str, **props: object) -> EntityLink:
    return {"key": key, "props": dict(props)}


def case_row(
    force: str,
    case_ref: str,
    version: int = 1,
    *,
    risk: str = "HIGH",
    open_: bool = True,
    persons: tuple[str, ...] = (),
    devices: tuple[str, ...] = (),
    accounts: tuple[str, ...] = (),
    ips: tuple[str, ...] = (),
    media: tuple[str, ...] = (),
    series: tuple[str, ...] = (),
    victims: tuple[str, ...] = (),
    depicts: tuple[tuple[str, str], ...] = (),
) -> CaseRow:
    key = case_key(force, case_ref)
    return {
        "key": key,
        "version": version,
        "props": {
            "key": key,
            "force": force,
            "caseRef": case_ref,
            "version": version,
            "riskLevel": risk,
            "open": open_,
        },
        "persons": [link(k, ref="P1", kind="phone") for k in persons],
        "devices": [link(k, ref="D1", type="PHONE") for k in devices],
        "accounts": [link(k, ref="A1", platform="x") for k in accounts],
        "ips": [link(k) for k in ips],
        "media": [link(k, category="A") for k in media],
        "series": [link(k) for k in series],
        "victims": [
            {"key": f"{key}:{ref}", "props": {"key": f"{key}:{ref}", "identified": False}}
            for ref in victims
        ],
        "depicts": [{"media": m, "victim": f"{key}:{v}"} for m, v in depicts],
        "contactPersons": [],
        "contactAccounts": [],
    }
