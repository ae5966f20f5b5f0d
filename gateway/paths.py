"""Safe request-path normalisation: the path that is matched is the path that is forwarded.

Rejected (400): encoded ``/`` or ``\\`` (``%2F``, ``%5C``), encoded NUL, a raw backslash, a path that
does not start with ``/``, and ``..`` climbing above the root. Normalised: ``.`` and ``..`` segments
(also spelled ``%2e``) are resolved per RFC 3986 5.2.4 and empty segments (``//``) are collapsed.
Every other byte, percent-encodings included, is forwarded exactly as the client sent it.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_NEEDS_WORK = re.compile(rb"%|//|/\.|\\")
_FORBIDDEN = re.compile(rb"%(?:2[fF]|5[cC]|00)|\\")
_DOTS = re.compile(rb"^(?:\.|%2[eE])+$")


class UnsafePath(ValueError):
    """The request path cannot be forwarded safely."""


def split_path(raw_path: bytes, decoded: str) -> tuple[bytes, list[str]]:
    """Return the path to forward and its decoded segments (after the leading ``/``).

    ``decoded`` is the ASGI ``path`` (the server's decoding of ``raw_path``), used as-is on the fast path.
    """
    if not raw_path.startswith(b"/"):
        raise UnsafePath("the request path must start with /")
    if _NEEDS_WORK.search(raw_path) is None:
        return raw_path, decoded[1:].split("/")
    if _FORBIDDEN.search(raw_path):
        raise UnsafePath("encoded slashes, backslashes and NUL are not allowed in the path")
    pieces = raw_path[1:].split(b"/")
    kept: list[bytes] = []
    last = len(pieces) - 1
    for index, piece in enumerate(pieces):
        if _DOTS.match(piece):
            dots = piece.replace(b"%2e", b".").replace(b"%2E", b".")
            if dots == b".":
                if index == last:
                    kept.append(b"")
                continue
            if dots == b"..":
                if not kept:
                    raise UnsafePath("the path climbs above the root")
                kept.pop()
                if index == last:
                    kept.append(b"")
                continue
            # "..." and longer are ordinary names
        if piece == b"" and index != last:
            continue
        kept.append(piece)
    if not kept:
        kept.append(b"")
    forward = b"/" + b"/".join(kept)
    parts = [unquote(piece.decode("latin-1"), errors="surrogateescape") for piece in kept]
    return forward, parts
