"""Values sealed before the sealing fast paths still open, and what is sealed now keeps the format.

The vectors below were sealed by `FieldCipher` as it stood before `seal` and `open` took their
cached-key fast paths, under fixed synthetic keys: a KEK of bytes 0..31 and data keys of bytes
32..63 (version 1) and 64..95 (version 2), wrapped by `LocalKeyFile` for force `AS`. What is in
the graph today must open with the code of tomorrow; a change to the sealed format fails here.
"""

from __future__ import annotations

import asyncio
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
from policies.crypto import (
    DecryptionFailed,
    FieldCipher,
    associated_data,
    is_sealed,
    key_version,
)
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
    # Sealed by the code before nonces came from a pool and known labels were read the short
    # way (commit 3067fc6): by `seal`, then two by `seal_record`.
    (
        "AS-2026-0099",
        "/suspects/2/phones/1",
        "+447700900123",
        "cf1:2:yWeNuqf_enJsGAKHTnqOqybe4RX--DRc06MH15xIoLOAUKrQQ-qG5ds",
    ),
    (
        "AS:2026|7",
        "/summary",
        "Contact via a games console; 3 devices seized.",
        "cf1:2:68HQ5gqYJ0mGnd9h7J0i-SPXTh4E64FFECLEcoY671O9q8TlS9E2QBMTT7JxRiCIU_mP_gZvJstkoDnRGqi"
        "b2nWeM_fXNG9lbZo",
    ),
    (
        "AS:2026|7",
        "/victims/0/name",
        "Ünïcødé 名前",
        "cf1:2:2ZNQOZ_ASTJcYC-ciQqT_ZbT43CFhsrkOQ1hDlavsjLJ0jzY-p-OzY9ypVFhlw",
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


async def test_labels_read_the_short_way_keep_the_format_rules(cipher: FieldCipher) -> None:
    """Once a label is known (version 2 sealed here), a value under it is read as any other:
    the same plaintext, and the same refusals of what the format does not allow."""
    case_ref, field, plaintext, sealed = VECTORS[-1]
    await cipher.seal("AS", case_ref, field, plaintext)  # version 2's label now known
    assert await cipher.open("AS", case_ref, field, sealed) == plaintext
    body = sealed.rpartition(":")[2]
    for malformed in (
        f"cf1:2:{body}:",  # a fourth part
        f"cf1:2:x:{body}",
        f"cf1:2:{body[:-1]}é",  # beyond ASCII
        f"cf1:2:{body[:30]}",  # shorter than a nonce and a tag
        f"cf2:2:{body}",
        f"cf1::{body}",
        f"cf1:2 :{body}",
    ):
        assert not is_sealed(malformed), malformed
        with pytest.raises(DecryptionFailed):
            await cipher.open("AS", case_ref, field, malformed)
    # A label written another way still reads by the rules: `02` is version 2.
    assert await cipher.open("AS", case_ref, field, f"cf1:02:{body}") == plaintext


def nonce_of(sealed: str) -> bytes:
    body = sealed.rpartition(":")[2]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))[:12]


async def test_no_nonce_is_used_twice_by_a_process_or_its_forked_child(
    cipher: FieldCipher,
) -> None:
    """Nonces come from a pool read ahead from the operating system: every value sealed gets its
    own, and a child forked with the pool half used does not take the parent's next ones."""
    nonces = [nonce_of(await cipher.seal("AS", "AS-1", f"/f{n}", "x")) for n in range(2000)]
    assert len(set(nonces)) == len(nonces)
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # the child: seal once, send the nonce, leave without running anything else
        try:
            sealed = await cipher.seal("AS", "AS-1", "/child", "x")
            os.write(writer, nonce_of(sealed))
        finally:
            os._exit(0)
    os.close(writer)
    parents = [nonce_of(await cipher.seal("AS", "AS-1", f"/g{n}", "x")) for n in range(50)]
    _, status = await asyncio.to_thread(os.waitpid, child, 0)
    from_child = os.read(reader, 64)
    os.close(reader)
    assert status == 0 and len(from_child) == 12
    assert from_child not in parents and from_child not in nonces
