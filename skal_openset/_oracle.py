"""A simulated open-set annotator with per-label costs (MQ-Net, Eq. (1))."""

import math
import numbers
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._atomic import restored_on_error
from ._labels import (
    _python,
    check_each_once,
    check_one_ood_label,
    check_ood_look_alikes,
    label_array,
)
from ._model_scores import check_label_kind, has_nan
from ._typing import RealLike
from ._validation import check_scalar_not_bool, is_finite


def _check_cost(value, name):
    check_scalar_not_bool(
        value, name, numbers.Real, min_val=0, include_boundaries="neither"
    )
    if not is_finite(value):
        raise ValueError(f"{name} must be a finite float, got {value}.")
    # The float of the decimal it prints as: np.float32(0.1) costs 0.1.
    return float(as_decimal(value))


def as_decimal(amount):
    """`amount` as the exact decimal it prints as: 0.1 is 1/10, not the
    binary float 0.1000000000000000055..., so sums of costs a user writes
    in decimals neither drift nor overshoot a budget written the same way.
    A NumPy float prints in its own precision: np.float32(0.1) is 1/10 too,
    not the 0.100000001490116... that float() makes of it."""
    if isinstance(amount, np.floating):
        return Fraction(np.format_float_positional(amount, unique=True))
    return Fraction(repr(float(amount)))


def labels_within(budget, cost):
    """How many labels of `cost` fit `budget`; 1.2 / 0.4 is 3."""
    return math.floor(as_decimal(budget) / as_decimal(cost))


def labelling_cost(n_in, n_ood, cost_in, cost_ood):
    """The cost of `n_in` IN and `n_ood` OOD labels, summed exactly and
    rounded once: adding costs one at a time drifts (ten costs of 0.1 add up
    to 0.9999999999999999, and 3 * 0.7 to 2.0999999999999996)."""
    return float(_exact_cost(n_in, n_ood, cost_in, cost_ood))


def _exact_cost(n_in, n_ood, cost_in, cost_ood):
    return n_in * as_decimal(cost_in) + n_ood * as_decimal(cost_ood)


def _check_labels(y_true, ood_label):
    """Refuse an `ood_label` that is not one label of the kind of `y_true`,
    and labels that are missing or look like a mistyped `ood_label`."""
    check_one_ood_label(ood_label)
    # First: pandas.NA, which has no truth value, fails a comparison with
    # ood_label ("boolean value of NA is ambiguous").
    if has_nan(y_true) or any(v in (np.inf, -np.inf) for v in y_true.tolist()):
        raise ValueError(
            "y_true contains None, NaN or inf; every example needs a label."
        )
    check_label_kind(y_true, ood_label)
    check_ood_look_alikes(y_true, ood_label, "y_true")


# The ood_label of an oracle that has checked none (one pickled before it kept it).
_UNCHECKED = object()


class OpenSetOracle:
    """Simulated annotator that reveals ground-truth pool labels at a cost.

    Labelling an IN example costs ``cost_in`` and returns its class; labelling
    an OOD example costs ``cost_ood`` and returns ``ood_label``. The cost of a
    query set ``S`` is ``C(S) = sum_{x in S} (1[x IN] c_IN + 1[x OOD] c_OOD)``
    (Park et al., 2022, Eq. (1)). The oracle keeps the accounts across rounds
    and refuses to sell an example twice. The costs and ``ood_label`` may be
    set between purchases: a cost applies to the labels bought from then on,
    an OOD label to every example.

    Parameters
    ----------
    y_true : array-like of shape (n_pool,)
        Ground-truth labels of the pool (integers, strings, ...): IN classes,
        or ``ood_label``.
    ood_label : int or str, default=-1
        Label that marks OOD examples. Any other negative label is taken for
        a mistyped OOD label and rejected. A string label equal to it but for
        case or surrounding spaces is rejected where no label spells
        `ood_label` exactly (every example would be IN), and warned of
        otherwise (its examples count as IN).
    cost_in : float, default=1.0
        Cost of labelling one IN example, > 0. Costs and budgets count as
        the decimals they print as: a NumPy float in its own precision
        (``np.float32(0.1)`` costs 0.1).
    cost_ood : float, default=1.0
        Cost of labelling one OOD example, > 0 (0.5 to 4 in the paper's Table 6).

    Attributes
    ----------
    spent_ : float
        Total cost of every example labelled so far, each at the cost it was
        bought at.
    n_queried_in_ : int
        Number of IN examples labelled so far, by the `ood_label` of the
        latest purchase.
    n_queried_ood_ : int
        Number of OOD examples labelled so far, by the `ood_label` of the
        latest purchase.
    queried_ : ndarray of shape (n_pool,), dtype=bool
        True for the examples already labelled; ``np.flatnonzero(~queried_)``
        is the unlabelled pool.

    Raises
    ------
    ValueError
        If `ood_label` is not one label of the kind of `y_true`'s labels, if
        `y_true` holds None, NaN or inf, another negative label, or look-alikes
        of `ood_label` where none spells it exactly, or if a cost is not
        finite and > 0.
    TypeError
        If a cost is not a real number (e.g. a string, None or a bool).

    Examples
    --------
    >>> from skal_openset import OpenSetOracle
    >>> oracle = OpenSetOracle([0, -1, 1, -1, 2], cost_ood=2.0)
    >>> kept, cost = oracle.fill_budget([1, 0, 3, 2, 4], budget=4)
    >>> kept, cost
    (array([1, 0]), 3.0)
    >>> oracle.label(kept)
    array([-1,  0])
    >>> oracle.spent_, oracle.n_queried_in_, oracle.n_queried_ood_
    (3.0, 1, 1)
    """

    _checked_ood_label: Any = _UNCHECKED

    def __init__(
        self,
        y_true: ArrayLike,
        *,
        ood_label: Any = -1,
        cost_in: RealLike = 1.0,
        cost_ood: RealLike = 1.0,
    ) -> None:
        y_true = label_array(y_true, name="y_true")
        _check_labels(y_true, ood_label)
        self.y_true = y_true.copy()
        self.ood_label = self._checked_ood_label = ood_label
        self.cost_in = _check_cost(cost_in, "cost_in")
        self.cost_ood = _check_cost(cost_ood, "cost_ood")
        self._spent = Fraction(0)  # exact: spent_ is rounded once
        self.spent_ = 0.0
        self.n_queried_in_ = 0
        self.n_queried_ood_ = 0
        self.queried_ = np.zeros(self.y_true.shape[0], dtype=bool)

    def __repr__(self):
        # Its settings and accounts, to read in a notebook or a log, as an
        # OpenSetSplit's; Python's own named a private module and an address.
        # NumPy scalars as Python's: not np.int64(-1), under NumPy 2.
        ood_label, cost_in, cost_ood, spent = map(
            _python, (self.ood_label, self.cost_in, self.cost_ood, self.spent_)
        )
        return (
            f"OpenSetOracle(n_pool={self.queried_.size}, "
            f"ood_label={ood_label!r}, cost_in={cost_in!r}, "
            f"cost_ood={cost_ood!r}, n_queried_in_={self.n_queried_in_}, "
            f"n_queried_ood_={self.n_queried_ood_}, spent_={spent!r})"
        )

    def __setstate__(self, state):
        # Pickled before the exact total was kept, with an OOD mask of its
        # first ood_label: its total is its counts at its costs, as spent_ was.
        is_ood = state.pop("_is_ood", None)
        # Its ood_label was checked at construction, unless it was set since
        # (the mask of that first label tells): not to warn again on resuming.
        if is_ood is None or np.array_equal(
            is_ood, state["y_true"] == state["ood_label"]
        ):
            state.setdefault("_checked_ood_label", state["ood_label"])
        state.setdefault(
            "_spent",
            _exact_cost(
                state["n_queried_in_"],
                state["n_queried_ood_"],
                state["cost_in"],
                state["cost_ood"],
            ),
        )
        self.__dict__.update(state)

    def _checked_costs(self):
        """``(cost_in, cost_ood)``, with them and ood_label checked as set now.

        An ood_label is checked once (its checks read the whole pool).
        """
        checked = self._checked_ood_label
        # By type and value: an equal label set anew passed the same checks,
        # but 1, 1.0 and True are labels of other kinds.
        if checked is not self.ood_label and not (
            type(checked) is type(self.ood_label) and checked == self.ood_label
        ):
            _check_labels(self.y_true, self.ood_label)
            self._checked_ood_label = self.ood_label
        return _check_cost(self.cost_in, "cost_in"), _check_cost(
            self.cost_ood, "cost_ood"
        )

    def _ood_of(self, indices):
        return self.y_true[indices] == self.ood_label

    def _check_indices(self, indices, name):
        """Valid, distinct, not yet labelled pool indices as an intp array."""
        indices = np.asarray(indices)
        if indices.size == 0:
            return np.empty(0, dtype=np.intp)
        if indices.ndim != 1 or not np.issubdtype(indices.dtype, np.integer):
            raise ValueError(
                f"{name} must be a 1-D array of integer pool indices, got shape "
                f"{indices.shape} and dtype {indices.dtype}."
            )
        n_pool = self.y_true.shape[0]
        out = (indices < 0) | (indices >= n_pool)
        if out.any():
            raise ValueError(
                f"{name} contains {indices[out][0]}, outside the pool range "
                f"[0, {n_pool})."
            )
        indices = indices.astype(np.intp, copy=False)
        check_each_once(indices, name, "index", " (an example cannot be bought twice)")
        bought = self.queried_[indices]
        if bought.any():
            raise ValueError(
                f"{name} contains index {indices[bought][0]}, which was already "
                "labelled: pass pool indices not yet bought, "
                "np.flatnonzero(~oracle.queried_), and map the positions "
                "learner.query returns back to pool indices (unlabelled[positions])."
            )
        return indices

    def fill_budget(
        self, ranked_indices: ArrayLike, budget: RealLike
    ) -> tuple[np.ndarray, float]:
        """Take ranked examples in order until the next one does not fit the budget.

        Walks ``ranked_indices`` in order and keeps each example while the
        cumulative cost stays within ``budget``; the walk stops at the first
        example whose cost does not fit. Nothing is bought: pass the result
        to :meth:`label`.

        Parameters
        ----------
        ranked_indices : array-like of shape (n_candidates,)
            Distinct, not yet labelled pool indices, highest priority first.
        budget : float
            Labelling budget, >= 0.

        Returns
        -------
        kept_indices : ndarray of shape (n_kept,)
            A prefix of `ranked_indices`.
        cost : float
            Their total cost, ``<= budget``: what :meth:`label` adds to
            ``spent_`` for them. Costs and budget count as the decimals they
            print as, so three labels of 0.1 fit a budget of 0.3 and cost
            0.3.

        Notes
        -----
        The cost of an example depends on its true label (IN or OOD), which
        the strategy does not know. Skipping an example that does not fit and
        buying a cheaper one further down would let that hidden label choose
        the purchase: with ``cost_ood > cost_in`` it skips OOD examples for
        free, a purity filter no real annotator offers. So the purchase is
        always a prefix of the strategy's order, and up to ``max(cost_in,
        cost_ood)`` of a round's budget can stay unspent (with equal costs,
        what is left of the budget after its multiples of the cost). With
        costs of 1 and an integer budget (the paper's default) the prefix
        spends the whole budget.
        """
        ranked = self._check_indices(ranked_indices, "ranked_indices")
        check_scalar_not_bool(budget, "budget", numbers.Real, min_val=0)
        if not is_finite(budget):
            raise ValueError(f"budget must be a finite float, got {budget}.")

        cost_in, cost_ood = self._checked_costs()

        # Exact sums: with float ones 1e9 + 0.05 + ... let labels past the
        # budget through, since any tolerance for rounding is that large.
        limit, spent = as_decimal(budget), Fraction(0)
        costs = {c: as_decimal(c) for c in (cost_in, cost_ood)}
        is_ood = self._ood_of(ranked)
        kept = []
        for idx, cost in zip(
            ranked.tolist(), np.where(is_ood, cost_ood, cost_in).tolist()
        ):
            spent += costs[cost]
            if spent > limit:
                break
            kept.append(idx)
        n_ood = int(is_ood[: len(kept)].sum())
        cost = labelling_cost(len(kept) - n_ood, n_ood, cost_in, cost_ood)
        return np.asarray(kept, dtype=np.intp), cost

    def label(self, indices: ArrayLike) -> np.ndarray:
        """Buy the labels of ``indices`` and update the accounts.

        Parameters
        ----------
        indices : array-like of shape (n_query,)
            Distinct pool indices that were not labelled before.

        Returns
        -------
        labels : ndarray of shape (n_query,)
            The true IN class of each example, or ``ood_label`` for OOD ones.

        Raises
        ------
        ValueError
            If an index is out of range, repeated, or already labelled, or
            if the total cost would pass the largest float.
        """
        indices = self._check_indices(indices, "indices")
        cost_in, cost_ood = self._checked_costs()
        n_ood = int(self._ood_of(indices).sum())
        queried = self.queried_.copy()
        queried[indices] = True
        # Counted anew: an ood_label set since an earlier purchase applies to
        # its examples too.
        n_ood_bought = int(self._ood_of(queried).sum())
        total = self._spent + _exact_cost(
            indices.size - n_ood, n_ood, cost_in, cost_ood
        )
        try:
            spent = float(total)
        except OverflowError:
            raise ValueError(
                f"The labels bought would cost more than the largest float "
                f"({np.finfo(float).max:.3g}) in all: give cost_in and cost_ood "
                "in a larger unit (thousands, say), so that they are smaller."
            ) from None
        # All accounts or none: a Ctrl-C between two of them would leave
        # labels charged but not bought, or counted but not charged.
        with restored_on_error(self):
            self.n_queried_ood_ = n_ood_bought
            self.n_queried_in_ = int(queried.sum()) - n_ood_bought
            self._spent, self.spent_ = total, spent
            self.queried_ = queried
        return self.y_true[indices].copy()
