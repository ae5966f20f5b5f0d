"""Upstream addresses from the environment: ``GATEWAY_UPSTREAM_<NAME>_URL`` replaces ``upstreams.<name>.url``.

One routing file serves every deployment: on a laptop the upstreams are ``127.0.0.1:5000/8001``,
in docker-compose they are ``legacy:5000`` and ``services:8001``, in Kubernetes whatever the
service names are. Only the address changes between them, so only the address is overridable;
everything else (timeouts, health path, routes) stays in the one reviewed file.

``<NAME>`` is the upstream's name upper-cased with every character other than a letter or digit
turned into ``_`` (``legacy`` → ``GATEWAY_UPSTREAM_LEGACY_URL``, ``svc-v2`` →
``GATEWAY_UPSTREAM_SVC_V2_URL``). A variable that names no upstream of the table is an error, as is
an invalid URL: a typo must not silently send traffic to the file's address.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from pydantic import ValidationError

from gateway.errors import ConfigIssue
from gateway.routing_schema import RoutingTable, Upstream

PREFIX = "GATEWAY_UPSTREAM_"
SUFFIX = "_URL"
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


def env_name(upstream: str) -> str:
    """The environment variable that overrides ``upstream``'s URL."""
    return f"{PREFIX}{_NOT_ALNUM.sub('_', upstream).upper()}{SUFFIX}"


def url_overrides(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every ``GATEWAY_UPSTREAM_*_URL`` variable set (non-empty), by variable name."""
    environ = os.environ if environ is None else environ
    return {
        key: value
        for key, value in environ.items()
        if key.startswith(PREFIX) and key.endswith(SUFFIX) and len(key) > len(PREFIX) + len(SUFFIX) and value
    }


def apply_url_overrides(
    table: RoutingTable, overrides: Mapping[str, str], *, source: str
) -> tuple[RoutingTable, list[ConfigIssue]]:
    """``table`` with the overridden upstream URLs, and the problems found (unknown names, bad URLs)."""
    if not overrides:
        return table, []
    by_variable = {env_name(name): name for name in table.upstreams}
    issues: list[ConfigIssue] = []
    upstreams = dict(table.upstreams)
    for variable, url in sorted(overrides.items()):
        name = by_variable.get(variable)
        if name is None:
            known = ", ".join(sorted(by_variable)) or "none"
            issues.append(
                ConfigIssue(
                    source, None, None, f"{variable} names no upstream of this table (known: {known})"
                )
            )
            continue
        try:
            upstreams[name] = Upstream.model_validate({**upstreams[name].model_dump(), "url": url})
        except ValidationError as exc:
            message = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
            issues.append(ConfigIssue(source, None, None, f"{variable}: {message}"))
    return table.model_copy(update={"upstreams": upstreams}), issues
