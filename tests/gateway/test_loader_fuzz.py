"""The routing-table loader under hostile files: whatever the bytes, a clear ``ConfigError`` or a
table, never another exception and never a hang.

Hypothesis drives random YAML structures, wrong types spliced into a valid table, random text and
half-written files; hand-made cases cover YAML bombs (nested and recursive aliases), unsafe tags
and huge files. The pytest timeout is the hang detector.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.compiler import CompiledTable
from gateway.errors import ConfigError
from gateway.loader import parse_table

VALID = """\
version: 1
timezone: UTC
upstreams:
  legacy:   {url: http://127.0.0.1:5000, timeout: {connect: 1, read: 30}}
  services: {url: http://127.0.0.1:8001, timeout: {connect: 0.5, read: 10}, health: /healthz}
default: legacy
routes:
  - id: settings
    path: /api/settings/{key}
    methods: [GET, PUT]
    to: services
  - id: videos-list
    path: /api/videos/
    methods: [GET]
    target: services
    fallback: legacy
    rollout:
      - {from: 2026-W49, mode: shadow}
      - {from: 2026-W50, mode: canary, percent: 10}
      - {from: 2026-W52, mode: live}
    guard: {max_error_rate: 0.02, min_requests: 50, window: 60s}
    shadow: {ignore: [body.query_time, headers.date]}
"""
VALID_DATA: dict[str, Any] = yaml.safe_load(VALID)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["GET", "legacy", "services", "/api/{x:int}", "2026-W50", "60s", "live", "canary"]),
)
structures = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.text(max_size=12), children, max_size=5),
    ),
    max_leaves=40,
)


def load_outcome(text: str) -> CompiledTable | ConfigError:
    """Parse; any exception other than ConfigError fails the test with the input that caused it."""
    try:
        return parse_table(text, source="routing.yaml")
    except ConfigError as exc:
        assert exc.issues, "a ConfigError must carry at least one issue"
        for issue in exc.issues:
            assert issue.file == "routing.yaml"
            assert issue.message.strip()
            assert issue.line is None or issue.line >= 1
        return exc


def paths_of(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths_of(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths_of(value, (*prefix, index))
    return found


VALID_PATHS = [path for path in paths_of(VALID_DATA) if path]


def splice(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {**data, head: splice(data[head], rest, value)}
    copy = list(data)
    copy[head] = splice(copy[head], rest, value)
    return copy


def test_the_fuzzers_base_table_is_valid() -> None:
    assert isinstance(load_outcome(VALID), CompiledTable)


@FUZZ
@given(structures)
def test_random_structures_give_a_clear_error_or_a_table(data: Any) -> None:
    load_outcome(yaml.safe_dump(data, allow_unicode=True))


@FUZZ
@given(st.sampled_from(VALID_PATHS), structures)
def test_wrong_types_anywhere_in_a_valid_table_give_a_clear_error(path: tuple[Any, ...], junk: Any) -> None:
    outcome = load_outcome(yaml.safe_dump(splice(VALID_DATA, path, junk), allow_unicode=True))
    if isinstance(outcome, ConfigError) and path[0] == "routes" and len(path) >= 2:
        # a broken route is located: named by id (or position), or at least given its line
        assert all(issue.route or issue.line for issue in outcome.issues)


@FUZZ
@given(st.text(max_size=300))
def test_random_text_gives_a_clear_error_or_a_table(text: str) -> None:
    load_outcome(text)


@FUZZ
@given(st.integers(min_value=0, max_value=len(VALID)))
def test_a_half_written_file_gives_a_clear_error_or_a_table(cut: int) -> None:
    load_outcome(VALID[:cut])


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes_decoded_leniently_give_a_clear_error_or_a_table(raw: bytes) -> None:
    load_outcome(raw.decode("utf-8", errors="surrogateescape").encode("utf-8", "replace").decode())


def billion_laughs(levels: int, fan_out: int = 9) -> str:
    lines = ["version: 1", "upstreams: {legacy: {url: 'http://127.0.0.1:5000'}}", "default: legacy"]
    lines.append("x0: &a0 [" + ", ".join(["lol"] * fan_out) + "]")
    for level in range(1, levels + 1):
        lines.append(f"x{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * fan_out) + "]")
    lines.append(f"routes: *a{levels}")
    return "\n".join(lines) + "\n"


def test_a_yaml_bomb_of_nested_aliases_is_refused_without_expanding_it() -> None:
    # 9**9 = 387 million leaves if anything walked the aliases one by one
    outcome = load_outcome(billion_laughs(9))
    assert isinstance(outcome, ConfigError)


def test_a_recursive_alias_is_a_clear_error_not_a_recursion_crash() -> None:
    head = "version: 1\nupstreams: {legacy: {url: 'http://127.0.0.1:5000'}}\ndefault: legacy\n"
    for body in ("routes: &a [*a]\n", "routes:\n  - &r {id: x, path: /x, to: legacy, shadow: *r}\n"):
        assert isinstance(load_outcome(head + body), ConfigError)


def test_aliases_for_shared_settings_still_load() -> None:
    text = VALID.replace(
        "  legacy:   {url: http://127.0.0.1:5000, timeout: {connect: 1, read: 30}}",
        "  legacy:   {url: http://127.0.0.1:5000, timeout: &t {connect: 1, read: 30}}",
    ).replace("timeout: {connect: 0.5, read: 10}", "timeout: *t")
    table = load_outcome(text)
    assert isinstance(table, CompiledTable) and len(table.routes) == 2


@pytest.mark.parametrize(
    "tagged",
    [
        "!!python/object/apply:os.system ['true']",
        "!!python/name:os.system",
        "!!binary aGVsbG8=",
        "!custom {a: 1}",
    ],
)
def test_unsafe_or_unknown_tags_are_refused(tagged: str) -> None:
    outcome = load_outcome(f"version: 1\nupstreams: {tagged}\ndefault: legacy\n")
    assert isinstance(outcome, ConfigError)


def test_deep_nesting_is_a_clear_error() -> None:
    depth = 5000
    assert isinstance(load_outcome("version: 1\nroutes: " + "[" * depth + "]" * depth + "\n"), ConfigError)


def test_a_huge_file_with_thousands_of_routes_loads() -> None:
    routes = "".join(
        f"  - {{id: r{n}, path: '/api/r{n}/{{id:int}}', methods: [GET], to: services}}\n" for n in range(3000)
    )
    table = load_outcome(VALID.split("routes:\n")[0] + "routes:\n" + routes)
    assert isinstance(table, CompiledTable) and len(table.routes) == 3000


def test_a_huge_file_of_errors_reports_them_all() -> None:
    routes = "".join(f"  - {{id: r{n}, path: /r{n}, to: nowhere}}\n" for n in range(2000))
    outcome = load_outcome(VALID.split("routes:\n")[0] + "routes:\n" + routes)
    assert isinstance(outcome, ConfigError) and len(outcome.issues) == 2000


def test_a_megabyte_string_value_is_a_clear_error() -> None:
    outcome = load_outcome(VALID.replace("id: settings", "id: " + "x" * 1_000_000 + "!"))
    assert isinstance(outcome, ConfigError)
