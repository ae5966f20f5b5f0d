"""The transport protocol: what the proxy sends upstream and what it gets back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

#: RFC 9110 9.2.2: a client may resend these automatically; a proxy must never resend the others
#: once they may have left, because the upstream may already have acted on them.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})


@dataclass(slots=True)
class UpstreamRequest:
    """One request as it goes to an upstream (headers already rewritten for it)."""

    method: str
    #: The request target: the normalised path plus ``?query`` when there is one.
    target: bytes
    headers: list[tuple[bytes, bytes]]
    body: AsyncIterator[bytes] | None = None
    chunked: bool = False

    @property
    def idempotent(self) -> bool:
        return self.method in IDEMPOTENT_METHODS


class UpstreamResponse(Protocol):
    """An upstream's answer once its headers are in; the body is read as it arrives."""

    @property
    def status(self) -> int: ...

    @property
    def raw_headers(self) -> Sequence[tuple[bytes, bytes]]:
        """Header pairs as the upstream sent them (names in their own case)."""
        ...

    @property
    def content_length(self) -> int | None: ...

    async def read(self) -> bytes: ...

    async def readany(self) -> bytes:
        """The next chunk of the body as soon as there is one; ``b""`` at its end."""
        ...

    def release(self) -> None: ...


class Transport(Protocol):
    async def send(self, request: UpstreamRequest) -> UpstreamResponse: ...
