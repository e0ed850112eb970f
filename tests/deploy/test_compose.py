"""`deploy/compose.yaml`, the production-like hub on one machine, read as Docker Compose reads it:
valid against the Compose Specification's own JSON schema (vendored in compose_spec/, see its
SOURCE.md), every image pinned by digest, two hub replicas on one Neo4j 5.26 behind one port,
secrets from files, and health checks that ask the hub whether it is ready.

No Docker daemon runs here, so the file is checked, not started (docs/operations.md says how to
start it).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.deploy.conftest import ROOT
from tests.deploy.test_dockerfile import PINNED

COMPOSE = ROOT / "deploy" / "compose.yaml"
SCHEMA = Path(__file__).parent / "compose_spec" / "compose-spec.json"


def load() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def schema_errors(document: dict[str, Any]) -> list[str]:
    schema = json.loads(SCHEMA.read_text())
    # The schema declares draft-07 (as a URL the library does not know by that spelling).
    assert "draft-07" in schema["$schema"]
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load()


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def test_the_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    assert schema_errors(compose) == []


def test_the_schema_refuses_what_compose_would_refuse(compose: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["hub"]["replica"] = 2  # a misspelt key
    broken["services"]["proxy"]["healthcheck"]["test"] = 5
    broken["secrets"]["kek_key"]["path"] = "./secrets/kek.key"  # `file` is the key
    errors = schema_errors(broken)
    assert any(e.startswith("services/hub:") and "'replica'" in e for e in errors), errors
    assert any(e.startswith("services/proxy/healthcheck/test:") for e in errors), errors
    assert any(e.startswith("secrets/kek_key:") and "'path'" in e for e in errors), errors


def test_every_image_is_pinned_by_digest_or_built_from_the_pinned_dockerfile(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        if "build" in service:
            build = service["build"]
            assert (COMPOSE.parent / build["context"]).resolve() == ROOT, name
            assert build["dockerfile"] == "Dockerfile", name
            # The Dockerfile's own FROM lines are pinned (test_dockerfile.py).
            assert "image" not in service, f"{name} builds; a tag beside it would be unpinned"
        else:
            assert PINNED.fullmatch(service["image"]), f"{name}: {service['image']}"


def test_neo4j_is_5_26_community(services: dict[str, dict[str, Any]]) -> None:
    assert services["neo4j"]["image"].startswith("neo4j:5.26-community@sha256:")


def test_two_hub_replicas_share_the_one_neo4j(services: dict[str, dict[str, Any]]) -> None:
    hub = services["hub"]
    assert hub["deploy"]["replicas"] == 2
    assert hub["environment"]["CROSSFORCE_GRAPH_URI"] == "neo4j://neo4j:7687"
    assert hub["depends_on"]["neo4j"] == {"condition": "service_healthy"}
    # One data volume: both replicas hold the same keys and accept each other's tokens.
    assert "hub-data:/var/lib/crossforce" in hub["volumes"]
    assert "hub-data:/var/lib/crossforce" in services["keys"]["volumes"]


def test_one_port_in_front_and_nothing_else_published(
    services: dict[str, dict[str, Any]],
) -> None:
    published = {name: service["ports"] for name, service in services.items() if "ports" in service}
    assert published == {"proxy": ["8080:8080"]}
    assert services["proxy"]["depends_on"]["hub"] == {"condition": "service_healthy"}
    (config,) = services["proxy"]["configs"]
    assert config["target"] == "/etc/nginx/conf.d/default.conf"


def test_the_proxy_sends_every_path_to_the_hub_replicas(compose: dict[str, Any]) -> None:
    conf = (COMPOSE.parent / compose["configs"]["nginx"]["file"]).read_text()
    assert re.search(r"upstream hub \{[^}]*server hub:8000 resolve;", conf)
    assert re.search(r"location / \{[^}]*proxy_pass http://hub;", conf)
    assert re.search(r"^\s*listen 8080;", conf, re.MULTILINE)


def test_health_checks_ask_whether_the_hub_is_ready(services: dict[str, dict[str, Any]]) -> None:
    for name in ("hub", "proxy"):
        test = " ".join(services[name]["healthcheck"]["test"])
        assert "/readyz" in test, name
    assert services["neo4j"]["healthcheck"]["test"][0] == "CMD"


def test_secrets_come_from_files_and_never_from_the_file_itself(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    declared = compose["secrets"]
    assert set(declared) == {"neo4j_auth", "graph_password", "kek_key", "linking_key", "audit_key"}
    for name, secret in declared.items():
        assert set(secret) == {"file"}, name
        assert secret["file"].startswith("./secrets/"), name
    assert (COMPOSE.parent / ".gitignore").read_text().split() == ["secrets/"]
    assert services["neo4j"]["environment"]["NEO4J_AUTH_FILE"] == "/run/secrets/neo4j_auth"
    for name, service in services.items():
        for variable, value in service.get("environment", {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN|_AUTH$|KEY", variable):
                pytest.fail(f"{name} sets {variable}={value!r} in the file")


def test_the_hub_runs_hardened(services: dict[str, dict[str, Any]]) -> None:
    for name in ("hub", "keys"):
        service = services[name]
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
    assert "user" not in services["hub"]  # the image's own unprivileged user (10001)
