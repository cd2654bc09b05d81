PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU wheel of torch; users with a GPU install a CUDA build first (see README).
TORCH ?= torch==2.13.0

.PHONY: test demo lint install clean bench

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed

test: $(VENV)/.installed
	$(BIN)/ruff check hts_z2 tests benchmarks
	$(BIN)/python -m pytest -q

demo: $(VENV)/.installed
	$(BIN)/hts-z2 z2 --model wilson-dirac

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_z2.py

lint: $(VENV)/.installed
	$(BIN)/ruff check hts_z2 tests benchmarks

clean:
	rm -rf $(VENV)
