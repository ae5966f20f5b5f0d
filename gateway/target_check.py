"""Does each route's target serve what the route will send it? Checked against the target's OpenAPI.

A route that moves ``POST /admin/{rest:path}`` to the services sends them every legacy endpoint it
matches; if the services lack one, clients get 404 from the week the route flips. This check asks
each upstream that publishes its OpenAPI document (``openapi: /openapi.json`` in routing.yaml) for it,
and reports every (method, path) the route will send that no operation of the document serves:

- every legacy endpoint (the legacy app's ``url_map``, :mod:`gateway.inventory`) the route matches;
- the route's own template, when it names concrete paths (no ``{rest:path}``) and its methods.

Only routes that do send to their target at some phase are checked, and each issue says from when.
Used by ``python -m gateway check --upstreams`` and, as warnings, by every reload.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from gateway.compiler import CompiledRoute, CompiledTable
from gateway.errors import ConfigIssue
from gateway.inventory import Endpoint
from gateway.paths import UnsafePath, split_path

#: Methods a target is not asked to document (HEAD follows GET; OPTIONS is answered by frameworks).
UNDOCUMENTED = frozenset({"HEAD", "OPTIONS"})
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?\}")
FETCH_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Operations:
    """What one OpenAPI document serves: (method, path regex) pairs."""

    upstream: str
    served: tuple[tuple[str, re.Pattern[str]], ...]

    @classmethod
    def from_document(cls, upstream: str, document: Mapping[str, Any]) -> Operations:
        served = []
        paths = document.get("paths")
        for path, item in (paths if isinstance(paths, Mapping) else {}).items():
            if not isinstance(item, Mapping):
                continue
            pattern = re.compile(
                "^" + _PARAM.sub("[^/]+", re.escape(path).replace(r"\{", "{").replace(r"\}", "}")) + "$"
            )
            for method in item:
                if method.upper() in ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE"):
                    served.append((method.upper(), pattern))
        return cls(upstream, tuple(served))

    def serves(self, method: str, path: str) -> bool:
        return any(m == method and pattern.match(path) for m, pattern in self.served)


def _static_path(template: str) -> str | None:
    """The one path a parameter-free template names. A template with parameters stands for values
    the target need not all serve (legacy answers 404 to most of them too): its real paths come
    from the legacy endpoints it matches."""
    return None if _PARAM.search(template) else template


def _flips_at(route: CompiledRoute) -> float | None:
    """When the route first sends requests to its target (``None``: never)."""
    for phase in route.schedule:
        if phase.mode != "legacy":
            return phase.start
    return None


def _when(instant: float) -> str:
    if instant <= 0:
        return "now"
    return "from " + datetime.fromtimestamp(instant, UTC).strftime("%G-W%V")


def sent_requests(
    table: CompiledTable, route: CompiledRoute, endpoints: Sequence[Endpoint]
) -> list[tuple[str, str, str]]:
    """(method, sample path, what it stands for) that ``route`` sends to its target."""
    out: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for endpoint in endpoints:
        if endpoint.method in UNDOCUMENTED:
            continue
        try:
            _, parts = split_path(endpoint.sample_path.encode("latin-1"), endpoint.sample_path)
        except (UnsafePath, UnicodeEncodeError):
            continue
        if (
            table.match(endpoint.method, parts) is route
            and (endpoint.method, endpoint.sample_path) not in seen
        ):
            seen.add((endpoint.method, endpoint.sample_path))
            out.append(
                (endpoint.method, endpoint.sample_path, f"legacy endpoint {endpoint.method} {endpoint.rule}")
            )
    sample = _static_path(route.template.source)
    if sample is not None and route.methods is not None:
        for method in sorted(route.methods - UNDOCUMENTED):
            if (method, sample) not in seen:
                seen.add((method, sample))
                out.append((method, sample, f"route path {route.template.source}"))
    return out


def check_targets(
    table: CompiledTable,
    documents: Mapping[str, Operations],
    endpoints: Sequence[Endpoint] = (),
) -> list[ConfigIssue]:
    """One issue per request a route will send to a target whose document does not serve it."""
    issues: list[ConfigIssue] = []
    for route in table.routes:
        operations = documents.get(route.target)
        flips = _flips_at(route)
        if operations is None or flips is None:
            continue
        for method, path, origin in sent_requests(table, route, endpoints):
            if not operations.serves(method, path):
                issues.append(
                    ConfigIssue(
                        table.source,
                        route.line,
                        route.id,
                        f"target {route.target!r} serves no {method} {path} ({origin}), which this route "
                        f"sends it {_when(flips)}: its OpenAPI document has no such operation",
                    )
                )
    return issues


def fetch_documents(
    table: CompiledTable, *, client: httpx.Client | None = None, only: Iterable[str] | None = None
) -> tuple[dict[str, Operations], list[ConfigIssue]]:
    """Read the OpenAPI document of every upstream that declares one (blocking: off the event loop)."""
    documents: dict[str, Operations] = {}
    issues: list[ConfigIssue] = []
    wanted = set(only) if only is not None else None
    own = client is None
    http = client or httpx.Client(timeout=FETCH_TIMEOUT, follow_redirects=False)
    try:
        for name, upstream in table.upstreams.items():
            if upstream.openapi is None or (wanted is not None and name not in wanted):
                continue
            url = upstream.url + upstream.openapi
            try:
                response = http.get(url)
                response.raise_for_status()
                documents[name] = Operations.from_document(name, response.json())
            except (httpx.HTTPError, ValueError) as exc:
                issues.append(
                    ConfigIssue(
                        table.source,
                        None,
                        None,
                        f"cannot read the OpenAPI document of {name!r} at {url}: {exc}",
                    )
                )
    finally:
        if own:
            http.close()
    return documents, issues
