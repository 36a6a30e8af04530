"""The Kubernetes manifests in deploy/, read as data: the properties a rollout depends on.

Nothing here talks to a cluster. The manifests are the files kustomize would
render (deploy/kustomization.yaml's resources, the migration Job, and the two
components' patches); settings names are checked against the server's own
config so a typo cannot hide in YAML.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from typing import Any

import pytest

from inventory_client.client import SERVICES
from inventory_server.app import LIVENESS_SERVICE
from inventory_server.config import ENVIRONMENT, Settings, load
from inventory_server.migrate import errors as migrate_errors
from inventory_server.migrate.cli import build_parser as migrate_parser

from .render import DEPLOY, ROOT, build, documents, read_env_file

Doc = dict[str, Any]


@cache
def app_resources() -> tuple[Doc, ...]:
    """Everything `kubectl apply -k deploy/` creates (the ConfigMap's name without kustomize's hash)."""
    return tuple(build(DEPLOY))


def one(kind: str, name: str | None = None) -> Doc:
    found = [
        doc
        for doc in app_resources()
        if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def deployment() -> Doc:
    return one("Deployment", "inventory-server")


def server_container() -> Doc:
    containers = deployment()["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["inventory-server"]
    return dict(containers[0])


def job() -> Doc:
    docs = build(DEPLOY / "migrate")
    assert [d["kind"] for d in docs] == ["Job"]
    return docs[0]


def component_patch(name: str) -> Doc:
    component = documents(DEPLOY / "components" / name / "kustomization.yaml")[0]
    assert component["kind"] == "Component"
    (patch,) = component["patches"]
    return documents(DEPLOY / "components" / name / patch["path"])[0]


def init_container_patch() -> Doc:
    return component_patch("migrate-init-container")


def config_data() -> dict[str, str]:
    return dict(one("ConfigMap", "inventory-server-config")["data"])


def named_port(name: str) -> int:
    (port,) = [p for p in server_container()["ports"] if p["name"] == name]
    assert port["protocol"] == "TCP"
    return int(port["containerPort"])


def container_port() -> int:
    return named_port("grpc")


def dockerfile_uid() -> int:
    users = re.findall(r"^USER\s+(\S+)", (ROOT / "Dockerfile").read_text(), flags=re.MULTILINE)
    return int(users[-1].split(":")[0])


def all_pod_specs() -> list[tuple[str, Doc]]:
    return [
        ("deployment", deployment()["spec"]["template"]["spec"]),
        ("job", job()["spec"]["template"]["spec"]),
    ]


def all_containers() -> list[tuple[str, Doc]]:
    patch_spec = init_container_patch()["spec"]["template"]["spec"]
    found = [
        (f"{where}/{c['name']}", c)
        for where, spec in all_pod_specs()
        for c in [*spec.get("initContainers", []), *spec["containers"]]
    ]
    found += [(f"init-container component/{c['name']}", c) for c in patch_spec["initContainers"]]
    return found


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


# --- what is applied -------------------------------------------------------------------------


def test_kustomization_lists_every_manifest_except_the_secret_template() -> None:
    listed = set(documents(DEPLOY / "kustomization.yaml")[0]["resources"])
    present = {p.name for p in DEPLOY.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present - {"secret.example.yaml"}
    assert "secret.example.yaml" not in listed  # applying deploy/ must never overwrite the real Secret


def test_configuration_is_generated_so_that_a_change_rolls_the_pods() -> None:
    # A plain ConfigMap changes under running pods without restarting them. A generated one
    # gets a content hash in its name, kustomize writes that name into the Deployment's
    # configMapRef, and the changed pod template starts a rollout.
    kustomization = documents(DEPLOY / "kustomization.yaml")[0]
    (generator,) = [g for g in kustomization["configMapGenerator"] if "envs" in g]
    assert generator["envs"] == ["config.env"]
    assert "disableNameSuffixHash" not in generator.get("options", {})
    assert "disableNameSuffixHash" not in kustomization.get("generatorOptions", {})
    assert not any(
        doc["kind"] == "ConfigMap" for name in kustomization["resources"] for doc in documents(DEPLOY / name)
    )
    refs = [source["configMapRef"]["name"] for source in server_container()["envFrom"]]
    assert refs == [generator["name"]]  # the name kustomize rewrites to the hashed one


def test_no_applied_manifest_is_a_secret() -> None:
    kinds = [doc["kind"] for doc in app_resources()] + [job()["kind"]]
    assert "Secret" not in kinds


def test_secret_template_holds_only_a_placeholder() -> None:
    (secret,) = documents(DEPLOY / "secret.example.yaml")
    assert secret["kind"] == "Secret"
    assert secret["metadata"]["name"] == "inventory-database"
    assert secret["stringData"] == {"DATABASE_URL": "REPLACE_ME"}
    assert "data" not in secret


# --- probes ---------------------------------------------------------------------------------


def health_port() -> int:
    return named_port("health")


def test_readiness_probe_is_grpc_health_for_the_whole_server_on_the_health_port() -> None:
    # The kubelet's grpc probe cannot do TLS: readiness asks the plaintext health-only port.
    probe = server_container()["readinessProbe"]
    assert set(probe) & {"grpc", "tcpSocket", "httpGet", "exec"} == {"grpc"}
    assert probe["grpc"]["port"] == health_port() == int(config_data()["INVENTORY_HEALTH_PORT"])
    assert health_port() != container_port()
    # "" is the server-wide status, which follows database health and turns NOT_SERVING on SIGTERM.
    assert probe["grpc"]["service"] == ""


@pytest.mark.parametrize("name", ["startupProbe", "livenessProbe"])
def test_startup_and_liveness_never_depend_on_database_health(name: str) -> None:
    # "" and every inventory.v1 service follow the database: a probe on them would
    # restart every replica during a database outage.
    probe = server_container()[name]
    if "grpc" in probe:
        assert probe["grpc"]["port"] == health_port()
        assert probe["grpc"].get("service", "") not in ("", *SERVICES)
    else:
        assert set(probe) & {"tcpSocket", "httpGet", "exec"} == {"tcpSocket"}
        assert probe["tcpSocket"]["port"] == container_port()


def test_liveness_asks_the_health_name_the_server_keeps_serving_through_outages() -> None:
    assert server_container()["livenessProbe"]["grpc"] == {
        "port": health_port(),
        "service": LIVENESS_SERVICE,
    }


def test_probe_ports_are_numbers_because_grpc_probes_cannot_use_port_names() -> None:
    container = server_container()
    for name in ("startupProbe", "readinessProbe", "livenessProbe"):
        action = next(v for k, v in container[name].items() if k in ("grpc", "tcpSocket"))
        assert isinstance(action["port"], int), name


def test_liveness_tolerates_a_slow_event_loop_for_longer_than_readiness() -> None:
    container = server_container()
    readiness, liveness = container["readinessProbe"], container["livenessProbe"]
    assert (
        liveness["periodSeconds"] * liveness["failureThreshold"]
        > readiness["periodSeconds"] * readiness["failureThreshold"]
    )


# --- configuration and secrets --------------------------------------------------------------


def test_database_url_comes_from_the_secret_everywhere() -> None:
    for where, container in all_containers():
        (entry,) = [e for e in container.get("env", []) if e["name"] == "DATABASE_URL"]
        assert "value" not in entry, where
        assert entry["valueFrom"]["secretKeyRef"] == {"name": "inventory-database", "key": "DATABASE_URL"}


def test_no_manifest_inlines_a_connection_string_or_password() -> None:
    texts = [
        p.read_text()
        for p in [*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.env")]
        if p.name != "secret.example.yaml"
    ]
    for text in texts:
        assert not re.search(r"postgres(ql)?://\S+:\S+@", text)
        assert not re.search(r"(?i)password\s*[:=]", text)
    assert "DATABASE_URL" not in config_data()


def test_configmap_sets_only_real_settings() -> None:
    known = set(ENVIRONMENT.values())
    assert set(config_data()) <= known, set(config_data()) - known


def test_config_file_is_what_the_generated_configmap_holds() -> None:
    assert config_data() == read_env_file(DEPLOY / "config.env")
    assert all(value for value in config_data().values())


def test_configmap_port_is_the_container_port() -> None:
    assert int(config_data()["INVENTORY_PORT"]) == container_port()
    assert container_port() == Settings().port


def test_server_reads_the_configmap() -> None:
    refs = [source["configMapRef"]["name"] for source in server_container()["envFrom"]]
    assert refs == ["inventory-server-config"]


# --- graceful shutdown ------------------------------------------------------------------------


def prestop_sleep_seconds() -> int:
    command = server_container()["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    return int(command[1])


def test_prestop_sleeps_so_endpoints_drain_before_sigterm() -> None:
    assert 1 <= prestop_sleep_seconds() <= 15


def test_termination_grace_outlasts_prestop_plus_the_servers_grace_period() -> None:
    grace = float(config_data().get("INVENTORY_GRACE_PERIOD", Settings().grace_period))
    spec = deployment()["spec"]["template"]["spec"]
    # The kubelet's countdown includes the preStop hook; leave 5 s to close the pool and exit.
    assert spec["terminationGracePeriodSeconds"] >= prestop_sleep_seconds() + grace + 5


# --- images -----------------------------------------------------------------------------------


def test_every_container_runs_the_same_pinned_image_tagged_with_the_project_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    images = {where: c["image"] for where, c in all_containers()}
    assert set(images.values()) == {f"inventory-server:{version}"}, images


def test_kustomize_image_overrides_agree_between_app_and_migration() -> None:
    app = documents(DEPLOY / "kustomization.yaml")[0].get("images", [])
    migrate = documents(DEPLOY / "migrate" / "kustomization.yaml")[0].get("images", [])
    assert app == migrate


# --- migration ------------------------------------------------------------------------------


def migrate_args(container: Doc) -> list[str]:
    assert container["command"] == ["inventory-migrate"]
    args = [str(a) for a in container["args"]]
    assert args[0] == "migrate"
    return args


def wait_for_db(args: list[str]) -> int:
    assert "--wait-for-db" in args
    return int(args[args.index("--wait-for-db") + 1])


def test_job_runs_inventory_migrate_and_waits_for_the_database() -> None:
    spec = job()["spec"]
    (container,) = spec["template"]["spec"]["containers"]
    waited = wait_for_db(migrate_args(container))
    assert waited >= 60
    assert spec["activeDeadlineSeconds"] > waited
    assert spec["backoffLimit"] >= 1
    assert spec["ttlSecondsAfterFinished"] > 0
    assert spec["template"]["spec"]["restartPolicy"] == "Never"


def test_job_fails_fast_on_errors_a_retry_cannot_fix_and_retries_the_rest() -> None:
    spec = job()["spec"]
    (container,) = spec["template"]["spec"]["containers"]
    fail_job = [r for r in spec["podFailurePolicy"]["rules"] if r["action"] == "FailJob"]
    (rule,) = fail_job
    assert rule["onExitCodes"]["containerName"] == container["name"]
    assert rule["onExitCodes"]["operator"] == "In"
    # 1 migration failed, 2 usage, 3 validation failed: final. 4 lock timeout, 5 unreachable: retry.
    final = [
        migrate_errors.EXIT_MIGRATION_FAILED,
        migrate_errors.EXIT_USAGE,
        migrate_errors.EXIT_VALIDATION_FAILED,
    ]
    assert sorted(rule["onExitCodes"]["values"]) == sorted(final)
    retried = {migrate_errors.EXIT_LOCK_TIMEOUT, migrate_errors.EXIT_DATABASE_UNREACHABLE}
    assert not retried & set(rule["onExitCodes"]["values"])


def test_migration_arguments_are_accepted_by_the_real_cli() -> None:
    (job_container,) = job()["spec"]["template"]["spec"]["containers"]
    (init,) = init_container_patch()["spec"]["template"]["spec"]["initContainers"]
    for container in (job_container, init):
        parsed = migrate_parser().parse_args(migrate_args(container))
        assert parsed.command == "migrate"
        assert parsed.wait_for_db == wait_for_db(migrate_args(container))


def test_init_container_variant_migrates_with_the_same_command() -> None:
    (init,) = init_container_patch()["spec"]["template"]["spec"]["initContainers"]
    assert wait_for_db(migrate_args(init)) >= 60


def test_migration_pods_never_receive_traffic_or_count_in_the_budget() -> None:
    job_labels = job()["spec"]["template"]["metadata"]["labels"]
    server_labels = deployment()["spec"]["template"]["metadata"]["labels"]
    selectors = [svc["spec"]["selector"] for svc in app_resources() if svc["kind"] == "Service"]
    selectors.append(one("PodDisruptionBudget")["spec"]["selector"]["matchLabels"])
    for selector in selectors:
        assert selects(selector, server_labels)
        assert not selects(selector, job_labels)


# --- pod security -----------------------------------------------------------------------------


def test_pods_run_as_the_images_non_root_uid() -> None:
    uid = dockerfile_uid()
    assert uid != 0
    for where, spec in all_pod_specs():
        context = spec["securityContext"]
        assert context["runAsNonRoot"] is True, where
        assert context["runAsUser"] == uid, where
        assert spec["automountServiceAccountToken"] is False, where


def test_every_container_is_locked_down_with_a_writable_tmp_only() -> None:
    for where, container in all_containers():
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True, where
        assert context["allowPrivilegeEscalation"] is False, where
        assert context["capabilities"]["drop"] == ["ALL"], where
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], where
    for where, spec in all_pod_specs():
        (tmp,) = [v for v in spec["volumes"] if v["name"] == "tmp"]
        assert "emptyDir" in tmp, where


def test_every_container_has_requests_and_a_memory_limit() -> None:
    for where, container in all_containers():
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]), where
        assert "memory" in resources["limits"], where


# --- scaling and availability ---------------------------------------------------------------


def test_three_replicas_roll_without_losing_capacity() -> None:
    spec = deployment()["spec"]
    assert spec["replicas"] == 3
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert selects(spec["selector"]["matchLabels"], spec["template"]["metadata"]["labels"])


def test_replicas_spread_over_nodes_and_zones() -> None:
    spec = deployment()["spec"]["template"]["spec"]
    labels = deployment()["spec"]["template"]["metadata"]["labels"]
    keys = {c["topologyKey"] for c in spec["topologySpreadConstraints"]}
    assert keys == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
    for constraint in spec["topologySpreadConstraints"]:
        assert selects(constraint["labelSelector"]["matchLabels"], labels)


def test_headless_service_for_dns_round_robin_and_a_clusterip_service() -> None:
    headless = one("Service", "inventory-server-headless")["spec"]
    plain = one("Service", "inventory-server")["spec"]
    assert headless["clusterIP"] == "None"
    assert headless.get("publishNotReadyAddresses", False) is False  # DNS lists ready pods only
    assert plain.get("type", "ClusterIP") == "ClusterIP"
    assert "clusterIP" not in plain
    for spec in (headless, plain):
        (port,) = spec["ports"]
        assert port["port"] == container_port()
        assert port["targetPort"] == "grpc"


def test_disruption_budget_keeps_all_but_one_replica() -> None:
    spec = one("PodDisruptionBudget")["spec"]
    assert spec["maxUnavailable"] == 1
    # Readiness follows the database: unready pods must not block node drains during an outage.
    assert spec["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


# --- TLS, policy, tokens, network ---------------------------------------------------------------


def _mounted(volume_name: str) -> tuple[Doc, Doc]:
    spec = deployment()["spec"]["template"]["spec"]
    (mount,) = [m for m in server_container()["volumeMounts"] if m["name"] == volume_name]
    (volume,) = [v for v in spec["volumes"] if v["name"] == volume_name]
    assert mount["readOnly"] is True
    assert "subPath" not in mount  # a subPath mount never sees the kubelet's updates: no reload
    return mount, volume


def test_mutual_tls_by_default_from_the_mounted_secret() -> None:
    mount, volume = _mounted("tls")
    keys = {
        "INVENTORY_TLS_CERT_FILE": "tls.crt",
        "INVENTORY_TLS_KEY_FILE": "tls.key",
        "INVENTORY_TLS_CLIENT_CA_FILE": "ca.crt",
    }
    for name, key in keys.items():
        assert config_data()[name] == f"{mount['mountPath']}/{key}"
    assert volume["secret"]["secretName"] == "inventory-server-tls"
    assert volume["secret"]["defaultMode"] == 0o440


def test_the_policy_and_the_token_keys_are_mounted_from_generated_configmaps() -> None:
    for volume_name, setting, config_map, key in (
        ("auth-policy", "INVENTORY_AUTH_POLICY_FILE", "inventory-auth-policy", "policy.yaml"),
        ("jwks", "INVENTORY_JWT_JWKS_FILE", "inventory-jwks", "jwks.json"),
    ):
        mount, volume = _mounted(volume_name)
        assert config_data()[setting] == f"{mount['mountPath']}/{key}"
        assert volume["configMap"]["name"] == config_map
        assert key in one("ConfigMap", config_map)["data"]
    assert config_data()["INVENTORY_JWT_ISSUER"]
    assert config_data()["INVENTORY_JWT_AUDIENCE"]


def test_the_mounted_policy_and_jwks_load_as_the_server_would_load_them() -> None:
    from inventory_server.app import permission_names
    from inventory_server.auth.policy import parse_policy
    from inventory_server.auth.tokens import parse_jwks

    parse_policy(one("ConfigMap", "inventory-auth-policy")["data"]["policy.yaml"], permission_names())
    parse_jwks(one("ConfigMap", "inventory-jwks")["data"]["jwks.json"])


def test_the_deployed_settings_are_secure_by_default() -> None:
    settings = load(None, environ=config_data())
    assert settings.secured
    assert not settings.allow_insecure_listen
    assert settings.listen_host() == "[::]"


def test_network_policy_admits_labelled_clients_on_grpc_and_anyone_on_the_health_port_only() -> None:
    policy = one("NetworkPolicy", "inventory-server")
    assert selects(
        policy["spec"]["podSelector"]["matchLabels"], deployment()["spec"]["template"]["metadata"]["labels"]
    )
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    rules = {rule["ports"][0]["port"]: rule for rule in policy["spec"]["ingress"]}
    assert set(rules) == {container_port(), health_port(), named_port("metrics")}
    (grpc_source,) = rules[container_port()]["from"]
    assert grpc_source["podSelector"]["matchLabels"] == {"inventory.shop.example/client": "true"}
    assert "from" not in rules[health_port()]  # the kubelet: any source, health only
    assert rules[named_port("metrics")]["from"]


# --- metrics ----------------------------------------------------------------------------------


def test_prometheus_scrapes_the_metrics_port_the_server_is_told_to_use() -> None:
    annotations = deployment()["spec"]["template"]["metadata"]["annotations"]
    port = named_port("metrics")
    assert port == 9464  # the conventional port of the OpenTelemetry Prometheus exporter
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(port)  # annotations are strings
    assert annotations["prometheus.io/path"] == "/metrics"
    assert config_data()["INVENTORY_METRICS_PORT"] == str(port)
    assert port not in (container_port(), Settings().health_port)


def test_services_do_not_expose_the_metrics_port() -> None:
    # Prometheus scrapes each pod directly; clients of the gRPC Services never see metrics.
    for service in (doc for doc in app_resources() if doc["kind"] == "Service"):
        assert [p["name"] for p in service["spec"]["ports"]] == ["grpc"]


# --- autoscaling component ----------------------------------------------------------------------


def hpa_build() -> list[Doc]:
    return build(DEPLOY, components=("hpa",))


def test_hpa_component_scales_the_deployment_and_takes_over_its_replica_count() -> None:
    objects = hpa_build()
    (hpa,) = [o for o in objects if o["kind"] == "HorizontalPodAutoscaler"]
    (scaled,) = [o for o in objects if o["kind"] == "Deployment"]
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == (
        "apps/v1",
        "Deployment",
        "inventory-server",
    )
    # Without this, every `kubectl apply` would reset the count the autoscaler chose.
    assert "replicas" not in scaled["spec"]
    assert "replicas" in deployment()["spec"]  # the base without the component keeps its three


def test_hpa_never_goes_below_what_the_spread_and_budget_assume() -> None:
    (hpa,) = [o for o in hpa_build() if o["kind"] == "HorizontalPodAutoscaler"]
    spec = hpa["spec"]
    assert spec["minReplicas"] == deployment()["spec"]["replicas"]
    assert spec["minReplicas"] > one("PodDisruptionBudget")["spec"]["maxUnavailable"]
    assert spec["maxReplicas"] > spec["minReplicas"]
    (metric,) = spec["metrics"]
    assert metric["resource"]["name"] == "cpu"
    # Utilisation is relative to the request: the container must have one.
    assert "cpu" in server_container()["resources"]["requests"]
    assert 0 < metric["resource"]["target"]["averageUtilization"] < 100
    # Scale down one pod at a time, after a quiet period.
    down = spec["behavior"]["scaleDown"]
    assert down["stabilizationWindowSeconds"] >= 60
    assert all(p["type"] == "Pods" and p["value"] == 1 for p in down["policies"])


def test_connection_budget_comment_matches_the_hpa_ceiling() -> None:
    (hpa,) = [o for o in hpa_build() if o["kind"] == "HorizontalPodAutoscaler"]
    per_replica = int(config_data()["INVENTORY_POOL_MAX_SIZE"]) + 1
    text = (DEPLOY / "config.env").read_text()
    replicas = deployment()["spec"]["replicas"]
    assert f"{replicas} x {per_replica} + 1 = {replicas * per_replica + 1}" in text
    maximum = hpa["spec"]["maxReplicas"]
    assert f"{maximum} x {per_replica} + 1 = {maximum * per_replica + 1}" in text
