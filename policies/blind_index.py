"""Blind indexes: keyed hashes of normalised identifiers, the keys of shared entity nodes.

HMAC-SHA256 under the regional linking key over `kind + ":" + normalised`. The kind keeps an
e-mail and an account handle that happen to be the same text apart. The linking key is not an
encryption key: it never decrypts anything, and it is kept apart from the data keys so that
shredding a force's data keys does not unlink the region's graph (and vice versa).
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from policies.files import read_or_create_private
from policies.normalise import DEFAULT_RULES, NORMALISERS, InvalidIdentifier, LinkingRules

if TYPE_CHECKING:
    from _hashlib import HASH

Encoding = Literal["hex", "base64url"]
_BLOCK = 64  # SHA-256's block size in bytes
_IPAD = bytes(byte ^ 0x36 for byte in range(256))
_OPAD = bytes(byte ^ 0x5C for byte in range(256))


def load_linking_key(data_dir: Path) -> bytes:
    """Development linking key: 32 random bytes in `<data dir>/keys/linking.key` (0600)."""
    key = read_or_create_private(data_dir / "keys" / "linking.key", lambda: os.urandom(32))
    if len(key) < 32:
        raise ValueError("the linking key must be at least 32 bytes")
    return key


class BlindIndex:
    """Indexes under one linking key, normalising by the region's linking rules (`rules`)."""

    def __init__(
        self, key: bytes, *, encoding: Encoding = "hex", rules: LinkingRules = DEFAULT_RULES
    ) -> None:
        if len(key) < 32:
            raise ValueError("the linking key must be at least 32 bytes")
        # HMAC-SHA256 (RFC 2104) from its two keyed SHA-256 states, each computed once: an index
        # then costs two state copies and two short updates, the same digest as `hmac.new`.
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(key.translate(_IPAD))
        self._outer = hashlib.sha256(key.translate(_OPAD))
        # The inner state after `kind:`, by kind (HMAC is a stream, so this is the same digest
        # as one update over `kind:normalised`).
        self._by_kind: dict[str, HASH] = {}
        self._encoding = encoding
        self.rules = rules

    def _keyed(self, kind: str) -> HASH:
        inner = self._by_kind.get(kind)
        if inner is None:
            inner = self._inner.copy()
            inner.update(f"{kind}:".encode())
            self._by_kind[kind] = inner
        return inner

    def of(self, kind: str, normalised: str) -> str:
        """The index of an already normalised identifier of `kind`."""
        inner = self._by_kind.get(kind) or self._keyed(kind)
        inner = inner.copy()
        inner.update(normalised.encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        if self._encoding == "hex":
            return outer.hexdigest()
        return base64.urlsafe_b64encode(outer.digest()).rstrip(b"=").decode("ascii")

    def index(self, kind: str, raw: str) -> str:
        """Normalise `raw` as `kind` (see `normalise.NORMALISERS`), then index it. A value that
        must not link raises `normalise.Unlinkable`, so nothing is ever looked up by it."""
        normaliser = NORMALISERS.get(kind)
        if normaliser is None:
            raise InvalidIdentifier(kind, "unknown identifier kind")
        return self.of(kind, normaliser(raw, self.rules))
