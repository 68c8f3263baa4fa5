"""What a query strategy reads from a learner, for any scikit-learn classifier.

Binds the array-level scores of :mod:`._purity` and :mod:`._informativeness`
to what a learner holds: its fitted classifier and its labelled set. The
classifier may be a skorch net, any scikit-learn classifier with
``predict_proba``, or a :class:`~sklearn.pipeline.Pipeline` ending in either:

- class probabilities: float64, one column per known class (columns a
  classifier never saw are 0); a net's come from its logits in float64;
- the embedding: the learner's ``embedding`` hook if it has one; else a net's
  penultimate layer (after the pipeline's preprocessing steps); else the
  output of the pipeline's preprocessing steps, or the input itself;
- a net's logits and predicted loss (the learning-loss head);
- the per-example loss: cross-entropy from those probabilities, clipped so that
  it is finite and strictly positive (an IN example never ties with the
  masked loss 0 of an OOD one).

The embedding, logits and predicted loss are those of the classifier a
search's ``best_estimator_`` or a ``CalibratedClassifierCV`` wraps (see
:func:`_looked_through`).

A score is named by a string, or given as a callable ``score(learner, X) ->
(n,)``.

Within :func:`query_scope` (every query strategy's call), each of these
outputs of one classifier on one array is computed once, so that the scores
of a query share one pass over the pool.
"""

import inspect
import math
import weakref
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from numbers import Real

import numpy as np
from scipy import sparse
from scipy.special import softmax
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import StackingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection._search import BaseSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from skorch import NeuralNet

from ._float_events import flushing_underflow
from ._frames import (
    _ToFrame,
    as_frame,
    column_dtypes,
    frame_input,
    has_column_floats_would_change,
    has_feature_names,
)
from ._inference import (
    _module_output,
    check_own_probabilities,
    embed_and_predict_logits,
    predict_logits,
    predicted_loss,
)
from ._informativeness import (
    entropy_informativeness,
    least_confidence,
    margin_informativeness,
    rows_not_summing_to_1,
)
from ._labels import (
    _python,
    is_bool,
    label_kind,
    labels_as_given,
    look_alikes,
    value_kind,
)
from ._models import LearningLossNet
from ._purity import (
    cosine_purity,
    energy_purity,
    knn_contrast_purity,
    knn_purity,
    mahalanobis_purity,
    msp_purity,
)
from ._validation import (
    check_finite_array,
    is_int,
    missing_mask,
    refuse_foreign_frame,
    refuse_sparse,
    shown_names,
)
from ._warn import warn

# Probabilities are clipped to [_EPS, 1 - _EPS]: the loss stays finite for a
# probability of 0 and positive for a probability of 1.
_EPS = 1e-12


# ------------------------------------------------------------ the classifier

# Outputs computed in the current query scope: {(kind, id(classifier),
# id(X)): (classifier, X, output)}. Holding the classifier and the array
# keeps their ids from being reused by other objects while the scope lasts.
_QUERY_OUTPUTS = ContextVar("query_outputs", default=None)


@contextmanager
def query_scope():
    """Compute each output of a classifier on an array once inside the block.

    A query reads the pool several times (purity, informativeness, the
    embedding of a diverse batch); inside the block they share the
    classifier's outputs, and a net's embedding pass keeps its logits, so
    the pool goes through the net once. The outputs are dropped when the
    block ends: they belong to the classifier as fitted at that query, and a
    refit (modAL retrains its classifier in place) must never meet them.
    """
    token = _QUERY_OUTPUTS.set({})
    try:
        yield
    finally:
        _QUERY_OUTPUTS.reset(token)


# The learner whose query strategy is running, if any.
_STRATEGY_OF = ContextVar("strategy_of", default=None)


@contextmanager
def strategy_running(learner):
    """Inside the block, `learner`'s query strategy runs (a query or an
    update): the rows it passes to the learner's methods are those handed
    to it, checked (a DataFrame's feature names too) and made an array, so
    the learner does not check them again (see :func:`strategy_is_running`).
    """
    token = _STRATEGY_OF.set(learner)
    try:
        yield
    finally:
        _STRATEGY_OF.reset(token)


def strategy_is_running(learner):
    """Whether `learner`'s query strategy is running (:func:`strategy_running`)."""
    return _STRATEGY_OF.get() is learner


def _remember(kind, estimator, X, output):
    outputs = _QUERY_OUTPUTS.get()
    if outputs is not None:
        outputs[kind, id(estimator), id(X)] = (estimator, X, output)


def _reused(kind, estimator, X, compute):
    """``compute()``, or its output from earlier in the same query scope."""
    outputs = _QUERY_OUTPUTS.get() or {}
    entry = outputs.get((kind, id(estimator), id(X)))
    if entry is not None:
        return entry[2]
    output = compute()
    _remember(kind, estimator, X, output)
    return output


def fitted_estimator(learner):
    """The learner's current classifier (ours: ``estimator_``; modAL: ``estimator``)."""
    estimator = getattr(learner, "estimator_", None)
    if estimator is None:
        _check_ours_fitted(learner)  # else its unfitted template would answer
        estimator = getattr(learner, "estimator", None)
    if estimator is None:
        raise _not_a_learner(learner, "no single classifier (estimator_ or estimator)")
    return estimator


def _check_ours_fitted(learner):
    """A NotFittedError for our :class:`ActiveLearner` before its first fit,
    whose ``estimator`` and ``X_training`` are not what a modAL learner's are."""
    from ._learner import ActiveLearner  # here: _learner imports this module

    if isinstance(learner, ActiveLearner) and not hasattr(learner, "estimator_"):
        raise NotFittedError(
            "This ActiveLearner is not fitted yet: call "
            "learner.fit(learner.X_training, learner.y_training) (its query does "
            "so) before scoring the pool with it."
        )


def _not_a_learner(learner, lacking):
    """The TypeError for a strategy given something other than one learner."""
    if hasattr(learner, "learner_list"):
        given = "one learner, not a committee"
    elif hasattr(learner, "query"):  # modAL's DeepActiveLearner keeps no rows
        given = "a learner that keeps the rows it was taught"
    else:
        given = "a learner that wraps the classifier, not the classifier itself"
    return TypeError(
        f"{type(learner).__name__} holds {lacking}; query strategies need "
        f"{given}: use skal_openset.ActiveLearner(estimator, strategy) or "
        "modAL's ActiveLearner."
    )


def framed(learner, X):
    """`learner` as the scores should see it when `X` is a DataFrame.

    A modAL learner's classifier was fitted on the DataFrames it was given;
    the scores work on arrays of rows, so they get a view of the learner
    whose classifier takes its rows back as such a DataFrame (as ours does).
    """
    dtypes = column_dtypes(X)
    estimator = getattr(learner, "estimator", None)
    final = None if estimator is None else split_pipeline(estimator)[1]
    if (
        dtypes is None
        or hasattr(learner, "estimator_")  # ours rebuilds the DataFrame itself
        or estimator is None
        # A net takes arrays, unless it was fitted on (and checks) named columns.
        or (isinstance(final, NeuralNet) and not hasattr(final, "feature_names_in_"))
    ):
        return learner
    return _FramedLearner(learner, frame_input(estimator, dtypes), dtypes)


def unframed(learner):
    """The learner itself, whether or not :func:`framed` wrapped it."""
    return learner._learner if isinstance(learner, _FramedLearner) else learner


class _FramedLearner:
    """A modAL learner whose classifier gets its rows back as a DataFrame."""

    def __init__(self, learner, estimator, dtypes):
        self._learner = learner
        self.estimator = estimator
        self.feature_dtypes_ = dtypes

    def __getattr__(self, name):
        return getattr(self._learner, name)


def split_pipeline(estimator):
    """``(preprocessing, final_step)``; preprocessing is None outside a Pipeline."""
    if isinstance(estimator, Pipeline):
        return (estimator[:-1] if len(estimator) > 1 else None), estimator[-1]
    return None, estimator


def check_rows(X, estimator, name, **kwargs):
    """`X` as an array of rows (any dtype) with no inf, and NaN only where
    `estimator` can take it; errors name `name` and the remedy.

    ``kwargs`` go to :func:`~sklearn.utils.check_array`.

    Only what is sure before fitting is refused: a skorch net, and an
    estimator without inner estimators whose scikit-learn ``allow_nan`` tag
    is False (``HistGradientBoostingClassifier``'s is True). A pipeline or
    meta-estimator goes on: its steps raise their own errors, and the
    strategies refuse probabilities that come out NaN (in
    :func:`class_probabilities`). In an object array None and pandas.NA are
    missing values too; for an estimator whose tag is True they become NaN.
    """
    refuse_sparse(X, name, rows=True)
    refuse_foreign_frame(X, name)
    frame = X if has_column_floats_would_change(X) else None
    X = check_finite_array(
        # pandas' to_numpy keeps each column's values (np.asarray rounds
        # integers beyond 2**53 beside floats, and fails on dates).
        X if frame is None else frame.to_numpy(dtype=object),
        allow_nd=True,
        # Else check_array casts a frame with a bool or nullable column to one
        # dtype, float64, which a column of text or string categories is not;
        # as_frame gives the classifier each column's own dtype back.
        dtype=None if frame is None else object,
        ensure_all_finite="allow-nan",
        input_name=name,
        **kwargs,
    )
    # check_array looks for inf in arrays of numbers only: here in the
    # columns of numbers beside text or categories of a DataFrame.
    if X.dtype.kind == "O" and _holds_inf(X, frame):
        raise ValueError(
            f"{name} contains infinity: give finite numbers (NaN for a missing "
            "value, where the classifier takes them)."
        )
    allow_nan = _allow_nan_tag(estimator)
    if allow_nan and X.dtype.kind == "O":
        # float() reads None as NaN but fails on pandas.NA: both NaN, as
        # check_array makes them of a DataFrame. Only for a classifier that
        # makes floats of X itself: a pipeline's steps may tell None from NaN
        # (SimpleImputer(missing_values=None), a OneHotEncoder's categories).
        X = np.where(missing_mask(X), np.nan, X)
    if allow_nan is False and has_nan(X):
        raise ValueError(
            f"{name} contains NaN, which {type(estimator).__name__} cannot take. "
            "Impute missing values in a pipeline, e.g. "
            "make_pipeline(SimpleImputer(), StandardScaler(), classifier), or "
            "use a classifier that takes them (HistGradientBoostingClassifier)."
        )
    return X


def _holds_inf(X, frame=None):
    """Whether object array `X` holds an infinite number; `frame` is the
    DataFrame it was made of, or None."""
    if frame is not None:
        # Its columns of floats as floats (much faster than cell by cell),
        # and cell by cell only those that are not numbers: a category or an
        # object cell may be a float.
        kinds = np.array([dtype.kind for dtype in frame.dtypes])
        floats = frame.iloc[:, kinds == "f"].to_numpy(dtype=float, na_value=np.nan)
        if np.isinf(floats).any():
            return True
        X = X[:, ~np.isin(kinds, list("biuf"))]
    try:
        inf = (X == np.inf) | (X == -np.inf)
    # pandas.NA is neither equal nor unequal to inf; an array in a cell
    # compares to an array.
    except (TypeError, ValueError):
        inf = None
    # numpy < 1.25 gave pandas.NA one False for the whole array.
    if inf is None or np.shape(inf) != X.shape:
        inf = np.frompyfunc(_is_inf, 1, 1)(X)
    return bool(inf.any())


def _is_inf(value):
    return isinstance(value, Real) and math.isinf(value)


def check_fitted_rows(X, rows, name, learner):
    """Refuse rows of another shape than those `learner` was fitted on.

    `rows` is `X` as :func:`check_rows` gives it. 2-D rows get scikit-learn's
    checks and messages: the number of features and a warning for rows
    without the feature names fit had, against our learner (not while its
    strategy runs: the rows its query hands the strategy, an array, are
    checked once) or a modAL learner's classifier. Column names not all
    strings are none, as fit takes them (scikit-learn refuses names that mix
    strings with others). Image rows have no number of features
    (scikit-learn's would count their channels): the shape of a row must be
    that of the labelled rows (ours, or modAL's ``X_training``).
    """
    if hasattr(learner, "X_labelled_"):  # ours
        fitted = None if strategy_is_running(learner) else learner
        expected = learner.X_labelled_.shape[1:]
    else:
        fitted = getattr(learner, "estimator", None)
        trained = getattr(learner, "X_training", None)
        expected = None if trained is None else tuple(np.shape(trained)[1:])
    # n_features_in_ exists only after a fit on 2-D rows.
    if rows.ndim == 2 and hasattr(fitted, "n_features_in_"):
        named = has_feature_names(X)
        validate_data(fitted, X if named else rows, reset=False, skip_check_array=True)
    if expected is not None and rows.shape[1:] != expected:
        raise ValueError(
            f"{name} rows have shape {rows.shape[1:]}, but the learner was "
            f"fitted on rows of shape {expected}: give the same features, in "
            "the same layout, as the labelled examples."
        )


def check_every_row_labelled(y):
    """Refuse a missing label (NaN, inf or None) in the label array `y`."""
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(
            "y contains NaN or inf; every example needs a label: pass only "
            "the rows labelled so far (keep = np.isfinite(y); X[keep], y[keep])."
        )
    if y.dtype.kind == "O" and has_nan(y):
        raise ValueError(
            "y contains None or NaN; every example needs a label: pass only "
            "the rows labelled so far (keep = ~pd.isna(y); X[keep], y[keep])."
        )


def has_nan(X):
    """Whether `X` holds NaN (or, in an object array, None or pandas.NA)."""
    X = np.asarray(X)
    if X.dtype.kind == "f":
        return bool(np.isnan(X).any())
    if X.dtype.kind == "O":
        return bool(missing_mask(X).any())
    return False


def _allow_nan_tag(estimator):
    """Whether `estimator` takes NaN in X: its scikit-learn ``allow_nan`` tag,
    False for a skorch net, None where it is for others to decide (not a
    scikit-learn estimator; a pipeline or meta-estimator, whose steps decide).
    """
    if isinstance(estimator, NeuralNet):
        return False
    if not hasattr(estimator, "get_params"):
        return None
    if any(map(_holds_estimators, estimator.get_params(deep=False).values())):
        return None
    try:
        return bool(get_tags(estimator).input_tags.allow_nan)
    except (AttributeError, TypeError):
        return None


def _holds_estimators(value):
    """Whether a parameter is an estimator, or a list of (named) estimators."""
    if isinstance(value, (list, tuple)):
        return any(
            _holds_estimators(item[1] if isinstance(item, tuple) else item)
            for item in value
        )
    return hasattr(value, "fit")


def _final_input(estimator, X):
    """The classifier :func:`_looked_through` finds in fitted `estimator`, and
    ``X`` passed through the preprocessing before it."""
    preprocessing, final = _looked_through(estimator)
    for steps in preprocessing:
        X = steps.transform(X)
    return final, X


def _looked_through(estimator, into_search=None):
    """``(preprocessing, final)`` of a classifier, through the meta-estimators
    that wrap one classifier, so that its embedding, logits and loss head are
    read behind the preprocessing it was trained behind.

    ``preprocessing`` is the list of fitted transformers (pipelines' steps
    before the last), in order. A fitted search (``GridSearchCV``,
    ``RandomizedSearchCV``) is looked through to ``best_estimator_``, the
    classifier refitted on every row. A fitted ``CalibratedClassifierCV`` is
    looked through to its first calibrated classifier: with ``ensemble=False``
    or a frozen (``FrozenEstimator``) classifier the only one, fitted on every
    row; with ``ensemble=True`` one per fold, of one kind but each fitted on
    its fold's training rows, so the first one's stands for them all (pool and
    labelled rows alike: distances stay comparable). An unfitted search or
    ``CalibratedClassifierCV`` is looked through to its ``estimator``, the
    kind of classifier it will fit (for the checks before training).
    ``into_search(search)``, where given, says whether a search is looked
    through; one that is not is the ``final``.
    """
    preprocessing = []
    while True:
        steps, final = split_pipeline(estimator)
        if steps is not None:
            preprocessing.append(steps)
        if isinstance(final, BaseSearchCV) and into_search and not into_search(final):
            return preprocessing, final
        estimator = _wrapped_classifier(final)
        if estimator is None:
            return preprocessing, final


def _wrapped_classifier(estimator):
    """The classifier that a meta-estimator wraps (fitted once it is), or None."""
    if isinstance(estimator, FrozenEstimator):
        return estimator.estimator
    if isinstance(estimator, (BaseSearchCV, CalibratedClassifierCV)):
        try:
            check_is_fitted(estimator)
        except NotFittedError:
            return estimator.estimator
    if isinstance(estimator, CalibratedClassifierCV):
        calibrated = getattr(estimator, "calibrated_classifiers_", None)
        return calibrated[0].estimator if calibrated else None
    return getattr(estimator, "best_estimator_", None)


def _takes_probability(cls):
    """Whether `cls` has a probability parameter that scikit-learn does not
    deprecate (1.9 deprecates SVC's: its default says so, whatever it is set
    to)."""
    parameter = inspect.signature(cls).parameters.get("probability")
    return parameter is not None and parameter.default != "deprecated"


def check_estimator_supports(estimator, needs, who):
    """Raise a ValueError naming the remedy if `estimator` lacks what `needs` lists.

    Parameters
    ----------
    estimator : classifier
        The learner's classifier, or its (unfitted) template. Logits and a
        loss head are looked for through the meta-estimators
        :func:`_looked_through` sees through (class probabilities are the
        classifier's own).
    needs : set of {"proba", "logits", "loss_head"}
        What the strategy reads from the fitted classifier.
    who : str
        The strategy or score that needs it, for the message.
    """
    preprocessing, final = split_pipeline(estimator)
    if "proba" in needs and not _has_predict_proba(final):
        name = type(final).__name__
        # The pipeline's final step: wrapping the pipeline would hide its
        # preprocessing, refitted per fold, from distance-based strategies.
        wrap = (
            f"wrap it (CalibratedClassifierCV({name}(...)))"
            if preprocessing is None
            else "wrap the pipeline's final step (e.g. make_pipeline("
            f"StandardScaler(), CalibratedClassifierCV({name}(...))))"
        )
        raise ValueError(
            f"{who} needs class probabilities, but {name} has no "
            f"predict_proba; {wrap}, or use a probabilistic classifier"
            + (
                f" ({type(final).__name__}(probability=True))"
                if _takes_probability(type(final))
                else ""
            )
            + "."
        )
    final = _looked_through(estimator)[1]
    if "logits" in needs and not isinstance(final, NeuralNet):
        raise ValueError(
            f"{who} needs a net's logits, but the classifier is "
            f"{type(final).__name__}; use a skorch net (e.g. make_mlp_classifier) "
            "or a probability-based score such as purity='msp' or 'knn'."
        )
    if "logits" in needs and _module_output(final) != "logits":
        raise ValueError(
            f"{who} needs a net's logits, but {type(final).__name__}'s criterion "
            "is no CrossEntropyLoss, so its module's output may not be logits "
            "(under skorch's default NLLLoss it is probabilities). Train on "
            "logits with criterion=torch.nn.CrossEntropyLoss, or use a "
            "probability-based score such as purity='msp' or 'knn'."
        )
    if "loss_head" in needs and not isinstance(final, LearningLossNet):
        raise ValueError(
            f"{who} needs a net with a loss-prediction head, but the classifier is "
            f"{type(final).__name__}; build it with make_mlp_classifier(..., "
            "learning_loss=True) (or make_cnn/make_resnet18_classifier), or use "
            "another informativeness score such as 'least_confidence'."
        )


def _has_predict_proba(estimator):
    if hasattr(estimator, "predict_proba"):
        return True
    # An unfitted stack has no predict_proba yet: it comes with its final
    # estimator (a LogisticRegression when None) at fit.
    if isinstance(estimator, StackingClassifier) and not hasattr(
        estimator, "final_estimator_"
    ):
        final = estimator.final_estimator
        return final is None or hasattr(final, "predict_proba")
    return False


def n_classes(learner):
    """Number of known classes: the learner's (modAL: its classifier's)."""
    classes = getattr(learner, "classes_", None)
    return len(classes if classes is not None else fitted_estimator(learner).classes_)


def class_probabilities(learner, X, *, check_sums=True):
    """Class probabilities of the learner's classifier, float64, one column per class.

    Columns follow the learner's ``classes_`` (our learner trains its
    classifier on their positions ``0..k-1``); a modAL learner's follow its
    classifier's ``classes_``. With `check_sums`, for the strategies and
    scores that take the rows as distributions, rows not summing to 1 (NaN
    or inf too) are refused; ``learner.predict_proba`` passes them on as
    scikit-learn's classifier gives them (e.g. all-zero rows of a
    one-vs-rest ``modified_huber`` SGDClassifier, NaN ones before
    scikit-learn 1.7). A net's NaN or inf are refused either way: it
    diverged.
    """
    estimator = fitted_estimator(learner)
    final = split_pipeline(estimator)[1]
    output = _module_output(final) if isinstance(final, NeuralNet) else None
    if output in ("logits", "probabilities"):
        proba = _net_logits(estimator, X).astype(np.float64)
        if output == "logits":
            with flushing_underflow():  # far-behind classes get probability 0
                proba = softmax(proba, axis=1)
    else:  # a net under another criterion too: its predict_nonlinearity says
        proba = _reused("proba", estimator, X, lambda: estimator.predict_proba(X))
        if output == "unknown":  # in its own dtype: float16 rounds more
            proba = check_own_probabilities(final, proba)
        proba = np.asarray(proba)
    own_dtype = proba.dtype  # float32 rounds more
    proba = proba.astype(np.float64, copy=False)
    # A net's NaN means it diverged, whoever asks; another classifier's go
    # to learner.predict_proba as it gives them.
    refuse_non_finite = check_sums or isinstance(final, NeuralNet)
    if refuse_non_finite and not np.isfinite(proba).all():
        raise ValueError(_non_finite_message(X, final))
    if check_sums:  # a net's outputs too: one under NLLLoss gives them as they are
        _check_sums(proba, own_dtype, X, final)
    if getattr(learner, "classes_", None) is None:  # modAL: its classifier's
        return proba
    return class_columns(proba, estimator, n_classes(learner), 0.0)


def _non_finite_message(X, final, output="probabilities"):
    """Why classifier `final` gives NaN or inf `output` (its probabilities, or
    a net's logits) for rows `X`, and the remedy."""
    if has_nan(X):
        return (
            f"The classifier's {output} hold NaN or inf for rows of X with "
            "missing values (NaN): a step that cannot take them got them. Impute "
            "them first, e.g. make_pipeline(SimpleImputer(), classifier)."
        )
    if isinstance(final, NeuralNet):
        return (
            f"The classifier's {output} hold NaN or inf for finite rows of X: "
            "a net that diverged (retrain it, e.g. with a lower learning rate)?"
        )
    return (
        f"The predict_proba of the classifier ({type(final).__name__}) gives NaN "
        "or inf for finite rows of X (as a one-vs-rest modified_huber "
        "SGDClassifier does before scikit-learn 1.7, dividing 0 by 0), and the "
        "query strategy scores distributions. Calibrate it "
        "(sklearn.calibration.CalibratedClassifierCV) or use another classifier."
    )


def _check_sums(proba, own_dtype, X, final):
    """Refuse rows of classifier `final`'s `proba` (for rows `X`; `own_dtype`
    the dtype it gave them in) that do not sum to 1, saying why: rounding in
    float32, or no distribution at all.

    Checked here, where the source is known: the scores' own check can only
    tell their caller to pass probabilities.
    """
    bad, row_sums = rows_not_summing_to_1(proba)
    if not bad.size:
        return
    where = (
        f"The predict_proba of the classifier ({type(final).__name__}) gives "
        f"rows that do not sum to 1: {bad.size} of {len(proba)}, e.g. row "
        f"{bad[0]} sums to {row_sums[bad[0]]:.6g}"
    )
    rounded = any(
        dtype.kind == "f" and dtype.itemsize < 8
        for dtype in (own_dtype, np.dtype(getattr(X, "dtype", np.float64)))
    )
    if rounded and np.all(row_sums[bad] > 0):  # all-zero rows: none
        raise ValueError(
            f"{where}: float32 arithmetic rounds rows (to e.g. [1, 1, 0, 0]). "
            "Train and query it on float64 rows (X.astype(np.float64))."
        )
    raise ValueError(
        f"{where}: it gives no probability distribution for these rows (as a "
        "one-vs-rest modified_huber SGDClassifier, or a RadiusNeighborsClassifier "
        "for outlier rows, do), and the query strategy scores distributions. "
        "Calibrate it (sklearn.calibration.CalibratedClassifierCV) or use "
        "another classifier."
    )


def class_columns(values, estimator, k, fill):
    """`values` with one column per known class ``0..k-1``, in that order;
    `fill` in those of the classes `estimator` was not trained on.

    The columns of `values` follow the classifier's ``classes_`` (class
    positions, fewer before it has seen every class), which need not be
    sorted: a classifier of one's own may keep them in first-seen order. A
    net's columns are its module's outputs, one per position whatever it was
    trained on (skorch predicts their argmax). A classifier without
    ``classes_`` (no scikit-learn classifier, but it predicts) is taken to
    give the positions in order.
    """
    seen = np.asarray(getattr(estimator, "classes_", np.arange(values.shape[1])))
    # a net's classes_ echo its `classes` parameter, labels or positions alike
    is_net = isinstance(split_pipeline(estimator)[1], NeuralNet)
    in_order = is_net or len(seen) < k or np.array_equal(seen, np.arange(k))
    if values.shape[1] == k and in_order:
        return values
    if values.shape[1] != len(seen):  # not one per class: SVC's one-vs-one
        return values
    full = np.full((len(values), k), fill, dtype=np.float64)
    full[:, seen.astype(np.intp)] = values
    return full


def class_logits(learner, X):
    """Logits of the learner's net, found as by :func:`_final_input`; a
    ValueError names a net that diverged if they are not finite."""
    estimator = fitted_estimator(learner)
    check_estimator_supports(estimator, {"logits"}, "This score")
    logits = _net_logits(estimator, X)
    # As in class_probabilities: a net's NaN or inf means it diverged.
    if not np.isfinite(logits).all():
        raise ValueError(
            _non_finite_message(X, _looked_through(estimator)[1], "logits")
        )
    return logits


def _net_logits(estimator, X):
    """The module output of the net :func:`_final_input` finds: logits, or
    probabilities under an NLLLoss (reused within a query scope)."""

    def compute():
        final, X_final = _final_input(estimator, X)
        return predict_logits(final, X_final)

    return _reused("logits", estimator, X, compute)


def loss_prediction(learner, X):
    """Loss predicted by the learner's learning-loss net, found as by
    :func:`_final_input`."""
    estimator = fitted_estimator(learner)
    check_estimator_supports(estimator, {"loss_head"}, "Learning loss")
    final, X_final = _final_input(estimator, X)
    return predicted_loss(final, X_final)


def model_embedding(learner, X):
    """The representation distance-based strategies work in, 2-D float.

    The learner's ``embedding`` hook when set (a transformer fitted at the
    learner's ``fit``, ``embedding_``, or a callable ``embedding(estimator,
    X)``); otherwise a net's penultimate layer, or the output of the
    pipeline's preprocessing steps, or the input itself (flattened), in the
    classifier a fitted search or ``CalibratedClassifierCV`` wraps (see
    :func:`_looked_through`). Another meta-estimator is not looked into:
    wrapping a pipeline, it is warned of.
    """
    estimator = fitted_estimator(learner)
    return _reused("embedding", estimator, X, lambda: _embedding(learner, estimator, X))


def _embedding(learner, estimator, X):
    hook = embedding_hook(learner)
    if hook is not None:
        if not hasattr(hook, "transform"):
            values = hook(estimator, X)
        else:
            dtypes = getattr(learner, "feature_dtypes_", None)
            values = hook.transform(X if dtypes is None else as_frame(X, dtypes))
        values = _densified(values, learner, estimator)
    else:
        final, X_final = _final_input(estimator, X)
        if isinstance(final, NeuralNet):
            values, logits = embed_and_predict_logits(final, X_final)
            if logits is not None:  # those _net_logits gives
                _remember("logits", estimator, X, logits)
        else:
            _warn_of_unseen_preprocessing(final, learner)
            values = _densified(X_final, learner, estimator)
            values = np.asarray(values)
            values = values.reshape(len(values), -1)
    if np.ndim(values) != 2:
        source, _ = _embedding_source(learner, estimator)
        raise ValueError(
            f"Distance-based strategies work in an embedding of X, here {source}, "
            "which must give one row per example, of shape (n_samples, "
            f"n_dimensions); it gave shape {np.shape(values)}. Return a 2-D "
            "array (e.g. values.reshape(-1, 1) for one value per example)."
        )
    try:
        # inf and NaN are no type error (they were "not numeric"): below.
        values = check_array(
            values,
            dtype=(np.float64, np.float32),
            ensure_all_finite=False,
            input_name="embedding",
        )
    # A TypeError from a nullable column's pandas.NA beside text (an object array).
    except (TypeError, ValueError) as exc:
        source, _ = _embedding_source(learner, estimator)
        raise ValueError(
            f"Distance-based strategies work in an embedding of X, here {source}, "
            f"which is not numeric ({exc}). Make numbers of these columns in a "
            "pipeline step before the classifier, whose output they then work "
            "in: make_pipeline(make_column_transformer((OneHotEncoder(), "
            "categorical_columns), remainder='passthrough'), classifier), which "
            "run_active_learning takes as its estimator too; or keep the "
            "classifier's input and pass such a transformer as "
            f"{_embedding_setting(learner)}; or use a strategy that needs no "
            "distances (UncertaintyQuery)."
        ) from exc
    if not np.isfinite(values).all():
        source, cause = _embedding_source(learner, estimator)
        nan = np.isnan(values).any()
        if nan and has_nan(X):
            imputed = _embedding_setting(learner, "make_pipeline(SimpleImputer(), ...)")
            raise ValueError(
                "Rows to compare by distance (the pool being queried or scored, "
                "or the labelled rows) hold missing values (NaN), and so does "
                "the embedding that distance-based strategies work in "
                f"({source}); distances need finite rows. Impute them in a "
                "pipeline step before the classifier (make_pipeline("
                f"SimpleImputer(), classifier)), or pass {imputed}."
            )
        what = "NaN" if nan else "inf (an overflow)"
        raise ValueError(
            f"The embedding ({source}) holds {what} for finite rows of X: {cause}."
        )
    if len(values) != len(X):
        source, _ = _embedding_source(learner, estimator)
        raise ValueError(
            f"Distance-based strategies work in an embedding of X, here {source}, "
            f"which must give one row per example; it gave {len(values)} rows for "
            f"{len(X)} examples. Return a row for each row of X, in their order."
        )
    return values


def embedding_hook(learner):
    """The embedding a learner works with: our fitted learner's ``embedding_``
    (a fitted transformer, a callable or None), else an ``embedding`` callable
    set on a modAL learner, else None."""
    if hasattr(learner, "embedding_"):
        return learner.embedding_
    return getattr(learner, "embedding", None)


def ood_label_of(learner):
    """The OOD label a learner works with: our fitted learner's ``ood_label_``,
    else the ``ood_label`` teach_open_set set on a modAL learner, else -1."""
    if hasattr(learner, "ood_label_"):
        return learner.ood_label_
    return getattr(learner, "ood_label", -1)


class _NotedByIdentity:
    """Objects noted, each with a value, held weakly and found by identity.

    Not a ``WeakSet`` or ``WeakKeyDictionary``: they find an object by its
    own ``__eq__``, which a user's (a classifier, a learner) may answer with
    an array, whose truth is ambiguous, or with True for another object.
    """

    def __init__(self) -> None:
        self._noted: dict[int, tuple[weakref.ref, object]] = {}

    def get(self, obj: object, default: object = None) -> object:
        """The value noted for `obj`, else `default`."""
        ref, value = self._noted.get(id(obj), (None, None))
        return value if ref is not None and ref() is obj else default

    def note(self, obj: object, value: object = True) -> None:
        """Note `obj` with `value`; a TypeError if it is not weakly
        referenceable. Its note goes when it does, before its id is reused."""
        key = id(obj)
        ref = weakref.ref(obj, lambda _: self._noted.pop(key, None))
        self._noted[key] = (ref, value)


# The fitted classifiers warned of by _warn_of_unseen_preprocessing.
_WARNED_OF_UNSEEN_PREPROCESSING = _NotedByIdentity()


# A densified sparse embedding past this many bytes warns: the distances taken
# in it cost several times its size again.
DENSE_EMBEDDING_WARN_BYTES = 2**27

# The embedding each learner was warned of by _densified.
_WARNED_OF_DENSE_EMBEDDING = _NotedByIdentity()


def _densified(values, learner, estimator):
    """`values`, dense: distances need dense rows, and a one-hot or text
    step's output (a hook's included) is sparse. Warn when the dense array is
    large, once per learner and embedding."""
    if not sparse.issparse(values):
        return values
    itemsize = 4 if values.dtype == np.float32 else 8  # as check_array makes it
    nbytes = values.shape[0] * values.shape[1] * itemsize
    if nbytes > DENSE_EMBEDDING_WARN_BYTES and _first_dense_warning(learner):
        source, _ = _embedding_source(learner, estimator)
        given = warn(
            f"Distance-based strategies work in {source}, a sparse "
            f"{values.shape[0]} x {values.shape[1]} matrix that takes "
            f"{nbytes / 2**20:,.0f} MiB dense, and several times that in "
            f"distances. Reduce it in {_embedding_setting(learner)}, e.g. "
            "make_pipeline(<the steps that make it>, "
            "TruncatedSVD(n_components=100)) "
            "(for texts: make_pipeline(make_column_transformer((TfidfVectorizer(), "
            "0)), TruncatedSVD(n_components=100))), or use a strategy that needs "
            "no distances (UncertaintyQuery)."
        )
        if given:
            _record_dense_warning(learner)
    return values.toarray()


def _first_dense_warning(learner):
    """Whether the learner's embedding is yet to be warned of as large.

    A strategy embeds the pool and the labelled set at every query, in a
    matrix whose shape changes each round, so neither the default filter nor
    its once-per-line registry (reset by any ``catch_warnings`` block) would
    keep it from warning twice a round.
    """
    learner, embedding = _dense_warning_key(learner)
    unnoted = object()  # not None: the embedding may be None
    return _WARNED_OF_DENSE_EMBEDDING.get(learner, unnoted) is not embedding


def _record_dense_warning(learner):
    learner, embedding = _dense_warning_key(learner)
    with suppress(TypeError):  # not weakly referenceable: warned every time
        _WARNED_OF_DENSE_EMBEDDING.note(learner, embedding)


def _embedding_setting(learner, value="..."):
    """How the user of `learner` gives it the embedding `value`: our
    learner's parameter, else the attribute a modAL learner is read for,
    which fits no transformer."""
    if hasattr(unframed(learner), "embedding_"):
        return f"ActiveLearner(embedding={value})"
    fitted = "a fitted transformer" if value == "..." else f"{value} fitted"
    return (
        f"learner.embedding (on a modAL learner: {fitted}, or a callable "
        "embedding(estimator, X))"
    )


def _dense_warning_key(learner):
    """The learner and the embedding the dense warning is given once for.

    The embedding is the hook, else the classifier whose preprocessing or
    input it is (the parameter: the fitted one is retrained at every
    ``teach``). A modAL learner given DataFrames comes wrapped by
    :func:`framed`, in a new wrapper around a new pipeline each query: the
    learner itself and its own classifier are the key.
    """
    learner = unframed(learner)
    hook = embedding_hook(learner)
    return learner, getattr(learner, "estimator", None) if hook is None else hook


def _warn_of_unseen_preprocessing(final, learner):
    """Warn, once per fitted classifier, that distances are taken in the
    input itself though `final` wraps a pipeline with preprocessing steps
    (a meta-estimator :func:`_looked_through` cannot see through)."""
    wrapped = getattr(final, "get_params", dict)(deep=True).values()
    if not any(isinstance(value, Pipeline) and len(value) > 1 for value in wrapped):
        return
    if _WARNED_OF_UNSEEN_PREPROCESSING.get(final, False):
        return
    name = type(final).__name__
    given = warn(
        f"{name} wraps a pipeline whose preprocessing distance-based strategies "
        "cannot see, so they work in the input itself: pass the preprocessing "
        f"as {_embedding_setting(learner, 'StandardScaler()')}, or "
        f"make {name} the pipeline's final step (make_pipeline(StandardScaler(), "
        f"{name}(classifier)))."
    )
    if given:
        with suppress(TypeError):  # not weakly referenceable: warned every time
            _WARNED_OF_UNSEEN_PREPROCESSING.note(final)


def _embedding_source(learner, estimator):
    """What the embedding is, and what makes NaN or inf of finite rows there."""
    if embedding_hook(learner) is not None:
        return "the learner's embedding hook", "the hook makes them"
    preprocessing, final = _looked_through(estimator)
    if isinstance(final, NeuralNet):
        return (
            "the net's penultimate layer",
            "the net has diverged; retrain it, e.g. with a lower learning rate",
        )
    if not all(map(_only_to_frame, preprocessing)):
        return (
            "the output of the pipeline's preprocessing steps",
            "a step makes them (e.g. a log of a negative value)",
        )
    # No cause: the input itself is finite wherever X is.
    return f"the input itself, as {type(final).__name__} has no embedding", None


def _only_to_frame(preprocessing):
    """Whether the steps only give the learner's DataFrame back (the input itself)."""
    return all(isinstance(step, _ToFrame) for _, step in preprocessing.steps)


# ------------------------------------------------------------- labels


def _check_dtype_holds(y, ood_label):
    """Refuse a numeric `ood_label` that integer labels `y` never equal: not a
    whole number, or outside their type's range (uint8 labels, where -1 is
    stored as 255, never equal -1)."""
    if value_kind(ood_label) != "numbers":
        return
    if y.dtype.kind in "iu":
        low, high = np.iinfo(y.dtype).min, np.iinfo(y.dtype).max
        kind = f"{y.dtype} integers"
    elif y.dtype == object and all(map(is_int, y.tolist())):
        low, high, kind = -math.inf, math.inf, "integers"
    else:
        return
    try:
        whole = int(ood_label)
    except (TypeError, ValueError, OverflowError):  # NaN, inf, complex
        whole = None
    if whole is None or whole != ood_label:
        remedy = "a whole number"
    elif not low <= whole <= high:
        remedy = f"a whole number from {low} to {high}"
        if is_int(whole, *_INT64_RANGE):
            remedy += ", or labels of a type that holds it (y.astype(np.int64), say)"
    else:
        return
    raise ValueError(
        f"The labels are {kind}, which never equal "
        f"ood_label={_python(ood_label)!r}, so no example could ever be OOD: "
        f"pass the label your annotator gives to OOD examples, {remedy}."
    )


_INT64_RANGE = np.iinfo(np.int64).min, np.iinfo(np.int64).max


def check_label_kind(y, ood_label, classes=None, declare=None):
    """Raise if `ood_label` and the labels are not of one kind (strings, bytes
    or numbers) and `ood_label` is not among the labels.

    Such an OOD label can never match, so every OOD example would silently
    become a class of its own. So would one that a label spells otherwise
    (``' unknown'`` or ``'Unknown'`` for ``'unknown'``, or in another Unicode
    form: ``'étranger'`` with its ``e`` and accent apart), or one that integer
    labels cannot hold (-1 in uint8, 1.5): refused too.

    Labels among `classes`, the in-distribution classes where the caller
    knows them, are no OOD examples: labels that are all among them are a
    batch without OOD rows, which needs no OOD label of their kind (integer
    classes with ``ood_label="unknown"``). `declare`, where the caller takes
    such classes but was given none, names that parameter in the error.
    """
    _check_no_bool_number_confusion(y, ood_label)
    # An object array may mix kinds (IN classes 0, 1 and OOD 'unknown'): an
    # OOD label found among the labels matches, whatever the first ones are.
    if not len(y) or ood_label in y.tolist():
        return
    # Named as the user writes it: numpy 2 prints np.str_('unknown').
    ood_label = _python(ood_label)
    if isinstance(ood_label, str):
        alike = look_alikes(y.tolist(), ood_label)
        # No ood_label ends in a NUL (check_one_ood_label): those are cleaned.
        passable = [v for v in alike if not v.endswith("\x00")]
        if alike:
            raise ValueError(
                f"ood_label={ood_label!r} labels no example, but {alike} differ "
                "from it only in spaces, case, trailing NULs or Unicode form (an "
                "accent typed apart), so their examples would be a class: "
                + (
                    f"pass ood_label={passable[0]!r}, or clean the labels (e.g. "
                    "df[col].str.strip(), or read the CSV with "
                    "skipinitialspace=True)."
                    if passable
                    else "clean the labels, e.g. [label.rstrip('\\x00') for "
                    "label in y]."
                )
            )
    if classes is not None:
        # A list: classes not yet checked may be unhashable, which fit refuses.
        known = np.ravel(np.asarray(classes, dtype=object)).tolist()
        others = {v for v in dict.fromkeys(y.tolist()) if v not in known}
        if not others:
            return
        y = y[np.array([v in others for v in y.tolist()], dtype=bool)]
    _check_dtype_holds(y, ood_label)
    # Labels of mixed kinds (2 and 'a') may hold one of the OOD label's kind,
    # as a class; where they are classes, fit refuses them for having no order.
    kinds = {label_kind(y)} if y.dtype != object else set(map(value_kind, y.tolist()))
    ood_kind = value_kind(ood_label)
    if ood_kind not in kinds:
        kind = " and ".join(sorted(kinds))
        example = {
            "strings": "'unknown'",
            "bytes": "b'unknown' (or decode the labels to strings)",
            "numbers": "-1",
        }[min(kinds)]
        # Labels 0..n-1 where strings were given: scikit-learn encoded them.
        encoded = kinds == {"numbers"} and np.array_equal(
            np.unique(y), np.arange(len(np.unique(y)))
        )
        raise ValueError(
            f"The labels are {kind} but ood_label={ood_label!r} is not, so no "
            "example could ever be OOD: pass the label your annotator gives to "
            f"OOD examples, e.g. ood_label={example}."
            + (
                " If you gave labels of another kind, a tool encoded them as "
                "0..n-1 (scikit-learn's cross_val_predict with a probability or "
                "decision method does): pass it the IN rows only, with a numeric "
                "ood_label (e.g. -1)."
                if encoded
                else ""
            )
            + (
                f" If these rows are all in-distribution, declare their classes "
                f"({declare}=[...]): rows of declared classes need no OOD label "
                "of their kind."
                if declare is not None and classes is None
                else ""
            )
        )


def _check_no_bool_number_confusion(y, ood_label):
    """Refuse an `ood_label` equal to labels of the other of booleans and
    numbers: False is 0 and True 1, so ``ood_label=0`` took every False label
    for OOD (and ``ood_label=False`` every 0)."""
    if value_kind(ood_label) != "numbers":
        return
    boolean = is_bool(ood_label)
    if y.dtype == object:
        # Told apart by kind: a set of values holds one of False and 0.
        labels = dict.fromkeys(
            (is_bool(v), _python(v)) for v in y.tolist() if value_kind(v) == "numbers"
        )
        mistaken = [v for kind, v in labels if kind != boolean and v == ood_label]
    elif y.dtype.kind in "biufc" and (y.dtype.kind == "b") != boolean:
        mistaken = np.unique(y[y == ood_label]).tolist()
    else:
        return
    if mistaken:
        kind = "numbers" if boolean else "booleans"
        raise ValueError(
            f"ood_label={_python(ood_label)!r} equals the labels {mistaken}, which "
            f"are {kind} (False is 0 and True 1), so each would be taken for "
            "OOD: pass an ood_label that no class equals, e.g. -1 or 'unknown'."
        )


def encode_labels(classes, y):
    """Positions of labels `y` in `classes`; a ValueError names unknown labels."""
    classes, y = np.asarray(classes), np.asarray(y)
    order = np.argsort(classes, kind="stable")
    position = np.searchsorted(classes, y, sorter=order).clip(max=len(classes) - 1)
    codes = order[position]
    unknown = classes[codes] != y
    if np.any(unknown):
        raise ValueError(
            f"Labels {shown_names(np.unique(y[unknown]).tolist(), 'labels')} are "
            f"not among the known classes {shown_names(classes.tolist(), 'classes')}."
        )
    return codes


def class_codes(learner, y):
    """Positions of labels `y` among the learner's classes (modAL: its classifier's)."""
    classes = getattr(learner, "classes_", None)
    if classes is not None:
        return encode_labels(classes, y)
    try:
        return encode_labels(fitted_estimator(learner).classes_, y)
    except ValueError as exc:
        raise ValueError(
            f"{exc} A modAL learner's classifier knows the classes it was "
            "trained on, here fewer than its labelled set holds (modAL's "
            "bootstrap_init, or teach with only_new=True?), and this score "
            "needs them all: train the classifier on every labelled class."
        ) from None


def per_example_loss(learner, X, y):
    """Cross-entropy of each in-distribution example under the current classifier.

    float64, from :func:`class_probabilities` clipped to ``[1e-12, 1 - 1e-12]``,
    so every value is finite and strictly positive. A modAL learner's
    classifier knows only the classes it was taught: an example of another
    (a query's first of a new class) has probability 0 under it, the
    largest loss.
    """
    proba = class_probabilities(learner, X)
    y = labels_as_given(y)
    known = np.ones(len(y), dtype=bool)
    if getattr(learner, "classes_", None) is None:
        known = np.isin(y, fitted_estimator(learner).classes_)
    p = np.zeros(len(y))
    p[known] = proba[np.flatnonzero(known), class_codes(learner, y[known])]
    return -np.log(np.clip(p, _EPS, 1.0 - _EPS))


def labelled_in_and_ood(learner):
    """``(X_in, y_in, X_ood)`` of everything the learner has labelled so far.

    ``y_in`` are the labels as given; :func:`class_codes` makes them class
    positions, for the scores that need them.

    Our :class:`ActiveLearner` keeps labelled OOD examples in ``X_labelled_``;
    a modAL learner has what it was taught in ``X_training`` plus the OOD rows
    that :func:`teach_open_set` kept in ``X_ood_``.
    """
    ood_label = ood_label_of(learner)
    if not hasattr(learner, "X_labelled_"):
        _check_ours_fitted(learner)  # its X_training may hold OOD, modAL's not
    if hasattr(learner, "X_labelled_"):
        X, y = learner.X_labelled_, learner.y_labelled_
        X_ood_kept = None
    # modAL's Committee has an X_training, None, of its own.
    elif not hasattr(learner, "X_training") or hasattr(learner, "learner_list"):
        raise _not_a_learner(learner, "no labelled set (X_labelled_ or X_training)")
    elif learner.X_training is None:
        raise ValueError(
            f"{type(learner).__name__} was made without X_training: this "
            "strategy needs the labelled rows. Construct it with X_training and "
            "y_training (the labelled in-distribution rows; labelled OOD rows "
            "go in learner.X_ood_)."
        )
    else:
        check_no_ood_in_training(learner, ood_label)
        X, y = learner.X_training, np.asarray(learner.y_training)
        X_ood_kept = kept_ood_rows(learner, np.asarray(X))
    is_ood = y == ood_label
    X = np.asarray(X)
    X_ood = X[is_ood]
    if X_ood_kept is not None and len(X_ood_kept):
        X_ood = np.concatenate([X_ood, X_ood_kept])
    return X[~is_ood], y[~is_ood], X_ood


def kept_ood_rows(learner, X):
    """A modAL learner's ``X_ood_`` as an array of rows shaped as those of
    `X`, or None where it has none; the user may set it, so it is checked."""
    kept = getattr(learner, "X_ood_", None)
    if kept is None:
        return None
    rows = np.asarray(kept)
    if rows.ndim != X.ndim or rows.shape[1:] != X.shape[1:]:
        empty = ", ".join(map(str, (0, *X.shape[1:])))
        raise ValueError(
            f"learner.X_ood_ is an array of shape {rows.shape}, not rows of the "
            f"shape {X.shape[1:]} of the labelled ones: set it to the labelled "
            f"OOD rows (X[y == ood_label]), or to np.empty(({empty})) for none."
        )
    return rows


def check_no_ood_in_training(learner, ood_label):
    """Refuse a modAL learner whose ``y_training`` holds `ood_label`: modAL
    trains its classifier on every row there, OOD as one more class."""
    y = getattr(learner, "y_training", None)
    n_ood = 0 if y is None else int(np.sum(np.asarray(y) == ood_label))
    if n_ood:
        raise ValueError(
            f"The modAL learner's y_training holds {n_ood} rows labelled "
            f"ood_label={ood_label!r}, so its classifier trains on OOD as a "
            "class. Keep OOD rows out of X_training: construct the learner with "
            "the in-distribution rows only, and give the OOD rows to the "
            "strategies as learner.X_ood_ (where teach_open_set keeps those it "
            f"is taught). If {ood_label!r} is one of your classes, set "
            "learner.ood_label to the label your annotator gives OOD examples."
        )


# ------------------------------------------------------------- the scores


def _labelled_embeddings(learner):
    X_in, y_in, X_ood = labelled_in_and_ood(learner)
    emb_ood = model_embedding(learner, X_ood) if len(X_ood) else None
    return model_embedding(learner, X_in), y_in, emb_ood


def _binds(array_score):
    """Mark the decorated ``score(learner, X)`` as `array_score` bound to a learner.

    :func:`resolve_score` reads the mark to refuse the array-level function
    where a score of the learner is expected, naming the score to pass.
    """

    def mark(score):
        score.array_score = array_score
        return score

    return mark


@_binds(mahalanobis_purity)
def _mahalanobis(learner, X):
    emb_in, y_in, _ = _labelled_embeddings(learner)
    codes_in = class_codes(learner, y_in)
    return mahalanobis_purity(model_embedding(learner, X), emb_in, codes_in)


@_binds(knn_purity)
def _knn(learner, X, score=knn_purity):
    emb_in, _, _ = _labelled_embeddings(learner)
    return score(model_embedding(learner, X), emb_in)


@_binds(knn_contrast_purity)
def _knn_contrast(learner, X):
    emb_in, _, emb_ood = _labelled_embeddings(learner)
    return knn_contrast_purity(model_embedding(learner, X), emb_in, emb_ood)


def _from_proba(score):
    return _binds(score)(lambda learner, X: score(class_probabilities(learner, X)))


@_binds(margin_informativeness)
def _margin(learner, X):
    # Every strategy's margin comes here: one message names the remedy.
    if n_classes(learner) < 2:
        raise ValueError(
            "'margin' informativeness compares the two most likely classes, but "
            "the learner knows one class; pass classes=[...] listing every IN "
            "class to the learner, or use 'least_confidence'."
        )
    return margin_informativeness(class_probabilities(learner, X))


PURITY_SCORES = {
    "msp": _from_proba(msp_purity),
    "energy": _binds(energy_purity)(
        lambda learner, X: energy_purity(class_logits(learner, X))
    ),
    "mahalanobis": _mahalanobis,
    "knn": _knn,
    "knn_contrast": _knn_contrast,
    "cosine": _binds(cosine_purity)(lambda lrn, X: _knn(lrn, X, cosine_purity)),
}

INFORMATIVENESS_SCORES = {
    "least_confidence": _from_proba(least_confidence),
    "margin": _margin,
    "entropy": _from_proba(entropy_informativeness),
    "learning_loss": loss_prediction,
}

# What each named score reads from the classifier; the embedding-based
# scores work with any classifier (in its input space when it is no net).
SCORE_NEEDS = {
    "msp": {"proba"},
    "energy": {"logits"},
    "least_confidence": {"proba"},
    "margin": {"proba"},
    "entropy": {"proba"},
    "learning_loss": {"loss_head"},
}

# The package's array-level score functions (exported, so easily passed
# where a score(learner, X) is expected): function -> (kind, name).
_NAME_OF_ARRAY_SCORE = {
    score.array_score: (kind, name)
    for kind, registry in (
        ("purity", PURITY_SCORES),
        ("informativeness", INFORMATIVENESS_SCORES),
    )
    for name, score in registry.items()
    if hasattr(score, "array_score")
}


def resolve_score(score, registry, kind):
    """The callable for a score given by name or as a callable.

    Raises a ValueError for an unknown name and for one of the package's
    array-level score functions (e.g. :func:`msp_purity`), which take arrays
    rather than ``(learner, X)``.
    """
    if callable(score):
        # By identity: a user's callable may not hash, or compare oddly.
        found = [named for f, named in _NAME_OF_ARRAY_SCORE.items() if f is score]
        if not found:
            return score
        ((score_kind, name),) = found
        remedy = (
            f"pass {kind}={name!r} (the name)"
            if score_kind == kind
            else f"it is the {score_kind} score {name!r}; pass one of "
            f"{sorted(registry)}"
        )
        raise ValueError(
            f"{kind}={score.__name__} is an array-level function, which scores "
            f"arrays (of probabilities, logits or embeddings), not a learner: "
            f"{remedy}, or a callable score(learner, X) -> array of shape "
            "(n_samples,)."
        )
    if score in registry:
        return registry[score]
    raise ValueError(
        f"Unknown {kind} score {score!r}; use one of {sorted(registry)} "
        "or a callable score(learner, X) -> array of shape (n_samples,)."
    )


def compute_score(score, registry, kind, learner, X):
    """Evaluate a named or callable score and check its output."""
    check_is_fitted(fitted_estimator(learner))
    values = np.asarray(resolve_score(score, registry, kind)(learner, X))
    expected = f"The {kind} score must return {len(X)} finite values; got an array"
    try:
        values = values.astype(float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{expected} of {values.dtype} values ({error}).") from error
    if values.shape != (len(X),) or not np.all(np.isfinite(values)):
        raise ValueError(
            f"{expected} of shape {values.shape}"
            + ("" if values.shape != (len(X),) else " with NaN or inf")
            + "."
        )
    return values
