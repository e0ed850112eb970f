"""The report benchmark runs end to end at a tiny size, so it never rots."""

from __future__ import annotations

from pathlib import Path

from bench.bench_report import parser, run, write_results


async def test_bench_report_times_html_beside_pdf(tmp_path: Path) -> None:
    args = parser().parse_args(
        ["--cases", "150", "--requests", "1", "--data-dir", str(tmp_path / "data")]
    )
    result = await run(args)
    table = write_results(result, tmp_path / "results").read_text()
    assert result["cases"] == 150 and result["history_days"] >= 88
    for fmt in ("html", "pdf"):
        row = result[fmt]
        assert row["requests"] == 1 and row["served_s"]["p50"] > 0 and row["bytes"] > 0
        assert row["render_cpu_s"]["p50"] >= 0
        assert f"| {fmt} |" in table
    # The HTML names every case past target; the PDF its bounded list at most.
    assert result["html"]["overdue_named"] == result["overdue_count"]
    assert result["pdf"]["overdue_named"] == min(result["overdue_count"], 50)
    assert 1 <= result["pdf"]["pages"] <= 5
    assert not (tmp_path / "data").exists(), "the data dir goes unless --keep"
