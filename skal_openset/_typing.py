"""Type aliases shared by the public signatures, and scikit-learn's method
decorators typed (it ships no hints, so a method they wrap lost its own)."""

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, Union

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils.metaestimators import available_if as _available_if

if TYPE_CHECKING:
    from pandas import DataFrame  # pandas is optional at run time

#: A count the package checks with ``numbers.Integral``: numpy's integer
#: scalars (``len`` of an array, an element of ``np.arange``) pass it too.
IntLike = int | np.integer

#: A number the package checks with ``numbers.Real``. Type checkers promote
#: ``int`` to ``float`` but no numpy scalar, ``np.float32`` included.
RealLike = float | np.integer | np.floating

#: What ``sklearn.utils.check_random_state`` accepts.
RandomStateLike = IntLike | np.random.RandomState | None

#: Records of ``run_active_learning``: dicts, or a DataFrame of one per row
#: (e.g. read back with ``pandas.read_csv``).
Records = Union[Sequence[Mapping[str, Any]], "DataFrame"]

_Method = TypeVar("_Method", bound=Callable[..., Any])


def fit_context(*, prefer_skip_nested_validation: bool) -> Callable[[_Method], _Method]:
    """scikit-learn's ``_fit_context``: the ``fit`` it wraps keeps its signature."""
    return _fit_context(prefer_skip_nested_validation=prefer_skip_nested_validation)


def available_if(check: Callable[[Any], bool]) -> Callable[[_Method], _Method]:
    """scikit-learn's ``available_if``: the method it wraps keeps its signature."""
    return _available_if(check)
