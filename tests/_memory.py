"""A measure shared by the tests that bound a step's memory."""

import tracemalloc


def traced_peak(call):
    """The peak of the memory that tracemalloc traces during `call()`, above
    what it traced before, and `call()`'s result."""
    # Above what is traced already: under python -X tracemalloc (tracing
    # since the interpreter began, which stop would end) the peak was the
    # whole session's.
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = call()
        return tracemalloc.get_traced_memory()[1] - before, result
    finally:
        if not tracing:
            tracemalloc.stop()
