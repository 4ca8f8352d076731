"""The scale ladder: Table 1's GU - standard differences of every published set against the
training compute of one run (issue 22).

Each published set with a ``table1.csv`` is a point per (setup, learning rate): the paired
GU - standard difference of OOD and ID accuracy with its 95 % and its multiplicity-adjusted
interval (the set's own verdict columns, so each point is judged with its own set's m), the
standard and GU rows' mean accuracies, and the training compute of one run, computed from the
runs' configs: steps x batch x the FLOPs of one image's forward and backward pass of the
model at its width (counted by torch's FLOP counter, not measured). Nothing is typed by hand:
a new ladder preset, once published, is a new point.

``python -m earlyphase scale-ladder`` writes ``scale_ladder.csv`` and the figure to
``results/published/scale-ladder/`` with ``sources.json`` naming the sets (not a published set
of its own: no runs, no provenance); ``--check`` compares the CSV with what the sets give now
(the figure is only remade). ``make readme`` runs it before writing README's results.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pandas as pd
import torch

from earlyphase.bench.timing import train_step_flops
from earlyphase.models import build_model
from earlyphase.operations.atomic import atomic_dir
from earlyphase.records.run_record import CONFIG, RunRecord
from earlyphase.report.paper_values import SETUP_TITLES
from earlyphase.report.scale_ladder import plot_scale_ladder

FOLDER = "scale-ladder"
CSV = "scale_ladder.csv"
FIGURE = "scale_ladder"
SOURCES = "sources.json"
COMMAND = "python -m earlyphase scale-ladder"
LR_ROWS = {"lr_d": "lr_d + GU", "0.1·lr_d": "0.1·lr_d + GU"}
DIFFERENCE_COLUMNS = ("n", "diff", "ci_low", "ci_high", "adj_low", "adj_high", "paper_diff")


@functools.cache
def flops_per_image(arch: str, width: float, in_channels: int, image_size: int, num_classes: int) -> int:
    """Forward + backward FLOPs of one training image (a batch of two, halved: BatchNorm needs two)."""
    torch.manual_seed(0)
    model = build_model(arch, num_classes, in_channels, width)
    inputs = torch.zeros(2, in_channels, image_size, image_size)
    return train_step_flops(model, inputs, torch.zeros(2, dtype=torch.long)) // 2


def _run_configs(folder: Path, setup: str) -> list[dict]:
    configs = [RunRecord(path.parent).config for path in sorted((folder / "runs").glob(f"**/final/{CONFIG}"))]
    return [c for c in configs if c.get("setup") == setup]


def _compute(config: dict) -> dict:
    image_size = 28 if config["in_channels"] == 1 else 32
    per_image = flops_per_image(config["arch"], float(config["width"]), int(config["in_channels"]), image_size,
                                int(config["num_classes"]))
    subset = (config.get("data") or {}).get("subset") or {}
    return {"arch": config["arch"], "width": float(config["width"]), "train_size": subset.get("train_size"),
            "total_steps": int(config["total_steps"]), "batch_size": int(config["batch_size"]),
            "flops_per_run": float(config["total_steps"]) * int(config["batch_size"]) * per_image,
            "data_source": (config.get("data") or {}).get("source")}


def set_points(folder: Path) -> list[dict]:
    """The ladder points of one published set (none without a Table 1)."""
    folder = Path(folder)
    if not (folder / "table1.csv").is_file():
        return []
    table = pd.read_csv(folder / "table1.csv").set_index(["setup", "row"])
    points = []
    for setup in dict.fromkeys(table.index.get_level_values("setup")):
        configs = _run_configs(folder, setup)
        if not configs:
            raise ValueError(f"{folder}: table1.csv has setup {setup!r} but no run records of it")
        for standard, gu in LR_ROWS.items():
            if (setup, gu) not in table.index:
                continue
            s, g = table.loc[(setup, standard)], table.loc[(setup, gu)]
            point = {"set": folder.name, "setup": setup, "dataset": SETUP_TITLES.get(setup, setup),
                     "lr": standard, "gu_k": int(g["gu_k"]), **_compute(configs[0]),
                     "standard_ood": s["ood_mean"], "gu_ood": g["ood_mean"], "standard_id": s["id_mean"],
                     "gu_id": g["id_mean"]}
            for metric in ("ood", "id"):
                for column in DIFFERENCE_COLUMNS:
                    point[f"{metric}_{column}"] = g[f"verdict_{metric}_{column}"]
            points.append(point)
    return points


def ladder(published: Path) -> pd.DataFrame:
    """Every point of every set under ``published``, in compute order."""
    sets = sorted(p for p in Path(published).iterdir() if p.is_dir() and p.name != FOLDER)
    points = [point for folder in sets for point in set_points(folder)]
    if not points:
        raise ValueError(f"{published}: no published set has a table1.csv; nothing to put on the ladder")
    return pd.DataFrame(points).sort_values(["flops_per_run", "set", "lr"], kind="stable").reset_index(drop=True)


def csv_text(points: pd.DataFrame) -> str:
    return points.to_csv(index=False, float_format="%.6g", lineterminator="\n")


def write(published: Path) -> Path:
    """Write the ladder's CSV, figure and sources to ``published/scale-ladder``; left as it is
    when the CSV already matches (a remade PDF differs in its date alone)."""
    folder = Path(published) / FOLDER
    if check(published) and (folder / f"{FIGURE}.png").is_file():
        return folder
    points = ladder(published)
    with atomic_dir(Path(published) / FOLDER) as tmp:
        (tmp / CSV).write_text(csv_text(points))
        plot_scale_ladder(points, tmp / FIGURE)
        sources = {"command": COMMAND, "sets": sorted(set(points["set"]))}
        (tmp / SOURCES).write_text(json.dumps(sources, indent=2, sort_keys=True) + "\n")
    return folder


def check(published: Path) -> bool:
    """Whether the committed CSV is what the published sets give now."""
    kept = Path(published) / FOLDER / CSV
    return kept.is_file() and kept.read_text() == csv_text(ladder(published))
