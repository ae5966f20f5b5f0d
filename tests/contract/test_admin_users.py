"""`/admin/api/users/<id>/role` and `/toggle-active`, routed to services by `admin-write`."""

from __future__ import annotations

from tests.contract.harness import Pair

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_role_changes_answer_as_legacy(pair: Pair) -> None:
    pair.check("POST", "/admin/api/users/3/role", content=b"role=manager", headers=FORM, expect=401)
    pair.check(
        "POST", "/admin/api/users/3/role", as_user="user", content=b"role=manager", headers=FORM, expect=403
    )
    pair.check(
        "POST", "/admin/api/users/3/role", as_user="manager", content=b"role=admin", headers=FORM, expect=403
    )
    pair.check(
        "POST",
        "/admin/api/users/3/role",
        as_user="admin",
        content=b"role=%20manager%20",
        headers=FORM,
        expect=200,
    )
    pair.check(
        "POST", "/admin/api/users/3/role", as_user="admin", content=b"role=wizard", headers=FORM, expect=400
    )
    pair.check("POST", "/admin/api/users/3/role", as_user="admin", json={"role": "ADMIN"}, expect=400)
    pair.check(
        "POST", "/admin/api/users/99/role", as_user="admin", content=b"role=USER", headers=FORM, expect=404
    )
    pair.check(
        "POST", "/admin/api/users/99/role", as_user="admin", content=b"role=x", headers=FORM, expect=400
    )
    pair.check(
        "POST",
        "/admin/api/users/4/role",
        as_user="admin",
        content=b"role=readonly&role=admin",  # the first value wins
        headers=FORM,
        expect=200,
    )
    pair.check(
        "POST",
        "/admin/api/users/\u0663/role",
        as_user="admin",
        content=b"role=USER",
        headers=FORM,
        expect=200,
    )
    pair.check("GET", "/admin/api/users/3/role", as_user="admin", expect=405)
    pair.check("POST", "/admin/api/users/abc/role", as_user="admin", expect=404)
    pair.check("GET", "/auth/check", as_user="user", expect=200)  # USER is now a MANAGER on both
    pair.same_rows()


def test_toggle_active_answers_as_legacy(pair: Pair) -> None:
    pair.check("POST", "/admin/api/users/3/toggle-active", expect=401)
    pair.check("POST", "/admin/api/users/3/toggle-active", as_user="readonly", expect=403)
    pair.check("POST", "/admin/api/users/1/toggle-active", as_user="admin", expect=400)
    pair.check("POST", "/admin/api/users/99/toggle-active", as_user="admin", expect=404)
    pair.check("POST", "/admin/api/users/3/toggle-active", as_user="admin", expect=200)
    pair.check("GET", "/auth/check", as_user="user", expect=200)  # deactivated: anonymous on both
    pair.check("POST", "/admin/api/users/3/toggle-active", as_user="admin", expect=200)
    pair.check("GET", "/auth/check", as_user="user", expect=200)
    pair.same_rows()
