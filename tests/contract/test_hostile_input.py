"""Hostile input on the migrated routes (issue 20): integers past 64 bits, lone surrogates,
values stored other than they are echoed. Legacy answers each case for real; services must
answer what legacy answers when that is not a 500, and a clear 4xx where legacy fails (the
error-hygiene entries of differences.yaml).

The cases were found by schemathesis; before the fix services answered 500 to each of those
marked `was_500` on SQLite (and the page/limit/offset and surrogate ones on MariaDB too).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.contract.harness import Answer, Pair, _normalize
from tests.contract.registry import Exchange, Reply, load

REGISTRY = load()

BIG = 2**64 + 5  # past signed and unsigned 64 bits
NEG = -(2**64) - 5
SUB_UNSIGNED = 2**63  # past signed 64 bits, within MariaDB's unsigned LIMIT/OFFSET range
SURROGATE = '"\\udc80"'  # a JSON escape of a lone surrogate: valid JSON, not valid Unicode


def _json_text(text: str) -> dict[str, Any]:
    """A raw JSON body; each `@` stands for the lone surrogate's escape."""
    return {"content": text.replace("@", SURROGATE).encode(), "headers": {"content-type": "application/json"}}


# (method, path, request kwargs, services' status on both backends)
NOT_FOUND_IDS = [
    ("POST", f"/api/metadata-enrichment/enrich/{BIG}", {}, 404),
    ("POST", f"/api/videos/{BIG}/refresh-metadata", {}, 404),
    ("GET", f"/api/videos/{BIG}", {}, 404),
    ("GET", f"/api/videos/{SUB_UNSIGNED}", {}, 404),
    ("PUT", f"/api/videos/{BIG}", {"json": {"title": "x"}}, 404),
    ("DELETE", f"/api/videos/{BIG}", {}, 404),
    ("PUT", f"/api/videos/{BIG}/status", {"json": {"status": "WANTED"}}, 404),
    ("GET", f"/api/artists/{BIG}", {}, 404),
    ("PUT", f"/api/artists/{BIG}/settings", {"json": {}}, 404),
    ("DELETE", f"/api/artists/{BIG}", {}, 404),
    ("GET", f"/api/playlists/{BIG}", {}, 404),
    ("POST", f"/api/playlists/{BIG}/videos", {"json": {"video_ids": [1]}}, 404),
    ("DELETE", f"/api/playlists/1/videos/{BIG}", {}, 404),
    ("POST", "/api/videos/", {"json": {"title": "t", "artist_id": BIG}}, 404),
    ("POST", "/api/playlists/1/videos", {"json": {"video_ids": [BIG]}}, 404),
    (
        "POST",
        "/api/playlists/1/videos/reorder",
        {"json": {"entry_orders": [{"id": BIG, "position": 1}]}},
        200,
    ),
]
# Filters compare numerically, as MariaDB does: past 64 bits nothing (or everything) matches.
FILTERS = [
    ("GET", f"/api/videos/search?year={BIG}", {}, 200),
    ("GET", f"/api/videos/search?year={NEG}", {}, 200),
    ("GET", f"/api/videos/search?year_from={BIG}&limit=3", {}, 200),
    ("GET", f"/api/videos/search?year_to={BIG}&limit=3", {}, 200),
    ("GET", f"/api/videos/search?duration_min={BIG}", {}, 200),
    ("GET", f"/api/videos/search?duration_max={BIG}&limit=3", {}, 200),
    ("GET", f"/api/videos/search?duration_min={NEG}&limit=3", {}, 200),
    ("GET", f"/api/artists/?min_videos={BIG}", {}, 200),
    ("GET", f"/api/artists/?max_videos={BIG}&per_page=3", {}, 200),
    ("GET", f"/api/videos/?offset={SUB_UNSIGNED}", {}, 200),
    ("GET", f"/api/videos/?limit={SUB_UNSIGNED}&offset=495", {}, 200),
    ("GET", f"/api/videos/?limit={NEG}", {}, 200),
    ("GET", f"/api/playlists/?per_page={BIG}", {}, 200),
    # MariaDB's LIMIT is unsigned: legacy lists the rows there (and fails on SQLite), with or
    # without a filter (two different statements on services).
    ("GET", f"/api/artists/?per_page={SUB_UNSIGNED}", {}, 200),
    ("GET", f"/api/artists/?per_page={2**64 - 1}&sort=video_count", {}, 200),
    ("GET", f"/api/artists/?page=2&per_page={SUB_UNSIGNED}", {}, 200),
    ("GET", f"/api/artists/?per_page={SUB_UNSIGNED}&search=a", {}, 200),
]
# Past what any backend's LIMIT/OFFSET takes: legacy answers 500 on both backends.
REFUSED = [
    ("GET", f"/api/videos/?limit={BIG}", {}, 400),
    ("GET", f"/api/videos/?offset={BIG}", {}, 400),
    ("GET", f"/api/videos/search?limit={BIG}", {}, 400),
    ("GET", f"/api/videos/search?offset={BIG}", {}, 400),
    ("GET", f"/api/artists/?page={BIG}", {}, 400),
    ("GET", f"/api/artists/?page={10**18}", {}, 400),
    ("GET", f"/api/artists/?per_page={BIG}", {}, 400),
    ("GET", f"/api/playlists/?page={BIG}", {}, 400),
    ("GET", f"/api/playlists/?page={10**18}", {}, 400),
    ("PUT", "/api/videos/1", {"json": {"year": BIG}}, 400),
    (
        "POST",
        "/api/playlists/1/videos/reorder",
        {"json": {"entry_orders": [{"id": 1, "position": BIG}]}},
        400,
    ),
]
SURROGATES = [
    ("POST", "/auth/login", _json_text('{"username": @, "password": "x"}'), 400),
    ("POST", "/auth/login", _json_text('{"username": "admin", "password": @}'), 400),
    ("POST", "/api/artists/", _json_text('{"name": @}'), 400),
    ("POST", "/api/videos/", _json_text('{"title": @, "artist_id": 1}'), 400),
    ("POST", "/api/playlists/", _json_text('{"name": @}'), 400),
    ("PUT", "/api/settings/theme", _json_text('{"value": @}'), 400),
    ("PUT", "/api/settings/bulk", _json_text('{"settings": {"theme": @}}'), 400),
    ("PUT", "/api/videos/1", _json_text('{"title": @}'), 400),
    ("PUT", "/api/artists/1", _json_text('{"name": @}'), 400),
    ("PUT", "/api/playlists/1", _json_text('{"name": @}'), 400),
    # A field legacy never reads is ignored on both sides, surrogate or not.
    ("POST", "/api/artists/", _json_text('{"name": "Surrogate Ignored", "nope": @}'), 201),
]


def _same(old: Answer, new: Answer, where: str) -> None:
    assert (old.status, old.content_type) == (new.status, new.content_type), where
    assert _normalize(old.body) == _normalize(new.body), (
        f"{where}:\nlegacy   {old.body!r:.400}\nservices {new.body!r:.400}"
    )


def _run(pair: Pair, cases: list[tuple[str, str, dict[str, Any], int]]) -> list[str]:
    """Each case on both sides; services' status checked, legacy's answer mirrored unless 500."""
    legacy_500 = []
    for method, path, kw, status in cases:
        where = f"{method} {path} {kw.get('json', kw.get('content', ''))!r:.120}"
        old = pair.send("legacy", method, path, as_user="admin", **kw)
        new = pair.send("services", method, path, as_user="admin", **kw)
        assert new.status == status, f"{where}: services {new.status} {new.body!r:.300} (legacy {old.status})"
        if old.status == 500:
            legacy_500.append(where)
            assert isinstance(new.body, dict) and "Python" not in str(new.body), where
            # Only as differences.yaml allows: an entry covers it and its demand holds.
            exchange = Exchange(method, path.split("?")[0], role="ADMIN")
            legacy, services = (
                Reply(a.status, list(a.headers.items()), json.dumps(a.body).encode()) for a in (old, new)
            )
            assert "status" in REGISTRY.allowed(exchange, legacy), f"{where}: no registry entry"
            assert REGISTRY.violations(exchange, legacy, services) == [], where
        else:
            _same(old, new, where)
    return legacy_500


def test_ids_past_64_bits_name_no_row(pair: Pair) -> None:
    _run(pair, NOT_FOUND_IDS)


def test_filters_past_64_bits_compare_as_mariadb_does(pair: Pair) -> None:
    _run(pair, FILTERS)


def test_limits_and_pages_past_64_bits_are_refused_where_legacy_fails(pair: Pair) -> None:
    failed = _run(pair, REFUSED)
    assert len(failed) == len(REFUSED), "legacy now answers some of these: mirror it instead"


def test_lone_surrogates_are_refused_where_legacy_fails(pair: Pair) -> None:
    failed = _run(pair, SURROGATES)
    assert len(failed) == len(SURROGATES) - 1, failed
    body = pair.send("services", "POST", "/api/artists/", as_user="admin", **SURROGATES[2][2]).body
    assert body == {"error": "Invalid value: text is not valid Unicode"}
    # Nothing was stored: the refused names are not listed afterwards.
    names = [
        a["name"]
        for a in pair.send("services", "GET", "/api/artists/?per_page=500", as_user="admin").body["artists"]
    ]
    assert "Surrogate Ignored" in names and not any("\udc80" in n for n in names)


@pytest.mark.parametrize(
    "body",
    [
        {"duration": True, "video_url": 12.5},
        {"year": "1999", "quality": 12, "thumbnail_url": False},
        {"duration": 1.0, "year": True, "genres": {"a": 1}},
    ],
)
def test_video_update_echoes_and_stores_as_legacy_does(pair: Pair, body: dict[str, Any]) -> None:
    """Legacy echoes the raw value and the database coerces it (true -> 1, 12.5 -> "12.5"):
    services keep that answer (indistinguishable) and the later read shows the same row."""
    pair.check("PUT", "/api/videos/7", as_user="admin", json=body, expect=200)
    pair.check("GET", "/api/videos/7", as_user="admin", expect=200)


@pytest.mark.parametrize("path", ["/api/artists/3", "/api/playlists/1"])
def test_name_given_as_a_list_is_stored_as_legacy_stores_it(pair: Pair, path: str) -> None:
    pair.check("PUT", path, as_user="admin", json={"name": [None, None]}, expect=200)
    read = pair.check("GET", path, as_user="admin", expect=200)
    assert "[None, None]" in str(read.body)


def test_a_value_too_long_for_its_column_is_refused_where_legacy_fails(pair: Pair, database_url: str) -> None:
    """MariaDB (strict mode) refuses a 300-character name for VARCHAR(255): legacy answers 500
    with the driver's text, services 400. SQLite stores it; both sides answer 201 there."""
    body = {"json": {"name": "x" * 300}}
    old = pair.send("legacy", "POST", "/api/artists/", as_user="admin", **body)
    new = pair.send("services", "POST", "/api/artists/", as_user="admin", **body)
    if database_url.startswith("sqlite"):
        assert (old.status, new.status) == (201, 201)
    else:
        assert (old.status, new.status) == (500, 400), (old.body, new.body)
        assert new.body == {"error": "Invalid value: does not fit its column"}


@pytest.mark.parametrize("keywords", [5, 2.5, "7"])
def test_a_number_stored_in_a_json_column_reads_back(pair: Pair, keywords: Any) -> None:
    """SQLite keeps a JSON document that is a bare number as a number (NUMERIC affinity); the
    services' JSON decoder took only text, so every later read of the artist answered 500."""
    pair.check("PUT", "/api/artists/4/settings", as_user="admin", json={"keywords": keywords}, expect=200)
    read = pair.send("services", "GET", "/api/artists/4", as_user="admin")
    assert read.status == 200 and read.body["keywords"] == keywords
    assert pair.send("services", "GET", "/api/artists/?per_page=100", as_user="admin").status == 200


@pytest.mark.parametrize("raw", [b'{"value": NaN}', b'{"value": Infinity}', b'{"value": [-1e999, 0.5]}'])
def test_non_finite_numbers_are_echoed_as_legacy_echoes_them(pair: Pair, raw: bytes) -> None:
    """Python's JSON reads NaN, Infinity and 1e999; Flask writes them back as NaN / Infinity. The
    services' fast encoder wrote `null` for them: the settings write's echo differed."""
    headers = {"content-type": "application/json"}
    put = pair.check(
        "PUT", "/api/settings/ui_theme", as_user="admin", content=raw, headers=headers, expect=200
    )
    assert b"Infinity" in put.raw or b"NaN" in put.raw
    pair.check("GET", "/api/settings/ui_theme", as_user="admin", expect=200)


@pytest.mark.parametrize("raw", [b'{"keywords": NaN}', b'{"keywords": [Infinity, 1]}'])
def test_non_finite_numbers_in_a_json_column_read_back_as_legacy_reads_them(
    pair: Pair, raw: bytes, database_url: str
) -> None:
    """SQLite stores the text `NaN` and both sides read it back as NaN. MariaDB's JSON_VALID check
    refuses it: legacy answers 500 with the driver's text, services 400 (no-exception-text-in-500)."""
    headers = {"content-type": "application/json"}
    body = {"content": raw, "headers": headers}
    old = pair.send("legacy", "PUT", "/api/artists/5/settings", as_user="admin", **body)
    new = pair.send("services", "PUT", "/api/artists/5/settings", as_user="admin", **body)
    if database_url.startswith("sqlite"):
        assert (old.status, new.status) == (200, 200)
        assert old.raw == new.raw
    else:
        assert (old.status, new.status) == (500, 400), (old.body, new.body)
        assert new.body == {"error": "Invalid value: does not fit its column"}
    pair.check("GET", "/api/artists/5", as_user="admin", expect=200)


@pytest.mark.parametrize(
    "extra",
    [
        {"video_url": [], "source": {}},
        {"video_url": {}, "youtube_url": "https://youtu.be/x"},
        {"video_url": "https://youtu.be/y", "youtube_url": [1]},
        {"source": [], "youtube_url": None},
    ],
)
def test_a_create_ignores_what_legacy_never_stores(pair: Pair, extra: dict[str, Any]) -> None:
    """Legacy stores `video_url or youtube_url` and `source or "manual"`: an empty list or object
    there (or a youtube_url behind a video_url) is never stored, so legacy answers 201. Services
    refused it (400 "Invalid value for video_url") because they checked the raw fields."""
    body = {"title": "Falsy Fields", "artist_id": 3, **extra}
    pair.check("POST", "/api/videos/", as_user="admin", json=body, expect=201)
    pair.same_rows()


@pytest.mark.parametrize(
    ("raw", "listed"),
    [
        (b'{"year": Infinity}', "/api/videos/?sort=year&order=desc&limit=3"),
        (b'{"duration": -Infinity}', "/api/videos/?sort=duration&limit=3"),
        (b'{"duration": 1e999}', "/api/videos/?sort=duration&order=desc&limit=3"),
    ],
)
def test_an_infinity_stored_in_an_integer_column_reads_back_as_legacy_reads_it(
    pair: Pair, raw: bytes, listed: str, database_url: str
) -> None:
    """SQLite keeps the float in the INTEGER column and gives it back as a plain float: legacy
    writes it `Infinity`, orjson wrote `null` (every later read of the video differed). MariaDB
    refuses it: legacy 500 with the driver's text, services 400."""
    pair.check("PUT", "/api/videos/20", as_user="admin", json={"title": "Infinite Case"}, expect=200)
    body = {"content": raw, "headers": {"content-type": "application/json"}}
    old = pair.send("legacy", "PUT", "/api/videos/20", as_user="admin", **body)
    new = pair.send("services", "PUT", "/api/videos/20", as_user="admin", **body)
    if not database_url.startswith("sqlite"):
        assert (old.status, new.status) == (500, 400), (old.body, new.body)
        return
    assert (old.status, old.raw) == (new.status, new.raw)
    # A playlist's total_duration is int(sum): an infinite duration fails on both sides (500).
    pair.check(
        "POST", "/api/playlists/2/videos", as_user="admin", json={"video_ids": [20]}, allow_legacy_500=True
    )
    for path in (
        "/api/videos/20",
        listed,
        "/api/videos/search?q=Infinite%20Case",
        "/api/playlists/2?include_entries=true",
    ):
        read = pair.check("GET", path, as_user="admin", expect=200)
        assert b"Infinity" in read.raw or (b"year" not in raw and "playlists" in path), path
    pair.check("PUT", "/api/videos/20", as_user="admin", json={"title": "Still Infinite"}, expect=200)


ONE_ELEMENT_LISTS = [
    ("PUT", "/api/videos/9", {"quality": [1]}),
    ("PUT", "/api/videos/9", {"year": [[1999]], "video_url": ["https://youtu.be/z"]}),
    ("PUT", "/api/videos/9", {"duration": [None], "thumbnail_url": [True]}),
    ("POST", "/api/videos/", {"title": "Listed", "artist_id": 2, "duration": [1.5], "source": ["x"]}),
    ("PUT", "/api/artists/3", {"folder_path": ["/music/a"], "spotify_id": [7]}),
    ("PUT", "/api/artists/4/settings", {"folder_path": [["/music/b"]]}),
    ("POST", "/api/playlists/", {"name": "Listed", "description": ["d"]}),
    ("PUT", "/api/playlists/1", {"description": [2], "thumbnail_url": [None]}),
]


@pytest.mark.parametrize(("method", "path", "body"), ONE_ELEMENT_LISTS)
def test_a_one_element_list_is_stored_as_legacy_stores_it_on_mariadb(
    pair: Pair, method: str, path: str, body: dict[str, Any], database_url: str
) -> None:
    """Legacy's PyMySQL renders `[x]` as the SQL `(x)`: MariaDB stores x, and legacy echoes the
    list. Services refused it (400 "Invalid value for ..."). SQLite's driver binds no list:
    legacy 500s there, services keep their 400."""
    _stored_as_on_legacy(pair, method, path, body, database_url)


@pytest.mark.parametrize("value", [[1, 2], [], [[]], [{"a": 1}]])
def test_a_list_mariadb_cannot_take_either_is_still_refused(pair: Pair, value: Any) -> None:
    """`(1,2)`, `()` and `(())` fail in MariaDB too (legacy 500): services answer 400 and store nothing."""
    old = pair.send("legacy", "PUT", "/api/videos/9", as_user="admin", json={"quality": value})
    new = pair.send("services", "PUT", "/api/videos/9", as_user="admin", json={"quality": value})
    assert (old.status, new.status) == (500, 400), (old.body, new.body)
    assert new.body == {"error": "Invalid value for quality"}
    pair.same_rows()


WIDE_TEXT = [
    ("PUT", "/api/videos/9", {"quality": BIG}),
    ("PUT", "/api/videos/9", {"video_url": -BIG, "thumbnail_url": [10**70]}),
    ("POST", "/api/videos/", {"title": "Wide", "artist_id": 2, "youtube_id": SUB_UNSIGNED}),
    ("PUT", "/api/artists/3", {"folder_path": BIG, "lastfm_name": 10**80}),
    ("POST", "/api/playlists/", {"name": "Wide", "description": BIG}),
    ("PUT", "/api/playlists/1", {"thumbnail_url": -(10**30)}),
]


@pytest.mark.parametrize(("method", "path", "body"), WIDE_TEXT)
def test_an_integer_past_64_bits_in_a_text_field_is_stored_as_legacy_stores_it_on_mariadb(
    pair: Pair, method: str, path: str, body: dict[str, Any], database_url: str
) -> None:
    """Legacy's PyMySQL writes the integer's literal and MariaDB keeps its digits in a text
    column (legacy 200/201); services refused it (400). sqlite3 binds no integer past 64 bits:
    legacy 500s there (integer-past-64-bits), services answer 400 and store nothing."""
    _stored_as_on_legacy(pair, method, path, body, database_url)


def _stored_as_on_legacy(pair: Pair, method: str, path: str, body: dict[str, Any], database_url: str) -> None:
    """MariaDB: the same answer, the same rows, and the same answer reading them back.
    SQLite (whose driver binds neither value): legacy 500, services 400, nothing stored."""
    if database_url.startswith("sqlite"):
        old = pair.send("legacy", method, path, as_user="admin", json=body)
        new = pair.send("services", method, path, as_user="admin", json=body)
        assert (old.status, new.status) == (500, 400), (old.body, new.body)
        pair.same_rows()
        return
    pair.check(method, path, as_user="admin", json=body, expect=201 if method == "POST" else 200)
    pair.same_rows()
    read = path if method == "PUT" else f"{path}?per_page=200"
    pair.check(
        "GET", read.replace("/settings", ""), as_user="admin", expect=200
    )  # an artist's settings: the artist
