"""Command line of the phase-diagram jobs (what workflow/rules/phase_diagram.smk calls).

    python -m earlyphase.phase_diagram.jobs fcn --spec JSON --data CLEAN_DIR --out RUN.parquet
    python -m earlyphase.phase_diagram.jobs uv  --spec JSON --out RUN.parquet
    python -m earlyphase.phase_diagram.jobs concat --inputs A.parquet B.parquet ... --out TABLE.parquet

``--spec`` is one job of :func:`earlyphase.experiments.phase_diagram.jobs` (FCN: one
(parameterization, depth, width, seed) over the whole c grid) or of
:func:`earlyphase.experiments.uv_model.jobs` (uv model: one width). Outputs are atomic.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from earlyphase.atomic import write_parquet


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
        power_iters=spec["power_iters"], seed=spec["seed"])
    frame["dataset"] = spec["data"]["dataset"]
    return frame


def run_uv_job(spec: dict) -> pd.DataFrame:
    from earlyphase.phase_diagram.uv_model import run_uv_phase_diagram

    return run_uv_phase_diagram(widths=[spec["width"]], cs=spec["cs"], n_inits=spec["n_inits"],
                                steps=spec["steps"], seed=spec["seed"], variants=spec["variants"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("fcn")
    p.add_argument("--spec", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("uv")
    p.add_argument("--spec", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("concat")
    p.add_argument("--inputs", nargs="+", required=True)
    p.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if args.command == "fcn":
        frame = run_fcn_job(json.loads(args.spec), args.data)
    elif args.command == "uv":
        frame = run_uv_job(json.loads(args.spec))
    else:
        frame = pd.concat([pd.read_parquet(path) for path in args.inputs], ignore_index=True)
    write_parquet(args.out, frame)
    return 0


if __name__ == "__main__":
    sys.exit(main())
