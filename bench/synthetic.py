"""Small deterministic case summaries for benchmarks (the full region generator is separate)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

FORCES = ("AS", "GL", "WI", "DC", "DO")


def case_summaries(count: int, *, seed: int = 7, overlap: float = 0.03) -> list[dict[str, Any]]:
    """`count` cases spread over the five forces; `overlap` of them share a phone, an IMEI and
    an image with a case of another force, written in another notation."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    cases = []
    for i in range(count):
        force = FORCES[i % len(FORCES)]
        shared = rng.random() < overlap
        n = rng.randrange(1000) if shared else i + 1000
        received = start + timedelta(minutes=7 * i % 400_000)
        stamp = received.isoformat().replace("+00:00", "Z")
        cases.append(
            {
                "schema": "crossforce/case-summary/v1",
                "force": force,
                "caseRef": f"{force}-B-{i:07d}",
                "version": 1,
                "referral": {"source": "NCA", "receivedAt": stamp},
                "risk": {"level": rng.choice(("HIGH", "MEDIUM", "LOW")), "assessedAt": stamp},
                "status": "ALLOCATED",
                "openedAt": stamp,
                "summary": f"Synthetic benchmark case {i}.",
                "officer": {"name": f"DC Bench {i % 50}", "email": f"dc{i % 50}@{force}.example"},
                "suspects": [
                    {
                        "ref": "P1",
                        "givenName": f"Given{n}",
                        "familyName": f"Family{n}",
                        "dateOfBirth": "1980-01-01",
                        "phones": [f"07700 9{n:05d}" if i % 2 else f"+4477009{n:05d}"],
                        "emails": [f"user{n}@example.com"],
                    }
                ],
                "devices": [
                    {"ref": "D1", "type": "PHONE", "imei": f"35209900{n:06d}", "usedBy": ["P1"]}
                ],
                "accounts": [
                    {"ref": "A1", "platform": "snapchat", "handle": f"user_{n}", "usedBy": ["P1"]}
                ],
                "ipAddresses": [{"address": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"}],
                "victims": [{"ref": "V1", "identified": False, "ageBand": "8-12"}],
                "media": [
                    {"sha1": f"{n:040x}", "category": "A", "depicts": ["V1"]},
                    {"md5": f"{i:032x}", "category": "C"},
                ],
            }
        )  # fmt: skip
    return cases
