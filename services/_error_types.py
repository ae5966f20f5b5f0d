"""The error types the services raise (rendered by services/errors.py).

They live below services/errors.py so that the modules its handlers reach (the login guard,
the current-user dependency) can raise them without importing the handlers back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ServiceError(Exception):
    """An error of a new endpoint: `{"error": {"code", "message", "request_id"}}`."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code


class BadRequest(ServiceError):
    status_code = 400
    code = "bad_request"


class Unauthorized(ServiceError):
    status_code = 401
    code = "unauthorized"


class Forbidden(ServiceError):
    status_code = 403
    code = "forbidden"


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"


class Conflict(ServiceError):
    status_code = 409
    code = "conflict"


class LegacyError(Exception):
    """An error of a migrated endpoint, rendered byte for byte as legacy renders it."""

    def __init__(self, status_code: int, body: Mapping[str, Any]) -> None:
        super().__init__(status_code, body)
        self.status_code = status_code
        self.body = dict(body)


def legacy_error(status_code: int, message: str, **extra: Any) -> LegacyError:
    """`raise legacy_error(404, "Video not found")` -> 404 `{"error": "Video not found"}`."""
    return LegacyError(status_code, {"error": message, **extra})
