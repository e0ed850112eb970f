"""Case references for imported referrals that do not show the referral's own reference.

A case reference is shown to other forces under sharing agreements; a referral's own reference
(the NCMEC report id) is the referring body's key to the report and is kept only, sealed, in
`referral.reference`. So an imported case is named by the sender's prefix and a keyed digest of
the force and that reference: the same report imported again by the same force gets the same
case reference (so it updates or is `stale`, never a second case), while nobody without the key
can tell from the case reference which report it came from, nor that two forces imported the
same one. A report id is a short number, so an unkeyed hash of it would be reversed by trying
every id; the key is what hides it.

The key is derived from the region's linking key (held by the hub, and by `crossforce import`
run beside it), under a label of its own, so a case reference never equals a blind index.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

LABEL = b"crossforce referral case reference v1"
DIGEST_CHARS = 20  # 100 bits of base32: no two references of a force collide in practice


class CaseRefs:
    """Case references under one key: `of("CT", force, report_id)` -> `CT-` + 20 characters."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the case reference key must be at least 32 bytes")
        self._key = key

    @classmethod
    def for_region(cls, linking_key: bytes) -> CaseRefs:
        """The region's case references, keyed by a key derived from its linking key."""
        return cls(hmac.new(linking_key, LABEL, hashlib.sha256).digest())

    def of(self, prefix: str, force: str, reference: str) -> str:
        message = "\x1f".join((prefix, force, reference)).encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        text = base64.b32encode(digest).decode("ascii").rstrip("=")
        return f"{prefix}-{text[:DIGEST_CHARS]}"
