"""Type aliases shared by the public signatures."""

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Union

import numpy as np

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
