# Two commands on a fresh Debian/Ubuntu machine: `make demo` and `make test`.
SHELL := /bin/bash
VENV  := .venv
BIN   := $(VENV)/bin
export OMP_THREAD_LIMIT ?= 1
CODE      := $(wildcard motcua flows extractors signing storage dossiers samples tests bench)
LIBRARIES := $(wildcard motcua extractors signing storage dossiers flows)

.PHONY: setup demo test lint typecheck pytest bench clean

setup:
	@bash scripts/bootstrap

demo: setup
	$(BIN)/motcua demo

lint: setup
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)

typecheck: setup
	$(BIN)/mypy $(LIBRARIES)

# pytest exits 5 when it collected no test: make treats any non-zero exit as failure.
pytest: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: setup
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
