"""Field encryption: ciphertext opens only where it was sealed; rotation keeps old data readable;
shredding makes it unreadable for good."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph import GraphStore
from graph.keyring_store import GraphKeyStore, MemoryKeyStore
from policies.audit import AuditLog, MemoryAuditStore
from policies.crypto import DecryptionFailed, FieldCipher, associated_data, is_sealed, key_version
from policies.keys import KeyRing, KeyShredded, KeyUnwrapFailed, LocalKeyFile, UnknownKeyVersion

SECRET = "Jane Example, 07700 900123"


@pytest.fixture
def kek(tmp_path: Path) -> LocalKeyFile:
    return LocalKeyFile.in_data_dir(tmp_path)


@pytest.fixture
def store() -> MemoryKeyStore:
    return MemoryKeyStore()


@pytest.fixture
def cipher(store: MemoryKeyStore, kek: LocalKeyFile) -> FieldCipher:
    return FieldCipher(KeyRing(store, kek))


async def test_round_trip_and_format(cipher: FieldCipher) -> None:
    sealed = await cipher.seal("AS", "AS-2026-0042", "/suspects/0/familyName", SECRET)
    assert re.fullmatch(r"cf1:1:[A-Za-z0-9_-]+", sealed)
    assert SECRET not in sealed
    assert await cipher.open("AS", "AS-2026-0042", "/suspects/0/familyName", sealed) == SECRET
    # Same plaintext twice gives different ciphertext (random nonce).
    assert sealed != await cipher.seal("AS", "AS-2026-0042", "/suspects/0/familyName", SECRET)


async def test_unicode_and_empty_values(cipher: FieldCipher) -> None:
    for value in ("", "Zoë Ó Súilleabháin", "🙂" * 100):
        sealed = await cipher.seal("GL", "GL/26/1", "/summary", value)
        assert await cipher.open("GL", "GL/26/1", "/summary", sealed) == value


@pytest.mark.parametrize(
    ("force", "case_ref", "field"),
    [
        ("AS", "AS-2026-0042", "/suspects/0/givenName"),  # another field
        ("AS", "AS-2026-0042", "/suspects/1/familyName"),  # another item
        ("AS", "AS-2026-0043", "/suspects/0/familyName"),  # another case
        ("GL", "AS-2026-0042", "/suspects/0/familyName"),  # another force
    ],
)
async def test_ciphertext_moved_elsewhere_does_not_open(
    cipher: FieldCipher, force: str, case_ref: str, field: str
) -> None:
    await cipher.seal("GL", "GL/26/1", "/summary", "GL has keys too")
    sealed = await cipher.seal("AS", "AS-2026-0042", "/suspects/0/familyName", SECRET)
    with pytest.raises(DecryptionFailed) as failed:
        await cipher.open(force, case_ref, field, sealed)
    assert SECRET not in str(failed.value)


async def test_ciphertext_of_a_force_without_keys_does_not_open(cipher: FieldCipher) -> None:
    sealed = await cipher.seal("AS", "AS-1", "/summary", SECRET)
    with pytest.raises(UnknownKeyVersion):
        await cipher.open("WI", "AS-1", "/summary", sealed)


async def test_altered_or_relabelled_ciphertext_does_not_open(cipher: FieldCipher) -> None:
    sealed = await cipher.seal("AS", "AS-1", "/summary", SECRET)
    await cipher.keyring.rotate("AS")
    prefix, version, body = sealed.split(":")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    for bad in (
        f"{prefix}:{version}:{flipped}",
        f"{prefix}:2:{body}",  # claims the other key version
        f"cf2:{version}:{body}",
        f"{prefix}:{version}:{body[:10]}",
        "plain text",
    ):
        with pytest.raises(DecryptionFailed):
            await cipher.open("AS", "AS-1", "/summary", bad)


async def test_rotation_keeps_old_data_readable_and_new_writes_use_new_version(
    cipher: FieldCipher,
) -> None:
    old = await cipher.seal("AS", "AS-1", "/summary", "before rotation")
    assert await cipher.keyring.rotate("AS") == {"AS": 2}
    new = await cipher.seal("AS", "AS-1", "/summary", "after rotation")
    assert (key_version(old), key_version(new)) == (1, 2)
    assert await cipher.open("AS", "AS-1", "/summary", old) == "before rotation"
    assert await cipher.open("AS", "AS-1", "/summary", new) == "after rotation"

    assert await cipher.needs_reseal("AS", old)
    assert not await cipher.needs_reseal("AS", new)
    resealed = await cipher.reseal("AS", "AS-1", "/summary", old)
    assert key_version(resealed) == 2
    assert await cipher.open("AS", "AS-1", "/summary", resealed) == "before rotation"
    assert await cipher.reseal("AS", "AS-1", "/summary", new) == new


async def test_rotating_every_force(cipher: FieldCipher) -> None:
    for force in ("AS", "GL", "WI"):
        await cipher.seal(force, "c", "/summary", "x")
    assert await cipher.keyring.rotate() == {"AS": 2, "GL": 2, "WI": 2}


async def test_shredding_one_version_makes_its_data_unreadable(cipher: FieldCipher) -> None:
    old = await cipher.seal("AS", "AS-1", "/summary", SECRET)
    await cipher.keyring.rotate("AS")
    new = await cipher.seal("AS", "AS-1", "/summary", "kept")

    assert await cipher.keyring.shred("AS", 1) == [1]

    with pytest.raises(KeyShredded) as shredded:
        await cipher.open("AS", "AS-1", "/summary", old)
    assert "shredded" in str(shredded.value)
    assert SECRET not in str(shredded.value)
    assert await cipher.open("AS", "AS-1", "/summary", new) == "kept"


async def test_shredding_a_force_makes_all_its_data_unreadable(
    cipher: FieldCipher, store: MemoryKeyStore
) -> None:
    sealed = [await cipher.seal("AS", "AS-1", "/summary", SECRET)]
    await cipher.keyring.rotate("AS")
    sealed.append(await cipher.seal("AS", "AS-1", "/summary", SECRET))
    other = await cipher.seal("GL", "GL-1", "/summary", "other force")

    assert await cipher.keyring.shred("AS") == [1, 2]
    assert all(key.wrapped is None for key in await store.versions("AS"))
    for value in sealed:
        with pytest.raises(KeyShredded):
            await cipher.open("AS", "AS-1", "/summary", value)
    assert await cipher.open("GL", "GL-1", "/summary", other) == "other force"
    # New writes get a fresh key; the shredded versions are not reused.
    fresh = await cipher.seal("AS", "AS-2", "/summary", "new data")
    assert key_version(fresh) == 3


async def test_shred_reaches_other_replicas_after_their_cache_ttl(
    store: MemoryKeyStore, kek: LocalKeyFile
) -> None:
    now = [0.0]
    replica_a = FieldCipher(KeyRing(store, kek, cache_ttl=60, clock=lambda: now[0]))
    replica_b = FieldCipher(KeyRing(store, kek, cache_ttl=60, clock=lambda: now[0]))
    sealed = await replica_a.seal("AS", "AS-1", "/summary", SECRET)
    assert await replica_b.open("AS", "AS-1", "/summary", sealed) == SECRET

    await replica_a.keyring.shred("AS")
    now[0] += 61
    with pytest.raises(KeyShredded):
        await replica_b.open("AS", "AS-1", "/summary", sealed)


async def test_sealing_goes_on_when_the_current_version_is_gone_from_the_graph(
    graph_store: GraphStore, kek: LocalKeyFile
) -> None:
    """A graph restored to a copy older than the current key version no longer holds it: new
    ciphertext moves on to a live version rather than every sync failing until a restart."""
    now = [0.0]
    cipher = FieldCipher(KeyRing(GraphKeyStore(graph_store), kek, clock=lambda: now[0]))
    first = await cipher.seal("AS", "AS-1", "/summary", SECRET)
    now[0] += 30
    await cipher.open("AS", "AS-1", "/summary", first)  # the current version stays cached
    await graph_store.write("MATCH (k:DataKey) DETACH DELETE k")  # the restored copy
    now[0] += 40  # its key's cache has expired, the current version's has not

    sealed = await cipher.seal("AS", "AS-2", "/summary", SECRET)

    assert await cipher.open("AS", "AS-2", "/summary", sealed) == SECRET
    assert [k.version for k in await GraphKeyStore(graph_store).versions("AS")] == [1]


async def test_wrapped_key_moved_to_another_force_does_not_unwrap(
    cipher: FieldCipher, store: MemoryKeyStore, kek: LocalKeyFile
) -> None:
    await cipher.seal("AS", "AS-1", "/summary", SECRET)
    stolen = await store.get("AS", 1)
    assert stolen is not None and stolen.wrapped is not None
    await store.create("DO", 1, stolen.wrapped, stolen.created_at)
    with pytest.raises(KeyUnwrapFailed):
        await KeyRing(store, kek).dek("DO", 1)


async def test_another_kek_cannot_unwrap(
    cipher: FieldCipher, store: MemoryKeyStore, tmp_path: Path
) -> None:
    sealed = await cipher.seal("AS", "AS-1", "/summary", SECRET)
    foreign = FieldCipher(KeyRing(store, LocalKeyFile(tmp_path / "other" / "kek.key")))
    with pytest.raises(KeyUnwrapFailed):
        await foreign.open("AS", "AS-1", "/summary", sealed)


async def test_kek_file_is_private_and_stable(tmp_path: Path, store: MemoryKeyStore) -> None:
    first = FieldCipher(KeyRing(store, LocalKeyFile.in_data_dir(tmp_path)))
    sealed = await first.seal("AS", "AS-1", "/summary", SECRET)
    path = tmp_path / "keys" / "kek.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # A restart (new key ring, same files and store) reads the data.
    second = FieldCipher(KeyRing(store, LocalKeyFile.in_data_dir(tmp_path)))
    assert await second.open("AS", "AS-1", "/summary", sealed) == SECRET


async def test_key_operations_are_audited_without_key_material(
    store: MemoryKeyStore, kek: LocalKeyFile
) -> None:
    audit_store = MemoryAuditStore()
    keyring = KeyRing(store, kek, audit=AuditLog(audit_store))
    cipher = FieldCipher(keyring)
    await cipher.seal("AS", "AS-1", "/summary", SECRET)
    await keyring.rotate("AS", actor="cli:operator")
    await keyring.shred("AS", 1, actor="cli:operator")
    actions = [(row["action"], row["target"], row["actor"]) for row in audit_store.rows]
    assert actions == [
        ("key.create", "datakey:AS", "crossforce"),
        ("key.rotate", "datakey:AS", "cli:operator"),
        ("key.shred", "datakey:AS:v1", "cli:operator"),
    ]
    assert SECRET not in str(audit_store.rows)


@settings(max_examples=200, deadline=None)
@given(
    a=st.tuples(st.text(), st.text(), st.text(), st.integers(1, 9)),
    b=st.tuples(st.text(), st.text(), st.text(), st.integers(1, 9)),
)
def test_associated_data_never_confuses_two_bindings(
    a: tuple[str, str, str, int], b: tuple[str, str, str, int]
) -> None:
    assert (associated_data(*a) == associated_data(*b)) == (a == b)


async def test_a_record_is_sealed_with_one_version_each_field_bound_to_itself(
    cipher: FieldCipher,
) -> None:
    await cipher.seal("AS", "AS-1", "/summary", "first use makes version 1")
    await cipher.keyring.rotate("AS")
    values = [("/summary", "text"), ("/suspects/0/familyName", SECRET), ("/officer/name", "")]
    version, sealed = await cipher.seal_record("AS", "AS-1", values)
    assert version == 2 and list(sealed) == [field for field, _ in values]
    assert {key_version(value) for value in sealed.values()} == {2}
    for field, plaintext in values:
        assert await cipher.open("AS", "AS-1", field, sealed[field]) == plaintext
    with pytest.raises(DecryptionFailed):
        await cipher.open("AS", "AS-1", "/summary", sealed["/officer/name"])
    # Fresh nonces: the same plaintext twice in one record gives two ciphertexts.
    _, twice = await cipher.seal_record("AS", "AS-1", [("/a", "same"), ("/b", "same")])
    assert twice["/a"].split(":")[2][:16] != twice["/b"].split(":")[2][:16]


def open_by_the_format(sealed: str, dek: bytes, force: str, case_ref: str, field: str) -> str:
    """Open a sealed value from the documented format alone (`policies/crypto.py`)."""
    import base64

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    label, version, body = sealed.split(":")
    assert label == "cf1"
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    aad = associated_data(force, case_ref, field, int(version))
    return AESGCM(dek).decrypt(raw[:12], raw[12:], aad).decode()


@settings(max_examples=40, deadline=None)
@given(plaintext=st.text(max_size=300), field=st.text(min_size=1, max_size=40))
async def test_sealed_values_keep_their_format_both_ways(plaintext: str, field: str) -> None:
    """What is in the graph must still open, and what is sealed now must open by the format:
    both `seal` and `seal_record` against AES-GCM used directly."""
    import base64
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    keyring = KeyRing(MemoryKeyStore(), _MemoryKek())
    cipher = FieldCipher(keyring)
    single = await cipher.seal("AS", "AS-1", field, plaintext)
    version, record = await cipher.seal_record("AS", "AS-1", [(field, plaintext), ("/x", "y")])
    _, dek = await keyring.current("AS")
    for sealed in (single, record[field]):
        assert open_by_the_format(sealed, dek, "AS", "AS-1", field) == plaintext
    nonce = os.urandom(12)
    aad = associated_data("AS", "AS-1", field, version)
    body = nonce + AESGCM(dek).encrypt(nonce, plaintext.encode(), aad)
    written = f"cf1:{version}:" + base64.urlsafe_b64encode(body).rstrip(b"=").decode()
    assert await cipher.open("AS", "AS-1", field, written) == plaintext


class _MemoryKek:
    """A KEK in memory, so a property test needs no files."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))

    async def wrap(self, plaintext: bytes, aad: bytes) -> bytes:
        return b"\0" * 12 + self._aead.encrypt(b"\0" * 12, plaintext, aad)

    async def unwrap(self, wrapped: bytes, aad: bytes) -> bytes:
        return self._aead.decrypt(wrapped[:12], wrapped[12:], aad)


async def test_cached_keys_honour_a_shred_within_the_recheck(
    store: MemoryKeyStore, kek: LocalKeyFile
) -> None:
    """Keys served from the cache without awaiting the store still meet the shred bound: a
    replica refuses a version shredded elsewhere once `recheck` seconds have passed."""
    now = [0.0]
    replica_a = FieldCipher(KeyRing(store, kek, recheck=2.0, clock=lambda: now[0]))
    replica_b = FieldCipher(KeyRing(store, kek, recheck=2.0, clock=lambda: now[0]))
    sealed = await replica_a.seal("AS", "AS-1", "/summary", SECRET)
    assert await replica_b.open("AS", "AS-1", "/summary", sealed) == SECRET
    await replica_b.seal("AS", "AS-2", "/summary", SECRET)  # B's current version is cached too

    await replica_a.keyring.shred("AS")
    now[0] += 2.5
    with pytest.raises(KeyShredded):
        await replica_b.open("AS", "AS-1", "/summary", sealed)
    fresh = await replica_b.seal("AS", "AS-3", "/summary", SECRET)
    assert key_version(fresh) == 2
    with pytest.raises(KeyShredded):
        await replica_a.open("AS", "AS-1", "/summary", sealed)


def reference_is_sealed(value: str) -> bool:
    """`is_sealed` as the format reads, with the standard library's base64url decoder."""
    import base64
    import binascii

    parts = value.split(":")
    if len(parts) != 3 or parts[0] != "cf1" or not parts[1].isdigit():
        return False
    try:
        body = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
    except (binascii.Error, ValueError):
        return False
    return len(body) >= 12 + 16


@settings(max_examples=300, deadline=None)
@given(
    body=st.one_of(
        st.text(alphabet="ABCxyz019-_+/=é:", max_size=60),
        st.binary(min_size=20, max_size=60).map(
            lambda b: __import__("base64").urlsafe_b64encode(b).decode().rstrip("=")
        ),
    ),
    version=st.sampled_from(["1", "12", "x", ""]),
)
def test_sealed_values_are_recognised_as_the_format_reads(body: str, version: str) -> None:
    value = f"cf1:{version}:{body}"
    assert is_sealed(value) == reference_is_sealed(value)
