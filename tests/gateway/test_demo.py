"""`crossforce demo`, as `make demo` runs it: the hub starts, two forces sync, links show."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_demo_syncs_two_forces_and_shows_their_links(tmp_path: Path) -> None:
    env = os.environ | {"CROSSFORCE_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "clients.cli", "demo", "--exit"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "force-AS: 1 applied" in done.stdout
    assert "force-GL: 1 applied" in done.stdout
    for via in ("PERSON", "DEVICE", "MEDIA"):
        assert f"AS-2026-0042 │ GL          │ GL/26/1187   │ {via}" in done.stdout
    assert not (tmp_path / "graph" / "server.json").exists()  # the embedded graph stopped
