"""Finding the same rows in another array, by their values."""

import hashlib
from numbers import Real

import numpy as np
from numpy.typing import ArrayLike


def row_keys(X: ArrayLike) -> list[bytes]:
    """A key per row of `X`, equal for rows of equal values.

    Numbers compare at float32 precision, with -0.0 as 0.0, so a float32 pool
    taught back as float64 or as a list still matches; other rows (object
    columns of a DataFrame, whose bytes are pointers) compare by their values.
    Keys are digests of the values, not Python's ``hash``, which changes from
    one process to the next: a strategy saved after a query must recognise
    the queried rows when a new process teaches them.
    """
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        return [
            _digest(repr(tuple(map(_canonical, row.ravel()))).encode()) for row in X
        ]
    # Row by row, so a large pool is never copied whole.
    zero = np.float32(0)
    return [_digest((np.asarray(row, dtype=np.float32) + zero).tobytes()) for row in X]


def _canonical(value):
    """A number as the float32 it compares at; anything else as it is."""
    if isinstance(value, Real) and not isinstance(value, (bool, np.bool_)):
        return float(np.float32(value) + np.float32(0))
    return value


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()
