from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from legacy_flask.models import SessionStatus, User, UserSession, utcnow
from tests.legacy.conftest import PASSWORD


def test_login_with_json_answers_mvidarr_shape_and_sets_session_cookie(client, db_session: Session) -> None:
    response = client.post("/auth/login", json={"username": "admin", "password": PASSWORD})

    assert response.status_code == 200
    body = response.get_json()
    assert body["success"] is True
    assert body["message"] == "Login successful"
    assert body["user"] == {
        "id": 1,
        "username": "admin",
        "email": "admin@figway.local",
        "role": "ADMIN",
        "can_admin": True,
        "can_modify": True,
        "can_delete": True,
    }
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("mvidarr_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert "Secure" not in cookie
    row = db_session.query(UserSession).filter_by(session_token=body["session"]["token"]).one()
    assert row.user_id == 1 and row.status == SessionStatus.ACTIVE
    assert timedelta(hours=23) < row.expires_at - utcnow() <= timedelta(hours=24)


def test_login_with_form_works_and_permissions_follow_role(client) -> None:
    response = client.post("/auth/login", data={"username": "readonly", "password": PASSWORD})

    assert response.status_code == 200
    user = response.get_json()["user"]
    assert (user["role"], user["can_admin"], user["can_modify"], user["can_delete"]) == (
        "READONLY",
        False,
        False,
        False,
    )


def test_login_accepts_email_as_username(client) -> None:
    response = client.post("/auth/login", json={"username": "user@figway.local", "password": PASSWORD})

    assert response.status_code == 200
    assert response.get_json()["user"]["username"] == "user"


def test_login_without_fields_is_400(client) -> None:
    assert client.post("/auth/login", json={"username": "admin"}).status_code == 400
    response = client.post("/auth/login", data={})
    assert response.status_code == 400
    assert response.get_json() == {"error": "Username and password are required"}


def test_login_with_wrong_password_is_401_and_counts_failure(client, db_session: Session) -> None:
    response = client.post("/auth/login", json={"username": "user", "password": "nope"})

    assert response.status_code == 401
    assert response.get_json() == {"error": "Invalid username or password"}
    assert db_session.get(User, 3).failed_login_attempts == 1


def test_login_with_unknown_user_is_401(client) -> None:
    response = client.post("/auth/login", json={"username": "ghost", "password": PASSWORD})

    assert response.status_code == 401
    assert response.get_json() == {"error": "Invalid username or password"}


def test_five_failures_lock_the_account_for_thirty_minutes(client, db_session: Session) -> None:
    for _ in range(5):
        client.post("/auth/login", json={"username": "manager", "password": "wrong"})

    response = client.post("/auth/login", json={"username": "manager", "password": PASSWORD})

    assert response.status_code == 401
    assert "locked" in response.get_json()["error"]
    user = db_session.get(User, 2)
    assert user.failed_login_attempts == 5
    assert timedelta(minutes=29) < user.locked_until - utcnow() <= timedelta(minutes=30)


def test_expired_lock_lets_the_right_password_in_and_resets_the_count(client, db_session: Session) -> None:
    user = db_session.get(User, 2)
    user.failed_login_attempts = 5
    user.locked_until = utcnow() - timedelta(minutes=1)
    db_session.commit()

    response = client.post("/auth/login", json={"username": "manager", "password": PASSWORD})

    assert response.status_code == 200
    db_session.expire_all()
    assert db_session.get(User, 2).failed_login_attempts == 0
    assert db_session.get(User, 2).locked_until is None


def test_inactive_user_cannot_log_in(client, db_session: Session) -> None:
    db_session.get(User, 3).is_active = False
    db_session.commit()

    response = client.post("/auth/login", json={"username": "user", "password": PASSWORD})

    assert response.status_code == 401
    assert response.get_json() == {"error": "Account is disabled"}


def test_login_records_first_forwarded_hop_as_ip(client, db_session: Session) -> None:
    response = client.post(
        "/auth/login",
        json={"username": "user", "password": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.7, 10.0.0.1"},
    )

    token = response.get_json()["session"]["token"]
    assert db_session.query(UserSession).filter_by(session_token=token).one().ip_address == "203.0.113.7"
    assert db_session.get(User, 3).last_login_ip == "203.0.113.7"


def test_check_reports_anonymous_then_logged_in_user(client) -> None:
    assert client.get("/auth/check").get_json() == {"authenticated": False}

    client.post("/auth/login", json={"username": "user", "password": PASSWORD})
    body = client.get("/auth/check").get_json()

    assert body["authenticated"] is True
    assert body["user"]["username"] == "user" and body["user"]["role"] == "USER"


def test_session_endpoint_needs_login(client) -> None:
    response = client.get("/auth/session")

    assert response.status_code == 401
    assert response.get_json() == {"error": "Authentication required", "code": "AUTH_REQUIRED"}


def test_session_endpoint_lists_session_user_and_permissions(login) -> None:
    body = login("manager").get("/auth/session").get_json()

    assert body["user"]["username"] == "manager"
    assert body["session"]["status"] == "ACTIVE"
    assert body["permissions"] == {
        "can_admin": True,
        "can_modify": True,
        "can_delete": True,
        "can_manage_users": False,
    }


def test_logout_revokes_session_row_and_clears_cookie(login, db_session: Session) -> None:
    c = login("user")
    token = c.get_cookie("mvidarr_session")
    assert token is not None

    response = c.post("/auth/logout")

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "message": "Logout successful"}
    assert db_session.query(UserSession).one().status == SessionStatus.REVOKED
    assert c.get("/auth/check").get_json() == {"authenticated": False}


def test_replayed_cookie_after_logout_is_rejected(login, app) -> None:
    c = login("user")
    old_cookie = c.get_cookie("mvidarr_session").value
    c.post("/auth/logout")

    replay = app.test_client()
    replay.set_cookie("mvidarr_session", old_cookie)

    assert replay.get("/auth/check").get_json() == {"authenticated": False}
    assert replay.get("/auth/session").status_code == 401


def test_logout_without_login_is_401(client) -> None:
    response = client.post("/auth/logout")

    assert response.status_code == 401
    assert response.get_json()["code"] == "AUTH_REQUIRED"


def test_expired_session_row_is_not_a_login(login, db_session: Session) -> None:
    c = login("user")
    row = db_session.query(UserSession).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()

    assert c.get("/auth/check").get_json() == {"authenticated": False}


def test_deactivated_user_loses_existing_session(login, db_session: Session) -> None:
    c = login("user")
    db_session.get(User, 3).is_active = False
    db_session.commit()

    assert c.get("/auth/session").status_code == 401


def test_forged_cookie_is_ignored(app) -> None:
    c = app.test_client()
    c.set_cookie("mvidarr_session", "eyJ1c2VyX2lkIjoxfQ.forged.signature")

    assert c.get("/auth/check").get_json() == {"authenticated": False}
