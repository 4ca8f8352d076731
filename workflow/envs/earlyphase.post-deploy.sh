#!/usr/bin/env bash
# Snakemake runs this once, inside the new conda environment (earlyphase.yaml), from the
# workflow's working directory, the repository root: install the project itself, editable
# so that jobs see the checkout's code; its dependencies came with the environment.
set -euo pipefail
test -f pyproject.toml || { echo "run Snakemake from the earlyphase repository root" >&2; exit 1; }
python -m pip install --no-deps --no-build-isolation --editable .
