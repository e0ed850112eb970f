"""`crossforce demo`, as `make demo` runs it: the hub starts, a region syncs, the story prints."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def test_demo_syncs_a_region_and_shows_what_to_look_at_first(tmp_path: Path) -> None:
    env = os.environ | {"CROSSFORCE_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "clients.cli", "demo", "--exit", "--cases", "400"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    applied = [int(n) for n in re.findall(r"force-[A-Z]{2}: (\d+) applied", out)]
    pulled = re.search(r"WI is pulled: (\d+) records applied, 0 rejected", out)
    assert pulled is not None, out
    assert len(applied) == 4 and sum(applied) + int(pulled.group(1)) == 400
    assert "force-WI: pulled by the hub from its Graphene connector" in out
    assert "0 rejected" in out and not re.search(r"[1-9]\d* rejected", out)
    for title in (
        "Coordinator: cases against",
        "Regrade alerts:",
        "Analyst (analyst-AS):",
        "Cross-force links found",
        "Sign in at http://127.0.0.1:",
    ):
        assert title in out
    assert re.search(r"│ AS\s+│\s+[1-9]\d*\s+│ (DC|DO|GL|WI)", out)  # AS links to other forces
    assert not (tmp_path / "graph" / "server.json").exists()  # the embedded graph stopped
