"""Rows given back as the DataFrame a learner was fitted on, for steps that
select columns by name."""

import itertools
from collections import Counter

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline

from ._validation import N_SHOWN_NAMES, _is_missing, shown_names

# What zip_longest pairs a column with where the other list has ended.
_MISSING = object()


def _pandas_columns(X):
    """The column names of `X` if it is a pandas DataFrame, else None: the
    row checks refuse another library's frame (refuse_foreign_frame), whose
    ``columns`` may be no names at all (a pyarrow Table's are its arrays)."""
    return getattr(X, "columns", None) if hasattr(X, "iloc") else None


def column_dtypes(X):
    """The dtypes of `X`'s columns if it is a DataFrame to give a classifier
    back as such: one with string column names (that steps may select), or
    a column that is not numbers (categories an array would lose) and names
    that are not strings either (scikit-learn refuses a mix).

    Raises a ValueError for such a DataFrame that names two columns alike:
    rebuilt by column name, it could not tell them apart (scikit-learn
    refuses one too).
    """
    columns = _pandas_columns(X)
    if columns is None:
        return None
    strings = [isinstance(c, str) for c in columns]
    if not (all(strings) or (not any(strings) and has_column_floats_would_change(X))):
        return None
    repeated = [name for name, n in Counter(columns).items() if n > 1]
    if repeated:
        raise ValueError(
            "Column names repeat in the DataFrame "
            f"({shown_names(repeated, 'names')}): the classifier gets its rows "
            "back as a DataFrame, by column name, which cannot tell such "
            "columns apart. Give each column a name of its own (X.columns = "
            "[...]), or keep the first of each name, "
            "X.loc[:, ~X.columns.duplicated()]."
        )
    return X.dtypes


def has_feature_names(X):
    """Whether `X` is a DataFrame whose column names are all strings, the
    names scikit-learn records as ``feature_names_in_``."""
    columns = _pandas_columns(X)
    return columns is not None and all(isinstance(c, str) for c in columns)


def has_column_floats_would_change(X):
    """Whether `X` is a DataFrame with a column that an array of floats
    would not hold as it is: one that is not numbers (a categorical, text or
    date column; bool and pandas' nullable numbers are), or integers beyond
    2**53, which float64 rounds."""
    columns = _pandas_columns(X)
    if columns is None:
        return False
    if any(d.kind not in "biuf" for d in X.dtypes):
        return True
    # By position: X[name] of a name two columns share is a DataFrame.
    return any(
        ((X.iloc[:, j] >= 2**53) | (X.iloc[:, j] <= -(2**53))).any()
        for j, d in enumerate(X.dtypes)
        if d.kind in "iu" and d.itemsize == 8
    )


def check_columns(X, learner, name):
    """A DataFrame `X` must have the columns, in their order, that `learner`
    was fitted on (ours: ``feature_names_in_``; modAL's: its classifier's)."""
    columns = _pandas_columns(X)
    if columns is None:
        return
    if hasattr(learner, "estimator_"):  # ours; its estimator is a template
        fitted_names = getattr(learner, "feature_names_in_", None)
        where = "learner.feature_names_in_"
    else:
        estimator = getattr(learner, "estimator", None)
        fitted_names = getattr(estimator, "feature_names_in_", None)
        where = "learner.estimator.feature_names_in_"
    if fitted_names is None or list(columns) == list(fitted_names):
        return
    pairs = itertools.zip_longest(columns, fitted_names, fillvalue=_MISSING)
    at = next(j for j, (given, fitted) in enumerate(pairs) if given != fitted)
    # Beyond the names shown, the lists would look alike.
    where_first = f" (they first differ at column {at})" if at >= N_SHOWN_NAMES else ""
    raise ValueError(
        f"{name} has the columns {shown_names(columns)}, but the learner was "
        f"fitted on {shown_names(fitted_names)}{where_first}: give the same "
        f"columns in the same order (e.g. {name}[{where}])."
    )


def frame_input(estimator, dtypes):
    """A pipeline that gives `estimator` (or a pipeline's steps) its rows as a
    DataFrame with the columns and dtypes of the Series `dtypes`."""
    steps = (
        estimator.steps
        if isinstance(estimator, Pipeline)
        else [(type(estimator).__name__.lower(), estimator)]
    )
    return Pipeline([("to_frame", _ToFrame(dtypes)), *steps])


def check_known_categories(X, dtypes, name):
    """Refuse rows of `X` (an array of the columns of the Series `dtypes`)
    with a value that a categorical column's dtype does not list.

    :func:`as_frame` makes it a missing value: for rows to train on (a
    teach), their label would be lost. Rows to predict or query are not
    checked: there an unseen category is a missing value, as
    ``HistGradientBoostingClassifier`` reads one.
    """
    if dtypes is None:
        return
    import pandas as pd  # only reached with a DataFrame's columns

    frame = pd.DataFrame(np.asarray(X), columns=dtypes.index)
    for column, unlisted in _unlisted_categories(frame, dtypes).items():
        unlisted_values = frame[column][unlisted].unique().tolist()
        categories = dtypes[column].categories.tolist()
        raise ValueError(
            f"Column {column!r} of {name} holds "
            f"{shown_names(unlisted_values, 'values')}, which its categorical "
            "dtype at fit does not list "
            f"({shown_names(categories, 'categories')}): the classifier would "
            "train on them as missing values. Declare every category up front, "
            "fitting on "
            f"X.astype({{{column!r}: pd.CategoricalDtype(categories=[...])}}) "
            "with all of them; to add them now, fit again on every labelled "
            "row (learner.X_labelled_ as a DataFrame of that dtype, and these)."
        )


def _unlisted_categories(frame, dtypes):
    """``{column: mask}`` of the rows of `frame` whose value in a categorical
    column is one its dtype in `dtypes` does not list (missing values aside)."""
    import pandas as pd

    masks = {}
    for column, dtype in dtypes.items():
        if isinstance(dtype, pd.CategoricalDtype):
            values = frame[column]
            unlisted = values.notna() & ~values.isin(dtype.categories)
            if unlisted.any():
                masks[column] = unlisted
    return masks


def as_frame(X, dtypes):
    """`X` as a DataFrame with the columns and dtypes of the Series `dtypes`.

    A value that a categorical column's dtype does not list is made a
    missing value, as pandas' cast did before deprecating it.
    """
    import pandas as pd  # only reached with a DataFrame's columns

    frame = pd.DataFrame(np.asarray(X), columns=dtypes.index)
    for column, unlisted in _unlisted_categories(frame, dtypes).items():
        frame[column] = frame[column].mask(unlisted)
    try:
        cast = frame.astype(dtypes.to_dict())
    except (TypeError, ValueError) as exc:
        for column, dtype in dtypes.items():
            try:
                frame[column].astype(dtype)
            except (TypeError, ValueError):
                raise ValueError(
                    f"Column {column!r} was {dtype} when the learner was fitted, "
                    f"and these rows cannot be ({exc}): if it now holds missing "
                    f"values, fit on it as float (X.astype({{{column!r}: float}}))."
                ) from exc
        raise
    for column, dtype in dtypes.items():
        if dtype.kind in "biu":  # astype truncates 4.9 to 4 and wraps 300 to 44
            _check_exact_cast(frame[column], cast[column], column, dtype)
    return cast


def _check_exact_cast(given, cast, column, dtype):
    """Refuse a number that an integer or bool column changed when cast, and
    a value that is no number (text), which the cast read its own way."""
    try:
        numbers = given.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        # Text, say, which astype read its own way: bool any text as True.
        values = given.tolist()
        at = next(i for i, v in enumerate(values) if not _reads_as_number(v))
        raise ValueError(
            f"Column {column!r} was {dtype} when the learner was fitted, and "
            f"these rows hold {values[at]!r}, which is no number: {dtype} would "
            f"read it as {cast.tolist()[at]!r}. Give the column as {dtype}, as at "
            f"fit (e.g. X[{column!r}] = X[{column!r}] == 'yes' for yes/no text)."
        ) from None
    given = numbers
    kept = cast.to_numpy(dtype=float, na_value=np.nan)
    changed = (given != kept) & ~(np.isnan(given) & np.isnan(kept))
    if changed.any():
        value = given[changed][0]
        advice = f"fit on it as float (X.astype({{{column!r}: float}}))."
        if abs(value) >= 2**53:  # e.g. int64's largest, given as float64 rows
            advice = (
                ". Floats are exact for integers up to 2**53 only: give these "
                "rows as a DataFrame with the column's integer dtype, or "
                f"{advice}"
            )
        else:
            advice = f": {advice}"
        raise ValueError(
            f"Column {column!r} was {dtype} when the learner was fitted, and "
            f"these rows hold {value:g}, which {dtype} would read as "
            f"{kept[changed][0]:g}{advice}"
        )


def _reads_as_number(value):
    """Whether `value` is a number as float() reads it, or a missing value."""
    try:
        float(value)
    except (TypeError, ValueError):
        return _is_missing(value)
    return True


class _ToFrame(TransformerMixin, BaseEstimator):
    """Rows back as a DataFrame with the columns and dtypes the learner was given."""

    def __init__(self, dtypes=None):
        self.dtypes = dtypes

    def fit(self, X, y=None):
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False  # stateless: a pipeline ending here is fitted
        return tags

    def transform(self, X):
        return as_frame(X, self.dtypes)
