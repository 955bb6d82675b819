# govshare — see README.md. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1

.PHONY: install run test test-sqlite test-postgres fuzz bench lint fmt clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Set up, migrate the embedded SQLite database (var/govshare.db), load demo data once, serve.
run: install
	$(BIN)/govshare db upgrade
	GOVSHARE_DEMO_PROVIDER_URL=http://127.0.0.1:$(PORT)/demo-provider $(BIN)/govshare demo load --if-empty
	$(BIN)/govshare serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

## The whole suite on SQLite, then again on PostgreSQL.
test: install
	bash scripts/test.sh $(PYTEST_ARGS)

test-sqlite: install
	GOVSHARE_TEST_DB=sqlite $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install
	GOVSHARE_TEST_DB=postgres $(BIN)/pytest $(PYTEST_ARGS)

## Randomised fuzz of the OpenAPI spec (tests/test_openapi_fuzz.py) for FUZZ_SECONDS in all, half on
## SQLite and half on PostgreSQL; new inputs every run, the seed printed (GOVSHARE_FUZZ_SEED replays).
FUZZ_SECONDS ?= 60
fuzz: install
	GOVSHARE_FUZZ=random GOVSHARE_FUZZ_SECONDS=$$(( $(FUZZ_SECONDS) / 2 )) GOVSHARE_TEST_DB=sqlite \
		$(BIN)/pytest -p no:cacheprovider -q -s tests/test_openapi_fuzz.py::test_random_fuzz
	GOVSHARE_FUZZ=random GOVSHARE_FUZZ_SECONDS=$$(( $(FUZZ_SECONDS) / 2 )) GOVSHARE_TEST_DB=postgres \
		$(BIN)/pytest -p no:cacheprovider -q -s tests/test_openapi_fuzz.py::test_random_fuzz

## Every benchmark, or some: make bench BENCH="reconcile ledger"
bench: install
	bash scripts/bench.sh $(BENCH)

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

## Fix what ruff can and format the code (ruff format: the one style, applied by the tool).
fmt: install
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache .ruff_cache .hypothesis
