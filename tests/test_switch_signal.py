"""benchmarks/switch_signal.py: the runs it pairs, the AUROC it reads, its report."""

import json
import sys

import pytest
from sklearn.linear_model import LogisticRegression

import switch_signal
from skal_openset import load_digits_dataset, make_open_set_split


def _write_run(results, dataset, seed, variant, accuracy, noise=0.6, in_share=0.8):
    path = results / "meta_signal" / f"{dataset}_{noise}_{seed}_{variant}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    run = dict(
        dataset=dataset,
        noise=noise,
        seed=seed,
        variant=variant,
        accuracy=accuracy,
        in_share=in_share,
        cpu_seconds=1.0,
        diagnostics=[],
    )
    path.write_text(json.dumps(run))


def _run(accuracy, in_share=0.8):
    return dict(accuracy=accuracy, in_share=in_share)


def test_a_split_pairs_the_learnt_run_with_the_rule_or_the_switch(tmp_path):
    _write_run(tmp_path, "letter", 100, "margin-rule-start", 0.80)
    _write_run(tmp_path, "letter", 100, "margin-rule", 0.82, in_share=0.9)
    _write_run(tmp_path, "letter", 100, "margin-auto-half", 0.70)  # rule first
    _write_run(tmp_path, "fashion", 101, "margin-rule-start", 0.90)
    _write_run(tmp_path, "fashion", 101, "margin-auto-half", 0.85)
    _write_run(tmp_path, "segment", 102, "margin-rule-start", 0.9)  # no rule run
    _write_run(tmp_path, "segment", 103, "margin-rule", 0.9)  # no learnt run
    _write_run(tmp_path, "penbased", 104, "margin-rule-start", 0.9, noise=0.4)
    _write_run(tmp_path, "penbased", 104, "margin-rule", 0.9, noise=0.4)
    assert switch_signal.paired_runs(tmp_path, 0.6) == {
        ("fashion", 101): (_run(0.90), _run(0.85)),
        ("letter", 100): (_run(0.80), _run(0.82, 0.9)),
    }


def test_the_auroc_is_that_of_the_first_query_of_the_benchmark_split(monkeypatch):
    X, y = load_digits_dataset()
    split = make_open_set_split(
        X, y, in_classes=[0, 1, 2], noise_ratio=0.6, initial_size=40, random_state=0
    )
    monkeypatch.setattr(switch_signal, "make_split", lambda *args: split)
    monkeypatch.setitem(switch_signal.DATASETS, "digits", dict(budget=10))
    seen = []

    def auroc(learner):
        seen.append(learner)
        return {"knn_contrast": 0.75}

    monkeypatch.setattr(switch_signal, "_purity_auroc", auroc)
    monkeypatch.setattr(
        switch_signal, "make_estimator", lambda *a: LogisticRegression(max_iter=200)
    )
    assert switch_signal.first_query_auroc("digits", 0.6, 0, None) == {
        "knn_contrast": 0.75
    }
    # The learner of round 1: the initial set alone, OOD rows included.
    [learner] = seen
    assert len(learner.X_labelled_) == len(split.initial_idx)


def _row(dataset, seed, auroc, learnt, rule, in_shares=(0.8, 0.8)):
    return dict(
        dataset=dataset,
        noise=0.6,
        seed=seed,
        learnt=dict(accuracy=learnt, in_share=in_shares[0]),
        rule=dict(accuracy=rule, in_share=in_shares[1]),
        auroc={"knn_contrast": auroc},
    )


def test_the_summary_gives_each_data_set_and_each_auroc_band():
    # letter's learnt runs buy 0.1 fewer IN examples, fashion's as many.
    rows = [
        _row("letter", 100, 0.6, 0.80, 0.82, (0.7, 0.8)),
        _row("letter", 101, 0.7, 0.80, 0.81, (0.7, 0.8)),
        _row("letter", 102, 0.8, 0.80, 0.80, (0.7, 0.8)),
        _row("fashion", 100, 0.9, 0.90, 0.89),
        _row("fashion", 101, 0.95, 0.90, 0.88),
        _row("fashion", 102, 1.0, 0.90, 0.87),
    ]
    lines = switch_signal.summary(rows, bands=2)
    letter = next(line for line in lines if line.startswith("| letter |"))
    # Gaps -2, -1, 0 points: mean -1, standard error 1 / sqrt(3), t(2).
    assert letter == (
        "| letter | 3 | 0.700 [0.600, 0.800] | 0/1/2, -1.00 [-3.48, +1.48] "
        "| -0.100 | +1.00 |"
    )
    fashion = next(line for line in lines if line.startswith("| fashion |"))
    assert fashion.endswith("| 3/0/0, +2.00 [-0.48, +4.48] | +0.000 | +1.00 |")
    # The three lowest AUROCs are letter's, the three highest fashion's.
    assert "| 0.600 to 0.850 | 3 | 0/1/2, -1.00 [-3.48, +1.48] | -0.100 |" in lines
    assert "| 0.850 to 1.000 | 3 | 3/0/0, +2.00 [-0.48, +4.48] | +0.000 |" in lines


def test_the_summary_leaves_out_splits_without_the_score():
    rows = [_row("letter", s, 0.6 + s / 1000, 0.8, 0.8) for s in range(3)]
    rows.append(dict(_row("letter", 9, 0.0, 0.0, 0.8), auroc={}))  # too few OOD
    lines = switch_signal.summary(rows, bands=1)
    letter = next(line for line in lines if line.startswith("| letter |"))
    # Equal accuracies: no rank correlation to give.
    assert letter.startswith("| letter | 3 |") and letter.endswith("| - |")


def test_summary_only_rewrites_the_report_from_the_split_files(tmp_path, monkeypatch):
    folder = tmp_path / "switch_signal"
    folder.mkdir()
    rows = [_row("letter", s, 0.5 + s / 10, 0.8, 0.8 - s / 100) for s in range(3)]
    for row in rows:
        (folder / f"letter_60_{row['seed']}.json").write_text(json.dumps(row))
    monkeypatch.setattr(
        sys,
        "argv",
        ["switch_signal.py", "--summary-only", "--results-dir", str(tmp_path)],
    )
    switch_signal.main()
    written = (tmp_path / "switch_signal.md").read_text()
    assert written == "\n".join(switch_signal.summary(rows))


def test_a_file_that_is_no_split_is_named(tmp_path):
    path = tmp_path / "switch_signal" / "letter_60_100.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"dataset": "letter"}))
    with pytest.raises(switch_signal.ResultsError, match="letter_60_100.json"):
        switch_signal.write_summary(tmp_path)


def test_without_paired_runs_it_says_what_to_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(
        sys, "argv", ["switch_signal.py", "--results-dir", str(tmp_path)]
    )
    with pytest.raises(SystemExit):
        switch_signal.main()
    assert "run them with meta_signal.py" in capsys.readouterr().err
    assert not (tmp_path / "switch_signal.md").exists()
