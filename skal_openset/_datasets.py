"""Open-set split experiments and loaders for standard data formats.

The split follows the split-dataset protocol of MQ-Net (Park et al., NeurIPS 2022):
a few classes of a labelled data set are declared in-distribution (IN), the rest
out-of-distribution (OOD); the unlabelled pool holds every IN training example plus
enough random OOD examples to reach the noise ratio, and the test set holds IN
examples only.

The loaders read files that are already on disk; none of them downloads anything.
"""

from __future__ import annotations

import array
import csv
import decimal
import gzip
import io
import itertools
import math
import os
import pickle
import re
import reprlib
import shlex
import zipfile
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral, Real
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import ArrayLike
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_consistent_length

from ._atomic import atomic_open, check_writable
from ._hashing import content_hash
from ._labels import (
    MISSING_MARKERS,
    as_label,
    check_booleans_alike,
    check_booleans_apart,
    check_each_once,
    check_none_missing_at,
    check_one_label_kind,
    given_values,
    invisible_characters,
    is_one_label,
    label_array,
    labels_as_given,
    missing_marker_message,
    name_characters,
    python_values,
    without_invisible,
)
from ._typing import IntLike, RandomStateLike, RealLike
from ._validation import (
    _not_bool,
    check_classifier_rows,
    check_random_state_not_bool,
    file_at,
    is_int,
    refuse_foreign_frame,
    refuse_no_columns,
    refuse_set,
    refuse_sparse,
    shown_names,
)
from ._warn import warn

__all__ = [
    "CIFAR10_CLASSES",
    "OpenSetSplit",
    "load_cifar_batches",
    "load_csv_table",
    "load_digits_dataset",
    "load_fashion_mnist",
    "load_idx",
    "load_image_folder_zip",
    "make_open_set_split",
]

#: CIFAR-10 class names in the dataset's own label order (label 0 is "airplane").
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)


@dataclass(frozen=True, eq=False, repr=False)
class OpenSetSplit:
    """One split-dataset open-set active learning experiment.

    Built by :func:`make_open_set_split`; it can also be built directly from data
    that is already split, in which case the label conventions below are checked.
    Labels, indices and list features are stored as ndarrays.

    Parameters
    ----------
    X_pool : ndarray of shape (n_pool, ...) or DataFrame
        Features of the pool: every IN training example plus the OOD examples.
    y_pool : array-like of shape (n_pool,)
        Ground truth the simulated oracle reveals: ``0 .. k-1`` for IN examples,
        ``ood_label`` for OOD examples.
    initial_idx : array-like of shape (n_initial,)
        Distinct indices into the pool of the initial labelled set, labelled
        and taught in this order (:func:`make_open_set_split` sorts them).
    X_test : ndarray of shape (n_test, ...) or DataFrame
        Features of the test set (IN examples only).
    y_test : array-like of shape (n_test,)
        The k-way labels ``0 .. k-1`` of the test set.
    in_classes : array-like of shape (k,)
        The original class labels used as IN; ``in_classes[j]`` became label ``j``.
    ood_label : int, default=-1
        Label of OOD examples in ``y_pool``.

    Attributes
    ----------
    n_classes : int
        Number of IN classes ``k``.
    is_ood : ndarray of shape (n_pool,), dtype=bool
        True for the OOD examples of the pool.
    noise_ratio : float
        Share of OOD examples in the pool.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_openset import OpenSetSplit
    >>> split = OpenSetSplit(
    ...     X_pool=np.zeros((4, 2)), y_pool=np.array([0, 1, -1, 1]),
    ...     initial_idx=np.array([0, 2]), X_test=np.zeros((2, 2)),
    ...     y_test=np.array([0, 1]), in_classes=np.array([3, 7]))
    >>> split
    OpenSetSplit(n_pool=4, n_ood_pool=1, noise_ratio=0.250, n_initial=2, n_test=2,
                 in_classes=[3, 7], ood_label=-1)
    >>> split.n_classes, split.is_ood.tolist()
    (2, [False, False, True, False])
    """

    # An ndarray, or a DataFrame where X was one: Any, as with a union every
    # use of split.X_pool.iloc or .to_numpy() would have to narrow it first.
    X_pool: Any
    y_pool: np.ndarray
    initial_idx: np.ndarray
    X_test: Any
    y_test: np.ndarray
    in_classes: np.ndarray
    ood_label: IntLike = -1

    def __post_init__(self):
        # Lists would pass the label checks below unchecked (list != -1 is
        # one bool) and fail later in indexing: take every field as an array.
        for name in ("y_pool", "initial_idx", "y_test"):
            object.__setattr__(self, name, np.asarray(getattr(self, name)))
        object.__setattr__(self, "in_classes", _in_classes_array(self.in_classes))
        for name in ("X_pool", "X_test"):
            if isinstance(getattr(self, name), (list, tuple)):
                object.__setattr__(self, name, np.asarray(getattr(self, name)))
        check_consistent_length(self.X_pool, self.y_pool)
        check_consistent_length(self.X_test, self.y_test)
        k = len(self.in_classes)
        if k < 2:
            raise ValueError(f"An open-set split needs at least 2 IN classes, got {k}.")
        check_each_once(
            self.in_classes, "in_classes", "IN class", " (label j is in_classes[j])"
        )
        if not isinstance(self.ood_label, Integral):
            raise ValueError(
                f"ood_label must be an integer outside the IN labels 0..{k - 1}, "
                f"got {self.ood_label!r}: y_pool holds integer codes, not the "
                "original labels, so OOD examples need one too (e.g. -1)."
            )
        if 0 <= self.ood_label < k:
            raise ValueError(
                f"ood_label={self.ood_label} collides with the IN labels 0..{k - 1}: "
                "give OOD examples a label outside them (the default is -1)."
            )
        _check_codes(
            self.y_pool, "y_pool", f"0..{k - 1} for IN examples, ood_label for OOD"
        )
        _check_codes(self.y_test, "y_test", f"0..{k - 1}")
        if not len(self.y_test):
            raise ValueError(
                "The test set (X_test, y_test) is empty: give it at least one IN "
                "row, on which each round's test accuracy is measured."
            )
        pool_in = self.y_pool != self.ood_label
        if np.any((self.y_pool[pool_in] < 0) | (self.y_pool[pool_in] >= k)):
            raise ValueError(f"y_pool must hold labels 0..{k - 1} or ood_label.")
        if np.any((self.y_test < 0) | (self.y_test >= k)):
            raise ValueError(f"y_test must hold IN labels 0..{k - 1} only.")
        idx = self.initial_idx
        if not idx.size:
            raise ValueError(
                "initial_idx is empty; give the initial labelled set at least "
                "one example, an IN one among them, for the classifier to train on."
            )
        if idx.dtype.kind == "b":
            raise ValueError(
                "initial_idx is a boolean mask; give the indices of its True "
                "entries, np.flatnonzero(mask)."
            )
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise ValueError(
                "initial_idx must be a 1-d array of integer indices into the "
                f"pool, got {idx.dtype} of shape {idx.shape}"
                + (
                    ": cast whole numbers, initial_idx.astype(int)."
                    if idx.ndim == 1
                    else "."
                )
            )
        outside = idx[(idx < 0) | (idx >= len(self.y_pool))]
        if outside.size:
            raise ValueError(
                f"initial_idx holds {outside[0]}, outside the pool's rows "
                f"0..{len(self.y_pool) - 1}: give positions in X_pool."
            )
        check_each_once(idx, "initial_idx", "index", " (np.unique(initial_idx))")

    @property
    def n_classes(self) -> int:
        """Number of IN classes ``k``."""
        return len(self.in_classes)

    @property
    def is_ood(self) -> np.ndarray:
        """Boolean mask of the OOD examples of the pool."""
        return self.y_pool == self.ood_label

    @property
    def noise_ratio(self) -> float:
        """Share of OOD examples in the pool."""
        return float(self.is_ood.mean()) if len(self.y_pool) else 0.0

    def __repr__(self):
        return (
            f"OpenSetSplit(n_pool={len(self.y_pool)}, "
            f"n_ood_pool={int(self.is_ood.sum())}, "
            f"noise_ratio={self.noise_ratio:.3f}, "
            f"n_initial={len(self.initial_idx)}, n_test={len(self.y_test)}, "
            f"in_classes={self.in_classes.tolist()}, ood_label={self.ood_label})"
        )


def _check_codes(codes, name, allowed):
    """Raise unless the labels `codes` of a split are 1-d integers: codes
    0..k-1 of the IN classes (``allowed`` says which), not original labels."""
    codes = np.asarray(codes)
    if codes.ndim != 1:
        raise ValueError(
            f"{name} must be 1-d, one label per example, got shape {codes.shape}."
        )
    if codes.dtype.kind in "iu":
        return
    problem = f"{name} must hold integer labels ({allowed}), got {codes.dtype}"
    if codes.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(codes) | (codes != np.round(codes)))
        if not bad.size:
            raise ValueError(f"{problem}: cast them, {name}.astype(int).")
        value = codes[bad[0]].item()
        raise ValueError(
            f"{problem} with {value!r} at position {bad[0]}: "
            + (
                "an example whose label is missing has no place in a split; drop it."
                if math.isnan(value)
                else "give each example the position of its class in in_classes."
            )
        )
    raise ValueError(
        f"{problem} values such as {codes[:3].tolist()}: a split holds the "
        "position of each example's class in in_classes, not its label; "
        "make_open_set_split makes them from the labels."
    )


def _check_X_y(X, y, X_name, y_name) -> tuple[Any, np.ndarray]:
    """Validate features of any shape ``(n, ...)`` and 1-d labels of the same length.

    A DataFrame is kept as it is, so that a pipeline can select its columns
    by name; its classifier checks the values (one with no columns is
    refused, as an array of 0 features is). So are an array's: texts
    (object) and NaN are left to the classifier as in a DataFrame, and
    numbers keep their dtype (uint8 images stay uint8).
    """
    refuse_sparse(X, X_name, rows=True)
    refuse_foreign_frame(X, X_name)
    refuse_no_columns(X)
    if not hasattr(X, "columns"):  # a Series is checked (and refused) as 1-D
        X = check_classifier_rows(X, X_name)
    y = label_array(y, name=y_name)
    check_one_label_kind(
        y,
        f"{y_name} mixes",
        "give every class, OOD ones included, a label of one kind, e.g. "
        f"np.asarray({y_name}, dtype=object).astype(str).",
        name=y_name,
        missing_advice="every row needs a label; drop the rows whose label is "
        f"missing, e.g. keep = pandas.notna({y_name}); {X_name}[keep], "
        f"{y_name}[keep].",
    )
    # NaN is no class: np.isin never matches it, so an IN class of NaN
    # would have no example.
    if y.dtype.kind in "fc" and not np.isfinite(y).all():
        raise ValueError(f"{y_name} contains NaN or infinity; every row needs a label.")
    if len(X) != len(y):
        raise ValueError(
            f"{X_name} and {y_name} have different lengths: {len(X)} != {len(y)}."
        )
    return X, y


def _row_layout(X):
    """What a row of `X` is: a DataFrame's columns, or an array row's shape."""
    if hasattr(X, "columns"):
        return f"DataFrame columns {list(X.columns)}"
    return f"arrays of shape {X.shape[1:]}"


def _warn_of_test_classes(y, y_test, in_classes):
    """Warn where a separate test set seems not to match `y`: classes `y`
    lacks (labels coded otherwise, e.g. 1..10 beside 0..9, which tests IN
    rows against other classes' labels), or IN classes with no test row (the
    accuracy leaves them out)."""
    train, test = set(y.tolist()), set(y_test.tolist())
    if unknown := sorted(test - train, key=str):
        warn(
            f"y_test holds {len(unknown)} class(es) that y lacks (e.g. "
            f"{unknown[0]!r}): are the two coded alike? Its rows of the IN "
            "classes are the test set, and the others are left out."
        )
    if missing := [c for c in in_classes.tolist() if c not in test]:
        warn(
            f"y_test has no row of the IN classes {missing}: the test accuracy "
            "leaves them out. Give test rows of every IN class, or leave out "
            "X_test and y_test to hold out test_size of the IN rows of X."
        )


def _in_classes_array(in_classes: Any) -> np.ndarray:
    """`in_classes` as an array of the labels given (:func:`labels_as_given`),
    refused where they are not one label each: lists of different lengths
    failed with numpy's words, which name no parameter, and an object
    array's arrays or sets in the comparison with y's classes or in the
    check of repeated classes ("unhashable type")."""
    try:
        held = labels_as_given(in_classes)
    except ValueError:  # lists of different lengths, or of arrays
        held = None
    if held is None or held.ndim != 1 or not all(map(is_one_label, given_values(held))):
        # A list as given: numpy reads bytearrays as rows of numbers.
        listed = isinstance(in_classes, (list, tuple))
        shown = in_classes if held is None or listed else held.tolist()
        raise ValueError(
            "in_classes must be a 1-d sequence of class labels, got "
            f"{reprlib.repr(shown)}: list the IN classes, e.g. "
            "in_classes=[3, 7]."
        )
    return held


def _choose_in_classes(y, in_classes, n_in_classes, rng) -> np.ndarray:
    """Return the IN classes as values of ``np.unique(y)``, in k-way label order."""
    classes = np.unique(y)
    if in_classes is not None and n_in_classes is not None:
        raise ValueError("Give in_classes or n_in_classes, not both.")
    if in_classes is not None:
        refuse_set(in_classes, "in_classes")
        in_classes = _in_classes_array(in_classes)
        # Before they are compared with y's classes, which pandas.NA fails.
        check_none_missing_at(
            in_classes,
            "in_classes",
            "a missing value is no class; list the IN classes without it.",
        )
        # Before their kind is compared with y's: the remedy for [True, 2]
        # is one kind of class, not labels for a mask.
        check_booleans_apart(in_classes.tolist(), "in_classes")
        check_booleans_alike(
            in_classes, classes, name="in_classes", classes_name="classes of y"
        )
        unknown = in_classes[~np.isin(in_classes, classes)]
        if unknown.size:
            # class names beside integer codes, as load_csv_table returns
            # them: the names are in its `classes`, not in y
            codes = (
                " y holds integer codes, not class names: pass the names' codes, "
                "or classes[y] to use the names (load_csv_table's "
                "return_classes=True gives classes)."
                if in_classes.dtype.kind in "US" and classes.dtype.kind in "iu"
                else ""
            )
            raise ValueError(
                f"in_classes {shown_names(python_values(unknown), 'classes')} do not "
                f"occur in y (its classes are "
                f"{shown_names(classes.tolist(), 'classes')}).{codes}"
            )
        check_each_once(in_classes, "in_classes", "IN class")
        if len(in_classes) < 2:
            raise ValueError(
                "An open-set split needs at least 2 IN classes, "
                f"got {in_classes.tolist()}."
            )
        # take the values from `classes` so they share y's dtype
        in_classes = classes[np.searchsorted(classes, in_classes)]
    else:
        if len(classes) < 2:  # else "n_in_classes must be in [2, 1]", unasked
            raise ValueError(
                f"y holds {len(classes)} class(es) {classes.tolist()}; an open-set "
                "split needs at least 2 IN classes, and OOD ones beside them."
            )
        if n_in_classes is None:
            n_in_classes = max(2, round(0.4 * len(classes)))
        # int(): numbers.Integral declares no comparison for mypy.
        if not isinstance(n_in_classes, Integral) or not (
            2 <= int(n_in_classes) <= len(classes)
        ):
            raise ValueError(
                f"n_in_classes must be an integer in [2, {len(classes)}], "
                f"got {n_in_classes!r}."
            )
        in_classes = np.sort(rng.choice(classes, n_in_classes, replace=False))
    return in_classes


def _to_k_way(labels, in_classes, ood_label):
    """Map labels to their position in ``in_classes``, or to ``ood_label``."""
    sorter = np.argsort(in_classes)
    pos = np.searchsorted(in_classes, labels, sorter=sorter)
    codes = sorter[pos.clip(max=len(in_classes) - 1)]
    return np.where(in_classes[codes] == labels, codes, ood_label).astype(np.int64)


class _SplitError(ValueError):
    """A split that cannot be drawn, made from the numbers that say why.

    It pickles as those numbers (its message alone would not remake it), so
    that it crosses joblib's process boundary.
    """

    _numbers: tuple

    def __reduce__(self):
        return type(self), self._numbers


class _InitialSizeError(_SplitError):
    """An initial set size that does not fit the pool of ``n_pool`` examples.

    Callers whose users name that size otherwise (``budget``) say it their way.
    """

    def __init__(self, initial_size, n_pool):
        self._numbers = initial_size, n_pool
        super().__init__(
            f"initial_size must be an integer in [1, {n_pool}] (the pool size), "
            f"got {initial_size!r}."
        )
        self.n_pool = n_pool


class _TooFewOODError(_SplitError):
    """A noise ratio that needs more OOD rows than the data hold.

    Raised apart from bad input, so that a benchmark can skip such a class
    split and still stop at a data error. ``largest`` is the largest noise
    ratio the rows allow, for callers that name the ratio otherwise: a
    Fraction, as a float may fall just short of the ratio, 29/100 below 0.29.
    """

    def __init__(self, noise_ratio, n_in, n_ood, n_available):
        self._numbers = noise_ratio, n_in, n_ood, n_available
        self.largest = Fraction(n_available, n_in + n_available)
        super().__init__(
            f"noise_ratio={noise_ratio} with {n_in} IN pool examples needs {n_ood} "
            f"OOD examples, but only {n_available} are available: lower "
            f"noise_ratio to at most {_floor2(self.largest)}."
        )


def _floor2(ratio):
    """`ratio`, a Fraction, rounded down to 2 decimals: a ratio that stays
    within it (0.29 * 100 is 28.999999999999996 in floats, which floored
    to 0.28 where 0.29 fits)."""
    return math.floor(ratio * 100) / 100


def _initial_indices(is_ood, initial_size, noise_ratio, rng):
    """Draw the initial labelled set as the reference code does, topped up to size."""
    n_pool = len(is_ood)
    if initial_size is None:
        initial_size = max(1, min(500, n_pool // 10))
    if not is_int(initial_size, min_val=1, max_val=n_pool):
        raise _InitialSizeError(initial_size, n_pool)
    in_pos, ood_pos = np.flatnonzero(~is_ood), np.flatnonzero(is_ood)
    # At least one IN row: a set of OOD rows alone trains no classifier.
    n_in = min(max(1, int(initial_size * (1 - noise_ratio))), len(in_pos))
    n_ood = min(int(initial_size * noise_ratio), len(ood_pos))
    chosen = np.concatenate(
        [
            rng.choice(in_pos, n_in, replace=False),
            rng.choice(ood_pos, n_ood, replace=False),
        ]
    )
    # the int() truncations can leave a slot or two: fill them from the whole pool
    rest = np.setdiff1d(np.arange(n_pool), chosen)
    top_up = rng.choice(rest, initial_size - len(chosen), replace=False)
    return np.sort(np.concatenate([chosen, top_up]))


def make_open_set_split(
    X: ArrayLike,
    y: ArrayLike,
    *,
    in_classes: ArrayLike | None = None,
    n_in_classes: IntLike | None = None,
    noise_ratio: RealLike | None = None,
    initial_size: IntLike | None = None,
    X_test: ArrayLike | None = None,
    y_test: ArrayLike | None = None,
    test_size: float | IntLike = 0.25,
    ood_label: IntLike = -1,
    random_state: RandomStateLike = None,
) -> OpenSetSplit:
    """Build a split-dataset open-set active learning experiment.

    Some classes of ``(X, y)`` are declared IN and relabelled ``0 .. k-1``; all
    other classes are OOD. The pool keeps every IN training example and adds
    ``round(n_in * tau / (1 - tau))`` OOD examples drawn at random, where
    ``tau = noise_ratio`` and ``n_in`` is the number of IN training examples, so
    that OOD examples make up the share ``tau`` of the pool; with
    ``noise_ratio=None`` (the default) it keeps every OOD example, and
    ``split.noise_ratio`` says what share that is. The test set holds IN
    examples only.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Features of any shape, e.g. tables ``(n, d)`` or images ``(n, C, H, W)``;
        rows are selected along axis 0 and never flattened. A DataFrame stays
        one (``X_pool`` and ``X_test`` are its rows), so that a pipeline can
        select its columns by name. Values are left to the classifier, as
        in a DataFrame: texts (``texts.reshape(-1, 1)``) and NaN are kept,
        and so is the dtype.
    y : array-like of shape (n_samples,)
        Original class labels.
    in_classes : array-like of shape (k,), default=None
        Original labels of the IN classes; ``in_classes[j]`` becomes label ``j``.
        Give either this or ``n_in_classes``.
    n_in_classes : int, default=None
        Number of IN classes drawn at random (then sorted). When neither this nor
        ``in_classes`` is given, ``round(0.4 * n)`` of the ``n`` classes (at
        least 2) are drawn, which gives the paper's 4 of 10 (CIFAR-10) and 40
        of 100 (CIFAR-100).
    noise_ratio : float or None, default=None
        Share ``tau`` of OOD examples in the pool, ``0 <= tau < 1``: OOD
        examples beyond that share are left out. None keeps the data as it
        is: every OOD example goes to the pool.
    initial_size : int, default=None
        Size ``b`` of the initial labelled set. As in the reference code,
        ``int(b * (1 - tau))`` IN (at least 1) and ``int(b * tau)`` OOD pool
        examples are drawn at random, then random pool examples fill any slots
        left by the truncation.
        ``None`` means 500 (the paper's CIFAR budget), capped at a tenth of the
        pool (at least 1) for small data sets.
    X_test, y_test : array-like, default=None
        A separate test set (give both or neither); its IN rows form the test set
        and all IN rows of ``X`` go to the pool. When not given, a stratified
        ``test_size`` share of the IN rows of ``X`` is held out instead.
    test_size : float or int, default=0.25
        Share (float) or number (int) of IN rows held out as test set when
        ``X_test`` is not given; see :func:`sklearn.model_selection.train_test_split`.
    ood_label : int, default=-1
        Label of OOD examples in ``y_pool``; must not be one of ``0 .. k-1``.
    random_state : int, RandomState instance or None, default=None
        Controls the choice of IN classes, the test hold-out, the OOD examples,
        the pool order and the initial labelled set.

    Returns
    -------
    split : OpenSetSplit
        The pool (shuffled), its ground truth, the initial labelled indices, the
        IN-only test set and the IN classes.

    Raises
    ------
    ValueError
        If the inputs are inconsistent, ``X`` holds infinity, a label is
        missing (NaN, None) or infinite, the labels are of mixed kinds
        (strings and numbers) or name unknown or fewer than 2 IN classes,
        if ``X`` has fewer OOD rows than the noise ratio needs (the ratio is
        never changed silently), or if ``random_state`` is no seed
        :func:`sklearn.utils.check_random_state` takes (a Generator, say).
    TypeError
        If ``X`` (or ``X_test``) is sparse (a scipy.sparse matrix, a
        DataFrame of sparse columns) or another library's DataFrame (polars,
        a pyarrow Table): the message says how to convert it.

    Warns
    -----
    UserWarning
        If a given ``y_test`` holds classes ``y`` lacks (the two may be coded
        otherwise; a test set may also hold unknown classes on purpose: its
        rows of the IN classes are the test set either way), or has no row
        of an IN class (the test accuracy leaves it out).

    Examples
    --------
    >>> from skal_openset import load_digits_dataset, make_open_set_split
    >>> X, y = load_digits_dataset()
    >>> split = make_open_set_split(
    ...     X, y, in_classes=[3, 5, 8], noise_ratio=0.2, random_state=0)
    >>> split.n_classes, split.X_pool.shape[1]
    (3, 64)
    >>> n_in = int((~split.is_ood).sum())
    >>> int(split.is_ood.sum()) == round(n_in * 0.2 / 0.8)
    True
    """
    X, y = _check_X_y(X, y, "X", "y")
    if isinstance(noise_ratio, (bool, np.bool_)):
        # False would silently mean 0: a pool without OOD examples.
        raise TypeError("noise_ratio must be " + _not_bool("noise_ratio", noise_ratio))
    if noise_ratio is not None and (
        not isinstance(noise_ratio, Real) or not 0 <= noise_ratio < 1
    ):
        raise ValueError(
            f"noise_ratio must be in [0, 1) or None (keep every OOD example), "
            f"got {noise_ratio!r}."
        )
    rng = check_random_state_not_bool(random_state)
    in_classes = _choose_in_classes(y, in_classes, n_in_classes, rng)
    k = len(in_classes)
    if not is_int(ood_label) or 0 <= ood_label < k:
        raise ValueError(
            f"ood_label must be an integer outside the IN labels 0..{k - 1}, "
            f"got {ood_label!r}."
        )

    is_in = np.isin(y, in_classes)
    in_rows, ood_rows = np.flatnonzero(is_in), np.flatnonzero(~is_in)
    if noise_ratio is not None and noise_ratio > 0 and not ood_rows.size:
        raise ValueError(
            "No OOD classes left: in_classes cover every class of y, but "
            f"noise_ratio={noise_ratio} needs OOD examples."
        )

    if (X_test is None) != (y_test is None):
        raise ValueError("Give both X_test and y_test, or neither.")
    if X_test is None:
        # Else train_test_split's refusal reads as one of the data's.
        share = isinstance(test_size, Real) and 0 < test_size < 1
        rows = isinstance(test_size, Integral) and test_size >= 1
        if isinstance(test_size, bool) or not (share or rows):
            raise ValueError(
                "test_size must be a share of the IN rows in (0, 1) or a number "
                f"of rows >= 1, got {test_size!r}: pass e.g. test_size=0.25."
            )
        try:
            # A float32 share is refused by train_test_split's validation.
            size = float(test_size) if share else test_size
            train_rows, test_rows = train_test_split(
                in_rows, test_size=size, stratify=y[in_rows], random_state=rng
            )
        except ValueError as exc:
            raise ValueError(
                f"Cannot hold out a stratified test set of test_size={test_size!r} "
                f"from the IN rows ({exc}); every IN class needs at least 2 rows "
                "and the test set at least one row per IN class. Give more data, "
                "another test_size, or X_test and y_test."
            ) from None
        X_test, y_test = _safe_indexing(X, test_rows), y[test_rows]
    else:
        X_test, y_test = _check_X_y(X_test, y_test, "X_test", "y_test")
        if _row_layout(X_test) != _row_layout(X):
            raise ValueError(
                f"X_test rows are {_row_layout(X_test)}, X rows {_row_layout(X)}; "
                "give X_test rows like those of X (both DataFrames with the same "
                "columns, or both arrays)."
            )
        check_booleans_alike(
            y_test, np.unique(y), name="y_test", classes_name="classes of y"
        )
        keep = np.isin(y_test, in_classes)
        if not keep.any():
            raise ValueError("y_test holds none of the IN classes.")
        _warn_of_test_classes(y, y_test, in_classes)
        train_rows, X_test = in_rows, _safe_indexing(X_test, np.flatnonzero(keep))
        y_test = y_test[keep]

    n_in = len(train_rows)
    if noise_ratio is None:
        n_ood = len(ood_rows)
        noise_ratio = n_ood / (n_in + n_ood)
    else:
        n_ood = round(n_in * noise_ratio / (1 - noise_ratio))
    if n_ood > len(ood_rows):
        raise _TooFewOODError(noise_ratio, n_in, n_ood, len(ood_rows))
    pool_rows = rng.permutation(
        np.concatenate([train_rows, rng.choice(ood_rows, n_ood, replace=False)])
    )
    y_pool = _to_k_way(y[pool_rows], in_classes, ood_label)
    initial_idx = _initial_indices(y_pool == ood_label, initial_size, noise_ratio, rng)
    return OpenSetSplit(
        X_pool=_safe_indexing(X, pool_rows),
        y_pool=y_pool,
        initial_idx=initial_idx,
        X_test=X_test,
        y_test=_to_k_way(y_test, in_classes, ood_label),
        in_classes=in_classes,
        ood_label=int(ood_label),
    )


def _to_unit_float(images):
    """uint8 pixels -> C-contiguous float32 in [0, 1] without an intermediate copy."""
    return np.true_divide(images, np.float32(255), dtype=np.float32, order="C")


def load_digits_dataset() -> tuple[np.ndarray, np.ndarray]:
    """Load scikit-learn's embedded 8x8 digits (1,797 examples, 10 classes).

    Returns
    -------
    X : ndarray of shape (1797, 64), dtype=float32
        Pixel intensities scaled from 0..16 to [0, 1].
    y : ndarray of shape (1797,), dtype=int64
        Digit labels 0..9.

    Examples
    --------
    >>> from skal_openset import load_digits_dataset
    >>> X, y = load_digits_dataset()
    >>> X.shape, X.dtype, y.shape
    ((1797, 64), dtype('float32'), (1797,))
    >>> float(X.min()), float(X.max()), sorted(set(y.tolist())) == list(range(10))
    (0.0, 1.0, True)
    """
    X, y = load_digits(return_X_y=True)
    return (X / 16).astype(np.float32), y.astype(np.int64)


_MAX_FEATURE_VALUE = 1e30
# Rounding to float32 moves a value by at most 6e-8 of its magnitude (short of
# float32's smallest numbers): a negligible share of its column's range, unless
# the values lie some 1,700 times their spread or more from 0 (timestamps) or
# near float32's smallest numbers. Then the cast loses the differences that
# matter.
_FLOAT32_LOSS = 1e-4
_INT64 = np.iinfo(np.int64)
# Values a chunk of columns of a table's features holds at most, where the
# chunks are checked one at a time: 512 KiB as float64.
_CHUNK_VALUES = 2**16


# A number as CSV files write one: ASCII digits, no "_" or other scripts' digits.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def _label_value(text):
    """The number that the label ``text`` writes, or None.

    An int where it is whole and fits int64 ("7", "07", "7.0", "7e0"), else a
    float where that float prints back as the same number ("2.5"), else None
    (not a number, or beyond int64 and float64, e.g. a 20-digit code).
    """
    if not _PLAIN_NUMBER.fullmatch(text):
        return None
    value = decimal.Decimal(text)
    # adjusted() first: int() of "1e999999999" would build a billion digits
    if value.adjusted() <= 18 and value == value.to_integral_value():
        if _INT64.min <= (whole := int(value)) <= _INT64.max:
            return whole
    number = float(text)
    exact = math.isfinite(number) and decimal.Decimal(repr(number)) == value
    return number if exact else None


def _check_exact_as_floats(path, labels, first, lines, values):
    """Raise if an integer label beyond 2**53 is among labels that are read as
    floats (one is not whole): float64 would round it to another number, and
    two such classes (2**53 and 2**53 + 1) to one.

    ``labels`` are the distinct labels, ``values`` their numbers and ``first``
    the row each is first on; the rows named are the earliest in the file.
    """
    rounded = [i for i, v in enumerate(values) if float(v) != v]
    if rounded:
        at = min(rounded, key=lambda i: first[i])
        odd = min(
            (i for i, v in enumerate(values) if isinstance(v, float)),
            key=lambda i: first[i],
        )
        raise ValueError(
            f"{path}, line {lines[first[at]]}: the label {str(labels[at])!r} is an "
            f"integer beyond 2**53, and the label {str(labels[odd])!r} (line "
            f"{lines[first[odd]]}) makes the labels floats, which would read it as "
            f"{float(values[at]):.0f}, another number (and two such classes as "
            "one). Make every label an integer, or make the labels names (e.g. "
            f"'class_{labels[at]}')."
        )


def _check_one_spelling(path, labels, lines, y):
    """Raise if two spellings of labels ("1" and "1.0") write one number."""
    spellings, first = np.unique(labels, return_index=True)
    pairs = np.unique(np.stack([y[first].astype(str), spellings]), axis=1)
    values, counts = np.unique(pairs[0], return_counts=True)
    if (counts > 1).any():
        value = values[counts > 1][0]
        spellings = pairs[1][pairs[0] == value].tolist()
        at = [int(lines[np.flatnonzero(labels == s)[0]]) for s in spellings[:2]]
        raise ValueError(
            f"{path}: the labels {spellings[0]!r} (line {at[0]}) and "
            f"{spellings[1]!r} (line {at[1]}) are both the number {value}; "
            "write each class one way, or make the labels names (e.g. "
            "'class_07') if they are different classes."
        )


# Infinity and NaN as float writes them: numbers, refused as not finite.
_NON_FINITE = re.compile(r"[+-]?(?:inf(?:inity)?|nan)", re.ASCII | re.IGNORECASE)


def _is_number(text):
    """Whether the feature value ``text`` writes a number as a label must:
    in plain notation (``float`` reads "1_000" and other scripts' digits
    too), or infinity or NaN (refused later, as not finite)."""
    stripped = text.strip()
    if not (_PLAIN_NUMBER.fullmatch(stripped) or _NON_FINITE.fullmatch(stripped)):
        return False
    # and as numpy reads the table: str.strip also takes characters it does
    # not (the separators \x1c-\x1f)
    try:
        np.array(text).astype(np.float64)
    except ValueError:
        return False
    return True


def _parse_features(features, check_every):
    """The string array `features` as float64, or None where a value is no
    number as :func:`_is_number` reads it.

    float reads more than _is_number only in values that hold "_" or a
    character beyond ASCII (:func:`_holds_wider`): the values are checked one
    by one, which is slow, only if `check_every`, as they are where a table
    holds such a value anywhere.
    """
    try:
        X = features.astype(np.float64)  # float's rule, at numpy's speed
    except ValueError:
        return None
    if check_every and not np.vectorize(_is_number, otypes=[bool])(features).all():
        return None
    return X


def _holds_wider(features):
    """Whether a value of the string array `features` holds "_" or a
    character beyond ASCII, which float reads more of than _is_number."""
    codes = features.ravel(order="K").view(np.uint32)
    return bool(((codes > 127) | (codes == ord("_"))).any())


@overload
def load_csv_table(
    path: str | os.PathLike,
    label_column: str = ...,
    *,
    ignore_columns: Sequence[str] = ...,
    return_classes: Literal[False] = ...,
) -> tuple[np.ndarray, np.ndarray]: ...


@overload
def load_csv_table(
    path: str | os.PathLike,
    label_column: str = ...,
    *,
    ignore_columns: Sequence[str] = ...,
    return_classes: Literal[True],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


@overload
def load_csv_table(
    path: str | os.PathLike,
    label_column: str = ...,
    *,
    ignore_columns: Sequence[str] = ...,
    return_classes: bool,
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray]: ...


def load_csv_table(
    path: str | os.PathLike,
    label_column: str = "label",
    *,
    ignore_columns: Sequence[str] = (),
    return_classes: bool = False,
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Load a numeric table with a header row and one label column from a CSV file.

    Values may be separated by ``","`` or ``", "``. Labels are compared as
    ``skal-openset run`` compares them: whitespace around a label is
    dropped, so ``"cat "`` and ``"cat"`` are one class, and labels are read
    in Unicode's composed form (NFC), so a ``"café"`` saved by macOS (its
    ``e`` and accent apart, NFD) is the ``"café"`` typed elsewhere. Column
    names given are matched to the header's so too, where no header name is
    exactly the name given and one is so. The file must be UTF-8 (a
    byte-order mark is allowed). Read with the standard :mod:`csv` module
    (no pandas needed).

    Parameters
    ----------
    path : str or path-like
        The CSV file.
    label_column : str, default="label"
        Header name of the label column; every other column is a feature.
    ignore_columns : sequence of str, default=()
        Header names of columns to leave out, such as a row identifier. A
        column named ``id`` (in any case) must be left out or renamed: as a
        feature it would teach the classifier the row order.
    return_classes : bool, default=False
        Also return the sorted distinct original labels.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype=float32
        The feature columns in file order.
    y : ndarray of shape (n_samples,), dtype=int64 or float64
        If every label is a number in plain notation (``"7"``, ``"-3"``,
        ``"07"``, ``"7.0"`` as pandas writes a float column, ``"2.5"``), the
        labels are those numbers, as pandas reads them: int64 if all are
        whole and fit it, float64 otherwise; two spellings of one number
        (``"7"`` and ``"7.0"``) are refused. If no label is (names, or codes
        beyond int64 and float64), all labels are strings, encoded with
        :class:`~sklearn.preprocessing.LabelEncoder` as their position in
        ``classes``. A column that mixes both kinds is refused: encoding it
        would renumber the numbers in text order (``"10"`` before ``"2"``),
        so that class numbers would name other classes.
    classes : ndarray of shape (n_classes,)
        Only if ``return_classes``: the sorted distinct original labels (strings
        for encoded labels, so that ``classes[y]`` recovers them; numbers
        otherwise).

    Raises
    ------
    ValueError
        If the file is not UTF-8, holds a NUL character, is ragged or
        empty, has a quote that is not closed or a label or feature that
        holds a line break, lacks the label column or
        has two of that name, has no feature column (the ignored ones left
        out), has an unnamed column
        or one named ``id``, ``index`` or ``Unnamed: <n>`` (a row index
        pandas wrote), holds an empty label, a label that writes a missing
        value as ``skal-openset run`` reads it (``NA``, ``N/A``, ``#N/A``,
        ``<NA>``, ``nan``, ``None``, ``null`` or ``?``, in any case) among
        numbers, labels that mix numbers with
        other labels or write one number two ways, a label that differs from
        another, or from an empty one, by invisible characters only
        (Unicode's format characters, such as a zero-width space: they are
        named), or a feature value that
        is empty, not a number in plain notation (as a label: no ``1_000``
        or other scripts' digits), not finite or larger than 1e30 in
        absolute value (the line and column are named).

    Warns
    -----
    UserWarning
        If a label writes a missing value as ``skal-openset run`` reads it
        (above) among labels that are not all numbers: it is loaded as a
        class of its own, which it may be ("none" of a severity). Drop such
        rows where it means a missing label.
    UserWarning
        If storing the features as float32 loses the differences between
        the values of a column: moves them by over 1e-4 of its spread
        (values from some 1,700 times their spread from 0, such as
        timestamps, or below about 1e-38), or makes equal two values a
        tenth of its median gap between neighbours apart or more (a column
        of many close values, even nearer 0). Centre or rescale such a
        column.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skal_openset import load_csv_table
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = Path(tmp.name) / "table.csv"
    >>> _ = path.write_text("x1,x2,label\\n0.5,1.0,cat\\n2.0,3.5,dog\\n1.5,0.0,cat\\n")
    >>> X, y, classes = load_csv_table(path, return_classes=True)
    >>> X.shape, y.tolist(), classes.tolist()
    ((3, 2), [0, 1, 0], ['cat', 'dog'])
    >>> tmp.cleanup()
    """
    X, labels, lines, _, _ = _read_csv_table(path, label_column, ignore_columns)
    # Each distinct label is read once: Python objects of every row's took
    # some 500 bytes a row, more than the 50 features' float32 values.
    distinct, inverse = np.unique(labels, return_inverse=True)
    labels = np.array([as_label(label) for label in distinct.tolist()])[inverse]
    _check_invisible_characters(path, labels, lines)
    empty = np.flatnonzero(labels == "")
    if empty.size:
        raise ValueError(
            f"{path}, line {lines[empty[0]]}: the label is empty ({empty.size} "
            "row(s) in all); fill it in or drop that row."
        )
    _check_missing_markers(path, labels.tolist(), lines)
    # Numbers are read as pandas reads them ("7.0" is 7, as in_classes=[7]
    # expects); labels beyond int64 and float64 stay strings.
    distinct, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    values = [_label_value(label) for label in distinct.tolist()]
    is_number = np.array([v is not None for v in values], dtype=bool)[inverse]
    if is_number.all():
        whole = all(isinstance(v, int) for v in values)
        if not whole:
            _check_exact_as_floats(path, distinct, first, lines, values)
        y = np.array(values, dtype=np.int64 if whole else np.float64)[inverse]
        _check_one_spelling(path, labels, lines, y)
        classes = np.unique(y)
    elif is_number.any():
        raise ValueError(_mixed_labels_message(path, labels, lines, is_number))
    else:  # as LabelEncoder encodes them
        y, classes = inverse.astype(np.int64), distinct
    return (X, y, classes) if return_classes else (X, y)


def _read_alike(labels):
    """The `labels` (sorted, distinct) that read as empty, or as one another,
    but for invisible characters: ``(shown, found, hidden)`` for each way a
    label reads (``shown``) that is empty or that several labels (``found``)
    read as; ``hidden`` names their invisible characters."""
    spellings = {}
    for label in labels:
        spellings.setdefault(without_invisible(label), []).append(label)
    for shown, found in spellings.items():
        if (not shown and found != [""]) or len(found) > 1:
            hidden = [ch for s in found for ch in invisible_characters(s)]
            yield shown, found, name_characters(hidden)


def _check_invisible_characters(path, labels, lines):
    """Raise if a label reads as another, or as empty, but for invisible
    characters (a zero-width space in text copied from a web page): they
    would be two classes that read as one, or a class without a name."""

    def line(label):
        return int(lines[np.flatnonzero(labels == label)[0]])

    for shown, found, hidden in _read_alike(np.unique(labels).tolist()):
        if not shown:
            label = found[-1]  # "" sorts first
            raise ValueError(
                f"{path}, line {line(label)}: the label {label!r} holds only "
                f"invisible characters ({hidden}), so it reads as empty; fill it "
                "in or drop that row."
            )
        first, other = found[:2]
        raise ValueError(
            f"{path}: the labels {first!r} (line {line(first)}) and {other!r} "
            f"(line {line(other)}) differ only by invisible characters "
            f"({hidden}), so they would be two classes. Remove those "
            "characters from the labels in the file (they come with text "
            "copied from web pages or documents)."
        )


def _check_missing_markers(path, labels, lines):
    """Refuse labels that write a missing value (``NA``, ``?``, ...) among
    numbers, where they can be no class; warn of them among names, where
    they may be one ("none" of a severity, "NA" for North America): loaded,
    they are a class of their own."""
    named = [label for label in labels if label.casefold() not in MISSING_MARKERS]
    among_numbers = bool(named) and all(_label_value(v) is not None for v in named)

    def remedy(marker):
        if among_numbers:
            return (
                "among numbers it can be no class: drop those rows or give them "
                "their label."
            )
        return (
            f"loaded, {marker!r} is a class of its own. If it means a missing "
            "label, drop those rows or give them their label; if it is a real "
            "class, let the warning be."
        )

    message = missing_marker_message(
        labels, lambda i: f"{path}, line {lines[i]}", remedy
    )
    if message and among_numbers:
        raise ValueError(message)
    if message:
        warn(message)


def _mixed_labels_message(path, labels, lines, is_number):
    """Why a label column of numbers and other labels is refused."""
    # The fewer kind is the odd one: a stray "NA" among numbers, or a stray
    # number among names.
    odd = ~is_number if (~is_number).sum() <= is_number.sum() else is_number
    first = int(np.flatnonzero(odd)[0])
    counts = Counter(labels[odd].tolist()).most_common()
    shown = ", ".join(f"{label!r} ({n} row(s))" for label, n in counts[:5])
    kind = (
        "is no number that fits int64 or float64"
        if odd is not is_number
        else "is a number"
    )
    others = "numbers" if odd is not is_number else "not numbers"
    return (
        f"{path}, line {lines[first]}: the label {str(labels[first])!r} {kind}, while "
        f"{int((~odd).sum())} other label(s) are {others}; the odd labels: {shown}"
        f"{', ...' if len(counts) > 5 else ''}. Read together they would all be "
        "strings, renumbered in text order ('10' before '2'), so integer class "
        "numbers would name other classes. Make the labels one kind: drop a row "
        "whose label is missing, or make every label a name (e.g. 'class_7'); "
        "give OOD rows "
        "an integer no IN class uses (e.g. -1) beside integer classes, and "
        "name the IN classes (make_open_set_split's in_classes=), since the "
        "OOD integer is a class of y too."
    )


def _folder_at(directory, holding):
    """`directory` as a Path, refused if it is not a folder, naming what it
    should hold."""
    directory = Path(directory)
    if not directory.is_dir():
        found = "A file at" if directory.exists() else "No folder at"
        raise FileNotFoundError(
            f"{found} {directory.absolute()}; give the folder that holds {holding}."
        )
    return directory


def _zip_folders_remedy(directory):
    """How to make the zip load_image_folder_zip reads from a folder of image
    folders."""
    return (
        f"zip its image folders (cd {shlex.quote(str(directory))} && zip -r "
        "../data.zip train test) and load the zip with load_image_folder_zip"
    )


def _header_names(header):
    """A function giving the `header`'s name for a column name typed, which
    is compared as labels are (:func:`as_label`) where it is no exact name:
    the command line strips ``ID `` to ``ID``, and macOS saves ``café`` with
    its ``e`` and accent apart (NFD). A name that matches no header name, or
    more than one, is given back as typed, for the error naming it."""
    exact = set(header)  # a set: a lookup in a list per name is quadratic
    normalised = {}
    for name in header:
        normalised.setdefault(as_label(name), []).append(name)

    def as_in_header(name):
        if name in exact:
            return name
        found = normalised.get(as_label(name), ())
        return found[0] if len(found) == 1 else name

    return as_in_header


# Values of the rows read before they are parsed: as Python strings they
# take some 70 bytes a value, freed once their block is parsed.
_BLOCK_VALUES = 2**13
# Their features (float64) are merged into parts of this many values: the
# float32 checks take each chunk of columns from every part, and a block of
# a wide table is a row or two.
_PART_VALUES = 2**20
_NUL_OR_BREAK = re.compile("[\0\n\r]")


def _numbered_rows(reader):
    """The rows of the csv `reader` that are not blank, each with the line
    it starts on."""
    start = 1
    for row in reader:
        if row and not _is_blank_line(row):
            yield start, row
        start = reader.line_num + 1


def _read_table_in_blocks(path, label_column, ignore_columns, check_every=False):
    """:func:`_read_csv_table`'s result for a table that passes its checks,
    read and parsed a block of rows at a time; None for one that fails one.

    Read whole, a table took some 123 bytes a value at the peak (its rows as
    Python strings, then a string array of them; 1,173 MiB for 200,000 rows
    of 50 features in ``benchmarks/results/memory-at-237bfc1f/memory.md``):
    6 GB for a million rows of 50 features. In blocks only the features
    outlive a block, as float64, then cast a block at a time into the
    float32 result: some 14 bytes a value (132 MiB for those 200,000 rows,
    ``benchmarks/results/memory.md``). Which check fails first, and what
    its message says, can depend on the whole file (a byte that is no UTF-8
    on the last line comes first; a column empty in every row is told
    apart), so a table that fails one is left to be read whole.

    Every feature value is checked (:func:`_parse_features`) if
    `check_every`, as the whole read checks them where one holds "_" or a
    character beyond ASCII: a table found to hold one past its first block
    is read again, checked from its first row.
    """
    again = False
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, skipinitialspace=True)
            rows = _numbered_rows(reader)
            header = next(rows, (0, None))[1]
            if header is None or "\0" in "".join(header):
                return None
            try:  # told by the whole read, after the checks it makes first
                as_in_header = _header_names(header)
                label_column = _label_column(path, header, as_in_header(label_column))
                leave_out = _left_out(
                    path, header, label_column, ignore_columns, as_in_header
                )
                kept, names = _kept_columns(path, header, label_column, leave_out)
            except ValueError:
                return None
            j = names.index(label_column)
            lines = array.array("q")
            parts, merging, labels = [], [], []
            ignored = {c: [] for c in _ignored_keys(header, leave_out)}
            width = 1  # of the kept columns' values, as numpy makes their array
            block_rows = max(1, _BLOCK_VALUES // len(header))
            while block := list(itertools.islice(rows, block_rows)):
                numbers, body = [n for n, _ in block], [row for _, row in block]
                table = _block_table(body, len(header), kept)
                if table is None:
                    return None
                features = np.delete(table, j, axis=1)
                if not check_every and _holds_wider(features):
                    again = bool(lines)  # the blocks before were not checked
                    if again:
                        break
                    check_every = True
                X = _parse_features(features, check_every)
                if X is None or _out_of_bounds(X).any():
                    return None
                try:  # of rows of every column
                    _check_ignored_values_swallow_no_row(
                        path, header, leave_out, label_column, numbers, body
                    )
                except ValueError:
                    return None
                merging.append(X)
                if sum(map(np.size, merging)) >= _PART_VALUES:
                    parts.append(np.concatenate(merging))
                    merging = []
                labels.append(np.char.strip(table[:, j]))
                width = max(width, labels[-1].itemsize // 4)
                lines.extend(numbers)
                for c, values in ignored.items():
                    values.extend(row[c] for row in body)
    except (UnicodeDecodeError, csv.Error):
        return None
    if again:
        del parts, merging, labels, lines, ignored  # freed before reading again
        return _read_table_in_blocks(path, label_column, ignore_columns, True)
    if not lines:
        return None
    parts += merging
    # the labels first: their blocks are freed before X is made
    labels = np.concatenate(labels).astype(f"<U{width}")
    # Laid out as the float64 table read whole was by its cast to float32:
    # in Fortran order, or C where one row or column makes it C-contiguous
    # too (a campaign's fingerprint hashes X's strides).
    shape = (len(lines), len(kept) - 1)
    X = np.empty(shape, np.float32, order="C" if 1 in shape else "F")
    start = 0
    for part in parts:
        X[start : start + len(part)] = part
        start += len(part)
    _warn_of_float32_loss(
        X,
        lambda cols: np.concatenate([part[:, cols] for part in parts]),
        path,
        [repr(name) for c, name in enumerate(names) if c != j],
    )
    keys = _ignored_keys(header, leave_out)
    widest = max(itertools.chain([width], map(len, itertools.chain(*ignored.values()))))
    return (
        X,
        labels,
        lines,
        {keys[c]: np.array(values, dtype=object) for c, values in ignored.items()},
        widest,
    )


def _block_table(body, n_columns, kept):
    """The kept columns' values of the rows `body` of a CSV table of
    `n_columns` columns, as a string array; None if a check of
    :func:`_read_csv_table` fails (a ragged row, a NUL, a kept value that
    spans lines)."""
    for row in body:
        if len(row) != n_columns:
            return None
        if _NUL_OR_BREAK.search(joined := "".join(row)) and (
            "\0" in joined or any(_spans_lines(row[c]) for c in kept)
        ):
            return None
    return np.array([[row[c] for c in kept] for row in body], dtype=str)


def _read_csv_table(path, label_column, ignore_columns):
    """Features, stripped label strings, each row's line of a CSV table, its
    ignored columns (name: strings; two of one name are named with their
    column number, ``key (column 1)``) and the length of its longest value
    (the width numpy gave the labels when it read the table as one array,
    which a campaign's fingerprint hashes).

    Labels are returned as they are, empty ones included (the campaign reads
    an empty label as an unlabelled row); the errors are those of
    :func:`load_csv_table`. A table is read a block of rows at a time
    (:func:`_read_table_in_blocks`), and read again whole if it fails a check.
    """
    path = file_at(path, "CSV file")
    read = _read_table_in_blocks(path, label_column, ignore_columns)
    if read is not None:
        return read
    rows, start = [], 1
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, skipinitialspace=True)
            # keep the line each row starts on: blank lines are skipped
            for row in reader:
                if row and not _is_blank_line(row):
                    rows.append((start, row))
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        with open(path, "rb") as f:
            magic = f.read(2)
        if magic == b"\x1f\x8b":  # gzip's
            raise ValueError(
                f"{path} is gzip-compressed, and compressed files are not read: "
                f"decompress it first (gunzip -k {shlex.quote(str(path))}) and "
                "give the CSV file it holds."
            ) from None
        if magic.startswith(b"PK"):  # a zip: a .npz file or a workbook
            raise ValueError(
                f"{path} is a zip archive, not CSV text: a .npz file (give it "
                "the suffix .npz) or a spreadsheet workbook (save it as 'CSV "
                "UTF-8')."
            ) from None
        raise ValueError(
            f"{path} is not UTF-8 text ({exc}); save it as UTF-8 first."
        ) from None
    except csv.Error as exc:
        # A quote that is never closed swallows the rest of the file into
        # one value, until it passes the csv module's field size limit; a
        # value that long may be closed still.
        if "field limit" in str(exc):
            raise ValueError(
                _long_value_message(path, start)
                or _open_quote_message(path, start, reader.line_num, gave_up=True)
            ) from None
        if "NUL" in str(exc):  # Python 3.10's reader refuses one: "line contains NUL"
            raise ValueError(_nul_message(path, reader.line_num)) from None
        raise ValueError(
            f"{path}, line {reader.line_num}: not readable as CSV ({exc}); fix "
            "that line or save the file again as CSV."
        ) from None
    # numpy's strings drop trailing NULs: "cat\0" would be the class "cat"
    nul = next((line for line, row in rows if "\0" in "".join(row)), None)
    if nul is not None:
        raise ValueError(_nul_message(path, nul))
    if not rows:
        raise ValueError(f"{path} is empty.")
    header = rows[0][1]
    # The line numbers as machine integers: Python ints, made as the rows
    # were read, would keep every block of the rows' memory from going
    # back to the system once the rows are freed.
    lines = array.array("q", [line for line, _ in rows[1:]])
    body = [row for _, row in rows[1:]]
    as_in_header = _header_names(header)
    label_column = _label_column(path, header, as_in_header(label_column))
    ragged = [i for i, row in enumerate(body) if len(row) != len(header)]
    for i in ragged:  # a quote not closed makes one value of many lines
        if any(map(_spans_lines, body[i])):
            raise ValueError(
                _open_quote_message(path, lines[i], _last_line(lines[i], body[i]))
            )
    ragged = [lines[i] for i in ragged]
    if ragged:
        raise ValueError(
            f"{path}: line(s) {shown_names(ragged, 'lines')} do not have "
            f"{len(header)} values like the header."
        )
    if not body:
        raise ValueError(f"{path} has a header but no data rows.")
    leave_out = _left_out(path, header, label_column, ignore_columns, as_in_header)
    _check_ignored_values_swallow_no_row(
        path, header, leave_out, label_column, lines, body
    )
    kept, names = _kept_columns(path, header, label_column, leave_out)
    # Only the kept columns make one array: numpy makes each value of an
    # array as wide as its widest, and an ignored column may hold long text.
    # In Fortran layout, as the columns taken from the whole table's array
    # were: X keeps it, and a campaign's fingerprint hashes X's strides.
    table = np.array([[row[c] for c in kept] for row in body], dtype=str, order="F")
    spans = (np.char.find(table, "\n") >= 0) | (np.char.find(table, "\r") >= 0)
    if spans.any():  # no feature or label holds a line break
        row, col = np.argwhere(spans)[0]
        line, name, value = lines[row], names[col], str(table[row, col])
        last = _last_line(line, body[row])
        advice = (
            "labels may not hold line breaks: replace them before saving, e.g. "
            f"df[{name!r}] = df[{name!r}].str.replace(r'[\\r\\n]+', ' ', "
            "regex=True)."
            if name == label_column
            else f"text with line breaks is no feature: leave column {name!r} "
            "out (--ignore-columns, ignore_columns=)."
        )
        # A quote closed only by a later stray one takes in whole rows, with
        # their commas; a value without one holds its line breaks by intent.
        if "," not in value and _closed_row(path, line) is not None:
            raise ValueError(
                f"{path}, line {line}: the value {reprlib.repr(value)} of column "
                f"{name!r} holds a line break inside its quotes (it runs to line "
                f"{last}), and {advice}"
            )
        raise ValueError(
            _open_quote_message(path, line, last)
            + f" If instead the value is meant to span lines, {advice}"
        )
    ignored = {
        key: np.array([row[c] for row in body], dtype=object)
        for c, key in _ignored_keys(header, leave_out).items()
    }
    widest = max(1, max(map(len, itertools.chain.from_iterable(body))))
    # The rows as strings, some 70 bytes a value, are no longer needed: freed
    # before the features are parsed, they are not held beside their copies.
    del rows, body
    j = names.index(label_column)
    features = np.delete(table, j, axis=1)
    X = _parse_features(features, _holds_wider(features))
    if X is None:
        # numpy does not say where the bad value is; find the first one
        bad = ~np.vectorize(_is_number, otypes=[bool])(features)
        row, col = np.argwhere(bad)[0]
        name = names[col + (col >= j)]  # the label column counted in
        value = str(table[row, col + (col >= j)])
        blank = not value.strip()
        # Compared with "": numpy before 2 has no truth value of a string
        # array's items (.any() raised UFuncTypeError, no line named).
        if blank and (np.char.strip(features[:, col]) == "").all():
            # dropping each row that misses it would drop them all
            problem = (
                "is empty (missing), as in every row: a column with no values "
                "is no feature; leave it out (--ignore-columns, ignore_columns=)"
            )
        elif blank:
            problem = "is empty (missing); fill it in or drop that row"
        elif bad[:, col].all():
            problem = (
                f"{value!r} is not numeric, nor is any value of the column: "
                "features must be numbers; encode that column as numbers or "
                "leave it out (--ignore-columns, ignore_columns=)"
            )
        else:
            problem = f"{value!r} is not numeric; fix it or drop that row"
        raise ValueError(
            f"{path}, line {lines[row]}, column {name!r}: feature value {problem}."
        )

    def spot(row, col):
        col += col >= j  # index among the kept columns, label column included
        return (
            f"line {lines[row]}, column {names[col]!r}: feature value "
            f"{str(table[row, col])!r}"
        )

    feature_names = [repr(name) for c, name in enumerate(names) if c != j]
    X = _float32_features(X, path, spot, feature_names)
    return X, np.char.strip(table[:, j]), lines, ignored, widest


def _ignored_keys(header, leave_out):
    """The ignored columns of the `header`, by position: their keys in
    :func:`_read_csv_table`'s dict, two of one name told apart by position
    (a dict would keep one), ``key (column 1)``."""
    left_out = {c: name for c, name in enumerate(header) if name in leave_out}
    doubled = Counter(left_out.values())
    return {
        c: f"{name} (column {c + 1})" if doubled[name] > 1 else name
        for c, name in left_out.items()
    }


def _label_column(path, header, label_column):
    """The `label_column` named once in the `header`, else raised."""
    if label_column not in header:
        separator = next((c for c in ";\t|" if c in header[0]), None)
        raise ValueError(
            f"{path} has no column {label_column!r}; header: {shown_names(header)}. "
            + (
                f"It looks separated by {separator!r}: save it comma-separated."
                if len(header) == 1 and separator
                else "The first line must name the columns, separated by commas, "
                "one of them the label column (label_column=, or --label-column, "
                "names another)."
            )
        )
    if header.count(label_column) > 1:
        # the other one would silently become a feature
        raise ValueError(
            f"{path} has {header.count(label_column)} columns named "
            f"{label_column!r}; rename all but the label column."
        )
    return label_column


def _left_out(path, header, label_column, ignore_columns, as_in_header):
    """The set of names of the `header`'s columns to ignore, each checked."""
    # sets: a lookup in a list per column is quadratic in a wide table's width
    leave_out = (
        {ignore_columns} if isinstance(ignore_columns, str) else set(ignore_columns)
    )
    leave_out = set(map(as_in_header, leave_out))
    unknown = sorted(leave_out - set(header))
    if unknown:
        raise ValueError(
            f"{path} has no columns {shown_names(unknown)} to ignore; header: "
            f"{shown_names(header)}."
        )
    if label_column in leave_out:
        raise ValueError(f"The label column {label_column!r} cannot be ignored.")
    return leave_out


def _kept_columns(path, header, label_column, leave_out):
    """The `header`'s columns kept (the label column among them) and their
    names, refused where no feature column is left, or one is unnamed or
    names row ids."""
    kept = [c for c, name in enumerate(header) if name not in leave_out]
    if len(kept) == 1:  # scikit-learn would refuse "0 feature(s)" mid-run
        others = [name for name in header if name != label_column]
        raise ValueError(
            f"{path} has no feature column: "
            + (
                f"besides the label column {label_column!r}, its columns "
                f"{others} are all ignored (--ignore-columns, ignore_columns=)"
                if others
                else f"its only column is the label column {label_column!r}"
            )
            + "; a table needs at least one column of numeric features."
        )
    names = [header[c] for c in kept]
    if "" in names:
        column = header.index("") + 1
        cause = (
            "a row index that pandas' to_csv wrote? Save with index=False"
            if column == 1
            else "a trailing comma?"
        )
        raise ValueError(
            f"{path}: column {column} of the header has no name ({cause}); "
            "remove it from every line, or name it and, unless it holds "
            "features, leave it out with --ignore-columns (ignore_columns=)."
        )
    ids = [n for n in names if n != label_column and _is_row_index_name(n)]
    if ids:
        pandas = (
            ""
            if ids[0].strip().lower() == "id"
            else " (a row index that pandas wrote: to_csv without index=False, "
            "or reset_index(); save with index=False)"
        )
        raise ValueError(
            f"{path} has a column {ids[0]!r}{pandas}, which would be a feature and "
            "teach the classifier the row order; leave it out (--ignore-columns "
            f"{shlex.quote(ids[0])}, or ignore_columns=[{ids[0]!r}]) or, if it is "
            "a feature, rename it."
        )
    return kept, names


def _float32_features(X, path, spot, names):
    """A table's features `X` as float32, checked.

    Raises if a value is not finite or above 1e30 in absolute value (float32
    would turn 1e60 into inf; such values are errors in the file). Warns of
    the columns whose differences the cast loses.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Real numbers: bool, integer or float.
    path : str or path-like
        The file, as the messages name it.
    spot : callable
        ``spot(row, col)``: where value ``X[row, col]`` is in the file and
        how it is written there, e.g. ``"line 3, column 'x': feature value
        '1e40'"``.
    names : list of str
        The columns of `X`, as the warning names them.

    Returns
    -------
    X : ndarray of shape (n_rows, n_features), dtype=float32
    """
    first = None  # the first value out of bounds, row by row
    for cols in _column_chunks(X):
        bad = np.argwhere(_out_of_bounds(X[:, cols]))
        if bad.size and (first is None or bad[0][0] < first[0]):
            first = (bad[0][0], cols.start + bad[0][1])
    if first is not None:
        raise ValueError(
            f"{path}, {spot(*first)} is not finite or above "
            f"{_MAX_FEATURE_VALUE:g} in absolute value; fix or drop that row."
        )
    X32 = X.astype(np.float32)
    if not np.can_cast(X.dtype, np.float32):  # else exact: nothing to lose
        _warn_of_float32_loss(X32, lambda cols: X[:, cols], path, names)
    return X32


def _column_chunks(X):
    """Slices of the columns of `X` (2-D) to check a chunk at a time: the
    checks' temporaries of the whole of X (absolute values, the cast's
    errors, the values sorted and their gaps) were several times the
    float32 result."""
    step = max(1, _CHUNK_VALUES // max(1, len(X)))
    return [slice(c, c + step) for c in range(0, X.shape[1], step)]


def _warn_of_float32_loss(X32, columns, path, names):
    """Warn of the columns of features whose differences their float32 copy
    `X32` loses; ``columns(cols)`` gives the features' columns `cols` (a
    slice) as they were, real numbers, a chunk of columns at a time."""
    described = []
    for cols in _column_chunks(X32):
        # as float64: int64's span could overflow
        part = columns(cols).astype(np.float64, copy=False)
        part32 = X32[:, cols]
        span = part.max(axis=0) - part.min(axis=0)
        moved = np.abs(part32 - part).max(axis=0)
        lossy = ((span > 0) & (moved > _FLOAT32_LOSS * span)) | _merges_neighbours(part)
        for c in np.flatnonzero(lossy):
            effects = [f"values spanning {span[c]:.3g} move by up to {moved[c]:.3g}"]
            before, after = (np.unique(A[:, c]).size for A in (part, part32))
            if after < before:
                effects.append(f"{before} distinct values become {after}")
            zeroed = int(((part32[:, c] == 0) & (part[:, c] != 0)).sum())
            if zeroed:
                effects.append(f"{zeroed} nonzero values become 0")
            described.append(f"{names[cols.start + c]} ({'; '.join(effects)})")
    if described:
        warn(
            f"{path}: features are stored as float32 (about 7 significant digits, "
            "fewer below 1e-38), which loses the differences between "
            f"the values of {', '.join(described)}. Centre or rescale such a "
            "column before saving the table, e.g. subtract its median from a "
            "timestamp column (and leave a date unknown blank, not 0) or "
            "multiply tiny values by a power of 10."
        )


def _out_of_bounds(X):
    """Where the features `X` are not finite or above 1e30 in absolute value."""
    # The bound as float64: a Python float is cast to X's dtype, and 1e30
    # overflows float16 (a RuntimeWarning, shown as the run's own).
    return ~(np.abs(X) <= np.float64(_MAX_FEATURE_VALUE))


def _merges_neighbours(X):
    """Per column of `X` (float64), whether float32 makes equal two values
    that differ by a tenth of the column's median gap between neighbouring
    distinct values or more: differences that matter, which one far-off
    value (a 0 for an unknown date) can hide from a test against the span.
    Full-precision floats merge too, by gaps far below that median."""
    ordered = np.sort(X, axis=0)
    gaps = np.diff(ordered, axis=0)
    merged = (gaps != 0) & (np.diff(ordered.astype(np.float32), axis=0) == 0)
    result = np.zeros(X.shape[1], dtype=bool)
    for c in np.flatnonzero(merged.any(axis=0)):
        typical = np.median(gaps[gaps[:, c] != 0, c])
        result[c] = gaps[merged[:, c], c].max() >= 0.1 * typical
    return result


# Names pandas gives a row index it writes as a column: "Unnamed: 0" when
# read back and saved again, "index" from reset_index().
_PANDAS_INDEX = re.compile(r"Unnamed: \d+")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _is_row_index_name(name):
    """Whether a column `name` says it holds row ids, which teach the row order."""
    name = name.strip()
    return name.lower() in ("id", "index") or _PANDAS_INDEX.fullmatch(name) is not None


def _is_blank_line(cells):
    """Whether the CSV row of `cells` is a line of spaces or tabs, blank to
    the eye (",," is a row of empty cells)."""
    return len(cells) == 1 and not cells[0].strip(" \t")


def _check_ignored_values_swallow_no_row(
    path, header, leave_out, label_column, lines, body
):
    """Refuse a value of an ignored column (a note may span lines) whose
    lines read as whole data rows of the table (as many values, numbers as
    its features, a label): a quote closed too late took them in, and the
    rows were lost without a word."""
    ignored = [c for c, name in enumerate(header) if name in leave_out]
    label = header.index(label_column)
    features = [
        c for c, name in enumerate(header) if c != label and name not in leave_out
    ]

    def is_row(cells):
        return (
            len(cells) == len(header)
            and bool(cells[label].strip())
            and all(_is_number(cells[c]) for c in features)
        )

    for line, row in zip(lines, body):
        for c in ignored:
            if not _spans_lines(row[c]):
                continue
            inner = _LINE_BREAK.split(row[c])[1:]
            if any(map(is_row, csv.reader(inner, skipinitialspace=True))):
                raise ValueError(
                    f"{path}, line {line}: the quoted value of the ignored column "
                    f"{header[c]!r} runs on over the line breaks to line "
                    f"{_last_line(line, row)}, and lines within it read as rows "
                    "of the table, which it would take in: close the quote where "
                    "the value ends (a value holding a comma or a quote is written "
                    '"a, b" or "say ""hi"""), or remove its line breaks.'
                )


def _spans_lines(value):
    return "\n" in value or "\r" in value


def _last_line(line, row):
    """The line a CSV row that starts on `line` ends on."""
    breaks = sum(len(_LINE_BREAK.findall(value)) for value in row)
    # the break that ends the file's last line may sit inside the value
    return line + breaks - row[-1].endswith(("\n", "\r"))


# A row as the csv reader above reads it (a quoted value ends at a lone quote,
# text after it is kept; spaces after a comma are skipped), which does not
# match where a quote is never closed.
_CSV_VALUE = r' *(?:"[^"]*(?:""[^"]*)*"(?!")[^,\r\n]*|[^",\r\n ][^,\r\n]*)?'
_CSV_ROW = re.compile(rf"{_CSV_VALUE}(?:,{_CSV_VALUE})*(?:\r\n?|\n|\Z)")


def _nul_message(path, line):
    """Why the CSV file at `path`, which holds a NUL on `line`, is refused."""
    return (
        f"{path}, line {line} holds a NUL character ('\\x00'), which no text "
        "holds; remove it, or save the table again as UTF-8 CSV (a file saved "
        "as UTF-16 has one beside each letter)."
    )


def _closed_row(path, line):
    """The match of :data:`_CSV_ROW` on the CSV row from `line` of the file at
    `path`, or None where a quote in it is never closed."""
    # a byte that is no UTF-8 further on changes no quote: no error here
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
        return _CSV_ROW.match("".join(itertools.islice(f, line - 1, None)))


def _long_value_message(path, line):
    """Why the row from `line` of the CSV file at `path`, past the csv
    module's field size limit, is not read, if its quotes are all closed
    (else None)."""
    row = _closed_row(path, line)
    if row is None:
        return None
    last = line + len(re.findall(r"\r\n?|\n", row.group().rstrip("\r\n")))
    runs = f", running on over the line breaks to line {last}," if last > line else ""
    return (
        f"{path}, line {line}: a value{runs} is longer than "
        f"{csv.field_size_limit()} characters, the most the csv reader takes in "
        "one value; delete its column from the file (a long text is no feature, "
        "and ignoring the column does not help: reading stops first), or "
        "shorten it."
    )


def _open_quote_message(path, line, last, *, gave_up=False):
    """A value that runs from `line` to `last`: a quote not closed."""
    runs = f"past line {last}, where reading gave up" if gave_up else f"to line {last}"
    return (
        f"{path}, line {line}: a quote opened on line {line} is not closed, so the "
        f"value runs on over the line breaks {runs}; close that quote or remove "
        'it (a value holding a comma or a quote is written "a, b" or '
        '"say ""hi""").'
    )


# What to do with a file cut short or damaged on its way here.
_WHOLE_COPY = "replace it with a whole copy of the file"

# IDX type codes (third magic byte) -> big-endian numpy dtypes
_IDX_DTYPES = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}


def _read_idx(path):
    """Read an IDX file (gzip-compressed or plain) into an ndarray of its own shape."""
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open if gzipped else open)(path, "rb") as f:
            magic = f.read(4)
            if len(magic) < 4 or magic[:2] != b"\0\0" or magic[2] not in _IDX_DTYPES:
                raise ValueError(
                    f"{path} is not an IDX file: bad magic number 0x{magic.hex()} "
                    "(expected 0x0000, a type code and the number of dimensions)."
                )
            ndim, offset = magic[3], 4 + 4 * magic[3]
            dims = f.read(4 * ndim)
            if len(dims) < 4 * ndim:
                raise ValueError(f"{path}: IDX header is truncated; {_WHOLE_COPY}.")
            shape = tuple(int(d) for d in np.frombuffer(dims, ">u4"))
            dtype = np.dtype(_IDX_DTYPES[magic[2]])
            expected = offset + math.prod(shape) * dtype.itemsize
            # A byte more than announced tells a longer file: no more is
            # read, as a small .gz file can unpack to gigabytes.
            data = _read_at_most(f, expected - offset + 1)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(
            f"{path} is a truncated or corrupt gzip file ({exc}); {_WHOLE_COPY}."
        ) from None
    found = offset + len(data)
    if found != expected:
        has = f"{found} bytes" if found < expected else f"more than {expected} bytes"
        raise ValueError(
            f"{path}: IDX header announces shape {shape} ({expected} bytes), "
            f"but the file has {has}; {_WHOLE_COPY}."
        )
    return np.frombuffer(data, dtype).reshape(shape)


def _read_at_most(f, size):
    """Up to `size` bytes of the binary file `f`, read a block at a time: one
    read of `size` bytes would allocate them all, whatever the file holds."""
    data = bytearray()
    while len(data) < size:
        block = f.read(min(size - len(data), 2**24))
        if not block:
            break
        data += block
    return data


def load_idx(
    images_path: str | os.PathLike, labels_path: str | os.PathLike
) -> tuple[np.ndarray, np.ndarray]:
    """Load an image/label pair of IDX files, as used by (Fashion-)MNIST.

    Parameters
    ----------
    images_path : str or path-like
        IDX file of unsigned-byte images of shape (n, H, W), gzip-compressed or plain.
    labels_path : str or path-like
        IDX file of n integer labels, gzip-compressed or plain.

    Returns
    -------
    X : ndarray of shape (n, 1, H, W), dtype=float32
        Pixels scaled to [0, 1].
    y : ndarray of shape (n,), dtype=int64
        Labels.

    Raises
    ------
    ValueError
        If a file is no IDX file (its magic number), its header or data are
        cut short or longer than announced, the images are not unsigned
        bytes of shape (n, H, W), the labels not a 1-d array of integers, or
        the two files hold different numbers of rows.
    """
    images, labels = _read_idx(images_path), _read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        # dtype.name: str() of IDX's big-endian int32 is NumPy's '>i4'.
        raise ValueError(
            f"{images_path} must hold unsigned-byte images of shape (n, H, W), "
            f"got {images.dtype.name} of shape {images.shape}."
        )
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(f"{labels_path} must hold a 1-d array of integer labels.")
    if len(images) != len(labels):
        raise ValueError(
            f"{images_path} has {len(images)} images but {labels_path} has "
            f"{len(labels)} labels."
        )
    return _to_unit_float(images[:, None]), labels.astype(np.int64)


def _find_file(directory, name):
    """``directory/name.gz`` or ``directory/name``, whichever exists."""
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"Neither {name}.gz nor {name} found in {directory}.")


def load_fashion_mnist(
    directory: str | os.PathLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load Fashion-MNIST (or MNIST) from its four standard IDX files.

    Parameters
    ----------
    directory : str or path-like
        Folder with ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
        ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each
        gzip-compressed (``.gz``) or plain.

    Returns
    -------
    X_train : ndarray of shape (60000, 1, 28, 28), dtype=float32
    y_train : ndarray of shape (60000,), dtype=int64
    X_test : ndarray of shape (10000, 1, 28, 28), dtype=float32
    y_test : ndarray of shape (10000,), dtype=int64
        Pixels in [0, 1]; labels 0..9.

    Raises
    ------
    ValueError
        If a labels file holds a label outside 0..9, or the training and
        test images differ in size (files of another data set).
    """
    directory = _folder_at(directory, "the four IDX files of Fashion-MNIST")
    loaded = []
    for part in ("train", "t10k"):
        images = _find_file(directory, f"{part}-images-idx3-ubyte")
        labels = _find_file(directory, f"{part}-labels-idx1-ubyte")
        X, y = load_idx(images, labels)
        # Files of another data set: its labels read as classes 0..9.
        if y.size and not 0 <= y.min() <= y.max() <= 9:
            wrong = y.min() if y.min() < 0 else y.max()
            raise ValueError(
                f"{labels} holds the label {wrong.item()}, but Fashion-MNIST has "
                "the classes 0..9: it is no labels file of Fashion-MNIST (or "
                "MNIST); put back the one that came with the images."
            )
        loaded.append((X, y))
    (X_train, y_train), (X_test, y_test) = loaded
    if X_train.shape[1:] != X_test.shape[1:]:
        raise ValueError(
            f"The training images in {directory} are {X_train.shape[2]}x"
            f"{X_train.shape[3]} pixels and the test images {X_test.shape[2]}x"
            f"{X_test.shape[3]}: the folder holds files of two data sets; keep "
            "the four files of one."
        )
    return X_train, y_train, X_test, y_test


def _load_cifar_pickles(paths, label_key):
    """Concatenate CIFAR python-format batches into uint8 (n, 3, 32, 32) and labels."""
    images, labels = [], []
    for path in paths:
        with open(path, "rb") as f:
            try:
                batch = pickle.load(f, encoding="bytes")
            except Exception as exc:  # damaged pickles fail in many ways
                raise ValueError(
                    f"{path} is not a readable pickle, e.g. truncated "
                    f"({type(exc).__name__}: {exc}); {_WHOLE_COPY}."
                ) from None
        if isinstance(batch, dict) and all(isinstance(k, str) for k in batch):
            # a batch saved again from Python 3 has str keys ('data')
            batch = {k.encode(): v for k, v in batch.items()}
        if not (isinstance(batch, dict) and b"data" in batch and label_key in batch):
            if not isinstance(batch, dict):
                found = f"a {type(batch).__name__}"
            elif batch:
                found = f"keys {shown_names(sorted(batch, key=repr), 'keys')}"
            else:
                found = "no keys"
            raise ValueError(
                f"{path} is not a CIFAR batch: expected a dict with b'data' "
                f"and {label_key!r}, found {found}."
            )
        try:
            data, y = np.asarray(batch[b"data"]), np.asarray(batch[label_key])
        except ValueError as exc:  # numpy's word for rows of different lengths
            raise ValueError(
                f"{path}: b'data' and {label_key!r} must be arrays, one row of "
                f"3072 pixel values and one label per image ({exc})."
            ) from None
        if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
            raise ValueError(
                f"{path}: b'data' must have shape (n, 3072), got {data.shape}."
            )
        # Casting to uint8 or int64 would silently wrap or truncate other values
        # (pixel 1000 -> 232, label 0.7 -> 0).
        if data.dtype.kind not in "iu":
            raise ValueError(
                f"{path}: b'data' must hold integer pixel values 0..255 (uint8 in "
                f"the original files), got {data.dtype}."
            )
        if data.size and not 0 <= data.min() <= data.max() <= 255:
            raise ValueError(
                f"{path}: pixel values in b'data' must be 0..255, got "
                f"{data.min()}..{data.max()}."
            )
        if y.size and y.dtype.kind not in "iu":
            raise ValueError(
                f"{path}: {label_key!r} must hold integer labels, got {y.dtype}."
            )
        if y.ndim != 1:
            raise ValueError(
                f"{path}: {label_key!r} must be one label per image, a flat list, "
                f"got shape {y.shape}."
            )
        if len(data) != len(y):
            raise ValueError(f"{path}: {len(data)} images but {len(y)} labels.")
        # As the pixels: a uint64 label past int64 wrapped to a negative one,
        # and labels of another data set were read as its classes.
        n_classes = 100 if label_key == b"fine_labels" else 10
        if y.size and not 0 <= y.min() <= y.max() < n_classes:
            raise ValueError(
                f"{path}: {label_key!r} must be labels 0..{n_classes - 1}, got "
                f"{y.min()}..{y.max()}."
            )
        # rows hold the red, green and blue 32x32 planes one after the other
        images.append(data.astype(np.uint8, copy=False).reshape(-1, 3, 32, 32))
        labels.append(y.astype(np.int64))
    return _to_unit_float(np.concatenate(images)), np.concatenate(labels)


def load_cifar_batches(
    directory: str | os.PathLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load CIFAR-10 or CIFAR-100 from the original python (pickle) files.

    CIFAR-10 is recognised by ``data_batch_1`` .. ``data_batch_5`` and
    ``test_batch`` (labels ``b"labels"``), CIFAR-100 by ``train`` and ``test``
    (its 100 fine labels ``b"fine_labels"``). A batch saved again from
    Python 3, with str keys (``"data"``, ``"labels"``), is read too.

    The files are unpickled: load only files from a trusted source.

    Parameters
    ----------
    directory : str or path-like
        The extracted folder, e.g. ``cifar-10-batches-py`` or ``cifar-100-python``.

    Returns
    -------
    X_train : ndarray of shape (n_train, 3, 32, 32), dtype=float32
    y_train : ndarray of shape (n_train,), dtype=int64
    X_test : ndarray of shape (n_test, 3, 32, 32), dtype=float32
    y_test : ndarray of shape (n_test,), dtype=int64
        RGB pixels in [0, 1], channels first; labels as stored.

    Raises
    ------
    FileNotFoundError
        If ``directory`` is not a folder, holds neither layout, or a file of
        it is missing.
    ValueError
        If a file is not a CIFAR batch: not a readable pickle of a dict with
        ``b"data"`` and the labels, pixels that are not integers 0..255 in
        rows of 3072, labels that are not integers of the data set's classes
        (0..9, or 0..99 for CIFAR-100), or not one label per image (the file
        is named).
    """
    directory = _folder_at(directory, "the CIFAR-10 or CIFAR-100 batch files")
    if (directory / "data_batch_1").exists():
        train = [directory / f"data_batch_{i}" for i in range(1, 6)]
        test, label_key = [directory / "test_batch"], b"labels"
    elif (directory / "train").is_file():
        train, test = [directory / "train"], [directory / "test"]
        label_key = b"fine_labels"
    elif (directory / "train").is_dir():
        raise FileNotFoundError(
            f"{directory} holds image folders (train/<class>/), not CIFAR "
            f"batches: {_zip_folders_remedy(directory)}."
        )
    else:
        raise FileNotFoundError(
            f"{directory} holds neither CIFAR-10 batches (data_batch_1, ...) "
            "nor CIFAR-100 files (train, test)."
        )
    return (
        *_load_cifar_pickles(train, label_key),
        *_load_cifar_pickles(test, label_key),
    )


# Formats Pillow reads without plugins; a GIF or multi-page TIFF gives its
# first frame.
_IMAGE_SUFFIXES = (
    ".png",
    ".jpg",
    ".jpeg",
    ".bmp",
    ".gif",
    ".webp",
    ".tif",
    ".tiff",
)
# What file managers leave in a folder: no image, and not worth a warning.
_SYSTEM_FILES = ("thumbs.db", "desktop.ini")
_SPLITS = ("train", "test")
# A member name's leading "./" or "/", which some zip tools write.
_LEADING_SLASHES = re.compile(r"^(?:\.?/)+")


# What a damaged zip archive (an image zip, a .npz file), its member or an
# image raises (Pillow: OSError for truncated data, SyntaxError or ValueError
# for broken headers; zipfile: NotImplementedError for flag bits a damaged
# header sets, and OSError for an offset that seeks before the archive's
# start). Not RuntimeError: zipfile raises it for an encrypted member, which
# refuse_encrypted names before, and it would take in a RecursionError.
DAMAGED_ZIP = (
    OSError,
    EOFError,
    SyntaxError,
    ValueError,
    NotImplementedError,
    zlib.error,
    zipfile.BadZipFile,
)
# The flag bits of a zip member that zipfile reads only with a password
# (bit 0) or not at all (bit 6, strong encryption).
_ENCRYPTED_BITS = 0x1 | 0x40


def _encrypted(members):
    """The names of the zip `members` (ZipInfo) marked as encrypted: those of
    a password-protected archive, or a damaged header that sets the bit."""
    return [m.filename for m in members if m.flag_bits & _ENCRYPTED_BITS]


def refuse_encrypted(members, where, remedy):
    """Refuse the zip `members` (ZipInfo) marked as encrypted, naming them
    after `where` and ending with `remedy`."""
    locked = _encrypted(members)
    if locked:
        raise ValueError(
            f"{where}: the member(s) {shown_names(locked, 'members')} are "
            "encrypted (a password-protected zip, or a damaged header marks "
            f"them so), and are read only with their password; {remedy}"
        )


def _rgb_pixels(image):
    """uint8 (H, W, 3) RGB pixels of a Pillow image, or None for 32-bit pixels.

    16-bit grey pixels are scaled from 0..65535 to 0..255.
    """
    # Pillow's convert("RGB") clips 16-bit grey (I;16; an older Pillow's PNG
    # gives mode I) at 255, which turns all but the darkest pixels white.
    if image.mode.startswith("I;16") or (image.mode == "I" and image.format == "PNG"):
        grey = np.rint(np.asarray(image) / 257).astype(np.uint8)  # 65535 -> 255
        return np.repeat(grey[:, :, None], 3, axis=2)
    if image.mode in ("I", "F"):
        return None  # 32-bit integers or floats of no known range
    return np.asarray(image.convert("RGB"))


# Members up to this declared size are read whole, faster than streamed
# through zf.open; a larger one is streamed, so that a small zip of one
# member of gigabytes (zeros compress 1000:1) is refused from its first bytes.
_READ_WHOLE_BYTES = 16 * 2**20


def _decode_images(zf, members, path):
    """Decode the images of the zip `members` (ZipInfo) into uint8
    (n, H, W, 3); all must match the first."""
    from PIL import Image

    refuse_encrypted(
        members,
        path,
        "unzip it with the password and zip it anew without one (zip -r "
        "new.zip train test), or, if it was not meant to have one, copy the "
        "zip again.",
    )
    out = None
    for i, member in enumerate(members):
        name = member.filename
        try:
            if member.file_size <= _READ_WHOLE_BYTES:
                source = io.BytesIO(zf.read(member))
            else:
                source = zf.open(member)
            with source, Image.open(source) as image:
                mode, pixels = image.mode, _rgb_pixels(image)
        except (*DAMAGED_ZIP, Image.DecompressionBombError) as exc:
            raise ValueError(
                f"{path}: member {name} is not a readable image, e.g. truncated "
                f"({type(exc).__name__}: {exc}); replace it with a whole copy of "
                "the image, or delete it from the zip (zip -d)."
            ) from None
        if pixels is None:
            raise ValueError(
                f"{path}: member {name} has 32-bit pixels (Pillow mode {mode}) of "
                "unknown range; save it as an 8- or 16-bit PNG or as a JPEG."
            )
        if out is None:
            shape = (len(members), *pixels.shape)
            try:
                out = np.empty(shape, dtype=np.uint8)
            except MemoryError:
                raise MemoryError(
                    f"{path}: its {len(members)} images of "
                    f"{pixels.shape[1]}x{pixels.shape[0]} pixels (as {name}) need "
                    f"{math.prod(shape) / 2**30:.1f} GiB of memory, more than is "
                    "free; resize them smaller (e.g. to 32x32, as CIFAR-10's) or "
                    "load fewer of them."
                ) from None
        elif pixels.shape != out.shape[1:]:
            raise ValueError(
                f"{path}: member {name} is {pixels.shape[1]}x{pixels.shape[0]} "
                f"pixels, the first image {out.shape[2]}x{out.shape[1]} "
                f"({members[0].filename}); all images, train and test, must have "
                "the same size."
            )
        out[i] = pixels
    return out


def _no_images_message(path, split, members, all_names):
    """Why a zip whose image `members` are these has none under ``split/<class>/``.

    `all_names` are all its member names, images or not.
    """
    # `zip -r data.zip data/` wraps every member in the folder data/
    tops = sorted({n.split("/")[0] for n in members if n.split("/")[1:2] == [split]})
    if tops:
        top = tops[0]
        return (
            f"{path} has no images under {split}/<class>/: they are inside the "
            f"top folder {top}/ ({top}/{split}/<class>/). Zip from inside that "
            f"folder, e.g. cd {top} && zip -r ../data.zip train test, so that "
            "train/ and test/ are at the top of the zip."
        )
    message = f"{path} has no images under {split}/<class>/"
    backslashed = [n for n in all_names if "\\" in n]
    if backslashed:
        # some Windows tools (PowerShell 5's Compress-Archive) write them so
        return (
            f"{message}: its member names are separated by backslashes (e.g. "
            f"{backslashed[0]}), not by '/' as the zip format wants. Zip it again "
            "with a tool that writes '/' (7-Zip, or Python's shutil.make_archive)."
        )
    tops = {n.split("/")[0] for n in all_names}
    cased = sorted(top for top in tops if top.lower() == split and top != split)
    if cased:
        return (
            f"{message}: its folder is named {cased[0]}/, and folder names are "
            f"case-sensitive; rename it {split}/."
        )
    unread = _unread_files(all_names, split)
    if unread:  # e.g. a phone's .heic photos
        return f"{message}, only {len(unread)} file(s) {_not_read(unread)}."
    shown = ", ".join(all_names[:5]) or "none"
    return (
        f"{message} (images: {', '.join(_IMAGE_SUFFIXES)}); its members include: "
        f"{shown}{', ...' if len(all_names) > 5 else ''}."
    )


def _unread_files(all_names, split):
    """The member names under ``split/<class>/`` left unread: of no image
    suffix, and no file manager's."""
    return [
        n
        for n in all_names
        if n.startswith(f"{split}/")
        and n.count("/") == 2
        and not n.lower().endswith(_IMAGE_SUFFIXES)
        and not _is_system_file(n)
    ]


def _not_read(names):
    """Why the files `names` (of :func:`_unread_files`) are not read, and what
    to do."""
    suffixes = sorted({Path(n).suffix.lower() or "none" for n in names})
    return (
        f"whose suffix ({', '.join(suffixes[:5])}) is not one of "
        f"{', '.join(_IMAGE_SUFFIXES)} (e.g. {names[0]}); convert them to PNG to "
        "load them"
    )


def _is_system_file(name):
    """Whether a zip member is a file manager's or a tool's (.DS_Store,
    Thumbs.db, anything in a hidden folder such as .ipynb_checkpoints/), no
    image of the data set."""
    parts = name.split("/")
    return any(part.startswith(".") for part in parts) or (
        parts[-1].lower() in _SYSTEM_FILES
    )


def zip_fingerprint(zf):
    """What tells a zip's content apart, read from its directory alone: every
    member's name, size and CRC-32 (a hex string)."""
    return content_hash([(i.filename, i.file_size, i.CRC) for i in zf.infolist()])


def load_npz(path, **kwargs):
    """``np.load(path, **kwargs)``, which leaves the file open when a .npz
    file's zip is damaged (until the traceback is freed): such a zip is
    refused here first, from a file that is then closed."""
    with open(path, "rb") as f:
        if f.read(2) == b"PK":  # as a .npz file is; others go to np.load
            f.seek(0)
            zipfile.ZipFile(f).close()
    return np.load(path, **kwargs)


def _cached_images(cache_path, fingerprint, names):
    """The members `_zip_images` cached from the zip of `fingerprint`, or None
    where the cache is of another zip (or of a version that kept none) or
    holds other members than `names`, each split's, which this version reads
    (an earlier one read a hidden folder as a class); any other file is
    refused, never overwritten."""
    # No data to lose, unlike another file: it can be deleted.
    if Path(cache_path).stat().st_size == 0:
        raise ValueError(
            f"cache_path {cache_path} is an empty file (left by a write that was "
            "interrupted?); delete it, and the next load writes the cache anew."
        )
    try:
        loaded = load_npz(cache_path)
        if not isinstance(loaded, np.lib.npyio.NpzFile):  # a .npy file's array
            raise KeyError("it holds one array, not the arrays of a .npz file")
        with loaded as cache:
            if _encrypted(cache.zip.infolist()):
                raise KeyError("its members are encrypted, as no cache is")
            members = {s: (cache[f"{s}_names"], cache[f"{s}_images"]) for s in _SPLITS}
            if (
                "zip_fingerprint" not in cache
                or cache["zip_fingerprint"] != fingerprint
                or any(members[s][0].tolist() != names[s] for s in _SPLITS)
            ):
                return None
            return members
    except (*DAMAGED_ZIP, KeyError) as exc:
        # no advice to delete it: it may be the user's data
        raise ValueError(
            f"cache_path {cache_path} is not a cache this function wrote "
            f"({type(exc).__name__}: {exc}); it is left as it is. Give "
            "cache_path a file name of its own, e.g. images_cache.npz."
        ) from None


def _check_distinct_members(path, names):
    """Raise if a member name occurs twice among `names`.

    Appending to a zip (Python's zipfile in mode "a") writes a second member
    of the same name: read by name, the last copy is read for both, so one
    image would load twice and the other not at all.
    """
    twice = sorted(name for name, n in Counter(names).items() if n > 1)
    if twice:
        raise ValueError(
            f"{path} holds {len(twice)} member name(s) more than once (e.g. "
            f"{', '.join(twice[:3])}), as appending to a zip with Python's "
            "zipfile (mode 'a') writes them; only one copy of each can be read. "
            "Create the zip anew, into a new file, from the folder that holds "
            "train/ and test/: zip -r new.zip train test."
        )


def _zip_images(path, cache_path):
    """Sorted member names and their uint8 (n, H, W, 3) images for each split."""
    if cache_path is not None and Path(cache_path).resolve() == Path(path).resolve():
        raise ValueError(
            f"cache_path {cache_path} is the zip itself; give the cache a file "
            f"of its own, e.g. {Path(path).with_suffix('.npz')}."
        )
    path = file_at(path, "zip file", folder_remedy=_zip_folders_remedy(path))
    try:
        zf = zipfile.ZipFile(path)
    except DAMAGED_ZIP as exc:
        raise ValueError(
            f"{path} is not a zip file or is truncated or damaged "
            f"({type(exc).__name__}: {exc}); {_WHOLE_COPY}, or zip its image "
            "folders again (zip -r)."
        ) from None
    with zf:
        fingerprint = zip_fingerprint(zf)
        # Some tools write "./train/..." or "/train/...": train/ all the same.
        # Read by ZipInfo, a member keeps its own name.
        files = [
            (_LEADING_SLASHES.sub("", info.filename), info)
            for info in zf.infolist()
            if not info.filename.endswith("/")
        ]
        all_names, member = [name for name, _ in files], dict(files)
        image_names = [
            n  # also not macOS's ._<name>.jpg (AppleDouble) beside each image
            for n in all_names
            if n.lower().endswith(_IMAGE_SUFFIXES) and not _is_system_file(n)
        ]
        # Before the cache is read: the fingerprint of such a zip is its own,
        # so a cache written from it holds the wrong images too.
        _check_distinct_members(path, image_names)
        names = {}
        for split in _SPLITS:
            under = [n for n in image_names if n.startswith(f"{split}/")]
            names[split] = sorted(n for n in under if n.count("/") == 2)
            if not names[split]:
                raise ValueError(
                    _no_images_message(path, split, image_names, all_names)
                )
            # a class saved in another format would vanish without a word
            other = _unread_files(all_names, split)
            if other:
                warn(
                    f"{path}: left out {len(other)} file(s) under {split}/<class>/ "
                    f"{_not_read(other)}."
                )
            loose = [n for n in under if n.count("/") == 1]
            if loose:
                warn(
                    f"{path}: left out {len(loose)} image(s) directly under "
                    f"{split}/, in no class folder (e.g. {loose[0]}); move them "
                    f"into their class folder, {split}/<class>/, to load them."
                )
            deeper = [n for n in under if n.count("/") > 2]
            if deeper:
                warn(
                    f"{path}: left out {len(deeper)} image(s) deeper than "
                    f"{split}/<class>/ (e.g. {deeper[0]}); move them up into "
                    "their class folder to load them."
                )
        # After the warnings, which a cached load gives too: the same files
        # are left out.
        if cache_path is not None and Path(cache_path).exists():
            cached = _cached_images(cache_path, fingerprint, names)
            if cached is not None:
                return cached
        if cache_path is not None:
            # Before decoding (13 CPU s for CIFAR-10: image_cache.md in
            # benchmarks/results), which a cache that cannot be written (a
            # read-only folder) threw away.
            check_writable(cache_path)
        try:
            import PIL  # noqa: F401
        except ImportError as exc:  # Pillow is an optional dependency
            raise ImportError(
                "load_image_folder_zip needs Pillow: pip install pillow"
            ) from exc
        # one pass over both splits, so the test images must match the train size
        images = _decode_images(
            zf, [member[n] for s in _SPLITS for n in names[s]], path
        )
    parts = np.split(images, [len(names[_SPLITS[0]])])
    members = {s: (np.array(names[s]), part) for s, part in zip(_SPLITS, parts)}
    if cache_path is not None:
        arrays = {
            f"{s}_{kind}": a
            for s in _SPLITS
            for kind, a in zip(("names", "images"), members[s])
        }
        arrays["zip_fingerprint"] = np.array(fingerprint)
        # Atomic, so an interrupted first load leaves no half cache; a file
        # object keeps np.savez from appending ".npz" to the name.
        try:
            with atomic_open(cache_path) as f:
                np.savez(f, **arrays)
        except OSError as exc:
            # The path was checked before decoding: this is the disk (full,
            # gone read-only), and the decoded images are still good.
            # The system's words only: atomic_open's message names the file again.
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            warn(
                f"The decoded images could not be cached at {cache_path} "
                f"({reason}); they are returned, and the next load decodes the "
                "zip again: free space there, or give cache_path another folder."
            )
    return members


def _warn_of_test_only_classes(path, folder_of):
    """Warn of class folders under test/ only: no training image shows their
    class, as when a folder name is mistyped (test/Dog beside train/dog).

    Classes under train/ only are common (OOD classes, not tested), so they
    are named only as the likely match of a test-only folder.
    """
    train, test = (set(folder_of[split].tolist()) for split in _SPLITS)
    test_only = sorted(test - train)
    if not test_only:
        return
    cased = [
        f"test/{t}/ and train/{c}/"
        for t in test_only
        for c in sorted(train - test)
        if t.casefold() == c.casefold()
    ]
    hint = (
        f"; folder names are case-sensitive, and {', '.join(cased)} differ only in case"
        if cased
        else ""
    )
    warn(
        f"{path}: the class folder(s) {shown_names(test_only, 'folders')} are "
        "under test/ only, so no "
        f"training image shows their class{hint}. Rename a mistyped folder "
        "to its train/ name; a class meant to be unseen in training needs "
        "no change."
    )


def load_image_folder_zip(
    path: str | os.PathLike,
    class_names: Sequence[str] | None = None,
    *,
    cache_path: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Load a zip of images laid out as ``train/<class>/*`` and ``test/<class>/*``.

    Images (PNG, JPEG, BMP, GIF, WebP or TIFF, by their suffix in any case;
    the first frame of an animation) are decoded with Pillow and converted
    to 8-bit RGB (16-bit grey scaled from 0..65535); all, train and test,
    must have the same size. The ``train/`` and ``test/`` folders must be at
    the top of the zip (zip from inside the folder that holds them; a
    leading ``./`` or ``/`` in the member names is read as the top), and only
    images directly in a class folder are loaded: deeper ones, ones in no
    class folder, and files of other suffixes, are left out with a warning
    that counts them. A class
    folder under ``test/`` only is warned of: no training image shows its
    class (a mistyped name?). Other
    entries (e.g. a README), and hidden files and folders (``.DS_Store``,
    ``.ipynb_checkpoints/``), are ignored. Decoding the 60,000 JPEGs of
    CIFAR-10 takes about 13 s of one CPU core's time (12-27 s of wall time
    on a shared machine); ``cache_path`` makes later loads take about 3 s
    (3-9 s): ``benchmarks/results/image_cache.md``, which
    ``benchmarks/bench_image_cache.py`` reruns.

    Parameters
    ----------
    path : str or path-like
        The zip file.
    class_names : sequence of str, default=None
        Class folder names in label order: label ``j`` is ``class_names[j]``
        (e.g. :data:`CIFAR10_CLASSES`). Every class folder must be listed; names
        without a folder are allowed. ``None`` sorts the folder names
        alphabetically. Folder names and class names are compared as
        :func:`load_csv_table` compares labels: without surrounding spaces
        and in Unicode's composed form (NFC), so a ``café`` folder named
        on macOS (NFD) is the ``café`` typed elsewhere.
    cache_path : str or path-like, default=None
        A ``.npz`` file holding the decoded pixels (uint8, about 3 KB per 32x32
        image). Read instead of decoding the zip if it was written from a zip
        with the same members (names, sizes and CRC-32s, from the zip's
        directory) and holds the images this version reads from it (one
        written by an earlier version that read others is not); written
        after decoding otherwise, so another zip at the same path, or under
        the same cache name, is decoded afresh. A write that fails after
        decoding (a full disk) warns and leaves no cache; the images are
        returned.

    Returns
    -------
    X_train : ndarray of shape (n_train, 3, H, W), dtype=float32
    y_train : ndarray of shape (n_train,), dtype=int64
    X_test : ndarray of shape (n_test, 3, H, W), dtype=float32
    y_test : ndarray of shape (n_test,), dtype=int64
        RGB pixels in [0, 1], channels first, ordered by label then file name.
    class_names : list of str
        The class names in label order.

    Raises
    ------
    ValueError
        If the zip is damaged, holds an image's member name twice (as
        appending to a zip writes it), a split has no images, an image is unreadable,
        has 32-bit pixels (of no known range) or its size differs from the
        first train image's, two class folders differ by invisible
        characters only (Unicode's format characters, such as a zero-width
        space), ``class_names`` is a set, has duplicates, holds invisible
        characters or lacks a class folder, or ``cache_path`` is not a cache
        this function wrote or is ``path`` itself.
    ImportError
        If Pillow is not installed and there is no cache to read.
    MemoryError
        If the decoded images need more memory than is free, naming how much.
    OSError
        If the images are to be decoded and no cache can be written at
        ``cache_path`` (a read-only folder, a file above it), before they are.
    KeyboardInterrupt
        On Ctrl-C, with ``cache_path`` left as it was, or, if it came during
        the final rename, saying that ``cache_path`` was replaced completely
        (see :func:`save_object`).
    """
    members = _zip_images(path, cache_path)
    # read as load_csv_table reads labels: a folder named on macOS (NFD) is
    # the class of one named elsewhere (NFC), not a second class printed alike
    folder_of = {
        s: np.array([as_label(name.split("/")[1]) for name in members[s][0]])
        for s in _SPLITS
    }
    folders = sorted(set(np.concatenate(list(folder_of.values())).tolist()))
    for shown, found, hidden in _read_alike(folders):
        alike = f"reads as {shown!r}" if shown else "has no visible name"
        raise ValueError(
            f"{path}: the class folder {found[-1]!r} {alike} but for invisible "
            f"characters ({hidden}); rename the folder without them."
        )
    if class_names is None:
        class_names = folders
    else:
        refuse_set(class_names, "class_names")
        class_names = [as_label(name) for name in class_names]
        for name in class_names:
            # one that names a folder is its spelling (an emoji's U+FE0F)
            if (hidden := invisible_characters(name)) and name not in folders:
                raise ValueError(
                    f"The class name {name!r} holds invisible characters "
                    f"({name_characters(hidden)}); type class_names without them."
                )
        check_each_once(class_names, "class_names", "class")
        unknown = sorted(set(folders) - set(class_names))
        if unknown:
            raise ValueError(
                f"Class folders {shown_names(unknown, 'folders')} of {path} are "
                "not in class_names; list every class folder there."
            )
    _warn_of_test_only_classes(path, folder_of)
    label_of = {cls: j for j, cls in enumerate(class_names)}
    arrays = []
    for split in _SPLITS:
        labels = np.array([label_of[cls] for cls in folder_of[split]], dtype=np.int64)
        # names are sorted, so a stable sort orders by label, then file name
        order = np.argsort(labels, kind="stable")
        images = members[split][1][order].transpose(0, 3, 1, 2)
        arrays += [_to_unit_float(images), labels[order]]
    return (*arrays, class_names)
