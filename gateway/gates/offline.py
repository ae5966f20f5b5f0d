"""The holds as a process without traffic sees them (``explain``, ``plan``): read from the shared store.

The store is the one the gateway uses (``REDIS_URL``, else the state directory), so the CLI's
answer is the running gateways' answer; when the store cannot be read it says so and answers as if
no evidence had been gathered yet.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from gateway.compiler import CompiledTable
from gateway.gates.evidence import judge
from gateway.gates.holds import Holds
from gateway.gates.keeper import Gatekeeper, build_evidence_store
from gateway.settings import GatewaySettings


def offline_holds(
    table: CompiledTable, settings: GatewaySettings | None = None, *, state_dir: Path | None = None
) -> Holds:
    settings = settings or GatewaySettings()
    redis_url = settings.redis_url.get_secret_value() if settings.redis_url is not None else None
    store = build_evidence_store(
        redis_url=redis_url, state_dir=state_dir or settings.state_dir, prefix=settings.state_prefix
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


def flip_notes(table: CompiledTable, holds: Holds, now: float) -> dict[tuple[str, float], str]:
    """``plan``'s note on every gated flip: opened, held now (and what is missing), on track, or
    what would hold it if its date were now."""
    notes: dict[tuple[str, float], str] = {}
    for route in table.routes:
        recorded = holds.recorded.get(route.id)
        counts = recorded.counts if recorded is not None else {}
        opened = recorded.opened if recorded is not None else {}
        blocked = False
        for gate in route.gates:
            found = opened.get(gate.label)
            verdict = judge(gate, counts)
            if found is not None:
                who = "on evidence" if found.by == "evidence" else f"released by {found.by}"
                note = f"gate open ({who})"
            elif blocked:
                note = "waits for the flip before it"
            elif gate.start <= now:
                note = f"HELD: missing {verdict.missing}" if not verdict.met else "evidence in: opens now"
            else:
                missing = f"would be held now: missing {verdict.missing}"
                note = "on track: evidence in" if verdict.met else missing
            blocked = blocked or (found is None and not verdict.met)
            notes[(route.id, gate.start)] = note
    return notes
