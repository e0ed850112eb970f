"""People use the hub through the web UI in a real Chromium: figures equal the API's, cases open,
fields are revealed only with a purpose, and every reveal or refusal is in the audit log."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.federation.conftest import Hub, examples
from tests.gateway.graphql_client import graphql, sync_all

from .conftest import Console, screenshot
from .helpers import document, oversight, persisted, region, sha256, sign_in

pytestmark = pytest.mark.browser

AS_CASE = examples()[0]
GL_CASE = examples()[1]
TARGET_DAYS = {"VERY_HIGH": 7, "HIGH": 7, "MEDIUM": 14, "LOW": 30}


@pytest.fixture(scope="module")
async def seeded(ui_hub: Hub) -> Hub:
    await sync_all(ui_hub, region(7))
    return ui_hub


async def figures(page: Page) -> dict[str, str]:
    cells = page.locator("[data-figure]")
    keys = await cells.evaluate_all("els => els.map(e => [e.dataset.figure, e.textContent])")
    return dict(keys)


def share(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)}%"


def days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def expected_figures(api: dict[str, Any]) -> dict[str, str]:
    """What the dashboard must show, derived from the API's answer alone."""
    out: dict[str, str] = {}
    backlog: dict[tuple[str, str], int] = {}
    for row in api["byForce"]:
        key = f"{row['force']}/{row['riskLevel']}"
        within = row["open"] - row["pastTarget"] - row["dueWithin48Hours"]
        out[f"{key}/open"] = str(row["open"])
        out[f"{key}/pastTarget"] = str(row["pastTarget"])
        out[f"{key}/dueWithin48Hours"] = str(row["dueWithin48Hours"])
        out[f"{key}/withinTarget"] = str(within)
        out[f"{key}/enforcedWithinTargetShare"] = share(row["enforcedWithinTargetShare"])
        out[f"{key}/medianDaysToEnforcement"] = days(row["medianDaysToEnforcement"])
        for band in row["backlogByAge"]:
            slot = (row["force"], band["band"])
            backlog[slot] = backlog.get(slot, 0) + band["count"]
    for (force, band), count in backlog.items():
        out[f"{force}/backlog/{band}"] = str(count)
    for row in api["imageViewsAvoided"]:
        out[f"{row['force']}/imageViewsAvoided"] = str(row["count"])
    for row in api["forces"]:
        force = row["force"]
        for name in ("newCases28Days", "enforcements28Days", "inactive30Days"):
            out[f"{force}/{name}"] = str(row[name])
        for month in row["monthlyReferrals"]:
            count = month["count"]
            out[f"{force}/referrals/{month['month']}"] = (
                str(int(count)) if count == int(count) else str(count)
            )
    return out


async def test_coordinator_dashboard_shows_the_apis_figures(
    seeded: Hub, page_and_console: tuple[Page, Console]
) -> None:
    page, console = page_and_console
    sent: list[dict[str, Any]] = []
    page.on(
        "request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/graphql") else None
    )
    await sign_in(page, seeded, "coordinator")
    await expect(page.get_by_role("heading", name="Regional oversight")).to_be_visible()
    await expect(page.get_by_test_id("signed-in-as")).to_have_text("Signed in as coordinator")
    body = sent[0]
    assert body["extensions"]["persistedQuery"] == {
        "version": 1,
        "sha256Hash": sha256(document("Oversight")),
    }
    assert all("query" not in sent_body for sent_body in sent)
    # The hub runs nothing else: a document sent as text is refused.
    refused = await graphql(seeded, "coordinator", document("Oversight"))
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
    shown = await figures(page)
    api = await oversight(seeded)
    expected = expected_figures(api)
    # Trend text is a rounding of the API's float; every other figure must match exactly. The
    # period's figures load on their own: their test is below.
    assert {
        k: v
        for k, v in shown.items()
        if not k.endswith("/trendPerMonth") and not k.startswith("timeToEnforcement/")
    } == expected
    assert sum(r["pastTarget"] for r in api["byForce"]) > 0, "the seed must put cases past target"
    assert sum(r["dueWithin48Hours"] for r in api["byForce"]) > 0
    assert sum(r["count"] for r in api["imageViewsAvoided"]) > 0
    assert api["regradeAlertCount"] > 0
    alerts = page.get_by_role("heading", name=f"Regrade alerts ({api['regradeAlertCount']})")
    await expect(alerts).to_be_visible()
    rows = page.get_by_test_id("regrade-table").locator("tbody tr")
    await expect(rows).to_have_count(min(20, api["regradeAlertCount"]))
    # Key figures first, each the API's own.
    key = page.get_by_role("region", name="Key figures")
    open_cases = sum(r["open"] for r in api["byForce"])
    await expect(key.locator("[data-key=open]")).to_have_text(str(open_cases))
    past = sum(r["pastTarget"] for r in api["byForce"])
    await expect(key.locator("[data-key=pastTarget]")).to_have_text(str(past))
    await expect(key.locator("[data-key=awaitingEnforcement]")).to_have_text(
        str(api["oldest"]["totalCount"])
    )
    assert await page.evaluate("document.images.length") == 0
    await expect(page.get_by_test_id("time-to-enforcement")).to_be_visible()
    await screenshot(page, "dashboard", full_page=True)
    # A past-target count opens the cases behind it.
    row = next(r for r in api["byForce"] if r["pastTarget"] > 0)
    behind = f"Show the {row['pastTarget']} {row['force']} "
    await page.get_by_role("button", name=behind).first.click()
    drill = page.get_by_test_id("drill-table").locator("tbody tr")
    await expect(drill).to_have_count(min(25, row["pastTarget"]))
    # Activity over another period; the history chart's section is there.
    await page.get_by_label("Period", exact=True).select_option("90")
    await expect(page.get_by_test_id("period-table")).to_be_visible()
    heading = "Past target over the last 90 days"
    await expect(page.get_by_role("heading", name=heading)).to_be_visible()
    # The scrutiny board's report, downloaded from the page.
    await page.get_by_label("Report on").select_option("AS")
    await page.get_by_label("As", exact=True).select_option("csv")
    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="Download report").click()
    download = await download_info.value
    assert download.suggested_filename.startswith("crossforce-report-AS-")
    report = await asyncio.to_thread(Path(await download.path()).read_text)
    assert report.startswith("section,") and "\noverdue," in report
    await page.get_by_label("Force", exact=True).select_option("GL")
    await expect(page).to_have_url(f"{seeded.url}/#/dashboard/GL")
    await expect(page.locator("[data-figure^='AS/']")).to_have_count(0)
    await expect(page.locator("[data-figure^='GL/']").first).to_be_visible()
    assert console.errors == []


async def test_time_to_enforcement_bars_open_their_cases_and_the_projection_has_its_band(
    seeded: Hub, page_and_console: tuple[Page, Console]
) -> None:
    page, console = page_and_console
    asked: list[dict[str, Any]] = []

    def seen(request: Any) -> None:
        body = request.post_data_json if request.url.endswith("/graphql") else None
        if body and body.get("operationName") == "OversightActivity":
            asked.append(body["variables"])

    page.on("request", seen)
    await sign_in(page, seeded, "coordinator")
    chart = page.get_by_test_id("time-to-enforcement")
    await expect(chart).to_be_visible()  # the first period's (28 days) is in
    async with page.expect_response(
        lambda r: (
            r.url.endswith("/graphql")
            and len(asked) > 1
            and r.request.post_data_json
            and r.request.post_data_json.get("operationName") == "OversightActivity"
        )
    ) as response:
        await page.get_by_label("Period", exact=True).select_option("90")
    await response.value
    # The bars are the API's counts for the period the page asked, summed over the forces.
    period = asked[-1]
    answer = await persisted(seeded, "coordinator", "OversightActivity", period)
    totals: dict[str, int] = {}
    for row in answer["oversight"]["activity"]:
        for band in row["timeToEnforcement"]:
            totals[band["band"]] = totals.get(band["band"], 0) + band["count"]
    assert sum(1 for count in totals.values() if count) >= 2, "the seed must fill two bands"
    total = chart.locator("[data-figure='timeToEnforcement/total']")
    await expect(total).to_have_text(str(sum(totals.values())))
    shown = {
        key.removeprefix("timeToEnforcement/"): text
        for key, text in (await figures(page)).items()
        if key.startswith("timeToEnforcement/")
    }
    assert shown == {**{b: str(n) for b, n in totals.items()}, "total": str(sum(totals.values()))}
    bars = chart.locator("svg [role=button]")
    await expect(bars).to_have_count(sum(1 for count in totals.values() if count))
    # The tallest bar, opened from the keyboard, lists the cases behind it.
    band = max(totals, key=lambda b: totals[b])
    bar = chart.locator(f"svg [role=button][data-band='{band}']")
    await bar.focus()
    await page.keyboard.press("Enter")
    heading = f"Cases first enforced in the period after {band} days ({totals[band]})"
    await expect(page.get_by_role("heading", name=heading)).to_be_visible()
    behind = await persisted(seeded, "coordinator", "OversightEnforced", {**period, "band": band})
    refs = [e["node"]["caseRef"] for e in behind["oversight"]["enforced"]["edges"]]
    rows = page.get_by_test_id("drill-table").locator("tbody tr th")
    await expect(rows).to_have_text(refs)
    assert len(refs) == min(25, totals[band])
    await chart.scroll_into_view_if_needed()
    await screenshot(page, "dashboard-time-to-enforcement")
    # Each force's referral chart shades its projection's band, labelled.
    api = await oversight(seeded)
    banded = [row for row in api["forces"] if row["projectionBand"]]
    assert banded, "the seed must give a force a projection"
    await expect(page.locator("svg polygon.band")).to_have_count(len(banded))
    await expect(page.locator("svg text.band-label").first).to_have_text("80% band")
    last = banded[0]["projectionBand"][-1]
    label = f"between {last['low']:.1f} and {last['high']:.1f} by {last['month']}"
    figure = page.get_by_role("img", name=f"{banded[0]['force']} referrals per month")
    await expect(figure).to_have_attribute("aria-label", re.compile(re.escape(label)))
    assert console.errors == []


async def test_coordinator_sees_case_metadata_without_personal_data(
    seeded: Hub, page_and_console: tuple[Page, Console]
) -> None:
    page, console = page_and_console
    await sign_in(page, seeded, "coordinator")
    await expect(page.get_by_role("heading", name="Regional oversight")).to_be_visible()
    await page.goto(f"{seeded.url}/#/case/AS/{AS_CASE['caseRef']}")
    await expect(
        page.get_by_role("heading", name=f"Case AS / {AS_CASE['caseRef']}")
    ).to_be_visible()
    await expect(page.get_by_text("high", exact=True)).to_be_visible()
    text = await page.locator("main").inner_text()
    assert AS_CASE["suspects"][0]["familyName"] not in text
    assert AS_CASE["officer"]["name"] not in text
    assert await page.get_by_role("button", name="Reveal").count() == 0
    assert console.errors == []


async def test_analyst_works_the_queue_and_opens_a_case_with_the_keyboard(
    seeded: Hub, page_and_console: tuple[Page, Console]
) -> None:
    page, console = page_and_console
    await sign_in(page, seeded, "analyst-AS")
    await expect(page.get_by_role("heading", name="Priority queue")).to_be_visible()
    queue = page.get_by_test_id("priority-queue")
    await expect(queue).to_be_visible()
    await expect(queue.get_by_text("suspect has access to children").first).to_be_visible()
    await screenshot(page, "priority-queue")
    link = queue.get_by_role("link", name=AS_CASE["caseRef"])
    await link.focus()
    await page.keyboard.press("Enter")
    await expect(
        page.get_by_role("heading", name=f"Case AS / {AS_CASE['caseRef']}")
    ).to_be_visible()
    links = page.get_by_test_id("links-table")
    gl_row = links.get_by_role("row").filter(has_text="person")
    await expect(gl_row).to_contain_text(GL_CASE["caseRef"])
    await expect(gl_row).to_contain_text(GL_CASE["officer"]["name"])
    # Of its two images, the one Gloucestershire holds too was graded there as well.
    await expect(page.get_by_test_id("image-review")).to_contain_text("2 images; 1 already graded")
    await screenshot(page, "case", full_page=True)
    await links.get_by_role("link", name=GL_CASE["caseRef"]).first.click()
    await expect(
        page.get_by_role("heading", name=f"Case GL / {GL_CASE['caseRef']}")
    ).to_be_visible()
    family = page.locator("[data-field='/suspects/0/familyName']")
    await expect(family).to_have_attribute("data-state", "EXISTENCE")
    assert console.errors == []


async def audit_entries(hub: Hub, action: str, target: str) -> list[dict[str, Any]]:
    return await hub.store.read(
        "MATCH (a:AuditEntry) WHERE a.action = $action AND a.target = $target "
        "RETURN a.purpose AS purpose, a.outcome AS outcome ORDER BY a.seq",
        {"action": action, "target": target},
    )


async def open_own_case(page: Page, hub: Hub) -> None:
    await sign_in(page, hub, "analyst-AS")
    await expect(page.get_by_role("heading", name="Priority queue")).to_be_visible()
    await page.goto(f"{hub.url}/#/case/AS/{AS_CASE['caseRef']}")
    await expect(
        page.get_by_role("heading", name=f"Case AS / {AS_CASE['caseRef']}")
    ).to_be_visible()


async def test_a_reveal_with_a_purpose_shows_the_value_and_is_audited(
    seeded: Hub, page_and_console: tuple[Page, Console]
) -> None:
    page, console = page_and_console
    await open_own_case(page, seeded)
    family = page.locator("[data-field='/suspects/0/familyName']")
    await expect(family).to_have_attribute("data-state", "MASKED")
    secret = AS_CASE["suspects"][0]["familyName"]
    assert secret not in await page.locator("main").inner_text()
    await family.get_by_role("button", name="Reveal family name").click()
    dialog = page.get_by_role("dialog", name="Reveal family name")
    await expect(dialog).to_be_visible()
    assert await page.evaluate("document.activeElement.id") == "purpose"
    await page.keyboard.type("arrest planning for tomorrow")
    await screenshot(page, "reveal")
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    await expect(family.locator("[data-revealed]")).to_have_text(secret)
    target = f"case:AS/{AS_CASE['caseRef']}#/suspects/0/familyName"
    entries = await audit_entries(seeded, "reveal", target)
    assert [e["purpose"] for e in entries][-1:] == ["arrest planning for tomorrow"]
    assert console.errors == []


async def test_a_reveal_without_a_purpose_is_refused(
    seeded: Hub, page_and_console: tuple[Page, Console]
) -> None:
    page, console = page_and_console
    await open_own_case(page, seeded)
    target = f"case:AS/{AS_CASE['caseRef']}#/devices/0/imei"
    denied_before = len(await audit_entries(seeded, "access.denied", target))
    requests: list[str] = []
    page.on(
        "request", lambda r: requests.append(r.post_data or "") if "/graphql" in r.url else None
    )
    imei = page.locator("[data-field='/devices/0/imei']")
    await imei.get_by_role("button", name="Reveal IMEI").click()
    dialog = page.get_by_role("dialog", name="Reveal IMEI")
    await dialog.get_by_role("button", name="Reveal").click()
    await expect(dialog.get_by_role("alert")).to_contain_text("State a purpose")
    assert not [r for r in requests if "Reveal" in r], "an empty purpose must not be sent"
    # A purpose of one word reaches the hub, which refuses it and logs the refusal.
    await dialog.get_by_label("Purpose").fill("why")
    await dialog.get_by_role("button", name="Reveal").click()
    await expect(dialog.get_by_role("alert")).to_contain_text("Refused: state a purpose")
    await screenshot(page, "reveal-refused")
    await expect(imei).to_have_attribute("data-state", "MASKED")
    assert AS_CASE["devices"][0]["imei"] not in await page.content()
    denied = await audit_entries(seeded, "access.denied", target)
    assert len(denied) == denied_before + 1
    assert denied[-1]["purpose"] == "why"
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    assert console.errors == []


async def test_a_wrong_secret_is_refused_and_nothing_is_stored(
    seeded: Hub, page_and_console: tuple[Page, Console]
) -> None:
    page, console = page_and_console
    await sign_in(page, seeded, "analyst-AS", secret="not-the-secret")
    await expect(page.get_by_role("alert")).to_contain_text("wrong secret")
    await sign_in(page, seeded, "analyst-AS")
    await expect(page.get_by_role("heading", name="Priority queue")).to_be_visible()
    stored = await page.evaluate("[localStorage.length, sessionStorage.length, document.cookie]")
    assert stored == [0, 0, ""]
    await page.reload()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    # the browser's own console logs the refused token request (401) as a resource error
    assert all("401" in e for e in console.errors)


# The drawing's Cytoscape instance, as Cytoscape registers it on its container.
_CY = "document.querySelector('.cy')._cyreg.cy"
VISIBLE_IN_DRAWING = f"{_CY}.nodes(':visible').length"
OVERLAPS = f"""(() => {{
  const boxes = {_CY}.nodes(':visible')
    .map((n) => [n.id(), n.boundingBox({{includeLabels: true}})]);
  const out = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {{
    const [a, p] = boxes[i], [b, q] = boxes[j];
    if (p.x1 < q.x2 && q.x1 < p.x2 && p.y1 < q.y2 && q.y1 < p.y2) out.push([a, b]);
  }}
  return out;
}})()"""


async def test_analyst_expands_the_network_and_finds_a_path(
    seeded: Hub, page_and_console: tuple[Page, Console]
) -> None:
    page, console = page_and_console
    await open_own_case(page, seeded)
    await page.get_by_role("link", name="Explore its network").click()
    heading = f"Network of case AS / {AS_CASE['caseRef']}"
    await expect(page.get_by_role("heading", name=heading)).to_be_visible()
    nodes = page.get_by_test_id("graph-nodes").locator("tbody tr")
    await expect(nodes.first).to_be_visible()
    before = await nodes.count()
    assert await page.locator(".cy canvas").count() > 0
    # The other force's case is not yet drawn; expanding the shared phone reaches it.
    await expect(nodes.filter(has_text=GL_CASE["caseRef"])).to_have_count(0)
    device = nodes.filter(has_text="device").first
    await device.get_by_role("button", name="Expand").click()
    await expect(nodes.filter(has_text=GL_CASE["caseRef"])).to_have_count(1)
    assert await nodes.count() > before
    await expect(device.get_by_role("button", name="Expand")).to_be_disabled()
    await page.evaluate("window.scrollTo(0, 0)")
    await screenshot(page, "graph", full_page=True)
    gl = nodes.filter(has_text=GL_CASE["caseRef"])
    gl_id = await gl.get_attribute("data-node")
    start_id = await nodes.filter(has_text=AS_CASE["caseRef"]).get_attribute("data-node")
    await page.get_by_label("From").select_option(str(start_id))
    await page.get_by_label("To").select_option(str(gl_id))
    await page.get_by_role("button", name="Find path").click()
    result = page.get_by_test_id("path-result")
    await expect(result.locator("li")).to_have_count(3)
    await expect(result.locator("li").last).to_contain_text(GL_CASE["caseRef"])
    await expect(nodes.and_(page.locator("[data-on-path]"))).to_have_count(3)
    # No two nodes, labels included, overlap in the drawing.
    assert await page.evaluate(OVERLAPS) == []
    # Filters take a kind out of the drawing and the list alike; a layout can be chosen.
    drawn = await page.evaluate(VISIBLE_IN_DRAWING)
    await page.get_by_role("group", name="Kinds").get_by_label("Device").uncheck()
    await expect(nodes.filter(has_text="device")).to_have_count(0)
    assert await page.evaluate(VISIBLE_IN_DRAWING) < drawn
    await page.get_by_role("group", name="Kinds").get_by_label("Device").check()
    await expect(nodes.filter(has_text="device").first).to_be_visible()
    await page.get_by_label("Layout").select_option("concentric")
    assert await page.evaluate(VISIBLE_IN_DRAWING) == drawn
    assert await page.evaluate(OVERLAPS) == []
    assert console.errors == []


async def test_analyst_records_an_identification_and_a_safeguarding_referral(
    seeded: Hub, page_and_console: tuple[Page, Console]
) -> None:
    page, console = page_and_console
    await sign_in(page, seeded, "analyst-AS")
    await expect(page.get_by_role("heading", name="Priority queue")).to_be_visible()
    await page.get_by_role("link", name="Victim identification").click()
    await expect(page.get_by_role("heading", name="Victim identification")).to_be_visible()
    group = page.locator("[data-group]").filter(has_text="AS, GL")
    await expect(group).to_have_count(1)
    await expect(group.get_by_role("heading", level=2)).to_contain_text("2 unidentified")
    assert await page.evaluate("document.images.length") == 0
    own = group.locator(f"[data-victim='AS {AS_CASE['caseRef']} victim V1']")
    await own.get_by_role("button", name="Record identification").click()
    await expect(group.get_by_role("status")).to_contain_text("Identification recorded")
    recorded = group.get_by_role("listitem").filter(has_text="AS recorded an identification")
    await expect(recorded).to_be_visible()
    own = group.locator(f"[data-victim='AS {AS_CASE['caseRef']} victim V1']")
    await own.get_by_text("Safeguarding referral").click()
    await own.get_by_label("Referred to").select_option("NSPCC")
    await own.get_by_label("Outcome").select_option("ACCEPTED")
    await own.get_by_role("button", name="Record referral").click()
    await expect(group.get_by_role("status")).to_contain_text("Safeguarding referral recorded")
    await expect(group.get_by_text("AS referred to NSPCC — accepted").first).to_be_visible()
    # The referral's outcome is updated later by the force that made it.
    outcomes = group.get_by_role("listitem").filter(has_text="referred to NSPCC")
    await outcomes.first.get_by_label("New outcome").select_option("CHILD_SAFEGUARDED")
    await outcomes.first.get_by_role("button", name="Update outcome").click()
    await expect(group.get_by_role("status")).to_contain_text("Referral outcome updated")
    updated = group.get_by_text("updated the referral to NSPCC: child safeguarded")
    await expect(updated).to_be_visible()
    # Claimed, then handed to a named officer of another force with a note.
    await group.get_by_role("button", name="Claim").click()
    await expect(group.get_by_role("status")).to_contain_text("Claimed")
    await group.locator("summary", has_text="Hand over").click()
    await group.get_by_label("Hand to").select_option("GL")
    await group.get_by_label("Officer (optional)").fill("dc-0077")
    await group.get_by_label("Note (sealed; shown as the agreement allows)").fill("Call first.")
    await group.get_by_role("button", name="Hand over").click()
    await expect(group.get_by_role("status")).to_contain_text("Handed to GL")
    await expect(group.get_by_text("handed the group to dc-0077 of GL")).to_be_visible()
    await expect(group.locator("blockquote.note")).to_have_text("Call first.")
    await expect(group).to_contain_text("Being worked by GL (dc-0077)")
    await screenshot(page, "victims", full_page=True)
    api = await persisted(seeded, "analyst-AS", "VictimGroups", {"first": 50})
    [actions] = [
        e["node"]["actions"]
        for e in api["victimGroups"]["edges"]
        if e["node"]["forces"] == ["AS", "GL"]
    ]
    kinds = sorted((a["kind"], a["outcome"]) for a in actions)
    assert kinds == [("IDENTIFIED", None), ("SAFEGUARDING_REFERRAL", "CHILD_SAFEGUARDED")]
    assert console.errors == []


async def test_analyst_searches_an_identifier_across_forces(
    seeded: Hub, page_and_console: tuple[Page, Console]
) -> None:
    page, console = page_and_console
    await sign_in(page, seeded, "analyst-AS")
    await page.get_by_role("link", name="Search").click()
    await expect(page.get_by_role("heading", name="Identifier search")).to_be_visible()
    await page.get_by_label("Kind of identifier").select_option("PHONE")
    await page.get_by_label("Value, as written in the referral").fill("+44 (0)7700-900123")
    await page.get_by_label("Purpose (audited)").fill("new NCA referral deconfliction")
    await page.get_by_role("button", name="Search").click()
    rows = page.get_by_test_id("search-results").locator("tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.filter(has_text="AS")).to_contain_text(AS_CASE["caseRef"])
    await expect(rows.filter(has_text="GL")).to_contain_text(GL_CASE["caseRef"])
    await screenshot(page, "search", full_page=True)
    await page.get_by_label("Value, as written in the referral").fill("not a phone")
    await page.get_by_role("button", name="Search").click()
    refused = "Refused: identifier: not a valid PHONE"
    await expect(page.get_by_role("status")).to_contain_text(refused)
    assert console.errors == []
