"""Development keys and secrets: private files, created once, stable afterwards; clients.yaml
validation; scope helpers."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from policies.devidp import DEFAULT_POLICY_DIR, load_signing_key, mint_token, provider
from policies.files import InsecureFile, read_private
from policies.principal import Principal
from policies.scopes import (
    ALL_SCOPES,
    Forbidden,
    PolicyFileError,
    load_clients,
    require,
    require_any,
    require_force,
)

FORCES = ("AS", "GL", "WI", "DC", "DO")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_signing_key_and_secrets_are_private_and_stable(tmp_path: Path) -> None:
    first = provider(tmp_path)
    secret = first.secret_for("analyst-AS")
    key_file = tmp_path / "devidp" / "signing-key.pem"
    secrets_file = tmp_path / "devidp" / "client-secrets.json"
    assert mode(key_file) == 0o600
    assert mode(secrets_file) == 0o600
    assert mode(tmp_path / "devidp") == 0o700

    second = provider(tmp_path)
    assert second.secret_for("analyst-AS") == secret
    assert second.jwks() == first.jwks()
    assert load_signing_key(tmp_path).kid == first.jwks()["keys"][0]["kid"]
    secrets = json.loads(secrets_file.read_text())
    assert set(secrets) == {
        entry.client_id for entry in load_clients(DEFAULT_POLICY_DIR / "clients.yaml")
    }
    assert len(set(secrets.values())) == len(secrets)  # every client its own secret


def test_minting_needs_no_client_secrets(tmp_path: Path) -> None:
    token = mint_token(tmp_path, "http://127.0.0.1:8000", "crossforce", "admin")
    assert token.count(".") == 2
    assert not (tmp_path / "devidp" / "client-secrets.json").exists()


def test_group_readable_secret_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "linking.key"
    path.write_bytes(b"x" * 32)
    path.chmod(0o644)
    with pytest.raises(InsecureFile):
        read_private(path)


def test_default_clients_follow_the_contract() -> None:
    clients = load_clients(DEFAULT_POLICY_DIR / "clients.yaml")
    assert clients.forces == FORCES
    for force in FORCES:
        system, analyst = clients.get(f"force-{force}"), clients.get(f"analyst-{force}")
        assert system is not None and (system.scopes, system.force) == ({"sync:write"}, force)
        assert analyst is not None and analyst.force == force
        assert analyst.scopes == {"cases:read", "sensitive:reveal", "victim-id:write"}
    coordinator, admin = clients.get("coordinator"), clients.get("admin")
    assert coordinator is not None and (coordinator.scopes, coordinator.force) == (
        {"oversight:read"},
        None,
    )
    assert admin is not None and (admin.scopes, admin.force) == ({"admin"}, None)
    hub = clients.get("hub")  # the hub's own client, for pulling from force connectors
    assert hub is not None and (hub.scopes, hub.force) == ({"pull:read"}, None)
    assert len(clients) == 13


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "clients:\n  x: {scopes: [everything]}\n",
            "clients.x.scopes: unknown scope(s): everything",
        ),
        ("clients:\n  x: {force: avon}\n", "clients.x.force"),
        ("clients:\n  x: {colour: blue}\n", "clients.x.colour"),
        ("nothing: here\n", "clients"),
    ],
)
def test_invalid_clients_file_names_the_yaml_path(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "clients.yaml"
    path.write_text(text)
    with pytest.raises(PolicyFileError) as error:
        load_clients(path)
    assert message in str(error.value)


def test_missing_clients_file_is_an_empty_directory(tmp_path: Path) -> None:
    assert len(load_clients(tmp_path / "absent.yaml")) == 0


def test_scope_helpers() -> None:
    analyst = Principal("analyst-AS", frozenset({"cases:read"}), "AS")
    require(analyst, "cases:read")
    require_any(analyst, "oversight:read", "cases:read")
    require_force(analyst, "AS")
    with pytest.raises(Forbidden, match="sync:write"):
        require(analyst, "sync:write")
    with pytest.raises(Forbidden):
        require_any(analyst, "admin", "oversight:read")
    with pytest.raises(Forbidden):
        require_force(analyst, "GL")
    with pytest.raises(Forbidden):
        require_force(Principal("coordinator", frozenset({"oversight:read"})), "AS")
    assert {
        "sync:write",
        "oversight:read",
        "cases:read",
        "sensitive:reveal",
        "victim-id:write",
        "admin",
        "pull:read",
    } == ALL_SCOPES
