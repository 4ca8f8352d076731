"""SIGKILL a real training process at named points, rerun the same command, and get the
bit-identical results of an uninterrupted run (CPU): train log, probe records, weights.

One probed run with every kind of state (gradual unfreezing, LR switch, Fisher penalty with
its label RNG and stale-gradient cache, Hessian warm-start vector, probe records) is killed
four times in a row, each rerun resuming from the checkpoint the previous one left:

1. inside the atomic write of the step-8 checkpoint (only a partial file exists);
2. inside the probe of step 9;
3. after step 10 (between checkpoints);
4. inside the write of ``final/``.

After every kill no ``final/`` exists, and the checkpoint on disk is the last complete one.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch

from earlyphase.training.trainer import CHECKPOINT_NAME, train_run

from .helpers import kill_at, run_cli, tiny_config, train_args

pytestmark = pytest.mark.slow


def _checkpoint(run_dir):
    return torch.load(run_dir / CHECKPOINT_NAME, weights_only=False)


def test_kills_anywhere_then_rerun_is_bit_identical(tmp_path, smoke_params, tiny_clean_dir):
    config = tiny_config(smoke_params, probe=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the CLI child does (--threads 1)
    try:
        train_run(config, tmp_path / "whole", tiny_clean_dir, checkpoint_every=4, progress=False)
    finally:
        torch.set_num_threads(threads)

    run_dir = tmp_path / "killed"
    args = train_args(config, run_dir, tiny_clean_dir, checkpoint_every=4)
    log = tmp_path / "stderr.log"

    kill_at(args, "checkpoint:8", log)
    assert not (run_dir / "final").exists()
    assert (run_dir / f".partial-{CHECKPOINT_NAME}").exists()  # killed inside the write
    state = _checkpoint(run_dir)
    assert state["step"] == 4
    # Everything a resume needs is in the checkpoint.
    assert {"model", "requires_grad", "optimizer", "interventions", "probes", "log_rows",
            "probe_rows", "accumulators", "rng"} <= set(state)
    assert [row["step"] for row in state["probe_rows"]] == [0, 3]
    assert [row["step"] for row in state["log_rows"]] == [2, 4]
    penalty = state["interventions"][-1]
    assert penalty["cache_step"] == 3 and penalty["cache"]  # stale gradient of step 3
    assert state["probes"]["eig_vector"] is not None  # Hessian power-iteration warm start
    frozen = [name for name, trainable in state["requires_grad"].items() if not trainable]
    assert frozen and all(name.startswith(("conv1", "conv2")) for name in frozen)

    kill_at(args, "probe:9", log)
    assert not (run_dir / "final").exists()
    assert _checkpoint(run_dir)["step"] == 8
    assert [row["step"] for row in _checkpoint(run_dir)["probe_rows"]] == [0, 3, 6]

    kill_at(args, "step:10", log)
    assert not (run_dir / "final").exists()
    assert _checkpoint(run_dir)["step"] == 8

    kill_at(args, "final", log)
    assert not (run_dir / "final").exists()
    assert (run_dir / ".partial-final").is_dir()
    assert _checkpoint(run_dir)["step"] == 8

    result = run_cli(args)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["status"] == "completed"
    assert not (run_dir / CHECKPOINT_NAME).exists()
    assert not (run_dir / ".partial-final").exists()

    whole, killed = tmp_path / "whole" / "final", run_dir / "final"
    for table in ("train_log.parquet", "probes.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(whole / table), pd.read_parquet(killed / table),
                                      check_exact=True)
    assert pd.read_parquet(killed / "probes.parquet")["step"].tolist() == [0, 3, 6, 9]
    assert (whole / "status.json").read_text() == (killed / "status.json").read_text()
    weights_whole = torch.load(whole / "model.pt", weights_only=False)["model"]
    weights_killed = torch.load(killed / "model.pt", weights_only=False)["model"]
    assert weights_whole.keys() == weights_killed.keys()
    for name, tensor in weights_whole.items():
        assert torch.equal(tensor, weights_killed[name]), name
