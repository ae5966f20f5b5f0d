from __future__ import annotations

import importlib
import json
import urllib.request

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from legacy_flask.__main__ import main
from legacy_flask.database import make_engine
from legacy_flask.models import Artist, Base, Playlist, PlaylistEntry, Setting, User, Video
from legacy_flask.seed import artist_name, seed, video_imvdb_id, video_title
from tests.legacy.conftest import PASSWORD
from tests.support.servers import free_port, python_module, subprocess_server


def _dump(engine: Engine) -> dict[str, list[tuple]]:
    dump = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name != "password_hash"]  # salted, differs per run
            rows = conn.execute(select(*columns).order_by(*table.primary_key.columns)).all()
            dump[table.name] = [tuple(row) for row in rows]
    return dump


def test_artist_names_and_video_titles_are_pinned_and_unique() -> None:
    assert artist_name(1) == "The Velvet Foxes"
    assert artist_name(2) == "Nova Reyes"
    assert artist_name(801).endswith(" 2")
    assert len({artist_name(i) for i in range(1, 2001)}) == 2000
    assert video_title(1) == "Running Lights"
    assert video_imvdb_id(3) == "900003" and video_imvdb_id(4) is None


def test_seed_is_repeatable(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        counts = seed(engine, scale=0.05)
        first = _dump(engine)
        assert seed(engine, scale=0.05) == counts
        assert _dump(engine) == first
    finally:
        engine.dispose()
    assert counts == {
        "users": 4,
        "artists": 10,
        "videos": 250,
        "downloads": counts["downloads"],
        "playlists": 2,
        "playlist_entries": len(first["playlist_entries"]),
    }
    assert [row[1] for row in first["artists"]] == [artist_name(i) for i in range(1, 11)]


def test_full_seed_has_the_documented_sizes_and_users(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    lines: list[str] = []
    try:
        seed(engine, password="Other-pass-1", progress=lines.append)
        with Session(engine) as session:
            assert session.query(func.count(Artist.id)).scalar() == 200
            assert session.query(func.count(Video.id)).scalar() == 5000
            assert session.query(func.count(Playlist.id)).scalar() == 50
            assert session.query(func.count(PlaylistEntry.id)).scalar() > 50
            users = {u.username: u for u in session.query(User)}
            assert {name: u.role.value for name, u in users.items()} == {
                "admin": "ADMIN",
                "manager": "MANAGER",
                "user": "USER",
                "readonly": "READONLY",
            }
            from legacy_flask.auth.service import verify_password

            assert verify_password(users["readonly"].password_hash, "Other-pass-1")
            assert session.query(Setting).filter_by(key="require_authentication").one().value == "false"
    finally:
        engine.dispose()
    assert any("5000 videos" in line for line in lines)


def test_cli_seed_if_empty_seeds_once_then_does_nothing(database_url: str, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("FIGWAY_DEMO_PASSWORD", raising=False)

    assert main(["seed", "--if-empty", "--scale", "0.02"]) == 0
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            session.get(Artist, 1).name = "Edited by hand"
            session.commit()
        capsys.readouterr()

        assert main(["seed", "--if-empty", "--scale", "0.02"]) == 0

        assert "nothing to do" in capsys.readouterr().out
        with Session(engine) as session:
            assert session.get(Artist, 1).name == "Edited by hand"
        assert main(["seed", "--scale", "0.02"]) == 0  # without --if-empty it starts over
        with Session(engine) as session:
            assert session.get(Artist, 1).name == artist_name(1)
    finally:
        engine.dispose()


def test_cli_init_db_creates_tables(sqlite_url: str, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)

    assert main(["init-db"]) == 0

    engine = make_engine(sqlite_url)
    try:
        with Session(engine) as session:
            assert session.query(func.count(User.id)).scalar() == 0
    finally:
        engine.dispose()
    assert "tables created" in capsys.readouterr().out


def test_wsgi_module_exposes_an_app(sqlite_url: str, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    import legacy_flask.wsgi as wsgi

    wsgi = importlib.reload(wsgi)
    assert wsgi.app.config["DATABASE_URL"] == sqlite_url
    assert wsgi.app.config["SESSION_COOKIE_NAME"] == "mvidarr_session"


def test_cli_serve_answers_over_http(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        seed(engine, scale=0.02, password=PASSWORD)
    finally:
        engine.dispose()
    port = free_port()
    args = python_module("legacy_flask", "serve", "--port", str(port))
    with subprocess_server(args, port=port, env={"DATABASE_URL": sqlite_url}) as (server, _proc):
        response = urllib.request.urlopen(f"{server.url}/api/videos/?limit=5", timeout=10)
        with response:
            body = json.load(response)
    assert body["count"] == 5 and body["total"] == 100
