"""The SDK's errors. Messages name statuses, URLs and counts, never record contents: case
summaries hold personal data about children and suspects, and error messages end up in logs."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crossforce_sdk.records import SyncReport


class CrossforceError(Exception):
    """Base of the SDK's errors. `report` holds what a sync achieved before the error, if any."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.report: SyncReport | None = None


class AuthError(CrossforceError):
    """Credentials or permissions refused: by the token endpoint, by the hub (401 after a fresh
    token) or for the scope or force (403). Retrying will not help; fix the configuration."""


class SyncError(CrossforceError):
    """A call to the hub failed for good: a malformed request (400), an answer the SDK does not
    understand, or an unexpected status."""


class HubUnavailable(SyncError):
    """The hub could not be reached, or stayed rate-limited or unavailable, for the whole retry
    budget. Nothing is lost: re-running the sync later is safe."""
