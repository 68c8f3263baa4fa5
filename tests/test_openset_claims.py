"""The paper-claim report of the open-set baselines (benchmarks/openset_claims.py)."""

import pytest

import openset_benchmark as bench
from _cells import write_cell
from openset_claims import CLAIMS, write_claims


def _write(results, dataset, noise, strategy, trial, in_share, accuracy):
    cell = dict(
        suite="t",
        dataset=dataset,
        noise=noise,
        strategy=strategy,
        trial=trial,
        rounds=2,
    )
    records = [
        dict(
            round=i,
            test_accuracy=0.5 if i == 1 else accuracy,
            query_size=0 if i == 1 else 10,
            budget_spent=0 if i == 1 else 10,
            query_in_share=float("nan") if i == 1 else in_share,
            train_seconds=0.1,
            query_seconds=0.0,
        )
        for i in (1, 2)
    ]
    content = dict(
        cell=cell, in_classes=[0, 1], seconds=1.0, records=records, landscapes=[]
    )
    write_cell(bench.cell_path(cell, results), content)


def _table_row(text, method, dataset):
    section = text.split(f"### {method}\n")[1].split("###")[0]
    return next(
        line for line in section.splitlines() if line.startswith(f"| {dataset} ")
    )


def test_verdicts_follow_the_means_at_the_highest_noise(tmp_path):
    # On "a" LfOSA has the highest IN share but not the highest accuracy
    # (trial means: IN share 0.9, accuracy 0.7 against CONF's 0.75); on "b" it
    # wins both. At 20% noise it would lose everything: that noise is ignored.
    strategies = {s for claim in CLAIMS for s in (claim["method"], *claim["rivals"])}
    for dataset in ("a", "b"):
        for trial in (0, 1):
            for s in strategies:
                _write(tmp_path, dataset, 0.6, s, trial, 0.5, 0.6)
                _write(tmp_path, dataset, 0.2, s, trial, 0.5, 0.6)
            _write(tmp_path, dataset, 0.2, "LfOSA", trial, 0.1, 0.1)
    _write(tmp_path, "a", 0.6, "CONF", 0, 0.5, 0.75)
    _write(tmp_path, "a", 0.6, "CONF", 1, 0.5, 0.75)
    _write(tmp_path, "a", 0.6, "LfOSA", 0, 0.8, 0.8)
    _write(tmp_path, "a", 0.6, "LfOSA", 1, 1.0, 0.6)
    _write(tmp_path, "b", 0.6, "LfOSA", 0, 0.9, 0.9)
    _write(tmp_path, "b", 0.6, "LfOSA", 1, 0.9, 0.9)
    text = write_claims(tmp_path, ["t"]).read_text()
    assert "## Suite `t`, 60% noise" in text
    row = _table_row(text, "LfOSA", "a")
    assert row.startswith("| a | 2 | 0.90 / 70.00 | 0.50 / 60.00 | 0.50 / 75.00 |")
    assert row.endswith("| yes | no |")
    assert _table_row(text, "LfOSA", "b").endswith("| yes | yes |")
    assert (
        "IN share than every rival on 2 of 2 datasets; higher accuracy on 1 of 2"
        in (text)
    )
    # Ties are no win: EOAL equals its rivals everywhere.
    assert _table_row(text, "EOAL", "b").endswith("| no | no |")


def test_missing_rivals_are_said_not_guessed(tmp_path):
    _write(tmp_path, "a", 0.4, "SIMILAR", 0, 0.9, 0.9)
    _write(tmp_path, "a", 0.4, "RANDOM", 0, 0.5, 0.5)
    text = write_claims(tmp_path, ["t"]).read_text()
    assert "No cells with SIMILAR and all of ('RANDOM', 'CONF', 'BADGE')." in text


def test_a_dataset_whose_rivals_ran_other_trials_is_not_compared(tmp_path):
    # A rival's crashed trial left its mean over other class splits than the
    # method's: such a verdict flipped silently (the trials column showed only
    # the method's count).
    claim = next(c for c in CLAIMS if c["method"] == "LfOSA")
    for dataset in ("a", "b"):
        for trial in (0, 1):
            for s in (claim["method"], *claim["rivals"]):
                _write(tmp_path, dataset, 0.6, s, trial, 0.5, 0.6 + 0.1 * trial)
    rival = dict(
        suite="t",
        dataset="b",
        noise=0.6,
        strategy=claim["rivals"][0],
        trial=1,
        rounds=2,
    )
    bench.cell_path(rival, tmp_path).unlink()
    text = write_claims(tmp_path, ["t"]).read_text()
    section = text.split("### LfOSA\n")[1].split("###")[0]
    assert "| a " in section and "| b " not in section
    assert "on 0 of 1 datasets" in section
    assert "Not compared, since their trials differ from LfOSA's" in section
    assert section.rstrip().endswith(": b.")


def test_no_cells_of_a_suite_or_noise_is_refused_and_nothing_written(tmp_path):
    # A mistyped suite or an absent noise ratio wrote a report with no table
    # (over the committed one, by default) and exited 0.
    _write(tmp_path, "a", 0.4, "RANDOM", 0, 0.5, 0.5)
    with pytest.raises(ValueError, match="holds no cells of the suite 'tabluar'"):
        write_claims(tmp_path, ["t", "tabluar"])
    with pytest.raises(ValueError, match=r"no noise ratio 0.5; they have \[0.4\]"):
        write_claims(tmp_path, ["t"], noise=0.5)
    assert not (tmp_path / "openset_claims.md").exists()


def test_a_dataset_a_rival_did_not_run_is_said_not_compared(tmp_path):
    # It was left out unsaid: "on 1 of 1 datasets" read as every dataset run.
    for dataset in ("a", "b"):
        for s in ("LfOSA", "RANDOM", "CONF"):
            if (dataset, s) != ("b", "CONF"):
                _write(tmp_path, dataset, 0.6, s, 0, 0.5, 0.6)
    text = write_claims(tmp_path, ["t"]).read_text()
    section = text.split("### LfOSA\n")[1].split("###")[0]
    assert "on 0 of 1 datasets" in section
    assert "Not compared, since a rival has no cells there (run it): b (CONF)." in (
        section
    )


def test_the_heading_writes_the_noise_ratio_exactly(tmp_path):
    # 0.285 was headed "28% noise".
    _write(tmp_path, "a", 0.285, "RANDOM", 0, 0.5, 0.5)
    assert "## Suite `t`, 28.5% noise" in write_claims(tmp_path, ["t"]).read_text()


def test_means_equal_but_summed_in_another_order_are_no_win(tmp_path):
    # Correct test images (and IN queries) out of 990 per trial: the same
    # total, so equal means, but LfOSA's float mean came out one step above
    # its rivals' and read as a win on both.
    ours, theirs = [964, 954, 964, 985, 924], [965, 954, 964, 985, 923]
    for trial, (k, j) in enumerate(zip(ours, theirs)):
        _write(tmp_path, "a", 0.6, "LfOSA", trial, k / 990, k / 990)
        for rival in ("RANDOM", "CONF"):
            _write(tmp_path, "a", 0.6, rival, trial, j / 990, j / 990)
    text = write_claims(tmp_path, ["t"]).read_text()
    assert _table_row(text, "LfOSA", "a").endswith("| no | no |")
    assert "on 0 of 1 datasets; higher accuracy on 0 of 1." in text


def test_a_rival_over_as_many_but_other_trials_is_not_compared(tmp_path):
    # LfOSA ran trials 0 and 1, RANDOM 0 and 2: two trials each, but means
    # over different class splits.
    for trial in (0, 1):
        _write(tmp_path, "a", 0.6, "LfOSA", trial, 0.9, 0.9)
        _write(tmp_path, "a", 0.6, "CONF", trial, 0.5, 0.5)
    for trial in (0, 2):
        _write(tmp_path, "a", 0.6, "RANDOM", trial, 0.5, 0.5)
    text = write_claims(tmp_path, ["t"]).read_text()
    section = text.split("### LfOSA\n")[1].split("###")[0]
    assert "No cells with LfOSA and all of ('RANDOM', 'CONF')." in section
    assert "Not compared, since their trials differ from LfOSA's" in section
