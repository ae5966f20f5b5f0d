"""``POST /_gateway/api/history/{n}/revert``: the CLI's revert over the admin API."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import httpx

from gateway.revisions import FileRevisionStore, draft
from tests.gateway.proxy_support import gateway_server, table_yaml, upstream_server

AUTH = {"Authorization": "Bearer s3cret-token"}


def _routes(upstream: str) -> str:
    return f"  - id: moving\n    path: /api/moving\n    methods: [GET]\n    to: {upstream}\n"


def _wait_for(store: FileRevisionStore, count: int) -> None:
    deadline = time.monotonic() + 15
    while len(store.recent(50)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(store.recent(50)) == count


def test_revert_over_the_api_writes_checks_records_and_reloads(tmp_path: Path) -> None:
    with upstream_server("legacy") as (legacy, _), upstream_server("services") as (services, _):
        ups = {"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{services.url}'}}"}
        state = tmp_path / "state"
        store = FileRevisionStore(state / "history")
        first = table_yaml(ups, _routes("legacy"))
        with gateway_server(tmp_path, first, state_dir=state, admin_token="s3cret-token", redis_url=None) as (
            gw,
            _,
        ):
            client = httpx.Client(base_url=gw.url, headers=AUTH, timeout=30)
            _wait_for(store, 1)
            routing = tmp_path / "routing.yaml"
            routing.write_text(table_yaml(ups, _routes("services")))
            assert client.post("/_gateway/api/reload").status_code == 200
            _wait_for(store, 2)
            assert client.get("/api/moving").json()["upstream"] == "services"

            unauthenticated = httpx.post(f"{gw.url}/_gateway/api/history/1/revert", json={"by": "x"})
            missing = client.post("/_gateway/api/history/99/revert", json={"by": "ann"})
            stale = client.post(
                "/_gateway/api/history/1/revert", json={"by": "ann", "expect_current": "0" * 12}
            )
            bad_text = table_yaml(ups, _routes("nowhere"))
            bad = store.append(
                draft(
                    at=time.time(),
                    sha256=hashlib.sha256(bad_text.encode()).hexdigest(),
                    source="file",
                    text=bad_text,
                    path="x",
                )
            )
            assert bad is not None
            refused = client.post(f"/_gateway/api/history/{bad.number}/revert", json={"by": "ann"})
            assert routing.read_text() == table_yaml(
                ups, _routes("services")
            )  # nothing written by any of them

            current = hashlib.sha256(routing.read_bytes()).hexdigest()
            body = {"by": "ann", "reason": "5xx after the flip", "expect_current": current[:16]}
            reverted = client.post("/_gateway/api/history/1/revert", json=body)
            served = client.get("/api/moving").json()["upstream"]
            again = client.post("/_gateway/api/history/1/revert", json={"by": "ann"})
            client.close()
    assert unauthenticated.status_code in (401, 403)
    assert missing.status_code == 404 and "no revision #99" in missing.json()["error"]["message"]
    assert stale.status_code == 409 and "the table changed since" in stale.json()["error"]["message"]
    assert refused.status_code == 422
    assert any("nowhere" in d["message"] for d in refused.json()["error"]["details"])
    assert reverted.status_code == 200, reverted.text
    data = reverted.json()
    assert (data["reverted_to"], data["recorded"], data["reload"]["ok"]) == (1, bad.number + 1, True)
    assert [c["route"] for c in data["changes"]] == ["moving", "moving"]
    assert served == "legacy"  # reloaded before the answer
    assert routing.read_text() == first
    newest = store.recent(1)[0]
    assert (newest.source, newest.by, newest.reason, newest.reverted_to) == (
        "revert",
        "ann",
        "5xx after the flip",
        1,
    )
    assert again.status_code == 200 and again.json()["recorded"] is None  # already the table: nothing written


def test_without_a_state_dir_or_redis_revert_answers_409(tmp_path: Path) -> None:
    with upstream_server("legacy") as (legacy, _):
        text = table_yaml({"legacy": f"{{url: '{legacy.url}'}}"})
        with gateway_server(tmp_path, text, state_dir=None, admin_token="s3cret-token", redis_url=None) as (
            gw,
            _,
        ):
            answer = httpx.post(f"{gw.url}/_gateway/api/history/1/revert", json={"by": "ann"}, headers=AUTH)
    assert answer.status_code == 409
    assert "no revisions are kept" in answer.json()["error"]["message"]
