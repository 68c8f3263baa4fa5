"""Purity scores: how likely an unlabelled example is in-distribution (IN).

Every score here is oriented "higher = more likely IN"; an OOD score ``O`` from
the literature is returned as ``-O``.
"""

import numbers

import numpy as np
import torch
from numpy.typing import ArrayLike
from scipy.linalg import cholesky
from scipy.spatial.distance import cdist
from scipy.special import logsumexp
from sklearn import get_config
from sklearn.covariance import LedoitWolf, ShrunkCovariance
from sklearn.preprocessing import normalize
from sklearn.utils import gen_batches

from ._float_events import flushing_underflow
from ._informativeness import _check_proba
from ._models import _check_class_labels
from ._typing import IntLike, RealLike
from ._validation import check_finite_array, check_scalar_not_bool, refuse_sparse
from ._warn import warn_once

# Rows scored per step, at most: bounds the temporary copies (normalised or
# whitened features, neighbour indices) whatever the pool size.
_BATCH_SIZE = 16384
# Bytes of a k-NN batch's temporaries, at most: with many labelled rows, a
# batch's closeness to each of them outgrows the features. Large enough
# that 16,384 rows still fit with 7,000 float32 references of 128 features
# (every benchmark setting): fewer rows per batch could change the last bits
# of the matrix product, and so which reference is nearest in a near tie.
_BATCH_BYTES = 2**29
# Least shrinkage of the Mahalanobis covariance towards a scaled identity:
# its condition number stays below n_features / _MIN_SHRINKAGE, so the
# pseudo-inverse keeps every direction up to tens of thousands of features.
_MIN_SHRINKAGE = 1e-6
# Pool rows over 2**64 times the labelled rows' peak are scored on their
# own power-of-2 scale: on the labelled one, the squared distances of rows
# 1e160 times it overflowed to inf (or inf - inf to NaN). Rows within it,
# those of ordinary pools, keep far within float64 and are scored as they are.
_MAHALANOBIS_ROW_RANGE = 64
# Units in the last place by which a float32 net's rows of one input may
# differ from batch to batch (their last few bits): no within-class variation.
_FLOAT32_JITTER_ULPS = 8

# Embedding widths from which mahalanobis_purity warns: it inverts a
# covariance of as many rows and columns, in time that grows about as their
# cube (benchmarks/results/slow_warnings.md, one thread of a shared 2-core
# machine, 1,000 labelled and 2,000 pool rows: 4.6 CPU s at 2,000 features,
# 25 at 4,000, 38 at 5,000; wall time there was 2-4x that).
_SLOW_COVARIANCE_FEATURES = 4000


class TooFewLabelsError(ValueError):
    """A purity score cannot be computed yet: too few labelled examples.

    More labels fix it, unlike other ValueErrors of these scores; callers that
    track scores round by round (``PurityAUROC``) wait for it to pass.
    """


def _check_embedding(X, name, n_features=None, ensure_min_samples=1):
    """Validate a finite 2-D embedding matrix, optionally of a given width."""
    X = check_finite_array(
        X,
        dtype=(np.float64, np.float32),
        ensure_min_samples=ensure_min_samples,
        input_name=name,
    )
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} features but embedding has {n_features}."
        )
    return X


def _check_reference(X, name, n_features, k):
    """Validate a labelled reference set that must hold at least ``k`` rows."""
    X = _check_embedding(X, name, n_features, ensure_min_samples=0)
    if X.shape[0] == 0:
        raise TooFewLabelsError(
            f"{name} is empty: at least k={k} reference rows are needed."
        )
    if k > X.shape[0]:
        raise TooFewLabelsError(
            f"k={k} is larger than the number of rows in {name} ({X.shape[0]})."
        )
    return X


def _kth_neighbor_distances(embedding, references, k):
    """Distance of each L2-normalised row to its k-th nearest normalised reference.

    Returns one row of distances per reference set, shape
    ``(len(references), n_samples)``. The k nearest references come from
    one matrix product per batch against every set at once, ranked by
    ``2 <x, u> - |u|^2`` (minus the squared distance, up to ``|x|^2``: an
    all-zero row, at distance 1 from every unit vector, is nearest an
    all-zero reference), in the inputs' precision; their distances are then
    recomputed from the differences in float64. So with float32 embeddings,
    references whose distances differ by less than float32 rounding (about
    1e-3 on unit vectors) may be taken in either order, and the k-th
    distance is that of one of them.
    """
    dtype = np.result_type(embedding, *references)
    unit = torch.from_numpy(_unit_rows(np.concatenate(references), dtype))
    unit64 = unit.double()
    sq_norms = (unit * unit).sum(dim=1)  # 1, or 0 for an all-zero row
    starts = np.cumsum([0, *(len(reference) for reference in references)])
    distances = np.empty((len(references), embedding.shape[0]))
    batch_size = _knn_batch_size(len(unit), embedding.shape[1], k, unit.element_size())
    for batch in gen_batches(embedding.shape[0], batch_size):
        rows = torch.from_numpy(_unit_rows(embedding[batch], dtype))
        # In place: the values of 2 * (rows @ unit.T) - sq_norms, in one array.
        closeness = (rows @ unit.T).mul_(2).sub_(sq_norms)
        rows64 = rows.double()[:, None]
        for i, (start, stop) in enumerate(zip(starts[:-1], starts[1:])):
            nearest = closeness[:, start:stop].topk(k, dim=1).indices + start
            difference = unit64[nearest].sub_(rows64)
            # As an array: NumPy 2.0-2.2 (Python 3.10's) warn of a tensor here.
            distances[i, batch] = (
                torch.linalg.vector_norm(difference, dim=2).amax(1).numpy()
            )
        del closeness, difference  # freed before the next batch's are made
    return distances


def _knn_batch_size(n_references, n_features, k, itemsize):
    """Rows per k-NN batch: at most ``_BATCH_SIZE``, and temporaries within
    ``_BATCH_BYTES``.

    A row takes its closeness to every reference (``itemsize`` bytes each),
    the float64 differences to its k nearest, and float64 copies of itself.
    """
    row_bytes = n_references * itemsize + (k + 2) * n_features * 8
    return max(1, min(_BATCH_SIZE, _BATCH_BYTES // row_bytes))


def _unit_rows(X, dtype=None):
    """Rows of `X` scaled to unit length (all-zero rows stay 0), in `dtype`
    (default: `X`'s; a wider type another set needs), cast first: scaled
    near 1 (:func:`_near_one`) in float32, a row's values far below its peak
    went to 0 that float64 keeps."""
    near_one = _near_one(X.astype(X.dtype if dtype is None else dtype, copy=False))
    with flushing_underflow():  # a row's values far below its norm go to 0
        return normalize(near_one, copy=False)  # in place: a copy of X


def _near_one(X):
    """Each row of `X` divided by a power of 2 near its largest value.

    Exact, so the direction of a row and any scale-free score of it are
    those of `X`, bit for bit; but the squares that normalising takes no
    longer overflow (values near 1e20 in float32, 1e154 in float64) or
    underflow.
    """
    peak = np.abs(X).max(axis=1, keepdims=True)
    exponent = np.frexp(peak)[1] - 1  # 2**exponent <= peak: finite in X's type
    with flushing_underflow():  # a row's values far below its peak go to 0
        return X / np.ldexp(np.ones_like(peak), np.where(peak > 0, exponent, 0))


def msp_purity(proba: ArrayLike) -> np.ndarray:
    """Maximum softmax probability (Hendrycks & Gimpel, 2017).

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Predicted class probabilities over the IN classes.

    Returns
    -------
    purity : ndarray of shape (n_samples,)
        ``max_c p_c``, in ``[1/n_classes, 1]`` up to the 1e-3 by which a
        row's probabilities may miss summing to 1.

    Examples
    --------
    >>> from skal_openset import msp_purity
    >>> msp_purity([[0.9, 0.1], [0.5, 0.5]])
    array([0.9, 0.5])
    """
    return _check_proba(proba).max(axis=1).astype(np.float64)


def energy_purity(logits: ArrayLike, temperature: RealLike = 1.0) -> np.ndarray:
    """Negative free energy of the logits (Liu et al., 2020).

    Parameters
    ----------
    logits : array-like of shape (n_samples, n_classes)
        Unnormalised class scores of the IN classes.
    temperature : float, default=1.0
        Softmax temperature ``T > 0``; ``T * logsumexp(logits / T)``
        overflows to inf for ``T`` near float64's largest value.

    Returns
    -------
    purity : ndarray of shape (n_samples,)
        ``T * logsumexp(logits / T)``, i.e. minus the energy.

    Examples
    --------
    >>> from skal_openset import energy_purity
    >>> energy_purity([[0.0, 0.0], [10.0, -10.0]]).round(4)
    array([ 0.6931, 10.    ])
    """
    refuse_sparse(logits, "logits", scores=True)
    logits = check_finite_array(
        logits, dtype=(np.float64, np.float32), input_name="logits"
    )
    check_scalar_not_bool(
        temperature,
        "temperature",
        numbers.Real,
        min_val=0,
        include_boundaries="neither",
    )
    if not np.isfinite(temperature):
        raise ValueError(f"temperature must be finite, got {temperature}.")
    logits = logits.astype(np.float64)
    # Shifted by the row maxima before dividing: logits / T alone overflows
    # for a small T. At T=1 this is logsumexp's own shift, bit for bit.
    peak = logits.max(axis=1, keepdims=True)
    # Shifted logits that overflow to -inf, and exponentials that underflow
    # to 0: terms that vanish in the sum.
    with flushing_underflow():
        with np.errstate(over="ignore"):
            shifted = (logits - peak) / temperature
        return peak[:, 0] + temperature * logsumexp(shifted, axis=1)


def mahalanobis_purity(
    embedding: ArrayLike, embedding_train: ArrayLike, y_train: ArrayLike
) -> np.ndarray:
    """Minus the smallest class-conditional squared Mahalanobis distance.

    Class means come from the labelled IN embeddings; one covariance shared by
    all classes (tied, as in Lee et al., 2018) is estimated from the
    within-class residuals.

    Parameters
    ----------
    embedding : array-like of shape (n_samples, n_features)
        Embeddings to score.
    embedding_train : array-like of shape (n_train, n_features)
        Embeddings of the labelled IN examples only (no OOD rows).
    y_train : array-like of shape (n_train,)
        Their IN class labels, non-negative integers.

    Returns
    -------
    purity : ndarray of shape (n_samples,)
        ``-min_c (x - mu_c)^T Sigma^{-1} (x - mu_c)``, always <= 0 and
        finite: a squared distance beyond the float64 range (a row some
        1e154 standard deviations out) is clipped to the largest float64,
        so farther rows still never score higher.

    Raises
    ------
    ValueError
        With no more labelled examples than classes, or when the rows of
        every class are identical up to rounding (residuals within
        ``(largest class + 1) * eps`` of the largest absolute value, ``eps``
        of float64, in which the class means are taken; plus ``8 * eps`` of
        float32 for a float32 `embedding_train`, whose rows of one input
        may differ in their last bits): a covariance of rounding errors
        would give noise for distances. Also if a value is not finite, the widths
        of the two sets or the numbers of labels and rows differ, or a label
        is not a non-negative integer.

    Notes
    -----
    The covariance is the Ledoit-Wolf shrinkage estimate, not the empirical
    one: early active-learning rounds have a few hundred labelled examples for
    512-dimensional features, where the empirical covariance is singular. A
    pseudo-inverse would then give zero weight to every direction the labelled
    set does not span, so an example that differs from the class means only
    there would get the highest purity, which is exactly how OOD data differs.
    Shrinkage towards a scaled identity keeps the estimate invertible and well
    conditioned, with the shrinkage amount set analytically (no tuning), and
    at least ``1e-6``: Ledoit-Wolf's is 0 when every within-class residual is
    plus or minus one vector (a class of two rows), singular as that is.
    The distance is squared, as in Lee et al.'s confidence score.

    The covariance has as many rows and columns as the embedding has
    features, and inverting it takes time that grows as their cube: from
    4,000 features (a classifier without an embedding of its own, on a wide
    table) a UserWarning says to reduce the embedding first: once per
    strategy (or :class:`PurityAUROC`) and width when one calls it, not at
    every round of a campaign.

    References
    ----------
    K. Lee, K. Lee, H. Lee and J. Shin. A Simple Unified Framework for Detecting
    Out-of-Distribution Samples and Adversarial Attacks. NeurIPS 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_openset import mahalanobis_purity
    >>> rng = np.random.RandomState(0)
    >>> y_train = np.repeat([0, 1], 20)
    >>> embedding_train = rng.normal(size=(40, 2)) + 5 * y_train[:, None]
    >>> embedding = [[0.0, 0.0], [5.0, 5.0], [20.0, -20.0]]
    >>> purity = mahalanobis_purity(embedding, embedding_train, y_train)
    >>> int(purity.argmin()), bool((purity <= 0).all())
    (2, True)
    """
    # Empty: too few labels, as for the other scores (the count check below).
    embedding_train = _check_embedding(
        embedding_train, "embedding_train", ensure_min_samples=0
    )
    embedding = _check_embedding(embedding, "embedding", embedding_train.shape[1])
    # integer-valued floats (as NaN-marked labels come) are class labels too
    y_train = _check_class_labels(
        y_train,
        name="y_train",
        hint="pass only the labelled IN examples (no OOD label).",
    )
    if y_train.shape[0] != embedding_train.shape[0]:
        raise ValueError(
            f"y_train has {y_train.shape[0]} labels but embedding_train has "
            f"{embedding_train.shape[0]} rows."
        )
    classes, y_idx = np.unique(y_train, return_inverse=True)
    if y_train.shape[0] <= classes.size:
        raise TooFewLabelsError(
            f"Need more labelled IN examples ({y_train.shape[0]}) than classes "
            f"({classes.size}) to estimate a covariance."
        )
    # On a power-of-2 scale near 1 (exact; the distance does not change with
    # a common scale): Ledoit-Wolf's fourth powers of features near 1e80
    # overflow, of features near 1e-100 underflow. Kept as an exponent:
    # 2**exponent itself overflows for a peak from 2**1023 up.
    peak = float(np.abs(embedding_train).max())
    exponent = int(np.frexp(peak)[1])  # peak < 2**exponent; 0 for a peak of 0
    X_train = np.ldexp(embedding_train.astype(np.float64), -exponent)
    means = np.zeros((classes.size, X_train.shape[1]))
    np.add.at(means, y_idx, X_train)
    counts = np.bincount(y_idx)
    means /= counts[:, None]
    residuals = X_train - means[y_idx]
    # Rows repeated within each class leave residuals of rounding only, which
    # the precision would blow up by ~1/eps into noise: of the class means,
    # summed in float64 whatever the input, under (largest class + 1) float64
    # eps of the largest value (0 or not, as the class sizes have it); of a
    # float32 embedding, also a few of its own eps (a net's rows of one input
    # differ in their last bits from batch to batch).
    # np.max, not counts.max(): numpy 2.5's stubs refuse the latter on intp.
    relative = (np.max(counts) + 1) * np.finfo(np.float64).eps
    if embedding_train.dtype == np.float32:
        relative += _FLOAT32_JITTER_ULPS * np.finfo(np.float32).eps
    rounding = relative * np.ldexp(peak, -exponent)
    if not np.abs(residuals).max() > rounding:
        raise TooFewLabelsError(
            "The labelled IN embeddings have no within-class variation (every "
            "class's rows are identical, up to rounding); cannot estimate a "
            "covariance. Label distinct examples of a class, or use another "
            "purity score."
        )
    n_features = X_train.shape[1]
    if n_features >= _SLOW_COVARIANCE_FEATURES:
        warn_once(  # once per strategy, not at every query (or fold) of a campaign
            None,
            "_warned_of_wide_covariance",
            n_features,
            f"mahalanobis_purity inverts a covariance of the embedding's "
            f"{n_features} features, in time that grows as the cube of their "
            f"number and {8 * n_features**2 / 2**30:.1f} GiB several times "
            "over: tens of seconds a query from about "
            f"{_SLOW_COVARIANCE_FEATURES:,} features. Give it a smaller "
            "embedding (ActiveLearner(embedding=PCA(100)), or a "
            "pipeline's reduction step) or another purity score, such as "
            "'knn_contrast'.",
        )
    covariance = LedoitWolf(assume_centered=True).fit(residuals)
    if covariance.shrinkage_ < _MIN_SHRINKAGE:
        # Ledoit-Wolf does not shrink when every residual is +- one vector (a
        # class of two rows), however singular the empirical covariance is.
        covariance = ShrunkCovariance(
            shrinkage=_MIN_SHRINKAGE, assume_centered=True
        ).fit(residuals)
    # Precision = L L^T, so the Mahalanobis distance is Euclidean after x -> x L.
    whiten = cholesky(covariance.precision_, lower=True)
    means_w = means @ whiten
    purity = np.empty(embedding.shape[0])
    for batch in gen_batches(embedding.shape[0], _BATCH_SIZE):
        rows = embedding[batch].astype(np.float64)
        # Each row's extra power-of-2 scale, the class means scaled along
        # (exact): 0 within _MAHALANOBIS_ROW_RANGE, and for all-zero rows,
        # whose frexp exponent of 0 is no scale.
        row_peak = np.abs(rows).max(axis=1)
        beyond = np.frexp(row_peak)[1] - exponent - _MAHALANOBIS_ROW_RANGE
        shift = np.where(row_peak > 0, np.maximum(beyond, 0), 0)
        sq_dist = np.empty(rows.shape[0])
        for s in np.unique(shift):
            in_group = shift == s
            with flushing_underflow():  # what underflows is negligible here
                scaled = np.ldexp(rows[in_group], -(exponent + s))
                means_s = np.ldexp(means_w, -s)
            # Differences, not |a|^2 - 2 a.b + |b|^2, which cancels to noise
            # when the rows lie far from the origin next to their spread.
            nearest = cdist(scaled @ whiten, means_s, "sqeuclidean").min(axis=1)
            with np.errstate(over="ignore"):  # beyond float64: clipped below
                sq_dist[in_group] = np.ldexp(nearest, 2 * s)
        purity[batch] = -np.minimum(sq_dist, np.finfo(np.float64).max)
    return purity


def cosine_purity(embedding: ArrayLike, embedding_in: ArrayLike) -> np.ndarray:
    """Largest cosine similarity to a labelled IN example (CSI-lite).

    The score the MQ-Net authors' code uses as its CSI purity, here on the
    target model's embedding instead of a contrastively trained one. While
    no row of either set is all zero, it orders examples as
    :func:`knn_purity` with ``k=1`` does (on unit vectors the distance is
    ``sqrt(2 - 2 cos)``), on another scale. An all-zero row has no
    direction: here its similarity to every row is 0, while
    :func:`knn_purity` leaves it at the origin, at distance 1 from every unit
    vector, the distance of a cosine of 0.5. So an all-zero example scores 0
    here but ranks there with the examples at cosine 0.5 from their nearest
    reference; and an all-zero reference is the nearest there of every
    example whose cosine to each other reference is below 0.5: they all tie
    at distance 1 there, while here they keep their order (and score at
    least 0).

    Parameters
    ----------
    embedding : array-like of shape (n_samples, n_features)
        Embeddings to score.
    embedding_in : array-like of shape (n_in, n_features)
        Embeddings of the labelled IN examples, at least one.

    Returns
    -------
    purity : ndarray of shape (n_samples,)
        ``max_j cos(z, z_j)``, in ``[-1, 1]``; 0 for an all-zero row.

    Raises
    ------
    ValueError
        If `embedding_in` is empty, a value is not finite, or the widths of
        the two sets differ.

    Notes
    -----
    The pool is scored in chunks of rows whose distances to every labelled
    row take at most scikit-learn's ``working_memory`` (1 GiB by default),
    counted as float64: the chunks of scikit-learn's
    ``pairwise_distances_chunked``, whose smallest cosine distance gives the
    same scores, bit for bit. Only the chunk's cosines are held, in the
    inputs' float type (so half the budget in float32), not those distances
    and their clipped copy as well: on 100,000 rows against 10,000 labelled
    rows of 128 float32 features the peak above the inputs was 530 MiB
    (1,480 MiB with those; ``benchmarks/results/neighbours.md``). For large
    sets lower it, e.g. ``with sklearn.config_context(working_memory=128):``;
    the last bits of a few scores may then change.

    References
    ----------
    J. Tack, S. Mo, J. Jeong and J. Shin. CSI: Novelty Detection via
    Contrastive Learning on Distributionally Shifted Instances. NeurIPS 2020.

    Examples
    --------
    >>> from skal_openset import cosine_purity
    >>> cosine_purity([[1.0, 0.0], [0.0, 3.0], [-1.0, 0.0]], [[2.0, 0.0]]).round(4)
    array([ 1.,  0., -1.])
    """
    embedding = _check_embedding(embedding, "embedding")
    embedding_in = _check_reference(embedding_in, "embedding_in", embedding.shape[1], 1)
    # scikit-learn's cosine distances, 1 - cos clipped to [0, 2], in its
    # float type (float32 only if both sets are), with its rows and chunks:
    # a row alone in its chunk is scored by another BLAS routine, so chunks
    # of another size would change the last bits of scores. But one largest
    # cosine a row, not all its distances and their clipped copy: 1 - x and
    # the clip keep the order of the cosines, so the distance of the largest
    # is the smallest distance, bit for bit.
    dtype = np.result_type(embedding, embedding_in)
    purity = np.empty(embedding.shape[0], dtype=dtype)
    # Its chunk: the rows whose float64 distances fit in working_memory MiB,
    # at least one (scikit-learn's count, from its private get_chunk_n_rows).
    row_bytes = 8 * embedding_in.shape[0]
    fitting = int(get_config()["working_memory"] * 2**20 // row_bytes)
    chunk_rows = max(1, min(fitting, embedding.shape[0]))
    with flushing_underflow():  # scikit-learn's normalising, as in _unit_rows
        unit_in = _unit_rows(embedding_in, dtype)
        for rows in gen_batches(embedding.shape[0], chunk_rows):
            # one expression: the chunk's cosines go before the next chunk's
            purity[rows] = (_unit_rows(embedding[rows], dtype) @ unit_in.T).max(1)
        return 1.0 - np.clip(1 - purity, 0.0, 2.0)


def knn_purity(
    embedding: ArrayLike, embedding_in: ArrayLike, k: IntLike = 1
) -> np.ndarray:
    """Minus the distance to the k-th nearest labelled IN example (Sun et al., 2022).

    Both sets are L2-normalised first, so distances lie in ``[0, 2]``.

    Parameters
    ----------
    embedding : array-like of shape (n_samples, n_features)
        Embeddings to score.
    embedding_in : array-like of shape (n_in, n_features)
        Embeddings of the labelled IN examples, ``n_in >= k``.
    k : int, default=1
        Which nearest neighbour to measure.

    Returns
    -------
    purity : ndarray of shape (n_samples,)
        ``-||z - z_(k)||`` for normalised ``z``, in ``[-2, 0]`` up to
        rounding in the inputs' precision (rows are normalised in single
        precision only if both sets are float32, as in
        :func:`cosine_purity`).

    Raises
    ------
    ValueError
        If `embedding_in` has fewer than `k` rows, a value is not finite, or
        the widths of the two sets differ.

    Notes
    -----
    The pool is scored in batches of at most 16,384 rows, fewer where the
    labelled set is large: a batch's temporary arrays, about ``rows x
    (n_in x itemsize + (k + 2) x n_features x 8)`` bytes (its closeness to
    every labelled row, the float64 differences to its k nearest), stay
    within about 512 MiB whatever the sizes of the pool and of the labelled
    set. The call's peak is above that: the labelled rows' unit copies, in
    the inputs' precision and in float64, last the whole call, and the
    libraries' own buffers come on top. With 10,000 labelled rows of 128
    float32 features the peak above the inputs was 573-613 MiB for 100,000
    to 300,000 pool rows (two busy CPU cores, one thread;
    ``benchmarks/results/neighbours.md``, measured through
    :func:`knn_contrast_purity`, whose 5,000 IN and 5,000 OOD rows make
    these batches, as 10,000 IN rows do).

    References
    ----------
    Y. Sun, Y. Ming, X. Zhu and Y. Li. Out-of-Distribution Detection with Deep
    Nearest Neighbors. ICML 2022.

    Examples
    --------
    >>> from skal_openset import knn_purity
    >>> knn_purity([[1.0, 1.0], [0.0, 3.0]], [[2.0, 0.0]]).round(4)
    array([-0.7654, -1.4142])
    """
    return knn_contrast_purity(embedding, embedding_in, None, k=k)


def knn_contrast_purity(
    embedding: ArrayLike,
    embedding_in: ArrayLike,
    embedding_ood: ArrayLike | None = None,
    k: IntLike = 1,
) -> np.ndarray:
    """Return the k-NN distance to labelled OOD minus that to labelled IN.

    Uses the OOD examples already bought by the active learner: an example is
    pure when it is close to a labelled IN example and far from every labelled
    OOD one. Distances are taken on L2-normalised features, as in
    :func:`knn_purity`.

    Parameters
    ----------
    embedding : array-like of shape (n_samples, n_features)
        Embeddings to score.
    embedding_in : array-like of shape (n_in, n_features)
        Embeddings of the labelled IN examples, ``n_in >= k``.
    embedding_ood : array-like of shape (n_ood, n_features) or None, default=None
        Embeddings of the labelled OOD examples. If None or empty, there is
        nothing to contrast with and the result equals :func:`knn_purity`.
        Otherwise ``n_ood >= k`` is required.
    k : int, default=1
        Which nearest neighbour to measure in each set.

    Returns
    -------
    purity : ndarray of shape (n_samples,)
        ``d_k(z, OOD) - d_k(z, IN)``, in ``[-2, 2]`` (``[-2, 0]`` without OOD)
        up to rounding in the inputs' precision (rows are normalised in
        single precision only if every set is float32, as in
        :func:`cosine_purity`).

    Raises
    ------
    ValueError
        If `embedding_in`, or a non-empty `embedding_ood`, has fewer than `k`
        rows, a value is not finite, or the widths of the sets differ (an
        `embedding_ood` of no rows included, unless of width 0).

    Examples
    --------
    >>> from skal_openset import knn_contrast_purity
    >>> knn_contrast_purity([[1.0, 0.1], [0.1, 1.0]], [[1.0, 0.0]], [[0.0, 1.0]]) > 0
    array([ True, False])
    """
    check_scalar_not_bool(k, "k", numbers.Integral, min_val=1)
    embedding = _check_embedding(embedding, "embedding")
    references = [_check_reference(embedding_in, "embedding_in", embedding.shape[1], k)]
    if embedding_ood is not None and np.size(embedding_ood) > 0:
        references.append(
            _check_reference(embedding_ood, "embedding_ood", embedding.shape[1], k)
        )
    elif embedding_ood is not None:
        # no rows, but maybe built from other features than the embedding's
        no_rows = np.asarray(embedding_ood)
        if no_rows.ndim == 2 and no_rows.shape[1]:
            _check_embedding(no_rows, "embedding_ood", embedding.shape[1], 0)
    distances = _kth_neighbor_distances(embedding, references, k)
    # d_k(z, OOD) - d_k(z, IN); without OOD, -d_k(z, IN).
    return distances[1:].sum(axis=0) - distances[0]
