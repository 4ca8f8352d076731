"""Algorithm 2 (arXiv v1) on synthetic signals with a known stabilization point; win rate."""

from __future__ import annotations

import numpy as np
import pytest

from earlyphase.selection.stabilization import (
    moving_average,
    normalize,
    random_ks,
    stabilization_index,
    stabilization_step,
    transient_end,
    win_rate,
)


def ramp_then_flat(jump_to=1.0, slope=0.05, ramp_len=10, flat_len=30):
    """s[0] = 0, a jump to 1 at index 1, a linear decline of `slope` per index for
    `ramp_len` indices (down to 1 - slope*ramp_len at index 1 + ramp_len), then flat."""
    ramp = jump_to - slope * np.arange(ramp_len + 1)
    return np.concatenate([[0.0], ramp, np.full(flat_len, ramp[-1])])


def test_normalize_is_min_max_and_constant_gives_zeros():
    assert np.allclose(normalize([2.0, 4.0, 3.0]), [0.0, 1.0, 0.5])
    assert np.allclose(normalize([5.0, 5.0]), [0.0, 0.0])
    with pytest.raises(ValueError):
        normalize([1.0, np.nan])


def test_transient_ends_after_the_largest_change():
    s = ramp_then_flat()
    assert transient_end(s) == 1
    assert transient_end([0.0, 0.1, 0.2, 0.9, 0.95]) == 3
    assert transient_end(s, 4) == 4


def test_moving_average_valid_part():
    assert np.allclose(moving_average([1, 2, 3, 4], 2), [1.5, 2.5, 3.5])
    assert moving_average([1, 2], 3).size == 0


def test_ramp_then_flat_stabilizes_where_the_smoothed_change_first_drops_below_epsilon():
    # Normalized signal = itself (min 0, max 1). t_delta = 1; tail[i] = s[1 + i]; the flat part
    # starts at tail index 10 (s[11] = 0.5). With tau = 3, mu[j] = mean(tail[j:j+3]):
    # mu[8] = (.6+.55+.5)/3 = .55, mu[9] = (.55+.5+.5)/3 = .5167, mu[10] = .5, so
    # |mu[9]-mu[8]| = .0333 > .02 and |mu[10]-mu[9]| = .0167 <= .02: j = 9, index = 1 + 9 = 10.
    result = stabilization_index(ramp_then_flat(), tau=3, epsilon=0.02)
    assert result.stabilized and result.t_delta == 1 and result.index == 10
    # A looser threshold accepts the first partly-flat window one index earlier ...
    assert stabilization_index(ramp_then_flat(), tau=3, epsilon=0.04).index == 9
    # ... and a slope below epsilon is "stable" right after the transient.
    assert stabilization_index(ramp_then_flat(slope=0.01), tau=3, epsilon=0.02).index == 1
    # tau = 1: the first index whose own change is <= eps: tail[10] - tail[9] = 0 ... no, 0.05;
    # tail[11] - tail[10] = 0, so j = 10 and index 11 = the first flat record.
    assert stabilization_index(ramp_then_flat(), tau=1, epsilon=0.02).index == 11


def test_scale_and_offset_do_not_change_the_choice():
    s = ramp_then_flat()
    for transformed in (1000 * s + 3, 1e-6 * s):
        assert stabilization_index(transformed, 3, 0.02).index == 10


def test_never_stabilizing_signal_is_flagged():
    s = np.concatenate([[0.0], np.linspace(1.0, 0.0, 8)])  # steep decline to the end
    result = stabilization_index(s, tau=3, epsilon=0.02)
    assert not result.stabilized and result.index is None


def test_noisy_exponential_recovers_the_stabilization_point_with_a_wider_window():
    rng = np.random.default_rng(0)
    i = np.arange(200)
    clean = np.where(i == 0, 0.0, np.exp(-(i - 1) / 8.0))  # jump at index 1, then decay
    noisy = clean + rng.normal(0, 0.003, size=i.size)
    smooth = stabilization_index(clean, tau=8, epsilon=0.02).index
    # tail[i] = exp(-i/8) (already in [0, 1]); the moving average of an exponential is the same
    # exponential times c = (1 - e^-1) / (8 (1 - e^-1/8)), so delta_mu[j] = e^(-j/8) (1 - e^-1) / 8,
    # which first drops to <= 0.02 at j = ceil(8 ln((1 - e^-1) / 0.16)) = 11: index 1 + 11 = 12.
    j = int(np.ceil(8 * np.log((1 - np.exp(-1)) / (8 * 0.02))))
    assert smooth == 1 + j == 12
    assert abs(stabilization_index(noisy, tau=8, epsilon=0.02).index - smooth) <= 3


def test_stabilization_step_maps_index_to_step_and_clips():
    s = ramp_then_flat()
    steps = 10 * np.arange(s.size)
    # records out of order are sorted first
    perm = np.random.default_rng(1).permutation(s.size)
    out = stabilization_step(steps[perm], s[perm], tau=3, epsilon=0.02)
    assert out == {"k": 100, "index": 10, "t_delta": 1, "stabilized": True, "clipped": False}
    assert stabilization_step(steps, s, 3, 0.02, k_max=60)["k"] == 60
    never = np.concatenate([[0.0], np.linspace(1.0, 0.0, 8)])
    out = stabilization_step(10 * np.arange(9), never, 3, 0.02)
    assert out["k"] == 80 and not out["stabilized"]


def test_random_ks_are_seeded_distinct_and_bounded():
    ks = random_ks(0, n=10, k_max=800)
    assert ks == random_ks(0, n=10, k_max=800) and ks == sorted(set(ks))
    assert len(ks) == 10 and all(1 <= k <= 800 for k in ks)
    assert random_ks(1, n=10, k_max=800) != ks
    assert random_ks(0, n=10, k_max=4) == [1, 2, 3, 4]


def test_win_rate_counts_strictly_lower_random_results_and_skips_missing():
    assert win_rate(72.0, [71.0, 73.0, 72.0, 70.0]) == {"win_rate": 0.5, "wins": 2, "n": 4, "n_missing": 0}
    out = win_rate(72.0, [71.0, np.nan, 75.0])
    assert out["win_rate"] == 0.5 and out["n"] == 2 and out["n_missing"] == 1
    assert np.isnan(win_rate(float("nan"), [1.0])["win_rate"])
    assert win_rate(80.0, [70.0] * 10)["win_rate"] == 1.0
