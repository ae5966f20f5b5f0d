"""Small server-rendered SVG charts: one per route, requests/s by side and error rate, last hour.

Plain SVG text built from the read model's ``chart`` (no script, no library, nothing fetched from
elsewhere). Every text that comes from the routing table (route ids, paths) is escaped; numbers are
formatted by this module, never interpolated from input.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

WIDTH = 360
HEIGHT = 120
#: Plot area inside the chart (room for the axis labels on the left and right, the legend below).
_LEFT, _RIGHT, _TOP, _BOTTOM = 34, 34, 8, 28
SIDE_COLOURS = {"legacy": "#7b8794", "target": "#2e9e5b"}
ERROR_COLOUR = "#d64545"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _num(value: float) -> str:
    return f"{value:.1f}"


def _rate_label(value: float) -> str:
    return f"{value:.2g}/s" if value < 10 else f"{value:.0f}/s"


def _polyline(values: Sequence[float], top: float, colour: str, cls: str, dash: str = "") -> str:
    """``values`` scaled so that ``top`` reaches the top of the plot area."""
    if not values:
        return ""
    inner_w = WIDTH - _LEFT - _RIGHT
    inner_h = HEIGHT - _TOP - _BOTTOM
    step = inner_w / max(1, len(values) - 1)
    scale = inner_h / top if top > 0 else 0.0
    points = " ".join(
        f"{_num(_LEFT + i * step)},{_num(_TOP + inner_h - v * scale)}" for i, v in enumerate(values)
    )
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<polyline class="{cls}" fill="none" stroke="{colour}" stroke-width="1.5"{dashed} '
        f'points="{points}"/>'
    )


def route_chart_svg(route_id: str, chart: dict[str, Any]) -> str:
    """The route's last hour as an inline ``<svg>``: requests/s per side, error rate (right axis)."""
    step = float(chart.get("step") or 60)
    legacy = chart.get("legacy") or {"requests": [], "errors": []}
    target = chart.get("target") or {"requests": [], "errors": []}
    lreq, treq = list(legacy["requests"]), list(target["requests"])
    length = max(len(lreq), len(treq))
    lreq += [0] * (length - len(lreq))
    treq += [0] * (length - len(treq))
    lerr = list(legacy["errors"]) + [0] * (length - len(legacy["errors"]))
    terr = list(target["errors"]) + [0] * (length - len(target["errors"]))
    rates = {"legacy": [n / step for n in lreq], "target": [n / step for n in treq]}
    totals = [a + b for a, b in zip(lreq, treq, strict=True)]
    errors = [(a + b) / n if n else 0.0 for a, b, n in zip(lerr, terr, totals, strict=True)]
    peak = max([*rates["legacy"], *rates["target"], 0.0])
    worst = max([*errors, 0.0])
    label = _e(f"{route_id}: requests per second by side and error rate, last hour")
    bottom = HEIGHT - _BOTTOM
    parts = [
        f'<svg class="chart" data-chart="{_e(route_id)}" xmlns="http://www.w3.org/2000/svg" '
        f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}">',
        f"<title>{label}</title>",
        f'<rect x="{_LEFT}" y="{_TOP}" width="{WIDTH - _LEFT - _RIGHT}" height="{bottom - _TOP}" '
        'fill="#fbfcfd" stroke="#e4e7eb"/>',
    ]
    if not sum(totals):
        parts.append(
            f'<text class="empty" x="{WIDTH / 2:.0f}" y="{(bottom + _TOP) / 2:.0f}" text-anchor="middle" '
            'font-size="11" fill="#7b8794">no traffic in the last hour</text>'
        )
    else:
        # the error-rate axis is at least 10%, so one error in a quiet hour does not fill the chart
        error_top = max(worst, 0.1)
        for side in ("legacy", "target"):
            parts.append(_polyline(rates[side], peak, SIDE_COLOURS[side], f"rate {side}"))
        parts.append(_polyline(errors, error_top, ERROR_COLOUR, "errors", dash="3,2"))
        parts.append(
            f'<text x="{_LEFT - 3}" y="{_TOP + 8}" text-anchor="end" font-size="9" fill="#52606d">'
            f"{_e(_rate_label(peak))}</text>"
            f'<text x="{WIDTH - _RIGHT + 3}" y="{_TOP + 8}" font-size="9" fill="{ERROR_COLOUR}">'
            f"{error_top * 100:.0f}%</text>"
        )
    minutes = round(length * step / 60)
    parts.append(
        f'<text x="{_LEFT}" y="{bottom + 11}" font-size="9" fill="#52606d">−{minutes} min</text>'
        f'<text x="{WIDTH - _RIGHT}" y="{bottom + 11}" text-anchor="end" font-size="9" '
        'fill="#52606d">now</text>'
    )
    legend_y = HEIGHT - 5
    parts.append(
        f'<text x="{_LEFT}" y="{legend_y}" font-size="9">'
        f'<tspan fill="{SIDE_COLOURS["legacy"]}">■ legacy req/s'
        f'</tspan> <tspan fill="{SIDE_COLOURS["target"]}">■ target req/s</tspan> '
        f'<tspan fill="{ERROR_COLOUR}">┅ error rate</tspan></text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _figures(figures: dict[str, Any] | None) -> str:
    if not figures or not figures["requests"]:
        return '<td class="num">–</td><td class="num">–</td><td class="num">–</td>'
    return (
        f'<td class="num" data-window-share>{_pct(figures["share"])}'
        f"<br><small>{figures['requests']} req</small></td>"
        f'<td class="num">{_pct(figures["error_rate"])}</td><td class="num">{_ms(figures["p99_ms"])}</td>'
    )


def route_card(row: dict[str, Any]) -> str:
    """One route's recent figures (last 5 minutes, last hour, per side) and its chart."""
    rid = row["id"]
    windows = row.get("windows") or {}
    body = ""
    for side in ("legacy", "target"):
        cells = "".join(_figures((windows.get(w) or {}).get("sides", {}).get(side)) for w in ("5m", "1h"))
        body += f'<tr data-window-side="{_e(side)}"><th>{_e(side)}</th>{cells}</tr>'
    share = " · ".join(
        f"{name}: {_pct((windows.get(name) or {}).get('route_share'))} of traffic" for name in ("5m", "1h")
    )
    return (
        f'<div class="card" data-card="{_e(rid)}"><b>{_e(rid)}</b> '
        f"<small>{_e(row['path'])} · {share}</small>"
        f"{route_chart_svg(rid, row.get('chart') or {})}"
        '<table class="windows"><thead><tr><th></th><th colspan="3">last 5 min: share / err / p99 ms</th>'
        '<th colspan="3">last hour: share / err / p99 ms</th></tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )
