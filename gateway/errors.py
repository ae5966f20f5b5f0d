"""Gateway exceptions.

    GatewayError
    ├── ConfigError            the routing table is invalid (carries every ConfigIssue)
    └── UpstreamError          forwarding failed; ``status`` is what the client gets
        ├── UpstreamConnectError   502: the upstream could not be reached
        ├── UpstreamTimeout        504: the upstream did not answer in time
        └── UpstreamProtocolError  502: the upstream answered something unusable

aiohttp's exceptions are translated into these at the boundary (``gateway._forward``) and never leak.
"""

from __future__ import annotations

from dataclasses import dataclass


class GatewayError(Exception):
    """Base class of everything the gateway raises on purpose."""


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in a routing table, located as precisely as the source allows."""

    file: str
    line: int | None
    route: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        route = f" [route {self.route}]" if self.route else ""
        return f"{where}{route}: {self.message}"


class ConfigError(GatewayError):
    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


class UpstreamError(GatewayError):
    status = 502
    code = "bad_gateway"
    #: False when the request certainly never reached the upstream (safe to retry elsewhere, any method).
    reached = True


class UpstreamConnectError(UpstreamError):
    status = 502
    code = "upstream_unreachable"


class UpstreamTimeout(UpstreamError):
    status = 504
    code = "upstream_timeout"


class UpstreamProtocolError(UpstreamError):
    status = 502
    code = "bad_gateway"
