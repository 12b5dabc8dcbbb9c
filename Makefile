.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install run demo-reset test test-lowest lint sandbox bench cassettes docs chromium postgres clean

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with its dev tools

run: $(STAMP) ## Sync Atera (or the built-in sandbox when no API key is set) into data/atera.duckdb
	$(BIN)/atera-sync run

demo-reset: $(STAMP) ## Start the demo over: a new sandbox world, an empty data/atera.duckdb
	$(BIN)/python -m pipelines.sandbox.world_state reset --duckdb data/atera.duckdb

# three workers (pytest-xdist), each test file on one worker: the suite mostly waits on
# loopback HTTP, DuckDB files and a PostgreSQL server, so two cores run three files at
# once (11.8 min against 14.5 with two workers)
test: $(STAMP) postgres ## Run the test suite (PostgreSQL tests need the server binaries: make postgres)
	$(BIN)/python -m pytest -n 3 --dist loadfile

# The lowest versions pyproject.toml allows, in a venv of their own. A subset that covers
# each dependency's part (client and rate limiter, dlt loads, dbt build, the CLI) keeps CI
# short; see docs/operations.md, "Dependency floors".
LOWEST := .venv-lowest
LOWEST_TESTS := tests/atera tests/test_sync_e2e.py tests/test_sync_failures.py \
	tests/test_models_on_sandbox.py tests/test_status.py

test-lowest: $(STAMP) ## Run the core tests against the lowest dependency versions allowed
	$(BIN)/python -m pip install --quiet "uv>=0.4"
	$(BIN)/uv venv --quiet --clear --python $(BIN)/python $(LOWEST)
	VIRTUAL_ENV=$(LOWEST) $(BIN)/uv pip install --quiet --resolution lowest-direct -e ".[dev]"
	$(LOWEST)/bin/python -m pytest -p no:cacheprovider -n 2 --dist loadfile $(LOWEST_TESTS)

lint: $(STAMP) ## Lint (ruff, with complexity at most 10), check formatting, type-check (mypy), lint SQL
	$(BIN)/ruff check pipelines tests benchmarks
	$(BIN)/ruff format --check pipelines tests benchmarks
	$(BIN)/mypy
	$(BIN)/sqlfluff lint sql

sandbox: $(STAMP) ## Serve the Atera sandbox on http://127.0.0.1:8765
	$(BIN)/atera-sync sandbox --port 8765

bench: $(STAMP) ## Print load, sync, API-budget, scale and DuckDB-beside-PostgreSQL figures (BUDGET_BENCH_ARGS=--quick, SCALE_BENCH_ARGS="--tickets 10000": minutes)
	$(BIN)/python benchmarks/bench_load.py
	$(BIN)/python benchmarks/bench_sync.py
	$(BIN)/python benchmarks/bench_models.py
	$(BIN)/python benchmarks/bench_models.py --business-hours
	$(BIN)/python benchmarks/bench_destinations.py
	$(BIN)/python benchmarks/bench_budget.py $(BUDGET_BENCH_ARGS)
	$(BIN)/python benchmarks/bench_scale.py $(SCALE_BENCH_ARGS)

docs: $(STAMP) ## Write the dbt docs site (models, columns, tests, lineage) to site/dbt-docs/
	$(BIN)/atera-sync docs --out site/dbt-docs

chromium: ## Install headless Chromium (Debian, as root) for the report's browser test
	@command -v chromium >/dev/null 2>&1 || apt-get install -y chromium

# the PostgreSQL tests start a throwaway server from Debian's binaries (initdb, pg_ctl);
# without root or a package index they are skipped, with the reason in the test summary
postgres: ## Install PostgreSQL's server binaries (Debian, as root) for the destination tests
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1 \
		|| DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null 2>&1 \
		|| (apt-get update -q >/dev/null 2>&1 \
			&& DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null 2>&1) \
		|| echo "WARNING: PostgreSQL could not be installed; its tests will be skipped"

cassettes: $(STAMP) ## Re-record the vcrpy cassettes against the sandbox
	$(BIN)/python -m tests.record_cassettes

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) $(LOWEST) data site .pytest_cache sql/target sql/logs
