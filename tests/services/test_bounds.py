"""services/_bounds.py: values no database can take never reach the driver (issue 20).

The endpoint cases are the services-only ones (legacy has no such route); the migrated
routes are compared with legacy in tests/contract/test_hostile_input.py.
"""

from __future__ import annotations

import operator
from datetime import datetime

import pytest
from sqlalchemy import column, select

from services._bounds import (
    INT64_MAX,
    INT64_MIN,
    Unstorable,
    bind_singles,
    check_parameters,
    compare,
    row_id,
    window,
)
from services.auth.models import ApiKey
from tests.services._auth_support import Services, services_fixture, users_db_fixture

__all__ = ["services_fixture", "users_db_fixture"]  # fixtures used by name

BIG = 2**64 + 5
SURROGATE_JSON = '{"username": "\\udc80", "password": "x"}'


def _sql(clause: object) -> str:
    return str(select(column("id")).where(clause))  # type: ignore[arg-type]


def test_row_id_refuses_what_no_key_can_be() -> None:
    assert row_id(INT64_MAX) == INT64_MAX and row_id(INT64_MIN) == INT64_MIN
    assert row_id(INT64_MAX + 1) is None and row_id(INT64_MIN - 1) is None


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        (operator.eq, BIG, "false"),
        (operator.ge, BIG, "false"),
        (operator.le, BIG, "year IS NOT NULL"),
        (operator.eq, -BIG, "false"),
        (operator.le, -BIG, "false"),
        (operator.ge, -BIG, "year IS NOT NULL"),
        (operator.ge, 1999, "year >= :year_1"),
    ],
)
def test_compare_past_64_bits_is_a_constant_of_the_row_having_a_value(
    op: operator.attrgetter, value: int, expected: str
) -> None:
    assert expected in _sql(compare(column("year"), op, value)).replace("0 = 1", "false")


def test_window_clamps_to_signed_and_refuses_past_unsigned_64_bits() -> None:
    assert window(limit=None, offset=0) == (None, 0)
    assert window(limit=2**63, offset=2**64 - 1) == (INT64_MAX, INT64_MAX)
    with pytest.raises(Unstorable, match="Invalid value for page"):
        window(limit=50, offset=10**18 * 50, names=("per_page", "page"))
    with pytest.raises(Unstorable, match="Invalid value for limit"):
        window(limit=BIG, offset=0)


def test_statement_parameters_are_checked_for_unbindable_values() -> None:
    check_parameters((1, "é", None, 2.5, True, b"\xff", INT64_MIN))
    check_parameters([{"a": INT64_MAX}, {"a": "ok"}])  # executemany
    for bad in ((BIG,), {"name": "\udc80"}, [("x", -BIG)]):
        with pytest.raises(Unstorable):
            check_parameters(bad)


def test_one_element_lists_are_bound_as_their_element() -> None:
    """PyMySQL renders [x] as `(x)`, which MariaDB reads as x: services bind x itself."""
    assert bind_singles((1, [2], [["a"]], [None], [1, 2], [])) == (1, 2, "a", None, [1, 2], [])
    assert bind_singles({"a": [1.5], "b": "x"}) == {"a": 1.5, "b": "x"}
    unchanged = (1, "x")
    assert bind_singles(unchanged) is unchanged  # nothing to do: the same object, no copy
    # PyMySQL writes an integer past 64 bits as its literal: a text column keeps its digits
    assert bind_singles([BIG, [-BIG], INT64_MAX]) == [str(BIG), str(-BIG), INT64_MAX]
    on_sqlite = ([1], BIG)  # sqlite3 binds neither: check_parameters refuses what reaches it
    assert bind_singles(on_sqlite, mariadb=False) is on_sqlite


def test_token_and_login_refuse_a_lone_surrogate_with_400(services: Services) -> None:
    headers = {"content-type": "application/json"}
    token = services.client.post("/auth/token", content=SURROGATE_JSON, headers=headers)
    assert token.status_code == 400 and token.json()["error"]["code"] == "invalid_value"
    login = services.client.post("/auth/login", content=SURROGATE_JSON, headers=headers)
    assert login.status_code == 400
    assert login.json() == {"error": "Invalid value: text is not valid Unicode"}
    # The service still answers normally afterwards.
    assert services.client.post("/auth/token", json={"username": "admin", "password": "x"}).status_code == 401


def test_ids_past_64_bits_are_refused_at_the_auth_admin_endpoints(services: Services) -> None:
    admin = {"Authorization": f"Bearer {services.login_token('admin')}"}
    for method, path, body in [
        ("DELETE", f"/auth/api-keys/{BIG}", None),
        ("PUT", f"/auth/users/{BIG}/role", {"role": "USER"}),
        ("POST", "/auth/api-keys", {"name": "k", "role": "USER", "user_id": BIG}),
        ("POST", "/auth/api-keys", {"name": "k", "role": "USER", "user_id": -BIG}),
    ]:
        answer = services.client.request(method, path, json=body, headers=admin)
        assert answer.status_code == 422, (method, path, answer.text)
        assert answer.json()["error"]["code"] == "validation_error"
    assert services.rows(select(ApiKey.id)) == []


def test_bulk_enrichment_refuses_ids_past_64_bits_before_streaming(services: Services) -> None:
    admin = {"Authorization": f"Bearer {services.login_token('admin')}"}
    answer = services.client.post(
        "/api/metadata-enrichment/enrich", json={"artist_ids": [1, BIG]}, headers=admin
    )
    assert answer.status_code == 400
    assert answer.json() == {"error": "artist_ids must be a non-empty list of artist ids"}


def test_api_key_timestamps_carry_a_timezone(services: Services) -> None:
    admin = {"Authorization": f"Bearer {services.login_token('admin')}"}
    created = services.client.post(
        "/auth/api-keys", json={"name": "tz", "role": "USER"}, headers=admin
    ).json()
    revoked = services.client.delete(f"/auth/api-keys/{created['id']}", headers=admin).json()
    listed = services.client.get("/auth/api-keys", headers=admin).json()["api_keys"][0]
    for stamp in (created["created_at"], revoked["created_at"], revoked["revoked_at"], listed["revoked_at"]):
        parsed = datetime.fromisoformat(stamp)
        assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0, stamp
