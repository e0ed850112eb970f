"""Configuration from the environment (`CROSSFORCE_*`), read once at start."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph import GraphConnection, open_graph

DEFAULT_POLICY_DIR = Path(__file__).resolve().parent.parent / "policies" / "defaults"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CROSSFORCE_", extra="ignore")

    graph_uri: str | None = Field(None, description="neo4j://, neo4j+s://, bolt:// or falkordb://")
    graph_user: str | None = None
    graph_password: str | None = None
    graph_query_timeout: float = Field(10.0, gt=0, description="seconds before a query is a 503")
    graph_retry_for: float = Field(5.0, ge=0, description="seconds of retries on transient errors")
    graph_slow_query_seconds: float | None = Field(
        1.0, ge=0, description="log each statement at least this slow, by name and time"
    )
    region_reload_seconds: float = Field(
        600.0, gt=0, description="seconds between full reloads of a replica's region facts"
    )
    key_recheck_seconds: float = Field(
        2.0,
        gt=0,
        le=60,
        description="seconds a key rotation or shred on one replica takes to reach the others",
    )
    pull_lease_seconds: float = Field(
        15.0,
        gt=0,
        le=600,
        description="seconds a pull lease lasts unrenewed; another replica takes over after",
    )
    after_sync_stale_seconds: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="seconds after which any replica takes up a pending after-sync step",
    )
    data_dir: Path = Path(".crossforce")
    oidc_issuer: str | None = None
    vault_addr: str | None = Field(
        None, description="Vault's address: wrap data keys with its transit engine (see docs)"
    )
    audience: str = "crossforce"
    audit_key_file: Path | None = Field(
        None, description="HMAC key of the audit chain, the same for every replica (see docs)"
    )
    audit_mirror_file: Path | None = Field(
        None, description="JSON-lines copy of audit entries (see docs/operations.md)"
    )
    policy_dir: Path = DEFAULT_POLICY_DIR
    public_url: str | None = Field(
        None, description="URL the hub is reached at; the development issuer's identifier"
    )
    max_body_bytes: int = Field(64 * 1024 * 1024, gt=0)
    # A referral file posted to /federation/v1/referrals is read whole before any of it is
    # imported (all or nothing), so it has a limit of its own; larger files go by the CLI.
    max_referral_bytes: int = Field(16 * 1024 * 1024, gt=0)
    environment: str = Field("development", pattern="^(development|production)$")
    graphql_max_depth: int = Field(10, gt=0, description="deepest selection a query may nest")
    graphql_max_aliases: int = Field(30, ge=0)
    graphql_max_tokens: int = Field(4000, gt=0)
    graphql_max_cost: int = Field(20000, gt=0, description="fields times page sizes")
    graphql_max_body_bytes: int = Field(256 * 1024, gt=0)
    graphql_introspection: bool | None = Field(
        None, description="schema introspection; default on in development, off in production"
    )
    subscription_poll_seconds: float = Field(
        2.0, gt=0, le=60, description="how often subscriptions look for new events"
    )
    graphql_persisted_queries: Path | None = Field(
        None, description="manifest of persisted queries (default: the built web UI's)"
    )
    graphql_persisted_only: bool = Field(
        False, description="accept only the persisted queries shipped with the web UI"
    )
    graceful_shutdown_seconds: float = Field(
        25.0, gt=0, le=600, description="seconds a stopping hub waits for in-flight requests"
    )
    header_timeout_seconds: float = Field(
        10.0, gt=0, le=300, description="seconds a client has to send a request's headers"
    )
    max_connections: int = Field(
        1000, gt=0, description="open connections a hub process serves; past them, a 503"
    )
    metrics_token: SecretStr | None = Field(
        None, description="bearer token Prometheus sends for /metrics (an admin token also works)"
    )
    log_format: Literal["json", "console"] = Field(
        "json", description="json: one JSON object a line; console: for a person at a terminal"
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    def issuer_for(self, host: str, port: int) -> str:
        return self.oidc_issuer or self.public_url or f"http://{host}:{port}"


def open_configured_graph(settings: Settings, *, attach: bool = False) -> GraphConnection:
    """The graph the settings name (embedded when no URI is set), for the app and the CLI.
    `attach`: an operator's command joins the embedded graph of a running hub (see open_graph)."""
    return open_graph(
        settings.graph_uri,
        data_dir=settings.data_dir,
        user=settings.graph_user,
        password=settings.graph_password,
        query_timeout=settings.graph_query_timeout,
        retry_for=settings.graph_retry_for,
        slow_query_seconds=settings.graph_slow_query_seconds,
        attach=attach,
    )
