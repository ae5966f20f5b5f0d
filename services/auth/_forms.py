"""Form bodies as Flask's `request.form` reads them, without python-multipart.

Legacy's login accepts `application/x-www-form-urlencoded` and `multipart/form-data`; file
parts are not form fields (Flask puts them in `request.files`). The first value of a
repeated field wins, as `MultiDict.get` gives it.
"""

from __future__ import annotations

import email.policy
import urllib.parse
from email.parser import BytesParser

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def _first(pairs: list[tuple[str, str]]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


def _multipart(content_type: str, raw: bytes) -> dict[str, str]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        return {}
    pairs: list[tuple[str, str]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or part.get_filename() is not None:
            continue
        payload = part.get_payload(decode=True)
        pairs.append((name, payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""))
    return _first(pairs)


def parse_form(content_type: str, raw: bytes) -> dict[str, str]:
    """The form fields of a body, or `{}` for any other (or broken) content."""
    mimetype = content_type.split(";", 1)[0].strip().lower()
    if mimetype == URLENCODED:
        return _first(urllib.parse.parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    if mimetype == MULTIPART:
        try:
            return _multipart(content_type, raw)
        except (ValueError, TypeError, LookupError):
            return {}
    return {}
