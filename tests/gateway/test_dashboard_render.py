from __future__ import annotations

from typing import Any

from gateway.admin.dashboard import PAGE, render_board


def _state() -> dict[str, Any]:
    side = {
        "requests": 4,
        "errors": 1,
        "window_requests": 4,
        "error_rate": 0.25,
        "p50_ms": 3.2,
        "p99_ms": 120.0,
    }
    return {
        "at": "2026-12-01T00:00:00+00:00",
        "table": {"file": "routing.yaml", "sha256": "abcdef1234567890", "loaded_at": None},
        "scoreboard": {
            "routes": 1,
            "count": {"legacy": 0, "shadow": 0, "canary": 0, "live": 0, "pinned": 1},
            "traffic": {},
            "traffic_share": {"legacy": 0, "shadow": 0, "canary": 0, "live": 0, "pinned": 1.0},
            "live_share": 0.0,
            "requests_on_target": 4,
            "requests": 8,
        },
        "routes": [
            {
                "id": "videos",
                "path": "/api/videos/",
                "methods": None,
                "rollout": True,
                "mode": "canary",
                "percent": 10.0,
                "next_flip": {"at": 1796083200.0, "mode": "canary", "percent": 50.0},
                "pinned": {"reason": "<script>alert(1)</script>", "by": "operator"},
                "requests": 8,
                "traffic_share": 1.0,
                "sides": {"legacy": side, "target": side},
                "shadow": {"diff_rate": 0.5, "differing": 1, "compared": 2, "dropped": 3},
            },
            {
                "id": "plain",
                "path": "/x",
                "methods": ["GET"],
                "rollout": False,
                "mode": "live",
                "percent": None,
                "next_flip": None,
                "pinned": None,
                "requests": 0,
                "traffic_share": 0.0,
                "sides": {"legacy": None, "target": None},
                "shadow": None,
            },
        ],
        "upstreams": {
            "services": {
                "url": "http://s",
                "breaker": {"state": "half_open", "reason": "status 503"},
                "health": {"healthy": False, "latency_ms": 2.0, "error": "status 503"},
            },
            "legacy": {"url": "http://l", "breaker": {"state": "closed", "reason": ""}, "health": None},
        },
        "shadow": {"submitted": 2, "dropped": 3},
        "last_reload": {"trigger": "file", "at": 1796083200.0, "ok": False, "errors": ["line 3: <bad>"]},
        "history": [
            {"at": 1796083200.0, "source": "file", "ok": False, "error": "line 3: <bad>", "changes": []},
            {
                "at": 1796083100.0,
                "source": "api",
                "ok": True,
                "error": None,
                "changes": [{"kind": "mode", "route": "videos", "detail": "canary 10% -> canary 50%"}],
            },
        ],
    }


def test_board_renders_every_section_and_escapes_operator_text() -> None:
    html = render_board(_state())
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'data-count="pinned">1<' in html
    assert 'data-route="videos" data-mode="pinned"' in html
    assert "pinned → legacy" in html and 'data-release="videos"' in html
    assert "canary 50%" in html and "2026-12-01T00:00:00+00:00" in html
    assert "25.0%" in html and ">120<" in html and ">3.2<" in html
    assert "1/2, 3 dropped" in html
    assert "FAILED" in html and "line 3: &lt;bad&gt;" in html
    assert "mode videos: canary 10% -&gt; canary 50%" in html
    assert "down</span> (2.0 ms)" in html and "half_open" in html and "no health check" in html
    assert 'data-route="plain" data-mode="live"' in html and "any /api/videos/" in html


def test_page_is_a_static_shell_that_asks_for_the_token_once() -> None:
    assert "sessionStorage" in PAGE and "/_gateway/api/cutover/board" in PAGE
    assert 'id="token-form"' in PAGE


def test_a_route_whose_target_breaker_is_open_says_legacy_answers() -> None:
    state = _state()
    row = state["routes"][0]
    row.update(pinned=None, mode="live", percent=None)
    row["side"] = {"side": "legacy", "upstream": "legacy", "why": "breaker open"}
    assert "live → legacy (breaker open)" in render_board(state)
    row["side"] = {"side": "target", "upstream": "services", "why": ""}
    assert "breaker open" not in render_board(state)
