"""LfOSA: query what a (K+1)-class detector most likely calls IN (Ning et al. 2022)."""

from numbers import Integral, Real
from typing import Any

import numpy as np
import torch.nn.functional as F
from numpy.typing import ArrayLike
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from skorch import NeuralNet
from torch import nn

from .._float_events import flushing_underflow
from .._hashing import UNHASHABLE, content_hash
from .._inference import predict_logits
from .._model_scores import (
    _final_input,
    _looked_through,
    class_codes,
    class_logits,
    fitted_estimator,
    labelled_in_and_ood,
    n_classes,
    split_pipeline,
)
from .._models import LearningLossNet, TargetNet
from .._typing import RandomStateLike, RealLike
from .._warn import ignored
from ._base import QueryStrategy, top_scores


class TemperatureCrossEntropy(nn.CrossEntropyLoss):
    """Cross-entropy of ``logits / T``; one temperature for IN rows, one for OOD rows.

    A ``CrossEntropyLoss`` to skorch, so the detector's ``predict_proba`` is
    the softmax of its logits (under another criterion it returns them).

    Parameters
    ----------
    ood_class : int
        The target index of the OOD class (K).
    known_T, unknown_T : float
        Temperature of rows whose target is a known class, and of OOD rows.
    """

    def __init__(self, ood_class, known_T=0.5, unknown_T=2.0):
        super().__init__()
        self.ood_class = ood_class
        self.known_T = known_T
        self.unknown_T = unknown_T

    def forward(self, logits, target):
        is_ood = (target == self.ood_class).to(logits.dtype)
        T = self.known_T + (self.unknown_T - self.known_T) * is_ood
        return F.cross_entropy(logits / T.unsqueeze(1), target)


class LfOSAQuery(QueryStrategy):
    """Query the pool examples a (K+1)-class detector most likely sees as IN.

    Each query trains a *detector*: a fresh copy of the learner's net with
    K+1 outputs, on the labelled IN examples (classes ``0..K-1``) and the
    labelled OOD examples (class K), with the cross-entropy of
    ``logits / T`` (``known_T`` for IN rows, ``unknown_T`` for OOD rows; a
    low temperature sharpens the activations of known classes). Every pool
    example gets its detector's *maximum activation value* (its largest
    logit) and predicted class. Per predicted known class, a 2-component
    Gaussian mixture is fitted on those values; the posterior of the
    component with the larger mean is the example's probability of being IN
    of its predicted class. Examples predicted as OOD (class K) get 0. The
    highest probabilities are queried; that probability is the score.

    Parameters
    ----------
    known_T : float, default=0.5
        Training temperature of labelled IN rows (the paper's T).
    unknown_T : float, default=2.0
        Training temperature of labelled OOD rows (the official code's
        ``--unknown-T`` default).
    random_state : int, RandomState instance or None, default=None
        Seeds the detector's training, the mixtures' initialisation and ties.

    Attributes
    ----------
    detector_ : classifier
        The (K+1)-class net (or pipeline) trained for the last labelled set.
    mixtures_ : dict of int to GaussianMixture
        The mixture of each predicted known class, fitted on the last pool.

    Notes
    -----
    Differences from the official code (``ningkp/LfOSA``, ``Sampling.py``,
    ``AV_sampling_temperature``):

    - the detector is a copy of the learner's own net (architecture and
      training parameters), not a separate ResNet-18, and is trained without
      the centre loss; the learner's classifier plays the paper's target
      model;
    - a predicted class with fewer than 2 pool examples has no mixture: the
      official code never queries those examples, here they score 0 and come
      last;
    - the detector is retrained only when what it is trained from changes
      (the labelled set, the learner's classes, its classifier's parameters,
      or this strategy's temperatures or int `random_state`), so repeated
      queries on one labelled set share it.

    LfOSA needs a net whose output size can be changed: a :class:`TargetNet`
    whose module takes ``n_classes`` (``make_mlp_classifier``,
    ``make_cnn_classifier``, ``make_resnet18_classifier``, without
    ``learning_loss``), possibly at the end of a pipeline. Any other
    classifier is rejected when the learner is fitted.

    :meth:`in_probability` is the LfOSA score as a function
    ``(learner, X) -> (n,)``, e.g. as MQ-Net's purity:
    ``MQNetQuery(purity=LfOSAQuery(random_state=0).in_probability)``.

    References
    ----------
    .. [1] K.-P. Ning, X. Zhao, Y. Li and S.-J. Huang, "Active Learning for
       Open-set Annotation", CVPR 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_openset import (ActiveLearner, LfOSAQuery, load_digits_dataset,
    ...                           make_mlp_classifier)
    >>> X, y = load_digits_dataset()
    >>> y = np.where(y < 4, y, -1)  # digits 4-9 are out of distribution: label -1
    >>> net = make_mlp_classifier(64, 4, max_epochs=3, random_state=0)
    >>> learner = ActiveLearner(net, LfOSAQuery(random_state=0)).fit(X[:100], y[:100])
    >>> indices, X_query = learner.query(X[100:], n_instances=5)
    >>> learner.query_strategy_.detector_.predict_proba(X_query).shape  # K + 1 classes
    (5, 5)
    """

    _parameter_constraints: dict = {
        **QueryStrategy._parameter_constraints,
        "known_T": [Interval(Real, 0, None, closed="neither")],
        "unknown_T": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        known_T: RealLike = 0.5,
        unknown_T: RealLike = 2.0,
        random_state: RandomStateLike = None,
    ) -> None:
        self.known_T = known_T
        self.unknown_T = unknown_T
        self.random_state = random_state

    def _check_estimator(self, estimator):
        net = split_pipeline(estimator)[1]
        wrapped = _looked_through(estimator)[1]
        if wrapped is not net and isinstance(wrapped, NeuralNet):
            # Retraining a search or calibration on K+1 classes would search or
            # calibrate the detector anew, on a problem it was not set for.
            raise ValueError(
                "LfOSAQuery trains a (K+1)-class copy of the learner's net, which "
                f"it cannot do through the {type(net).__name__} around the net; "
                "pass the net (or its pipeline) itself (after a search, its "
                "best_estimator_), or use a strategy that reads the net through "
                "it, such as MQNetQuery."
            )
        if (
            not isinstance(net, TargetNet)
            or isinstance(net, LearningLossNet)
            or "module__n_classes" not in net.get_params()
        ):
            raise ValueError(
                "LfOSAQuery trains a (K+1)-class copy of the learner's net, so it "
                "needs a TargetNet whose module takes n_classes (make_mlp_classifier, "
                "make_cnn_classifier or make_resnet18_classifier without "
                f"learning_loss); got {type(net).__name__}. With another classifier "
                "use e.g. SimilarQuery, CCALQuery or EOALQuery."
            )

    def _select(self, learner, X_pool, n_instances, rng):
        return top_scores(self._fit(learner, X_pool, rng), n_instances, rng)

    def in_probability(self, learner: Any, X: ArrayLike) -> np.ndarray:
        """LfOSA's probability that each row of `X` is IN of its predicted class.

        Trains the detector and fits the mixtures on `X` when the detector
        would be trained differently than the last one (another labelled set,
        classifier or temperature); otherwise reuses both
        (so MQ-Net's update scores its query set on the scale of the pool it
        was chosen from: call it on the pool first). So, until the labelled
        set changes, every `X` is scored with the mixtures of the first one:
        a query of a second pool, or of other candidates of one, depends on
        which was queried first: teach the first query's labels before
        querying another pool.

        Parameters
        ----------
        learner : ActiveLearner or modAL learner
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        probability : ndarray of shape (n_samples,)
        """
        self._validate_params()
        if getattr(self, "_detector_settings", None) != self._settings(learner):
            return self._fit(learner, X, check_random_state(self.random_state))
        return _posterior(
            self.mixtures_, *self._activations(learner, self.detector_, X)
        )

    def _fit(self, learner, X_pool, rng):
        """Train the detector (unless cached) and the mixtures on `X_pool`."""
        self._check_estimator(fitted_estimator(learner))
        detector_seed, mixture_seed = rng.randint(np.iinfo(np.int32).max, size=2)
        settings = self._settings(learner)
        if getattr(self, "_detector_settings", None) == settings:
            detector = self.detector_
        else:
            detector = self._train_detector(learner, detector_seed)
        values, predicted = self._activations(learner, detector, X_pool)
        mixtures = {}
        for c in np.unique(predicted[predicted < n_classes(learner)]):
            rows = values[predicted == c].reshape(-1, 1)
            if len(rows) < 2:
                continue
            # The paper's settings; 10 iterations rarely converge.
            mixture = GaussianMixture(
                2, max_iter=10, tol=1e-2, reg_covar=5e-4, random_state=mixture_seed
            )
            # flushing_underflow: the responsibilities of rows far from a
            # component (unstandardised activations) go to 0 in the E-step.
            with ignored(ConvergenceWarning), flushing_underflow():
                mixtures[int(c)] = mixture.fit(rows)
        # Stored at once when all is built: a failure or Ctrl-C before leaves
        # the cache as it was, as in_probability (MQ-Net's purity) is called
        # outside the query's rollback of this object. One call, so that no
        # interrupt falls between the assignments.
        vars(self).update(
            detector_=detector, mixtures_=mixtures, _detector_settings=settings
        )
        return _posterior(mixtures, values, predicted)

    def _activations(self, learner, detector, X):
        """Maximum activation value and predicted class of each row (K = OOD)."""
        net, X_net = _final_input(detector, X)
        logits = predict_logits(net, X_net).astype(np.float64)
        if not np.isfinite(logits).all():
            # The learner's net diverged too: class_logits names it. Else the
            # detector's own training, at its temperatures, did.
            class_logits(learner, X)
            raise ValueError(
                "The logits of LfOSA's detector (the learner's net retrained on "
                "K+1 classes, with logits divided by known_T="
                f"{self.known_T:.3g} and unknown_T={self.unknown_T:.3g} in "
                "training) hold NaN or inf for rows of X where the learner's net "
                "gives finite ones: its training diverged. Bring known_T and "
                "unknown_T closer to 1 (the defaults are 0.5 and 2.0), or lower "
                "the net's learning rate."
            )
        return logits.max(axis=1), logits.argmax(axis=1)

    def _settings(self, learner):
        """A key of what the detector is trained from, to tell when to retrain."""
        X_in, y_in, X_ood = labelled_in_and_ood(learner)
        # An int seeds the detector; None or a generator draws a new seed at
        # every call, which must not retrain it at every call.
        seed = self.random_state if isinstance(self.random_state, Integral) else None
        settings = [
            X_in,
            y_in,
            X_ood,
            n_classes(learner),
            {**self.get_params(), "random_state": seed},
        ]
        estimator = fitted_estimator(learner)
        try:
            # Tensors by their values: a tensor parameter (criterion__weight)
            # pickles differently in each clone.
            return content_hash([*settings, clone(estimator)])
        except UNHASHABLE:
            # Parameters that do not pickle (a lambda): the classifier's identity.
            return content_hash(settings), id(estimator)

    def _train_detector(self, learner, seed):
        X_in, y_in, X_ood = labelled_in_and_ood(learner)
        codes_in = class_codes(learner, y_in)
        k = n_classes(learner)
        detector = clone(fitted_estimator(learner))
        net = split_pipeline(detector)[1]
        # The learner's criterion parameters (a K-class weight) are not the
        # detector criterion's.
        for name in [name for name in vars(net) if name.startswith("criterion__")]:
            delattr(net, name)
        net.set_params(
            module__n_classes=k + 1,
            classes=np.arange(k + 1),
            criterion=TemperatureCrossEntropy,
            criterion__ood_class=k,
            criterion__known_T=self.known_T,
            criterion__unknown_T=self.unknown_T,
            random_state=int(seed),
        )
        X = np.concatenate([X_in, X_ood]) if len(X_ood) else X_in
        y = np.concatenate([codes_in, np.full(len(X_ood), k)])
        return detector.fit(X, y)


def _posterior(mixtures, values, predicted):
    """Each row's posterior of the higher-mean component of its class's mixture."""
    probability = np.zeros(len(values))
    for c, mixture in mixtures.items():
        rows = predicted == c
        if rows.any():
            with flushing_underflow():  # as in the mixture's fit
                posterior = mixture.predict_proba(values[rows].reshape(-1, 1))
            probability[rows] = posterior[:, np.argmax(mixture.means_.ravel())]
    return probability
