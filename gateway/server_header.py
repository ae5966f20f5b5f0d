"""One ``Server`` header whichever side answered.

Legacy answers ``Server: gunicorn`` (or werkzeug's), the services ``Server: uvicorn``: passed
through, the header alone would tell a client which side served it. By default the gateway learns
the value from legacy's answers and writes it on the target's (none until legacy has answered
once); a configured value replaces the header on every answer, an empty one removes it.
"""

from __future__ import annotations

SERVER = b"server"


class ServerHeader:
    """Rewrites the ``server`` pair of an answer's (lower-cased) header list, in place."""

    __slots__ = ("_fixed", "_learned")

    def __init__(self, setting: str | None) -> None:
        self._fixed = None if setting is None else setting.encode("ascii")
        self._learned: bytes | None = None

    @property
    def value(self) -> bytes | None:
        """What target answers carry now (the configured value, or legacy's as last seen)."""
        return self._fixed if self._fixed is not None else self._learned

    def apply(self, headers: list[tuple[bytes, bytes]], *, from_legacy: bool) -> None:
        index = next((i for i, (name, _) in enumerate(headers) if name == SERVER), -1)
        if self._fixed is None and from_legacy:
            if index >= 0:
                self._learned = headers[index][1]
            return
        if index >= 0:
            del headers[index]
        value = self.value
        if value:
            headers.append((SERVER, value))
