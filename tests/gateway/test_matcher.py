from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.matcher import AmbiguousRoute, Kind, Matcher, TemplateError, parse_template


def build(*routes: tuple[str, str, frozenset[str] | None]) -> Matcher[str]:
    matcher: Matcher[str] = Matcher()
    for route_id, path, methods in routes:
        matcher.add(route_id, parse_template(path), methods, route_id)
    return matcher


def parts(path: str) -> list[str]:
    return path[1:].split("/")


GET = frozenset({"GET"})


def test_static_beats_typed_beats_param_beats_path() -> None:
    matcher = build(
        ("rest", "/a/{rest:path}", None),
        ("param", "/a/{name}", None),
        ("typed", "/a/{id:int}", None),
        ("static", "/a/7", None),
    )
    assert matcher.match("GET", parts("/a/7")) == "static"
    assert matcher.match("GET", parts("/a/8")) == "typed"
    assert matcher.match("GET", parts("/a/x")) == "param"
    assert matcher.match("GET", parts("/a/x/y")) == "rest"


def test_methods_are_part_of_the_match() -> None:
    matcher = build(("get", "/a/{x}", GET), ("any", "/a/{rest:path}", frozenset({"POST"})))
    assert matcher.match("GET", parts("/a/1")) == "get"
    assert matcher.match("POST", parts("/a/1")) == "any"
    assert matcher.match("PUT", parts("/a/1")) is None


def test_backtracks_to_less_specific_branch_when_deeper_path_fails() -> None:
    matcher = build(("static", "/a/b/c", None), ("param", "/a/{x}/d", None))
    assert matcher.match("GET", parts("/a/b/d")) == "param"


def test_trailing_slash_is_significant() -> None:
    matcher = build(("slash", "/videos/", None), ("bare", "/videos", None))
    assert matcher.match("GET", parts("/videos/")) == "slash"
    assert matcher.match("GET", parts("/videos")) == "bare"


def test_root_template() -> None:
    matcher = build(("root", "/", None))
    assert matcher.match("GET", parts("/")) == "root"
    assert matcher.match("GET", parts("/x")) is None


def test_param_does_not_match_empty_segment() -> None:
    matcher = build(("p", "/a/{x}", None))
    assert matcher.match("GET", parts("/a/")) is None


def test_uuid_parameter() -> None:
    matcher = build(("u", "/o/{id:uuid}", None), ("p", "/o/{name}", None))
    assert matcher.match("GET", parts("/o/123e4567-e89b-12d3-a456-426614174000")) == "u"
    assert matcher.match("GET", parts("/o/123")) == "p"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("a", "/x/{id}", GET), ("b", "/x/{name}", GET)),
        (("a", "/x/{id:int}", None), ("b", "/x/{n:int}", GET)),
        (("a", "/x/{rest:path}", GET), ("b", "/x/{p:path}", frozenset({"GET", "PUT"}))),
        (("a", "/x", None), ("b", "/x", None)),
    ],
)
def test_same_shape_and_overlapping_methods_is_ambiguous(first: tuple, second: tuple) -> None:  # type: ignore[type-arg]
    with pytest.raises(AmbiguousRoute, match="ambiguous with route 'a'"):
        build(first, second)


def test_same_shape_with_disjoint_methods_is_fine() -> None:
    matcher = build(("get", "/x/{id}", GET), ("put", "/x/{other}", frozenset({"PUT"})))
    assert matcher.match("PUT", parts("/x/1")) == "put"
    assert len(matcher) == 2


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("x", "must start with /"),
        ("/a/{x}.json", "whole segment"),
        ("/a/{x:float}", "unknown parameter type"),
        ("/{rest:path}/x", "must be the last"),
        ("/a//b", "empty segment"),
        ("/a/../b", "dot segment"),
        ("/{x}/{x}", "appears twice"),
        ("/a%2fb", "templates do not allow"),
    ],
)
def test_bad_templates_are_rejected(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        parse_template(template)


def test_specificity_vector() -> None:
    assert parse_template("/a/{id:int}/{x}/{r:path}").specificity == (
        Kind.STATIC,
        Kind.TYPED,
        Kind.PARAM,
        Kind.PATH,
    )


# --- properties ------------------------------------------------------------------------------

STATICS = ["a", "b", "1", "22"]
segment = st.sampled_from(["a", "b", "1", "22", "{p}", "{n:int}"])
template_strategy = st.builds(
    lambda segs, tail: "/" + "/".join(segs + (["{rest:path}"] if tail else [])),
    st.lists(segment, min_size=0, max_size=3),
    st.booleans(),
).filter(lambda t: t != "/")
method_sets = st.sampled_from([None, frozenset({"GET"}), frozenset({"POST"}), frozenset({"GET", "POST"})])
path_strategy = st.lists(st.sampled_from(STATICS + ["x", "7", ""]), min_size=1, max_size=5)


def _dedupe_names(template: str) -> str:
    # Give every parameter a unique name so generated templates are valid.
    out, index = [], 0
    for seg in template.split("/"):
        if seg.startswith("{"):
            kind = seg[1:-1].split(":")[1] if ":" in seg else None
            seg = "{v" + str(index) + (":" + kind if kind else "") + "}"
            index += 1
        out.append(seg)
    return "/".join(out)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    routes=st.lists(st.tuples(template_strategy, method_sets), min_size=1, max_size=8),
    path=path_strategy,
    method=st.sampled_from(["GET", "POST"]),
)
def test_most_specific_route_wins_and_never_ambiguous(
    routes: list[tuple[str, frozenset[str] | None]], path: list[str], method: str
) -> None:
    matcher: Matcher[int] = Matcher()
    accepted: list[tuple[int, object, frozenset[str] | None]] = []
    for index, (raw, methods) in enumerate(routes):
        template = parse_template(_dedupe_names(raw))
        try:
            matcher.add(str(index), template, methods, index)
        except AmbiguousRoute:
            # The rejection must be justified: an accepted route has the same shape and shared methods.
            shape = [s.shape for s in template.segments]
            assert any(
                [s.shape for s in other.segments] == shape  # type: ignore[attr-defined]
                and (m is None or methods is None or m & methods)
                for _i, other, m in accepted
            )
            continue
        accepted.append((index, template, methods))
    # Oracle: every accepted route that matches path and method, best specificity first.
    hits = [
        (t.specificity, i)  # type: ignore[attr-defined]
        for i, t, m in accepted
        if t.match(path) is not None and (m is None or method in m)  # type: ignore[attr-defined]
    ]
    found = matcher.match(method, path)
    if not hits:
        assert found is None
        return
    best = max(spec for spec, _ in hits)
    winners = [i for spec, i in hits if spec == best]
    assert len(winners) == 1, "two accepted routes match with the same specificity"
    assert found == winners[0]
