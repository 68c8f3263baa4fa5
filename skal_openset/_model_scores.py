"""Purity and informativeness of pool examples under a learner's current model.

Binds the array-level scores of :mod:`._purity` and :mod:`._informativeness`
to what a learner holds: its fitted classifier and its labelled set. A score
is named by a string, or given as a callable ``score(learner, X) -> (n,)``.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._inference import embed, predict_logits, predicted_loss
from ._informativeness import (
    entropy_informativeness,
    least_confidence,
    margin_informativeness,
)
from ._purity import (
    cosine_purity,
    energy_purity,
    knn_contrast_purity,
    knn_purity,
    mahalanobis_purity,
    msp_purity,
)


def fitted_estimator(learner):
    """The learner's current classifier (ours: ``estimator_``; modAL: ``estimator``)."""
    estimator = getattr(learner, "estimator_", None)
    return learner.estimator if estimator is None else estimator


def labelled_set(learner):
    """``(X, y, ood_label)`` of everything the learner has labelled so far.

    Our :class:`ActiveLearner` keeps labelled OOD examples in ``X_labelled_``;
    a modAL learner only has what it was taught, in ``X_training``.
    """
    ood_label = getattr(learner, "ood_label", -1)
    if hasattr(learner, "X_labelled_"):
        return learner.X_labelled_, learner.y_labelled_, ood_label
    return learner.X_training, np.asarray(learner.y_training), ood_label


def _labelled_embeddings(learner, net):
    X, y, ood_label = labelled_set(learner)
    is_ood = y == ood_label
    if is_ood.all():
        raise ValueError("The learner has no labelled in-distribution example.")
    emb_in = embed(net, X[~is_ood])
    emb_ood = embed(net, X[is_ood]) if is_ood.any() else None
    return emb_in, y[~is_ood], emb_ood


def _proba(learner, X):
    return fitted_estimator(learner).predict_proba(X)


def _energy(learner, X):
    return energy_purity(predict_logits(fitted_estimator(learner), X))


def _mahalanobis(learner, X):
    net = fitted_estimator(learner)
    emb_in, y_in, _ = _labelled_embeddings(learner, net)
    return mahalanobis_purity(embed(net, X), emb_in, y_in)


def _knn(learner, X, score=knn_purity):
    net = fitted_estimator(learner)
    emb_in, _, _ = _labelled_embeddings(learner, net)
    return score(embed(net, X), emb_in)


def _knn_contrast(learner, X):
    net = fitted_estimator(learner)
    emb_in, _, emb_ood = _labelled_embeddings(learner, net)
    return knn_contrast_purity(embed(net, X), emb_in, emb_ood)


PURITY_SCORES = {
    "msp": lambda learner, X: msp_purity(_proba(learner, X)),
    "energy": _energy,
    "mahalanobis": _mahalanobis,
    "knn": _knn,
    "knn_contrast": _knn_contrast,
    "cosine": lambda lrn, X: _knn(lrn, X, cosine_purity),
}

INFORMATIVENESS_SCORES = {
    "least_confidence": lambda learner, X: least_confidence(_proba(learner, X)),
    "margin": lambda learner, X: margin_informativeness(_proba(learner, X)),
    "entropy": lambda learner, X: entropy_informativeness(_proba(learner, X)),
    "learning_loss": lambda learner, X: predicted_loss(fitted_estimator(learner), X),
}


def resolve_score(score, registry, kind):
    """The callable for a score given by name or as a callable."""
    if callable(score):
        return score
    if score in registry:
        return registry[score]
    raise ValueError(
        f"Unknown {kind} score {score!r}; use one of {sorted(registry)} "
        "or a callable score(learner, X) -> array of shape (n_samples,)."
    )


def compute_score(score, registry, kind, learner, X):
    """Evaluate a named or callable score and check its output."""
    check_is_fitted(fitted_estimator(learner))
    values = np.asarray(resolve_score(score, registry, kind)(learner, X), dtype=float)
    if values.shape != (len(X),) or not np.all(np.isfinite(values)):
        raise ValueError(
            f"The {kind} score must return {len(X)} finite values; got an "
            f"array of shape {values.shape}"
            + ("" if values.shape != (len(X),) else " with NaN or inf")
            + "."
        )
    return values
