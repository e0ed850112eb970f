"""The synchronous client: the async client run on an event loop of its own.

For force systems written without asyncio (a batch job, a Django command). Each call runs to the
end before it returns; records are still read lazily, so a generator over a large file is never
held whole. Not for use inside a running event loop: there, use `CrossforceClient`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from crossforce_sdk.client import CrossforceClient, ProgressCallback
from crossforce_sdk.records import ChangesPage, InvalidRecord, SyncReport


class BlockingCrossforceClient:
    """The calls of `CrossforceClient`, blocking; the same arguments. Use it as a context manager
    or call `close()`."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, **options: Any) -> None:
        self._runner = asyncio.Runner()
        self._client = self._runner.run(_make(base_url, client_id, client_secret, options))

    def __enter__(self) -> BlockingCrossforceClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._runner.run(self._client.aclose())
        finally:
            self._runner.close()

    def __repr__(self) -> str:
        return f"Blocking{self._client!r}"

    def sync(
        self,
        records: Iterable[Mapping[str, Any] | InvalidRecord],
        *,
        on_progress: ProgressCallback | None = None,
    ) -> SyncReport:
        """Push case summaries to the hub; see `CrossforceClient.sync`."""
        return self._runner.run(self._client.sync(records, on_progress=on_progress))

    def changes(self, since: str | None = None) -> ChangesPage:
        """One page of the change feed after cursor `since`."""
        return self._runner.run(self._client.changes(since))

    def change_pages(self, since: str | None = None) -> Iterator[ChangesPage]:
        """Every page from cursor `since` on, ending with the first empty one."""
        cursor = since
        while True:
            page = self.changes(cursor)
            yield page
            if not page.changes or page.next is None or page.next == cursor:
                return
            cursor = page.next

    def graphql(self, document: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of a GraphQL operation."""
        return self._runner.run(self._client.graphql(document, variables))


async def _make(
    base_url: str, client_id: str, client_secret: str, options: dict[str, Any]
) -> CrossforceClient:
    """Built inside the runner's loop, so its locks and connections belong to that loop."""
    return CrossforceClient(base_url, client_id, client_secret, **options)
