"""`POST /federation/v1/referrals`: CyberTipline referral files imported as the caller's case
summaries, on both engines: all or nothing, refused files named by line, nothing half-imported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.federation.conftest import DATA, Hub, examples

REFERRALS = DATA / "referrals"
CT_CASES = "MATCH (c:Case) WHERE c.caseRef STARTS WITH 'CT-' RETURN c.key AS key ORDER BY key"
CASE = "MATCH (c:Case {key: $key}) RETURN properties(c) AS c"
MAX_REFERRAL_BYTES = 16 * 1024 * 1024  # the hub's default (gateway/config.py)


async def post(hub: Hub, body: bytes, *, client: str = "force-GL", **params: str) -> httpx.Response:
    return await hub.http.post(
        "/federation/v1/referrals",
        params={"format": "cybertipline", **params},
        content=body,
        headers={"Authorization": f"Bearer {hub.token(client)}", "Content-Type": "application/xml"},
    )


def sample(name: str) -> bytes:
    return (REFERRALS / f"{name}.xml").read_bytes()


async def imported(hub: Hub) -> list[str]:
    return [row["key"] for row in await hub.store.read(CT_CASES, {})]


def report_ids(path: Path) -> list[str]:
    text = path.read_text()
    return [part.split("</reportId>")[0] for part in text.split("<reportId>")[1:]]


async def test_each_report_becomes_a_case_with_its_reference_and_what_was_not_mapped(
    hub: Hub,
) -> None:
    response = await post(hub, sample("cybertipline"))

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    # Each report's own id, in document order (fileDetails repeat it, so keep the first of each).
    expected = list(dict.fromkeys(report_ids(REFERRALS / "cybertipline.xml")))
    assert [r["reference"] for r in results] == expected
    assert [r["status"] for r in results] == ["applied", "applied"]
    assert response.json()["refused"] == []
    gaps = results[0]["unmapped"]
    assert any("SHA256" in gap for gap in gaps) and any("profileUrl" in gap for gap in gaps)
    assert results[1]["unmapped"] == []
    case_refs = [r["caseRef"] for r in results]
    assert await imported(hub) == sorted(f"GL:{ref}" for ref in case_refs)
    case = (await hub.store.read(CASE, {"key": f"GL:{case_refs[0]}"}))[0]["c"]
    # Sensitive values of the referral are never kept in clear.
    stored = repr(case)
    for value in ("jd_coach81", "j.doe@example.com", "81.2.69.160", "Doe"):
        assert value not in stored


async def test_the_case_reference_hides_the_report_id_and_is_the_same_on_reimport(
    hub: Hub,
) -> None:
    report_ids_in_file = set(report_ids(REFERRALS / "cybertipline.xml"))

    first = (await post(hub, sample("cybertipline"))).json()["results"]
    again = (await post(hub, sample("cybertipline"))).json()["results"]

    case_refs = [r["caseRef"] for r in first]
    assert len(set(case_refs)) == len(first) == len(report_ids_in_file)
    for case_ref in case_refs:
        assert case_ref.startswith("CT-")
        assert not any(report_id in case_ref for report_id in report_ids_in_file)
    # Nothing shown to another force carries the report id: not the key, not a stored value
    # in clear (the referral's reference is sealed).
    for key in await imported(hub):
        stored = repr((await hub.store.read(CASE, {"key": key}))[0]["c"])
        assert not any(report_id in stored for report_id in report_ids_in_file)
    # A second import of the same file names the same cases: held already, not new ones.
    assert [r["caseRef"] for r in again] == case_refs
    assert [r["status"] for r in again] == ["stale", "stale"]
    assert await imported(hub) == sorted(f"GL:{ref}" for ref in case_refs)


async def test_an_imported_referral_links_to_another_forces_case(hub: Hub) -> None:
    as_case = examples()[0]  # AS holds the uploader's e-mail, phone, IP and an image
    assert (await hub.sync("force-AS", [as_case])).json()["results"][0]["status"] == "applied"

    posted = await post(hub, sample("cybertipline"))

    assert posted.status_code == 200
    case_ref = {r["reference"]: r["caseRef"] for r in posted.json()["results"]}
    changes = (await hub.changes("force-GL")).json()["changes"]
    links = {(c["caseRef"], c.get("otherCaseRef")) for c in changes if c["kind"] == "LINK"}
    assert (case_ref["170044501"], as_case["caseRef"]) in links
    assert not any(ref == case_ref["170044502"] for ref, _ in links)  # shares nothing with AS


async def test_a_malformed_file_is_refused_with_its_line_and_nothing_is_imported(
    hub: Hub,
) -> None:
    response = await post(hub, sample("cybertipline-malformed"))

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "urn:crossforce:problem:malformed-referrals"
    broken = next(
        number
        for number, line in enumerate(sample("cybertipline-malformed").splitlines(), start=1)
        if b"</incidentSummary>" in line and b"<incidentType>" in line
    )
    assert problem["line"] == broken and f"line {broken}" in problem["detail"]
    # The first report was well-formed, but the file is refused whole.
    assert await imported(hub) == []


async def test_a_report_missing_a_required_element_refuses_the_file_unless_partial(
    hub: Hub,
) -> None:
    body = sample("cybertipline-missing-element")
    second = next(
        number
        for number, line in enumerate(body.splitlines(), start=1)
        if b"<cyberTiplineReport>" in line and number > 4
    )

    refused = await post(hub, body)

    assert refused.status_code == 422
    problem = refused.json()
    assert problem["type"] == "urn:crossforce:problem:unimportable-referrals"
    assert problem["referrals"] == [
        {
            "line": second,
            "reference": "170044702",
            "reason": "report/incidentSummary/incidentType is missing",
        }
    ]
    assert "partial=true" in problem["detail"]
    assert await imported(hub) == []

    partial = await post(hub, body, partial="true")

    assert partial.status_code == 200, partial.text
    assert [r["status"] for r in partial.json()["results"]] == ["applied"]
    assert [r["reference"] for r in partial.json()["refused"]] == ["170044702"]
    (applied,) = partial.json()["results"]
    assert applied["reference"] == "170044701"
    assert await imported(hub) == [f"GL:{applied['caseRef']}"]


async def test_an_oversized_file_is_refused_before_it_is_read(hub: Hub) -> None:
    head = sample("cybertipline").split(b"</cyberTiplineReports>")[0]
    padding = b"<!--" + b"x" * (MAX_REFERRAL_BYTES - len(head)) + b"-->"
    body = head + padding + b"</cyberTiplineReports>\n"
    assert len(body) > MAX_REFERRAL_BYTES

    response = await post(hub, body)

    assert response.status_code == 413
    assert response.json()["type"] == "urn:crossforce:problem:too-large"
    assert await imported(hub) == []


async def test_entities_and_document_types_are_refused(hub: Hub) -> None:
    response = await post(hub, sample("cybertipline-entities"))

    assert response.status_code == 400
    assert "document type declaration" in response.json()["detail"]
    assert await imported(hub) == []


async def test_an_unknown_format_and_a_token_without_sync_write_are_refused(hub: Hub) -> None:
    body = sample("cybertipline")
    unknown = await post(hub, body, format="nca-package")
    analyst = await post(hub, body, client="analyst-GL")
    anonymous = await hub.http.post(
        "/federation/v1/referrals", params={"format": "cybertipline"}, content=body
    )

    assert unknown.status_code == 400
    assert unknown.json()["type"] == "urn:crossforce:problem:unknown-format"
    assert analyst.status_code == 403
    assert anonymous.status_code == 401
    assert await imported(hub) == []


async def test_the_import_is_audited_as_the_forces_sync(hub: Hub) -> None:
    assert (await post(hub, sample("cybertipline"))).status_code == 200

    rows: list[dict[str, Any]] = await hub.store.read(
        "MATCH (e:AuditEntry) WHERE e.action = 'sync' AND e.target = 'force:GL' "
        "RETURN e.detail AS detail",
        {},
    )

    assert any("applied=2" in row["detail"] for row in rows)


async def test_a_csv_package_becomes_cases_with_the_senders_references(hub: Hub) -> None:
    body = sample_csv("package")
    rows = [line.split(b",") for line in body.splitlines()[1:]]

    response = await post(hub, body, format="csv")

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["reference"] for r in results] == [row[0].decode() for row in rows]
    assert [r["status"] for r in results] == ["applied", "applied"]
    assert results[0]["unmapped"] == ["analystNote: not a column of the layout"]
    assert await imported_any(hub) == sorted(f"GL:{r['caseRef']}" for r in results)


async def test_a_csv_package_with_a_bad_row_or_header_imports_nothing(hub: Hub) -> None:
    bad_row = await post(hub, sample_csv("package-bad-row"), format="csv")
    no_column = await post(hub, sample_csv("package-missing-column"), format="csv")
    broken = await post(hub, sample_csv("package-malformed"), format="csv")

    assert bad_row.status_code == 422
    assert [(r["line"], r["reference"]) for r in bad_row.json()["referrals"]] == [(3, "NCA-PKG-3")]
    assert no_column.status_code == 400 and no_column.json()["line"] == 1
    assert "receivedAt" in no_column.json()["detail"]
    # The quoted cell opened on line 2 never closes.
    assert broken.status_code == 400 and broken.json()["line"] == 2
    assert await imported_any(hub) == []


def sample_csv(name: str) -> bytes:
    return (REFERRALS / f"{name}.csv").read_bytes()


async def imported_any(hub: Hub) -> list[str]:
    rows = await hub.store.read(
        "MATCH (c:Case) WHERE c.force = 'GL' RETURN c.key AS key ORDER BY key", {}
    )
    return [row["key"] for row in rows]


async def test_a_time_without_an_offset_or_not_a_date_is_refused_by_line_and_field(
    hub: Hub,
) -> None:
    # CyberTipline: the second IP capture of the first report loses its offset.
    xml = sample("cybertipline").replace(
        b"<dateTime>2026-09-27T08:01:30+01:00</dateTime>",
        b"<dateTime>2026-09-27T08:01:30</dateTime>",
    )
    # CSV: the second row's receipt time is not a date-time at all.
    csv = sample_csv("package").replace(b"2026-10-03T14:00:00+01:00", b"3 October 2026")

    xml_refused = await post(hub, xml)
    csv_refused = await post(hub, csv, format="csv")

    assert xml_refused.status_code == 422, xml_refused.text
    assert xml_refused.json()["referrals"] == [
        {
            "line": 6,
            "reference": "170044501",
            "reason": "ipCaptureEvent[2]/dateTime has no time zone offset",
        }
    ]
    assert csv_refused.status_code == 422, csv_refused.text
    assert csv_refused.json()["referrals"] == [
        {
            "line": 3,
            "reference": "CPS/2026/0042",
            "reason": "receivedAt is not an ISO 8601 date-time",
        }
    ]
    assert await imported_any(hub) == []
