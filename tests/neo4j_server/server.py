"""Starts Neo4j Community (pinned in pom.xml) on a JVM for the tests, from Maven Central jars.

Maven resolves the jars once into ~/.m2 and the classpath is cached beside this file, so later
starts take seconds. The Java launcher runs in source-file mode: nothing to build or commit.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
CLASSPATH = HERE / ".classpath"


class Neo4jUnavailable(RuntimeError):
    pass


def java_available() -> bool:
    return shutil.which("java") is not None and shutil.which("mvn") is not None


def _classpath() -> str:
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()
    if CLASSPATH.exists():
        cached_digest, _, cached = CLASSPATH.read_text().partition("\n")
        if cached_digest == digest and cached:
            return cached
    output = HERE / "target" / "classpath.txt"
    output.parent.mkdir(exist_ok=True)
    subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:build-classpath",
            f"-Dmdep.outputFile={output}",
        ],
        check=True,
        timeout=1200,
    )
    classpath = output.read_text().strip()
    CLASSPATH.write_text(f"{digest}\n{classpath}")
    return classpath


class Neo4jServer:
    def __init__(self, start_timeout: float = 180.0) -> None:
        self._timeout = start_timeout
        self._process: subprocess.Popen[str] | None = None
        self.uri = ""

    def start(self) -> str:
        classpath = _classpath()
        java_opts = os.environ.get("CROSSFORCE_TEST_NEO4J_JAVA_OPTS", "-Xmx1g -XX:+UseSerialGC")
        self._process = subprocess.Popen(
            ["java", *java_opts.split(), "-cp", classpath, str(HERE / "Neo4jLauncher.java")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.uri = self._read_uri()
        return self.uri

    @property
    def pid(self) -> int | None:
        """The JVM's process id while it runs (the benchmarks read its CPU time)."""
        return None if self._process is None else self._process.pid

    def _read_uri(self) -> str:
        assert self._process is not None and self._process.stdout is not None
        found: list[str] = []
        reader = threading.Thread(
            target=lambda: found.append(self._process.stdout.readline())  # type: ignore[union-attr]
        )
        reader.start()
        reader.join(self._timeout)
        line = found[0] if found else ""
        if not line.startswith("BOLT "):
            self.stop()
            raise Neo4jUnavailable(f"Neo4j did not start within {self._timeout:.0f} s")
        return line.split(" ", 1)[1].strip().rstrip("/")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin:
            process.stdin.close()  # the launcher exits when its stdin closes
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if process.poll() is None:
            process.kill()
        process.wait()
