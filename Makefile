# Two commands do all set-up on a fresh machine (see README):
#   make smoke   the whole pipeline on the offline smoke configuration -> figures/table1.tex
#   make test    the test suite
VENV ?= .venv
PY := $(VENV)/bin/python
CORES ?= 2

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

.PHONY: smoke test lint paper
smoke: $(VENV)/.installed
	$(VENV)/bin/snakemake --workflow-profile workflow/profiles/default --cores $(CORES) --configfile config/smoke.yaml

test: $(VENV)/.installed
	$(VENV)/bin/pytest -q

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/snakefmt --check Snakefile workflow/rules

paper: $(VENV)/.installed
	$(VENV)/bin/snakemake --workflow-profile workflow/profiles/default --cores $(CORES) all
