"""The open-set active learner: a modAL-style loop that keeps OOD out of training."""

from __future__ import annotations

import copy
import functools
import inspect
import os
import re
import reprlib
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from numbers import Integral, Number
from pathlib import Path
from types import FunctionType, MethodType
from typing import Any, Concatenate, ParamSpec, TypeVar

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import (
    _num_samples,
    column_or_1d,
)
from skorch import NeuralNet, NeuralNetBinaryClassifier
from skorch.dataset import ValidSplit
from skorch.history import History

from ._atomic import (
    draws_globally,
    global_random_states_kept,
    interrupts_escape_training,
    restored_on_error,
)
from ._frames import (
    as_frame,
    check_columns,
    check_known_categories,
    column_dtypes,
    frame_input,
    has_feature_names,
)
from ._hashing import STATEFUL_SETTINGS, UNHASHABLE, SameObject, content_hash
from ._labels import (
    check_booleans_alike,
    check_booleans_apart,
    check_each_once,
    check_held_apart,
    check_none_missing_at,
    check_one_label_kind,
    check_one_ood_label,
    check_ood_look_alikes,
    check_unicode_forms,
    given_values,
    is_one_label,
    label_array,
    label_kind,
    labels_not_in,
    value_kind,
)
from ._model_scores import (
    _has_predict_proba,
    _looked_through,
    check_every_row_labelled,
    check_fitted_rows,
    check_label_kind,
    check_rows,
    class_columns,
    class_probabilities,
    encode_labels,
    split_pipeline,
    strategy_running,
)
from ._models import (
    check_device,
    in_unit_range,
    integer_rows_on_unit_scale,
    one_pixel_scale,
    reads_uint8_as_pixels,
    uint8_if_pixels,
)
from ._persistence import load_object, save_object
from ._rows import exact_row_keys
from ._strategies._base import QueryStrategy, called_strategy
from ._strategies._uncertainty import UncertaintyQuery
from ._torch_modes import grad_enabled
from ._typing import IntLike, available_if
from ._validation import (
    check_one_label_per_row,
    check_sample_weight,
    refuse_sparse,
    shown_names,
    shown_whole,
)
from ._warn import warn, warn_once

# What a query strategy returns: the chosen pool positions, alone (modAL's newer
# strategies) or first in a tuple.
_Chosen = np.ndarray | tuple[np.ndarray, Any]


def _classifier_has(method):
    """For ``available_if``: whether the learner's classifier (``estimator_``
    once fitted, else `estimator`) has `method`, so that scikit-learn's tools
    (scorers, calibration, stacking) choose the method it has."""

    def check(learner):
        final = split_pipeline(getattr(learner, "estimator_", learner.estimator))[1]
        if method == "predict_proba":
            return _has_predict_proba(final)
        return hasattr(final, method)

    return check


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _fitted_first(
    method: Callable[Concatenate[ActiveLearner, _P], _R],
) -> Callable[Concatenate[ActiveLearner, _P], _R]:
    """Run `method` after the deferred fit on the initial set, which is
    undone if it fails (see ``ActiveLearner._atomic``)."""

    @functools.wraps(method)
    def fitted_first(self: ActiveLearner, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        if hasattr(self, "estimator_"):  # nothing to undo
            return method(self, *args, **kwargs)
        with self._atomic():
            return method(self, *args, **kwargs)

    return fitted_first


class ActiveLearner(ClassifierMixin, BaseEstimator):
    """Pool-based active learner for pools polluted with out-of-distribution data.

    Its constructor and methods follow modAL's ``ActiveLearner`` (``query``,
    ``teach``, ``predict``, ``score``), with two open-set rules: labelled
    OOD examples (label ``ood_label``) are kept for the query strategy but
    never train the classifier, and ``teach`` hands the new labels to the
    strategy (``query_strategy.update``) *before* retraining, so a strategy
    that learns from its own queries (:class:`MQNetQuery`) sees the loss of
    the classifier that chose them. The classifier is then retrained from
    scratch on the in-distribution examples of everything labelled so far.

    Any classifier works (a scikit-learn classifier, a
    :class:`~sklearn.pipeline.Pipeline`, a skorch net); strategies that read
    class probabilities need one with ``predict_proba``, and the learner has
    ``predict_proba`` and ``decision_function`` when its classifier has them.
    Labels may be numbers or strings, the in-distribution classes all of one
    kind. The classifier is trained on the positions ``0..k-1`` of the labels
    in ``classes_`` and its predictions are mapped back. Its parameters that
    name classes (the classifier's, a pipeline step's, or in a search's
    grid) take the labels and are given to it by position: a
    ``class_weight`` dict is keyed by the labels, ``priors`` and
    ``class_prior`` hold a value per class of ``classes_`` (in its sorted
    order), and a ``constant`` (:class:`~sklearn.dummy.DummyClassifier`) or
    ``outlier_label`` (:class:`~sklearn.neighbors.RadiusNeighborsClassifier`)
    is a label. Classes not labelled yet are left out of the weights and of
    the priors, which are scaled to sum to 1 again.

    As a scikit-learn estimator, the constructor only stores its arguments;
    the classifier is trained on ``X_training, y_training`` by `fit`, or at
    the first `query`, `teach` or prediction (``predict``, ``score``...).
    Until then the learner is not fitted to scikit-learn: ``check_is_fitted``
    raises NotFittedError, as the fitted attributes (``classes_``, which
    scikit-learn's scorers and tools read) do not exist yet; call
    ``learner.fit(learner.X_training, learner.y_training)`` to train it now.
    Every method that changes the learner either succeeds or leaves it
    exactly as it was.

    Parameters
    ----------
    estimator : classifier
        Template of the classifier (e.g. ``RandomForestClassifier()``, a
        pipeline, or a skorch net from ``make_mlp_classifier``); cloned,
        never modified. A prefitted one (in a
        :class:`~sklearn.frozen.FrozenEstimator`, whose fit does nothing)
        must have been fitted on in-distribution rows alone, on the
        positions ``0..k-1`` of their labels ``y_in`` in `classes_`, which are
        sorted (``LabelEncoder().fit(classes_).transform(y_in)``), not on the
        labels: one whose ``classes_`` are not such positions is
        refused at training, but labels that are positions too cannot be
        told from them (fitted on labels 1 and 2 of classes ``[1, 2, 3]``,
        its 1 would be read as position 1, class 2): its predictions would
        silently name other classes.
    query_strategy : QueryStrategy or callable, default=None
        ``strategy(learner, X_pool, n_instances=...) -> (indices, scores)``,
        or the indices alone (what modAL's newer strategies return); a tuple
        is read as indices first, whatever follows them.
        None means ``UncertaintyQuery()`` (modAL's default). Cloned at `fit`
        when it is a :class:`QueryStrategy`, which also checks there that it
        can work with `estimator`; a RandomState instance as its
        ``random_state`` is copied with it, so the queries after each fit
        make the same draws (see :class:`QueryStrategy`). Its state (MQ-Net's
        meta-model) lives in that clone, ``query_strategy_``, so a parameter
        set on `query_strategy` later takes effect at the next `fit` (a query
        or teach warns of it); set it on ``query_strategy_`` to change the
        strategy in use.
        `estimator`'s parameters take effect at the next training: the next
        `teach` (which checks them as `fit` does), or with
        ``warm_start=True`` (which goes on training the current classifier)
        the next `fit`.
    X_training : array-like of shape (n_samples, ...), default=None
        Initial labelled examples.
    y_training : array-like of shape (n_samples,), default=None
        Their labels: classes, or `ood_label`.
    ood_label : int or str, default=-1
        Label the annotator gives to out-of-distribution examples. Read at
        `fit` (``ood_label_``): set later, it takes effect at the next `fit`
        (a query or teach warns of it). Where `fit` infers the classes, any
        other negative label is taken for a mistyped OOD label and refused,
        as :class:`OpenSetOracle` does, and a string label equal to it but
        for case or surrounding spaces is warned of: it would be a class.
        Where no label spells `ood_label` exactly, such a look-alike is
        refused (a ValueError), whether `fit` infers the classes or not.
    classes : array-like, default=None
        The known (in-distribution) classes, in any order: `classes_` holds
        them sorted, as scikit-learn's classifiers do (its scorers read the
        columns of `predict_proba` in that order); a 0-d array among them
        (``np.array('a')``) is the value it holds. Classes that list
        `ood_label`, or that a numpy array would merge or change (``'a'`` and
        ``'a\\x00'``, whose NUL it drops; ``[True, 2]``, True as 1), are
        refused. None takes the estimator's ``classes`` parameter when it has
        one (skorch nets from this package: ``0..k-1``) and the labels are
        among them, else the
        in-distribution labels of the first labelled set (one class inferred
        so is warned of: declare the others, or teach refuses them); that
        parameter is checked as `classes` is, whether taken or not, but may
        list `ood_label` where it is not taken (a net's ``0..k-1`` beside
        labels ``1..k``, 0 marking OOD examples). Read at
        `fit` (``classes_``): set later, it takes effect at the next `fit` (a
        query or teach warns of it), which starts the query strategy afresh;
        to add a class, fit again on every labelled row, the new ones
        included.
    embedding : transformer, callable or None, default=None
        The representation distance-based strategies (kNN purity, CORESET,
        BADGE, the diverse batch) work in. A transformer (e.g.
        ``PCA(10)``) is cloned and fitted on the labelled examples at every
        `fit`; a callable is called as ``embedding(estimator_, X) -> (n, d)``.
        None: a net's penultimate layer, else the output of a pipeline's
        preprocessing steps, else the input itself; inside a search it is
        that of ``best_estimator_``, inside a ``CalibratedClassifierCV``
        that of its first calibrated classifier (with ``ensemble=True``,
        the one fitted on the first fold's training rows). A sparse one (a
        one-hot or text step's output) is made dense, and warns past 128 MiB
        dense: reduce it, e.g. ``make_pipeline(make_column_transformer(
        (TfidfVectorizer(), 0)), TruncatedSVD(n_components=100))`` for texts.
        Read at `fit` (``embedding_``): set later, it takes effect at the next
        `fit` (a query or teach warns of it).
    warm_start : bool, default=False
        If True, `teach` continues training the current classifier by one
        ``partial_fit`` call on every labelled IN row, instead of retraining
        it from scratch by ``fit``. A classifier whose ``partial_fit`` takes
        ``classes`` (scikit-learn's, skorch's) is then trained by
        ``partial_fit`` from the start, declaring every known class, so that
        a class missing from the initial set can come later. What one call
        trains depends on the classifier: a skorch net trains ``max_epochs``
        epochs, as its ``fit`` does; scikit-learn's (``SGDClassifier``,
        ``Perceptron``, ``MLPClassifier``) make one pass over the rows,
        whatever their ``max_iter``, so the initial classifier and each
        teach are trained far less than by ``fit``, and predict worse. Use
        it with skorch nets; leave it False for scikit-learn's classifiers,
        which ``fit`` then trains to convergence at every teach.

    Attributes
    ----------
    estimator_ : classifier
        The classifier trained on the labelled in-distribution examples,
        with targets ``0..k-1`` (positions in `classes_`).
    query_strategy_ : QueryStrategy or callable
        The strategy in use (a clone of `query_strategy`), with its state.
    X_labelled_ : ndarray of shape (n_labelled, ...)
        Every labelled example, OOD included.
    y_labelled_ : ndarray of shape (n_labelled,)
        Their labels, as given.
    classes_ : ndarray of shape (k,)
        The known classes, sorted.
    ood_label_ : int or str
        The `ood_label` in use since `fit`.
    embedding_ : transformer, callable or None
        The `embedding` in use since `fit`: a transformer fitted there (like
        a pipeline estimator, it gets a DataFrame's rows back as such a
        DataFrame: see ``feature_dtypes_``), the callable, or None.
    n_features_in_ : int
        Number of features of 2-D input.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names of `fit`'s X, if it was a DataFrame with string column
        names; later DataFrames must have the same columns. Arrays given
        later are taken with scikit-learn's warning that they have no
        feature names.
    feature_dtypes_ : pandas Series
        The dtypes of the columns of `fit`'s X, if it was a DataFrame with
        string column names, or with names that are no strings (such as
        ``pd.DataFrame(array)``'s 0, 1, ...) and a column that is not
        numeric. A pipeline estimator, or one that wraps a pipeline (e.g. a
        search over one), then gets its rows back as a DataFrame of these
        columns and dtypes, so its steps may select columns by name. So does
        any other estimator when a column is not numeric (categories read
        from the dtypes by ``HistGradientBoostingClassifier``); `estimator_` is
        then a pipeline whose first step makes that DataFrame.

    Notes
    -----
    A tool that encodes `y` as ``0..n-1`` before fitting, as scikit-learn's
    ``cross_val_predict`` does with ``method="predict_proba"`` (or another
    probability or decision method), turns `ood_label` into a class: numbers
    are then trained as one more class, and strings are refused. Give such
    tools the IN rows only, with a numeric `ood_label`. ``score`` refuses
    OOD rows, so a search or cross-validation scored on a labelled set that
    holds them scores NaN.

    A search over the strategy's parameters (``GridSearchCV(learner,
    {"query_strategy__...": [...]})``) compares nothing: `fit` and `score`
    train and score the classifier on the rows given and never query, so
    every setting scores alike. Compare strategies and their parameters by
    the learning curves of active-learning runs, :func:`run_active_learning`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_openset import (ActiveLearner, MQNetQuery, load_digits_dataset,
    ...                           make_open_set_split)
    >>> X, y = load_digits_dataset()
    >>> split = make_open_set_split(X, y, n_in_classes=4, noise_ratio=0.4,
    ...                             initial_size=40, random_state=0)
    >>> X_unlabelled = np.delete(split.X_pool, split.initial_idx, axis=0)
    >>> y_unlabelled = np.delete(split.y_pool, split.initial_idx)
    >>> learner = ActiveLearner(
    ...     estimator=RandomForestClassifier(random_state=0),
    ...     query_strategy=MQNetQuery(random_state=0),
    ...     X_training=split.X_pool[split.initial_idx],
    ...     y_training=split.y_pool[split.initial_idx],
    ... )
    >>> indices, X_query = learner.query(X_unlabelled, n_instances=10)
    >>> learner.teach(X_query, y_unlabelled[indices]).X_labelled_.shape
    (50, 64)
    """

    def __init__(
        self,
        estimator: Any,
        query_strategy: Callable[..., _Chosen] | None = None,
        X_training: ArrayLike | None = None,
        y_training: ArrayLike | None = None,
        *,
        ood_label: Any = -1,
        classes: ArrayLike | None = None,
        embedding: Any = None,
        warm_start: bool = False,
    ) -> None:
        self.estimator = estimator
        self.query_strategy = query_strategy
        self.X_training = X_training
        self.y_training = y_training
        self.ood_label = ood_label
        self.classes = classes
        self.embedding = embedding
        self.warm_start = warm_start

    def __repr__(self, N_CHAR_MAX=700):
        # scikit-learn's (changed parameters only, wrapped, nested), but the
        # labelled arrays are data, not settings: their shape only.
        shown = copy.copy(self)
        for name in ("X_training", "y_training"):
            value = getattr(self, name)
            if value is not None:
                setattr(shown, name, _Shape(value))
        return BaseEstimator.__repr__(shown, N_CHAR_MAX)

    def __getstate__(self):
        state = super().__getstate__()
        fitted = state.get("_strategy_settings")
        if fitted is not None:
            # A copy: the state may be this learner's own __dict__.
            state = {**state, "_settings_unchanged": fitted == _settings(self)}
        return state

    def __setstate__(self, state):
        # Pickled before fit set ood_label_ and embedding_, a fitted learner
        # read ood_label, and embedding unless embedding_ held a transformer.
        if "estimator_" in state:
            state.setdefault("ood_label_", state["ood_label"])
            state.setdefault("embedding_", state["embedding"])
        unchanged = state.pop("_settings_unchanged", False)
        super().__setstate__(state)
        if unchanged:
            # Loading may change a setting (a device this machine lacks set
            # to 'cpu'), which is no change of the user's to warn of.
            self._strategy_settings = _settings(self)
        # Fitted before classes_ were sorted (2026-12-04), in the order given:
        # the classifier learnt their positions, so they cannot be sorted
        # here, and scikit-learn's scorers would misread its columns.
        classes = state.get("classes_")
        if classes is not None and not np.array_equal(
            classes, np.sort(classes, kind="stable")
        ):
            warn(
                f"This ActiveLearner was fitted by a skal_openset that kept "
                f"classes_ in the order given ({classes.tolist()!r}), not sorted: "
                "its predict_proba columns follow that order, which "
                "scikit-learn's scorers (roc_auc, log_loss) misread as the "
                "sorted one. Fit it again to sort them: learner.fit("
                "learner.X_labelled_, learner.y_labelled_), which starts its "
                "query strategy afresh.",
                UserWarning,
            )

    def __sklearn_tags__(self):
        # A classifier to scikit-learn (stratified folds in cross_val_score),
        # taking NaN where its classifier does: the rows reach it as they are.
        tags = super().__sklearn_tags__()
        try:
            tags.input_tags.allow_nan = get_tags(self.estimator).input_tags.allow_nan
        except (AttributeError, TypeError):  # a classifier of one's own, untagged
            pass
        return tags

    def fit(self, X: ArrayLike, y: ArrayLike) -> ActiveLearner:
        """Start over: make ``(X, y)`` the labelled set and train on its IN rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Labelled examples.
        y : array-like of shape (n_samples,)
            Their labels: known classes, or `ood_label`; a list keeps each
            label's kind (``[2, 'unknown']``, where NumPy reads strings, and
            ``[True, False, -1]``, where it reads numbers).

        Returns
        -------
        self : object
        """
        check_one_ood_label(self.ood_label)
        for name in ("estimator", "query_strategy", "embedding"):
            value = getattr(self, name)
            if isinstance(value, type):  # the () forgotten
                raise TypeError(
                    f"{name} is the class {value.__name__}, not an instance of "
                    f"it: pass {value.__name__}(), with its parameters."
                )
        if self.query_strategy is not None and not callable(self.query_strategy):
            raise TypeError(
                f"query_strategy is {self.query_strategy!r}, which cannot choose "
                "examples: pass a strategy such as MQNetQuery(), or a modAL-style "
                "function f(learner, X_pool, n_instances) returning indices."
            )
        _check_not_modal_ranked_batch(self.query_strategy)
        dtypes = column_dtypes(X)
        named = has_feature_names(X)
        X, y = self._check_labelled(X, y)
        # Checked first: the check of the labels' kind compares them with the
        # classes, which pandas.NA among them failed ("boolean value of NA").
        declared = None
        if self.classes is not None:
            declared = _checked_classes(self.classes, "classes", self.ood_label)
            _refuse_listed_ood_label(declared.tolist(), "classes", self.ood_label)
        # Rows of declared classes alone hold no OOD row, whatever its kind.
        check_label_kind(y, self.ood_label, declared, declare="classes")
        # First: a regression target is no set of classes, whatever the
        # checks of classes and OOD look-alikes would take its values for.
        _check_discrete(y[y != self.ood_label])
        classes, classes_code = self._resolve_classes(y, declared)
        self._check_known_labels(y, classes, self.ood_label)
        if np.all(y == self.ood_label):
            raise ValueError(
                "The labelled set holds no in-distribution example, so there is "
                "nothing to train the classifier on: add at least one row "
                "labelled with an IN class (a random initial set may miss them "
                "all at high noise: draw a larger one)."
            )
        self._check_estimator(classes)
        settings = _settings(self)
        strategy = self.query_strategy
        if strategy is None:
            strategy = UncertaintyQuery()
        if isinstance(called_strategy(strategy), QueryStrategy):
            strategy = _cloned_strategy(strategy)
            # Before training, as a bad value would fail at the first query.
            called_strategy(strategy)._validate_params()
            called_strategy(strategy)._check_estimator(self.estimator)
        # A retry of a failed fit then trains as a first call would.
        with self._random_states_kept_for(querying=False, training=True):
            embedding = self._fit_embedding(X, dtypes)
            estimator = self._trained(
                None, X, y, classes, self.ood_label, dtypes, classes_code
            )
        if classes.size == 1 and classes_code == _INFERRED_CLASSES:
            # Once trained: a classifier that cannot train on one class fails
            # instead, saying so, and predicts nothing.
            _warn_of_one_inferred_class(
                classes, (y == self.ood_label).any(), self.ood_label
            )
        _warn_of_rows_labelled_otherwise(X, y, frame=dtypes is not None)
        # Attributes are set only once everything has succeeded; those this
        # fit does not set must not survive from the last one.
        for name in (
            "feature_names_in_",
            "feature_dtypes_",
            "n_features_in_",
        ):
            self.__dict__.pop(name, None)
        if named:
            self.feature_names_in_ = np.asarray(dtypes.index, dtype=object)
        if dtypes is not None:
            self.feature_dtypes_ = dtypes
        self.classes_ = classes
        self.ood_label_ = self.ood_label
        # Those of the parameters that take effect here (ood_label, embedding,
        # classes and query_strategy), to see a later change.
        self._strategy_settings = settings
        self._settings_warned_of = None
        self.query_strategy_ = strategy
        self.embedding_ = embedding
        if X.ndim == 2:
            self.n_features_in_ = X.shape[1]
        self.X_labelled_, self.y_labelled_ = X, y
        self.estimator_ = estimator
        return self

    def query(
        self,
        X_pool: ArrayLike,
        n_instances: IntLike | None = None,
        **query_kwargs: Any,
    ) -> tuple[np.ndarray, Any]:
        """Choose the pool examples to label next.

        Parameters
        ----------
        X_pool : array-like of shape (n_pool, ...)
            Unlabelled examples (a pandas DataFrame works too).
        n_instances : int, default=None
            How many to choose; None chooses the ``n_instances`` that a
            ``functools.partial`` query strategy presets (modAL's way), else 1;
            a strategy function that takes no ``n_instances`` is given none
            (as modAL gives none) and chooses as many as it returns.
        **query_kwargs
            Passed on to the query strategy (a modAL function may take some);
            this package's strategies take none, and raise a TypeError.

        Returns
        -------
        indices : ndarray of shape (n_instances,)
            Positions (not index labels) in `X_pool`, highest priority first
            (a modAL function's in its own order: with
            ``random_tie_break=True``, lowest priority first; without, in
            no set order).
        X_query : ndarray or DataFrame of shape (n_instances, ...)
            Those rows of `X_pool` (``X_pool.iloc[indices]`` for a DataFrame).
        """
        with self._atomic(querying=True), self._strategy_kept_on_error():
            self._warn_of_settings_changed_since_fit()
            X = self._check_rows(X_pool, "X_pool")
            if n_instances is not None or _takes_default_n_instances(
                self.query_strategy_
            ):
                query_kwargs["n_instances"] = 1 if n_instances is None else n_instances
            with strategy_running(self):
                chosen = self.query_strategy_(self, X, **query_kwargs)
            indices = _chosen_positions(chosen, len(X))
            if hasattr(X_pool, "iloc"):
                return indices, X_pool.iloc[indices]
            return indices, X[indices]

    def teach(self, X: ArrayLike, y: ArrayLike) -> ActiveLearner:
        """Add labelled examples, let the strategy learn from them, retrain.

        Atomic: if anything fails (a bad label, the strategy's update, the
        retraining, an interrupt), the learner is left exactly as before.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Newly labelled examples (typically the last query; a strategy
            that learns from its queries, such as :class:`MQNetQuery`, takes
            only rows that a query of the current classifier returned).
            They are added as given, as modAL's ``teach`` adds them: rows
            taught twice count twice, in training and in the OOD share.
        y : array-like of shape (n_samples,)
            Their labels: known classes, or `ood_label`; a list keeps each
            label's kind (``[2, 'unknown']``, where NumPy reads strings, and
            ``[True, False, -1]``, where it reads numbers).

        Returns
        -------
        self : object
        """
        if not hasattr(self, "estimator_") and not self._initial_set_given():
            return self.fit(X, y)
        # The strategy is updated on a copy, but a copy shares NumPy's global
        # random state, which MQ-Net's update with random_state=None draws
        # from, as the retraining may: rewound too, as a failed query does.
        with self._atomic(querying=True, training=True):
            self._warn_of_settings_changed_since_fit()
            if not self.warm_start:
                # A changed estimator takes effect here: checked as at fit.
                self._check_estimator(self.classes_)
                if isinstance(called_strategy(self.query_strategy_), QueryStrategy):
                    called_strategy(self.query_strategy_)._check_estimator(
                        self.estimator
                    )
            X = self._check_rows(X, "X", teaching=True)
            X, y = self._check_labelled(X, y)
            check_known_categories(X, getattr(self, "feature_dtypes_", None), "X")
            _check_discrete(y[y != self.ood_label_])  # as fit, before the classes
            self._check_known_labels(y, self.classes_, self.ood_label_, teaching=True)
            strategy = self.query_strategy_
            if hasattr(called_strategy(strategy), "update"):
                # The update reads this learner's current classifier, which still
                # is the one that chose the query; work on a copy until retrained.
                strategy = copy.deepcopy(strategy)
                with strategy_running(self):
                    called_strategy(strategy).update(self, X, y)
            X_all = np.concatenate([self.X_labelled_, X])
            y_all = np.concatenate([self.y_labelled_, y])
            previous = self.estimator_ if self.warm_start else None
            dtypes = getattr(self, "feature_dtypes_", None)
            estimator = self._trained(
                previous,
                X_all,
                y_all,
                self.classes_,
                self.ood_label_,
                dtypes,
                "list(learner.classes_)",
            )
            _warn_of_rows_labelled_otherwise(
                X, y, self.X_labelled_, self.y_labelled_, frame=dtypes is not None
            )
            self.query_strategy_ = strategy
            self.X_labelled_, self.y_labelled_ = X_all, y_all
            self.estimator_ = estimator
            return self

    def save(self, path: str | os.PathLike) -> Path:
        """Save the learner (classifier, strategy state, labelled set) to a file.

        See :func:`save_object`: an atomic joblib file that carries the
        package version.

        Parameters
        ----------
        path : str or path-like

        Returns
        -------
        path : Path

        Raises
        ------
        KeyboardInterrupt
            On Ctrl-C, with ``path`` left as it was, or, if it came during the
            final rename, saying that ``path`` was replaced completely (see
            :func:`save_object`).
        """
        return save_object(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> ActiveLearner:
        """Load a learner saved by :meth:`save`, checking the package version.

        Like any pickle, a file can run code when loaded: load only files
        you trust.

        Parameters
        ----------
        path : str or path-like

        Returns
        -------
        learner : ActiveLearner

        Raises
        ------
        ValueError
            If the file was written by an incompatible version or holds
            something other than an ActiveLearner.
        """
        learner = load_object(path)
        if not isinstance(learner, cls):
            # No article: "a OpenSetOracle" read wrong.
            raise ValueError(
                f"{str(path)!r} holds an object of class {type(learner).__name__}, "
                f"not {cls.__name__}; load it with skal_openset.load_object."
            )
        return learner

    @_fitted_first
    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict the class of each row with the current classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Rows of the kind the learner was trained on.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Values of `classes_` (never `ood_label`: the classifier knows
            only the in-distribution classes).
        """
        codes = np.asarray(self.estimator_.predict(self._check_rows(X, "X")))
        return self.classes_[codes.astype(np.intp)]

    @available_if(_classifier_has("predict_proba"))
    @_fitted_first
    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities of each row under the current classifier.

        Available when the classifier has ``predict_proba``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Rows of the kind the learner was trained on.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), dtype=float64
            One column per entry of `classes_`, in that order, as the
            classifier gives them: rows need not sum to 1 (a one-vs-rest
            ``modified_huber`` SGDClassifier gives all-zero rows, NaN ones
            before scikit-learn 1.7). A skorch net's NaN or inf are refused
            with a ValueError: it diverged.
        """
        # As the classifier gives them: its rows need not sum to 1 or be finite.
        X = self._check_rows(X, "X")
        return class_probabilities(self, X, check_sums=False)

    @available_if(_classifier_has("decision_function"))
    @_fitted_first
    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """Confidence scores of each row under the current classifier.

        Available when the classifier has ``decision_function``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Rows of the kind the learner was trained on.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            As scikit-learn's classifiers give them: with two classes, one
            score per row, for ``classes_[1]``; else one column per entry of
            `classes_`, in that order, ``-inf`` in those of classes the
            classifier has not been trained on yet (it never predicts them).

        Raises
        ------
        ValueError
            If the classifier was trained on one class only: its scores
            compare no classes.
        """
        estimator = self.estimator_
        scores = np.asarray(estimator.decision_function(self._check_rows(X, "X")))
        seen = np.asarray(estimator.classes_)
        if len(seen) < 2:
            raise ValueError(
                "decision_function compares classes, but the classifier was "
                f"trained on one, {self.classes_[seen].tolist()}: teach an "
                "example of another in-distribution class first."
            )
        binary = scores.ndim == 1  # one score, for the classifier's classes_[1]
        if binary:
            scores = np.column_stack([-scores, scores])
        k = len(self.classes_)
        scores = class_columns(scores, estimator, k, -np.inf)
        return scores[:, 1] if binary and k == 2 else scores

    @_fitted_first
    def score(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> float:
        """Accuracy of the current classifier on in-distribution data.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Test rows.
        y : array-like of shape (n_samples,)
            Their classes, values of `classes_`.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row; None weighs them equally.

        Returns
        -------
        accuracy : float
            The (weighted) share of rows predicted right.

        Raises
        ------
        ValueError
            If `y` holds `ood_label`, or a label that is not one of
            `classes_`: the classifier never predicts them, so such rows
            would count as errors; score the IN rows only. Also if `y` holds
            booleans where the classes are numbers, or numbers where they
            are booleans (True equals 1), a missing label (None, NaN or
            pandas.NA), or one that is no single value (a set, a list, a
            tuple), as teach refuses them; and if `sample_weight` is
            negative, not finite or all zero.
        """
        y = label_array(y)
        # Before the OOD check: with a row too many or too few, the labels
        # are misaligned, whatever they hold.
        check_one_label_per_row(_num_samples(X), y)
        # As teach refuses it: a missing label was named among labels not
        # known (NaN once per row, None among strings as a number).
        check_every_row_labelled(y)
        n_ood = int(np.sum(y == self.ood_label_))
        if n_ood:
            raise ValueError(
                f"y holds ood_label={self.ood_label_!r} in {n_ood} rows; the "
                "classifier knows only the in-distribution classes, so "
                "accuracy is measured on IN rows: pass X[y != ood_label], "
                "y[y != ood_label]."
            )
        # True would be scored as class 1, as teach refuses to take it.
        check_booleans_alike(y, self.classes_)
        y_pred = self.predict(X)
        if len(y) and label_kind(y) != label_kind(self.classes_):
            raise ValueError(
                f"y holds {label_kind(y)} but the classes "
                f"{shown_names(self.classes_.tolist(), 'classes')} are "
                f"{label_kind(self.classes_)}; no prediction could match."
            )
        unknown, n_rows = labels_not_in(y, self.classes_.tolist())
        if unknown:
            neither = (
                f"y holds labels {shown_names(unknown, 'labels')} in {n_rows} rows "
                "that are neither known classes "
                f"{shown_names(self.classes_.tolist(), 'classes')} nor "
                f"ood_label={self.ood_label_!r}"
            )
            check_unicode_forms(unknown, self.classes_.tolist(), neither)
            raise ValueError(
                f"{neither}; the classifier never predicts them, so "
                "they would count as errors: correct their spelling, leave "
                "their rows out, or, for classes no labelled row has yet, "
                "declare every class: set_params(classes=[...]) before the "
                "learner is fitted, or then fit it again."
            )
        # Not accuracy_score: scikit-learn rejects bytes labels, which the
        # learner accepts everywhere else.
        correct = y_pred == y
        if sample_weight is None:
            return float(np.mean(correct))
        # Negative weights make no accuracy (and may sum to zero); NaN and
        # inf none either, whatever assume_finite (else a NaN score, silently);
        # all zero none at all. A new name: rebound, the parameter would keep
        # its ArrayLike union for mypy under numpy 2.5, which np.average refuses.
        weights = check_sample_weight(sample_weight, correct)
        return float(np.average(correct, weights=weights))

    # ----------------------------------------------------------- internals

    def _warn_of_settings_changed_since_fit(self):
        """Warn of a parameter that takes effect at `fit`, changed since,
        once per change (:func:`warn_once`: a loop warned at every call)."""
        fitted = getattr(self, "_strategy_settings", None)
        # A learner saved before the settings were hashed this way has none
        # to compare with.
        if not (isinstance(fitted, tuple) and fitted[0] == _SETTINGS_FORMAT):
            return
        now = _settings(self)[1]
        changed = [name for name in _SET_AT_FIT if now[name] != fitted[1][name]]
        parts = []
        if "query_strategy" in changed:
            parts.append(
                "query_strategy's parameters changed since fit; the strategy in "
                "use, with its state, is query_strategy_: set them there to "
                "change it now, or fit again to start afresh with them."
            )
        others = [name for name in changed if name != "query_strategy"]
        if others:
            parts.append(
                f"{' and '.join(others)} changed since fit; the learner goes on "
                f"with the {' and '.join(name + '_' for name in others)} it was "
                "fitted with until the next fit: fit again to use the new value"
                + (
                    " (relabelling the OOD rows of y_labelled_)."
                    if "ood_label" in others
                    else "."
                )
            )
        if not parts:
            # Set back as at fit, a change made again is news again.
            self._settings_warned_of = None
            return
        warn_once(self, "_settings_warned_of", now, " ".join(parts))

    def _random_states_kept_for(self, *, querying, training):
        """:func:`global_random_states_kept` for a call that runs the strategy
        in use (`querying`: its query or update) and trains the classifier
        and embedding (`training`)."""
        strategy = getattr(self, "query_strategy_", self.query_strategy)
        return global_random_states_kept(
            querying and draws_globally(called_strategy(strategy)),
            (self.estimator, self.embedding) if training else (),
        )

    @contextmanager
    def _atomic(self, *, querying=False, training=False):
        """Fit on the initial set first, if not fitted yet; if the block
        fails, leave the learner and the global random states as they were,
        that fit undone too, so that a retry fits and draws as a first call
        would."""
        training = training or not hasattr(self, "estimator_")
        with (
            self._random_states_kept_for(querying=querying, training=training),
            restored_on_error(self),
        ):
            self._fit_on_initial_set()
            yield

    @contextmanager
    def _strategy_kept_on_error(self):
        """Keep the strategy in use as it was if the block fails: it keeps its
        own state if it fails itself, this if a step after it does (an
        interrupt while its answer is checked). Entered inside
        :meth:`_atomic`, which sets it up on the first call."""
        strategy = called_strategy(self.query_strategy_)
        if not isinstance(strategy, QueryStrategy):
            yield
            return
        with strategy._kept_on_error():
            yield

    def _initial_set_given(self):
        """Whether X_training and y_training are given; a NotFittedError if
        only one of them is (a lone y_training was dropped without a word)."""
        given = {"X_training": self.X_training, "y_training": self.y_training}
        missing = [name for name, value in given.items() if value is None]
        if len(missing) == 1:
            (present,) = set(given) - set(missing)
            raise NotFittedError(
                f"{present} is given without {missing[0]}: pass both (the initial "
                "labelled set), or neither and call fit or teach."
            )
        return not missing

    def _fit_on_initial_set(self):
        if hasattr(self, "estimator_"):
            return
        if not self._initial_set_given():
            raise NotFittedError(
                "This ActiveLearner has no labelled data yet: pass X_training and "
                "y_training, or call fit or teach first."
            )
        # Named as given: fit's errors name its X.
        refuse_sparse(self.X_training, "X_training", rows=True)
        self.fit(self.X_training, self.y_training)

    def _check_labelled(self, X, y):
        X = _check_rows_of(X, "X", self.estimator)
        _check_vectorizer_input(X, self.estimator)
        y = label_array(y)
        check_every_row_labelled(y)
        check_one_label_per_row(len(X), y)
        return X, y

    def _check_rows(self, X, name, teaching=False):
        """`X` as an array whose rows have the shape (and, for images, the pixel
        dtype) of the labelled examples."""
        check_columns(X, self, name)
        rows = _check_rows_of(X, name, self.estimator)
        check_fitted_rows(X, rows, name, self)
        return self._in_labelled_pixel_dtype(rows, name, teaching)

    def _in_labelled_pixel_dtype(self, X, name, teaching=False):
        """Image rows `X` on the scale of the labelled ones, for a net that
        scales uint8 pixels to [0, 1] and takes other dtypes as they are.

        Other integer pixels in 0..255 (e.g. a list of the pool's pixels) are
        cast to uint8; beside labelled floats in [0, 1], each integer row that
        uses 0-255 (not a 0/1 mask) is divided by 255, as the net reads it.
        Predicted or queried, uint8 pixels and floats in [0, 1] are on one
        scale; taught, the rows must have the labelled set's dtype,
        which the net trains on as one scale (floats that are uint8 pixels /
        255 are cast back to them).
        """
        if not reads_uint8_as_pixels(getattr(self.estimator, "input_shape", None)):
            return X
        labelled, given = self.X_labelled_.dtype, X.dtype
        # same_kind: X is taken as the labelled rows are; else one side holds
        # pixels, which the net scales to [0, 1], and the other does not.
        if labelled == np.uint8:
            X = uint8_if_pixels(X)
            same_kind = X.dtype == np.uint8
            one_scale = one_pixel_scale(X, self.X_labelled_.max())
        else:
            same_kind = X.dtype != np.uint8
            one_scale = in_unit_range(self.X_labelled_)
            if same_kind and one_scale and X.dtype.kind in "iu" and X.size:
                # pixels too, row by row (not 0/1 masks), as the net reads them
                on_scale = integer_rows_on_unit_scale(X)
                same_kind = np.array_equal(on_scale, X)
                X = on_scale
        if same_kind or (one_scale and not teaching):
            return X
        if one_scale and labelled == np.uint8:
            as_pixels = np.rint(X * 255)
            if np.array_equal((as_pixels / 255).astype(X.dtype), X):  # pixels / 255
                return as_pixels.astype(np.uint8)
        if labelled == np.uint8 and in_unit_range(X):
            remedy = f"np.rint({name} * 255).astype(np.uint8)"
        elif labelled == np.uint8:
            remedy = "uint8 pixels (0-255), or floats in [0, 1] to predict"
        else:
            remedy = f"{labelled} on the labelled rows' scale (uint8 pixels / 255)"
        raise ValueError(
            f"{name} is {given} but the learner's images are {labelled}; the "
            "net scales uint8 pixels to [0, 1] and takes other dtypes as they "
            f"are, so they would be on another scale. Give {name} as {remedy}."
        )

    def _resolve_classes(self, y, classes):
        """The classes of a fit on labels `y`, and code that names them before
        fit sets ``classes_``: `classes` (declared, checked by
        :func:`_checked_classes`) unless None, else the classifier's, or those
        of `y`."""
        if classes is not None:
            # Sorted, as scikit-learn's classes_: its scorers (roc_auc,
            # log_loss) read predict_proba's columns in the labels' order.
            ordered = np.sort(classes, kind="stable")
            if not np.array_equal(ordered, classes) and _is_frozen(self.estimator):
                # Fitted on positions in the order given (as documented
                # before classes_ was sorted), its outputs would be misread.
                listed = ordered.tolist()
                shown = shown_names(listed, "classes")
                # Classes the message shortens are named, in the code to
                # paste, by the parameter that holds them.
                code = listed if shown_whole(listed) else "sorted(learner.classes)"
                raise ValueError(
                    f"classes={shown_names(classes.tolist(), 'classes')} are not "
                    "sorted, and the classifier comes fitted (FrozenEstimator): "
                    f"the learner keeps classes_ sorted, {shown}, and reads the "
                    "classifier's outputs as their positions. Pass "
                    f"classes={code}, with the classifier fitted on "
                    f"{_positions_code(code, ordered=True)}."
                )
            return ordered, "sorted(learner.classes)"
        in_labels = y[y != self.ood_label]
        _check_one_label_kind(
            in_labels,
            "The in-distribution labels",
            "every example needs a label; drop those whose label is missing.",
        )
        estimator_classes = _final_step_param(self.estimator, "classes")
        if estimator_classes is not None:
            # As the declared classes: numpy's array of them may hold two as one.
            final = "[-1]" if isinstance(self.estimator, Pipeline) else ""
            estimator_classes = _checked_classes(
                estimator_classes, f"estimator{final}.classes", self.ood_label
            )
            if set(in_labels.tolist()) <= set(estimator_classes.tolist()):
                # Not before: unless taken, they may list it (a net's 0..k-1
                # beside labels 1..k, 0 marking OOD examples).
                _refuse_listed_ood_label(
                    estimator_classes.tolist(),
                    f"estimator{final}.classes",
                    self.ood_label,
                )
                code = f"sorted(learner.estimator{final}.classes)"
                return np.sort(estimator_classes, kind="stable"), code
        # Inferred, every label would be a class: OOD rows mislabelled too,
        # which teach then takes as such (declared classes are the user's).
        check_ood_look_alikes(
            in_labels,
            self.ood_label,
            "y",
            advice=" (if they are classes, pass classes=[...] listing every class)",
        )
        return np.unique(in_labels), _INFERRED_CLASSES

    def _check_known_labels(self, y, classes, ood_label, teaching=False):
        check_booleans_alike(y[y != ood_label], classes)
        allowed = set(classes.tolist()) | {ood_label}
        unknown = labels_not_in(y, allowed)[0]
        if not unknown:
            return
        neither = (
            f"Labels {shown_names(unknown, 'labels')} are neither known classes "
            f"{shown_names(classes.tolist(), 'classes')} nor ood_label={ood_label!r}"
        )
        # Before the remedies below, which would add them as classes.
        check_unicode_forms(unknown, classes.tolist(), neither)
        kinds = {value_kind(v) for v in unknown}
        if len(kinds) == 1 and label_kind(classes) not in kinds:
            # New classes of another kind would mix kinds, which fit refuses.
            kind = kinds.pop()
            raise ValueError(
                f"{neither}: the labels are {kind} but the classes are "
                f"{label_kind(classes)}; "
                + _one_kind_advice(y, kind, classes, allowed, teaching)
            )
        remedy = (
            "pass classes=[...] listing every in-distribution class, and label "
            "OOD examples ood_label."
        )
        if teaching:
            # Labels the message shortens are named, in the code to paste,
            # by what holds them: the classes by their attribute, new labels
            # by the y taught.
            every_class = classes.tolist() + unknown
            if not shown_whole(unknown):
                every_class = (
                    f"sorted(set(learner.classes_) | set(y) - {{{ood_label!r}}})"
                )
            elif not shown_whole(classes.tolist()):
                every_class = f"list(learner.classes_) + {unknown}"
            # classes is read at fit only: setting it now would change nothing.
            remedy = (
                "correct a misspelt one, label OOD examples ood_label, and to add "
                "a class fit again on every label, these rows included (the query "
                "strategy starts afresh): learner.set_params(classes="
                f"{every_class}).fit(np.concatenate("
                "[learner.X_labelled_, X]), np.concatenate([learner.y_labelled_, y]))"
                + (
                    ", by pd.concat for DataFrames (X_labelled_ as a DataFrame "
                    "of the columns and dtypes feature_dtypes_)."
                    if hasattr(self, "feature_dtypes_")
                    else "."
                )
            )
        raise ValueError(f"{neither}; {remedy}")

    def _check_estimator(self, classes):
        name = type(self.estimator).__name__
        try:
            kind = get_tags(self.estimator).estimator_type
        except AttributeError:  # no scikit-learn tags: a classifier by its word
            kind = None
        # An unfitted meta-classifier (a stack) shows no predict yet: its tags
        # say what it is.
        has_predict = kind == "classifier" or hasattr(self.estimator, "predict")
        if not (hasattr(self.estimator, "fit") and has_predict):
            raise TypeError(
                "estimator must be a classifier with fit and predict (and "
                f"predict_proba, for most strategies); got {name}."
                + _missing_inner_estimator(self.estimator)
            )
        if kind not in (None, "classifier"):
            # Its outputs were read as class positions: a regressor's 2.7 as
            # the third class, a clusterer's cluster ids as classes.
            kind = kind.replace("_", " ")
            article = "an" if kind[0] in "aeiou" else "a"
            raise TypeError(
                f"estimator must be a classifier; {name} is {article} {kind}, "
                "whose predictions are no classes. Use a classifier, e.g. "
                "RandomForestClassifier(), or LogisticRegression() for a linear "
                "model."
            )
        if self.warm_start and not hasattr(self.estimator, "partial_fit"):
            raise ValueError(
                f"warm_start=True needs an estimator with partial_fit; "
                f"{type(self.estimator).__name__} has none. Use warm_start=False."
            )
        final = split_pipeline(self.estimator)[1]
        if isinstance(final, NeuralNetBinaryClassifier):
            raise TypeError(
                "NeuralNetBinaryClassifier trains on float targets with one "
                "output, not on the class positions this learner gives; use a "
                "NeuralNetClassifier with 2 outputs and CrossEntropyLoss (e.g. "
                "make_mlp_classifier(n_features, 2))."
            )
        net_classes = _final_step_param(self.estimator, "classes")
        if isinstance(final, NeuralNet) and net_classes is not None:
            if len(net_classes) != len(classes):
                raise ValueError(
                    f"The net is {len(net_classes)}-way but the learner has "
                    f"{len(classes)} classes "
                    f"{shown_names(classes.tolist(), 'classes')}; build it for "
                    f"{len(classes)} classes (e.g. make_mlp_classifier(n_features, "
                    f"{len(classes)})) or pass classes=[...]."
                )
        # Any skorch net, as the library's nets check it at their fit: else a
        # CUDA device this machine lacks is torch's bare AssertionError.
        net = _net_trained_with(self.estimator, "device")
        if net is not None:
            check_device(net.device)

    def _fit_embedding(self, X, dtypes=None):
        """The embedding in use from this fit: a fitted clone of a
        transformer, a callable as is, or None."""
        if self.embedding is None or not hasattr(self.embedding, "transform"):
            if self.embedding is not None and not callable(self.embedding):
                raise TypeError(
                    "embedding must be a transformer, a callable "
                    f"embedding(estimator, X) or None; got {self.embedding!r}."
                )
            return self.embedding
        # As a pipeline estimator, it gets a DataFrame's columns back.
        try:
            return clone(self.embedding).fit(
                X if dtypes is None else as_frame(X, dtypes)
            )
        except (TypeError, ValueError) as exc:
            # scikit-learn's words for a fit without y: a missing argument,
            # or validation's "requires y to be passed".
            if not ("argument: 'y'" in str(exc) or "requires y" in str(exc)):
                raise
            raise TypeError(
                f"embedding {type(self.embedding).__name__} needs labels to fit "
                "(a supervised transformer), but the learner fits it on the "
                "labelled rows, OOD ones among them, without labels: use an "
                "unsupervised transformer (e.g. PCA(10)), or a callable "
                "embedding(estimator, X)."
            ) from exc

    def _trained(
        self,
        previous,
        X,
        y,
        classes,
        ood_label,
        dtypes,
        classes_code,
    ):
        """A classifier trained on the IN rows of ``(X, y)`` (those not labelled
        `ood_label`); `self` is untouched.

        With the `dtypes` of a DataFrame's columns, the estimator gets its
        rows back as such a DataFrame (see ``feature_dtypes_``).
        Ctrl-C stops training with ``KeyboardInterrupt``, even in a skorch net,
        which trains inside the caller's ``torch.inference_mode()`` too.
        `classes_code` is code that names `classes` in the code an error
        gives to paste.
        """
        with interrupts_escape_training(), grad_enabled():
            estimator = self._train(previous, X, y, classes, ood_label, dtypes)
        _check_trained_on_positions(estimator, classes, classes_code)
        return estimator

    def _train(self, previous, X, y, classes, ood_label, dtypes):
        is_in = y != ood_label
        codes = encode_labels(classes, y[is_in])
        _check_validation_split(self.estimator, codes)
        try:
            return self._train_on_codes(previous, X[is_in], codes, classes, dtypes)
        except ValueError as exc:
            # Only what one class, or a class of one example, causes, not e.g.
            # an invalid parameter; scikit-learn's messages name class
            # positions the user never used.
            if isinstance(exc, InvalidParameterError):
                raise
            name = type(self.estimator).__name__
            one_class = np.unique(codes).size == 1 and "class" in str(exc).lower()
            if one_class:
                # e.g. LogisticRegression's "needs samples of at least 2 classes".
                only = np.asarray(classes).tolist()[codes[0]]
                raise ValueError(
                    f"{name} could not train on one in-distribution class: every "
                    f"labelled IN example is {only!r}. Label an example of "
                    "another IN class first, or use a classifier that trains on "
                    "one class (e.g. RandomForestClassifier, or a net from "
                    f"make_mlp_classifier).{_ood_label_hint(ood_label, (~is_in).any())}"
                ) from exc
            # A stratified validation split inside the classifier (early
            # stopping), e.g. "The least populated class in y has only 1
            # member ... Classes with too few members are: [3.0]".
            alone = np.asarray(classes)[np.flatnonzero(np.bincount(codes) == 1)]
            if "least populated class" in str(exc) and alone.size:
                raise ValueError(
                    f"{name} holds out part of the labelled IN examples of each "
                    "class for validation (e.g. to stop early), and cannot with "
                    f"one example of {alone.tolist()!r}: label a second example "
                    "of each such class, or turn the classifier's validation "
                    "split off (e.g. early_stopping=False)."
                ) from exc
            # Any other message naming a class by its position, e.g. QDA's
            # "The covariance matrix of class 0 is not full rank": which label
            # it is, in an error of the same type (LinAlgError is caught so).
            named = _labels_of_positions(str(exc), classes)
            if not named or type(exc) not in (ValueError, np.linalg.LinAlgError):
                raise
            rebuilt = type(exc)(
                f"{exc} ({name} trains on the positions of classes_: {named}.)"
            )
            # Notes added to the original (PEP 678) belong to this error too.
            if hasattr(exc, "__notes__"):
                rebuilt.__notes__ = list(exc.__notes__)
            raise rebuilt from exc

    def _train_on_codes(self, previous, X_in, codes, classes, dtypes):
        if previous is not None:
            estimator = _copy_to_train_on(previous)
            estimator.partial_fit(X_in, codes)
            return estimator
        estimator = clone(self.estimator)
        # The DataFrame back, for steps that select columns by name (in a
        # pipeline, or in one a search or calibration wraps), and for
        # categorical or text columns (pandas dtypes have a kind too), e.g.
        # for a HistGradientBoostingClassifier that reads categories from the
        # dtypes. Other classifiers keep arrays, and estimator_ their type.
        if dtypes is not None and (
            _holds_pipeline(estimator) or any(d.kind not in "biuf" for d in dtypes)
        ):
            estimator = frame_input(estimator, dtypes)
        # A later partial_fit cannot add a class the first training did not
        # declare, and the initial set may lack some.
        declared = self.warm_start and _takes_classes(estimator.partial_fit)
        # A classifier given its classes (a scikit-activeml one, a skorch
        # net) knows them all, labelled or not.
        knows_all = declared or _final_step_param(estimator, "classes") is not None
        estimator.set_params(
            **_class_parameters_by_code(
                estimator, classes, None if knows_all else np.unique(codes)
            )
        )
        if declared:
            return estimator.partial_fit(X_in, codes, classes=np.arange(len(classes)))
        return estimator.fit(X_in, codes)


def _labels_of_positions(message, classes):
    """The label of each class position ``class <n>`` that `message` names,
    as "class 0 is 'cat'"; "" where it names none, or where the classes are
    their own positions."""
    classes = np.asarray(classes)
    if np.array_equal(classes, np.arange(len(classes))):
        return ""
    positions = dict.fromkeys(int(n) for n in re.findall(r"\bclass (\d+)\b", message))
    labels = classes.tolist()  # Python's, whatever the array's dtype
    return ", ".join(
        f"class {n} is {labels[n]!r}" for n in positions if n < len(labels)
    )


# How a label is corrected where the learner is not the user's own object
# (a campaign of the command line): its warning says that instead.
_RELABELLING_ADVICE: ContextVar[str | None] = ContextVar("relabelling", default=None)


@contextmanager
def relabelling_advised(advice):
    """Within, the warning of rows labelled otherwise says `advice` on how
    to correct a label, not how to do so on the learner's attributes."""
    token = _RELABELLING_ADVICE.set(advice)
    try:
        yield
    finally:
        _RELABELLING_ADVICE.reset(token)


def _warn_of_rows_labelled_otherwise(
    X, y, X_labelled=None, y_labelled=None, frame=False
):
    """Warn if rows of `X` have the features of a row of `X_labelled` or `X`
    labelled otherwise: kept under each label, such a row trains the
    classifier on each, and one labelled ``ood_label`` too reads as IN and
    OOD at once (kNN purity, MQ-Net's target). Noisy data may truly hold
    such rows, and a label corrected by teaching the row again is appended,
    not replaced: a warning says how to correct it.

    Only the new rows are compared, exactly (:func:`exact_row_keys`), with
    the labelled rows and with each other.
    """
    dtype = X.dtype if X_labelled is None else np.result_type(X, X_labelled)
    keys = exact_row_keys(X, dtype)
    # A dict as an ordered set: the labels of each new row's features, the
    # labelled set's first.
    labels = {key: {} for key in keys}
    if X_labelled is not None:
        for key, label in zip(exact_row_keys(X_labelled, dtype), y_labelled.tolist()):
            if key in labels:
                labels[key][label] = None
    for key, label in zip(keys, y.tolist()):
        labels[key][label] = None
    relabelled = [key for key in keys if len(labels[key]) > 1]
    if not relabelled:
        return
    rows = "rows taught" if X_labelled is not None else "labelled rows"
    warn(
        f"{len(relabelled)} of the {len(keys)} {rows} share their features "
        "with a row of another label (e.g. one row labelled "
        f"{list(labels[relabelled[0]])}). The learner keeps such a row under "
        "each label: the classifier trains on each of its classes, and under a "
        "class and ood_label it counts as IN and OOD at once. "
        + (
            _RELABELLING_ADVICE.get()
            or "If this corrects a label, keep the row once, under the right "
            "label, in learner.X_labelled_ and learner.y_labelled_ (replace its "
            "label there and drop the other copies) and fit the learner again on "
            "them"
            + (
                " (as a DataFrame of the columns and dtypes feature_dtypes_)"
                if frame
                else ""
            )
        )
        + "; if identical inputs truly have different labels, ignore this "
        "warning."
    )


def _is_frozen(estimator):
    """Whether `estimator` (or a pipeline's last step) is a FrozenEstimator:
    fitted before, its fit does nothing."""
    return isinstance(split_pipeline(estimator)[1], FrozenEstimator)


def _check_trained_on_positions(estimator, classes, classes_code):
    """Refuse a trained classifier whose ``classes_`` are not positions
    ``0..k-1`` of `classes`: one prefitted (e.g. in a FrozenEstimator) on the
    labels themselves, whose predictions would name other classes, or none.

    Labels that are positions too (1 and 2 of classes [1, 2, 3]) cannot be
    told from them: the `estimator` parameter's documentation warns of it.
    `classes_code` is code that evaluates to `classes` as a list, which the
    code to paste uses where the message shortens them.
    """
    seen = getattr(estimator, "classes_", None)
    if seen is None or np.isin(seen, np.arange(len(classes))).all():
        return
    if isinstance(split_pipeline(estimator)[1], NeuralNet):
        return  # its classes_ echo its `classes`; its outputs are positions
    classes = np.asarray(classes)
    listed = classes.tolist()
    shown = shown_names(listed, "classes")
    code = listed if shown_whole(listed) else classes_code
    codes = _positions_code(code, ordered=np.all(classes[:-1] < classes[1:]))
    raise ValueError(
        f"The classifier ({type(estimator).__name__}) has classes_ "
        f"{shown_names(np.asarray(seen).tolist(), 'classes')}, but the learner "
        f"trains it on the positions 0..{len(listed) - 1} of the labels in its "
        f"classes {shown}, and maps its predictions "
        "back from them. A prefitted classifier (e.g. in a FrozenEstimator) "
        f"must have been fitted on those positions, {codes}, not on the labels; "
        "or pass it unfitted for the learner to train."
    )


def _positions_code(code, ordered):
    """Code to paste that gives a prefitted classifier's labels ``y_in`` as
    their positions in the classes that `code` names (`ordered`: sorted).

    Labels of no class raise there: ``np.searchsorted(classes, y)`` took an
    OOD row of a ``y`` that still held them for a class, silently.
    """
    # y_in, not y: the code that names the classes may read the learner's
    # y, whose OOD rows the classifier is not fitted on.
    if ordered:
        positions = f"sklearn.preprocessing.LabelEncoder().fit({code}).transform(y_in)"
    else:
        positions = f"[{code}.index(label) for label in y_in]"
    return f"{positions} for the labels y_in of its in-distribution rows"


def _check_validation_split(estimator, codes):
    """Refuse a skorch net whose ``ValidSplit(cv)`` cannot make `cv` folds of
    the IN rows it is to train on (class positions `codes`), where KFold
    would refuse them (StratifiedKFold: when every class has fewer rows):
    skorch's default ``ValidSplit(5)`` on a small labelled set, where
    scikit-learn's error names no remedy."""
    net = _net_trained_with(estimator, "train_split")
    split = getattr(net, "train_split", None)
    if not (isinstance(split, ValidSplit) and isinstance(split.cv, Integral)):
        return  # a float or a splitter: its own error
    counts = np.bincount(codes)
    rows = counts.max(initial=0) if split.stratified else len(codes)
    if split.cv <= rows:
        return
    stratified = ", stratified=True" if split.stratified else ""
    of_a_class = f", at most {rows} of any class," if split.stratified else ""
    raise ValueError(
        f"The net's train_split, ValidSplit({split.cv}{stratified}), holds out "
        f"one of {split.cv} folds for validation, but it is to train on "
        f"{len(codes)} in-distribution rows{of_a_class} too few for "
        f"{split.cv} folds. Build the net with train_split=None to train on "
        "every labelled row (as the nets of make_mlp_classifier do: active "
        "learning starts from few labels), or label more examples first."
    )


def _net_trained_with(estimator, setting):
    """The skorch net that :func:`_looked_through` finds in `estimator`, or
    None; but None too where a search on the way may give its candidates
    another `setting` (a parameter name, such as ``"device"``) than its
    template's, which is then not the one they train with."""
    net = _looked_through(estimator, lambda search: not _may_set(search, setting))[1]
    return net if isinstance(net, NeuralNet) else None


def _may_set(search, setting):
    """Whether `search` may give its candidates another `setting` than its
    template's: a key of its grid (or of one of its grids) names it at any
    depth (``train_split``, ``net__train_split``), a value is an estimator
    (which replaces a step, settings and all), or the search holds its
    candidates otherwise than in scikit-learn's ``param_grid`` or
    ``param_distributions``."""
    grids = getattr(search, "param_grid", getattr(search, "param_distributions", None))
    if grids is None:
        return True
    return any(
        setting in key.split("__") or _grid_estimators(values)
        for grid in (grids if isinstance(grids, list) else [grids])
        for key, values in grid.items()
    )


def _holds_pipeline(estimator):
    """Whether `estimator` is a pipeline or wraps one (e.g. a search over one,
    or with one among its grid's candidates), whose steps may select a
    DataFrame's columns by name."""
    if isinstance(estimator, Pipeline):
        return True
    for name, value in estimator.get_params(deep=True).items():
        if isinstance(value, Pipeline):
            return True
        if name.rsplit("__", 1)[-1] in ("param_grid", "param_distributions"):
            grids = value if isinstance(value, list) else [value]
            candidates = [
                c for grid in grids for v in grid.values() for c in _grid_estimators(v)
            ]
            if any(map(_holds_pipeline, candidates)):
                return True
    return False


def _is_estimator(value):
    return hasattr(value, "get_params") and not isinstance(value, type)


def _grid_estimators(values):
    """The estimators among a search grid's candidates `values`."""
    if not isinstance(values, (list, tuple)):
        return []  # a distribution draws no estimator
    return [value for value in values if _is_estimator(value)]


# Classifier parameters that name classes, by how they name them. The
# classifier trains on class positions, so each is given to it by position.
_KEYED_BY_CLASS = ("class_weight",)  # {label: weight}
_ONE_PER_CLASS = ("priors", "class_prior")  # a value per class, sorted
_ONE_CLASS = ("constant", "outlier_label")  # a label
_CLASS_PARAMETERS = _KEYED_BY_CLASS + _ONE_PER_CLASS + _ONE_CLASS


def _class_parameters_by_code(estimator, classes, trained):
    """The parameters of `estimator` that name classes (its own, a pipeline
    step's, a search's estimator's or grid's, or those of an estimator among
    a grid's candidates), each given by the positions in `classes` of the
    labels it names, as the classifier is trained on those positions:
    ``class_weight`` dicts keyed by position, ``priors`` and ``class_prior``
    (a value per class) cut to the trained classes, and the label of a
    ``constant`` or ``outlier_label`` made its position. They are found by
    name, as scikit-learn's classifiers call them.

    With `trained` (the positions the rows hold, where the classifier
    learns its classes from them), only their classes are kept:
    scikit-learn refuses a dict naming a class that the rows lack, or priors
    of another length, as the labelled set often lacks some early on;
    priors cut so are scaled to sum to 1 again. Raises
    ``InvalidParameterError`` (not taken for a one-class error) for a label
    that is no known class, for one value per output (this learner has one
    output) and for priors of another length than `classes`.
    """
    position = {label: code for code, label in enumerate(classes.tolist())}

    def by_code(value, name, parameter):
        if value is None or (
            parameter == "outlier_label"
            and isinstance(value, str)
            and value == "most_frequent"
        ):
            return value
        if parameter in _ONE_PER_CLASS:
            return one_per_class_by_code(value, name)
        if parameter in _ONE_CLASS:
            return one_class_by_code(value, name, parameter)
        if isinstance(value, (list, tuple)) and any(isinstance(w, dict) for w in value):
            raise InvalidParameterError(
                f"{name} is a list of dicts, one per output, but the learner "
                "trains on one label per row: pass one dict, keyed by its classes."
            )
        if not isinstance(value, dict):
            return value  # "balanced": no labels in it
        unknown = [key for key in value if key not in position]
        if unknown:
            raise InvalidParameterError(
                f"{name} has keys {shown_names(unknown, 'keys')} that are no known "
                f"class {shown_names(classes.tolist(), 'classes')}: key it by the "
                "in-distribution labels as "
                "given (OOD rows, which are never trained on, need no weight)."
            )
        return {
            position[key]: weight
            for key, weight in value.items()
            if trained is None or position[key] in trained
        }

    def one_per_class_by_code(value, name):
        if np.ndim(value) == 0:
            return value  # one for every class (scikit-activeml's class_prior)
        values = np.asarray(value, dtype=float)
        if values.shape != (len(classes),):
            raise InvalidParameterError(
                f"{name} has shape {values.shape}, but the learner has "
                f"{len(classes)} classes {shown_names(classes.tolist(), 'classes')}: "
                "give one value per class, in the order of the sorted classes "
                "(classes_)."
            )
        if trained is None:
            return value
        kept = values[trained]
        return kept / kept.sum() if kept.sum() > 0 else kept

    def one_class_by_code(value, name, parameter):
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        if np.ndim(value) != 0:
            raise InvalidParameterError(
                f"{name} is {value!r}, one label per output, but the learner "
                "trains on one label per row: give one label."
            )
        if value not in position:
            raise InvalidParameterError(
                f"{name}={value!r} is no known class "
                f"{shown_names(classes.tolist(), 'classes')}: the "
                "classifier predicts the in-distribution classes only (never "
                "the OOD label), so name one of them."
            )
        code = position[value]
        if parameter == "constant" and trained is not None and code not in trained:
            raise InvalidParameterError(
                f"{name}={value!r} names a class with no labelled example yet, "
                f"which the classifier cannot predict: label an example of "
                f"{value!r} first."
            )
        return code

    def candidate_by_code(value, name, parameter):
        """A grid's candidate: a parameter naming classes, or an estimator
        holding some."""
        if not _is_estimator(value):
            return value if parameter is None else by_code(value, name, parameter)
        params = _class_parameters_by_code(value, classes, trained)
        return clone(value).set_params(**params) if params else value

    def grid_by_code(grid, name):
        translated = dict(grid)
        for key, values in grid.items():
            parameter = key.rsplit("__", 1)[-1]
            parameter = parameter if parameter in _CLASS_PARAMETERS else None
            if parameter is None and not _grid_estimators(values):
                continue
            # scikit-learn's grids and samplers take a 1-D array as a list
            if isinstance(values, np.ndarray):
                if values.ndim != 1:
                    raise InvalidParameterError(
                        f"{name} gives {key} as a {values.ndim}-D array: give its "
                        "values as a list or a 1-D array."
                    )
                values = values.tolist()
            if not isinstance(values, (list, tuple)):
                raise InvalidParameterError(
                    f"{name} draws {key} from {type(values).__name__}, whose "
                    "values the learner cannot give by its class positions: "
                    "give the values as a list."
                )
            translated[key] = [
                candidate_by_code(v, f"{name}[{key!r}]", parameter) for v in values
            ]
        return translated

    params = {}
    for name, value in estimator.get_params(deep=True).items():
        last = name.rsplit("__", 1)[-1]
        if last in _CLASS_PARAMETERS:
            params[name] = by_code(value, name, last)
        elif last in ("param_grid", "param_distributions"):
            params[name] = (
                [grid_by_code(grid, name) for grid in value]
                if isinstance(value, list)
                else grid_by_code(value, name)
            )
    return params


def _ood_label_hint(ood_label, any_ood):
    """Where rows are labelled with a numeric `ood_label` (labels {-1, +1}
    under the default -1), how to make it a class instead; else ""."""
    if not any_ood or isinstance(ood_label, str):
        return ""
    return (
        f" Rows labelled {ood_label!r} are OOD (ood_label={ood_label!r}): if "
        f"{ood_label!r} is one of your classes, pass classes=[...] listing every "
        "class, and as ood_label the label your annotator gives OOD examples."
    )


def _missing_inner_estimator(estimator):
    """Advice where a meta-estimator shows no predict for want of its own."""
    get_params = getattr(estimator, "get_params", None)
    params = get_params(deep=False) if callable(get_params) else {}
    # SelfTrainingClassifier() shows predict only once given an estimator.
    for key in ("estimator", "base_estimator"):
        if key in params and params[key] is None:
            return (
                f" Its {key} is None, so it has no predict: give it a "
                f"classifier, e.g. {type(estimator).__name__}"
                f"({key}=LogisticRegression())."
            )
    return ""


def _warn_of_one_inferred_class(classes, any_ood, ood_label):
    """Warn that classes inferred from rows of one IN class leave the learner
    that class until it is fitted again (teach refuses a new class)."""
    warn(
        f"Every labelled IN row is {classes.tolist()[0]!r}, the one class inferred "
        "from them, so the classifier predicts it everywhere. Pass classes=[...] "
        "listing every IN class: a class not among the classes is taken only by "
        f"fitting again.{_ood_label_hint(ood_label, any_ood)}"
    )


def _checked_classes(classes, name, ood_label):
    """`classes`, a parameter `name` that lists classes (the learner's, or its
    classifier's), as a 1-d array; a ValueError that says how to give them
    where they are no list of labels, where they mix kinds and list
    `ood_label`, or where the array would not hold each as given (see
    :func:`check_held_apart`). A 0-d array is read as the value it holds
    (``np.array('a')`` as ``'a'``), as numpy reads it."""
    try:
        held = np.asarray(classes)
        given = given_values(classes)
    # A set, a single label, a table, or lists of different lengths: numpy's
    # and column_or_1d's messages name no parameter (the latter says "y").
    except ValueError:
        held = None
    # Not 1-d as given: a column ([[0], [1]]) or arrays of one label were
    # read as its labels, and bytearrays (numpy's rows of bytes) as numbers,
    # where in_classes and scikit-learn's unique_labels refuse them. An
    # object array's cells may be anything: arrays of different lengths, or
    # sets, failed the check of repeated classes ("unhashable type").
    if (
        held is None
        or held.ndim != 1
        or not held.size
        or not all(map(is_one_label, given))
    ):
        # An empty one would be taken for boolean classes (all of none are).
        raise ValueError(
            f"{name} must list the in-distribution classes, as a list or 1-d "
            f"array, got {reprlib.repr(classes)}: pass e.g. classes=['cat', "
            "'dog'], or sorted(s) for a set s (classes_ are sorted whatever "
            "the order given)."
        )
    declared = column_or_1d(held)
    missing_advice = (
        "a missing value is no class; list the in-distribution classes without it."
    )
    check_none_missing_at(np.asarray(given, dtype=object), name, missing_advice)
    # Before their kinds: [0, 1, 'unknown'] mixes them through the OOD label
    # alone, whose remedy is to leave it out, not to give one kind.
    if len({value_kind(v) for v in given}) > 1:
        _refuse_listed_ood_label(given, name, ood_label)
    _check_one_label_kind(np.asarray(given, dtype=object), name, missing_advice)
    check_booleans_apart(given, name)
    check_each_once(given, name, "class")
    check_held_apart(given, declared, name)
    return declared


def _refuse_listed_ood_label(classes, name, ood_label):
    """Refuse `ood_label` among `classes`, the list that the parameter `name`
    gives: its examples would never be trained on."""
    if ood_label in set(classes):
        raise ValueError(
            f"ood_label={ood_label!r} is one of the known classes "
            f"{shown_names(classes, 'classes')}; its examples would never be "
            f"trained on: leave {ood_label!r} out of {name}, which lists the "
            "in-distribution classes only, or pass the label your annotator "
            "gives OOD examples as ood_label."
        )


def _check_one_label_kind(labels, name, missing_advice):
    """The in-distribution classes must be of one kind; the OOD label may not."""
    check_one_label_kind(
        labels,
        f"{name} mix",
        "give every in-distribution class a label of one kind, e.g. all "
        "strings. The OOD label may be of another kind.",
        name=name,
        missing_advice=missing_advice,
    )


def _one_kind_advice(y, kind, classes, allowed, teaching):
    """How to give labels `y`, some of `kind` unlike `classes`, in one kind.

    A cast of `y` is suggested only where it succeeds on every label and
    makes each an `allowed` one (a known class or the OOD label); else, at
    fit, `classes` in the labels' kind.
    """
    cast = {"strings": "str", "bytes": "bytes"}.get(label_kind(classes))
    if cast is None:
        cast = "float" if np.asarray(classes.tolist()).dtype.kind == "f" else "int"
    labels = list(dict.fromkeys(y.tolist()))
    try:
        converted = set(np.asarray(labels, dtype=object).astype(cast).tolist())
    except (ValueError, TypeError, OverflowError):  # "unknown" as an int
        converted = None
    if converted is not None and converted <= allowed:
        return f"convert them, e.g. with y.astype({cast})."
    if teaching:  # classes are set at fit
        return f"give labels of the classes' kind ({label_kind(classes)})."
    # (fit has refused an ood_label of another kind than the labels.)
    to_kind = {"strings": _as_text, "bytes": lambda v: _as_text(v).encode()}.get(kind)
    in_kind = None if to_kind is None else [to_kind(c) for c in classes.tolist()]
    # Only classes that are labels given (not '0.0' for '0').
    if in_kind is None or not set(in_kind) <= set(labels):
        return "give classes in the labels' kind."
    return f"give classes in the labels' kind, e.g. classes={in_kind}."


def _as_text(value):
    """`value` as a string: bytes decoded, not "b'...'"."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _check_discrete(labels):
    """Refuse numbers that are no classes (a regression target), with
    scikit-learn's classifiers' message; it reads strings, bytes and object
    arrays otherwise, so only numbers, as an array of numbers, go to it.

    Not check_classification_targets, which also warns where over half the
    labels are distinct classes, as in a taught batch of many classes: a
    warning of the labelled set, which a scikit-learn classifier gives itself.
    """
    if len(labels) and label_kind(labels) == "numbers":
        kind = type_of_target(np.asarray(labels.tolist()), input_name="y")
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                f"Unknown label type: {kind}. Maybe you are trying to fit a "
                "classifier, which expects discrete classes on a regression "
                "target with continuous values."
            )


def _copy_to_train_on(estimator):
    """A deep copy of `estimator` that shares a skorch net's recorded epochs.

    A net's history gains an entry for each epoch, and training writes only
    to the entries it adds: copied whole, in time that grows with the epochs
    recorded, it made each teach of a long ``warm_start`` campaign slower
    than the last.
    The copy's history is a list of its own, so the original's stays as it
    was whatever the training does.
    """
    history = getattr(estimator, "history_", None)
    epochs = history if isinstance(history, History) else ()
    return copy.deepcopy(estimator, {id(epoch): epoch for epoch in epochs})


def _takes_classes(partial_fit):
    return "classes" in inspect.signature(partial_fit).parameters


def _takes_default_n_instances(strategy):
    """Whether `strategy` is given ``n_instances=1`` by a query that names
    none: not where a partial (of partials) presets it, modAL's way, nor
    where it takes no ``n_instances``, as modAL passes none (the function of
    modAL's "Extending modAL" takes ``(classifier, X_pool)``)."""
    while isinstance(strategy, partial):
        if "n_instances" in strategy.keywords:
            return False
        strategy = strategy.func
    try:
        parameters = inspect.signature(strategy).parameters.values()
    except (TypeError, ValueError):  # no signature to read: given, as before
        return True
    return any(p.name == "n_instances" or p.kind is p.VAR_KEYWORD for p in parameters)


def _cloned_strategy(strategy):
    """A clone of the query strategy `strategy`, inside its partials if any
    (modAL presets ``n_instances`` with one): the learner's own copy (a copy
    of a strategy that is no estimator, e.g. a modAL function)."""
    if isinstance(strategy, partial):
        return partial(
            _cloned_strategy(strategy.func), *strategy.args, **strategy.keywords
        )
    return clone(strategy, safe=False)


def _check_not_modal_ranked_batch(strategy):
    """Refuse modAL's ranked batch (``uncertainty_batch_sampling``, a partial
    of it included): it reads modAL's own learner, ``on_transformed`` and
    ``X_training`` as the labelled set, which ours is not."""
    strategy = called_strategy(strategy)
    if getattr(strategy, "__module__", None) == "modAL.batch":
        raise TypeError(
            f"modAL's {getattr(strategy, '__name__', 'ranked batch')} reads "
            "modAL's own learner (on_transformed, and X_training as the "
            "labelled set, here the initial set only), so it cannot query this "
            "ActiveLearner: for a batch both uncertain and diverse pass "
            "BadgeQuery(), or use it with modAL's ActiveLearner."
        )


class _Shape:
    """Stands in for an array in a repr: its type and shape."""

    def __init__(self, value):
        try:
            shape = np.shape(value)
        except ValueError:  # ragged rows: fit says so, the repr must not fail
            shape = f"({len(value)} rows)"
        self.text = f"<{type(value).__name__} {shape}>"

    def __repr__(self):
        return self.text


# A fingerprint of another format is not compared (a learner saved before):
# change it whenever a setting comes to be fingerprinted otherwise.
_SETTINGS_FORMAT = (
    "content_hash, generators and a partial's objects by identity; "
    "ood_label, embedding, classes"
)

# The parameters read at fit only: a later change takes effect at the next fit.
_SET_AT_FIT = ("query_strategy", "ood_label", "embedding", "classes")

# Code that names the classes a fit infers from its labels y.
_INFERRED_CLASSES = "sorted(set(y) - {learner.ood_label})"


def _settings(learner):
    """The values of the learner's parameters that take effect at `fit`."""
    return _SETTINGS_FORMAT, {
        name: _setting(getattr(learner, name)) for name in _SET_AT_FIT
    }


def _setting(value):
    """The value of a parameter, with its (nested) parameters, to see a change.

    A class or function by its content (its name); a partial by its function and
    arguments, numbers, strings, arrays and tuples of these by content, any
    other object by identity (a list or dict too); a bound method by its
    function and its object's identity; any other callable without
    parameters by its type: the state of an object may change as it is
    called.
    """
    if isinstance(value, type):  # the () forgotten: its get_params needs self
        return _fingerprint(value)
    if isinstance(value, MethodType):
        return _fingerprint(value.__func__), SameObject(value.__self__)
    if isinstance(value, partial):
        return (
            _setting(value.func),
            tuple(map(_partial_argument, value.args)),
            {k: _partial_argument(v) for k, v in value.keywords.items()},
        )
    if isinstance(value, FunctionType) or not (
        callable(value) or hasattr(value, "get_params")
    ):
        return _fingerprint(value)
    if not hasattr(value, "get_params"):
        # A callable object of one's own: its state may change as it queries.
        return type(value).__qualname__
    params = value.get_params(deep=True)
    values = {
        k: _fingerprint(v) for k, v in params.items() if not hasattr(v, "get_params")
    }
    return values


def _partial_argument(value):
    """A partial's argument: plain data by content, any other object (a PCA
    fitted on first call, a memo dict filled as it is used, a generator) by
    identity, as a bound method's object is: its state may change as the
    partial is called."""
    return _fingerprint(value) if _is_plain_data(value) else SameObject(value)


def _is_plain_data(value):
    """Whether `value` is a number, str, bytes, None or array, or a tuple of
    these. Not a list or dict: the function may fill it (a memo)."""
    if isinstance(value, tuple):
        return all(map(_is_plain_data, value))
    return value is None or isinstance(
        value, (Number, str, bytes, np.ndarray, np.generic)
    )


def _fingerprint(value):
    """`value` by content, the same in a copy (pickled, or loaded in another
    process): a function by its name; a repr would hold its address. A random
    generator or torch module by identity: drawing from it is no change."""
    if isinstance(value, STATEFUL_SETTINGS):
        return SameObject(value)
    try:
        return content_hash(value)
    except UNHASHABLE:  # a lambda: it cannot be copied to another process anyway
        return repr(value)


def _check_rows_of(X, name, estimator):
    """`X` as an array of at least one row, finite where `estimator` needs it.

    NaN (missing values) may stay if the classifier takes them; errors name
    the argument.
    """
    # Before the 1-D advice, which a 1-D sparse array cannot follow (np.reshape).
    refuse_sparse(X, name, rows=True)
    ndim = _ndim(X)
    if ndim is None:
        # Before check_array, whose numpy message names no argument, nor a remedy.
        if len({len(row) if hasattr(row, "__len__") else -1 for row in X}) > 1:
            raise ValueError(
                f"{name} holds rows of different lengths: give every row the same "
                "number of features, as an array of shape (n_samples, n_features)."
            )
        raise ValueError(
            f"{name} holds a list or array in a cell: give one value per cell, "
            "as an array of shape (n_samples, n_features)."
        )
    if ndim == 1:
        # Before check_array, whose message holds the whole array's repr.
        raise ValueError(_one_dimensional_advice(X, name))
    X = check_rows(X, estimator, name, ensure_min_samples=0)
    if len(X) == 0:
        raise ValueError(f"{name} has 0 samples; pass at least one row.")
    return X


def _check_vectorizer_input(X, estimator):
    """Refuse 2-D rows `X` for a pipeline whose first step is a text vectorizer.

    A vectorizer reads one text per item of a 1-D input; given the column of
    texts the learner takes, it reads each row (an array) as a text and fails
    in scikit-learn with "'numpy.ndarray' object has no attribute 'lower'".
    One whose own callable reads each item first (:func:`_reads_rows`) may
    read rows, and is left to do so, as is one without scikit-learn's
    settings, whose own errors say what it reads.
    """
    if not isinstance(estimator, Pipeline) or X.ndim != 2:
        return
    first = estimator[0]
    if not (hasattr(first, "build_analyzer") and hasattr(first, "analyzer")):
        return
    if _reads_rows(first):
        return
    vectorizer = type(first).__name__
    raise ValueError(
        f"The pipeline's first step, {vectorizer}, reads a 1-D list of texts, "
        "but the learner takes its rows 2-D, as one column of texts: put the "
        "vectorizer in a column transformer that hands it column 0, "
        f"make_pipeline(make_column_transformer(({vectorizer}(...), 0)), "
        "classifier), and pass the texts as texts.reshape(-1, 1)."
    )


def _reads_rows(vectorizer):
    """Whether text `vectorizer` hands each item first to a callable of the
    user's, which may read a row, rather than to a step of its own that takes
    a string. In scikit-learn's order: the analyzer; else the preprocessor;
    else lowercasing, then stripping accents, then, for words, the tokenizer
    (the settings a vectorizer lacks as scikit-learn's defaults)."""
    analyzer = vectorizer.analyzer
    if callable(analyzer) or callable(getattr(vectorizer, "preprocessor", None)):
        return True
    if getattr(vectorizer, "lowercase", True):
        return False
    strip_accents = getattr(vectorizer, "strip_accents", None)
    if strip_accents is not None:
        return callable(strip_accents)
    return analyzer == "word" and callable(getattr(vectorizer, "tokenizer", None))


def _ndim(X):
    """The number of dimensions of array-like `X`, or None for ragged rows."""
    ndim = getattr(X, "ndim", None)
    if ndim is not None:
        return ndim
    try:
        # Not np.ndim, which array-likes may refuse (__array_function__).
        return np.asarray(X).ndim
    except ValueError:  # "inhomogeneous shape"
        return None


def _one_dimensional_advice(X, name):
    """What to do with 1-D `X`, in scikit-learn's words ("Reshape your data")."""
    if hasattr(X, "to_frame"):  # a pandas Series
        column, row = f"{name}.to_frame()", f"{name}.to_frame().T"
    elif isinstance(X, np.ndarray):
        column, row = f"{name}.reshape(-1, 1)", f"{name}.reshape(1, -1)"
    else:
        column, row = f"np.reshape({name}, (-1, 1))", f"np.reshape({name}, (1, -1))"
    start = (
        f"{name}: Expected 2D array, got 1D array instead; the learner takes one "
        "row per example."
    )
    if np.asarray(X).dtype.kind in "OSU":
        # Texts first: reshaped alone, they fail in a plain
        # make_pipeline(TfidfVectorizer(), ...), whose vectorizer reads 1-D.
        return (
            f"{start} For raw texts, pass them as one column, {column}, to a "
            "pipeline that hands column 0 to the vectorizer: "
            "make_pipeline(make_column_transformer((TfidfVectorizer(), 0)), "
            f"classifier). For a single sample, use {row}."
        )
    return (
        f"{start} Reshape your data either using {column} if your data has a "
        f"single feature or {row} if it contains a single sample."
    )


def _chosen_positions(chosen, n_pool):
    """The pool positions in a query strategy's answer, checked."""
    # A tuple is modAL's (indices, instances) or our (indices, scores);
    # anything else is the indices alone.
    indices = np.asarray(chosen[0] if isinstance(chosen, tuple) else chosen)
    if indices.ndim != 1 or not (
        indices.dtype.kind in "iu" or (indices.size == 0 and indices.dtype.kind == "f")
    ):
        raise TypeError(
            "The query strategy must return the chosen pool positions as a 1-D "
            "integer array, or a tuple (indices, scores); it returned "
            f"{type(chosen).__name__} {_abbreviated(chosen)}."
        )
    if indices.size and (indices.min() < 0 or indices.max() >= n_pool):
        raise ValueError(
            f"The query strategy returned positions outside the pool of {n_pool} "
            f"rows: {_abbreviated(indices)}. Return positions 0..{n_pool - 1} "
            "in X_pool, not index labels."
        )
    unique, counts = np.unique(indices, return_counts=True)
    if (counts > 1).any():
        raise ValueError(
            f"The query strategy returned position {unique[counts > 1][0]} more "
            "than once; it must choose distinct rows of X_pool."
        )
    return indices.astype(np.intp, copy=False)


def _abbreviated(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _final_step_param(estimator, name):
    """Parameter `name` of the final step of `estimator`, or None."""
    final = split_pipeline(estimator)[1]
    return (
        final.get_params(deep=False).get(name) if hasattr(final, "get_params") else None
    )
