"""Revealing one sensitive field: the agreement allows it, a purpose is stated, the audit log has
it, and only then is the value decrypted.

The order matters: if the audit log cannot be written, nothing is decrypted; a refused reveal is
audited too (as `access.denied`), so probing shows up in the log.
"""

from __future__ import annotations

from typing import Protocol

from policies.audit import ACCESS_DENIED, DENIED, REVEAL, AuditLog
from policies.crypto import FieldCipher
from policies.principal import Principal
from policies.scopes import Forbidden

MIN_PURPOSE = 10
MAX_PURPOSE = 500
MIN_PURPOSE_WORDS = 2  # "a short sentence": a purpose such as "identify suspect", not "why"


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
    sealed: str,
    policy: RevealPolicy,
    cipher: FieldCipher,
    audit: AuditLog,
) -> str:
    """The field's plaintext, or `Forbidden`. Raises `AuditUnavailable` (nothing revealed) when
    the audit log cannot be written, `UnknownField` for a pointer that names no field."""
    target = reveal_target(owner_force, case_ref, pointer)
    stated = " ".join(purpose.split())
    words = len(stated.split())
    if not MIN_PURPOSE <= len(stated) <= MAX_PURPOSE or words < MIN_PURPOSE_WORDS:
        await audit.record(
            actor=principal, action=ACCESS_DENIED, target=target, outcome=DENIED, purpose=stated
        )
        raise Forbidden(
            f"state a purpose in a short sentence ({MIN_PURPOSE} to {MAX_PURPOSE} characters)"
        )
    if not policy.can_reveal(principal, owner_force, pointer):
        await audit.record(
            actor=principal, action=ACCESS_DENIED, target=target, outcome=DENIED, purpose=stated
        )
        raise Forbidden("this field may not be revealed")
    await audit.record(actor=principal, action=REVEAL, target=target, purpose=stated)
    return await cipher.open(owner_force, case_ref, pointer, sealed)
