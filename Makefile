# Two entry points on a fresh machine: `make compile` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: compile check test test-deps lint fuzz bench bench-db schema clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

compile: $(STAMP)
	$(BIN)/cronspec compile

check: $(STAMP)
	$(BIN)/cronspec compile --check

# Debian packages, then the vendored executors (pg_cron 1.6.7 + pg_net, Oban 2.18.3, Oban 2.23.1's
# parser) built once into a cache keyed by their sources; needs CRONSPEC_VENDOR_DIR (README).
test-deps: $(STAMP)
	bash scripts/install-test-deps.sh
	$(BIN)/python tests/support/vendor.py build

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: $(STAMP) test-deps lint check
	$(BIN)/pytest -q

# Benchmarks (bench/RESULTS.md). `bench` takes ~15 min on 2 cores, `bench-db` ~4 min.
$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/python bench/compile_bench.py

bench-db: $(STAMP) test-deps
	$(BIN)/python bench/db_bench.py

# Longer fuzzing than the default test run.
fuzz: $(STAMP) test-deps
	CRONSPEC_FUZZ_EXAMPLES=5000 $(BIN)/pytest -q tests/test_fuzz.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
