"""Dataset registry: names, shapes, class counts and corruption lists.

Corruption lists follow Hendrycks & Dietterich (CIFAR-10-C / CIFAR-100-C: 15 benchmark
corruptions plus 4 extra ones) and Mu & Gilmer (MNIST-C: 15 corruptions, one severity).
Fashion-MNIST (Xiao et al., 2017) has no released corrupted set: its "Fashion-MNIST-C" is
generated with the MNIST-C corruptions, in MNIST-C's layout.
"""

from __future__ import annotations

from dataclasses import dataclass

CIFAR_C_BENCHMARK: tuple[str, ...] = (
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "defocus_blur",
    "glass_blur",
    "motion_blur",
    "zoom_blur",
    "snow",
    "frost",
    "fog",
    "brightness",
    "contrast",
    "elastic_transform",
    "pixelate",
    "jpeg_compression",
)
CIFAR_C_EXTRA: tuple[str, ...] = ("speckle_noise", "gaussian_blur", "spatter", "saturate")

MNIST_C_BENCHMARK: tuple[str, ...] = (
    "shot_noise",
    "impulse_noise",
    "glass_blur",
    "motion_blur",
    "shear",
    "scale",
    "rotate",
    "brightness",
    "translate",
    "stripe",
    "fog",
    "spatter",
    "dotted_line",
    "zigzag",
    "canny_edges",
)


@dataclass(frozen=True)
class DatasetSpec:
    """Static description of one dataset and its corrupted test sets."""

    name: str
    num_classes: int
    image_shape: tuple[int, int, int]  # (H, W, C)
    corruption_kind: str  # "mnist_c" or "cifar_c"
    benchmark_corruptions: tuple[str, ...]
    extra_corruptions: tuple[str, ...]
    severities: tuple[int, ...]
    train_size: int  # images in the full training split
    test_size: int = 10000  # images in the full test split (every registered set has 10,000)

    @property
    def all_corruptions(self) -> tuple[str, ...]:
        return self.benchmark_corruptions + self.extra_corruptions


class UnknownDatasetError(KeyError, ValueError):
    """Raised for a dataset name that is not registered (both a KeyError and a ValueError)."""

    def __str__(self) -> str:  # KeyError would otherwise print the repr of the message
        return str(self.args[0]) if self.args else ""


class _Registry(dict):
    def __missing__(self, name):
        raise UnknownDatasetError(
            f"unknown dataset {name!r}; valid datasets are: {', '.join(sorted(self))}"
        )


DATASETS: dict[str, DatasetSpec] = _Registry(
    mnist=DatasetSpec("mnist", 10, (28, 28, 1), "mnist_c", MNIST_C_BENCHMARK, (), (1,), 60000),
    fashion_mnist=DatasetSpec(
        "fashion_mnist", 10, (28, 28, 1), "mnist_c", MNIST_C_BENCHMARK, (), (1,), 60000
    ),
    cifar10=DatasetSpec(
        "cifar10", 10, (32, 32, 3), "cifar_c", CIFAR_C_BENCHMARK, CIFAR_C_EXTRA, (1, 2, 3, 4, 5), 50000
    ),
    cifar100=DatasetSpec(
        "cifar100", 100, (32, 32, 3), "cifar_c", CIFAR_C_BENCHMARK, CIFAR_C_EXTRA, (1, 2, 3, 4, 5), 50000
    ),
)


def get_spec(name: str) -> DatasetSpec:
    """Return the spec of ``name``; unknown names raise :class:`UnknownDatasetError`."""
    return DATASETS[name]
