"""How each cost grows with the region: a plot of read-benchmark runs with checkpoints.

    python -m bench.plot_growth bench/results/graphql-falkordb-1000000.json
    python -m bench.plot_growth bench/results/graphql-falkordb-{100000,1000000}.json \
        bench/results/graphql-neo4j-100000.json --out bench/results/graphql-growth.png

Three panels, from what `bench.bench_graphql --at ...` recorded (with several runs, the
checkpoints of all of them, and the build of the largest, engine by engine):
  - p99 of each read at every checkpoint, GraphQL against its raw Cypher;
  - memory: the graph's after every build chunk, the hub's at every checkpoint;
  - the build's ingest rate, chunk by chunk, as the graph grows.
Each engine has its own line style. The picture goes beside the largest run's JSON (same name,
`.png`) unless `--out` says where.
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
# Per engine: the GraphQL line's style, the raw Cypher line's.
STYLES = {"falkordb": ("o-", "s:"), "neo4j": ("^--", "v-.")}


def plot_latency(axes: Axes, checkpoints: dict[str, list[dict[str, Any]]]) -> None:
    for engine, points in checkpoints.items():
        cases = [point["cases"] for point in points]
        graphql_style, raw_style = STYLES.get(engine, STYLES["falkordb"])
        for (name, label), colour in zip(READS.items(), ("C0", "C1", "C2"), strict=True):
            graphql = [point["reads"][name]["graphql_ms"]["p99"] for point in points]
            raw = [point["reads"][name]["raw_ms"]["p99"] for point in points]
            axes.plot(
                cases, graphql, graphql_style, color=colour, label=f"{label}, GraphQL, {engine}"
            )
            axes.plot(cases, raw, raw_style, color=colour, alpha=0.5,
                      label=f"{label}, raw Cypher, {engine}")  # fmt: skip
    axes.set(xscale="log", yscale="log", xlabel="cases", ylabel="p99 (ms)",
             title="Read latency, p99")  # fmt: skip
    axes.axhline(50, color="grey", linewidth=0.8, linestyle=":")  # issue 22: lists < 50 ms
    axes.legend(fontsize="xx-small")


Growth = list[list[float | None]]  # [cases done, build seconds, graph MB] after each chunk


def plot_memory(
    axes: Axes, growth: dict[str, Growth], checkpoints: dict[str, list[dict[str, Any]]]
) -> None:
    for engine, points in checkpoints.items():
        graph = [(float(done or 0), mb / 1024) for done, _, mb in growth[engine] if mb is not None]
        if graph:  # FalkorDB counts its own memory; Neo4j's heap is sized up front
            axes.plot([d for d, _ in graph], [gb for _, gb in graph], label=f"graph ({engine})")
        hub = [(point["cases"], point["memory_mb"]["hub"] / 1024) for point in points]
        axes.plot([c for c, _ in hub], [gb for _, gb in hub], STYLES.get(engine, ("o-",))[0],
                  label=f"hub on {engine} (resident)")  # fmt: skip
    axes.set(xlabel="cases", ylabel="GiB", title="Memory")
    axes.legend(fontsize="x-small")


def plot_ingest(axes: Axes, growth: dict[str, Growth]) -> None:
    for engine, points in growth.items():
        done = [float(point[0] or 0) for point in points]
        seconds = [float(point[1] or 0) for point in points]
        xs, rates = [], []
        for end in range(SMOOTHING, len(points), SMOOTHING):
            start = end - SMOOTHING
            elapsed = seconds[end] - seconds[start]
            if elapsed > 0:
                xs.append(done[end])
                rates.append((done[end] - done[start]) / elapsed)
        axes.plot(xs, rates, "--" if engine == "neo4j" else "-", label=engine)
    axes.set(xlabel="cases in the graph", ylabel="cases/s", title="Ingest rate (in process)")
    axes.set_ylim(bottom=0)
    axes.legend(fontsize="x-small")


def by_engine(results: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    engines: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        engines.setdefault(result["engine"], []).append(result)
    return engines


def plot(results: list[dict[str, Any]], out: Path) -> Path:
    engines = by_engine(results)
    checkpoints = {
        engine: sorted((p for r in runs for p in r["checkpoints"]), key=lambda p: p["cases"])
        for engine, runs in engines.items()
    }
    growth = {
        engine: max(runs, key=lambda r: r["cases"])["build"]["growth"]
        for engine, runs in engines.items()
    }
    figure = Figure(figsize=(16, 4.8))
    latency, memory, ingest = figure.subplots(1, 3)
    plot_latency(latency, checkpoints)
    plot_memory(memory, growth, checkpoints)
    plot_ingest(ingest, growth)
    sizes = ", ".join(
        f"{engine} up to {max(r['cases'] for r in runs):,}" for engine, runs in engines.items()
    )
    figure.suptitle(f"Crossforce: cases of {results[0]['forces']} forces as the region grows "
                    f"({sizes})")  # fmt: skip
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
    parser.add_argument("--out", type=Path, default=None, help="where the picture goes")
    args = parser.parse_args()
    results = [json.loads(path.read_text()) for path in args.results]
    largest = max(zip(results, args.results, strict=True), key=lambda pair: pair[0]["cases"])
    print(plot(results, args.out or largest[1].with_suffix(".png")))


if __name__ == "__main__":
    main()
