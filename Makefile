# audiotext: every install step lives here, so a fresh Debian machine (root, package
# registries only) gets from clone to a working tool with `make demo` or `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_PKGS := espeak-ng libfluidsynth3 wavpack
# The browser tests of `audiotext serve` drive Debian's Chromium (Playwright cannot download one).
TEST_APT_PKGS := chromium
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONUNBUFFERED := 1
# Where corpora, demo models and indexes go (outside the repo; override to relocate).
export AUDIOTEXT_HOME ?= $(HOME)/.cache/audiotext
# Downloaded .deb/.whl packages, shared by demo builds and test sessions (no re-downloads).
export AUDIOTEXT_PACKAGES ?= $(AUDIOTEXT_HOME)/packages
# The demo's model and index; the folder is renamed when the demo's corpus or recipe changes,
# since `train --resume` refuses a run made on other data.
DEMO := $(AUDIOTEXT_HOME)/demo/v5
AT := $(BIN)/audiotext
# The held-out sources the demo indexes: other soundfonts and other sound libraries.
EVAL_SOURCES := --include 'timgm6mb/*' --include 'merlin/*' --include 'ovos/*' --include 'lmms/*' --include 'scratch/*' \
  --include 'hydrogen/*' --include 'openarena/*' --include 'warzone2100/*' --include 'freedroid/*' \
  --include 'supertuxkart/*' --include 'desktop/*'

.PHONY: help setup apt apt-test demo serve test lint bench results clean fuzz

help:
	@echo "make demo    install, build the demo corpus, train, evaluate, index and search"
	@echo "make serve   serve the demo library's search page on http://127.0.0.1:8765/"
	@echo "make test    install and run the test suite"
	@echo "make lint    ruff"
	@echo "make fuzz    fuzz thousands of files and kill -9 real jobs (docs/reliability.md)"
	@echo "make bench   run benchmarks/ and rewrite docs/benchmarks.md"
	@echo "make results regenerate the tables in docs/results.md (long)"

apt-test: PKGS = $(TEST_APT_PKGS)
apt: PKGS = $(APT_PKGS)
apt apt-test:
	@missing=""; for p in $(PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@# The pretrained aisfx tower: only its checkpoint is used; its own pins (numpy 1.23,
	@# librosa 0.9.2) must not be installed, hence --no-deps (docs/models.md).
	$(BIN)/python -m pip install -q --no-deps aisfx==0.1.2
	@touch $(STAMP)

setup: apt $(STAMP)

test: setup apt-test
	@set +e; $(BIN)/python -m pytest -q -p no:cacheprovider; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests: failing"; exit 1; fi; exit $$rc

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# BENCH_1M=1 adds compare-spaces --approx at n = 1M (minutes, ~10 GB) to `make bench`.
# OpenBLAS picks its own kernel, as on a machine that forces none (some VMs set Haswell on
# AVX-512 CPUs, halving numpy's sgemm; docs/benchmarks.md says so).
BENCH_PY := env -u OPENBLAS_CORETYPE $(BIN)/python

bench: setup
	@for f in benchmarks/bench_*.py; do [ $$f = benchmarks/bench_index.py ] && continue; \
	  args=""; [ $$f = benchmarks/bench_compare_spaces.py ] && [ -n "$(BENCH_1M)" ] && args=--million; \
	  echo "== $$f $$args"; $(BENCH_PY) $$f $$args || exit 1; done
	$(BENCH_PY) benchmarks/bench_index.py --n 1000000 --kind auto hnsw
	$(BENCH_PY) benchmarks/bench_index.py --n 200000

# The demo's searches: two instrument queries, then sound effects of the held-out libraries.
DEMO_QUERIES := "violin" "drums" "a dog barking" "a cat meowing" "laughter" "a car passing" "a door closing" "footsteps" \
  "footsteps on gravel" "glass breaking"

# Heads on the frozen aisfx tower (preset clap-aisfx): tower features are computed once per
# file and shared by training, evaluation and the library index.
demo: setup
	$(AT) data build --size default
	$(AT) train --out $(DEMO)/clap --resume
	$(AT) eval $(DEMO)/clap/best
	$(AT) embed folder $(AUDIOTEXT_HOME)/corpus/audio $(EVAL_SOURCES) --model $(DEMO)/clap/best --out $(DEMO)/library.emb
	$(AT) index build $(DEMO)/library.emb --out $(DEMO)/library.idx
	@for q in $(DEMO_QUERIES); do $(AT) search "$$q" --index $(DEMO)/library.idx -k 5 || exit 1; done
	@echo "search it in a browser: make serve   (runs: $(AT) serve $(DEMO)/library.idx)"

serve: setup
	$(AT) serve $(DEMO)/library.idx

DOCS_CORPUS := $(AUDIOTEXT_HOME)/corpora/fortune-interviews-default-s0

# Every table of docs/results.md (hours of CPU on 2 cores; each step resumes where it stopped).
results: setup
	$(AT) data build --size default
	$(BIN)/python experiments/results.py --seeds 0 1 2 --epochs 12 --ft-epochs 3
	$(BIN)/python experiments/case_study.py
	$(BIN)/python experiments/leakage.py --corpus $(AUDIOTEXT_HOME)/corpus --seeds 3 \
	  --work $(AUDIOTEXT_HOME)/leakage --results docs/results.md
	$(BIN)/python experiments/curation.py --corpus $(AUDIOTEXT_HOME)/corpus --seeds 3 \
	  --work $(AUDIOTEXT_HOME)/curation --results docs/results.md
	$(BIN)/python experiments/curation.py --corpus $(AUDIOTEXT_HOME)/corpus --seeds 3 \
	  --mode unspecific --work $(AUDIOTEXT_HOME)/curation-unspecific --results docs/results.md
	$(AT) data build-docs --size default --seed 0
	$(AT) eval-docs $(DOCS_CORPUS) --ablation all --folds 5 --shuffles 3 --label binary
	$(AT) eval-docs $(DOCS_CORPUS) --ablation all --folds 5 --shuffles 3 --label multiclass

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .ruff_cache

# Fuzz and fault campaign (docs/reliability.md): thousands of fuzzed files through info,
# embed folder and the web API's upload, and >= 10 kill -9 each of embed folder, index
# build/add, data build (Debian packages made by the tests, no network), train and curate.
FUZZ_WORK ?= /tmp/audiotext-fuzz
fuzz: setup
	rm -rf $(FUZZ_WORK)
	AUDIOTEXT_HOME=$(FUZZ_WORK)/home $(BIN)/python tests/fault_campaign.py --files 2000 --kills 10 --work $(FUZZ_WORK)
