"""docker-compose.yml and the Dockerfile, checked without Docker (these machines cannot run it).

The file must parse; every service the apps need is there with a health check and ordered start;
every ``${VAR}`` has a default or is required and documented in .env.example; every file it or the
Dockerfile names exists; every command is a Procfile/Makefile command (same program, same
subcommand) whose flags the program really accepts; every environment variable set for a
program is one that program reads.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.loader import parse_table
from gateway.settings import GatewaySettings
from gateway.upstream_env import env_name
from legacy_flask.config import PROVIDER_DEFAULTS
from services.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}")
LONG_RUNNING = ("legacy", "services", "gateway", "mariadb", "redis")
ONE_SHOT = ("seed", "migrate")


@cache
def compose_text() -> str:
    return COMPOSE.read_text(encoding="utf-8")


@cache
def env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        line = line.strip().removeprefix("# ")
        if "=" in line and re.match(r"^[A-Z0-9_]+=", line):
            key, _, value = line.partition("=")
            values.setdefault(key, value)
    return values


def interpolate(value: Any, environ: dict[str, str]) -> Any:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}`` (enough for this file)."""
    if isinstance(value, str):

        def replace(found: re.Match[str]) -> str:
            name, kind, rest = found.group(1), found.group(2), found.group(3)
            current = environ.get(name, "")
            if kind == ":?" and not current:
                raise KeyError(f"{name}: {rest}")
            return current or (rest if kind == ":-" else "")

        return _VARIABLE.sub(replace, value)
    if isinstance(value, list):
        return [interpolate(item, environ) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, environ) for key, item in value.items()}
    return value


@cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(compose_text())
    assert isinstance(data, dict)
    result = interpolate(data, env_example())
    assert isinstance(result, dict)
    return result


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def environment(service: str) -> dict[str, str]:
    env = services()[service].get("environment") or {}
    return {str(k): str(v) for k, v in env.items()}


def test_compose_parses_and_has_every_program() -> None:
    assert set(LONG_RUNNING + ONE_SHOT + ("providers",)) <= set(services())
    assert services()["providers"]["profiles"] == ["fakes"]
    assert "mariadb-data" in compose()["volumes"]
    assert "/var/lib/mysql" in services()["mariadb"]["volumes"][0]


def test_every_long_running_service_has_a_health_check_and_one_shots_do_not_restart() -> None:
    for name, service in services().items():
        if name in ONE_SHOT:
            assert service["restart"] == "no", name
        else:
            test = service["healthcheck"]["test"]
            assert test[0] == "CMD" and len(test) > 1, name


def test_depends_on_conditions_match_what_the_dependency_can_report() -> None:
    for name, service in services().items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in services(), f"{name} depends on unknown {dependency}"
            condition = rule["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services()[dependency], f"{name} waits for {dependency}'s health"
            else:
                assert condition == "service_completed_successfully"
                assert dependency in ONE_SHOT
    gateway_deps = services()["gateway"]["depends_on"]
    assert {"legacy", "services", "redis"} <= set(gateway_deps)


def test_every_variable_has_a_default_or_is_required_and_documented() -> None:
    documented = env_example()
    for name, kind, _ in _VARIABLE.findall(compose_text()):
        assert kind in (":-", ":?"), f"${{{name}}} needs a default (:-) or an error message (:?)"
        if kind == ":?":
            assert documented.get(name), f"required {name} is missing from .env.example"
    used = {name for name, _, _ in _VARIABLE.findall(compose_text())}
    assert set(documented) <= used, f"documented but unused: {set(documented) - used}"


def test_missing_required_variable_is_refused() -> None:
    data = yaml.safe_load(compose_text())
    environ = {k: v for k, v in env_example().items() if k != "GATEWAY_ADMIN_TOKEN"}
    with pytest.raises(KeyError, match="GATEWAY_ADMIN_TOKEN"):
        interpolate(data, environ)


def test_every_referenced_file_exists() -> None:
    for name, service in services().items():
        if "build" in service:
            assert (ROOT / service["build"] / "Dockerfile").is_file(), name
        for volume in service.get("volumes", []):
            host = volume.split(":", 1)[0]
            if host.startswith("./"):
                assert (ROOT / host).exists(), f"{name} mounts missing {host}"
    copies = re.findall(r"^COPY (?!--from)(.+)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert copies
    for line in copies:
        for source in shlex.split(line)[:-1]:
            if not source.startswith("--"):
                assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"
    assert "USER figway" in (ROOT / "Dockerfile").read_text()


def _procfile() -> dict[str, list[str]]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {
        name.strip(): shlex.split(command)
        for name, _, command in (line.partition(":") for line in lines if line.strip())
    }


def _module_command(argv: list[str]) -> tuple[str, str | None]:
    assert argv[:2] == ["python", "-m"], argv
    module = argv[2]
    sub = argv[3] if len(argv) > 3 and not argv[3].startswith("-") else None
    return module, sub


def test_commands_are_the_procfile_and_makefile_ones() -> None:
    procfile = {name: _module_command(["python", *argv[1:]]) for name, argv in _procfile().items()}
    makefile = (ROOT / "Makefile").read_text()
    assert procfile["services"] == _module_command(services()["services"]["command"])
    assert procfile["gateway"] == _module_command(services()["gateway"]["command"])
    assert procfile["providers"] == _module_command(services()["providers"]["command"])
    # Legacy runs under gunicorn, as MVidarr is deployed; `make run` uses the same app object.
    assert services()["legacy"]["command"][0] == "gunicorn"
    assert services()["legacy"]["command"][-1] == "legacy_flask.wsgi:app"
    for job in ONE_SHOT:
        module, sub = _module_command(services()[job]["command"])
        assert f"$(PY) -m {module} {sub}" in makefile, job


@cache
def _help(argv: tuple[str, ...]) -> str:
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("service", ["seed", "migrate", "legacy", "services", "gateway", "providers"])
def test_every_command_flag_is_accepted_by_its_program(service: str) -> None:
    argv = services()[service]["command"]
    if argv[0] == "gunicorn":
        prefix = (str(Path(sys.executable).parent / "gunicorn"),)
    else:
        module, sub = _module_command(argv)
        prefix = (sys.executable, "-m", module, *([sub] if sub else []))
    text = _help((*prefix, "--help"))
    for flag in (arg for arg in argv if arg.startswith("--")):
        assert re.search(rf"{re.escape(flag)}\b", text), f"{service}: {flag} is not an option"
    if argv[0] == "gunicorn":
        from legacy_flask import wsgi

        assert wsgi.app is not None


def _settings_names(model: type[Any], prefix: str = "") -> set[str]:
    names: set[str] = set()
    for name, field in model.model_fields.items():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        if choices:
            names.update(str(choice).upper() for choice in choices)
        else:
            names.add(f"{prefix}{name}".upper())
    return names


def test_every_environment_variable_is_one_its_program_reads() -> None:
    # FIGWAY_ENV is read by legacy's launcher (gunicorn.conf.py), not by legacy_flask itself.
    legacy_reads = {
        "DATABASE_URL",
        "MVIDARR_SECRET_KEY",
        "FIGWAY_DEMO_PASSWORD",
        "FIGWAY_ENV",
        *PROVIDER_DEFAULTS,
    }
    services_reads = _settings_names(Settings)
    gateway_reads = _settings_names(GatewaySettings, "GATEWAY_") | {
        env_name(n) for n in ("legacy", "services")
    }
    for name in ("seed", "legacy"):
        assert set(environment(name)) <= legacy_reads, name
    for name in ("migrate", "services"):
        assert set(environment(name)) <= services_reads | legacy_reads, name
        assert set(environment(name)) - legacy_reads <= services_reads
    assert set(environment("gateway")) <= gateway_reads, set(environment("gateway")) - gateway_reads


def test_gateway_settings_and_routing_table_load_with_the_compose_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = environment("gateway")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GATEWAY_ADMIN_TOKEN", secrets.token_urlsafe(48))  # .env.example's is a placeholder
    settings = GatewaySettings()
    assert settings.redis_url is not None and settings.redis_url.get_secret_value() == "redis://redis:6379/0"
    assert settings.admin_token is not None
    table = parse_table((ROOT / "routing.yaml").read_text(), source="routing.yaml", environ=env)
    assert table.upstreams["legacy"].url == "http://legacy:5000"
    assert table.upstreams["services"].url == "http://services:8001"
    assert env["GATEWAY_ROUTING_FILE"] == "/app/routing.yaml"
    assert "./routing.yaml:/app/routing.yaml:ro" in services()["gateway"]["volumes"]


def test_services_settings_load_with_the_compose_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in environment("services").items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MVIDARR_SECRET_KEY", secrets.token_urlsafe(48))  # .env.example's are placeholders
    monkeypatch.setenv("JWT_SECRET", secrets.token_urlsafe(48))
    settings = Settings()
    assert settings.database_url.startswith("mysql+asyncmy://figway:figway@mariadb:3306/figway")
    assert "172.16.0.0/12" in settings.trusted_proxies
    assert settings.redis_url is not None and settings.redis_url.get_secret_value() == "redis://redis:6379/0"


def test_the_env_example_placeholders_are_refused_by_every_program(monkeypatch: pytest.MonkeyPatch) -> None:
    """Compose only checks that a secret is non-empty; the programs refuse the placeholders."""
    for key, value in environment("services").items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValueError, match="MVIDARR_SECRET_KEY is a placeholder"):
        Settings()
    for key, value in environment("gateway").items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValueError, match="GATEWAY_ADMIN_TOKEN is a placeholder"):
        GatewaySettings()
    legacy = subprocess.run(
        [sys.executable, "-c", "import runpy; runpy.run_path('gunicorn.conf.py')"],
        cwd=ROOT,
        env={**os.environ, **environment("legacy")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert legacy.returncode != 0 and "MVIDARR_SECRET_KEY is a placeholder" in legacy.stderr


def _health_path(service: str) -> str:
    test = services()[service]["healthcheck"]["test"]
    url = next(arg for arg in test if arg.startswith("http://"))
    path = "/" + url.split("/", 3)[3]
    return path


def test_every_health_check_path_answers_200_in_its_program(tmp_path: Path) -> None:
    import httpx

    from gateway.app import Gateway
    from legacy_flask.app import create_app as legacy_app
    from services.app import create_app as services_app
    from tests.fakes.providers import create_app as providers_app
    from tests.support.servers import uvicorn_thread

    database = f"sqlite:///{tmp_path / 'figway.db'}"
    legacy = legacy_app({"DATABASE_URL": database, "INIT_DB": True})
    assert legacy.test_client().get(_health_path("legacy")).status_code == 200
    apps = {
        "services": services_app(Settings(database_url=database)),
        "gateway": Gateway(GatewaySettings(routing_file=ROOT / "routing.yaml", watch=False, state_dir=None)),
        "providers": providers_app(),
    }
    for name, app in apps.items():
        with uvicorn_thread(app) as server:
            assert httpx.get(server.url + _health_path(name), timeout=10).status_code == 200, name
