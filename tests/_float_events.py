"""A check shared by the tests of the steps that rely on numpy's default
handling of floating-point events (underflow to 0, overflow to inf)."""

import numpy as np


def assert_same_under_raising_errstate(compute):
    """`compute()` gives, bit for bit, the same under a caller's
    ``np.seterr(all="raise")`` as under the defaults, and leaves that
    setting as it found it."""
    expected = compute()
    with np.errstate(all="raise"):
        raising = np.geterr()
        got = compute()
        assert np.geterr() == raising
    pairs = zip(expected, got) if isinstance(expected, tuple) else [(expected, got)]
    for e, g in pairs:
        np.testing.assert_array_equal(g, e, strict=True)
