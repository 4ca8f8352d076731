"""The scale ladder's presets (config/ladder-*.yaml): Table 1's four rows, one knob moved per
point from a published point, on today's CPU path as the published points, as their shared
header's rule says."""

from __future__ import annotations

import pytest

from earlyphase.experiments import experiment_runs
from earlyphase.params import REPO_ROOT, load_params

# point -> (the published point's preset, the knobs that move, seeds, steps, k)
LADDER = {
    "fmnist-full": ("laptop", {"data", "total_steps", "gu_k"}, 6, 4690, 250),
    "fmnist-wide": ("laptop", {"width"}, 4, 710, 38),
    "mnist-w4": ("claims-mnist", {"width"}, 6, 320, 17),
    "mnist-w2": ("claims-mnist", {"width"}, 6, 320, 17),
}
FAST_PATH = ("precision", "channels_last")  # absent from a run config on today's path


def table1_configs(preset: str) -> dict[tuple, dict]:
    config = load_params(REPO_ROOT / "params.yaml", REPO_ROOT / "config" / f"{preset}.yaml")
    return {(run.config["lr_scale"], run.config["gu_k"] is not None, run.config["seed"]): run.config
            for run, _ in experiment_runs(config, "table1")}


@pytest.mark.parametrize("point", sorted(LADDER))
def test_a_ladder_point_moves_only_its_knobs_from_a_published_point(point):
    base_preset, knobs, n_seeds, steps, k = LADDER[point]
    ladder, base = table1_configs(f"ladder-{point}"), table1_configs(base_preset)
    assert len(ladder) == 4 * n_seeds  # the four rows of Table 1, paired seeds
    assert {config["total_steps"] for config in ladder.values()} == {steps}
    assert {config["gu_k"] for config in ladder.values()} == {None, k}
    for key, config in ladder.items():
        assert not set(FAST_PATH) & set(config)
        if key not in base:  # seeds beyond the published point's
            continue
        moved = {name for name in set(config) | set(base[key])
                 if config.get(name) != base[key].get(name)}
        assert moved <= knobs, f"{point} also moves {sorted(moved - knobs)}"
    assert any(key in base for key in ladder), "no run shared with the published point to compare"


def test_the_full_fashion_point_reads_every_image():
    config = next(iter(table1_configs("ladder-fmnist-full").values()))
    assert not (config["data"].get("subset") or {})  # all 60,000 / 10,000 images
    assert config["total_steps"] == 10 * -(-60000 // 128)  # 10 epochs of 469 steps: the paper's 4,690
