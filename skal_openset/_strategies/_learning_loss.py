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
    ...                           make_mlp_classifier, make_open_set_split)
    >>> X, y = load_digits_dataset()
    >>> split = make_open_set_split(X, y, n_in_classes=4, noise_ratio=0.4,
    ...                             initial_size=40, random_state=0)
    >>> X_unlabelled = np.delete(split.X_pool, split.initial_idx, axis=0)
    >>> net = make_mlp_classifier(64, split.n_classes, learning_loss=True,
    ...                           max_epochs=3, random_state=0)
    >>> learner = ActiveLearner(net, LearningLossQuery(random_state=0),
    ...                         X_training=split.X_pool[split.initial_idx],
    ...                         y_training=split.y_pool[split.initial_idx])
    >>> indices, X_query = learner.query(X_unlabelled, n_instances=5)
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
