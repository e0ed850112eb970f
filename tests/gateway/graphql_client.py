"""Calling the hub's GraphQL endpoint as a client would, and building case summaries for it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from graph.queries import after_sync
from policies.devidp import Officer
from tests.federation.conftest import Hub

GRAPHQL_RESPONSE = "application/graphql-response+json"


async def graphql(
    hub: Hub,
    client_id: str | None,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    accept: str = GRAPHQL_RESPONSE,
    officer: Officer | None = None,
) -> httpx.Response:
    headers = {"Accept": accept}
    if client_id is not None:
        headers["Authorization"] = f"Bearer {hub.token(client_id, officer=officer)}"
    body: dict[str, Any] = {"query": query}
    if variables:
        body["variables"] = variables
    return await hub.http.post("/graphql", json=body, headers=headers)


async def data(
    hub: Hub,
    client_id: str,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    officer: Officer | None = None,
) -> dict[str, Any]:
    response = await graphql(hub, client_id, query, variables, officer=officer)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert "errors" not in payload, payload["errors"]
    result: dict[str, Any] = payload["data"]
    return result


def iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def summary(
    force: str,
    number: int,
    *,
    level: str = "MEDIUM",
    status: str = "NEW",
    received_days_ago: float = 3.0,
    enforced_after_days: float | None = None,
    source: str = "NCA",
    now: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A valid case summary received a whole number of days (plus half a day) ago."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    received = now - timedelta(days=received_days_ago)
    record: dict[str, Any] = {
        "schema": "crossforce/case-summary/v1",
        "force": force,
        "caseRef": f"{force}-T-{number:04d}",
        "version": 1,
        "referral": {"source": source, "receivedAt": iso(received)},
        "risk": {"level": level, "assessedAt": iso(received + timedelta(hours=1))},
        "status": status,
        "openedAt": iso(received + timedelta(hours=1)),
    }
    if enforced_after_days is not None:
        record["enforcementAt"] = iso(received + timedelta(days=enforced_after_days))
    record.update(extra)
    return record


async def sync_all(hub: Hub, records: list[dict[str, Any]]) -> None:
    by_force: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_force.setdefault(record["force"], []).append(record)
    for force, batch in by_force.items():
        response = await hub.sync(f"force-{force}", batch)
        assert response.status_code == 200, response.text
        statuses = [r["status"] for r in response.json()["results"]]
        assert statuses == ["applied"] * len(batch), response.json()
    await after_sync_done(hub)


async def after_sync_done(hub: Hub) -> None:
    """Wait until the hub's after-sync step has run for every case (link counts and alerts)."""
    for _ in range(600):
        if not (await hub.store.read(after_sync.PENDING_COUNT))[0]["n"]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the after-sync step did not run within 30 s")
