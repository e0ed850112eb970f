"""Crossforce SDK: push case summaries to the hub and read its change feed, over HTTP only.

    async with CrossforceClient("https://hub.example", "force-AS", secret) as client:
        report = await client.sync(records)
        async for page in client.change_pages(since=cursor):
            ...

`BlockingCrossforceClient` makes the same calls from code without an event loop. The client
authenticates with OAuth 2 client credentials (Authlib), retries what is transient (tenacity) and
never puts record contents into an error: case summaries hold personal data about children and
suspects, and error messages end up in logs. It needs nothing of the hub.
"""

from crossforce_sdk.blocking import BlockingCrossforceClient
from crossforce_sdk.client import CrossforceClient
from crossforce_sdk.errors import AuthError, CrossforceError, HubUnavailable, SyncError
from crossforce_sdk.records import (
    ChangesPage,
    InvalidRecord,
    RecordError,
    Rejection,
    SyncProgress,
    SyncReport,
    encode_record,
)
from crossforce_sdk.retries import RetryPolicy, parse_retry_after

__all__ = [
    "AuthError",
    "BlockingCrossforceClient",
    "ChangesPage",
    "CrossforceClient",
    "CrossforceError",
    "HubUnavailable",
    "InvalidRecord",
    "RecordError",
    "Rejection",
    "RetryPolicy",
    "SyncError",
    "SyncProgress",
    "SyncReport",
    "encode_record",
    "parse_retry_after",
]
