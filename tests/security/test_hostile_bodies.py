"""Hostile bodies on the sync route get a quick 4xx that says what is wrong, never a 500."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from urllib.parse import urlsplit

import pytest

from tests.federation.conftest import Hub
from tests.gateway.graphql_client import summary

pytestmark = pytest.mark.security


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


BODIES = {
    "deeply nested array": (nested(100_000), "identity"),
    "deeply nested record": (b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"\n", "identity"),
    "not UTF-8": (b'[{"force": "\xff\xfe\xfa"}]', "identity"),
    "truncated gzip": (gzip.compress(b"[" + b"{}," * 10_000 + b"{}]")[:-40], "gzip"),
    "not gzip at all": (b"plain text, claimed to be gzip", "gzip"),
    "a number of 400 digits": (b'[{"version": 1' + b"0" * 400 + b"}]", "identity"),
    "binary noise": (bytes(range(256)) * 64, "identity"),
}


@pytest.mark.parametrize("name", list(BODIES))
async def test_hostile_bodies_get_a_quick_clear_4xx(hub: Hub, name: str) -> None:
    content, encoding = BODIES[name]
    headers = {"Authorization": f"Bearer {hub.token('force-AS')}", "Content-Encoding": encoding}
    started = time.monotonic()
    response = await hub.http.post("/federation/v1/cases", content=content, headers=headers)
    assert 400 <= response.status_code < 500, (name, response.status_code, response.text[:300])
    assert time.monotonic() - started < 10
    message = json.dumps(response.json())
    assert "Traceback" not in message and len(message) < 2000


async def test_a_body_over_the_limit_is_413_before_it_is_read(hub: Hub) -> None:
    """A declared length over the limit is refused at once, before the body arrives (sent by
    hand: HTTP clients will not declare a length they do not send)."""
    url = urlsplit(hub.url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    head = (
        f"POST /federation/v1/cases HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Authorization: Bearer {hub.token('force-AS')}\r\n"
        f"Content-Length: {hub.settings.max_body_bytes + 1}\r\n\r\n["
    )
    writer.write(head.encode())
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    assert status.split()[1] == b"413"


async def test_a_one_megabyte_string_field_is_rejected_with_its_path(hub: Hub) -> None:
    record = summary("AS", 1, summary="x" * 1_000_000)
    response = await hub.sync("force-AS", [record])
    result = response.json()["results"][0]
    assert result["status"] == "rejected"
    assert [e["path"] for e in result["errors"]] == ["/summary"]
