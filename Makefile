# Everything a new user needs, installed into .venv inside the repo.
#   make run   — the main job (see README)
#   make test  — the test suite (make test-all: the slow tests too)
#   make bench — every bench/ script, one table
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The CPU build of torch, unless a torch is already in the venv (bring your own CUDA build:
# `python3 -m venv .venv && .venv/bin/pip install torch` before `make`).
TORCH_CPU ?= torch==2.13.0+cpu
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: venv run test test-all check bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import torch" 2>/dev/null \
	  || $(BIN)/pip install -q "$(TORCH_CPU)" \
	  || $(BIN)/pip install -q torch --index-url $(TORCH_CPU_INDEX)
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/research run research/logg_1m/exp/exp_logg_1m_multitask.md

check: $(STAMP)
	$(BIN)/research check research/ hubs/

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-all: $(STAMP)  # the slow tests too (the generator's realism check: ~90 s on 2 cores)
	$(BIN)/python -m pytest -q -m "slow or not slow"

bench: $(STAMP)
	$(BIN)/python bench/all.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
