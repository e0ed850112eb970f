"""Values sealed before the sealing fast paths still open, and what is sealed now keeps the format.

The vectors below were sealed by `FieldCipher` as it stood before `seal` and `open` took their
cached-key fast paths, under fixed synthetic keys: a KEK of bytes 0..31 and data keys of bytes
32..63 (version 1) and 64..95 (version 2), wrapped by `LocalKeyFile` for force `AS`. What is in
the graph today must open with the code of tomorrow; a change to the sealed format fails here.
"""

from __future__ import annotations

import base64
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.keyring_store import MemoryKeyStore
from policies.crypto import DecryptionFailed, FieldCipher, associated_data, key_version
from policies.keys import KeyRing, LocalKeyFile

KEK = bytes(range(32))
DATA_KEYS = {1: bytes(range(32, 64)), 2: bytes(range(64, 96))}
WRAPPED = {
    1: "8133bdb1b259d13cd69ea53a7f53b485ee694823ddf9671fe6430ce5f5f6aa8a"
    "d7edb92d5e39383fbca2b29f12233d2e735d88122c20bc0cf2c7db91",
    2: "940731ed63491625708327b5a25e9c71ae904c81282fc2c971ae246c8dc9acba"
    "f97e6fbd6ffc622afd52a1ae6c4306e281ba409d632b3e0dcc7eddff",
}
# (case reference, field, plaintext, sealed): by `seal` (the first three, the last) and by
# `seal_record` (the two in between).
VECTORS = [
    (
        "AS-2026-0042",
        "/suspects/0/familyName",
        "Example",
        "cf1:1:Q8Kl5rkYLrpTChs1pZenlMjuqEKf_E6tTGDC4RcwKOSIIvY",
    ),
    (
        "AS-2026-0042",
        "/summary",
        "Zoë Ó Súilleabháin 🙂",
        "cf1:1:L0n1AMsIB4l1W-FI46fSLImYkpaH1F1MypHxzCDXGzTRxznRQnL2Cny0Ra4SBVviH-iN33kwSg",
    ),
    ("AS-2026-0042", "/officer/name", "", "cf1:1:Ls6RPiJG9GDWmq9Sy9mbwoTvfBYUpr2yBHX8bA"),
    (
        "AS-2026-0042",
        "/suspects/0/phones/0",
        "07700 900123",
        "cf1:1:kJWq2CxlCHjiPdgjO4mz2wwEOdihf_zen53ojAg-ZFY10AneSVTKIQ",
    ),
    (
        "AS-2026-0042",
        "/victims/0/name",
        "x" * 70,
        "cf1:1:Kyj8pYVpEUSfyl7YVhSOSqNUFRwcjXIRGraidbFD3G8ENT0O4VtqiGtqCHc2KEQc5r0XdiwgTvY"
        "LEWS8ISc-rXIqs6VZfL0-aHC3_r12HdficYDj35hXmHXRfVL4MdoicOU",
    ),
    (
        "AS/26/7",
        "/suspects/1/emails/0",
        "a@b.example",
        "cf1:2:X1tgIcXXA53E1tQlUD1bwnPlX9QdA1jMLHp0SJxTVVW8y50HkP5W",
    ),
]


async def vector_cipher(data_dir: Path) -> FieldCipher:
    """A cipher over the vectors' KEK file and wrapped data keys."""
    keys = data_dir / "keys"
    keys.mkdir(mode=0o700)
    (keys / "kek.key").write_bytes(KEK)
    (keys / "kek.key").chmod(0o600)
    store = MemoryKeyStore()
    for version, wrapped in WRAPPED.items():
        await store.create("AS", version, bytes.fromhex(wrapped), datetime.now(UTC))
    return FieldCipher(KeyRing(store, LocalKeyFile.in_data_dir(data_dir)))


@pytest.fixture
async def cipher(tmp_path: Path) -> FieldCipher:
    return await vector_cipher(tmp_path)


@pytest.mark.parametrize(("case_ref", "field", "plaintext", "sealed"), VECTORS)
async def test_values_sealed_before_the_fast_paths_still_open(
    cipher: FieldCipher, case_ref: str, field: str, plaintext: str, sealed: str
) -> None:
    assert await cipher.open("AS", case_ref, field, sealed) == plaintext
    # Twice: the second time from the cached key.
    assert await cipher.open("AS", case_ref, field, sealed) == plaintext
    with pytest.raises(DecryptionFailed):
        await cipher.open("AS", case_ref + "x", field, sealed)


def open_by_the_format(sealed: str, force: str, case_ref: str, field: str) -> str:
    """A sealed value opened from the documented format alone, with the vectors' data keys."""
    label, version, body = sealed.split(":")
    assert label == "cf1" and re.fullmatch(r"[A-Za-z0-9_-]+", body)
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    aad = associated_data(force, case_ref, field, int(version))
    plaintext: bytes = AESGCM(DATA_KEYS[int(version)]).decrypt(raw[:12], raw[12:], aad)
    return plaintext.decode()


@settings(max_examples=60, deadline=None)
@given(
    plaintext=st.text(max_size=200),
    case_ref=st.text(min_size=1, max_size=20),
    field=st.text(min_size=1, max_size=40),
)
async def test_new_seals_open_by_the_format_and_old_rules(
    tmp_path_factory: pytest.TempPathFactory, plaintext: str, case_ref: str, field: str
) -> None:
    cipher = await vector_cipher(tmp_path_factory.mktemp("keys"))
    single = await cipher.seal("AS", case_ref, field, plaintext)
    version, record = await cipher.seal_record("AS", case_ref, [(field, plaintext)])
    assert version == key_version(single) == 2  # the highest live version
    for sealed in (single, record[field]):
        assert open_by_the_format(sealed, "AS", case_ref, field) == plaintext
        assert await cipher.open("AS", case_ref, field, sealed) == plaintext
    # And a value written by the format alone opens through the cipher.
    nonce = os.urandom(12)
    aad = associated_data("AS", case_ref, field, 1)
    body = nonce + AESGCM(DATA_KEYS[1]).encrypt(nonce, plaintext.encode(), aad)
    written = "cf1:1:" + base64.urlsafe_b64encode(body).rstrip(b"=").decode()
    assert await cipher.open("AS", case_ref, field, written) == plaintext
