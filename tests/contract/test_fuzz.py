"""The differential fuzzer: hypothesis-generated requests to legacy and services, twin databases.

Bounded here (`make test`); `make contract-fuzz` runs it long and prints every difference,
minimised. Every difference not allowed by differences.yaml fails the test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.contract.conftest import _backend
from tests.contract.differential import Probe
from tests.contract.fuzz import EXAMPLES_ENV, FuzzBench, examples, fuzz_bench
from tests.contract.fuzz_requests import probes
from tests.support.databases import fresh_database

BOUNDED_EXAMPLES = 250  # per backend, about half a minute each; `make contract-fuzz` runs thousands


@pytest.fixture
def bench(database_url: str, tmp_path: Path) -> Iterator[FuzzBench]:
    twin_dir = tmp_path / "twin"
    twin_dir.mkdir()
    with (
        fresh_database(_backend(database_url), twin_dir) as twin_url,
        fuzz_bench(database_url, twin_url) as b,
    ):
        yield b


@pytest.mark.timeout(900)
def test_services_answer_as_legacy_under_generated_requests(bench: FuzzBench) -> None:
    assert len(bench.endpoints) >= 30, [f"{e.method} {e.rule}" for e in bench.endpoints]

    @settings(
        max_examples=examples(BOUNDED_EXAMPLES),
        deadline=None,
        database=None,
        # make test: the same requests every run (a red CI names a regression, not a new seed);
        # make contract-fuzz (FIGWAY_CONTRACT_FUZZ_EXAMPLES set): fresh random requests each run.
        derandomize=EXAMPLES_ENV not in os.environ,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],  # generate only: the databases evolve, so no shrinking replay
    )
    @given(st.data())
    def one_request(data: st.DataObject) -> None:
        bench.run(data.draw(probes(bench.endpoints, bench.cookies)))

    one_request()
    tally = bench.differ.tally
    print(f"\ndifferential fuzzer: {tally.summary()}")
    found = list(bench.minimised)
    for difference in found:
        print(difference.render())
    assert tally.compared >= examples(BOUNDED_EXAMPLES)
    assert not found, "\n".join(d.render() for d in found[:20])


@pytest.mark.parametrize(
    "stray",
    [("Authorization", "Bearer x"), ("Authorization", "Bearer"), ("X-API-Key", "x"), ("X-API-Key", "")],
)
def test_a_stray_credential_beside_the_session_cookie_answers_as_legacy(
    bench: FuzzBench, stray: tuple[str, str]
) -> None:
    """Issue 14 class 3 (fixed by issue 15's one credential resolver): legacy ignores the header."""
    for method, path in (("GET", "/auth/check"), ("GET", "/api/playlists/"), ("GET", "/api/videos/?limit=2")):
        probe = Probe(method, path, headers=(stray,), cookies=(("mvidarr_session", bench.cookies["admin"]),))
        difference = bench.differ.compare(probe)
        assert difference is None, difference.render()
