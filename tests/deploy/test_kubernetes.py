"""deploy/kubernetes, checked offline: what ``kubectl kustomize`` renders for each overlay.

Every overlay renders and validates against the Kubernetes schemas (the oldest version the
manifests are written for and the newest bundled); and the manifests agree with the programs:
image, commands and flags, ports, probe paths, environment names, secrets, shutdown budget,
the routing ConfigMap mount, network reachability and the measured memory. A drift on either side
(a renamed setting, a new port, a probe path the program no longer answers) fails here.
"""

from __future__ import annotations

import json
import re
import secrets
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from gateway.admin.access import PUBLIC_PATHS
from gateway.loader import parse_table
from gateway.settings import GatewaySettings
from gateway.upstream_env import env_name
from legacy_flask.config import PROVIDER_DEFAULTS
from services.settings import DEFAULT_PORT as SERVICES_PORT
from services.settings import Settings
from tests.deploy.test_compose import _help, _module_command, _settings_names
from tests.deploy.test_compose import services as compose_services
from tools import kustomize
from tools.configdoc import LEGACY_EXTRA

ROOT = Path(__file__).resolve().parents[2]
Doc = dict[str, Any]
PROGRAMS = {"figway-gateway": "gateway", "figway-services": "services", "figway-legacy": "legacy"}
MIB = 2**20
_QUANTITY = re.compile(r"^(\d+)(Mi|Gi)$")


@cache
def rendered(target: str) -> tuple[Doc, ...]:
    return tuple(kustomize.render(target))


def docs(target: str) -> list[Doc]:
    return list(rendered(target))


def program_containers(target: str = "base") -> Iterator[tuple[str, Doc]]:
    """(program, container) for every container that runs one of figway's programs."""
    for workload in kustomize.workloads(docs(target)):
        for container in kustomize.containers(workload):
            argv = container.get("command", [])
            if argv[:1] == ["gunicorn"]:
                yield "legacy", container
            elif argv[:2] == ["python", "-m"]:
                yield {"legacy_flask": "legacy"}.get(argv[2], argv[2]), container


def deployment(name: str, target: str = "base") -> Doc:
    return kustomize.find(docs(target), "Deployment", name)


def container_of(name: str, target: str = "base") -> Doc:
    found: Doc = deployment(name, target)["spec"]["template"]["spec"]["containers"][0]
    return found


def env_of(container: Doc) -> dict[str, Doc]:
    return {item["name"]: item for item in container.get("env", [])}


def mebibytes(quantity: str) -> int:
    found = _QUANTITY.match(quantity)
    assert found, f"memory quantities are written in Mi or Gi: {quantity}"
    return int(found.group(1)) * (1024 if found.group(2) == "Gi" else 1)


# -- rendering and schemas ------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", kustomize.OVERLAYS)
def test_every_overlay_renders_and_validates_against_the_kubernetes_schemas(overlay: str) -> None:
    import kubernetes_validate

    rendered_docs = docs(overlay)
    for version in (kustomize.MIN_KUBERNETES, kubernetes_validate.latest_version()):
        assert kustomize.validate(rendered_docs, version) == [], version
    kinds = {(doc["kind"], doc["metadata"]["name"]) for doc in rendered_docs}
    namespaces = {doc["metadata"].get("namespace") for doc in rendered_docs if doc["kind"] != "Namespace"}
    assert namespaces == {"figway-dev" if overlay == "dev" else "figway"}
    for name in PROGRAMS:
        assert ("Deployment", name) in kinds
    assert {("HorizontalPodAutoscaler", "figway-gateway"), ("PodDisruptionBudget", "figway-gateway")} <= kinds
    assert ("Job", "figway-migrate") in kinds
    assert ("ConfigMap", "figway-routing") in kinds
    in_cluster = {("StatefulSet", "figway-mariadb"), ("Deployment", "figway-redis")}
    assert (in_cluster <= kinds) is (overlay == "dev")
    assert not (in_cluster & kinds) or overlay == "dev"
    # Secrets are created by the operator (docs/kubernetes.md), never shipped with values.
    assert not [doc for doc in rendered_docs if doc["kind"] == "Secret"]


def test_the_schema_check_rejects_a_broken_manifest() -> None:
    broken = json.loads(json.dumps(deployment("figway-gateway")))
    broken["spec"]["replicas"] = "three"
    assert kustomize.validate([broken], kustomize.MIN_KUBERNETES)
    typo = json.loads(json.dumps(deployment("figway-gateway")))
    typo["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    assert kustomize.validate([typo], kustomize.MIN_KUBERNETES)


def test_the_kustomize_tool_checks_an_overlay(capsys: pytest.CaptureFixture[str]) -> None:
    assert kustomize.main(["prod", "--check"]) == 0
    assert "prod: valid for Kubernetes" in capsys.readouterr().out


# -- the manifests agree with the programs --------------------------------------------------------


def test_every_program_runs_the_image_compose_and_the_dockerfile_build() -> None:
    compose_image = compose_services()["gateway"]["image"]  # figway:latest, built from the Dockerfile
    repository = compose_image.split(":")[0]
    expected = {
        "base": compose_image,
        "dev": f"{repository}:dev",
        "prod": f"registry.example.com/{repository}:0.1.0",
    }
    for target, image in expected.items():
        images = {container["image"] for _, container in program_containers(target)}
        assert images == {image}, target
    assert len(list(program_containers())) == 5  # gateway, services, legacy, and the Job's two steps


def test_commands_are_the_programs_own_and_every_flag_is_accepted() -> None:
    compose = compose_services()
    for program, container in program_containers():
        argv = container["command"]
        if argv[0] == "gunicorn":
            assert argv[-1] == compose["legacy"]["command"][-1] == "legacy_flask.wsgi:app"
            prefix: tuple[str, ...] = (str(Path(sys.executable).parent / "gunicorn"),)
        else:
            module, sub = _module_command(argv)
            if container["name"] == program:  # the long-running ones: as compose runs them
                assert (module, sub) == _module_command(compose[program]["command"])
            assert sub is not None and re.search(
                rf"\b{sub}\b", _help((sys.executable, "-m", module, "--help"))
            )
            prefix = (sys.executable, "-m", module, *([sub] if sub else []))
        text = _help((*prefix, "--help"))
        for flag in (arg for arg in argv if arg.startswith("--")):
            assert re.search(rf"{re.escape(flag)}\b", text), f"{program}: {flag} is not an option"


def _flag(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def _listen_port(argv: list[str]) -> int:
    if "--bind" in argv:
        return int(_flag(argv, "--bind").rsplit(":", 1)[1])
    return int(_flag(argv, "--port"))


def test_ports_agree_between_commands_containers_services_and_the_gateway_upstreams() -> None:
    base = docs("base")
    ports = {}
    for name in PROGRAMS:
        container = container_of(name)
        declared = {port["name"]: port["containerPort"] for port in container["ports"]}
        assert declared == {"http": _listen_port(container["command"])}, name
        service = kustomize.find(base, "Service", name)
        assert service["spec"]["selector"] == deployment(name)["spec"]["selector"]["matchLabels"]
        (service_port,) = service["spec"]["ports"]
        assert service_port["targetPort"] == "http" and service_port["port"] == declared["http"]
        ports[name] = declared["http"]
    assert ports["figway-gateway"] == GatewaySettings.model_fields["port"].default
    assert ports["figway-services"] == SERVICES_PORT
    assert ports["figway-legacy"] == _listen_port(compose_services()["legacy"]["command"])
    gateway_env = env_of(container_of("figway-gateway"))
    for upstream, service_name in (("legacy", "figway-legacy"), ("services", "figway-services")):
        url = urlsplit(gateway_env[env_name(upstream)]["value"])
        assert (url.hostname, url.port) == (service_name, ports[service_name])


def test_gateway_probes_use_the_public_health_path_and_the_named_port() -> None:
    container = container_of("figway-gateway")
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["path"] in PUBLIC_PATHS, probe
        assert container[probe]["httpGet"]["port"] == "http"


def test_every_probe_path_answers_200_in_its_program(tmp_path: Path) -> None:
    import httpx

    from gateway.app import Gateway
    from legacy_flask.app import create_app as legacy_app
    from services.app import create_app as services_app
    from tests.support.servers import uvicorn_thread

    def paths(name: str) -> set[str]:
        container = container_of(name)
        found = {
            container[probe]["httpGet"]["path"]
            for probe in ("readinessProbe", "livenessProbe", "startupProbe")
            if "httpGet" in container.get(probe, {})
        }
        assert found, name
        return found

    database = f"sqlite:///{tmp_path / 'figway.db'}"
    legacy = legacy_app({"DATABASE_URL": database, "INIT_DB": True}).test_client()
    for path in paths("figway-legacy"):
        assert legacy.get(path).status_code == 200, path
    gateway = Gateway(GatewaySettings(routing_file=ROOT / "routing.yaml", watch=False, state_dir=None))
    with (
        uvicorn_thread(services_app(Settings(database_url=database))) as services,
        uvicorn_thread(gateway) as gateway_server,
    ):
        for path in paths("figway-services"):
            assert httpx.get(services.url + path, timeout=10).status_code == 200, path
        for path in paths("figway-gateway"):
            # Answered without the admin token: a kubelet has none.
            assert httpx.get(gateway_server.url + path, timeout=10).status_code == 200, path


LEGACY_READS = {
    "FIGWAY_ENV",  # read by legacy's launcher, gunicorn.conf.py
    "DATABASE_URL",
    "MVIDARR_SECRET_KEY",
    "FIGWAY_DEMO_PASSWORD",
    *PROVIDER_DEFAULTS,
    *(name for name, _, _ in LEGACY_EXTRA),
}


def reads(program: str) -> set[str]:
    if program == "gateway":
        return _settings_names(GatewaySettings, "GATEWAY_") | {env_name(n) for n in ("legacy", "services")}
    if program == "services":
        return _settings_names(Settings)
    return LEGACY_READS


def test_every_environment_variable_is_one_its_program_reads() -> None:
    for target in ("base", *kustomize.OVERLAYS):
        for program, container in program_containers(target):
            unknown = set(env_of(container)) - reads(program)
            assert not unknown, f"{target} {program} {container['name']}: {unknown}"


#: What each long-running program cannot start without in production, and where it must come from.
REQUIRED_SECRETS = {
    "figway-gateway": {"GATEWAY_ADMIN_TOKEN": "figway-secrets", "REDIS_URL": "figway-datastores"},
    "figway-services": {
        "MVIDARR_SECRET_KEY": "figway-secrets",
        "JWT_SECRET": "figway-secrets",
        "DATABASE_URL": "figway-datastores",
        "REDIS_URL": "figway-datastores",
    },
    "figway-legacy": {"MVIDARR_SECRET_KEY": "figway-secrets", "DATABASE_URL": "figway-datastores"},
}
_SECRET_NAME = re.compile(r"(SECRET|TOKEN|PASSWORD|_KEY$|DATABASE_URL|REDIS_URL)")


def secret_refs(target: str) -> set[tuple[str, str, bool]]:
    """(secret, key, optional) of every secretKeyRef in the rendered manifests."""
    found = set()
    for workload in kustomize.workloads(docs(target)):
        for container in kustomize.containers(workload):
            for item in container.get("env", []):
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    found.add((ref["name"], ref["key"], bool(ref.get("optional"))))
    return found


def test_every_secret_comes_from_a_secret_and_none_has_a_default() -> None:
    for target in ("base", *kustomize.OVERLAYS):
        for workload in kustomize.workloads(docs(target)):
            for container in kustomize.containers(workload):
                assert "envFrom" not in container  # names stay visible to the checks above
                for name, item in env_of(container).items():
                    if _SECRET_NAME.search(name):
                        ref = item.get("valueFrom", {}).get("secretKeyRef")
                        assert ref and "value" not in item, (
                            f"{target} {container['name']}: {name} is a literal"
                        )
                        assert ref["key"] == name
    for name, needed in REQUIRED_SECRETS.items():
        env = env_of(container_of(name))
        for variable, secret in needed.items():
            ref = env[variable]["valueFrom"]["secretKeyRef"]
            assert ref["name"] == secret and not ref.get("optional"), f"{name}: {variable}"


def test_the_kubernetes_guide_names_every_secret_key_the_manifests_reference() -> None:
    guide = (ROOT / "docs" / "kubernetes.md").read_text(encoding="utf-8")
    for target in kustomize.OVERLAYS:
        for secret, key, _optional in secret_refs(target):
            assert secret in guide and key in guide, f"{secret}/{key} is missing from docs/kubernetes.md"


def test_every_long_running_program_runs_in_production_mode_and_refuses_placeholders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in PROGRAMS:
        assert env_of(container_of(name))["FIGWAY_ENV"]["value"] == "production", name
    for key, value in manifest_environment(container_of("figway-gateway")).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GATEWAY_ADMIN_TOKEN", "change-me-admin-token")
    with pytest.raises(ValueError, match="GATEWAY_ADMIN_TOKEN is a placeholder"):
        GatewaySettings()
    for key, value in manifest_environment(container_of("figway-services")).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("JWT_SECRET", "short")
    with pytest.raises(ValueError, match="JWT_SECRET"):
        Settings()


def manifest_environment(container: Doc) -> dict[str, str]:
    """The container's environment as a pod would see it, with strong made-up secret values."""
    values = {
        "DATABASE_URL": "mysql+pymysql://figway:pw@mariadb.example:3306/figway",
        "REDIS_URL": "redis://redis.example:6379/0",
    }
    env = {}
    for name, item in env_of(container).items():
        if "value" in item:
            env[name] = item["value"]
        elif not item["valueFrom"]["secretKeyRef"].get("optional"):
            env[name] = values.get(name) or secrets.token_urlsafe(48)
    return env


def test_gateway_settings_and_the_routing_configmap_load_with_the_manifest_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = manifest_environment(container_of("figway-gateway"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = GatewaySettings()
    assert settings.admin_token is not None and settings.redis_url is not None
    assert settings.watch is True  # the ConfigMap's updates are picked up
    configmap = kustomize.find(docs("base"), "ConfigMap", "figway-routing")
    assert settings.routing_file.name in configmap["data"]
    table = parse_table(configmap["data"][settings.routing_file.name], source="configmap", environ=env)
    assert table.upstreams["legacy"].url == "http://figway-legacy:5000"
    assert table.upstreams["services"].url == "http://figway-services:8001"


def test_services_settings_load_with_the_manifest_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("JWT_SECRET", "REDIS_URL", "TRUSTED_PROXIES"):
        monkeypatch.delenv(key, raising=False)
    for key, value in manifest_environment(container_of("figway-services")).items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.database_url.startswith("mysql+asyncmy://")  # the faster driver, by default
    assert settings.redis_url is not None and settings.jwt_secret is not None
    assert "10.0.0.0/8" in settings.trusted_proxies
    assert settings.port == SERVICES_PORT


def test_the_routing_configmap_is_the_repository_table_mounted_as_a_directory() -> None:
    base = docs("base")
    configmap = kustomize.find(base, "ConfigMap", "figway-routing")
    # Unhashed name: `kubectl apply` updates it in place, so the kubelet swaps the file (hot reload).
    assert configmap["metadata"]["name"] == "figway-routing"
    assert configmap["data"] == {"routing.yaml": (ROOT / "routing.yaml").read_text(encoding="utf-8")}
    pod = deployment("figway-gateway")["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v.get("configMap", {}).get("name") == "figway-routing")
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == volume["name"]]
    assert "subPath" not in mount  # a subPath mount never sees an update
    routing_file = env_of(container_of("figway-gateway"))["GATEWAY_ROUTING_FILE"]["value"]
    assert routing_file == f"{mount['mountPath']}/routing.yaml"


# -- how the pods run -----------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", kustomize.OVERLAYS)
def test_every_pod_runs_non_root_with_a_read_only_root_and_no_capabilities(overlay: str) -> None:
    for workload in kustomize.workloads(docs(overlay)):
        name = workload["metadata"]["name"]
        pod = kustomize.pod_spec(workload)
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] > 0, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert pod["automountServiceAccountToken"] is False, name
        writable = {m["mountPath"] for c in kustomize.containers(workload) for m in c.get("volumeMounts", [])}
        for container in kustomize.containers(workload):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert set(container["resources"]["limits"]) >= {"cpu", "memory"}, name
            assert set(container["resources"]["requests"]) >= {"cpu", "memory"}, name
        if name in (*PROGRAMS, "figway-migrate"):
            # Where figway's programs write: var/ (legacy's log, gateway state) and /tmp (gunicorn).
            assert {"/app/var", "/tmp"} <= writable, name


def _shutdown_budget(container: Doc) -> int:
    argv, env = container["command"], env_of(container)
    if "--graceful-timeout" in argv:
        return int(_flag(argv, "--graceful-timeout"))
    for name in ("GATEWAY_SHUTDOWN_TIMEOUT", "SERVICES_SHUTDOWN_TIMEOUT"):
        if name in env:
            return int(env[name]["value"])
    raise AssertionError(f"{container['name']}: no shutdown timeout set")


def test_prestop_drain_and_shutdown_fit_in_the_termination_grace_period() -> None:
    for name in PROGRAMS:
        pod = deployment(name)["spec"]["template"]["spec"]
        container = pod["containers"][0]
        drain = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert drain >= 5, name  # endpoint removal must reach the load balancers first
        assert drain + _shutdown_budget(container) < pod["terminationGracePeriodSeconds"], name
    gateway = container_of("figway-gateway")
    assert _shutdown_budget(gateway) == GatewaySettings.model_fields["shutdown_timeout"].default


def test_the_gateway_scales_out_and_survives_voluntary_disruption() -> None:
    base = docs("base")
    gateway = deployment("figway-gateway")
    hpa = kustomize.find(base, "HorizontalPodAutoscaler", "figway-gateway")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "figway-gateway",
    }
    assert hpa["spec"]["minReplicas"] >= 2 and gateway["spec"]["replicas"] >= hpa["spec"]["minReplicas"]
    assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert "cpu" in gateway["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]
    labels = gateway["spec"]["template"]["metadata"]["labels"]
    for name in PROGRAMS:
        pdb = kustomize.find(base, "PodDisruptionBudget", name)
        pod_labels = deployment(name)["spec"]["template"]["metadata"]["labels"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        assert pdb["spec"]["maxUnavailable"] == 1
    assert gateway["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert labels["app.kubernetes.io/part-of"] == "figway"


# -- who may talk to whom -------------------------------------------------------------------------


def _selects(selector: Doc, labels: dict[str, str]) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", "only In is evaluated here"
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def reachable(target: str, source: str, destination: str, port: int) -> bool:
    """Whether a pod of workload ``source`` may open ``destination``:``port`` under the policies."""
    rendered_docs = docs(target)
    workloads = {
        w["metadata"]["name"]: w["spec"]["template"]["metadata"]["labels"]
        for w in kustomize.workloads(rendered_docs)
    }
    policies = [
        p
        for p in rendered_docs
        if p["kind"] == "NetworkPolicy"
        and "Ingress" in p["spec"]["policyTypes"]
        and _selects(p["spec"]["podSelector"], workloads[destination])
    ]
    if not policies:
        return True
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            ports = rule.get("ports")
            if ports is not None and port not in {p["port"] for p in ports}:
                continue
            peers = rule.get("from")
            if peers is None or any(_selects(peer["podSelector"], workloads[source]) for peer in peers):
                return True
    return False


@pytest.mark.parametrize("overlay", kustomize.OVERLAYS)
def test_only_the_gateway_reaches_legacy_and_services(overlay: str) -> None:
    names = [w["metadata"]["name"] for w in kustomize.workloads(docs(overlay))]
    ports = {name: container_of(name, overlay)["ports"][0]["containerPort"] for name in PROGRAMS}
    for source in names:
        for destination in ("figway-legacy", "figway-services"):
            if source != destination:
                allowed = reachable(overlay, source, destination, ports[destination])
                assert allowed is (source == "figway-gateway"), f"{source} -> {destination}"
        assert reachable(overlay, source, "figway-gateway", ports["figway-gateway"])
    # Another port of an allowed destination stays closed.
    assert not reachable(overlay, "figway-gateway", "figway-legacy", 22)
    assert any(
        p["kind"] == "NetworkPolicy" and p["spec"]["podSelector"] == {} and "ingress" not in p["spec"]
        for p in docs(overlay)
    ), "a default-deny policy"


def test_the_in_cluster_datastores_are_reached_only_by_the_programs_that_use_them() -> None:
    mariadb = {"figway-legacy", "figway-services", "figway-migrate"}
    redis = {"figway-gateway", "figway-services"}
    for source in ("figway-gateway", "figway-legacy", "figway-services", "figway-migrate", "figway-redis"):
        assert reachable("dev", source, "figway-mariadb", 3306) is (source in mariadb), source
        assert reachable("dev", source, "figway-redis", 6379) is (source in redis), source


# -- memory from measurement ----------------------------------------------------------------------


def test_memory_requests_and_limits_cover_the_measured_peaks() -> None:
    """bench/results/pods.json (``python -m bench pods``) measured these very commands under load."""
    measured = json.loads((ROOT / "bench" / "results" / "pods.json").read_text())
    by_name = {program["name"]: program for program in measured["programs"]}
    for name, program in PROGRAMS.items():
        container = container_of(name)
        figures = by_name[program]
        # Re-measure when the command changes (workers, threads): the figures are per command.
        assert figures["command"] == " ".join(container["command"]), f"{program}: run python -m bench pods"
        resources = container["resources"]
        request, limit = mebibytes(resources["requests"]["memory"]), mebibytes(resources["limits"]["memory"])
        assert request >= figures["request_mib"] > figures["peak_mib"], program
        assert limit >= figures["limit_mib"] >= 2 * figures["peak_mib"], program
    for target in ("base", "dev"):  # init-db in base, seed --if-empty in dev
        job = kustomize.find(docs(target), "Job", "figway-migrate")
        for container in kustomize.containers(job):
            step = " ".join(container["command"][1:])
            assert mebibytes(container["resources"]["limits"]["memory"]) >= 2 * measured["jobs"][step], step


def test_the_measured_figures_are_from_a_loaded_run_without_errors() -> None:
    measured = json.loads((ROOT / "bench" / "results" / "pods.json").read_text())
    assert measured["steps"] and all(
        step["errors"] == 0 and step["requests"] > 0 for step in measured["steps"]
    )
    assert {program["name"] for program in measured["programs"]} == set(PROGRAMS.values())


def test_no_secret_with_values_is_committed_under_deploy() -> None:
    # The guide's commands create the Secrets with kubectl; nothing in the repository carries values.
    for path in (ROOT / "deploy" / "kubernetes").rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            assert not (isinstance(doc, dict) and doc.get("kind") == "Secret"), path
