"""The experiment runner: rounds of train, score, query, label and update."""

import csv
import hashlib
import io
import logging
import math
import numbers
import os
import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import torch
from sklearn.base import clone
from sklearn.metrics import auc
from sklearn.utils import _safe_indexing
from tqdm import tqdm

from ._atomic import check_file_path, check_writable
from ._datasets import OpenSetSplit
from ._hashing import UNHASHABLE, Fingerprint
from ._learner import ActiveLearner, _cloned_strategy
from ._oracle import OpenSetOracle, as_decimal, labelling_cost
from ._persistence import (
    _DamagedFileError,
    _EarlyFileError,
    _UnloadableFileError,
    atomic_open,
    load_object,
    save_object,
)
from ._strategies._base import QueryStrategy, called_strategy
from ._typing import IntLike, RealLike, Records
from ._validation import check_scalar_not_bool, foreign_frame_library, is_finite
from ._warn import warn

logger = logging.getLogger("skal_openset")


def _check_budget(budget, cost_in, cost_ood):
    check_scalar_not_bool(budget, "budget", numbers.Real)
    most = max(cost_in, cost_ood)
    # As the oracle compares them: as decimals, not in the budget's precision
    # (np.float32(0.3) and the float nearest it are equal as float32).
    if not (is_finite(budget) and as_decimal(budget) >= as_decimal(most)):
        raise ValueError(
            f"budget={budget!s} cannot buy a label in every round: it must be a "
            f"finite float and at least max(cost_in, cost_ood) = {most}, the "
            "price of the dearest label. Raise the budget or lower the costs "
            "(skal-openset run: --budget, --cost-in, --cost-ood)."
        )


# What a run's fingerprint holds, as an error on resume names the items that
# differ (the split's arrays as one: how the fingerprint hashes them).
_FINGERPRINT_PARTS = (
    "the split (its pool, initial set or test set)",
    "the estimator",
    "the query strategy",
    "the budget",
    "cost_in",
    "cost_ood",
)
# The parts that are numbers, which no version of the code hashes otherwise.
_NUMBER_PARTS = _FINGERPRINT_PARTS[3:]


def _fingerprint(split, estimator, query_strategy, budget, cost_in, cost_ood):
    """What makes two runs the same experiment, for checking a checkpoint: its
    :class:`Fingerprint` (a strategy may hold a fitted encoder).

    The estimator and strategy count as the run starts from them, cloned: a
    template the user fitted in between is the same experiment.
    """
    arrays = [split.X_pool, split.y_pool, split.initial_idx, split.X_test, split.y_test]
    started = [clone(estimator, safe=False), _cloned_strategy(query_strategy)]
    try:
        return Fingerprint([arrays, *started, budget, cost_in, cost_ood])
    except UNHASHABLE as exc:
        # joblib's hash adds the repr of all it hashed, the data set included
        reason = str(exc.args[0] if exc.args else exc)
        reason = reason if len(reason) <= 200 else reason[:200] + "..."
        raise ValueError(
            f"checkpoint= saves the estimator and the strategy, which cannot be "
            f"pickled ({reason}): define their functions at module level instead "
            "of as lambdas or local functions, or run without a checkpoint."
        ) from exc


@cache
def _source_hash():
    """A hash of this package's source files: its version stays the same while
    its code changes between releases (a development install)."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def versions():
    """Versions of the code that computes a run's rounds."""
    from . import __version__

    return {
        "skal_openset": __version__,
        "skal_openset source": _source_hash(),
        "scikit-learn": sklearn.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
    }


def warn_of_other_versions(saved_file, saved, consequence):
    """Warn if `saved`, the versions a resumed file recorded (None: not
    recorded), differ from these; `consequence` ends the sentence.

    A warning, not a refusal: the fingerprint says whether it is the same
    experiment; other code may only compute its next rounds otherwise.
    """
    other = other_versions(saved)
    if other is not None:
        then, now = other
        warn(
            f"{saved_file} was written with {then}; it resumes with {now}, so "
            f"{consequence}",
            UserWarning,
        )


def saved_sklearn_version(state):
    """The scikit-learn version a saved checkpoint or campaign `state`
    recorded, or None: earlier code hashed it into the fingerprint."""
    if not isinstance(state, dict):
        return None
    return (state.get("versions") or {}).get("scikit-learn")


def other_versions(saved):
    """The versions of `saved` (as :func:`warn_of_other_versions` takes it)
    that differ from these, in words: (those saved, these), or None where
    none differs."""
    now = versions()
    if saved == now:
        return None
    changed = [name for name in now if saved is None or saved.get(name) != now[name]]
    then = (
        "an earlier skal_openset, which recorded no versions"
        if saved is None
        else ", ".join(f"{name} {saved.get(name)}" for name in changed)
    )
    return then, ", ".join(f"{name} {now[name]}" for name in changed)


def _rng_state():
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),  # noqa: NPY002 (the global state is saved)
        "torch": torch.get_rng_state(),
        # An uninitialised CUDA starts from its default seed on resume too.
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None,
    }


def _set_rng_state(state):
    # None: saved without CUDA in use, or by a version that did not save it.
    cuda = state.get("cuda")
    # Checked first: a refused resume leaves the caller's random states alone.
    if cuda is not None and len(cuda) != torch.cuda.device_count():
        raise ValueError(
            f"the checkpoint saved the random states of {len(cuda)} CUDA "
            f"devices and this machine has {torch.cuda.device_count()}: resume "
            "it on a machine like the one that wrote it, or delete it to start "
            "over."
        )
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])  # noqa: NPY002
    torch.set_rng_state(state["torch"])
    if cuda is not None:
        torch.cuda.set_rng_state_all(cuda)


class _OtherExperimentError(ValueError):
    """A checkpoint of another experiment. ``differ``: the names of
    `_FINGERPRINT_PARTS` that differ, or None where the checkpoint does not
    tell (the command line names its options by them); ``other_code``: the
    versions it was written with and these, in words, where they differ (as
    :func:`other_versions` gives them), else None."""

    def __init__(self, message, differ, other_code):
        super().__init__(message)
        self.differ, self.other_code = differ, other_code


def _parts_that_differ(fingerprint, saved_parts, sklearn_version):
    """The names of the items of `fingerprint` that differ from those of a
    checkpoint's, `saved_parts`, hashed under `sklearn_version` (None: not
    recorded); None where it does not tell (saved before checkpoints held
    them, or no item differs)."""
    if saved_parts is None:
        return None
    differ = fingerprint.parts_that_differ(
        _FINGERPRINT_PARTS, saved_parts, sklearn_version
    )
    return differ or None


def _what_differs(differ):
    """`differ` of :func:`_parts_that_differ` in words."""
    if differ is None:
        return "split, estimator, strategy, budget or costs differ"
    if len(differ) == 1:
        return f"{differ[0]} differs"
    return f"{', '.join(differ[:-1])} and {differ[-1]} differ"


def _resume(checkpoint, fingerprint, n_rounds):
    try:
        state = load_object(checkpoint)
    except _DamagedFileError as exc:  # no other copy: the run wrote it
        # Without a digest, it may be intact, of an earlier commit.
        delete = (
            "Resume it with the skal_openset that wrote it, or delete"
            if isinstance(exc, _EarlyFileError)
            else "Delete"
        )
        raise ValueError(
            f"{exc.problem} {delete} it to start over: the rounds it held will "
            "be run again."
        ) from exc
    except _UnloadableFileError as exc:  # intact: its rounds are not lost
        raise ValueError(
            f"{exc.problem} Resume the run on a machine like the one that wrote "
            "it (the same devices and library versions), or checkpoint "
            "elsewhere to start afresh here (skal-openset run: another --output "
            "folder)."
        ) from exc
    if not isinstance(state, dict) or "fingerprint" not in state:
        # Not "delete it to start over": it may be a file the user needs.
        raise ValueError(
            f"checkpoint={str(checkpoint)!r} is no checkpoint (it holds an object "
            f"of class {type(state).__name__}, saved by save_object): pass the "
            "path of a file that is not there yet to start the run (skal-openset "
            "run: another --output folder)."
        )
    sklearn_version = saved_sklearn_version(state)
    if not fingerprint.matches(state["fingerprint"], sklearn_version):
        differ = _parts_that_differ(
            fingerprint, state.get("fingerprint_parts"), sklearn_version
        )
        # Other code (an upgrade of this package or of scikit-learn) may hash
        # the same experiment otherwise: the user changed nothing. Not where
        # a number differs: as the user gave it, which those versions refuse
        # too.
        other_code = (
            None
            if differ is not None and not set(differ).isdisjoint(_NUMBER_PARTS)
            else other_versions(state.get("versions"))
        )
        named = f"checkpoint={str(checkpoint)!r}"
        if other_code is None:
            why = f"{named} was written by a different experiment"
            resume = ""
        else:
            why = (
                f"{named} does not match this experiment, and was written with "
                f"{other_code[0]} (this is {other_code[1]}), which may count the "
                "same experiment as another"
            )
            resume = "resume it with the versions that wrote it, "
        raise _OtherExperimentError(
            f"{why} ({_what_differs(differ)}); {resume}delete it to start over, "
            "or keep it and checkpoint elsewhere (skal-openset run: another "
            "--output folder).",
            differ,
            other_code,
        )
    if len(state["records"]) > n_rounds:
        raise ValueError(
            f"checkpoint={str(checkpoint)!r} already holds "
            f"{len(state['records'])} rounds, more than n_rounds={n_rounds}: pass "
            f"n_rounds >= {len(state['records'])} (skal-openset run: --rounds), or "
            "checkpoint elsewhere to start afresh (skal-openset run: another "
            "--output folder)."
        )
    # Before the random states are set: a warning made an error stops the
    # resume, and must leave the caller's states alone.
    warn_of_other_versions(
        f"checkpoint={str(checkpoint)!r}",
        state.get("versions"),
        f"its {len(state['records'])} rounds and the next ones come from "
        "different code. Delete it to start over for records from one version.",
    )
    if len(state["records"]) < n_rounds:  # else nothing runs that would draw
        _set_rng_state(state["rng"])
    logger.info("Resuming %s after round %d", checkpoint, len(state["records"]))
    return state


def run_active_learning(
    split: OpenSetSplit,
    estimator: Any,
    query_strategy: QueryStrategy | Callable[..., Any],
    *,
    n_rounds: IntLike = 10,
    budget: RealLike = 500,
    cost_in: RealLike = 1.0,
    cost_ood: RealLike = 1.0,
    progress: bool = False,
    callback: Callable[[dict, ActiveLearner], object] | None = None,
    checkpoint: str | os.PathLike | None = None,
) -> list[dict]:
    """Run open-set active learning on a split and record every round.

    Round 1 trains on the initial labelled set; every later round first
    queries the unlabelled pool for as many rows as the round's budget buys
    at the lower cost, ``ceil(budget / min(cost_in, cost_ood))`` (at most the
    pool), has the simulated oracle label the query
    (filled in priority order until the round's budget is spent, Eq. (1)),
    teaches the learner (the strategy learns from the query, then the
    classifier is retrained on all labelled IN examples) and then evaluates
    on the IN-only test set.

    The initial set is given, not bought: the oracle labels it (so
    ``oracle.spent_`` includes its cost) but ``budget_spent`` does not:
    ``budget_spent`` is ``oracle.spent_`` less the cost of the initial set
    (up to float rounding of the difference) at every round. Progress is
    logged at INFO level to the ``"skal_openset"`` logger (silent unless you
    configure logging, e.g. ``logging.basicConfig(level=logging.INFO)``).

    Parameters
    ----------
    split : OpenSetSplit
        Pool, initial labelled set and test set (see `make_open_set_split`).
    estimator : classifier
        Template of the target model; cloned. A classifier, not an
        :class:`ActiveLearner`: the run makes its learner of it. Distance-based
        strategies work in the output of a pipeline's preprocessing steps
        (see :class:`ActiveLearner`'s `embedding`, which the run leaves None).
    query_strategy : QueryStrategy or callable
        Template of the strategy; cloned. A modAL query function
        ``f(learner, X, n_instances)`` is used as it is, as by
        :class:`ActiveLearner`.
    n_rounds : int, default=10
        Number of rounds, the first one included (so ``n_rounds - 1``
        queries).
    budget : float, default=500
        Labelling budget per query round; at least ``max(cost_in,
        cost_ood)``, so that every round can buy a label.
    cost_in, cost_ood : float, default=1.0
        Cost of labelling an IN and an OOD example.
    progress : bool, default=False
        Show a tqdm progress bar over the rounds (the first round is the
        initial fit), with the latest test accuracy and IN share of the
        query in its postfix.
    callback : callable, default=None
        Called as ``callback(record, learner)`` at the end of every round
        run in this call (not for rounds restored from `checkpoint`), e.g.
        to snapshot the strategy's state (``learner.query_strategy_``); what
        it returns is ignored.
    checkpoint : str or path-like, default=None
        A file (see :func:`save_object`) where the learner, the oracle, the
        records and the global random states (Python, NumPy, torch and, once
        used, CUDA) are
        saved atomically after every round. If it exists when the run
        starts, the run resumes after its last round, and gives the same
        records as an uninterrupted run except for the timing keys
        (``train_seconds``, ``query_seconds``); to that end a resume that
        has rounds left to run sets the global random states to the saved
        ones. Only this run's records repeat: a finished checkpoint runs
        nothing and leaves the global random states as they are, not where
        the run left them, so in a script of several runs rerun after a
        crash, an unseeded later run (``random_state=None`` in its estimator
        or strategy) draws other numbers and gives other records. Seed each
        run for a script of several runs to repeat. The file must come from the
        same experiment (split, estimator, strategy, budget and costs);
        `n_rounds` may be larger, to continue a finished run. One written
        with other versions of skal_openset (or other source files of it),
        scikit-learn, torch or NumPy resumes with a ``UserWarning``, since
        its rounds and the next come from different code, unless those
        versions count its experiment as another (a class given new
        parameters, which its fingerprint holds): then it is refused, naming
        the versions that wrote it. Like any pickle,
        the file can run code when loaded: resume only from files you trust.

    Returns
    -------
    records : list of dict
        One per round: ``round``, ``test_accuracy``, ``n_labelled``,
        ``n_labelled_in``, ``query_size``, ``query_in_share`` (NaN in round
        1), ``budget_spent`` (cumulative, initial set excluded),
        ``train_seconds`` and ``query_seconds``. Fewer than `n_rounds` only
        if the pool runs out, which also issues a ``RuntimeWarning``.

    Raises
    ------
    TypeError
        If `split` is not an :class:`OpenSetSplit`, `estimator` is an
        :class:`ActiveLearner`, or `callback` is not callable.
    ValueError
        If `n_rounds` < 1, `budget` cannot buy a label, or `checkpoint`
        belongs to another experiment (or to this one, as other versions
        counted it).
    OSError
        If `checkpoint` is a folder, a path inside a file or in a folder
        where no file can be made, before the first round.
    KeyboardInterrupt
        On Ctrl-C, with `checkpoint` holding every round finished before it;
        one during the checkpoint's final rename waits for it and says that
        the file was replaced completely (see :func:`save_object`).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal_openset import (RandomQuery, load_digits_dataset, make_open_set_split,
    ...                           run_active_learning)
    >>> X, y = load_digits_dataset()
    >>> split = make_open_set_split(X, y, n_in_classes=4, noise_ratio=0.4,
    ...                             initial_size=40, random_state=0)
    >>> records = run_active_learning(split, LogisticRegression(),
    ...                               RandomQuery(random_state=0),
    ...                               n_rounds=3, budget=20)
    >>> [(r["round"], r["n_labelled"], r["budget_spent"]) for r in records]
    [(1, 40, 0.0), (2, 60, 20.0), (3, 80, 40.0)]
    """
    if not isinstance(split, OpenSetSplit):  # (X, y) failed on split.y_pool
        raise TypeError(
            "split must be an OpenSetSplit, e.g. from make_open_set_split(X, y, "
            f"...); got {type(split).__name__}."
        )
    if isinstance(estimator, ActiveLearner):  # else trained inside another one
        raise TypeError(
            "estimator must be a classifier; got an ActiveLearner, which the run "
            "makes itself, from query_strategy and the split's classes and "
            "ood_label. Pass its classifier (learner.estimator), with any "
            "embedding as a pipeline step before it (make_pipeline(transformer, "
            "classifier)): distance-based strategies work in the output of the "
            "pipeline's preprocessing."
        )
    if callback is not None and not callable(callback):  # else after round 1
        raise TypeError(
            "callback must be a function called as callback(record, learner), "
            f"or None; got {callback!r}."
        )
    check_scalar_not_bool(n_rounds, "n_rounds", numbers.Integral, min_val=1)
    oracle = OpenSetOracle(
        split.y_pool, ood_label=split.ood_label, cost_in=cost_in, cost_ood=cost_ood
    )
    _check_budget(budget, oracle.cost_in, oracle.cost_ood)
    # Numbers as the oracle holds them, the floats of the decimals they print
    # as: a budget of 10 or 10.0, or of 0.3 or np.float32(0.3), is one
    # experiment (and hashes as float(budget) did for any other budget).
    costs = float(as_decimal(budget)), oracle.cost_in, oracle.cost_ood
    # Hashed for a checkpoint only (None without one): hashing needs the
    # values to pickle.
    fingerprint: Any = (
        None
        if checkpoint is None
        else _fingerprint(split, estimator, query_strategy, *costs)
    )
    fingerprint_parts = None  # hashed at the first save: a resume that fails needs none
    # In decimals, as the oracle counts the labels a budget buys: in floats
    # 2.1 / 0.3 is 7.000000000000001, and a query of 8 rows bought 7.
    cheapest = as_decimal(min(oracle.cost_in, oracle.cost_ood))
    n_candidates = math.ceil(min(as_decimal(budget) / cheapest, len(split.y_pool)))
    if checkpoint is not None:
        check_file_path(checkpoint)
    if checkpoint is not None and Path(checkpoint).exists():
        state = _resume(checkpoint, fingerprint, n_rounds)
        learner, oracle, records = state["learner"], state["oracle"], state["records"]
        n_in, n_labelled = records[0]["n_labelled_in"], records[0]["n_labelled"]
        initial = n_in, n_labelled - n_in  # (IN, OOD) labels given, not bought
    else:
        records = []
    # Before training, not at the first save; a finished run saves nothing.
    if checkpoint is not None and len(records) < n_rounds:
        check_writable(checkpoint)
    # A modAL query function by its own name, a strategy by its class's (in
    # a partial too)
    called = called_strategy(query_strategy)
    name = getattr(called, "__name__", type(called).__name__)
    # tqdm writes its bar to sys.stderr, which is None where it is closed
    # (2>&-, pythonw): no bar, rather than an AttributeError in the first round.
    progress = progress and sys.stderr is not None
    # tqdm.auto, a widget in a notebook, only for a bar: in a notebook
    # without ipywidgets its import warns to install them, which a run
    # without a bar, and any user of the plots, need not hear.
    if progress:
        from tqdm.auto import tqdm as bar_class
    else:
        bar_class = tqdm
    bar = bar_class(
        total=n_rounds,
        initial=len(records),
        disable=not progress,
        desc=name,
    )
    with bar:
        for round_ in range(len(records) + 1, n_rounds + 1):
            start = time.perf_counter()
            if round_ == 1:
                initial_labels = oracle.label(split.initial_idx)
                initial = oracle.n_queried_in_, oracle.n_queried_ood_  # given
                # The split knows every IN class, also those the initial set lacks.
                learner = ActiveLearner(
                    clone(estimator),
                    clone(query_strategy, safe=False),  # a modAL function too
                    ood_label=split.ood_label,
                    classes=np.arange(split.n_classes),
                )
                learner.fit(
                    _safe_indexing(split.X_pool, split.initial_idx), initial_labels
                )
                train_seconds, query_seconds = time.perf_counter() - start, 0.0
                query_size, query_in_share = 0, float("nan")
            else:
                pool = np.flatnonzero(~oracle.queried_)
                if pool.size == 0:
                    warn(
                        f"The pool ran out after round {round_ - 1}: the run "
                        f"stops with {round_ - 1} of n_rounds={n_rounds} rounds.",
                        RuntimeWarning,
                    )
                    break
                ranked, _ = learner.query(
                    _safe_indexing(split.X_pool, pool),
                    n_instances=min(n_candidates, pool.size),
                )
                if ranked.size == 0:
                    raise ValueError(
                        f"{name} chose no row of the "
                        f"{pool.size} unlabelled ones in round {round_}; a query "
                        "strategy must choose at least one."
                    )
                bought, _ = oracle.fill_budget(pool[ranked], budget)
                labels = oracle.label(bought)
                query_seconds = time.perf_counter() - start
                start = time.perf_counter()
                learner.teach(_safe_indexing(split.X_pool, bought), labels)
                train_seconds = time.perf_counter() - start
                query_size = bought.size
                query_in_share = float(np.mean(labels != split.ood_label))
            record = {
                "round": round_,
                "test_accuracy": learner.score(split.X_test, split.y_test),
                "n_labelled": learner.y_labelled_.size,
                "n_labelled_in": int(np.sum(learner.y_labelled_ != split.ood_label)),
                "query_size": query_size,
                "query_in_share": query_in_share,
                "budget_spent": labelling_cost(
                    oracle.n_queried_in_ - initial[0],
                    oracle.n_queried_ood_ - initial[1],
                    oracle.cost_in,
                    oracle.cost_ood,
                ),
                "train_seconds": train_seconds,
                "query_seconds": query_seconds,
            }
            if callback is not None:
                callback(record, learner)
            records.append(record)
            if checkpoint is not None:
                if fingerprint_parts is None:
                    fingerprint_parts = fingerprint.parts(_FINGERPRINT_PARTS)
                state = {
                    "fingerprint": fingerprint.saved,
                    "fingerprint_parts": fingerprint_parts,
                    "learner": learner,
                    "oracle": oracle,
                    "records": records,
                    "rng": _rng_state(),
                    "versions": versions(),
                }
                save_object(state, checkpoint)
            logger.info(
                "round %d/%d: test accuracy %.4f, bought %d (IN share %.2f), "
                "train %.1f s, query %.1f s",
                round_,
                n_rounds,
                record["test_accuracy"],
                query_size,
                query_in_share,
                train_seconds,
                query_seconds,
            )
            bar.set_postfix(
                accuracy=f"{record['test_accuracy']:.3f}",
                in_share=f"{query_in_share:.2f}",
                refresh=False,
            )
            bar.update()
    return records


def write_records_csv(
    records: Sequence[Mapping[str, Any]], path: str | os.PathLike
) -> Path:
    """Write records (flat dicts, all with the same keys) to a CSV file.

    The file is written atomically (to a temporary file, then renamed).

    Parameters
    ----------
    records : sequence of dict or DataFrame
        E.g. the records of :func:`run_active_learning`, or a DataFrame of
        them (as :func:`summarize_final_round` takes); the keys of the first
        record are the columns.
    path : str or path-like
        Destination; its folder is created if needed.

    Returns
    -------
    path : Path

    Raises
    ------
    ValueError
        If `records` is empty: the columns come from the records, so there
        is no header to write, and an empty file would look like a run that
        crashed. Also if the records do not all have the same keys.
    TypeError
        If `records` is another library's DataFrame (polars'): read the
        file with ``pandas.read_csv``.
    OSError
        If `path` is a folder or ends in a separator (``results/``), or a
        folder above it is a file or a link to nothing.
    KeyboardInterrupt
        On Ctrl-C, with ``path`` left as it was, or, if it came during the
        final rename, saying that ``path`` was replaced completely (see
        :func:`save_object`).
    """
    text = records_csv_text(records)
    with atomic_open(path, "w") as f:
        f.write(text)
    return Path(path)


def records_csv_text(records: Sequence[Mapping[str, Any]]) -> str:
    """The text of :func:`write_records_csv`'s file, checked as it checks it."""
    records = as_records(records)
    if len(records) == 0:
        raise ValueError(
            "records is empty: there is no row and no column to write. Check "
            "that the run produced records before saving them."
        )
    fields = list(records[0])
    for i, record in enumerate(records):
        if record.keys() != records[0].keys():  # DictWriter orders each row
            raise ValueError(
                f"records[{i}] has the keys {list(record)}, but records[0] has "
                f"{fields}; every record must have the same keys."
            )
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=fields)
    writer.writeheader()
    writer.writerows(records)
    return text.getvalue()


def _area_under_curve(run):
    """Test accuracy averaged over the budget spent (trapezoids), of one run.

    Over the budget, not the labels: with OOD labels dearer than IN ones
    (``cost_ood``), a strategy that buys OOD reaches the end of its budget
    with fewer labels.
    """
    spent = [r["budget_spent"] for r in run]
    accuracy = [r["test_accuracy"] for r in run]
    if spent[-1] == 0:
        return float(accuracy[-1])
    return float(auc(spent, accuracy) / spent[-1])


def _sorted_ids(ids):
    """`ids` sorted; by their repr if they do not compare (e.g. 1 and "a")."""
    try:
        return sorted(ids)
    except TypeError:
        return sorted(ids, key=repr)


def check_one_run(run, name, remedy):
    """Raise if the records `run` (named `name`, in round order) are not the
    rounds 1, 2, ..., k of one run.

    The summary and the plot read a run by position: its first record as the
    initial fit, its i-th as round i, and the i-th of each run as one round.
    """
    for record in run:
        check_numbers(record, ("round",))
    rounds = [r["round"] for r in run]
    if len(set(rounds)) < len(rounds):
        raise ValueError(
            f"{name} has a round twice, so it holds more than one run; {remedy}, "
            "or number their trials apart."
        )
    if rounds != list(range(1, len(rounds) + 1)):
        if rounds[0] == 1:
            cause = "rows of a round were dropped"
        elif rounds[0] > 1:
            cause = (
                "round 1 was dropped, e.g. by DataFrame.dropna(): its "
                "query_in_share is NaN, as the initial fit queries nothing"
            )
        else:
            cause = "run_active_learning numbers the rounds from 1"
        raise ValueError(
            f"{name} has the rounds {rounds}, not 1 to {len(rounds)}: {cause}. "
            "Pass every record of each run, as run_active_learning returns "
            "them; to stop the runs at round k, keep their rounds 1 to k."
        )


def as_records(records):
    """`records`, or a DataFrame's rows as records: records read back with
    ``pandas.read_csv`` iterate as their column names. Another library's
    DataFrame (polars') is refused: its ``to_dict`` takes no orient."""
    library = foreign_frame_library(records)
    if library is not None:
        raise TypeError(
            f"The records are a {library} {type(records).__name__}, not a pandas "
            "DataFrame: read the file with pandas.read_csv(path) and pass its "
            "DataFrame, or pass the records run_active_learning returned."
        )
    return records.to_dict("records") if hasattr(records, "columns") else records


def _is_blank(value):
    """Whether `value` is NaN, as pandas.read_csv reads a blank cell."""
    return isinstance(value, float) and math.isnan(value)


def group_value(value):
    """`value` as a group key: every NaN the same one. NaN equals no NaN, and
    a DataFrame's rows each hold their own (a key left empty in every record,
    read back with pandas.read_csv, put each row in a group of its own)."""
    return math.nan if _is_blank(value) else value


def trial_of(record):
    """`record`'s ``trial`` (None without one), and an error where it is NaN.

    Unlike a blank group key, a blank trial is not made one value: the
    records of several runs would then be one trial.
    """
    trial = record.get("trial")
    if _is_blank(trial):  # else each record was a trial of its own
        raise ValueError(
            "A record's trial is NaN (a blank cell read back with "
            "pandas.read_csv): give every record the trial of its run, e.g. "
            '[{**r, "trial": trial} for r in run]. The record: '
            f"{dict(record)!r}."
        )
    return trial


def check_numbers(record, keys):
    """Raise if a value of `record` under one of `keys` is not a number.

    Records read back from a CSV file hold strings, which sort and add as
    text ("10" < "9").
    """
    for key in keys:
        if key in record and not isinstance(record[key], numbers.Real):
            raise TypeError(
                f"A record's {key!r} is {record[key]!r}, not a number: records "
                "read back from a CSV file hold strings. Read the file with "
                "pandas.read_csv(path), which parses the numbers, and pass its "
                "DataFrame, or convert the values with float()."
            )


# The record keys that hold a fraction (NaN where there is none).
FRACTIONS = ("test_accuracy", "query_in_share")


def check_fractions(records, name, keys=FRACTIONS):
    """Raise if the `records` of group `name` hold a value out of [0, 1] (inf
    too) under one of `keys`, fractions: percentages drew a band cut flat at
    1, and averaged into a summary as if they were fractions."""
    for key in keys:
        values = np.array([record[key] for record in records], dtype=float)
        values = values[~np.isnan(values)]
        if values.size and not 0 <= values.min() <= values.max() <= 1:
            low, high = values.min(), values.max()
            percent = (
                "; they look like percentages: divide them by 100"
                if low >= 0 and high <= 100
                else ""
            )
            raise ValueError(
                f"The records of {name} hold {key} from {low:g} to {high:g}: it "
                f"must be a fraction in [0, 1] (NaN where there is none){percent}."
            )


def common_rounds(runs, name, consequence):
    """Rounds every run of `runs` reached; warn if some went further.

    `consequence` says what the caller does about it; ``{rounds}`` in it
    stands for the returned number.
    """
    shortest, longest = min(map(len, runs)), max(map(len, runs))
    if shortest < longest:
        warn(
            f"The runs of {name} have {shortest} to {longest} rounds (a pool ran "
            f"out, or a run stopped); " + consequence.format(rounds=shortest),
            UserWarning,
        )
    return shortest


def labels_bought(record: Mapping) -> RealLike:
    """The labels a round's record says were bought, and an error where it
    holds no number of them (a record edited or read from a blank cell)."""
    size = record["query_size"]
    if math.isnan(size):  # else the summary left the round out (NaN > 0 is False)
        raise ValueError(
            "A record's query_size is NaN: give the number of labels its round "
            "bought (run_active_learning's records hold it). The record: "
            f"{dict(record)!r}."
        )
    return size


def ood_bought(record: Mapping) -> int:
    """The OOD labels a round's record says were bought: 0 where it bought
    none (round 1, whose IN share is NaN), and an error where it holds no
    number of labels bought, or bought some but holds no IN share (a record
    edited or read from a blank cell)."""
    size, in_share = labels_bought(record), record["query_in_share"]
    if size == 0:
        return 0
    if math.isnan(in_share):
        raise ValueError(
            f"A record bought {size} labels but its query_in_share is NaN: give "
            "the share of IN labels among them (run_active_learning's records "
            f"hold it). The record: {dict(record)!r}."
        )
    return round(size * (1 - in_share))


# The record keys that summarize_final_round reads.
_SUMMARIZED_KEYS = (
    "round",
    "test_accuracy",
    "query_size",
    "query_in_share",
    "budget_spent",
    "train_seconds",
    "query_seconds",
)


def summarize_final_round(
    records: Records, group_keys: str | Sequence[str] = ("strategy",)
) -> list[dict]:
    """Mean and standard deviation over trials of the final round, per group.

    Parameters
    ----------
    records : sequence of dict or DataFrame
        Records of :func:`run_active_learning`, each extended with the
        ``group_keys`` and a ``trial`` key (a DataFrame: one per row, e.g.
        read back with ``pandas.read_csv``).
    group_keys : str or sequence of str, default=("strategy",)
        Keys that identify a cell; trials of a cell are aggregated.

    Returns
    -------
    rows : list of dict
        Per group: the group keys, ``trials`` (the group's trial ids, sorted:
        compare them, not only their number, before setting two groups'
        means side by side), ``n_trials``, ``accuracy_mean``,
        ``accuracy_std`` (population std over trials), ``in_share_mean`` (IN
        share of all queries, averaged over the trials that bought a label;
        NaN if none did), ``auc_mean`` (area
        under the curve of test accuracy against ``budget_spent``, divided by
        the budget spent: the accuracy averaged over the budget, which is
        over the labels bought when every label costs 1),
        ``ood_labels_mean`` (OOD labels bought by the queries) and
        ``seconds_mean`` (train + query time of a whole run).

    Raises
    ------
    ValueError
        If a record lacks a group key, ``trial`` or a key of
        :func:`run_active_learning`'s records, its ``trial`` or
        ``query_size`` is NaN or its ``query_in_share`` is where it bought
        labels (e.g. a blank cell read back with ``pandas.read_csv``), or a
        trial of a group holds a round twice (several runs under one trial),
        or its rounds are not 1, 2, ..., k (rows dropped, e.g. round 1 by
        ``dropna()``), or a ``test_accuracy`` or ``query_in_share`` is not a
        fraction in [0, 1] (e.g. percentages).
    TypeError
        If `records` is one record or a mapping, `group_keys` not keys, or
        a value of a record not a number (e.g. records read back from a CSV
        file as strings).

    Warns
    -----
    UserWarning
        If the runs of a group have different numbers of rounds (a pool ran
        out, or a run stopped): its means then mix the last rounds of runs
        of different lengths, whereas :func:`plot_learning_curves` ends the
        curve at the last round every run reached.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal_openset import (RandomQuery, load_digits_dataset, make_open_set_split,
    ...                           run_active_learning, summarize_final_round)
    >>> X, y = load_digits_dataset()
    >>> split = make_open_set_split(X, y, n_in_classes=4, noise_ratio=0.4,
    ...                             initial_size=40, random_state=0)
    >>> records = []
    >>> for trial in range(2):
    ...     run = run_active_learning(split, LogisticRegression(),
    ...                               RandomQuery(random_state=trial),
    ...                               n_rounds=2, budget=20)
    ...     records += [{**r, "strategy": "random", "trial": trial} for r in run]
    >>> [row] = summarize_final_round(records)
    >>> row["strategy"], row["n_trials"]
    ('random', 2)
    >>> sorted(row)
    ['accuracy_mean', 'accuracy_std', 'auc_mean', 'in_share_mean', 'n_trials',
     'ood_labels_mean', 'seconds_mean', 'strategy', 'trials']
    >>> row["trials"]
    [0, 1]
    """
    if isinstance(group_keys, str):
        group_keys = (group_keys,)
    if not isinstance(group_keys, Sequence) or not all(
        isinstance(key, str) for key in group_keys
    ):
        raise TypeError(
            f"group_keys must be a record key or a sequence of them, e.g. "
            f'("strategy", "dataset"); got {group_keys!r}.'
        )
    records = as_records(records)
    if isinstance(records, (str, Mapping)):
        mapping = (
            " A mapping of names to runs is for plot_learning_curves: summarize "
            '[{**r, "strategy": name, "trial": trial} for r in run] instead.'
        )
        raise TypeError(
            f"records must be a sequence of records (dicts, as run_active_learning "
            f"returns them) or a DataFrame, each with the group_keys and a "
            f"'trial'; got a {type(records).__name__}."
            + (mapping if isinstance(records, Mapping) else "")
        )
    groups: dict[tuple, dict[int, list[dict]]] = {}
    for record in records:
        check_numbers(record, _SUMMARIZED_KEYS)
        missing = [k for k in (*group_keys, "trial") if k not in record]
        if missing:
            raise ValueError(
                f"A record lacks the keys {missing}, which group the runs into "
                "cells and trials; add them to run_active_learning's records, "
                'e.g. [{**r, "strategy": name, "trial": trial} for r in run].'
            )
        lacking = [k for k in _SUMMARIZED_KEYS if k not in record]
        if lacking:
            raise ValueError(
                f"A record lacks the keys {lacking}, which every record of "
                "run_active_learning holds; summarize its records (a CSV file "
                "of them read back with pandas.read_csv), with their keys kept."
            )
        key = tuple(group_value(record[k]) for k in group_keys)
        groups.setdefault(key, {}).setdefault(trial_of(record), []).append(record)
    rows = []
    for key, trials in groups.items():
        runs = [sorted(run, key=lambda r: r["round"]) for run in trials.values()]
        for trial, run in zip(trials, runs):
            check_one_run(
                run,
                f"Trial {trial!r} of {dict(zip(group_keys, key))}",
                "add the key that tells them apart (e.g. 'dataset') to group_keys",
            )
        common_rounds(
            runs,
            repr(dict(zip(group_keys, key))),
            "its means are over each run's own last round, so they mix rounds; "
            "cut the records at round {rounds} to compare like with like.",
        )
        check_fractions(
            [record for run in runs for record in run], repr(dict(zip(group_keys, key)))
        )
        accuracy = [run[-1]["test_accuracy"] for run in runs]
        # The rounds that bought labels: round 1 trains on the initial set,
        # and has no IN share (NaN). A run that bought nothing has none either
        # (not 0). First the OOD labels, which refuse a NaN share of theirs.
        queries = [[r for r in run if labels_bought(r) > 0] for run in runs]
        ood_labels = [sum(ood_bought(r) for r in query) for query in queries]
        in_share = [
            np.sum([r["query_size"] * r["query_in_share"] for r in query]) / n_bought
            for query in queries
            if (n_bought := np.sum([r["query_size"] for r in query])) > 0
        ]
        seconds = [
            np.sum([r["train_seconds"] + r["query_seconds"] for r in run])
            for run in runs
        ]
        rows.append(
            {
                **dict(zip(group_keys, key)),
                "trials": _sorted_ids(trials),
                "n_trials": len(trials),
                "accuracy_mean": float(np.mean(accuracy)),
                "accuracy_std": float(np.std(accuracy)),
                "in_share_mean": float(np.mean(in_share)) if in_share else np.nan,
                "auc_mean": float(np.mean([_area_under_curve(run) for run in runs])),
                "ood_labels_mean": float(np.mean(ood_labels)),
                "seconds_mean": float(np.mean(seconds)),
            }
        )
    return rows
