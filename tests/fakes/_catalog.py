"""Deterministic provider data derived from names, so every run (and every seeded artist) gets
the same answers: ids, genres, popularity and so on are functions of a SHA-256 of the name.

A name containing ``nomatch`` (any case) is unknown to every provider: searches come back
empty and look-ups answer 404. That gives tests a "not found" case without special set-up.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

GENRES = (
    "rock",
    "pop",
    "indie",
    "electronic",
    "hip hop",
    "alternative",
    "metal",
    "folk",
    "r&b",
    "jazz",
    "punk",
    "soul",
    "synthpop",
    "country",
    "dance",
)
COUNTRIES = ("GB", "US", "SE", "DE", "FR", "CA", "AU", "IS", "NO", "JP")
DIRECTORS = (
    "Spike Jonze",
    "Hype Williams",
    "Michel Gondry",
    "Sophie Muller",
    "Dave Meyers",
    "Floria Sigismondi",
)
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_QUERY_FIELD = re.compile(r'^\s*(?:artist|track|recording)\s*:\s*"?(?P<value>.*?)"?\s*$', re.IGNORECASE)


def digest(*parts: str) -> bytes:
    joined = "\x1f".join(p.strip().lower() for p in parts)
    return hashlib.sha256(joined.encode()).digest()


def number(*parts: str, modulo: int, offset: int = 0) -> int:
    return int.from_bytes(digest(*parts)[:8], "big") % modulo + offset


def is_unknown(name: str) -> bool:
    return "nomatch" in name.lower()


def strip_query(query: str) -> str:
    """`artist:"Name"` / `artist:Name` / `Name` -> `Name` (the search syntaxes clients send)."""
    match = _QUERY_FIELD.match(query)
    return (match.group("value") if match else query).strip()


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "artist"


def genres_for(name: str, count: int = 2) -> list[str]:
    raw = digest("genres", name)
    picked: list[str] = []
    for byte in raw:
        genre = GENRES[byte % len(GENRES)]
        if genre not in picked:
            picked.append(genre)
        if len(picked) == count:
            break
    return picked


def spotify_id(name: str) -> str:
    value = int.from_bytes(digest("spotify", name), "big")
    chars = []
    for _ in range(22):
        value, rem = divmod(value, 62)
        chars.append(_BASE62[rem])
    return "".join(chars)


def musicbrainz_id(name: str) -> str:
    return str(uuid.UUID(bytes=digest("musicbrainz", name)[:16], version=4))


def imvdb_artist_id(name: str) -> int:
    return number("imvdb-artist", name, modulo=900_000, offset=100_000)


def imvdb_video_id(artist: str, title: str) -> int:
    return number("imvdb-video", artist, title, modulo=9_000_000, offset=1_000_000)


def youtube_id(*parts: str) -> str:
    value = int.from_bytes(digest("youtube", *parts), "big")
    alphabet = _BASE62 + "-_"
    return "".join(alphabet[(value >> (6 * i)) & 63] for i in range(11))


def spotify_artist(name: str, base_url: str) -> dict[str, Any]:
    artist_id = spotify_id(name)
    return {
        "external_urls": {"spotify": f"https://open.spotify.com/artist/{artist_id}"},
        "followers": {"href": None, "total": number("followers", name, modulo=5_000_000)},
        "genres": genres_for(name, 3),
        "href": f"{base_url}/v1/artists/{artist_id}",
        "id": artist_id,
        "images": [
            {"url": f"https://i.scdn.co/image/{artist_id}-{size}", "height": size, "width": size}
            for size in (640, 320, 160)
        ],
        "name": name,
        "popularity": number("popularity", name, modulo=100),
        "type": "artist",
        "uri": f"spotify:artist:{artist_id}",
    }


def spotify_search_items(name: str, base_url: str) -> list[dict[str, Any]]:
    """The exact artist first, then two near misses so clients must match names."""
    if is_unknown(name) or not name:
        return []
    return [
        spotify_artist(name, base_url),
        spotify_artist(f"{name} Tribute Band", base_url),
        spotify_artist(f"The {name} Experience", base_url),
    ]


def musicbrainz_artist(name: str, score: int) -> dict[str, Any]:
    begin = number("begin", name, modulo=50, offset=1960)
    artist: dict[str, Any] = {
        "id": musicbrainz_id(name),
        "type": "Group" if number("type", name, modulo=2) else "Person",
        "score": score,
        "name": name,
        "sort-name": name,
        "country": COUNTRIES[number("country", name, modulo=len(COUNTRIES))],
        "life-span": {"begin": str(begin), "ended": None},
        "tags": [{"count": 3 - i, "name": g} for i, g in enumerate(genres_for(name, 2))],
    }
    return artist


def musicbrainz_search(name: str) -> list[dict[str, Any]]:
    if is_unknown(name) or not name:
        return []
    return [musicbrainz_artist(name, 100), musicbrainz_artist(f"{name} & Friends", 62)]


def lastfm_artist(name: str) -> dict[str, Any]:
    url = f"https://www.last.fm/music/{slug(name)}"
    return {
        "name": name,
        "mbid": musicbrainz_id(name),
        "url": url,
        "image": [
            {"#text": f"https://lastfm.freetls.fastly.net/i/u/{size}/{slug(name)}.png", "size": size}
            for size in ("small", "medium", "large")
        ],
        "streamable": "0",
        "ontour": "0",
        "stats": {
            "listeners": str(number("listeners", name, modulo=2_000_000)),
            "playcount": str(number("playcount", name, modulo=90_000_000)),
        },
        "similar": {"artist": [{"name": f"{name} Revival", "url": f"{url}-revival", "image": []}]},
        "tags": {
            "tag": [{"name": g, "url": f"https://www.last.fm/tag/{slug(g)}"} for g in genres_for(name, 3)]
        },
        "bio": {
            "published": "01 Jan 2010, 00:00",
            "summary": f'{name} is a band derived from a hash. <a href="{url}">Read more on Last.fm</a>',
            "content": f"{name} is a band derived from a hash.",
        },
    }


def lastfm_track(artist: str, title: str) -> dict[str, Any]:
    return {
        "name": title,
        "mbid": str(uuid.UUID(bytes=digest("recording", artist, title)[:16], version=4)),
        "url": f"https://www.last.fm/music/{slug(artist)}/_/{slug(title)}",
        "duration": str(number("duration", artist, title, modulo=180, offset=150) * 1000),
        "streamable": {"#text": "0", "fulltrack": "0"},
        "listeners": str(number("track-listeners", artist, title, modulo=500_000)),
        "playcount": str(number("track-playcount", artist, title, modulo=5_000_000)),
        "artist": {
            "name": artist,
            "mbid": musicbrainz_id(artist),
            "url": f"https://www.last.fm/music/{slug(artist)}",
        },
        "toptags": {
            "tag": [{"name": g, "url": f"https://www.last.fm/tag/{slug(g)}"} for g in genres_for(title, 2)]
        },
    }


def imvdb_entity(name: str) -> dict[str, Any]:
    entity_id = imvdb_artist_id(name)
    return {
        "id": entity_id,
        "name": name,
        "slug": slug(name),
        "url": f"https://imvdb.com/n/{slug(name)}",
        "discogs_id": number("discogs", name, modulo=1_000_000),
        "byline": None,
        "bio": None,
        "image": {"o": f"https://s3.amazonaws.com/images.imvdb.com/entity/{entity_id}_ov.jpg"},
        "artist_video_count": number("video-count", name, modulo=40, offset=1),
        "featured_video_count": number("featured-count", name, modulo=5),
    }


def imvdb_video(video_id: int, artist: str, title: str, *, detailed: bool) -> dict[str, Any]:
    video: dict[str, Any] = {
        "id": video_id,
        "production_status": "r",
        "song_title": title,
        "song_slug": slug(title),
        "url": f"https://imvdb.com/video/{slug(artist)}/{slug(title)}",
        "multiple_versions": False,
        "version_name": None,
        "version_number": 1,
        "is_imvdb_pick": False,
        "aspect_ratio": None,
        "year": number("year", artist, title, modulo=40, offset=1985),
        "verified_credits": False,
        "artists": [{"name": artist, "slug": slug(artist), "url": f"https://imvdb.com/n/{slug(artist)}"}],
        "image": {
            size: f"https://s3.amazonaws.com/images.imvdb.com/video/{video_id}_{size}.jpg"
            for size in ("o", "l", "b", "t", "s")
        },
    }
    if detailed:
        director = DIRECTORS[number("director", artist, title, modulo=len(DIRECTORS))]
        video["directors"] = [{"entity_name": director, "entity_slug": slug(director), "entity_id": 1}]
        video["sources"] = [
            {"source": "youtube", "source_data": youtube_id(artist, title), "is_primary": True}
        ]
        video["featured_artists"] = []
    return video
