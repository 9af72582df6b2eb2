# sergio-kit: every target creates .venv if it is missing or older than pyproject.toml.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test check lint bench serve clean load record

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "sergio-kit needs Python 3.11+; set PYTHON=python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## test: the project's own tests (starts its own reference servers on loopback); most of them wait
## (rate-limit windows, Locust runs), so four pytest-xdist workers share the cores; lint first
test: $(STAMP) lint
	$(BIN)/python -m pytest -n 4 --dist loadscope --no-loadscope-reorder $(PYTEST_ARGS)

## check: the conformance suite; against the embedded server unless BASE_URL is set
check: $(STAMP)
	$(BIN)/sergio-kit check $(if $(BASE_URL),--base-url $(BASE_URL)) $(CHECK_ARGS)

## load: Locust conformance profile (each tier at 1.5x its limit, two 60-s windows) on the embedded server
load: $(STAMP)
	$(BIN)/sergio-kit load --profile conformance $(if $(BASE_URL),--base-url $(BASE_URL)) $(LOAD_ARGS)

## record: regenerate fixtures/cassettes/ (redacted vcrpy cassettes of the scripted tour) on the embedded server
record: $(STAMP)
	$(BIN)/sergio-kit record --out fixtures/cassettes $(RECORD_ARGS)

## serve: the reference server in the foreground (Ctrl-C stops it)
serve: $(STAMP)
	$(BIN)/sergio-kit serve $(SERVE_ARGS)

## lint: ruff and mypy (also the first step of make test, so CI runs them)
lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples load docs
	$(BIN)/ruff format --check src tests bench examples load docs
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/server.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
