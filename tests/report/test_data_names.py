"""Figures and captions name the data set of their runs, not the papers' CIFAR-10."""

from __future__ import annotations

import pandas as pd
import pytest

from earlyphase.report.data_names import data_names


def test_the_runs_data_set_and_its_corrupted_set_are_named():
    assert data_names(pd.DataFrame({"dataset": ["mnist", "mnist"]})) == ("MNIST", "MNIST-C")
    assert data_names(pd.DataFrame({"dataset": ["fashion_mnist"]})) == ("Fashion-MNIST", "Fashion-MNIST-C")
    assert data_names(pd.DataFrame({"seed": [0]})) == ("CIFAR-10", "CIFAR-10-C")  # no column: the papers' set


def test_runs_from_two_data_sets_are_refused():
    with pytest.raises(ValueError, match="one data set"):
        data_names(pd.DataFrame({"dataset": ["mnist", "cifar10"]}))
