"""One thread for the package's small, step-by-step computations.

Threads pay off on large operations. A tiny network or a loop of small
matrix-vector products gains nothing from them and loses much to their
synchronisation, most on a busy machine.
"""

import contextlib
import threading
from collections.abc import Iterator

import torch
from threadpoolctl import threadpool_limits

from ._torch_modes import pinned

# One pinned block at a time: two overlapping ones, each restoring the count
# it found, left the process on one thread for good (the later one found 1).
_TORCH_PIN = threading.RLock()
_BLAS_PIN = threading.RLock()


@contextlib.contextmanager
def one_torch_thread(small: bool = True) -> Iterator[None]:
    """Run the block with one torch intra-op thread, if the work is `small`.

    The count from before the block is restored after it, also where the
    block raises: the caller's other torch work (e.g. a CNN, which gains from
    threads) keeps its threads. The count is the process's: torch work in
    other threads runs on one thread while the block runs (slower, and
    summed in another order, so not bitwise the same as alone). Work that is
    not `small` runs with the caller's count. Blocks of several threads run
    one at a time.
    """
    if not small:
        yield
        return
    with pinned(_TORCH_PIN, torch.get_num_threads, torch.set_num_threads, 1):
        yield


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with one BLAS thread, the limits restored after.

    For loops of small products, each of which costs more in thread
    hand-offs than in work (scikit-learn's own Lloyd loop runs so too).
    Blocks of several threads run one at a time.
    """
    with _BLAS_PIN, threadpool_limits(1, user_api="blas"):
        yield
