"""Informativeness scores computed from predicted class probabilities.

Every score here is oriented "higher = more informative", so an active learner
queries the examples with the largest values first.
"""

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import entropy

from ._float_events import flushing_underflow
from ._validation import check_finite_array, refuse_sparse

# Softmax outputs in float32 drift from 1 by about 1e-7 per class; 1e-3 still
# rejects logits or unnormalised scores passed by mistake.
_PROBA_ATOL = 1e-3


def rows_not_summing_to_1(proba):
    """Positions of the rows of `proba` whose sum is off 1 by more than the
    rounding of softmax outputs, and the sum of every row (float64)."""
    row_sums = proba.sum(axis=1, dtype=np.float64)
    return np.flatnonzero(np.abs(row_sums - 1.0) > _PROBA_ATOL), row_sums


def _check_proba(proba, *, min_classes=1):
    """Validate a matrix of class probabilities and return it as an array.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Predicted class probabilities, one row per example.
    min_classes : int, default=1
        Smallest number of columns accepted.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
        The validated probabilities (float32 or float64).

    Raises
    ------
    ValueError
        If ``proba`` is not 2-D, contains NaN/inf or negative values, has fewer
        than ``min_classes`` columns, or a row does not sum to 1.
    """
    refuse_sparse(proba, "proba", scores=True)
    proba = check_finite_array(
        proba, dtype=(np.float64, np.float32), input_name="proba"
    )
    # Not check_array's ensure_non_negative: negative values mean logits
    # more often than anything, and its message says nothing of them.
    if (proba < 0).any():
        raise ValueError(
            "proba holds negative values, so it is not probabilities: pass "
            "softmax outputs (e.g. scipy.special.softmax(logits, axis=1)), not "
            "logits."
        )
    if proba.shape[1] < min_classes:
        raise ValueError(
            f"proba must have at least {min_classes} classes (columns), got "
            f"{proba.shape[1]}."
        )
    bad, row_sums = rows_not_summing_to_1(proba)
    if bad.size:
        raise ValueError(
            f"proba rows must sum to 1 (within {_PROBA_ATOL}); {bad.size} row(s) "
            f"do not, e.g. row {bad[0]} sums to {row_sums[bad[0]]:.6g}. Pass "
            "probabilities (softmax outputs), not logits."
        )
    return proba


def least_confidence(proba: ArrayLike) -> np.ndarray:
    """Least-confidence score (CONF): one minus the largest class probability.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Predicted class probabilities.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        ``1 - max_c p_c``, in ``[0, 1 - 1/n_classes]`` up to the 1e-3 by
        which a row's probabilities may miss summing to 1.

    Examples
    --------
    >>> from skal_openset import least_confidence
    >>> least_confidence([[0.9, 0.1], [0.5, 0.5]])
    array([0.1, 0.5])
    """
    proba = _check_proba(proba)
    return 1.0 - proba.max(axis=1).astype(np.float64)


def margin_informativeness(proba: ArrayLike) -> np.ndarray:
    """Negative margin between the two most probable classes.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Predicted class probabilities, at least two classes.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        ``-(p_top1 - p_top2)``, in ``[-1, 0]`` up to the 1e-3 by which a
        row's probabilities may miss summing to 1; 0 means a tie between the
        two leading classes (most informative).

    Examples
    --------
    >>> from skal_openset import margin_informativeness
    >>> margin_informativeness([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2]])
    array([-0.5,  0. ])
    """
    proba = _check_proba(proba, min_classes=2)
    # partition is O(k) per row, cheaper than a full sort for many classes.
    top2 = np.partition(proba, -2, axis=1)[:, -2:].astype(np.float64)
    return top2[:, 0] - top2[:, 1]


def entropy_informativeness(proba: ArrayLike) -> np.ndarray:
    """Shannon entropy (natural log) of the predicted class distribution.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Predicted class probabilities.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        Entropy in nats, in ``[0, log(n_classes)]`` up to rounding: a float32
        row that does not sum exactly to 1 can exceed ``log(n_classes)`` by
        about 1e-7.

    Examples
    --------
    >>> from skal_openset import entropy_informativeness
    >>> entropy_informativeness([[1.0, 0.0], [0.5, 0.5]]).round(4)
    array([0.    , 0.6931])
    """
    proba = _check_proba(proba)
    return entropy(proba, axis=1).astype(np.float64)


def gradient_embedding(proba: ArrayLike, embedding: ArrayLike) -> np.ndarray:
    """BADGE hallucinated-gradient embedding of the last linear layer.

    For cross-entropy at the predicted label ``y_hat = argmax p``, the gradient
    of the loss with respect to the last-layer weights is the outer product
    ``(p - onehot(y_hat)) x h`` of the probability residual and the penultimate
    embedding ``h`` (Ash et al., 2020).

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Predicted class probabilities.
    embedding : array-like of shape (n_samples, n_features)
        Penultimate-layer embeddings of the same examples.

    Returns
    -------
    grad_embedding : ndarray of shape (n_samples, n_classes * n_features), float32
        Row ``i`` is the flattened ``(n_classes, n_features)`` outer product
        (class-major). Its Euclidean norm is
        ``||p_i - onehot(y_hat_i)|| * ||h_i||``.

    Raises
    ------
    ValueError
        If the two have different numbers of rows, hold NaN or inf, or
        `embedding` holds values beyond float32's range (about 3.4e38).

    Notes
    -----
    The output takes ``4 * n_samples * n_classes * n_features`` bytes: 20 GB for
    a pool of 1,000,000 examples with 10 classes and 512 features. For large
    pools, call it on chunks or on a candidate subset; :class:`BadgeQuery`
    never forms it (inner products of outer products factorise).

    References
    ----------
    J. T. Ash, C. Zhang, A. Krishnamurthy, J. Langford and A. Agarwal. Deep
    Batch Active Learning by Diverse, Uncertain Gradient Lower Bounds. ICLR 2020.

    Examples
    --------
    >>> from skal_openset import gradient_embedding
    >>> gradient_embedding([[0.75, 0.25]], [[2.0, 0.0]])
    array([[-0.5,  0. ,  0.5,  0. ]], dtype=float32)
    """
    proba = _check_proba(proba)
    embedding = check_finite_array(
        embedding, dtype=(np.float64, np.float32), input_name="embedding"
    )
    if embedding.shape[0] != proba.shape[0]:
        raise ValueError(
            f"proba and embedding must have the same number of rows, got "
            f"{proba.shape[0]} and {embedding.shape[0]}."
        )
    # The output is float32: larger values would come out inf (NaN beside 0).
    if np.abs(embedding).max(initial=0.0) > np.finfo(np.float32).max:
        raise ValueError(
            "embedding holds values beyond float32's range (above "
            f"{np.finfo(np.float32).max:.2g} in absolute value), and the "
            "gradient embedding is float32. Rescale the embedding first (e.g. "
            "embedding / np.abs(embedding).max()): every gradient scales "
            "alike, so distances between them keep their order."
        )
    n_samples, n_classes = proba.shape
    residual = probability_residual(proba)
    with flushing_underflow():  # float64 values below float32's range go to 0
        grad = np.einsum(
            "nk,nd->nkd", residual, embedding.astype(np.float32, copy=False)
        )
    return grad.reshape(n_samples, n_classes * embedding.shape[1])


def probability_residual(proba):
    """``p - onehot(argmax p)`` per row, float32: the gradient of the logits.

    The class factor of :func:`gradient_embedding`, whose rows are the outer
    products of these residuals with the embeddings.
    """
    # A confident model's probabilities below 1e-38 go to 0: a residual of
    # ~1e-38 or 0 is no gradient either way.
    with flushing_underflow():
        residual = proba.astype(np.float32)  # a copy: the caller's array is safe
    residual[np.arange(len(proba)), proba.argmax(axis=1)] -= 1.0
    return residual
