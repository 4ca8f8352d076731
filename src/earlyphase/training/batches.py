"""Training batches from a tensor-resident data set, on any device.

The uint8 training set lives on the training device (GPU memory when there is one);
batches are drawn and augmented there, so no DataLoader and no host round trip sits in
the training step. Randomness is *stateless*: the permutation of epoch e and the
augmentation of step i come from generators seeded by (run seed, e) and (run seed, i),
so a resumed run sees exactly the batches an uninterrupted one would. Those numbers are
drawn on the CPU once per epoch (:class:`BatchStream`), so a step draws nothing on the
device and could be captured in a CUDA graph.
"""

from __future__ import annotations

import numpy as np
import torch

_EPOCH_STREAM = 0x5EED_0001
_AUGMENT_STREAM = 0x5EED_0002


def stream_generator(seed: int, stream: int, index: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A generator for draw ``index`` of a named stream, independent of every other draw."""
    mixed = (seed * 1_000_003 + stream * 7_919 + index * 104_729) % (2**63 - 1)
    generator = torch.Generator(device=device)
    generator.manual_seed(mixed)
    return generator


class Normalizer:
    """Per-channel standardisation with statistics of the training set (uint8 NHWC in)."""

    def __init__(self, train_images: np.ndarray):
        pixels = np.asarray(train_images, dtype=np.float64).reshape(-1, train_images.shape[-1]) / 255.0
        self.mean = torch.tensor(pixels.mean(axis=0), dtype=torch.float32).view(1, -1, 1, 1)
        self.std = torch.tensor(pixels.std(axis=0) + 1e-8, dtype=torch.float32).view(1, -1, 1, 1)

    def __call__(self, images_uint8_nchw: torch.Tensor) -> torch.Tensor:
        device = images_uint8_nchw.device
        if self.mean.device != device:  # move once, not every step (a host sync on CUDA)
            self.mean, self.std = self.mean.to(device), self.std.to(device)
        return (images_uint8_nchw.float() / 255.0 - self.mean) / self.std

    def state_dict(self) -> dict:
        return {"mean": self.mean.flatten().cpu().tolist(), "std": self.std.flatten().cpu().tolist()}


def to_nchw_tensor(images_nhwc: np.ndarray, device: torch.device | str) -> torch.Tensor:
    # clone, not .contiguous(): for one channel the permuted view already counts as
    # contiguous while keeping odd strides, which crashed CPU convolution backward.
    nchw = torch.from_numpy(np.array(images_nhwc, copy=True)).permute(0, 3, 1, 2)
    return nchw.clone(memory_format=torch.contiguous_format).to(device)


def crop_flip_draws(n: int, generator: torch.Generator, padding: int = 4) -> torch.Tensor:
    """The random numbers of one augmented batch of ``n`` images, drawn from ``generator``:
    an ``(n, 3)`` int64 tensor of (row offset, column offset, flip) on the generator's device."""
    device = generator.device
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=generator, device=device)
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=generator, device=device)
    flip = torch.rand(n, generator=generator, device=device) < 0.5
    return torch.stack([dy, dx, flip.long()], dim=1)


def crop_flip(images: torch.Tensor, draws: torch.Tensor, padding: int = 4) -> torch.Tensor:
    """Pad-``padding`` crop at the offsets of ``draws`` (:func:`crop_flip_draws`) and flip,
    of a uint8 NCHW batch, on its device (no host round trip, no random number drawn)."""
    n, _, h, w = images.shape
    device = images.device
    dy, dx, flip = draws[:, 0], draws[:, 1], draws[:, 2].bool()
    padded = torch.nn.functional.pad(images, (padding, padding, padding, padding))
    rows = (torch.arange(h, device=device).view(1, h) + dy.view(n, 1)).view(n, 1, h, 1)
    cols = torch.arange(w, device=device).view(1, w).expand(n, w)
    cols = torch.where(flip.view(n, 1), cols.flip(1), cols) + dx.view(n, 1)
    cols = cols.view(n, 1, 1, w)
    batch_index = torch.arange(n, device=device).view(n, 1, 1, 1)
    channel_index = torch.arange(images.shape[1], device=device).view(1, -1, 1, 1)
    return padded[batch_index, channel_index, rows, cols]


def random_crop_flip(images: torch.Tensor, generator: torch.Generator, padding: int = 4) -> torch.Tensor:
    """Pad-``padding`` random crop and horizontal flip of a uint8 NCHW batch.

    Zero padding as torchvision's ``RandomCrop(32, padding=4)``; each image gets its own
    offset and flip drawn from ``generator``.
    """
    draws = crop_flip_draws(images.shape[0], generator, padding).to(images.device)
    return crop_flip(images, draws, padding)


class BatchStream:
    """Batches for steps 1..N: epoch-wise permutations, the last partial batch kept.

    The random numbers of an epoch (its permutation and every step's augmentation draws)
    are drawn on the CPU, from the same per-(seed, epoch) and per-(seed, step) generators as
    always, once when the epoch starts, and moved to the data's device in one copy. A step
    then only indexes device tensors: no generator is created and no number drawn on the
    device, and the batch of a step is the same on every device.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int, seed: int,
                 augment: bool, normalizer: Normalizer):
        self.images, self.labels = images, labels
        self.batch_size, self.seed, self.augment = batch_size, seed, augment
        self.normalizer = normalizer
        self.steps_per_epoch = -(-len(labels) // batch_size)
        self._epoch, self._order, self._draws = -1, None, None

    def _start_epoch(self, epoch: int) -> None:
        generator = stream_generator(self.seed, _EPOCH_STREAM, epoch)
        order = torch.randperm(len(self.labels), generator=generator)
        draws = None
        if self.augment:  # row p: the draws of the image at position p of the epoch
            first = epoch * self.steps_per_epoch + 1
            draws = torch.cat([
                crop_flip_draws(len(order[i * self.batch_size:(i + 1) * self.batch_size]),
                                stream_generator(self.seed, _AUGMENT_STREAM, first + i))
                for i in range(self.steps_per_epoch)])
        device = self.labels.device
        self._order = order.to(device)
        self._draws = None if draws is None else draws.to(device)
        self._epoch = epoch

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The (inputs, targets) of training step ``step`` (1-based)."""
        epoch, position = divmod(step - 1, self.steps_per_epoch)
        if epoch != self._epoch:
            self._start_epoch(epoch)
        rows = slice(position * self.batch_size, (position + 1) * self.batch_size)
        index = self._order[rows]
        images = self.images[index]
        if self.augment:
            images = crop_flip(images, self._draws[rows])
        return self.normalizer(images), self.labels[index]
