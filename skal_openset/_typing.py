"""Type aliases shared by the public signatures."""

import numpy as np

#: A count the package checks with ``numbers.Integral``: numpy's integer
#: scalars (``len`` of an array, an element of ``np.arange``) pass it too.
IntLike = int | np.integer

#: A number the package checks with ``numbers.Real``. Type checkers promote
#: ``int`` to ``float`` but no numpy scalar, ``np.float32`` included.
RealLike = float | np.integer | np.floating

#: What ``sklearn.utils.check_random_state`` accepts.
RandomStateLike = IntLike | np.random.RandomState | None
