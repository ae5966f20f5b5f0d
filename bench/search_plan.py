"""`python -m bench.search_plan`: what MariaDB spends on `GET /api/videos/search?q=Running`.

The search is a `%q%` match on two columns: no index can serve it, so every request scans the
5,000 videos and their artists. This measures the server's own time per statement with
`ANALYZE FORMAT=JSON` (median of `--repeat` runs, interleaved) for the statements each side
sends, as each sends them:

- legacy: a `count(*)` over the filtered join, then the page with every column of `videos`;
- services before (e1908d2): one statement, the page with a window count over the wide rows;
- services now: one statement, the window count and the sort on ids in a derived table, then
  the page's 100 rows read wide by primary key; the artist's name matched as the ids of the
  200 artists whose name matches, instead of the joined name of each of the 5,000 videos.

Results: bench/results/search-plan.md. Not a test: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, or_, text
from sqlalchemy.dialects import mysql

from bench.db import _database, _migrate, _seed
from bench.gateway import RESULTS

LIKE = "lower(videos.title) LIKE lower('%Running%') OR lower(artists.name) LIKE lower('%Running%')"
FROM = "FROM videos LEFT OUTER JOIN artists ON videos.artist_id = artists.id"
ORDER = "ORDER BY videos.title ASC, videos.id ASC"
LIST = (
    "videos.id, videos.title, videos.artist_id, videos.status, videos.imvdb_id, videos.youtube_url,"
    " videos.url, videos.local_path, videos.thumbnail_url, videos.duration, videos.quality, videos.year,"
    " videos.video_metadata, videos.created_at, videos.genres, artists.name AS artist_name"
)


def _services_now() -> str:
    from sqlalchemy import asc

    from services.videos.listing_routes import _artist_named
    from services.videos.repository import VIDEO_COLUMNS, VideoRepository, _ids_first

    like = "%Running%"
    stmt = VideoRepository(None).rows(genres=True)  # type: ignore[arg-type]
    stmt = stmt.where(or_(VIDEO_COLUMNS.title.ilike(like), _artist_named(like)))
    query = _ids_first(stmt, (asc(VIDEO_COLUMNS.title), asc(VIDEO_COLUMNS.id)), offset=0, limit=100)
    compiled = query.compile(dialect=mysql.dialect(), compile_kwargs={"literal_binds": True})
    return str(compiled).replace("%%", "%")


def statements() -> dict[str, str]:
    legacy_rows = f"SELECT videos.*, artists.name {FROM} WHERE {LIKE}"
    return {
        "legacy: count": f"SELECT count(*) FROM ({legacy_rows}) AS anon_1",
        "legacy: page": f"{legacy_rows} {ORDER} LIMIT 100",
        "services before: windowed page": f"SELECT {LIST}, count(*) OVER () AS total_rows {FROM}"
        f" WHERE {LIKE} {ORDER} LIMIT 100",
        "services now: ids first, artists matched once": _services_now(),
    }


def _analyze(conn: Any, sql: str) -> dict[str, Any]:
    plan: dict[str, Any] = json.loads(conn.execute(text("ANALYZE FORMAT=JSON " + sql)).scalar())
    return plan


def measure(sync_url: str, repeat: int) -> dict[str, list[float]]:
    engine = create_engine(sync_url)
    times: dict[str, list[float]] = {name: [] for name in statements()}
    try:
        with engine.connect() as conn:
            for sql in statements().values():  # warm the buffer pool
                conn.execute(text(sql)).all()
            for _ in range(repeat):
                for name, sql in statements().items():
                    times[name].append(_analyze(conn, sql)["query_block"]["r_total_time_ms"])
    finally:
        engine.dispose()
    return times


def report(times: dict[str, list[float]], repeat: int) -> str:
    load = os.getloadavg()[0]
    lines = [
        "# Search on MariaDB: the server's time per statement (`python -m bench.search_plan`)",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, `ANALYZE FORMAT=JSON`, {repeat} interleaved"
        f" runs per statement, load average {load:.1f}. Seed: legacy demo data at scale 1 (5,000 videos).",
        "`GET /api/videos/search?q=Running` (313 matches, a page of 100).",
        "",
        "| statement | median ms | min ms | per request |",
        "|---|---:|---:|---|",
    ]
    for name, values in times.items():
        per = "legacy sends both" if name.startswith("legacy") else "the only statement"
        lines.append(f"| {name} | {statistics.median(values):.2f} | {min(values):.2f} | {per} |")
    legacy = sum(statistics.median(v) for k, v in times.items() if k.startswith("legacy"))
    now = statistics.median(times["services now: ids first, artists matched once"])
    lines += [
        "",
        f"MariaDB's work per search: legacy's two statements {legacy:.2f} ms, the services' one"
        f" {now:.2f} ms ({legacy / now:.1f}x less). The `%q%` match can use no index: every search"
        " scans the 5,000 videos, so this is the floor of the search's cost on each side.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search_plan", description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--mariadb-url", default=os.environ.get("FIGWAY_TEST_MARIADB_URL"))
    args = parser.parse_args(argv)
    if not args.mariadb_url:
        print("search_plan: set FIGWAY_TEST_MARIADB_URL or --mariadb-url", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp, _database("mariadb", args.mariadb_url, Path(tmp)) as url:
        _seed(url)
        _migrate(url)
        text_out = report(measure(url, args.repeat), args.repeat)
    (RESULTS / "search-plan.md").write_text(text_out)
    print(text_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
