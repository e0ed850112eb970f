"""pull.yaml: connectors, secrets by reference, clear errors; the backoff schedule."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from federation.pull import backoff_delay, rejection_reason
from policies.pull import SecretUnavailable, load_pull, parse_pull
from policies.scopes import PolicyFileError

DEFAULTS = Path(__file__).resolve().parents[2] / "policies" / "defaults"

ENTRY = """
forces:
  - force: WI
    url: https://cms.wiltshire.example/crossforce/graphql
    token_url: https://hub.example/oauth/token
    client_id: hub
    client_secret: {env: CROSSFORCE_TEST_PULL_SECRET}
"""


def test_default_pull_file_lists_no_connectors() -> None:
    assert load_pull(DEFAULTS / "pull.yaml") == []
    assert load_pull(DEFAULTS / "absent.yaml") == []


def test_an_entry_with_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    (source,) = parse_pull(ENTRY, base_dir=Path("/etc/crossforce"))
    assert (source.force, source.scope, source.page_size, source.interval) == (
        "WI",
        "pull:read",
        200,
        60.0,
    )
    monkeypatch.setenv("CROSSFORCE_TEST_PULL_SECRET", "s3cret")
    assert source.secret() == "s3cret"
    monkeypatch.delenv("CROSSFORCE_TEST_PULL_SECRET")
    with pytest.raises(SecretUnavailable, match="CROSSFORCE_TEST_PULL_SECRET is not set"):
        source.secret()


def test_secret_files_relative_to_the_pull_file(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "wi").write_text("from-a-file\n")
    (tmp_path / "secrets" / "all.json").write_text(json.dumps({"hub": "from-json"}))
    text = ENTRY.replace("{env: CROSSFORCE_TEST_PULL_SECRET}", "{file: secrets/wi}")
    (tmp_path / "pull.yaml").write_text(text)
    assert load_pull(tmp_path / "pull.yaml")[0].secret() == "from-a-file"
    text = ENTRY.replace("{env: CROSSFORCE_TEST_PULL_SECRET}", "{file: secrets/all.json, key: hub}")
    assert parse_pull(text, base_dir=tmp_path)[0].secret() == "from-json"
    missing = parse_pull(text.replace("key: hub", "key: other"), base_dir=tmp_path)[0]
    with pytest.raises(SecretUnavailable, match="has no member other"):
        missing.secret()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("force: WI", "force: wilts"), "forces.0.force: force must be 2 to 4 capital letters"),
        (("https://cms", "http://cms"), "forces.0.url: must be https"),
        (("    token_url: https://hub.example/oauth/token\n", ""), "token_url or issuer"),
        (("{env: CROSSFORCE_TEST_PULL_SECRET}", "s3cret"), "forces.0.client_secret"),
        (("{env: CROSSFORCE_TEST_PULL_SECRET}", "{env: A, file: b}"), "exactly one of env"),
        (("client_id: hub", "client_id: hub\n    page_size: 5000"), "forces.0.page_size"),
        (("client_id: hub", "client_id: hub\n    colour: blue"), "forces.0.colour"),
    ],
)
def test_invalid_entries_name_the_yaml_path(change: tuple[str, str], message: str) -> None:
    text = ENTRY.replace(*change)
    assert text != ENTRY
    with pytest.raises(PolicyFileError) as error:
        parse_pull(text, base_dir=Path("."))
    assert message in str(error.value)
    assert "s3cret" not in str(error.value)  # a secret pasted in by mistake is not echoed


def test_a_force_is_listed_once() -> None:
    twice = ENTRY + ENTRY.split("forces:\n", 1)[1]
    with pytest.raises(PolicyFileError, match="force WI is listed twice"):
        parse_pull(twice, base_dir=Path("."))


def test_backoff_doubles_up_to_its_ceiling_with_jitter() -> None:
    (source,) = parse_pull(
        ENTRY.replace("client_id: hub", "client_id: hub\n    backoff: {initial: 1, max: 20}"),
        base_dir=Path("."),
    )
    rng = random.Random(7)
    for failures, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 16), (6, 20), (40, 20)]:
        delays = [backoff_delay(source, failures, rng.random) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered
    assert backoff_delay(source, 3, lambda: 0.0) == 2.0
    assert backoff_delay(source, 3, lambda: 1.0) == 4.0


def test_rejection_reasons_group_array_items() -> None:
    assert rejection_reason("/suspects/0/phones/12", "must match x") == (
        "/suspects/*/phones/*",
        "must match x",
    )
    assert rejection_reason("/risk/level", "m") == ("/risk/level", "m")
    assert rejection_reason("/suspects/3/John Smith", "unknown field") == (
        "/suspects/*/<unknown>",
        "unknown field",
    )
