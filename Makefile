# The two commands that matter: `make demo` and `make test`. Both bootstrap .venv themselves
# from the pinned requirements (requirements-dev.lock, which includes the runtime requirements.lock,
# + pyproject.toml) when it is missing or stale.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export CEM_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export CEM_TEST_BROKER_URL ?= amqp://guest:guest@127.0.0.1:5672/
export CEM_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: demo test test-slow test-faults test-quota test-fuzz audit lint typecheck imports pytest \
	bench serve openapi clean venv test-image test-scale

venv: $(STAMP)

$(STAMP): pyproject.toml requirements.lock requirements-dev.lock
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (cem-bridge needs Python 3.11)" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy service adapters sandbox

imports: $(STAMP)
	$(BIN)/lint-imports

# Two processes (pytest-xdist): most tests wait on sandboxes and subprocesses, and the runs
# share nothing (a database per session, a schema per test, free ports, keys per test).
pytest: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist worksteal -m "not slow and not fuzz and not audit"

# lint, types and architecture contracts first, then the tests.
test: lint typecheck imports pytest

# Long suites kept out of `make test`: the contract suite at 10,000 records under faults, the
# generator's flat-memory check, and other tests marked `slow`.
test-slow: $(STAMP)
	$(BIN)/pytest -q -s -m slow

# Schemathesis against a live `cem serve` plus the targeted bad-input and security tests;
# writes bench/results/fuzz.json and fuzz.md. CEM_FUZZ_EXAMPLES sets examples per operation.
test-fuzz: $(STAMP)
	PYTHONPATH=. CEM_FUZZ_REPORT=bench/results/fuzz.json $(BIN)/pytest -q -p tests.fuzz.plugin \
		-m "not slow and not audit" tests/fuzz tests/security

# pip-audit of the pinned set (requirements.lock); skipped, with the reason, when no
# vulnerability database is reachable.
audit: $(STAMP)
	$(BIN)/pytest -q -rs -m audit tests/security

# The whole loop through `cem serve` against `cem sandbox serve` processes, 10,000 customers per
# CRM: under injected faults, SIGKILLed at random points, and with the daily quota running out
# (tests/faults/, docs/faults.md). `make test` runs them at 20 customers, without the kills.
FAULTS_CUSTOMERS ?= 10000
test-faults: $(STAMP)
	CEM_FAULTS_CUSTOMERS=$(FAULTS_CUSTOMERS) $(BIN)/pytest -q -s tests/faults/test_faults.py

test-quota: $(STAMP)
	CEM_FAULTS_CUSTOMERS=$(FAULTS_CUSTOMERS) $(BIN)/pytest -q -s tests/faults/test_quota.py

# The task queue at scale (docs/queue.md): PostgreSQL + RabbitMQ + `cem serve` + N `cem worker`
# processes against `cem sandbox serve`, a worker SIGKILLed mid-job and mid-sync;
# CEM_SCALE_CUSTOMERS per CRM (default 10,000). Writes bench/results/scale.json and scale.md.
test-scale: $(STAMP)
	$(BIN)/pytest -q -s -m slow tests/scale

# The runtime image's contents without a Docker engine (docs/deploy.md): the wheelhouse that
# docker/Dockerfile installs (cem-bridge wheel + requirements.lock, runtime only) goes into a clean
# venv in an empty temporary directory (--no-index, no source tree), then docker/smoke.py runs
# `cem serve` there on SQLite and PostgreSQL: /readyz, POST /v1/score, a sync against
# `cem sandbox serve`. 2-4 minutes, so not part of `make test`; .ci/run runs it after it.
test-image: $(STAMP)
	PYTHON=$(PYTHON) BUILD_PYTHON=$(BIN)/python BUILD_FLAGS=--no-build-isolation bash docker/test-image.sh

serve: $(STAMP)
	$(BIN)/cem serve

demo: $(STAMP)
	$(BIN)/cem demo

openapi: $(STAMP)
	$(BIN)/cem openapi export openapi/openapi.json

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info
