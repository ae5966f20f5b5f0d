"""Issue 14 class 5: services accept (and store) what legacy accepts, on SQLite and on MariaDB.

Where the database refuses a value (MariaDB and `"3:45"` for an INTEGER year), legacy answers
500 with the driver's text and services a 500 (or 400) without it: `allow_legacy_500`, the
registry entry `no-exception-text-in-500`. Everything else must match byte for byte, reads after
the writes included.
"""

from __future__ import annotations

import pytest

from tests.contract.harness import Pair

ODD_VALUES = [
    {"year": 1.5},
    {"year": "3:45"},
    {"duration": "3:45"},
    {"duration": 245.0},
    {"year": 2**40},
    {"year": " 2001 "},
    {"quality": 7, "thumbnail_url": 1.25},
    {"genres": "rock"},
    {"unread": {"any": ["type"]}, "also_unread": [1, 2]},
]


@pytest.mark.parametrize("body", ODD_VALUES, ids=[str(sorted(b)) + str(i) for i, b in enumerate(ODD_VALUES)])
def test_odd_video_values_are_stored_as_legacy_stores_them(pair: Pair, body: dict[str, object]) -> None:
    pair.check("PUT", "/api/videos/3", json=body, allow_legacy_500=True)
    pair.check("GET", "/api/videos/3")
    pair.check("POST", "/api/videos/", json={"title": "Odd", "artist_id": 2, **body}, allow_legacy_500=True)
    pair.check("GET", "/api/videos/?sort=created_at&order=desc&limit=2")
    pair.same_rows()


def test_unread_fields_and_scalar_descriptions_are_accepted(pair: Pair) -> None:
    pair.check(
        "POST",
        "/api/artists/",
        json={"name": "Unread", "spotify_id": {"x": 1}, "lastfm_name": [1]},
        expect=201,
    )
    # As an admin: settings writes need one on services (differences.yaml: settings-writes-need-admin-put).
    pair.check("PUT", "/api/settings/odd", as_user="admin", json={"value": "v", "description": 5}, expect=200)
    pair.check(
        "PUT", "/api/settings/odd", as_user="admin", json={"value": "w", "description": True}, expect=200
    )
    pair.check("GET", "/api/settings/odd", expect=200)
    pair.check(
        "POST",
        "/api/playlists/",
        as_user="admin",
        json={"name": "Odd list", "thumbnail_url": {"a": 1}},
        expect=201,
    )
    pair.same_rows()


def test_huge_reorder_positions_are_accepted_as_legacy_accepts_them(pair: Pair) -> None:
    entries = pair.check("GET", "/api/playlists/1?include_entries=true", as_user="admin").json()
    entry = entries["playlist"]["entries"][0]["id"]
    for position in (2**40, 2**62, -(2**40), 2**70):
        orders = [{"id": 999999, "position": position}]  # an unknown entry: ignored, whatever the position
        pair.check("POST", "/api/playlists/1/videos/reorder", as_user="admin", json={"entry_orders": orders})
    pair.check(
        "POST",
        "/api/playlists/1/videos/reorder",
        as_user="admin",
        json={"entry_orders": [{"id": entry, "position": 2**40}]},
        allow_legacy_500=True,  # MariaDB's INT column refuses it
    )
    pair.check("GET", "/api/playlists/1?include_entries=true", as_user="admin")
    pair.same_rows()
