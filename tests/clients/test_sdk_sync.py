"""`CrossforceClient.sync` against a real HTTP server: batching, the wire format, the report."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from crossforce_sdk import InvalidRecord, SyncProgress, encode_record

from tests.clients.builders import case, client_for
from tests.clients.fake_hub import FakeHub


async def test_records_go_out_as_gzip_ndjson_with_a_bearer_token(
    hub: FakeHub, hub_url: str
) -> None:
    records = [case(1), case(2, summary="Chat logs show contact with a child — ünïcode.")]
    async with client_for(hub_url) as client:
        report = await client.sync(records)

    assert (report.applied, report.stale, report.rejected) == (2, 0, 0)
    [call] = hub.cases_calls
    assert call.content_type == "application/x-ndjson"
    assert call.content_encoding == "gzip"  # the fake gunzipped the body, so it was gzip
    lines = call.body.split(b"\n")
    assert lines[-1] == b""  # every record, the last included, ends with a newline
    assert [json.loads(line) for line in lines[:-1]] == records
    assert call.token in hub.tokens
    assert call.token is not None and call.token.count(".") == 2  # a JWT-shaped bearer token
    [token_call] = hub.token_calls
    assert (token_call.client_id, token_call.grant_type) == ("force-AS", "client_credentials")


async def test_batches_are_bounded_by_record_count(hub: FakeHub, hub_url: str) -> None:
    async with client_for(hub_url, batch_size=3) as client:
        report = await client.sync(case(n) for n in range(7))

    assert hub.batch_sizes() == [3, 3, 1]
    assert report.applied == 7
    assert report.requests == 3
    assert [r["caseRef"] for r in hub.records_received] == [case(n)["caseRef"] for n in range(7)]


async def test_batches_are_bounded_by_encoded_bytes(hub: FakeHub, hub_url: str) -> None:
    records = [case(n, summary="x" * (100 + 37 * n)) for n in range(12)]
    limit = 1500
    async with client_for(hub_url, max_batch_bytes=limit) as client:
        report = await client.sync(records)

    assert report.applied == 12
    assert len(hub.cases_calls) > 2
    assert all(len(call.body) <= limit for call in hub.cases_calls)
    # Greedy: a batch was closed only because the next record would have overrun the limit.
    for current, following in zip(hub.cases_calls, hub.cases_calls[1:], strict=False):
        assert len(current.body) + len(encode_record(following.records[0])) > limit
    assert hub.records_received == records


async def test_report_holds_input_indexes_across_batches(hub: FakeHub, hub_url: str) -> None:
    records = [case(n, level="SEVERE" if n in (4, 6) else "HIGH") for n in range(7)]
    async with client_for(hub_url, batch_size=3) as client:
        report = await client.sync(records)

    assert (report.applied, report.stale, report.rejected) == (5, 0, 2)
    assert [rejection.index for rejection in report.rejections] == [4, 6]
    assert [rejection.case_ref for rejection in report.rejections] == [
        "AS-2026-0004",
        "AS-2026-0006",
    ]
    assert report.rejections[0].errors[0].path == "/risk/level"
    assert [call.status for call in hub.cases_calls] == [200, 200, 422]  # last: all rejected
    assert not report.ok


async def test_resending_the_same_records_is_safe_and_reported_stale(
    hub: FakeHub, hub_url: str
) -> None:
    records = [case(n) for n in range(4)]
    async with client_for(hub_url) as client:
        first = await client.sync(records)
        second = await client.sync(records)

    assert (first.applied, first.stale) == (4, 0)
    assert (second.applied, second.stale, second.rejected) == (0, 4, 0)
    assert second.ok


async def test_records_may_come_from_an_async_iterable(hub: FakeHub, hub_url: str) -> None:
    async def produce() -> AsyncIterator[dict[str, Any]]:
        for n in range(5):
            yield case(n)

    async with client_for(hub_url, batch_size=2) as client:
        report = await client.sync(produce())

    assert report.applied == 5
    assert hub.batch_sizes() == [2, 2, 1]


async def test_unreadable_items_are_rejected_in_place_and_never_sent(
    hub: FakeHub, hub_url: str
) -> None:
    records: list[Any] = [
        case(0),
        InvalidRecord("line is not valid JSON"),
        case(2),
        {**case(3), "openedAt": datetime(2026, 10, 2, tzinfo=UTC)},  # not JSON-serialisable
        ["not", "an", "object"],
        case(5),
    ]
    async with client_for(hub_url, batch_size=2) as client:
        report = await client.sync(records)

    assert [r["caseRef"] for r in hub.records_received] == [
        "AS-2026-0000",
        "AS-2026-0002",
        "AS-2026-0005",
    ]
    assert [rejection.index for rejection in report.rejections] == [1, 3, 4]
    assert report.rejections[0].errors[0].message == "line is not valid JSON"
    assert report.rejections[1].case_ref == "AS-2026-0003"
    assert "serialisable" in report.rejections[1].errors[0].message
    assert "2026-10-02" not in report.rejections[1].errors[0].message  # no record content
    assert (report.applied, report.rejected) == (3, 3)


async def test_a_batch_the_hub_finds_too_large_is_split_in_half(hub: FakeHub, hub_url: str) -> None:
    records = [case(n, summary="y" * 300) for n in range(8)]
    hub.max_body_bytes = int(len(encode_record(records[0])) * 2.5)
    async with client_for(hub_url) as client:
        report = await client.sync(records)

    assert hub.batch_sizes() == [8, 4, 2, 2, 4, 2, 2]
    assert [call.status for call in hub.cases_calls] == [413, 413, 200, 200, 413, 200, 200]
    assert (report.applied, report.rejected) == (8, 0)
    applied = [call.records for call in hub.cases_calls if call.status == 200]
    assert [record for part in applied for record in part] == records  # in input order


async def test_a_single_record_too_large_is_rejected_and_the_others_applied(
    hub: FakeHub, hub_url: str
) -> None:
    records = [case(0), case(1, summary="z" * 5000), case(2)]
    hub.max_body_bytes = 2000
    async with client_for(hub_url) as client:
        report = await client.sync(records)

    assert (report.applied, report.rejected) == (2, 1)
    [rejection] = report.rejections
    assert (rejection.index, rejection.case_ref) == (1, "AS-2026-0001")
    assert "413" in rejection.errors[0].message
    assert "zzz" not in rejection.errors[0].message
    assert set(hub.versions) == {("AS", "AS-2026-0000"), ("AS", "AS-2026-0002")}


async def test_progress_is_reported_after_every_batch(hub: FakeHub, hub_url: str) -> None:
    seen: list[SyncProgress] = []
    async with client_for(hub_url, batch_size=4) as client:
        report = await client.sync((case(n) for n in range(10)), on_progress=seen.append)

    assert [progress.processed for progress in seen] == [4, 8, 10]
    assert seen[-1].applied == 10
    assert report.elapsed > 0
    assert report.records_per_second == report.processed / report.elapsed
