import pytest
import torch


@pytest.fixture(autouse=True)
def _single_thread_torch():
    """Tiny models: one intra-op thread is faster and immune to CPU contention."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
