import csv
import json

import matplotlib
import numpy as np
import pytest

from skal_openset import (
    MQNetQuery,
    RandomQuery,
    load_digits_dataset,
    make_mlp_classifier,
    make_open_set_split,
    plot_learning_curves,
    run_active_learning,
    summarize_final_round,
    write_records_csv,
)
from skal_openset.__main__ import main

matplotlib.use("Agg")


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
        assert spent <= 12


def test_runs_are_reproducible_and_leave_templates_untouched(split, estimator):
    strategy = MQNetQuery(random_state=0)
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
    assert row["seconds_mean"] == pytest.approx(3.0)


def test_records_round_trip_through_csv(tmp_path):
    path = write_records_csv(_fake_records(), tmp_path / "sub" / "r.csv")
    with path.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and float(rows[3]["test_accuracy"]) == 0.9


def test_learning_curve_plot_has_a_band_per_group():
    ax = plot_learning_curves(_fake_records())
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), [0.5, 0.8])
    assert len(ax.collections) == 1  # the +-std band
    matplotlib.pyplot.close(ax.figure)


@pytest.mark.slow
def test_demo_command_writes_its_outputs(tmp_path, capsys):
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
    out = capsys.readouterr().out
    assert "| MQ-Net |" in out and "| RANDOM |" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert {r["strategy"] for r in summary} == {
        "MQ-Net",
        "RANDOM",
        "CONF",
        "CORESET",
        "BADGE",
        "P+I",
    }
    assert (tmp_path / "accuracy.png").stat().st_size > 0
    assert (tmp_path / "records.csv").exists()


def test_callback_sees_every_round_after_its_teach(split, estimator):
    seen = []
    run_active_learning(
        split,
        estimator,
        RandomQuery(random_state=0),
        n_rounds=3,
        budget=5,
        callback=lambda record, learner: seen.append(
            (record["round"], learner.y_labelled_.size)
        ),
    )
    assert seen == [(1, 20), (2, 25), (3, 30)]
