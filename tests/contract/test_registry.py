"""differences.yaml: every entry is well-formed, and the matcher allows exactly what an entry says."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.contract.registry import REGISTRY_FILE, Exchange, Reply, load, parse

ENTRY = """
version: 1
differences:
  - id: sample-entry
    method: GET
    path: /api/videos/<int:video_id>
    condition: legacy answers 500 for this request
    difference: services answer 400 instead of 500
    reason: the client's input is refused up front
    kind: validation
    issue: 14
    match:
      request: {query_present: [force], headers_present: [X-API-Key]}
      legacy: {status: [500], body_regex: "Traceback|error"}
      services: {status: [400]}
      allow: [status, body]
"""


def _exchange(**kw: object) -> Exchange:
    base: dict[str, object] = {
        "method": "GET",
        "path": "/api/videos/7",
        "query": [("force", "1")],
        "headers": [("x-api-key", "k")],
    }
    base.update(kw)
    return Exchange(**base)  # type: ignore[arg-type]


LEGACY_500 = Reply(500, [("content-type", "application/json")], b'{"error":"boom"}\n')


def test_the_repository_registry_is_well_formed() -> None:
    registry = load()
    assert REGISTRY_FILE.name == "differences.yaml"
    assert registry.entries, "the registry holds at least the 500 hygiene entry"
    for entry in registry.entries:
        assert entry.issue in (14, 15, 17, 20), f"{entry.id}: unknown issue {entry.issue}"
        assert entry.condition.strip() and entry.reason.strip()


def test_an_entry_allows_its_parts_only_when_request_and_legacy_match() -> None:
    registry = parse(ENTRY)
    assert registry.allowed(_exchange(), LEGACY_500) == {"status", "body"}
    assert registry.allowed(_exchange(method="POST"), LEGACY_500) == set()
    assert registry.allowed(_exchange(path="/api/videos/abc"), LEGACY_500) == set()
    # werkzeug merges repeated slashes before matching: the rule covers /api//videos/7 too
    assert registry.allowed(_exchange(path="/api//videos/7"), LEGACY_500) == {"status", "body"}
    assert registry.allowed(_exchange(query=[]), LEGACY_500) == set()
    assert registry.allowed(_exchange(headers=[]), LEGACY_500) == set()
    assert registry.allowed(_exchange(), Reply(404, [], b'{"error":"boom"}\n')) == set()
    assert registry.allowed(_exchange(), Reply(500, [], b"{}")) == set()


def test_the_services_demand_is_checked() -> None:
    registry = parse(ENTRY)
    assert registry.violations(_exchange(), LEGACY_500, Reply(400, [], b"")) == []
    problems = registry.violations(_exchange(), LEGACY_500, Reply(200, [], b""))
    assert problems and "sample-entry" in problems[0]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("kind: validation", "kind: cosmetic"),
        ("method: GET", "method: FETCH"),
        ("issue: 14", "issue: 0"),
        ("id: sample-entry", "id: Sample Entry"),
        ("allow: [status, body]", "allow: [status, bodies]"),
        ("allow: [status, body]", "allow: [status, rows]"),  # rows only for security entries
        ("allow: [status, body]", "allow: []"),
        ("path: /api/videos/<int:video_id>", "path: /api/videos/<nope:video_id>"),
        ("reason: the client's input is refused up front", "reason: x"),
        ("services: {status: [400]}", "services: {status: [400]}\n      extra: 1"),
        ('body_regex: "Traceback|error"', 'body_regex: "(unclosed"'),
    ],
)
def test_a_malformed_entry_is_refused(old: str, new: str) -> None:
    assert old in ENTRY
    with pytest.raises((ValidationError, ValueError)):
        parse(ENTRY.replace(old, new))


def test_duplicate_ids_are_refused() -> None:
    body = ENTRY.split("differences:\n", 1)[1]
    with pytest.raises(ValidationError, match="duplicate id"):
        parse(ENTRY + body)


def test_a_head_answer_to_a_legacy_500_may_announce_another_length() -> None:
    """HEAD carries no body for the regex to read, only the length of the one it leaves out:
    the 500's hygiene entry must allow that length (the differential fuzzer met
    HEAD /api/playlists/?page=2**64+1 on MariaDB: legacy 500 of 1114 bytes, services 400 of 35)."""
    head = Exchange("HEAD", "/api/playlists/", query=[("page", str(2**64 + 1))])
    assert "headers.content-length" in load().allowed(head, Reply(500, [("content-length", "1114")], b""))
