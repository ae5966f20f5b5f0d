"""A fake of the four metadata providers (Spotify, MusicBrainz, Last.fm, IMVDb) in one ASGI app.

Run it with ``python -m tests.fakes.providers --port 8090``; tests run ``create_app()`` with
``tests.support.servers.uvicorn_thread``. URL layout (base URLs a client is configured with):

    Spotify accounts  {root}/spotify/accounts     POST /api/token (client credentials, Basic auth)
    Spotify API       {root}/spotify/v1           GET /search?type=artist&q=..., GET /artists/<id>
    MusicBrainz       {root}/musicbrainz/ws/2     GET /artist?query=...&fmt=json, GET /artist/<mbid>
    Last.fm           {root}/lastfm/2.0/          GET ?method=artist.getinfo|track.getinfo&api_key=..
    IMVDb             {root}/imvdb/api/v1         GET /search/entities, /search/videos, /video/<id>
    Introspection     {root}/_fake/               GET stats, GET|POST config, POST reset

Answers are derived from the names in the query (see ``_catalog``), so they are the same on
every run and match whatever artists the seed created. Each provider has a latency and an error
rate (``POST /_fake/config`` or CLI flags); calls are counted per provider and per endpoint.
MusicBrainz answers 503 when one client (by IP) sends requests closer than ``min_interval``
apart, as musicbrainz.org does, and records each violation.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes import _catalog as catalog

PROVIDERS = ("spotify", "musicbrainz", "lastfm", "imvdb")

# The credentials the fake accepts unless told otherwise; the legacy app and the services
# use them when `make run` starts the fake instead of real providers.
SPOTIFY_CLIENT_ID = "fake-spotify-client"
SPOTIFY_CLIENT_SECRET = "fake-spotify-secret"
LASTFM_API_KEY = "fake-lastfm-key"
IMVDB_API_KEY = "fake-imvdb-key"

DEFAULT_MUSICBRAINZ_MIN_INTERVAL = 1.0
# Arrival times jitter by a few milliseconds even when a client spaces its sends exactly.
MUSICBRAINZ_SLACK = 0.05
DEFAULT_TOKEN_TTL = 3600
MAX_VIOLATION_LOG = 200


@dataclass
class ProviderBehaviour:
    latency: float = 0.0
    error_rate: float = 0.0
    error_status: int = 500  # 429 and 503 answers carry Retry-After, as the real services send


@dataclass
class FakeState:
    """Everything the fake remembers; `app.state.fake` in-process, `/_fake/stats` over HTTP."""

    behaviour: dict[str, ProviderBehaviour]
    musicbrainz_min_interval: float = DEFAULT_MUSICBRAINZ_MIN_INTERVAL
    token_ttl: int = DEFAULT_TOKEN_TTL
    spotify_client_id: str = SPOTIFY_CLIENT_ID
    spotify_client_secret: str = SPOTIFY_CLIENT_SECRET
    lastfm_api_key: str = LASTFM_API_KEY
    imvdb_api_key: str = IMVDB_API_KEY
    seed: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    endpoints: Counter[str] = field(default_factory=Counter)
    errors_injected: Counter[str] = field(default_factory=Counter)
    tokens_issued: int = 0
    musicbrainz_violations: int = 0
    violation_log: list[dict[str, Any]] = field(default_factory=list)
    user_agents: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    tokens: dict[str, float] = field(default_factory=dict)
    spotify_artists: dict[str, str] = field(default_factory=dict)
    musicbrainz_artists: dict[str, str] = field(default_factory=dict)
    imvdb_videos: dict[int, tuple[str, str]] = field(default_factory=dict)
    last_musicbrainz: dict[str, float] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self.rng.seed(self.seed)

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.endpoints.clear()
            self.errors_injected.clear()
            self.user_agents.clear()
            self.tokens_issued = 0
            self.musicbrainz_violations = 0
            self.violation_log.clear()
            self.last_musicbrainz.clear()
            self.rng.seed(self.seed)

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "calls": {p: self.calls[p] for p in PROVIDERS},
                "endpoints": dict(self.endpoints),
                "errors_injected": {p: self.errors_injected[p] for p in PROVIDERS},
                "spotify": {"tokens_issued": self.tokens_issued},
                "musicbrainz": {
                    "violations": self.musicbrainz_violations,
                    "violation_log": list(self.violation_log),
                    "min_interval": self.musicbrainz_min_interval,
                    "user_agents": dict(self.user_agents),
                },
            }

    def config(self) -> dict[str, Any]:
        providers: dict[str, Any] = {
            name: {"latency": b.latency, "error_rate": b.error_rate, "error_status": b.error_status}
            for name, b in self.behaviour.items()
        }
        providers["musicbrainz"]["min_interval"] = self.musicbrainz_min_interval
        providers["spotify"]["token_ttl"] = self.token_ttl
        return providers

    def apply_config(self, body: dict[str, Any]) -> None:
        """Apply `{"spotify": {"latency": .1, "error_rate": .5}, "musicbrainz": {"min_interval": .2}}`."""
        with self.lock:
            for name, values in body.items():
                if name not in self.behaviour or not isinstance(values, dict):
                    raise ValueError(f"unknown provider {name!r}; expected one of {', '.join(PROVIDERS)}")
                behaviour = self.behaviour[name]
                for key, value in values.items():
                    if key == "latency":
                        behaviour.latency = _non_negative(key, value)
                    elif key == "error_rate":
                        behaviour.error_rate = _rate(value)
                    elif key == "error_status":
                        if not isinstance(value, int) or not 400 <= value <= 599:
                            raise ValueError("error_status must be an HTTP error status (400-599)")
                        behaviour.error_status = value
                    elif key == "min_interval" and name == "musicbrainz":
                        self.musicbrainz_min_interval = _non_negative(key, value)
                    elif key == "token_ttl" and name == "spotify":
                        self.token_ttl = int(_non_negative(key, value))
                    else:
                        raise ValueError(f"unknown setting {key!r} for {name}")


def _non_negative(key: str, value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{key} must be a non-negative number")
    return float(value)


def _rate(value: Any) -> float:
    rate = _non_negative("error_rate", value)
    if rate > 1:
        raise ValueError("error_rate must be between 0 and 1")
    return rate


Handler = Callable[[Request, FakeState], Awaitable[Response]]


def _provider(name: str, endpoint: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler with counting, latency and error injection for one provider."""

    async def endpoint_fn(request: Request) -> Response:
        state: FakeState = request.app.state.fake
        behaviour = state.behaviour[name]
        with state.lock:
            state.calls[name] += 1
            state.endpoints[f"{name}.{endpoint}"] += 1
            fail = behaviour.error_rate > 0 and state.rng.random() < behaviour.error_rate
            if fail:
                state.errors_injected[name] += 1
        if behaviour.latency:
            await asyncio.sleep(behaviour.latency)
        if fail:
            return _injected_error(name, behaviour.error_status)
        return await handler(request, state)

    return endpoint_fn


def _injected_error(name: str, status: int) -> Response:
    headers = {"Retry-After": "1"} if status in (429, 503) else None
    body: dict[str, Any]
    if name == "lastfm":
        body = {
            "error": 16,
            "message": "There was a temporary error processing your request. Please try again",
        }
    elif name == "spotify":
        body = {"error": {"status": status, "message": "Injected failure"}}
    elif name == "musicbrainz":
        body = {"error": "Injected failure"}
    else:
        body = {"status": status, "error": "Injected failure"}
    return JSONResponse(body, status_code=status, headers=headers)


# ---------------------------------------------------------------- Spotify


def _spotify_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)


async def spotify_token(request: Request, state: FakeState) -> Response:
    # Parsed by hand: starlette's form parser needs python-multipart, which nothing else needs.
    form = {k: v[-1] for k, v in parse_qs((await request.body()).decode("latin-1")).items()}
    header = request.headers.get("authorization", "")
    client_id = client_secret = ""
    if header.lower().startswith("basic "):
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
    if not client_id:  # Spotify also accepts credentials in the body
        client_id = str(form.get("client_id") or "")
        client_secret = str(form.get("client_secret") or "")
    grant = form.get("grant_type")
    if not grant:
        return JSONResponse(
            {"error": "unsupported_grant_type", "error_description": "grant_type parameter is missing"},
            status_code=400,
        )
    if grant != "client_credentials":
        return JSONResponse(
            {"error": "unsupported_grant_type", "error_description": f"grant_type {grant} is not supported"},
            status_code=400,
        )
    ok = secrets.compare_digest(client_id, state.spotify_client_id) and secrets.compare_digest(
        client_secret, state.spotify_client_secret
    )
    if not ok:
        return JSONResponse(
            {"error": "invalid_client", "error_description": "Invalid client"}, status_code=400
        )
    token = "fake-" + secrets.token_urlsafe(24)
    with state.lock:
        state.tokens[token] = time.monotonic() + state.token_ttl
        state.tokens_issued += 1
    return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": state.token_ttl})


def _spotify_auth(request: Request, state: FakeState) -> Response | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return _spotify_error(401, "No token provided")
    expiry = state.tokens.get(header[7:].strip())
    if expiry is None:
        return _spotify_error(401, "Invalid access token")
    if expiry < time.monotonic():
        return _spotify_error(401, "The access token expired")
    return None


def _spotify_root(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/spotify"


async def spotify_search(request: Request, state: FakeState) -> Response:
    if (denied := _spotify_auth(request, state)) is not None:
        return denied
    query = request.query_params.get("q", "")
    kind = request.query_params.get("type")
    if not query:
        return _spotify_error(400, "No search query")
    if not kind:
        return _spotify_error(400, "Missing parameter type")
    if kind != "artist":
        return _spotify_error(400, "Bad search type field")
    try:
        limit = int(request.query_params.get("limit", "20"))
        offset = int(request.query_params.get("offset", "0"))
    except ValueError:
        return _spotify_error(400, "Invalid limit")
    if not 0 <= limit <= 50:
        return _spotify_error(400, "Invalid limit")
    items = catalog.spotify_search_items(catalog.strip_query(query), _spotify_root(request))
    with state.lock:
        for item in items:
            state.spotify_artists[item["id"]] = item["name"]
    page = items[offset : offset + limit]
    href = f"{_spotify_root(request)}/v1/search?query={query}&type=artist&offset={offset}&limit={limit}"
    return JSONResponse(
        {
            "artists": {
                "href": href,
                "items": page,
                "limit": limit,
                "next": None,
                "offset": offset,
                "previous": None,
                "total": len(items),
            }
        }
    )


async def spotify_artist(request: Request, state: FakeState) -> Response:
    if (denied := _spotify_auth(request, state)) is not None:
        return denied
    artist_id = request.path_params["artist_id"]
    if len(artist_id) != 22 or not artist_id.isalnum():
        return _spotify_error(400, "invalid id")
    name = state.spotify_artists.get(artist_id)
    if name is None:
        return _spotify_error(404, "Resource not found")
    return JSONResponse(catalog.spotify_artist(name, _spotify_root(request)))


# ------------------------------------------------------------ MusicBrainz


def _musicbrainz_gate(request: Request, state: FakeState) -> Response | None:
    agent = request.headers.get("user-agent", "")
    if not agent or agent.lower().startswith(("python-requests", "python-urllib")):
        return JSONResponse(
            {
                "error": "Requests without a meaningful User-Agent are blocked; "
                "see the MusicBrainz API rate limiting rules"
            },
            status_code=403,
        )
    client = request.client.host if request.client else "unknown"
    now = time.monotonic()
    with state.lock:
        state.user_agents[agent] += 1
        last = state.last_musicbrainz.get(client)
        if last is not None and now - last < state.musicbrainz_min_interval - MUSICBRAINZ_SLACK:
            state.musicbrainz_violations += 1
            if len(state.violation_log) < MAX_VIOLATION_LOG:
                state.violation_log.append(
                    {"client": client, "user_agent": agent, "interval": round(now - last, 4)}
                )
            return JSONResponse(
                {
                    "error": "Your requests are exceeding the allowable rate limit. Please see "
                    "https://wiki.musicbrainz.org/MusicBrainz_API/Rate_Limiting for more information."
                },
                status_code=503,
            )
        state.last_musicbrainz[client] = now
    if request.query_params.get("fmt", "json") != "json":
        return Response("<metadata/>", media_type="application/xml")
    return None


async def musicbrainz_search(request: Request, state: FakeState) -> Response:
    if (denied := _musicbrainz_gate(request, state)) is not None:
        return denied
    query = request.query_params.get("query", "")
    if not query:
        return JSONResponse({"error": "Invalid query: query parameter is required"}, status_code=400)
    try:
        limit = min(int(request.query_params.get("limit", "25")), 100)
        offset = int(request.query_params.get("offset", "0"))
    except ValueError:
        return JSONResponse({"error": "Invalid limit or offset"}, status_code=400)
    artists = catalog.musicbrainz_search(catalog.strip_query(query))
    with state.lock:
        for artist in artists:
            state.musicbrainz_artists[artist["id"]] = artist["name"]
    return JSONResponse(
        {
            "created": "2026-01-01T00:00:00.000Z",
            "count": len(artists),
            "offset": offset,
            "artists": artists[offset : offset + limit],
        }
    )


async def musicbrainz_artist(request: Request, state: FakeState) -> Response:
    if (denied := _musicbrainz_gate(request, state)) is not None:
        return denied
    name = state.musicbrainz_artists.get(request.path_params["mbid"])
    if name is None:
        return JSONResponse(
            {"error": "Not Found", "help": "For usage, please see: https://musicbrainz.org/development/mmd"},
            status_code=404,
        )
    artist = catalog.musicbrainz_artist(name, 100)
    artist.pop("score")
    artist["genres"] = [
        {"count": t["count"], "name": t["name"], "disambiguation": ""} for t in artist["tags"]
    ]
    return JSONResponse(artist)


# ---------------------------------------------------------------- Last.fm


def _lastfm_error(code: int, message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


async def lastfm(request: Request, state: FakeState) -> Response:
    params = request.query_params
    method = (params.get("method") or "").lower()
    key = params.get("api_key") or ""
    if not method:
        return _lastfm_error(3, "Invalid Method - No method with that name in this package", 400)
    if not key or not secrets.compare_digest(key, state.lastfm_api_key):
        return _lastfm_error(10, "Invalid API key - You must be granted a valid key by last.fm", 403)
    if method == "artist.getinfo":
        name = params.get("artist") or ""
        if not name:
            return _lastfm_error(6, "You must supply either an artist name or a musicbrainz id", 400)
        if catalog.is_unknown(name):
            return _lastfm_error(6, "The artist you supplied could not be found", 404)
        return JSONResponse({"artist": catalog.lastfm_artist(name)})
    if method == "track.getinfo":
        artist, track = params.get("artist") or "", params.get("track") or ""
        if not artist or not track:
            return _lastfm_error(6, "Track not found", 400)
        if catalog.is_unknown(artist) or catalog.is_unknown(track):
            return _lastfm_error(6, "Track not found", 404)
        return JSONResponse({"track": catalog.lastfm_track(artist, track)})
    return _lastfm_error(3, "Invalid Method - No method with that name in this package", 400)


# ------------------------------------------------------------------ IMVDb


def _imvdb_auth(request: Request, state: FakeState) -> Response | None:
    header = request.headers.get("authorization", "")
    key = (
        header[7:].strip()
        if header.lower().startswith("bearer ")
        else request.headers.get("imvdb-app-key", "")
    )
    if not key:
        return JSONResponse({"status": 401, "error": "Missing API key"}, status_code=401)
    if not secrets.compare_digest(key, state.imvdb_api_key):
        return JSONResponse({"status": 401, "error": "Invalid API key"}, status_code=401)
    return None


def _imvdb_page(results: list[dict[str, Any]], request: Request) -> JSONResponse:
    try:
        per_page = max(1, min(int(request.query_params.get("per_page", "25")), 100))
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        return JSONResponse({"status": 400, "error": "Invalid page"}, status_code=400)
    start = (page - 1) * per_page
    return JSONResponse(
        {
            "total_results": len(results),
            "current_page": page,
            "per_page": per_page,
            "total_pages": max(1, -(-len(results) // per_page)),
            "results": results[start : start + per_page],
        }
    )


async def imvdb_search_entities(request: Request, state: FakeState) -> Response:
    if (denied := _imvdb_auth(request, state)) is not None:
        return denied
    query = (request.query_params.get("q") or "").strip()
    if not query:
        return JSONResponse({"status": 400, "error": "A search query (q) is required"}, status_code=400)
    results = [] if catalog.is_unknown(query) else [catalog.imvdb_entity(query)]
    return _imvdb_page(results, request)


async def imvdb_search_videos(request: Request, state: FakeState) -> Response:
    """`q` is "<artist> <title>" as clients send it; an ` - ` or the first word splits it."""
    if (denied := _imvdb_auth(request, state)) is not None:
        return denied
    query = (request.query_params.get("q") or "").strip()
    if not query:
        return JSONResponse({"status": 400, "error": "A search query (q) is required"}, status_code=400)
    if catalog.is_unknown(query):
        return _imvdb_page([], request)
    artist, sep, title = query.partition(" - ")
    if not sep:
        artist, _, title = query.partition(" ")
        title = title or artist
    video_id = catalog.imvdb_video_id(artist, title)
    with state.lock:
        state.imvdb_videos[video_id] = (artist, title)
    return _imvdb_page([catalog.imvdb_video(video_id, artist, title, detailed=False)], request)


async def imvdb_video(request: Request, state: FakeState) -> Response:
    if (denied := _imvdb_auth(request, state)) is not None:
        return denied
    raw = request.path_params["video_id"]
    known = state.imvdb_videos.get(int(raw)) if raw.isdigit() else None
    if known is None:
        return JSONResponse({"status": 404, "error": "Video not found"}, status_code=404)
    return JSONResponse(catalog.imvdb_video(int(raw), *known, detailed=True))


# ----------------------------------------------------------- introspection


async def fake_stats(request: Request) -> Response:
    return JSONResponse(request.app.state.fake.stats())


async def fake_config(request: Request) -> Response:
    state: FakeState = request.app.state.fake
    if request.method == "POST":
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object keyed by provider")
            state.apply_config(body)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(state.config())


async def fake_reset(request: Request) -> Response:
    request.app.state.fake.reset()
    return JSONResponse(request.app.state.fake.stats())


def _behaviours(
    latency: float | dict[str, float], error_rate: float | dict[str, float]
) -> dict[str, ProviderBehaviour]:
    def pick(value: float | dict[str, float], name: str) -> float:
        return float(value.get(name, 0.0)) if isinstance(value, dict) else float(value)

    return {
        name: ProviderBehaviour(latency=pick(latency, name), error_rate=_rate(pick(error_rate, name)))
        for name in PROVIDERS
    }


def create_app(
    *,
    latency: float | dict[str, float] = 0.0,
    error_rate: float | dict[str, float] = 0.0,
    musicbrainz_min_interval: float = DEFAULT_MUSICBRAINZ_MIN_INTERVAL,
    token_ttl: int = DEFAULT_TOKEN_TTL,
    spotify_client_id: str = SPOTIFY_CLIENT_ID,
    spotify_client_secret: str = SPOTIFY_CLIENT_SECRET,
    lastfm_api_key: str = LASTFM_API_KEY,
    imvdb_api_key: str = IMVDB_API_KEY,
    seed: int = 0,
) -> Starlette:
    """The fake provider app. `latency`/`error_rate` are one value for all or a dict per provider."""
    state = FakeState(
        behaviour=_behaviours(latency, error_rate),
        musicbrainz_min_interval=musicbrainz_min_interval,
        token_ttl=token_ttl,
        spotify_client_id=spotify_client_id,
        spotify_client_secret=spotify_client_secret,
        lastfm_api_key=lastfm_api_key,
        imvdb_api_key=imvdb_api_key,
        seed=seed,
    )
    routes = [
        Route("/spotify/accounts/api/token", _provider("spotify", "token", spotify_token), methods=["POST"]),
        Route("/spotify/v1/search", _provider("spotify", "search", spotify_search)),
        Route("/spotify/v1/artists/{artist_id}", _provider("spotify", "artist", spotify_artist)),
        Route("/musicbrainz/ws/2/artist", _provider("musicbrainz", "artist_search", musicbrainz_search)),
        Route("/musicbrainz/ws/2/artist/{mbid}", _provider("musicbrainz", "artist", musicbrainz_artist)),
        Route("/lastfm/2.0/", _provider("lastfm", "api", lastfm), methods=["GET", "POST"]),
        Route("/imvdb/api/v1/search/entities", _provider("imvdb", "search_entities", imvdb_search_entities)),
        Route("/imvdb/api/v1/search/videos", _provider("imvdb", "search_videos", imvdb_search_videos)),
        Route("/imvdb/api/v1/video/{video_id}", _provider("imvdb", "video", imvdb_video)),
        Route("/_fake/stats", fake_stats),
        Route("/_fake/config", fake_config, methods=["GET", "POST"]),
        Route("/_fake/reset", fake_reset, methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.fake = state
    return app


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.providers", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every provider answer")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of answers that fail (0..1)")
    for name in PROVIDERS:
        parser.add_argument(f"--{name}-latency", type=float, default=None)
        parser.add_argument(f"--{name}-error-rate", type=float, default=None)
    parser.add_argument("--musicbrainz-min-interval", type=float, default=DEFAULT_MUSICBRAINZ_MIN_INTERVAL)
    parser.add_argument("--token-ttl", type=int, default=DEFAULT_TOKEN_TTL, help="Spotify token lifetime (s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the error-injection RNG")
    parser.add_argument("--log-level", default="warning")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    args = _parse_args(argv)
    latency = {p: getattr(args, f"{p}_latency") for p in PROVIDERS}
    errors = {p: getattr(args, f"{p}_error_rate") for p in PROVIDERS}
    app = create_app(
        latency={p: args.latency if v is None else v for p, v in latency.items()},
        error_rate={p: args.error_rate if v is None else v for p, v in errors.items()},
        musicbrainz_min_interval=args.musicbrainz_min_interval,
        token_ttl=args.token_ttl,
        seed=args.seed,
    )
    # Keep idle connections as long as the real providers' front ends do (nginx's default 75 s),
    # not uvicorn's 5 s: a client's pooled connections would otherwise be dropped between
    # bursts and the benchmarks would measure reconnects the real services do not cause.
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, timeout_keep_alive=75)


if __name__ == "__main__":
    main()
