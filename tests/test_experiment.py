import ast
import contextlib
import copy
import csv
import errno
import functools
import io
import json
import logging
import os
import pickle
import platform
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import joblib
import matplotlib
import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from hypothesis import example, given
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.compose import make_column_transformer
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

import skal_openset
from _ctrl_c import ctrl_c_as_it_ends, escaped_ctrl_c_fails
from _hash_seeds import env_with_other_string_hashes
from _held_up import DROPS_HELD_UP, stopped_held_up
from skal_openset import (
    ActiveLearner,
    CCALQuery,
    ContrastiveEncoder,
    CoreSetQuery,
    MQNetQuery,
    OpenSetOracle,
    PurityAUROC,
    RandomQuery,
    _experiment,
    load_digits_dataset,
    load_object,
    make_mlp_classifier,
    make_open_set_split,
    plot_learning_curves,
    run_active_learning,
    save_object,
    summarize_final_round,
    write_records_csv,
)
from skal_openset.__main__ import main
from skal_openset._argtypes import Parser
from skal_openset._cli import OUTPUT_FILES, summary_table
from skal_openset._experiment import (
    _FINGERPRINT_PARTS,
    _fingerprint,
    _OtherExperimentError,
)
from skal_openset._hashing import (
    Fingerprint,
    _ContentHasher,
    _is_timing,
    content_hash,
)
from skal_openset._signals import (
    _held_up_dropped,
    ended_as_by_sigpipe,
    machine_failure,
    output_reader_quit,
    output_refusal_ends,
    stops_held_to_the_end,
)

matplotlib.use("Agg")
import matplotlib.pyplot  # after the backend is chosen


@pytest.fixture(scope="module")
def split():
    X, y = load_digits_dataset()
    return make_open_set_split(
        X, y, n_in_classes=4, noise_ratio=0.4, initial_size=20, random_state=0
    )


@pytest.fixture(scope="module")
def estimator():
    return make_mlp_classifier(64, 4, hidden_sizes=(32,), max_epochs=5, random_state=0)


def test_records_follow_the_rounds_and_the_budget(split, estimator):
    records = run_active_learning(
        split, estimator, RandomQuery(random_state=0), n_rounds=4, budget=15
    )
    assert [r["round"] for r in records] == [1, 2, 3, 4]
    assert records[0]["query_size"] == 0 and np.isnan(records[0]["query_in_share"])
    assert records[0]["n_labelled"] == split.initial_idx.size
    assert records[0]["budget_spent"] == 0.0  # the initial set is free
    for before, after in zip(records, records[1:]):
        assert after["query_size"] == 15  # unit costs: budget 15 buys 15
        assert after["n_labelled"] == before["n_labelled"] + 15
        new_in = after["n_labelled_in"] - before["n_labelled_in"]
        assert after["query_in_share"] == pytest.approx(new_in / 15)
        assert after["budget_spent"] == before["budget_spent"] + 15
    assert all(0.0 <= r["test_accuracy"] <= 1.0 for r in records)


def test_ood_cost_changes_how_many_examples_a_round_buys(split, estimator):
    records = run_active_learning(
        split,
        estimator,
        RandomQuery(random_state=1),
        n_rounds=3,
        budget=12,
        cost_ood=4.0,
    )
    for before, after in zip(records, records[1:]):
        n_in = after["n_labelled_in"] - before["n_labelled_in"]
        n_ood = after["query_size"] - n_in
        spent = after["budget_spent"] - before["budget_spent"]
        assert spent == pytest.approx(n_in * 1.0 + n_ood * 4.0)
        # The ranking stops only at a label that does not fit, which costs at
        # most 4: a round leaves less than that unspent.
        assert 12 - 4 < spent <= 12
        # The IN share is of the labels bought, not of the 12 ranked.
        assert after["query_in_share"] == pytest.approx(n_in / after["query_size"])
    assert any(r["query_size"] < 12 for r in records[1:])


def test_records_count_in_labels_by_the_splits_ood_label(estimator):
    # An OOD label other than -1 must not count the OOD rows as IN ones.
    X, y = load_digits_dataset()
    split = make_open_set_split(
        X,
        y,
        n_in_classes=4,
        noise_ratio=0.4,
        initial_size=20,
        ood_label=99,
        random_state=0,
    )
    records = run_active_learning(
        split, estimator, RandomQuery(random_state=0), n_rounds=2, budget=10
    )
    initial = split.y_pool[split.initial_idx]
    assert 0 < np.sum(initial == 99) < initial.size
    assert records[0]["n_labelled_in"] == np.sum(initial != 99)
    first, second = records
    bought_in = second["n_labelled_in"] - first["n_labelled_in"]
    assert bought_in == pytest.approx(second["query_in_share"] * 10)


def test_runs_are_reproducible_and_leave_templates_untouched(split, estimator):
    strategy = MQNetQuery(rule_weight=0, random_state=0)  # fits a selector
    first = run_active_learning(split, estimator, strategy, n_rounds=3, budget=10)
    second = run_active_learning(split, estimator, strategy, n_rounds=3, budget=10)
    keys = ["test_accuracy", "n_labelled_in", "budget_spent"]
    assert [[r[k] for k in keys] for r in first] == [
        [r[k] for k in keys] for r in second
    ]
    assert not hasattr(strategy, "selector_")
    assert not hasattr(estimator, "module_")


def test_rejects_zero_rounds(split, estimator):
    with pytest.raises(ValueError, match="n_rounds"):
        run_active_learning(split, estimator, RandomQuery(), n_rounds=0)
    # bool is an Integral: True ran one round.
    with pytest.raises(TypeError, match="n_rounds must be a number, not True"):
        run_active_learning(split, estimator, RandomQuery(), n_rounds=True)


def _fake_records():
    records = []
    for trial, accuracies in enumerate([[0.5, 0.7], [0.5, 0.9]]):
        for round_, accuracy in enumerate(accuracies, start=1):
            records.append(
                {
                    "strategy": "A",
                    "trial": trial,
                    "round": round_,
                    "test_accuracy": accuracy,
                    "query_size": 0 if round_ == 1 else 10,
                    "budget_spent": 0 if round_ == 1 else 10,
                    "query_in_share": float("nan")
                    if round_ == 1
                    else 0.5 + 0.1 * trial,
                    "train_seconds": 1.0,
                    "query_seconds": 0.5,
                }
            )
    return records


def test_summary_aggregates_the_final_round_over_trials():
    (row,) = summarize_final_round(_fake_records())
    assert row["strategy"] == "A" and row["n_trials"] == 2
    assert row["accuracy_mean"] == pytest.approx(0.8)
    assert row["accuracy_std"] == pytest.approx(0.1)
    assert row["in_share_mean"] == pytest.approx(0.55)
    # Trapezoids over budget spent 0 -> 10: (0.5 + 0.7) / 2 and (0.5 + 0.9) / 2.
    assert row["auc_mean"] == pytest.approx(0.65)
    assert row["ood_labels_mean"] == pytest.approx(4.5)
    assert row["seconds_mean"] == pytest.approx(3.0)
    assert row["trials"] == [0, 1]


def test_summary_area_is_over_the_budget_spent_not_the_labels_bought():
    # With OOD labels dearer, 10 labels can cost 40: the accuracy is averaged
    # over the budget (the x axis of a budget-limited campaign), which the
    # labels bought only equal when every label costs 1.
    template = _fake_records()[1]  # a round that bought 10 labels
    records = [
        {**template, "round": 1, "query_size": 0, "budget_spent": 0},
        {**template, "round": 2, "budget_spent": 40},
        {**template, "round": 3, "budget_spent": 50},
    ]
    for record, accuracy in zip(records, (0.2, 0.4, 1.0)):
        record["test_accuracy"] = accuracy
    (row,) = summarize_final_round(records)
    # (0.2 + 0.4) / 2 * 40 + (0.4 + 1.0) / 2 * 10 = 19, over 50; by labels
    # (0 -> 10 -> 20) it would be (3 + 7) / 20 = 0.5.
    assert row["auc_mean"] == pytest.approx(19 / 50)


def test_summary_takes_the_final_rounds_accuracy_where_an_earlier_one_was_higher():
    # Accuracy can drop in a round (e.g. OOD labels bought): the table's
    # "final-round accuracy" is the last round's, not the run's best.
    template = _fake_records()[1]
    records = [
        {**template, "trial": trial, "round": k, "test_accuracy": accuracy}
        | {"query_size": 10 * (k > 1), "budget_spent": 10 * (k - 1)}
        for trial, accuracies in enumerate([(0.5, 0.9, 0.6), (0.5, 0.8, 0.7)])
        for k, accuracy in enumerate(accuracies, start=1)
    ]
    (row,) = summarize_final_round(records)
    assert row["accuracy_mean"] == pytest.approx(0.65)
    assert row["accuracy_std"] == pytest.approx(0.05)


def test_summary_in_share_weighs_each_query_by_the_labels_it_bought():
    # The IN share of all queries: 10 IN labels of the 40 bought, where the
    # rounds' shares averaged alike would say 0.5.
    template = _fake_records()[1]
    records = [
        {**template, "round": 1, "query_size": 0, "query_in_share": float("nan")},
        {**template, "round": 2, "query_size": 10, "query_in_share": 1.0},
        {**template, "round": 3, "query_size": 30, "query_in_share": 0.0},
    ]
    for record, spent in zip(records, (0, 10, 40)):
        record["budget_spent"] = spent
    (row,) = summarize_final_round(records)
    assert row["in_share_mean"] == pytest.approx(0.25)
    assert row["ood_labels_mean"] == 30


def test_summary_of_runs_that_bought_nothing_has_no_in_share():
    # One round trains on the initial set only: nothing was queried, so the
    # IN share of the queries is undefined, not 0.
    first_rounds = [r for r in _fake_records() if r["round"] == 1]
    (row,) = summarize_final_round(first_rounds)
    assert np.isnan(row["in_share_mean"])
    assert row["ood_labels_mean"] == 0 and row["accuracy_mean"] == pytest.approx(0.5)


def test_summary_in_share_leaves_out_the_runs_that_bought_nothing():
    # Trial 0 stopped after its initial fit: its share is undefined, not 0,
    # and must not make the group's NaN.
    records = [r for r in _fake_records() if r["trial"] == 1 or r["round"] == 1]
    with pytest.warns(UserWarning, match="have 1 to 2 rounds"):
        (row,) = summarize_final_round(records)
    assert row["in_share_mean"] == pytest.approx(0.6)


@pytest.mark.parametrize(
    "key, match",
    [
        # The summary failed with "cannot convert float NaN to integer", and
        # the plot counted every label of the round as OOD.
        ("query_in_share", "bought 10 labels but its query_in_share is NaN"),
        # The summary left the round out of its OOD labels and IN share
        # without a word, and the plot failed as above.
        ("query_size", "A record's query_size is NaN: give the number of labels"),
    ],
)
def test_a_round_read_from_a_blank_cell_is_refused(key, match):
    records = _fake_records()
    records[1][key] = float("nan")  # a blank cell, read back with pandas
    with pytest.raises(ValueError, match=match):
        summarize_final_round(records)
    with pytest.raises(ValueError, match=match):
        plot_learning_curves(records)


def test_the_accuracy_panel_refuses_a_round_with_no_labels_bought():
    # It draws against the labels bought: a blank query_size left a gap, unsaid.
    records = _fake_records()
    records[1]["query_size"] = float("nan")
    fig, ax = matplotlib.pyplot.subplots()
    with pytest.raises(ValueError, match="A record's query_size is NaN"):
        plot_learning_curves(records, ax=ax)
    matplotlib.pyplot.close(fig)


def test_summary_says_which_keys_the_records_lack(split, estimator):
    records = run_active_learning(
        split, estimator, RandomQuery(random_state=0), n_rounds=2, budget=5
    )
    with pytest.raises(ValueError, match=r"lacks the keys \['strategy', 'trial'\]"):
        summarize_final_round(records)
    # A bare KeyError: 'test_accuracy'.
    trimmed = [{"strategy": "a", "trial": 0, "round": 1}]
    with pytest.raises(ValueError, match=r"lacks the keys \['test_accuracy', "):
        summarize_final_round(trimmed)


def test_summary_refuses_two_runs_under_one_trial():
    # Two data sets' runs, grouped by strategy alone, used to be merged into
    # one trial and fail deep inside with "cannot convert float NaN to integer".
    records = [{**r, "dataset": d} for d in ("a", "b") for r in _fake_records()]
    with pytest.raises(ValueError, match="has a round twice.*'dataset'"):
        summarize_final_round(records)
    assert len(summarize_final_round(records, group_keys=("dataset", "strategy"))) == 2
    # The plot drew them as one zig-zag run, each round twice.
    with pytest.raises(ValueError, match="has a round twice.*plot each data set"):
        plot_learning_curves(records)
    plot_learning_curves([r for r in records if r["dataset"] == "a"])


def test_summary_warns_when_the_runs_of_a_group_end_at_different_rounds():
    # The mean mixed one trial's round 3 with another's round 2 without a
    # word, while the plot of the same records warned and stopped at round 2.
    records = _fake_records() + [
        {**_fake_records()[1], "round": 3, "test_accuracy": 1.0, "budget_spent": 20}
    ]
    with pytest.warns(UserWarning, match=r"'A'\} have 2 to 3 rounds.*at round 2"):
        summarize_final_round(records)


def test_runs_without_round_one_are_refused_with_the_likely_cause(tmp_path):
    # dropna() removes every round 1 (its query_in_share is NaN): the summary
    # took round 2 for the initial fit (AUC 0.899 -> 0.748 in the demo) and
    # the plot started its curves one round late, without a word.
    path = write_records_csv(_fake_records(), tmp_path / "r.csv")
    dropped = pd.read_csv(path).dropna()
    message = r"Trial 0 of \{'strategy': 'A'\} has the rounds \[2\], not 1.*dropna"
    with pytest.raises(ValueError, match=message):
        summarize_final_round(dropped)
    with pytest.raises(ValueError, match=r"Trial 0 of 'A' has the rounds \[2\]"):
        plot_learning_curves(dropped)


def test_runs_numbered_from_zero_are_refused_saying_rounds_start_at_one():
    # Renumbered with enumerate(run), the initial fit is round 0.
    records = [{**r, "round": r["round"] - 1} for r in _fake_records()]
    cause = r"has the rounds \[0, 1\], not 1 to 2: run_active_learning numbers"
    with pytest.raises(ValueError, match=cause):
        summarize_final_round(records)
    with pytest.raises(ValueError, match=cause):
        plot_learning_curves(records)


def test_runs_missing_a_middle_round_are_refused():
    # The plot averaged the runs by position: round 4 of one with round 3 of
    # the other (x = 3.5), under a warning that the runs "have 4 to 5 rounds".
    records = _run_of([0.1, 0.2, 0.3, 0.4, 0.5], trial=1) + [
        r for r in _run_of([0.1, 0.2, 0.3, 0.4, 0.5]) if r["round"] != 3
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"rounds \[1, 2, 4, 5\].*were dropped"):
            plot_learning_curves(records, x="rounds")
        with pytest.raises(ValueError, match=r"Trial 0 of .* \[1, 2, 4, 5\]"):
            summarize_final_round(
                [
                    {**r, "strategy": "A", "train_seconds": 0, "query_seconds": 0}
                    for r in records
                ]
            )
    # Without trial keys a run is the records up to where the rounds restart.
    no_trials = [{k: v for k, v in r.items() if k != "trial"} for r in records]
    with pytest.raises(ValueError, match=r"Trial 1 of '' has the rounds \[1, 2, 4, 5"):
        plot_learning_curves(no_trials)


def test_summary_takes_one_group_key_as_a_string():
    # It was split into characters: "lacks the keys ['s', 't', 'r', ...]".
    records = _fake_records()
    assert summarize_final_round(records, "strategy") == summarize_final_round(
        records, ("strategy",)
    )


def test_records_with_the_same_keys_in_another_order_are_written(tmp_path):
    path = write_records_csv([{"a": 1, "b": 2}, {"b": 4, "a": 3}], tmp_path / "r.csv")
    assert path.read_text().splitlines() == ["a,b", "1,2", "3,4"]


def test_summary_names_the_trials_of_each_group():
    # Two groups over as many trials may hold different class splits; their
    # counts alone cannot tell.
    records = _fake_records()
    records += [{**r, "strategy": "B", "trial": r["trial"] + 1} for r in records]
    records += [{**r, "strategy": "C", "trial": "x"} for r in _fake_records()[:2]]
    trials = {r["strategy"]: r["trials"] for r in summarize_final_round(records)}
    assert trials == {"A": [0, 1], "B": [1, 2], "C": ["x"]}
    mixed = [{**r, "trial": "x" if r["trial"] else 0} for r in _fake_records()]
    assert summarize_final_round(mixed)[0]["trials"] == ["x", 0]  # by repr


def test_summary_does_not_depend_on_the_order_of_the_records():
    # E.g. a table sorted by round, latest first.
    assert summarize_final_round(_fake_records()[::-1]) == summarize_final_round(
        _fake_records()
    )


def test_records_round_trip_through_csv(tmp_path):
    path = write_records_csv(_fake_records(), tmp_path / "sub" / "r.csv")
    with path.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and float(rows[3]["test_accuracy"]) == 0.9


def test_records_read_back_as_strings_are_refused_with_how_to_read_them(tmp_path):
    # They failed deep in numpy ("dtypes are not compatible with add.reduce"),
    # the plot after a false warning: rounds "10" < "9" as text.
    records = [{**r, "round": r["round"] * 9} for r in _fake_records()]
    path = write_records_csv(records, tmp_path / "r.csv")
    with path.open() as f:
        rows = list(csv.DictReader(f))
    with pytest.raises(TypeError, match=r"'round' is '9', not a number.*read_csv"):
        summarize_final_round(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match="not a number.*pandas.read_csv"):
            plot_learning_curves(rows)


def test_records_read_back_with_pandas_summarize_and_plot_as_written(tmp_path):
    # The DataFrame iterated as its column names: "string indices must be
    # integers" from the summary, "got 'round'" from the plot.
    records = [{**r, "strategy": "a"} for r in _fake_records()]
    frame = pd.read_csv(write_records_csv(records, tmp_path / "r.csv"))
    assert summarize_final_round(frame) == summarize_final_round(records)
    for read in (frame, {"a": frame}, {"a": [frame]}):
        (line,), (expected,) = (
            plot_learning_curves(r).axes[0].get_lines() for r in (read, records)
        )
        np.testing.assert_array_equal(line.get_ydata(), expected.get_ydata())


def test_records_in_a_dataframe_of_another_library_are_refused(tmp_path):
    # A polars DataFrame failed with "DataFrame.to_dict() takes 1 positional
    # argument but 2 were given".
    class DataFrame:  # as polars' looks: columns, a to_dict of no orient
        __module__ = "polars.dataframe.frame"
        columns = ["round", "test_accuracy"]

        def to_dict(self):
            return {}

    message = r"^The records are a polars DataFrame, not a pandas DataFrame: read"
    for call in (
        summarize_final_round,
        plot_learning_curves,
        lambda r: write_records_csv(r, tmp_path / "r.csv"),
    ):
        with pytest.raises(TypeError, match=message):
            call(DataFrame())


def test_a_group_key_left_empty_in_every_record_is_one_group(tmp_path):
    # Read back with pandas, each row held its own NaN, and NaN equals no
    # NaN: every row was a group of its own, refused as "round 1 was dropped".
    records = [{**r, "noise": float("nan")} for r in _fake_records()]
    frame = pd.read_csv(write_records_csv(records, tmp_path / "r.csv"))
    (row,) = summarize_final_round(frame, group_keys=("strategy", "noise"))
    assert row["n_trials"] == 2 and np.isnan(row["noise"])
    (expected,) = summarize_final_round(records, group_keys=("strategy", "noise"))
    assert {k: v for k, v in row.items() if k != "noise"} == {
        k: v for k, v in expected.items() if k != "noise"
    }
    # The plot grouped by it too: "Trial 0 of nan ... round 1 was dropped".
    (line,) = plot_learning_curves(frame, group_key="noise").axes[0].get_lines()
    assert len(line.get_ydata()) == 2  # rounds 1 and 2, the trials' mean


def test_a_blank_trial_is_refused_as_blank(tmp_path):
    # Read back with pandas, each row held its own NaN, and NaN equals no NaN:
    # every row was a run of its own, refused as "round 1 was dropped, e.g.
    # by DataFrame.dropna()".
    records = [{**r, "trial": float("nan")} for r in _fake_records()]
    frame = pd.read_csv(write_records_csv(records, tmp_path / "r.csv"))
    match = re.escape("A record's trial is NaN (a blank cell read back with pandas")
    with pytest.raises(ValueError, match=match):
        summarize_final_round(frame)
    with pytest.raises(ValueError, match=match):
        plot_learning_curves(frame)


def test_records_read_back_with_pandas_are_written_again_as_read(tmp_path):
    # write_records_csv took records[0] of the DataFrame: KeyError: 0.
    path = write_records_csv(_fake_records(), tmp_path / "r.csv")
    again = write_records_csv(pd.read_csv(path), tmp_path / "again.csv")
    pd.testing.assert_frame_equal(pd.read_csv(again), pd.read_csv(path))


def test_learning_curve_plot_has_a_band_per_group():
    fig = plot_learning_curves(_fake_records())
    accuracy, ood = fig.axes
    (line,) = accuracy.get_lines()
    np.testing.assert_allclose(line.get_xdata(), [0, 10])  # labels bought
    np.testing.assert_allclose(line.get_ydata(), [0.5, 0.8])
    assert len(accuracy.collections) == 1  # the +-std band
    # OOD labels: 10 * (1 - 0.5) and 10 * (1 - 0.6), averaged.
    np.testing.assert_allclose(ood.get_lines()[0].get_ydata(), [0, 4.5])
    matplotlib.pyplot.close(fig)


def test_learning_curves_without_bands_draw_the_means_alone():
    # Seventeen strategies' bands overlapped into one shaded area.
    fig = plot_learning_curves(_fake_records(), band=False)
    for panel in fig.axes:
        assert not panel.collections
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), [0.5, 0.8])
    assert fig.legends[0].get_title().get_text() == "mean over trials"
    matplotlib.pyplot.close(fig)
    with pytest.raises(TypeError, match="band must be True or False"):
        plot_learning_curves(_fake_records(), band="no")


@pytest.mark.parametrize("x", ["label", ["rounds"], np.array(["rounds"])])
def test_an_unknown_x_axis_is_refused_naming_the_axes(x):
    # A list or an array of a name raised "unhashable type" from the check.
    with pytest.raises(ValueError, match=r"x must be one of \['budget', 'labels', "):
        plot_learning_curves(_fake_records(), x=x)


def test_learning_curve_bands_stay_within_the_values_a_series_can_take():
    # Mean +- std drew accuracies above 1 and a negative number of OOD
    # labels bought.
    records = [
        {**r, "query_in_share": 1.0 if trial < 2 else 0.4}
        for trial, accuracies in enumerate(([0.5, 1.0], [0.5, 1.0], [0.5, 0.7]))
        for r in _run_of(accuracies, trial=trial)
    ]
    fig = plot_learning_curves(records)
    accuracy, ood = (panel.collections[0].get_paths()[0].vertices for panel in fig.axes)
    # Mean 0.9, std 0.14: the band reaches 1 and stops there.
    assert accuracy[:, 1].max() == 1.0
    # 0, 0 and 6 OOD labels: mean 2, std 2.8.
    assert ood[:, 1].min() == 0.0 and ood[:, 1].max() == pytest.approx(2 + 8**0.5)
    matplotlib.pyplot.close(fig)


def test_learning_curves_take_the_runners_records_directly(split, estimator):
    records = run_active_learning(
        split, estimator, RandomQuery(random_state=0), n_rounds=3, budget=5
    )
    fig = plot_learning_curves(records)
    accuracy, ood = fig.axes
    np.testing.assert_allclose(accuracy.get_lines()[0].get_xdata(), [0, 5, 10])
    np.testing.assert_allclose(
        accuracy.get_lines()[0].get_ydata(), [r["test_accuracy"] for r in records]
    )
    n_ood = [r["n_labelled"] - r["n_labelled_in"] for r in records]
    np.testing.assert_allclose(
        ood.get_lines()[0].get_ydata(), np.subtract(n_ood, n_ood[0])
    )
    assert not fig.legends and not accuracy.get_title()
    matplotlib.pyplot.close(fig)
    # Several strategies, each with one run or a list of runs.
    fig = plot_learning_curves({"A": records, "B": [records, records]}, x="rounds")
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["A", "B"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["A", "B"]
    np.testing.assert_allclose(fig.axes[0].get_lines()[1].get_xdata(), [1, 2, 3])
    matplotlib.pyplot.close(fig)


def test_learning_curves_show_any_group_name_as_written(tmp_path):
    # "_baseline" was left out of the legend, "cost $1 vs $2" drawn as math,
    # and "$\\weird$" raised when the figure was drawn.
    names = ["_baseline", "cost $1 vs $2", "$\\weird$"]
    fig = plot_learning_curves({name: _fake_records()[:2] for name in names})
    fig.savefig(tmp_path / "f.png")
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["\u200b_baseline", r"cost \$1 vs \$2", r"\$\weird\$"]
    matplotlib.pyplot.close(fig)


def test_learning_curves_give_each_of_many_groups_its_own_style():
    # Past 10 lines matplotlib's colour cycle came round again: of 17
    # strategies, MQ-Net and the 11th (P*I) were both blue.
    names = [f"strategy {i}" for i in range(17)]
    fig = plot_learning_curves({name: _fake_records()[:2] for name in names})
    for panel in fig.axes:
        colours = {matplotlib.colors.to_hex(ln.get_color()) for ln in panel.lines}
        assert len(colours) == 17
        # A light colour is dashed, not to be taken for its strong pair.
        assert [ln.get_linestyle() for ln in panel.lines] == ["-"] * 10 + ["--"] * 7
    matplotlib.pyplot.close(fig)
    styles = skal_openset._plots.line_styles(range(40))
    assert len({(s["color"], s["linestyle"]) for s in styles.values()}) == 40
    # Up to 10 lines keep the axes' cycle (a style sheet's, or the caller's).
    fig, ax = matplotlib.pyplot.subplots()
    ax.set_prop_cycle(color=["black", "red"])
    plot_learning_curves({"A": _fake_records(), "B": _fake_records()}, ax=ax)
    assert [ln.get_color() for ln in ax.lines] == ["black", "red"]
    matplotlib.pyplot.close(fig)


def test_line_styles_tell_400_groups_apart_and_keep_the_first_40():
    # Groups 0 and 40 had the same colour, line style and marker.
    styles = list(skal_openset._plots.line_styles(range(400)).values())
    assert len({tuple(style.values()) for style in styles}) == 400
    markers = "o s ^ v D < > P X p".split()
    assert [style["marker"] for style in styles[:40]] == markers * 4


@pytest.mark.parametrize("two_trials", [False, True])
@pytest.mark.parametrize("where", ["new", "axes"])
def test_learning_curves_name_the_lines_of_the_same_runs(where, two_trials):
    # {"A": r, "B": r} drew B over A: only B showed, and nothing said so.
    runs = _fake_records()[: 4 if two_trials else 2]
    other = [dict(r, test_accuracy=r["test_accuracy"] / 2) for r in runs]
    curves = {"A": runs, "B": other, "C": runs, "D": runs}
    ax = None if where == "new" else matplotlib.pyplot.subplots()[1]
    fig = plot_learning_curves(curves, ax=ax)
    legend = fig.legends[0] if where == "new" else ax.get_legend()
    title = legend.get_title().get_text().split("\n")
    assert title[two_trials:] == ["A = C = D (the same runs)"]
    assert [text.get_text() for text in legend.get_texts()] == list(curves)
    matplotlib.pyplot.close(fig)


def test_learning_curves_of_the_same_accuracies_at_other_x_are_not_the_same_runs():
    # Runs that bought the same labels at other costs draw other lines
    # against the budget spent: only lines one over the other are named.
    runs = _fake_records()
    dearer = [dict(r, budget_spent=2 * r["budget_spent"]) for r in runs]
    fig = plot_learning_curves({"A": runs, "B": dearer}, x="budget")
    assert "the same runs" not in fig.legends[0].get_title().get_text()
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("n_groups", [6, 17, 40])
@pytest.mark.parametrize("ordered", [False, True])
def test_learning_curves_are_told_apart_without_their_colours(n_groups, ordered):
    # Every line was solid with round markers, told apart by tab10's colours
    # alone: in grey, or to a reader with a red-green colour deficiency,
    # MQ-Net and BADGE (blue, purple) were one line in the demo's figure.
    names = [f"strategy {i}" for i in range(n_groups)]
    fig = plot_learning_curves(
        {name: _fake_records()[:2] for name in names},
        order=names if ordered else None,
        band=False,
    )
    for panel in fig.axes:
        shapes = {(ln.get_linestyle(), ln.get_marker()) for ln in panel.lines}
        assert len(shapes) == n_groups
    # The legend shows them as the lines are drawn.
    handles = fig.legends[0].legend_handles
    assert {h.get_marker() for h in handles} == {
        ln.get_marker() for ln in fig.axes[0].lines
    }
    matplotlib.pyplot.close(fig)


def test_ten_learning_curves_take_the_colours_of_the_axes_cycle():
    # Up to 10 lines take the axes' cycle's colours, a style's included;
    # only more take tab20's.
    colours = [f"#{i}{i}0000" for i in range(10)]
    curves = {f"strategy {i}": _fake_records()[:2] for i in range(10)}
    cycle = matplotlib.cycler(color=colours)
    with matplotlib.rc_context({"axes.prop_cycle": cycle}):
        fig = plot_learning_curves(curves, band=False)
    drawn = [matplotlib.colors.to_hex(line.get_color()) for line in fig.axes[0].lines]
    assert drawn == colours
    matplotlib.pyplot.close(fig)


def test_learning_curves_keep_the_markers_of_the_axes_cycle():
    fig, ax = matplotlib.pyplot.subplots()
    ax.set_prop_cycle(color=["black", "red"], marker=["x", "+"])
    plot_learning_curves({"A": _fake_records(), "B": _fake_records()}, ax=ax)
    assert [ln.get_marker() for ln in ax.lines] == ["x", "+"]
    matplotlib.pyplot.close(fig)


# 11: the panel that lacks one holds 10 groups, of an order of 11 (tab20 styles).
@pytest.mark.parametrize("n_groups", [3, 11, 12])
def test_learning_curves_keep_each_groups_style_across_panels_given_the_order(
    n_groups,
):
    # In a grid of panels, one that lacked a strategy gave every later one
    # the colour of the one before it, so a legend shared by the panels
    # named the wrong lines.
    import matplotlib.pyplot as plt

    names = [f"strategy {i}" for i in range(n_groups)]
    fig, panels = plt.subplots(1, 2)
    for panel, shown in zip(panels, (names, names[1:])):
        plot_learning_curves(
            {name: _fake_records() for name in shown}, ax=panel, order=names
        )
    left, right = (
        {ln.get_label(): (ln.get_color(), ln.get_linestyle()) for ln in panel.lines}
        for panel in panels
    )
    assert right == {name: left[name] for name in names[1:]}
    plt.close(fig)
    # The first group of the order takes the first style, as the first group
    # of the records does without it.
    default, reordered = (
        plot_learning_curves({name: _fake_records() for name in names}, order=order)
        for order in (None, names[::-1])
    )
    first, last = default.axes[0].lines[0], reordered.axes[0].lines[-1]
    assert matplotlib.colors.same_color(first.get_color(), last.get_color())
    plt.close("all")
    with pytest.raises(ValueError, match=r"order lacks \['strategy 0'\]"):
        plot_learning_curves({"strategy 0": _fake_records()}, order=names[1:])


def test_the_legend_of_many_long_names_fits_in_the_figure():
    # Six columns of 80-character names ran off both sides of the figure.
    names = [
        f"strategy number {i} with a really very extremely long descriptive name "
        f"(variant {i})"
        for i in range(20)
    ]
    fig = plot_learning_curves({name: _fake_records() for name in names})
    fig.canvas.draw()
    box = fig.legends[0].get_window_extent()
    assert 0 <= box.x0 and box.x1 <= fig.bbox.width and 0 <= box.y0
    # The figure grows for it, rather than squashing the panels.
    for panel in fig.axes:
        assert panel.get_window_extent().height > 2.5 * fig.dpi
        assert panel.get_window_extent().y0 > box.y1
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize(
    "name, width",
    [
        ("mqnet_knn_margin_contrastive_simclr_epochs200_budget500_cost_ood2_seed0", 5),
        ("_".join(f"param{i}={i}" for i in range(30)), 10),
    ],
)
def test_a_long_name_without_spaces_is_broken_to_fit_in_the_figure(name, width):
    # Names were wrapped at their spaces only: one without ran off the
    # figure, its text cut in a saved file.
    fig = matplotlib.pyplot.figure(figsize=(width, 4))
    plot_learning_curves({name: _fake_records(), "random": _fake_records()}, ax=fig)
    fig.canvas.draw()
    legend = fig.legends[0]
    for text in legend.get_texts():
        box = text.get_window_extent()
        assert 0 <= box.x0 and box.x1 <= fig.bbox.width
    assert legend.get_texts()[0].get_text().replace("\n", "") == name
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize(
    "label, width",
    [
        ("mqnet_knn_margin_contrastive_epochs200_seed0", 12),  # a word over 40
        ("MQ-Net knn_contrast + margin, rule init", 2.9),  # fits, just
    ],
)
def test_a_label_that_fits_the_figure_is_not_broken(label, width):
    # Breaking words for labels that ran off the figure also broke a word
    # over 40 characters in a wide figure, and wrapped labels that fitted
    # with less than 5% to spare.
    from skal_openset._plots import legend_layout

    assert legend_layout([label], width)[0] == [label]


@given(
    text=st.text(st.characters(codec="latin-1", exclude_categories=["C"]), max_size=30),
    plain=st.booleans(),
    size=st.sampled_from(["small", "medium", 13.5]),
)
# Math glyphs that put a control point beyond the ends of a curve, at either
# end of the line, which the span of every point measured up to 13% too wide.
@example(text=r"$\varrho$", plain=False, size="medium")
@example(text=r"$\omega$ and", plain=False, size=13.5)
@example(text=r"and $\beta$", plain=False, size="small")
def test_a_text_is_measured_as_wide_as_its_outline(text, plain, size):
    # Measured from the outline's points, not from its curves solved for
    # their extremes (most of a legend's layout time), as wide all the same.
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    from skal_openset._plots import _text_width

    prop = FontProperties(size=size)
    math = not plain and text.count("$") >= 2
    drawn = text.replace("$", r"\$") if not math else text
    try:
        outline = TextPath((0, 0), drawn, prop=prop).get_extents().width
    except (ValueError, AttributeError):  # math that does not parse; no ink
        return
    assert _text_width(text, prop, plain=not math) == outline


def test_a_cubic_outline_is_measured_as_wide_as_its_curve(monkeypatch):
    # Fonts of cubic outlines (CFF, in .otf files; none is installed here)
    # draw CURVE4 triples, whose first two points are control points: one
    # beyond the curve's ends is no point of the outline.
    import matplotlib.textpath
    from matplotlib.path import Path

    from skal_openset._plots import _text_width

    codes = [Path.MOVETO, *[Path.CURVE4] * 3, Path.CLOSEPOLY]
    path = Path([(0, 0), (0.5, 1), (3, 1), (1, 0), (0, 0)], codes)
    monkeypatch.setattr(matplotlib.textpath, "TextPath", lambda *args, **kw: path)
    assert _text_width("a glyph", prop=None) == path.get_extents().width < 3


@pytest.mark.parametrize("title", [None, "one line", "two\nlines"])
def test_the_room_left_for_a_legend_holds_its_title_lines(title):
    # The room a legend below the panels is given, as matplotlib draws it
    # (with its pads at the figure's edge), a title's lines included.
    from matplotlib.font_manager import FontProperties
    from matplotlib.lines import Line2D

    from skal_openset._plots import legend_layout

    labels, ncol, inches = legend_layout(["a", "b"], 6.0, title, fontsize="medium")
    fig = matplotlib.pyplot.figure(figsize=(6.0, 4.0))
    handles = [Line2D([], []) for _ in labels]
    legend = fig.legend(
        handles, labels, ncol=ncol, title=title, fontsize="medium",
        title_fontsize="medium",
    )  # fmt: skip
    fig.canvas.draw()
    em = FontProperties(size="medium").get_size_in_points()
    pads = 2 * matplotlib.rcParams["legend.borderaxespad"] * em / 72
    drawn = legend.get_window_extent().height / fig.dpi + pads
    assert 0.8 * drawn < inches < 1.2 * drawn
    matplotlib.pyplot.close(fig)


def test_a_long_name_with_spaces_is_wrapped_at_them_in_lines_of_40_characters():
    name = "strategy number 1 with a really very extremely long descriptive name"
    fig = plot_learning_curves({name: _fake_records(), "random": _fake_records()})
    assert [text.get_text() for text in fig.legends[0].get_texts()] == [
        "strategy number 1 with a really very\nextremely long descriptive name",
        "random",
    ]
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("name", ["\u200b", "\u202e", "\u2800 \u200b"])
def test_a_name_that_draws_no_ink_is_plotted(name):
    # Measuring its legend entry (a zero-width space, a right-to-left
    # override, a blank braille cell) failed inside matplotlib, with an
    # AttributeError ("'list' object has no attribute 'flags'").
    fig = plot_learning_curves({name: _fake_records(), "random": _fake_records()})
    assert [text.get_text() for text in fig.legends[0].get_texts()][1] == "random"
    matplotlib.pyplot.close(fig)


def test_each_legend_entry_names_its_own_line_beside_an_unnamed_one():
    # Matplotlib leaves the unnamed line out of the legend, but the labels
    # below the panels were all the groups': "" then "A", so "A" named B's line.
    unnamed = [{k: v for k, v in r.items() if k != "strategy"} for r in _fake_records()]
    records = [
        *unnamed,
        *({**r, "strategy": name} for name in "AB" for r in _fake_records()),
    ]
    fig = plot_learning_curves(records)
    legend = fig.legends[0]
    colours = {line.get_label(): line.get_color() for line in fig.axes[0].lines}
    entries = [(t.get_text(), h.get_color()) for t, h in zip(
        legend.get_texts(), legend.legend_handles
    )]  # fmt: skip
    assert entries == [("A", colours["A"]), ("B", colours["B"])]
    matplotlib.pyplot.close(fig)


@pytest.fixture
def command_figures(monkeypatch):
    """The figures that the command's learning curves are drawn on, as
    they are drawn."""
    from skal_openset import _cli as cli

    figures = []

    def plot(records, ax, **kwargs):
        figures.append(plot_learning_curves(records, ax=ax, **kwargs))
        return figures[-1]

    monkeypatch.setattr(cli, "plot_learning_curves", plot)
    return figures


def test_the_command_lines_figure_has_its_legend_below_the_panels(command_figures):
    # It passed its two Axes, so the legend went inside the accuracy panel
    # (loc="best"), over the curves and bands.
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from skal_openset import _cli as cli

    records = _fake_records() + [{**r, "strategy": "B"} for r in _fake_records()]
    assert cli._learning_curves_png(records, "title").startswith(b"\x89PNG")
    (fig,) = command_figures
    assert [panel.get_legend() for panel in fig.axes] == [None, None]
    FigureCanvasAgg(fig).draw()
    box = fig.legends[0].get_window_extent()
    assert 0 <= box.x0 and box.x1 <= fig.bbox.width and 0 <= box.y0
    assert all(box.y1 < panel.get_window_extent().y0 for panel in fig.axes)


def test_the_command_lines_figure_is_legible_900_px_wide(tmp_path, command_figures):
    # As the committed figures of the benchmarks: a reader sees it scaled to
    # 900 px wide at most.
    from _figures import check_legible
    from skal_openset import _cli as cli

    strategies = ("RANDOM", "CONF", "CORESET", "BADGE", "P+I", "MQ-Net")
    records = [{**r, "strategy": s} for s in strategies for r in _fake_records()]
    (tmp_path / "f.png").write_bytes(cli._learning_curves_png(records, "title"))
    check_legible(command_figures[0], tmp_path / "f.png")


@pytest.mark.parametrize(
    "title",
    [
        "handwritten_letters_recognition_dataset_full_version_2026.csv: IN classes "
        + ", ".join("ABCDEFGHIJKLMNOPQRST")
        + ", 4636 OOD of 16159 pool rows, MQ-Net, budget 40 x 2 rounds",
        "handwritten_letters_recognition_dataset_full_version_2026_" * 3
        + ".csv: 20 IN classes, 4636 OOD of 16159 pool rows",
        # Measured as math, "$...$" took the width of its italic formula.
        "prices.csv: IN classes "
        + ", ".join(f"$a_{{{i}}}^{{{i}}}$" for i in range(30))
        + ", 4636 OOD of 16159 pool rows, MQ-Net, budget 40 x 2 rounds",
    ],
)
def test_the_command_lines_figure_title_is_wrapped_to_fit(monkeypatch, title):
    # The title was one line, cut at both sides by the figure's edges.
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from skal_openset import _cli as cli

    figures = []
    monkeypatch.setattr(
        cli,
        "plot_learning_curves",
        lambda records, ax, **kw: figures.append(
            plot_learning_curves(records, ax=ax, **kw)
        ),
    )
    cli._learning_curves_png(_fake_records(), title)
    (fig,) = figures
    fig.set_dpi(120)  # as saved
    FigureCanvasAgg(fig).draw()
    suptitle = fig._suptitle  # Figure.get_suptitle is new in matplotlib 3.8
    shown = suptitle.get_text()
    # Every word of it, in lines.
    assert "\n" in shown and "".join(shown.split()) == "".join(title.split())
    box = suptitle.get_window_extent()
    assert 0 <= box.x0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height
    assert all(box.y0 > panel.get_window_extent().y1 for panel in fig.axes)


def test_characters_the_figures_font_lacks_are_named_in_one_warning(monkeypatch):
    # matplotlib warned once a character, "Glyph 29483 (\N{CJK UNIFIED
    # IDEOGRAPH-732B}) missing from font(s) DejaVu Sans.", with no remedy.
    from skal_openset import _cli as cli

    def plot(records, ax, **kwargs):
        warnings.warn("another warning", UserWarning, stacklevel=2)  # passed on
        return plot_learning_curves(records, ax=ax, **kwargs)

    monkeypatch.setattr(cli, "plot_learning_curves", plot)
    with (
        matplotlib.rc_context({"font.family": ["DejaVu Sans"]}),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        cli._learning_curves_png(_fake_records(), "animals.csv: IN classes 猫, 犬猫")
    assert [str(w.message)[:40] for w in caught] == [
        "another warning",
        "learning_curves.png draws 猫 犬 as boxes: ",
    ]
    assert str(caught[1].message).endswith(
        "font.family: DejaVu Sans, Noto Sans CJK JP."
    )


def test_figures_drawn_at_once_in_threads_name_their_own_characters():
    # Each figure swapped the process's showwarning in a catch_warnings block:
    # drawn at once by two commands in threads, one figure's missing character
    # was named by the other's warning, and the hook of the first left in
    # place for good swallowed every later such warning of the process.
    import threading

    from skal_openset import _cli as cli

    both_in, first_warned, first_out = (
        threading.Barrier(2, timeout=60) for _ in range(3)
    )

    def missing(character):  # as matplotlib warns
        message = f"Glyph {ord(character)} (x) missing from font(s) X."
        warnings.warn(message, UserWarning, stacklevel=2)

    def draw(character, first):
        with cli._missing_glyphs_in_one_warning():
            both_in.wait()
            if first:
                missing(character)
            first_warned.wait()
            if not first:
                missing(character)
                first_out.wait()
        if first:
            first_out.wait()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shown = warnings.showwarning
        threads = [
            threading.Thread(target=draw, args=args)
            for args in [
                ("\N{CJK UNIFIED IDEOGRAPH-732B}", True),
                ("\N{CJK UNIFIED IDEOGRAPH-72AC}", False),
            ]
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert warnings.showwarning is shown
        missing("\N{CJK UNIFIED IDEOGRAPH-732B}")
    assert sorted(str(w.message)[:30] for w in caught) == [
        "Glyph 29483 (x) missing from f",
        "learning_curves.png draws 犬 as",
        "learning_curves.png draws 猫 as",
    ]


def test_a_figure_drawn_after_its_hook_was_put_back_passes_other_warnings_on():
    # A catch_warnings of another thread, begun while a figure was drawn,
    # puts the hook back once the drawing has ended; the next drawing took
    # it for the caller's, and any other warning recursed without end.
    from skal_openset import _cli as cli

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with cli._missing_glyphs_in_one_warning():
            hook = warnings.showwarning
        warnings.showwarning = hook  # as that catch_warnings puts it back
        with cli._missing_glyphs_in_one_warning():
            warnings.warn("another warning", UserWarning, stacklevel=1)
            # And a hook installed since, by a catch_warnings of another
            # thread that has not ended, is left to it, not replaced.
            warnings.showwarning = theirs = functools.partial(hook)
        assert warnings.showwarning is theirs
    assert [str(w.message) for w in caught] == ["another warning"]


def test_learning_curves_fill_a_figure_or_subfigure_given():
    fig = matplotlib.pyplot.figure(layout="constrained")
    top, bottom = fig.subfigures(2, 1)
    assert plot_learning_curves({"A": _fake_records()}, ax=top) is top
    assert len(top.axes) == 2 and len(top.legends) == 1 and not bottom.axes
    matplotlib.pyplot.close(fig)


def test_the_legend_below_a_figure_given_without_layout_clears_the_axis_labels(
    tmp_path,
):
    # The legend went "outside lower center", which makes room only in a
    # constrained layout: in a Figure made without one it lay over the x axis
    # labels.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4))
    plot_learning_curves({"A": _fake_records(), "B": _fake_records()}, ax=fig)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.savefig(tmp_path / "curves.png")  # draws it, as saved
    box = fig.legends[0].get_window_extent(renderer)
    assert all(box.y1 < panel.get_tightbbox(renderer).y0 for panel in fig.axes)
    # A SubFigure's layout is its figure's, the caller's: it says what to do.
    top, _ = Figure().subfigures(2, 1)
    with pytest.warns(UserWarning, match='make the figure with layout="constr'):
        plot_learning_curves({"A": _fake_records(), "B": _fake_records()}, ax=top)


def test_learning_curves_split_runs_without_a_trial_key():
    records = [{k: v for k, v in r.items() if k != "trial"} for r in _fake_records()]
    fig = plot_learning_curves(records)
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), [0.5, 0.8])
    matplotlib.pyplot.close(fig)


def test_learning_curves_split_runs_of_one_round_without_a_trial_key():
    # A run starts again where a round repeats, not only where the rounds
    # fall: runs of round 1 alone are two runs, whose mean is drawn.
    records = [{k: v for k, v in r.items() if k != "trial"} for r in _fake_records()]
    fig = plot_learning_curves([records[0], records[2] | {"test_accuracy": 0.7}])
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), [0.6])
    matplotlib.pyplot.close(fig)


def test_learning_curves_draw_the_mean_budget_of_the_trials():
    # OOD labels cost more than IN ones: trials that bought other shares of
    # OOD labels spent other budgets, and a point lies at their mean.
    records = [
        r | {"budget_spent": spent}
        for r, spent in zip(_fake_records(), [0.0, 15.0, 0.0, 13.0])
    ]
    fig = plot_learning_curves(records, x="budget")
    for panel in fig.axes:
        np.testing.assert_allclose(panel.get_lines()[0].get_xdata(), [0, 14])
        assert panel.get_xlabel() == "budget spent (initial set excluded)"
    matplotlib.pyplot.close(fig)
    fig = plot_learning_curves(records)  # labels bought, 10 in either trial
    assert fig.axes[0].get_xlabel() == "labels bought (initial set excluded)"
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_xdata(), [0, 10])
    matplotlib.pyplot.close(fig)


def test_learning_curves_of_one_trial_draw_no_band():
    # One run has no spread to show: a band of zero width is none.
    fig = plot_learning_curves(_fake_records()[:2])
    for panel in fig.axes:
        assert len(panel.get_lines()) == 1 and not panel.collections
    matplotlib.pyplot.close(fig)


def test_learning_curves_tick_fractions_of_accuracy_and_whole_ood_counts():
    # Accuracies from 0 to 1: ticks at integers only would mark 0 and 1
    # alone, none of the accuracies between.
    fig = plot_learning_curves(_run_of([0.0, 0.5, 1.0]))
    accuracy, ood = fig.axes
    shown = _ticks_shown(accuracy.yaxis, accuracy.get_ylim())
    assert 0.5 in shown or len([t for t in shown if 0 < t < 1]) >= 2
    assert all(tick == round(tick) for tick in _ticks_shown(ood.yaxis, ood.get_ylim()))
    matplotlib.pyplot.close(fig)


def test_learning_curves_of_many_rounds_mark_at_most_25_rounds():
    # A marker at each of 300 rounds ran into a band three times as thick as
    # the line, under which the lines drawn before it were hidden; the lines
    # keep their markers, which tell them apart without colour.
    for n_rounds, marked in [(50, 50), (51, 17), (300, 25)]:
        fig = plot_learning_curves(_run_of(np.linspace(0.5, 0.9, n_rounds)))
        for panel in fig.axes:
            (line,) = panel.get_lines()
            assert line.get_marker() not in ("None", "", " ", None)
            every = line.get_markevery()
            shown = line.get_xdata()[:: every if every is not None else 1]
            assert len(shown) == marked
        matplotlib.pyplot.close(fig)


def _run_of(accuracies, trial=0):
    return [
        {"round": k, "trial": trial, "test_accuracy": a, "query_size": 10 * (k > 1)}
        | {"query_in_share": 1.0, "budget_spent": 10.0 * (k - 1)}
        for k, a in enumerate(accuracies, start=1)
    ]


def test_learning_curves_end_where_every_run_ends_and_keep_nan():
    # The mean went on over the runs that were left (0.75 then 0.7: a fall
    # that no run made) without a word, and dropped a NaN accuracy.
    records = _run_of([0.5, 0.6, 0.7]) + _run_of([0.5, 0.9], trial=1)
    with pytest.warns(UserWarning, match="'' have 2 to 3 rounds") as caught:
        fig = plot_learning_curves(records)
    # Once for the line, not once for each of its two panels.
    [warning] = [w for w in caught if "rounds (a pool ran out" in str(w.message)]
    assert "ends at round 2" in str(warning.message)
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), [0.5, 0.75])
    np.testing.assert_allclose(fig.axes[1].get_lines()[0].get_xdata(), [0, 10])
    matplotlib.pyplot.close(fig)
    records = _run_of([0.5, np.nan]) + _run_of([0.5, 0.9], trial=1)
    fig = plot_learning_curves(records)
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), [0.5, np.nan])
    matplotlib.pyplot.close(fig)


def test_learning_curves_warn_of_a_line_without_any_test_accuracy():
    # Records of runs without a test set drew an empty accuracy panel silently.
    records = {"MQ-Net": _run_of([np.nan, np.nan]), "RANDOM": _run_of([0.5, np.nan])}
    with pytest.warns(UserWarning, match="'MQ-Net' hold no test accuracy") as caught:
        fig = plot_learning_curves(records)
    assert len(caught) == 1
    matplotlib.pyplot.close(fig)


def test_learning_curve_tick_labels_do_not_overlap_on_a_small_panel():
    # Ten ticks of four digits (b = 500, 10 rounds) ran into each other on
    # the CIFAR report's 4-inch panel: "5001000".
    import matplotlib.pyplot as plt

    records = [dict(r, query_size=500 * (r["round"] > 1)) for r in _run_of([0.5] * 10)]
    fig, ax = plt.subplots(figsize=(4, 3), layout="constrained")
    plot_learning_curves(records, ax=ax)
    fig.canvas.draw()
    lo, hi = ax.get_xlim()
    boxes = sorted(
        (
            label.get_window_extent()
            for label, x in zip(ax.get_xticklabels(), ax.get_xticks())
            if lo <= x <= hi
        ),
        key=lambda box: box.x0,
    )
    assert len(boxes) >= 3
    assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:]))
    plt.close(fig)


def _ticks_shown(axis, limits):
    low, high = sorted(limits)
    return [tick for tick in axis.get_ticklocs() if low <= tick <= high]


def test_learning_curves_of_one_value_show_whole_counts():
    # One round drew ticks at -0.04, -0.02, 0, 0.02, 0.04 labels bought, and
    # an OOD axis from -0.045 to 0.045; so did no OOD label in any round.
    one_round = {"A": _run_of([0.5]), "B": _run_of([0.6])}
    fig = plot_learning_curves(one_round)
    for panel in fig.axes:
        assert _ticks_shown(panel.xaxis, panel.get_xlim()) == [0]
    ood = fig.axes[1]
    assert _ticks_shown(ood.yaxis, ood.get_ylim()) == [0, 1]
    assert -0.1 < ood.get_ylim()[0] < 0  # the count at the bottom
    no_ood = plot_learning_curves({"A": _run_of([0.5, 0.6, 0.7])}, x="rounds")
    ood = no_ood.axes[1]
    assert _ticks_shown(ood.yaxis, ood.get_ylim()) == [0, 1]
    assert _ticks_shown(ood.xaxis, ood.get_xlim()) == [1, 2, 3]
    matplotlib.pyplot.close("all")


def test_learning_curves_of_one_value_leave_a_shared_axis_alone():
    # The OOD axis of a cell that bought no OOD label was set to 0..1, and,
    # shared along the row, cut the curve of the cell beside it at 1.
    fig, axes = matplotlib.pyplot.subplots(2, 2, sharey="row")
    some_ood = [r | {"query_in_share": 0.5} for r in _run_of([0.5, 0.6, 0.7])]
    plot_learning_curves({"A": _run_of([0.5, 0.6, 0.7])}, ax=axes[:, 0])
    plot_learning_curves({"A": some_ood}, ax=axes[:, 1])
    assert axes[1, 0].get_ylim()[1] >= 10  # 2 queries of 10, half OOD
    matplotlib.pyplot.close(fig)


def test_learning_curves_name_the_keys_a_record_lacks():
    # x="budget" without budget_spent drew an empty panel; a missing
    # query_size was a bare KeyError even where no panel needs it.
    records = [
        {k: v for k, v in r.items() if k != "budget_spent"} for r in _run_of([0.5, 0.6])
    ]
    with pytest.raises(ValueError, match=r"lacks \['budget_spent'\], which this"):
        plot_learning_curves(records, x="budget")
    fig, ax = matplotlib.pyplot.subplots()
    rounds_only = [
        {"round": 1, "test_accuracy": 0.6},
        {"round": 2, "test_accuracy": 0.7},
    ]
    plot_learning_curves(rounds_only, x="rounds", ax=ax)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [0.6, 0.7])
    with pytest.raises(ValueError, match=r"lacks \['query_in_share', 'query_size'\]"):
        plot_learning_curves(rounds_only, x="rounds")
    matplotlib.pyplot.close("all")


@pytest.mark.parametrize(
    "key, scale, message",
    [
        ("test_accuracy", 100, "from 50 to 90: it must be a fraction in [0, 1] "),
        ("query_in_share", 100, "from 50 to 60: it must be a fraction in [0, 1] "),
        ("test_accuracy", -1, "from -0.9 to -0.5: it must be a fraction in [0, 1] "),
    ],
)
def test_learning_curves_take_fractions_not_percentages(key, scale, message):
    # Accuracies in percent drew their bands cut flat at 1, and an IN share
    # in percent drew a negative count of OOD labels, cut flat at 0.
    records = [{**r, key: scale * r[key]} for r in _fake_records()]
    expected = re.escape(
        f"The records of 'A' hold {key} {message}(NaN where there is none)"
        + "; they look like percentages: divide them by 100" * (scale == 100)
        + "."
    )
    with pytest.raises(ValueError, match=expected + "$"):
        plot_learning_curves(records)


def test_learning_curves_take_a_two_dimensional_array_of_axes():
    fig, axes = matplotlib.pyplot.subplots(1, 2, squeeze=False)
    assert plot_learning_curves(_run_of([0.5, 0.6]), ax=axes) is fig
    assert [len(ax.get_lines()) for ax in fig.axes] == [1, 1]
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("n_axes", [0, 3, 4])
def test_learning_curves_name_the_axes_they_take(n_axes):
    # More than two Axes were taken, the others left empty; none failed with
    # a bare IndexError.
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4)
    with pytest.raises(ValueError, match=f"or a pair of Axes .*; got {n_axes} Axes"):
        plot_learning_curves(_run_of([0.5, 0.6]), ax=axes[:n_axes])
    with pytest.raises(TypeError, match="ax must be None, a Figure, .*; got 'left'"):
        plot_learning_curves(_run_of([0.5, 0.6]), ax="left")
    assert not any(ax.get_lines() for ax in axes)
    plt.close(fig)


@pytest.mark.parametrize(
    "records, kwargs, error",
    [
        ([], {}, ValueError),
        (_fake_records(), {"x": "epochs"}, ValueError),
        ([1, 2], {}, TypeError),
    ],
)
def test_learning_curves_reject_bad_input(records, kwargs, error):
    with pytest.raises(error, match="records|x must be"):
        plot_learning_curves(records, **kwargs)


@pytest.mark.parametrize(
    "value, error, message",
    [
        ([], ValueError, "records['B'] is empty: pass the records of its runs, or"),
        (_fake_records()[0], TypeError, "records['B'] is one record; pass a list"),
        ([[], []], ValueError, "records['B'][0] is empty: pass the records of each"),
        ([_run_of([0.5, 0.6]), []], ValueError, "records['B'][1] is empty: pass"),
    ],
)
def test_learning_curves_name_a_group_given_no_run(value, error, message):
    # An empty group was left out unsaid, and so were a group of empty runs
    # and an empty run (its line drawn from fewer runs than given); one
    # record failed with KeyError: 0.
    with pytest.raises(error, match=re.escape(message)):
        plot_learning_curves({"A": _fake_records(), "B": value})


def _forbidden_backend_switch(*args, **kwargs):
    raise AssertionError("the caller's matplotlib backend was switched")


@pytest.mark.slow
def test_demo_command_writes_its_outputs(tmp_path, capsys, monkeypatch):
    # Called in a user's process, it left torch at one thread and switched
    # pyplot's backend (a notebook's) to Agg.
    monkeypatch.setattr(matplotlib, "use", _forbidden_backend_switch)
    threads = torch.get_num_threads()
    main(
        [
            "demo",
            "--output",
            str(tmp_path),
            "--trials",
            "1",
            "--rounds",
            "2",
            "--budget",
            "10",
        ]
    )
    assert torch.get_num_threads() == threads
    out = capsys.readouterr().out
    assert "budget 10 labels x 1 round, 1 trial\n" in out  # was "1 rounds, 1 trials"
    assert "| MQ-Net |" in out and "| RANDOM |" in out
    assert out.index("MQ-Net   final accuracy") < out.index("RANDOM   final accuracy")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert {r["strategy"] for r in summary} == {
        "MQ-Net",
        "RANDOM",
        "CONF",
        "CORESET",
        "BADGE",
        "P+I",
    }
    assert (tmp_path / "learning_curves.png").stat().st_size > 0
    assert (tmp_path / "records.csv").exists()
    assert not list(tmp_path.glob("*.partial"))
    # The summary names the machine its seconds were measured on (the
    # README's timing is read from the committed one).
    last = (tmp_path / "summary.md").read_text().splitlines()[-1]
    assert re.fullmatch(
        rf"Ran in \d+ s \(every run, without Python's start-up\) on "
        rf"{re.escape(platform.machine())} with {os.cpu_count()} CPUs?, "
        rf"torch {re.escape(torch.__version__)} on 1 thread\.",
        last,
    ), last


def test_the_summary_table_shows_no_spread_for_one_trial():
    # "0.700 +- 0.000" (every run command, demo --trials 1): the std of one
    # trial is 0 whatever its accuracy, which reads as a sure result.
    (one,) = summarize_final_round([r for r in _fake_records() if r["trial"] == 0])
    header, _, line = summary_table([one])
    assert "+-" not in header + line
    assert line.startswith("| A | 0.700 | 0.600 |")
    header, _, line = summary_table(summarize_final_round(_fake_records()))
    assert "final accuracy (mean +- std)" in header
    assert line.startswith("| A | 0.800 +- 0.100 | 0.650 |")


def test_the_summary_table_puts_the_best_auc_first_and_a_spread_where_any_has_one():
    # B, one trial of AUC 0.6, beside A, two of 0.65: A first, and the
    # header names the spread that A's line shows.
    one = [{**r, "strategy": "B"} for r in _fake_records() if r["trial"] == 0]
    header, _, first, second = summary_table(
        summarize_final_round(one + _fake_records())
    )
    assert "final accuracy (mean +- std)" in header
    assert first.startswith("| A | 0.800 +- 0.100 | 0.650 |")
    assert second.startswith("| B | 0.700 | 0.600 |")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["demo", "--trials", "0"], "--trials: must be a positive integer, got 0"),
        (
            ["demo", "--noise", "1.5"],
            "--noise: must be in [0, 1) (0.4 for 40%), got 1.5",
        ),
        (["demo", "--budget", "ten"], "--budget: must be a positive integer, got ten"),
        # One round only fits the initial set: a comparison of queries with no query.
        (["demo", "--rounds", "1"], "--rounds: must be at least 2"),
        # `run` used to accept it and only train (no label bought).
        (["run", "t.csv", "--in-classes", "a", "--rounds", "1"], "must be at least 2"),
        (["fly"], "invalid choice: 'fly'"),
        # It said "required: command", naming none.
        ([], "the following arguments are required: {demo,run}"),
    ],
)
def test_bad_command_line_exits_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


@pytest.mark.parametrize(
    "argv, function, then",
    [
        (
            ["run", "t.csv", "--in-classes", "a"],
            "run_own_data",
            "no round was saved yet; rerun it to start again",  # no checkpoint yet
        ),
        (["demo"], "run_demo", "nothing was written; rerun it to start again"),
    ],
)
def test_ctrl_c_stops_the_command_with_one_line_and_status_130(
    argv, function, then, tmp_path, monkeypatch, capsys
):
    # A traceback came out, and nothing said that a rerun resumes.
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(skal_openset._cli, function, interrupted)
    with pytest.raises(SystemExit) as exit_, escaped_ctrl_c_fails():
        main([*argv, "--output", str(tmp_path / "out")])
    assert exit_.value.code == 130
    assert capsys.readouterr().err == f"skal-openset: stopped (Ctrl-C); {then}.\n"


# Ctrl-C (or SIGTERM: timeout, kill) while the command loads torch, as the
# console script starts it, or while a benchmark script (argv[5], then its
# path and arguments) does, as python runs it. A dependency's import may
# swallow the KeyboardInterrupt raised in it (skorch reads its version under a
# bare except): argv[3] says whether this one does. The file argv[4] says that
# the import went on after the signals.
_STOPPED_WHILE_LOADING = """
import os, runpy, signal, sys, time

signal_name, times, by_import, went_on, program = sys.argv[1:6]

class StoppedInTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            sys.meta_path.remove(self)
            try:
                for _ in range(int(times)):
                    os.kill(os.getpid(), getattr(signal, signal_name))
                    time.sleep(0.1)
                open(went_on, "w").close()
            except KeyboardInterrupt:
                if by_import != "swallowed":
                    raise
        return None  # torch loads as usual

sys.meta_path.insert(0, StoppedInTorch())
if program == "skal-openset":
    from skal_openset.__main__ import main
    sys.exit(main(sys.argv[6:]))
sys.argv = sys.argv[6:]
sys.path[0] = os.path.dirname(sys.argv[0])
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.mark.parametrize(
    "signal_name, times, by_import, status, went_on",
    [
        # Raised in the import, the first was swallowed there: the demo ran
        # on to the end and exited 0 (a flaky CI failure). Or numpy, stopped
        # half-loaded, failed later with a RecursionError.
        ("SIGINT", 1, "swallowed", 130, True),
        ("SIGTERM", 1, "swallowed", 143, True),
        # The first is held until torch is loaded; a second stops at once.
        ("SIGINT", 2, "raised", 130, False),
    ],
)
@pytest.mark.parametrize("script", [None, "openset_benchmark.py"])
def test_a_stop_while_the_command_loads_ends_it_with_one_line(
    tmp_path, signal_name, times, by_import, status, went_on, script
):
    # The package loaded torch as it was imported, before main could handle
    # the Ctrl-C: a 30-line traceback in the first seconds of every command.
    # A SIGTERM then ended it without a word. A benchmark script (each imports
    # _common first) ran on to its end with status 0 where the Ctrl-C was
    # swallowed, else gave a traceback.
    output, import_went_on = tmp_path / "out", tmp_path / "went-on"
    root = Path(skal_openset.__file__).parents[1]
    if script is None:
        program, argv = (
            "skal-openset",
            ["demo", "--output", str(output), "--trials", "1"],
        )
    else:
        program, argv = script, [str(root / "benchmarks" / script), "--help"]
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _STOPPED_WHILE_LOADING,
            signal_name,
            str(times),
            by_import,
            str(import_went_on),
            program,
            *argv,
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(root)),
        timeout=300,
    )
    stopped = "SIGTERM" if signal_name == "SIGTERM" else "Ctrl-C"
    assert done.stderr == (
        f"{program}: stopped ({stopped}) while starting; nothing was written.\n"
    )
    assert done.returncode == status
    assert import_went_on.exists() == went_on
    assert not output.exists()


def _python_into(stdout, *args, unbuffered=False):
    """Run ``python *args``, the package importable, with its stdout the file
    `stdout`, buffered as for a user unless `unbuffered` (PYTHONUNBUFFERED)."""
    env = dict(os.environ, PYTHONPATH=str(Path(skal_openset.__file__).parents[1]))
    env["PYTHONUNBUFFERED"] = "1" if unbuffered else ""
    return subprocess.run(
        [sys.executable, *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=300,
    )


def _command_into(stdout, *argv, unbuffered=False):
    """Run ``python -m skal_openset *argv`` as :func:`_python_into` does."""
    return _python_into(stdout, "-m", "skal_openset", *argv, unbuffered=unbuffered)


def _command_into_a_closed_pipe(*argv):
    """Run ``python -m skal_openset *argv`` with its stdout a pipe whose reader
    has quit (``| head``), buffered as for a user."""
    read, write = os.pipe()
    os.close(read)
    try:
        return _command_into(write, *argv)
    finally:
        os.close(write)


def test_a_command_whose_output_reader_quit_stops_with_one_line_and_status_141(
    tmp_path,
):
    # `skal-openset demo | head -1`: "error: [Errno 32] Broken pipe; fix that",
    # then a traceback and "Exception ignored ... BrokenPipeError", status 120.
    done = _command_into_a_closed_pipe("demo", "--output", str(tmp_path / "out"))
    assert done.stderr == (
        "skal-openset: stopped (the command reading its output quit); nothing "
        "was written; rerun it to start again.\n"
    )
    assert done.returncode == 141  # 128 + SIGPIPE, as a shell reports it
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv", [["--version"], ["demo", "--help"]])
def test_version_or_help_with_stdout_closed_goes_to_stderr(argv):
    # `skal-openset --version >&-` (a daemon, pythonw): sys.stdout is None,
    # which argparse writes for on stderr; the package's own writer of
    # stdout must leave it to argparse, not write on None (a traceback).
    env = dict(os.environ, PYTHONPATH=str(Path(skal_openset.__file__).parents[1]))
    done = subprocess.run(
        ["sh", "-c", 'exec "$0" -m skal_openset "$@" >&-', sys.executable, *argv],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0
    assert done.stderr.startswith(
        "skal-openset 0" if argv == ["--version"] else "usage:"
    )


def test_output_left_unread_as_a_command_ends_is_dropped_without_a_traceback():
    # Written as Python exited: "Exception ignored ... BrokenPipeError" and
    # status 120, where `| head -1` had read all it wanted.
    done = _command_into_a_closed_pipe("--version")
    assert (done.stderr, done.returncode) == ("", 141)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize("argv", [["--version"], ["demo", "--help"], ["demo"]])
def test_output_into_a_full_disk_ends_the_command_with_one_line(
    tmp_path, argv, unbuffered
):
    # --version or --help into a full disk ended with a traceback and status
    # 120 (buffered), or with status 0 having written nothing (unbuffered:
    # argparse passes over the error); a demo printed its one line, then the
    # same traceback, as its flush at exit failed on the line again.
    if argv == ["demo"]:
        argv = ["demo", "--output", str(tmp_path / "out")]
    with open("/dev/full", "w") as full:
        done = _command_into(full, *argv, unbuffered=unbuffered)
    assert done.stderr == (
        "skal-openset: error: [Errno 28] No space left on device; free some "
        "disk space, then rerun it.\n"
    )
    assert done.returncode == 1
    assert not (tmp_path / "out").exists()


# The line a program named "prog" ends with when a full disk refuses its
# output, with nothing said kept and the plain remedy.
_PROG_DISK_FULL = (
    "prog: error: [Errno 28] No space left on device; free some disk space, "
    "then rerun it."
)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize(
    "ending, status",
    [("pass", 1), ("sys.exit(0)", 1), ("sys.exit()", 1), ("sys.exit(3)", 3)],
)
def test_output_refused_as_the_block_ends_is_one_line_its_status_kept(ending, status):
    # Held in stdout's buffer until the block's end, where its flush failed
    # (the disk filled as a run went on): a traceback after the work was done.
    # A verdict exited with (compare_cells' "differs", status 1) was dropped
    # without a word: its status alone told, as if all was shown.
    # sys.exit() (a script's main ending so, its code None) is status 0's.
    code = "import sys\nfrom skal_openset._signals import ended_as_by_sigpipe\n" + (
        f"with ended_as_by_sigpipe('prog'):\n    print('hello')\n    {ending}"
    )
    with open("/dev/full", "w") as full:
        done = _python_into(full, "-c", code)
    assert done.stderr == _PROG_DISK_FULL + "\n"
    assert done.returncode == status


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("refused", ["output", "work"])
def test_output_refused_amid_the_block_ends_it_there_the_works_error_goes_on(
    tmp_path, refused
):
    # A print flushed at once (unbuffered, or flush=True) raised OSError amid
    # the work: a traceback. An OSError of the work's own is not the output's.
    code = (
        "import errno\n"
        "from skal_openset._signals import output_refusal_ends\n"
        "with output_refusal_ends('prog'):\n"
        "    print('hello', flush=True)\n"
        "    raise OSError(errno.ENOSPC, 'the work failed')\n"
    )
    with open("/dev/full" if refused == "output" else os.devnull, "w") as stdout:
        done = _python_into(stdout, "-c", code)
    if refused == "output":
        assert done.stderr == (
            "prog: error: [Errno 28] No space left on device; free some disk "
            "space, then rerun it.\n"
        )
        assert done.returncode == 1
    else:
        assert done.stderr.splitlines()[-1] == "OSError: [Errno 28] the work failed"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize(
    "written",
    [
        "sys.stdout.writelines(['hello\\n'])",
        "sys.stdout.buffer.write(b'hello\\n')",
        "t = threading.Thread(target=print, args=('hello',), kwargs={'flush': True})\n"
        "    t.start(); t.join(); print('the rest', flush=True)",
        "t = threading.Thread(target=print, args=('hello',), kwargs={'flush': True})\n"
        "    t.start(); t.join()",
        "t = threading.Thread(target=print, args=('hello',), kwargs={'flush': True})\n"
        "    t.start(); t.join(); sys.exit(0)",
        "t = threading.Thread(target=print, args=('hello',), kwargs={'flush': True})\n"
        "    t.start(); t.join(); sys.exit()",
        "t = threading.Thread(target=sys.stdout.buffer.write, args=(b'hello',))\n"
        "    t.start(); t.join()",
        "t = threading.Thread(target=Parser().parse_args, args=(['--help'],))\n"
        "    t.start(); t.join()",
    ],
    ids=[
        "writelines",
        "buffer",
        "thread",
        "thread alone",
        "thread, then exit 0",
        "thread, then sys.exit()",
        "buffer in a thread",
        "--help in a thread",
    ],
)
def test_output_refused_by_writelines_its_buffer_or_a_thread_ends_with_status_1(
    written,
):
    # writelines and stdout's buffer bypassed the wrapper: a traceback. In a
    # thread, sys.exit ended the thread alone: the line said error, the run
    # went on and exited 0 with its output dropped. Raised there, with no
    # write after it in the main thread: the thread's traceback, then status 0;
    # so too where the main thread then exited with status 0 (a verdict), or
    # with sys.exit() (its code None, as a script's main ending). The
    # buffer's wrapper records a thread's refusal on stdout's, which the block
    # reads as it ends; so does a parser's, which writes around it. The
    # program is not the 'prog' of the other tests: a wrapper (stdout's
    # buffer's) that named another passed them.
    code = (
        "import sys\n"
        "import threading\n"
        "from skal_openset._argtypes import Parser\n"
        "from skal_openset._signals import output_refusal_ends\n"
        "with output_refusal_ends('a script'):\n"
        f"    {written}\n"
    )
    with open("/dev/full", "w") as stdout:
        # unbuffered: writelines written at once
        done = _python_into(stdout, "-c", code, unbuffered=True)
    assert done.stderr.splitlines()[-1] == (
        "a script: error: [Errno 28] No space left on device; free some disk "
        "space, then rerun it."
    )
    assert done.returncode == 1


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_output_refused_by_a_buffer_taken_before_keep_says_what_keep_made_kept():
    # stdout's buffer copied `kept` as it was read: a script's buffer taken at
    # its top said the block's first `kept` after keep() had changed it.
    done = _refusal_block_into_a_full_disk(
        "with output_refusal_ends('prog', 'nothing kept: ') as keep:\n"
        "    out = sys.stdout.buffer\n"
        "    keep('the table written: ')\n"
        "    out.write(b'hello')\n"
    )
    assert done.stderr == (
        "prog: error: [Errno 28] No space left on device; the table written: "
        "free some disk space, then rerun it.\n"
    )
    assert done.returncode == 1


def _refusal_block_into_a_full_disk(block, unbuffered=True):
    """Run, with its stdout a full disk, the code `block`, after imports of
    sys, threading and ``output_refusal_ends``."""
    code = (
        "import sys\n"
        "import threading\n"
        "from skal_openset._signals import output_refusal_ends\n" + block
    )
    with open("/dev/full", "w") as stdout:
        return _python_into(stdout, "-c", code, unbuffered=unbuffered)


def _after_a_threads_refused_print(then, unbuffered, kept="", rerun="rerun it"):
    """Run, into a full disk, a block of ``output_refusal_ends('prog', kept,
    rerun)`` whose thread's print is refused, then whose main thread runs
    `then`."""
    return _refusal_block_into_a_full_disk(
        f"with output_refusal_ends('prog', {kept!r}, {rerun!r}):\n"
        "    t = threading.Thread(target=print, args=('hello',), "
        "kwargs={'flush': True})\n"
        f"    t.start(); t.join(); {then}\n",
        unbuffered,
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
def test_output_refused_in_a_thread_then_a_failures_exit_is_said_its_status_kept(
    unbuffered,
):
    # The block's own status (3 here, 2 of a usage error) says more than 1: it
    # is kept, and the output lost said too, as ended_as_by_sigpipe says it
    # for output held to the end. Unbuffered, the thread's write left nothing
    # to fail again: no word. Buffered, Python's flush at exit failed on it,
    # "Exception ignored" and status 120.
    done = _after_a_threads_refused_print("sys.exit(3)", unbuffered=unbuffered)
    assert done.stderr.count("prog: error") == 1, done.stderr
    assert done.stderr.splitlines()[-1] == _PROG_DISK_FULL
    assert done.returncode == 3


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
def test_output_refused_in_a_thread_with_more_held_is_told_in_one_line(unbuffered):
    # A thread's refused print, then the main thread's held in stdout's
    # buffer: ending the program as the block ends flushes that too, which
    # fails again; flushed through the block's stdout, it said the line twice.
    # Unbuffered, the main thread's print is refused amid the block, whose
    # line the block's end said again for the thread's.
    done = _after_a_threads_refused_print("print('the rest')", unbuffered=unbuffered)
    assert done.stderr.count("prog: error") == 1, done.stderr
    assert done.returncode == 1


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_output_refused_in_a_thread_told_as_the_block_ends_says_nothing_kept():
    # Told as the block ends, the work is done: what the block's line says its
    # work keeps amid it ("no table written") and how to go on may not hold.
    done = _after_a_threads_refused_print(
        "pass", unbuffered=True, kept="no table written: ", rerun="rerun for the rest"
    )
    assert done.stderr.splitlines()[-1] == _PROG_DISK_FULL
    assert done.returncode == 1


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_a_write_refused_in_a_thread_raises_its_oserror_there():
    # As output_refusal_ends says: the thread's own code sees its write fail
    # (sys.exit would end that thread alone), where passing over the error
    # let it go on as if its output had been written.
    done = _refusal_block_into_a_full_disk(
        "def work():\n"
        "    try:\n"
        "        print('hello', flush=True)\n"
        "    except OSError as exc:\n"
        "        print(f'the thread saw {exc.errno}', file=sys.stderr)\n"
        "with output_refusal_ends('prog'):\n"
        "    t = threading.Thread(target=work)\n"
        "    t.start(); t.join()\n"
    )
    assert done.stderr.splitlines()[0] == f"the thread saw {errno.ENOSPC}"
    assert done.returncode == 1


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
def test_output_refused_in_a_thread_leaves_the_blocks_own_error_told(unbuffered):
    # The work's own error, after a thread's refused print, is the one told:
    # the program ended for the output refused, its traceback unseen.
    # Buffered, the thread's text left in stdout failed Python's flush at
    # exit: "Exception ignored" after the traceback, and status 120.
    done = _after_a_threads_refused_print(
        "raise ValueError('the work failed')", unbuffered=unbuffered
    )
    assert done.stderr.splitlines()[-1] == "ValueError: the work failed"
    assert done.returncode == 1


def test_the_stdout_output_refusal_ends_hands_on_is_of_its_streams_class(
    capsysbinary,
):
    # Pillow saves an image to sys.stdout through its buffer where it is an
    # io.TextIOWrapper, else to it: bytes to a text stream, a TypeError.
    image = pytest.importorskip("PIL.Image")
    with output_refusal_ends("prog"):
        assert isinstance(sys.stdout, io.TextIOWrapper)
        image.new("L", (1, 1)).save(sys.stdout, format="PNG")
    assert capsysbinary.readouterr().out.startswith(b"\x89PNG")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_output_refused_with_stderr_refusing_its_line_too_ends_with_status_1():
    # Both streams on the full disk (2>&1): the line's own error of writing
    # went on, and Python's flush at exit failed again on stdout's text,
    # "Exception ignored" and status 120.
    code = "from skal_openset._signals import ended_as_by_sigpipe\n" + (
        "with ended_as_by_sigpipe('prog'):\n    print('hello')"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(skal_openset.__file__).parents[1]))
    env["PYTHONUNBUFFERED"] = ""  # held to the block's end
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-c", code], stdout=full, stderr=full, env=env, timeout=300
        )
    assert done.returncode == 1


def test_machine_failure_is_one_line_of_one_sentence():
    # A message that spans lines (a path with a newline in atomic_paths'
    # "Could not replace ...") is the line's: the advice would stand alone on
    # a line of its own.
    message = "Could not replace a\nb (Operation not permitted);\nit is as it was."
    exc = PermissionError(errno.EPERM, message)
    assert machine_failure("prog", exc) == (
        "prog: error: [Errno 1] Could not replace a b (Operation not permitted); "
        "it is as it was; fix that, then rerun it."
    )


def test_the_stdout_output_refusal_ends_hands_on_copies_as_its_stream(monkeypatch):
    # copy.copy(sys.stdout) in the block recursed without end (RecursionError),
    # where a stream copies (a StringIO) or refuses as it pickles (a file),
    # at the protocol asked: a StringIO refuses protocols 0 and 1.
    monkeypatch.setattr(sys, "stdout", io.StringIO("abc"))
    with output_refusal_ends("prog"):
        copied = copy.copy(sys.stdout)
        assert pickle.loads(pickle.dumps(sys.stdout)).getvalue() == "abc"
        with pytest.raises(TypeError, match="cannot pickle 'StringIO'"):
            pickle.dumps(sys.stdout, protocol=0)
    assert type(copied) is io.StringIO
    assert copied.getvalue() == "abc"


def test_output_refusal_ends_hands_the_block_the_stream_it_wraps(monkeypatch):
    # The stream answers for it: what it holds (a StringIO's value, pytest's
    # capture), and write's count of characters, as a stream's; and it is
    # stdout again once the block ends.
    stdout = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    with output_refusal_ends("prog"):
        assert sys.stdout.write("abc") == 3
        print("d")
        assert sys.stdout.getvalue() == "abcd\n"
    assert sys.stdout is stdout


def test_a_usage_error_that_stderr_refuses_is_still_status_2(monkeypatch):
    # Only stdout's text is flushed and told a machine's failure: a usage
    # error whose line stderr (a full disk) refuses is still status 2, not 1.
    class Refusing(io.StringIO):
        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sys, "stderr", Refusing())
    with pytest.raises(SystemExit) as exit_:
        Parser(prog="prog").parse_args(["--no-such-option"])
    assert exit_.value.code == 2


def test_another_pipe_broken_is_an_error_not_the_output_reader_quitting(
    tmp_path, monkeypatch, capsys
):
    # A worker's or a subprocess's pipe broken, the output a terminal: "stopped
    # (the command reading its output quit)", status 141, a failure hidden as a
    # reader that had read enough.
    def broken(*args, **kwargs):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setattr(skal_openset._cli, "run_demo", broken)
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--output", str(tmp_path / "out")])
    assert exit_.value.code == 1
    assert capsys.readouterr().err == (
        "skal-openset: error: [Errno 32] Broken pipe; fix that, then rerun it.\n"
    )
    with pytest.raises(BrokenPipeError), ended_as_by_sigpipe():
        broken()


class _OutputTo:
    """A stream writing to the file descriptor `fd`, for output_reader_quit."""

    def __init__(self, fd):
        self._fd = fd

    def fileno(self):
        return self._fd


@pytest.mark.skipif(not hasattr(select, "poll"), reason="streams not polled")
@pytest.mark.parametrize("output", ["pipe", "socket"])
def test_a_reader_that_quit_is_found_on_stderr_behind_a_stdout_of_no_file(
    output, monkeypatch
):
    # A stdout without a file descriptor (a StringIO, Jupyter's) hides no
    # stderr behind it; and a socket's reader that quit (an ssh channel, a
    # socket activation) polls as hung up, not as an error as a pipe's does.
    if output == "pipe":
        read, kept = os.pipe()
        os.close(read)
        closed = functools.partial(os.close, kept)
    else:
        ours, theirs = socket.socketpair()
        theirs.close()
        kept, closed = ours.fileno(), ours.close
    try:
        monkeypatch.setattr(sys, "stdout", io.StringIO())
        monkeypatch.setattr(sys, "stderr", _OutputTo(kept))
        assert output_reader_quit()
        monkeypatch.setattr(sys, "stderr", io.StringIO())
        assert not output_reader_quit()
    finally:
        closed()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="no /proc/self/fd")
def test_output_left_unread_with_stderr_closed_ends_the_command_as_sigpipe(
    monkeypatch,
):
    # `skal-openset ... 2>&- | head`: the output its reader left was dropped
    # for a stream that sys.stderr's None has not, and os.devnull, opened to
    # drop it, was left open (a file descriptor a call lost, in a user's
    # process that calls main).
    opened = len(os.listdir("/proc/self/fd"))
    read, write = os.pipe()
    os.close(read)
    with open(write, "w") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        monkeypatch.setattr(sys, "stderr", None)
        with pytest.raises(SystemExit) as exit_, ended_as_by_sigpipe():
            print("left unread")
        assert exit_.value.code == 141
    assert len(os.listdir("/proc/self/fd")) == opened


def _fake_demo(monkeypatch, output, final_accuracy, figure):
    """Run the demo command on fake records and figure; return its files' bytes."""
    records = _fake_records()
    records[-1]["test_accuracy"] = final_accuracy
    cli = skal_openset._cli
    monkeypatch.setattr(cli, "demo_records", lambda *args, **kwargs: records)
    monkeypatch.setattr(cli, "_learning_curves_png", lambda *args: figure)
    main(["demo", "--output", str(output)])
    return {path.name: path.read_bytes() for path in output.iterdir()}


def test_the_demo_summary_says_its_auc_is_over_the_labels_bought(tmp_path, monkeypatch):
    # Every demo label costs 1: the budget spent is the labels bought.
    _fake_demo(monkeypatch, tmp_path, 0.9, b"figure")
    summary = (tmp_path / "summary.md").read_text()
    assert "AUC: test accuracy averaged over the labels bought (" in summary


@pytest.mark.parametrize(
    "error, status, then",
    [
        (KeyboardInterrupt, 130, "nothing was written; rerun it to start again"),
        # A full disk gave a 40-line traceback.
        (
            OSError(errno.ENOSPC, "No space left on device"),
            1,
            "free some disk space, then rerun it",
        ),
        # A full quota is a full disk to its user: it was to "fix that".
        (
            OSError(errno.EDQUOT, "Disk quota exceeded"),
            1,
            "free some disk space, then rerun it",
        ),
    ],
)
def test_an_interrupted_or_failed_demo_keeps_the_earlier_outputs_whole(
    error, status, then, tmp_path, monkeypatch, capsys
):
    # The files were replaced one after another: Ctrl-C while the figure was
    # written left the new records beside the earlier figure, and the
    # command said that nothing was written.
    output = tmp_path / "out"
    earlier = _fake_demo(monkeypatch, output, 0.9, b"earlier figure")
    figure = b"a figure larger than any other output" * 1000
    fsync = os.fsync

    def failing_at_the_figure(fd):
        if os.fstat(fd).st_size == len(figure):
            raise error
        fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_at_the_figure)
    with pytest.raises(SystemExit) as exit_:
        _fake_demo(monkeypatch, output, 0.1, figure)
    assert exit_.value.code == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith(f"; {then}.\n")
    assert {path.name: path.read_bytes() for path in output.iterdir()} == earlier


def test_ctrl_c_while_the_demo_outputs_are_replaced_waits_for_all(
    tmp_path, monkeypatch, capsys
):
    output = tmp_path / "out"
    earlier = _fake_demo(monkeypatch, output, 0.9, b"earlier figure")
    replace = os.replace

    def ctrl_c_midway(src, dst):
        if Path(dst).name == "summary.md":
            signal.raise_signal(signal.SIGINT)
        replace(src, dst)

    monkeypatch.setattr(os, "replace", ctrl_c_midway)
    with pytest.raises(SystemExit) as exit_, escaped_ctrl_c_fails():
        _fake_demo(monkeypatch, output, 0.1, b"new figure")
    assert exit_.value.code == 130
    assert capsys.readouterr().err == (
        "skal-openset: stopped (Ctrl-C) after writing records.csv, summary.md, "
        "summary.json, learning_curves.png; its outputs are complete.\n"
    )
    written = {path.name: path.read_bytes() for path in output.iterdir()}
    assert written.keys() == earlier.keys()
    assert all(written[name] != earlier[name] for name in OUTPUT_FILES)


@pytest.mark.parametrize("moment", ["as_the_command_ends", "as_a_warning_is_said"])
def test_a_stop_once_the_demo_outputs_are_written_says_they_are_complete(
    moment, tmp_path, monkeypatch, capsys
):
    # Stopped once the outputs were replaced, as the command ended (its lock
    # released), or as it warned that the figure failed, the command said
    # "nothing was written" of them.
    cli = skal_openset._cli
    if moment == "as_the_command_ends":
        lock = cli.folder_lock

        @contextlib.contextmanager
        def stopped_as_released(*args):
            with lock(*args):
                yield
            raise KeyboardInterrupt

        monkeypatch.setattr(cli, "folder_lock", stopped_as_released)
        figure, names = b"new figure", OUTPUT_FILES
    else:

        def stopped(message):
            raise KeyboardInterrupt

        monkeypatch.setattr(cli, "warn", stopped)
        figure, names = None, OUTPUT_FILES[:-1]
    records = _fake_records()
    monkeypatch.setattr(cli, "demo_records", lambda *args, **kwargs: records)
    monkeypatch.setattr(
        cli, "_learning_curves_png", lambda *args: figure or {}["no figure"]
    )
    with pytest.raises(SystemExit) as exit_, escaped_ctrl_c_fails():
        main(["demo", "--output", str(tmp_path)])
    assert (exit_.value.code, capsys.readouterr().err) == (
        130,
        f"skal-openset: stopped (Ctrl-C) after writing {', '.join(names)}; its "
        "outputs are complete.\n",
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [*names, cli.MARKER_FILE]
    )


@pytest.mark.parametrize(
    "module, handling",
    [("_cli", "_warnings_as_lines"), ("_signals", "ended_as_by_sigpipe")],
    ids=["run_commands", "mains"],
)
def test_a_stop_as_the_commands_handling_ends_after_its_work_is_said(
    module, handling, tmp_path, monkeypatch, capsys
):
    # Once run_command's work and output were done, a Ctrl-C as its context
    # managers, or main's, ended was past its handling: a traceback.
    ctrl_c_as_it_ends(monkeypatch, getattr(skal_openset, module), handling)
    cli = skal_openset._cli
    records = _fake_records()
    monkeypatch.setattr(cli, "demo_records", lambda *args, **kwargs: records)
    monkeypatch.setattr(cli, "_learning_curves_png", lambda *args: b"figure")
    with pytest.raises(SystemExit) as exit_, escaped_ctrl_c_fails():
        main(["demo", "--output", str(tmp_path)])
    out, err = capsys.readouterr()
    assert (exit_.value.code, out.endswith("learning_curves.png\n"), err) == (
        130,
        True,
        f"skal-openset: stopped (Ctrl-C) after writing {', '.join(OUTPUT_FILES)}; "
        "its outputs are complete.\n",
    )


def test_a_figure_that_fails_to_draw_costs_only_itself(tmp_path, monkeypatch, capsys):
    # The figure was drawn before anything was written: its failure (a "$" in
    # a class name, parsed as math) lost the records and summary of the
    # whole run, and a run's every rerun failed the same way. The remedy's
    # path is quoted as Python writes it: a quote in it ended the string.
    output = tmp_path / "Bob's out"
    earlier = _fake_demo(monkeypatch, output, 0.9, b"earlier figure")
    capsys.readouterr()

    def fails(*args):
        raise ValueError("a figure that does not draw")

    records = _fake_records()
    records[-1]["test_accuracy"] = 0.1
    monkeypatch.setattr(skal_openset._cli, "demo_records", lambda *a, **k: records)
    monkeypatch.setattr(skal_openset._cli, "_learning_curves_png", fails)
    with pytest.warns(UserWarning) as warned:
        main(["demo", "--output", str(output)])
    written = {path.name: path.read_bytes() for path in output.iterdir()}
    # The new records and summary, and no figure of the earlier run beside them.
    assert written.keys() == earlier.keys() - {"learning_curves.png"}
    assert all(written[name] != earlier[name] for name in written if name[0] != ".")
    assert f"Wrote {output}/records.csv, summary.md, summary.json\n" in (
        capsys.readouterr().out
    )
    assert [str(w.message) for w in warned] == [
        "learning_curves.png was not written: drawing it failed (ValueError: a "
        "figure that does not draw). The records and summary are written: plot "
        "them with skal_openset.plot_learning_curves(pandas.read_csv("
        f"{str(output / 'records.csv')!r}), x='labels')."
    ]
    quoted = re.search(r"read_csv\((.*)\), x=", str(warned[0].message))[1]
    assert ast.literal_eval(quoted) == str(output / "records.csv")


@pytest.mark.parametrize("stop", ["closed stdout", "Ctrl-C while replacing"])
def test_an_earlier_figure_goes_with_its_files_whatever_stops_the_demo(
    stop, tmp_path, monkeypatch, capsys
):
    # It was removed after the "Wrote ..." line: a print to a closed pipe, or
    # a Ctrl-C during the renames, left the earlier run's figure beside the
    # new records and summary.
    output = tmp_path / "out"
    earlier = _fake_demo(monkeypatch, output, 0.9, b"earlier figure")

    def fails(*args):
        raise ValueError("a figure that does not draw")

    def closed_at_wrote(text="", **kwargs):
        if "Wrote" in text:
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")
        print(text, **kwargs)

    replace = os.replace

    def ctrl_c_midway(src, dst):
        if Path(dst).name == "summary.md":
            signal.raise_signal(signal.SIGINT)
        replace(src, dst)

    if stop == "closed stdout":
        monkeypatch.setattr(skal_openset._cli, "print", closed_at_wrote, raising=False)
    else:
        monkeypatch.setattr(os, "replace", ctrl_c_midway)
    monkeypatch.setattr(skal_openset._cli, "_learning_curves_png", fails)
    records = _fake_records()
    records[-1]["test_accuracy"] = 0.1
    monkeypatch.setattr(skal_openset._cli, "demo_records", lambda *a, **k: records)
    with pytest.raises(SystemExit), escaped_ctrl_c_fails(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        main(["demo", "--output", str(output)])
    written = {path.name: path.read_bytes() for path in output.iterdir()}
    assert written.keys() == earlier.keys() - {"learning_curves.png"}
    assert all(written[name] != earlier[name] for name in written if name[0] != ".")


def test_the_demo_writes_over_its_own_outputs_only(tmp_path, monkeypatch, capsys):
    # It replaced whatever its outputs' names held: a user's notes in
    # summary.md, or a run's records whose checkpoint was deleted.
    output = tmp_path / "out"
    _fake_demo(monkeypatch, output, 0.9, b"earlier figure")
    again = _fake_demo(monkeypatch, output, 0.1, b"new figure")  # its own: replaced
    assert again["learning_curves.png"] == b"new figure"
    (output / "summary.md").write_text("my notes\n")
    marker = output / ".skal-openset-outputs"
    unmarked = (
        "no .skal-openset-outputs there says that skal-openset demo wrote them "
        "(versions of skal-openset before it wrote none): if an earlier run of "
        "skal-openset demo wrote them, delete them; else move them"
    )
    marked = "skal-openset run wrote them: move them"
    for held, wrote in [(None, unmarked), ("skal-openset run\n", marked)]:
        marker.unlink(missing_ok=True)
        if held is not None:
            marker.write_text(held)
        monkeypatch.setattr(
            skal_openset._cli, "demo_records", lambda *a, **k: pytest.fail("ran")
        )
        with pytest.raises(SystemExit) as exit_:
            main(["demo", "--output", str(output)])
        assert exit_.value.code == 2
        assert capsys.readouterr().err == (
            f"skal-openset: error: --output {output} holds records.csv, summary.md, "
            "summary.json, learning_curves.png, which skal-openset demo would "
            f"write over, and {wrote} out of the folder, or choose another "
            "--output.\n"
        )
        assert (output / "summary.md").read_text() == "my notes\n"


class _Untrainable(LogisticRegression):
    def fit(self, X, y):
        raise AssertionError("trained before the checkpoint's path was checked")


def test_a_checkpoint_inside_a_file_is_refused_before_training(split, tmp_path):
    # It was found at the first save, after round 1 had trained.
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotADirectoryError, match="f is a file, so"):
        run_active_learning(
            split, _Untrainable(), RandomQuery(random_state=0), n_rounds=2,
            budget=10, checkpoint=tmp_path / "f" / "ck.joblib",
        )  # fmt: skip


def test_a_checkpoint_no_file_can_be_made_beside_is_refused_before_training(
    split, tmp_path, monkeypatch
):
    # A read-only folder was found at the first save, after round 1 had
    # trained. Faked, since root writes in a folder without write permission.
    def read_only(*args, dir, **kwargs):
        if Path(dir) == tmp_path:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        raise AssertionError(f"probed {dir}, not the nearest folder there")

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    with pytest.raises(OSError, match="give a path in a folder you can") as info:
        run_active_learning(
            split, _Untrainable(), RandomQuery(random_state=0), n_rounds=2,
            budget=10, checkpoint=tmp_path / "new" / "ck.joblib",
        )  # fmt: skip
    assert info.value.errno == errno.EROFS
    assert f"no file can be made in {tmp_path} (Read-only file system)" in str(
        info.value
    )
    assert not (tmp_path / "new").exists()


def test_a_finished_checkpoint_in_a_folder_no_file_can_be_made_in_is_read(
    split, tmp_path, monkeypatch
):
    # A finished run saves nothing, so its folder may be read-only; the
    # check before training refused it.
    def run():
        return run_active_learning(
            split, LogisticRegression(), RandomQuery(random_state=0), n_rounds=2,
            budget=10, checkpoint=tmp_path / "ck.joblib",
        )  # fmt: skip

    records = run()

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    pd.testing.assert_frame_equal(pd.DataFrame(run()), pd.DataFrame(records))


def test_a_checkpoint_below_a_link_to_nothing_is_refused_before_training(
    split, tmp_path
):
    # It passed the check (a link to nothing does not exist) and mkdir
    # failed with "File exists" after round 1 had trained.
    (tmp_path / "results").symlink_to(tmp_path / "gone")
    with pytest.raises(NotADirectoryError, match="results is a link to .*gone, wh"):
        run_active_learning(
            split, _Untrainable(), RandomQuery(random_state=0), n_rounds=2,
            budget=10, checkpoint=tmp_path / "results" / "ck.joblib",
        )  # fmt: skip


def test_the_demo_writes_through_no_link_in_its_folder_it_did_not_make(
    tmp_path, monkeypatch, capsys
):
    # Its marker, a link, had the file the link names replaced; records.csv,
    # a dangling link in a folder without a marker, counted as no file, and
    # the run made the file it names, outside the folder.
    output = tmp_path / "out"
    output.mkdir()
    victim, elsewhere = tmp_path / "victim.txt", tmp_path / "elsewhere.csv"
    victim.write_text("precious\n")
    marker = output / ".skal-openset-outputs"
    monkeypatch.setattr(
        skal_openset._cli, "demo_records", lambda *a, **k: pytest.fail("ran")
    )
    for link, refusal in [
        (marker, ".skal-openset-outputs as a symbolic link; a run makes that"),
        (output / "records.csv", "holds records.csv as a symbolic link to no file"),
    ]:
        marker.unlink(missing_ok=True)
        link.symlink_to(victim if link == marker else elsewhere)
        with pytest.raises(SystemExit) as exit_:
            main(["demo", "--output", str(output)])
        assert exit_.value.code == 2 and refusal in capsys.readouterr().err
    assert victim.read_text() == "precious\n" and not elsewhere.exists()


@pytest.mark.parametrize(
    "command, state, linked",
    [
        ("skal-openset demo", None, "records.csv"),  # beside its marker
        ("skal-openset run", "checkpoint.joblib", "records.csv"),
        ("skal-openset run", None, "checkpoint.joblib"),
        ("skal-openset run --interactive", "state.joblib", "records.csv"),
        ("skal-openset run --interactive", None, "state.joblib"),
        # Query files went unchecked: a blank one was written outside.
        ("skal-openset run --interactive", "state.joblib", "queries/round_2.csv"),
        ("skal-openset run --interactive", None, "queries"),
    ],
)
def test_a_dangling_link_among_the_outputs_is_refused_where_the_run_wrote_too(
    tmp_path, command, state, linked
):
    # Only a folder without marker or state refused it: beside them, the run
    # made the file the link names, outside the folder.
    output = tmp_path / "out"
    (output / linked).parent.mkdir(parents=True)
    (output / ".skal-openset-outputs").write_text(command + "\n")
    if state is not None:
        (output / state).write_bytes(b"")
    elsewhere = tmp_path / "elsewhere"
    (output / linked).symlink_to(elsewhere)
    with pytest.raises(ValueError, match=f"holds {linked} as a symbolic link to no"):
        skal_openset._cli._check_outputs_free(output, command)
    assert not elsewhere.exists()


@pytest.mark.parametrize(
    "command, state, name",
    [
        ("skal-openset run", "checkpoint.joblib", "summary.md"),
        ("skal-openset run --interactive", "state.joblib", "records.csv"),
    ],
)
def test_a_state_without_the_marker_makes_no_users_file_the_runs(
    tmp_path, command, state, name
):
    # A run stopped before its first outputs leaves its state alone; a user's
    # file of an output's name put beside it was replaced at the rerun.
    output = tmp_path / "out"
    output.mkdir()
    (output / state).write_bytes(b"")
    (output / name).write_text("my notes\n")
    with pytest.raises(ValueError, match=f"holds {name}, which {command} would"):
        skal_openset._cli._check_outputs_free(output, command)
    (output / ".skal-openset-outputs").write_text(command + "\n")
    skal_openset._cli._check_outputs_free(output, command)  # its own: replaced


def test_a_link_among_the_outputs_to_a_file_is_written_through(tmp_path):
    # Only a link to no file is refused: one to a file has that file replaced,
    # as atomic_paths writes a user's link.
    output = tmp_path / "out"
    output.mkdir()
    (output / ".skal-openset-outputs").write_text("skal-openset demo\n")
    (tmp_path / "elsewhere.csv").write_text("")
    (output / "records.csv").symlink_to(tmp_path / "elsewhere.csv")
    skal_openset._cli._check_outputs_free(output, "skal-openset demo")


def test_a_marker_naming_no_command_is_taken_for_none(tmp_path):
    # A marker a command did not write says nothing of who wrote the outputs.
    output = tmp_path / "out"
    output.mkdir()
    (output / "summary.md").write_text("my notes\n")
    (output / ".skal-openset-outputs").write_text("my notes\n")
    with pytest.raises(
        ValueError, match="no .skal-openset-outputs there says that skal-openset demo"
    ):
        skal_openset._cli._check_outputs_free(output, "skal-openset demo")


def test_folders_where_a_run_writes_files_are_named_together(tmp_path):
    output = tmp_path / "out"
    (output / "records.csv").mkdir(parents=True)
    (output / "summary.md").mkdir()
    with pytest.raises(ValueError) as info:
        skal_openset._cli._check_outputs_free(output, "skal-openset demo")
    assert str(info.value) == (
        f"--output {output} holds records.csv, summary.md as folders, where a run "
        "writes a file of that name: remove or rename them and run again."
    )


@pytest.mark.parametrize(
    "terminated, said", [([], ("Ctrl-C", 130)), ([signal.SIGTERM], ("SIGTERM", 143))]
)
def test_a_stop_held_to_a_commands_end_is_said_then_and_a_second_raises(
    terminated, said
):
    # In-process: the commands' tests send their stop as the handling ends,
    # which held or not is said alike, and a second stop only shows in an end
    # that hangs.
    says = []
    with stops_held_to_the_end() as hold:
        hold([], lambda *reason: says.append(reason))
    assert says == []  # no stop, nothing said
    with pytest.raises(KeyboardInterrupt), stops_held_to_the_end() as hold:
        hold(terminated, lambda *reason: says.append(reason))
        signal.raise_signal(signal.SIGINT)
        assert says == []  # held to the end
        signal.raise_signal(signal.SIGINT)  # for an end that hangs
    assert says == [said]


def test_sigterm_while_the_demo_saves_cleans_up_and_exits_143(tmp_path):
    # SIGTERM (timeout, kill, docker stop, SLURM) killed the command there,
    # leaving a full-size hidden .tmp file beside each output.
    script = """
import json, os, signal, sys
import skal_openset._cli as cli

records = json.loads(sys.argv[2])
cli.demo_records = lambda *args, **kwargs: records
fsync = os.fsync

def sigterm_as_the_outputs_are_flushed(fd):
    signal.raise_signal(signal.SIGTERM)
    fsync(fd)

os.fsync = sigterm_as_the_outputs_are_flushed
from skal_openset.__main__ import main
main(["demo", "--output", sys.argv[1]])
"""
    output = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-c", script, str(output), json.dumps(_fake_records())],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[1],
        timeout=300,
    )
    assert done.returncode == 143, done.stderr
    assert done.stderr.splitlines()[-1] == (
        "skal-openset: stopped (SIGTERM); nothing was written; rerun it to start again."
    )
    assert not output.exists()  # made for the run (its lock), left empty


# The demo on stand-in records, its stdout's pipe filled, as by a reader that
# stopped reading, as it says where its outputs are: that line and the
# table before it, held where buffered, are its last output.
_DEMO_HELD_UP = """
import builtins, json, sys
import skal_openset._cli as cli

records = json.loads(sys.argv[3])
cli.demo_records = lambda *args, **kwargs: records
own_print = builtins.print

def print(*args, **kwargs):
    if args and str(args[0]).startswith("\\nWrote "):
        fill_stdout()
        open(sys.argv[1], "w").close()
    own_print(*args, **kwargs)

builtins.print = print
from skal_openset.__main__ import main
main(["demo", "--output", sys.argv[2]])
"""


@DROPS_HELD_UP
@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize(
    "signum, stopped, status",
    [(signal.SIGINT, "Ctrl-C", 130), (signal.SIGTERM, "SIGTERM", 143)],
)
def test_a_stop_as_the_demos_last_output_is_held_up_says_its_outputs_are_written(
    tmp_path, signum, stopped, status, unbuffered
):
    # Buffered, it was written once the command's stops were no longer
    # handled: a Ctrl-C gave a traceback, then waited on, a SIGTERM ended it
    # with no word (-15). Unbuffered, the line said "nothing was written".
    env = dict(os.environ, PYTHONUNBUFFERED="1" if unbuffered else "")
    records = json.dumps(_fake_records())
    assert stopped_held_up(
        _DEMO_HELD_UP,
        signum,
        tmp_path / "flag",
        tmp_path / "out",
        records,
        cwd=Path(__file__).parents[1],
        env=env,
    ) == (
        status,
        f"skal-openset: stopped ({stopped}) after writing "
        f"{', '.join(OUTPUT_FILES)}; its outputs are complete.\n",
    )


@DROPS_HELD_UP
def test_a_stops_held_up_output_dropped_leaves_the_pipes_other_writers_blocking(
    monkeypatch,
):
    # stdout's file description is shared with the processes writing to the
    # same pipe (a parent shell, the pipeline's other commands): made
    # non-blocking as the held output was written, their writes failed
    # (EAGAIN) meanwhile, and stayed so where a signal ended this one.
    read_end, write_end = os.pipe()
    theirs = os.dup(write_end)
    blocking = []

    class Stdout(io.TextIOWrapper):
        def flush(self):
            blocking.append(os.get_blocking(theirs))
            super().flush()

    try:
        os.set_blocking(write_end, False)  # its reader stopped reading
        for size in (4096, 1):  # atomic below 4096 bytes: the pipe's last bytes
            with contextlib.suppress(BlockingIOError):
                while True:
                    os.write(write_end, b"x" * size)
        os.set_blocking(write_end, True)
        stdout = Stdout(open(write_end, "wb", closefd=False))
        stdout.write("held up")
        monkeypatch.setattr(sys, "stdout", stdout)
        _held_up_dropped()  # no hang: dropped
        assert blocking and all(blocking)
        assert os.get_blocking(write_end)
    finally:
        monkeypatch.undo()
        for fd in (read_end, write_end, theirs):
            os.close(fd)


def test_version_and_help_with_defaults(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"skal-openset {skal_openset.__version__}"
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    help_text = capsys.readouterr().out
    for option in ("--output", "--trials", "--rounds", "--budget", "--noise"):
        assert option in help_text
    assert help_text.count("(default:") == 6  # the five above and --progress


def test_run_help_says_what_an_option_left_out_does_not_none(capsys):
    # ArgumentDefaultsHelpFormatter adds "(default: None)" to an option
    # without a default, whose help says what leaving it out does.
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--help"])
    assert exit_.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "None" not in help_text
    assert "--ignore-columns IGNORE_COLUMNS comma-separated CSV columns" in help_text
    assert "(default: as many as a round's budget buys)" in help_text


def test_the_strategy_option_names_what_it_takes_in_its_help_and_error(
    capsys, monkeypatch
):
    # The parser names the strategies without loading them (STRATEGY_NAMES):
    # --strategy's help and a mistyped name's error list them, in order.
    # argparse wraps the help to the terminal's width, and breaks a line at a
    # hyphen ("MQ-" then "Net" at 100 columns): wide enough for no wrapping.
    monkeypatch.setenv("COLUMNS", "1000")
    names = "MQ-Net, RANDOM, CONF, CORESET, BADGE, P+I"
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"--strategy STRATEGY query strategy: {names} (default: MQ-Net)" in (
        help_text
    )
    with pytest.raises(SystemExit) as exit_:
        main(["run", "t.csv", "--strategy", "mq"])
    assert exit_.value.code == 2
    assert f"argument --strategy: must be one of {names}, got mq" in (
        capsys.readouterr().err
    )


# `python -m skal_openset *argv`, then, on stderr's last line, which of the
# packages that take seconds to load it loaded.
_LOADED_BY_THE_COMMAND = """
import runpy, sys

sys.argv[0] = "skal-openset"
try:
    runpy.run_module("skal_openset", run_name="__main__", alter_sys=True)
finally:
    heavy = {"torch", "sklearn", "skorch", "pandas"} & sys.modules.keys()
    print("loaded:", *sorted(heavy), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "argv, status",
    [
        (["--help"], 0),
        (["--version"], 0),
        (["run", "--help"], 0),
        (["demo", "--bogus"], 2),  # an unknown option
        (["run", "t.csv", "--in-classes", "a", "--classifier", "tree"], 2),
        # A missing argument, once argparse has converted --ood-label's default.
        (["run", "t.csv"], 2),
    ],
)
def test_help_version_and_a_usage_error_answer_without_loading_torch(argv, status):
    # Each took 3 s or more: the command loaded torch, scikit-learn and
    # skorch before it parsed its command line.
    done = subprocess.run(
        [sys.executable, "-c", _LOADED_BY_THE_COMMAND, *argv],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(Path(skal_openset.__file__).parents[1])),
        timeout=300,
    )
    assert done.returncode == status, done.stderr
    assert done.stderr.splitlines()[-1] == "loaded:"


def test_the_parsers_strategies_are_the_commands_in_its_order():
    # The parser names them without loading them (_cli_start); --strategy
    # takes, and the demo runs, the command's classes.
    from skal_openset import _cli as cli
    from skal_openset._cli_start import STRATEGY_NAMES

    assert tuple(cli.STRATEGIES) == STRATEGY_NAMES


def test_callback_sees_every_round_after_its_teach(split, estimator):
    seen = []
    run_active_learning(
        split,
        estimator,
        RandomQuery(random_state=0),
        n_rounds=3,
        budget=5,
        callback=lambda record, learner: seen.append(
            (
                record["round"],
                learner.y_labelled_.size,
                # measured on the held-out test set, not on rows of the pool
                record["test_accuracy"] == learner.score(split.X_test, split.y_test),
            )
        ),
    )
    assert seen == [(1, 20, True), (2, 25, True), (3, 30, True)]


def _without_timing(records):
    return json.dumps(
        [
            {k: v for k, v in r.items() if k not in ("train_seconds", "query_seconds")}
            for r in records
        ]
    )


def test_budget_that_cannot_buy_a_label_fails_up_front(split, estimator):
    with pytest.raises(ValueError, match=r"budget=3 .*max\(cost_in, cost_ood\) = 4"):
        run_active_learning(split, estimator, RandomQuery(), budget=3, cost_ood=4.0)
    with pytest.raises(ValueError, match="budget=0"):
        run_active_learning(split, estimator, RandomQuery(), budget=0)
    # Beyond the floats' range: math.isfinite raised OverflowError.
    with pytest.raises(ValueError, match="it must be a finite float"):
        run_active_learning(split, estimator, RandomQuery(), budget=10**400)


def test_a_budget_is_checked_against_the_costs_as_the_oracle_spends_it(split):
    # Compared in the budget's own precision, np.float32(0.3) passed against
    # a cost of 0.30000001192092896 (equal as float32) and round 2 bought
    # nothing ("X has 0 samples"); np.longdouble("0.1") failed against a
    # cost of 0.1 that it buys.
    cost = float(np.float32(0.3))
    with pytest.raises(ValueError, match=r"budget=0\.3 cannot buy a label"):
        run_active_learning(
            split, _Untrainable(), RandomQuery(random_state=0), n_rounds=2,
            budget=np.float32(0.3), cost_in=cost, cost_ood=cost,
        )  # fmt: skip
    records = run_active_learning(
        split, LogisticRegression(), RandomQuery(random_state=0), n_rounds=2,
        budget=np.longdouble("0.1"), cost_in=0.1, cost_ood=0.1,
    )  # fmt: skip
    assert records[-1]["query_size"] == 1 and records[-1]["budget_spent"] == 0.1


def test_a_split_that_is_no_open_set_split_is_refused_with_how_to_make_one(estimator):
    # "AttributeError: 'tuple' object has no attribute 'y_pool'"
    X, y = load_digits_dataset()
    with pytest.raises(TypeError, match=r"OpenSetSplit, e\.g\. from make_open_set_sp"):
        run_active_learning((X, y), estimator, RandomQuery(), budget=10)


def test_a_callback_that_cannot_be_called_is_refused_before_training(split):
    # Refused only once round 1 had trained.
    def never(*args, **kwargs):
        pytest.fail("trained")

    estimator = make_pipeline(FunctionTransformer(never), LogisticRegression())
    with pytest.raises(TypeError, match=r"callback must be a function called as"):
        run_active_learning(
            split, estimator, RandomQuery(), budget=10, callback="print"
        )


def test_a_cost_that_makes_the_budget_buy_unboundedly_many_labels_runs(split):
    # budget / cost_ood was inf, and math.ceil of it an OverflowError.
    records = run_active_learning(
        split,
        LogisticRegression(),
        RandomQuery(random_state=0),
        n_rounds=2,
        budget=2.0,
        cost_ood=1e-320,
    )
    assert records[1]["query_size"] >= 2 and records[1]["budget_spent"] <= 2.0


_ASKED = []  # the sizes _SizeSpy is asked for, as the run clones it


class _SizeSpy(RandomQuery):
    def __call__(self, learner, X_pool, n_instances=1, **kwargs):
        _ASKED.append(n_instances)
        return super().__call__(learner, X_pool, n_instances, **kwargs)


@pytest.mark.parametrize(
    "budget, cost, asked",
    [(2.1, 0.3, 7), (2.1, 0.7, 3), (np.float32(0.3), 0.1, 3), (10, 3, 4)],
)
def test_a_query_asks_for_the_ceil_of_the_budget_over_the_cost_in_decimals(
    split, budget, cost, asked
):
    # In floats 2.1 / 0.3 is 7.000000000000001: the query asked for 8 rows
    # of which the budget bought 7, and MQ-Net spread its batch over 8.
    _ASKED.clear()
    run_active_learning(
        split, LogisticRegression(), _SizeSpy(random_state=0), n_rounds=2,
        budget=budget, cost_in=cost, cost_ood=cost,
    )  # fmt: skip
    assert _ASKED == [asked]


class _ChoosesNothing(RandomQuery):
    def __call__(self, learner, X_pool, n_instances=1, **kwargs):
        return np.array([], dtype=int), np.array([])


def test_a_strategy_that_chooses_nothing_is_named(split, estimator):
    # The run failed in teach with "X has 0 samples", an X the user never gave.
    with pytest.raises(ValueError, match="_ChoosesNothing chose no row .* round 2"):
        run_active_learning(split, estimator, _ChoosesNothing(), n_rounds=2, budget=5)


def test_a_strategy_in_a_partial_is_named_by_its_class(split, estimator):
    # It was named "partial", in the progress bar and in this message.
    strategy = functools.partial(_ChoosesNothing(), n_instances=3)
    with pytest.raises(ValueError, match="_ChoosesNothing chose no row"):
        run_active_learning(split, estimator, strategy, n_rounds=2, budget=5)


def test_a_scikit_learn_classifier_runs_when_the_initial_set_lacks_an_in_class():
    X, y = load_digits_dataset()
    split = make_open_set_split(
        X, y, n_in_classes=4, noise_ratio=0.6, initial_size=8, random_state=1
    )
    initial = set(split.y_pool[split.initial_idx].tolist()) - {split.ood_label}
    assert initial < set(range(split.n_classes))  # the case: a class is missing
    records = run_active_learning(
        split,
        RandomForestClassifier(n_estimators=10, random_state=0),
        RandomQuery(random_state=0),
        n_rounds=3,
        budget=10,
    )
    assert [r["round"] for r in records] == [1, 2, 3]


def test_exhausted_pool_stops_the_run_with_a_warning(estimator):
    X, y = load_digits_dataset()
    small = make_open_set_split(
        X[:120],
        y[:120],
        n_in_classes=4,
        noise_ratio=0.4,
        initial_size=20,
        test_size=0.5,
        random_state=0,
    )
    n_pool = small.y_pool.size
    n_rounds = 3 + (n_pool - 20) // 20
    with pytest.warns(RuntimeWarning, match="pool ran out") as warned:
        records = run_active_learning(
            small, estimator, RandomQuery(random_state=0), n_rounds=n_rounds, budget=20
        )
    assert len(records) < n_rounds
    assert records[-1]["n_labelled"] == n_pool
    # The last query asked for the rest of the pool, not for more (which the
    # strategy answers with a warning of its own).
    [warning] = warned
    assert str(warning.message) == (
        f"The pool ran out after round {len(records)}: the run stops with "
        f"{len(records)} of n_rounds={n_rounds} rounds."
    )
    assert warning.filename == __file__  # the line that started the campaign


def test_budget_spent_is_the_oracles_spending_less_the_initial_set(
    split, estimator, tmp_path
):
    records = run_active_learning(
        split,
        estimator,
        RandomQuery(random_state=0),
        n_rounds=3,
        budget=12,
        cost_ood=2.0,
        checkpoint=tmp_path / "run.joblib",
    )
    oracle = load_object(tmp_path / "run.joblib")["oracle"]
    initial = split.y_pool[split.initial_idx]
    initial_cost = np.sum(np.where(initial == split.ood_label, 2.0, 1.0))
    assert oracle.spent_ - initial_cost == pytest.approx(records[-1]["budget_spent"])


def test_budget_spent_does_not_drift_with_costs_like_a_tenth(split, estimator):
    records = run_active_learning(
        split,
        estimator,
        RandomQuery(random_state=0),
        n_rounds=4,
        budget=1.0,
        cost_in=0.1,
        cost_ood=0.1,
    )
    # Each round buys 10 labels at 0.1: 1.0, 2.0, 3.0, not 0.9999999999999996.
    assert [r["budget_spent"] for r in records] == [0.0, 1.0, 2.0, 3.0]


def test_progress_bar_shows_accuracy_and_in_share(split, estimator, capsys):
    run_active_learning(
        split,
        estimator,
        RandomQuery(random_state=0),
        n_rounds=2,
        budget=5,
        progress=True,
    )
    err = capsys.readouterr().err
    assert "2/2" in err and "accuracy=" in err and "in_share=" in err


_IN_A_NOTEBOOK_WITHOUT_WIDGETS = """
import sys, types, warnings
# What tqdm.auto takes for a Jupyter kernel (the module names tqdm's
# versions look for), with no ipywidgets installed.
shell = type("ZMQInteractiveShell", (), {"config": {"IPKernelApp": {}}})()
sys.modules["IPython"] = types.SimpleNamespace(get_ipython=lambda: shell)
sys.modules["ipykernel.zmqshell"] = types.ModuleType("ipykernel.zmqshell")
sys.modules["ipywidgets"] = None
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    from sklearn.linear_model import LogisticRegression
    from skal_openset import (RandomQuery, load_digits_dataset,
                              make_open_set_split, plot_learning_curves,
                              run_active_learning)
    X, y = load_digits_dataset()
    split = make_open_set_split(X, y, n_in_classes=4, noise_ratio=0.4,
                                initial_size=20, random_state=0)
    run_active_learning(split, LogisticRegression(), RandomQuery(), n_rounds=2,
                        budget=5)
print([str(w.message) for w in caught if "ipywidgets" in str(w.message)])
"""


def test_a_notebook_without_ipywidgets_hears_of_them_only_for_a_bar():
    # Importing the runner (or the plots, which import it) warned "IProgress
    # not found. Please update jupyter and ipywidgets" in such a notebook,
    # where no bar was asked for.
    done = subprocess.run(
        [sys.executable, "-c", _IN_A_NOTEBOOK_WITHOUT_WIDGETS],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(Path(skal_openset.__file__).parents[1])),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"


def test_rounds_are_logged_to_the_named_logger_only_when_asked(
    split, estimator, caplog
):
    with caplog.at_level(logging.INFO, logger="skal_openset"):
        run_active_learning(
            split, estimator, RandomQuery(random_state=0), n_rounds=2, budget=5
        )
    messages = [r.getMessage() for r in caplog.records if r.name == "skal_openset"]
    assert [m.split(":")[0] for m in messages] == ["round 1/2", "round 2/2"]
    assert logging.getLogger("skal_openset").getEffectiveLevel() > logging.INFO


def test_empty_records_are_refused_by_the_csv_writer(tmp_path):
    with pytest.raises(ValueError, match="records is empty"):
        write_records_csv([], tmp_path / "r.csv")
    assert not (tmp_path / "r.csv").exists()
    with pytest.raises(ValueError, match=r"records\[1\] has the keys"):
        write_records_csv([{"a": 1}, {"b": 2}], tmp_path / "r.csv")


def test_checkpoint_resumes_with_identical_records(split, estimator, tmp_path):
    strategy = MQNetQuery(random_state=0)
    full = run_active_learning(split, estimator, strategy, n_rounds=4, budget=10)
    path = tmp_path / "run.joblib"
    run_active_learning(
        split, estimator, strategy, n_rounds=2, budget=10, checkpoint=path
    )
    seen = []
    resumed = run_active_learning(
        split,
        estimator,
        strategy,
        n_rounds=4,
        budget=10,
        checkpoint=path,
        callback=lambda record, learner: seen.append(record["round"]),
    )
    assert seen == [3, 4]  # rounds 1-2 came from the checkpoint
    assert _without_timing(resumed) == _without_timing(full)


def test_a_resumed_run_spends_as_the_whole_run_with_ood_labels_dearer(
    split, estimator, tmp_path
):
    # The resume takes the initial set's IN and OOD labels from round 1's
    # record; at equal costs only their sum shows in budget_spent.
    kwargs = dict(budget=10, cost_ood=3)
    full = run_active_learning(
        split, estimator, RandomQuery(random_state=0), n_rounds=3, **kwargs
    )
    path = tmp_path / "run.joblib"
    for n_rounds in (1, 3):
        resumed = run_active_learning(
            split, estimator, RandomQuery(random_state=0), n_rounds=n_rounds,
            checkpoint=path, **kwargs,
        )  # fmt: skip
    assert [r["budget_spent"] for r in resumed] == [r["budget_spent"] for r in full]


def _fake_cuda(monkeypatch, n_devices, restored):
    """One CUDA machine's RNG calls, on this CPU-only one."""
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: n_devices)
    monkeypatch.setattr(
        torch.cuda,
        "get_rng_state_all",
        lambda: [torch.full((4,), i, dtype=torch.uint8) for i in range(n_devices)],
    )
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", restored.append)


def test_a_checkpoint_restores_the_cuda_random_states(
    split, estimator, tmp_path, monkeypatch
):
    # Only the CPU's torch state was kept: a GPU run with random_state=None
    # resumed from other CUDA draws than the uninterrupted run's.
    restored = []
    _fake_cuda(monkeypatch, 2, restored)
    path = tmp_path / "run.joblib"
    kwargs = dict(budget=10, checkpoint=path)
    run_active_learning(split, estimator, RandomQuery(), n_rounds=1, **kwargs)
    run_active_learning(split, estimator, RandomQuery(), n_rounds=2, **kwargs)
    [states] = restored
    assert [s.tolist() for s in states] == [[0] * 4, [1] * 4]
    # Another machine's device count: refused, the caller's states untouched.
    _fake_cuda(monkeypatch, 1, restored)
    np.random.seed(5)  # noqa: NPY002 (the global state is what is checked)
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    with pytest.raises(ValueError, match="2 CUDA devices and this machine has 1"):
        run_active_learning(split, estimator, RandomQuery(), n_rounds=3, **kwargs)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_a_checkpoint_resumes_after_the_template_was_fitted(split, tmp_path):
    # The fingerprint hashed the template with its fitted attributes, which
    # the run never uses (it trains a clone): the resume was refused.
    estimator = LogisticRegression(max_iter=200)
    path = tmp_path / "run.joblib"
    kwargs = dict(budget=10, checkpoint=path)
    run_active_learning(
        split, estimator, RandomQuery(random_state=0), n_rounds=1, **kwargs
    )
    estimator.fit(split.X_test, split.y_test)  # e.g. a passive baseline
    records = run_active_learning(
        split, estimator, RandomQuery(random_state=0), n_rounds=2, **kwargs
    )
    assert len(records) == 2


def _as_images(X):
    return X.reshape(len(X), 1, 8, 8)  # digits' pixels are in [0, 1]


def _encoder_strategy(X, random_state=0):
    """CCAL in the features of a contrastive encoder that a script fits on `X`."""
    encoder = make_pipeline(
        FunctionTransformer(_as_images),
        ContrastiveEncoder(
            width=2, projection_dim=4, max_epochs=1, batch_size=64,
            random_state=random_state,
        ),
    )  # fmt: skip
    return CCALQuery(features=encoder.fit(X).transform, random_state=0)


def _checkpointed(split, strategy, path):
    return run_active_learning(
        split, LogisticRegression(max_iter=200), strategy, n_rounds=1, budget=10,
        checkpoint=path,
    )  # fmt: skip


def test_a_checkpoint_resumes_with_its_encoder_fitted_again(split, tmp_path):
    # The same fit, from the same seed and data, was "a different
    # experiment": the fingerprint hashed the encoder's fit time.
    path = tmp_path / "run.joblib"
    _checkpointed(split, _encoder_strategy(split.X_pool), path)
    _checkpointed(split, _encoder_strategy(split.X_pool), path)


def test_a_checkpoint_with_another_encoder_is_refused(split, tmp_path):
    path = tmp_path / "run.joblib"
    _checkpointed(split, _encoder_strategy(split.X_pool), path)
    for other in (
        _encoder_strategy(split.X_pool, random_state=1),
        _encoder_strategy(split.X_pool[1:]),
    ):
        with pytest.raises(ValueError, match="different experiment"):
            _checkpointed(split, other, path)


def test_a_checkpoint_fingerprinted_with_the_encoders_fit_time_resumes(split, tmp_path):
    # Checkpoints hashed the fit time: one whose encoder is loaded again (from
    # a cache, so with that time) resumes as it did.
    path = tmp_path / "run.joblib"
    strategy = _encoder_strategy(split.X_pool)
    _checkpointed(split, strategy, path)
    state = load_object(path)
    arrays = [split.X_pool, split.y_pool, split.initial_idx, split.X_test, split.y_test]
    started = [clone(LogisticRegression(max_iter=200)), clone(strategy, safe=False)]
    state["fingerprint"] = content_hash([arrays, *started, 10.0, 1.0, 1.0])
    save_object(state, path)
    cached = load_object(save_object(strategy, tmp_path / "strategy.joblib"))
    _checkpointed(split, cached, path)


def test_a_resumed_run_hashes_its_pool_once(split, tmp_path, monkeypatch):
    # Its fingerprint was made with the timings and without, every array
    # hashed twice (a whole CIFAR pool): the one with them, which only
    # checkpoints of before may hold, is made only when the first differs.
    path = tmp_path / "run.joblib"
    _checkpointed(split, RandomQuery(random_state=0), path)
    hashed, save = [], _ContentHasher.save

    def counted(self, obj):
        hashed.append(obj is split.X_pool)
        save(self, obj)

    monkeypatch.setattr(_ContentHasher, "save", counted)
    _checkpointed(split, RandomQuery(random_state=0), path)
    assert hashed.count(True) == 1


def test_tensors_of_the_same_bytes_in_another_dtype_or_shape_hash_apart():
    # Tensors are hashed by their bytes: zeros of float32 and int32 are the
    # same bytes, as are a row and a column, yet other values.
    zeros = torch.zeros(6)
    assert content_hash(zeros) == content_hash(torch.zeros(6))  # by value
    assert content_hash(zeros) != content_hash(torch.zeros(6, dtype=torch.int32))
    assert content_hash(zeros) != content_hash(zeros.reshape(2, 3))
    assert content_hash(zeros.reshape(2, 3)) != content_hash(zeros.reshape(3, 2))


class _Timed:
    """A fitted object with a wall-clock timing, as ContrastiveEncoder's."""

    def __init__(self, weights, seconds):
        self.weights_ = weights
        self.fit_seconds_ = seconds


def test_fingerprint_parts_leave_out_fit_times_as_the_whole_does():
    # The parts named what differs from a checkpoint: an encoder fitted
    # again, its fit time all that changed, was named as a change beside the
    # budget that did change.
    names = ["strategy", "budget"]
    first = Fingerprint([_Timed([1.0, 2.0], 3.5), 10.0])
    again = Fingerprint([_Timed([1.0, 2.0], 4.25), 10.0])
    assert first.saved == again.saved
    assert first.parts(names) == again.parts(names)
    other = Fingerprint([_Timed([1.0, 2.5], 3.5), 11.0]).parts(names)
    assert all(other[name] != first.parts(names)[name] for name in names)


def test_a_fingerprint_leaves_out_the_scikit_learn_version_its_estimators_pickle_with(
    monkeypatch,
):
    # Another Python's scikit-learn runs the same experiment: the version
    # is recorded apart, and matches tells a checkpoint hashed with it.
    # (A fitted object with a timing beside it: hashed with its timing, the
    # value matches no checkpoint.)
    value = [PCA(1).fit(np.arange(12.0).reshape(6, 2)), _Timed([1.0], 3.5)]
    names = ["encoder", "strategy"]
    here = Fingerprint(value)
    here_parts = here.parts(names)
    # what pickles: a version no install of the tests has
    monkeypatch.setattr(sklearn.base, "__version__", "0.24.2")
    there = Fingerprint(value)
    assert there.saved == here.saved and there.parts(names) == here_parts
    with_version = _ContentHasher(_is_timing).hash(value)
    parts = {name: _ContentHasher(_is_timing).hash(v) for name, v in zip(names, value)}
    monkeypatch.undo()
    assert here.matches(with_version, "0.24.2")
    assert not here.matches(with_version)
    assert here.parts_that_differ(names, parts, "0.24.2") == []
    assert here.parts_that_differ(names, parts) == ["encoder"]


class _Slotted:
    __slots__ = ("weights_",)


class _TimedSlotted(_Slotted):
    """A fitted object with a timing whose class has __slots__ besides: its
    pickled state is the pair (__dict__, slots)."""

    def __init__(self, weights, seconds):
        self.weights_ = weights
        self.fit_seconds_ = seconds


class _TimedInSlots:
    """A fitted object whose timing is a slot: its pickled state is the pair
    (None, slots)."""

    __slots__ = ("weights_", "fit_seconds_")

    def __init__(self, weights, seconds):
        self.weights_ = weights
        self.fit_seconds_ = seconds


class _TimedOwnState(_Timed):
    """A fitted object with a timing that pickles a state of its own."""

    def __getstate__(self):
        return [self.weights_]

    def __setstate__(self, state):
        (self.weights_,) = state


@pytest.mark.parametrize(
    "timed", [_Timed, _TimedSlotted, _TimedInSlots, _TimedOwnState]
)
def test_a_fingerprint_leaves_out_fit_times_whatever_the_objects_state(timed):
    # Only a state that was a dict lost its timings: an object of a class
    # with __slots__ (state (__dict__, slots)), or a timing held in a slot,
    # fitted again was another experiment, its checkpoint refused.
    first = Fingerprint(timed([1.0, 2.0], 3.5))
    assert first.saved == Fingerprint(timed([1.0, 2.0], 4.25)).saved
    assert first.saved != Fingerprint(timed([1.0, 2.5], 3.5)).saved


def test_a_resumed_run_with_an_unseeded_auroc_callback_gives_the_same_records(
    split, estimator, tmp_path
):
    # The callback drew its sample from NumPy's global generator at its first
    # call: round 1 in one run, the first resumed round in the other, which
    # moved every later draw of an unseeded strategy.
    def run(n_rounds, checkpoint=None):
        np.random.seed(0)  # noqa: NPY002 (the unseeded runs draw from it)
        callback = PurityAUROC(split, {"knn": "knn"}, max_samples=100)
        return run_active_learning(
            split, estimator, RandomQuery(), n_rounds=n_rounds, budget=10,
            callback=callback, checkpoint=checkpoint,
        )  # fmt: skip

    full = run(4)
    run(2, tmp_path / "run.joblib")
    resumed = run(4, tmp_path / "run.joblib")
    assert _without_timing(resumed) == _without_timing(full)


def test_a_finished_checkpoint_leaves_the_global_random_states_alone(
    split, estimator, tmp_path
):
    # Rerun with no round left (a notebook cell run again), the resume set
    # NumPy's global state to the saved one: the caller's draws repeated.
    kwargs = dict(n_rounds=2, budget=10, checkpoint=tmp_path / "run.joblib")
    run_active_learning(split, estimator, RandomQuery(random_state=0), **kwargs)
    np.random.seed(5)  # noqa: NPY002 (the global state is what is checked)
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    run_active_learning(split, estimator, RandomQuery(random_state=0), **kwargs)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_a_checkpoint_with_more_rounds_says_what_to_pass(split, estimator, tmp_path):
    path = tmp_path / "run.joblib"
    run_active_learning(
        split, estimator, RandomQuery(), n_rounds=2, budget=10, checkpoint=path
    )
    # "checkpoint elsewhere" named no option of the command line.
    message = (
        r"2 rounds, .* pass n_rounds >= 2 \(skal.*checkpoint elsewhere to start "
        r"afresh \(skal-openset run: another --output folder\)\."
    )
    with pytest.raises(ValueError, match=message):
        run_active_learning(
            split, estimator, RandomQuery(), n_rounds=1, budget=10, checkpoint=path
        )


@pytest.mark.parametrize("where", [16, 40, -100])  # header (2), pickle
def test_a_damaged_checkpoint_says_to_delete_it(split, estimator, where, tmp_path):
    # The advice was load_object's "Use another copy, or save again", which a
    # run's checkpoint has neither of; a flipped header byte called it
    # foreign ("load it with joblib.load") or raised a bare KeyError.
    path = tmp_path / "run.joblib"
    run_active_learning(
        split, estimator, RandomQuery(), n_rounds=1, budget=10, checkpoint=path
    )
    data = bytearray(path.read_bytes())
    data[where] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="damaged.*Delete it to start over") as exc:
        run_active_learning(
            split, estimator, RandomQuery(), n_rounds=2, budget=10, checkpoint=path
        )
    assert "another copy" not in str(exc.value)


class _NoLongerLoads:
    def __reduce__(self):  # as an object of a class changed since fails
        return float, ("an old field",)


def test_an_early_checkpoint_that_does_not_load_says_how_to_resume_it(
    split, estimator, tmp_path
):
    # Saved without a digest (before 2026-11-30), a checkpoint that fails to
    # load may be intact, of an earlier commit whose classes have changed:
    # load_object says to load it with that commit, the run said only to
    # delete it and run its rounds again.
    path = tmp_path / "run.joblib"
    with path.open("wb") as f:  # the first 0.1 files: no digest
        header = {"format": "skal_openset", "version": skal_openset.__version__}
        pickle.dump(header, f)
        joblib.dump({"fingerprint": "0" * 32, "records": [_NoLongerLoads()]}, f)
    with pytest.raises(ValueError, match="saved by an early development") as exc:
        run_active_learning(
            split, estimator, RandomQuery(), n_rounds=2, budget=10, checkpoint=path
        )
    message = str(exc.value)
    assert "Resume it with the skal_openset that wrote it, or delete it" in message


def test_a_checkpoint_that_does_not_load_here_is_kept(
    split, estimator, tmp_path, saved_on_cuda
):
    # A checkpoint written with tensors on a GPU, resumed without one, was
    # called damaged, with advice to delete it and run its rounds again.
    path = tmp_path / "run.joblib"
    saved_on_cuda()
    run_active_learning(
        split, estimator, RandomQuery(), n_rounds=1, budget=10, checkpoint=path
    )
    with pytest.raises(ValueError, match="run.joblib is intact") as exc:
        run_active_learning(
            split, estimator, RandomQuery(), n_rounds=2, budget=10, checkpoint=path
        )
    message = str(exc.value)
    assert "Resume the run on a machine like the one that wrote it" in message
    assert "damaged" not in message and "Delete" not in message


@pytest.mark.parametrize(
    "change, named",
    [
        (dict(budget=11), r"\(the budget differs\)"),
        (dict(cost_ood=2), r"\(cost_ood differs\)"),
        (
            dict(query_strategy=RandomQuery(random_state=1), budget=12),
            r"\(the query strategy and the budget differ\)",
        ),
    ],
)
def test_checkpoint_of_another_experiment_is_refused_naming_what_differs(
    split, estimator, tmp_path, change, named
):
    # It named no part ("split, estimator, strategy, budget or costs differ").
    path = tmp_path / "run.joblib"
    run_active_learning(
        split, estimator, RandomQuery(), n_rounds=1, budget=10, checkpoint=path
    )
    kwargs = dict(query_strategy=RandomQuery(), budget=10) | change
    with pytest.raises(ValueError, match="different experiment " + named):
        run_active_learning(split, estimator, n_rounds=2, checkpoint=path, **kwargs)
    # A checkpoint written before the parts were saved names them all.
    state = load_object(path)
    del state["fingerprint_parts"]
    save_object(state, path)
    with pytest.raises(ValueError, match=r"\(split, estimator, strategy, budget or"):
        run_active_learning(split, estimator, n_rounds=2, checkpoint=path, **kwargs)


def _checkpoint_of_round_1(split, estimator, path):
    """The options of a 2-round run checkpointed at `path`, and its state
    after round 1, as a run stopped there left it."""
    kwargs = dict(n_rounds=2, budget=10, checkpoint=path)
    run_active_learning(split, estimator, RandomQuery(), **kwargs | dict(n_rounds=1))
    return kwargs, load_object(path)


def test_a_checkpoint_whose_parts_all_match_but_not_the_whole_names_them_all(
    split, estimator, tmp_path
):
    # No part to name (e.g. the whole hashed by other code): an empty list of
    # parts left a sentence with nothing before its "differ".
    path = tmp_path / "run.joblib"
    kwargs, state = _checkpoint_of_round_1(split, estimator, path)
    state["fingerprint"] = "0" * 32
    save_object(state, path)
    with pytest.raises(_OtherExperimentError) as info:
        run_active_learning(split, estimator, RandomQuery(), **kwargs)
    assert info.value.differ is None
    assert "(split, estimator, strategy, budget or costs differ)" in str(info.value)


def test_a_checkpoint_hashed_with_the_scikit_learn_version_names_what_differs(
    split, tmp_path
):
    # Its parts were hashed with the version scikit-learn's estimators pickle
    # with, as checkpoints were before 2026-12-06: one refused for its budget
    # named "the estimator and the budget" (--classifier, to the command line).
    path = tmp_path / "run.joblib"
    estimator = make_pipeline(StandardScaler(), LogisticRegression(max_iter=200))
    kwargs = dict(n_rounds=2, checkpoint=path)
    run_active_learning(split, estimator, RandomQuery(), budget=10, **kwargs)
    state = load_object(path)
    state["fingerprint_parts"]["the estimator"] = _ContentHasher(_is_timing).hash(
        clone(estimator)
    )
    save_object(state, path)
    with pytest.raises(ValueError, match=r"experiment \(the budget differs\)"):
        run_active_learning(split, estimator, RandomQuery(), budget=12, **kwargs)


def test_a_checkpoint_of_other_versions_resumes_with_a_warning(
    split, estimator, tmp_path, monkeypatch
):
    # Rounds of one version were continued by another without a word.
    path = tmp_path / "run.joblib"
    kwargs = dict(budget=10, checkpoint=path)

    def run(n_rounds):
        return run_active_learning(
            split, estimator, RandomQuery(random_state=0), n_rounds=n_rounds, **kwargs
        )

    run(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run(2)  # the same versions: no word
    old = skal_openset.__version__
    monkeypatch.setattr(skal_openset, "__version__", "0.1.99")  # same release
    message = (
        f"written with skal_openset {old}; it resumes with skal_openset 0.1.99, "
        "so its 2 rounds and the next ones come from different code. Delete it"
    )
    # A warning made an error stops the resume before it sets the caller's
    # random states (they were the checkpoint's already).
    torch.manual_seed(123)
    expected = torch.get_rng_state()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match=re.escape(message)):
            run(3)
    assert torch.equal(torch.get_rng_state(), expected)
    with pytest.warns(UserWarning, match=re.escape(message)):
        assert len(run(3)) == 3
    # One written before checkpoints recorded versions still resumes.
    state = load_object(path)
    del state["versions"]
    save_object(state, path)
    message = "written with an earlier skal_openset, which recorded no versions; it"
    with pytest.warns(UserWarning, match=message) as record:
        assert len(run(4)) == 4
    assert "torch " in str(record[0].message)
    # Other code of the same version (a development install): 0.1.0.dev0 at
    # every commit, so a fix's rounds were continued silently.
    monkeypatch.setattr(_experiment, "_source_hash", lambda: "0123456789ab")
    with pytest.warns(UserWarning, match="resumes with skal_openset source 0123"):
        assert len(run(5)) == 5


def test_the_source_hash_tells_apart_code_in_subpackages_and_across_files(
    tmp_path, monkeypatch
):
    # The checkpoint's versions hold it for a development install, whose
    # version stays put: the strategies live in a subpackage, and code moved
    # from one file to another is other code.
    package = tmp_path / "skal_openset"
    (package / "_strategies").mkdir(parents=True)
    monkeypatch.setattr(_experiment, "__file__", str(package / "_experiment.py"))

    def source_hash(files):
        for name, text in files.items():
            (package / name).write_text(text)
        return _experiment._source_hash.__wrapped__()  # uncached

    files = {"_experiment.py": "", "_learner.py": "x = 1", "_strategies/_mqnet.py": ""}
    original = source_hash(files)
    assert source_hash(files) == original
    assert source_hash(files | {"_strategies/_mqnet.py": "y = 2"}) != original
    moved = {"_experiment.py": "x = 1", "_learner.py": ""}
    assert source_hash(files | moved) != original


def test_a_checkpoint_that_other_versions_count_as_another_names_them(
    split, estimator, tmp_path
):
    # The same script after an upgrade of this package (a strategy given a
    # parameter) or of a library whose objects it hashes was "a different
    # experiment (the estimator differs)", though nothing the user wrote had
    # changed.
    path = tmp_path / "run.joblib"
    kwargs, state = _checkpoint_of_round_1(split, estimator, path)
    state["versions"]["scikit-learn"] = "0.24.2"
    state["fingerprint"] = "0" * 32  # as scikit-learn 0.24.2 hashed the run
    estimator_part = state["fingerprint_parts"]["the estimator"]
    state["fingerprint_parts"]["the estimator"] = "0" * 32
    save_object(state, path)
    with pytest.raises(ValueError) as info:
        run_active_learning(split, estimator, RandomQuery(), **kwargs)
    message = str(info.value)
    assert "was written with scikit-learn 0.24.2 (this is scikit-learn " in message
    assert "(the estimator differs); resume it with the versions that" in message
    assert "different experiment" not in message
    # The command line says so in its words.
    assert info.value.other_code[0] == "scikit-learn 0.24.2"
    # A budget differs as the user gave it, whatever the versions: it said
    # to resume with those that wrote it.
    state["fingerprint_parts"]["the estimator"] = estimator_part
    save_object(state, path)
    with pytest.raises(ValueError, match=r"experiment \(the budget differs\); del"):
        run_active_learning(split, estimator, RandomQuery(), **kwargs | {"budget": 12})
    # So beside a part other versions may hash otherwise: those versions
    # would refuse it too, and were named as the way to resume it.
    state["fingerprint_parts"]["the estimator"] = "0" * 32
    save_object(state, path)
    with pytest.raises(ValueError) as info:
        run_active_learning(split, estimator, RandomQuery(), **kwargs | {"budget": 12})
    assert "experiment (the estimator and the budget differ); delete" in str(info.value)
    assert info.value.other_code is None
    state["fingerprint_parts"]["the estimator"] = estimator_part
    # One that recorded no versions says so in a sentence, not in two
    # parentheses in a row.
    del state["versions"]
    state["fingerprint_parts"]["the estimator"] = "0" * 32
    save_object(state, path)
    with pytest.raises(ValueError) as info:
        run_active_learning(split, estimator, RandomQuery(), **kwargs)
    assert (
        "was written with an earlier skal_openset, which recorded no versions "
        "(this is skal_openset " in str(info.value)
    )


# The feigned version makes scikit-learn warn of each estimator it unpickles,
# as it would the user: that warning is scikit-learn's, passed on unchanged.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.InconsistentVersionWarning")
def test_a_checkpoint_of_another_scikit_learn_resumes_with_a_warning(
    split, tmp_path, monkeypatch
):
    # Another Python gets another scikit-learn (1.7 on 3.10), whose estimators
    # pickle with its version: the resume was refused as "a different
    # experiment (the estimator differs)", nothing but the version differing.
    path = tmp_path / "run.joblib"
    estimator = make_pipeline(StandardScaler(), LogisticRegression(max_iter=200))

    def run(n_rounds):
        return run_active_learning(
            split, estimator, RandomQuery(random_state=0), n_rounds=n_rounds,
            budget=10, checkpoint=path,
        )  # fmt: skip

    run(1)
    old = sklearn.__version__
    monkeypatch.setattr(sklearn, "__version__", "1.7.2")
    monkeypatch.setattr(sklearn.base, "__version__", "1.7.2")  # what pickles
    message = f"written with scikit-learn {old}; it resumes with scikit-learn 1.7.2"
    with pytest.warns(UserWarning, match=re.escape(message)):
        assert len(run(2)) == 2
    # A checkpoint hashed as before, the version in (and earlier the timings
    # too), still resumes.
    value = [LogisticRegression(), _Timed([1.0, 2.0], 3.5)]
    for left_out in (_is_timing, None):
        assert Fingerprint(value).matches(_ContentHasher(left_out).hash(value))


# Loading the estimators pickled "under" 1.7.2 warns, as it would there.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.InconsistentVersionWarning")
def test_a_checkpoint_of_earlier_code_resumes_under_another_scikit_learn(
    split, tmp_path, monkeypatch
):
    # Earlier code hashed the version scikit-learn's estimators pickle with:
    # its checkpoints resumed under that scikit-learn only, and under another
    # were "a different experiment (the estimator differs)". They record it.
    path = tmp_path / "run.joblib"

    def run(n_rounds, max_iter=200):
        estimator = make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=max_iter)
        )
        return run_active_learning(
            split, estimator, RandomQuery(random_state=0), n_rounds=n_rounds,
            budget=10, checkpoint=path,
        )  # fmt: skip

    with monkeypatch.context() as old:
        old.setattr(sklearn, "__version__", "1.7.2")
        old.setattr(sklearn.base, "__version__", "1.7.2")  # what pickles
        run(1)
        # as that code hashed it: the timings left out, the version in
        state = load_object(path)
        estimator = make_pipeline(StandardScaler(), LogisticRegression(max_iter=200))
        parts = _fingerprint(
            split, estimator, RandomQuery(random_state=0), 10.0, 1.0, 1.0
        )
        state["fingerprint"] = _ContentHasher(_is_timing).hash(parts.value)
        state["fingerprint_parts"] = {
            name: _ContentHasher(_is_timing).hash(part)
            for name, part in zip(_FINGERPRINT_PARTS, parts.value, strict=True)
        }
        save_object(state, path)
    now = sklearn.__version__
    message = f"written with scikit-learn 1.7.2; it resumes with scikit-learn {now}"
    with pytest.warns(UserWarning, match=re.escape(message)):
        assert len(run(2)) == 2
    # Another estimator is still another experiment, named with both versions.
    save_object(state, path)  # as the earlier code left it
    with pytest.raises(_OtherExperimentError) as info:
        run(2, max_iter=100)
    assert info.value.differ == ["the estimator"]
    assert info.value.other_code == ("scikit-learn 1.7.2", f"scikit-learn {now}")
    assert "resume it with the versions that wrote it, delete it" in str(info.value)


def test_a_resume_with_the_same_numbers_of_another_type_is_the_same_experiment(
    split, estimator, tmp_path
):
    # A budget of 10.0 or np.int64(10) after 10 was 'a different experiment'.
    path = tmp_path / "run.joblib"
    run_active_learning(
        split, estimator, RandomQuery(), n_rounds=1, budget=10, checkpoint=path
    )
    for budget, cost_in in ((10.0, 1), (np.int64(10), 1.0)):
        records = run_active_learning(
            split, estimator, RandomQuery(), n_rounds=1, budget=budget,
            cost_in=cost_in, checkpoint=path,
        )  # fmt: skip
        assert len(records) == 1


def test_a_budget_resumes_as_the_decimal_it_prints_as(split, tmp_path):
    # budget=np.float32(0.3) after 0.3 was "the budget differs", although the
    # oracle buys as much with both (it counts the decimal 0.3), and a cost of
    # np.float32(0.1) after 0.1 resumed.
    path = tmp_path / "run.joblib"
    estimator, strategy = LogisticRegression(max_iter=200), RandomQuery()
    kwargs = dict(n_rounds=1, cost_in=0.1, cost_ood=0.1, checkpoint=path)
    run_active_learning(split, estimator, strategy, budget=0.3, **kwargs)
    # Fingerprinted as checkpoints were before, with float(budget): they resume.
    state = load_object(path)
    before = _experiment._fingerprint(split, estimator, strategy, 0.3, 0.1, 0.1)
    state["fingerprint"] = before.saved
    save_object(state, path)
    for budget in (0.3, np.float32(0.3)):
        records = run_active_learning(
            split, estimator, strategy, budget=budget, **kwargs
        )
        assert len(records) == 1


def _log1p(X):
    return np.log1p(np.abs(X))


def test_a_lambda_in_the_estimator_needs_no_pickle_without_a_checkpoint(
    split, tmp_path
):
    # Every run hashed the estimator for a checkpoint fingerprint, so a
    # FunctionTransformer(lambda ...) failed with a PicklingError.
    from sklearn.preprocessing import FunctionTransformer

    def pipeline(function):
        return make_pipeline(
            FunctionTransformer(function), LogisticRegression(max_iter=300)
        )

    run_active_learning(
        split, pipeline(lambda X: _log1p(X)), RandomQuery(), n_rounds=2, budget=10
    )
    with pytest.raises(ValueError, match="cannot be pickled.*module level") as error:
        run_active_learning(
            split, pipeline(lambda X: _log1p(X)), RandomQuery(), n_rounds=2,
            budget=10, checkpoint=tmp_path / "run.joblib",
        )  # fmt: skip
    # It named the lambda, then quoted the whole data set joblib was hashing.
    assert "<lambda>" in str(error.value) and len(str(error.value)) < 500
    run_active_learning(
        split, pipeline(_log1p), RandomQuery(), n_rounds=2, budget=10,
        checkpoint=tmp_path / "run.joblib",
    )  # fmt: skip


def test_a_checkpoint_path_holding_another_object_is_refused_and_kept(
    split, estimator, tmp_path
):
    # It was "written by a different experiment ...; delete it to start over".
    for saved in ({"not": "a checkpoint"}, [1, 2], OpenSetOracle(split.y_pool)):
        path = save_object(saved, tmp_path / "other.joblib")
        with pytest.raises(ValueError) as error:
            run_active_learning(
                split, estimator, RandomQuery(), n_rounds=1, budget=10, checkpoint=path
            )
        assert str(error.value) == (
            f"checkpoint={str(path)!r} is no checkpoint (it holds an object of "
            f"class {type(saved).__name__}, saved by save_object): pass the path "
            "of a file that is not there yet to start the run (skal-openset run: "
            "another --output folder)."
        )
        assert type(load_object(path)) is type(saved)


_FINGERPRINT = """
import torch
from skorch import NeuralNetClassifier
from skal_openset import MQNetQuery, load_digits_dataset, make_open_set_split
from skal_openset._experiment import _fingerprint
X, y = load_digits_dataset()
split = make_open_set_split(X, y, n_in_classes=4, noise_ratio=0.4, initial_size=20,
                            random_state=0)
torch.default_generator.manual_seed(0)  # the CPU's: no CUDA touched
module = torch.nn.Sequential(torch.nn.Linear(64, 8), torch.nn.ReLU(),
                             torch.nn.Linear(8, 4))
net = NeuralNetClassifier(module, criterion=torch.nn.CrossEntropyLoss)
print(_fingerprint(split, net, MQNetQuery(random_state=0), 10, 1.0, 1.0).saved)
"""


def test_a_module_instance_has_the_same_fingerprint_in_every_process(capsys):
    # Else a resumed run with such a template is refused as another experiment.
    # This process and a child whose string hashes differ: one child, not two.
    done = subprocess.run(
        [sys.executable, "-c", _FINGERPRINT],
        capture_output=True,
        text=True,
        env=env_with_other_string_hashes(),
    )
    assert done.returncode == 0, done.stderr
    # devices=[]: the default forks, and so initialises, every CUDA device.
    with torch.random.fork_rng(devices=[]):  # the script seeds the CPU's
        exec(_FINGERPRINT, {})
    assert done.stdout == capsys.readouterr().out


_KILLED_RUN = """
import json, os, signal, sys
import torch
from skal_openset import (MQNetQuery, load_digits_dataset, make_mlp_classifier,
                          make_open_set_split, run_active_learning)
torch.set_num_threads(1)
X, y = load_digits_dataset()
split = make_open_set_split(X, y, n_in_classes=4, noise_ratio=0.4,
                            initial_size=20, random_state=0)
estimator = make_mlp_classifier(64, 4, hidden_sizes=(32,), max_epochs=5,
                                random_state=0)
kill_at = int(sys.argv[2])

def die(record, learner):
    if record["round"] == kill_at:  # after the round's work, before its save
        os.kill(os.getpid(), signal.SIGKILL)

records = run_active_learning(split, estimator, MQNetQuery(random_state=0),
                              n_rounds=4, budget=10, checkpoint=sys.argv[1],
                              callback=die)
print(json.dumps([{k: v for k, v in r.items() if "seconds" not in k}
                  for r in records]))
"""


@pytest.mark.slow  # a fresh interpreter
def test_run_killed_mid_round_resumes_to_the_same_records(
    tmp_path, capsys, monkeypatch
):
    path = str(tmp_path / "run.joblib")
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_RUN, path, "3"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[1],
    )
    assert killed.returncode == -signal.SIGKILL
    assert load_object(tmp_path / "run.joblib")["records"][-1]["round"] == 2
    # The resume and the same run uninterrupted, both in this process: another
    # than the killed one.
    monkeypatch.setattr(sys, "argv", ["-c", path, "0"])
    exec(_KILLED_RUN, {})
    resumed = capsys.readouterr().out
    exec(_KILLED_RUN.replace("sys.argv[1]", "None"), {})
    assert resumed == capsys.readouterr().out


def test_a_series_of_rows_is_refused_with_the_reshape_advice():
    # A Series was kept as a DataFrame would be, then failed on .columns.
    pd = pytest.importorskip("pandas")
    X, y = load_digits_dataset()
    rows = pd.Series(X[:, 0])
    with pytest.raises(ValueError, match="Expected a 2-dimensional container"):
        make_open_set_split(rows, y, in_classes=[1, 3], X_test=rows, y_test=y)


def test_a_dataframe_split_runs_through_a_pipeline_that_selects_columns_by_name():
    # make_open_set_split turned a DataFrame into an array, so a
    # ColumnTransformer selecting columns by name failed in the run, and a
    # split built from DataFrames failed on row indexing (a KeyError).
    pd = pytest.importorskip("pandas")
    X, y = load_digits_dataset()
    df = pd.DataFrame(X, columns=[f"p{i}" for i in range(64)])
    df["colour"] = np.where(np.arange(len(y)) % 2, "red", "blue")
    split = make_open_set_split(
        df, y, in_classes=[1, 3, 5, 7], noise_ratio=0.4, initial_size=30, random_state=0
    )
    assert list(split.X_pool.columns) == list(df.columns)
    assert list(split.X_test.columns) == list(df.columns)
    columns = [f"p{i}" for i in range(10, 54)]
    estimator = make_pipeline(
        make_column_transformer(
            (StandardScaler(), columns), (OneHotEncoder(), ["colour"])
        ),
        LogisticRegression(max_iter=200),
    )
    records = run_active_learning(
        split, estimator, MQNetQuery(random_state=0), n_rounds=3, budget=15
    )
    assert [r["n_labelled"] for r in records] == [30, 45, 60]
    with pytest.raises(
        ValueError, match="X_test rows are arrays .* X rows DataFrame columns"
    ):
        make_open_set_split(df, y, in_classes=[1, 3], X_test=X, y_test=y)


def test_a_run_on_categories_names_the_pipeline_as_the_embedding_it_takes():
    # The error said to pass ActiveLearner(embedding=...), which the run
    # cannot take, and an ActiveLearner given as its estimator was trained
    # inside the run's own, its embedding ignored.
    X, y = load_digits_dataset()
    frame = pd.DataFrame(X[:, :10], columns=[f"p{i}" for i in range(10)])
    frame["parity"] = pd.Categorical(np.where(y % 2, "odd", "even"))
    split = make_open_set_split(
        frame, y, in_classes=[1, 2, 3], noise_ratio=0.4, initial_size=30, random_state=0
    )
    native = HistGradientBoostingClassifier(
        max_iter=10, categorical_features="from_dtype", random_state=0
    )
    with pytest.raises(ValueError, match="before the classifier.*run_active_learning"):
        run_active_learning(split, native, CoreSetQuery(), n_rounds=2, budget=15)
    one_hot = make_column_transformer(
        (OneHotEncoder(), ["parity"]), remainder="passthrough"
    )
    records = run_active_learning(
        split,
        make_pipeline(one_hot, LogisticRegression(max_iter=1000)),
        CoreSetQuery(),
        n_rounds=2,
        budget=15,
    )
    assert [r["n_labelled"] for r in records] == [30, 45]
    learner = ActiveLearner(LogisticRegression(), embedding=one_hot)
    with pytest.raises(TypeError, match=r"got an ActiveLearner.*learner\.estimator"):
        run_active_learning(split, learner, CoreSetQuery(), n_rounds=2, budget=15)


def _least_confident(learner, X, n_instances=1):
    """A modAL-style query function."""
    idx = np.argsort(learner.predict_proba(X).max(1))[:n_instances]
    return idx, X[idx]


def test_the_runner_takes_a_modal_query_function(split, tmp_path):
    # ActiveLearner took one, the runner failed in scikit-learn's clone.
    records = run_active_learning(
        split, LogisticRegression(), _least_confident, n_rounds=3, budget=10
    )
    assert [r["query_size"] for r in records] == [0, 10, 10]

    def choose_nothing(learner, X, n_instances=1):
        return np.array([], dtype=int), X[:0]

    with pytest.raises(ValueError, match="choose_nothing chose no row"):
        run_active_learning(split, LogisticRegression(), choose_nothing, n_rounds=2)


@pytest.mark.parametrize("strategy", ["uncertainty", KMeans(3)])
def test_a_query_strategy_that_cannot_choose_is_refused_at_fit(strategy):
    # It trained the classifier, then failed at the first query with
    # "'str' object is not callable".
    X, y = load_digits_dataset()
    learner = ActiveLearner(LogisticRegression(), strategy, classes=[0, 1])
    with pytest.raises(TypeError, match="query_strategy is .* MQNetQuery()"):
        learner.fit(X[:40], np.where(y[:40] < 2, y[:40], -1))


@pytest.mark.parametrize("forgotten", ["estimator", "query_strategy", "embedding"])
def test_a_class_for_an_instance_is_named(forgotten):
    # It failed deep inside with "get_params() missing ... 'self'".
    X, y = load_digits_dataset()
    parts = {
        "estimator": LogisticRegression(),
        "query_strategy": MQNetQuery(),
        "embedding": PCA(2),
    }
    parts[forgotten] = type(parts[forgotten])
    learner = ActiveLearner(**parts, classes=[0, 1])
    name = parts[forgotten].__name__
    with pytest.raises(
        TypeError, match=rf"{forgotten} is the class {name}.*{name}\(\)"
    ):
        learner.fit(X[:40], np.where(y[:40] < 2, y[:40], -1))


def test_a_plot_whose_group_key_no_record_has_names_the_key_that_could():
    # Records of two methods under "method", not "strategy", were averaged
    # into one unlabelled line, or refused as "Trial 0 of '' has a round
    # twice" where their trial numbers met.
    records = [
        {**record, "method": method}
        for method, trial, accuracies in (
            ("random", 0, [0.5, 0.6]),
            ("conf", 1, [0.5, 0.9]),
        )
        for record in _run_of(accuracies, trial=trial)
    ]
    with pytest.raises(
        ValueError,
        match=r"differ in 'method' \('conf', 'random'\): pass group_key='method'",
    ):
        plot_learning_curves(records)
    fig = plot_learning_curves(records, group_key="method")
    assert len(fig.axes[0].get_lines()) == 2
    matplotlib.pyplot.close(fig)
    # Without such a key, the runs are one line, as documented.
    fig = plot_learning_curves(_run_of([0.5, 0.6]) + _run_of([0.5, 0.9], trial=1))
    assert len(fig.axes[0].get_lines()) == 1
    matplotlib.pyplot.close(fig)


def test_summary_refuses_what_the_plot_refuses():
    # Percentages were averaged as fractions (accuracy_mean 80.0) and inf
    # gave accuracy_mean inf, where plot_learning_curves refused both; None
    # or 3 as group_keys failed unpacking, and plot_learning_curves' mapping
    # form was read as records without keys.
    percent = [
        {**r, "test_accuracy": 100 * r["test_accuracy"]} for r in _fake_records()
    ]
    infinite = [{**r, "test_accuracy": np.inf} for r in _fake_records()]
    perfect = [{**r, "test_accuracy": 100} for r in _fake_records()]  # 100%: percent
    for records, message in (
        (percent, "look like percentages"),
        (perfect, "look like percentages"),
        (infinite, "to inf"),
    ):
        for summarize_or_plot in (summarize_final_round, plot_learning_curves):
            with pytest.raises(ValueError, match=f"test_accuracy from .*{message}"):
                summarize_or_plot(records)
    for group_keys in (None, 3, ["strategy", 3]):
        with pytest.raises(TypeError, match="group_keys must be a record key"):
            summarize_final_round(_fake_records(), group_keys)
    with pytest.raises(TypeError, match="got a dict. A mapping of names to runs is"):
        summarize_final_round({"A": _fake_records()})
