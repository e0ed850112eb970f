"""Near-duplicate image search: the hub's index against an exact scan, in the same run.

`federation.near_images.ClusterIndex` (faiss multi-index hashing, 16 substrings of 16 bits probed
within 1 flip) answers "the nearest image cluster within 31 bits" one query at a time, as ingest
asks it. The baseline is faiss's exhaustive Hamming scan (`IndexBinaryFlat`) over the same hashes.
Queries: half are stored hashes with 0 to 31 random bits flipped (near copies: a scan finds
their cluster), half random hashes (new pictures: nothing within 31 bits). Recall is the share
of near copies the index finds at the distance the scan finds; false matches, the share of new
pictures it matches.

    python -m bench.bench_pdq --hashes 1000000
    python -m bench.bench_pdq --hashes 10000000 --queries 500

Results: bench/results/pdq-<hashes>.json and a Markdown table beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from federation.near_images import BITS, ClusterIndex, hamming

RESULTS = Path(__file__).resolve().parent / "results"
THRESHOLD = 31
CHUNK = 1_000_000


def flipped(code: np.ndarray, flips: int, rng: np.random.Generator) -> np.ndarray:
    bits = np.unpackbits(code)
    where = rng.choice(BITS, size=flips, replace=False)
    bits[where] ^= 1
    return np.packbits(bits)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(search: Callable[[np.ndarray], tuple[int, int]], queries: np.ndarray) -> dict[str, Any]:
    latencies, answers = [], []
    for query in queries:
        start = time.perf_counter()
        answers.append(search(query.reshape(1, -1)))
        latencies.append((time.perf_counter() - start) * 1000)
    return {
        "answers": answers,
        "p50_ms": statistics.median(latencies),
        "p99_ms": percentile(latencies, 0.99),
    }


def run(hashes: int, queries: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    index = ClusterIndex(THRESHOLD)
    scan = faiss.IndexBinaryFlat(BITS)
    codes_kept = []
    started = time.perf_counter()
    for start in range(0, hashes, CHUNK):
        codes = rng.integers(0, 256, size=(min(CHUNK, hashes - start), BITS // 8), dtype=np.uint8)
        index.add_codes(codes)
        scan.add(codes)
        codes_kept.append(codes[: max(1, queries)])
    load_seconds = time.perf_counter() - started
    sample = np.concatenate(codes_kept)
    near = np.stack(
        [flipped(sample[rng.integers(len(sample))], int(rng.integers(0, 32)), rng)
         for _ in range(queries // 2)]
    )  # fmt: skip
    new = rng.integers(0, 256, size=(queries - queries // 2, BITS // 8), dtype=np.uint8)
    asked = np.concatenate([near, new])

    def hub(query: np.ndarray) -> tuple[int, int]:
        found = index.nearest(bytes(query[0]).hex())
        if found is None:
            return -1, -1
        return 0, hamming(bytes(query[0]).hex(), found)

    def exhaustive(query: np.ndarray) -> tuple[int, int]:
        distances, found = scan.search(query, 1)
        if found[0][0] < 0 or distances[0][0] > THRESHOLD:
            return -1, -1
        return 0, int(distances[0][0])

    ours = timed(hub, asked)
    base = timed(exhaustive, asked)
    pairs = list(zip(ours.pop("answers"), base.pop("answers"), strict=True))
    near_pairs, new_pairs = pairs[: len(near)], pairs[len(near) :]
    recall = sum(1 for o, b in near_pairs if b[0] == 0 and o == b) / max(
        1, sum(1 for _, b in near_pairs if b[0] == 0)
    )
    false_matches = sum(1 for o, b in new_pairs if o[0] == 0 and b[0] != 0) / max(1, len(new_pairs))
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "faiss": faiss.__version__,
        "hashes": hashes,
        "queries": queries,
        "threshold": THRESHOLD,
        "load_seconds": round(load_seconds, 1),
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "load_average": os.getloadavg()[0],
        "hub": {k: round(v, 3) for k, v in ours.items()},
        "exact_scan": {k: round(v, 3) for k, v in base.items()},
        "recall": recall,
        "false_matches": false_matches,
    }


def table(result: dict[str, Any]) -> str:
    hub, scan = result["hub"], result["exact_scan"]
    return (
        f"# Near-duplicate image search: {result['hashes']:,} PDQ hashes\n\n"
        f"Measured {result['measured_at']} on {result['machine']}, Python {result['python']}, "
        f"faiss {result['faiss']}; {result['queries']} queries one at a time (half near copies "
        f"with 0 to 31 bits flipped, half new pictures), threshold {result['threshold']} bits. "
        f"Load average {result['load_average']:.1f}. Reproduce with "
        f"`python -m bench.bench_pdq --hashes {result['hashes']}`.\n\n"
        "| search | p50 ms | p99 ms | p99 ratio to the scan |\n|---|---:|---:|---:|\n"
        f"| hub index (multi-index hashing) | {hub['p50_ms']:.3f} | {hub['p99_ms']:.3f} | "
        f"{hub['p99_ms'] / scan['p99_ms']:.3f}x |\n"
        f"| exact scan (IndexBinaryFlat) | {scan['p50_ms']:.3f} | {scan['p99_ms']:.3f} | 1x |\n\n"
        f"Recall of near copies against the scan: {result['recall']:.4f}; new pictures matched "
        f"wrongly: {result['false_matches']:.4f}. Loading both indexes took "
        f"{result['load_seconds']} s; peak memory {result['max_rss_mib']:,} MiB.\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hashes", type=int, default=1_000_000, help="PDQ hashes in the index")
    parser.add_argument("--queries", type=int, default=1000, help="queries of each kind in all")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    result = run(args.hashes, args.queries, args.seed)
    name = f"pdq-{args.hashes}"
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / f"{name}.md").write_text(table(result))
    print(table(result))


if __name__ == "__main__":
    main()
