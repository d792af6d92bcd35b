# The two commands a new user needs: `make run` and `make test`.
# Both create the virtual environment on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench vendor clean

$(BIN)/gradplay: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/gradplay
	$(BIN)/gradplay serve --host $(HOST) --port $(PORT)

test: $(BIN)/gradplay
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(BIN)/gradplay
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(BIN)/gradplay
	$(BIN)/python -m bench.run

vendor:
	scripts/fetch_vendor.sh

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
