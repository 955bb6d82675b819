# govshare — see README.md. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1

.PHONY: install run test test-sqlite test-postgres bench lint fmt clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Set up, migrate the embedded SQLite database (var/govshare.db), load demo data once, serve.
run: install
	$(BIN)/govshare db upgrade
	$(BIN)/govshare demo load --if-empty
	$(BIN)/govshare serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

## The whole suite on SQLite, then again on PostgreSQL.
test: install
	bash scripts/test.sh $(PYTEST_ARGS)

test-sqlite: install
	GOVSHARE_TEST_DB=sqlite $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install
	GOVSHARE_TEST_DB=postgres $(BIN)/pytest $(PYTEST_ARGS)

bench: install
	bash scripts/bench.sh

lint: install
	$(BIN)/ruff check src tests benchmarks

fmt: install
	$(BIN)/ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache .ruff_cache .hypothesis
