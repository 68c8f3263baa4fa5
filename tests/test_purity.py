import math
import warnings

import numpy as np
import pytest
import sklearn
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist, mahalanobis
from scipy.special import logsumexp
from sklearn.covariance import empirical_covariance, ledoit_wolf, shrunk_covariance
from sklearn.metrics.pairwise import pairwise_distances_chunked
from sklearn.utils import gen_batches

from _float_events import assert_same_under_raising_errstate
from _memory import traced_peak
from skal_openset import _purity
from skal_openset._purity import (
    TooFewLabelsError,
    cosine_purity,
    energy_purity,
    knn_contrast_purity,
    knn_purity,
    mahalanobis_purity,
    msp_purity,
)


def _unit_rows(X):
    return np.array([row / np.linalg.norm(row) for row in X])


def _kth_distance(X, ref, k):
    return np.sort(cdist(_unit_rows(X), _unit_rows(ref)), axis=1)[:, k - 1]


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# --- msp / energy ---------------------------------------------------------


def test_msp_matches_row_max(rng):
    proba = rng.dirichlet(np.ones(4), size=10)
    np.testing.assert_allclose(msp_purity(proba), [max(row) for row in proba.tolist()])
    with pytest.raises(ValueError, match="sum to 1"):
        msp_purity([[0.3, 0.3]])


@pytest.mark.parametrize("temperature", [0.5, 1.0, 3.0])
def test_energy_matches_direct_formula(rng, temperature):
    logits = rng.normal(scale=4.0, size=(10, 3))
    expected = [
        temperature * math.log(sum(math.exp(v / temperature) for v in row))
        for row in logits.tolist()
    ]
    np.testing.assert_allclose(energy_purity(logits, temperature), expected, rtol=1e-12)


def test_energy_is_stable_and_oriented():
    purity = energy_purity([[1000.0, 1000.0], [1.0, 0.0], [0.0, 0.0]])
    assert np.isfinite(purity).all()
    np.testing.assert_allclose(purity[0], 1000 + math.log(2))
    assert purity[1] > purity[2]  # a confident logit vector is more IN


@pytest.mark.parametrize(
    "logits, temperature, expected",
    [
        ([[1e10, -1e10]], 1e-300, 1e10),  # tends to the largest logit as T -> 0
        ([[1.0, 3.0]], 1e-308, 3.0),
        ([[2.0, 2.0]], 1e-300, 2.0),  # + T log 2
        ([[1e300, 0.0]], 1e-10, 1e300),
    ],
)
def test_energy_tiny_temperature_does_not_overflow(logits, temperature, expected):
    # logits / T overflowed to inf before the logsumexp.
    np.testing.assert_array_equal(energy_purity(logits, temperature), [expected])


def test_energy_at_temperature_one_is_plain_logsumexp(rng):
    # What the strategies use: the shifted form changes no bit there.
    logits = rng.normal(scale=10.0, size=(500, 7)) * rng.lognormal(size=(500, 1))
    logits[:50, 1] = logits[:50, 0]  # tied maxima
    expected = logsumexp(logits, axis=1)
    np.testing.assert_array_equal(energy_purity(logits), expected)
    np.testing.assert_array_equal(
        energy_purity(logits.astype(np.float32)),
        logsumexp(logits.astype(np.float32).astype(np.float64), axis=1),
    )


@pytest.mark.parametrize("temperature", [0, -1.0, np.inf])
def test_energy_bad_temperature(temperature):
    with pytest.raises(ValueError, match="temperature"):
        energy_purity([[1.0, 2.0]], temperature=temperature)


def test_energy_bool_temperature_is_refused():
    # bool is an Integral: True was taken for a temperature of 1.
    with pytest.raises(TypeError, match="temperature must be a number, not True"):
        energy_purity([[1.0, 2.0]], temperature=True)


def test_energy_nan_logits():
    with pytest.raises(ValueError, match="NaN"):
        energy_purity([[1.0, np.nan]])


# --- Mahalanobis ----------------------------------------------------------


def test_mahalanobis_matches_loop_with_ledoit_wolf_covariance(rng):
    X_train = rng.normal(size=(30, 4)) + np.repeat(np.eye(4)[:3] * 5, 10, axis=0)
    y_train = np.repeat([0, 1, 2], 10)
    X = rng.normal(scale=3.0, size=(8, 4))
    means = {c: X_train[y_train == c].mean(axis=0) for c in range(3)}
    residuals = np.vstack([X_train[y_train == c] - means[c] for c in range(3)])
    cov, _ = ledoit_wolf(residuals, assume_centered=True)
    VI = np.linalg.inv(cov)
    expected = [-min(mahalanobis(x, means[c], VI) ** 2 for c in range(3)) for x in X]
    purity = mahalanobis_purity(X, X_train, y_train)
    np.testing.assert_allclose(purity, expected, rtol=1e-8)


def test_mahalanobis_orientation(rng):
    X_train = rng.normal(size=(40, 3))
    y_train = np.arange(40) % 2
    mean0 = X_train[y_train == 0].mean(axis=0)
    at_mean, far = mahalanobis_purity([mean0, mean0 + 20], X_train, y_train)
    assert at_mean == pytest.approx(0.0, abs=1e-9)
    assert far < at_mean


def test_mahalanobis_takes_integer_valued_float_labels(rng):
    # They were refused as if they held an OOD label.
    X_train = rng.normal(size=(40, 3))
    y_train = np.arange(40) % 2
    expected = mahalanobis_purity(X_train[:5], X_train, y_train)
    purity = mahalanobis_purity(X_train[:5], X_train, y_train.astype(float))
    np.testing.assert_array_equal(purity, expected)
    with pytest.raises(
        ValueError, match="outside 0..k-1 .e.g. -1.; pass only the labelled IN"
    ):
        mahalanobis_purity(X_train[:5], X_train, y_train - 1)


def test_mahalanobis_few_samples_high_dimension(rng):
    # 6 examples in 50 dimensions: the empirical covariance is singular. A point
    # that leaves the span of the labelled data must still score lower.
    X_train = np.zeros((6, 50))
    X_train[:, :5] = rng.normal(size=(6, 5))
    y_train = np.array([0, 0, 0, 1, 1, 1])
    off_span = X_train[0].copy()
    off_span[40] = 10.0
    purity = mahalanobis_purity([X_train[0], off_span], X_train, y_train)
    assert np.isfinite(purity).all()
    assert purity[1] < purity[0]


@pytest.mark.parametrize(
    "X_train, y_train",
    [
        # one class of two rows: the residuals are +-half their difference
        (np.array([[0.0, 1.0, 2.0], [2.0, 0.0, 1.0]]), [0, 0]),
        (np.array([[1.6, 0.1], [0.2, -0.1]]), [0, 0]),
        # two classes of two rows, each differing along feature 0 only
        (np.array([[0.0, 0, 0], [1, 0, 0], [0, 5, 0], [1, 5, 0]]), [0, 0, 1, 1]),
    ],
)
def test_mahalanobis_residuals_along_one_vector_still_invertible(X_train, y_train):
    # Ledoit-Wolf does not shrink there: its singular estimate raised "no
    # within-class variation", or scored a point off the span as pure.
    direction = X_train[1] - X_train[0]
    off = np.eye(X_train.shape[1])[-1]
    off -= off @ direction / (direction @ direction) * direction
    off_span = X_train[0] + 10 * off / np.linalg.norm(off)
    purity = mahalanobis_purity([X_train[0], off_span], X_train, y_train)
    assert np.isfinite(purity).all()
    assert purity[1] < purity[0] - 1e3


def test_mahalanobis_shrinks_by_the_least_amount_where_ledoit_wolf_does_not():
    # Residuals of +-one vector: Ledoit-Wolf's shrinkage is 0, so the score
    # is that of the covariance shrunk by the least amount, 1e-6, no more.
    X_train = np.array([[0.0, 0, 0], [1, 0, 0], [0, 5, 0], [1, 5, 0]])
    y_train = np.array([0, 0, 1, 1])
    means = [X_train[:2].mean(axis=0), X_train[2:].mean(axis=0)]
    residuals = X_train - np.repeat(means, 2, axis=0)
    assert ledoit_wolf(residuals, assume_centered=True)[1] < 1e-6
    empirical = empirical_covariance(residuals, assume_centered=True)
    VI = np.linalg.inv(shrunk_covariance(empirical, shrinkage=1e-6))
    X = np.array([[0.5, 0.0, 0.0], [0.2, 1.0, 0.3], [3.0, 4.0, -1.0]])
    expected = [-min(mahalanobis(x, mu, VI) ** 2 for mu in means) for x in X]
    purity = mahalanobis_purity(X, X_train, y_train)
    np.testing.assert_allclose(purity, expected, rtol=1e-6)


def test_mahalanobis_batched_equals_unbatched(rng, monkeypatch):
    X_train, y_train = rng.normal(size=(20, 3)), np.arange(20) % 4
    X = rng.normal(size=(25, 3))
    whole = mahalanobis_purity(X, X_train, y_train)
    monkeypatch.setattr(_purity, "_BATCH_SIZE", 7)
    np.testing.assert_allclose(mahalanobis_purity(X, X_train, y_train), whole)


@pytest.mark.parametrize(
    "X_train, y_train, match",
    [
        (np.ones((4, 2)), [0, 1, 0, -1], "outside 0..k-1"),
        (np.ones((4, 2)), [0.0, 1.5, 0.0, 1.0], "non-integer values"),
        (np.ones((4, 2)), [0, 1, 0], "3 labels"),
        (np.eye(2), [0, 1], "more labelled IN examples"),
        (np.ones((4, 2)), [0, 1, 0, 1], "no within-class variation"),
        ([[0.0, np.nan], [1.0, 1.0], [2.0, 0.0]], [0, 0, 1], "NaN"),
        ([[0.0, -np.inf], [1.0, 1.0], [2.0, 0.0]], [0, 0, 1], "infinity"),
    ],
)
def test_mahalanobis_bad_inputs(X_train, y_train, match):
    with pytest.raises(ValueError, match=match):
        mahalanobis_purity(np.ones((2, 2)), X_train, y_train)


def test_mahalanobis_empty_reference_is_too_few_labels(rng):
    # Was scikit-learn's plain ValueError, which PurityAUROC does not wait on,
    # where the other scores raise TooFewLabelsError.
    with pytest.raises(TooFewLabelsError, match="more labelled IN examples"):
        mahalanobis_purity(rng.normal(size=(3, 2)), np.empty((0, 2)), [])


@pytest.mark.parametrize("counts", [(2, 3, 1), (3, 3, 0), (3, 2, 1), (4, 4, 1)])
def test_mahalanobis_identical_rows_of_each_class_are_too_few_labels(counts):
    # Their residuals are the rounding of the class means: 0 for some class
    # sizes, raising, ~1e-17 for others, whose covariance whitened by ~1e17
    # (a labelled row scored -1.8e19, others -1e34).
    prototypes = np.random.RandomState(0).rand(3, 16)
    y_train = np.repeat(np.arange(3), counts)
    with pytest.raises(TooFewLabelsError, match="no within-class variation"):
        mahalanobis_purity(prototypes, prototypes[y_train], y_train)


def test_mahalanobis_float32_rows_apart_by_their_last_bit_are_too_few_labels():
    # A net's float32 rows of one input differ in their last bits from batch
    # to batch: no information, though float64 carries such a difference.
    prototypes = np.random.RandomState(0).rand(2, 16).astype(np.float32)
    y_train = np.array([0, 0, 0, 1, 1, 1])
    X_train = prototypes[y_train]
    X_train[1, 3] = np.nextafter(X_train[1, 3], np.float32(2))
    with pytest.raises(TooFewLabelsError, match="no within-class variation"):
        mahalanobis_purity(prototypes, X_train, y_train)
    purity = mahalanobis_purity(prototypes, X_train.astype(np.float64), y_train)
    assert np.isfinite(purity).all()


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 3000), st.integers(64, 2000), st.integers(0, 2**32 - 1))
@example(n_per_class=2000, spread=512, seed=0)
def test_mahalanobis_float32_spread_beyond_last_bits_scores_as_float64(
    n_per_class, spread, seed
):
    # Rows of a class spread over `spread` float32 ulps of their values (near
    # 1.5, the peak) are variation, not rounding: scored as the same values in
    # float64, whatever the class size. The tolerance was the class size
    # times float32's eps, so 2,000 rows a class 512 ulps apart were refused
    # as "identical up to rounding", while the float64 copy scored.
    rng = np.random.RandomState(seed)
    prototypes = (1 + rng.rand(2, 4)).astype(np.float32)
    y_train = np.repeat([0, 1], n_per_class)
    ulps = rng.randint(-spread, spread + 1, size=(2 * n_per_class, 4))
    # Two rows of each class +-spread apart: a residual of spread ulps at least.
    ulps[[0, n_per_class]], ulps[[1, n_per_class + 1]] = spread, -spread
    # Exact in float32: whole ulps of values in [1, 2), or of 2 and above.
    X_train = (prototypes[y_train] + ulps * np.spacing(prototypes[y_train])).astype(
        np.float32
    )
    np.testing.assert_allclose(
        mahalanobis_purity(prototypes, X_train, y_train),
        mahalanobis_purity(prototypes, X_train.astype(np.float64), y_train),
        rtol=1e-12,
    )


@pytest.mark.parametrize("offset", [1e8, -1e10])
def test_mahalanobis_does_not_depend_on_a_common_offset(rng, offset):
    # |a|^2 - 2 a.b + |b|^2 of whitened rows far from the origin cancelled:
    # every purity came out near 0 at 1e8.
    X_train, y_train = rng.normal(size=(30, 4)), np.arange(30) % 3
    X = rng.normal(size=(5, 4))
    np.testing.assert_allclose(
        mahalanobis_purity(X + offset, X_train + offset, y_train),
        mahalanobis_purity(X, X_train, y_train),
        rtol=1e-4,
    )


@settings(deadline=None, max_examples=30)
@given(st.integers(-300, 300), st.integers(0, 2**32 - 1))
def test_mahalanobis_pool_far_beyond_the_labelled_scale_is_finite_and_ordered(
    labelled_exponent, seed
):
    # Squared distances of rows 1e160 times the labelled scale away overflowed
    # to inf (purity -inf); of rows 1e300 times a labelled scale below 1, to
    # inf - inf (NaN).
    rng = np.random.default_rng(seed)
    X_in, y_in = rng.normal(size=(12, 3)), np.arange(12) % 2
    mean0, direction = X_in[y_in == 0].mean(axis=0), rng.normal(size=3)
    # from a few units out up to 1e300 times the scale, within float64 range
    top = min(300, 305 - max(labelled_exponent, 0))
    far = mean0 + 10.0 ** np.arange(2, top + 1)[:, None] * direction
    near = np.vstack([np.zeros(3), 10.0 ** -np.arange(1, 301, 50)[:, None] * X_in[:1]])
    scale = 10.0**labelled_exponent
    purity = mahalanobis_purity(np.vstack([near, far]) * scale, X_in * scale, y_in)
    assert np.isfinite(purity).all() and (purity <= 0).all()
    assert (np.diff(purity[len(near) :]) <= 0).all()  # farther is never purer
    np.testing.assert_allclose(
        purity, mahalanobis_purity(np.vstack([near, far]), X_in, y_in), rtol=1e-6
    )


@pytest.mark.parametrize("assume_finite", [False, True])  # refused all the same
@pytest.mark.parametrize("bad, match", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_mahalanobis_non_finite_pool_is_refused(rng, bad, match, assume_finite):
    X_train, y_train = rng.normal(size=(10, 2)), np.arange(10) % 2
    with sklearn.config_context(assume_finite=assume_finite):
        with pytest.raises(ValueError, match=f"embedding contains {match}"):
            mahalanobis_purity([[1.0, bad]], X_train, y_train)


def test_mahalanobis_feature_mismatch(rng):
    with pytest.raises(ValueError, match="features"):
        mahalanobis_purity(np.ones((2, 3)), rng.normal(size=(5, 2)), [0, 0, 1, 1, 1])


# --- kNN ------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 3])
def test_knn_matches_cdist(rng, k, monkeypatch):
    X, ref = rng.normal(size=(30, 5)), rng.normal(size=(12, 5))
    monkeypatch.setattr(_purity, "_BATCH_SIZE", 7)  # exercise the batching too
    expected = -_kth_distance(X, ref, k)
    np.testing.assert_allclose(knn_purity(X, ref, k=k), expected, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 3])
def test_contrast_matches_sklearn_nearest_neighbors(rng, dtype, k, monkeypatch):
    # The search by matrix product against the previous implementation, on
    # ReLU-like embeddings with an all-zero row and copies of reference rows.
    from sklearn.neighbors import NearestNeighbors
    from sklearn.preprocessing import normalize

    X = np.maximum(rng.normal(size=(300, 16)), 0).astype(dtype)
    X[0] = 0.0
    ref_in, ref_ood = X[10:40].copy(), X[40:60].copy()
    monkeypatch.setattr(_purity, "_BATCH_SIZE", 64)

    def kth(ref):
        nn = NearestNeighbors(n_neighbors=k).fit(normalize(ref))
        return nn.kneighbors(normalize(X))[0][:, -1]

    purity = knn_contrast_purity(X, ref_in, ref_ood, k=k)
    np.testing.assert_allclose(purity, kth(ref_ood) - kth(ref_in), atol=1e-6)
    assert purity.dtype == np.float64


def test_knn_distances_reach_numpy_as_arrays_not_tensors(rng, monkeypatch):
    # A tensor assigned into an array: NumPy 2.0 to 2.2, which Python 3.10
    # gets, call its __array__ with copy=, which torch's lacks, and warned
    # (DeprecationWarning) at every query, an error under -W error.
    def no_copy_keyword(self, dtype=None):
        raise AssertionError("a torch tensor was converted by NumPy")

    monkeypatch.setattr(torch.Tensor, "__array__", no_copy_keyword)
    X = rng.normal(size=(30, 4))
    purity = knn_contrast_purity(X, X[:10], X[10:20], k=2)
    assert purity.shape == (30,)


@pytest.mark.parametrize("k", [1, 3])
def test_knn_batches_stay_within_the_byte_budget(rng, k, monkeypatch):
    # With many labelled rows a batch's closeness to each of them is what
    # grows: 16,384 rows against 5,000 float64 references made up to three
    # 650 MB arrays.
    X = rng.normal(size=(300, 8))
    ref_in, ref_ood = rng.normal(size=(40, 8)), rng.normal(size=(20, 8))
    whole = knn_contrast_purity(X, ref_in, ref_ood, k=k)
    budget = 60 * 8 * 25  # 25 rows' closeness to the 60 float64 references
    monkeypatch.setattr(_purity, "_BATCH_BYTES", budget, raising=False)
    batches = []

    def recording_gen_batches(n, batch_size):
        for batch in gen_batches(n, batch_size):
            batches.append(batch.stop - batch.start)
            yield batch

    monkeypatch.setattr(_purity, "gen_batches", recording_gen_batches)
    purity = knn_contrast_purity(X, ref_in, ref_ood, k=k)
    assert max(batches) * 60 * 8 <= budget
    assert sum(batches) == len(X) and len(batches) > 1
    np.testing.assert_allclose(purity, whole, rtol=1e-12)


def test_knn_batch_size_keeps_the_benchmarks_batches():
    # Fewer rows per batch could change the last bits of the matrix product,
    # and so a near-tied neighbour and a committed benchmark cell: the largest
    # labelled sets of the benchmarks (4,500 float32 rows of 128 features on
    # CIFAR) keep 16,384-row batches.
    assert _purity._knn_batch_size(7000, 128, 1, 4) == _purity._BATCH_SIZE
    assert _purity._knn_batch_size(10**6, 128, 1, 4) * 4 * 10**6 <= 2**29
    assert _purity._knn_batch_size(10**9, 128, 1, 8) == 1


@settings(deadline=None, max_examples=30)
@given(st.integers(1, 3), st.integers(0, 2**32 - 1))
# Near-ties: a row's k-th and its next nearest are 3e-10 and 2e-8 apart.
@example(k=1, seed=49695)
@example(k=3, seed=72030)
def test_float32_neighbours_are_at_their_float64_distances(k, seed):
    # float32 ranks the neighbours; their distances come from the unit rows'
    # differences in float64, not float32's 1e-7 relative rounding.
    from sklearn.preprocessing import normalize

    rng = np.random.default_rng(seed)
    X, ref = (rng.normal(size=(n, 8)).astype(np.float32) for n in (40, 10))
    unit_X, unit_ref = (normalize(A).astype(np.float64) for A in (X, ref))
    distances = cdist(unit_X, unit_ref)
    found = -knn_purity(X, ref, k=k)
    # The k-th nearest up to float32's ranking: a reference within its
    # rounding of the k-th may be taken instead, at its own distance.
    np.testing.assert_allclose(found, np.sort(distances, axis=1)[:, k - 1], atol=1e-5)
    closest = np.abs(distances - found[:, None]).argmin(axis=1)
    np.testing.assert_allclose(found, distances[np.arange(len(X)), closest], rtol=1e-12)


@settings(deadline=None)
@given(
    st.integers(1, 10**6),
    st.integers(1, 4096),
    st.integers(1, 50),
    st.sampled_from([4, 8]),
)
@example(n_references=1, n_features=1000, k=10, itemsize=8)
def test_knn_batch_size_counts_every_temporary_of_a_row(
    n_references, n_features, k, itemsize
):
    # A row's closeness to each reference, the float64 differences to its k
    # nearest and two float64 copies of itself: as many rows as fit the
    # budget (or one), up to _BATCH_SIZE.
    rows = _purity._knn_batch_size(n_references, n_features, k, itemsize)
    row_bytes = n_references * itemsize + (k + 2) * n_features * 8
    assert rows == 1 or rows * row_bytes <= _purity._BATCH_BYTES
    assert rows == _purity._BATCH_SIZE or (rows + 1) * row_bytes > _purity._BATCH_BYTES


@pytest.mark.parametrize(
    "score",
    [
        cosine_purity,
        knn_purity,
        lambda X, ref: knn_contrast_purity(X, ref[:20], ref[20:].astype(np.float32)),
    ],
    ids=["cosine", "knn", "knn_contrast"],
)
def test_float32_rows_beside_float64_ones_score_as_their_float64_values(rng, score):
    # The k-NN scores normalised a float32 set in float32, then cast it to
    # the other set's float64; cosine_purity casts first. So their last bits
    # differed from those of the same values given as float64.
    X = rng.normal(size=(300, 32))
    ref = rng.normal(size=(60, 32))
    X32, ref32 = X.astype(np.float32), ref.astype(np.float32)
    np.testing.assert_array_equal(score(X32, ref), score(X32.astype(np.float64), ref))
    np.testing.assert_array_equal(score(X, ref32), score(X, ref32.astype(np.float64)))


def test_a_float32_row_of_wide_range_beside_float64_ones_scores_as_its_float64_values():
    # Scaled near 1 in float32, then cast: 1e-30 beside 1e30 went to 0, where
    # float64 keeps it (about 1e-60), so the row was not at distance 0 from
    # its own float64 values.
    X32 = np.float32([[1e30, 1e-30, 0.5e30], [1, 2, 3]])
    X64 = X32.astype(np.float64)
    np.testing.assert_array_equal(knn_purity(X32, X64), knn_purity(X64, X64))


def test_knn_orientation(rng):
    ref = rng.normal(size=(10, 4))
    on_example, far = knn_purity([ref[3], -ref[3]], ref)
    assert on_example == pytest.approx(0.0, abs=1e-6)
    assert far < on_example


@settings(deadline=None, max_examples=30)
@given(st.floats(0.01, 100.0), st.integers(0, 2**32 - 1))
def test_knn_scale_invariant_and_bounded(scale, seed):
    rng = np.random.default_rng(seed)
    X, ref = rng.normal(size=(6, 3)), rng.normal(size=(4, 3))
    purity = knn_purity(X, ref, k=2)
    np.testing.assert_allclose(knn_purity(scale * X, ref, k=2), purity, atol=1e-6)
    assert np.all(purity <= 1e-6) and np.all(purity >= -2 - 1e-6)


@pytest.mark.parametrize("k", [1, 2])
def test_contrast_matches_cdist(rng, k):
    X, ref_in, ref_ood = (rng.normal(size=(n, 4)) for n in (20, 8, 5))
    expected = _kth_distance(X, ref_ood, k) - _kth_distance(X, ref_in, k)
    purity = knn_contrast_purity(X, ref_in, ref_ood, k=k)
    np.testing.assert_allclose(purity, expected, atol=1e-7)


@pytest.mark.parametrize("no_ood", [None, np.empty((0, 4)), np.empty((0, 0)), []])
def test_contrast_without_ood_equals_knn(rng, no_ood):
    X, ref_in = rng.normal(size=(10, 4)), rng.normal(size=(6, 4))
    purity = knn_contrast_purity(X, ref_in, no_ood)
    np.testing.assert_array_equal(purity, knn_purity(X, ref_in))


def test_contrast_orientation():
    ref_in = np.array([[1.0, 0.0], [0.0, 1.0]])
    ref_ood = np.array([[0.0, 1.05]])
    # Both points lie at the same distance from their nearest IN example; the
    # second one sits next to a labelled OOD example.
    X = [[1.0, 0.1], [0.1, 1.0]]
    near_in_only, near_ood = knn_contrast_purity(X, ref_in, ref_ood)
    assert near_ood < near_in_only
    plain = knn_purity(X, ref_in)
    assert plain[0] == pytest.approx(plain[1])


def test_cosine_matches_a_loop_and_orders_like_1nn(rng):
    X, ref = rng.normal(size=(40, 5)), rng.normal(size=(9, 5))
    X[0] = 0.0  # no direction: cosine similarity 0, as scikit-learn defines it
    expected = [
        max(float(x @ r) / (np.linalg.norm(x) * np.linalg.norm(r) or 1.0) for r in ref)
        for x in X
    ]
    with sklearn.config_context(working_memory=1e-4):  # a few rows per chunk
        purity = cosine_purity(X, ref)
    np.testing.assert_allclose(purity, expected, atol=1e-12)
    order = np.argsort(purity[1:])
    np.testing.assert_array_equal(order, np.argsort(knn_purity(X[1:], ref)))


def _cosine_purity_by_distances(embedding, embedding_in):
    """cosine_purity as it was: 1 - the smallest of every cosine distance
    (scikit-learn's, chunked by its working_memory) of rows near 1."""
    nearest = pairwise_distances_chunked(
        _purity._near_one(embedding),
        _purity._near_one(embedding_in),
        metric="cosine",
        reduce_func=lambda distances, start: distances.min(axis=1),
    )
    return 1.0 - np.concatenate(list(nearest))


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 30),
    st.integers(1, 12),
    st.integers(1, 6),
    st.sampled_from([np.float32, np.float64]),
    st.sampled_from([np.float32, np.float64]),
    st.integers(-40, 30),  # float32 values up to 1e34 (the rows up to 1e3)
    st.booleans(),
    st.integers(0, 30),
)
def test_cosine_is_the_smallest_cosine_distance_bit_for_bit(
    seed, n, n_in, d, dtype, dtype_in, exponent, fortran, chunk_rows
):
    # cosine_purity takes each row's largest cosine, not 1 - the smallest of
    # its clipped cosine distances: the same scores, bit for bit, and so the
    # same ties and queries, at every chunk size (1 row: another BLAS
    # routine), with all-zero rows, repeated and opposite rows, and values far
    # from 1, in float32, float64 or both.
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * 10.0 ** rng.integers(-3, 4, size=(n, 1))
    ref = np.maximum(rng.normal(size=(n_in, d)), 0)  # a ReLU's, and zero rows
    X[rng.random(n) < 0.2] = 0.0
    repeats = rng.integers(n_in, size=n)
    X = np.where(
        rng.random((n, 1)) < 0.3, rng.choice([-2.0, 1.0, 3.0]) * ref[repeats], X
    )
    X, ref = (10.0**exponent * X).astype(dtype), ref.astype(dtype_in)
    if fortran:
        X, ref = np.asfortranarray(X), np.asfortranarray(ref)
    # working_memory for `chunk_rows` rows a chunk (0: scikit-learn's default)
    working_memory = chunk_rows * 8 * n_in / 2**20 if chunk_rows else None
    with sklearn.config_context(working_memory=working_memory):
        expected = _cosine_purity_by_distances(X, ref)
        purity = cosine_purity(X, ref)
    np.testing.assert_array_equal(purity, expected, strict=True)


def test_cosine_scores_a_row_a_chunk_where_working_memory_holds_none(rng):
    # A working_memory below one row's distances makes chunks of one row,
    # as scikit-learn's (which warns that it cannot keep to it), not of none.
    X, ref = rng.normal(size=(5, 4)), rng.normal(size=(3, 4))
    with sklearn.config_context(working_memory=1e-9):
        purity = cosine_purity(X, ref)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scikit-learn's "Could not adhere"
            expected = _cosine_purity_by_distances(X, ref)
    np.testing.assert_array_equal(purity, expected, strict=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("chunk_rows", [2000, 500])
def test_cosine_holds_one_matrix_of_cosines_a_chunk(dtype, chunk_rows):
    # The chunk's cosine distances and their clipped copy took twice the
    # matrix of cosines (1 GiB each in float64 at the default working_memory),
    # and scikit-learn normalised the labelled rows again at every chunk.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 16)).astype(dtype)
    ref = rng.normal(size=(500, 16)).astype(dtype)
    with sklearn.config_context(working_memory=chunk_rows * 8 * 500 / 2**20):
        peak, purity = traced_peak(lambda: cosine_purity(X, ref))
        np.testing.assert_array_equal(purity, _cosine_purity_by_distances(X, ref))
    assert peak < 1.3 * chunk_rows * ref.shape[0] * X.itemsize


def test_cosine_bad_inputs(rng):
    X = rng.normal(size=(3, 2))
    with pytest.raises(ValueError, match="empty"):
        cosine_purity(X, np.empty((0, 2)))
    with pytest.raises(ValueError, match="features"):
        cosine_purity(X, np.ones((4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        cosine_purity([[np.nan, 1.0]], X)


@pytest.mark.parametrize("func", [knn_purity, knn_contrast_purity])
def test_knn_bad_inputs(func, rng):
    X, ref = rng.normal(size=(3, 2)), rng.normal(size=(4, 2))
    with pytest.raises(ValueError, match="larger than"):
        func(X, ref, k=5)
    with pytest.raises(ValueError, match="k == 0"):
        func(X, ref, k=0)
    # bool is an Integral: True passed the check and failed in torch's topk.
    with pytest.raises(TypeError, match="k must be a number, not True"):
        func(X, ref, k=True)
    with pytest.raises(ValueError, match="empty"):
        func(X, np.empty((0, 2)))
    with pytest.raises(ValueError, match="features"):
        func(X, np.ones((4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        func([[np.nan, 1.0]], ref)
    with pytest.raises(ValueError, match="2D"):
        func(X, [1.0, 2.0])


def test_contrast_bad_ood(rng):
    X, ref = rng.normal(size=(3, 2)), rng.normal(size=(4, 2))
    with pytest.raises(ValueError, match="rows in embedding_ood"):
        knn_contrast_purity(X, ref, ref[:1], k=2)
    with pytest.raises(ValueError, match="embedding_ood has 3 features"):
        knn_contrast_purity(X, ref, np.ones((2, 3)))
    # no rows, but of other features: it was taken for no OOD set
    with pytest.raises(ValueError, match="embedding_ood has 7 features"):
        knn_contrast_purity(X, ref, np.empty((0, 7)))
    with pytest.raises(ValueError, match="NaN"):
        knn_contrast_purity(X, ref, [[np.nan, 0.0]])


def test_purity_auroc_waits_out_too_few_labels_but_raises_other_errors(split):
    from sklearn.linear_model import LogisticRegression

    from skal_openset import ActiveLearner, PurityAUROC
    from skal_openset._purity import TooFewLabelsError

    initial = split.initial_idx
    learner = ActiveLearner(LogisticRegression(max_iter=300))
    learner.fit(split.X_pool[initial], split.y_pool[initial])

    def not_yet(learner, X):
        raise TooFewLabelsError("too few labels")

    def misconfigured(learner, X):
        raise ValueError("X must hold square images")

    record = {}
    PurityAUROC(split, {"later": not_yet}, random_state=0)(record, learner)
    assert np.isnan(record["purity_auroc_later"])
    with pytest.raises(ValueError, match="square images"):
        PurityAUROC(split, {"broken": misconfigured}, random_state=0)({}, learner)


@pytest.mark.parametrize("dtype", [bool, "Int64"])
def test_purity_auroc_leaves_out_labelled_rows_of_a_dataframe_pool(split, dtype):
    # A bool (or nullable integer) column made the pool sample an object
    # array: its keys never matched the labelled rows', which were scored too,
    # and the classifier, fitted on arrays, was handed the DataFrame.
    import dataclasses
    import warnings
    from unittest.mock import Mock

    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from skal_openset import ActiveLearner, PurityAUROC

    X = pd.DataFrame(split.X_pool, columns=[f"px{i}" for i in range(64)])
    X["flag"] = pd.Series(split.X_pool[:, 20] > 5).astype(dtype)
    framed_split = dataclasses.replace(split, X_pool=X)
    initial = split.initial_idx
    learner = ActiveLearner(LogisticRegression(max_iter=300))
    learner.fit(X.iloc[initial], split.y_pool[initial])
    scored = Mock(side_effect=lambda learner, X: np.zeros(len(X)))
    scores = {"rows": scored, "msp": "msp"}
    callback = PurityAUROC(framed_split, scores, max_samples=len(split.y_pool))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        callback({}, learner)
    (_, X_scored), _ = scored.call_args
    assert len(X_scored) == len(split.y_pool) - len(initial)


@pytest.mark.parametrize(
    "max_samples, error",
    [(0, ValueError), (1, ValueError), (-1, ValueError), (2.5, TypeError)],
)
def test_purity_auroc_names_a_sample_size_it_cannot_use(split, max_samples, error):
    # 0 recorded NaN every round without a word; -1 and 2.5 failed in numpy.
    # 1, the documented ">= 2" less one: one row holds no IN and OOD pair.
    from skal_openset import PurityAUROC

    with pytest.raises(error, match="max_samples"):
        PurityAUROC(split, {"msp": "msp"}, max_samples=max_samples)


def test_purity_auroc_refuses_a_bool_seed(split):
    # True sampled the rows seed 1 samples, where max_samples=True is refused.
    from skal_openset import PurityAUROC

    with pytest.raises(ValueError, match="random_state must be .*not True"):
        PurityAUROC(split, {"msp": "msp"}, random_state=True)


def test_purity_auroc_repr_shows_its_settings(split):
    # It read "<skal_openset._purity_auroc.PurityAUROC object at 0x...>",
    # where every other public object shows its settings; NumPy scalars read
    # as Python's, not np.int64(0) (NumPy 2's repr).
    from skal_openset import PurityAUROC

    callback = PurityAUROC(
        split, {"msp": "msp"}, max_samples=np.int64(50), random_state=np.int64(0)
    )
    assert repr(callback) == (
        f"PurityAUROC(split={split!r}, scores={{'msp': 'msp'}}, max_samples=50, "
        "random_state=0)"
    )


@settings(deadline=None, max_examples=30)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(2, 6))
def test_an_all_zero_row_scores_0_in_cosine_but_ranks_at_cosine_half_in_1nn(
    seed, zero_rows, d
):
    # As cosine_purity's docstring states: a zero row is orthogonal to every
    # reference for the cosine, but knn_purity leaves it at the origin, at
    # distance 1 from every unit reference: the distance of a cosine of 0.5.
    rng = np.random.default_rng(seed)
    X, ref = rng.normal(size=(12, d)), rng.normal(size=(5, d))
    X[:zero_rows] = 0.0
    cos = _unit_rows(X[zero_rows:]) @ _unit_rows(ref).T
    cosine = cosine_purity(X, ref)
    np.testing.assert_array_equal(cosine[:zero_rows], 0.0)
    np.testing.assert_allclose(cosine[zero_rows:], cos.max(axis=1), atol=1e-12)
    knn = knn_purity(X, ref)
    np.testing.assert_allclose(knn[:zero_rows], -1.0, atol=1e-12)
    expected = -np.sqrt(np.maximum(2 - 2 * cos.max(axis=1), 0.0))
    np.testing.assert_allclose(knn[zero_rows:], expected, atol=1e-6)


def test_an_all_zero_reference_is_at_distance_one_from_every_unit_row():
    # The zero reference is the nearest of both rows (distance 1, against
    # 1.41 and 1.34 to the other); the neighbour used to be chosen by
    # cosine similarity, which gave row 1 the other one.
    X, ref = [[1.0, 0.0], [0.0, 1.0]], [[0.0, 0.0], [-1.0, 0.1]]
    np.testing.assert_allclose(knn_purity(X, ref), [-1.0, -1.0])
    np.testing.assert_allclose(cosine_purity(X, ref), [0.0, 0.1 / np.hypot(1, 0.1)])


def test_an_all_zero_row_is_nearest_an_all_zero_reference():
    # A zero pool row (a text with only unknown words) has similarity 0 with
    # every reference, so the search took any of them: distance 1 where a
    # copy of it, at distance 0, was labelled.
    np.testing.assert_allclose(knn_purity([[0.0, 0.0]], [[1.0, 0.0], [0.0, 0.0]]), [0])
    contrast = knn_contrast_purity([[0.0, 0.0]], [[1.0, 0.0]], [[0.0, 1.0], [0.0, 0.0]])
    np.testing.assert_allclose(contrast, [-1.0])  # at OOD (0), 1 from IN


@pytest.mark.parametrize("scale", [1e-200, 1e-100, 1e80, 1e200, 5e307])
def test_scores_do_not_depend_on_a_common_scale(scale):
    # normalize squared values near 1e200 to inf (every row became 0, every
    # purity 0); Ledoit-Wolf's fourth powers overflowed near 1e80 (NaN error);
    # Mahalanobis's power-of-2 scale of a labelled peak from 2**1023 (1.3e308
    # here) was inf, which took every row to 0 ("no within-class variation").
    rng = np.random.RandomState(0)
    X, X_in = rng.normal(size=(6, 3)), rng.normal(size=(12, 3))
    y_in = np.arange(12) % 2
    for score in (knn_purity, cosine_purity):
        np.testing.assert_allclose(score(X * scale, X_in * scale), score(X, X_in))
    np.testing.assert_allclose(
        mahalanobis_purity(X * scale, X_in * scale, y_in),
        mahalanobis_purity(X, X_in, y_in),
        rtol=1e-6,
    )


# --- Under a caller's np.seterr(all="raise") -------------------------------


def _tiny_beside_large(dtype):
    """Rows with a value far below their peak, near the smallest normal
    float of `dtype`."""
    tiny = {np.float32: 1e-37, np.float64: 1e-307}[dtype]
    return np.array([[100, tiny], [3, -tiny]], dtype), np.array(
        [[1, 1], [tiny, 5]], dtype
    )


def _far_beyond_tiny_labelled(dtype):
    """Pool rows near the largest float of `dtype` and an all-zero one, and
    labelled rows near its smallest normal float, with their classes."""
    tiny, huge = {np.float32: (1e-37, 1e37), np.float64: (1e-307, 1e307)}[dtype]
    labelled = np.array([[1, 0], [0, 1], [-1, 0.5], [2, 1]]) * tiny
    pool = np.array([[huge, -huge], [0, 0], [tiny, -tiny]], dtype)
    return pool, labelled.astype(dtype), [0, 0, 1, 1]


@pytest.mark.parametrize(
    "score",
    [
        # Shifted logits / T reach -800: their exponentials go to 0.
        lambda dtype: energy_purity(np.array([[5, -3, 1]], dtype), temperature=0.01),
        # Values far below their row's peak go to 0 on the way to unit rows.
        lambda dtype: knn_purity(*_tiny_beside_large(dtype)),
        lambda dtype: knn_contrast_purity(
            *_tiny_beside_large(dtype), np.array([[1, -1], [2, 0.5]], dtype)
        ),
        lambda dtype: cosine_purity(*_tiny_beside_large(dtype)),
        # The class means, scaled to a row far out, go to 0; its squared
        # distance overflows to inf before the clip.
        lambda dtype: mahalanobis_purity(*_far_beyond_tiny_labelled(dtype)),
    ],
    ids=["energy", "knn", "knn_contrast", "cosine", "mahalanobis"],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scores_under_a_raising_errstate(score, dtype):
    # Each underflows to the 0 it handles; np.seterr(all="raise") made it fail.
    assert_same_under_raising_errstate(lambda: score(dtype))


def test_mahalanobis_warns_of_a_wide_embedding_before_inverting_it(rng):
    # 5,000 input features (a classifier without an embedding of its own)
    # took 103 s a query without a word; 20,000 would take hours.
    y_train = np.repeat([0, 1], 10)
    embedding_train = rng.normal(size=(20, 4000))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # stop before the slow inversion
        with pytest.raises(UserWarning, match=r"4000 features.*PCA\(100\)"):
            mahalanobis_purity(embedding_train[:2], embedding_train, y_train)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a narrow one, as a net's, is quiet
        narrow = embedding_train[:, :50]
        mahalanobis_purity(narrow[:2], narrow, y_train)


def test_purity_auroc_samples_the_rows_its_random_state_draws(split):
    # A rerun with the same seed scores the same rows, so records the same
    # AUROCs; a RandomState instance draws as its seed does.
    from skal_openset import PurityAUROC

    def rows(random_state):
        callback = PurityAUROC(
            split, {"msp": "msp"}, max_samples=50, random_state=random_state
        )
        return callback.rows_

    np.testing.assert_array_equal(rows(0), rows(0))
    np.testing.assert_array_equal(rows(np.random.RandomState(3)), rows(3))
    assert not np.array_equal(rows(0), rows(1))
    assert np.unique(rows(0)).size == 50
