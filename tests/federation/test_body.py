"""Request bodies: numbers the graph cannot hold, and truncated arrays, get clear 400 messages
that never quote the body."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from federation.body import Item, Malformed, records

HUGE = "1" + "0" * 400  # 10^400


async def parse(body: bytes) -> list[Item]:
    async def chunks() -> AsyncIterator[bytes]:
        yield body

    return [item async for item in records(chunks(), gzipped=False, limit=1 << 20)]


@pytest.mark.parametrize(
    "body",
    [
        f"[{HUGE}]",
        f'[{{"caseRef": "AS-SECRET-1", "version": {HUGE}}}]',
        '[{"version": 9223372036854775808}]',
        '[{"version": -99999999999999999999}]',
        "[1e400]",
    ],
)
async def test_a_json_array_with_an_out_of_range_number_is_a_clear_400(body: str) -> None:
    with pytest.raises(Malformed) as refused:
        await parse(body.encode())
    assert refused.value.status == 400
    assert "number out of range" in refused.value.message
    assert "64 bits" in refused.value.message
    assert "SECRET" not in refused.value.message and "0000" not in refused.value.message[-40:]


async def test_the_largest_64_bit_integer_and_large_doubles_still_parse() -> None:
    items = await parse(b'[{"version": 9223372036854775807, "x": 1.5e308}]')
    assert items == [(0, {"version": 9223372036854775807, "x": 1.5e308})]


async def test_an_ndjson_line_with_an_out_of_range_number_is_rejected_alone() -> None:
    items = await parse(f'{{"version": {HUGE}}}\n{{"version": 2}}\n'.encode())
    assert items[1] == (1, {"version": 2})
    index, problems = items[0]
    assert index == 0 and isinstance(problems, list)
    assert "number out of range" in problems[0].message


async def test_a_truncated_array_says_so() -> None:
    with pytest.raises(Malformed, match="ends before its JSON array does"):
        await parse(b'[{"caseRef": "AS-1"}, {"caseRef": ')
