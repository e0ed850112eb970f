"""What field protection costs per field, next to its raw primitives measured in the same run.

- seal / open: `FieldCipher` (key ring lookup, associated data, AES-256-GCM, encoding) against
  raw `AESGCM.encrypt` / `decrypt` of the same bytes with the same key; open also against the
  floor its stored form sets (the base64url text decoded, then `decrypt`);
- seal per field of a whole record (`seal_record`, as preparing a case seals) against the same
  raw encryption;
- blind index of a phone, an e-mail and an IMEI (normalise + HMAC-SHA256) against raw
  `hmac.new(key, same bytes, sha256)`: each in the canonical form the normaliser returns (the
  fast path) and in an everyday notation it must rewrite;
- preparing a case (validation by `federation.validation.problems_of`, then
  `federation.prepare.prepare_case`: indexes, sealing, figures) over the region generator's
  cases, per case, set beside the hub's and the graph's CPU per record of a sync benchmark run
  (`--sync`, a result of `bench.bench_sync`): the share of that CPU preparing takes.

Run: `python -m bench.bench_protection [--seconds 0.5] [--sync SYNC_RESULT.json]`. Writes
bench/results/protection.json and bench/results/protection.md. Data keys live in memory (as they
do once cached in the hub), so the figures are the per-field CPU cost, not graph round trips.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import platform
import sys
import tempfile
import time
from binascii import a2b_base64
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cryptography
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from federation.prepare import prepare_case
from federation.validation import problems_of
from gateway.demo.region import RegionParams, region_cases
from graph.keyring_store import MemoryKeyStore
from policies.blind_index import BlindIndex
from policies.case_rules import default_case_rules
from policies.crypto import FieldCipher, associated_data
from policies.keys import KeyRing, LocalKeyFile

RESULTS = Path(__file__).resolve().parent / "results"
FIELD = "/suspects/0/phones/0"
PLAINTEXT = "Uploads linked to subscriber IP; chat logs show contact with a child."
# (kind, written, what it is): canonical forms come back from the normaliser unchanged.
SAMPLES = (
    ("phone", "+447700900123", "canonical, drama range"),
    ("phone", "+447911123456", "canonical, in use"),
    ("phone", "07911 123456", "national notation"),
    ("phone", "+44 (0)7700-900123", "with (0) and hyphen"),
    ("email", "a@b.example", "canonical"),
    ("email", " J.Doe@Example.com ", "mixed case, spaces"),
    ("imei", "352099001761481", "15 digits"),
    ("imei", "35209900176148", "canonical, 14 digits"),
    ("imei", "35-209900-176148-1", "grouped"),
)
RECORD_FIELDS = 12  # sealed values of a typical case of the region generator
PREPARED_CASES = 500


REPEATS = 11


def measure(
    ours: Callable[[int], None],
    floor: Callable[[int], None],
    seconds: float,
    repeats: int = REPEATS,
) -> tuple[float, float]:
    """CPU ns per operation of `ours` and of its `floor`: the least of `repeats` batches each of
    about `seconds / repeats`, the two alternating batch by batch. CPU time of this thread, not
    the wall clock, so that time spent waiting for a core of a shared machine is not counted;
    the least batch is the one other processes disturbed least (their cache and memory
    traffic still falls on both)."""
    sizes = [_batch(run, seconds / repeats) for run in (ours, floor)]
    timings: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for run, size, times in zip((ours, floor), sizes, timings, strict=True):
            started = time.thread_time_ns()
            run(size)
            times.append((time.thread_time_ns() - started) / size)
    return min(timings[0]), min(timings[1])


def _batch(run: Callable[[int], None], seconds: float) -> int:
    """How many operations of `run` take about `seconds`."""
    batch = 1
    while True:  # grow the batch until one takes a measurable time
        started = time.thread_time_ns()
        run(batch)
        elapsed = time.thread_time_ns() - started
        if elapsed > 20_000_000 or batch >= 1 << 22:
            break
        batch *= 2
    return max(1, int(batch * seconds / (elapsed / 1e9)))


def async_loop(loop: asyncio.AbstractEventLoop, make: Callable[[], Any]) -> Callable[[int], None]:
    """Run `count` awaits of `make()` inside one event loop task, as the gateway would."""

    async def many(count: int) -> None:
        for _ in range(count):
            await make()

    return lambda count: loop.run_until_complete(many(count))


def sync_loop(call: Callable[[], Any]) -> Callable[[int], None]:
    def run(count: int) -> None:
        for _ in range(count):
            call()

    return run


def bench(seconds: float) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    loop = asyncio.new_event_loop()
    with tempfile.TemporaryDirectory() as data_dir:
        keyring = KeyRing(MemoryKeyStore(), LocalKeyFile.in_data_dir(Path(data_dir)))
        cipher = FieldCipher(keyring)
        sealed = loop.run_until_complete(cipher.seal("AS", "AS-2026-0042", FIELD, PLAINTEXT))
        version, dek = loop.run_until_complete(keyring.current("AS"))

    aead = AESGCM(dek)
    plaintext = PLAINTEXT.encode()
    aad = associated_data("AS", "AS-2026-0042", FIELD, version)  # the sealed value's own
    nonce = os.urandom(12)
    raw_ciphertext = aead.encrypt(nonce, plaintext, aad)

    rows: list[dict[str, Any]] = []

    def row(name: str, ours: float, baseline_name: str, baseline: float) -> None:
        rows.append(
            {
                "operation": name,
                "ns_per_op": round(ours, 1),
                "baseline": baseline_name,
                "baseline_ns_per_op": round(baseline, 1),
                "ratio": round(ours / baseline, 2),
            }
        )

    raw_encrypt = sync_loop(lambda: aead.encrypt(os.urandom(12), plaintext, aad))
    seal_ns, raw_encrypt_ns = measure(
        async_loop(loop, lambda: cipher.seal("AS", "AS-2026-0042", FIELD, PLAINTEXT)),
        raw_encrypt,
        seconds,
    )
    row("seal (FieldCipher)", seal_ns, "AESGCM.encrypt + os.urandom(12)", raw_encrypt_ns)

    record = [(f"/suspects/0/field{i}", PLAINTEXT) for i in range(RECORD_FIELDS)]
    record_ns, raw_encrypt_ns = measure(
        async_loop(loop, lambda: cipher.seal_record("AS", "AS-2026-0042", record)),
        sync_loop(lambda: [aead.encrypt(os.urandom(12), plaintext, aad) for _ in record]),
        seconds,
    )
    row(
        f"seal per field of a {RECORD_FIELDS}-field record (seal_record)",
        record_ns / RECORD_FIELDS,
        "AESGCM.encrypt + os.urandom(12)",
        raw_encrypt_ns / RECORD_FIELDS,
    )

    open_ns, raw_decrypt_ns = measure(
        async_loop(loop, lambda: cipher.open("AS", "AS-2026-0042", FIELD, sealed)),
        sync_loop(lambda: aead.decrypt(nonce, raw_ciphertext, aad)),
        seconds,
    )
    row("open (FieldCipher)", open_ns, "AESGCM.decrypt", raw_decrypt_ns)

    # The floor the sealed format sets: its base64url text decoded, then AESGCM.decrypt.
    text = sealed.rpartition(":")[2]
    padding = "=" * (-len(text) % 4)

    def decode_and_decrypt() -> None:
        body = a2b_base64(text.replace("-", "+").replace("_", "/") + padding)
        aead.decrypt(body[:12], body[12:], aad)

    open_ns, format_floor_ns = measure(
        async_loop(loop, lambda: cipher.open("AS", "AS-2026-0042", FIELD, sealed)),
        sync_loop(decode_and_decrypt),
        seconds,
    )
    row(
        "open (FieldCipher), beside its stored form's floor",
        open_ns,
        "base64url decode + AESGCM.decrypt",
        format_floor_ns,
    )

    linking_key = os.urandom(32)
    index = BlindIndex(linking_key)
    for kind, raw, what in SAMPLES:
        message = f"{kind}:{raw}".encode()
        ours, baseline = measure(
            sync_loop(lambda k=kind, r=raw: index.index(k, r)),  # type: ignore[misc]
            sync_loop(lambda m=message: hmac.new(linking_key, m, hashlib.sha256).digest()),  # type: ignore[misc]
            seconds,
        )
        row(
            f"blind index {kind}, {what} `{raw.strip()}`", ours, "hmac.new(sha256).digest", baseline
        )

    prepare = prepare_per_case(loop, cipher, index)
    loop.close()
    load_after = os.getloadavg()[0]
    return {
        "benchmark": "protection",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "cryptography": cryptography.__version__,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "plaintext_bytes": len(plaintext),
        # The machine may be shared: the ratios, each beside its floor in turn, are what hold.
        "load_average": {"before": load_before, "after": load_after, "cpus": os.cpu_count()},
        "rows": rows,
        "prepare_case": prepare,
    }


def prepare_per_case(
    loop: asyncio.AbstractEventLoop, cipher: FieldCipher, index: BlindIndex
) -> dict[str, Any]:
    """CPU per case of validating and preparing (`problems_of`, `prepare_case`) over the region
    generator's first cases (process time, best of three passes: the figure to hold against the
    hub's and graph's CPU per record)."""
    cases = list(region_cases(RegionParams(seed=7, forces=5, cases=PREPARED_CASES)))
    now, rules = datetime.now(UTC), default_case_rules()

    async def all_cases() -> None:
        for case in cases:
            if case.get("deleted"):
                continue
            if problems_of(case, caller_force=case["force"], now=now):
                raise RuntimeError("the region generator made an invalid case")
            await prepare_case(case, blind=index, cipher=cipher, now=now, rules=rules)

    passes = []
    for _ in range(3):
        started = time.process_time()
        loop.run_until_complete(all_cases())
        passes.append((time.process_time() - started) / len(cases))
    return {"cases": len(cases), "cpu_ms_per_case": round(min(passes) * 1000, 3)}


def share_of_sync(prepare_ms: float, sync: dict[str, Any]) -> dict[str, Any]:
    """Preparing's CPU per case as a share of the hub's and the graph's CPU per record in a
    `bench.bench_sync` result (the issue's target: at most 10%)."""
    cpu = sync["api"]["cpu_ms_per_record"]
    hub_and_graph = cpu["hub"] + cpu["engine"]
    return {
        "command": sync.get("command"),
        "engine": sync["engine"],
        "cases": sync["cases"],
        "load_average": sync.get("load_average"),
        "hub_ms_per_record": round(cpu["hub"], 3),
        "graph_ms_per_record": round(cpu["engine"], 3),
        "share": round(prepare_ms / hub_and_graph, 3),
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Field protection cost per field",
        "",
        f"Measured {result['measured_at']} on {result['machine']}, Python {result['python']}, "
        f"cryptography {result['cryptography']}; {result['plaintext_bytes']}-byte plaintext; "
        f"{_load(result)}. CPU time of the least of {REPEATS} batches, each beside a batch of its "
        "baseline. Reproduce with `python -m bench.bench_protection`.",
        "",
        "| operation | ns/op | baseline | baseline ns/op | ratio |",
        "|---|---:|---|---:|---:|",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['operation']} | {row['ns_per_op']:,.0f} | {row['baseline']} | "
            f"{row['baseline_ns_per_op']:,.0f} | {row['ratio']:.2f}x |"
        )
    prepare = result["prepare_case"]
    lines += [
        "",
        "Preparing a case (validated by `problems_of`, then `prepare_case`: every identifier "
        "indexed, every sensitive value sealed, figures derived): "
        f"{prepare['cpu_ms_per_case']:.3f} ms of CPU per case over the region generator's "
        f"first {prepare['cases']} cases. Set it beside the hub's and the graph's CPU per "
        "record in `sync-*.md`.",
    ]
    for sync in result.get("against_sync", []):
        load = sync["load_average"] or {}
        lines += [
            "",
            f"Against `{sync['command']}` ({sync['engine']}, {sync['cases']:,} cases; load average "
            f"{load.get('before', 0):.1f} before and {load.get('after', 0):.1f} after): the hub "
            f"{sync['hub_ms_per_record']:.3f} ms and the graph {sync['graph_ms_per_record']:.3f} "
            f"ms of CPU per record, so preparing is **{sync['share']:.0%}** of the two together "
            "(target 10%).",
        ]
    return "\n".join(lines) + "\n"


def _load(result: dict[str, Any]) -> str:
    load = result.get("load_average")
    if not load:
        return "load not recorded"
    return f"load average {load['before']:.1f} before and {load['after']:.1f} after"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    parser.add_argument(
        "--sync",
        type=Path,
        action="append",
        default=[],
        help="a bench_sync result (JSON) to set preparing's CPU beside (repeatable)",
    )
    arguments = parser.parse_args()
    syncs = [json.loads(path.read_text()) for path in arguments.sync]
    result = bench(arguments.seconds)
    prepare_ms = result["prepare_case"]["cpu_ms_per_case"]
    result["against_sync"] = [share_of_sync(prepare_ms, sync) for sync in syncs]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "protection.json").write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result)
    (RESULTS / "protection.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
