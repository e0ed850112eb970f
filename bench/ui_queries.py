"""The web UI's GraphQL documents as it sends them, for the benchmarks and the tests.

A document is its file in web/src/queries, then each fragment it spreads (directly or through
another fragment) from web/src/queries/fragments, in order of name, one blank line apart: the
rule of web/plugins/persisted-queries.ts, written again here so that a test can catch a change.
"""

from __future__ import annotations

import re
from pathlib import Path

QUERIES = Path(__file__).resolve().parents[1] / "web" / "src" / "queries"
SPREAD = re.compile(r"\.\.\.\s*([_A-Za-z][_0-9A-Za-z]*)")


def document(name: str) -> str:
    fragments = {path.stem: path.read_text() for path in (QUERIES / "fragments").glob("*.graphql")}
    text = (QUERIES / f"{name}.graphql").read_text()
    needed: set[str] = set()
    pending = [text]
    while pending:
        for spread in SPREAD.findall(pending.pop()):
            if spread in fragments and spread not in needed:
                needed.add(spread)
                pending.append(fragments[spread])
    return "\n".join([text, *(fragments[n] for n in sorted(needed))])


def documents() -> set[str]:
    return {document(path.stem) for path in QUERIES.glob("*.graphql")}
