from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.cli import main
from gateway.errors import ConfigError
from gateway.loader import parse_table
from gateway.ratelimit.policy import RateLimit, compile_quotas

TABLE = """
version: 1
upstreams:
  legacy: {{url: "http://127.0.0.1:5000"}}
default: legacy
routes:
  - id: login
    path: /auth/login
    methods: [POST]
    to: legacy
    rate_limit: {limit}
"""


def test_a_policy_compiles_to_gcra_interval_and_tolerance() -> None:
    policy = RateLimit.model_validate({"limit": 10, "window": "1m", "key": "header:X-Tenant"})
    (quota,) = compile_quotas("login", (policy,))
    assert (quota.name, quota.key, quota.interval, quota.tolerance, quota.burst) == (
        "login",
        "header:x-tenant",
        6.0,
        60.0,
        10,
    )


def test_a_burst_smaller_than_the_limit_narrows_the_tolerance() -> None:
    (quota,) = compile_quotas("r", (RateLimit.model_validate({"limit": 60, "window": 60, "burst": 5}),))
    assert (quota.interval, quota.tolerance) == (1.0, 5.0)


def test_the_table_accepts_one_policy_or_a_list_and_explain_shows_them(tmp_path: Path) -> None:
    table = parse_table(TABLE.format(limit="{limit: 5, window: 10s}"))
    assert [q.name for q in table.quotas["login"]] == ["login"]
    listed = TABLE.format(limit="[{name: fast, limit: 5, window: 10s}, {name: slow, limit: 50, window: 1h}]")
    assert [(q.name, q.window) for q in parse_table(listed).quotas["login"]] == [
        ("fast", 10.0),
        ("slow", 3600.0),
    ]
    routing = tmp_path / "routing.yaml"
    routing.write_text(listed)
    out = io.StringIO()
    assert main(["explain", "--config", str(routing), "POST", "/auth/login"], out=out) == 0
    assert "rate limit fast: 5 requests per 10s (burst 5) per address" in out.getvalue()
    assert "rate limit slow: 50 requests per 3600s" in out.getvalue()
    out = io.StringIO()
    assert main(["explain", "--config", str(routing), "--json", "GET", "/other"], out=out) == 0
    assert json.loads(out.getvalue())["rate_limits"] == []


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("{limit: 0, window: 1m}", "rate_limit.0.limit: Input should be greater than or equal to 1"),
        ("{limit: '5', window: 1m}", "rate_limit.0.limit: Input should be a valid integer"),
        ("{limit: 5, window: soon}", "invalid window 'soon'"),
        ("{limit: 5, window: 2d}", "rate_limit.0.window: Input should be less than or equal to 86400"),
        ("{limit: 5, window: 1m, key: cookie}", "key must be address, user, api_key or header:<Name>"),
        ("{limit: 5, window: 1m, key: 'header:'}", "key must be address"),
        ("{limit: 5, window: 1m, per: ip}", "rate_limit.0.per: Extra inputs are not permitted"),
        ("[]", "rate_limit must not be an empty list"),
        ("[{limit: 5, window: 1m}, {limit: 9, window: 1h}]", "each need a `name`"),
        ("[{name: a, limit: 5, window: 1m}, {name: a, limit: 9, window: 1h}]", "names must be unique"),
        ("{limit: 5, window: 1m, name: 'bad name'}", "name 'bad name' must be letters"),
    ],
)
def test_check_names_each_bad_policy_with_its_line_and_route(policy: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_table(TABLE.format(limit=policy), source="routing.yaml")
    (issue,) = caught.value.issues
    assert (issue.file, issue.line, issue.route) == ("routing.yaml", 11, "login")
    assert message in issue.message


def test_a_policy_is_validated_standalone_too() -> None:
    with pytest.raises(ValidationError):
        RateLimit.model_validate({"limit": 1, "window": True})
