"""Errors of the federation API as RFC 9457 problem details (`application/problem+json`).

Each kind of refusal has a `type` URI a force system can branch on, a fixed `title`, the
`status`, and a `detail` for the person reading it. The body also repeats `detail` as `error`,
the member the API's errors carried before, so clients written against it keep working.
Success bodies, and the per-record results of `POST /federation/v1/cases` (a 422 included),
are not problems and keep their shape.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from starlette.responses import JSONResponse

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:crossforce:problem:"

# Kind -> (status, title). The kind is the last part of the `type` URI.
KINDS: dict[str, tuple[int, str]] = {
    "malformed-body": (400, "The body is not a batch of case summaries"),
    "malformed-referrals": (400, "The body is not a well-formed referral file"),
    "unknown-format": (400, "The referral format is not one the hub reads"),
    "bad-cursor": (400, "The change feed cursor is not valid"),
    "bad-bookmark": (400, "The Crossforce-Bookmark header is not one a hub made"),
    "unauthorised": (401, "No valid access token"),
    "forbidden": (403, "Not allowed for this token"),
    "not-found": (404, "No such resource"),
    "method-not-allowed": (405, "Method not allowed on this resource"),
    "too-large": (413, "The body is larger than the hub accepts"),
    "unsupported-encoding": (415, "Content-Encoding must be gzip or identity"),
    "unimportable-referrals": (422, "Some referrals cannot become case summaries"),
    "rate-limited": (429, "Too many requests"),
    "unavailable": (503, "The graph is unavailable; nothing was applied"),
}
# A bare status names the first kind listed for it; a 422 from the router is no referral's.
_BY_STATUS = {
    status: kind
    for kind, (status, _) in reversed(KINDS.items())
    if kind != "unimportable-referrals"
}


class ProblemResponse(JSONResponse):
    media_type = MEDIA_TYPE


def problem(
    kind: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> ProblemResponse:
    """The problem details answer of one kind of refusal (a key of `KINDS`), with any
    extension members (RFC 9457, section 3.2) after the standard ones."""
    status, title = KINDS[kind]
    body: dict[str, Any] = {
        **(extensions or {}),
        "type": TYPE_PREFIX + kind,
        "title": title,
        "status": status,
        "detail": detail or title,
        "error": detail or title,
    }
    return ProblemResponse(body, status_code=status, headers=headers)


def problem_for_status(
    status: int, detail: str | None = None, headers: dict[str, str] | None = None
) -> ProblemResponse:
    """A problem for a bare status code (an error raised by the router, e.g. 404 or 405)."""
    kind = _BY_STATUS.get(status)
    if kind is not None:
        return problem(kind, detail, headers)
    phrase = HTTPStatus(status).phrase
    body = {"type": "about:blank", "title": phrase, "status": status, "detail": detail or phrase}
    return ProblemResponse(body, status_code=status, headers=headers)
