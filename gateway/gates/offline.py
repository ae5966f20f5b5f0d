"""The holds as a process without traffic sees them (``explain``, ``plan``): read from the shared store.

The store is the one the gateway uses (``REDIS_URL``, else the state directory), so the CLI's
answer is the running gateways' answer; when the store cannot be read it says so and answers as if
no evidence had been gathered yet.
"""

from __future__ import annotations

import asyncio
import sys

from gateway.compiler import CompiledTable
from gateway.gates.holds import Holds
from gateway.gates.keeper import Gatekeeper, build_evidence_store
from gateway.settings import GatewaySettings


def offline_holds(table: CompiledTable, settings: GatewaySettings | None = None) -> Holds:
    settings = settings or GatewaySettings()
    redis_url = settings.redis_url.get_secret_value() if settings.redis_url is not None else None
    store = build_evidence_store(
        redis_url=redis_url, state_dir=settings.state_dir, prefix=settings.state_prefix
    )
    keeper = Gatekeeper(store, clock=table.board.now)

    async def read() -> None:
        keeper.adopt(table)
        try:
            await keeper.sync()
        finally:
            await store.aclose()

    try:
        asyncio.run(read())
    except Exception as exc:  # explain and plan still answer, and say so
        print(f"gates: evidence unavailable ({exc}); judging as if none was gathered", file=sys.stderr)
    return keeper.holds
