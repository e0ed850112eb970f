"""The Helm chart: renders for every supported value set, passes Helm's strict lint, produces
manifests the Kubernetes schemas accept, hardens the pod, and refuses invalid values clearly."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from gateway.config import Settings
from policies.vault import VaultSettings
from tests.deploy.conftest import (
    CHART,
    NAMESPACE,
    RELEASE,
    ROOT,
    VALUES,
    by_kind,
    helm,
    one,
    render,
    values_file,
)

VALUE_SETS = ["default", "ingress.yaml", "bundled-neo4j.yaml", "fixed-replicas.yaml", "vault.yaml"]
# The oldest Kubernetes the chart declares (Chart.yaml kubeVersion) and the newest schemas.
KUBE_VERSIONS = ["1.27.0", kubernetes_validate.utils.latest_version()]
MISSING_NEO4J = "chart directory is missing these dependencies: neo4j"


def values_of(value_set: str) -> dict[str, Any]:
    return {} if value_set == "default" else values_file(value_set)


def problems(report: dict[str, Any]) -> list[str]:
    """Findings that strict lint fails on: warnings and errors (severity 2 and 3)."""
    return [f"{m['path']}: {m['error']}" for m in report["messages"] if m["severity"] >= 2]


@pytest.mark.parametrize("value_set", VALUE_SETS)
@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_every_rendered_manifest_is_valid_kubernetes(value_set: str, kube_version: str) -> None:
    objects = render(values_of(value_set))
    assert objects
    for manifest in objects:
        # strict: unknown fields are errors too, so a misspelt key cannot pass.
        kubernetes_validate.validate(manifest, kube_version, strict=True)


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_strict_lint_finds_nothing_but_the_unfetchable_neo4j_dependency(value_set: str) -> None:
    # The official Neo4j chart cannot be downloaded here (no network beyond package
    # registries), so `charts/` lacks it and lint warns about exactly that, nothing else.
    report = helm.lint(CHART, values_of(value_set), strict=True, namespace=NAMESPACE)
    assert problems(report) == [f"{CHART}: {MISSING_NEO4J}"]


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_strict_lint_passes_without_the_optional_dependency(value_set: str, tmp_path: Path) -> None:
    copy = shutil.copytree(CHART, tmp_path / "crossforce")
    metadata = yaml.safe_load((copy / "Chart.yaml").read_text())
    del metadata["dependencies"]
    (copy / "Chart.yaml").write_text(yaml.safe_dump(metadata))
    report = helm.lint(copy, values_of(value_set), strict=True, namespace=NAMESPACE)
    assert problems(report) == []
    assert report["errors"] == []


def test_the_neo4j_dependency_is_optional_and_off_by_default() -> None:
    metadata = yaml.safe_load((CHART / "Chart.yaml").read_text())
    (neo4j,) = metadata["dependencies"]
    assert neo4j["condition"] == "neo4j.enabled"
    assert yaml.safe_load((CHART / "values.yaml").read_text())["neo4j"]["enabled"] is False


def gateway_env(objects: list[dict[str, Any]]) -> dict[str, Any]:
    container = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_every_setting_the_chart_passes_is_one_the_hub_reads() -> None:
    names = {n for n in gateway_env(render()) if n.startswith("CROSSFORCE_")}
    names |= {
        n for n in gateway_env(render(values_file("vault.yaml"))) if n.startswith("CROSSFORCE_")
    }
    known = {f"CROSSFORCE_{field.upper()}" for field in Settings.model_fields}
    known |= {f"CROSSFORCE_VAULT_{field.upper()}" for field in VaultSettings.model_fields}
    assert names - known == set()
    assert {"CROSSFORCE_GRAPH_URI", "CROSSFORCE_OIDC_ISSUER", "CROSSFORCE_DATA_DIR"} <= names


def test_default_values_use_an_external_neo4j_with_credentials_from_a_secret() -> None:
    env = gateway_env(render())
    assert env["CROSSFORCE_GRAPH_URI"] == "neo4j://neo4j:7687"
    assert env["CROSSFORCE_GRAPH_PASSWORD"] == {
        "secretKeyRef": {"name": "crossforce-graph", "key": "password"}
    }
    assert env["CROSSFORCE_ENVIRONMENT"] == "production"
    assert env["CROSSFORCE_OIDC_ISSUER"].startswith("https://")


def test_bundled_neo4j_is_wired_to_the_release_service() -> None:
    # The official Neo4j chart is not in charts/ (it cannot be fetched here), so Helm renders
    # this chart's side only: the gateway wired to the Neo4j service the subchart would create.
    objects = render(values_file("bundled-neo4j.yaml"))
    assert not [o for o in objects if o["kind"] == "StatefulSet"]
    assert gateway_env(objects)["CROSSFORCE_GRAPH_URI"] == f"neo4j://{RELEASE}:7687"
    # The gateway is RELEASE-gateway: the Neo4j chart names its service RELEASE.
    assert one(objects, "Service")["metadata"]["name"] == f"{RELEASE}-gateway"
    policy = one(objects, "NetworkPolicy")
    ports = [p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]]
    assert 7687 in ports


def test_chart_creates_no_secret() -> None:
    for value_set in VALUE_SETS:
        assert by_kind(render(values_of(value_set)), "Secret") == []


def test_the_gateway_pod_is_hardened() -> None:
    pod = one(render(), "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] > 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    for container in pod["containers"] + pod["initContainers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        assert container["resources"]["requests"] and container["resources"]["limits"]


def test_probes_point_at_health_and_readiness() -> None:
    (gateway,) = one(render(), "Deployment")["spec"]["template"]["spec"]["containers"]
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert gateway["startupProbe"]["httpGet"]["path"] == "/healthz"


def test_termination_grace_outlasts_the_hubs_graceful_shutdown() -> None:
    objects = render({"gracefulShutdownSeconds": 40})
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    assert gateway_env(objects)["CROSSFORCE_GRACEFUL_SHUTDOWN_SECONDS"] == "40"
    assert pod["terminationGracePeriodSeconds"] > 40 + 5  # the preStop sleep comes first


def test_network_policy_allows_only_dns_graph_identity_provider_and_kms() -> None:
    policy = one(render(values_file("ingress.yaml")), "NetworkPolicy")["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    egress = [sorted(p["port"] for p in rule["ports"]) for rule in policy["egress"]]
    assert egress == [[53, 53], [7687], [443], [443]]
    cidrs = [rule["to"][0].get("ipBlock", {}).get("cidr") for rule in policy["egress"]]
    assert cidrs[2:] == ["203.0.113.0/24", "198.51.100.0/24"]


def test_ingress_routes_the_public_host_with_tls() -> None:
    assert by_kind(render(), "Ingress") == []
    ingress = one(render(values_file("ingress.yaml")), "Ingress")["spec"]
    assert ingress["ingressClassName"] == "nginx"
    assert ingress["tls"] == [
        {"hosts": ["hub.south-west.example.org"], "secretName": "crossforce-tls"}
    ]
    assert ingress["rules"][0]["host"] == "hub.south-west.example.org"


def test_autoscaler_and_disruption_budget_follow_the_values() -> None:
    objects = render()
    assert one(objects, "HorizontalPodAutoscaler")["spec"]["minReplicas"] == 2
    assert "replicas" not in one(objects, "Deployment")["spec"]  # the autoscaler owns it
    assert one(objects, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    fixed = render(values_file("fixed-replicas.yaml"))
    assert one(fixed, "Deployment")["spec"]["replicas"] == 3
    for kind in ("HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"):
        assert by_kind(fixed, kind) == []


def test_bundled_policies_are_the_projects_defaults() -> None:
    config = one(render(), "ConfigMap")["data"]
    for name in ("clients.yaml", "sharing.yaml"):
        shipped = (ROOT / "policies" / "defaults" / name).read_text()
        assert yaml.safe_load(config[name]) == yaml.safe_load(shipped)


def test_an_operators_policy_configmap_replaces_the_bundled_one() -> None:
    objects = render(values_file("fixed-replicas.yaml"))
    assert by_kind(objects, "ConfigMap") == []
    volumes = one(objects, "Deployment")["spec"]["template"]["spec"]["volumes"]
    policies = next(v for v in volumes if v["name"] == "policies")
    assert policies["configMap"]["name"] == "south-west-agreements"


INVALID = {
    "root-user.yaml": "at '/podSecurityContext/runAsNonRoot': value must be true",
    "writable-root.yaml": "at '/securityContext/readOnlyRootFilesystem': value must be true",
    "graph-uri.yaml": "at '/graph/uri': 'http://neo4j:7474' does not match pattern",
    "http-issuer.yaml": "at '/oidc/issuer': 'http://idp.example.org' does not match pattern",
    "unknown-key.yaml": "additional properties 'replicas' not allowed",
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_values_are_refused_with_a_clear_message(name: str) -> None:
    values = yaml.safe_load((VALUES / "invalid" / name).read_text())
    with pytest.raises(helm.HelmValuesError) as refused:
        render(values)
    assert INVALID[name] in str(refused.value)
    report = helm.lint(CHART, values, strict=True, namespace=NAMESPACE)
    assert any(INVALID[name] in message for message in problems(report))


def test_no_graph_at_all_is_refused() -> None:
    with pytest.raises(helm.HelmRenderError, match=r"graph\.uri is required unless neo4j\.enabled"):
        render({"graph": {"uri": ""}})


def test_with_vault_the_token_comes_from_a_secret_and_no_kek_file_is_mounted() -> None:
    objects = render(values_file("vault.yaml"))
    env = gateway_env(objects)
    assert env["CROSSFORCE_VAULT_ADDR"] == "https://vault.south-west.example.org:8200"
    assert env["CROSSFORCE_VAULT_TOKEN"] == {
        "secretKeyRef": {"name": "crossforce-vault", "key": "token"}
    }
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    secret = next(v for v in pod["volumes"] if v["name"] == "keys-secret")
    assert [item["path"] for item in secret["secret"]["items"]] == ["linking.key", "audit.key"]
    assert "kek.key" not in " ".join(pod["initContainers"][0]["command"])


def test_every_replica_keys_the_audit_chain_alike_and_copies_it_to_the_log_sink() -> None:
    """Replicas share one audit key, from the Secret, in the data dir where the hub reads it;
    each entry also goes to stdout, a copy outside the graph."""
    objects = render()
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    secret = next(v for v in pod["volumes"] if v["name"] == "keys-secret")
    assert {"key": "audit.key", "path": "audit.key"} in secret["secret"]["items"]
    copy = " ".join(pod["initContainers"][0]["command"])
    assert "/etc/crossforce/keys/audit.key /var/lib/crossforce/keys/" in copy
    assert gateway_env(objects)["CROSSFORCE_AUDIT_MIRROR_FILE"] == "/dev/stdout"
    assert "CROSSFORCE_AUDIT_MIRROR_FILE" not in gateway_env(
        render({"audit": {"mirrorToStdout": False}})
    )


def test_metrics_token_comes_from_a_secret_and_the_pod_monitor_sends_it() -> None:
    env = gateway_env(render())
    assert env["CROSSFORCE_METRICS_TOKEN"] == {
        "secretKeyRef": {"name": "crossforce-metrics", "key": "token"}
    }
    assert by_kind(render(), "PodMonitor") == []
    monitor = one(render({"metrics": {"podMonitor": {"enabled": True}}}), "PodMonitor")
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["path"] == "/metrics"
    assert endpoint["authorization"] == {
        "type": "Bearer",
        "credentials": {"name": "crossforce-metrics", "key": "token"},
    }
    assert "CROSSFORCE_METRICS_TOKEN" not in gateway_env(
        render({"metrics": {"existingSecret": ""}})
    )


COORDINATION = {
    "pullLeaseSeconds": "CROSSFORCE_PULL_LEASE_SECONDS",
    "afterSyncStaleSeconds": "CROSSFORCE_AFTER_SYNC_STALE_SECONDS",
    "keyRecheckSeconds": "CROSSFORCE_KEY_RECHECK_SECONDS",
}


def test_replica_coordination_settings_reach_every_replica() -> None:
    values = {
        "coordination": {
            "pullLeaseSeconds": 40,
            "afterSyncStaleSeconds": 90,
            "keyRecheckSeconds": 5,
        },
        "graph": {"slowQuerySeconds": 0.25},
    }
    env = gateway_env(render(values))
    for value, name in COORDINATION.items():
        assert env[name] == str(values["coordination"][value])
    assert env["CROSSFORCE_GRAPH_SLOW_QUERY_SECONDS"] == "0.25"
    settings = Settings.model_validate(
        {name.removeprefix("CROSSFORCE_").lower(): env[name] for name in COORDINATION.values()}
    )
    assert (settings.pull_lease_seconds, settings.after_sync_stale_seconds) == (40, 90)


def test_the_chart_defaults_for_replicas_are_the_hubs() -> None:
    env = gateway_env(render())
    for name in COORDINATION.values():
        field = Settings.model_fields[name.removeprefix("CROSSFORCE_").lower()]
        assert float(env[name]) == field.default


@pytest.mark.parametrize(
    ("value", "bound"),
    [("pullLeaseSeconds", 600), ("afterSyncStaleSeconds", 3600), ("keyRecheckSeconds", 60)],
)
def test_a_coordination_value_the_hub_would_refuse_is_refused_by_the_chart(
    value: str, bound: int
) -> None:
    setting = COORDINATION[value].removeprefix("CROSSFORCE_").lower()
    with pytest.raises(ValueError):
        Settings.model_validate({setting: bound + 1})
    with pytest.raises(helm.HelmValuesError, match=f"/coordination/{value}"):
        render({"coordination": {value: bound + 1}})
    with pytest.raises(helm.HelmValuesError, match=f"/coordination/{value}"):
        render({"coordination": {value: 0}})
