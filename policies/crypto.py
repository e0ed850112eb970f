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
from binascii import a2b_base64, b2a_base64
from collections.abc import Iterable, Iterator
from os import urandom

from cryptography.exceptions import InvalidTag

from policies.keys import NONCE_BYTES, KeyRing

FORMAT = "cf1"


class DecryptionFailed(Exception):
    """The sealed value is malformed, altered, or belongs to another force, case or field."""


def associated_data(force: str, case_ref: str, field: str, version: int) -> bytes:
    # Length-prefixed parts: no choice of values can make two different bindings encode alike
    # (a plain separator could, e.g. a case reference containing it).
    return (
        f"{FORMAT}|{len(force)}:{force}|{len(case_ref)}:{case_ref}|{len(field)}:{field}|{version}"
    ).encode()


def key_version(sealed: str) -> int:
    """The data key version a sealed value was made with."""
    return _parse(sealed)[0]


def is_sealed(value: str) -> bool:
    try:
        _parse(value)
    except DecryptionFailed:
        return False
    return True


# Unpadded base64url, as `base64.urlsafe_b64encode(body).rstrip(b"=")` and back, with fewer
# copies: the standard alphabet translated, the padding dropped (or put back) in the same pass.
_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_PADDING = (b"", b"===", b"==", b"=")  # by the text's length modulo 4
_TEXT_PADDING = ("", "===", "==", "=")
_PREFIX = FORMAT + ":"
# `cf1:<version>:` of the versions in use, made once each; and back, `cf1:<version>` to the
# version, for the labels this process has written (`_parse` reads any other the long way).
_LABELS: dict[int, str] = {}
_VERSIONS: dict[str, int] = {}
_KNOWN_LABELS = 1024  # key versions remembered so; a region rotates far fewer


def _label(version: int) -> str:
    label = _LABELS.get(version)
    if label is None:
        label = _LABELS[version] = f"{FORMAT}:{version}:"
        _VERSIONS[label[:-1]] = version
    return label


class _Nonces:
    """Random 12-byte nonces, read from the operating system's generator a few kilobytes at a
    time rather than one system call per value sealed.

    AES-GCM needs each nonce used once under a key; it needs no secrecy (each is stored beside
    its ciphertext). Each nonce is handed out once by a list iterator, whose `next` holds the GIL
    for its whole step, so two threads never get the same one; a forked child drops what its
    parent read (`os.register_at_fork`), so two processes never share one.
    """

    PER_READ = 341  # nonces per read: 4,092 bytes

    def __init__(self) -> None:
        self._pool: Iterator[bytes] = iter(())

    def take(self) -> bytes:
        nonce = next(self._pool, None)
        if nonce is None:
            block = urandom(NONCE_BYTES * self.PER_READ)
            pool = iter([block[i : i + NONCE_BYTES] for i in range(0, len(block), NONCE_BYTES)])
            nonce = next(pool)
            self._pool = pool
        return nonce

    def forget(self) -> None:
        self._pool = iter(())


_NONCES = _Nonces()
os.register_at_fork(after_in_child=_NONCES.forget)


def _parse(sealed: str) -> tuple[int, bytes]:
    """The key version and `nonce || ciphertext || tag` of a sealed value, by the format: three
    parts split by `:`, the first `cf1`, the second digits, the third base64url of at least a
    nonce and a tag."""
    head, _, text = sealed.rpartition(":")
    version = _VERSIONS.get(head)
    if version is None:  # a label this process has not written, or not a label at all
        return _parse_label(sealed)
    try:  # `text` holds no `:`, and `head` is a label as `_parse_label` would read it
        body = a2b_base64(text.replace("-", "+").replace("_", "/") + _TEXT_PADDING[len(text) & 3])
    except ValueError:  # binascii.Error, or a character beyond ASCII
        raise DecryptionFailed("not a sealed value") from None
    if len(body) < NONCE_BYTES + 16:
        raise DecryptionFailed("not a sealed value")
    return version, body


def _parse_label(sealed: str) -> tuple[int, bytes]:
    """`_parse` for any label, by the format's rules alone."""
    end = sealed.find(":", 4) if sealed.startswith(_PREFIX) else -1
    number, text = sealed[4:end], sealed[end + 1 :]
    if end < 0 or not number.isdigit() or ":" in text:
        raise DecryptionFailed("not a sealed value")
    try:
        body = a2b_base64(text.encode("ascii").translate(_FROM_URLSAFE) + _PADDING[len(text) & 3])
        version = int(number)
    except (binascii.Error, ValueError):
        raise DecryptionFailed("not a sealed value") from None
    if len(body) < NONCE_BYTES + 16:
        raise DecryptionFailed("not a sealed value")
    if number == str(version) and len(_VERSIONS) < _KNOWN_LABELS:
        _label(version)  # read the short way from now on
    return version, body


class FieldCipher:
    """Seals and opens field values of one region's forces.

    Each call takes its key from the key ring's cache without awaiting when it can
    (`KeyRing.cached_current`, `KeyRing.cached`): a value costs little more than its AES-GCM.
    """

    def __init__(self, keyring: KeyRing) -> None:
        self.keyring = keyring

    async def seal(self, force: str, case_ref: str, field: str, plaintext: str) -> str:
        key = self.keyring.cached_current(force) or await self.keyring.current_key(force)
        nonce = _NONCES.take()
        version = key.version
        aad = f"cf1|{len(force)}:{force}|{len(case_ref)}:{case_ref}|{len(field)}:{field}|{version}"
        body = nonce + key.aead.encrypt(nonce, plaintext.encode(), aad.encode())
        return _label(version) + b2a_base64(body, newline=False).translate(_URLSAFE, b"=").decode()

    async def seal_record(
        self, force: str, case_ref: str, values: Iterable[tuple[str, str]]
    ) -> tuple[int, dict[str, str]]:
        """The key version used, and each (field, plaintext) of one record sealed with it: one
        key look-up and one random read for the whole record, the same format as `seal`."""
        items = values if isinstance(values, list) else list(values)
        key = self.keyring.cached_current(force) or await self.keyring.current_key(force)
        encrypt, version = key.aead.encrypt, key.version
        binding = f"cf1|{len(force)}:{force}|{len(case_ref)}:{case_ref}|"
        tail, label = f"|{version}", _label(version)
        nonces = urandom(NONCE_BYTES * len(items))
        sealed = {}
        at = 0
        for field, plaintext in items:
            nonce = nonces[at : at + NONCE_BYTES]
            at += NONCE_BYTES
            aad = f"{binding}{len(field)}:{field}{tail}".encode()
            body = nonce + encrypt(nonce, plaintext.encode(), aad)
            sealed[field] = (
                label + b2a_base64(body, newline=False).translate(_URLSAFE, b"=").decode()
            )
        return version, sealed

    async def open(self, force: str, case_ref: str, field: str, sealed: str) -> str:
        """The plaintext; `KeyShredded` if its key version was shredded, else `DecryptionFailed`
        unless it was sealed for exactly this force, case and field."""
        version, body = _parse(sealed)
        key = self.keyring.cached(force, version) or await self.keyring.key(force, version)
        aad = f"cf1|{len(force)}:{force}|{len(case_ref)}:{case_ref}|{len(field)}:{field}|{version}"
        try:
            plaintext = key.aead.decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], aad.encode())
        except InvalidTag:
            raise DecryptionFailed("sealed value does not belong here or was altered") from None
        return plaintext.decode()

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
