"""Which paths outside `/api/` keep legacy's contract (shared by errors and authentication)."""

from __future__ import annotations

# The legacy endpoints under /auth (the rest of /auth is new: structured errors).
LEGACY_AUTH_PATHS = frozenset({"/auth/login", "/auth/logout", "/auth/check", "/auth/session"})
