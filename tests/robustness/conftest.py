"""Fixtures of the robustness tests: a tiny offline data set (helpers: :mod:`.helpers`)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_clean_dir(tmp_path_factory) -> Path:
    from earlyphase.data.prepare import prepare_clean

    root = tmp_path_factory.mktemp("tiny-data")
    prepare_clean("cifar10", "offline", root / "clean", root / "raw",
                  offline={"train_size": 256, "test_size": 64})
    return root / "clean"
