"""Type aliases shared by the public signatures."""

import numpy as np

#: What ``sklearn.utils.check_random_state`` accepts.
RandomStateLike = int | np.random.RandomState | None
