"""No blocking I/O on any services path: no `requests`, no `time.sleep`, no `os.system`/`os.popen`,
no `urllib.request`, and no `subprocess` anywhere under services/ (issues 6 and 8), except
`services/system/_spawn.py`, which may use `subprocess.Popen` (called in a worker thread) and
nothing else of it: never `run`, `call`, `check_output`, `communicate` or `wait`.

Commands go through `services.system.commands`, HTTP through the providers' `httpx.AsyncClient`,
waits through `asyncio.sleep`."""

from __future__ import annotations

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "services"
FORBIDDEN_MODULES = {"requests", "subprocess", "urllib.request", "urllib3", "http.client"}
FORBIDDEN_CALLS = {("time", "sleep"), ("os", "system"), ("os", "popen"), ("os", "spawnv"), ("os", "waitpid")}
SPAWN_MODULE = SERVICES / "system" / "_spawn.py"
SUBPROCESS_ALLOWED = {"Popen", "DEVNULL", "PIPE"}
BLOCKING_METHODS = {"communicate", "wait", "run", "call", "check_call", "check_output", "getoutput"}


def _violations(path: Path, root: Path = SERVICES.parent) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[str] = []
    spawn = path == SPAWN_MODULE
    for node in ast.walk(tree):
        if spawn and isinstance(node, ast.Attribute):
            base = node.value.id if isinstance(node.value, ast.Name) else None
            if base == "subprocess" and node.attr not in SUBPROCESS_ALLOWED:
                found.append(f"subprocess.{node.attr}")
            elif node.attr in BLOCKING_METHODS and base != "asyncio":
                found.append(f".{node.attr}()")
        if isinstance(node, ast.Import):
            allowed = {"subprocess"} if spawn else set()
            found += [f"import {a.name}" for a in node.names if a.name in FORBIDDEN_MODULES - allowed]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module in FORBIDDEN_MODULES:
                found.append(f"from {node.module} import ...")
            found += [
                f"from {node.module} import {a.name}"
                for a in node.names
                if (node.module, a.name) in FORBIDDEN_CALLS
            ]
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) in FORBIDDEN_CALLS
        ):
            found.append(f"{node.value.id}.{node.attr}")
    return [f"{path.relative_to(root)}:{v}" for v in found]


def test_services_never_import_blocking_http_or_subprocess_apis() -> None:
    files = sorted(SERVICES.rglob("*.py"))
    assert len(files) > 20
    violations = [v for f in files for v in _violations(f)]
    assert violations == []


def test_the_checker_catches_each_forbidden_form(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import requests\nimport subprocess\nimport time\nfrom os import system\n"
        "from urllib.request import urlopen\ntime.sleep(1)\n"
    )
    assert [v.split(":", 1)[1] for v in _violations(probe, tmp_path)] == [
        "import requests",
        "import subprocess",
        "from os import system",
        "from urllib.request import ...",
        "time.sleep",
    ]


def test_the_spawn_module_uses_popen_and_nothing_blocking() -> None:
    text = SPAWN_MODULE.read_text()
    assert "subprocess.Popen(" in text and "asyncio.to_thread(" in text
    assert _violations(SPAWN_MODULE) == []
