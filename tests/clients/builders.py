"""Case summaries and SDK clients for the client tests."""

from __future__ import annotations

import asyncio
from typing import Any

from crossforce_sdk import CrossforceClient, RetryPolicy


def case(
    number: int,
    *,
    force: str = "AS",
    version: int = 1,
    level: str = "HIGH",
    summary: str = "Uploads linked to a subscriber IP.",
) -> dict[str, Any]:
    """A small valid case summary (what the fake hub checks, and a little more)."""
    return {
        "schema": "crossforce/case-summary/v1",
        "force": force,
        "caseRef": f"{force}-2026-{number:04d}",
        "version": version,
        "referral": {"source": "NCA", "receivedAt": "2026-10-02T09:15:00Z"},
        "risk": {"level": level, "assessedAt": "2026-10-02T12:00:00Z"},
        "status": "NEW",
        "openedAt": "2026-10-02T09:20:00Z",
        "summary": summary,
    }


class RecordedSleeps:
    """Stands in for asyncio.sleep: remembers each wait instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


def fast_retries(**overrides: Any) -> RetryPolicy:
    settings: dict[str, Any] = {"max_attempts": 4, "base_delay": 0.01, "max_delay": 0.05}
    settings.update(overrides)
    return RetryPolicy(**settings)


def client_for(
    url: str,
    *,
    client_id: str = "force-AS",
    secret: str = "secret-AS",  # noqa: S107 (the fake hub's test secret)
    sleeps: RecordedSleeps | None = None,
    **options: Any,
) -> CrossforceClient:
    options.setdefault("retry", fast_retries())
    if sleeps is not None:
        options["sleep"] = sleeps
    return CrossforceClient(url, client_id, secret, **options)
