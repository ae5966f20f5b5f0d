"""The migrated async services (FastAPI). See services/app.py."""

from services import _legacy_routing

# Before any router module declares a route: `{id:int}` must match as werkzeug's <int:id> does.
_legacy_routing.install()
