"""Blind indexes: keyed hashes of normalised identifiers, the keys of shared entity nodes.

HMAC-SHA256 under the regional linking key over `kind + ":" + normalised`. The kind keeps an
e-mail and an account handle that happen to be the same text apart. The linking key is not an
encryption key: it never decrypts anything, and it is kept apart from the data keys so that
shredding a force's data keys does not unlink the region's graph (and vice versa).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path
from typing import Literal

from policies.files import read_or_create_private
from policies.normalise import DEFAULT_RULES, NORMALISERS, InvalidIdentifier, LinkingRules

Encoding = Literal["hex", "base64url"]


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
        self._mac = hmac.new(key, digestmod=hashlib.sha256)
        # The keyed state after `kind:`, by kind: computed once, copied per index (HMAC is a
        # stream, so this is the same digest as one update over `kind:normalised`).
        self._by_kind: dict[str, hmac.HMAC] = {}
        self._encoding = encoding
        self.rules = rules

    def _keyed(self, kind: str) -> hmac.HMAC:
        mac = self._by_kind.get(kind)
        if mac is None:
            mac = self._mac.copy()
            mac.update(f"{kind}:".encode())
            self._by_kind[kind] = mac
        return mac

    def of(self, kind: str, normalised: str) -> str:
        """The index of an already normalised identifier of `kind`."""
        mac = self._keyed(kind).copy()
        mac.update(normalised.encode())
        digest = mac.digest()
        if self._encoding == "hex":
            return digest.hex()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def index(self, kind: str, raw: str) -> str:
        """Normalise `raw` as `kind` (see `normalise.NORMALISERS`), then index it. A value that
        must not link raises `normalise.Unlinkable`, so nothing is ever looked up by it."""
        normaliser = NORMALISERS.get(kind)
        if normaliser is None:
            raise InvalidIdentifier(kind, "unknown identifier kind")
        return self.of(kind, normaliser(raw, self.rules))
