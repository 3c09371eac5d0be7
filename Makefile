# Two commands on a fresh machine:  make demo   (service + demo traffic)   make test   (all tests)
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo serve test lint bench clean

$(BIN)/spendgate: pyproject.toml requirements.lock
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c requirements.lock -e '.[dev]'
	@touch $@

install: $(BIN)/spendgate

demo: install
	$(BIN)/spendgate demo

serve: install
	$(BIN)/spendgate serve

test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/pricing.py
	$(BIN)/python bench/ledger.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache .mypy_cache
