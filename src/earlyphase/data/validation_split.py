"""A validation split carved from the training set, for choosing hyper-parameters without
looking at the test set (eta* of Jastrzebski et al.'s LR grid, seed 003).

The rule, fixed and seeded: permute the training indices 0..n-1 with a NumPy generator
seeded by ``(seed, VALIDATION_STREAM)``; the last ``round(fraction * n)`` indices of that
permutation (at least one) are the validation set, the others the training set. The
permutation depends on ``n``, ``fraction`` and ``seed`` only, never on the run's seed or
learning rate, so every run of a grid holds out the same images and their validation
accuracies are comparable. Both index arrays are returned sorted.

A run config carries the split as ``validation: {fraction, seed}``; the trainer then trains
on the training indices only and the evaluation measures accuracy on the validation
indices (:mod:`earlyphase.training.trainer`, :mod:`earlyphase.training.evaluate`).
"""

from __future__ import annotations

import numpy as np

VALIDATION_STREAM = 0x5EED_0A1D
"""Names the permutation's stream, so it shares no draws with any other seeded choice."""


def validation_size(n: int, fraction: float) -> int:
    """Images held out of a training set of ``n``: ``round(fraction * n)``, at least one,
    and at least one left to train on."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation fraction must lie strictly between 0 and 1, got {fraction}")
    n_val = max(1, int(round(fraction * n)))
    if n_val >= n:
        raise ValueError(f"a validation fraction of {fraction} of {n} training images leaves none to train on")
    return n_val


def validation_split(n: int, fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(train_indices, validation_indices)`` of a training set of ``n`` images (see the
    module docstring for the rule); disjoint, together all of 0..n-1, each sorted."""
    n_val = validation_size(n, fraction)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), VALIDATION_STREAM]))
    order = rng.permutation(n)
    return np.sort(order[: n - n_val]), np.sort(order[n - n_val:])
