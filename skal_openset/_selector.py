"""Meta-Query-Net: the monotone meta-model that ranks examples for labelling."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from contextvars import ContextVar
from numbers import Integral, Real

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import assert_all_finite, check_random_state, gen_batches
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _num_samples,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from torch import nn

from ._atomic import restored_on_error
from ._float_events import flushing_underflow
from ._labels import label_array
from ._models import CPUPickledModuleMixin, check_device, module_device, seeded_torch
from ._threads import one_torch_thread
from ._torch_modes import float32_default, grad_enabled
from ._typing import IntLike, RandomStateLike, RealLike, fit_context
from ._validation import (
    _is_missing,
    check_none_missing,
    check_sample_weight,
    finite_inputs,
    is_one_of,
    reject_bool_numbers,
)
from ._warn import warn

_OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}

# Meta-inputs beyond this magnitude are far from the order 1 the sigmoid
# units need (at the initial weights, uniform in [0, 1], they saturate
# them): a failed fit on them blames the inputs, on smaller ones its steps.
LARGE_META_INPUT = 100.0
# Below this, differences of meta-inputs come near float32's rounding of
# the biases (order 1) that they are added to.
SMALL_META_INPUT = 1e-6

# Up to this many rows a fit's steps are too small to share among threads
# (see the class docstring); larger fits keep the caller's thread count.
ONE_THREAD_FIT_ROWS = 2_000


def _few_rows(X):
    """Whether a fit on `X` is small enough for one thread; True for an `X`
    with no length, which the fit's validation then names."""
    try:
        return _num_samples(X) <= ONE_THREAD_FIT_ROWS
    except TypeError:
        return True


class MonotoneMLP(nn.Module):
    """Two-layer perceptron whose output is increasing in every input.

    With ``monotone=True`` each weight matrix is stored as a raw parameter
    and used through a softplus, so every effective weight is positive; with
    the increasing sigmoid hidden activation the network is then increasing
    in each input, on any real input (Park et al. 2022, Theorem 4.1, also
    asks for non-negative inputs: its proof covers products of functions,
    which this network does not form). The softplus has a non-zero gradient
    everywhere, so a weight cannot die, as ReLU-wrapped weights do once a
    step pushes them below zero (19% of them on average and up to 41% in a fit
    under Adam, with whole inputs ignored in some fits:
    ``benchmarks/results/FINDINGS.md``). Biases are
    unconstrained. The output layer has no bias: a pairwise ranking loss
    cannot see a constant shift, so its gradient would be pure rounding
    noise, which adaptive optimisers turn into full-size random steps.

    Effective weights and hidden biases start uniform in [0, 1), as in the
    authors' code.

    Parameters
    ----------
    n_features : int
        Number of meta-inputs.
    hidden_size : int
        Width of the hidden layer.
    monotone : bool, default=True
        If False, the weights are used as they are (a plain MLP).

    Examples
    --------
    >>> import torch
    >>> from skal_openset import MonotoneMLP
    >>> mlp = MonotoneMLP(n_features=2, hidden_size=8)
    >>> scores = mlp(torch.tensor([[0.1, 0.2], [0.5, 0.2], [0.5, 0.9]]))
    >>> scores.shape
    torch.Size([3])
    >>> bool(scores[0] < scores[1] < scores[2])  # increasing in every input
    True
    """

    def __init__(
        self, n_features: int, hidden_size: int, monotone: bool = True
    ) -> None:
        super().__init__()
        self.monotone = monotone
        self.hidden = nn.Linear(n_features, hidden_size)
        self.output = nn.Linear(hidden_size, 1, bias=False)
        with torch.no_grad():
            for weight in (self.hidden.weight, self.output.weight):
                weight.uniform_(0.0, 1.0)
                if monotone:
                    # softplus^-1, so that the effective weight is the uniform draw.
                    weight.copy_(torch.log(torch.expm1(weight.clamp_min(1e-4))))
            self.hidden.bias.uniform_(0.0, 1.0)

    def effective_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the weight matrices the forward pass uses.

        Returns
        -------
        hidden_weight : torch.Tensor of shape (hidden_size, n_features)
        output_weight : torch.Tensor of shape (1, hidden_size)
            Both non-negative (softplus of the raw weights) when ``monotone``.
        """
        transform = nn.functional.softplus if self.monotone else (lambda w: w)
        return transform(self.hidden.weight), transform(self.output.weight)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        hidden_weight, output_weight = self.effective_weights()
        hidden = torch.sigmoid(nn.functional.linear(X, hidden_weight, self.hidden.bias))
        return nn.functional.linear(hidden, output_weight).squeeze(-1)


class NoPairToRank(Exception):
    """A target without a pair to rank: `fit` leaves the selector as it was."""


# Whether `fit` raises NoPairToRank rather than warn of it: a caller with a
# remedy of its own (MQNetQuery's update) gives its own warning.
_RAISE_NO_PAIR: ContextVar[bool] = ContextVar("raise_no_pair", default=False)


@contextlib.contextmanager
def no_pair_raised() -> Iterator[None]:
    """Have :meth:`MetaQueryNetSelector.fit` raise :class:`NoPairToRank`, in
    the block, where it would warn that its target has no pair to rank."""
    token = _RAISE_NO_PAIR.set(True)
    try:
        yield
    finally:
        _RAISE_NO_PAIR.reset(token)


def _check_numeric_target(y, name="y"):
    """Reject class labels, strings, booleans, dates and durations passed as
    a ranking target."""
    kind = np.asarray(y).dtype.kind if y is not None else "f"
    if kind == "O":  # a float NaN is validate_data's to name
        check_none_missing(
            np.ravel(y),
            name,
            "every row needs its ranking target (e.g. its masked cross-entropy); "
            "drop the rows without one.",
        )
    # datetime64/timedelta64 ("M"/"m") pass validate_data(y_numeric=True).
    if kind in "bUSOMm" and not (
        kind == "O"
        and all(isinstance(v, Real) and not isinstance(v, bool) for v in np.ravel(y))
    ):
        raise ValueError(
            f"{name} must be a numeric ranking target (e.g. the masked "
            f"cross-entropy of each row); got dtype {np.asarray(y).dtype}. "
            "Booleans, labels and dates carry no loss to rank by."
        )


def _power_of_two_normalised(values):
    """`values` times the power of two that puts their largest magnitude in [1, 2).

    Pair weights are products of sample weights (and target gaps) trained in
    float32, whose range a uniform rescaling of the weights or of the target
    would otherwise leave, flushing every weight to 0 or inf. Scaling by a
    power of two is exact, so whatever stayed in range before keeps every
    bit. Works on NumPy arrays and torch tensors alike.
    """
    peak = float(abs(values).max()) if len(values) else 0.0
    # 2.0**1022 is the largest factor needed for a subnormal peak.
    exponent = max(int(np.frexp(peak)[1]) - 1, -1022)
    with flushing_underflow():  # values far below the peak go to 0
        return values * 2.0**-exponent


def _group_codes(groups, rows) -> np.ndarray:
    """Integer code of each row's group: equal codes for labels that compare equal.

    Labels of any hashable types, mixed too, as ``==`` compares them; the fit
    and the metric share these codes, so they pair the same rows.
    """
    # column_or_1d's message names y; a list of tuples (a compound key) reads
    # as the rows of a 2-D array. label_array: NumPy reads [1, '1'] as two '1's.
    try:
        groups = label_array(groups, class_labels=False)
    except ValueError:
        raise ValueError(
            "groups must be 1-D, one hashable label per row (e.g. the query "
            "round of each row), not rows of several values such as tuples: "
            "for a compound key pass one integer code per row, e.g. "
            "np.unique(groups, axis=0, return_inverse=True)[1], or "
            "df.groupby(columns).ngroup() for columns of a DataFrame df."
        ) from None
    check_consistent_length(rows, groups)
    codes: dict[object, int] = {}
    try:
        encoded = [codes.setdefault(label, len(codes)) for label in groups.tolist()]
    except TypeError as error:
        raise ValueError(
            "groups must hold hashable labels (e.g. the query round of each "
            f"row): {error}."
        ) from None
    if any(_is_missing(label) for label in codes):
        raise ValueError(
            "groups contains a missing value (NaN, None, pandas.NA or NaT): "
            "give every row a group, e.g. the query round it comes from, or "
            "pass groups=None."
        )
    return np.array(encoded, dtype=np.int64)


class _PairChunks:
    """Row chunks of the pair matrix: preference signs and normalised weights.

    ``sign[a, j]`` is +1 where row ``a`` of the chunk must score above row
    ``j``, -1 where below and 0 for ties (no preference) and for pairs that
    ``groups`` excludes; ``weight`` is the pair weight ``w_a * w_j`` (times
    ``|y_a - y_j|`` with ``gap=True``, with ``y`` rescaled by a power of two
    so that float32 holds the gaps) on the remaining pairs, normalised to sum
    to one over all chunks (``total`` is the sum before normalising, 0 if no
    pair is left). With ``mean_weight`` (a mini-batch of a larger set: that
    set's `mean_weight()`) they are normalised instead by ``mean_weight``
    times the sum the pairs would have with unit sample weights, so that a
    batch of light rows weighs little, as in the whole set. Chunks are
    computed once and kept, as float32 weights and int8 signs, while the
    whole pair matrix is small (up to 5 bytes times ``_CACHE_LIMIT``: 160 MiB
    per instance); larger problems recompute them on every pass to bound
    memory.
    """

    # Pair-matrix elements kept in memory between passes: a query set of up to
    # 5,792 rows, as the paper's CIFAR protocol accumulates by round 10.
    _CACHE_LIMIT = 2**25

    def __init__(self, y, w, chunk_size, groups=None, gap=False, mean_weight=None):
        self.y, self.w, self.chunk_size, self.groups = y, w, chunk_size, groups
        self.gap = _power_of_two_normalised(y) if gap else None
        small = len(y) ** 2 <= self._CACHE_LIMIT
        # A matrix of one chunk (a mini-batch's) is built once for its sums and
        # its kept chunks, not two or three times; a larger one is streamed, a
        # chunk at a time, to bound the peak memory.
        parts = list(self._parts(w)) if small and len(y) <= chunk_size else None
        self.total = self._sum(self._parts(w) if parts is None else parts)
        if mean_weight is None:
            normaliser = self.total
        elif parts is None:
            normaliser = mean_weight * self._sum(self._parts(torch.ones_like(w)))
        else:  # unit sample weights: the pair weights are the |signs|
            units = ((r, s, s.abs(), d) for r, s, _, d in parts)
            normaliser = mean_weight * self._sum(units)
        self.scale = 1.0 / normaliser if self.total > 0 else 0.0
        self.cache = (
            [
                self._kept(rows, sign, self._weighted(pair, difference, self.scale))
                for rows, sign, pair, difference in (parts or self._parts(w))
            ]
            if small
            else None
        )

    def _sum(self, parts):
        """Sum of the pair weights of `parts` (of :meth:`_parts`), before
        normalising."""
        return float(sum(self._weighted(p, d, 1.0).sum() for _, _, p, d in parts))

    def mean_weight(self):
        """Mean of ``w_a * w_j`` over the pairs (weighted by the gaps with ``gap``).

        Exactly 1 with unit sample weights, so that mini-batches normalised by
        it keep their plain per-batch mean.
        """
        return self.total / self._sum(self._parts(torch.ones_like(self.w)))

    def _parts(self, w):
        """Per row chunk: its rows, the signs, the pair weights ``w_a * w_j``
        where a sign is not 0, and the target gaps (None without ``gap``)."""
        for start in range(0, len(self.y), self.chunk_size):
            rows = slice(start, start + self.chunk_size)
            sign = torch.sign(self.y[rows, None] - self.y[None, :]).to(self.w.dtype)
            if self.groups is not None:
                # Pairs across groups count only when one side has target 0.
                sign = sign * (
                    (self.groups[rows, None] == self.groups[None, :])
                    | (self.y[rows, None] == 0)
                    | (self.y[None, :] == 0)
                )
            pair = sign.abs() * w[rows, None] * w[None, :]
            difference = None
            if self.gap is not None:
                difference = (self.gap[rows, None] - self.gap[None, :]).abs()
                difference = difference.to(pair.dtype)
            yield rows, sign, pair, difference

    @staticmethod
    def _weighted(pair, difference, scale):
        weight = pair * scale
        return weight if difference is None else weight * difference

    @staticmethod
    def _kept(rows, sign, weight):
        """A chunk as kept between passes: the signs as int8, which the loss's
        products take as the float32 -1, 0 and 1 they are (5 bytes a pair,
        and no copy made on a pass), 0 where the weight is."""
        signed = sign * weight
        return rows, signed.sign().to(torch.int8), signed.abs()

    def __iter__(self):
        if self.cache is None:
            return (
                (rows, sign, self._weighted(pair, difference, self.scale))
                for rows, sign, pair, difference in self._parts(self.w)
            )
        return iter(self.cache)


class MetaQueryNetSelector(CPUPickledModuleMixin, RegressorMixin, BaseEstimator):
    """Meta-Query-Net (MQ-Net): learns to rank examples by meta-inputs.

    MQ-Net maps a meta-input ``z`` (typically ``[purity, informativeness]``)
    to a meta-score and is trained so that examples with a larger target
    (the masked cross-entropy of the self-validation set: the classifier's
    loss for in-distribution examples, 0 for out-of-distribution ones) score
    higher. Training minimises the pairwise margin ranking loss of Eq. (3)
    of Park et al. (2022) over all pairs whose targets differ, in full
    batches. With ``monotone=True`` the network is non-decreasing in every
    input (the skyline constraint). The sigmoid units saturate for inputs
    far from order 1: map raw scores with :class:`MetaInputTransformer`.

    Parameters
    ----------
    hidden_size : int, default=64
        Width of the hidden layer.
    monotone : bool, default=True
        Constrain the effective weights to be non-negative so that the
        meta-score never decreases when an input increases, up to the
        rounding of double precision, which differs with a row's position
        in the batch: a row one unit in the last place above another may
        score a few such units below it. ``False`` gives
        the unconstrained MLP of the paper's Table 4 ablation.
    margin : float, default=1.0
        Margin ``eta`` of the ranking loss. The loss, summed in float32, is
        about the margin while pairs are within it: a margin within its
        rounding of float32's largest value (3.4e38) overflows it.
    max_epochs : int, default=100
        Number of epochs: full-batch optimisation steps, or passes over the
        rows in mini-batches. Training stops earlier once every pair is
        ranked correctly by at least the margin (zero loss); with
        mini-batches, every pair of the whole set, not only those the
        epoch's batches held.
    lr : float, default=0.05
        Learning rate.
    optimizer : {"adam", "sgd"}, default="adam"
        Optimiser of the network parameters (SGD without momentum).
    batch_size : int >= 2 or None, default=None
        If None, every step uses every pair (full batch). If an int, each
        epoch shuffles the rows into mini-batches of this size and takes one
        step per batch on the pairs within it, as the authors' code does; a
        batch without a pair (e.g. only OOD rows) takes no step. A batch's
        loss weighs each pair's hinge by the pair's weight relative to the
        mean pair weight of the whole set (with equal sample weights: the
        batch's plain mean), so that `sample_weight` counts across batches,
        not only within each.
    steps_per_epoch : int or None, default=None
        With `batch_size` set: each epoch passes over the shuffled rows as
        many times as it takes to make at least this many mini-batch steps,
        as the authors' code does (100); batches that take no step do not
        count. If None, one pass. An epoch also ends after this many passes
        without a step, so that pairs that seldom share a batch (e.g. few,
        in small `groups`) cannot stall training. Requires `batch_size`.
    lr_decay_epoch : int or None, default=None
        If an int, the learning rate is multiplied by 0.1 from this epoch on
        (the authors' code: epoch 50 of 100).
    pair_weight : {"uniform", "target_gap"}, default="uniform"
        Weight of a pair in the ranking loss: the same for every pair (Eq. 3
        of the paper), or proportional to the difference of the two targets,
        so that mis-ordering an example of tiny loss below an OOD example
        costs little and mis-ordering a large loss costs much.
    pair_chunk_size : int, default=2048
        Rows of the ``n x n`` pair matrix processed at once; bounds the
        arrays of a pass at about ``30 * pair_chunk_size * n`` bytes (the
        chunk's signs, weights and some five float32 temporaries of the loss
        and its gradient, e.g. 2.5 GB for ``n = 40000`` with the default).
        Up to ``n = 5792`` the whole matrix (5 bytes a pair, at most 160 MiB;
        two while ``init="rule"`` fits the rule) is also kept between
        epochs, rather than recomputed. The process's peak memory can rise
        well above these, as the C allocator keeps freed temporaries for
        reuse: a fit of 4,000 rows with ``init="rule"``, for which these
        count 390 MiB, raised it by 961 MiB (median of 3 runs) on Linux
        (glibc), and by 358 MiB with ``MALLOC_MMAP_THRESHOLD_=131072`` set in
        the environment, which returns them at once, more slowly
        (``benchmarks/results/memory.md``).
        Fit time grows with ``n**2`` whatever the chunk:
        with ``init="rule"`` (two fits of 100 epochs) on 4,500 rows it took
        66 s on 2 CPU cores (``benchmarks/results/selector.md``).
    device : str or torch.device, default="cpu"
        Where ``fit`` trains the network; ``predict`` and ``score`` run
        where the fitted network is. A fitted selector loaded on a machine
        that lacks this device runs on the CPU, and this becomes ``"cpu"``,
        with a warning.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights and the order of the mini-batches.
    verbose : int, default=0
        If 1, print the ranking loss every 50 epochs; if larger, every
        ``verbose`` epochs. With ``init="rule"``, the epochs that fit the rule
        come first, printed as ``rule init epoch``; those on the target (of
        `loss_curve_`) follow, from epoch 0 again.
    warm_start : bool, default=False
        If True, `fit` starts from the network of the previous call (same
        number of meta-inputs, `hidden_size` and `monotone`) instead of new
        random weights; the optimiser's state starts afresh.
    init : {"random", "rule"}, default="random"
        Starting point of a new network. ``"random"``: the random weights
        (as the authors' code draws them). ``"rule"``: those weights first
        trained, with the same optimiser and epochs, to rank the rows by the
        sum of their meta-inputs (the fixed rule ``P + I``), then on the
        target from there, so the fit moves away from the rule only as far as
        the target's pairs pull it. ``MQNetQuery``'s default selector uses
        ``"rule"``. With ``warm_start=True`` it applies to the first fit only.

    Attributes
    ----------
    module_ : MonotoneMLP
        The fitted network.
    n_features_in_ : int
        Number of meta-inputs seen in `fit`.
    loss_curve_ : list of float
        Ranking loss at each epoch on the target (with ``init="rule"``, the
        epochs that fit the rule are not included). With mini-batches, the
        mean loss of the epoch's batches that took a step, or the loss over
        every pair of the set where that is 0 or no batch took a step.
    n_iter_ : int
        Number of epochs run on the target.

    See Also
    --------
    MetaInputTransformer : Turns raw purity and informativeness scores into
        the positive meta-input this estimator expects.

    Notes
    -----
    If the target offers no pair to order (fewer than two distinct values,
    e.g. a query set that was entirely out-of-distribution), `fit` warns and
    leaves the estimator as it was: a previously fitted network is kept, an
    unfitted estimator stays unfitted. In a grid search or cross-validation
    such a fold scores NaN, and a refit on such a target leaves
    ``best_estimator_`` unfitted.

    `predict` gives meta-scores, whose scale is the network's, not estimates
    of the target: only their order means something, which `score` measures
    (pairwise ranking accuracy, 0.5 is chance). The estimator is a regressor
    to scikit-learn (its default splitter is ``KFold``), but wrappers that
    read predictions as the target (``TransformedTargetRegressor``'s inverse
    transform, ``MultiOutputRegressor``'s R² score) do not apply. In
    ``GridSearchCV`` or ``cross_validate``, `groups` reaches only the splitter
    unless it is routed to `fit` too: ``cross_validate`` takes
    ``params={"groups": groups}``; ``GridSearchCV`` needs metadata routing
    (``sklearn.set_config(enable_metadata_routing=True)`` and
    ``set_fit_request(groups=True)``, with ``set_score_request(groups=True)``
    for `score`).

    `fit` on at most 2,000 rows and `predict` on at most 32,768 run torch
    with one thread, then restore the caller's thread count: a network this
    small gains nothing from threads there (``benchmarks/bench_selector.py``:
    a fit of 500 rows took 0.117 s on one thread and 0.111 s on two, on an
    idle 2-core machine), and can lose much to their synchronisation where
    the cores are busy (other fits, other processes). Larger calls keep the
    caller's count, which a many-core machine puts to use (a fit of 4,500
    rows took 18.8 s on 16 cores); the 2,000 lies between the sizes
    measured, not at a measured crossover. Other torch models, e.g. the
    classifier queried, keep the caller's count.

    Compared with the authors' code, which trains 100 epochs of mini-batch
    SGD on 16 reversed pairs per batch of 32, the defaults use every pair in
    each step, so far fewer steps are needed.
    ``MetaQueryNetSelector(optimizer="sgd", lr=1e-3, batch_size=32,
    steps_per_epoch=100, lr_decay_epoch=50)`` is that schedule (with every
    pair of each batch): about 10,000 steps for a query set of a few hundred.

    References
    ----------
    .. [1] D. Park, Y. Shin, J. Bang, Y. Lee, H. Song and J.-G. Lee,
       "Meta-Query-Net: Resolving Purity-Informativeness Dilemma in Open-set
       Active Learning", NeurIPS 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_openset import MetaQueryNetSelector
    >>> rng = np.random.RandomState(0)
    >>> Z = rng.uniform(0.1, 3.0, size=(200, 2))
    >>> y = np.where(Z[:, 0] > 1.0, Z[:, 1], 0.0)
    >>> selector = MetaQueryNetSelector(random_state=0).fit(Z, y)
    >>> bool(selector.score(Z, y) > 0.9)
    True
    """

    _parameter_constraints: dict = {
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "monotone": ["boolean"],
        "margin": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(_OPTIMIZERS))],
        # A batch of one row holds no pair: it could take no step.
        "batch_size": [Interval(Integral, 2, None, closed="left"), None],
        "steps_per_epoch": [Interval(Integral, 1, None, closed="left"), None],
        "lr_decay_epoch": [Interval(Integral, 1, None, closed="left"), None],
        "pair_weight": [StrOptions({"uniform", "target_gap"})],
        "pair_chunk_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "init": [StrOptions({"random", "rule"})],
    }

    def __init__(
        self,
        hidden_size: IntLike = 64,
        monotone: bool = True,
        margin: RealLike = 1.0,
        max_epochs: IntLike = 100,
        lr: RealLike = 0.05,
        optimizer: str = "adam",
        batch_size: IntLike | None = None,
        steps_per_epoch: IntLike | None = None,
        lr_decay_epoch: IntLike | None = None,
        pair_weight: str = "uniform",
        pair_chunk_size: IntLike = 2048,
        device: str | torch.device = "cpu",
        random_state: RandomStateLike = None,
        verbose: IntLike = 0,
        warm_start: bool = False,
        init: str = "random",
    ) -> None:
        self.hidden_size = hidden_size
        self.monotone = monotone
        self.margin = margin
        self.max_epochs = max_epochs
        self.lr = lr
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.steps_per_epoch = steps_per_epoch
        self.lr_decay_epoch = lr_decay_epoch
        self.pair_weight = pair_weight
        self.pair_chunk_size = pair_chunk_size
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.init = init

    def _validate_params(self) -> None:
        super()._validate_params()
        reject_bool_numbers(self)

    def _check_param_combinations(self):
        """What the parameter constraints cannot say of one parameter alone."""
        if self.steps_per_epoch is not None and self.batch_size is None:
            raise ValueError(
                "steps_per_epoch counts mini-batch steps: set batch_size too, or "
                "leave steps_per_epoch=None for full-batch training."
            )
        # Checked before training: MQNetQuery first trains its selector at a
        # teach, after the labels were bought.
        check_device(self.device)

    @fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        groups: ArrayLike | None = None,
    ) -> MetaQueryNetSelector:
        """Train the meta-model to rank rows of `X` in the order of `y`.

        The same fit whatever torch's default dtype, also inside
        ``torch.no_grad()`` or ``torch.inference_mode()``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Meta-inputs of order 1, e.g. ``[purity, informativeness]``
            from :class:`MetaInputTransformer`.
        y : array-like of shape (n_samples,)
            Ranking target: the masked cross-entropy (0 for
            out-of-distribution examples). Its order matters, and with
            `groups` also which rows are 0 (OOD, ranked across groups);
            with ``pair_weight="target_gap"`` also its differences.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Per-row weights; the pair ``(i, j)`` is weighted by
            ``sample_weight[i] * sample_weight[j]``. Only their ratios
            matter: their common scale, however small or large, changes the
            fit by rounding at most (not at all when it is a power of two).
        groups : array-like of shape (n_samples,), default=None
            Group of each row, e.g. the active-learning round of its query:
            any hashable labels, rows whose labels compare equal share a
            group. If given, a pair of rows from different groups is ranked
            only when one of the two has target 0: the losses of
            in-distribution examples are compared within their own round
            (whose classifier and meta-input scale they share), while an OOD
            example (target 0 in every round) ranks below every
            in-distribution one.

        Returns
        -------
        self : object
            The fitted selector, or the unchanged one if `y` offers no pair.

        Raises
        ------
        ValueError
            If `y` is not numeric (e.g. class labels or booleans), if
            training diverges (the message names the cause: meta-inputs too
            large for the network, or too large an `lr`, or a `margin`
            that float32 cannot hold), if `groups` is not 1-D (e.g. a list
            of tuples) or holds a missing (NaN, None, pandas.NA or NaT) or
            unhashable label, if `sample_weight` is negative, not finite or
            all zero, or if `device` is not a torch device, is the meta
            device (which computes no values) or an accelerator this machine
            lacks. The estimator is then left as it was before the call.
        """
        self._check_param_combinations()
        try:
            with one_torch_thread(_few_rows(X)), grad_enabled():
                self._fit(X, y, sample_weight, groups)
        except NoPairToRank:
            if _RAISE_NO_PAIR.get():
                raise
            warn(
                "The target offers no pair to rank among the rows with "
                "positive weight (fewer than two distinct values, or none "
                "within a group); the selector is left as it was.",
                UserWarning,
            )
        return self

    def _fit(self, X, y, sample_weight, groups):
        # validate_data resets n_features_in_ before the checks that follow
        # it: a failure anywhere, or no pair to rank, puts the fitted state back.
        with restored_on_error(self):
            _check_numeric_target(y)
            warm = self.warm_start and hasattr(self, "module_")
            # order="C": torch refuses arrays of negative strides (Z[::-1]).
            with finite_inputs():
                X, y = validate_data(
                    self,
                    X,
                    y,
                    reset=not warm,
                    dtype=np.float64,
                    y_numeric=True,
                    order="C",
                )
            sample_weight = check_sample_weight(sample_weight, X, np.float64)
            if warm and (
                self.module_.hidden.out_features != self.hidden_size
                or self.module_.monotone != self.monotone
            ):
                raise ValueError(
                    "warm_start=True continues the fitted network, which has "
                    f"hidden_size={self.module_.hidden.out_features} and "
                    f"monotone={self.module_.monotone}; set warm_start=False to "
                    "fit a network of the new shape from scratch."
                )
            device = torch.device(self.device)
            X_t = torch.tensor(X, dtype=torch.float32, device=device)
            # double (not the caller's dtype: uint8 differences would wrap
            # around): close targets stay untied
            y_t = torch.tensor(y, dtype=torch.float64, device=device)
            w_t = torch.tensor(
                _power_of_two_normalised(sample_weight),
                dtype=torch.float32,
                device=device,
            )
            g_t = (
                None
                if groups is None
                else torch.tensor(_group_codes(groups, X), device=device)
            )
            gap = self.pair_weight == "target_gap"
            pairs = _PairChunks(y_t, w_t, self.pair_chunk_size, g_t, gap)
            if pairs.total == 0:
                raise NoPairToRank

            rng = check_random_state(self.random_state)
            seed, order_seed = rng.randint(np.iinfo(np.int32).max, size=2)
            if warm:
                module = copy.deepcopy(self.module_)
            else:
                # On the CPU whatever torch's default device: the seeded
                # generator is the CPU's, and the module moves to `device` next.
                with seeded_torch(int(seed)), float32_default(), torch.device("cpu"):
                    module = MonotoneMLP(X.shape[1], self.hidden_size, self.monotone)
            # Training in single precision: faster on the CPU than double.
            module.to(device, torch.float32)
            if not warm and self.init == "rule":
                rule = torch.tensor(X.sum(axis=1), device=device)
                rule_pairs = _PairChunks(rule, w_t, self.pair_chunk_size, None, gap)
                self._train(
                    module,
                    X_t,
                    rule,
                    w_t,
                    None,
                    rule_pairs,
                    order_seed,
                    label="rule init epoch",
                )
            self.loss_curve_ = self._train(
                module, X_t, y_t, w_t, g_t, pairs, order_seed
            )
            self.n_iter_ = len(self.loss_curve_)
            # Scoring in double precision keeps the rounding (which can
            # differ with the batch a row is scored in) far below the gaps
            # between meta-scores.
            self.module_: MonotoneMLP = module.double().eval()
            self._warn_if_saturated(X_t, X)

    def _warn_if_saturated(self, X_t, X):
        """Warn if most training rows saturate every sigmoid unit alike.

        Such rows score the same up to rounding (which differs with the row,
        so testing the scores for equality misses most of these fits) and
        pass no gradient: the selector ranks them by rounding noise. Units of
        zero output weight do not count: they leave the score alone.
        """
        with torch.inference_mode():
            hidden_weight, output_weight = self.module_.effective_weights()
            # A huge step can drive a raw output weight so far below zero that
            # its softplus is 0; rows that differ on that unit alone still tie.
            live = output_weight[0] != 0
            weight, bias = hidden_weight[live], self.module_.hidden.bias[live]
            pre = nn.functional.linear(X_t.double(), weight, bias).cpu().numpy()
        # sigmoid(17) rounds to 1 in float32, the precision of training.
        saturated = (np.abs(pre) > 17).all(axis=1)
        if not saturated.any():
            self._warn_if_tied(X_t, X)
            return
        _, pattern, counts = np.unique(
            pre[saturated] > 0, axis=0, return_inverse=True, return_counts=True
        )
        tied = X_t.cpu().numpy()[saturated][pattern.ravel() == counts.argmax()]
        # Identical rows (as trained: float32) tie by construction.
        if 2 * len(tied) > len(X) and bool((tied != tied[0]).any()):
            warn(
                f"The fitted selector gives {len(tied)} of its {len(X)} training "
                "rows the same score up to rounding: they saturate all its "
                f"sigmoid units that reach the score; {self._training_advice(X)}",
                ConvergenceWarning,
            )

    def _warn_if_tied(self, X_t, X):
        """Warn if most training rows, distinct as trained (float32), get
        one score: inputs so small that their differences vanish beside the
        biases in float32, the precision of training."""
        with torch.inference_mode():
            scores = self.module_(X_t.double()).cpu().numpy()
        values, counts = np.unique(scores, return_counts=True)
        tied = X_t.cpu().numpy()[scores == values[counts.argmax()]]
        if 2 * counts.max() > len(X) and len(np.unique(tied, axis=0)) > 1:
            warn(
                f"The fitted selector gives {counts.max()} of its {len(X)} "
                f"training rows the same score; {self._training_advice(tied)}",
                ConvergenceWarning,
            )

    def _training_advice(self, X):
        """What to change when training on meta-inputs `X` fails (diverges or
        saturates): the inputs if they are large, else the step size. (A
        margin too large for float32 is named where the loss overflows.)"""
        peak = float(abs(X).max())
        if peak > LARGE_META_INPUT:
            return (
                f"the meta-inputs reach {peak:.3g}, too large for the network. "
                "Convert raw scores with MetaInputTransformer, whose outputs "
                "are of order 1."
            )
        if peak < SMALL_META_INPUT:
            return (
                f"the meta-inputs are at most {peak:.3g} in magnitude, too small "
                "for the network. Convert raw scores with MetaInputTransformer, "
                "whose outputs are of order 1."
            )
        return (
            f"the meta-inputs are moderate (at most {peak:.3g} in magnitude), "
            f"so the steps are too large: lower lr (now {self.lr:.3g})."
        )

    def _step(self, optimizer, X):
        """Take the optimiser step of a fit on meta-inputs `X`; a step too
        large for float32 (which torch refuses to take) is a divergence."""
        try:
            optimizer.step()
        except RuntimeError as error:
            if "overflow" not in str(error):
                raise
            raise ValueError(self._divergence_message(X)) from error

    def _divergence_message(self, X):
        return (
            "Training diverged (non-finite loss, weights or step): "
            + self._training_advice(X)
        )

    def _check_margin_fits(self, weight):
        """Raise if the margin alone overflows the float32 loss of a chunk
        of pairs weighted by `weight`.

        Where the score differences are below the margin's float32 rounding
        (as when the margin is near float32's largest value), every hinge is
        the margin, and the loss is the margin times the weights, summed as
        the loss is. The weights sum to one only up to rounding (e.g.
        1 + 4e-8), so a margin within a few units in the last place of
        float32's largest value overflows however small the steps.
        """
        if not torch.isfinite((self.margin * weight).sum()):
            raise ValueError(
                "Training diverged (non-finite loss): "
                f"margin={self.margin:.9g} overflows float32, in which the "
                "network trains: the ranking loss, about the margin while "
                "pairs are within it, rounds above float32's largest value "
                f"({np.finfo(np.float32).max:.9g}). Lower the margin (e.g. to "
                "the default 1.0)."
            )

    def _train(self, module, X, y, w, groups, pairs, order_seed, label="epoch"):
        """Train `module` in place to rank the rows of `X` in the order of `y`.

        `pairs` are the `_PairChunks` of ``(y, w, groups)``; `label` names
        the epochs in the `verbose` output. Returns the ranking loss of each
        epoch; raises ValueError if training diverges. A target with no pair
        to rank leaves `module` as it was.
        """
        if pairs.total == 0:
            return []
        optimizer = _OPTIMIZERS[self.optimizer](module.parameters(), lr=self.lr)
        order = torch.Generator().manual_seed(int(order_seed))
        # Batches weigh their pairs against the whole set's mean pair weight.
        mean_weight = None if self.batch_size is None else pairs.mean_weight()
        loss_curve = []
        for epoch in range(self.max_epochs):
            if epoch == self.lr_decay_epoch:
                # By hand, not with MultiStepLR (the same product): that one
                # warns of a wrong call order after an epoch without a step.
                for group in optimizer.param_groups:
                    group["lr"] *= 0.1
            if self.batch_size is None:
                loss = self._pair_loss(module, X, pairs, optimizer)
            else:
                batch_losses = self._mini_batch_epoch(
                    module, X, y, w, groups, optimizer, order, mean_weight
                )
                loss = float(np.mean(batch_losses)) if batch_losses else 0.0
                if loss == 0.0:
                    # The batches' pairs (if any) clear the margin; training
                    # has converged only if every pair of the set does.
                    loss = self._pair_loss(module, X, pairs, optimizer)
            loss_curve.append(loss)
            if not np.isfinite(loss):
                break
            if (
                self.verbose
                and epoch % (50 if self.verbose == 1 else self.verbose) == 0
            ):
                print(f"{label} {epoch:4d}  ranking loss {loss:.6f}")
            if loss == 0.0:
                break
            if self.batch_size is None:
                self._step(optimizer, X)
        if not (
            np.isfinite(loss_curve).all()
            and all(torch.isfinite(p).all() for p in module.parameters())
        ):
            raise ValueError(self._divergence_message(X))
        return loss_curve

    def _mini_batch_epoch(self, module, X, y, w, groups, optimizer, order, mean_weight):
        """One epoch of mini-batch steps; the loss of each batch that took one.

        Whole passes over the rows, shuffled by the generator `order`, until
        `steps_per_epoch` steps (one pass if None), as the authors' code
        does. A batch without a pair to rank takes no step and does not
        count. The epoch also ends after `steps_per_epoch` passes without a
        step, so that a target whose pairs seldom share a batch cannot stall
        training. Each batch's pair weights are normalised by `mean_weight`,
        the mean pair weight of the whole set, times what its pairs would
        weigh with unit sample weights (their number, or total target gap).
        """
        gap = self.pair_weight == "target_gap"
        wanted = self.steps_per_epoch or 1
        losses = []
        idle_passes = 0
        while len(losses) < wanted and idle_passes < wanted:
            steps = len(losses)
            # int: torch's split refuses the np.int64 a search grid sets.
            # On the CPU of the generator `order`, whatever the default device.
            shuffled = torch.randperm(len(X), generator=order, device="cpu")
            for rows in shuffled.split(int(self.batch_size)):
                batch = _PairChunks(
                    y[rows],
                    w[rows],
                    self.pair_chunk_size,
                    None if groups is None else groups[rows],
                    gap,
                    mean_weight,
                )
                loss = self._pair_loss(module, X[rows], batch, optimizer)
                if loss is not None:
                    self._step(optimizer, X)
                    losses.append(loss)
            idle_passes += len(losses) == steps
        return losses

    def _pair_loss(self, module, X, pairs, optimizer):
        """Ranking loss of the pairs of `X`, whose gradient it leaves in place.

        Returns None when `pairs` holds no pair to rank.
        """
        if pairs.total == 0:
            return None
        optimizer.zero_grad()
        loss = 0.0
        # Recomputing the (cheap) forward pass per chunk lets each chunk's
        # graph be freed after its backward, so memory stays O(chunk * n).
        for chunk_rows, sign, weight in pairs:
            scores = module(X)
            diff = scores[chunk_rows, None] - scores[None, :]
            chunk = (torch.relu(self.margin - sign * diff) * weight).sum()
            chunk.backward()
            value = chunk.item()
            if not np.isfinite(value):
                self._check_margin_fits(weight)
            loss += value
        return loss

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Meta-scores: higher means query earlier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Meta-inputs.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Meta-score of each row.
        """
        check_is_fitted(self, "module_")
        with finite_inputs():
            X = validate_data(self, X, reset=False, dtype=np.float64, order="C")
        # Inputs so large that a unit's sum overflows (+inf - inf is NaN) are
        # clipped to where none does; the units they reach stay saturated,
        # and a monotone clip keeps the scores monotone.
        hidden_weight, _ = self.module_.effective_weights()
        bound = np.finfo(np.float64).max / 4 / X.shape[1]
        bound /= max(float(hidden_weight.detach().abs().max()), 1.0)
        X = np.clip(X, -bound, bound)
        # The fitted network's device: parameters take effect at fit, and
        # `device` may have been set since (to fit the next selector elsewhere).
        device = module_device(self.module_)
        scores = np.empty(len(X))
        # Row blocks keep the hidden activations (rows x hidden_size) small
        # enough to stay in cache instead of one huge temporary.
        with torch.inference_mode(), one_torch_thread(len(X) <= 2**15):
            for rows in gen_batches(len(X), 2**15):
                block = torch.tensor(X[rows], device=device)
                scores[rows] = self.module_(block).cpu().numpy()
        return scores

    def score(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        groups: ArrayLike | None = None,
    ) -> float:
        """Pairwise ranking accuracy (concordance) of the meta-scores.

        The fraction of pairs with different targets that the meta-scores
        order the same way as `y`; pairs tied in score count one half (as
        :func:`pairwise_ranking_accuracy`: up to rounding, so identical rows
        tie). 1.0 is a perfect ranking, 0.5 is chance.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Meta-inputs.
        y : array-like of shape (n_samples,)
            Ranking target; a column is raveled with a warning, as in `fit`.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Pair ``(i, j)`` is weighted by ``sample_weight[i] * sample_weight[j]``.
        groups : array-like of shape (n_samples,), default=None
            Group of each row, as in `fit`: if given, a pair of rows from
            different groups counts only when one of the two has target 0,
            so that the pairs scored are those `fit` trains on. Under
            metadata routing, request it with ``set_score_request(groups=True)``.

        Returns
        -------
        score : float
            Pairwise ranking accuracy; NaN when no pair has different
            targets (e.g. a fold of OOD examples only, all with target 0).
        """
        # The conversions of fit: a column target, a scalar weight.
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)  # by the names the caller gave
        _check_numeric_target(y)
        with finite_inputs():  # fit's check of y, without its float warning
            assert_all_finite(y, input_name="y")
        scores = self.predict(X)
        sample_weight = check_sample_weight(sample_weight, scores, np.float64)
        return pairwise_ranking_accuracy(
            y, scores, sample_weight=sample_weight, groups=groups
        )


def pairwise_ranking_accuracy(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    groups: ArrayLike | None = None,
    pair_weight: str = "uniform",
) -> float:
    """Fraction of pairs with different targets that the scores order correctly.

    Also known as the concordance index. Pairs tied in `y_score` count one
    half; pairs tied in `y_true` carry no preference and are ignored. Two
    scores within ``1e-12`` times the larger of their magnitudes tie: equal
    inputs can score a few units in the last place apart (the rounding of a
    matrix product differs with a row's position), which must not order them.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Target whose order the scores should follow.
    y_score : array-like of shape (n_samples,)
        Scores to evaluate.
    sample_weight : array-like of shape (n_samples,), default=None
        Pair ``(i, j)`` is weighted by ``sample_weight[i] * sample_weight[j]``;
        their common scale does not matter.
    groups : array-like of shape (n_samples,), default=None
        If given, pairs across groups count only when one side has target 0,
        as in :meth:`MetaQueryNetSelector.fit`; any hashable labels, rows
        whose labels compare equal share a group.
    pair_weight : {"uniform", "target_gap"}, default="uniform"
        With ``"target_gap"`` each pair also counts in proportion to the
        difference of its targets: the share of the total target gap that
        the scores order correctly.

    Returns
    -------
    accuracy : float
        In [0, 1]; 0.5 is chance. NaN if no pair counts: `y_true` has a
        single distinct value, or the weights (all zero, say) or `groups`
        leave no pair of distinct targets.

    Raises
    ------
    ValueError
        If the inputs differ in length, are not finite, `y_true` is not
        numeric, `groups` is not 1-D (e.g. a list of tuples) or holds a
        missing (NaN, None, pandas.NA or NaT) or unhashable label, or
        `pair_weight` is not one of its two names.

    Examples
    --------
    >>> from skal_openset import pairwise_ranking_accuracy
    >>> pairwise_ranking_accuracy([0, 1, 2], [0.1, 0.5, 0.3])
    0.666...
    """
    _check_numeric_target(y_true, "y_true")
    y_true = np.asarray(y_true, dtype=np.float64)
    y_score = np.asarray(y_score, dtype=np.float64)
    if y_true.shape != y_score.shape or y_true.ndim != 1:
        raise ValueError(
            "y_true and y_score must be 1-D arrays of the same length; got "
            f"shapes {y_true.shape} and {y_score.shape}."
        )
    weight = (
        np.ones_like(y_true)
        if sample_weight is None
        else np.asarray(sample_weight, dtype=np.float64)
    )
    if weight.shape != y_true.shape:
        raise ValueError(
            f"sample_weight has shape {weight.shape} but y_true has "
            f"{y_true.shape}: give one weight per row."
        )
    if (weight < 0).any():
        raise ValueError("sample_weight must be non-negative: a pair weighs w_a w_j.")
    if not is_one_of(pair_weight, "uniform", "target_gap"):  # not an array
        raise ValueError(
            "pair_weight must be 'uniform' or 'target_gap' (the rows' weights "
            f"go in sample_weight), got {pair_weight!r}."
        )
    if groups is not None:
        groups = _group_codes(groups, y_true)
    checked = (("y_true", y_true), ("y_score", y_score), ("sample_weight", weight))
    for name, values in checked:
        if not np.isfinite(values).all():
            raise ValueError(
                f"{name} contains NaN or infinity; every value must be finite "
                "to order the pairs."
            )
    # Exact rescalings that keep the pair weights (products of weights and
    # target gaps) from under- or overflowing, whatever the inputs' scale.
    y_true, weight = _power_of_two_normalised(y_true), _power_of_two_normalised(weight)
    concordant = total = 0.0
    # Chunked so that 10^5-row sets do not need a 10^10-element matrix.
    chunk = max(1, 2**22 // max(len(y_true), 1))
    # The weights of pairs of tiny weights (or gaps), and the tolerance of
    # subnormal scores, go to 0: such pairs count for nothing, and only
    # equal scores tie.
    with flushing_underflow():
        for start in range(0, len(y_true), chunk):
            stop = start + chunk
            true_sign = np.sign(y_true[start:stop, None] - y_true[None, :])
            # Finite scores near the float64 limit: an infinite gap keeps its sign.
            with np.errstate(over="ignore"):
                score_gap = y_score[start:stop, None] - y_score[None, :]
            # Per pair: one large score must not tie distinct small ones.
            tolerance = 1e-12 * np.maximum(
                np.abs(y_score[start:stop, None]), np.abs(y_score[None, :])
            )
            score_sign = np.where(np.abs(score_gap) <= tolerance, 0, np.sign(score_gap))
            pairs = weight[start:stop, None] * weight[None, :] * np.abs(true_sign)
            if pair_weight == "target_gap":
                pairs *= np.abs(y_true[start:stop, None] - y_true[None, :])
            if groups is not None:
                pairs *= (
                    (groups[start:stop, None] == groups[None, :])
                    | (y_true[start:stop, None] == 0)
                    | (y_true[None, :] == 0)
                )
            agreement = np.where(score_sign == 0, 0.5, true_sign * score_sign > 0)
            concordant += (agreement * pairs).sum()
            total += pairs.sum()
    return float(concordant / total) if total > 0 else float("nan")
