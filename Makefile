# Every target sets itself up: a fresh clone needs only `make demo` or `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
DATA    ?= data/gia_lai_2024
WEEK    ?= 2024-W10
APT_PKGS := ffmpeg espeak-ng sox liquidsoap chromium poppler-utils unzip

.PHONY: demo test bench bench-national clean setup system-deps

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) system-deps

# Debian packages the real-client tests and audio need; installed only when missing
# (package:command, for a package whose command has another name).
system-deps:
	@missing=""; \
	for pc in ffmpeg espeak-ng sox liquidsoap chromium poppler-utils:pdftotext unzip; do \
	  p=$${pc%%:*}; c=$${pc#*:}; command -v $$c >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

demo: setup
	$(BIN)/loa plan --data $(DATA) --week $(WEEK) --out . --report reports

test: setup
	$(BIN)/python -m pytest -n 2 -q

bench: setup
	$(BIN)/python benchmarks/bench_load.py --rows 100000
	$(BIN)/python benchmarks/bench_plan.py --data $(DATA) --week $(WEEK) --runs 3
	$(BIN)/python benchmarks/bench_replan.py --data $(DATA) --week $(WEEK) --runs 3

# synthetic nations of 1,000 / 5,000 / 10,500 sites, all units distinct and duplicated as in a
# province; long (the 10,500 distinct run alone takes most of an hour on 2 cores)
NATIONAL_SITES ?= 1000 5000 10500
bench-national: setup
	$(BIN)/python benchmarks/bench_national.py --sites $(NATIONAL_SITES) --modes distinct realistic --export
	$(BIN)/python benchmarks/bench_national.py --sites 1000 --modes realistic --executors local dask

clean:
	rm -rf calendars/2* audio_manifests/2* reports .pytest_cache build *.egg-info
