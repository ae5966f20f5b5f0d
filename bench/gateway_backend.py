"""The benchmark's backend: one small JSON endpoint as a bare ASGI app (no framework cost)."""

from __future__ import annotations

import json
from typing import Any

BODY = json.dumps(
    {
        "id": 42,
        "title": "Take On Me",
        "artist": "a-ha",
        "year": 1985,
        "status": "downloaded",
        "quality": "1080p",
        "tags": ["synth-pop", "new wave"],
        "path": "/music/videos/a-ha/take-on-me.mp4",
        "duration": 225,
        "views": 123456,
    }
).encode()
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
