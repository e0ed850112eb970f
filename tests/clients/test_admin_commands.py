"""Operators' commands (`keys`, `audit`) with force codes as people type them."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clients.cli import app
from graph.embedded import EmbeddedFalkorDB

runner = CliRunner()


def test_force_codes_are_read_in_any_case_and_must_be_of_the_region(
    falkordb_server: EmbeddedFalkorDB, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = f"falkordb://127.0.0.1:{falkordb_server.port}/admin{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("CROSSFORCE_GRAPH_URI", graph)
    monkeypatch.setenv("CROSSFORCE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CROSSFORCE_POLICY_DIR", raising=False)

    lower = runner.invoke(app, ["keys", "rotate", "--force", "as"])
    assert lower.exit_code == 0, lower.output
    assert "AS: now data key version 1" in lower.stdout

    for command in ("rotate", "reseal"):
        unknown = runner.invoke(app, ["keys", command, "--force", "ZZ"])
        assert unknown.exit_code == 2
        assert unknown.stderr == (
            f"crossforce keys {command}: unknown force ZZ; "
            "the region's forces: AS, GL, WI, DC, DO\n"
        )
    everything = runner.invoke(app, ["keys", "rotate"])
    assert everything.stdout.startswith("AS: now data key version 2\n")
    assert "ZZ" not in everything.stdout
