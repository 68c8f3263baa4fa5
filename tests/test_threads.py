"""The package's one-thread blocks give the caller's thread counts back."""

import threading

import numpy as np  # loads its BLAS, for threadpoolctl to see
from threadpoolctl import threadpool_info, threadpool_limits

from skal_openset._threads import one_blas_thread


def _blas_threads():
    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def test_overlapping_blocks_of_two_threads_give_the_callers_count_back():
    # Each block restored the count it found: one entered while another was
    # open found 1 and, leaving last, left the process on one BLAS thread.
    first_in, second_in, first_out = (threading.Event() for _ in range(3))

    def first():
        with one_blas_thread():
            first_in.set()
            second_in.wait(timeout=1)  # it waits for this block to end
        first_out.set()

    def second():
        first_in.wait(timeout=10)
        with one_blas_thread():
            second_in.set()
            first_out.wait(timeout=10)

    np.linalg.norm(np.ones(2))
    with threadpool_limits(None):  # put back after, whatever happens
        before = _blas_threads()
        assert before  # numpy's BLAS, seen
        threads = [threading.Thread(target=f) for f in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert _blas_threads() == before
