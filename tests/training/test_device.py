"""A job that asks for CUDA gets it or a clear error; ``auto`` alone may fall back to the CPU."""

from __future__ import annotations

import pytest
import torch

from earlyphase.params import ParamsError, validate_params
from earlyphase.training.device import DeviceUnavailableError, pick_device


def test_cuda_requested_without_a_usable_gpu_is_an_error_not_a_cpu_run(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_device("auto") == torch.device("cpu")
    assert pick_device("cpu") == torch.device("cpu")
    for requested in ("cuda", "cuda:1"):
        with pytest.raises(DeviceUnavailableError, match=r"cannot use a GPU here.*--device auto or cpu"):
            pick_device(requested)


def test_a_gpu_index_beyond_the_visible_ones_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert pick_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(DeviceUnavailableError, match="only 1 GPU"):
        pick_device("cuda:1")


def test_the_device_setting_is_validated(default_params):
    validate_params({**default_params, "device": "cuda"})
    with pytest.raises(ParamsError, match="device"):
        validate_params({**default_params, "device": "gpu"})
