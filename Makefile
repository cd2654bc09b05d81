PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# CPU wheel of torch (on disk on the development machines); for CUDA see README.
TORCH ?= torch==2.13.0
# GPAW (extra "dft") compiles against libxc and OpenBLAS; its sdist needs a C++ compiler.
SYSDEPS := libxc-dev libopenblas-dev

# mongoeco (a MongoDB wire-protocol server for the integration tests) needs Python >= 3.13.
PY313 ?= $(HOME)/.pyenv/versions/3.13.0/bin/python
MONGO_VENV := .venv-mongo

.PHONY: test demo lint install install-test sysdeps bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

sysdeps:
	@dpkg -s $(SYSDEPS) >/dev/null 2>&1 || { \
	  echo "installing $(SYSDEPS) (needed to build GPAW)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSDEPS); }

$(VENV)/.installed-core: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed-core | sysdeps
	CC=g++ $(BIN)/pip install -q -e ".[test,dft,workflows,mp,remote]"
	touch $@

$(MONGO_VENV)/.installed:
	$(PY313) -m venv $(MONGO_VENV)
	$(MONGO_VENV)/bin/pip install -q "mongoeco[wire]==4.11.0"
	touch $@

install: $(VENV)/.installed-core
install-test: $(VENV)/.installed-test $(MONGO_VENV)/.installed

test: $(VENV)/.installed-test $(MONGO_VENV)/.installed
	$(BIN)/ruff check hts_z2 tests benchmarks
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q

demo: $(VENV)/.installed-core
	$(BIN)/hts-z2 screen --source demo --kspacing 0.3

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_z2.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check hts_z2 tests benchmarks

clean:
	rm -rf $(VENV) $(MONGO_VENV)
