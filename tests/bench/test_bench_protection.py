"""The protection benchmark: each row against its raw floor; preparing as a share of a sync run."""

from __future__ import annotations

import pytest

from bench.bench_protection import bench, markdown, share_of_sync


def test_each_row_is_its_ratio_to_its_floor_and_the_share_is_of_hub_and_graph() -> None:
    result = bench(0.01)
    rows = {row["operation"]: row for row in result["rows"]}
    assert rows["seal (FieldCipher)"]["baseline"] == "AESGCM.encrypt + os.urandom(12)"
    assert rows["open (FieldCipher)"]["baseline"] == "AESGCM.decrypt"
    floor = rows["open (FieldCipher), beside its stored form's floor"]
    assert floor["baseline"] == "base64url decode + AESGCM.decrypt"
    # Decoding comes on top of the decryption, measured in the same run.
    assert floor["baseline_ns_per_op"] > rows["open (FieldCipher)"]["baseline_ns_per_op"]
    assert sum(name.startswith("blind index") for name in rows) == 9
    for row in rows.values():
        assert row["ns_per_op"] > 0 and row["baseline_ns_per_op"] > 0
        assert row["ratio"] == pytest.approx(row["ns_per_op"] / row["baseline_ns_per_op"], abs=0.01)
    prepare_ms = result["prepare_case"]["cpu_ms_per_case"]
    assert prepare_ms > 0

    sync = {
        "command": "python -m bench.bench_sync --cases 20000 --engine falkordb",
        "engine": "falkordb",
        "cases": 20000,
        "load_average": {"before": 1.5, "after": 2.5, "cpus": 2},
        "api": {"cpu_ms_per_record": {"hub": prepare_ms * 4, "engine": prepare_ms * 6}},
    }
    share = share_of_sync(prepare_ms, sync)
    assert share["share"] == pytest.approx(0.1, abs=0.001)
    table = markdown(result | {"against_sync": [share]})
    assert "**10%** of the two together" in table and "load average 1.5 before" in table
    assert table.count("\n| ") == len(rows) + 1  # the header and one line per row
