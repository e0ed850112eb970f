"""Streaming request bodies: a JSON array or NDJSON of records, gzip or not, never held whole.

Records come out one at a time with their index; a line of NDJSON that is not JSON becomes a
per-record problem, while a broken JSON array or gzip stream ends the request with a 400.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from typing import Any

import ijson
import orjson
from ijson.common import ObjectBuilder

from federation.validation import Problem

# A case summary nests six levels at most; the array adds one. Anything deeper is not ours.
MAX_DEPTH = 32

GZIP_WBITS = zlib.MAX_WBITS | 16
CHUNK = 64 * 1024


class BodyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Malformed(BodyError):
    def __init__(self, message: str) -> None:
        super().__init__(400, message)


class TooLarge(BodyError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"body larger than {limit} bytes")


async def _limited(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    seen = 0
    async for chunk in chunks:
        seen += len(chunk)
        if seen > limit:
            raise TooLarge(limit)
        if chunk:
            yield chunk


async def _gunzip(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    """Inflate as it arrives, bounded in output too, so a small bomb cannot expand in memory."""
    inflater = zlib.decompressobj(GZIP_WBITS)
    produced = 0
    try:
        async for chunk in chunks:
            data = inflater.decompress(chunk, CHUNK)
            while True:
                produced += len(data)
                if produced > limit:
                    raise TooLarge(limit)
                if data:
                    yield data
                if not inflater.unconsumed_tail:
                    break
                data = inflater.decompress(inflater.unconsumed_tail, CHUNK)
        tail = inflater.flush()
    except zlib.error:
        raise Malformed("body is not valid gzip") from None
    if tail:
        produced += len(tail)
        if produced > limit:
            raise TooLarge(limit)
        yield tail
    if not inflater.eof:
        raise Malformed("gzip body is truncated")


class _Reader:
    """The async file-like object ijson reads a JSON array from."""

    def __init__(self, first: bytes, rest: AsyncIterator[bytes]) -> None:
        self._pending = first
        self._rest = rest

    async def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""  # ijson probes with read(0) to learn bytes from str
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        try:
            return await anext(self._rest)
        except StopAsyncIteration:
            return b""


Item = tuple[int, Any | list[Problem]]

# Numbers the graph cannot hold: integers past 64 bits, decimals past a double.
TOO_LARGE = (
    "holds a number out of range: integers must fit in 64 bits (at most 9223372036854775807) "
    "and other numbers in a double"
)


def _out_of_range(parser_message: str) -> bool:
    return "overflow" in parser_message or "infinity" in parser_message


async def _ndjson(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[Item]:
    buffer = first
    index = 0

    def parse(line: bytes) -> Any:
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError as error:
            # orjson's message says what is wrong and where, not what the text was.
            reason = str(error).split(":", 1)[0]
            if _out_of_range(reason):
                return [Problem("", f"line {TOO_LARGE}")]
            return [Problem("", f"line is not valid JSON ({reason})")]

    async def lines() -> AsyncIterator[bytes]:
        nonlocal buffer
        async for chunk in rest:
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            for line in complete:
                yield line
        for line in buffer.split(b"\n"):
            yield line

    while b"\n" in buffer:
        line, buffer = buffer.split(b"\n", 1)
        if line.strip():
            yield index, parse(line)
            index += 1
    async for line in lines():
        if line.strip():
            yield index, parse(line)
            index += 1


async def _array(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[Item]:
    """The array's items, built from the parser's basic events so nesting is bounded as it
    streams: a body of 100,000 nested arrays is refused at level `MAX_DEPTH` instead of costing
    the parser minutes (its item paths grow with depth, so deep bodies cost quadratic time)."""
    index, depth = 0, 0
    builder: ObjectBuilder | None = None
    try:
        events = ijson.basic_parse_async(_Reader(first, rest), use_float=True)
        async for event, value in events:
            if event in ("start_map", "start_array"):
                depth += 1
                if depth > MAX_DEPTH:
                    raise Malformed(f"body nests deeper than {MAX_DEPTH} levels")
                if depth == 1:
                    continue  # the top-level array itself
            elif event in ("end_map", "end_array"):
                depth -= 1
                if depth == 0:
                    continue
            builder = builder or ObjectBuilder()
            builder.event(event, value)
            if depth == 1:  # an item is complete
                yield index, builder.value
                index, builder = index + 1, None
    except ijson.JSONError as error:
        # The parser's own message quotes the body around the error: classify it, never echo it.
        if _out_of_range(str(error)):
            raise Malformed(f"body {TOO_LARGE}") from None
        if "premature EOF" in str(error):
            raise Malformed("body ends before its JSON array does") from None
        raise Malformed(f"body is not a valid JSON array ({type(error).__name__})") from None
    except UnicodeDecodeError:
        raise Malformed("body is not UTF-8") from None


async def records(
    chunks: AsyncIterator[bytes], *, gzipped: bool, limit: int
) -> AsyncIterator[Item]:
    """(index, record) for each record, or (index, problems) for one that is not JSON."""
    stream = _limited(chunks, limit)
    if gzipped:
        stream = _gunzip(stream, limit)
    first = b""
    async for chunk in stream:
        first += chunk
        if first.strip():
            break
    start = first.lstrip()[:1]
    if not start:
        raise Malformed("empty batch: send at least one case summary")
    if start == b"[":
        items = _array(first, stream)
    elif start == b"{":
        items = _ndjson(first, stream)
    else:
        raise Malformed("body must be a JSON array or NDJSON of case summaries")
    async for item in items:
        yield item
