"""The synthetic region generator: deterministic, valid for the hub, and as realistic as promised
(growth, source shares, risk signs on LOW cases, late enforcement, cross-force overlap)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from federation.validation import parse_instant, problems_of
from gateway.cli import app
from gateway.demo.region import (
    FORCE_CODES,
    SOURCE_SHARES,
    TARGET_DAYS,
    RegionParams,
    counts,
    high_risk_signs,
    recent_start,
    region_cases,
)
from policies import normalise

Record = dict[str, Any]


@pytest.fixture(scope="module")
def region() -> list[Record]:
    """The default region: five forces over twelve months (about 6,000 cases)."""
    return list(region_cases(RegionParams()))


def identifiers(case: Record) -> Iterator[tuple[str, str, str]]:
    """(kind, normalised, as written) of every linking identifier, normalised by the hub's own
    normalisers; raises if one would not link."""
    for s in case.get("suspects") or []:
        if s.get("dateOfBirth"):
            key = normalise.person(s["givenName"], s["familyName"], s["dateOfBirth"])
            yield "person", key, f"{s['givenName']} {s['familyName']}"
        if s.get("pncId"):
            yield "pnc", normalise.pnc_id(s["pncId"]), s["pncId"]
        for field, kind, norm in (
            ("phones", "phone", normalise.phone),
            ("emails", "email", normalise.email),
            ("postcodes", "postcode", normalise.postcode),
        ):
            for value in s.get(field) or []:
                yield kind, norm(value), value
    for d in case.get("devices") or []:
        if d.get("imei"):
            yield "imei", normalise.imei(d["imei"]), d["imei"]
        if d.get("serial"):
            yield "serial", normalise.device_serial(d["make"], d["serial"]), d["serial"]
    for a in case.get("accounts") or []:
        yield "account", normalise.account(a["platform"], a["handle"]), a["handle"]
    for ip in case.get("ipAddresses") or []:
        yield "ip", normalise.ip_address(ip["address"]), ip["address"]
    for m in case.get("media") or []:
        hashes = (("sha1", normalise.sha1), ("md5", normalise.md5), ("pdq", normalise.pdq))
        for kind, norm in hashes:
            if m.get(kind):
                yield kind, norm(m[kind]), m[kind]
        if m.get("seriesRef"):
            yield "series", normalise.series_ref(m["seriesRef"]), m["seriesRef"]


def holders(cases: list[Record]) -> dict[tuple[str, str], tuple[set[str], set[str]]]:
    """For each normalised identifier: the forces holding it and the notations they used."""
    out: dict[tuple[str, str], tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for case in cases:
        for kind, key, written in identifiers(case):
            forces, notations = out[(kind, key)]
            forces.add(case["force"])
            notations.add(written)
    return out


def month_of(instant: str) -> str:
    return instant[:7]


# --- determinism and validity ---------------------------------------------------------------------


def test_the_same_seed_gives_the_same_region_and_another_seed_another() -> None:
    first = list(region_cases(RegionParams(seed=3, cases=800)))
    again = list(region_cases(RegionParams(seed=3, cases=800)))
    other = list(region_cases(RegionParams(seed=4, cases=800)))
    assert len(first) == 800
    assert json.dumps(first) == json.dumps(again)
    assert sum(a != b for a, b in zip(first, other, strict=True)) > 700


@pytest.mark.parametrize(
    "params",
    [
        RegionParams(seed=1, cases=2000),
        RegionParams(seed=2, cases=2000, forces=43, months=24, start=date(2024, 9, 1)),
        RegionParams(seed=3, cases=2000, overlap=0.3, low_with_high_signs=1.0, series_share=0.5),
        RegionParams(seed=4, cases=2000, months=1, start=recent_start(1)),
    ],
    ids=["five-forces", "forty-three-forces", "dense-overlap", "last-month"],
)
def test_every_record_passes_the_hubs_validation_and_every_identifier_links(
    params: RegionParams,
) -> None:
    now = datetime.now(UTC)
    cases = list(region_cases(params))
    assert len(cases) == params.cases
    refs: set[tuple[str, str]] = set()
    for case in cases:
        assert problems_of(case, caller_force=case["force"], now=now) == [], case["caseRef"]
        assert sum(1 for _ in identifiers(case)) > 0  # and none raised InvalidIdentifier
        refs.add((case["force"], case["caseRef"]))
    assert len(refs) == len(cases)  # case references are unique within each force
    forces = {c["force"] for c in cases}
    assert forces <= set(FORCE_CODES[: params.forces])
    assert len(forces) >= params.forces - 1  # the smallest force may get none of a small total


def test_each_case_tells_a_consistent_story(region: list[Record]) -> None:
    for case in region:
        received = parse_instant(case["referral"]["receivedAt"])
        opened, assessed = (
            parse_instant(case["openedAt"]),
            parse_instant(case["risk"]["assessedAt"]),
        )
        assert received <= opened <= assessed <= parse_instant(case["lastActivityAt"])
        if "enforcementAt" in case:
            assert parse_instant(case["enforcementAt"]) >= assessed
            assert all(d["seizedAt"] == case["enforcementAt"] for d in case["devices"])
        if case["status"] in ("NO_FURTHER_ACTION", "TRANSFERRED", "CLOSED"):
            assert "closedAt" in case
        assert parse_instant(case["lastActivityAt"]) <= datetime(2026, 10, 1, tzinfo=UTC)


OUTCOME_OF_STATUS = {
    "CHARGED": {"CHARGED", "FAST_TRACK_CPS_FILE"},
    "CAUTIONED": {"CONDITIONAL_CAUTION", "CAUTION"},
    "NO_FURTHER_ACTION": {"NO_FURTHER_ACTION"},
    "TRANSFERRED": {"TRANSFERRED"},
    "CLOSED": {"COMMUNITY_RESOLUTION"},
}


def test_enforcement_actions_outcomes_and_teams_agree_with_the_v1_story(
    region: list[Record],
) -> None:
    methods: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for case in region:
        actions = case.get("enforcements") or []
        assert bool(actions) == ("enforcementAt" in case)
        if actions:
            first = min(parse_instant(a["at"]) for a in actions)
            assert first == parse_instant(case["enforcementAt"])
            assert max(parse_instant(a["at"]) for a in actions) <= parse_instant(
                case["lastActivityAt"]
            )
            arrested = {s.get("arrestedAt") for s in case["suspects"]} - {None}
            assert bool(arrested) == any(a["method"] == "ARREST" for a in actions)
        methods.update(a["method"] for a in actions)
        if "outcome" in case:
            assert case["outcome"]["kind"] in OUTCOME_OF_STATUS[case["status"]]
            assert parse_instant(case["outcome"]["at"]) <= parse_instant(case["lastActivityAt"])
            kinds[case["outcome"]["kind"]] += 1
        else:
            assert case["status"] not in OUTCOME_OF_STATUS.keys() - {"CLOSED"}
        assert case["team"] in ("SPECIALIST", "LOCAL")
    assert set(methods) == {"WARRANT", "ARREST", "VOLUNTARY_ATTENDANCE", "OTHER"}
    assert set(kinds) == set().union(*OUTCOME_OF_STATUS.values())
    assert sum(len(c.get("enforcements") or []) > 1 for c in region) > 0.2 * len(region)
    teams = Counter((c["risk"]["level"], c["team"]) for c in region)
    assert teams["VERY_HIGH", "SPECIALIST"] > teams["VERY_HIGH", "LOCAL"]
    assert teams["LOW", "LOCAL"] > teams["LOW", "SPECIALIST"]


# --- volumes, sources, grades -------------------------------------------------------------------


def test_referral_volumes_double_within_a_year(region: list[Record]) -> None:
    per_month: Counter[tuple[str, str]] = Counter(
        (c["force"], month_of(c["referral"]["receivedAt"])) for c in region
    )
    for force in FORCE_CODES[:5]:
        first, last = per_month[(force, "2025-10")], per_month[(force, "2026-09")]
        assert first > 30
        assert last >= 2 * first - 2, (force, first, last)  # rounding of either month
    monthly = [per_month[("AS", f"{y}-{m:02d}")] for y, m in [(2025, 10), (2025, 11), (2025, 12)]]
    assert monthly == sorted(monthly)


def test_a_typical_force_starts_at_about_seventy_referrals_a_month() -> None:
    table = counts(RegionParams(forces=43))
    surrey = FORCE_CODES.index("SR")  # weight 1.0
    assert table[surrey][0] == 70
    assert 138 <= table[surrey][11] <= 145


def test_a_requested_total_is_met_exactly_and_keeps_the_growth() -> None:
    table = counts(RegionParams(cases=12_345, forces=9))
    assert sum(map(sum, table)) == 12_345
    assert all(row[-1] > 1.8 * row[0] for row in table)


def test_sources_come_in_the_documented_shares(region: list[Record]) -> None:
    seen = Counter(c["referral"]["source"] for c in region)
    for source, share in SOURCE_SHARES.items():
        assert seen[source] / len(region) == pytest.approx(share, abs=0.02), source
    assert seen.most_common(1)[0][0] == "NCA"


def test_other_shares_can_be_asked_for() -> None:
    params = RegionParams(cases=1000, sources={"NCMEC": 1.0}, risk_mix={"VERY_HIGH": 1.0})
    cases = list(region_cases(params))
    assert {c["referral"]["source"] for c in cases} == {"NCMEC"}
    assert {c["risk"]["level"] for c in cases} == {"VERY_HIGH"}


def test_every_risk_grade_and_many_statuses_occur(region: list[Record]) -> None:
    levels = Counter(c["risk"]["level"] for c in region)
    assert set(levels) == {"VERY_HIGH", "HIGH", "MEDIUM", "LOW"}
    assert levels["MEDIUM"] > levels["LOW"] > levels["HIGH"] > levels["VERY_HIGH"]
    statuses = {c["status"] for c in region}
    assert {
        "NEW",
        "ALLOCATED",
        "ENFORCED",
        "CHARGED",
        "NO_FURTHER_ACTION",
        "TRANSFERRED",
    } <= statuses


# --- enforcement delays ---------------------------------------------------------------------------


def days_to_enforcement(case: Record) -> float:
    received = parse_instant(case["referral"]["receivedAt"])
    return (parse_instant(case["enforcementAt"]) - received) / timedelta(days=1)


def test_enforcement_is_sometimes_later_than_the_target(region: list[Record]) -> None:
    for level, target in TARGET_DAYS.items():
        enforced = [c for c in region if c["risk"]["level"] == level and "enforcementAt" in c]
        late = [c for c in enforced if days_to_enforcement(c) > target]
        assert enforced and late, level
        assert 0.05 < len(late) / len(enforced) < 0.6, level
    low = [c for c in region if c["risk"]["level"] == "LOW" and "enforcementAt" in c]
    high = [c for c in region if c["risk"]["level"] == "HIGH" and "enforcementAt" in c]
    share_late = lambda cases, t: sum(days_to_enforcement(c) > t for c in cases) / len(cases)  # noqa: E731
    assert share_late(low, 30) > share_late(high, 7)


def test_some_open_cases_wait_past_their_target_unenforced(region: list[Record]) -> None:
    seen_at = datetime(2026, 10, 1, tzinfo=UTC)
    waiting = [
        c
        for c in region
        if "enforcementAt" not in c
        and c["status"] in ("NEW", "ALLOCATED", "ENFORCEMENT_PLANNED")
        and parse_instant(c["referral"]["receivedAt"])
        + timedelta(days=TARGET_DAYS[c["risk"]["level"]])
        < seen_at
    ]
    assert len(waiting) > 20


def test_forensic_examination_waits_months_after_seizure(region: list[Record]) -> None:
    waits = [
        (parse_instant(d["examinedAt"]) - parse_instant(d["seizedAt"])) / timedelta(days=1)
        for c in region
        for d in c["devices"]
        if d.get("examinedAt")
    ]
    unexamined = [
        d for c in region for d in c["devices"] if "seizedAt" in d and "examinedAt" not in d
    ]
    assert min(waits) >= 30 and max(waits) > 180
    assert len(unexamined) > len(waits) / 4


# --- risk signs -------------------------------------------------------------------------------


def test_some_low_cases_carry_high_risk_signs_and_the_rest_none(region: list[Record]) -> None:
    low = [c for c in region if c["risk"]["level"] == "LOW"]
    flagged = [c for c in low if high_risk_signs(c)]
    assert len(flagged) / len(low) == pytest.approx(0.08, abs=0.025)
    kinds = Counter(sign for c in flagged for sign in high_risk_signs(c))
    assert set(kinds) == {"access-to-children", "category-a", "grooming-or-contact",
                          "victim-in-contact"}  # fmt: skip
    high = [c for c in region if c["risk"]["level"] in ("VERY_HIGH", "HIGH")]
    assert sum(bool(high_risk_signs(c)) for c in high) / len(high) > 0.5


def test_no_low_case_has_signs_when_none_are_asked_for() -> None:
    cases = region_cases(RegionParams(cases=1500, low_with_high_signs=0.0, overlap=0.2))
    assert not [c for c in cases if c["risk"]["level"] == "LOW" and high_risk_signs(c)]


# --- overlap and series ---------------------------------------------------------------------------


def test_overlap_links_forces_through_identifiers_written_differently(
    region: list[Record],
) -> None:
    shared = {key: held for key, held in holders(region).items() if len(held[0]) > 1}
    kinds = Counter(kind for kind, _ in shared)
    for kind in ("person", "phone", "email", "imei", "account", "ip", "sha1", "series"):
        assert kinds[kind] > 5, kind
    for kind in ("phone", "email", "imei", "sha1", "series", "pnc"):
        differently = [
            k for k, (_, notations) in shared.items() if k[0] == kind and len(notations) > 1
        ]
        assert differently, kind
    people = [key for key in holders(region) if key[0] == "person"]
    share = sum(1 for key in people if key in shared) / len(people)
    assert 0.01 < share < 0.1


def test_without_overlap_only_known_image_series_link_forces() -> None:
    cases = list(region_cases(RegionParams(cases=3000, overlap=0.0)))
    shared = Counter(kind for (kind, _), (forces, _) in holders(cases).items() if len(forces) > 1)
    assert set(shared) <= {"series", "sha1", "md5", "pdq"}  # series images, known across forces
    in_series = {
        normalise.sha1(m["sha1"])
        for c in cases
        for m in c.get("media") or []
        if m.get("seriesRef") and m.get("sha1")
    }
    assert all(
        key in in_series
        for (kind, key), (forces, _) in holders(cases).items()
        if kind == "sha1" and len(forces) > 1
    )


def test_image_series_depict_victims_some_identified_and_safeguarded(
    region: list[Record],
) -> None:
    depicted = [
        v
        for c in region
        for m in c.get("media") or []
        if m.get("seriesRef")
        for v in c["victims"]
        if v["ref"] in m["depicts"]
    ]
    assert {v["identified"] for v in depicted} == {True, False}
    identified = [v for v in depicted if v["identified"]]
    assert all(v.get("givenName") for v in identified)
    assert any(v.get("safeguarding") for v in identified)
    assert all("givenName" not in v for v in depicted if not v["identified"])


# --- fictitious values ----------------------------------------------------------------------------


def test_values_come_from_fictitious_ranges(region: list[Record]) -> None:
    found = holders(region)
    phones = [key for kind, key in found if kind == "phone"]
    # Ofcom's drama ranges: 1,000 numbers after each of these E.164 prefixes.
    cities = ("113", "114", "115", "116", "117", "118", "121", "131", "141", "151", "161")
    drama = {"+447700900", "+441632960", "+441914980", "+442079460", "+442896496", "+442920180"}
    drama |= {f"+44{city}4960" for city in cities}
    assert phones and all(p[:-3] in drama for p in phones)
    emails = [key for kind, key in found if kind == "email"]
    assert emails and all(e.endswith("@example.org") for e in emails)
    ips = [key for kind, key in found if kind == "ip"]
    assert all(ip.startswith(("192.0.2.", "198.51.100.", "203.0.113.", "2001:db8:")) for ip in ips)
    assert all(key.startswith("00") for kind, key in found if kind == "imei")
    assert all(key.startswith("ZZ") for kind, key in found if kind == "postcode")


# --- streaming and parameters ---------------------------------------------------------------------


def test_the_region_streams_in_constant_memory() -> None:
    def peak(consume: Callable[[], object]) -> int:
        tracemalloc.start()
        try:
            consume()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    streamed = peak(lambda: sum(1 for _ in region_cases(RegionParams(cases=5_000))))
    held = peak(lambda: list(region_cases(RegionParams(cases=1_000))))
    assert streamed < held


def test_a_million_case_region_starts_at_once() -> None:
    million = region_cases(RegionParams(cases=1_000_000, forces=43))
    first = list(itertools.islice(million, 100))  # generated on demand, not all up front
    assert [c["referral"]["receivedAt"] for c in first] == sorted(
        c["referral"]["receivedAt"] for c in first
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"forces": 4}, "forces must be between 5 and 43"),
        ({"forces": 44}, "forces must be between 5 and 43"),
        ({"start": date(2025, 10, 2)}, "first day of a month"),
        ({"overlap": 1.5}, "overlap must be between 0 and 1"),
        ({"sources": {"NCA": 1.0, "POLICE": 1.0}}, "unknown keys"),
        ({"risk_mix": {"LOW": 0.0}}, "at least one share must be positive"),
        ({"cases": -1}, "cases must not be negative"),
    ],
)
def test_parameters_are_checked_with_a_clear_message(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        RegionParams(**overrides)


# --- the command line -----------------------------------------------------------------------------

RECENT = recent_start(12)  # the command's default period: twelve months to the last complete one


def test_the_command_writes_the_generators_records_as_json_lines(tmp_path: Path) -> None:
    out = tmp_path / "region.jsonl"
    result = CliRunner().invoke(
        app, ["region", "--seed", "5", "--forces", "6", "--cases", "120", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    expected = list(region_cases(RegionParams(seed=5, forces=6, cases=120, start=RECENT)))
    assert [json.loads(line) for line in lines] == expected
    assert "120 case summaries of 6 forces" in result.output


def test_the_command_writes_to_stdout_with_a_dash() -> None:
    result = CliRunner().invoke(app, ["region", "--cases", "7", "--out", "-"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 7
    assert all(r["schema"] == "crossforce/case-summary/v1.1" for r in records)


def test_the_command_writes_one_file_per_force_for_crossforce_sync(tmp_path: Path) -> None:
    out = tmp_path / "region.jsonl"
    args = ["region", "--cases", "300", "--forces", "7", "--out", str(out), "--by-force"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    written = {}
    for path in sorted(tmp_path.glob("region-*.jsonl")):
        force = path.stem.removeprefix("region-")
        written[force] = [json.loads(line) for line in path.read_text().splitlines()]
        assert {r["force"] for r in written[force]} == {force}
    expected = list(region_cases(RegionParams(forces=7, cases=300, start=RECENT)))
    assert set(written) == {c["force"] for c in expected}
    for force, records in written.items():
        assert records == [c for c in expected if c["force"] == force]
    assert not out.exists()


def test_the_commands_default_region_ends_with_the_last_complete_month(tmp_path: Path) -> None:
    out = tmp_path / "region.jsonl"
    result = CliRunner().invoke(app, ["region", "--cases", "200", "--out", str(out)])
    assert result.exit_code == 0, result.output
    received = [json.loads(line)["referral"]["receivedAt"] for line in out.read_text().splitlines()]
    today = datetime.now(UTC)
    this_month = today.strftime("%Y-%m")
    last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    assert max(map(month_of, received)) == last_month  # the data is current, not a year old
    assert f"to {this_month} (exclusive)" in " ".join(result.output.split())


def test_the_command_stops_quietly_when_its_reader_has_read_enough() -> None:
    command = [sys.executable, "-m", "gateway.cli", "region", "--cases", "2000", "--out", "-"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as writer:
        assert writer.stdout is not None and writer.stderr is not None
        first = writer.stdout.readline()  # as `| head -1` does, then the pipe closes
        writer.stdout.close()
        errors = writer.stderr.read()
    assert json.loads(first)["schema"] == "crossforce/case-summary/v1.1"
    assert writer.returncode == 0
    assert errors == b""


def test_the_command_says_when_it_cannot_write(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "region.jsonl"
    result = CliRunner().invoke(app, ["region", "--cases", "5", "--out", str(out)])
    assert result.exit_code == 2
    assert "cannot write" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2025-13"], "expected YYYY-MM"),
        (["--start", "2099-01"], "in the future"),
        (["--forces", "50"], "43"),
        (["--growth", "3"], "monthly_growth"),
        (["--by-force"], "needs a file name"),
    ],
)
def test_the_command_refuses_bad_parameters(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["region", "--cases", "5", "--out", "-", *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
