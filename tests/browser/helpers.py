"""Steps a person takes in the UI, and the hub's own answers to compare with what it shows."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect

from bench.ui_queries import document
from tests.federation.conftest import Hub, examples
from tests.gateway.graphql_client import GRAPHQL_RESPONSE, summary

from .conftest import ROOT, client_secret


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def focused_id(page: Page) -> str:
    return str(await page.evaluate("document.activeElement && document.activeElement.id"))


async def sign_in(page: Page, hub: Hub, client_id: str, secret: str | None = None) -> None:
    """Signs in with the keyboard only: Tab to each field, type, Enter."""
    await page.goto(hub.url + "/")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.keyboard.press("Tab")
    assert await focused_id(page) == "client"
    await page.keyboard.type(client_id)
    await page.keyboard.press("Tab")
    assert await focused_id(page) == "secret"
    await page.keyboard.type(secret if secret is not None else client_secret(hub, client_id))
    await page.keyboard.press("Enter")


def region(seed: int) -> list[dict[str, Any]]:
    """Three forces' cases spread over every state a coordinator's chart shows."""
    rng = random.Random(seed)
    levels = {"VERY_HIGH": 7, "HIGH": 7, "MEDIUM": 14, "LOW": 30}
    records = []
    for n in range(45):
        level = rng.choice(list(levels))
        target = levels[level]
        received = rng.choice([1.5, target - 1.5, target + 3.5, 40.5, 75.5, 130.5])
        enforced = rng.choice([None, None, 2.0, target + 5.0])
        status = rng.choice(["NEW", "ALLOCATED", "ENFORCED", "CHARGED", "NEW"])
        if enforced is not None and enforced >= received:
            enforced = None
        records.append(
            summary(
                rng.choice(["AS", "GL", "WI"]),
                n,
                level=level,
                status=status,
                received_days_ago=received,
                enforced_after_days=enforced,
                source=rng.choice(["NCA", "NCMEC", "ROCU"]),
            )
        )
    # A Gloucestershire victim depicted by the image Avon and Somerset's case holds: one group.
    shared = examples()[0]["media"][0]["sha1"]
    records.append(
        summary(
            "GL",
            900,
            level="HIGH",
            victims=[{"ref": "V7", "identified": False, "ageBand": "8-12"}],
            media=[{"sha1": shared, "category": "A", "depicts": ["V7"]}],
        )
    )
    return [*examples(), *records]


async def persisted(
    hub: Hub, client_id: str, name: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The hub's answer to one of the UI's persisted queries, asked by hash as the UI does."""
    body = {
        "variables": variables or {},
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(document(name))}},
    }
    headers = {"Authorization": f"Bearer {hub.token(client_id)}", "Accept": GRAPHQL_RESPONSE}
    response = await hub.http.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert "errors" not in payload, payload["errors"]
    result: dict[str, Any] = payload["data"]
    return result


async def oversight(hub: Hub) -> dict[str, Any]:
    result: dict[str, Any] = (await persisted(hub, "coordinator", "Oversight"))["oversight"]
    return result


def screenshot_dir() -> Path:
    return ROOT / "docs" / "screenshots"
