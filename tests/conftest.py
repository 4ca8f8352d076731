"""Fixtures shared across test folders: small offline data sets and resolved configs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from earlyphase.params import load_params

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def smoke_params() -> dict:
    return load_params(REPO / "params.yaml", REPO / "config" / "smoke.yaml")


@pytest.fixture(scope="session")
def default_params() -> dict:
    return load_params(REPO / "params.yaml")


@pytest.fixture(scope="session")
def shapes_clean_dir(tmp_path_factory) -> Path:
    """A small CIFAR-like clean set (offline stand-in) in the prepared on-disk layout."""
    from earlyphase.data.offline_shapes import offline_shapes

    out = tmp_path_factory.mktemp("shapes") / "clean"
    out.mkdir()
    for split, n in (("train", 256), ("test", 128)):
        images, labels = offline_shapes(n, 10, seed=0, split=split)
        np.save(out / f"{split}_images.npy", images)
        np.save(out / f"{split}_labels.npy", labels)
    return out


@pytest.fixture(scope="session")
def copy_repo():
    """``copy_repo(dest)``: the repository's tracked and not-ignored files copied into ``dest``
    (no results, data or .snakemake), for tests that run the workflow in a folder of their own."""

    def copy(dest: Path) -> Path:
        listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, check=True,
                                capture_output=True, text=True).stdout.split()
        for name in listed:
            if (REPO / name).is_file():
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / name, dest / name)
        return dest

    return copy
