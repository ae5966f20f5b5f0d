"""Schemathesis against the services, every check and every phase (examples, coverage, fuzzing,
stateful), anonymous and as the admin (JWT and legacy session), on SQLite and MariaDB.

    python -m tests.reliability.services_fuzz [--examples N] [--backend sqlite|mariadb ...]

runs the deep pass (`make fuzz`: thousands of cases) and prints schemathesis' report of every
failure, shrunk to its smallest request with a curl line to replay it; the exit status is
non-zero when anything was found. tests/reliability/test_services_fuzz.py runs the same thing
bounded, inside `make test`.

The services run in this process (uvicorn in a thread) over a freshly seeded database; the
schemathesis CLI runs as a child process against their socket, with the settings in
schemathesis.toml beside this file (the two checks scoped to the legacy contract, and why).
Left out: operations that call the outside world or the host (provider enrichment, the IMVDb
probe, the restart command), and, when authenticated, logout (it would revoke the credential
under test; the anonymous pass covers it).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from services.app import create_app
from services.settings import Settings
from tests.contract.harness import prepare_database
from tests.support.databases import BACKENDS, MARIADB_ENV, async_url, fresh_database
from tests.support.servers import uvicorn_thread

CONFIG = Path(__file__).with_name("schemathesis.toml")
PASSWORD = "Figway-demo-1"
PHASES = "examples,coverage,fuzzing,stateful"
OUTSIDE_WORLD = (
    r"api/metadata-enrichment/|api/videos/\{video_id\}/refresh-metadata|api/health/imvdb|admin/system/restart"
)
SEED = 20  # the same cases every run: a failure in CI reproduces locally


@dataclass(frozen=True)
class FuzzResult:
    label: str
    returncode: int
    output: str

    @property
    def cases(self) -> int:
        """How many test cases schemathesis generated (0 when its report has no count)."""
        found = re.search(r"^\s*(\d+) generated", self.output, re.MULTILINE)
        return int(found.group(1)) if found else 0

    @property
    def summary(self) -> str:
        """The report's closing part: failures by code, warnings, and the case count."""
        marker = self.output.rfind("=== SUMMARY ===")
        return self.output[marker:] if marker >= 0 else self.output[-3000:]


@contextmanager
def running_services(backend: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Services over a freshly seeded database; yields the base URL and admin credentials."""
    with tempfile.TemporaryDirectory() as tmp, fresh_database(backend, Path(tmp)) as url:
        prepare_database(url)
        settings = Settings(
            database_url=async_url(url), refresh_cookie_secure=False, login_rate_limit_attempts=10**6
        )
        with uvicorn_thread(create_app(settings)) as server:
            login = httpx.post(f"{server.url}/auth/token", json={"username": "admin", "password": PASSWORD})
            session = httpx.post(f"{server.url}/auth/login", json={"username": "admin", "password": PASSWORD})
            login.raise_for_status()
            session.raise_for_status()
            # No refresh cookie: replaying one is refresh-token reuse, which (rightly) revokes the
            # token family, and with it the access token every later request carries.
            headers = {
                "Authorization": f"Bearer {login.json()['access_token']}",
                "Cookie": f"mvidarr_session={session.cookies['mvidarr_session']}",
            }
            yield server.url, headers


def schemathesis_run(
    base_url: str, *, headers: dict[str, str], examples: int, label: str, extra: Sequence[str] = ()
) -> FuzzResult:
    exclude = OUTSIDE_WORLD + ("|auth/logout" if headers else "")
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{base_url}/openapi.json",
        "--phases",
        PHASES,
        "--max-examples",
        str(examples),
        "--seed",
        str(SEED),
        "--exclude-path-regex",
        f"^/({exclude})",
        "--suppress-health-check",
        "all",
        "--workers",
        "1",
        *(item for name, value in headers.items() for item in ("--header", f"{name}: {value}")),
        *extra,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=3600)
    return FuzzResult(label, done.returncode, done.stdout + done.stderr)


def fuzz_services(backend: str, *, examples: int) -> list[FuzzResult]:
    """Both passes (admin, anonymous) against one freshly seeded database per pass."""
    results = []
    for who in ("admin", "anonymous"):
        with running_services(backend) as (url, admin):
            headers = admin if who == "admin" else {}
            results.append(
                schemathesis_run(url, headers=headers, examples=examples, label=f"{backend}/{who}")
            )
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=int(os.environ.get("FIGWAY_FUZZ_EXAMPLES", "100")))
    parser.add_argument("--backend", action="append", choices=BACKENDS)
    args = parser.parse_args(argv)
    backends = args.backend or [b for b in BACKENDS if b == "sqlite" or os.environ.get(MARIADB_ENV)]
    if "mariadb" not in backends:
        print(f"services fuzz: MariaDB skipped ({MARIADB_ENV} is not set)", flush=True)
    failed = 0
    for backend in backends:
        for result in fuzz_services(backend, examples=args.examples):
            print(
                f"\n##### services fuzz, {result.label}: {result.cases} cases, exit {result.returncode}",
                flush=True,
            )
            print(result.output, flush=True)
            failed += result.returncode != 0
    print(f"\nservices fuzz: {failed} of {len(backends) * 2} passes found problems")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
