"""``POST /_gateway/api/history/{number}/revert``: ``python -m gateway revert N`` over the admin API.

The gateway checks revision N (the same validation as ``check``), records who and why, writes it
over its routing file atomically and reloads it at once (the other workers and replicas on the same
file follow through their watchers). For a table the gateway may write (a plain file: ``make run``,
a VM); a read-only mount (docker-compose, a ConfigMap) answers 409 and the table is changed where
it comes from (operator guide, section 6a).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Body, HTTPException, Path
from fastapi.params import Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from gateway.admin.access import PREFIX
from gateway.admin.contract import SafeJSONResponse, error_body, error_response
from gateway.errors import ConfigError
from gateway.reload import Reloader
from gateway.revert import HistoryError, revert
from gateway.revisions import RevisionStore


class RevertRequest(BaseModel):
    """Who reverts and why (kept with the revision), and optionally the table they expect to replace."""

    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")
    reason: str = Field("", max_length=500, pattern=r"^[^\x00-\x1f\x7f]*$")
    expect_current: str | None = Field(
        None, pattern=r"^[0-9a-fA-F]{8,64}$", description="the sha256 (or prefix) the table must have now"
    )


def build_router(store: RevisionStore | None, reloader: Reloader, admin: Depends) -> APIRouter:
    router = APIRouter(tags=["history"])

    @router.post(
        f"{PREFIX}/api/history/{{number}}/revert",
        dependencies=[admin],
        operation_id="revert_table",
        responses={
            404: error_response("No such revision (never recorded, or no longer kept)."),
            409: error_response(
                "Nothing written: no revisions are kept here, the table changed since (expect_current), "
                "or the routing file is not writable by the gateway."
            ),
            422: error_response("The revision fails check (each issue in details) or the body is invalid."),
        },
    )
    async def revert_table(
        number: int = Path(ge=1, le=2**53), body: RevertRequest = Body(...)
    ) -> JSONResponse:
        """Write revision ``number`` back over the routing table after ``check``, and reload it."""
        if store is None:
            raise HTTPException(409, "no revisions are kept: set GATEWAY_STATE_DIR or REDIS_URL")
        try:
            revision, recorded, changes = await asyncio.to_thread(
                revert,
                store,
                number,
                reloader.path,
                by=body.by,
                reason=body.reason,
                expect_current=body.expect_current,
            )
        except ConfigError as exc:
            details = [{"loc": [], "type": "check", "message": str(issue)} for issue in exc.issues]
            message = f"revision #{number} fails check: nothing written"
            return SafeJSONResponse(error_body(422, message, details), status_code=422)
        except HistoryError as exc:
            raise HTTPException(404 if exc.missing else 409, str(exc)) from None
        result = await reloader.reload("api") if recorded is not None else None
        content: dict[str, Any] = {
            "reverted_to": revision.number,
            "recorded": recorded.number if recorded is not None else None,
            "sha256": revision.sha256,
            "changes": None if changes is None else [c.as_json() for c in changes],
            "reload": result.as_dict() if result is not None else None,
        }
        return SafeJSONResponse(content)

    return router
