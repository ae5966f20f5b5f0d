"""The enrichment answer (legacy's `EnrichmentResult`) and each provider lookup's outcome."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from dataclasses import asdict, dataclass, field
from typing import Any, Generic, TypeVar

import structlog

from services.providers import ProviderError, ProviderNotConfigured

log = structlog.get_logger("services.enrichment")

T = TypeVar("T")

SOURCE_WEIGHTS = {"musicbrainz": 0.95, "spotify": 0.9, "imvdb": 0.85, "lastfm": 0.8, "wikipedia": 0.7}
MIN_CONFIDENCE = 0.7


@dataclass
class EnrichmentResult:
    success: bool
    artist_id: int
    sources_used: list[str] = field(default_factory=list)
    enriched_fields: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    confidence_score: float = 0.0
    processing_time: float = 0.0
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: bool = False
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if data["message"] is None:
            del data["message"]
        return data

    def add(self, provider: str, outcome: Outcome[Any]) -> None:
        """Record one provider's outcome, in the order legacy asks them."""
        self.providers[provider] = outcome.summary
        if outcome.error is not None:
            self.errors.append(f"{provider}: {outcome.error}")
        if outcome.data:
            self.sources_used.append(provider)

    def score(self) -> float:
        weights = [SOURCE_WEIGHTS[s] for s in self.sources_used]
        return round(sum(weights) / len(weights), 3) if weights else 0.0


@dataclass
class Outcome(Generic[T]):
    data: T | None
    summary: dict[str, Any]
    error: str | None = None


async def lookup(provider: str, call: Awaitable[T | None]) -> Outcome[T]:
    """Await one provider lookup; a failure degrades this provider's part, never the others'."""
    started = time.monotonic()
    error: str | None = None
    data: T | None = None
    try:
        data = await call
    except ProviderNotConfigured as exc:
        summary: dict[str, Any] = {"status": "not_configured", "message": str(exc)}
    except ProviderError as exc:
        summary = {"status": "error", "message": str(exc)}
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - as legacy: any fault of one source is noted, not raised
        log.exception("enrichment.provider_crashed", provider=provider)
        summary = {"status": "error", "message": str(exc)}
        error = str(exc)
    else:
        summary = {"status": "found" if data else "not_found"}
    summary["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
    return Outcome(data, summary, error)


async def disabled() -> None:
    return None
