"""`crossforce sync FILE --client ID`: exit codes, summary, progress, secrets, bad lines."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from gateway.cli import app
from tests.clients.builders import case
from tests.clients.fake_hub import FakeHub

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("CROSSFORCE_CLIENT_SECRET", "CROSSFORCE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CROSSFORCE_DATA_DIR", str(tmp_path / "data"))


def write_lines(path: Path, lines: list[dict[str, Any] | str]) -> Path:
    text = "".join((json.dumps(line) if isinstance(line, dict) else line) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    return path


def run_sync(file: Path, *options: str) -> Result:
    return CliRunner().invoke(app, ["sync", str(file), "--client", "force-AS", *options])


def test_exit_0_when_every_record_is_applied_then_stale(
    hub: FakeHub, hub_url: str, tmp_path: Path
) -> None:
    file = write_lines(tmp_path / "as.jsonl", [case(1), case(2)])

    first = run_sync(file, "--url", hub_url, "--secret", "secret-AS")
    again = run_sync(file, "--url", hub_url, "--secret", "secret-AS")

    assert first.exit_code == 0, first.output
    assert "2 records" in first.stdout and "2 applied, 0 stale, 0 rejected" in first.stdout
    assert again.exit_code == 0
    assert "0 applied, 2 stale, 0 rejected" in again.stdout
    assert "records/s" in first.stderr  # the progress bar, on stderr
    assert "━" not in first.stdout  # ...and not mixed into the summary


def test_exit_1_with_a_rejection_and_its_path(hub: FakeHub, hub_url: str, tmp_path: Path) -> None:
    file = shutil.copy(DATA / "two-forces.jsonl", tmp_path / "two-forces.jsonl")

    result = run_sync(Path(file), "--url", hub_url, "--secret", "secret-AS")

    assert result.exit_code == 1
    assert "1 applied, 0 stale, 1 rejected" in result.stdout
    assert "line 2 (GL/26/1187): /force: not the caller's force" in result.stdout
    assert "John" not in result.stdout + result.stderr  # no record content


def test_a_line_that_is_not_json_is_reported_with_its_line_number(
    hub: FakeHub, hub_url: str, tmp_path: Path
) -> None:
    file = write_lines(
        tmp_path / "mixed.jsonl",
        [case(1), "", '{"caseRef": "AS-X", "summary": "half a rec', case(2), "   ", "[1, 2]"],
    )

    result = run_sync(file, "--url", hub_url, "--secret", "secret-AS")

    assert result.exit_code == 1
    assert "2 applied, 0 stale, 2 rejected" in result.stdout
    assert "line 3: (whole record): line is not valid JSON" in result.stdout
    assert "line 6: (whole record): line is not a JSON object" in result.stdout
    assert "half a rec" not in result.stdout + result.stderr
    assert [r["caseRef"] for r in hub.records_received] == ["AS-2026-0001", "AS-2026-0002"]


def test_only_the_first_ten_rejections_are_listed(
    hub: FakeHub, hub_url: str, tmp_path: Path
) -> None:
    file = write_lines(tmp_path / "bad.jsonl", [case(n, level="SEVERE") for n in range(12)])

    result = run_sync(file, "--url", hub_url, "--secret", "secret-AS")

    assert result.exit_code == 1
    assert "rejected (first 10 of 12):" in result.stdout
    assert result.stdout.count(": /risk/level:") == 10
    assert "line 10 (AS-2026-0009)" in result.stdout and "line 11" not in result.stdout


def test_batch_size_option_bounds_each_request(hub: FakeHub, hub_url: str, tmp_path: Path) -> None:
    file = write_lines(tmp_path / "as.jsonl", [case(n) for n in range(3)])

    result = run_sync(file, "--url", hub_url, "--secret", "secret-AS", "--batch-size", "1")

    assert result.exit_code == 0
    assert hub.batch_sizes() == [1, 1, 1]


def test_exit_2_without_a_secret(hub: FakeHub, hub_url: str, tmp_path: Path) -> None:
    file = write_lines(tmp_path / "as.jsonl", [case(1)])

    result = run_sync(file, "--url", hub_url)

    assert result.exit_code == 2
    assert "no client secret for 'force-AS'" in result.stderr
    assert hub.token_calls == [] and hub.cases_calls == []


def test_exit_2_when_the_secret_is_refused(hub: FakeHub, hub_url: str, tmp_path: Path) -> None:
    file = write_lines(tmp_path / "as.jsonl", [case(1)])

    result = run_sync(file, "--url", hub_url, "--secret", "wrong")

    assert result.exit_code == 2
    assert "invalid_client" in result.stderr
    assert hub.cases_calls == []


def test_url_and_secret_from_the_environment(
    hub: FakeHub, hub_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSFORCE_URL", hub_url)
    monkeypatch.setenv("CROSSFORCE_CLIENT_SECRET", "secret-AS")
    file = write_lines(tmp_path / "as.jsonl", [case(1)])

    result = run_sync(file)

    assert result.exit_code == 0, result.output
    assert hub.token_calls[0].granted


def test_secret_from_the_development_identity_provider(
    hub: FakeHub, hub_url: str, tmp_path: Path
) -> None:
    secrets_file = tmp_path / "data" / "devidp" / "client-secrets.json"
    secrets_file.parent.mkdir(parents=True)
    secrets_file.write_text(json.dumps({"force-AS": "secret-AS", "force-GL": "secret-GL"}))
    os.chmod(secrets_file, 0o600)
    file = write_lines(tmp_path / "as.jsonl", [case(1)])

    result = run_sync(file, "--url", hub_url)

    assert result.exit_code == 0, result.output
    assert hub.token_calls[0].client_id == "force-AS" and hub.token_calls[0].granted


def test_a_secrets_file_others_can_read_is_refused(
    hub: FakeHub, hub_url: str, tmp_path: Path
) -> None:
    secrets_file = tmp_path / "data" / "devidp" / "client-secrets.json"
    secrets_file.parent.mkdir(parents=True)
    secrets_file.write_text(json.dumps({"force-AS": "secret-AS"}))
    os.chmod(secrets_file, 0o644)
    file = write_lines(tmp_path / "as.jsonl", [case(1)])

    result = run_sync(file, "--url", hub_url)

    assert result.exit_code == 2
    assert "chmod 600" in result.stderr
    assert hub.token_calls == []


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run_sync(tmp_path / "absent.jsonl", "--secret", "s")

    assert result.exit_code == 2
