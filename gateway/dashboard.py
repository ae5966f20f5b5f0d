"""The cutover admin endpoints and the migration dashboard at ``/_gateway/``.

The dashboard is server-rendered: :func:`render_board` turns the cutover state into an HTML
fragment, served at ``/_gateway/api/cutover/board``; the page's few lines of vanilla JS fetch
that fragment every two seconds with the admin token (asked once, kept in sessionStorage)
and swap it in. No build step, one rendering path, the JSON API holds the same numbers.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any, Protocol

from fastapi import APIRouter, Body, HTTPException, Query
from fastapi.params import Depends
from fastapi.responses import HTMLResponse

from gateway.admin_contract import RELEASE_LINK, PinRequest, SafeHTMLResponse, error_response
from gateway.compiler import CompiledTable
from gateway.cutover import Cutover, tally
from gateway.plan import describe

PREFIX = "/_gateway"
STATES = ("legacy", "shadow", "canary", "live", "pinned")
_COLOURS = {
    "legacy": "#9aa5b1",
    "shadow": "#7b61ff",
    "canary": "#f0a500",
    "live": "#2e9e5b",
    "pinned": "#d64545",
}


class _TableRef(Protocol):
    table: CompiledTable


class _Reloader(Protocol):
    @property
    def last(self) -> Any: ...


class GatewayLike(Protocol):
    @property
    def tables(self) -> _TableRef: ...
    @property
    def cutover(self) -> Cutover: ...
    @property
    def reloader(self) -> _Reloader: ...


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def cutover_state(gateway: GatewayLike) -> dict[str, Any]:
    table = gateway.tables.table
    cutover = gateway.cutover
    last = gateway.reloader.last
    now = cutover.clock()
    rows = cutover.route_state(table, now)  # one read for both views: they agree on every count
    return {
        "at": _iso(now),
        "table": {"file": table.source, "sha256": table.sha256, "loaded_at": _iso(table.loaded_at)},
        "scoreboard": tally(rows),
        "routes": rows,
        "upstreams": {
            name: {**state, "url": table.upstreams[name].url if name in table.upstreams else None}
            for name, state in cutover.upstream_state().items()
        },
        "shadow": {"submitted": cutover.mirror.submitted, "dropped": cutover.mirror.dropped},
        "last_reload": last.as_dict() if last is not None else None,
        "history": [entry.as_json() for entry in cutover.history.entries(20)],
        "coverage": _coverage_totals(cutover.endpoint_coverage(table)),
    }


def _coverage_totals(report: dict[str, Any]) -> dict[str, Any]:
    """The legacy-endpoint coverage without its per-endpoint rows (those are at /api/coverage)."""
    if report.get("state") != "ready":
        return report
    return {"state": "ready", "endpoints": report["total_endpoints"], **report["totals"]}


def build_router(gateway: GatewayLike, admin: Depends) -> APIRouter:
    router = APIRouter(tags=["cutover"])

    @router.get(f"{PREFIX}/api/cutover", dependencies=[admin])
    async def state() -> dict[str, Any]:
        """Scoreboard, every route's state and statistics, upstreams, last reload, history."""
        return cutover_state(gateway)

    @router.get(f"{PREFIX}/api/cutover/board", dependencies=[admin], response_class=HTMLResponse)
    async def board() -> HTMLResponse:
        return SafeHTMLResponse(render_board(cutover_state(gateway)))

    @router.get(f"{PREFIX}/api/diffs", dependencies=[admin])
    async def diffs(
        route: str | None = Query(None, description="route id (default: all routes)"),
        limit: int = Query(50, ge=1, le=500),
    ) -> dict[str, Any]:
        store = gateway.cutover.diffs
        summary = {rid: entry.summary() for rid, entry in store.routes().items() if route in (None, rid)}
        return {"routes": summary, "diffs": [r.as_json() for r in store.recent(route, limit)]}

    @router.get(f"{PREFIX}/api/coverage", dependencies=[admin])
    async def endpoint_coverage() -> dict[str, Any]:
        """Every legacy endpoint (the legacy app's url_map) and its state now; totals by count and traffic."""
        return gateway.cutover.endpoint_coverage(gateway.tables.table)

    @router.get(f"{PREFIX}/api/history", dependencies=[admin])
    async def history(limit: int = Query(50, ge=1, le=200)) -> dict[str, Any]:
        return {"reloads": [entry.as_json() for entry in gateway.cutover.history.entries(limit)]}

    @router.get(f"{PREFIX}/api/upstreams", dependencies=[admin])
    async def upstreams() -> dict[str, Any]:
        return {"upstreams": gateway.cutover.upstream_state()}

    @router.post(
        f"{PREFIX}/api/routes/{{route_id}}/pin",
        dependencies=[admin],
        operation_id="pin_route",
        responses={
            200: {"description": "The route is pinned to legacy", "links": {"Release": RELEASE_LINK}},
            404: error_response("No such route in the active table."),
            409: error_response("The route cannot be pinned (it has no rollout)."),
        },
    )
    async def pin(route_id: str, body: PinRequest | None = Body(None)) -> dict[str, Any]:
        reason = (body.reason if body is not None else None) or "pinned by an operator"
        try:
            found_route = await gateway.cutover.pin(route_id, reason)
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from exc
        if not found_route:
            raise HTTPException(404, f"no route {route_id!r} in the active table")
        found = gateway.cutover.pins.get(route_id)
        return {"route": route_id, "pinned": found.as_json() if found else None}

    @router.post(
        f"{PREFIX}/api/routes/{{route_id}}/release", dependencies=[admin], operation_id="release_route"
    )
    async def release(route_id: str) -> dict[str, Any]:
        released = await gateway.cutover.release(route_id)
        return {"route": route_id, "released": released}

    @router.get(f"{PREFIX}/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(PAGE)

    return router


# -- rendering -------------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _mode(row: dict[str, Any]) -> str:
    if row["pinned"]:
        return "pinned"
    return str(row["mode"])


def _side(stats: dict[str, Any] | None) -> str:
    if not stats:
        return '<td class="num">–</td><td class="num">–</td><td class="num">–</td>'
    return (
        f'<td class="num">{_pct(stats["error_rate"])}</td>'
        f'<td class="num">{_ms(stats["p50_ms"])}</td><td class="num">{_ms(stats["p99_ms"])}</td>'
    )


def _route_row(row: dict[str, Any]) -> str:
    rid = _e(row["id"])
    mode = _mode(row)
    label = "pinned → legacy" if mode == "pinned" else describe(str(row["mode"]), row["percent"])
    flip = row["next_flip"]
    flip_text = "–"
    if flip is not None:
        flip_text = f"{_e(describe(flip['mode'], flip['percent']))}<br><small>{_e(_iso(flip['at']))}</small>"
    shadow = row["shadow"]
    diff = "–"
    if shadow is not None:
        diff = (
            f'<a href="#" data-diffs="{rid}">{_pct(shadow["diff_rate"])}</a>'
            f"<br><small>{shadow['differing']}/{shadow['compared']}"
            + (f", {shadow['dropped']} dropped" if shadow["dropped"] else "")
            + "</small>"
        )
    pin = row["pinned"]
    if pin is not None:
        reason = _e(pin["reason"])
        pinned = f'<span title="{reason}">{reason}</span> <button data-release="{rid}">release</button>'
    elif row["rollout"]:
        pinned = f'<button data-pin="{rid}">pin</button>'
    else:
        pinned = "–"
    methods = ",".join(row["methods"]) if row["methods"] else "any"
    return (
        f'<tr data-route="{rid}" data-mode="{_e(mode)}">'
        f"<td><b>{rid}</b><br><small>{_e(methods)} {_e(row['path'])}</small></td>"
        f'<td><span class="badge {_e(mode)}">{_e(label)}</span></td>'
        f"<td>{flip_text}</td>"
        f'<td class="num" data-share="{rid}">{_pct(row["traffic_share"])}'
        f"<br><small>{row['requests']} req</small></td>"
        f"{_side(row['sides']['legacy'])}{_side(row['sides']['target'])}"
        f'<td class="num">{diff}</td><td>{pinned}</td></tr>'
    )


def render_board(state: dict[str, Any]) -> str:
    board = state["scoreboard"]
    total = board["routes"] or 1
    bar = "".join(
        f'<div class="seg" style="width:{board["count"][s] * 100 / total:.2f}%;background:{_COLOURS[s]}" '
        f'title="{s}: {board["count"][s]}"></div>'
        for s in STATES
        if board["count"][s]
    )
    tiles = "".join(
        f'<div class="tile"><span class="dot" style="background:{_COLOURS[s]}"></span>{s}'
        f'<b data-count="{s}">{board["count"][s]}</b>'
        f'<small data-traffic="{s}">{_pct(board["traffic_share"][s])} of traffic</small></div>'
        for s in STATES
    )
    rows = "".join(_route_row(row) for row in state["routes"])
    endpoints = _endpoints_line(state.get("coverage") or {})
    ups = "".join(
        f'<tr data-upstream="{_e(name)}"><td><b>{_e(name)}</b>'
        f"<br><small>{_e(u.get('url') or '')}</small></td>"
        f"<td>{_health(u.get('health'))}</td>"
        f'<td><span class="badge {_e(u["breaker"]["state"])}">{_e(u["breaker"]["state"])}</span>'
        f"<br><small>{_e(u['breaker']['reason'])}</small></td></tr>"
        for name, u in state["upstreams"].items()
    )
    last = state["last_reload"]
    last_text = "no reload since start"
    if last is not None:
        result = "ok" if last["ok"] else "FAILED"
        last_text = f"{_e(last['trigger'])} at {_e(_iso(last['at']))}: <b>{result}</b>"
        if last["errors"]:
            last_text += "<br><small>" + "<br>".join(_e(e) for e in last["errors"][:5]) + "</small>"
    history = "".join(
        f"<li>{_e(_iso(h['at']))} {_e(h['source'])} {'ok' if h['ok'] else 'failed: ' + _e(h['error'])}"
        + (
            "<ul>"
            + "".join(f"<li>{_e(c['kind'])} {_e(c['route'])}: {_e(c['detail'])}</li>" for c in h["changes"])
            + "</ul>"
            if h["changes"]
            else ""
        )
        + "</li>"
        for h in state["history"][:10]
    )
    return f"""
<section class="score">
  <h2>Migration <span data-live-share>{_pct(board["live_share"])}</span> live
    <small>{board["routes"]} rolled-out routes, {board["requests"]} requests,
    <span data-on-target>{board["requests_on_target"]}</span> answered by the new side</small></h2>
  <div class="bar" role="progressbar" aria-valuenow="{board["live_share"] * 100:.0f}">{bar}</div>
  <div class="tiles">{tiles}</div>
  <p data-endpoints>{endpoints}</p>
</section>
<section><h2>Routes</h2>
<table class="routes"><thead><tr><th>route</th><th>mode now</th><th>next flip</th><th>traffic</th>
<th colspan="3">legacy: err / p50 / p99 ms</th><th colspan="3">target: err / p50 / p99 ms</th>
<th>diff rate</th><th>pinned</th></tr></thead><tbody>{rows}</tbody></table></section>
<div class="cols">
<section><h2>Upstreams</h2><table><thead><tr><th>upstream</th><th>health</th><th>breaker</th></tr></thead>
<tbody>{ups}</tbody></table>
<p><small>shadow queue: {state["shadow"]["submitted"]} mirrored,
{state["shadow"]["dropped"]} dropped</small></p>
</section>
<section><h2>Reloads</h2><p data-last-reload>{last_text}</p><ul class="history">{history}</ul></section>
</div>
<p class="meta"><small>table {_e(state["table"]["file"])} · sha256 {_e(state["table"]["sha256"][:12])} ·
as of {_e(state["at"])}</small></p>
"""


_ENDPOINT_STATES = ("live", "canary", "shadow", "not migrated", "pinned back")


def _endpoints_line(report: dict[str, Any]) -> str:
    state = report.get("state")
    if state == "ready":
        count, traffic = report["count"], report["traffic"]
        parts = " · ".join(
            f'{s} <b data-endpoint-count="{_e(s)}">{count.get(s, 0)}</b>'
            + (f" ({_pct(traffic[s])} of traffic)" if s in traffic else "")
            for s in _ENDPOINT_STATES
        )
        return f"Legacy endpoints: <b>{report['endpoints']}</b> — {parts}"
    if state == "error":
        return f"<small>legacy endpoints unavailable: {_e(report.get('error', ''))}</small>"
    if state == "loading":
        return "<small>legacy endpoints: reading the legacy app's url_map…</small>"
    return ""


def _health(health: dict[str, Any] | None) -> str:
    if health is None:
        return "<small>no health check</small>"
    ok = health["healthy"]
    text = "healthy" if ok else ("unknown" if ok is None else "down")
    extra = f" ({_ms(health['latency_ms'])} ms)" if health.get("latency_ms") is not None else ""
    error = f"<br><small>{_e(health['error'])}</small>" if health.get("error") else ""
    return f'<span class="badge {"live" if ok else "pinned"}">{text}</span>{extra}{error}'


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1400px;padding:0 16px;color:#1f2933}
h1{font-size:20px}h2{font-size:16px;margin:18px 0 8px}h2 small{font-weight:normal;color:#52606d}
table{border-collapse:collapse;width:100%}th,td{padding:4px 6px;border-bottom:1px solid #e4e7eb;
text-align:left;vertical-align:top}th{background:#f5f7fa;font-weight:600}.num{text-align:right}
.bar{display:flex;height:18px;border-radius:4px;overflow:hidden;background:#e4e7eb}.seg{height:100%}
.tiles{display:flex;gap:12px;margin-top:8px}.tile{border:1px solid #e4e7eb;border-radius:6px;padding:6px 10px}
.tile b{display:block;font-size:20px}.dot{display:inline-block;width:9px;height:9px;border-radius:50%;
margin-right:4px}.badge{padding:1px 6px;border-radius:9px;color:#fff;background:#9aa5b1;white-space:nowrap}
.badge.shadow{background:#7b61ff}.badge.canary,.badge.half_open{background:#f0a500}
.badge.live,.badge.closed{background:#2e9e5b}.badge.pinned,.badge.open{background:#d64545}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:24px}small{color:#52606d}
#token{display:none;padding:12px;background:#fff8e1;border:1px solid #f0a500}
#diffs{white-space:pre-wrap;background:#f5f7fa;padding:8px;max-height:320px;overflow:auto;display:none}
button{font-size:12px}
"""

_SCRIPT = """
const key = "figway-admin-token";
const auth = () => { const t = sessionStorage.getItem(key); return t ? {Authorization: "Bearer " + t} : {}; };
async function call(method, url) {
  const r = await fetch(url, {method, headers: auth()});
  if (r.status === 401) {
    document.getElementById("token").style.display = "block"; throw new Error("token"); }
  return r;
}
async function refresh() {
  try {
    const r = await call("GET", "/_gateway/api/cutover/board");
    if (r.ok) { document.getElementById("board").innerHTML = await r.text();
      document.getElementById("token").style.display = "none"; document.body.dataset.ready = "1"; }
  } catch (e) {}
}
document.getElementById("token-form").addEventListener("submit", (ev) => {
  ev.preventDefault(); sessionStorage.setItem(key, document.getElementById("token-input").value); refresh();
});
document.addEventListener("click", async (ev) => {
  const t = ev.target, d = t.dataset;
  if (d.diffs) { ev.preventDefault();
    const r = await call("GET", "/_gateway/api/diffs?limit=20&route=" + encodeURIComponent(d.diffs));
    const box = document.getElementById("diffs"); box.style.display = "block";
    box.textContent = JSON.stringify(await r.json(), null, 2); }
  if (d.pin || d.release) {
    const action = d.pin ? "/pin" : "/release";
    await call("POST", "/_gateway/api/routes/" + encodeURIComponent(d.pin || d.release) + action);
    refresh(); }
});
refresh(); setInterval(refresh, 2000);
"""

PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>figway: migration</title><style>{_STYLE}</style></head>
<body><h1>figway: strangler-fig migration</h1>
<form id="token-form"><div id="token"><label for="token-input">Admin token:</label>
<input id="token-input" type="password" autocomplete="off"> <button type="submit">use</button></div></form>
<div id="board"><p>loading…</p></div>
<h2>Recent diffs</h2><pre id="diffs"></pre>
<script>{_SCRIPT}</script></body></html>
"""
__all__ = ["PAGE", "build_router", "cutover_state", "render_board"]
