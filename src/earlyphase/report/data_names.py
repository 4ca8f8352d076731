"""The names a figure or caption gives the data set of its runs and that set's corrupted test set.

The companion papers' reports were written for CIFAR-10; a preset may run them on other data
(config/companions.yaml: MNIST digits, Fashion-MNIST), and the figure must then say so.
"""

from __future__ import annotations

import pandas as pd

NAMES = {"mnist": ("MNIST", "MNIST-C"), "fashion_mnist": ("Fashion-MNIST", "Fashion-MNIST-C"),
         "cifar10": ("CIFAR-10", "CIFAR-10-C"), "cifar100": ("CIFAR-100", "CIFAR-100-C")}


def data_names(runs: pd.DataFrame, default: str = "cifar10") -> tuple[str, str]:
    """(data set, corrupted test set) of the runs' ``dataset`` column (one value); ``default``'s
    names for a table without it. An unregistered name is shown as it is, with "-C"."""
    datasets = runs["dataset"].dropna().unique() if "dataset" in runs else []
    if len(datasets) > 1:
        raise ValueError(f"one figure's runs come from one data set, got {sorted(datasets)}")
    name = str(datasets[0]) if len(datasets) else default
    return NAMES.get(name, (name, f"{name}-C"))
