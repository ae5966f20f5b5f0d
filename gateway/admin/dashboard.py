"""The migration dashboard at ``/_gateway/``: server-rendered HTML over the admin read model.

:func:`render_board` turns the cutover state (the JSON of :mod:`gateway.admin.readmodel`) into an
HTML fragment, served at ``/_gateway/api/cutover/board``; the page's few lines of vanilla JS fetch
that fragment every two seconds with the admin token (asked once, kept in sessionStorage) and swap
it in. No build step, one rendering path, the JSON API holds the same numbers.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse

from gateway.admin.access import PREFIX, AdminAccess
from gateway.admin.charts import route_card
from gateway.admin.contract import SafeHTMLResponse
from gateway.admin.readmodel import STATES
from gateway.plan import describe

_COLOURS = {
    "legacy": "#9aa5b1",
    "shadow": "#7b61ff",
    "canary": "#f0a500",
    "live": "#2e9e5b",
    "pinned": "#d64545",
}


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def build_router(state: Callable[[], dict[str, Any]], access: AdminAccess) -> APIRouter:
    """The page and its board fragment; ``state`` reads the cutover state (readmodel JSON)."""
    admin = Depends(access)
    router = APIRouter(tags=["cutover"])

    @router.get(f"{PREFIX}/api/cutover/board", dependencies=[admin], response_class=HTMLResponse)
    async def board() -> HTMLResponse:
        return SafeHTMLResponse(render_board(state()))

    @router.get(f"{PREFIX}/", response_class=HTMLResponse, include_in_schema=False)
    async def page(request: Request) -> HTMLResponse:
        # Like every admin path, the page needs the token. A browser cannot send one on navigation,
        # so without it the answer is a 401 whose body is the page shell (no data): its script asks
        # for the token and sends it with every fetch.
        try:
            access(request)
        except HTTPException as exc:
            if exc.status_code != 401:
                raise
            return HTMLResponse(PAGE, status_code=401, headers=exc.headers)
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


def _limits(row: dict[str, Any]) -> str:
    """The route's rate limits and how many requests they refused (429)."""
    policies = row.get("rate_limit") or []
    if not policies:
        return ""
    text = ", ".join(f"{p['limit']}/{p['window_seconds']:g}s per {p['key']}" for p in policies)
    refused = row.get("rate_limited", 0)
    return (
        f'<br><small class="limit" data-limited="{refused}">rate limit {_e(text)}: {refused} refused</small>'
    )


def _route_row(row: dict[str, Any]) -> str:
    rid = _e(row["id"])
    mode = _mode(row)
    label = "pinned → legacy" if mode == "pinned" else describe(str(row["mode"]), row["percent"])
    side = row.get("side") or {}
    if side.get("why") == "breaker open":  # the decider skips the target: say so where the mode is
        label += " → legacy (breaker open)"
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
    held = _held(rid, (row.get("side") or {}).get("hold"))
    return (
        f'<tr data-route="{rid}" data-mode="{_e(mode)}">'
        f"<td><b>{rid}</b><br><small>{_e(methods)} {_e(row['path'])}</small>{_limits(row)}</td>"
        f'<td><span class="badge {_e(mode)}">{_e(label)}</span>{held}</td>'
        f"<td>{flip_text}</td>"
        f'<td class="num" data-share="{rid}">{_pct(row["traffic_share"])}'
        f"<br><small>{row['requests']} req</small></td>"
        f"{_side(row['sides']['legacy'])}{_side(row['sides']['target'])}"
        f'<td class="num">{diff}</td><td>{pinned}</td></tr>'
    )


def _held(rid: str, hold: dict[str, Any] | None) -> str:
    """A held flip: which phase the calendar wants, what evidence is missing, and the release button."""
    if not hold:
        return ""
    return (
        f'<br><span class="badge held" data-held="{rid}" title="{_e(hold["requires"])}">'
        f"held: calendar says {_e(hold['calendar'])}</span>"
        f"<br><small>missing: {_e(hold['missing'] or 'nothing: opens in a moment')}</small>"
        f' <button data-release-hold="{rid}">release hold</button>'
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
    cards = "".join(route_card(row) for row in state["routes"])
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
<section><h2>Now: last 5 minutes and last hour
<small>requests/s by side and error rate, per minute</small></h2>
<div class="cards">{cards}</div></section>
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
.badge.live,.badge.closed{background:#2e9e5b}.badge.held{background:#b35c00}.badge.pinned,.badge.open{background:#d64545}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:24px}small{color:#52606d}
#token{display:none;padding:12px;background:#fff8e1;border:1px solid #f0a500}
#diffs{display:none}.diffview{border:1px solid #e4e7eb;border-radius:6px;padding:6px 10px;margin:8px 0}
.diffview h3{font-size:14px;margin:4px 0}.sides{display:grid;grid-template-columns:1fr 1fr;gap:10px}
.sides>div{min-width:0}
pre.answer{background:#f5f7fa;padding:6px;max-height:360px;overflow:auto;font-size:12px;margin:4px 0}
.jl{display:block}.jl.diff{background:#ffd7d7}.jl.excused{background:#fff1c2}.jl.noise{background:#e6e0ff}
.jl.ignored{color:#9aa5b1}.legend .jl{display:inline;padding:0 4px}ul.paths li.diff code{background:#ffd7d7}
ul.paths li.excused code{background:#fff1c2}
button{font-size:12px}
table.report td{font-size:13px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(370px,1fr));gap:12px}
.card{border:1px solid #e4e7eb;border-radius:6px;padding:6px 8px}.card svg{display:block;margin:4px 0}
table.windows th,table.windows td{padding:2px 4px;font-size:12px}
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
    const report = await call("GET", "/_gateway/api/report/board");
    if (report.ok) { document.getElementById("report").innerHTML = await report.text();
      document.body.dataset.report = "1"; }
  } catch (e) {}
}
let diffRoute = "";
async function showDiffs() {
  const filter = document.getElementById("diff-filter").value;
  const url = "/_gateway/api/diffs/board?limit=8&route=" + encodeURIComponent(diffRoute) +
    (filter ? "&path=" + encodeURIComponent(filter) : "");
  const r = await call("GET", url);
  const box = document.getElementById("diffs"); box.style.display = "block";
  if (r.ok) { box.innerHTML = await r.text(); document.body.dataset.diffs = diffRoute; }
}
document.getElementById("diff-filter").addEventListener("input", () => { if (diffRoute) showDiffs(); });
document.getElementById("token-form").addEventListener("submit", (ev) => {
  ev.preventDefault(); sessionStorage.setItem(key, document.getElementById("token-input").value); refresh();
});
document.addEventListener("click", async (ev) => {
  const t = ev.target, d = t.dataset;
  if (d.diffs) { ev.preventDefault(); diffRoute = d.diffs; showDiffs(); }
  if (d.releaseHold) {
    const by = prompt("Release the hold on " + d.releaseHold + ": your name?"); if (!by) return;
    const reason = prompt("Why release it without its evidence?"); if (!reason) return;
    const url = "/_gateway/api/routes/" + encodeURIComponent(d.releaseHold) + "/hold/release";
    const headers = {...auth(), "content-type": "application/json"};
    await fetch(url, {method: "POST", headers, body: JSON.stringify({by, reason})});
    refresh(); }
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
<h2>Recent diffs <small>click a route's diff rate</small></h2>
<label>path contains <input id="diff-filter" autocomplete="off" placeholder="body.videos"></label>
<div id="diffs"></div>
<h2>Migration report
<small>per legacy endpoint: what legacy still answers, and which Flask code can go</small></h2>
<div id="report"><p>loading…</p></div>
<script>{_SCRIPT}</script></body></html>
"""
__all__ = ["PAGE", "build_router", "render_board"]
