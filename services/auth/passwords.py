"""Password hashes in werkzeug's format, so legacy and services verify each other's.

werkzeug is a dependency of the services for this reason alone: while the legacy app lives,
a hash the services write (a password change, a new user) must pass legacy's
`check_password_hash`, and every hash legacy wrote must pass ours. Hashing is CPU-bound
(pbkdf2), so it runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from werkzeug.security import check_password_hash, generate_password_hash

# The method legacy uses (legacy_flask/auth/service.py); werkzeug encodes it in the hash.
HASH_METHOD = "pbkdf2:sha256:100000"
# Compared against when the user does not exist, so both paths cost one pbkdf2 run.
_DUMMY_HASH = generate_password_hash("figway-no-such-user", method=HASH_METHOD)


async def hash_password(password: str) -> str:
    return await run_in_threadpool(generate_password_hash, password, HASH_METHOD)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; a missing or malformed hash is a mismatch, never an error."""
    try:
        ok = await run_in_threadpool(check_password_hash, password_hash or _DUMMY_HASH, password)
    except (ValueError, TypeError):
        return False
    return bool(ok) and password_hash is not None
