"""Helpers of the robustness tests: tiny run configs, and running ``python -m earlyphase`` as a
real subprocess that can be paused at a named point (``EARLYPHASE_TEST_PAUSE_AT``, see
:func:`earlyphase.training.trainer.pause_point`) and SIGKILLed there. Test modules import them with
``from .helpers import ...`` (fixtures live in conftest.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from earlyphase import runs
from earlyphase.params import load_params

REPO = Path(__file__).resolve().parents[2]
HANG_GUARD_S = 600  # only guards against a hung child; never an assertion about speed


def tiny_config(smoke_params: dict, *, probe: bool = False, steps: int = 12, **overrides) -> dict:
    """A small CIFAR run (simple CNN) with GU, an LR switch and a Fisher penalty."""
    run = runs.resolve_run(
        smoke_params, "cifar10-resnet18", seed=5, gu_k=2, steps=steps, probe=probe,
        lr_schedule={"kind": "switch", "lr_before": 0.05, "lr_after": 0.01, "switch_step": 6},
        penalty={"kind": "fisher", "alpha": 0.01, "every": 2, "onset_step": 3},
    )
    config = {**run.config, "arch": "simple_cnn", "width": 0.25, "batch_size": 32, "log_every": 2}
    if probe:
        config["probe"] = {**config["probe"], "every": 3, "window": 9, "points": 32, "batch_size": 16,
                           "n_draws": 2, "apgd_iters": 2, "eig_iters": 2,
                           "probes": ["fisher_trace", "avg_sharpness", "worst_sharpness",
                                      "hessian_max_eig"]}
    config.update(overrides)
    return config


def tiny_table1_params() -> dict:
    """Full params for a tiny Table 1: two columns (CIFAR-10 ResNet-18 and VGG-11, one seed,
    lr_d only, 8 steps) on one small offline CIFAR set; VGG-11's absurd lr makes it diverge."""
    params = load_params(REPO / "params.yaml", REPO / "config" / "smoke.yaml")
    params["config_overlay"] = ""
    params["datasets"]["cifar10"]["offline"] = {"train_size": 256, "test_size": 64}
    params["datasets"]["cifar10"]["ood"].update(corruptions=["gaussian_noise"], severities=[1])
    for name in ("cifar10-resnet18", "cifar10-vgg11"):
        params["setups"][name].update(epochs=2, batch_size=64, width=0.125)
    params["setups"]["cifar10-vgg11"]["lr"] = 1e6
    params["training"].update(log_every=2, checkpoint_every=4)
    experiments = params["experiments"]
    experiments["table1"].update(setups=["cifar10-resnet18", "cifar10-vgg11"], lr_scales=[1.0],
                                 gu_k={"cifar10-resnet18": 1, "cifar10-vgg11": 1},
                                 seeds={"cifar10-resnet18": [0], "cifar10-vgg11": [0]})
    experiments["figure1"].update(setups=["cifar10-resnet18"], k_points=2, k_extra=[], seeds=[0])
    experiments["probes"].update(setups=["cifar10-resnet18"], k_values=[1], seeds=[0])
    return params


def child_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EARLYPHASE_TEST_")}
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env["CUDA_VISIBLE_DEVICES"] = ""  # CPU: the bit-identity guarantee is a CPU one
    env.update(extra)
    return env


def train_args(config: dict, run_dir: Path, data: Path, checkpoint_every: int = 4) -> list[str]:
    return [sys.executable, "-m", "earlyphase", "train", "--config", json.dumps(config),
            "--run-dir", str(run_dir), "--data", str(data),
            "--checkpoint-every", str(checkpoint_every), "--threads", "1", "--no-progress"]


def run_cli(args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, env=child_env(**env), cwd=REPO,
                          timeout=HANG_GUARD_S)


def kill_at(args: list[str], point: str, log: Path) -> None:
    """Start ``args`` paused at ``point``, wait until it is there, SIGKILL it."""
    with open(log, "w") as err:
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err, cwd=REPO,
                                env=child_env(EARLYPHASE_TEST_PAUSE_AT=point))
    marker = f"EARLYPHASE_PAUSED {point}"
    deadline = time.monotonic() + HANG_GUARD_S
    try:
        while marker not in log.read_text():
            if proc.poll() is not None:
                raise AssertionError(f"exited ({proc.returncode}) before {point}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"never reached {point}:\n{log.read_text()}")
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
