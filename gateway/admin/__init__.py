"""The admin surface under ``/_gateway``, mounted by :mod:`gateway.app`.

- :mod:`gateway.admin.access`: who may use it (the bearer token, or loopback without one);
- :mod:`gateway.admin.api`: the table, status, reload, explain and metrics endpoints (JSON);
- :mod:`gateway.admin.cutover_api`: the cutover endpoints (state, diffs, coverage, pins) (JSON);
- :mod:`gateway.admin.readmodel`: the typed views both the JSON API and the dashboard read;
- :mod:`gateway.admin.dashboard`: the migration dashboard (HTML).
"""
