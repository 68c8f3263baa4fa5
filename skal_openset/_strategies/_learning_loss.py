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

    Examples
    --------
    >>> import numpy as np
    >>> from skal_openset import (ActiveLearner, LearningLossQuery, load_digits_dataset,
    ...                           make_mlp_classifier)
    >>> X, y = load_digits_dataset()
    >>> y = np.where(y < 4, y, -1)  # digits 4-9 are out of distribution: label -1
    >>> net = make_mlp_classifier(64, 4, learning_loss=True, max_epochs=3,
    ...                           random_state=0)
    >>> strategy = LearningLossQuery(random_state=0)
    >>> learner = ActiveLearner(net, strategy).fit(X[:100], y[:100])
    >>> indices, X_query = learner.query(X[100:], n_instances=5)
    >>> X_query.shape
    (5, 64)
    """

    def _check_estimator(self, estimator):
        check_estimator_supports(estimator, SCORE_NEEDS["learning_loss"], "LL")

    def _select(self, learner, X_pool, n_instances, rng):
        scores = compute_score(
            "learning_loss", INFORMATIVENESS_SCORES, "informativeness", learner, X_pool
        )
        return top_scores(scores, n_instances, rng)
