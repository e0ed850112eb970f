"""The GraphQL read benchmark runs end to end at a tiny size, so it never rots."""

from __future__ import annotations

import json
from pathlib import Path

from bench.bench_graphql import checked, parser, run, write_results
from bench.plot_growth import plot


async def test_bench_graphql_measures_every_read_against_raw_cypher(tmp_path: Path) -> None:
    args = checked(parser().parse_args([
        "--cases", "120", "--stop-at", "100", "--at", "60", "--requests", "8", "--warmup", "1",
        "--report-requests", "1", "--syncs", "1",
        "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "results"),
    ]))  # fmt: skip

    result = await run(args)
    written = write_results(result, args.out)

    # The first 100 cases of a 120-case region: the build stops there, and the results say so.
    assert result["cases"] == 100 and result["region_cases"] == 120
    assert result["graph"]["by_label"]["Case"] == 100
    assert result["graph"]["nodes"] > 100 and result["graph"]["relationships"] > 0
    assert result["build"]["statuses"] == {"applied": 100}
    for read in ("case", "priority_queue", "oversight", "oversight_vs_cases_by_force_and_risk"):
        figures = result[read]
        assert figures["requests"] == 8
        for side in ("graphql_ms", "raw_ms"):
            assert 0 < figures[side]["p50"] <= figures[side]["p99"]
        assert figures["p99_ratio"] > 0
    assert result["case"]["seen"]["found"] == 8  # sampled cases exist, and the analyst sees them
    assert result["priority_queue"]["top"]["graphql_top"] == 20
    # Both score the links counted at sync; only rounding at a tie could tell them apart.
    assert result["priority_queue"]["top"]["in_both_top_20"] >= 19
    board = result["oversight_dashboard"]
    assert board["requests"] == 8 and board["regrade_alerts"] > 0
    assert 0 < board["graphql_ms"]["p50"] <= board["graphql_ms"]["p99"]
    groups = result["victim_groups"]
    assert groups["requests"] == 8 and groups["groups"] >= 0
    assert 0 < groups["graphql_ms"]["p50"] <= groups["graphql_ms"]["p99"]
    assert groups["target_ms"] == 150
    coordinators = result["coordinators"]
    for group, names in (
        ("dashboard", {"key_figures", "activity_28d", "history_90d", "alerts_page"}),
        ("lists", {"past_target", "inactive_90d", "inactive_365d", "awaiting_enforcement",
                   "devices_awaiting", "regrade_alerts"}),
    ):  # fmt: skip
        rows = coordinators[group]
        assert rows.keys() == names | {"all"}
        for name in names:
            assert rows[name]["requests"] == 8 and rows[name]["target_ms"] == 50
            assert 0 < rows[name]["graphql_ms"]["p50"] <= rows[name]["graphql_ms"]["p99"]
        # The page load is the sum of its documents in each round: never less than any one.
        slowest_alone = max(rows[name]["graphql_ms"]["p50"] for name in names)
        assert rows["all"]["graphql_ms"]["p99"] >= slowest_alone
    lists = coordinators["lists"]
    assert lists["regrade_alerts"]["size"] == board["regrade_alerts"]  # one count, two reads
    assert coordinators["dashboard"]["key_figures"]["size"] == result["oversight"]["check"]["rows"]
    assert lists["inactive_365d"]["size"] <= lists["inactive_90d"]["size"]
    for fmt in ("html", "pdf"):
        report = coordinators["report"][fmt]
        assert report["requests"] == 1 and report["bytes"] > 1000
        assert 0 < report["seconds"]["p50"] < 60
    sync = coordinators["sync_visible"]
    assert sync["syncs"] == 1 and len(sync["visible_s"]) == 1
    assert 0 < sync["sync_answered_s"][0] <= sync["visible_s"][0]
    assert result["oversight"]["reloads"].keys() == {"started", "periodic", "periodic_seconds"}
    assert result["oversight"]["check"]["open_counts_agree"]
    assert [point["cases"] for point in result["checkpoints"]] == [60, 100]
    assert result["checkpoints"][0]["graph"]["by_label"]["Case"] == 60
    for point in result["checkpoints"]:
        assert point["memory_mb"]["graph"] > 0 and point["memory_mb"]["hub"] > 0
    growth = result["build"]["growth"]
    assert [done for done, _, _ in growth] == [60, 100]  # one chunk up to each checkpoint
    assert growth[0][1] < growth[1][1]  # build seconds only grow
    assert json.loads(written.read_text())["cases"] == 100
    report = written.with_suffix(".md").read_text()
    assert "| `case` with links |" in report
    assert "victim identification queue" in report
    assert "whole dashboard" in report and "reloaded its region facts every 120 s" in report
    assert "## The coordinators' reads" in report and "| cases past target, first 25" in report
    assert "format=pdf" in report and "A sync in the figures" in report
    assert "The first 100 cases of a region generated for 120" in report
    assert "## As the region grows" in report and "| 60 |" in report
    assert not (tmp_path / "data").exists()  # without --keep the data dir goes

    picture = plot([json.loads(written.read_text())], written.with_suffix(".png"))
    assert picture.read_bytes().startswith(b"\x89PNG") and picture.stat().st_size > 10_000
    # Both engines on one picture: the same run under a second engine's name draws its lines
    # beside the first's (the picture grows with them).
    second = json.loads(written.read_text()) | {"engine": "neo4j"}
    both = plot([json.loads(written.read_text()), second], tmp_path / "both.png")
    assert both.read_bytes().startswith(b"\x89PNG") and both.stat().st_size > picture.stat().st_size
