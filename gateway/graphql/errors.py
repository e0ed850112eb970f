"""GraphQL errors with a stable `extensions.code`, and the one place exceptions become errors.

Messages name no data: an unexpected exception becomes `INTERNAL_SERVER_ERROR` with a fixed
message, so no stack trace or value ever reaches a client. Validation's "Did you mean ...?"
hints name fields and types of the schema: where introspection is off they would hand the
schema out one guess at a time, so they are cut unless the caller says suggestions are allowed.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import GraphQLError

from federation.victim_work import AlreadyRecorded, WorkRefused
from graph import GraphUnavailable
from policies.audit import AuditUnavailable
from policies.limits import RateLimited
from policies.reveal import Shredded
from policies.scopes import Forbidden
from policies.sharing import UnknownField

log = logging.getLogger("crossforce.graphql")

FORBIDDEN = "FORBIDDEN"
BAD_USER_INPUT = "BAD_USER_INPUT"
NOT_FOUND = "NOT_FOUND"
CONFLICT = "CONFLICT"
RATE_LIMITED = "RATE_LIMITED"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
AUDIT_UNAVAILABLE = "AUDIT_UNAVAILABLE"
SHREDDED = "SHREDDED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
INTERNAL = "INTERNAL_SERVER_ERROR"
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"


# graphql-core ends a validation message with its guesses: " Did you mean 'x' or 'y'?"
SUGGESTION = re.compile(r"\s*Did you mean\b.*$", re.DOTALL)


class BadInput(ValueError):
    """An argument is out of range or malformed; the message says which and why."""


class NotFound(LookupError):
    """The thing named does not exist or is not visible to the caller (indistinguishable)."""


def _code_and_message(original: BaseException | None, error: GraphQLError) -> tuple[str, str]:
    if original is None:
        if error.message.startswith("Syntax Error"):
            return PARSE_FAILED, error.message
        return VALIDATION_FAILED, error.message
    if isinstance(original, Forbidden):
        return FORBIDDEN, original.reason
    if isinstance(original, RateLimited):
        return RATE_LIMITED, str(original)
    if isinstance(original, AlreadyRecorded):
        return CONFLICT, str(original)
    if isinstance(original, WorkRefused):
        return FORBIDDEN, str(original)
    if isinstance(original, BadInput | UnknownField):
        return BAD_USER_INPUT, str(original)
    if isinstance(original, NotFound):
        return NOT_FOUND, str(original) or "not found"
    if isinstance(original, Shredded):
        return SHREDDED, str(original)
    if isinstance(original, AuditUnavailable):
        return AUDIT_UNAVAILABLE, "the audit log cannot be written; nothing was revealed"
    if isinstance(original, GraphUnavailable):
        return SERVICE_UNAVAILABLE, "the graph is unavailable; retry shortly"
    if isinstance(original, GraphQLError):  # raised by a permission class or a limiter
        return str((original.extensions or {}).get("code", FORBIDDEN)), original.message
    log.error("unexpected error in a resolver: %s", type(original).__name__)
    return INTERNAL, "internal error"


def formatted(error: GraphQLError, *, suggestions: bool = False) -> dict[str, Any]:
    """The error as the client sees it: message, locations, path and a code."""
    existing = (error.extensions or {}).get("code")
    code, message = (
        (str(existing), error.message)
        if existing and error.original_error is None
        else _code_and_message(error.original_error, error)
    )
    if not suggestions:
        message = SUGGESTION.sub("", message)
    out: dict[str, Any] = {"message": message, "extensions": {"code": code}}
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        out["path"] = list(error.path)
    return out
