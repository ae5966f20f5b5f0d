from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.paths import UnsafePath, split_path


def split(raw: str) -> tuple[str, list[str]]:
    from urllib.parse import unquote

    forwarded, parts = split_path(raw.encode(), unquote(raw))
    return forwarded.decode(), parts


def test_plain_path_is_untouched() -> None:
    assert split("/api/videos/") == ("/api/videos/", ["api", "videos", ""])


def test_percent_encoding_is_kept_for_forwarding_and_decoded_for_matching() -> None:
    assert split("/a%20b/%C3%A9") == ("/a%20b/%C3%A9", ["a b", "é"])


@pytest.mark.parametrize(
    ("raw", "forwarded"),
    [
        ("/a/./b", "/a/b"),
        ("/a/../b", "/b"),
        ("/a/%2e%2e/b", "/b"),
        ("/a/.%2E/b", "/b"),
        ("//a///b", "/a/b"),
        ("/a/b/..", "/a/"),
        ("/a/b/.", "/a/b/"),
        ("/a/...", "/a/..."),
        ("/a/", "/a/"),
        ("/a/%2e%2e", "/"),
    ],
)
def test_dot_segments_and_double_slashes_are_normalised(raw: str, forwarded: str) -> None:
    assert split(raw)[0] == forwarded


@pytest.mark.parametrize(
    "raw", ["/a%2Fb", "/a%2fb", "/a%5Cb", "/a\\b", "/..", "/a/../..", "/%00", "x/y", "*"]
)
def test_unsafe_paths_are_rejected(raw: str) -> None:
    with pytest.raises(UnsafePath):
        split_path(raw.encode(), raw)


@given(st.lists(st.sampled_from(["a", "b", ".", "..", "%2e%2e", "", "%20", "c%2e"]), max_size=8))
def test_normalised_path_is_stable_and_free_of_dot_segments(pieces: list[str]) -> None:
    raw = "/" + "/".join(pieces)
    try:
        forwarded, parts = split(raw)
    except UnsafePath:
        return
    assert forwarded.startswith("/")
    assert "//" not in forwarded
    assert all(p not in (".", "..") for p in parts)
    assert split(forwarded)[0] == forwarded  # idempotent: what is matched is what is forwarded
