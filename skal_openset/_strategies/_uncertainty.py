"""CONF and its relatives: query what the classifier is least sure of."""

from sklearn.utils._param_validation import StrOptions

from .._model_scores import (
    INFORMATIVENESS_SCORES,
    SCORE_NEEDS,
    check_estimator_supports,
    compute_score,
)
from .._typing import RandomStateLike
from ._base import QueryStrategy, top_scores


class UncertaintyQuery(QueryStrategy):
    """Query the examples the classifier is most uncertain about.

    Parameters
    ----------
    measure : {"least_confidence", "margin", "entropy"}, default="least_confidence"
        ``"least_confidence"`` (1 - max probability) is the paper's CONF
        baseline; ``"margin"`` prefers a small gap between the top two
        classes; ``"entropy"`` a flat predicted distribution.
    random_state : int, RandomState instance or None, default=None
        Breaks ties.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal_openset import ActiveLearner, UncertaintyQuery, load_digits_dataset
    >>> X, y = load_digits_dataset()
    >>> y = np.where(y < 4, y, -1)  # digits 4-9 are out of distribution: label -1
    >>> strategy = UncertaintyQuery(measure="margin", random_state=0)
    >>> learner = ActiveLearner(LogisticRegression(), strategy).fit(X[:100], y[:100])
    >>> indices, X_query = learner.query(X[100:], n_instances=5)
    >>> X_query.shape
    (5, 64)
    """

    _parameter_constraints: dict = {
        **QueryStrategy._parameter_constraints,
        "measure": [StrOptions({"least_confidence", "margin", "entropy"})],
    }

    def __init__(
        self, measure: str = "least_confidence", random_state: RandomStateLike = None
    ) -> None:
        self.measure = measure
        self.random_state = random_state

    def _check_estimator(self, estimator):
        check_estimator_supports(estimator, SCORE_NEEDS[self.measure], "CONF")

    def _select(self, learner, X_pool, n_instances, rng):
        scores = compute_score(
            self.measure, INFORMATIVENESS_SCORES, "informativeness", learner, X_pool
        )
        return top_scores(scores, n_instances, rng)
