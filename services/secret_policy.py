"""What counts as a real secret in production mode (`FIGWAY_ENV=production`).

A secret is refused when it is a known development default, looks like a placeholder
(`change-me...`, the `.env.example` values), or is too short to hold 32 random bytes'
worth of entropy in any usual text encoding (fewer than 32 characters, or fewer than 12
distinct characters: `aaaa...` or a repeated word). The gateway and the legacy launcher
apply the same rule with their own copy (the three programs never import each other).
"""

from __future__ import annotations

MIN_LENGTH = 32
MIN_DISTINCT = 12
PLACEHOLDER_MARKERS = ("change-me", "changeme", "change_me", "placeholder", "example", "your-secret", "xxxx")
GENERATE_HINT = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"


def weakness(value: str | None, *, known_defaults: tuple[str, ...] = ()) -> str | None:
    """Why `value` is not acceptable as a production secret, or None when it is."""
    if not value:
        return "is not set"
    if value in known_defaults:
        return "is the development default from the source code"
    lowered = value.lower()
    if any(marker in lowered for marker in PLACEHOLDER_MARKERS):
        return "is a placeholder"
    if len(value) < MIN_LENGTH:
        return f"is shorter than {MIN_LENGTH} characters"
    if len(set(value)) < MIN_DISTINCT:
        return "has too few distinct characters to be random"
    return None
