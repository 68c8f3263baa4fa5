"""LL: query the examples whose predicted loss is largest (Yoo & Kweon 2019)."""

from .._model_scores import (
    INFORMATIVENESS_SCORES,
    SCORE_NEEDS,
    check_estimator_supports,
    compute_score,
)
from ._base import QueryStrategy, top_scores


class LearningLossQuery(QueryStrategy):
    """Query the examples with the largest loss predicted by the model itself.

    The learner's classifier must be a learning-loss net (e.g. from
    ``make_mlp_classifier(..., learning_loss=True)``), whose module returns
    ``(logits, predicted_loss)``.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Breaks ties.

    References
    ----------
    .. [1] D. Yoo and I. S. Kweon, "Learning Loss for Active Learning",
       CVPR 2019.
    """

    def _check_estimator(self, estimator):
        check_estimator_supports(estimator, SCORE_NEEDS["learning_loss"], "LL")

    def _select(self, learner, X_pool, n_instances, rng):
        scores = compute_score(
            "learning_loss", INFORMATIVENESS_SCORES, "informativeness", learner, X_pool
        )
        return top_scores(scores, n_instances, rng)
