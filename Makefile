# audiotext: every install step lives here, so a fresh Debian machine (root, package
# registries only) gets from clone to a working tool with `make demo` or `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_PKGS := espeak-ng libfluidsynth3
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONUNBUFFERED := 1
# Where corpora, demo models and indexes go (outside the repo; override to relocate).
export AUDIOTEXT_HOME ?= $(HOME)/.cache/audiotext
DEMO := $(AUDIOTEXT_HOME)/demo

.PHONY: help setup apt demo test lint bench results clean

help:
	@echo "make demo    install, build the demo corpus, train, evaluate, index and search"
	@echo "make test    install and run the test suite"
	@echo "make lint    ruff"
	@echo "make bench   run benchmarks/ and rewrite docs/benchmarks.md"
	@echo "make results regenerate the tables in docs/results.md (long)"

apt:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

setup: apt $(STAMP)

test: setup
	@set +e; $(BIN)/python -m pytest -q -p no:cacheprovider; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests: failing"; exit 1; fi; exit $$rc

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: setup
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

demo: setup
	$(BIN)/audiotext data build --out $(AUDIOTEXT_HOME)/corpus --size default

results: setup
	@echo "results: filled in by the training issues"

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .ruff_cache
