# netplanet — everything goes through the project's own virtualenv, created on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export NETPLANET_DATA_DIR ?= $(CURDIR)/data

.PHONY: install run test lint typecheck pytest bench clean

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

pytest: $(STAMP)
	@scripts/ensure-chromium
	$(BIN)/python -m pytest

test: lint typecheck pytest

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache

# Benchmarks (benchmarks/README.md): peers go into benchmarks/.venv-peers, never into .venv.
# bench ~65-80 min (estimate), bench-quick ~15 min; both end by rebuilding the Targets table.
.PHONY: bench-quick bench-peers
bench-peers: $(STAMP)
	$(BIN)/python benchmarks/run.py --setup-only

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --full

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/run.py --quick
