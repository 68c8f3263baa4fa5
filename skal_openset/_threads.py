"""One thread for the package's small, step-by-step computations.

Threads pay off on large operations. A tiny network or a loop of small
matrix-vector products gains nothing from them and loses much to their
synchronisation, most on a busy machine.
"""

import contextlib
from collections.abc import Iterator

import torch
from threadpoolctl import threadpool_limits


@contextlib.contextmanager
def one_torch_thread(small: bool = True) -> Iterator[None]:
    """Run the block with one torch intra-op thread, if the work is `small`.

    The count from before the block is restored after it, also where the
    block raises: the caller's other torch work (e.g. a CNN, which gains from
    threads) keeps its threads. Work that is not `small` runs with the
    caller's count.
    """
    if not small:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def one_blas_thread() -> threadpool_limits:
    """Context manager: one BLAS thread in the block, the limits restored after.

    For loops of small products, each of which costs more in thread
    hand-offs than in work (scikit-learn's own Lloyd loop runs so too).
    """
    return threadpool_limits(1, user_api="blas")
