"""Post-hoc probes of a saved final model (arXiv v1 Appendix C: curvature of the solution).

``probe_final(final_dir, data_dir, settings, out)`` loads ``final/model.pt``, draws
``settings["points"]`` fixed un-augmented training points (seeded by ``settings["seed"]``,
a stream of their own, so every run of a setup is probed on the same points), normalizes
them with the run's own training statistics and records the configured probes with the
:class:`~earlyphase.probes.suite.ProbeSuite` (BatchNorm in eval mode, running statistics of
training). Every parameter of a final model is trainable, so ``trainable`` and ``all``
coincide. A diverged run gets one row of NaNs.

``posthoc_settings(config, spec)`` resolves the settings of the workflow: the ``probe``
section of params (rho, draws, iterations, metric batch) with the artifact's probe list,
points, seed and, when it sets one, its own metric batch; ``posthoc_tag`` hashes them into
the output file name, so a changed setting writes a new file beside the old one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from earlyphase.operations.atomic import write_parquet
from earlyphase.records.run_record import RunRecord

_POSTHOC_POINTS_STREAM = 0x5EED_00F1
LOOP_KEYS = ("every", "window")


def posthoc_settings(config: dict, spec: dict) -> dict:
    base = {k: v for k, v in config["probe"].items() if k not in LOOP_KEYS}
    if "batch_size" in spec:  # only when set, so the tag of a spec without it stays as it was
        base["batch_size"] = int(spec["batch_size"])
    return {**base, "probes": list(spec["probes"]), "points": int(spec["points"]), "seed": int(spec["seed"])}


def posthoc_tag(settings: dict) -> str:
    from earlyphase.runs import short_hash

    return f"probe-{short_hash(settings)}"


def probe_final(final_dir: Path | str, data_dir: Path | str, settings: dict, out: Path | str, *,
                device: str = "auto") -> pd.DataFrame:
    from earlyphase.data.loaders import load_clean
    from earlyphase.probes.suite import ProbeSuite
    from earlyphase.runs import build_run_model
    from earlyphase.training.batches import stream_generator, to_nchw_tensor
    from earlyphase.training.device import pick_device

    final_dir = Path(final_dir)
    dev = pick_device(device)
    checkpoint = torch.load(final_dir / "model.pt", map_location=dev, weights_only=False)
    config, status = checkpoint["config"], checkpoint["status"]
    row = {"run_id": None, "step": config["total_steps"], "settings": json.dumps(settings, sort_keys=True)}
    if status["status"] != "completed":
        for probe in settings["probes"]:
            row[probe] = float("nan")
        frame = pd.DataFrame([row])
        write_parquet(out, frame)
        return frame
    model = build_run_model(config)
    model.load_state_dict(checkpoint["model"])
    model.to(dev).train()
    images, labels = load_clean(Path(data_dir), "train")
    generator = stream_generator(int(settings["seed"]), _POSTHOC_POINTS_STREAM, 0)
    order = torch.randperm(len(labels), generator=generator)[: int(settings["points"])]
    norm = checkpoint["normalizer"]
    mean = torch.tensor(norm["mean"], dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(norm["std"], dtype=torch.float32).view(1, -1, 1, 1)
    x = to_nchw_tensor(np.asarray(images)[order.numpy()], "cpu")
    inputs = ((x.float() / 255.0 - mean) / std).to(dev)
    targets = torch.as_tensor(np.asarray(labels)[order.numpy()], dtype=torch.long, device=dev)
    suite_cfg = {k: v for k, v in settings.items() if k != "points"}
    record = ProbeSuite(suite_cfg, inputs, targets, dev)(model, config["total_steps"])
    row.update(record)
    frame = pd.DataFrame([row])
    write_parquet(out, frame)
    return frame


def collect_posthoc(manifest: list[dict]) -> pd.DataFrame:
    """One row per run: ``[{run_id, posthoc_path, **labels}]`` -> labels + probe values."""
    rows = []
    for entry in manifest:
        frame = RunRecord(None, posthoc_path=entry["posthoc_path"]).posthoc
        record = frame.iloc[0].to_dict()
        record.update({k: v for k, v in entry.items() if k != "posthoc_path"})
        rows.append(record)
    return pd.DataFrame(rows)
