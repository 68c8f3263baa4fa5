"""RANDOM: uniform sampling, the non-AL baseline."""

import numpy as np

from ._base import QueryStrategy


class RandomQuery(QueryStrategy):
    """Choose pool examples uniformly at random.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Seeds the draw.
    """

    def _select(self, learner, X_pool, n_instances, rng):
        indices = rng.choice(len(X_pool), size=n_instances, replace=False)
        # Scores follow the priority order, like every other strategy's.
        return indices, np.sort(rng.uniform(size=n_instances))[::-1]
