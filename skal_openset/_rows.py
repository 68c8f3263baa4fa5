"""Finding the same rows in another array, by their values."""

import hashlib
import math
import pickle
from numbers import Real

import numpy as np
from numpy.typing import ArrayLike

from ._validation import _is_missing, missing_mask


def row_keys(X: ArrayLike) -> list[bytes]:
    """A key per row of `X`, equal for rows of equal values.

    Numbers compare at float32 precision, with -0.0 as 0.0 and every NaN
    as one (missing values), so a float32 pool
    taught back as float64, as a list or as an object array still matches;
    rows that hold anything else (text or categories of a DataFrame's object
    columns, whose bytes are pointers) compare by their values. Keys are
    digests of the values, not Python's ``hash``, which changes from one
    process to the next: a strategy saved after a query must recognise the
    queried rows when a new process teaches them.
    """
    X = np.asarray(X)
    if X.dtype.kind in "biuf":
        width = math.prod(X.shape[1:])
        # In slices of 2**22 values: a large pool is never copied whole, and
        # a slice is cast at once rather than row by row.
        step = max(1, 2**22 // max(1, width))
        slices = (X[start : start + step] for start in range(0, len(X), step))
        return [
            _digest(row.tobytes())
            for rows in slices
            for row in _as_keyed(rows.reshape(len(rows), width))
        ]
    return [
        _numbers_key(values) if all(map(_is_number, values)) else _values_key(values)
        for values in (row.ravel() for row in X)
    ]


def exact_row_keys(X: np.ndarray, dtype: np.dtype) -> list:
    """A hashable key per row of array `X`, equal for rows of equal values
    once cast to `dtype` (that of the rows they are compared with).

    Unlike :func:`row_keys`, which finds pool rows taught back at another
    precision, numbers compare exactly; NaN equals NaN (in an object array
    None and pandas.NA too, as missing values), and -0.0 equals 0.0.
    """
    X = X.reshape(len(X), -1)
    if dtype.kind in "biuf":
        X = np.ascontiguousarray(X, dtype=dtype)
        if dtype.kind == "f":
            # One zero and one NaN: -0.0 + 0.0 is 0.0, and NaN's bits vary.
            X = np.where(np.isnan(X), np.nan, X + 0.0)
        # The bytes of each row.
        return X.view(np.dtype((np.void, X.itemsize * X.shape[1]))).ravel().tolist()
    X = X.astype(object)
    try:
        X[missing_mask(X)] = None
        rows = list(map(tuple, X.tolist()))
        list(map(hash, rows))
    except (TypeError, ValueError):  # a cell holds an array or a list
        rows = [tuple(map(_cell_key, row)) for row in X.tolist()]
    return rows


def _cell_key(value):
    """A cell of an object array as a hashable key: a missing value as None,
    an array or a list by its pickle."""
    try:
        hash(value)
    except TypeError:
        return pickle.dumps(value)
    return None if _is_missing(value) else value


def legacy_row_keys(X: ArrayLike) -> list[bytes]:
    """The keys :func:`row_keys` gave the rows of object array `X` before it
    keyed rows of numbers there as numbers: a strategy saved then holds them
    for such rows. Only for object arrays: an array of numbers was always
    keyed as :func:`row_keys` keys it."""
    return [_values_key(row.ravel()) for row in np.asarray(X)]


def _is_number(value):
    """A real number, or a bool, as a bool array's rows hold them (as 0 and 1)."""
    return isinstance(value, (Real, np.bool_))


def _as_keyed(values):
    """`values` as the float32 they are keyed by: -0.0 as 0.0, one NaN."""
    # Beyond float32's range a value is inf, as a float32 net reads it.
    with np.errstate(over="ignore"):
        values = np.asarray(values, dtype=np.float32) + np.float32(0)
    # 0/0 sets a NaN's sign bit, a NaN read from a file does not.
    return np.where(np.isnan(values), np.float32(np.nan), values)


def _numbers_key(values):
    return _digest(_as_keyed(values).tobytes())


def _values_key(values):
    return _digest(repr(tuple(map(_canonical, values))).encode())


def _canonical(value):
    """A number as the float32 it compares at; anything else as it is."""
    if isinstance(value, Real) and not isinstance(value, (bool, np.bool_)):
        return float(_as_keyed(value))
    return value


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()
