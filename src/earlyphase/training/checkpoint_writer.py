"""Resume checkpoints written in a background thread, from a CPU copy of the state.

Writing a ResNet-18 checkpoint (weights, momentum, logs: about 90 MB) takes the training
loop's time only for the copy: :meth:`CheckpointWriter.save` copies every tensor of the
state to host memory (on CUDA into pinned buffers kept from one checkpoint to the next,
with asynchronous copies and one synchronisation), copies the Python containers, and hands
the copy to a thread that pickles it into the file atomically
(:func:`earlyphase.operations.atomic.atomic_path`). Training continues meanwhile on the live state.

One write is in flight at a time: the next :meth:`save` (and :meth:`wait`) first waits
for the previous one, so the pinned buffers are never overwritten while being written.
An error of the thread is raised in the training thread at the next :meth:`save` or
:meth:`wait`. A process killed during a write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from earlyphase.operations.atomic import atomic_path


class CheckpointWriter:
    def __init__(self, path: Path, during_write: Callable[[dict], None] | None = None):
        self.path = Path(path)
        self.during_write = during_write  # test hook, called with the state inside the atomic write
        self._pinned: dict[tuple, torch.Tensor] = {}
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.writes = 0

    # ------------------------------------------------------------------ the copy
    def _host_copy(self, tensor: torch.Tensor, key: tuple) -> torch.Tensor:
        tensor = tensor.detach()
        if tensor.device.type == "cpu":
            return tensor.clone()
        buffer = self._pinned.get(key)
        if buffer is None or buffer.shape != tensor.shape or buffer.dtype != tensor.dtype \
                or buffer.stride() != tensor.stride():
            buffer = torch.empty_like(tensor, device="cpu", pin_memory=True)
            self._pinned[key] = buffer
        buffer.copy_(tensor, non_blocking=True)
        return buffer

    def snapshot(self, obj, key: tuple = ()):
        """A copy of ``obj`` (nested dicts, lists, tuples, tensors, arrays, plain values)
        that shares no mutable object with it; tensors on the host."""
        if torch.is_tensor(obj):
            return self._host_copy(obj, key)
        if isinstance(obj, dict):
            return {k: self.snapshot(v, (*key, k)) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            items = [self.snapshot(v, (*key, i)) for i, v in enumerate(obj)]
            return items if isinstance(obj, list) else tuple(items)
        if isinstance(obj, np.ndarray):
            return obj.copy()
        return obj  # numbers, strings, None: immutable

    # ------------------------------------------------------------------ the write
    def save(self, state: dict) -> None:
        """Copy ``state`` now; write it to :attr:`path` in the background."""
        self.wait()
        copy = self.snapshot(state)
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()  # the asynchronous copies into pinned memory are done
        self._thread = threading.Thread(target=self._write, args=(copy,), daemon=True,
                                        name="earlyphase-checkpoint")
        self._thread.start()

    def _write(self, copy: dict) -> None:
        try:
            with atomic_path(self.path) as partial:
                torch.save(copy, partial)
                if self.during_write is not None:
                    self.during_write(copy)
            self.writes += 1
        except BaseException as err:  # noqa: BLE001 - handed to the training thread
            self._error = err

    def wait(self) -> None:
        """Block until the write in flight (if any) is on disk; raise its error."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise RuntimeError(f"writing checkpoint {self.path} failed: {error}") from error
