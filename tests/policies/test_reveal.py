"""Reveals: allowed by the agreement, with a purpose, audited before anything is decrypted."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.keyring_store import MemoryKeyStore
from policies.audit import AuditLog, AuditUnavailable, MemoryAuditStore
from policies.crypto import FieldCipher
from policies.devidp import DEFAULT_POLICY_DIR
from policies.keys import KeyRing, LocalKeyFile
from policies.principal import Principal
from policies.reveal import Shredded, reveal
from policies.scopes import Forbidden
from policies.sharing import SharingPolicy, UnknownField, load_sharing

SCOPES = frozenset({"cases:read", "sensitive:reveal", "victim-id:write"})
ANALYST_AS = Principal("analyst-AS", SCOPES, "AS", "tok-as")
ANALYST_GL = Principal("analyst-GL", SCOPES, "GL", "tok-gl")
FAMILY_NAME = "Doe-Example"
POINTER = "/suspects/0/familyName"


@pytest.fixture
def policy() -> SharingPolicy:
    return load_sharing(DEFAULT_POLICY_DIR / "sharing.yaml")


@pytest.fixture
def cipher(tmp_path: Path) -> FieldCipher:
    return FieldCipher(KeyRing(MemoryKeyStore(), LocalKeyFile.in_data_dir(tmp_path)))


async def test_own_force_reveal_is_audited_without_the_value(
    policy: SharingPolicy, cipher: FieldCipher
) -> None:
    store = MemoryAuditStore()
    sealed = await cipher.seal("AS", "AS-2026-0042", POINTER, FAMILY_NAME)
    value = await reveal(
        principal=ANALYST_AS,
        owner_force="AS",
        case_ref="AS-2026-0042",
        pointer=POINTER,
        purpose="  identify   suspect for arrest  ",
        sealed=sealed,
        policy=policy,
        cipher=cipher,
        audit=AuditLog(store),
    )
    assert value == FAMILY_NAME
    [entry] = store.rows
    assert entry["action"] == "reveal"
    assert entry["target"] == f"case:AS/AS-2026-0042#{POINTER}"
    assert entry["purpose"] == "identify suspect for arrest"
    assert (entry["actor"], entry["token_id"], entry["outcome"]) == ("analyst-AS", "tok-as", "ok")
    assert FAMILY_NAME not in str(entry)


async def test_other_force_suspect_reveal_is_refused_and_audited(
    policy: SharingPolicy, cipher: FieldCipher
) -> None:
    store = MemoryAuditStore()
    sealed = await cipher.seal("AS", "AS-2026-0042", POINTER, FAMILY_NAME)
    with pytest.raises(Forbidden) as refused:
        await reveal(
            principal=ANALYST_GL,
            owner_force="AS",
            case_ref="AS-2026-0042",
            pointer=POINTER,
            purpose="linked case enquiry",
            sealed=sealed,
            policy=policy,
            cipher=cipher,
            audit=AuditLog(store),
        )
    assert FAMILY_NAME not in str(refused.value)
    [entry] = store.rows
    assert (entry["action"], entry["outcome"], entry["actor"]) == (
        "access.denied",
        "denied",
        "analyst-GL",
    )


@pytest.mark.parametrize("purpose", ["", "   ", "why", "checking", "x" * 501, "x " * 300])
async def test_a_purpose_must_be_stated(
    policy: SharingPolicy, cipher: FieldCipher, purpose: str
) -> None:
    store = MemoryAuditStore()
    sealed = await cipher.seal("AS", "AS-1", POINTER, FAMILY_NAME)
    with pytest.raises(Forbidden, match="purpose"):
        await reveal(
            principal=ANALYST_AS,
            owner_force="AS",
            case_ref="AS-1",
            pointer=POINTER,
            purpose=purpose,
            sealed=sealed,
            policy=policy,
            cipher=cipher,
            audit=AuditLog(store),
        )
    assert store.rows[-1]["outcome"] == "denied"


async def test_no_audit_no_reveal(policy: SharingPolicy, cipher: FieldCipher) -> None:
    class Down(MemoryAuditStore):
        async def head(self) -> tuple[int, str]:
            raise ConnectionError("graph unavailable")

    sealed = await cipher.seal("AS", "AS-1", POINTER, FAMILY_NAME)
    with pytest.raises(AuditUnavailable) as refused:
        await reveal(
            principal=ANALYST_AS,
            owner_force="AS",
            case_ref="AS-1",
            pointer=POINTER,
            purpose="identify suspect",
            sealed=sealed,
            policy=policy,
            cipher=cipher,
            audit=AuditLog(Down()),
        )
    assert FAMILY_NAME not in str(refused.value)


async def test_unknown_pointer_is_an_error(policy: SharingPolicy, cipher: FieldCipher) -> None:
    with pytest.raises(UnknownField):
        await reveal(
            principal=ANALYST_AS,
            owner_force="AS",
            case_ref="AS-1",
            pointer="/suspects/0/shoeSize",
            purpose="identify suspect",
            sealed="cf1:1:AAAA",
            policy=policy,
            cipher=cipher,
            audit=AuditLog(MemoryAuditStore()),
        )


async def test_an_over_long_purpose_is_refused_and_kept_only_by_its_length(
    policy: SharingPolicy, cipher: FieldCipher
) -> None:
    store = MemoryAuditStore()
    sealed = await cipher.seal("AS", "AS-1", POINTER, FAMILY_NAME)
    with pytest.raises(Forbidden, match="purpose"):
        await reveal(
            principal=ANALYST_AS,
            owner_force="AS",
            case_ref="AS-1",
            pointer=POINTER,
            purpose="identify suspect " * 15_000,
            sealed=sealed,
            policy=policy,
            cipher=cipher,
            audit=AuditLog(store),
        )
    [entry] = store.rows
    assert (entry["action"], entry["outcome"]) == ("access.denied", "denied")
    assert entry["purpose"] == "purpose of 254999 characters"


async def test_a_field_without_a_value_is_refused_as_a_hidden_one_and_audited(
    policy: SharingPolicy, cipher: FieldCipher
) -> None:
    store = MemoryAuditStore()
    answers = []
    for principal, sealed in ((ANALYST_GL, "cf1:1:AAAA"), (ANALYST_AS, None)):
        with pytest.raises(Forbidden) as refused:
            await reveal(
                principal=principal,
                owner_force="AS",
                case_ref="AS-1",
                pointer=POINTER,
                purpose="linked case enquiry",
                sealed=sealed,
                policy=policy,
                cipher=cipher,
                audit=AuditLog(store),
            )
        answers.append(refused.value.reason)
    assert answers[0] == answers[1]
    assert [(row["action"], row["outcome"]) for row in store.rows] == [
        ("access.denied", "denied")
    ] * 2


async def test_a_shredded_field_is_refused_as_shredded_and_audited_so(
    policy: SharingPolicy, tmp_path: Path
) -> None:
    keys, kek = MemoryKeyStore(), LocalKeyFile.in_data_dir(tmp_path)
    sealing = KeyRing(keys, kek)
    sealed = await FieldCipher(sealing).seal("AS", "AS-1", POINTER, FAMILY_NAME)
    await sealing.shred("AS", 1, actor="cli:operator")
    store = MemoryAuditStore()
    with pytest.raises(Shredded) as refused:
        await reveal(
            principal=ANALYST_AS,
            owner_force="AS",
            case_ref="AS-1",
            pointer=POINTER,
            purpose="identify suspect for arrest",
            sealed=sealed,
            policy=policy,
            cipher=FieldCipher(KeyRing(keys, kek)),  # a fresh ring: nothing cached
            audit=AuditLog(store),
        )
    assert "shredded" in str(refused.value)
    [entry] = store.rows
    assert (entry["action"], entry["outcome"]) == ("reveal", "shredded")
