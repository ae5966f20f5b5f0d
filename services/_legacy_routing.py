"""Werkzeug's routing, as legacy clients see it: `<int:...>`, slash redirects, Allow, OPTIONS, error pages.

Werkzeug's IntegerConverter matches `\\d+`, which in Python means any Unicode decimal digit,
and converts with `int()`: `/api/videos/\u0661\u0662` (Arabic-Indic "12") is video 12 on
legacy. Starlette's built-in `int` convertor matches ASCII `[0-9]+` only, so the same path
would be a 404 on services. Routes compile their path regex when they are declared, so this
replacement is installed when the `services` package is imported (services/__init__.py),
before any router module.
"""

from __future__ import annotations

import re

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from werkzeug.exceptions import MethodNotAllowed, NotFound


class WerkzeugIntConvertor(Convertor[int]):
    regex = r"\d+"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        value = int(value)
        if value < 0:
            raise ValueError("Negative integers are not supported")
        return str(value)


def install() -> None:
    register_url_convertor("int", WerkzeugIntConvertor())


# -- routing misses, as werkzeug and legacy's error handler answer them -------------------------

_ROUTABLE = ("GET", "POST", "PUT", "PATCH", "DELETE")
HTML = "text/html; charset=utf-8"


def _matches(request: Request, path: str, method: str) -> bool:
    scope = {**request.scope, "path": path, "raw_path": path.encode(), "method": method}
    return any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes)


def allowed_methods(request: Request, path: str | None = None) -> list[str]:
    """The methods werkzeug lists in `Allow` for this path: the rules' methods, HEAD with GET, OPTIONS.

    Werkzeug matches with repeated slashes merged (`merge_slashes`), so the rules of the merged
    path are the ones that count. Its order comes from a set (it changes with the hash seed);
    this one is sorted.
    """
    path = path or _merged(request.url.path)
    methods = {m for m in _ROUTABLE if _matches(request, path, m)}
    if "GET" in methods:
        methods.add("HEAD")
    if methods:
        methods.add("OPTIONS")
    return sorted(methods)


def _merged(path: str) -> str:
    return re.sub("/{2,}", "/", path)


def not_allowed_once_merged(request: Request) -> bool:
    """A 404 werkzeug answers 405: a rule takes the path once its repeated slashes are merged
    (`/api/videos/1//status`), just not with this method (and no redirect serves it first)."""
    path = request.url.path
    merged = _merged(path)
    return merged != path and redirect_target(request) is None and bool(allowed_methods(request, merged))


def redirect_target(request: Request) -> str | None:
    """Werkzeug's 308 target: repeated slashes merged and/or the rule's trailing slash added."""
    path = request.url.path
    merged = _merged(path)
    # Werkzeug adds HEAD to GET rules and OPTIONS to every rule.
    methods = {"HEAD": ("GET",), "OPTIONS": _ROUTABLE}.get(request.method, (request.method,))
    candidates = [merged] if merged != path else []
    if not merged.endswith("/"):
        candidates.append(merged + "/")
    for candidate in candidates:
        if any(_matches(request, candidate, method) for method in methods):
            return candidate
    return None


def options_answer(methods: list[str]) -> Response:
    """Flask's automatic OPTIONS answer: 200, empty, `Allow`."""
    return Response(b"", status_code=200, media_type=HTML, headers={"Allow": ", ".join(methods)})


def werkzeug_error_page(status_code: int, methods: list[str] | None = None) -> Response:
    """Werkzeug's own HTML page for a routing miss outside `/api` (legacy re-raises those)."""
    exc = MethodNotAllowed(valid_methods=methods) if status_code == 405 else NotFound()
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return Response(exc.get_body(), status_code=status_code, media_type=HTML, headers=headers)
