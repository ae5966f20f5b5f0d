"""What the four provider clients share: configuration lookup, errors and name matching."""

from __future__ import annotations

import os
import re
from difflib import SequenceMatcher
from typing import Any

from flask import current_app

from legacy_flask.settings_service import SettingsService


class ProviderError(Exception):
    """A provider call failed (network, HTTP status, bad credentials, malformed answer)."""

    def __init__(self, provider: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.status = status


class ProviderNotConfigured(ProviderError):
    """The provider has no credentials; enrichment skips it instead of failing."""


def config_value(key: str, default: str = "") -> str:
    """`app.config[key]` inside a request, else the environment (scripts, shells)."""
    try:
        value = current_app.config.get(key)
    except RuntimeError:  # outside an app context
        value = None
    if value is None:
        value = os.environ.get(key, default)
    return str(value)


def config_float(key: str, default: float) -> float:
    try:
        return float(config_value(key, str(default)))
    except ValueError:
        return default


def credential(setting: str, env_key: str) -> str:
    """A key from the settings table when set there, otherwise from the environment."""
    try:
        value = SettingsService.get(setting)
    except RuntimeError:  # SettingsService not configured (no app)
        value = None
    return str(value).strip() if value and str(value).strip() else config_value(env_key).strip()


def normalize_name(name: str) -> str:
    name = name.lower().strip()
    name = re.sub(r"^the\s+", "", name)
    name = name.replace("&", "and")
    return re.sub(r"[^\w\s]", "", name).strip()


def name_similarity(a: str, b: str) -> float:
    """MVidarr's `_calculate_name_similarity`: 1.0 for equal normalized names, else a ratio."""
    left, right = normalize_name(a), normalize_name(b)
    if not left or not right:
        return 0.0
    if left == right:
        return 1.0
    return SequenceMatcher(None, left, right).ratio()


def best_match(
    name: str, candidates: list[dict[str, Any]], key: str, threshold: float
) -> dict[str, Any] | None:
    scored = [(name_similarity(name, str(c.get(key) or "")), i, c) for i, c in enumerate(candidates)]
    scored = [s for s in scored if s[0] >= threshold]
    if not scored:
        return None
    scored.sort(key=lambda s: (-s[0], s[1]))
    return scored[0][2]


def json_body(provider: str, response: Any) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise ProviderError(provider, f"{provider} answered non-JSON (HTTP {response.status_code})") from exc
