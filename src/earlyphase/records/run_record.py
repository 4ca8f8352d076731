"""The one reader of a finished run's records.

A training run leaves ``results/runs/<run-id>/final/`` (written by
:mod:`earlyphase.training.trainer`):

    config.json        the resolved run configuration
    status.json        completed, or diverged and at which step
    train_log.parquet  the training log
    probes.parquet     the probe log of the early window (probed runs)
    test_log.parquet   the periodic test log (runs that ask for one)

and beside it the evaluation (``eval/<tag>.parquet``, named in the manifest as ``eval_path``)
and post-hoc probes of the final model (``posthoc/<tag>.parquet``, ``posthoc_path``).
Aggregation, the probe and run-log tables, post-hoc tables, ``earlyphase status`` and
publishing read these files through :class:`RunRecord` only, so a missing file fails the
same way everywhere: :class:`MissingRecordError`, naming the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

CONFIG = "config.json"
STATUS = "status.json"
TRAIN_LOG = "train_log.parquet"
PROBE_LOG = "probes.parquet"
TEST_LOG = "test_log.parquet"


class MissingRecordError(FileNotFoundError):
    """A run record that a reader asked for does not exist (its path is in the message)."""

    def __init__(self, path: Path, what: str):
        super().__init__(f"run record missing: {path} ({what})")
        self.path = path


@dataclass(frozen=True)
class RunRecord:
    """The records of one finished run; files are read when first asked for.

    ``final_dir`` is the run's ``final/`` folder (None for a record that only names a
    post-hoc file); ``eval_path`` and ``posthoc_path`` are the manifest's paths, None where
    the run has none. ``config`` and ``status`` are read once and kept. Tables are read
    afresh on every access, so a caller may add columns to the frame it gets without
    touching the next one.
    """

    final_dir: Path | None
    eval_path: Path | None = None
    posthoc_path: Path | None = None

    def __post_init__(self):
        # Manifests carry strings; keep Paths so equal records compare equal.
        for name in ("final_dir", "eval_path", "posthoc_path"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))

    def path(self, name: str) -> Path:
        """The file ``name`` of ``final/`` (it need not exist)."""
        if self.final_dir is None:
            raise ValueError(f"this run record names no final/ folder, so it has no {name}")
        return self.final_dir / name

    def has(self, name: str) -> bool:
        """Whether ``final/`` holds the file ``name``."""
        return self.final_dir is not None and self.path(name).is_file()

    def file(self, name: str) -> Path:
        """The file ``name`` of ``final/``; :class:`MissingRecordError` when it is not there."""
        path = self.path(name)
        if path.is_file():
            return path
        raise MissingRecordError(path, f"the final/ folder has no {name}" if self.final_dir.is_dir()
                                 else "there is no final/ folder: has the run finished?")

    def table(self, name: str) -> pd.DataFrame:
        """A parquet log of ``final/`` by file name (``probes.parquet``, ``test_log.parquet`` ...)."""
        return pd.read_parquet(self.file(name))

    @cached_property
    def config(self) -> dict:
        return json.loads(self.file(CONFIG).read_text())

    @cached_property
    def status(self) -> dict:
        return json.loads(self.file(STATUS).read_text())

    @property
    def train_log(self) -> pd.DataFrame:
        return self.table(TRAIN_LOG)

    @property
    def probe_log(self) -> pd.DataFrame:
        return self.table(PROBE_LOG)

    @property
    def test_log(self) -> pd.DataFrame:
        return self.table(TEST_LOG)

    def evaluation_file(self) -> Path:
        if self.eval_path is None:
            raise ValueError("this run record names no evaluation file (the run is not evaluated)")
        return _existing(self.eval_path, "the run's evaluation: has it been evaluated?")

    @property
    def evaluation(self) -> pd.DataFrame:
        """The ID/OOD evaluation (split, accuracy, ... per row)."""
        return pd.read_parquet(self.evaluation_file())

    def posthoc_file(self) -> Path:
        if self.posthoc_path is None:
            raise ValueError("this run record names no post-hoc probe file")
        return _existing(self.posthoc_path, "the post-hoc probes of the run's final model: have they run?")

    @property
    def posthoc(self) -> pd.DataFrame:
        """The post-hoc probes of the final model (one row)."""
        return pd.read_parquet(self.posthoc_file())


def _existing(path: Path, what: str) -> Path:
    if not path.is_file():
        raise MissingRecordError(path, what)
    return path
