"""`python -m services.auth routes`: every services route and the access rule it states."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from services.app import create_app
from services.auth.access import route_rules
from services.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args != ["routes"]:
        print("usage: python -m services.auth routes", file=sys.stderr)
        return 2
    rules = route_rules(create_app(Settings()))
    width = max(len(route) for route in rules)
    for route, found in rules.items():
        print(f"{route:<{width}}  {', '.join(found) or 'NO RULE'}")
    return 1 if any(not found for found in rules.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
