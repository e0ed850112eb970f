"""Persisted queries: the web UI sends a document's SHA-256 instead of its text.

The manifest is built with the UI (`{"<sha256 hex>": "<document>"}`); with
`graphql_persisted_only`, nothing else is executed, so a stolen token cannot run arbitrary
queries through the production gateway.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cross_web import HTTPException

DEFAULT_MANIFEST = Path(__file__).resolve().parent.parent / "static" / "persisted-queries.json"


class PersistedQueryError(HTTPException):
    def __init__(self, reason: str, code: str) -> None:
        super().__init__(400, reason)
        self.code = code


def sha256_of(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


@dataclass(frozen=True)
class PersistedQueries:
    documents: Mapping[str, str] = field(default_factory=dict)
    only: bool = False

    @classmethod
    def load(cls, path: Path | None, *, only: bool = False) -> PersistedQueries:
        source = path or DEFAULT_MANIFEST
        if not source.exists():
            if path is not None:
                raise FileNotFoundError(f"persisted query manifest {source} does not exist")
            return cls({}, only)
        raw = json.loads(source.read_text())
        if not isinstance(raw, dict):
            raise ValueError(f"{source}: a JSON object from SHA-256 to document")
        documents = {str(k): str(v) for k, v in raw.items()}
        for digest, document in documents.items():
            if sha256_of(document) != digest:
                raise ValueError(f"{source}: the document under {digest[:12]}... has another hash")
        return cls(documents, only)

    def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> str | None:
        """The document to execute: the persisted one named by hash, or the one sent."""
        persisted = (extensions or {}).get("persistedQuery")
        digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if digest is None:
            if self.only:
                raise PersistedQueryError(
                    "only persisted queries are accepted", "PERSISTED_QUERY_REQUIRED"
                )
            return query
        if not isinstance(digest, str) or digest not in self.documents:
            raise PersistedQueryError("unknown persisted query", "PERSISTED_QUERY_NOT_FOUND")
        if query is not None and sha256_of(query) != digest:
            raise PersistedQueryError("query does not match its hash", "PERSISTED_QUERY_MISMATCH")
        return self.documents[digest]
