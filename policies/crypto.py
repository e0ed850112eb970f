"""Field encryption: each sensitive value sealed with AES-256-GCM under its force's data key.

Sealed form (ASCII, fits any string property):

    cf1:<key version>:<base64url(nonce || ciphertext || tag)>

The associated data binds the ciphertext to where it belongs: format, force, case reference,
field (a JSON pointer such as `/suspects/0/familyName`) and key version. A ciphertext copied to
another field, case or force, or relabelled with another key version, fails to open.
"""

from __future__ import annotations

import binascii
import os
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from policies.keys import NONCE_BYTES, KeyRing

FORMAT = "cf1"


class DecryptionFailed(Exception):
    """The sealed value is malformed, altered, or belongs to another force, case or field."""


def _record_binding(force: str, case_ref: str) -> str:
    return f"{FORMAT}|{len(force)}:{force}|{len(case_ref)}:{case_ref}|"


def associated_data(force: str, case_ref: str, field: str, version: int) -> bytes:
    # Length-prefixed parts: no choice of values can make two different bindings encode alike
    # (a plain separator could, e.g. a case reference containing it).
    return f"{_record_binding(force, case_ref)}{len(field)}:{field}|{version}".encode()


def key_version(sealed: str) -> int:
    """The data key version a sealed value was made with."""
    return _parse(sealed)[0]


def is_sealed(value: str) -> bool:
    try:
        _parse(value)
    except DecryptionFailed:
        return False
    return True


_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _b64(body: bytes) -> str:
    """Unpadded base64url, as `base64.urlsafe_b64encode(body).rstrip(b"=")` with fewer copies."""
    return binascii.b2a_base64(body, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


def _parse(sealed: str) -> tuple[int, bytes]:
    parts = sealed.split(":")
    if len(parts) != 3 or parts[0] != FORMAT or not parts[1].isdigit():
        raise DecryptionFailed("not a sealed value")
    text = parts[2]
    try:
        # `base64.urlsafe_b64decode` of the padded text, with fewer copies.
        body = binascii.a2b_base64(
            text.encode("ascii").translate(_FROM_URLSAFE) + b"=" * (-len(text) % 4)
        )
    except (binascii.Error, ValueError):
        raise DecryptionFailed("not a sealed value") from None
    if len(body) < NONCE_BYTES + 16:
        raise DecryptionFailed("not a sealed value")
    return int(parts[1]), body


class FieldCipher:
    """Seals and opens field values of one region's forces."""

    def __init__(self, keyring: KeyRing) -> None:
        self.keyring = keyring
        # AESGCM objects by key: building one per call would cost more than the encryption.
        # Looked up only with a key the keyring just handed out, so a shred still takes effect.
        self._aeads: dict[bytes, AESGCM] = {}

    def _aead(self, dek: bytes) -> AESGCM:
        aead = self._aeads.get(dek)
        if aead is None:
            if len(self._aeads) > 1024:
                self._aeads.clear()
            aead = self._aeads[dek] = AESGCM(dek)
        return aead

    async def seal(self, force: str, case_ref: str, field: str, plaintext: str) -> str:
        # From the key cache without an await when it can (`KeyRing.cached_current`).
        cached = self.keyring.cached_current(force)
        version, dek = cached if cached is not None else await self.keyring.current(force)
        nonce = os.urandom(NONCE_BYTES)
        aad = associated_data(force, case_ref, field, version)
        body = nonce + self._aead(dek).encrypt(nonce, plaintext.encode("utf-8"), aad)
        return f"{FORMAT}:{version}:{_b64(body)}"

    async def seal_record(
        self, force: str, case_ref: str, values: Iterable[tuple[str, str]]
    ) -> tuple[int, dict[str, str]]:
        """The key version used, and each (field, plaintext) of one record sealed with it: one
        key look-up and one random read for the whole record, the same format as `seal`."""
        items = list(values)
        cached = self.keyring.cached_current(force)
        version, dek = cached if cached is not None else await self.keyring.current(force)
        encrypt = self._aead(dek).encrypt
        binding, tail, label = (
            _record_binding(force, case_ref),
            f"|{version}",
            f"{FORMAT}:{version}:",
        )
        nonces = os.urandom(NONCE_BYTES * len(items))
        sealed = {}
        for i, (field, plaintext) in enumerate(items):
            nonce = nonces[i * NONCE_BYTES : (i + 1) * NONCE_BYTES]
            aad = f"{binding}{len(field)}:{field}{tail}".encode()
            body = nonce + encrypt(nonce, plaintext.encode("utf-8"), aad)
            sealed[field] = label + _b64(body)
        return version, sealed

    async def open(self, force: str, case_ref: str, field: str, sealed: str) -> str:
        """The plaintext; `KeyShredded` if its key version was shredded, else `DecryptionFailed`
        unless it was sealed for exactly this force, case and field."""
        version, body = _parse(sealed)
        dek = self.keyring.cached_dek(force, version) or await self.keyring.dek(force, version)
        try:
            plaintext = self._aead(dek).decrypt(
                body[:NONCE_BYTES],
                body[NONCE_BYTES:],
                associated_data(force, case_ref, field, version),
            )
        except InvalidTag:
            raise DecryptionFailed("sealed value does not belong here or was altered") from None
        return plaintext.decode("utf-8")

    async def needs_reseal(self, force: str, sealed: str) -> bool:
        """True when the value was sealed with an older key version than the force's current."""
        current, _ = await self.keyring.current(force)
        return key_version(sealed) != current

    async def reseal(self, force: str, case_ref: str, field: str, sealed: str) -> str:
        """The value sealed again under the current key version (unchanged if already)."""
        if not await self.needs_reseal(force, sealed):
            return sealed
        plaintext = await self.open(force, case_ref, field, sealed)
        return await self.seal(force, case_ref, field, plaintext)
