# Everything a new user needs, installed into .venv inside the repo.
#   make run   — the main job (see README): installs only what running needs
#   make test  — lint (ruff, mypy), then the test suite: adds the test tools and Ray (make test-all: the slow tests too)
#   make bench — every bench/ script, one table
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Two stamps, one per layer: `make run` installs the package and its dependencies (torch
# included); `make test` then adds the `dev` and `ray` extras on top, never torch again.
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
# The CPU build of torch, unless a torch is already in the venv (bring your own CUDA build:
# `python3 -m venv .venv && .venv/bin/pip install torch` before `make`).
TORCH_CPU ?= torch==2.13.0+cpu
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: venv run lint test test-all check bench clean

venv: $(RUN_STAMP)

$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import torch" 2>/dev/null \
	  || $(BIN)/pip install -q "$(TORCH_CPU)" \
	  || $(BIN)/pip install -q torch --index-url $(TORCH_CPU_INDEX)
	$(BIN)/pip install -q -e .
	touch $@

# pytest, pytest-xdist and hypothesis (`dev`), and Ray for tests/test_executor_ray.py (`ray`; without it that
# test is skipped). pip keeps what the run layer installed.
$(TEST_STAMP): $(RUN_STAMP) pyproject.toml
	$(BIN)/pip install -q -e ".[dev,ray]"
	touch $@

run: $(RUN_STAMP)
	$(BIN)/research run research/logg_1m/exp/exp_logg_1m_multitask.md

check: $(RUN_STAMP)
	$(BIN)/research check research/ hubs/

lint: $(TEST_STAMP)  # the formatter's check, the linter and the type checker, configured in pyproject.toml
	$(BIN)/ruff format --check engine tests bench
	$(BIN)/ruff check engine tests bench
	$(BIN)/mypy

test: lint  # one pytest worker per core (pytest-xdist); the slowest tests listed at the end
	$(BIN)/python -m pytest -q -n auto --dist loadgroup --durations=15

test-all: $(TEST_STAMP)  # the slow tests too (the generator's realism check: ~90 s on 2 cores)
	$(BIN)/python -m pytest -q -n auto --dist loadgroup -m "slow or not slow"

bench: $(TEST_STAMP)  # bench_ray.py needs Ray
	$(BIN)/python bench/all.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache
