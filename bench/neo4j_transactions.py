"""Where Neo4j's time goes during a sync: its running transactions, sampled by statement.

Starts Neo4j (tests/neo4j_server) and the hub as `bench_sync` does, syncs a synthetic region
through the HTTP API, and meanwhile asks Neo4j `SHOW TRANSACTIONS` every 20 ms. Each statement
is counted once per sample it was running in, so its share of the samples is its share of the
wall time the graph spent on it (lock waits and commits included). Statements are shown by
their first words: parameters, which carry blind indexes and sealed values, are never read.

    python -m bench.neo4j_transactions --cases 4000
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import tempfile
import threading
import time
from pathlib import Path

from neo4j import GraphDatabase

from bench import bench_sync
from gateway.demo.region import RegionParams
from graph.embedded import free_port
from policies.devidp import mint_token

SHOWN = 140  # characters of each statement's text


def sample(uri: str, counts: collections.Counter[str], stop: threading.Event) -> None:
    with GraphDatabase.driver(uri) as driver, driver.session() as session:
        while not stop.is_set():
            for record in session.run(
                "SHOW TRANSACTIONS YIELD currentQuery WHERE currentQuery <> '' RETURN currentQuery"
            ):
                text = " ".join(record["currentQuery"].split())
                if not text.startswith("SHOW TRANSACTIONS"):
                    counts[text[:SHOWN]] += 1
            counts[""] += 1  # the number of samples
            time.sleep(0.02)


async def run(cases: int) -> tuple[int, list[tuple[str, int]]]:
    from tests.neo4j_server.server import Neo4jServer

    server = Neo4jServer()
    counts: collections.Counter[str] = collections.Counter()
    stop = threading.Event()
    try:
        engine = bench_sync.Engine("neo4j", server.start())
        with tempfile.TemporaryDirectory(prefix="crossforce-sample-") as tmp:
            work = Path(tmp)
            params = RegionParams(seed=7, forces=5, cases=cases)
            files, _ = bench_sync.write_region(params, work / "region")
            policies = bench_sync.policy_dir(params.force_codes, work / "policies")
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            tokens = {
                force: mint_token(work / "hub", url, "crossforce", f"force-{force}",
                                  policy_dir=policies)
                for force in files
            }  # fmt: skip
            hub = bench_sync.start_hub(engine, work / "hub", policies, port)
            sampler = threading.Thread(target=sample, args=(engine.hub_uri, counts, stop))
            sampler.start()
            try:
                await bench_sync.sync_over_http(url, tokens, files, 500, 2)
                await bench_sync.after_sync_settled(engine.store("api"))
            finally:
                stop.set()
                sampler.join()
                hub.terminate()
                hub.wait(60)
    finally:
        server.stop()
    samples = counts.pop("", 0)
    return samples, counts.most_common(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=4000, help="cases in the region")
    samples, top = asyncio.run(run(parser.parse_args().cases))
    print(f"{samples} samples")
    for text, seen in top:
        print(f"{seen / max(samples, 1):6.1%}  {text}")


if __name__ == "__main__":
    main()
