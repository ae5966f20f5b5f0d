"""`python -m bench <name>|all`: run one registered benchmark, or all of them.

Add a benchmark by adding a line to ``BENCHMARKS``: name -> module exposing ``main(argv) -> int``,
and a step to ``bench.suite.PLAN`` so that ``all`` runs it. Results go to
``bench/results/<name>.md`` and ``.json``; ``all`` also writes ``latest.md``, ``latest.json`` and plots.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

BENCHMARKS: dict[str, str] = {
    "gateway": "bench.gateway",
    "db": "bench.db",
    "enrich": "bench.enrich",
    "system": "bench.system",
    "memory": "bench.memory",
    "pods": "bench.pods",
    "reliability": "bench.reliability",
}


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: python -m bench {{{'|'.join([*BENCHMARKS, 'all'])}}} [options]")
        return 0 if argv else 2
    name, rest = argv[0], list(argv[1:])
    if name == "all":
        from bench import suite

        return suite.main(rest)
    module = BENCHMARKS.get(name)
    if module is None:
        print(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    status: int = importlib.import_module(module).main(rest)
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
