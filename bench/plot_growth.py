"""How each cost grows with the region: a plot of one read-benchmark run with checkpoints.

    python -m bench.plot_growth bench/results/graphql-falkordb-1000000.json
    python -m bench.plot_growth bench/results/graphql-falkordb-{100000,1000000}.json

Three panels, from what `bench.bench_graphql --at ...` recorded (with several runs, the
checkpoints of all of them, and the build of the largest):
  - p99 of each read at every checkpoint, GraphQL against its raw Cypher;
  - memory: the graph's after every build chunk, the hub's at every checkpoint;
  - the build's ingest rate, chunk by chunk, as the graph grows.
The picture goes beside the JSON (same name, `.png`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure  # no pyplot: a file, no display, no global state

READS = {"case": "`case` with links", "priority_queue": "priority queue", "oversight": "oversight"}
SMOOTHING = 10  # build chunks averaged per point of the ingest-rate line


def plot_latency(axes: Axes, checkpoints: list[dict[str, Any]]) -> None:
    cases = [point["cases"] for point in checkpoints]
    for (name, label), colour in zip(READS.items(), ("C0", "C1", "C2"), strict=True):
        graphql = [point["reads"][name]["graphql_ms"]["p99"] for point in checkpoints]
        raw = [point["reads"][name]["raw_ms"]["p99"] for point in checkpoints]
        axes.plot(cases, graphql, "o-", color=colour, label=f"{label}, GraphQL")
        axes.plot(cases, raw, "s--", color=colour, alpha=0.6, label=f"{label}, raw Cypher")
    axes.set(xscale="log", yscale="log", xlabel="cases", ylabel="p99 (ms)",
             title="Read latency, p99")  # fmt: skip
    axes.axhline(100, color="grey", linewidth=0.8, linestyle=":")  # issue 8: oversight < 100 ms
    axes.legend(fontsize="x-small")


Growth = list[list[float | None]]  # [cases done, build seconds, graph MB] after each chunk


def plot_memory(axes: Axes, growth: Growth, checkpoints: list[dict[str, Any]]) -> None:
    graph = [(float(done or 0), mb / 1024) for done, _, mb in growth if mb is not None]
    if graph:
        axes.plot([d for d, _ in graph], [gb for _, gb in graph], label="graph (FalkorDB)")
    hub = [(point["cases"], point["memory_mb"]["hub"] / 1024) for point in checkpoints]
    axes.plot([c for c, _ in hub], [gb for _, gb in hub], "o-", label="hub (resident)")
    axes.set(xlabel="cases", ylabel="GiB", title="Memory")
    axes.legend(fontsize="x-small")


def plot_ingest(axes: Axes, growth: Growth) -> None:
    done = [float(point[0] or 0) for point in growth]
    seconds = [float(point[1] or 0) for point in growth]
    xs, rates = [], []
    for end in range(SMOOTHING, len(growth), SMOOTHING):
        start = end - SMOOTHING
        elapsed = seconds[end] - seconds[start]
        if elapsed > 0:
            xs.append(done[end])
            rates.append((done[end] - done[start]) / elapsed)
    axes.plot(xs, rates)
    axes.set(xlabel="cases in the graph", ylabel="cases/s", title="Ingest rate (in process)")
    axes.set_ylim(bottom=0)


def plot(results: list[dict[str, Any]], out: Path) -> Path:
    result = max(results, key=lambda r: r["cases"])
    checkpoints = sorted((p for r in results for p in r["checkpoints"]), key=lambda p: p["cases"])
    growth = result["build"]["growth"]
    figure = Figure(figsize=(16, 4.8))
    latency, memory, ingest = figure.subplots(1, 3)
    plot_latency(latency, checkpoints)
    plot_memory(memory, growth, checkpoints)
    plot_ingest(ingest, growth)
    figure.suptitle(f"Crossforce on {result['engine']}: {result['cases']:,} cases of "
                    f"{result['forces']} forces, as the region grows")  # fmt: skip
    figure.tight_layout()
    figure.savefig(out, dpi=110)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "results", type=Path, nargs="+", help="JSON files written by bench.bench_graphql"
    )
    args = parser.parse_args()
    results = [json.loads(path.read_text()) for path in args.results]
    largest = max(zip(results, args.results, strict=True), key=lambda pair: pair[0]["cases"])
    print(plot(results, largest[1].with_suffix(".png")))


if __name__ == "__main__":
    main()
