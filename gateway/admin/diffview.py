"""The diff viewer: a shadowed route's recent legacy and target answers side by side.

Reads the views the shadow diff store keeps (:class:`gateway.shadow.DiffView`: the newest diffs per
route with both answers, truncated). Each answer is rendered as indented JSON, one line per member,
each line carrying its diff path (``body.videos[0].title``, the syntax of :mod:`gateway.diff`) and
a mark: ``diff`` (counted), ``excused`` (allowed by ``differences.yaml``), ``noise`` (learnt to
differ between two legacy answers, left out of diffs) or ``ignored`` (the route's ``shadow.ignore``).
The answers may hold user data: the viewer lives under ``/_gateway`` (admin token), every byte of
them is escaped, and only ``VIEW_BODY_LIMIT`` bytes of each are kept.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query
from fastapi.params import Depends
from pydantic import BaseModel

from gateway.admin.access import PREFIX
from gateway.admin.contract import SafeHTMLResponse
from gateway.compiler import TableRef
from gateway.cutover import Cutover
from gateway.diff import PathSet, Token, format_path
from gateway.mirroring import diff_config
from gateway.shadow import DiffView

#: Lines rendered per answer; a longer document ends with a "… n more lines" note.
MAX_LINES = 400
MARKS = ("diff", "excused", "noise", "ignored")

Classify = Callable[[tuple[Token, ...], str], str]


class AnswerOut(BaseModel):
    content_type: str
    #: The answer's size in bytes, and whether the viewer kept less of it than that.
    size: int
    truncated: bool
    body: str


class DiffViewOut(BaseModel):
    at: float
    route: str
    request_id: str
    method: str
    path: str
    legacy_status: int
    target_status: int | None
    differences: list[dict[str, Any]]
    excused: list[dict[str, Any]]
    excused_by: list[str]
    legacy: AnswerOut
    target: AnswerOut


class DiffViewsOut(BaseModel):
    """Recent diffs with both answers, newest first (``path`` filters by difference path)."""

    route: str | None
    path: str | None
    #: Per route: the paths learnt as noise and the paths the route's ``shadow.ignore`` names.
    noise: dict[str, list[str]]
    ignore: dict[str, list[str]]
    views: list[DiffViewOut]


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _paths(view: DiffView) -> list[str]:
    record = view.record
    return [d.path for d in (*record.differences, *record.excused)]


def select(views: list[DiffView], path: str | None) -> list[DiffView]:
    """The views with a difference (counted or excused) whose path contains ``path``."""
    if not path:
        return views
    needle = path.lower()
    return [v for v in views if any(needle in p.lower() for p in _paths(v))]


def _answer(body: bytes, content_type: str, size: int) -> AnswerOut:
    return AnswerOut(
        content_type=content_type,
        size=size,
        truncated=size > len(body),
        body=body.decode("utf-8", "replace"),
    )


def views_json(views: list[DiffView]) -> list[DiffViewOut]:
    out = []
    for view in views:
        record, answers = view.record.as_json(), view.answers
        out.append(
            DiffViewOut(
                **record,
                legacy=_answer(answers.legacy_body, answers.legacy_type, answers.legacy_size),
                target=_answer(answers.target_body, answers.target_type, answers.target_size),
            )
        )
    return out


def classifier(view: DiffView, noise: PathSet, ignore: PathSet) -> Classify:
    record = view.record
    counted = {d.path for d in record.differences}
    excused = {d.path for d in record.excused}

    def classify(tokens: tuple[Token, ...], path: str) -> str:
        if path in counted:
            return "diff"
        if path in excused:
            return "excused"
        if noise.covers(tokens):
            return "noise"
        if ignore.covers(tokens):
            return "ignored"
        return ""

    return classify


def document_lines(document: Any, classify: Classify, max_lines: int = MAX_LINES) -> list[str]:
    """``document`` as indented JSON, one ``<span>`` per line with its path and mark (escaped)."""
    lines: list[str] = []
    dropped = 0

    def emit(depth: int, text: str, tokens: tuple[Token, ...], mark: str) -> None:
        nonlocal dropped
        if len(lines) >= max_lines:
            dropped += 1
            return
        cls = f"jl {mark}" if mark else "jl"
        lines.append(
            f'<span class="{cls}" data-path="{_e(format_path(tokens))}">{"  " * depth}{_e(text)}</span>'
        )

    def walk(
        value: Any, tokens: tuple[Token, ...], depth: int, label: str, comma: str, inherited: str
    ) -> None:
        mark = classify(tokens, format_path(tokens)) or inherited
        # a mark on a container covers its members (a missing object, a noisy subtree)
        if isinstance(value, dict) and value:
            emit(depth, label + "{", tokens, mark)
            items = list(value.items())
            for i, (key, item) in enumerate(items):
                member = json.dumps(str(key), ensure_ascii=False) + ": "
                walk(item, (*tokens, str(key)), depth + 1, member, "," if i < len(items) - 1 else "", mark)
            emit(depth, "}" + comma, tokens, mark)
        elif isinstance(value, list) and value:
            emit(depth, label + "[", tokens, mark)
            for i, item in enumerate(value):
                walk(item, (*tokens, i), depth + 1, "", "," if i < len(value) - 1 else "", mark)
            emit(depth, "]" + comma, tokens, mark)
        else:
            emit(depth, label + json.dumps(value, ensure_ascii=False) + comma, tokens, mark)

    walk(document, ("body",), 0, "", "", "")
    if dropped:
        lines.append(f'<span class="jl more">… {dropped} more lines</span>')
    return lines


def _body_html(body: bytes, content_type: str, size: int, classify: Classify) -> str:
    note = f'<small class="truncated">first {len(body)} of {size} bytes</small>' if size > len(body) else ""
    if "json" in content_type.lower():
        try:
            document = json.loads(body)
        except ValueError:
            pass
        else:
            return note + '<pre class="answer">' + "".join(document_lines(document, classify)) + "</pre>"
    mark = classify(("body",), "body")
    text = body.decode("utf-8", "replace")
    return f'{note}<pre class="answer"><span class="jl {mark}" data-path="body">{_e(text)}</span></pre>'


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def render_view(view: DiffView, noise: PathSet, ignore: PathSet) -> str:
    record, answers = view.record, view.answers
    classify = classifier(view, noise, ignore)
    listed = "".join(
        f'<li class="{kind}" data-diff-path="{_e(d.path)}"><code>{_e(d.path)}</code>: '
        f"{_e(json.dumps(d.as_json()['legacy'], ensure_ascii=False, default=str))} → "
        f"{_e(json.dumps(d.as_json()['target'], ensure_ascii=False, default=str))}"
        + (f" <small>excused by {_e(', '.join(record.excused_by))}</small>" if kind == "excused" else "")
        + "</li>"
        for kind, found in (("diff", record.differences), ("excused", record.excused))
        for d in found
    )
    status_mark = classify(("status",), "status")
    return (
        f'<article class="diffview" data-request="{_e(record.request_id)}" '
        f'data-route="{_e(record.route_id)}">'
        f"<h3>{_e(record.method)} {_e(record.path)} <small>{_e(_when(record.at))} · {_e(record.route_id)}"
        f" · request {_e(record.request_id)}</small></h3>"
        f'<ul class="paths">{listed}</ul>'
        '<div class="sides">'
        f'<div><b>legacy</b> <span class="jl {status_mark}">{record.legacy_status}</span> '
        f"<small>{_e(answers.legacy_type)}</small>"
        f"{_body_html(answers.legacy_body, answers.legacy_type, answers.legacy_size, classify)}</div>"
        f'<div><b>target</b> <span class="jl {status_mark}">{_e(record.target_status)}</span> '
        f"<small>{_e(answers.target_type)}</small>"
        f"{_body_html(answers.target_body, answers.target_type, answers.target_size, classify)}</div>"
        "</div></article>"
    )


def render_viewer(
    views: list[DiffView],
    noise: dict[str, PathSet],
    ignore: dict[str, PathSet],
    route: str | None,
    path: str | None,
) -> str:
    empty = PathSet()
    legend = " ".join(f'<span class="jl {m}">{m}</span>' for m in MARKS)
    head = (
        f'<p class="legend" data-viewer-route="{_e(route or "")}">'
        f"{len(views)} recent diff(s){' of ' + _e(route) if route else ''}"
        f"{' with a path containing ' + _e(repr(path)) if path else ''}, newest first · {legend}</p>"
    )
    if not views:
        return head + "<p><small>no diff with both answers kept yet</small></p>"
    return head + "".join(
        render_view(v, noise.get(v.record.route_id, empty), ignore.get(v.record.route_id, empty))
        for v in views
    )


def build_router(cutover: Cutover, tables: TableRef, admin: Depends) -> APIRouter:
    router = APIRouter(tags=["cutover"])

    def gather(
        route: str | None, path: str | None, limit: int
    ) -> tuple[list[DiffView], dict[str, PathSet], dict[str, PathSet]]:
        views = select(cutover.diffs.views(route, limit=1000), path)[:limit]
        noise = {rid: entry.noise.paths for rid, entry in cutover.diffs.routes().items()}
        ignore = {r.id: diff_config(r).ignore for r in tables.table.routes if r.shadow is not None}
        return views, noise, ignore

    route_q = Query(None, max_length=200, description="route id (default: every shadowed route)")
    path_q = Query(None, max_length=200, description="keep diffs with a difference path containing this")
    limit_q = Query(20, ge=1, le=100)

    @router.get(f"{PREFIX}/api/diffs/view", dependencies=[admin], response_model=DiffViewsOut)
    async def diff_views(
        route: str | None = route_q, path: str | None = path_q, limit: int = limit_q
    ) -> DiffViewsOut:
        """Recent diffs with both answers (truncated), newest first: what the diff viewer shows."""
        views, noise, ignore = gather(route, path, limit)
        return DiffViewsOut(
            route=route,
            path=path,
            noise={rid: list(paths) for rid, paths in noise.items() if route in (None, rid)},
            ignore={rid: list(paths) for rid, paths in ignore.items() if route in (None, rid)},
            views=views_json(views),
        )

    @router.get(f"{PREFIX}/api/diffs/board", dependencies=[admin], response_class=SafeHTMLResponse)
    async def diff_board(
        route: str | None = route_q, path: str | None = path_q, limit: int = limit_q
    ) -> SafeHTMLResponse:
        """The diff viewer as an HTML fragment (the dashboard's)."""
        views, noise, ignore = gather(route, path, limit)
        return SafeHTMLResponse(render_viewer(views, noise, ignore, route, path))

    return router
