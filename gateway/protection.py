"""The protection core, assembled from settings and the graph: one place, used by app and CLI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from federation.near_images import NearImages
from federation.near_videos import NearVideos
from federation.referrals.case_refs import CaseRefs
from gateway.config import DEFAULT_POLICY_DIR, Settings
from graph import GraphStore
from graph.audit_store import GraphAuditStore
from graph.keyring_store import GraphKeyStore
from policies.audit import AuditLog
from policies.audit_anchor import Checkpoint, load_audit_key
from policies.blind_index import BlindIndex, load_linking_key
from policies.case_rules import CaseRules, load_case_rules
from policies.crypto import FieldCipher
from policies.devidp import (
    DEFAULT_DEV_ISSUER,
    DevIdentityProvider,
    load_client_secrets,
    record_issuer,
)
from policies.keys import KeyRing, LocalKeyFile
from policies.limits import RateLimiter, load_limits
from policies.linking import load_linking_rules
from policies.scopes import ClientDirectory, load_clients
from policies.search_watch import SearchWatch
from policies.sharing import PolicyHolder
from policies.tokens import TokenValidator
from policies.vault import VaultTransitKEK


def issuer_of(settings: Settings) -> str:
    return (settings.oidc_issuer or settings.public_url or DEFAULT_DEV_ISSUER).rstrip("/")


@dataclass
class Protection:
    clients: ClientDirectory
    audit: AuditLog
    keyring: KeyRing
    cipher: FieldCipher
    blind: BlindIndex
    sharing: PolicyHolder
    validator: TokenValidator
    devidp: DevIdentityProvider | None
    limiter: RateLimiter
    searches: SearchWatch  # who is sweeping identifier search
    near_images: NearImages  # the region's image clusters, for near-duplicate PDQ hashes
    near_videos: NearVideos  # the region's video clusters, for near-duplicate vPDQ hashes
    case_rules: CaseRules  # read by the ingest, the after-sync step and the read model
    case_refs: CaseRefs  # names imported referrals' cases without their own references

    kek: LocalKeyFile | VaultTransitKEK

    async def aclose(self) -> None:
        await self.validator.aclose()
        if isinstance(self.kek, VaultTransitKEK):
            await self.kek.aclose()


def key_encryption_key(settings: Settings) -> LocalKeyFile | VaultTransitKEK:
    """Vault's transit engine when configured (production), else the local key file."""
    if settings.vault_addr:
        return VaultTransitKEK.from_environment()
    return LocalKeyFile.in_data_dir(settings.data_dir)


def audit_log_for(settings: Settings, store: GraphStore, *, create_key: bool = True) -> AuditLog:
    """The audit log as every process of one hub writes and checks it: keyed with the audit key
    (`CROSSFORCE_AUDIT_KEY_FILE`, else the data dir's), checkpointed in the data dir, mirrored
    as JSON lines to `CROSSFORCE_AUDIT_MIRROR_FILE`. Without that setting, development mirrors
    into the data dir; production does not, since a pod's data dir is small and in memory."""
    key = load_audit_key(settings.data_dir, settings.audit_key_file, create=create_key)
    mirror = settings.audit_mirror_file
    if mirror is None and settings.environment == "development":
        mirror = settings.data_dir / "audit" / "entries.jsonl"
    return AuditLog(
        GraphAuditStore(store),
        key=key,
        checkpoint=Checkpoint.in_data_dir(settings.data_dir, key),
        mirror=mirror,
    )


def keyring_for(settings: Settings, store: GraphStore) -> KeyRing:
    """The key ring the hub uses, for the operator's CLI (`keys rotate`, `keys reseal`)."""
    audit = audit_log_for(settings, store)
    return KeyRing(
        GraphKeyStore(store),
        key_encryption_key(settings),
        audit=audit,
        recheck=settings.key_recheck_seconds,
    )


def build_protection(
    settings: Settings,
    store: GraphStore,
    *,
    http: httpx.AsyncClient | None = None,
    case_rules: CaseRules | None = None,
) -> Protection:
    """`case_rules`: as the caller loaded them already (the app, at start), else the policy
    dir's."""
    clients = load_clients(settings.policy_dir / "clients.yaml")
    issuer = issuer_of(settings)
    audit = audit_log_for(settings, store)
    kek = key_encryption_key(settings)
    keyring = KeyRing(GraphKeyStore(store), kek, audit=audit, recheck=settings.key_recheck_seconds)
    devidp = None
    if settings.oidc_issuer is None:
        devidp = DevIdentityProvider(
            settings.data_dir, issuer=issuer, audience=settings.audience, clients=clients
        )
        # Secrets exist from the first start, so the demo and `crossforce sync` can use them;
        # the issuer is recorded so that `crossforce token` mints for this hub's port.
        load_client_secrets(settings.data_dir, clients)
        record_issuer(settings.data_dir, issuer)
    limiter = load_limits(_policy_file(settings, "limits.yaml"))
    cipher = FieldCipher(keyring)
    linking_key = load_linking_key(settings.data_dir)
    blind = blind_index_for(settings, linking_key)
    return Protection(
        clients=clients,
        audit=audit,
        keyring=keyring,
        cipher=cipher,
        blind=blind,
        sharing=PolicyHolder(settings.policy_dir / "sharing.yaml", audit),
        validator=TokenValidator(issuer, audience=settings.audience, http=http, clients=clients),
        devidp=devidp,
        limiter=limiter,
        searches=SearchWatch(limiter.search),
        near_images=NearImages(store, cipher, blind, blind.rules.pdq_distance),
        near_videos=NearVideos(store, blind),
        case_rules=case_rules or load_case_rules(settings.policy_dir),
        case_refs=CaseRefs.for_region(linking_key),
        kek=kek,
    )


def near_images_for(
    settings: Settings, store: GraphStore, blind: BlindIndex, audit: AuditLog
) -> NearImages:
    """The region's image clusters for a command beside the hub (`crossforce hashsets
    import`): the graph's, opened and sealed with the region's data keys as the hub does."""
    kek = key_encryption_key(settings)
    keyring = KeyRing(GraphKeyStore(store), kek, audit=audit, recheck=settings.key_recheck_seconds)
    return NearImages(store, FieldCipher(keyring), blind, blind.rules.pdq_distance)


def blind_index_for(settings: Settings, linking_key: bytes | None = None) -> BlindIndex:
    """The region's blind index: its linking key and linking rules (also for hash sets)."""
    return BlindIndex(
        linking_key or load_linking_key(settings.data_dir),
        rules=load_linking_rules(_policy_file(settings, "linking.yaml")),
    )


def _policy_file(settings: Settings, name: str) -> Path:
    """A policy file from the configured directory, or the default one if it has none."""
    path = settings.policy_dir / name
    return path if path.exists() else DEFAULT_POLICY_DIR / name
