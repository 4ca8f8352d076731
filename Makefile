# Two commands do all set-up on a fresh machine (see README):
#   make smoke   the pipeline on the offline smoke configuration -> figures/table1.tex, figure1
#   make test    the test suite
# make smoke-all builds every artifact of the smoke configuration (what the end-to-end test does).
VENV ?= .venv
PY := $(VENV)/bin/python
CORES ?= 2

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

SNAKEMAKE := $(VENV)/bin/snakemake --workflow-profile workflow/profiles/default --cores $(CORES)

.PHONY: smoke smoke-all test lint paper
smoke: $(VENV)/.installed
	$(SNAKEMAKE) figures/table1.tex figures/figure1.pdf --configfile config/smoke.yaml

smoke-all: $(VENV)/.installed
	$(SNAKEMAKE) all --configfile config/smoke.yaml

test: $(VENV)/.installed
	$(VENV)/bin/pytest -q

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/snakefmt --check Snakefile workflow/rules

paper: $(VENV)/.installed
	$(SNAKEMAKE) all
