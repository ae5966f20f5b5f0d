"""Target answers' headers in the order legacy's answers carry them.

Header order is visible to any client (``curl -i``) and told the sides apart: gunicorn (and
werkzeug's server) write ``Server`` and ``Date`` first, then Flask's ``Content-Type`` and
``Content-Length``, then the rest; uvicorn and Starlette write ``Date``, ``Content-Length``,
``Content-Type``, the rest, and the gateway appended the learned ``Server`` last. A target answer
is put in legacy's order (a stable sort: the rest keep their own order, Set-Cookie and Vary
included, which the services already emit as Flask does).
"""

from __future__ import annotations

_FIRST = {b"server": 0, b"date": 1, b"content-type": 2, b"content-length": 3}
_REST = len(_FIRST)


def _rank(header: tuple[bytes, bytes]) -> int:
    return _FIRST.get(header[0], _REST)


def legacy_order(headers: list[tuple[bytes, bytes]]) -> None:
    """Reorder a (lower-cased) header list in place."""
    headers.sort(key=_rank)
