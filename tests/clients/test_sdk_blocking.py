"""The synchronous client: the same calls without an event loop of the caller's."""

from __future__ import annotations

import pytest
from crossforce_sdk import AuthError, BlockingCrossforceClient

from tests.clients.builders import case, fast_retries
from tests.clients.fake_hub import Failure, FakeHub


def blocking_client(url: str, **options: object) -> BlockingCrossforceClient:
    return BlockingCrossforceClient(url, "force-AS", "secret-AS", retry=fast_retries(), **options)


def test_a_blocking_client_syncs_and_reads_the_feed(hub: FakeHub, hub_url: str) -> None:
    hub.change_feed = [{"kind": "LINK", "caseRef": "AS-2026-0001"}] * 3
    hub.failures = [Failure(503, {"Retry-After": "0"})]
    with blocking_client(hub_url, batch_size=2) as client:
        report = client.sync(case(n) for n in range(5))
        pages = list(client.change_pages())

    assert (report.applied, report.rejected, report.requests) == (5, 0, 3)
    assert [len(page.changes) for page in pages] == [2, 1, 0]
    assert len(hub.token_calls) == 1  # one token for every call


def test_a_blocking_client_raises_the_same_errors(hub: FakeHub, hub_url: str) -> None:
    client = BlockingCrossforceClient(hub_url, "force-AS", "wrong")
    with client, pytest.raises(AuthError) as raised:
        client.sync([case(1)])

    assert "invalid_client" in str(raised.value)
    assert "wrong" not in repr(client)
