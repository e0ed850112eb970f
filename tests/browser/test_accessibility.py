"""Every view passes axe-core's WCAG 2.2 A and AA rules (contrast included) in Chromium, and
shows no image: only hashes, grades and counts."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.federation.conftest import Hub, examples
from tests.gateway.graphql_client import sync_all

from .conftest import ROOT, Console, screenshot
from .helpers import region, sign_in

pytestmark = pytest.mark.browser

AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AS_CASE = examples()[0]


@pytest.fixture(scope="module")
async def seeded(ui_hub: Hub) -> Hub:
    await sync_all(ui_hub, region(3))
    return ui_hub


async def violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's findings, injected through the DevTools protocol (the page's CSP allows no
    script but its own, as it should)."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text())
    found: list[dict[str, Any]] = await page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, targets: v.nodes.map(n => n.target.join(" "))
            }));
        }""",
        RULES,
    )
    return found


async def test_sign_in_and_dashboard_pass_axe(
    seeded: Hub, page_and_console: tuple[Page, Console]
) -> None:
    page, console = page_and_console
    await page.goto(seeded.url + "/")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert await violations(page) == []
    await screenshot(page, "sign-in")
    await sign_in(page, seeded, "coordinator")
    await expect(page.get_by_role("heading", name="Regional oversight")).to_be_visible()
    assert await violations(page) == []
    assert await page.evaluate("document.images.length") == 0
    assert console.errors == []


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("#/queue", "Priority queue"),
        (f"#/case/AS/{AS_CASE['caseRef']}", f"Case AS / {AS_CASE['caseRef']}"),
        (f"#/graph/AS/{AS_CASE['caseRef']}", f"Network of case AS / {AS_CASE['caseRef']}"),
        ("#/victims", "Victim identification"),
        ("#/search", "Identifier search"),
    ],
)
async def test_analyst_views_pass_axe(
    seeded: Hub, page_and_console: tuple[Page, Console], path: str, heading: str
) -> None:
    page, console = page_and_console
    await sign_in(page, seeded, "analyst-AS")
    await expect(page.get_by_role("heading", name="Priority queue")).to_be_visible()
    await page.goto(f"{seeded.url}/{path}")
    await expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    assert await violations(page) == []
    assert await page.evaluate("document.images.length") == 0
    assert console.errors == []


async def test_the_reveal_dialog_traps_focus_and_returns_it(
    seeded: Hub, page_and_console: tuple[Page, Console]
) -> None:
    page, _ = page_and_console
    await sign_in(page, seeded, "analyst-AS")
    await expect(page.get_by_role("heading", name="Priority queue")).to_be_visible()
    await page.goto(f"{seeded.url}/#/case/AS/{AS_CASE['caseRef']}")
    opener = page.get_by_role("button", name="Reveal summary")
    await opener.focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Reveal summary")
    await expect(dialog).to_be_visible()
    assert await violations(page) == []
    # A modal dialog makes the page behind it inert: Tab reaches the dialog's controls (and
    # the browser's own UI, shown as the body here), never a control of the page.
    seen = set()
    for _ in range(8):
        await page.keyboard.press("Tab")
        where = await page.evaluate(
            """() => {
                const el = document.activeElement;
                if (!el || el === document.body) return "browser";
                return document.getElementById("reveal-dialog").contains(el) ? el.textContent
                    || el.id : "page:" + el.outerHTML.slice(0, 80);
            }"""
        )
        assert not where.startswith("page:"), where
        seen.add(where)
    assert {"purpose", "Reveal", "Cancel"} <= seen
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(opener).to_be_focused()
