"""A controllable upstream for fault scenarios: ``python -m bench.reliability.upstream --port N``.

``GET|POST /work/...`` answers JSON after the current delay with the current status;
``POST /_control`` sets ``{"delay": seconds, "status": code, "hang": bool}``; ``/healthz`` is 200.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

STATE: dict[str, Any] = {"delay": 0.0, "status": 200, "hang": False, "requests": 0}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    path = scope["path"]
    status = 200
    if path == "/_control":
        STATE.update(json.loads(body or b"{}"))
        payload: dict[str, Any] = dict(STATE)
    elif path == "/healthz":
        payload = {"ok": True}
    else:
        STATE["requests"] += 1
        if STATE["hang"]:
            await asyncio.sleep(3600)
        if STATE["delay"]:
            await asyncio.sleep(float(STATE["delay"]))
        status = int(STATE["status"])
        payload = {"items": [{"id": 1, "title": "Take On Me"}], "count": 1, "path": path}
    data = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
