"""In production the development identity provider is never served: without an external issuer
the hub refuses to start, with one the provider's paths do not exist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.config import Settings
from graph.embedded import EmbeddedFalkorDB, free_port

DEV_IDP_PATHS = ("/.well-known/openid-configuration", "/oauth/jwks")


def test_production_without_an_issuer_refuses_to_start(tmp_path: Path) -> None:
    settings = Settings(environment="production", oidc_issuer=None, data_dir=tmp_path)
    with pytest.raises(RuntimeError, match="CROSSFORCE_OIDC_ISSUER"):
        create_app(settings)
    assert not (tmp_path / "devidp").exists()  # no signing key or client secrets were made


def test_serve_in_production_without_an_issuer_exits_with_a_clear_message(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "CROSSFORCE_ENVIRONMENT": "production",
        "CROSSFORCE_DATA_DIR": str(tmp_path / "hub"),
    }
    env.pop("CROSSFORCE_OIDC_ISSUER", None)
    command = [sys.executable, "-m", "gateway.cli", "serve", "--port", str(free_port())]
    done = subprocess.run(command, env=env, capture_output=True, timeout=60, check=False)
    assert done.returncode == 2
    assert b"CROSSFORCE_OIDC_ISSUER" in done.stderr
    assert b"Traceback" not in done.stderr


def test_production_with_an_issuer_serves_no_development_provider(
    tmp_path: Path, falkordb_server: EmbeddedFalkorDB
) -> None:
    settings = Settings(
        environment="production",
        oidc_issuer=f"http://127.0.0.1:{free_port()}",
        graph_uri=f"falkordb://127.0.0.1:{falkordb_server.port}/production_idp",
        data_dir=tmp_path,
    )
    with TestClient(create_app(settings)) as client:
        for path in DEV_IDP_PATHS:
            assert client.get(path).status_code == 404
        token = client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": "admin"},
        )
        assert token.status_code in (404, 405)
        assert "access_token" not in token.text
