"""The phase-diagram jobs of Kalra & Barkeshli (what workflow/rules/phase_diagram_jobs.smk runs
through the command line):

    python -m earlyphase phase-diagram-job fcn --spec JSON --data CLEAN_DIR --out RUN.parquet
    python -m earlyphase phase-diagram-job uv  --spec JSON --out RUN.parquet

``--spec`` is one job of :func:`earlyphase.experiments.phase_diagram.jobs` (FCN: one
(parameterization, depth, width, seed) over the whole c grid) or of
:func:`earlyphase.experiments.uv_model.jobs` (uv model: one width). Outputs are atomic.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def run_fcn_job(spec: dict, data_dir: Path | str) -> pd.DataFrame:
    import torch

    from earlyphase.data.loaders import load_clean
    from earlyphase.phase_diagram.fcn_experiment import run_fcn_phase_diagram

    torch.set_num_threads(1)
    images, labels = load_clean(Path(data_dir), "train")
    frame = run_fcn_phase_diagram(
        np.asarray(images), np.asarray(labels), spec["cs"], num_classes=spec["num_classes"],
        depth=spec["depth"], width=spec["width"], parameterization=spec["parameterization"],
        steps=spec["steps"], batch_size=spec["batch_size"], n_sharpness=spec["n_sharpness"],
        power_iters=spec["power_iters"], sharpness_every=spec.get("sharpness_every", 1), seed=spec["seed"])
    frame["dataset"] = spec["data"]["dataset"]
    return frame


def run_uv_job(spec: dict) -> pd.DataFrame:
    from earlyphase.phase_diagram.uv_model import run_uv_phase_diagram

    return run_uv_phase_diagram(widths=[spec["width"]], cs=spec["cs"], n_inits=spec["n_inits"],
                                steps=spec["steps"], seed=spec["seed"], variants=spec["variants"])
