import numpy as np
import pandas as pd
import pytest

from earlyphase.phase_diagram.critical_constants import (
    average_critical_constants,
    critical_constants,
    diverged,
    increased,
)

CS = np.array([1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5])


def synthetic(c_loss_true, c_sharp_true, c_max_true, steps=10):
    """Loss/sharpness trajectories with known onsets: decay below the onset, a bump of 30 %
    at step 3 from the onset on, blow-up above c_max."""
    t = np.arange(steps + 1)
    loss = np.empty((CS.size, steps + 1))
    sharp = np.empty((CS.size, steps + 1))
    for i, c in enumerate(CS):
        loss[i] = 0.5 * 0.9**t
        sharp[i] = 10.0 * 0.95**t
        if c >= c_loss_true:
            loss[i, 3] = 0.5 * 1.3
        if c >= c_sharp_true:
            sharp[i, 2] = 13.0
        if c > c_max_true:
            loss[i] = 0.5 * 10.0 ** (t * 1.0)
            sharp[i] = 10.0 * 3.0**t
    return loss, sharp


def test_known_answers():
    loss, sharp = synthetic(2.5, 3.5, 4.0)
    out = critical_constants(CS, loss, sharp)
    assert out["c_loss"] == 2.5
    assert out["c_sharp"] == 3.5
    assert out["c_max"] == 4.0
    assert not out["c_max_censored"]


def test_batch_axes_are_preserved():
    a = synthetic(2.0, 3.0, 3.5)
    b = synthetic(1.5, 4.0, 4.0)
    loss = np.stack([a[0], b[0]])
    sharp = np.stack([a[1], b[1]])
    out = critical_constants(CS, loss, sharp)
    np.testing.assert_array_equal(out["c_loss"], [2.0, 1.5])
    np.testing.assert_array_equal(out["c_sharp"], [3.0, 4.0])
    np.testing.assert_array_equal(out["c_max"], [3.5, 4.0])


def test_no_c_diverges_gives_censored_top_of_grid():
    loss, sharp = synthetic(3.0, 4.0, np.inf)
    out = critical_constants(CS, loss, sharp)
    assert out["c_max"] == CS[-1]
    assert out["c_max_censored"]


def test_all_diverge():
    loss, sharp = synthetic(9.0, 9.0, 0.0)
    out = critical_constants(CS, loss, sharp)
    assert np.isnan(out["c_max"])
    # a divergent run counts as a loss and sharpness increase
    assert out["c_loss"] == CS[0] and out["c_sharp"] == CS[0]


def test_no_increase_on_grid_is_nan():
    loss, sharp = synthetic(9.0, 9.0, np.inf)
    out = critical_constants(CS, loss, sharp)
    assert np.isnan(out["c_loss"]) and np.isnan(out["c_sharp"])


def test_divergence_caps_onsets_at_first_divergent_c():
    # sharpness never increases before divergence: c_sharp is the first divergent c
    loss, sharp = synthetic(2.0, 9.0, 3.0)
    out = critical_constants(CS, loss, sharp)
    assert out["c_sharp"] == 3.5 and out["c_max"] == 3.0


def test_two_decimal_rounding_threshold():
    base = np.array([[1.0, 0.9, 1.004], [1.0, 0.9, 1.006]])
    np.testing.assert_array_equal(increased(base), [False, True])
    np.testing.assert_array_equal(increased(base, decimals=None), [True, True])
    # window: only steps 1..T count
    late = np.array([[1.0, 0.5, 0.5, 2.0]])
    assert increased(late)[0] and not increased(late, window=2)[0]


def test_divergence_absolute_and_relative():
    loss = np.array([[1e-3, 1e-3, 5e3], [1.0, 2e5, 1.0], [1.0, np.nan, 1.0]])
    np.testing.assert_array_equal(diverged(loss), [False, True, True])
    np.testing.assert_array_equal(diverged(loss, relative=True), [True, True, True])


def test_rejects_unsorted_grid():
    loss, sharp = synthetic(2.0, 3.0, 4.0)
    with pytest.raises(ValueError):
        critical_constants(CS[::-1], loss, sharp)


def test_average_table():
    df = pd.DataFrame(
        {
            "width": [8, 8, 8, 64, 64],
            "c_loss": [2.0, 3.0, np.nan, 2.0, 2.0],
            "c_sharp": [3.0, 3.0, 3.0, 2.5, 3.5],
            "c_max": [4.0, 4.0, 5.0, 4.0, 4.0],
        }
    )
    t = average_critical_constants(df).set_index("width")
    assert t.loc[8, "c_loss_mean"] == 2.5 and t.loc[8, "n_c_loss"] == 2
    assert t.loc[64, "c_sharp_mean"] == 3.0
    assert t.loc[8, "c_max_mean"] == pytest.approx(13 / 3)
    assert t.loc[8, "n_inits"] == 3
