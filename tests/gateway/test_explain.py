"""explain (admin API and CLI) and /_gateway/api/routes agree with serving, request by request.

Real traffic through real sockets: for every mode, pin and breaker state, each request's side as
the gateway served it (X-Gateway-Upstream) is the side explain predicted for that request.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from gateway.cli import main
from tests.gateway.proxy_support import gateway_server, table_yaml, upstream_server

TOKEN = "explain-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
ROUTE = """
  - id: items
    path: /{rest:path}
    methods: [GET]
    target: services
    fallback: legacy
    rollout:
      - {from: 2026-W49, mode: shadow}
      - {from: 2026-W50, mode: canary, percent: 30}
      - {from: 2026-W51, mode: live}
"""


class Clock:
    def __init__(self, when: datetime) -> None:
        self.now = when.timestamp()

    def __call__(self) -> float:
        return self.now


def _explain(client: httpx.Client, path: str, headers: dict[str, str]) -> dict[str, Any]:
    params: list[tuple[str, str]] = [("method", "GET"), ("path", path), ("client", "127.0.0.1")]
    params += [("header", f"{name}: {value}") for name, value in headers.items()]
    response = client.get("/_gateway/api/explain", params=params, headers=ADMIN)
    assert response.status_code == 200, response.text
    result = response.json()
    assert isinstance(result, dict)
    return result


def _agree(client: httpx.Client, identities: int, path: str = "/echo") -> dict[str, int]:
    """Serve ``identities`` users; every served side is the predicted one. Returns sides seen."""
    seen: dict[str, int] = {}
    for index in range(identities):
        headers = {"X-API-Key": f"user-{index}"}
        predicted = _explain(client, path, headers)
        served = client.get(path, headers=headers)
        assert served.status_code == 200
        assert served.headers["x-gateway-upstream"] == predicted["upstream"], (index, predicted)
        seen[predicted["upstream"]] = seen.get(predicted["upstream"], 0) + 1
    return seen


def _route_view(client: httpx.Client) -> dict[str, Any]:
    routes = client.get("/_gateway/api/routes", headers=ADMIN).json()["routes"]
    return next(r for r in routes if r["id"] == "items")  # type: ignore[no-any-return]


def test_explain_predicts_every_served_side_in_every_state(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 11, 20, tzinfo=UTC))
    with upstream_server("legacy") as (legacy, _), upstream_server("services") as (services, svc_state):
        text = table_yaml(
            {"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{services.url}'}}"}, ROUTE
        )
        settings = {"admin_token": TOKEN, "breaker_failures": 3, "breaker_reset": 600.0}
        with (
            gateway_server(tmp_path, text, clock=clock, **settings) as (gateway, _),
            httpx.Client(base_url=gateway.url, timeout=10) as client,
        ):
            # legacy (before the rollout) and shadow: legacy answers everyone
            assert _agree(client, 5) == {"legacy": 5}
            assert _route_view(client)["upstream"] == "legacy"
            clock.now = datetime(2026, 11, 30, tzinfo=UTC).timestamp()
            assert _agree(client, 5) == {"legacy": 5}
            shadow = _explain(client, "/echo", {})
            assert (shadow["mode"], shadow["shadow"]) == ("shadow", True)

            # canary 30 %: each user's sticky bucket; explain names the identity and bucket it used
            clock.now = datetime(2026, 12, 8, tzinfo=UTC).timestamp()
            canary = _agree(client, 60)
            assert set(canary) == {"legacy", "services"}
            inputs = _explain(client, "/echo", {"X-API-Key": "user-1"})["inputs"]
            assert inputs["identity"]["kind"] == "apikey" and inputs["identity"]["percent"] == 30
            assert 0 <= inputs["identity"]["bucket"] < 10_000
            assert inputs["breaker"] == {"upstream": "services", "state": "closed"}
            view = _route_view(client)
            assert (view["mode"], view["side"], view["upstream"]) == ("canary", "bucket", None)

            # an allowed override beats the bucket, for explain as for serving
            forced = {"X-Figway-Target": "legacy", "X-Figway-Token": TOKEN, "X-API-Key": "user-7"}
            predicted = _explain(client, "/echo", forced)
            assert (predicted["upstream"], predicted["why"]) == ("legacy", "override")
            assert client.get("/echo", headers=forced).headers["x-gateway-upstream"] == "legacy"

            # live: the target; then pinned by an operator: legacy, and explain shows the pin
            clock.now = datetime(2026, 12, 15, tzinfo=UTC).timestamp()
            assert _agree(client, 5) == {"services": 5}
            assert _route_view(client)["upstream"] == "services"
            pinned = client.post("/_gateway/api/routes/items/pin", json={"reason": "test"}, headers=ADMIN)
            assert pinned.status_code == 200
            assert _agree(client, 5) == {"legacy": 5}
            explained = _explain(client, "/echo", {})
            assert (explained["why"], explained["inputs"]["pin"]["reason"]) == ("pinned", "test")
            assert _route_view(client)["upstream"] == "legacy"
            assert client.post("/_gateway/api/routes/items/release", headers=ADMIN).json()["released"]
            assert _agree(client, 3) == {"services": 3}

            # the target fails (503, falls back) until its breaker opens: then legacy without trying
            for _ in range(3):
                failed = client.get("/status?code=503&on=services")
                assert failed.headers["x-gateway-upstream"] == "legacy"  # the fallback answered
            before = len(svc_state.requests)
            opened = _explain(client, "/echo", {})
            assert (opened["upstream"], opened["why"]) == ("legacy", "breaker open")
            assert opened["inputs"]["breaker"]["state"] == "open"
            assert _agree(client, 5) == {"legacy": 5}
            assert len(svc_state.requests) == before  # nothing was sent to the open target
            assert (_route_view(client)["upstream"], _route_view(client)["why"]) == ("legacy", "breaker open")


def test_cli_explain_shows_the_inputs_it_used(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(
        table_yaml(
            {"legacy": "{url: 'http://127.0.0.1:9'}", "services": "{url: 'http://127.0.0.1:9'}"}, ROUTE
        )
    )
    out = io.StringIO()
    args = ["explain", "--config", str(path), "GET", "/x", "--at", "2026-12-08T12:00"]
    assert main([*args, "--header", "X-API-Key: user-1", "--json"], out=out) == 0
    result = json.loads(out.getvalue())
    assert result["mode"] == "canary" and result["why"] == "bucket"
    assert result["inputs"]["identity"]["kind"] == "apikey"
    text = io.StringIO()
    assert main([*args, "--header", "X-API-Key: user-1"], out=text) == 0
    assert "input identity:" in text.getvalue() and "because: bucket" in text.getvalue()
    assert main([*args, "--header", "no colon"], out=io.StringIO()) == 2
