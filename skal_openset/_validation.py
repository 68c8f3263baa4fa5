"""Parameter checks shared by the package's estimators and functions."""

import contextlib
import inspect
import math
import os
import reprlib
from collections.abc import Iterable, Iterator
from decimal import Decimal
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn import config_context
from sklearn.utils import check_array, check_random_state, check_scalar
from sklearn.utils._param_validation import Interval, InvalidParameterError
from sklearn.utils.validation import _check_sample_weight


def reject_bool_numbers(estimator: Any, names: Iterable[str] | None = None) -> None:
    """Refuse True and False for the parameters of `estimator` that take numbers.

    bool is an Integral to Python, so scikit-learn's ``Interval`` takes it:
    True would silently mean 1, False 0 (a seed too). `names` are those
    parameters; None means the ones its ``_parameter_constraints`` constrain
    to an ``Interval`` or ``"random_state"`` (and not to "boolean" too).
    """
    params = estimator.get_params(deep=False)
    if names is None:
        names = [
            name
            for name, constraints in estimator._parameter_constraints.items()
            if "boolean" not in constraints
            and any(isinstance(c, Interval) or c == "random_state" for c in constraints)
        ]
    for name in names:
        value = params.get(name)
        if isinstance(value, bool):
            raise InvalidParameterError(
                f"The {name!r} parameter of {type(estimator).__name__} must be "
                + _not_bool(name, value)
            )


# torch computes in float32: it refuses a larger number as an optimiser's
# step ("value cannot be converted to type float without overflow") and
# rounds one it divides by to inf, silently.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_float32_param(
    estimator: Any, name: str, why: str, divisor: float = 1.0, low: str = "(0"
) -> None:
    """Refuse a number parameter of `estimator` outside the range `low`
    opens ("(0" or "[0") and float32 closes once it is divided by `divisor`,
    or NaN, naming the usable range and `why` torch needs it there; what is
    no number is left to other checks.

    scikit-learn's ``Interval(Real, 0, None)`` takes any finite value, and
    torch failed mid-fit without naming the parameter, or went on with inf.
    """
    value = getattr(estimator, name, None)
    if not isinstance(value, Real):
        return
    scaled = float(value) / divisor
    if not ((scaled >= 0 if low == "[0" else scaled > 0) and scaled <= FLOAT32_MAX):
        high = FLOAT32_MAX * divisor
        # Four digits rounded down: a bound copied from the message passes.
        unit = 10.0 ** (math.floor(math.log10(high)) - 3)
        raise InvalidParameterError(
            f"The {name!r} parameter of {type(estimator).__name__} must be a "
            f"float in the range {low}, {math.floor(high / unit) * unit:.4g}]: "
            f"{why}. Got {value!r} instead."
        )


# torch's default betas of Adam, AdamW and Adamax.
ADAM_BETAS = (0.9, 0.999)


def check_adam_rate(
    estimator: Any,
    name: str,
    optimizer: str = "Adam",
    beta1: float = ADAM_BETAS[0],
    low: str = "(0",
    where: str = "",
) -> None:
    """:func:`check_float32_param` of the learning rate `name` of an
    optimiser of Adam's family, whose first step is ``lr / (1 - beta1)``;
    `where` ends the reason given."""
    check_float32_param(
        estimator,
        name,
        f"{optimizer}'s first step, lr / (1 - {beta1}), must fit in float32{where}",
        divisor=1 - beta1,
        low=low,
    )


def reject_classes(estimator: Any) -> None:
    """Refuse a class as the value of a parameter of `estimator`.

    A class is callable and has its methods, so the ``callable`` and
    ``HasMethods`` constraints take it: ``purity=PurityAUROC`` or
    ``features=PCA`` then failed at the first query with another object's
    error, which named no parameter.
    """
    for name, value in estimator.get_params(deep=False).items():
        if isinstance(value, type):
            raise InvalidParameterError(
                f"The {name!r} parameter of {type(estimator).__name__} is the "
                f"class {value.__name__}, not an instance of it nor a function: "
                f"pass {value.__name__}(...) with its parameters, or the "
                "function to call."
            )


def _not_bool(name: str, value: bool | np.bool_) -> str:
    kind = (
        "an int, a RandomState instance or None"
        if name.endswith("random_state")
        else "a number"
    )
    # A NumPy bool is no Integral: only a Python one would be taken for a number.
    if not isinstance(value, bool):
        # Spelled out: numpy before 2 prints np.True_ as a Python True.
        return f"{kind}, not np.{bool(value)}_."
    return f"{kind}, not {value!r} ({value!r} would silently mean {int(value)})."


def check_random_state_not_bool(
    random_state: Any, owner: Any = None
) -> np.random.RandomState:
    """:func:`sklearn.utils.check_random_state`, which takes True for seed 1,
    refusing bools, and naming random_state in every refusal: as the
    parameter of `owner` (an InvalidParameterError, as scikit-learn's), if
    given."""
    name, error = "random_state", ValueError
    if owner is not None:
        name = f"The 'random_state' parameter of {type(owner).__name__}"
        error = InvalidParameterError
    if isinstance(random_state, bool):
        raise error(f"{name} must be {_not_bool('random_state', random_state)}")
    try:
        return check_random_state(random_state)
    except ValueError:
        # NumPy's and scikit-learn's words ("Seed must be between 0 and
        # 2**32 - 1") name no parameter, nor what to pass.
        raise error(
            f"{name} must be an int in [0, 2**32 - 1], a RandomState instance "
            f"or None, not {random_state!r}; for a numpy Generator, pass an "
            "int drawn from it (int(rng.integers(2**32)))."
        ) from None


def check_scalar_not_bool(
    value: Any, name: str, target_type: type, **kwargs: Any
) -> None:
    """:func:`sklearn.utils.check_scalar`, which takes True for 1, refusing bools."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be " + _not_bool(name, value))
    # check_scalar names numbers.Real "float", which an int or a Fraction
    # also passes: a Decimal was told to be a float.
    if target_type is Real and not isinstance(value, Real):
        raise TypeError(
            f"{name} must be a real number (an int, a float, a NumPy integer or "
            f"float, or a Fraction), got {value!r} of type {type(value).__name__}"
            + (": pass float(value)." if isinstance(value, Decimal) else ".")
        )
    check_scalar(value, name, target_type, **kwargs)


def is_int(value: Any, min_val: float = -math.inf, max_val: float = math.inf) -> bool:
    """Whether `value` is an integer in [`min_val`, `max_val`].

    NumPy integers count; bools do not, though Python counts them as
    Integral: True would silently mean 1. The caller raises, with the
    message that says what the parameter is for.
    """
    return (
        isinstance(value, Integral)
        and not isinstance(value, bool)
        and min_val <= int(value) <= max_val
    )


def is_one_of(value: Any, *names: str) -> bool:
    """Whether `value` is one of the string options `names`.

    Not ``value in names`` alone: that asks `value`'s own ``__eq__``, which
    an array's (or a user's callable's) may answer with an array, whose
    truth is ambiguous, or with True for a one-element array of a name.
    """
    return isinstance(value, str) and value in names


def refuse_sparse(X: Any, name: str, rows: bool = False, scores: bool = False) -> None:
    """Refuse a scipy.sparse `X`, or a DataFrame of sparse columns alone,
    naming `name`, the memory it takes dense and what to do instead:
    scikit-learn's own error advises ``.toarray()``, which for a TF-IDF or
    hashed matrix of many texts runs to tens of GiB (and which a DataFrame
    lacks). `rows` says `X` holds a classifier's rows, which may be the raw
    texts instead; `scores` that it holds probabilities or logits, one small
    column per class, not to be reduced: making them dense is the remedy."""
    # pandas' test, which scikit-learn uses to make such a DataFrame a sparse
    # matrix: its sparse accessor exists where every column is sparse.
    if hasattr(X, "sparse") and np.ndim(X) == 2 and X.shape[1]:
        what, to_dense = "a DataFrame of sparse columns", f"{name}.sparse.to_dense()"
        # Not to_coo's dtype: it refuses columns whose fill value is not 0
        # (NaN, the default of a float SparseArray).
        dtype = np.result_type(*(column.subtype for column in X.dtypes))
    elif sparse.issparse(X):
        what, to_dense, dtype = "a scipy.sparse matrix", f"{name}.toarray()", X.dtype
    else:
        return
    n_bytes = np.prod(X.shape, dtype=float) * dtype.itemsize
    dense = (
        f"{n_bytes / 2**30:,.1f} GiB"
        if n_bytes >= 2**30
        else f"{n_bytes / 2**20:,.2f} MiB"
    )
    shape = " x ".join(map(str, X.shape))
    refused = (
        f"{name} is {what} of shape {shape}, which would take "
        f"{dense} dense; this package takes dense arrays."
    )
    if scores:
        raise TypeError(
            f"{refused} Probabilities and logits take one column per class, "
            f"which a reduction would mix: pass them dense, {to_dense}."
        )
    if rows:
        # One reduction for every row: fitted on each argument apart, the
        # labelled rows and the pool would be in different coordinates.
        remedies = (
            "For texts, pass the raw texts as one column (texts.reshape(-1, 1)) "
            "with the vectorizer in the classifier's pipeline: "
            "make_pipeline(make_column_transformer((TfidfVectorizer(), 0)), "
            "clf). Or reduce the matrix first, with one "
            "TruncatedSVD(n_components=100) fitted on all the rows, labelled and "
            "unlabelled"
        )
    else:
        remedies = (
            "Reduce it first, e.g. by "
            f"TruncatedSVD(n_components=100).fit_transform({name})"
        )
    raise TypeError(f"{refused} {remedies}; only if it is small, {to_dense}.")


@contextlib.contextmanager
def finite_inputs() -> Iterator[None]:
    """A context in which scikit-learn's input checks refuse NaN and inf
    whatever the global ``assume_finite``: under
    ``sklearn.set_config(assume_finite=True)`` they went on, to fail as a
    diverged net (whose error advised a lower learning rate) or to come out
    as NaN scores, silently.

    Finite values near the float64 limit, of both signs, pass without a
    float warning: the checks' quick sum of them overflows (which
    scikit-learn ignores) to inf - inf, which warned "invalid value
    encountered in reduce" (a FloatingPointError under
    ``np.seterr(all="raise")``) before the check of each value found them
    all finite."""
    with config_context(assume_finite=False), np.errstate(invalid="ignore"):
        yield


def check_classifier_rows(X: Any, name: str) -> Any:
    """:func:`sklearn.utils.check_array` of rows left to a user's classifier
    as they are: of any shape, in their dtype, NaN (missing values) allowed.

    Finite values near the float64 limit, of both signs, pass without the
    float warning of :func:`finite_inputs`'s checks: the classifier may
    give it for its own check, but not this package a copy of it, nor a
    FloatingPointError under ``np.seterr(all="raise")``.
    """
    with np.errstate(invalid="ignore"):
        return check_array(
            X, allow_nd=True, dtype=None, ensure_all_finite="allow-nan", input_name=name
        )


def foreign_frame_library(X: Any) -> str | None:
    """The library of `X` (``"polars"``, ``"pyarrow"``) if it is a DataFrame
    that is not pandas', else None: it has columns but no ``iloc``."""
    if not hasattr(X, "columns") or hasattr(X, "iloc"):
        return None
    return type(X).__module__.partition(".")[0]


def refuse_foreign_frame(X: Any, name: str) -> None:
    """Refuse a DataFrame that is not pandas' (polars, a pyarrow Table),
    naming `name` and the conversions it has: the learner reads a
    DataFrame's columns and rows through pandas (its dtypes, ``iloc``), and
    failed on another's with an AttributeError."""
    library = foreign_frame_library(X)
    if library is None:
        return
    # Only the conversions X has: a pyarrow Table has no to_numpy, and a
    # polars LazyFrame neither (it is collected first).
    conversions = {
        "to_pandas": "which keeps the column names and dtypes; it may need pyarrow",
        "to_numpy": "where every column holds numbers",
    }
    remedies = [
        f"{name}.{method}() ({why})"
        for method, why in conversions.items()
        if callable(getattr(X, method, None))
    ]
    raise TypeError(
        f"{name} is a {library} {type(X).__name__}, but this package takes "
        "pandas DataFrames or arrays: "
        + (
            f"pass {', or '.join(remedies)}."
            if remedies
            else "make it a pandas DataFrame first (collect a lazy frame)."
        )
    )


def refuse_no_columns(X: Any, estimator: Any = None) -> None:
    """Refuse a DataFrame `X` with no columns as scikit-learn's check_array
    refuses an array of 0 features, naming `estimator` as it does: it failed
    on such a frame with NumPy's "at least one array or dtype is required",
    and where a frame is left to its classifier it went on, to an empty
    split or a fit that names no cause."""
    if hasattr(X, "columns") and np.ndim(X) == 2 and not X.shape[1]:
        by = "" if estimator is None else f" by {type(estimator).__name__}"
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum "
            f"of 1 is required{by}."
        )


def check_finite_array(X: Any, **kwargs: Any) -> Any:
    """:func:`sklearn.utils.check_array` of a user's input, refusing inf (and
    NaN, unless ``ensure_all_finite`` says otherwise) whatever the global
    ``assume_finite`` (see :func:`finite_inputs`; an inf also failed as an
    empty argmin). A sparse `X` is refused by :func:`refuse_sparse`, a
    DataFrame with no columns by :func:`refuse_no_columns`."""
    name = kwargs.get("input_name", "X")
    refuse_sparse(X, name)
    refuse_no_columns(X, kwargs.get("estimator"))
    dtypes = getattr(X, "dtypes", None)  # a DataFrame's, one per column
    if dtypes is None or isinstance(dtypes, np.dtype):  # a Series' is one
        dtypes = [getattr(X, "dtype", None)]
    if any(getattr(dtype, "kind", None) == "c" for dtype in dtypes):
        # check_array's "Complex data not supported" shows the whole array.
        raise ValueError(
            f"{name} holds complex numbers; every feature must be a real "
            "number: give the real and imaginary parts as columns of their "
            f"own, e.g. np.hstack([{name}.real, {name}.imag])."
        )
    with finite_inputs():
        return check_array(X, **kwargs)


# scikit-learn 1.9 refuses all-zero weights itself, without the remedy, unless
# told not to by a parameter that its earlier versions lack.
_ALL_ZERO_PASS = (
    {"allow_all_zero_weights": True}
    if "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters
    else {}
)


def check_sample_weight(sample_weight: Any, X: Any, dtype: Any = None) -> np.ndarray:
    """scikit-learn's check of non-negative `sample_weight` for the rows of
    `X`, refusing NaN and inf whatever ``assume_finite`` (see
    :func:`finite_inputs`), and weights that are all zero, in the same words
    whatever scikit-learn's version: its 1.9 refuses them, while before it
    they passed, and a score divided by their sum (a ZeroDivisionError) or
    was NaN, and a fit left the estimator unfitted with a warning."""
    with finite_inputs():
        weights = _check_sample_weight(
            sample_weight, X, dtype=dtype, ensure_non_negative=True, **_ALL_ZERO_PASS
        )
    if not weights.any():
        # scikit-learn 1.9's words, with the remedy
        raise ValueError(
            "Sample weights must contain at least one non-zero number: give "
            "the rows to count a positive weight."
        )
    return weights


def is_finite(value: Any) -> bool:
    """:func:`math.isfinite`, False for an integer beyond the floats' range
    (which it cannot convert: OverflowError)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def check_one_label_per_row(n_rows: int, y: Any) -> None:
    """Refuse labels `y` that are not one per row of the `n_rows` rows of X."""
    if n_rows != len(y):
        raise ValueError(
            f"X has {n_rows} rows but y has {len(y)} labels: give one label per "
            "row of X."
        )


def refuse_set(values: Any, name: str) -> None:
    """Refuse a set as `values`, the parameter `name` whose order gives the
    labels (label j names its j-th class): a set has no order, and the one
    Python iterates in changes from one process to the next
    (PYTHONHASHSEED), so label 0 would name another class each run."""
    if isinstance(values, (set, frozenset)):
        raise ValueError(
            f"{name} must be in label order, and a set has none: pass a list, "
            f"e.g. sorted({name}) for alphabetical labels."
        )


def missing_mask(X):
    """Where an object array holds NaN, None or pandas.NA (without pandas)."""
    try:  # NaN is the one value unequal to itself
        unequal = X != X
    # pandas.NA is neither equal nor unequal to itself; an array in a cell
    # is unequal to itself elementwise, with no one truth value.
    except (TypeError, ValueError):
        unequal = None
    # numpy < 1.25 gave pandas.NA one False for the whole array, not an error.
    if unequal is None or np.shape(unequal) != X.shape:
        return np.frompyfunc(_is_missing, 1, 1)(X).astype(bool)
    return unequal | np.equal(X, None)


def check_none_missing(y, name, remedy):
    """Raise a ValueError naming how many values of the 1-D array `y` are
    missing (NaN, None or pandas.NA), ending with `remedy`; only float and
    object arrays can hold them."""
    n_missing = int(missing_mask(y).sum()) if y.dtype.kind in "fO" else 0
    if n_missing:
        raise ValueError(
            f"{name} is missing in {n_missing} of its {len(y)} rows (NaN, None "
            f"or pandas.NA): {remedy}"
        )


def _is_missing(value):
    if np.ndim(value):  # a sequence in a cell, left to the classifier
        return False
    try:
        return value is None or bool(value != value)
    except TypeError:  # pandas.NA
        return True


def file_at(path, what, folder_remedy=None):
    """`path` as a Path, refused if it is a folder, missing or no regular
    file, naming `what` the caller reads (and, for a folder,
    `folder_remedy`)."""
    path = Path(path)
    if path.is_dir():
        remedy = folder_remedy or f"give the path of the {what} in it"
        raise IsADirectoryError(f"{path} is a folder; {remedy}.")
    if path.exists() and not path.is_file():
        # e.g. /dev/fd/63 of a shell's <(...): read once, as it is written
        raise ValueError(
            f"{path} exists but is not a regular file: it is a pipe or device "
            f"(such as a shell's <(...)), and the {what} is read more than once; "
            "save it to a file first and give that file."
        )
    if not path.is_file():
        if path.is_symlink():  # listed, so not misspelt
            raise FileNotFoundError(
                f"{path} is a link to {os.readlink(path)}, which leads to no "
                f"file (it is missing, or the links loop): put the {what} where "
                "it points, or give the file's own path."
            )
        # A relative path is read from the folder the code runs in.
        where = "" if path.is_absolute() else f" ({path.absolute()})"
        raise FileNotFoundError(
            f"No {what} at {path}{where}: check the spelling, or give the path "
            "from the folder you run in."
        )
    return path


# How an error lists a table's names, columns or labels: a header of 300,000
# columns made a message of megabytes, and a name can run to the csv
# module's field limit.
N_SHOWN_NAMES = 20
NAMES_REPR = reprlib.Repr()
NAMES_REPR.maxlist, NAMES_REPR.maxstring = N_SHOWN_NAMES, 60


def shown_names(names, what="columns"):
    """The list of `names` as an error shows it: the first 20, a long name
    shortened, and how many `what` there are where that is more."""
    names = list(names)
    shown = NAMES_REPR.repr(names)
    if len(names) > NAMES_REPR.maxlist:
        shown += f" ({len(names)} {what})"
    return shown


def shown_whole(names):
    """Whether :func:`shown_names` shows `names` as their list's repr, none
    left out or shortened: code to paste may then list them."""
    names = list(names)
    return shown_names(names) == repr(names)
