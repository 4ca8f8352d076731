"""Device-side batches: augmentation matches a per-image reference, epochs cover the data once."""

from __future__ import annotations

import torch

from earlyphase.training.batches import BatchStream, Normalizer, random_crop_flip, stream_generator


def _reference_crop_flip(images: torch.Tensor, dy, dx, flip, padding: int = 4) -> torch.Tensor:
    """Per-image loop, written the plain way: zero pad, crop at (dy, dx), then maybe flip."""
    out = []
    h, w = images.shape[-2:]
    for i, image in enumerate(images):
        padded = torch.nn.functional.pad(image, (padding,) * 4)
        crop = padded[:, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
        out.append(crop.flip(-1) if flip[i] else crop)
    return torch.stack(out)


def test_random_crop_flip_matches_per_image_reference():
    images = torch.randint(0, 256, (16, 3, 8, 8), dtype=torch.uint8)
    generator = stream_generator(3, 2, 7)
    ours = random_crop_flip(images, generator)
    # Replay the same draws in the same order.
    replay = stream_generator(3, 2, 7)
    dy = torch.randint(0, 9, (16,), generator=replay)
    dx = torch.randint(0, 9, (16,), generator=replay)
    flip = torch.rand(16, generator=replay) < 0.5
    assert flip.any() and (~flip).any()
    assert torch.equal(ours, _reference_crop_flip(images, dy, dx, flip))


def _stream(n=50, batch_size=8, augment=False):
    images = torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1).expand(n, 1, 4, 4).contiguous()
    labels = torch.arange(n)
    normalizer = Normalizer(images.permute(0, 2, 3, 1).numpy())
    return BatchStream(images, labels, batch_size, seed=5, augment=augment, normalizer=normalizer)


def test_each_epoch_visits_every_example_once_including_the_last_partial_batch():
    stream = _stream()
    assert stream.steps_per_epoch == 7
    seen = torch.cat([stream.batch(step)[1] for step in range(1, 8)])
    assert sorted(seen.tolist()) == list(range(50))
    second = torch.cat([stream.batch(step)[1] for step in range(8, 15)])
    assert sorted(second.tolist()) == list(range(50))
    assert not torch.equal(seen, second)  # a new permutation each epoch


def test_batches_depend_only_on_the_step_so_resume_is_exact():
    a, b = _stream(augment=True), _stream(augment=True)
    for step in range(1, 12):
        a.batch(step)
    inputs_a, labels_a = a.batch(12)
    inputs_b, labels_b = b.batch(12)  # a fresh stream jumping straight to step 12
    assert torch.equal(labels_a, labels_b) and torch.equal(inputs_a, inputs_b)


def test_one_channel_images_get_plain_contiguous_strides():
    import numpy as np

    from earlyphase.training.batches import to_nchw_tensor

    images = np.zeros((4, 28, 28, 1), dtype=np.uint8)
    tensor = to_nchw_tensor(images, "cpu")
    assert tensor.shape == (4, 1, 28, 28)
    assert tensor.stride() == (784, 784, 28, 1)
