import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from _float_events import assert_same_under_raising_errstate
from skal_openset._informativeness import (
    entropy_informativeness,
    gradient_embedding,
    least_confidence,
    margin_informativeness,
)

SCORES = [least_confidence, margin_informativeness, entropy_informativeness]


def _random_proba(rng, n, k):
    logits = rng.normal(scale=3.0, size=(n, k))
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@st.composite
def probas(draw, min_classes=1):
    n = draw(st.integers(1, 8))
    k = draw(st.integers(min_classes, 6))
    weights = draw(
        arrays(np.float64, (n, k), elements=st.floats(0.0, 1.0, allow_subnormal=False))
    )
    weights[:, 0] += 1e-3  # keep every row normalisable
    return weights / weights.sum(axis=1, keepdims=True)


def test_scores_match_row_by_row_computation():
    proba = _random_proba(np.random.default_rng(0), 20, 5)
    lc, mg, en = [], [], []
    for row in proba.tolist():
        ordered = sorted(row, reverse=True)
        lc.append(1.0 - ordered[0])
        mg.append(ordered[1] - ordered[0])
        en.append(-sum(p * math.log(p) for p in row if p > 0))
    np.testing.assert_allclose(least_confidence(proba), lc, atol=1e-12)
    np.testing.assert_allclose(margin_informativeness(proba), mg, atol=1e-12)
    np.testing.assert_allclose(entropy_informativeness(proba), en, atol=1e-12)


@pytest.mark.parametrize("score", SCORES)
def test_uniform_is_more_informative_than_confident(score):
    proba = [[0.25, 0.25, 0.25, 0.25], [0.97, 0.01, 0.01, 0.01]]
    uniform, confident = score(proba)
    assert uniform > confident


@given(probas())
def test_least_confidence_range(proba):
    scores = least_confidence(proba)
    k = proba.shape[1]
    assert np.all(scores >= -1e-12) and np.all(scores <= 1 - 1 / k + 1e-12)


@given(probas(min_classes=2))
def test_margin_range(proba):
    scores = margin_informativeness(proba)
    assert np.all(scores >= -1 - 1e-12) and np.all(scores <= 0)


@given(probas())
def test_entropy_range(proba):
    scores = entropy_informativeness(proba)
    assert np.all(scores >= -1e-12)
    assert np.all(scores <= math.log(proba.shape[1]) + 1e-9)


def test_gradient_embedding_matches_outer_products():
    rng = np.random.default_rng(1)
    proba = _random_proba(rng, 7, 3)
    emb = rng.normal(size=(7, 4))
    proba_before, emb_before = proba.copy(), emb.copy()
    grad = gradient_embedding(proba, emb)
    assert grad.dtype == np.float32 and grad.shape == (7, 12)
    for i in range(7):
        residual = proba[i].copy()
        residual[np.argmax(proba[i])] -= 1.0
        expected = np.outer(residual, emb[i]).ravel()
        np.testing.assert_allclose(grad[i], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(proba, proba_before)
    np.testing.assert_array_equal(emb, emb_before)


@settings(deadline=None)
@given(probas(), st.data())
def test_gradient_embedding_norm(proba, data):
    emb = data.draw(
        arrays(np.float64, (proba.shape[0], 3), elements=st.floats(-10, 10))
    )
    grad = gradient_embedding(proba, emb)
    residual = proba.copy()
    residual[np.arange(len(proba)), proba.argmax(axis=1)] -= 1.0
    expected = np.linalg.norm(residual, axis=1) * np.linalg.norm(emb, axis=1)
    norms = np.linalg.norm(grad, axis=1)
    np.testing.assert_allclose(norms, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "proba, emb",
    [
        ([[1.0, 1e-40], [0.5, 0.5]], [[1.0, 2.0], [3.0, 4.0]]),  # a confident model
        ([[0.75, 0.25]], [[1.0, 1e-300]]),
    ],
)
def test_gradient_embedding_under_a_raising_errstate(proba, emb):
    # Values below float32's range go to 0 in the cast, as by default; a
    # caller's np.seterr(all="raise") made it fail.
    assert_same_under_raising_errstate(lambda: gradient_embedding(proba, emb))


def test_float32_probabilities_are_accepted():
    proba = _random_proba(np.random.default_rng(2), 50, 100).astype(np.float32)
    assert least_confidence(proba).shape == (50,)


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize(
    "proba, match",
    [
        ([[0.5, np.nan]], "NaN"),
        ([0.5, 0.5], "2D"),
        # scikit-learn's "Negative values in data passed to proba" named no
        # logits, the usual cause.
        (
            [[1.2, -0.2]],
            r"proba holds negative values, so it is not probabilities: pass "
            r"softmax outputs \(e.g. scipy.special.softmax\(logits, axis=1\)\)",
        ),
        ([[0.5, 0.6]], "sum to 1"),
        ([[2.0, 3.0]], "sum to 1"),
    ],
)
def test_bad_proba_raises(score, proba, match):
    with pytest.raises(ValueError, match=match):
        score(proba)


def test_margin_needs_two_classes():
    with pytest.raises(ValueError, match="at least 2 classes"):
        margin_informativeness([[1.0], [1.0]])


def test_gradient_embedding_bad_inputs():
    proba = [[0.5, 0.5], [0.9, 0.1]]
    with pytest.raises(ValueError, match="same number of rows"):
        gradient_embedding(proba, np.ones((3, 4)))
    with pytest.raises(ValueError, match="NaN"):
        gradient_embedding(proba, [[1.0, np.nan], [0.0, 1.0]])
    with pytest.raises(ValueError, match="sum to 1"):
        gradient_embedding([[0.5, 0.1], [0.9, 0.1]], np.ones((2, 4)))


@pytest.mark.parametrize("value", [1e300, -1e39])
def test_gradient_embedding_refuses_values_beyond_float32(value):
    # Its float32 output turned finite float64 input into inf and NaN.
    proba = [[0.75, 0.25], [1.0, 0.0]]
    with pytest.raises(ValueError, match="beyond float32's range.*Rescale"):
        gradient_embedding(proba, [[value, 1.0], [value, 2.0]])
    largest = float(np.finfo(np.float32).max)
    assert np.isfinite(
        gradient_embedding(proba, [[largest, 1.0], [-largest, 2.0]])
    ).all()


@pytest.mark.parametrize("score", SCORES)
def test_a_row_is_refused_once_more_than_a_thousandth_off_1(score):
    # The bound the docstrings and the message state: float32 softmax
    # rounding (about 1e-7 a class) passes, logits or scores do not.
    assert score([[0.5, 0.5009], [0.5, 0.4991]]).shape == (2,)
    for row in ([0.5, 0.502], [0.5, 0.498]):
        with pytest.raises(ValueError, match=r"sum to 1 \(within 0.001\)"):
            score([row])


def test_gradient_embedding_leaves_float32_probabilities_as_they_were():
    # Its residual p - onehot is worked out in a float32 array: a float32
    # proba must be copied, not have 1 taken off its largest values.
    proba = np.array([[0.75, 0.25], [0.125, 0.875]], dtype=np.float32)
    before = proba.copy()
    gradient_embedding(proba, [[2.0, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal(proba, before)
