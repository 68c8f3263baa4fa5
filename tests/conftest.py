import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    # The test nets are tiny: on a busy 2-core machine torch's intra-op
    # threads made them 10-40x slower than one thread.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
