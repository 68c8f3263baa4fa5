"""benchmarks/switch_signal.py: the runs it pairs, the AUROC it reads, its report."""

import json
import sys

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import switch_signal
from skal_openset import (
    MQNetQuery,
    load_digits_dataset,
    make_open_set_split,
    run_active_learning,
)
from skal_openset._experiment import versions


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
    _write_run(tmp_path, "penbased", 104, "margin-rule", 0.8, noise=0.4)
    assert switch_signal.paired_runs(tmp_path, 0.6) == {
        ("fashion", 101): (_run(0.90), _run(0.85)),
        ("letter", 100): (_run(0.80), _run(0.82, 0.9)),
    }
    assert switch_signal.paired_runs(tmp_path, 0.4) == {
        ("penbased", 104): (_run(0.9), _run(0.8)),
    }


def test_below_one_half_noise_the_switch_is_not_the_rule(tmp_path):
    # Its initial set is under half OOD: it ran the learnt selector, the
    # learnt run itself, which would pair as a zero gap.
    _write_run(tmp_path, "letter", 100, "margin-rule-start", 0.80, noise=0.4)
    _write_run(tmp_path, "letter", 100, "margin-auto-half", 0.80, noise=0.4)
    assert switch_signal.paired_runs(tmp_path, 0.4) == {}
    _write_run(tmp_path, "letter", 100, "margin-rule-start", 0.80, noise=0.5)
    _write_run(tmp_path, "letter", 100, "margin-auto-half", 0.81, noise=0.5)
    assert switch_signal.paired_runs(tmp_path, 0.5) == {
        ("letter", 100): (_run(0.80), _run(0.81))
    }


def test_the_auroc_is_purity_autos_at_the_first_query_of_the_split(monkeypatch):
    X, y = load_digits_dataset()
    split = make_open_set_split(
        X, y, in_classes=[0, 1, 2], noise_ratio=0.6, initial_size=40, random_state=0
    )
    calls = []

    def make_estimator(*args):
        calls.append(args)
        return LogisticRegression(max_iter=500)

    monkeypatch.setattr(switch_signal, "make_split", lambda *args: split)
    monkeypatch.setattr(switch_signal, "make_estimator", make_estimator)
    monkeypatch.setitem(switch_signal.DATASETS, "digits", dict(budget=10))
    auroc = switch_signal.first_query_auroc("digits", 0.6, 7, None)
    # The benchmark's estimator of that split, with its seed.
    assert calls == [("digits", X.shape[1], 3, False, 7)]
    # What MQ-Net's purity="auto" compares at the first query of that run.
    strategies = []
    run_active_learning(
        split,
        LogisticRegression(max_iter=500),
        MQNetQuery(purity="auto", random_state=0),
        n_rounds=2,
        budget=10,
        callback=lambda record, learner: strategies.append(learner.query_strategy_),
    )
    assert set(auroc) == {"knn", "knn_contrast", "cosine", "mahalanobis"}
    assert auroc == strategies[-1].purity_auroc_


def _row(dataset, seed, auroc, learnt, rule, in_shares=(0.8, 0.8), noise=0.6):
    return dict(
        dataset=dataset,
        noise=noise,
        seed=seed,
        learnt=dict(accuracy=learnt, in_share=in_shares[0]),
        rule=dict(accuracy=rule, in_share=in_shares[1]),
        auroc={"knn_contrast": auroc},
    )


def _line(lines, start):
    return next(line for line in lines if line.startswith(start))


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
    # Gaps -2, -1, 0 points: mean -1, standard error 1 / sqrt(3), t(2).
    assert _line(lines, "| letter |") == (
        "| letter | 3 | 0.700 [0.600, 0.800] | 0/1/2, -1.00 [-3.48, +1.48] "
        "| -0.100 | +1.00 |"
    )
    assert _line(lines, "| fashion |").endswith(
        "| 3/0/0, +2.00 [-0.48, +4.48] | +0.000 | +1.00 |"
    )
    # Over all rows the AUROC orders the gaps. Within each data set too, but
    # centred, the gaps tie in pairs (-1, -1, 0, 0, 1, 1 points) where the
    # AUROCs do not (-0.1, -0.05, 0, 0, 0.05, 0.1).
    assert _line(lines, "Spearman rho") == (
        "Spearman rho of AUROC and gap over every class split: +1.00; with each "
        "data set's mean AUROC and mean gap taken away first: +0.83."
    )
    # The three lowest AUROCs are letter's, the three highest fashion's.
    assert (
        "| 0.600 to 0.850 | 3 | 0/1/2, -1.00 [-3.48, +1.48] | -0.100 | letter 3 |"
        in lines
    )
    assert (
        "| 0.850 to 1.000 | 3 | 3/0/0, +2.00 [-0.48, +4.48] | +0.000 | fashion 3 |"
        in lines
    )


def test_a_data_sets_auroc_column_is_the_median_of_its_splits():
    # Skewed AUROCs: median 0.6, mean 0.69 (the column's header says median).
    rows = [
        _row("letter", seed, auroc, 0.80, 0.80)
        for seed, auroc in zip((100, 101, 102), (0.5, 0.6, 0.97))
    ]
    lines = switch_signal.summary(rows, bands=2)
    assert _line(lines, "| letter |").startswith(
        "| letter | 3 | 0.600 [0.500, 0.970] |"
    )


def test_each_noise_ratio_is_summarised_apart():
    rows = [_row("letter", s, 0.6 + s / 10, 0.8, 0.8 - s / 100) for s in range(3)]
    rows += [_row("letter", s, 0.6, 0.8, 0.9, noise=0.4) for s in range(3)]
    lines = switch_signal.summary(rows)
    at_40, at_60 = lines.index("## 40% noise"), lines.index("## 60% noise")
    assert _line(lines[at_40:], "| letter |").startswith("| letter | 3 |")
    assert "-10.00" in _line(lines[at_40:], "| letter |")
    assert _line(lines[at_60:], "| letter |").startswith("| letter | 3 | 0.700")


def test_the_summary_says_how_many_splits_lack_the_score():
    rows = [_row("letter", s, 0.6 + s / 1000, 0.8, 0.8) for s in range(3)]
    rows.append(dict(_row("letter", 9, 0.0, 0.0, 0.8), auroc={}))  # too few OOD
    lines = switch_signal.summary(rows, bands=1)
    letter = _line(lines, "| letter |")
    # Equal accuracies: no rank correlation to give.
    assert letter.startswith("| letter | 3 |") and letter.endswith("| - |")
    assert _line(lines, "Left out:").startswith("Left out: 1 class splits")


def test_summary_only_pairs_the_auroc_files_with_the_runs_as_they_are(
    tmp_path, monkeypatch
):
    folder = tmp_path / "switch_signal"
    folder.mkdir()
    for seed in range(3):
        record = dict(dataset="letter", noise=0.6, seed=seed, auroc={"knn": 0.5})
        record["auroc"]["knn_contrast"] = 0.5 + seed / 10
        (folder / f"letter_60_{seed}.json").write_text(json.dumps(record))
        _write_run(tmp_path, "letter", seed, "margin-rule-start", 0.8)
        _write_run(tmp_path, "letter", seed, "margin-auto-half", 0.8 - seed / 100)
    # A rule run added later takes the switch's place.
    _write_run(tmp_path, "letter", 2, "margin-rule", 0.9)
    monkeypatch.setattr(
        sys,
        "argv",
        ["switch_signal.py", "--summary-only", "--results-dir", str(tmp_path)],
    )
    switch_signal.main()
    written = (tmp_path / "switch_signal.md").read_text()
    rows = switch_signal.load_rows(tmp_path)
    assert [r["rule"]["accuracy"] for r in rows] == [0.8, 0.79, 0.9]
    assert written == "\n".join(switch_signal.summary(rows))


def test_a_splits_aurocs_are_written_once_and_read_back_on_a_rerun(
    tmp_path, monkeypatch
):
    auroc = {"knn": 0.6, "knn_contrast": 0.7}
    monkeypatch.setattr(switch_signal, "first_query_auroc", lambda *args: auroc)
    record = switch_signal.run("letter", 0.6, 100, tmp_path / "data", tmp_path)
    assert record == dict(
        dataset="letter", noise=0.6, seed=100, auroc=auroc, versions=versions()
    )
    path = switch_signal.auroc_path(tmp_path, "letter", 0.6, 100)
    assert switch_signal.read_auroc(path) == record
    monkeypatch.setattr(switch_signal, "first_query_auroc", None)  # a rerun: a bug
    assert switch_signal.run("letter", 0.6, 100, tmp_path / "data", tmp_path) == record


def test_summary_only_without_splits_says_to_run_some(tmp_path, monkeypatch, capsys):
    # The runs it would pair are there; no split's AUROCs are.
    _write_run(tmp_path, "letter", 0, "margin-rule-start", 0.8)
    _write_run(tmp_path, "letter", 0, "margin-rule", 0.7)
    argv = ["switch_signal.py", "--summary-only", "--results-dir", str(tmp_path)]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as info:
        switch_signal.main()
    assert info.value.code == 2
    assert (
        f"error: no class splits under {tmp_path / 'switch_signal'} to summarise; "
        "run some first (without --summary-only)"
    ) in capsys.readouterr().err
    assert not (tmp_path / "switch_signal.md").exists()


def test_a_file_of_another_split_is_refused(tmp_path):
    path = switch_signal.auroc_path(tmp_path, "letter", 0.6, 100)
    path.parent.mkdir()
    record = dict(dataset="letter", noise=0.6, seed=101, auroc={})
    path.write_text(json.dumps(record))
    with pytest.raises(switch_signal.ResultsError, match="holds the class split"):
        switch_signal.run("letter", 0.6, 100, None, tmp_path)


def test_a_file_that_is_no_split_is_named(tmp_path):
    path = tmp_path / "switch_signal" / "letter_60_100.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"dataset": "letter"}))
    with pytest.raises(switch_signal.ResultsError, match="letter_60_100.json"):
        switch_signal.write_summary(tmp_path)


def test_each_noise_ratio_asked_for_is_run(tmp_path, monkeypatch, capsys):
    # `--noise 0.4 --noise 0.6` ran 60% alone: its --noise took one ratio,
    # and argparse keeps the last repeat; the sibling scripts' add up.
    for noise in (0.4, 0.6):
        _write_run(tmp_path, "letter", 0, "margin-rule-start", 0.8, noise=noise)
        _write_run(tmp_path, "letter", 0, "margin-rule", 0.7, noise=noise)
    ran = []
    monkeypatch.setattr(switch_signal, "require_dataset_folders", lambda *a: None)
    monkeypatch.setattr(switch_signal, "run", lambda *split: ran.append(split[:3]))
    monkeypatch.setattr(switch_signal, "write_summary", lambda results: None)
    argv = ["switch_signal.py", "--results-dir", str(tmp_path), "--n-jobs", "1"]
    monkeypatch.setattr(sys, "argv", [*argv, "--noise", "0.4", "--noise", "0.6"])
    switch_signal.main()
    assert ran == [("letter", 0.4, 0), ("letter", 0.6, 0)]
    assert capsys.readouterr().out.startswith("2 class splits; ")
    monkeypatch.setattr(sys, "argv", [*argv, "--noise", "0.6", "0.2"])
    with pytest.raises(SystemExit):
        switch_signal.main()
    assert "at 20% noise; run them with meta_signal.py" in capsys.readouterr().err
    assert len(ran) == 2  # refused before any split ran


def test_without_paired_runs_it_says_what_to_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(
        sys, "argv", ["switch_signal.py", "--results-dir", str(tmp_path)]
    )
    with pytest.raises(SystemExit):
        switch_signal.main()
    assert "run them with meta_signal.py" in capsys.readouterr().err
    assert not (tmp_path / "switch_signal.md").exists()


def test_a_failing_split_is_named(tmp_path, monkeypatch):
    # A worker's error did not say which class split failed.
    def broken(*args):
        raise ValueError("the pool ran out")

    monkeypatch.setattr(switch_signal, "first_query_auroc", broken)
    with pytest.raises(RuntimeError, match="segment_60_7.json failed: ValueError"):
        switch_signal.run("segment", 0.6, 7, tmp_path, tmp_path)


def test_a_data_set_of_two_class_splits_has_no_rank_correlation():
    # Two splits always rank-correlate at +-1: no estimate.
    rows = [_row("letter", 100, 0.6, 0.80, 0.82), _row("letter", 101, 0.7, 0.80, 0.81)]
    rows += [_row("fashion", s, 0.7 + s / 1000, 0.9, 0.9 - s / 100) for s in range(3)]
    lines = switch_signal.summary(rows, bands=1)
    assert _line(lines, "| letter |").endswith("| - |")
    assert _line(lines, "| fashion |").endswith("| +1.00 |")


def test_the_in_share_difference_is_the_mean_over_the_class_splits():
    # Differences +0.1, 0 and -0.4: mean -0.1 (their median is 0).
    rows = [
        _row("letter", s, 0.6 + s / 10, 0.8, 0.8, (share, 0.8))
        for s, share in enumerate((0.9, 0.8, 0.4))
    ]
    lines = switch_signal.summary(rows, bands=1)
    assert "| 0/3/0, +0.00 [+0.00, +0.00] | -0.100 |" in _line(lines, "| letter |")


def test_an_auroc_on_a_band_edge_opens_the_upper_band():
    # Five AUROCs 0.1-0.5 in two bands: edges 0.1, 0.3 (the median), 0.5.
    # Bands [0.1, 0.3) and [0.3, 0.5], as np.histogram counts them.
    auroc = [0.1, 0.2, 0.3, 0.4, 0.5]
    rows = [_row("letter", s, a, 0.8, 0.8) for s, a in enumerate(auroc)]
    lines = switch_signal.summary(rows, bands=2)
    counts = np.histogram(auroc, bins=[0.1, 0.3, 0.5])[0]
    assert counts.tolist() == [2, 3]
    assert _line(lines, "| 0.100 to 0.300 |").startswith("| 0.100 to 0.300 | 2 |")
    assert _line(lines, "| 0.300 to 0.500 |").startswith("| 0.300 to 0.500 | 3 |")


def test_a_finished_split_of_other_versions_is_named_or_run_again(
    tmp_path, monkeypatch, recwarn
):
    # A rerun after an upgrade reused the old AUROCs without a word, and the
    # files recorded no versions to tell them apart.
    _write_run(tmp_path, "letter", 0, "margin-rule-start", 0.8)
    _write_run(tmp_path, "letter", 0, "margin-rule", 0.7)
    path = switch_signal.auroc_path(tmp_path, "letter", 0.6, 0)
    path.parent.mkdir()
    old = dict(dataset="letter", noise=0.6, seed=0, auroc={"knn": 0.5})
    path.write_text(json.dumps(old))
    monkeypatch.setattr(switch_signal, "require_dataset_folders", lambda *a: None)
    monkeypatch.setattr(switch_signal, "write_summary", lambda results: None)
    monkeypatch.setattr(switch_signal, "first_query_auroc", lambda *a: {"knn": 0.9})
    argv = ["switch_signal.py", "--results-dir", str(tmp_path), "--n-jobs", "1"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.warns(UserWarning, match="1 by an earlier skal_openset, which rec"):
        switch_signal.main()
    assert json.loads(path.read_text()) == old  # kept, as it says
    monkeypatch.setattr(sys, "argv", [*argv, "--rerun-other-versions"])
    switch_signal.main()
    rerun = json.loads(path.read_text())
    assert rerun["auroc"] == {"knn": 0.9} and rerun["versions"] == versions()
    recwarn.clear()
    monkeypatch.setattr(sys, "argv", argv)
    switch_signal.main()  # of these versions: no word
    assert not [w for w in recwarn if "other versions" in str(w.message)]
