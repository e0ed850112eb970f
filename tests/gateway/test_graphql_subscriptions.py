"""Subscriptions over graphql-transport-ws: a force hears of new links and alerts, coordinators
of cases about to pass their target; a socket without a valid token is closed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from tests.federation.conftest import Hub, examples
from tests.gateway.graphql_client import summary, sync_all

PROTOCOL = "graphql-transport-ws"


@asynccontextmanager
async def subscribed(
    hub: Hub, client_id: str | None, query: str
) -> AsyncIterator[ClientConnection]:
    url = hub.url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=[PROTOCOL]) as socket:  # type: ignore[list-item]
        payload = {"Authorization": f"Bearer {hub.token(client_id)}"} if client_id else {}
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert ack["type"] == "connection_ack"
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        yield socket


async def next_data(socket: ClientConnection, timeout: float = 20) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), timeout))
        assert message["type"] != "error", message
        if message["type"] == "next":
            assert "errors" not in message["payload"], message
            data: dict[str, Any] = message["payload"]["data"]
            return data


async def test_a_force_hears_of_a_new_cross_force_link(hub: Hub) -> None:
    as_case, gl_case = examples()
    await sync_all(hub, [as_case])
    query = "subscription { forceEvents { kind caseRef otherForce via contact } }"
    async with subscribed(hub, "analyst-AS", query) as socket:
        await sync_all(hub, [gl_case])
        seen = set()
        while len(seen) < 3:
            event = (await next_data(socket))["forceEvents"]
            if event["kind"] == "LINK":
                assert (event["caseRef"], event["otherForce"]) == ("AS-2026-0042", "GL")
                assert event["contact"]
                seen.add(event["via"])
    assert seen == {"PERSON", "DEVICE", "MEDIA"}


async def test_coordinators_hear_of_cases_about_to_pass_their_target(hub: Hub) -> None:
    await sync_all(hub, [summary("WI", 1, level="HIGH", received_days_ago=6.25),
                         summary("WI", 2, level="HIGH", received_days_ago=2.0)])  # fmt: skip
    query = "subscription { casesDueSoon { force caseRef riskLevel dueAt } }"
    async with subscribed(hub, "coordinator", query) as socket:
        due = (await next_data(socket))["casesDueSoon"]
    assert (due["force"], due["caseRef"], due["riskLevel"]) == ("WI", "WI-T-0001", "HIGH")


async def test_a_socket_without_a_token_is_closed(hub: Hub) -> None:
    url = hub.url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=[PROTOCOL]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_each_operation_on_a_socket_reads_the_graph_afresh(hub: Hub) -> None:
    """A socket open for an hour is not a cache: each operation is a request of its own."""
    await sync_all(hub, [summary("AS", 7, level="MEDIUM")])
    query = '{ case(force: "AS", caseRef: "AS-T-0007") { riskLevel } }'
    async with subscribed(hub, "analyst-AS", query) as socket:
        before = await next_data(socket)
        await sync_all(hub, [summary("AS", 7, level="VERY_HIGH", version=2)])
        await socket.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": query}}))
        after = await next_data(socket)
    assert (before["case"]["riskLevel"], after["case"]["riskLevel"]) == ("MEDIUM", "VERY_HIGH")
