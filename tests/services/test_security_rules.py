"""Every services route's access rule, as `python -m services.auth routes` prints it, against the
table of intended rules (issue 15): a route added without its rule, or a rule loosened, fails here.

The intent, from legacy's own UI (legacy's API checks less than its UI shows):
- reads: legacy's login guard (`require_authentication`);
- content writes: `can_modify` (creates, updates, playlist deletes) or `can_delete` (video and artist
  deletes) for an authenticated caller; an anonymous one is left to the login guard, as on legacy;
- settings writes, API keys, roles, system administration: ADMIN.
"""

from __future__ import annotations

import pytest

from services.auth.__main__ import main

GUARD = "login when require_authentication is on"
MODIFY = "can_modify (anonymous: login guard)"
DELETE = "can_delete (anonymous: login guard)"

INTENDED = {
    "GET /healthz": "public",
    "POST /auth/login": "public",
    "POST /auth/logout": "authenticated",
    "GET /auth/check": "public",
    "GET /auth/session": "legacy session",
    "POST /auth/token": "public",
    "POST /auth/refresh": "refresh cookie",
    "POST /auth/session-exchange": "legacy session",
    "GET /auth/me": "authenticated",
    "POST /auth/api-keys": "role>=ADMIN",
    "GET /auth/api-keys": "role>=ADMIN",
    "DELETE /auth/api-keys/{key_id}": "role>=ADMIN",
    "PUT /auth/users/{user_id}/role": "role>=ADMIN",
    "GET /api/settings/": GUARD,
    "PUT /api/settings/bulk": f"{GUARD}, role>=ADMIN",
    "GET /api/settings/{key}": GUARD,
    "PUT /api/settings/{key}": f"{GUARD}, role>=ADMIN",
    "DELETE /api/settings/{key}": f"{GUARD}, role>=ADMIN",
    "GET /api/videos/": GUARD,
    "GET /api/videos/search": GUARD,
    "POST /api/videos/": f"{MODIFY}, {GUARD}",
    "GET /api/videos/{video_id:int}": GUARD,
    "PUT /api/videos/{video_id:int}": f"{MODIFY}, {GUARD}",
    "PUT /api/videos/{video_id:int}/status": f"{MODIFY}, {GUARD}",
    "DELETE /api/videos/{video_id:int}": f"{DELETE}, {GUARD}",
    "GET /api/artists/": GUARD,
    "POST /api/artists/": f"{MODIFY}, {GUARD}",
    "GET /api/artists/{artist_id:int}": GUARD,
    "PUT /api/artists/{artist_id:int}": f"{MODIFY}, {GUARD}",
    "PUT /api/artists/{artist_id:int}/settings": f"{MODIFY}, {GUARD}",
    "DELETE /api/artists/{artist_id:int}": f"{DELETE}, {GUARD}",
    "GET /api/playlists/": f"{GUARD}, session user",
    "GET /api/playlists/{playlist_id:int}": f"{GUARD}, session user",
    "POST /api/playlists/": f"{MODIFY}, {GUARD}, session user",
    "PUT /api/playlists/{playlist_id:int}": f"{MODIFY}, {GUARD}, session user",
    "DELETE /api/playlists/{playlist_id:int}": f"{MODIFY}, {GUARD}, session user",
    "POST /api/playlists/{playlist_id:int}/videos": f"{MODIFY}, {GUARD}, session user",
    "DELETE /api/playlists/{playlist_id:int}/videos/{entry_id:int}": f"{MODIFY}, {GUARD}, session user",
    "POST /api/playlists/{playlist_id:int}/videos/reorder": f"{MODIFY}, {GUARD}, session user",
    "GET /metrics": "public",
    "POST /api/metadata-enrichment/enrich/{artist_id:int}": f"{MODIFY}, {GUARD}",
    "POST /api/videos/{video_id:int}/refresh-metadata": f"{MODIFY}, {GUARD}",
    "POST /api/metadata-enrichment/enrich": f"{MODIFY}, {GUARD}",
    "GET /api/health/": "public",
    "GET /api/health": "public",
    "GET /api/health/status": "public",
    "GET /api/health/database": "public",
    "GET /api/health/imvdb": "public",
    "GET /api/health/version": "public",
    "GET /api/health/system": "public",
    "GET /admin/system/status/service": "admin (legacy @admin_required bodies)",
    "GET /admin/system/logs/recent": "admin (legacy @admin_required bodies)",
    "POST /admin/system/restart": "admin (legacy @admin_required bodies)",
    "POST /admin/api/users/{user_id:int}/role": "admin (legacy @admin_required bodies)",
    "POST /admin/api/users/{user_id:int}/toggle-active": "admin (legacy @admin_required bodies)",
}


def _printed(capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    assert main(["routes"]) == 0
    printed = {}
    for line in capsys.readouterr().out.splitlines():
        route, _, rules = line.partition("  ")
        printed[route.strip()] = rules.strip()
    return printed


def test_every_route_states_the_intended_rule(capsys: pytest.CaptureFixture[str]) -> None:
    printed = _printed(capsys)
    assert sorted(set(printed) ^ set(INTENDED)) == [], "routes added or removed: update INTENDED"
    wrong = {route: (printed[route], rule) for route, rule in INTENDED.items() if printed[route] != rule}
    assert wrong == {}


def test_no_write_is_left_to_the_login_guard_alone(capsys: pytest.CaptureFixture[str]) -> None:
    for route, rules in _printed(capsys).items():
        method = route.split(" ", 1)[0]
        if method in ("POST", "PUT", "DELETE") and route.split(" ", 1)[1].startswith("/api/"):
            assert "can_" in rules or "role>=ADMIN" in rules, route
