"""Referral import rate: a generated CyberTipline file through `crossforce import cybertipline`.

Writes a synthetic referral file of `--referrals` reports (each with a reported user, two IP
captures, an IMEI and two files with MD5 and SHA1; one in fifty shares an IP with another, so
links are found), then times two things: the check alone (parse, map and validate every report
in this process, as the command's first pass does), and the whole command against a hub started
with `crossforce serve` on the embedded graph in a fresh data dir.

    python -m bench.bench_import --referrals 100000

Results: bench/results/import-cybertipline-<referrals>.json and a Markdown table beside it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from federation.referrals.case_refs import CaseRefs
from federation.referrals.importer import check, cybertipline_referrals
from federation.referrals.xml_records import file_chunks
from gateway.demo.server import wait_until_ready
from graph.embedded import free_port

RESULTS = Path(__file__).parent / "results"
CLIENT = "force-AS"
FORCE = "AS"
START = datetime(2026, 9, 1, tzinfo=UTC)


def write_referrals(out: IO[str], count: int) -> None:
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<cyberTiplineReports>\n')
    for n in range(count):
        shared = n - n % 50  # one in fifty shares its first IP with the report before it
        first_ip = f"10.{shared // 65536 % 256}.{shared // 256 % 256}.{shared % 256}"
        at = (START + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        md5 = hashlib.md5(f"file-{n}".encode()).hexdigest()  # noqa: S324 (synthetic test data)
        sha1 = hashlib.sha1(f"file-{n}-b".encode()).hexdigest()  # noqa: S324
        imei = f"35{n:012d}"
        out.write(
            f"""  <cyberTiplineReport>
    <reportId>{900000000 + n}</reportId>
    <receivedDateTime>{at}</receivedDateTime>
    <report>
      <incidentSummary>
        <incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>
        <incidentDateTime>{at}</incidentDateTime>
      </incidentSummary>
      <reporter><reportingPerson><email>reports@esp.example</email></reportingPerson></reporter>
      <personOrUserReported>
        <espIdentifier>{10_000_000 + n}</espIdentifier>
        <espService>ExampleService</espService>
        <screenName>user_{n}</screenName>
        <ipCaptureEvent><ipAddress>{first_ip}</ipAddress>
          <eventName>Upload</eventName><dateTime>{at}</dateTime></ipCaptureEvent>
        <ipCaptureEvent><ipAddress>172.16.{n // 256 % 256}.{n % 256}</ipAddress>
          <eventName>Login</eventName><dateTime>{at}</dateTime></ipCaptureEvent>
        <deviceId><idType>IMEI</idType><idValue>{imei}</idValue></deviceId>
      </personOrUserReported>
    </report>
    <fileDetails><reportId>{900000000 + n}</reportId><fileId>a{n}</fileId>
      <originalFileHash hashType="MD5">{md5}</originalFileHash></fileDetails>
    <fileDetails><reportId>{900000000 + n}</reportId><fileId>b{n}</fileId>
      <originalFileHash hashType="SHA1">{sha1}</originalFileHash></fileDetails>
  </cyberTiplineReport>
"""
        )
    out.write("</cyberTiplineReports>\n")


def crossforce(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args], env=env, capture_output=True, text=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--referrals", type=int, default=100_000)
    args = parser.parse_args()
    count: int = args.referrals
    with tempfile.TemporaryDirectory(prefix="bench-import-") as scratch:
        file = Path(scratch) / "referrals.xml"
        with file.open("w", encoding="utf-8") as out:
            write_referrals(out, count)
        size = file.stat().st_size

        started = time.perf_counter()
        found = check(
            cybertipline_referrals(
                file_chunks(str(file)), FORCE, datetime.now(UTC), case_refs=CaseRefs(os.urandom(32))
            )
        )
        check_seconds = time.perf_counter() - started
        assert found.importable == count, found.refused[:3]

        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSFORCE_")}
        env |= {
            "CROSSFORCE_DATA_DIR": str(Path(scratch) / "data"),
            "CROSSFORCE_LOG_LEVEL": "warning",
        }
        hub = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            assert wait_until_ready(url, 120, alive=lambda: hub.poll() is None)
            started = time.perf_counter()
            done = crossforce(env, "import", "cybertipline", str(file), "--client", CLIENT)
            import_seconds = time.perf_counter() - started
        finally:
            hub.terminate()
            hub.wait(60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{count} applied" in done.stdout, done.stdout
    result = {
        "referrals": count,
        "file_bytes": size,
        "check_seconds": round(check_seconds, 2),
        "check_per_second": round(count / check_seconds, 1),
        "import_seconds": round(import_seconds, 2),
        "import_per_second": round(count / import_seconds, 1),
        "engine": "falkordb (embedded)",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"import-cybertipline-{count}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    stem.with_suffix(".md").write_text(
        "| referrals | file | check (parse, map, validate) | whole import (check + push) |\n"
        "|---|---|---|---|\n"
        f"| {count} | {size / 1e6:.1f} MB | {result['check_seconds']} s, "
        f"{result['check_per_second']}/s | {result['import_seconds']} s, "
        f"{result['import_per_second']}/s |\n"
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
