"""Revealing one sensitive field: the agreement allows it, a purpose is stated, and the value is
returned only once the audit log holds the reveal with the outcome it had.

If the audit log cannot be written, nothing is returned. A refused reveal is audited too (as
`access.denied`), so probing shows up in the log; and a field that does not exist (no such case,
a case the caller may not see, no value at the pointer) is refused exactly as a field the
agreement keeps hidden, so a reveal cannot tell whether a case or a value exists.
"""

from __future__ import annotations

from typing import NoReturn, Protocol

from policies.audit import (
    ACCESS_DENIED,
    DENIED,
    FAILED,
    OK,
    REVEAL,
    SHREDDED,
    AuditLog,
    bounded,
)
from policies.audit import MAX_PURPOSE as MAX_STORED_PURPOSE
from policies.crypto import FieldCipher
from policies.keys import KeyShredded
from policies.principal import Principal
from policies.scopes import Forbidden

MIN_PURPOSE = 10
MAX_PURPOSE = 500
MIN_PURPOSE_WORDS = 2  # "a short sentence": a purpose such as "identify suspect", not "why"
NOT_REVEALABLE = "this field may not be revealed"


class Shredded(Exception):
    """The field's data key was shredded: its value is gone for good. The reveal is audited."""

    def __init__(self) -> None:
        super().__init__("the data key of this field was shredded: its value is gone for good")


class RevealPolicy(Protocol):
    def can_reveal(self, principal: Principal, owner_force: str, pointer: str) -> bool: ...


def reveal_target(owner_force: str, case_ref: str, pointer: str) -> str:
    """How the audit log names a field: force, case and JSON pointer, never the value."""
    return f"case:{owner_force}/{case_ref}#{pointer}"


async def reveal(
    *,
    principal: Principal,
    owner_force: str,
    case_ref: str,
    pointer: str,
    purpose: str,
    sealed: str | None,
    policy: RevealPolicy,
    cipher: FieldCipher,
    audit: AuditLog,
) -> str:
    """The field's plaintext, or `Forbidden`. `sealed` is None when there is no value to reveal
    (absent or invisible case, no value at the pointer). Raises `Shredded` when the value's data
    key was shredded, `AuditUnavailable` (nothing returned) when the audit log cannot be
    written, `UnknownField` for a pointer that names no field."""
    target = reveal_target(owner_force, case_ref, pointer)
    stated = " ".join(purpose.split())
    # A refused purpose may be any size: the log keeps it only if it fits.
    kept = bounded("purpose", stated, MAX_STORED_PURPOSE)

    async def refuse(reason: str) -> NoReturn:
        await audit.record(
            actor=principal, action=ACCESS_DENIED, target=target, outcome=DENIED, purpose=kept
        )
        raise Forbidden(reason)

    words = len(stated.split())
    if not MIN_PURPOSE <= len(stated) <= MAX_PURPOSE or words < MIN_PURPOSE_WORDS:
        await refuse(
            f"state a purpose in a short sentence ({MIN_PURPOSE} to {MAX_PURPOSE} characters)"
        )
    if not policy.can_reveal(principal, owner_force, pointer) or sealed is None:
        await refuse(NOT_REVEALABLE)
    outcome = FAILED
    try:
        value = await cipher.open(owner_force, case_ref, pointer, sealed)
        outcome = OK
    except KeyShredded:
        outcome = SHREDDED
        raise Shredded() from None
    finally:
        # Written with the outcome the reveal had; the value leaves only once this is stored.
        await audit.record(
            actor=principal, action=REVEAL, target=target, outcome=outcome, purpose=kept
        )
    return value
