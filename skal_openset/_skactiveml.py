"""The query strategies through scikit-activeml's pool contract."""

from types import FunctionType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, clone

from ._hashing import STATEFUL_SETTINGS, UNHASHABLE, SameObject, content_hash
from ._labels import (
    check_each_once,
    check_no_trailing_nul,
    check_one_ood_label,
    label_array,
)
from ._learner import ActiveLearner
from ._model_scores import _holds_estimators, has_nan
from ._strategies._base import QueryStrategy
from ._typing import IntLike
from ._validation import (
    check_classifier_rows,
    check_one_label_per_row,
    is_int,
    refuse_no_columns,
    refuse_sparse,
)
from ._warn import warn


class SkactivemlQuery(BaseEstimator):
    """Any query strategy of this package as a scikit-activeml pool strategy.

    scikit-activeml strategies are called as ``query(X, y, clf, ...)`` on
    the whole data set, with unlabelled rows marked by ``missing_label``.
    This adapter keeps an :class:`ActiveLearner` between calls: the first
    call fits it on the labelled rows; each later call first *teaches* it the
    rows that were labelled since the previous call, in the order its query
    ranked them, as :class:`ActiveLearner`'s loop does (so MQ-Net learns from
    the query that chose them, with the classifier that chose them, and OOD
    rows stay out of training), then queries the candidates. It fits a new
    learner on the labelled rows instead when a label was removed or
    corrected, when the labelled rows of `X` changed, when rows were
    labelled that its last query did not choose (e.g. by another
    scikit-activeml strategy), when they hold an IN class the learner does
    not know (with ``classes=None``), or when `clf` or this adapter's
    parameters changed since the previous call (a random state or torch
    module among them by identity: the user's own fits change their state).
    Built afresh after the first call, a learner whose strategy learns from
    its queries (MQ-Net) has lost what it learnt: the call warns, naming why.

    Parameters
    ----------
    strategy : QueryStrategy
        E.g. ``MQNetQuery(random_state=0)``; cloned at the first call.
    ood_label : int or str, default=-1
        The label the annotator gives to out-of-distribution rows.
    classes : array-like or None, default=None
        The known (in-distribution) classes; None takes ``clf.classes``
        (scikit-activeml's ``SklearnClassifier``) but `ood_label`, which
        scikit-activeml needs listed there to fit on `y` with OOD rows, else
        the labels seen (a query that finds another IN class refits the
        learner).
    missing_label : scalar or None, default=np.nan
        The marker of unlabelled rows, as in scikit-activeml (None where
        they hold None); a scikit-activeml `clf` must use the same. Not
        pandas.NA, which equals nothing: mark such rows with NaN instead.

    Attributes
    ----------
    learner_ : ActiveLearner
        The learner built from the labelled rows, with the strategy's state.
    labelled_ : ndarray of shape (n_samples,), dtype=bool
        The rows that were labelled at the last call.
    labels_ : ndarray of shape (n_samples,)
        `y` at the last call. If a row labelled then is unlabelled or
        labelled otherwise now, the next call builds the learner afresh from
        the labelled rows instead of teaching it the new ones.
    query_indices_ : ndarray of shape (batch_size,)
        The rows the last call chose; none after a call that taught or
        rebuilt the learner but whose query failed (e.g. Ctrl-C).

    Notes
    -----
    ``clf`` is used as the template of the learner's classifier; a
    scikit-activeml ``SklearnClassifier`` is unwrapped to the classifier it
    wraps, since the learner already handles labels and missing labels, and
    another scikit-activeml classifier (e.g. ``ParzenWindowClassifier``) gets
    the class positions ``0..k-1`` the learner trains on as its ``classes``. The
    classifier is always (re)trained, so ``fit_clf`` is ignored. Utilities
    are not available: the strategies score the batch they choose only.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal_openset import MQNetQuery, SkactivemlQuery
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 3)); y = np.full(60, np.nan)
    >>> y[:6] = [0, 1, 0, 1, -1, -1]
    >>> qs = SkactivemlQuery(MQNetQuery(random_state=0, diversity_pool=None))
    >>> qs.query(X, y, LogisticRegression(), batch_size=4).shape
    (4,)
    """

    def __init__(
        self,
        strategy: QueryStrategy,
        *,
        ood_label: Any = -1,
        classes: ArrayLike | None = None,
        missing_label: Any = np.nan,
    ) -> None:
        self.strategy = strategy
        self.ood_label = ood_label
        self.classes = classes
        self.missing_label = missing_label

    def query(
        self,
        X: ArrayLike,
        y: ArrayLike,
        clf: Any,
        fit_clf: bool = True,
        sample_weight: ArrayLike | None = None,
        candidates: ArrayLike | None = None,
        batch_size: IntLike = 1,
        return_utilities: bool = False,
    ) -> np.ndarray:
        """Indices of the rows of `X` to label next.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Labelled and unlabelled rows. A DataFrame is given to the
            classifier as one (rows taken by position), so a pipeline may
            select its columns by name.
        y : array-like of shape (n_samples,)
            Labels, `missing_label` for unlabelled rows, `ood_label` for OOD.
        clf : classifier
            Template of the classifier (plain, a scikit-activeml
            ``SklearnClassifier`` or another scikit-activeml classifier).
        fit_clf : bool, default=True
            Ignored (the learner always trains its own copy).
        sample_weight : None, default=None
            Not supported (a ValueError otherwise); in scikit-activeml's
            signature for compatibility.
        candidates : array-like of int or None, default=None
            Indices of the rows that may be chosen; None means every
            unlabelled row.
        batch_size : int, default=1
        return_utilities : bool, default=False
            Must be False.

        Returns
        -------
        query_indices : ndarray of shape (batch_size,)
            Indices into `X`, highest priority first.
        """
        if return_utilities or sample_weight is not None:
            raise ValueError(
                "SkactivemlQuery supports neither return_utilities=True nor "
                "sample_weight: the strategies score only the batch they choose."
            )
        if not isinstance(self.strategy, QueryStrategy):
            raise TypeError(
                f"strategy must be a query strategy of skal_openset, such as "
                f"MQNetQuery(random_state=0), got {self.strategy!r}."
            )
        X = _checked_rows(X)
        y = label_array(y)
        check_one_label_per_row(len(X), y)
        check_one_ood_label(self.ood_label)
        check_no_trailing_nul(
            self.missing_label, "missing_label", "the labels of unlabelled rows"
        )
        if not _is_nan(self.missing_label) and not _equals(
            self.missing_label, self.missing_label
        ):
            raise ValueError(
                f"missing_label={self.missing_label!r} equals no value, not even "
                "itself (pandas.NA), so it would mark no row as unlabelled. Mark "
                "unlabelled rows with NaN and keep the default missing_label: "
                "y = np.where(pd.isna(y), np.nan, y)."
            )
        if _is_missing(np.array([self.ood_label], dtype=object), self.missing_label)[0]:
            raise ValueError(
                f"missing_label={self.missing_label!r} equals ood_label: every OOD "
                "answer would read as unlabelled. Mark unlabelled rows with "
                "another value (scikit-activeml's default is NaN)."
            )
        theirs = getattr(clf, "missing_label", self.missing_label)
        if (
            _is_skactiveml(clf)
            and _is_missing(np.array([theirs], dtype=object), self.missing_label).sum()
            != 1
        ):
            raise ValueError(
                f"clf marks unlabelled rows with missing_label={theirs!r}, this "
                f"adapter with missing_label={self.missing_label!r}; they must be "
                f"equal: pass SkactivemlQuery(..., missing_label={theirs!r})."
            )
        if _is_nan(self.missing_label) and y.dtype.kind in "US":
            # np.array(["cat", np.nan]) holds the text 'nan': every row would
            # read as labelled, 'nan' as a class.
            raise ValueError(
                f"y is an array of {'strings' if y.dtype.kind == 'U' else 'bytes'}, "
                "which holds no NaN (numpy writes np.nan into one as the text "
                f"'nan', {np.count_nonzero(y == y.dtype.type('nan'))} rows here), "
                "so no row would read as unlabelled: give y as an object array "
                "(np.array(labels, dtype=object)), which keeps NaN, or mark "
                "unlabelled rows with a string and pass it as missing_label "
                "(scikit-activeml refuses NaN beside string labels too)."
            )
        labelled = ~_is_missing(y, self.missing_label)
        # Float too: a nullable integer Series' pandas.NA is NaN there.
        if y.dtype.kind in "fO" and has_nan(y[labelled]):
            # Else they read as labels: "no unlabelled row left", or the
            # learner's "every example needs a label".
            if _is_nan(self.missing_label):
                markers = "None or pandas.NA"
                fix = (
                    "Pass the marker of your unlabelled rows, e.g. "
                    "SkactivemlQuery(..., missing_label=None) for None, or mark "
                    "them all with NaN (the default): "
                    "y = np.where(pd.isna(y), np.nan, y)."
                )
            else:
                markers = "NaN or pandas.NA"
                if self.missing_label is not None:
                    markers = "None, " + markers
                fix = (
                    "Mark every unlabelled row with missing_label: "
                    f"y = np.where(pd.isna(y), {self.missing_label!r}, y)."
                )
            raise ValueError(
                f"y marks rows with {markers}, which missing_label="
                f"{self.missing_label!r} does not match, so they would read as "
                f"labelled. {fix}"
            )
        if not labelled.any():
            raise ValueError("y holds no label: label a few rows first.")
        if candidates is None and labelled.all():
            raise ValueError("y has no unlabelled row left to query.")
        if candidates is None:
            candidates = np.flatnonzero(~labelled)
        given = np.asarray(candidates)
        if given.ndim != 1 or not len(given) or given.dtype.kind not in "iu":
            raise ValueError(
                "candidates must be a non-empty 1-D array of integer row indices."
            )
        candidates = given.astype(np.intp)
        # Distinct rows of X: a repeated or wrapped index could be chosen twice.
        # (np.min, not .min(): numpy 2.5's stubs refuse the method on intp.)
        if np.min(candidates) < 0 or np.max(candidates) >= len(X):
            raise ValueError(
                f"candidates must be row indices of X, in 0..{len(X) - 1}; got "
                f"values from {np.min(candidates)} to {np.max(candidates)}."
            )
        check_each_once(candidates, "candidates", "row")
        if not is_int(batch_size, min_val=1):
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}.")
        settings = _settings(clf, self)
        rows = _rows_hash(X, labelled)
        new, reasons = self._newly_labelled(labelled, y, settings, X)
        # Built or taught (atomically), then recorded: a failure later, in
        # the query, leaves the learner and its record consistent.
        if new is None:
            old = getattr(self, "learner_", None)
            if reasons and old is not None and _learns(old.query_strategy_):
                warn(
                    f"SkactivemlQuery built its learner afresh, so "
                    f"{type(old.query_strategy_).__name__} lost what it learnt "
                    f"from its queries: {'; '.join(reasons)}.",
                    UserWarning,
                )
            classes = self._known_classes(clf)
            self.learner_ = ActiveLearner(
                _unwrapped(clf, classes),
                clone(self.strategy),
                ood_label=self.ood_label,
                classes=classes,
            ).fit(_rows(X, labelled), y[labelled])
        elif new.any():
            # In the order the last query ranked them, as ActiveLearner.teach
            # gets a query: a net trains on its rows in that order.
            taught = self.query_indices_[new[self.query_indices_]]
            self.learner_.teach(_rows(X, taught), y[taught])
        self._settings = settings
        self._labelled_rows = rows
        self.labelled_ = labelled
        self.labels_: np.ndarray = y.copy()
        if new is None or new.any():
            # The classifier that chose the last query's rows is gone: until a
            # query returns (one may fail), no row was chosen by this one.
            self.query_indices_: np.ndarray = candidates[:0]
        if batch_size > len(candidates):
            warn(
                f"batch_size={batch_size} is larger than the {len(candidates)} "
                "candidates; all of them are returned.",
                UserWarning,
            )
            batch_size = len(candidates)
        indices, _ = self.learner_.query(_rows(X, candidates), n_instances=batch_size)
        self.query_indices_ = candidates[indices]
        return self.query_indices_

    def _newly_labelled(self, labelled, y, settings, X):
        """The rows labelled since the last call, or None if the learner
        cannot be taught them and must be built afresh; and why, each reason
        with its remedy (none for the first call)."""
        previous = getattr(self, "labelled_", None)
        if previous is None:
            return None, []
        reasons = []
        if settings != self._settings:
            reasons.append(_settings_change(self._settings, settings))
        if previous.shape != labelled.shape:
            reasons.append(f"y has {len(y)} rows, not {len(previous)} as before")
            return None, reasons
        # A removed or corrected label, or other rows: the learner holds the
        # old ones.
        if (previous & ~labelled).any() or np.any(
            y[previous] != self.labels_[previous]
        ):
            reasons.append("a label was removed or corrected")
        elif self._labelled_rows not in _rows_hashes(X, previous):
            reasons.append("the labelled rows of X changed")
        new = labelled & ~previous
        # Rows no query of the learner chose (none, if its first query
        # failed): MQ-Net cannot learn from them.
        chosen = getattr(self, "query_indices_", ())
        if not np.isin(np.flatnonzero(new), chosen).all():
            reasons.append(
                "rows were labelled that its last query did not choose (label "
                "the rows each call returns)"
            )
        # A class the learner was not told of: it must be built with it.
        in_labels = y[new][y[new] != self.ood_label]
        if (
            self.learner_.classes is None
            and not np.isin(in_labels, self.learner_.classes_).all()
        ):
            reasons.append(
                "an in-distribution class was labelled for the first time (pass "
                "classes=[...] listing them all)"
            )
        return (None if reasons else new), reasons

    def _known_classes(self, clf):
        if self.classes is None and _is_skactiveml(clf):
            classes = getattr(clf, "classes", None)
            if classes is None:
                return None
            # Listed there for scikit-activeml to fit on y with OOD rows; the
            # learner's classes are the in-distribution ones.
            return [c for c in classes if not _equals(c, self.ood_label)]
        return self.classes


def _settings(clf, adapter):
    """The parameters of `clf` and `adapter`, to see a change between calls.

    A random state or torch module by identity (the user's own fits of `clf`
    change their state, not the setting; a pickle of the adapter keeps it
    the same), a function by its code, anything else by content.
    """
    return [_params_key(clf), _params_key(adapter)]


def _settings_change(old, new):
    """Why the settings of two calls differ, and what to do about it."""
    if _by_type(old) == _by_type(new):
        return (
            "clf or this adapter holds another object compared by identity (a "
            "random state, torch module or bound method) than at the previous "
            "call: pass an int random_state, and the same clf object at every "
            "call (after unpickling the adapter, the clf pickled with it)"
        )
    return "the parameters of clf or of this adapter changed since the previous call"


def _by_type(key):
    """A settings key with each object compared by identity replaced by its type."""
    if isinstance(key, SameObject):
        return type(key.value).__qualname__
    if isinstance(key, dict):
        return {name: _by_type(value) for name, value in key.items()}
    if isinstance(key, (list, tuple)):
        return [_by_type(value) for value in key]
    return key


def _learns(strategy):
    """Whether `strategy` learns from its queries (overrides ``update``)."""
    return getattr(type(strategy), "update", QueryStrategy.update) is not (
        QueryStrategy.update
    )


def _params_key(owner):
    """`owner`'s type and parameters, nested estimators walked the same way.

    Walked by hand, each level with ``deep=False``: a fitted skorch net's
    ``get_params(deep=True)`` also lists its callbacks' parameters, which an
    unfitted one does not.
    """
    if isinstance(owner, (list, tuple)):  # a pipeline's (named) steps
        return [_params_key(item) for item in owner]
    if isinstance(owner, type) or not hasattr(owner, "get_params"):
        return _value_key(owner)  # a class passed as a parameter is a value
    params = owner.get_params(deep=False)
    return type(owner).__qualname__, {
        name: _params_key(value)
        if hasattr(value, "get_params") or _holds_estimators(value)
        else _value_key(value)
        for name, value in params.items()
    }


def _value_key(value):
    if isinstance(value, STATEFUL_SETTINGS):
        return SameObject(value)
    if isinstance(value, FunctionType):
        code = value.__code__
        try:  # what the code reads besides its constants
            bound = [value.__defaults__, value.__kwdefaults__]
            bound += [cell.cell_contents for cell in value.__closure__ or ()]
        except ValueError:  # an empty cell
            return SameObject(value)
        return (
            "function",
            value.__qualname__,
            code.co_code,
            repr(code.co_consts),
            [_value_key(v) for v in bound],
        )
    try:
        # A clone drops the state the user's fits gave estimator-likes inside
        # (skorch callbacks in a list); other objects are deep copies.
        return content_hash(clone(value, safe=False))
    except UNHASHABLE:  # a bound method or lock: which one it is
        return SameObject(value)


def _is_skactiveml(clf):
    return type(clf).__module__.startswith("skactiveml")


def _unwrapped(clf, classes):
    """The classifier template the learner trains on class positions ``0..k-1``.

    A scikit-activeml wrapper's classifier; another scikit-activeml classifier
    (e.g. ``ParzenWindowClassifier``) with those positions as its `classes`
    and NaN as its missing label, since it rejects labels outside its own;
    anything else as is.
    """
    if not _is_skactiveml(clf):
        return clf
    if hasattr(clf, "estimator"):
        return clf.estimator
    positions = None if classes is None else np.arange(len(classes))
    return clone(clf).set_params(classes=positions, missing_label=np.nan)


def _checked_rows(X):
    """`X` as an array, or a DataFrame as is: a pipeline may select its columns
    by name (the learner checks a DataFrame's rows). NaN (missing values) goes
    on to the learner, which takes it where the classifier does."""
    refuse_sparse(X, "X", rows=True)  # a DataFrame of sparse columns too
    refuse_no_columns(X)
    if hasattr(X, "iloc"):
        return X
    return check_classifier_rows(X, "X")


def _rows(X, rows):
    """Rows `rows` (positions or a mask) of X, a DataFrame's by position."""
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def _rows_hash(X, rows):
    """:func:`content_hash` of rows `rows` of X, every NaN alike (0/0 sets
    its sign bit, a NaN read from a file does not), in an array -0.0 as 0.0,
    and a DataFrame by its column names, dtypes and values, not by pandas'
    blocks (``pd.DataFrame(array)`` is one block, the frame ``read_csv``
    gives back one per dtype): X read again from a file is the same X."""
    part = _canonical_rows(X, rows)
    return _frame_hash(part) if hasattr(part, "iloc") else content_hash(part)


def _rows_hashes(X, rows):
    """:func:`_rows_hash` of rows `rows` of X, then, for a DataFrame, the hash
    adapters saved by earlier versions recorded (of the frame itself, which
    held its blocks), so that those still take X as it was."""
    part = _canonical_rows(X, rows)
    if not hasattr(part, "iloc"):
        return (content_hash(part),)
    # First: reading its columns changes what pickling the frame writes.
    earlier = content_hash(part)
    return _frame_hash(part), earlier


def _canonical_rows(X, rows):
    """Rows `rows` of X, every NaN alike and, in an array, -0.0 as 0.0;
    rewritten only where there is one: a copy hashes apart in joblib's hash
    of the frame or array (pandas' blocks, the strides), and X without them
    hashes as it did before."""
    part = _rows(X, rows)
    if hasattr(part, "iloc"):
        missing = part.isna()
        return part.mask(missing) if missing.to_numpy().any() else part
    if (
        part.dtype.kind == "f"
        and (np.isnan(part) | np.signbit(part) & (part == 0)).any()
    ):
        part = np.where(np.isnan(part), np.nan, part + 0.0)
    return part


def _frame_hash(frame):
    """:func:`content_hash` of a DataFrame's column names, dtypes and values.
    The dtype itself: a category's string names neither its categories nor
    its order."""
    columns = [
        (dtype, np.ascontiguousarray(frame.iloc[:, j].to_numpy()))
        for j, dtype in enumerate(frame.dtypes)
    ]
    return content_hash((list(frame.columns), columns))


def _is_missing(y, missing_label):
    if not _is_nan(missing_label):
        if y.dtype.kind == "O":
            return np.array([_equals(v, missing_label) for v in y.tolist()], bool)
        return y == missing_label
    if y.dtype.kind == "f":
        return np.isnan(y)
    return np.array([isinstance(v, float) and v != v for v in y.tolist()])


def _is_nan(value):
    return isinstance(value, (float, np.floating)) and np.isnan(value)


def _equals(value, marker):
    """``value == marker``, False where that is pandas.NA, which has no truth
    value (numpy's ``==`` on an object array raised a bare TypeError)."""
    try:
        return bool(value == marker)
    except TypeError:
        return False
