"""Checkpoints by wall clock, written in the background, and on SIGTERM: the schedule follows
the clock, and a run interrupted at a checkpoint the clock chose (SIGKILL), then stopped by
SIGTERM, resumes to the bit-identical result of an uninterrupted run (CPU)."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pandas as pd
import pytest
import torch

from earlyphase.training.trainer import CHECKPOINT_NAME, Trainer, train_run

from .helpers import HANG_GUARD_S, REPO, child_env, kill_at, run_cli, tiny_config, train_args

pytestmark = pytest.mark.slow


def test_checkpoints_follow_the_clock(tmp_path, smoke_params, tiny_clean_dir):
    config = tiny_config(smoke_params, steps=10)
    holder = {}
    trainer = Trainer(config, tmp_path / "run", tiny_clean_dir, progress=False, checkpoint_every=None,
                      checkpoint_minutes=1.0, clock=lambda: 20.0 * holder["t"].step if holder else 0.0)
    holder["t"] = trainer
    saved = []
    save = trainer.writer.save
    trainer.writer.save = lambda state: saved.append(state["step"]) or save(state)
    assert trainer.run()["status"] == "completed"
    assert saved == [3, 6, 9]  # every 60 s of (fake) wall clock, 20 s per step; none at the end
    assert not (tmp_path / "run" / CHECKPOINT_NAME).exists()


def _stop_with_sigterm(args, point, release, log) -> subprocess.CompletedProcess:
    """Start ``args`` paused at ``point``, send SIGTERM there, let it go on; its exit."""
    with open(log, "w") as err:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, cwd=REPO, text=True,
                                env=child_env(EARLYPHASE_TEST_PAUSE_AT=point,
                                              EARLYPHASE_TEST_RELEASE=str(release)))
    deadline = time.monotonic() + HANG_GUARD_S
    while f"EARLYPHASE_PAUSED {point}" not in log.read_text():
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    release.touch()
    out, _ = proc.communicate(timeout=HANG_GUARD_S)
    return subprocess.CompletedProcess(args, proc.returncode, out, log.read_text())


def test_wall_clock_checkpoint_and_sigterm_resume_bit_identically(tmp_path, smoke_params, tiny_clean_dir):
    config = tiny_config(smoke_params, probe=True, steps=14)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the CLI child does (--threads 1)
    try:
        train_run(config, tmp_path / "whole", tiny_clean_dir, checkpoint_every=None, progress=False)
    finally:
        torch.set_num_threads(threads)

    run_dir = tmp_path / "killed"
    args = train_args(config, run_dir, tiny_clean_dir, checkpoint_every=0)
    args += ["--checkpoint-minutes", "0.0003"]  # 18 ms: the clock, not the step count, decides
    kill_at(args, "step:6", tmp_path / "kill.log")
    first = torch.load(run_dir / CHECKPOINT_NAME, weights_only=False)["step"]
    assert 1 <= first <= 6 and not (run_dir / "final").exists()

    stopped = _stop_with_sigterm(args, "step:11", tmp_path / "release", tmp_path / "term.log")
    assert stopped.returncode == 128 + signal.SIGTERM, stopped.stderr
    assert "stopped on request after step 11" in stopped.stderr
    assert torch.load(run_dir / CHECKPOINT_NAME, weights_only=False)["step"] == 11
    assert not (run_dir / "final").exists()

    result = run_cli(args)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["status"] == "completed"
    assert not (run_dir / CHECKPOINT_NAME).exists()
    whole, killed = tmp_path / "whole" / "final", run_dir / "final"
    for table in ("train_log.parquet", "probes.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(whole / table), pd.read_parquet(killed / table),
                                      check_exact=True)
    weights_whole = torch.load(whole / "model.pt", weights_only=False)["model"]
    weights_killed = torch.load(killed / "model.pt", weights_only=False)["model"]
    for name, tensor in weights_whole.items():
        assert torch.equal(tensor, weights_killed[name]), name
