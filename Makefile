# netplanet — everything goes through the project's own virtualenv, created on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export NETPLANET_DATA_DIR ?= $(CURDIR)/data

.PHONY: install run test lint typecheck pytest bench clean mutation

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "netplanet needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/netplanet run

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# Two pytest-xdist workers, one test file per worker at a time (docs/testing.md: how to keep a
# test xdist-safe). PYTEST_WORKERS=0 runs the suite in one process.
PYTEST_WORKERS ?= 2
pytest: $(STAMP)
	@scripts/ensure-chromium
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

test: lint typecheck pytest

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache mutants

# Mutation testing (docs/testing.md): mutmut over the modules and tests named in pyproject.toml
# [tool.mutmut], one worker, at low priority; then the score per module. Results are kept in
# mutants/ and a rerun retests only what changed (rm -rf mutants for a full run). Not in CI.
# MUTATION_SCOPE narrows the run to mutant-name globs (MUTATION_SCOPE='netplanet.store.fts_query.*');
# mutmut 3.8.1 then runs the covering tests by node id, which fails on ids it cannot pass back
# to pytest (non-ASCII parameters): scope to modules whose tests have plain ids. fetch/http.py
# is mutated whole; the report adds a row for its redirect handling (Fetcher._follow).
MUTATION_STAMP := $(VENV)/.mutation-stamp
MUTATION_JOBS ?= 1
MUTATION_MIN ?= 90
MUTATION_SCOPE ?=
MUTATION_DETAIL ?= netplanet.fetch.http.*_follow__*

$(MUTATION_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,mutation]'
	@touch $(MUTATION_STAMP)

mutation: $(MUTATION_STAMP)
	@set -f; mkdir -p mutants; start=$$(date +%s); echo "mutmut run (log: mutants/run.log)"; \
	nice -n 10 $(BIN)/mutmut run --max-children $(MUTATION_JOBS) $(MUTATION_SCOPE) \
		>mutants/run.log 2>&1 || { tr '\r' '\n' <mutants/run.log | tail -n 20; exit 1; }; \
	echo "mutmut run: $$(( $$(date +%s) - start )) s wall time"
	@set -f; $(BIN)/python scripts/mutation_report.py --min $(MUTATION_MIN) \
		$(foreach glob,$(MUTATION_DETAIL),--detail '$(glob)') $(MUTATION_SCOPE)

# Benchmarks (benchmarks/README.md): peers go into benchmarks/.venv-peers, never into .venv.
# bench ~67-82 min (estimate), bench-quick ~16 min; both end by rebuilding the Targets table.
.PHONY: bench-quick bench-peers
bench-peers: $(STAMP)
	$(BIN)/python benchmarks/run.py --setup-only

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --full

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/run.py --quick
