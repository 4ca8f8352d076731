"""The validation split eta* is chosen on: carved from the training set by a fixed, seeded
rule, disjoint from the images the runs train on."""

from __future__ import annotations

import numpy as np
import pytest

from earlyphase.data.validation_split import validation_size, validation_split


@pytest.mark.parametrize(("n", "fraction"), [(50_000, 0.1), (800, 0.1), (257, 0.25), (10, 0.05)])
def test_validation_indices_are_disjoint_from_training_indices(n, fraction):
    train, val = validation_split(n, fraction)
    assert np.intersect1d(train, val).size == 0
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(n))  # nothing lost or repeated
    assert len(val) == max(1, round(fraction * n))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)  # sorted, unique


def test_the_split_is_fixed_by_its_seed_and_not_a_contiguous_block():
    train, val = validation_split(1000, 0.1)
    again_train, again_val = validation_split(1000, 0.1)
    assert np.array_equal(val, again_val) and np.array_equal(train, again_train)
    assert not np.array_equal(validation_split(1000, 0.1, seed=1)[1], val)
    assert val.min() < 500 < val.max()  # a permutation's tail, not the last images of the file
    # a larger fraction holds out a different tail of a different-size cut, never the test split
    assert len(validation_split(1000, 0.2)[1]) == 200


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1])
def test_a_fraction_outside_zero_one_is_refused(fraction):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        validation_size(100, fraction)


def test_a_split_that_leaves_nothing_to_train_on_is_refused():
    with pytest.raises(ValueError, match="leaves none to train on"):
        validation_size(1, 0.5)
