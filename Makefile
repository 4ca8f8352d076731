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
SMOKE_TARGETS ?= figures/table1.tex figures/figure1.pdf

# $(call snakemake_run,ARGS): Snakemake with ARGS, recovering from a crash first. A killed
# run (kill -9, power loss) leaves its lock behind; unlock-stale removes it only when no live
# Snakemake process works in this folder (never under a live run), then the run resumes:
# atomic outputs, --rerun-incomplete and training checkpoints (README, "After a crash").
define snakemake_run
$(PY) -m earlyphase unlock-stale -- $(SNAKEMAKE) $(1)
$(SNAKEMAKE) $(1)
endef

.PHONY: smoke smoke-all test lint paper
smoke: $(VENV)/.installed
	$(call snakemake_run,$(SMOKE_TARGETS) --configfile config/smoke.yaml)

smoke-all: $(VENV)/.installed
	$(call snakemake_run,all --configfile config/smoke.yaml)

test: $(VENV)/.installed
	$(VENV)/bin/pytest -q

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/snakefmt --check Snakefile workflow/rules

paper: $(VENV)/.installed
	$(call snakemake_run,all)
