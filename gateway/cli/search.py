"""`crossforce search KIND VALUE --purpose P --client C`: does any force hold this identifier?

Asks the running hub's GraphQL `holders` with a development token for the client, minted from
the data dir as `crossforce token` does, so the search is the hub's own: normalised as ingest
does it, shown as the client's agreements allow, audited with its purpose. Prints the holders
as a table on stdout.

Exit status: 0 when the hub answered (holders or none); 1 when it refused the search (a value
that is no identifier, a purpose too thin, a scope the client lacks); 2 when the search could
not run (no such client, the hub unreachable).
"""

from __future__ import annotations

from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from rich.text import Text

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_CANNOT_RUN = 2

HOLDERS = """query Holders($kind: IdentifierKind!, $value: String!, $purpose: String!) {
  holders(identifier: {kind: $kind, value: $value}, purpose: $purpose) { force caseRef contact }
}"""
TIMEOUT_SECONDS = 30.0


def kind_name(kind: str) -> str:
    """`phone`, `ip-address` and `IP_ADDRESS` all name `IP_ADDRESS`-style GraphQL values."""
    return kind.strip().upper().replace("-", "_")


def holders_table(holders: list[dict[str, Any]]) -> Table:
    table = Table("force", "case", "contact")
    for holder in holders:
        table.add_row(  # as Text: a contact's brackets are not rich markup
            Text(holder["force"]),
            Text(holder["caseRef"] or "(reference not shared)"),
            Text(holder["contact"] or ""),
        )
    return table


def run_search(
    *, url: str, token: str, kind: str, value: str, purpose: str, out: Console, err: Console
) -> int:
    variables = {"kind": kind, "value": value, "purpose": purpose}
    try:
        response = httpx.post(
            f"{url.rstrip('/')}/graphql",
            json={"query": HOLDERS, "variables": variables},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as error:
        err.print(f"crossforce search: cannot reach the hub at {url}: {type(error).__name__}")
        return EXIT_CANNOT_RUN
    try:
        payload = response.json()
    except ValueError:
        err.print(f"crossforce search: the hub answered {response.status_code} without JSON")
        return EXIT_CANNOT_RUN
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if errors or response.status_code != 200:
        for problem in errors or [{"message": f"HTTP {response.status_code}"}]:
            code = (problem.get("extensions") or {}).get("code")
            suffix = f" ({code})" if code else ""
            err.print(f"crossforce search: {problem.get('message')}{suffix}", markup=False)
        return EXIT_REFUSED
    holders: list[dict[str, Any]] = payload["data"]["holders"]
    if not holders:
        out.print("No force holds this identifier, as far as your agreements show.")
        return EXIT_OK
    out.print(holders_table(holders))
    return EXIT_OK
