"""The experiment runner: rounds of train, score, query, label and update."""

import csv
import math
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone
from tqdm.auto import tqdm

from ._atomic import atomic_path
from ._learner import ActiveLearner
from ._oracle import OpenSetOracle


def run_active_learning(
    split,
    estimator,
    query_strategy,
    *,
    n_rounds=10,
    budget=500,
    cost_in=1.0,
    cost_ood=1.0,
    progress=False,
    callback=None,
):
    """Run open-set active learning on a split and record every round.

    Round 1 trains on the initial labelled set; every later round first
    queries the unlabelled pool, has the simulated oracle label the query
    (filled in priority order until the round's budget is spent, Eq. (1)),
    teaches the learner (the strategy learns from the query, then the
    classifier is retrained on all labelled IN examples) and then evaluates
    on the IN-only test set. The initial set is free; only queries are
    charged.

    Parameters
    ----------
    split : OpenSetSplit
        Pool, initial labelled set and test set (see `make_open_set_split`).
    estimator : classifier
        Template of the target model; cloned.
    query_strategy : QueryStrategy
        Template of the strategy; cloned.
    n_rounds : int, default=10
        Number of rounds, the first one included (so ``n_rounds - 1``
        queries).
    budget : float, default=500
        Labelling budget per query round.
    cost_in, cost_ood : float, default=1.0
        Cost of labelling an IN and an OOD example.
    progress : bool, default=False
        Show a tqdm progress bar over the rounds.
    callback : callable, default=None
        Called as ``callback(record, learner)`` at the end of every round,
        e.g. to snapshot the strategy's state (``learner.query_strategy_``).

    Returns
    -------
    records : list of dict
        One per round: ``round``, ``test_accuracy``, ``n_labelled``,
        ``n_labelled_in``, ``query_size``, ``query_in_share`` (NaN in round
        1), ``budget_spent`` (cumulative), ``train_seconds`` and
        ``query_seconds``.
    """
    if n_rounds < 1:
        raise ValueError(f"n_rounds must be at least 1, got {n_rounds}.")
    oracle = OpenSetOracle(
        split.y_pool, ood_label=split.ood_label, cost_in=cost_in, cost_ood=cost_ood
    )
    initial_labels = oracle.label(split.initial_idx)
    initial_cost = oracle.spent_  # given, not bought: excluded from the budget
    n_candidates = math.ceil(budget / min(oracle.cost_in, oracle.cost_ood))
    learner = ActiveLearner(
        clone(estimator), clone(query_strategy), ood_label=split.ood_label
    )

    start = time.perf_counter()
    learner.fit(split.X_pool[split.initial_idx], initial_labels)
    train_seconds, query_seconds = time.perf_counter() - start, 0.0
    query_size, query_in_share = 0, float("nan")
    records = []
    for round_ in tqdm(range(1, n_rounds + 1), disable=not progress, desc="rounds"):
        if round_ > 1:
            start = time.perf_counter()
            pool = np.flatnonzero(~oracle.queried_)
            if pool.size == 0:
                break
            ranked, _ = learner.query(
                split.X_pool[pool], n_instances=min(n_candidates, pool.size)
            )
            bought, _ = oracle.fill_budget(pool[ranked], budget)
            labels = oracle.label(bought)
            query_seconds = time.perf_counter() - start
            start = time.perf_counter()
            learner.teach(split.X_pool[bought], labels)
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
            "budget_spent": oracle.spent_ - initial_cost,
            "train_seconds": train_seconds,
            "query_seconds": query_seconds,
        }
        if callback is not None:
            callback(record, learner)
        records.append(record)
    return records


def write_records_csv(records, path):
    """Write a list of flat dicts (all with the same keys) to a CSV file.

    The file is written atomically: an interrupted call leaves no partial file.
    """
    path = Path(path)
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    return path


def summarize_final_round(records, group_keys=("strategy",)):
    """Mean and standard deviation over trials of the final round, per group.

    Parameters
    ----------
    records : list of dict
        Records of :func:`run_active_learning`, each extended with the
        ``group_keys`` and a ``trial`` key.
    group_keys : tuple of str, default=("strategy",)
        Keys that identify a cell; trials of a cell are aggregated.

    Returns
    -------
    rows : list of dict
        Per group: the group keys, ``n_trials``, ``accuracy_mean``,
        ``accuracy_std`` (population std over trials), ``in_share_mean`` (IN
        share of all queries, averaged over trials) and ``seconds_mean``
        (train + query time of a whole run).
    """
    groups = {}
    for record in records:
        key = tuple(record[k] for k in group_keys)
        groups.setdefault(key, {}).setdefault(record["trial"], []).append(record)
    rows = []
    for key, trials in groups.items():
        finals = [max(run, key=lambda r: r["round"]) for run in trials.values()]
        accuracy = [r["test_accuracy"] for r in finals]
        in_share = [
            np.sum([r["query_size"] * r["query_in_share"] for r in run[1:]])
            / max(1, np.sum([r["query_size"] for r in run[1:]]))
            for run in trials.values()
        ]
        seconds = [
            np.sum([r["train_seconds"] + r["query_seconds"] for r in run])
            for run in trials.values()
        ]
        rows.append(
            {
                **dict(zip(group_keys, key)),
                "n_trials": len(trials),
                "accuracy_mean": float(np.mean(accuracy)),
                "accuracy_std": float(np.std(accuracy)),
                "in_share_mean": float(np.mean(in_share)),
                "seconds_mean": float(np.mean(seconds)),
            }
        )
    return rows
