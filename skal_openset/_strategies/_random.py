"""RANDOM: uniform sampling, the non-AL baseline."""

import numpy as np

from ._base import QueryStrategy


class RandomQuery(QueryStrategy):
    """Choose pool examples uniformly at random.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Seeds the draw. An int restarts it at every query, so on a pool in
        file order (by time or class) the picks of successive rounds cluster
        next to each other; shuffle the pool or pass a RandomState instance
        (see :class:`QueryStrategy`).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal_openset import ActiveLearner, RandomQuery, load_digits_dataset
    >>> X, y = load_digits_dataset()
    >>> y = np.where(y < 4, y, -1)  # digits 4-9 are out of distribution: label -1
    >>> strategy = RandomQuery(random_state=0)
    >>> learner = ActiveLearner(LogisticRegression(), strategy).fit(X[:100], y[:100])
    >>> indices, scores = strategy(learner, X[100:], n_instances=5)
    >>> len(set(indices.tolist())), bool((scores[:-1] >= scores[1:]).all())
    (5, True)
    """

    def _select(self, learner, X_pool, n_instances, rng):
        indices = rng.choice(len(X_pool), size=n_instances, replace=False)
        # Scores follow the priority order, like every other strategy's.
        return indices, np.sort(rng.uniform(size=n_instances))[::-1]
