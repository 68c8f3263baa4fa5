"""Torch's global modes, set for the package's own modules and training loops.

A caller's ``torch.set_default_dtype``, ``torch.no_grad`` or
``torch.inference_mode`` serve its other work (GPyTorch and BoTorch users
set float64 as the default, a notebook cell evaluates a model under
``no_grad``): the package's modules and fits must neither fail under them
nor give other results.
"""

import contextlib
import threading
from collections.abc import Iterator

import torch

# The default dtype is the process's: two overlapping blocks, each restoring
# the dtype it found, could leave float32 as the caller's default for good.
_DTYPE_PIN = threading.RLock()


@contextlib.contextmanager
def pinned(lock, get, set_, value) -> Iterator[None]:
    """Run the block with the global setting ``set_(value)``, one such block
    at a time (under `lock`), and put back what ``get()`` gave before it,
    also where the block raises."""
    with lock:
        previous = get()
        set_(value)
        try:
            yield
        finally:
            set_(previous)


@contextlib.contextmanager
def float32_default() -> Iterator[None]:
    """Build the block's modules in float32, whatever torch's default dtype.

    The nets feed their modules float32 rows, and a module built in float64
    would also draw other initial weights. The caller's default dtype is
    restored after the block, also where it raises. Blocks run one at a
    time; other threads see float32 meanwhile, so keep them short (building
    a module, not training it).
    """
    with pinned(
        _DTYPE_PIN, torch.get_default_dtype, torch.set_default_dtype, torch.float32
    ):
        yield


@contextlib.contextmanager
def grad_enabled() -> Iterator[None]:
    """Record gradients in the block, even inside the caller's ``torch.no_grad()``
    or ``torch.inference_mode()``, so that a training loop trains wherever it
    is called. Tensors made in the block are normal ones, which autograd can
    save (inference tensors it cannot)."""
    with torch.inference_mode(False), torch.enable_grad():
        yield


def default_device_is_cpu() -> bool:
    """Whether torch builds tensors on the CPU where no device is named
    (``torch.set_default_device`` names another). Read from a new tensor:
    ``torch.get_default_device`` is torch >= 2.3."""
    return torch.empty(0).device.type == "cpu"


@contextlib.contextmanager
def cpu_default_device() -> Iterator[None]:
    """Make the block's tensors without a named device CPU ones, whatever
    torch's default device: skorch's data loaders and the nets' shuffling
    draw from the CPU's generator, which a batch order must come from to be
    seeded and to leave the caller's default-device generator alone. Only
    entered where another default is set: torch's device context intercepts
    every torch call in the block."""
    if default_device_is_cpu():
        yield
        return
    with torch.device("cpu"):
        yield
