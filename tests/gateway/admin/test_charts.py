"""The per-route SVG chart: escaped, valid XML, empty data says so."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gateway.admin.charts import route_card, route_chart_svg

SVG = "{http://www.w3.org/2000/svg}"


def _chart(legacy: list[int], target: list[int], errors: list[int] | None = None) -> dict[str, object]:
    errs = errors or [0] * len(legacy)
    return {
        "start": 0.0,
        "step": 60,
        "legacy": {"requests": legacy, "errors": errs},
        "target": {"requests": target, "errors": [0] * len(target)},
    }


def test_chart_draws_one_line_per_side_and_the_error_rate() -> None:
    svg = route_chart_svg("videos", _chart([60, 120, 0], [0, 60, 60], [0, 6, 0]))
    root = ET.fromstring(svg)
    lines = {p.get("class"): p.get("points", "") for p in root.iter(f"{SVG}polyline")}
    assert set(lines) == {"rate legacy", "rate target", "errors"}
    assert all(len(points.split()) == 3 for points in lines.values())
    assert "2/s" in svg  # the peak rate: 120 requests in a minute
    assert root.get("data-chart") == "videos"


def test_route_ids_and_paths_are_escaped() -> None:
    hostile = '"><script>alert(1)</script>&'
    svg = route_chart_svg(hostile, _chart([1], [1]))
    assert "<script>" not in svg
    root = ET.fromstring(svg)  # still one well-formed element
    assert root.get("data-chart") == hostile
    card = route_card({"id": hostile, "path": "/x/<b>", "windows": {}, "chart": _chart([0], [0])})
    assert "<script>" not in card and "/x/<b>" not in card and "/x/&lt;b&gt;" in card


def test_no_traffic_says_so_instead_of_drawing_lines() -> None:
    for chart in (_chart([0] * 60, [0] * 60), {}):
        root = ET.fromstring(route_chart_svg("quiet", chart))
        assert not list(root.iter(f"{SVG}polyline"))
        texts = [t.text for t in root.iter(f"{SVG}text")]
        assert "no traffic in the last hour" in texts


def test_card_shows_each_window_and_side() -> None:
    side = {"requests": 4, "errors": 1, "error_rate": 0.25, "p99_ms": 12.0, "rate": 0.1, "share": 0.5}
    windows = {w: {"route_share": 1.0, "sides": {"legacy": side, "target": None}} for w in ("5m", "1h")}
    card = route_card({"id": "r", "path": "/r", "windows": windows, "chart": _chart([4], [0])})
    assert card.count("25.0%") == 2 and card.count("50.0%") == 2
    assert 'data-window-side="target"' in card and "100.0% of traffic" in card
