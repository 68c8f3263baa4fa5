"""What the tests of failed calls share: a step that draws from the global
random states, as an unseeded fit does, then fails; and a check that a failed
call left those states as it found them."""

import numpy as np
import torch


def drawing_then_interrupted(*args, **kwargs):
    """Draw from NumPy's and torch's global random states, then Ctrl-C."""
    np.random.rand()  # noqa: NPY002 (what an unseeded fit draws)
    torch.rand(1)
    raise KeyboardInterrupt


def global_random_states():
    """NumPy's and torch's global random states, to compare."""
    return np.random.get_state(), torch.get_rng_state()  # noqa: NPY002


def assert_global_random_states_are(states):
    """The global random states are `states`, every part of them."""
    (numpy_state, torch_state), (numpy_now, torch_now) = states, global_random_states()
    assert numpy_now[0] == numpy_state[0]
    np.testing.assert_array_equal(numpy_now[1], numpy_state[1])
    assert numpy_now[2:] == numpy_state[2:]  # position, cached Gaussian
    assert torch.equal(torch_now, torch_state)
