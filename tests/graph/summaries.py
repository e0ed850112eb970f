"""Case summaries prepared as the federation API prepares them (real blind indexes, real AES-GCM)
and written through `graph/cases.py`, for the read repositories' contract tests."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from federation.prepare import prepare_case
from graph import GraphStore
from graph.cases import CaseRow, upsert_cases
from graph.keyring_store import MemoryKeyStore
from policies.blind_index import BlindIndex
from policies.case_rules import default_case_rules
from policies.crypto import FieldCipher
from policies.keys import KeyRing, LocalKeyFile
from tests.federation.conftest import examples

# Each kind of entity a prepared row lists, with the label and relationship it is written under.
ENTITY_LISTS = {
    "persons": ("Person", "SUSPECT"),
    "devices": ("Device", "USES_DEVICE"),
    "accounts": ("Account", "USES_ACCOUNT"),
    "ips": ("IPAddress", "SEEN_FROM"),
    "media": ("Media", "CONTAINS_MEDIA"),
    "series": ("Series", "IN_SERIES"),
}


@dataclass
class Prepared:
    """Prepares case summaries with one region's keys, and writes them."""

    cipher: FieldCipher
    blind: BlindIndex

    @classmethod
    def under(cls, directory: Path) -> Prepared:
        keys = KeyRing(MemoryKeyStore(), LocalKeyFile(directory / "kek.key"))
        return cls(FieldCipher(keys), BlindIndex(os.urandom(32)))

    async def row(self, record: dict[str, Any]) -> CaseRow:
        return await prepare_case(
            record, blind=self.blind, cipher=self.cipher, now=datetime.now(UTC),
            rules=default_case_rules(),
        )  # fmt: skip

    async def write(self, store: GraphStore, *records: dict[str, Any]) -> dict[str, CaseRow]:
        """Write the records (each a newer version than any held); their rows by case key."""
        rows = [await self.row(record) for record in records]
        assert await upsert_cases(store, rows) == {row["key"] for row in rows}
        return {row["key"]: row for row in rows}


def two_forces() -> tuple[dict[str, Any], dict[str, Any]]:
    """Avon and Somerset's case and Gloucestershire's, which share a suspect, a phone and an
    image (tests/federation/data/two-forces.jsonl)."""
    first, second = examples()
    return first, second


def bare(force: str, case_ref: str, **extra: Any) -> dict[str, Any]:
    """A valid summary with nothing but what the schema requires, and `extra`."""
    return {
        "schema": "crossforce/case-summary/v1", "force": force, "caseRef": case_ref,
        "version": 1,
        "referral": {"source": "PUBLIC", "receivedAt": "2026-11-02T10:00:00Z"},
        "risk": {"level": "VERY_HIGH", "assessedAt": "2026-11-02T11:00:00Z"},
        "status": "NEW", "openedAt": "2026-11-02T11:30:00Z",
    } | extra  # fmt: skip


def millis(instant: str) -> int:
    return int(datetime.fromisoformat(instant.replace("Z", "+00:00")).timestamp() * 1000)


def entity_keys(row: CaseRow, kind: str) -> set[str]:
    return {link["key"] for link in row[kind]}  # type: ignore[literal-required]
