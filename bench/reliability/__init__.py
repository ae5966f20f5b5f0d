"""``python -m bench reliability [--quick] [--only NAME ...]``: the proving ground.

Attacks the running system (real processes on loopback, bounded loops) and writes
``bench/results/reliability.md`` and ``.json``: per scenario the load held, the faults injected,
requests failed, rows lost or duplicated, and whether every check held. The hostile-input suites
(HTTP, routing.yaml fuzzer, OpenAPI fuzzing, concurrent writes) run as pytest suites and their
totals go into the same report. ``--quick`` is the bounded CI variant (``tests/reliability``
runs the same scenarios with the quick bounds).

Environment: ``FIGWAY_TEST_MARIADB_URL`` (server URL) runs the database scenarios on MariaDB too
and enables the MariaDB restart scenario (it runs ``service mariadb restart``).
"""

from __future__ import annotations

from bench.reliability.main import main

__all__ = ["main"]
