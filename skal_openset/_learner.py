"""The open-set active learner: a modAL-style loop that keeps OOD out of training."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_array, check_consistent_length

from ._strategies._base import QueryStrategy
from ._strategies._uncertainty import UncertaintyQuery


class ActiveLearner(BaseEstimator):
    """Pool-based active learner for pools polluted with out-of-distribution data.

    Its constructor and methods follow modAL's ``ActiveLearner`` (``query``,
    ``teach``, ``predict``, ``score``), with two open-set rules: labelled
    OOD examples (label ``ood_label``) are kept for the query strategy but
    never train the classifier, and ``teach`` hands the new labels to the
    strategy (``query_strategy.update``) *before* retraining, so a strategy
    that learns from its own queries (:class:`MQNetQuery`) sees the loss of
    the classifier that chose them. The classifier is then retrained from
    scratch on the in-distribution examples of everything labelled so far.

    As a scikit-learn estimator, the constructor only stores its arguments;
    the classifier is trained on ``X_training, y_training`` by `fit`, or at
    the first `query` or `teach`.

    Parameters
    ----------
    estimator : classifier
        Template of the classifier (e.g. a skorch net from
        ``make_mlp_classifier``); cloned, never modified.
    query_strategy : QueryStrategy or callable, default=None
        ``strategy(learner, X_pool, n_instances=...) -> (indices, scores)``.
        None means ``UncertaintyQuery()`` (modAL's default). Cloned at `fit`
        when it is a :class:`QueryStrategy`.
    X_training : array-like of shape (n_samples, ...), default=None
        Initial labelled examples.
    y_training : array-like of shape (n_samples,), default=None
        Their labels: classes, or `ood_label`.
    ood_label : int, default=-1
        Label the annotator gives to out-of-distribution examples.
    classes : array-like, default=None
        The known (in-distribution) classes. None takes the estimator's
        ``classes`` parameter when it has one (skorch), else the
        in-distribution labels of the first labelled set.
    warm_start : bool, default=False
        If True, `teach` continues training the current classifier
        (``partial_fit``) instead of retraining it from scratch.

    Attributes
    ----------
    estimator_ : classifier
        The classifier trained on the labelled in-distribution examples.
    query_strategy_ : QueryStrategy or callable
        The strategy in use (a clone of `query_strategy`), with its state.
    X_labelled_ : ndarray of shape (n_labelled, ...)
        Every labelled example, OOD included.
    y_labelled_ : ndarray of shape (n_labelled,)
        Their labels.
    classes_ : ndarray
        The known classes.

    Examples
    --------
    >>> from skal_openset import (ActiveLearner, MQNetQuery, load_digits_dataset,
    ...                           make_mlp_classifier, make_open_set_split)
    >>> X, y = load_digits_dataset()
    >>> split = make_open_set_split(X, y, n_in_classes=4, noise_ratio=0.4,
    ...                             initial_size=40, random_state=0)
    >>> learner = ActiveLearner(
    ...     estimator=make_mlp_classifier(64, 4, max_epochs=20, random_state=0),
    ...     query_strategy=MQNetQuery(random_state=0),
    ...     X_training=split.X_pool[split.initial_idx],
    ...     y_training=split.y_pool[split.initial_idx],
    ... )
    >>> indices, X_query = learner.query(split.X_pool, n_instances=10)
    >>> learner.teach(X_query, split.y_pool[indices]).X_labelled_.shape
    (50, 64)
    """

    def __init__(
        self,
        estimator,
        query_strategy=None,
        X_training=None,
        y_training=None,
        *,
        ood_label=-1,
        classes=None,
        warm_start=False,
    ):
        self.estimator = estimator
        self.query_strategy = query_strategy
        self.X_training = X_training
        self.y_training = y_training
        self.ood_label = ood_label
        self.classes = classes
        self.warm_start = warm_start

    def fit(self, X, y):
        """Start over: make ``(X, y)`` the labelled set and train on its IN rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Labelled examples.
        y : array-like of shape (n_samples,)
            Their labels: known classes, or `ood_label`.

        Returns
        -------
        self : object
        """
        if not isinstance(self.ood_label, Integral):
            raise ValueError(f"ood_label must be an integer, got {self.ood_label!r}.")
        X, y = self._check_labelled(X, y)
        classes = self._resolve_classes(y)
        if self.ood_label in classes:
            raise ValueError(
                f"ood_label={self.ood_label} is one of the known classes "
                f"{classes.tolist()}; its examples would never be trained on."
            )
        self._check_known_labels(y, classes)
        if np.all(y == self.ood_label):
            raise ValueError(
                "The labelled set holds no in-distribution example, so there is "
                "nothing to train the classifier on."
            )
        strategy = self.query_strategy
        if strategy is None:
            strategy = UncertaintyQuery()
        # Attributes are set only once every check has passed.
        self.classes_ = classes
        self.query_strategy_ = (
            clone(strategy) if isinstance(strategy, QueryStrategy) else strategy
        )
        self.X_labelled_, self.y_labelled_ = X, y
        self._train(warm=False)
        return self

    def query(self, X_pool, n_instances=1, **query_kwargs):
        """Choose the pool examples to label next.

        Parameters
        ----------
        X_pool : array-like of shape (n_pool, ...)
            Unlabelled examples.
        n_instances : int, default=1
            How many to choose.
        **query_kwargs
            Passed on to the query strategy.

        Returns
        -------
        indices : ndarray of shape (n_instances,)
            Positions in `X_pool`, highest priority first.
        X_query : ndarray of shape (n_instances, ...)
            ``X_pool[indices]``.
        """
        self._fit_on_initial_set()
        indices, _ = self.query_strategy_(
            self, X_pool, n_instances=n_instances, **query_kwargs
        )
        return indices, np.asarray(X_pool)[indices]

    def teach(self, X, y):
        """Add labelled examples, let the strategy learn from them, retrain.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Newly labelled examples (typically the last query).
        y : array-like of shape (n_samples,)
            Their labels: known classes, or `ood_label`.

        Returns
        -------
        self : object
        """
        if not hasattr(self, "estimator_") and self.X_training is None:
            return self.fit(X, y)
        self._fit_on_initial_set()
        X, y = self._check_labelled(X, y)
        self._check_known_labels(y, self.classes_)
        update = getattr(self.query_strategy_, "update", None)
        if update is not None:
            update(self, X, y)
        self.X_labelled_ = np.concatenate([self.X_labelled_, X])
        self.y_labelled_ = np.concatenate([self.y_labelled_, y])
        self._train(warm=self.warm_start)
        return self

    def predict(self, X):
        """Class predictions of the current classifier."""
        self._fit_on_initial_set()
        return self.estimator_.predict(X)

    def predict_proba(self, X):
        """Class probabilities of the current classifier."""
        self._fit_on_initial_set()
        return self.estimator_.predict_proba(X)

    def score(self, X, y):
        """Accuracy of the current classifier on in-distribution data ``(X, y)``."""
        self._fit_on_initial_set()
        return self.estimator_.score(X, y)

    def _fit_on_initial_set(self):
        if hasattr(self, "estimator_"):
            return
        if self.X_training is None or self.y_training is None:
            raise NotFittedError(
                "This ActiveLearner has no labelled data yet: pass X_training and "
                "y_training, or call fit or teach first."
            )
        self.fit(self.X_training, self.y_training)

    def _check_labelled(self, X, y):
        X = check_array(X, allow_nd=True, dtype=None, input_name="X")
        y = np.asarray(y)
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(
                "y must be a 1-D array of integer labels (classes or ood_label); "
                f"got shape {y.shape} and dtype {y.dtype}."
            )
        check_consistent_length(X, y)
        return X, y

    def _resolve_classes(self, y):
        if self.classes is not None:
            return np.asarray(self.classes)
        classes = getattr(self.estimator, "classes", None)
        if classes is not None:
            return np.asarray(classes)
        return np.unique(y[y != self.ood_label])

    def _check_known_labels(self, y, classes):
        unknown = np.setdiff1d(y, np.append(classes, self.ood_label))
        if unknown.size:
            raise ValueError(
                f"Labels {unknown.tolist()} are neither known classes "
                f"{classes.tolist()} nor ood_label={self.ood_label}."
            )

    def _train(self, warm):
        is_in = self.y_labelled_ != self.ood_label
        X_in, y_in = self.X_labelled_[is_in], self.y_labelled_[is_in]
        if warm:
            self.estimator_.partial_fit(X_in, y_in)
        else:
            self.estimator_ = clone(self.estimator).fit(X_in, y_in)
