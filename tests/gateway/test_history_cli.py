"""``python -m gateway history|revert``: a bad flip undone in one command, on a running gateway."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from gateway.cli import main
from gateway.revisions import FileRevisionStore, draft, write_atomically
from tests.gateway.proxy_support import table_yaml, upstream_server
from tests.support.servers import ROOT, free_port, python_module, subprocess_server


def _routes(upstream: str) -> str:
    return (
        f"  - id: moving\n    path: /api/moving\n    methods: [GET]\n    to: {upstream}\n"
        "  - id: steady\n    path: /api/steady\n    methods: [GET]\n    to: legacy\n"
    )


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        python_module("gateway", *args), cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def _wait(condition: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_revert_restores_the_previous_table_on_a_running_gateway_without_dropping_a_request(
    tmp_path: Path,
) -> None:
    with upstream_server("legacy") as (legacy, _), upstream_server("services") as (services, _):
        ups = {"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{services.url}'}}"}
        routing, state = tmp_path / "routing.yaml", tmp_path / "state"
        routing.write_text(table_yaml(ups, _routes("legacy")))
        routing.chmod(0o640)
        store = FileRevisionStore(state / "history")
        port = free_port()
        env = {"GATEWAY_ROUTING_FILE": str(routing), "GATEWAY_WATCH": "true", "GATEWAY_STATE_DIR": str(state)}
        # Two workers: each reloads every edit, the history records each table once.
        args = python_module("gateway", "serve", "--port", str(port), "--workers", "2")
        with subprocess_server(args, port=port, env=env) as (server, _proc):
            _wait(lambda: len(store.recent(10)) == 1, "the start revision")

            def sides() -> set[str]:
                with httpx.Client(timeout=10) as fresh:  # new connections reach both workers
                    return {fresh.get(f"{server.url}/api/moving").json()["upstream"] for _ in range(20)}

            time.sleep(1.0)  # both workers up and watching
            write_atomically(routing, table_yaml(ups, _routes("services")), mode=0o640)  # the flip
            _wait(lambda: sides() == {"services"}, "the flip on every worker")
            _wait(lambda: len(store.recent(10)) == 2, "the flip's revision")

            stop = threading.Event()
            failures: list[str] = []
            seen: list[list[str]] = [[], []]

            def load(answers: list[str]) -> None:
                with httpx.Client(base_url=server.url, timeout=10) as client:
                    while not stop.is_set():
                        try:
                            response = client.get("/api/moving")
                            if response.status_code != 200:
                                failures.append(f"{response.status_code}: {response.text[:200]}")
                            else:
                                answers.append(response.json()["upstream"])
                        except httpx.HTTPError as exc:
                            failures.append(repr(exc))

            clients = [threading.Thread(target=load, args=(answers,)) for answers in seen]
            for client in clients:
                client.start()
            try:
                _wait(lambda: all(len(answers) >= 20 for answers in seen), "traffic before the revert")
                reverted = _cli(
                    "revert", "1", "--config", str(routing), "--state-dir", str(state),
                    "--by", "oncall", "--reason", "bad flip",
                )  # fmt: skip
                assert reverted.returncode == 0, reverted.stderr
                _wait(lambda: sides() == {"legacy"}, "the revert on every worker")
                after = [len(answers) for answers in seen]
                _wait(
                    lambda: all(len(a) >= n + 20 for a, n in zip(seen, after, strict=True)), "traffic after"
                )
            finally:
                stop.set()
                for client in clients:
                    client.join()
            explained = _cli("explain", "GET", "/api/moving", "--config", str(routing))
            listed = _cli("history", "--config", str(routing), "--state-dir", str(state), "--json")
    print("revert under load:", sum(map(len, seen)), "answered,", len(failures), "failed")  # pytest -s
    assert failures == []
    for answers in seen:
        # Each client's connection stays with one worker: services until its reload, legacy ever after.
        assert answers[0] == "services" and answers[-1] == "legacy"
        flip = answers.index("legacy")
        assert set(answers[flip:]) == {"legacy"}
    assert "reverted to revision #1 (recorded as #3, by oncall)" in reverted.stdout
    assert "upstream legacy" in explained.stdout
    assert routing.read_text() == table_yaml(ups, _routes("legacy"))
    assert routing.stat().st_mode & 0o777 == 0o640
    revisions = json.loads(listed.stdout)["revisions"]
    assert [(r["number"], r["source"]) for r in revisions] == [(3, "revert"), (2, "file"), (1, "start")]
    newest = revisions[0]
    assert (newest["by"], newest["reason"], newest["reverted_to"], newest["current"]) == (
        "oncall",
        "bad flip",
        1,
        True,
    )
    assert {c["route"] for c in newest["changes"]} == {"moving"}
    assert {c["route"] for c in revisions[1]["changes"]} == {"moving"}


# -- the CLI's answers and refusals, in process ----------------------------------------------------

UPS = {"legacy": "{url: 'http://127.0.0.1:9'}", "services": "{url: 'http://127.0.0.1:10'}"}


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stderr
    sys.stderr = err
    try:
        code = main(list(argv), out=out)
    finally:
        sys.stderr = saved
    return code, out.getvalue(), err.getvalue()


def _record(store: FileRevisionStore, text: str, source: str = "file") -> int:
    recorded = store.append(
        draft(
            at=time.time(),
            sha256=hashlib.sha256(text.encode()).hexdigest(),
            source=source,
            text=text,
            path="r",
        )
    )
    assert recorded is not None
    return recorded.number


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, FileRevisionStore]:
    routing, state = tmp_path / "routing.yaml", tmp_path / "state"
    store = FileRevisionStore(state / "history")
    _record(store, table_yaml(UPS, _routes("legacy")), "start")
    routing.write_text(table_yaml(UPS, _routes("services")))
    _record(store, routing.read_text())
    return routing, state, store


def test_history_lists_revisions_newest_first_with_route_changes(
    setup: tuple[Path, Path, FileRevisionStore],
) -> None:
    routing, state, _ = setup
    code, out, _ = _run("history", "--config", str(routing), "--state-dir", str(state))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("#2 ") and "file reload of r" in lines[0] and lines[0].endswith("<- current")
    assert "    mode moving: legacy -> live" in lines
    assert any(line.startswith("#1 ") and "start" in line for line in lines)
    assert "    added steady: /api/steady [GET,HEAD] legacy" in lines
    code, out, _ = _run(
        "history", "--config", str(routing), "--state-dir", str(state), "--limit", "1", "--json"
    )
    assert [r["number"] for r in json.loads(out)["revisions"]] == [2]


def test_history_show_prints_the_text_and_what_a_revert_would_change(
    setup: tuple[Path, Path, FileRevisionStore],
) -> None:
    routing, state, _ = setup
    code, out, _ = _run("history", "show", "1", "--config", str(routing), "--state-dir", str(state))
    assert code == 0
    assert table_yaml(UPS, _routes("legacy")) in out
    assert "#   edited moving: upstream: services -> legacy" in out
    assert "-    to: services\n" in out and "+    to: legacy\n" in out
    code, out, _ = _run("history", "show", "1", "--config", str(routing), "--state-dir", str(state), "--json")
    assert json.loads(out)["text"] == table_yaml(UPS, _routes("legacy"))
    code, out, _ = _run("history", "show", "1", "--raw", "--config", str(routing), "--state-dir", str(state))
    assert (code, out) == (0, table_yaml(UPS, _routes("legacy")))


def test_revert_refuses_a_revision_that_fails_check_and_writes_nothing(
    setup: tuple[Path, Path, FileRevisionStore],
) -> None:
    routing, state, store = setup
    broken = _record(store, table_yaml(UPS, _routes("nowhere")))
    before = routing.read_text()
    code, out, err = _run("revert", str(broken), "--config", str(routing), "--state-dir", str(state))
    assert code == 1
    assert "unknown upstream" in err or "nowhere" in err, err
    assert f"revision #{broken}: 1 error(s); nothing written" in err
    assert routing.read_text() == before
    assert [r.number for r in store.recent(10)] == [broken, 2, 1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("revert", "9"), "no revision #9 (kept: #1..#2)"),
        (("history", "show", "9"), "no revision #9"),
        (("revert", "1", "--expect-current", "deadbeefdeadbeef"), "the table changed since"),
        (("revert", "1", "--expect-current", "abc"), "the table changed since"),
        (("history", "show"), "usage: history [show N]"),
        (("history", "--limit", "0"), "--limit must be at least 1"),
    ],
)
def test_refusals_say_why_and_write_nothing(
    setup: tuple[Path, Path, FileRevisionStore], argv: tuple[str, ...], message: str
) -> None:
    routing, state, store = setup
    before = routing.read_text()
    code, _, err = _run(*argv, "--config", str(routing), "--state-dir", str(state))
    assert code == 1
    assert message in err
    assert routing.read_text() == before
    assert len(store.recent(10)) == 2


def test_revert_with_the_right_expected_hash_and_to_the_current_table(
    setup: tuple[Path, Path, FileRevisionStore],
) -> None:
    routing, state, store = setup
    current = hashlib.sha256(routing.read_bytes()).hexdigest()
    code, out, _ = _run("revert", "2", "--config", str(routing), "--state-dir", str(state))
    assert (code, "already is revision #2: nothing written") == (0, out.strip().partition(" ")[2])
    code, out, _ = _run(
        "revert",
        "1",
        "--config",
        str(routing),
        "--state-dir",
        str(state),
        "--expect-current",
        current[:12],
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert (data["reverted_to"], data["recorded"]) == (1, 3)
    assert routing.read_text() == table_yaml(UPS, _routes("legacy"))
    newest = store.recent(1)[0]
    assert (newest.source, newest.reverted_to) == ("revert", 1)
    assert newest.by  # $USER, or the account name


def test_without_revisions_the_history_says_so(tmp_path: Path) -> None:
    code, _, err = _run(
        "history", "--config", str(tmp_path / "r.yaml"), "--state-dir", str(tmp_path / "empty")
    )
    assert code == 1
    assert "no revisions recorded yet" in err


def test_an_unreachable_store_is_an_error_message_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    code, _, err = _run("history", "--config", str(tmp_path / "r.yaml"))
    assert code == 1
    assert "history: cannot reach the revisions:" in err
