"""The straightforward reference: what a plain PyTorch tutorial loop does.

A torchvision ``VisionDataset`` over the same uint8 images (PIL images, as
``torchvision.datasets.CIFAR10`` returns them), a ``DataLoader`` with CPU-side transforms
(``RandomCrop(32, padding=4)``, ``RandomHorizontalFlip``, ``ToTensor``, ``Normalize`` for
CIFAR shape; ``ToTensor``, ``Normalize`` for MNIST shape), the fp32 NCHW model, the default
``torch.optim.SGD``, and ``loss.item()`` every step for the running loss.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader
from torchvision import transforms
from torchvision.datasets import VisionDataset

from earlyphase.models import build_model

from .workloads import OPTIMIZER, Workload


class ArrayImageDataset(VisionDataset):
    """uint8 NHWC arrays served as (transformed PIL image, label), like torchvision's CIFAR10."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform=None):
        super().__init__(root=None, transform=transform)
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        array = self.images[index]
        image = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
        return self.transform(image), int(self.labels[index])


def reference_transform(workload: Workload, images: np.ndarray) -> transforms.Compose:
    pixels = images.reshape(-1, workload.channels) / 255.0
    normalize = transforms.Normalize(pixels.mean(axis=0).tolist(), pixels.std(axis=0).tolist())
    if workload.augment:
        return transforms.Compose([transforms.RandomCrop(workload.size, padding=4),
                                   transforms.RandomHorizontalFlip(), transforms.ToTensor(),
                                   normalize])
    return transforms.Compose([transforms.ToTensor(), normalize])


class ReferenceLoop:
    """Callable that runs one step of the plain loop; the iterator restarts at epoch end."""

    def __init__(self, workload: Workload, batch_size: int, width: float, n_images: int,
                 device: torch.device, workers: int):
        torch.manual_seed(0)
        images, labels = workload.images(n_images)
        dataset = ArrayImageDataset(images, labels, reference_transform(workload, images))
        self.loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True,
                                 num_workers=workers, pin_memory=device.type == "cuda",
                                 persistent_workers=workers > 0)
        self.device = device
        self.model = build_model(workload.arch, workload.num_classes, workload.channels,
                                 width=workload.width(width), **workload.model).to(device).train()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=OPTIMIZER["lr"],
                                         momentum=OPTIMIZER["momentum"],
                                         weight_decay=OPTIMIZER["weight_decay"])
        self.running_loss = 0.0
        self._batches = iter(self.loader)

    def _next_batch(self):
        try:
            return next(self._batches)
        except StopIteration:
            self._batches = iter(self.loader)
            return next(self._batches)

    def __call__(self) -> None:
        inputs, targets = self._next_batch()
        inputs = inputs.to(self.device, non_blocking=True)
        targets = targets.to(self.device, non_blocking=True)
        loss = F.cross_entropy(self.model(inputs), targets)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.running_loss += loss.item()
