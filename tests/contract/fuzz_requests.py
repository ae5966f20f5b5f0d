"""Hypothesis strategies for the differential fuzzer: unusual but legal requests for every endpoint.

The endpoints are those both sides serve: every rule of legacy's url_map whose path and method
services' `/openapi.json` also lists. For each, a request draws: path parameters (valid ids,
zero, negative, huge, Unicode digits, words), query pairs (names legacy reads, repeated, empty,
odd values), a JSON body (fields legacy reads with odd types, unread fields, non-objects,
wrong content types), a role (anonymous or a seeded user's session cookie), duplicated or
junk session cookies and stray credentials.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hypothesis import assume
from hypothesis import strategies as st

from tests.contract.differential import Probe

# Legacy handlers that must not run under the fuzzer: they end the seeded logins on both sides
# (logout) or call the network (enrichment), which would only test the fake providers' clock.
SKIPPED = {
    ("POST", "/api/metadata-enrichment/enrich/<int:artist_id>"),
    ("POST", "/api/videos/<int:video_id>/refresh-metadata"),
}
ROLES = ("anonymous", "admin", "manager", "user", "readonly")
QUERY_NAMES = (
    "limit", "offset", "page", "per_page", "sort", "order", "sort_by", "sort_order", "q", "search",
    "keywords", "artist", "artist_name", "status", "year", "year_from", "year_to", "genre", "quality",
    "source", "has_thumbnail", "has_imvdb_id", "duration_min", "duration_max", "date_from", "date_to",
    "min_videos", "max_videos", "include_entries", "force", "delete_files", "lines", "monitored",
)  # fmt: skip
BODY_FIELDS = (
    "title", "artist_id", "artist_name", "year", "duration", "status", "quality", "source", "genres",
    "youtube_url", "youtube_id", "video_url", "thumbnail_url", "imvdb_id", "name", "description",
    "is_public", "is_featured", "monitored", "auto_download", "folder_path", "keywords", "settings",
    "value", "video_ids", "entry_orders", "add_to_blacklist", "musicbrainz_id", "role", "username",
    "password", "unread_field",
)  # fmt: skip
# Not `require_authentication`: legacy caches settings per process for ever, so the guard is
# tested by its own contract cases, not toggled under the fuzzer's feet.
SETTING_KEYS = ("theme", "auto_download", "new_key", "spotify_client_id", "bulk", "x" * 300)
STATUSES = ("WANTED", "DOWNLOADED", "DOWNLOADING", "FAILED", "IGNORED", "MONITORED", "downloaded", "bogus")
UNICODE = ("é", "Bjørk", "日本語", "\u0663", "\U0001f3b5", "a\u0301", "\u202e", "null", "0x10", " ")


@dataclass(frozen=True)
class Endpoint:
    method: str
    rule: str  # legacy's werkzeug rule

    @property
    def params(self) -> list[tuple[str, str]]:
        return re.findall(r"<(?:(\w+):)?(\w+)>", self.rule)


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def shared_endpoints(
    legacy_rules: Iterable[tuple[str, Iterable[str]]], openapi: Mapping[str, Any]
) -> list[Endpoint]:
    """(rule, methods) from legacy's url_map, kept when services' OpenAPI lists the same path and method."""
    paths = openapi.get("paths", {})
    found = set()
    for rule, methods in legacy_rules:
        served = {m.upper() for m in paths.get(_openapi_path(rule), {})}
        for method in methods:
            if method in served and (method, rule) not in SKIPPED:
                found.add(Endpoint(method, rule))
    return sorted(found, key=lambda e: (e.rule, e.method))


def legacy_rules(app: Any) -> list[tuple[str, list[str]]]:
    return [(r.rule, sorted(r.methods - {"HEAD", "OPTIONS"})) for r in app.url_map.iter_rules()]


ints = st.one_of(
    st.integers(-5, 600),
    st.sampled_from([0, -1, 2**31, 2**63, 2**64 + 1, -(2**63) - 1, 10**30]),
)
words = st.one_of(st.sampled_from(UNICODE), st.text(max_size=8), st.sampled_from(STATUSES))
scalars = st.one_of(
    ints,
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.sampled_from([1.5, 1e-05, 1e16, 3.0, -0.0, 2019.0]),
    words,
    st.sampled_from(["3:45", "2001", "", "true", "false", "1e3", " 7 "]),
    st.booleans(),
    st.none(),
)
json_values = st.one_of(
    scalars, st.lists(scalars, max_size=3), st.dictionaries(st.sampled_from(BODY_FIELDS), scalars, max_size=2)
)


def _path_value(converter: str, name: str) -> st.SearchStrategy[str]:
    if converter == "int":
        common = st.sampled_from(["1", "2", "3", "5", "7", "20", "250", "500"])
        odd = st.sampled_from(
            ["0", "-1", "99999", str(2**63), str(2**70), "abc", "01", "1.0", "\u0663", "\u0661\u0662"]
        )
        return st.one_of(common, common, common, odd)
    if name == "key":
        return st.one_of(st.sampled_from(SETTING_KEYS), st.sampled_from(UNICODE))
    return words


def _query_value() -> st.SearchStrategy[str]:
    return st.one_of(
        ints.map(str),
        st.sampled_from(["", "true", "false", "abc", "1.5", "DESC", "asc", "year", "title", "-3", "١٢"]),
        st.sampled_from(STATUSES),
        st.sampled_from(UNICODE),
    )


query_pairs = st.lists(st.tuples(st.sampled_from(QUERY_NAMES), _query_value()), max_size=5)


@st.composite
def _repeated(draw: st.DrawFn, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if pairs and draw(st.booleans()):
        name, _ = draw(st.sampled_from(pairs))
        pairs = [*pairs, (name, draw(_query_value()))]
    return pairs


@st.composite
def _body(draw: st.DrawFn) -> tuple[bytes | None, Any, tuple[tuple[str, str], ...]]:
    shape = draw(st.sampled_from(["object", "object", "object", "none", "array", "garbage", "form"]))
    json_type = (("Content-Type", "application/json"),)
    if shape == "none":
        return None, None, ()
    if shape == "array":
        value: Any = draw(st.lists(scalars, max_size=3))
        return json.dumps(value).encode(), value, json_type
    if shape == "garbage":
        return draw(st.sampled_from([b"{", b"not json", b"", b"\xff\xfe", b"null"])), None, json_type
    value = draw(st.dictionaries(st.sampled_from(BODY_FIELDS), json_values, max_size=6))
    if shape == "form":
        return json.dumps(value).encode(), value, (("Content-Type", "text/plain"),)
    return json.dumps(value).encode(), value, json_type


@st.composite
def probes(draw: st.DrawFn, endpoints: list[Endpoint], cookies: Mapping[str, str]) -> Probe:
    endpoint = draw(st.sampled_from(endpoints))
    method = endpoint.method
    other = draw(st.integers(0, 11))
    if other == 0:
        method = "OPTIONS"  # Flask answers it for every rule
    elif other == 1 and method == "GET":
        method = "HEAD"  # werkzeug adds HEAD to every GET rule
    path = endpoint.rule
    for converter, name in endpoint.params:
        value = draw(_path_value(converter, name))
        path = path.replace(f"<{converter}:{name}>" if converter else f"<{name}>", quote(value, safe=""))
    if draw(st.integers(0, 15)) == 0:
        path = path.replace("/api/", "/api//", 1)
    query = draw(query_pairs.flatmap(_repeated))
    role = draw(st.sampled_from(ROLES))
    jar: list[tuple[str, str]] = []
    if role != "anonymous":
        jar.append(("mvidarr_session", cookies[role]))
    extra = draw(st.sampled_from(["none", "none", "none", "junk-first", "junk-last", "other-user"]))
    if extra == "junk-first":
        jar.insert(0, ("mvidarr_session", "junk.value"))
    elif extra == "junk-last":
        jar.append(("mvidarr_session", "junk.value"))
    elif extra == "other-user":
        jar.append(("mvidarr_session", cookies[draw(st.sampled_from(ROLES[1:]))]))
    # The role the request really acts as: werkzeug (and services) read the first session cookie.
    first = jar[0][1] if jar else None
    role = next((name for name in ROLES[1:] if cookies[name] == first), "anonymous")
    headers: tuple[tuple[str, str], ...] = ()
    stray = draw(st.sampled_from(["none"] * 6 + ["bearer", "empty-bearer", "api-key"]))
    if stray == "bearer":
        headers = (("Authorization", "Bearer x"),)
    elif stray == "empty-bearer":
        headers = (("Authorization", "Bearer"),)
    elif stray == "api-key":
        headers = (("X-API-Key", "x"),)
    if method in ("POST", "PUT", "PATCH", "DELETE") and path.startswith("/api/"):
        # Writes services refuse on purpose while legacy performs them (differences.yaml, issue 15)
        # would leave the twin databases different for every later probe: the fuzzer writes as
        # the roles both sides let write; tests/contract/_deliberate.py and the security tests
        # cover the refusals themselves.
        allowed = (
            ("admin",) if endpoint.rule.startswith("/api/settings") else ("anonymous", "admin", "manager")
        )
        assume(role in allowed)
    body, parsed, body_headers = (None, None, ())
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        body, parsed, body_headers = draw(_body())
    return Probe(
        method,
        path,
        tuple(query),
        headers + body_headers,
        tuple(jar),
        body,
        parsed,
        role,
    )
