"""What the benchmark measures: architecture x input shape, and the synthetic data.

The data are uniform random uint8 images with random labels: the cost of a step does not
depend on pixel values. CIFAR-shaped workloads are augmented (random crop with padding 4
and horizontal flip, as the paper's CIFAR setups); the MNIST-shaped ones are not. The FCN
stands for the phase-diagram jobs, whose own loop (MSE, plain SGD) does the same matrix
products per step; its row gives the cost model a measured FCN step instead of a default.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Workload:
    arch: str
    shape: str          # "cifar" | "mnist"
    channels: int
    size: int           # height = width, pixels
    num_classes: int = 10
    # The FCN's width is a number of hidden units, not a multiplier: it keeps its own.
    fixed_width: float | None = None
    model: dict = field(default_factory=dict, hash=False, compare=False)  # constructor options

    def width(self, multiplier: float) -> float:
        """The ``width`` the model is built with, given the benchmark's ``--width``."""
        return self.fixed_width if self.fixed_width is not None else multiplier

    @property
    def input_shape(self) -> list[int]:
        return [self.channels, self.size, self.size]

    @property
    def name(self) -> str:
        return f"{self.arch}-{self.shape}"

    @property
    def augment(self) -> bool:
        return self.shape == "cifar"

    def images(self, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """``n`` uint8 NHWC images and int64 labels."""
        rng = np.random.default_rng(seed)
        images = rng.integers(0, 256, (n, self.size, self.size, self.channels), dtype=np.uint8)
        return images, rng.integers(0, self.num_classes, n).astype(np.int64)


WORKLOADS: dict[str, Workload] = {w.name: w for w in (
    Workload("resnet18", "cifar", 3, 32),
    Workload("vgg11", "cifar", 3, 32),
    Workload("resnet18", "mnist", 1, 28),
    Workload("simple_cnn", "cifar", 3, 32),  # the delayed Fisher penalty's network
    # The phase-diagram FCN (Kalra & Barkeshli): a mid-size member of its width/depth grid.
    Workload("fcn", "mnist", 1, 28, fixed_width=512, model={"depth": 4, "parameterization": "sp"}),
)}

# The optimizer both paths use (the paper's CIFAR-100 setting; SGD with momentum exercises
# the momentum buffers).
OPTIMIZER = {"optimizer": "sgd", "lr": 0.01, "momentum": 0.9, "weight_decay": 5e-4}
