# figway: the two commands are `make run` and `make test`; both install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := python3

UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PY := .venv/bin/python
VAR := var

.PHONY: help install run prepare test lint docs contract-fuzz fuzz fuzz-admin bench bench-quick bench-gateway bench-db bench-enrich bench-system bench-memory reliability dashboard-screenshots clean

help:
	@echo "make run    - install, create+seed the SQLite database, start providers, legacy, services, gateway"
	@echo "make test   - install and run every test with coverage"
	@echo "make lint   - ruff + mypy on gateway/ and services/"
	@echo "make bench  - every benchmark, results in bench/results/ (bench-quick: a shorter run)"
	@echo "make docs   - regenerate docs/configuration.md from the settings models"
	@echo "make contract-fuzz - the differential fuzzer, long (legacy vs services, every difference printed)"
	@echo "make fuzz   - schemathesis, every check and phase, thousands of cases (FUZZ_EXAMPLES=100 per operation)"

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install -q "uv==0.13.9"

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

install: .venv/.synced

prepare: install
	@mkdir -p $(VAR)
	@$(PY) -m tools.devsecrets $(VAR)/secrets.env
	$(PY) -m legacy_flask seed --if-empty
	@if [ -f services/migrations/env.py ]; then $(PY) -m services migrate; fi

# With no real provider key in the environment, the fake provider server stands in on :8090.
run: prepare
	@if [ -n "$$SPOTIFY_CLIENT_ID$$LASTFM_API_KEY$$IMVDB_API_KEY" ]; then \
	  echo "make run: provider keys found, using the real providers"; \
	  exec $(PY) -m honcho -e $(VAR)/secrets.env -f Procfile start legacy services gateway; \
	else \
	  echo "make run: no provider keys, starting the fake provider server on :8090"; \
	  exec $(PY) -m honcho -e fake-providers.env,$(VAR)/secrets.env -f Procfile start; \
	fi

test: install
	rm -f .coverage .coverage.*
	$(PY) -m pytest --cov --cov-report= --durations=15 $(PYTEST_ARGS)
	$(PY) -m coverage combine -q || true
	$(PY) -m coverage report --include='gateway/*' --fail-under=85
	$(PY) -m coverage report --include='services/*' --fail-under=85

lint: install
	$(PY) -m ruff check gateway services legacy_flask tests bench tools
	$(PY) -m ruff format --check gateway services
	$(PY) -m mypy
	$(PY) -m services.auth routes > /dev/null   # every services route declares its access rule
	$(PY) -m tools.configdoc --check

# The gateway admin API fuzzed long: schemathesis, every check, stateful phase, with and without the
# token (about 9,000 cases; make test runs 25 examples per operation).
fuzz-admin: install
	FIGWAY_ADMIN_FUZZ_EXAMPLES=$${FIGWAY_ADMIN_FUZZ_EXAMPLES:-300} $(PY) -m pytest tests/reliability/test_admin_api_fuzz.py -q -s -p no:cacheprovider

# The differential fuzzer, long: legacy vs services on twin databases (SQLite and MariaDB when
# FIGWAY_TEST_MARIADB_URL is set), every difference outside differences.yaml printed, minimised.
CONTRACT_FUZZ_EXAMPLES ?= 3000
contract-fuzz: install
	set -o pipefail; FIGWAY_CONTRACT_FUZZ_EXAMPLES=$(CONTRACT_FUZZ_EXAMPLES) $(PY) -m pytest tests/contract/test_fuzz.py \
	  -s -p no:logging -p no:cacheprovider --timeout 7200 -k test_services_answer_as_legacy 2>&1 \
	  | grep -av '^127.0.0.1 - -'

# Regenerate docs/configuration.md from the settings models (a test fails when it is stale).
docs: install
	$(PY) -m tools.configdoc

bench: install
	$(PY) -m bench all

bench-quick: install
	$(PY) -m bench all --quick

bench-gateway bench-db bench-enrich bench-system bench-memory: install
	$(PY) -m bench $(subst bench-,,$@)

reliability: install
	$(PY) -m bench reliability

# The dashboard with live data (real gateway, legacy and services, two minutes of traffic through a
# shadow and a canary route) in headless Chromium: refreshes bench/results/dashboard-*.png.
dashboard-screenshots: install
	set -o pipefail; FIGWAY_SCREENSHOTS=bench/results FIGWAY_DASHBOARD_TRAFFIC_SECONDS=$${FIGWAY_DASHBOARD_TRAFFIC_SECONDS:-150} \
	  $(PY) -m pytest tests/browser/test_dashboard_live.py -q -p no:cacheprovider 2>&1 | grep -av '^127.0.0.1 - -'

# Every schemathesis check and phase against the services, admin and anonymous, on SQLite and
# (when FIGWAY_TEST_MARIADB_URL names a server) MariaDB; prints each failure, shrunk, and fails
# when anything was found. `make test` runs the same passes bounded.
FUZZ_EXAMPLES ?= 100
fuzz: install
	$(PY) -m tests.reliability.services_fuzz --examples $(FUZZ_EXAMPLES)

clean:
	rm -rf .venv .tools $(VAR) .coverage .coverage.* .pytest_cache .mypy_cache .ruff_cache
