"""How well purity scores separate IN from OOD in the unlabelled pool, per round."""

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.utils import _safe_indexing

from ._labels import _python
from ._model_scores import (
    PURITY_SCORES,
    check_rows,
    compute_score,
    framed,
    labelled_in_and_ood,
    resolve_score,
)
from ._purity import TooFewLabelsError
from ._rows import row_keys
from ._typing import IntLike, RandomStateLike
from ._validation import check_random_state_not_bool, check_scalar_not_bool
from ._warn import noted_on


class PurityAUROC:
    """``callback`` of :func:`run_active_learning` recording purity AUROCs.

    At the end of every round, each purity score rates a fixed random sample
    of the pool, less whatever the learner has labelled by then (and any
    row equal to a labelled one in single precision: rows are matched by
    their float32 values), and the AUROC of IN (positive) against OOD is
    written into the round's record as ``purity_auroc_<name>``: 1 separates
    perfectly, 0.5 is chance. A score that cannot be computed yet (too few
    labels, e.g. for Mahalanobis) records NaN; any other error of a score
    (one that cannot work with these data) is raised.

    Parameters
    ----------
    split : OpenSetSplit
        The experiment's split (its pool and ground truth).
    scores : dict of str -> str or callable
        Record name -> purity score, a name of the library's scores
        (``"knn"``, ``"mahalanobis"``...) or ``score(learner, X)``.
    max_samples : int, default=1000
        Size of the pool sample, >= 2; the whole pool if smaller.
    random_state : int, RandomState instance or None, default=None
        Draws the sample, when the callback is made (with None, from NumPy's
        global generator): a run resumed from its checkpoint then scores the
        sample of the run it resumes, and its draws are not moved.

    Examples
    --------
    >>> callback = PurityAUROC(split, {"msp": "msp", "knn": "knn"})  # doctest: +SKIP
    >>> run_active_learning(split, net, strategy, callback=callback)  # doctest: +SKIP
    """

    def __init__(
        self,
        split: Any,
        scores: dict,
        max_samples: IntLike = 1000,
        random_state: RandomStateLike = None,
    ) -> None:
        self.split = split
        self.scores = scores
        self.max_samples = max_samples
        self.random_state = random_state
        # Drawn now, not in the first round: a resumed run draws no more
        # from the generator than the run it resumes did after its checkpoint.
        self.rows_ = self._sample()

    def __repr__(self):
        # Its settings, as an OpenSetOracle's (Python's own named a private
        # module and an address), and NumPy scalars as Python's: not
        # np.int64(0), under NumPy 2.
        max_samples, random_state = map(_python, (self.max_samples, self.random_state))
        return (
            f"PurityAUROC(split={self.split!r}, scores={self.scores!r}, "
            f"max_samples={max_samples!r}, random_state={random_state!r})"
        )

    def _sample(self):
        # An AUROC needs an IN and an OOD row: a smaller sample records NaN.
        check_scalar_not_bool(
            self.max_samples, "max_samples", numbers.Integral, min_val=2
        )
        if not isinstance(self.scores, Mapping):
            raise TypeError(
                "scores must be a dict of record name -> purity score, e.g. "
                f"{{'msp': 'msp', 'knn': 'knn'}}, got {self.scores!r}."
            )
        for score in self.scores.values():
            resolve_score(score, PURITY_SCORES, "purity")
        n_pool = len(self.split.y_pool)
        rng = check_random_state_not_bool(self.random_state)
        size = min(self.max_samples, n_pool)
        return np.sort(rng.choice(n_pool, size, replace=False))

    def __call__(self, record: dict, learner: Any) -> None:
        """Add ``purity_auroc_<name>`` for every score to ``record``."""
        learner = framed(learner, self.split.X_pool)
        # The rows as a strategy gets them: converted as the learner converts
        # its labelled ones, or their keys never match (a DataFrame with a bool
        # column is an object array) and a classifier fitted on arrays is
        # handed a DataFrame.
        X = _safe_indexing(self.split.X_pool, self.rows_)
        X = check_rows(X, getattr(learner, "estimator", learner), "X_pool")
        X_in, _, X_ood = labelled_in_and_ood(learner)
        labelled = row_keys(np.concatenate([X_in, X_ood]))
        unlabelled = ~np.isin(np.array(row_keys(X)), labelled)
        X, is_in = X[unlabelled], ~self.split.is_ood[self.rows_[unlabelled]]
        for name, score in self.scores.items():
            auroc = float("nan")
            if 0 < is_in.sum() < len(is_in):
                try:
                    with noted_on(self):  # its warnings once, not every round
                        purity = compute_score(
                            score, PURITY_SCORES, "purity", learner, X
                        )
                    auroc = float(roc_auc_score(is_in, purity))
                except TooFewLabelsError:
                    pass
            record[f"purity_auroc_{name}"] = auroc
