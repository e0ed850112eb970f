"""`python -m crossforce_connector.serve`: the records of a JSON-lines file, and the process's
life (its URL on standard output; stopping on SIGTERM or when its standard input closes)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from crossforce_connector.serve import FileFeed, read_lines

Popen = subprocess.Popen[bytes]


def test_complete_lines_are_records_at_their_line_numbers(tmp_path: Path) -> None:
    feed = tmp_path / "cases.jsonl"
    one = {"force": "WI", "caseRef": "WI-1", "version": 1}
    two = {"force": "WI", "caseRef": "WI-2", "version": 1}
    feed.write_text(json.dumps(one) + "\n\n" + json.dumps(two) + "\n" + '{"force": "W')
    assert list(read_lines(feed)) == [(1, one), (3, two)]  # the half-written line waits

    asked = tmp_path / "asked.jsonl"
    pages = FileFeed(feed, asked)
    first = pages.page(None, 1)
    rest = pages.page(first.end_cursor, 5)
    assert [e.summary for e in [*first.entries, *rest.entries]] == [one, two]
    noted = [json.loads(line) for line in asked.read_text().splitlines()]
    assert noted == [
        {"since": None, "entries": 1, "hasNextPage": True},
        {"since": first.end_cursor, "entries": 1, "hasNextPage": False},
    ]


@pytest.fixture
def started(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Popen, str]]:
    feed = tmp_path / "cases.jsonl"
    feed.write_text("")
    options = getattr(request, "param", [])
    process = subprocess.Popen(
        [sys.executable, "-m", "crossforce_connector.serve", "--feed", str(feed),
         "--issuer", "http://127.0.0.1:9", "--until-stdin-closes", *options],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    url = process.stdout.readline().decode().strip()
    yield process, url
    if process.poll() is None:
        process.kill()
    process.wait(10)
    for pipe in (process.stdin, process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()


def test_it_prints_its_url_and_stops_on_sigterm(started: tuple[Popen, str]) -> None:
    process, url = started
    assert url.startswith("http://127.0.0.1:") and url.endswith("/crossforce/graphql")
    assert httpx.post(url, json={"query": "{ __typename }"}, timeout=10).status_code == 401
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0
    assert process.stderr is not None and process.stderr.read() == b""


def test_it_stops_when_its_parent_goes(started: tuple[Popen, str]) -> None:
    process, _ = started
    assert process.stdin is not None
    process.stdin.close()  # as when the process that started it exits
    assert process.wait(10) == 0


@pytest.mark.parametrize("started", [["--fail-status", "503"]], indirect=True)
def test_a_failing_force_answers_every_request_with_its_status(
    started: tuple[Popen, str],
) -> None:
    _, url = started
    answer = httpx.post(url, json={"query": "{ __typename }"}, timeout=10)
    assert (answer.status_code, answer.headers["retry-after"]) == (503, "0")
