"""The pods' own commands start and serve on a read-only root filesystem, writing only to their emptyDirs.

``readOnlyRootFilesystem: true`` is only a promise until the programs run under it: a log file, a
control socket in ``$HOME`` or a temp file outside the mounted emptyDirs stops a pod in
CrashLoopBackOff. Here a private mount namespace (``unshare -m``) remounts ``/`` read-only and
mounts fresh tmpfs where the pods have emptyDirs (``/tmp`` and the app's ``var/``) and where the
routing ConfigMap is mounted; the migration Job's two steps, then legacy, services and the gateway
run with the exact commands and environment of the rendered base (tools.kustomize), ports moved to
free loopback ports, and every probe path and a request per upstream through the gateway answer.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bench.pods import local_command, local_env
from tests.support.servers import ROOT, free_port
from tools import kustomize

PODS = ("figway-legacy", "figway-services", "figway-gateway")
#: Stand-ins for the pods' volumes: tmpfs here, emptyDir / ConfigMap there.
CONFIGMAP_MOUNT = "/mnt"


def _namespace_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    done = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "true"], capture_output=True, timeout=30, check=False
    )
    return done.returncode == 0


DRIVER = textwrap.dedent(
    """
    import json, os, subprocess, sys, time, urllib.request, urllib.error
    plan = json.loads(sys.argv[1])
    root = plan["root"]
    results = {"writable_root": os.access("/", os.W_OK) and os.access(root, os.W_OK)}
    try:
        open(os.path.join(root, "probe-write"), "w").close()
        results["wrote_into_app"] = True
    except OSError:
        results["wrote_into_app"] = False
    os.makedirs(plan["configmap_dir"], exist_ok=True)
    for step in plan["jobs"]:
        done = subprocess.run(step["argv"], cwd=root, env={**os.environ, **step["env"]},
                              capture_output=True, text=True)
        results.setdefault("jobs", []).append([step["name"], done.returncode, done.stderr[-1500:]])
    procs = []
    def status(url):
        try:
            with urllib.request.urlopen(url, timeout=20) as answer:
                return answer.status, dict(answer.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers)
        except OSError as exc:
            return repr(exc), {}
    try:
        for pod in plan["pods"]:
            log = open(os.path.join("/tmp", pod["name"] + ".log"), "wb")
            procs.append((pod["name"], log, subprocess.Popen(
                pod["argv"], cwd=root, env={**os.environ, **pod["env"]}, stdout=log, stderr=log)))
            url = "http://127.0.0.1:%d" % pod["port"]
            deadline = time.monotonic() + 90
            code = None
            while time.monotonic() < deadline and procs[-1][2].poll() is None:
                code, _ = status(url + pod["probes"][0])
                if code == 200:
                    break
                time.sleep(0.2)
            results[pod["name"]] = {path: status(url + path)[0] for path in pod["probes"]}
        gateway = "http://127.0.0.1:%d" % plan["pods"][-1]["port"]
        for path in plan["through_gateway"]:
            code, headers = status(gateway + path)
            results["gateway " + path] = [code, headers.get("x-gateway-upstream")]
    finally:
        for name, log, proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
            with open(os.path.join("/tmp", name + ".log"), "rb") as handle:
                results.setdefault("logs", {})[name] = handle.read()[-3000:].decode("utf-8", "replace")
            results.setdefault("exit", {})[name] = proc.returncode
    print("RESULT " + json.dumps(results))
    """
)


def _plan() -> dict[str, object]:
    docs = kustomize.render("base")
    configmap = kustomize.find(docs, "ConfigMap", "figway-routing")
    database = "sqlite:////tmp/figway.db"  # on the /tmp emptyDir stand-in
    ports = {name: free_port() for name in PODS}
    values = {
        "DATABASE_URL": database,
        "REDIS_URL": "",  # unset below: no Redis needed to start
        "GATEWAY_ADMIN_TOKEN": "readonly-pods-admin-token-0123456789abcdefgh",
        "MVIDARR_SECRET_KEY": "readonly-pods-session-key-0123456789abcdefgh",
        "JWT_SECRET": "readonly-pods-jwt-secret-key-0123456789abcdefgh",
        "GATEWAY_ROUTING_FILE": f"{CONFIGMAP_MOUNT}/routing/routing.yaml",
        "GATEWAY_STATE_DIR": str(ROOT / "var" / "gateway"),  # /app/var/gateway: on the var emptyDir
        "GATEWAY_UPSTREAM_LEGACY_URL": f"http://127.0.0.1:{ports['figway-legacy']}",
        "GATEWAY_UPSTREAM_SERVICES_URL": f"http://127.0.0.1:{ports['figway-services']}",
    }

    def env(container: dict[str, object]) -> dict[str, str]:
        found = local_env(container, values)
        found.pop("REDIS_URL", None)
        if "GATEWAY_ROUTING_FILE" in found:
            # Production hides which side answered; the test reads it to check both upstreams answer.
            found["GATEWAY_ROUTE_HEADERS"] = "true"
        return found

    job = kustomize.find(docs, "Job", "figway-migrate")
    jobs = [
        {"name": c["name"], "argv": local_command(c["command"], 0), "env": env(c)}
        for c in kustomize.containers(job)
    ]
    pods = []
    for name in PODS:
        container = next(kustomize.containers(kustomize.find(docs, "Deployment", name), init=False))
        probes = sorted(
            {
                container[probe]["httpGet"]["path"]
                for probe in ("readinessProbe", "livenessProbe", "startupProbe")
                if "httpGet" in container.get(probe, {})
            }
        )
        pods.append(
            {
                "name": name,
                "argv": local_command(container["command"], ports[name]),
                "env": env(container),
                "port": ports[name],
                "probes": probes,
            }
        )
    return {
        "root": str(ROOT),
        "configmap_dir": f"{CONFIGMAP_MOUNT}/routing",
        "routing": configmap["data"]["routing.yaml"],
        "jobs": jobs,
        "pods": pods,
        "through_gateway": ["/api/health", "/api/settings/"],
    }


def test_every_pod_starts_and_serves_on_a_read_only_root_with_only_its_empty_dirs_writable(
    tmp_path: Path,
) -> None:
    if not _namespace_available():
        pytest.skip("unshare -m is not permitted here (needs CAP_SYS_ADMIN)")
    plan = _plan()
    routing = tmp_path / "routing.yaml"
    routing.write_text(str(plan["routing"]))
    # The ConfigMap stand-in is written before the mounts hide the host's /tmp; the kubelet's
    # layout itself is covered by tests/gateway/test_reload_configmap.py.
    script = "\n".join(
        [
            "set -e",
            f"mount -t tmpfs -o size=64m tmpfs {CONFIGMAP_MOUNT}",
            f"mkdir -p {CONFIGMAP_MOUNT}/routing && cp {routing} {CONFIGMAP_MOUNT}/routing/routing.yaml",
            f"mount -o remount,bind,ro {CONFIGMAP_MOUNT}",
            "mount -o remount,bind,ro /",
            "mount -t tmpfs -o size=256m tmpfs /tmp",
            f"mount -t tmpfs -o size=256m tmpfs {ROOT / 'var'}",
            f'exec {sys.executable} -c "$DRIVER" "$PLAN"',
        ]
    )
    (ROOT / "var").mkdir(exist_ok=True)
    done = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
        env={
            "DRIVER": DRIVER,
            "PLAN": json.dumps(plan),
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": "/root",
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, done.stderr[-3000:]
    results = json.loads(lines[-1].removeprefix("RESULT "))
    logs = results.get("logs", {})
    assert results["writable_root"] is False and results["wrote_into_app"] is False
    assert [[name, code] for name, code, _ in results["jobs"]] == [
        ["legacy-schema", 0],
        ["services-migrate", 0],
    ], results["jobs"]
    for name in PODS:
        assert results[name] and set(results[name].values()) == {200}, (name, results[name], logs.get(name))
    assert results["gateway /api/health"] == [200, "legacy"], logs
    assert results["gateway /api/settings/"] == [200, "services"], logs
    for name in PODS:
        assert "Read-only file system" not in logs[name], logs[name]
