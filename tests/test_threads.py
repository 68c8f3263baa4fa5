"""The package's one-thread blocks give the caller's thread counts back."""

import contextlib
import threading

import numpy as np  # loads its BLAS, for threadpoolctl to see
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info, threadpool_limits

from skal_openset import MetaQueryNetSelector, _threads
from skal_openset._strategies import _meta_query
from skal_openset._threads import one_blas_thread
from skal_openset._warn import ignored


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


def test_mqnets_cross_validation_and_a_one_thread_command_never_deadlock(monkeypatch):
    # The cross-validation fits its selectors, under one_torch_thread's lock,
    # in a block that ignores warnings; a command of the CLI runs under that
    # lock the strategies, which ignore warnings. An ignored block held its
    # own lock to its end: run from two threads, each held what the other
    # waited for, for good.
    # conftest's one-thread block, held by this thread, would keep them waiting
    monkeypatch.setattr(_threads, "_TORCH_PIN", threading.RLock())
    pinned, ignoring = threading.Event(), threading.Event()
    done = []

    @contextlib.contextmanager
    def signalled(category):
        with ignored(category):
            ignoring.set()
            yield

    monkeypatch.setattr(_meta_query, "ignored", signalled)

    def command():
        with _threads.one_torch_thread():
            pinned.set()
            ignoring.wait(10)  # the cross-validation's block is open
            with ignored(ConvergenceWarning):  # e.g. EOAL's k-means
                done.append("command")

    def cross_validation():
        pinned.wait(10)
        Z = np.random.RandomState(0).uniform(0, 1, size=(30, 2))
        selector = MetaQueryNetSelector(max_epochs=2, random_state=0)
        _meta_query._cross_validated_scores(selector, Z, Z.sum(axis=1), None)
        done.append("cross-validation")

    threads = [
        threading.Thread(target=target, daemon=True)
        for target in (command, cross_validation)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not any(thread.is_alive() for thread in threads)
    assert sorted(done) == ["command", "cross-validation"]
