# The two commands a new user needs: `make run` and `make test`.
# Both create the virtual environment on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench vendor clean

# Stamps: running the app needs only the app; the tests and benchmarks add PyTorch,
# micrograd, Playwright and the rest of the [test] extra to the same environment.
APP := $(VENV)/.app-installed
TESTING := $(VENV)/.test-installed

$(APP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(TESTING): $(APP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(APP)
	$(BIN)/gradplay serve --host $(HOST) --port $(PORT)

test: $(TESTING)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(TESTING)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(TESTING)
	$(BIN)/python -m bench.run

vendor:
	scripts/fetch_vendor.sh

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
