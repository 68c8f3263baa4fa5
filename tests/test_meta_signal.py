"""benchmarks/meta_signal.py: its summary, paired against the rule by data set
group, and the variants it defines."""

import json
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from scipy.stats import rankdata
from sklearn.base import clone

import meta_signal
from _figures import check_legible
from skal_openset import knn_contrast_purity
from skal_openset._experiment import versions


def _cell(dataset, seed, variant, accuracy):
    return dict(
        dataset=dataset,
        noise=0.4,
        seed=seed,
        variant=variant,
        accuracy=accuracy,
        in_share=0.8,
        cpu_seconds=1.0,
        diagnostics=[],
    )


def _cells():
    # The learnt selector gains 1-3 points on the tables and loses 2 on Fashion.
    cells = []
    for seed, gain in zip((100, 101, 102), (0.01, 0.02, 0.03)):
        cells += [_cell("letter", seed, "rule", 0.8)]
        cells += [_cell("letter", seed, "learnt", 0.8 + gain)]
        cells += [_cell("fashion", seed, "rule", 0.9)]
        cells += [_cell("fashion", seed, "learnt", 0.88)]
    return cells


def _row(lines, start, label):
    """The first line after `lines[start]` that is the table row `label`."""
    return next(line for line in lines[start:] if line.startswith(f"| {label} |"))


def test_tables_and_fashion_are_summarised_apart():
    lines = meta_signal.summary(_cells())
    fashion = lines.index("## Fashion-MNIST (small CNN)")
    # Gains of 1, 2 and 3 points: mean 2, standard error 1 / sqrt(3), t(2).
    assert _row(lines, 0, "40%") == (
        "| 40% | 3/0/0, +2.00 [-0.48, +4.48] | 0/3/0, +0.00 [+0.00, +0.00] |"
    )
    assert _row(lines, fashion, "40%") == (
        "| 40% | 0/0/3, -2.00 [-2.00, -2.00] | 0/3/0, +0.00 [+0.00, +0.00] |"
    )
    assert not any("fashion" in line for line in lines[:fashion])


def test_a_run_summarises_every_finished_cell(tmp_path):
    (tmp_path / "meta_signal").mkdir()
    for i, cell in enumerate(_cells()):
        (tmp_path / "meta_signal" / f"{i}.json").write_text(json.dumps(cell))
    meta_signal.write_summary(tmp_path)
    written = (tmp_path / "meta_signal.md").read_text()
    assert written == "\n".join(meta_signal.summary(_cells()))


def test_a_summary_of_runs_of_two_versions_names_them(tmp_path):
    # Runs kept from before an upgrade beside the ones rerun since were
    # summarised together without a word.
    (tmp_path / "meta_signal").mkdir()
    for i, cell in enumerate(_cells()):
        kept = {**versions(), "numpy": "1.0.0"} if i == 0 else versions()
        cell = {**cell, "versions": kept}
        (tmp_path / "meta_signal" / f"{i}.json").write_text(json.dumps(cell))
    with pytest.warns(UserWarning, match=r"mixes cells of .*numpy 1\.0\.0, e\.g\."):
        meta_signal.write_summary(tmp_path)


def test_true_purity_reads_the_split_labels():
    from sklearn.datasets import load_digits

    from skal_openset import make_open_set_split

    X, y = load_digits(return_X_y=True)
    split = make_open_set_split(
        X, y, n_in_classes=4, noise_ratio=0.4, initial_size=20, random_state=0
    )
    purity = meta_signal.TruePurity(split)(None, split.X_pool[:50])
    assert purity.tolist() == (~split.is_ood[:50]).astype(float).tolist()


def test_detector_purity_learns_ood_from_the_labelled_rows():
    rng = np.random.RandomState(0)
    X_in, X_ood = rng.normal(0, 1, (30, 2)), rng.normal(6, 1, (30, 2))
    learner = SimpleNamespace(
        X_labelled_=np.concatenate([X_in, X_ood]),
        y_labelled_=np.r_[np.zeros(30, int), -np.ones(30, int)],
        ood_label=-1,
    )
    purity = meta_signal.detector_purity(learner, np.array([[0.0, 0.0], [6.0, 6.0]]))
    assert purity[0] > 0.9 and purity[1] < 0.1


def test_detector_purity_is_knn_contrast_on_the_inputs_below_two_ood_rows():
    # Extra trees need both classes, twice over: kNN contrast in input
    # space, the detector's, until two OOD rows are labelled.
    rng = np.random.RandomState(0)
    X_in, X_ood = rng.normal(0, 1, (30, 2)), rng.normal(6, 1, (1, 2))
    X = rng.normal(3, 3, (10, 2))
    for n_ood in (0, 1):
        learner = SimpleNamespace(
            X_labelled_=np.concatenate([X_in, X_ood[:n_ood]]),
            y_labelled_=np.r_[np.zeros(30, int), -np.ones(n_ood, int)],
            ood_label=-1,
        )
        np.testing.assert_array_equal(
            meta_signal.detector_purity(learner, X),
            knn_contrast_purity(X, X_in, X_ood[:n_ood]),
        )


def test_bagged_selector_rank_averages_members_fitted_on_resamples():
    rng = np.random.RandomState(0)
    Z = rng.uniform(0.1, 3.0, (60, 2))
    y = np.where(Z[:, 0] > 1.0, Z[:, 1], 0.0)
    bagged = clone(meta_signal.BaggedSelector(n_bags=3, random_state=0)).fit(Z, y)
    assert len(bagged.members_) == 3
    expected = np.mean([rankdata(m.predict(Z)) for m in bagged.members_], axis=0)
    np.testing.assert_allclose(bagged.predict(Z), expected)
    # Members differ: each saw its own bootstrap sample.
    assert not np.allclose(bagged.members_[0].predict(Z), bagged.members_[1].predict(Z))


def test_bagged_selector_leaves_out_bags_without_a_pair_to_rank():
    # One row of six differs: a bag that misses it has no pair, and fits no
    # member. No member at all leaves it unfitted, as MQNetQuery reads a
    # selector without a pair (it keeps ranking as before).
    Z = np.random.RandomState(0).uniform(0.1, 3.0, (6, 2))
    y = np.r_[1.0, np.zeros(5)]
    bagged = meta_signal.BaggedSelector(n_bags=8, random_state=1).fit(Z, y)
    assert len(bagged.members_) == 5  # 3 of this seed's bags miss the row
    assert all(hasattr(member, "module_") for member in bagged.members_)
    expected = np.mean([rankdata(m.predict(Z)) for m in bagged.members_], axis=0)
    np.testing.assert_allclose(bagged.predict(Z), expected)
    flat = meta_signal.BaggedSelector(n_bags=3, random_state=0).fit(Z, np.zeros(6))
    assert flat.members_ == [] and not hasattr(flat, "module_")


def test_each_variant_is_also_paired_against_the_random_start_learnt():
    lines = meta_signal.summary(_cells())
    fashion = lines.index("## Fashion-MNIST (small CNN)")
    # The rule loses 1, 2 and 3 points to the learnt selector on letter.
    assert _row(lines, 0, "rule") == "| rule | 3 | 0/0/3, -2.00 [-4.48, +0.48] |"
    assert _row(lines, fashion, "rule") == (
        "| rule | 3 | 3/0/0, +2.00 [+2.00, +2.00] |"
    )


def test_each_variant_is_also_paired_against_the_rule_pooled_over_noise():
    cells = []
    for seed, noise, gain in ((100, 0.4, 0.01), (101, 0.4, 0.03), (100, 0.6, -0.01)):
        rule = dict(_cell("letter", seed, "rule", 0.8), noise=noise)
        cells += [rule, dict(rule, variant="rule-start", accuracy=0.8 + gain)]
    lines = meta_signal.summary(cells)
    start = next(i for i, line in enumerate(lines) if line.startswith("Against `rule`"))
    # Seed 100 is one class split at both noise ratios: its gains (+1, -1)
    # average to 0 first, so the splits' mean gains are 0 and +3; W/T/L
    # counts the runs, which the heading said it counted over splits too.
    assert _row(lines, start, "rule-start").startswith(
        "| rule-start | 3 | 2/0/1, +1.50 "
    )
    assert lines[start].endswith(
        "W/T/L over the runs; the mean gap (points) and its 95% interval (paired "
        "t) over class splits (data set and seed: a split's runs at several noise "
        "ratios averaged first):"
    )


def test_ensemble_purity_averages_the_ranks_of_its_two_scores(monkeypatch):
    knn = np.array([0.1, 0.9, 0.5, 0.3])
    detector = np.array([0.8, 0.7, 0.2, 0.1])
    monkeypatch.setitem(meta_signal.PURITY_SCORES, "knn_contrast", lambda lrn, X: knn)
    monkeypatch.setattr(meta_signal, "detector_purity", lambda lrn, X: detector)
    purity = meta_signal.ensemble_purity(None, np.zeros((4, 2)))
    # Ranks 1,4,3,2 and 4,3,2,1 over 4 rows.
    np.testing.assert_allclose(purity, [5 / 8, 7 / 8, 5 / 8, 3 / 8])


def test_balanced_pairs_selector_weighs_ood_rows_to_even_the_pair_types(monkeypatch):
    seen = {}

    def record(self, X, y, sample_weight=None, groups=None):
        seen["weight"] = sample_weight
        return self

    monkeypatch.setattr(meta_signal.MetaQueryNetSelector, "fit", record)
    y = np.array([0.5, 0.2, 0.9, 0.4, 0.7, 0.0, 0.0])  # 5 IN, 2 OOD
    meta_signal.BalancedPairsSelector().fit(np.ones((7, 2)), y)
    # IN-IN pairs weigh 5 * 4 / 2 = 10; IN-vs-OOD pairs 5 * 2 * v, so v = 1.
    np.testing.assert_allclose(seen["weight"], [1, 1, 1, 1, 1, 1.0, 1.0])
    meta_signal.BalancedPairsSelector().fit(np.ones((4, 2)), [0.5, 0.2, 0.9, 0.0])
    np.testing.assert_allclose(seen["weight"], [1, 1, 1, 1.0])  # 3 pairs each
    meta_signal.BalancedPairsSelector().fit(np.ones((3, 2)), [0.5, 0.2, 0.0])
    np.testing.assert_allclose(seen["weight"], [1, 1, 0.5])  # 1 against 2 v


def test_confirmation_runs_are_paired_with_the_rule_on_their_own_seeds():
    cells = []
    for seed, gain in ((100, 0.05), (112, -0.01), (113, 0.03)):
        cells += [_cell("letter", seed, "rule", 0.8)]
        cells += [_cell("letter", seed, "min-rule", 0.8 + gain)]
    lines = meta_signal.summary(cells)
    start = next(i for i, line in enumerate(lines) if line.startswith("Confirmation"))
    # Seed 100 (before the confirmation) is left out: +1.00 points on 112-113.
    assert _row(lines, start, "min-rule").startswith(
        "| min-rule | rule | 112-135 | 40% | 2 | 1/0/1, +1.00 "
    )


def test_confirmation_runs_are_pooled_over_noise_within_their_data_sets():
    cells = []
    for dataset in ("fashion", "letter"):
        for noise, gain in ((0.1, 0.02), (0.2, -0.01)):
            for seed in (112, 113):
                base = dict(_cell(dataset, seed, "learnt", 0.8), noise=noise)
                start = dict(base, variant="rule-start", accuracy=0.8 + gain)
                cells += [base, start, dict(base, variant="rule")]
    lines = meta_signal.summary(cells)
    fashion = lines.index("## Fashion-MNIST (small CNN)")
    rows = [line for line in lines if line.startswith("| rule-start | learnt | 112-")]
    # Fashion-MNIST's entry: seeds 112-119 at 10-40%; letter's runs at those
    # seeds are not part of it (they fall in the tables' entry of seeds 106-117).
    assert [row.strip(" |").split(" | ")[3:6] for row in rows] == [
        ["10%", "2", "2/0/0, +2.00 [+2.00, +2.00]"],
        ["20%", "2", "0/0/2, -1.00 [-1.00, -1.00]"],
        # Each class split (seed) gains +2 at 10% and -1 at 20%: +0.5 on both.
        ["pooled", "4", "2/0/2, +0.50 [+0.50, +0.50]"],
    ]
    assert all(lines.index(row) > fashion for row in rows)


def test_min_rule_and_purity_floor_rank_as_documented():
    Z = np.array([[0.9, 0.1], [0.4, 0.8], [0.6, 0.3]])
    np.testing.assert_allclose(
        meta_signal.MinRule().fit(Z, [1, 2, 3]).predict(Z), [0.1, 0.4, 0.3]
    )
    # The purer half (P >= 0.5) first, each half by informativeness.
    floor = meta_signal.PurityFloor().fit(Z, [1, 2, 3]).predict(Z)
    assert list(np.argsort(-floor)) == [2, 0, 1]


def test_fixed_balance_ranks_by_its_weighted_sum_and_learns_nothing():
    Z = np.array([[0.9, 0.1], [0.2, 0.6], [0.5, 0.5]])
    balance = clone(meta_signal.FixedBalance(purity_weight=0.25)).fit(Z, [3, 2, 1])
    np.testing.assert_allclose(balance.predict(Z), [0.3, 0.5, 0.5])


@pytest.mark.parametrize("variant", ["balance-0.1", "min-rule", "purity-floor"])
def test_a_diagnostic_selector_runs_in_a_learner(variant):
    # They lacked the selector parameters MQNetQuery checks at fit (every
    # balance-*, min-rule and purity-floor run failed with AttributeError).
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    from skal_openset import ActiveLearner

    X, y = load_digits(return_X_y=True)
    y = np.where(y < 4, y, -1)
    learner = ActiveLearner(
        LogisticRegression(max_iter=500), meta_signal.VARIANTS[variant](0)
    ).fit(X[:60], y[:60])
    for _ in range(2):  # the second query ranks with the diagnostic selector
        chosen, _ = learner.query(X[60:400], n_instances=10)
        learner.teach(X[60:400][chosen], y[60:400][chosen])
    assert len(learner.y_labelled_) == 80


def _validation_set():
    """9 OOD rows of small meta-inputs (target 0) and 6 IN rows in each of two
    rounds: within a round the target falls as P + I grows, across rounds
    it rises with it."""
    rng = np.random.RandomState(0)
    rule = np.r_[rng.uniform(0.2, 0.6, 9), rng.uniform(1, 2, 6), rng.uniform(3, 4, 6)]
    Z = np.c_[rule / 2, rule / 2]
    target = np.r_[np.zeros(9), 3 - rule[9:15], 10 - rule[15:]]
    rounds = np.r_[rng.randint(2, size=9), np.zeros(6, int), np.ones(6, int)]
    return Z, target, rounds


def test_held_out_accuracies_score_each_pair_type_on_held_out_folds():
    Z, target, rounds = _validation_set()
    held = meta_signal.held_out_accuracies(Z, target, rounds, 0, "all")
    # P + I puts every IN row above every OOD one, and orders every IN-IN
    # pair within a round wrongly: IN-IN pairs across rounds are left out.
    assert (held["rule_in_ood"], held["rule_in_in"]) == (1.0, 0.0)
    assert 0 < held["rule_all"] < 1
    assert set(held) == {
        f"{ranker}_{pairs}"
        for ranker in ("selector", "rule")
        for pairs in ("all", "in_ood", "in_in")
    }
    # 3 IN rows: one in each held-out fold, none with an IN-IN pair.
    three = np.r_[0:12]
    held = meta_signal.held_out_accuracies(
        Z[three], target[three], rounds[three], 0, "all"
    )
    assert held["rule_in_ood"] == 1.0
    assert np.isnan(held["rule_in_in"]) and np.isnan(held["selector_in_in"])
    # Fewer than 3 IN or 3 OOD rows: no three folds of both.
    few = np.r_[0:2, 9:21]  # 2 OOD rows
    assert (
        meta_signal.held_out_accuracies(Z[few], target[few], rounds[few], 0, "all")
        is None
    )


def test_the_diagnostics_of_an_update_describe_its_query_set_and_selector():
    from skal_openset import MonotoneMLP

    Z, target, rounds = _validation_set()
    strategy = SimpleNamespace(
        validation_meta_input_=Z,
        validation_target_=target,
        validation_round_=rounds,
        pairs="all",
    )
    record = dict(round=3, query_size=21, query_in_share=12 / 21)
    out = meta_signal.diagnostics(record, strategy, 0)
    # 66 IN-IN pairs of distinct targets, 30 of them within a round.
    assert out["cross_round_in_in_share"] == 36 / 66
    assert (out["round"], out["query_size"], out["n_validation"]) == (3, 21, 21)
    assert out["held_out"] == meta_signal.held_out_accuracies(
        Z, target, rounds, 0, "all"
    )
    assert "dead_weight_fraction" not in out  # no selector fitted
    # Of 4 x 2 hidden and 4 output weights, the output ones dead.
    module = MonotoneMLP(2, 4)
    with torch.no_grad():
        module.hidden.weight.fill_(0.0)  # softplus: 0.69
        module.output.weight.fill_(-30.0)  # softplus: about 1e-13
    strategy.selector_ = SimpleNamespace(module_=module)
    assert meta_signal.diagnostics(record, strategy, 0)["dead_weight_fraction"] == 1 / 3
    assert meta_signal.diagnostics(record, SimpleNamespace(), 0) is None  # no update


def _balance_cells(monkeypatch):
    monkeypatch.setattr(
        meta_signal,
        "VARIANTS",
        {"learnt": None, "rule": None, "balance-0.1": None, "balance-0.9": None},
    )
    # Gains over the rule (points) on seeds 100-103: purity-heavy wins on
    # the first half, informativeness-heavy on the second.
    gains = {"balance-0.9": [2, 2, -1, -1], "balance-0.1": [-1, -1, 3, 3]}
    cells = []
    for i, seed in enumerate(range(100, 104)):
        cells += [_cell("letter", seed, "rule", 0.8)]
        cells += [_cell("letter", seed, "learnt", 0.8 + 0.001 * i)]
        cells += [_cell("letter", seed, v, 0.8 + g[i] / 100) for v, g in gains.items()]
    return cells


def test_balance_headroom_is_cross_fitted_over_halves_of_the_seeds(monkeypatch):
    cells = _balance_cells(monkeypatch)
    lines = meta_signal.summary(cells)
    start = next(i for i, line in enumerate(lines) if line.startswith("What a fixed"))
    # In hindsight 0.1 (+1.00 on all four); cross-fitted: 0.9 chosen on the
    # first half scores -1 on the second, 0.1 chosen there scores -1 on the first.
    assert _row(lines, start, "letter 40%").endswith(
        "| 4 | 0.1 | +1.00 | 0.9, 0.1 | -1.00 | +0.15 |"
    )
    # Learnt gains 0, 0.1, 0.2 and 0.3 points: mean 0.15, standard error
    # 0.0645, t(3) = 3.18.
    assert _row(lines, start, "40%") == (
        "| 40% | 0/0/4, -1.00 [-1.00, -1.00] | 3/1/0, +0.15 [-0.06, +0.36] |"
    )


def test_a_balance_tied_with_the_rule_is_not_chosen_over_it(monkeypatch):
    # On the first half 0.1 ties the rule (gain 0): the rule (w = 0.5) is kept,
    # so the held-out gain there is 0, not 0.1's +3 on the second half.
    monkeypatch.setattr(
        meta_signal, "VARIANTS", {"learnt": None, "rule": None, "balance-0.1": None}
    )
    gains = [0, 0, 3, 3]
    cells = []
    for seed, gain in zip(range(100, 104), gains):
        cells += [_cell("letter", seed, v, 0.8) for v in ("rule", "learnt")]
        cells += [_cell("letter", seed, "balance-0.1", 0.8 + gain / 100)]
    lines = meta_signal.summary(cells)
    start = next(i for i, line in enumerate(lines) if line.startswith("What a fixed"))
    assert _row(lines, start, "letter 40%").endswith(
        "| 4 | 0.1 | +1.50 | 0.5, 0.1 | +0.00 | +0.00 |"
    )


def test_a_balance_one_float_step_from_the_rule_is_not_chosen_over_it(monkeypatch):
    # On the first half 0.1 gains +10 and -10 points: a tie with the rule, but
    # 0.8 - 0.7 and 0.2 - 0.3 have a float mean of 5.6e-17, which chose 0.1.
    monkeypatch.setattr(
        meta_signal, "VARIANTS", {"learnt": None, "rule": None, "balance-0.1": None}
    )
    rule = [0.7, 0.3, 0.8, 0.8]
    balance = [0.8, 0.2, 0.83, 0.83]
    cells = []
    for seed, ours, base in zip(range(100, 104), balance, rule):
        cells += [_cell("letter", seed, v, base) for v in ("rule", "learnt")]
        cells += [_cell("letter", seed, "balance-0.1", ours)]
    lines = meta_signal.summary(cells)
    start = next(i for i, line in enumerate(lines) if line.startswith("What a fixed"))
    assert _row(lines, start, "letter 40%").endswith(
        "| 4 | 0.1 | +1.50 | 0.5, 0.1 | +0.00 | +0.00 |"
    )


def test_variants_missing_a_noise_ratio_are_named():
    # "learnt" ran at 40% only: its mean of cells covers other cells than rule's.
    cells = _cells() + [
        dict(_cell("letter", seed, "rule", 0.8), noise=0.6) for seed in (100, 101)
    ]
    lines = meta_signal.summary(cells)
    assert (
        "Not run at 60% (their mean of cells is over the other cells only, so it "
        "is not comparable across columns): learnt." in lines
    )


def test_variants_missing_a_data_set_at_a_noise_ratio_they_ran_are_named():
    # "learnt" ran at 40% on letter only: its mean of cells (81.00) is over
    # letter alone, rule's (87.50) over letter and segment, and no note said so.
    cells = [c for c in _cells() if c["dataset"] == "letter"]
    cells += [_cell("segment", seed, "rule", 0.95) for seed in (100, 101, 102)]
    lines = meta_signal.summary(cells)
    assert (
        "Not run on segment 40% (their mean of cells is over the other cells only, "
        "so it is not comparable across columns): learnt." in lines
    )


def test_the_in_share_of_each_variant_is_paired_with_the_rule():
    # rule ran at 10% too, where its queries are mostly IN: its mean over all
    # its runs (0.85) ranked above learnt's (0.80) though learnt's queries
    # were the more IN on every run both made.
    cells = [dict(c, in_share=0.8) for c in _cells() if c["dataset"] == "letter"]
    cells = [dict(c, in_share=0.7) if c["variant"] == "rule" else c for c in cells]
    cells += [
        dict(_cell("letter", seed, "rule", 0.8), noise=0.1, in_share=1.0)
        for seed in (100, 101, 102)
    ]
    lines = meta_signal.summary(cells)
    assert (
        "Mean IN share of the queries, each variant beside `rule` on the runs both "
        "made: rule 0.85 (6 runs), learnt 0.80 (rule 0.70, 3 runs)." in lines
    )


def _pipeline_learner(X_in, y_in, X_ood):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(X_in, y_in)
    return SimpleNamespace(
        estimator_=pipeline,
        X_labelled_=np.concatenate([X_in, X_ood]),
        y_labelled_=np.r_[y_in, -np.ones(len(X_ood), int)],
        ood_label=-1,
    )


def test_input_knn_contrast_purity_measures_on_the_scaled_features():
    rng = np.random.RandomState(0)
    # Feature 1 has a thousand times the scale of feature 0.
    X_in = rng.normal(0, 1, (40, 2)) * [1, 1000]
    X_ood = rng.normal(0, 1, (10, 2)) * [1, 1000] + [3, 0]
    learner = _pipeline_learner(X_in, np.arange(40) % 2, X_ood)
    X = rng.normal(0, 1, (20, 2)) * [1, 1000]
    scale = learner.estimator_[0].transform
    expected = knn_contrast_purity(scale(X), scale(X_in), scale(X_ood))
    purity = meta_signal.input_knn_contrast_purity(learner, X)
    np.testing.assert_allclose(purity, expected)
    assert not np.allclose(purity, knn_contrast_purity(X, X_in, X_ood))


def test_knn3_contrast_purity_takes_the_third_neighbour_once_3_ood_are_labelled():
    rng = np.random.RandomState(1)
    X_in, X, X_ood = (
        rng.normal(0, 1, (40, 3)),
        rng.normal(0, 1, (20, 3)),
        rng.normal(2, 1, (5, 3)),
    )
    y_in = np.arange(40) % 2
    for n_ood, k in ((5, 3), (2, 1)):
        learner = _pipeline_learner(X_in, y_in, X_ood[:n_ood])
        scale = learner.estimator_[0].transform
        np.testing.assert_allclose(
            meta_signal.knn3_contrast_purity(learner, X),
            knn_contrast_purity(scale(X), scale(X_in), scale(X_ood[:n_ood]), k=k),
        )


def _identity_learner(X_in, X_ood=None):
    """A stand-in learner that has labelled the IN rows `X_in` (two classes
    in turn) and the OOD rows `X_ood` (none if None), whose embedding is the
    input itself."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X_ood = np.empty((0, X_in.shape[1])) if X_ood is None else X_ood
    y_in = np.arange(len(X_in)) % 2
    pipeline = make_pipeline(FunctionTransformer(), LogisticRegression())
    return SimpleNamespace(
        estimator_=pipeline.fit(X_in, y_in),
        X_labelled_=np.concatenate([X_in, X_ood]),
        y_labelled_=np.r_[y_in, -np.ones(len(X_ood), int)],
        ood_label=-1,
    )


def test_spreading_purity_follows_the_clusters_and_keeps_the_pool_scores():
    rng = np.random.RandomState(2)

    def cluster(n, centre):
        return rng.normal(0, 0.05, (n, 2)) + centre

    # An IN and an OOD cluster, in directions apart (the graph is built on
    # L2-normalised features), one labelled OOD row.
    X_in, X_ood = cluster(6, [3, 0.5]), cluster(1, [0.5, 3])
    pool = np.vstack([cluster(20, [3, 0.5]), cluster(20, [0.5, 3])])
    learner = _identity_learner(X_in, X_ood)
    purity = meta_signal.SpreadingPurity()
    scores = purity(learner, pool)
    assert scores[:20].min() > 0.9 and scores[20:].max() < 0.1
    # A query set of pool rows gets the pool's scores, not a new graph's.
    np.testing.assert_array_equal(purity(learner, pool[[3, 25]]), scores[[3, 25]])


def test_spreading_purity_is_knn_contrast_until_an_ood_row_is_labelled():
    rng = np.random.RandomState(2)
    X_in, pool = rng.normal(0, 1, (6, 2)), rng.normal(0, 2, (30, 2))
    learner = _identity_learner(X_in)
    purity = meta_signal.SpreadingPurity()
    scores = purity(learner, pool)
    knn = meta_signal.PURITY_SCORES["knn_contrast"](learner, pool)
    np.testing.assert_array_equal(scores, knn)
    # A query set of pool rows gets the pool's scores.
    np.testing.assert_array_equal(purity(learner, pool[[3, 25]]), scores[[3, 25]])


def test_pool_ratio_purity_is_low_where_unlabelled_rows_crowd():
    def arc(angles):
        return np.c_[np.cos(angles), np.sin(angles)]

    # Labelled IN rows around angle 0; a crowded unlabelled cluster at +0.5
    # and a few scattered rows about -0.5, as far from the labelled IN rows.
    X_in = arc(np.linspace(-0.05, 0.05, 6))
    crowd = arc(np.linspace(0.49, 0.51, 40))
    scattered = arc(np.linspace(-0.45, -0.65, 5))
    pool = np.vstack([crowd, scattered])
    learner = _identity_learner(X_in)
    purity = meta_signal.PoolRatioPurity()
    scores = purity(learner, pool)
    # kNN purity (no labelled OOD) ranks the crowd as pure as the scattered
    # rows; the density ratio ranks it below all of them.
    assert scores[:40].max() < scores[40:].min()
    # A query set of pool rows gets the pool's scores.
    np.testing.assert_array_equal(purity(learner, pool[[3, 42]]), scores[[3, 42]])


def test_purities_on_the_rule_start_are_paired_with_it_by_noise_ratio():
    cells = []
    for seed in (100, 101, 102):
        cells += [_cell("letter", seed, "rule", 0.8)]
        cells += [_cell("letter", seed, "rule-start", 0.82)]
        cells += [_cell("letter", seed, "pool-ratio-purity-learnt", 0.81)]
        cells += [_cell("letter", seed, "pool-ratio-purity-rule", 0.79)]
    lines = meta_signal.summary(cells)
    start = next(i for i, line in enumerate(lines) if line.startswith("Variants st"))
    assert _row(lines, start, "pool-ratio-purity-learnt").startswith(
        "| pool-ratio-purity-learnt | 40% | 3 | 0/0/3, -1.00 "
    )
    # Variants with the rule or the random start are not paired with it.
    table = lines[start : start + 8]
    assert not any("pool-ratio-purity-rule" in line for line in table)


def test_true_purity_variants_are_paired_with_each_other():
    cells = []
    for seed, gap in zip((100, 101, 102), (0.01, 0.0, -0.04)):
        cells += [_cell("letter", seed, "rule", 0.8)]
        cells += [_cell("letter", seed, "true-purity-rule", 0.9)]
        cells += [_cell("letter", seed, "true-purity-learnt", 0.9 + gap)]
    lines = meta_signal.summary(cells)
    start = next(i for i, line in enumerate(lines) if line.startswith("Variants ag"))
    row = _row(lines, start, "true-purity-learnt")
    assert row.startswith("| true-purity-learnt | true-purity-rule | with a perfect")
    assert row.endswith("| 40% | 3 | 1/1/1, -1.00 [-7.57, +5.57] |")


def test_the_greedy_oracles_are_paired_with_their_reference_and_each_other():
    cells = []
    for seed in (100, 101):
        cells += [_cell("letter", seed, "rule", 0.8)]
        cells += [_cell("letter", seed, "greedy-balance-rule", 0.8)]
        cells += [_cell("letter", seed, "greedy-draw", 0.81)]
        cells += [_cell("letter", seed, "greedy-balance", 0.83)]
    lines = meta_signal.summary(cells)
    start = next(i for i, line in enumerate(lines) if line.startswith("Variants ag"))
    table = lines[start + 2 : lines.index("", start + 2)]
    rows = [line for line in table if line.startswith("| greedy-")]
    assert [row.split(" | ")[:2] for row in rows] == [
        ["| greedy-balance", "greedy-balance-rule"],
        ["| greedy-draw", "greedy-balance-rule"],
        ["| greedy-balance", "greedy-draw"],
    ]
    gaps = [row.rsplit(" | ", 1)[1] for row in rows]
    assert gaps == [
        "2/0/0, +3.00 [+3.00, +3.00] |",
        "2/0/0, +1.00 [+1.00, +1.00] |",
        "2/0/0, +2.00 [+2.00, +2.00] |",
    ]


def test_the_oracle_runs_are_reported_by_data_set_and_seed_block():
    cells = []
    for seed in (100, 101, 112, 113):
        cells += [_cell("letter", seed, "rule", 0.8)]
        cells += [_cell("letter", seed, "greedy-balance-rule", 0.8)]
        cells += [_cell("letter", seed, "margin-balance-0.25", 0.81)]
    for seed in (100, 101):
        greedy = _cell("letter", seed, "greedy-balance", 0.83)
        greedy["diagnostics"] = [{"weights": [0.5, 0.25, 0.25]}]
        cells += [greedy]
    lines = meta_signal.summary(cells)
    start = lines.index("| variant | against | seeds | cell | paired runs | gap |")
    rows = lines[start + 2 : lines.index("", start)]
    assert [row.split(" | ")[:4] for row in rows] == [
        ["| greedy-balance", "greedy-balance-rule", "100-111", "letter 40%"],
        ["| margin-balance-0.25", "greedy-balance-rule", "100-111", "letter 40%"],
        ["| margin-balance-0.25", "greedy-balance-rule", "112-123", "letter 40%"],
        ["| greedy-balance", "margin-balance-0.25", "100-111", "letter 40%"],
    ]
    assert rows[-1].endswith("| 2 | 2/0/0, +2.00 [+2.00, +2.00] |")
    assert lines[start + 2 + len(rows) + 1] == (
        "Weights `greedy-balance` chose, over its 6 queries: 0.25: 4, 0.5: 2."
    )


def test_an_oracle_cell_of_one_paired_run_is_left_out():
    # Its interval is undefined: seed 112's block has one run of letter.
    cells = []
    for seed in (100, 101, 112):
        cells += [_cell("letter", seed, "rule", 0.8)]
        cells += [_cell("letter", seed, "greedy-balance-rule", 0.8)]
        cells += [_cell("letter", seed, "margin-balance-0.25", 0.81)]
    lines = meta_signal.summary(cells)
    start = lines.index("| variant | against | seeds | cell | paired runs | gap |")
    assert lines[start + 2 : lines.index("", start)] == [
        "| margin-balance-0.25 | greedy-balance-rule | 100-111 | letter 40% | 2 "
        "| 2/0/0, +1.00 [+1.00, +1.00] |"
    ]


def _target_cells():
    """letter at 40% and 60% on seeds 100 and 101, at 20% on 100 alone: the
    loss-reduction target 1 and 3 points above the masked loss, which is
    level with the rule with margin; two updates a run, one without a
    correlation (too few IN rows)."""
    cells = []
    for noise, seed in ((0.4, 100), (0.4, 101), (0.6, 100), (0.6, 101), (0.2, 100)):
        gain = {100: 0.01, 101: 0.03}[seed]
        for variant, accuracy in (
            ("rule", 0.8),
            ("margin-rule", 0.8),
            ("margin-rule-start", 0.8),
            ("loss-reduction-rule-start", 0.8 + gain),
        ):
            cells.append(dict(_cell("letter", seed, variant, accuracy), noise=noise))
        cells[-1]["diagnostics"] = [
            {"target_loss_correlations": [0.1 if seed == 100 else 0.3, np.nan]}
        ]
    return cells


def test_the_loss_reduction_targets_are_paired_by_noise_ratio_and_pooled():
    lines = meta_signal.summary(_target_cells())
    start = lines.index("| variant | against | noise | paired runs | gap |")
    # Gaps of 1 and 3 points, mean 2, standard error 1, t(1) = 12.71; at 20%
    # one run, no interval: left out. Pooled, a split's two noise ratios are
    # averaged first (the W/T/L counts runs).
    gap = "2/0/0, +2.00 [-10.71, +14.71]"
    ties = "0/2/0, +0.00 [+0.00, +0.00]"
    target = "loss-reduction-rule-start"
    assert lines[start + 2 : lines.index("", start)] == [
        f"| {target} | margin-rule-start | 40% | 2 | {gap} |",
        f"| {target} | margin-rule-start | 60% | 2 | {gap} |",
        f"| {target} | margin-rule-start | 40/60% pooled | 4 | 4{gap[1:]} |",
        f"| {target} | margin-rule | 40% | 2 | {gap} |",
        f"| {target} | margin-rule | 60% | 2 | {gap} |",
        f"| {target} | margin-rule | 40/60% pooled | 4 | 4{gap[1:]} |",
        f"| margin-rule-start | margin-rule | 40% | 2 | {ties} |",
        f"| margin-rule-start | margin-rule | 60% | 2 | {ties} |",
        "| margin-rule-start | margin-rule | 40/60% pooled | 4 | 0/4/0, +0.00 "
        "[+0.00, +0.00] |",
    ]
    # The correlations of its 5 runs' updates that have one; the other
    # target, not run, has no line.
    spearman = [line for line in lines if line.startswith("- Spearman's")]
    assert spearman == [
        f"- Spearman's correlation of the {target} target with the loss over a "
        "query's IN rows: median +0.10 (quartiles +0.10 and +0.30), 5 updates."
    ]


def test_the_causes_are_summarised_over_the_learnt_runs_updates():
    cells = _cells()
    held = {
        101: dict(selector_all=0.9, rule_all=0.8, selector_in_ood=0.7),
        102: dict(selector_all=0.6, rule_all=0.6, selector_in_ood=0.9),
    }
    held[101].update(rule_in_ood=0.8, selector_in_in=np.nan, rule_in_in=0.6)
    held[102].update(rule_in_ood=0.7, selector_in_in=0.8, rule_in_in=0.4)
    # One update a run: round 2 of seed 100 without held-out accuracies
    # (too few OOD rows), nor a selector (no pair yet) in seed 102's.
    diagnostics = {
        100: dict(round=2, query_size=20, query_in_share=0.05),
        101: dict(round=3, query_size=40, query_in_share=0.5),
        102: dict(round=3, query_size=30, query_in_share=0.95),
    }
    diagnostics[100].update(cross_round_in_in_share=0.0, dead_weight_fraction=0.0)
    diagnostics[101].update(cross_round_in_in_share=0.5, dead_weight_fraction=0.02)
    diagnostics[102].update(cross_round_in_in_share=0.7)
    for cell in cells:
        if cell["variant"] == "learnt" and cell["dataset"] == "letter":
            seed = cell["seed"]
            cell["diagnostics"] = [{**diagnostics[seed], "held_out": held.get(seed)}]
    lines = meta_signal.summary(cells)
    start = lines.index("Causes, over the 3 updates of the learnt meta-model:")
    assert lines[start + 2 : start + 12] == [
        "- query sets: median size 30; 67% are one-sided (under 10% IN or under "
        "10% OOD);",
        '- IN-IN pairs from different rounds, which `pairs="within_round"` would '
        "leave out: 40% of the IN-IN pairs of the accumulated set on average, "
        "60% at round 3;",
        # Over the 2 updates with a selector, not 0% dead for the third.
        "- dead selector weights (effective weight < 1e-3): mean 1.00%, max 2.00% "
        "(of the 2 updates with a selector);",
        "- held-out pair accuracy (3-fold CV; 2 updates with at least 3 IN and 3 "
        "OOD examples), learnt selector against P + I:",
        "",
        "| pairs | selector | P + I | selector better in |",
        "| --- | --- | --- | --- |",
        "| all | 0.750 | 0.700 | 50% of updates |",
        "| IN vs OOD (purity) | 0.800 | 0.750 | 50% of updates |",
        # Seed 101's IN-IN accuracy is undefined: left out of both columns.
        "| IN vs IN (order of the loss) | 0.800 | 0.400 | 100% of updates |",
    ]
    assert not any(line.startswith("Causes") for line in lines[start + 1 :])
    # A selector at every update: the mean of them all, (0 + 2 + 1) / 3.
    (last,) = [d for c in cells if c["seed"] == 102 for d in c["diagnostics"]]
    last["dead_weight_fraction"] = 0.01
    assert meta_signal.summary(cells)[start + 4] == (
        "- dead selector weights (effective weight < 1e-3): mean 1.00%, max 2.00%;"
    )
    for cell in cells:
        for d in cell["diagnostics"]:
            d.pop("dead_weight_fraction", None)
    assert (
        "- dead selector weights (effective weight < 1e-3): none, no update had a "
        "selector;"
    ) in meta_signal.summary(cells)


@pytest.mark.parametrize("score", ["margin", "entropy"])
def test_informativeness_variants_are_paired_with_their_rule_and_the_default(score):
    learnt, rule = (meta_signal.VARIANTS[f"{score}-{v}"](0) for v in ("learnt", "rule"))
    assert (learnt.informativeness, learnt.rule_weight) == (score, 0.0)
    assert (rule.informativeness, rule.rule_weight) == (score, 1)
    cells = []
    for seed, gap in zip((100, 101, 102), (0.01, 0.0, -0.04)):
        cells += [
            _cell("letter", seed, "rule", 0.8),
            _cell("letter", seed, "learnt", 0.8),
        ]
        cells += [_cell("letter", seed, f"{score}-rule", 0.81)]
        cells += [_cell("letter", seed, f"{score}-learnt", 0.81 + gap)]
    lines = meta_signal.summary(cells)
    start = next(i for i, line in enumerate(lines) if line.startswith("Variants ag"))
    rows = [line for line in lines[start:] if line.startswith(f"| {score}-")][:3]
    assert rows == [
        f"| {score}-learnt | {score}-rule | with {score} as informativeness, does "
        "the learnt balance beat the rule? | 40% | 3 | 1/1/1, -1.00 [-7.57, +5.57] |",
        f"| {score}-learnt | learnt | does {score} beat least confidence under the "
        "learnt selector? | 40% | 3 | 2/0/1, +0.00 [-6.57, +6.57] |",
        f"| {score}-rule | rule | does {score} beat least confidence under the "
        "rule? | 40% | 3 | 3/0/0, +1.00 [+1.00, +1.00] |",
    ]


def test_margin_on_the_rule_start_keeps_it_and_is_paired_with_the_defaults():
    # `run` gives a default selector the random start; this one keeps the rule's.
    strategy = meta_signal.random_start(meta_signal.VARIANTS["margin-rule-start"](0))
    assert (strategy.informativeness, strategy.selector.init) == ("margin", "rule")
    cells = []
    for seed, gap in zip((148, 149, 150), (0.01, 0.0, -0.04)):
        cells += [
            _cell("letter", seed, "rule", 0.8),
            _cell("letter", seed, "rule-start", 0.8),
            _cell("letter", seed, "margin-rule", 0.81),
            _cell("letter", seed, "margin-rule-start", 0.8 + gap),
        ]
    lines = meta_signal.summary(cells)
    start = next(i for i, line in enumerate(lines) if line.startswith("Variants ag"))
    rows = [line for line in lines[start:] if line.startswith("| margin-rule-start")]
    assert [row.split(" | ")[1] for row in rows[:2]] == ["rule-start", "margin-rule"]
    assert rows[0].endswith("| 40% | 3 | 1/1/1, -1.00 [-7.57, +5.57] |")
    # Seeds 148-159 confirm margin against both least-confidence defaults.
    start = next(i for i, line in enumerate(lines) if line.startswith("Confirmation"))
    assert _row(lines, start, "margin-rule-start").startswith(
        "| margin-rule-start | rule-start | 148-159 | 40% | 3 | 1/1/1, -1.00 "
    )
    bases = [line.split(" | ")[1] for line in lines[start:] if "margin-rule |" in line]
    assert bases == ["rule", "rule-start"]


def test_a_summary_with_balances_plots_them(tmp_path, monkeypatch):
    (tmp_path / "meta_signal").mkdir()
    for i, cell in enumerate(_balance_cells(monkeypatch)):
        (tmp_path / "meta_signal" / f"{i}.json").write_text(json.dumps(cell))
    meta_signal.write_summary(tmp_path)
    assert (tmp_path / "meta_signal_balance.png").stat().st_size > 0


def test_a_panel_of_one_run_draws_no_interval(tmp_path, monkeypatch):
    # One seed: the error bars and the learnt band were drawn zero-wide, as
    # if the gains were certain.
    from matplotlib.axes import Axes

    drawn = {}
    errorbar, axhspan = Axes.errorbar, Axes.axhspan

    def recorded(name, method):
        def draw(ax, *args, **kwargs):
            drawn[name] = kwargs.get("yerr", args)
            return method(ax, *args, **kwargs)

        return draw

    monkeypatch.setattr(Axes, "errorbar", recorded("bars", errorbar))
    monkeypatch.setattr(Axes, "axhspan", recorded("band", axhspan))
    cells = [c for c in _balance_cells(monkeypatch) if c["seed"] == 100]
    meta_signal.plot_balance(cells, tmp_path / "balance.png", "test")
    assert (tmp_path / "balance.png").stat().st_size > 0
    assert np.isnan(drawn["bars"]).all()
    assert "band" not in drawn


def test_each_balance_panel_has_its_own_scale_and_says_what_its_bars_are(
    tmp_path, monkeypatch
):
    # A shared y axis let Fashion-MNIST's 60% panel (4 runs, bars to -11)
    # flatten the others' gains; the bars and the band were explained nowhere.
    import matplotlib.pyplot as plt

    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    cells = _balance_cells(monkeypatch)
    cells += [dict(c, noise=0.6, accuracy=c["accuracy"] * 2 - 0.8) for c in cells]
    meta_signal.plot_balance(cells, tmp_path / "b.png", "test")
    (fig,) = figures
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert len(axes) > 1
    assert all(ax.get_shared_y_axes().get_siblings(ax) == [ax] for ax in axes)
    # In lines of the figure's width.
    labels = [" ".join(text.get_text().split()) for text in fig.legends[0].get_texts()]
    assert all("95% paired-t interval" in label for label in labels)


def test_a_balance_figure_of_one_noise_ratio_keeps_its_text_inside(
    tmp_path, monkeypatch
):
    # A run of one --noise drew a figure one panel wide whose title, legend
    # (two columns of one line each) and x label ran off both sides.
    import matplotlib.pyplot as plt

    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    meta_signal.plot_balance(_balance_cells(monkeypatch), tmp_path / "b.png", "test")
    (fig,) = figures
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    (ax,) = fig.axes
    texts = [*fig.legends, *fig.texts, ax.xaxis.label]  # the title among the texts
    assert len(texts) == 3
    for text in texts:
        box = text.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= fig.bbox.x1 and box.y0 >= 0
    plt.close(fig)


def test_the_balance_figure_is_legible_900_px_wide(tmp_path, monkeypatch):
    # Four noise ratios, 12.8 in wide: tick labels 8 px tall on GitHub.
    import matplotlib.pyplot as plt

    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    cells = _balance_cells(monkeypatch)
    cells = [dict(c, noise=noise) for noise in (0.1, 0.2, 0.4, 0.6) for c in cells]
    meta_signal.plot_balance(cells, tmp_path / "b.png", "four UCI tables")
    check_legible(figures[0], tmp_path / "b.png")
    plt.close(figures[0])


def test_a_summary_with_some_balances_only_draws_no_figure(tmp_path, monkeypatch):
    # plot_balance drew no panel, and matplotlib failed on it: a traceback.
    (tmp_path / "meta_signal").mkdir()
    cells = [c for c in _balance_cells(monkeypatch) if c["variant"] != "balance-0.9"]
    for i, cell in enumerate(cells):
        (tmp_path / "meta_signal" / f"{i}.json").write_text(json.dumps(cell))
    meta_signal.write_summary(tmp_path)
    assert (tmp_path / "meta_signal.md").exists()
    assert not (tmp_path / "meta_signal_balance.png").exists()


def _main(monkeypatch, *argv):
    """meta_signal.py's command line, its default results folder a guard."""
    monkeypatch.setattr(sys, "argv", ["meta_signal.py", *argv])
    meta_signal.main()


def test_a_rerun_reads_a_finished_run_once_and_for_the_summary(
    tmp_path, tiny_data_dir, monkeypatch, count_reads
):
    # The finished check read each run's file, and its worker read it again
    # before the summary read it a third time.
    monkeypatch.setattr(meta_signal, "RESULTS", tmp_path / "committed")
    argv = [
        *("--datasets", "segment", "--seeds", "0", "--variants", "rule"),
        *("--noise", "0.4", "--n-jobs", "1", "--data-dir", str(tiny_data_dir)),
        *("--results-dir", str(tmp_path)),
    ]
    _main(monkeypatch, *argv)
    path = meta_signal.cell_path(tmp_path, "segment", 0.4, 0, "rule")
    reads = count_reads()
    monkeypatch.setattr(meta_signal, "_run", None)  # a run that started: a bug
    _main(monkeypatch, *argv)
    assert reads[path] == 2


def test_results_dir_takes_the_runs_summary_and_figures(
    tmp_path, tiny_data_dir, monkeypatch
):
    committed = tmp_path / "committed"
    monkeypatch.setattr(meta_signal, "RESULTS", committed)
    results = tmp_path / "trial"
    _main(
        monkeypatch,
        *("--datasets", "segment", "--seeds", "0", "--variants", "rule"),
        *("--noise", "0.4", "--n-jobs", "1", "--data-dir", str(tiny_data_dir)),
        *("--results-dir", str(results)),
    )
    assert [p.name for p in (results / "meta_signal").glob("*.json")] == [
        "segment_40_0_rule.json"
    ]
    assert meta_signal.logged_runs(results) == {("segment", 0.4, 0, "rule")}
    assert "rule" in (results / "meta_signal.md").read_text()
    # The summary alone, with its figure, from the cells there (of the run's
    # versions: cells of others are warned of).
    for i, cell in enumerate(_balance_cells(monkeypatch)):
        cell = {**cell, "versions": versions()}
        (results / "meta_signal" / f"{i}.json").write_text(json.dumps(cell))
    _main(monkeypatch, "--summary-only", "--results-dir", str(results))
    assert (results / "meta_signal_balance.png").stat().st_size > 0
    assert not committed.exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--noise", "1.5"], "argument --noise: must be in [0, 1) (0.4 for 40%)"),
        (["--n-jobs", "0"], "argument --n-jobs: 0 jobs run nothing"),
        # Taken for an infeasible class split: "0 runs" and an empty summary.
        (["--seeds", "-1"], "argument --seeds: must be an integer in [0, 2**32), got"),
        # An all-blank summary, exit status 0.
        (["--variants", "learnt"], "--variants must include rule, the baseline"),
        # Each of its runs was run, and counted, twice.
        (["--seeds", "100", "101", "100"], "--seeds lists 100 twice; give each value"),
        (["--summary-only"], "meta_signal to summarise; run some first (without"),
        # Ignored silently: the summary is of every finished run.
        (
            ["--summary-only", "--seeds", "100", "--data-dir", "HERE"],
            "--seeds and --data-dir would not apply; drop them, or --summary-only",
        ),
        (["--summary-only", "--n-jobs", "2"], "--n-jobs would not apply; drop it"),
        (
            ["--data-dir", "MISSING"],
            "the data folder MISSING is missing; pass --data-dir",
        ),
        # The tabular folder itself: a FileNotFoundError traceback at the first run.
        (
            ["--data-dir", "HERE"],
            "the tabular/ folder HERE/tabular is missing; pass --data-dir",
        ),
    ],
)
def test_a_bad_command_line_is_one_line_of_error(
    tmp_path, monkeypatch, capsys, argv, message
):
    argv = [a.replace("MISSING", str(tmp_path / "none")) for a in argv]
    argv = [a.replace("HERE", str(tmp_path)) for a in argv]
    monkeypatch.setattr(meta_signal, "run", None)  # a run that started: a bug
    with pytest.raises(SystemExit) as info:
        _main(monkeypatch, *argv, "--results-dir", str(tmp_path / "out"))
    assert info.value.code == 2
    message = message.replace("MISSING", str(tmp_path / "none"))
    assert message.replace("HERE", str(tmp_path)) in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_each_noise_ratio_has_its_own_file_and_a_file_must_hold_its_run(tmp_path):
    def name(noise):
        return meta_signal.cell_path(tmp_path, "letter", noise, 100, "rule").name

    # The committed files keep their names; int(100 * noise) gave 0.29 the
    # name 28, and 0.285 the file of 0.28.
    assert [name(n) for n in (0.1, 0.2, 0.4, 0.6)] == [
        f"letter_{p}_100_rule.json" for p in (10, 20, 40, 60)
    ]
    assert [name(n) for n in (0.28, 0.285, 0.29)] == [
        "letter_28_100_rule.json",
        "letter_28.5_100_rule.json",
        "letter_29_100_rule.json",
    ]
    path = meta_signal.cell_path(tmp_path, "letter", 0.4, 100, "rule")
    path.parent.mkdir()
    path.write_text(json.dumps(dict(_cell("letter", 100, "rule", 0.8), noise=0.6)))
    with pytest.raises(ValueError, match="holds the run .*0.6.*, not .*0.4"):
        meta_signal.run("letter", 0.4, 100, "rule", tmp_path / "no data", tmp_path)


def test_a_noise_ratio_is_labelled_with_its_own_percentage():
    cells = [dict(c, noise=0.29) for c in _cells() if c["dataset"] == "letter"]
    lines = meta_signal.summary(cells)
    assert "| letter 29% | 82.00 | 80.00 |" in lines
    assert _row(lines, 0, "29%").startswith("| 29% | 3/0/0, +2.00")


def test_a_run_file_is_written_whole_and_a_damaged_one_named(
    tmp_path, tiny_data_dir, monkeypatch, capsys
):
    # Written in place, an interrupted write left half a file, and every rerun
    # then stopped at a bare JSONDecodeError naming no file.
    written = []
    monkeypatch.setattr(
        meta_signal, "write_json_atomic", lambda path, run: written.append(path)
    )
    meta_signal.run("segment", 0.4, 0, "rule", tiny_data_dir, tmp_path)
    path = meta_signal.cell_path(tmp_path, "segment", 0.4, 0, "rule")
    assert written == [path]
    path.write_text(json.dumps(_cell("segment", 0, "rule", 0.8))[:40])
    with pytest.raises(ValueError, match="cannot be read as JSON .*; delete it"):
        meta_signal.run("segment", 0.4, 0, "rule", tiny_data_dir, tmp_path)
    with pytest.raises(SystemExit) as info:
        _main(monkeypatch, "--summary-only", "--results-dir", str(tmp_path))
    assert info.value.code == 2
    assert f"error: {path} cannot be read as JSON (" in capsys.readouterr().err


def test_a_run_file_that_cannot_be_read_is_not_said_to_be_deleted(tmp_path):
    # A folder in its place (or a permission or I/O error) was "cannot be read
    # as JSON; delete it": a file not known to be damaged, to be deleted.
    path = meta_signal.cell_path(tmp_path, "segment", 0.4, 0, "rule")
    path.mkdir(parents=True)
    with pytest.raises(ValueError) as caught:
        meta_signal.read_run(path)
    assert str(caught.value) == (
        f"{path} cannot be read (Is a directory); make it readable, or move it "
        "out of the folder to run it again"
    )


def test_a_run_whose_pool_ran_out_is_refused_not_written(
    tmp_path, tiny_data_dir, monkeypatch
):
    # It was written and averaged as a run of the benchmark's rounds.
    monkeypatch.setitem(meta_signal.DATASETS["segment"], "rounds", 30)
    with (
        pytest.raises(RuntimeError, match="pool ran out after round .* of 30"),
        pytest.warns(RuntimeWarning, match=r"pool ran out .* of n_rounds=30 rounds"),
    ):
        meta_signal.run("segment", 0.4, 0, "rule", tiny_data_dir, tmp_path)
    assert not list(tmp_path.rglob("*.json"))


@pytest.mark.parametrize("variant", list(meta_signal.GREEDY_CHOICES))
def test_each_greedy_oracle_runs_with_the_labels_and_check_set(
    tmp_path, tiny_data_dir, monkeypatch, variant
):
    # greedy-draw ran without them, and failed at its first query.
    monkeypatch.setitem(meta_signal.DATASETS["segment"], "rounds", 3)
    cell = meta_signal.run("segment", 0.4, 0, variant, tiny_data_dir, tmp_path)
    (choices,) = cell["diagnostics"]
    assert list(choices) == list(meta_signal.GREEDY_CHOICES[variant])
    assert all(len(chosen) == 2 for chosen in choices.values())


def test_a_finished_run_is_read_from_its_file_not_run_again(tmp_path, monkeypatch):
    cell = _cell("letter", 100, "rule", 0.8)
    path = meta_signal.cell_path(tmp_path, "letter", 0.4, 100, "rule")
    path.parent.mkdir()
    path.write_text(json.dumps(cell))
    monkeypatch.setattr(meta_signal, "_run", None)  # a run that started: a bug
    assert meta_signal.run("letter", 0.4, 100, "rule", tmp_path, tmp_path) == cell


def test_a_learnt_run_records_the_diagnostics_of_each_update(
    tmp_path, tiny_data_dir, monkeypatch
):
    monkeypatch.setitem(meta_signal.DATASETS["segment"], "rounds", 3)
    cell = meta_signal.run("segment", 0.4, 0, "learnt", tiny_data_dir, tmp_path)
    # The updates after rounds 1 and 2's queries, seen at rounds 2 and 3.
    assert [d["round"] for d in cell["diagnostics"]] == [2, 3]
    first, second = cell["diagnostics"]
    budget = meta_signal.DATASETS["segment"]["budget"]
    assert (first["n_validation"], second["n_validation"]) == (budget, 2 * budget)
    assert first["cross_round_in_in_share"] == 0.0  # one round only
    assert set(second) == {
        "round",
        "query_size",
        "query_in_share",
        "n_validation",
        "cross_round_in_in_share",
        "held_out",
        "dead_weight_fraction",
    }


def test_a_loss_reduction_run_records_its_correlations_with_the_loss(
    tmp_path, tiny_data_dir, monkeypatch
):
    monkeypatch.setitem(meta_signal.DATASETS["segment"], "rounds", 3)
    variant = "loss-reduction-rule-start"
    cell = meta_signal.run("segment", 0.4, 0, variant, tiny_data_dir, tmp_path)
    (diagnostics,) = cell["diagnostics"]
    correlations = diagnostics["target_loss_correlations"]
    assert list(diagnostics) == ["target_loss_correlations"]
    assert len(correlations) == 2  # one an update
    assert all(-1 <= c <= 1 for c in correlations)


@pytest.mark.parametrize("variant", ["true-purity-learnt", "true-purity-rule"])
def test_a_true_purity_run_reads_the_pools_labels(
    tmp_path, tiny_data_dir, monkeypatch, variant
):
    monkeypatch.setitem(meta_signal.DATASETS["segment"], "rounds", 2)
    runs, run_active_learning = [], meta_signal.run_active_learning

    def recording(split, estimator, strategy, **kwargs):
        runs.append((split, strategy))
        return run_active_learning(split, estimator, strategy, **kwargs)

    monkeypatch.setattr(meta_signal, "run_active_learning", recording)
    meta_signal.run("segment", 0.4, 0, variant, tiny_data_dir, tmp_path)
    ((split, strategy),) = runs
    purity = strategy.purity(None, split.X_pool)
    np.testing.assert_array_equal(purity, ~split.is_ood)
    # Its variant's own strategy otherwise.
    base = meta_signal.VARIANTS[variant.removeprefix("true-purity-")](0)
    assert strategy.rule_weight == base.rule_weight


def test_a_summary_without_rule_runs_is_refused(tmp_path, monkeypatch, capsys):
    # Every table compares with `rule`: it was written blank, exit status 0.
    (tmp_path / "meta_signal").mkdir()
    for i, cell in enumerate(c for c in _cells() if c["variant"] != "rule"):
        (tmp_path / "meta_signal" / f"{i}.json").write_text(json.dumps(cell))
    with pytest.raises(SystemExit) as info:
        _main(monkeypatch, "--summary-only", "--results-dir", str(tmp_path))
    assert info.value.code == 2
    assert "error: no `rule` run of the tables, the baseline of every table; run" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "meta_signal.md").exists()


def test_fashion_runs_alone_are_summarised(tmp_path, monkeypatch):
    # Refused as "no `rule` run of the tables" though rule ran on Fashion-MNIST.
    (tmp_path / "meta_signal").mkdir()
    for i, cell in enumerate(c for c in _cells() if c["dataset"] == "fashion"):
        (tmp_path / "meta_signal" / f"{i}.json").write_text(json.dumps(cell))
    _main(monkeypatch, "--summary-only", "--results-dir", str(tmp_path))
    lines = (tmp_path / "meta_signal.md").read_text().splitlines()
    assert lines[0] == "## Fashion-MNIST (small CNN)"
    assert _row(lines, 0, "40%").startswith("| 40% | 0/0/3, -2.00")


def test_an_infeasible_class_split_is_named_and_no_runs_no_summary(
    tmp_path, tiny_data_dir, monkeypatch, capsys
):
    # Every error of the split was taken for an infeasible one, silently, and
    # a summary of no runs was written blank.
    argv = ["--datasets", "segment", "--seeds", "0", "--variants", "rule"]
    argv += ["--n-jobs", "1", "--data-dir", str(tiny_data_dir)]
    argv += ["--results-dir", str(tmp_path)]
    with pytest.raises(SystemExit) as info:
        _main(monkeypatch, *argv, "--noise", "0.9")
    assert info.value.code == 2
    err = capsys.readouterr().err
    # 3 IN classes of 40 rows each, 4 OOD classes: too few for 90% noise.
    assert "Skipped the runs of segment at 90% noise, seed 0: " in err
    assert "error: no runs under" in err
    assert not (tmp_path / "meta_signal.md").exists()
    _main(monkeypatch, *argv, "--noise", "0.4", "0.9")
    assert "Skipped the runs of segment at 90% noise, seed 0: " in (
        capsys.readouterr().err
    )
    assert [p.name for p in (tmp_path / "meta_signal").glob("*.json")] == [
        "segment_40_0_rule.json"
    ]


def _write_runs(results, cells):
    """`cells` as their per-run files under `results`."""
    for cell in cells:
        keys = [cell[k] for k in ("dataset", "noise", "seed", "variant")]
        path = meta_signal.cell_path(results, *keys)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(cell))


@pytest.mark.parametrize(
    "gone, logged, command",
    [
        # A run the log lists as finished.
        (("letter", 101, "learnt"), True, "--seeds 101 --variants learnt rule"),
        # The rule run of a seed another variant ran on: every command runs
        # rule, also those older than the log.
        (("letter", 100, "rule"), False, "--seeds 100 --variants rule"),
    ],
    ids=["logged", "rule"],
)
def test_a_lost_run_file_is_named_with_the_command_that_reruns_it(
    tmp_path, monkeypatch, capsys, gone, logged, command
):
    # It was left out of the summary silently, as a seed never run is.
    cells = [c for c in _cells() if c["dataset"] == "letter"]
    _write_runs(tmp_path, cells)
    if logged:
        (tmp_path / "meta_signal" / "_finished.jsonl").write_text(
            "".join(
                json.dumps({k: c[k] for k in ("dataset", "noise", "seed", "variant")})
                + "\n"
                for c in cells
            )
        )
    dataset, seed, variant = gone
    meta_signal.cell_path(tmp_path, dataset, 0.4, seed, variant).unlink()
    with pytest.raises(SystemExit) as info:
        _main(monkeypatch, "--summary-only", "--results-dir", str(tmp_path))
    assert info.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "(1 lost or deleted), so the summary would leave them out" in err
    assert (
        f"rerun them: python benchmarks/meta_signal.py --results-dir {tmp_path} "
        f"--datasets letter --noise 0.4 {command}"
    ) in err
    assert not (tmp_path / "meta_signal.md").exists()


def test_a_seed_never_run_is_no_lost_run(tmp_path, monkeypatch):
    # Logged runs and rule of every seed there: learnt was not run on seed 102.
    cells = [c for c in _cells() if (c["seed"], c["variant"]) != (102, "learnt")]
    _write_runs(tmp_path, cells)
    keys = [tuple(c[k] for k in meta_signal.RUN_ID) for c in cells]
    meta_signal.log_finished(tmp_path, keys[:2])
    meta_signal.log_finished(tmp_path, keys)  # a rerun logs each run once
    assert len(meta_signal.finished_log(tmp_path).read_text().splitlines()) == len(keys)
    _main(monkeypatch, "--summary-only", "--results-dir", str(tmp_path))
    assert (
        "learnt at 40%: seeds [100, 101]" in (tmp_path / "meta_signal.md").read_text()
    )


def test_lost_runs_of_seeds_missing_the_same_variants_share_a_command(tmp_path):
    lost = [
        ("letter", 0.4, 100, "learnt"),
        ("letter", 0.4, 101, "learnt"),
        ("letter", 0.4, 102, "learnt"),
        ("letter", 0.4, 102, "auto"),
        ("segment", 0.6, 100, "rule"),
    ]
    assert meta_signal.rerun_commands(meta_signal.RESULTS, lost) == [
        "python benchmarks/meta_signal.py --datasets letter --noise 0.4 "
        "--seeds 100 101 --variants learnt rule",
        "python benchmarks/meta_signal.py --datasets letter --noise 0.4 "
        "--seeds 102 --variants learnt rule auto",
        "python benchmarks/meta_signal.py --datasets segment --noise 0.6 "
        "--seeds 100 --variants rule",
    ]


@pytest.mark.parametrize("name", list(meta_signal.VARIANTS))
def test_variants_keep_the_rule_weight_they_were_measured_with(name):
    # Measured while the library's default was rule_weight=0 or a switch at
    # 30%: the one-half switch as the default must not change what they run.
    strategy = meta_signal.VARIANTS[name](0)
    weight = strategy.rule_weight  # fixed, not a parameter, in GreedyBalance
    if name == "margin-auto-half":  # the switch the library took as its default
        assert type(strategy) is meta_signal.MQNetQuery and weight == "auto"
    elif name in ("auto", "margin-auto"):
        assert isinstance(strategy, meta_signal.ThirtyPercentAutoQuery)
        assert weight == "auto"
    else:
        assert weight != "auto", name


def test_the_thirty_percent_switch_takes_the_rule_from_30_percent_ood():
    X = np.random.RandomState(0).normal(size=(40, 3))
    strategy = meta_signal.ThirtyPercentAutoQuery(rule_weight="auto")
    for n_ood, weight in ((8, 0.0), (9, 1.0)):  # 8 of 28 and 9 of 29 labelled
        y = np.r_[np.tile([0, 1], 10), np.full(n_ood, -1)]
        learner = SimpleNamespace(X_labelled_=X[: len(y)], y_labelled_=y)
        assert clone(strategy)._current_rule_weight(learner) == weight


def test_a_failing_run_is_named(tmp_path, monkeypatch):
    # A worker's error named the data set at most, not the noise, seed or
    # variant that failed.
    def broken(*args):
        raise ValueError("the pool ran out")

    monkeypatch.setattr(meta_signal, "_run", broken)
    with pytest.raises(RuntimeError, match="segment_40_7_rule.json failed: ValueErr"):
        meta_signal.run("segment", 0.4, 7, "rule", tmp_path, tmp_path)


def test_balance_headroom_needs_four_seeds_a_cell(monkeypatch):
    # Halves of one seed each (or one and two) choose a weight on a single run.
    cells = [c for c in _balance_cells(monkeypatch) if c["seed"] != 103]
    lines = meta_signal.summary(cells)
    assert not any(line.startswith("What a fixed") for line in lines)


def test_balance_headroom_keeps_the_seeds_where_learnt_ran_too(monkeypatch):
    # Seed 104 ran the rule and every balance but not learnt: left out, the
    # cell's four seeds are scored as before.
    cells = _balance_cells(monkeypatch)
    cells += [
        _cell("letter", 104, v, 0.9) for v in ("rule", "balance-0.1", "balance-0.9")
    ]
    lines = meta_signal.summary(cells)
    start = next(i for i, line in enumerate(lines) if line.startswith("What a fixed"))
    assert _row(lines, start, "letter 40%").endswith(
        "| 4 | 0.1 | +1.00 | 0.9, 0.1 | -1.00 | +0.15 |"
    )


def test_a_variant_of_one_paired_run_is_not_pooled():
    # rule-start ran one seed: one gap has no interval, and no pooled row.
    cells = [c for c in _cells() if c["dataset"] == "letter"]
    cells += [_cell("letter", 100, "rule-start", 0.85)]
    lines = meta_signal.summary(cells)
    start = next(i for i, line in enumerate(lines) if line.startswith("Against `"))
    assert _row(lines, start, "rule").startswith("| rule | 3 | ")
    assert not any(line.startswith("| rule-start | 1 |") for line in lines)


def test_the_wtl_row_counts_every_noise_ratio():
    # learnt gains 1-3 points at 40% and loses 1 point on each seed at 60%.
    cells = [c for c in _cells() if c["dataset"] == "letter"]
    cells += [
        dict(c, noise=0.6, accuracy=0.8 - 0.01 * (c["variant"] == "learnt"))
        for c in cells
    ]
    lines = meta_signal.summary(cells)
    assert "| W/T/L | 3/0/3 | 0/6/0 |" in lines


def _greedy_run(weights, draws=1, seed=0):
    """Records of a GreedyBalance run on digits (an MLP drawing its start and
    batches from torch's global RNG), and the strategy at its end."""
    import torch
    from sklearn.datasets import load_digits

    from skal_openset import (
        make_mlp_classifier,
        make_open_set_split,
        run_active_learning,
    )

    X, y = load_digits(return_X_y=True)
    split = make_open_set_split(
        X / 16, y, n_in_classes=4, noise_ratio=0.4, initial_size=20, random_state=0
    )
    split, (X_check, y_check) = meta_signal.halved_test(split, seed)
    strategy = meta_signal.GreedyBalance(
        truth=dict(zip(meta_signal.row_keys(split.X_pool), split.y_pool)),
        X_check=X_check,
        y_check=y_check,
        weights=weights,
        draws=draws,
        random_state=seed,
    )
    ends = []
    torch.manual_seed(seed)
    records = run_active_learning(
        split,
        make_mlp_classifier(64, 4, hidden_sizes=(32,), max_epochs=50, lr=1e-2),
        strategy,
        n_rounds=3,
        budget=10,
        callback=lambda record, learner: ends.append(learner.query_strategy_),
    )
    return [(r["test_accuracy"], r["query_in_share"]) for r in records[1:]], ends[-1]


def _trials_score(monkeypatch, scores):
    """Score the trials of each GreedyBalance query by `scores`, in the order
    they run; return the rows each trial taught, and the rows the run taught."""
    from itertools import cycle

    import torch

    from skal_openset import ActiveLearner

    score, teach = ActiveLearner.score, ActiveLearner.teach
    taught = {"trials": [], "run": [], "trial_torch_states": []}
    trial_scores = cycle(scores)

    def trial_score(learner, X, y):
        strategy = learner.query_strategy_
        if getattr(strategy, "_trial_rng", None) is None:
            return score(learner, X, y)
        return next(trial_scores)

    def recorded_teach(learner, X, y):
        trial = getattr(learner.query_strategy_, "_trial_rng", None) is not None
        taught["trials" if trial else "run"].append(np.asarray(X).copy())
        if trial:
            taught["trial_torch_states"].append(torch.get_rng_state())
        return teach(learner, X, y)

    monkeypatch.setattr(ActiveLearner, "score", trial_score)
    monkeypatch.setattr(ActiveLearner, "teach", recorded_teach)
    return taught


def test_greedy_balance_trials_leave_no_trace_on_the_run(monkeypatch):
    # The trials tie, so the rule's 0.5 is kept: the run must be the one
    # without trials, though each trial trains a net from torch's global RNG.
    taught = _trials_score(monkeypatch, [0.8])
    with_trials, strategy = _greedy_run((0.5, 0.9), draws=2)
    without, _ = _greedy_run((0.5,))
    assert strategy.chosen_weights_ == [0.5, 0.5]
    assert strategy.chosen_draws_ == [0, 0]
    assert with_trials == without
    # Each trial of a query starts from the same global random states.
    import torch

    states = taught["trial_torch_states"]
    assert len(states) == 8
    for query in (states[:4], states[4:]):
        assert all(torch.equal(query[0], state) for state in query[1:])


def test_greedy_balance_keeps_the_first_of_the_best_trials(monkeypatch):
    _trials_score(monkeypatch, [0.8, 0.9, 0.9])  # 0.5, 0.1 and 0.9, in turn
    _, strategy = _greedy_run((0.5, 0.1, 0.9))
    assert strategy.chosen_weights_ == [0.1, 0.1]


def test_greedy_draws_query_the_batch_of_the_best_draw(monkeypatch):
    taught = _trials_score(monkeypatch, [0.7, 0.8, 0.9])  # draws 0, 1 and 2
    _, strategy = _greedy_run((0.5,), draws=3)
    assert strategy.chosen_draws_ == [2, 2]
    trials, run = taught["trials"], taught["run"]
    # Three draws a query; other batches, and the run buys the third's.
    assert len(trials) == 6 and len(run) == 2
    assert not np.array_equal(trials[0], trials[1])
    np.testing.assert_array_equal(run[0], trials[2])
    np.testing.assert_array_equal(run[1], trials[5])


def test_greedy_balance_ranks_by_its_chosen_weight():
    strategy = meta_signal.GreedyBalance()
    Z = np.array([[0.9, 0.1], [0.2, 0.6]])
    np.testing.assert_allclose(strategy._combine(Z), [0.5, 0.4])  # the rule's
    strategy.weight_ = 0.25
    np.testing.assert_allclose(strategy._combine(Z), [0.3, 0.5])


def test_halved_test_splits_the_test_set_in_two_stratified_halves():
    from sklearn.datasets import load_digits

    from skal_openset import make_open_set_split

    X, y = load_digits(return_X_y=True)
    split = make_open_set_split(
        X, y, n_in_classes=4, noise_ratio=0.4, initial_size=20, random_state=0
    )
    halved, (X_check, y_check) = meta_signal.halved_test(split, 0)
    assert abs(len(halved.y_test) - len(y_check)) <= 1
    rows = {r.tobytes() for r in split.X_test}
    kept, check = {r.tobytes() for r in halved.X_test}, {r.tobytes() for r in X_check}
    assert kept | check == rows and not kept & check
    counts = [np.bincount(part, minlength=4) for part in (halved.y_test, y_check)]
    assert np.abs(counts[0] - counts[1]).max() <= 1
    np.testing.assert_array_equal(halved.X_pool, split.X_pool)


def _digits_learner(strategy):
    """An MLP learner on 4 digit classes (OOD labelled -1) that has queried
    and been taught once, and then queried again."""
    import torch
    from sklearn.datasets import load_digits

    from skal_openset import ActiveLearner, make_mlp_classifier

    X, y = load_digits(return_X_y=True)
    X, y = (X / 16).astype(np.float32), np.where(y < 4, y, -1)
    torch.manual_seed(0)
    learner = ActiveLearner(
        make_mlp_classifier(64, 4, hidden_sizes=(16,), max_epochs=30, lr=1e-2),
        strategy,
    ).fit(X[:80], y[:80])
    chosen, _ = learner.query(X[80:600], n_instances=20)
    learner.teach(X[80:600][chosen], y[80:600][chosen])
    chosen, _ = learner.query(X[80:600], n_instances=20)
    return learner, X[80:600][chosen], y[80:600][chosen]


@pytest.mark.parametrize("include_self", [False, True])
def test_loss_reductions_are_the_last_layer_gradient_dot_products(include_self):
    import torch

    learner, X, y = _digits_learner(meta_signal.mqnet_query(random_state=0))
    X, y = X[y != -1], y[y != -1]
    module = learner.estimator_.module_
    grads = []
    for row, label in zip(torch.as_tensor(X), torch.as_tensor(y)):
        module.zero_grad()
        loss = torch.nn.functional.cross_entropy(module(row[None]), label[None])
        loss.backward()
        grads.append(
            torch.cat([module.head.weight.grad.ravel(), module.head.bias.grad])
        )
    G = torch.stack(grads).double()
    expected = G @ G.sum(0) - (0 if include_self else (G * G).sum(1))
    found = meta_signal.loss_reductions(learner, X, y, include_self)
    np.testing.assert_allclose(found, expected.numpy(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "target", [meta_signal.LossReductionTarget, meta_signal.LossReductionWithSelf]
)
def test_a_loss_reduction_target_ranks_the_in_rows_above_ood(target):
    strategy = target(informativeness="margin", rule_weight=0.0, random_state=0)
    learner, X, y = _digits_learner(strategy)
    ood = y == -1
    assert 0 < ood.sum() < len(y)
    # Of the classifier that chose the query, before it retrains on it.
    reductions = meta_signal.loss_reductions(
        learner, X[~ood], y[~ood], target._include_self
    )
    learner.teach(X, y)
    strategy = learner.query_strategy_
    latest_round = strategy.validation_round_ == strategy.validation_round_.max()
    latest = strategy.validation_target_[latest_round]
    assert (latest[ood] == 0).all()
    np.testing.assert_array_equal(latest[~ood], 1 + rankdata(reductions) / (~ood).sum())
    assert len(strategy.target_loss_correlations_) == 2


def test_a_finished_run_of_other_versions_is_named_or_run_again(
    tmp_path, monkeypatch, recwarn
):
    # A rerun after an upgrade reused the old runs without a word, and the
    # files recorded no versions to tell them apart.
    _write_runs(tmp_path, [_cell("letter", 100, "rule", 0.8)])
    path = meta_signal.cell_path(tmp_path, "letter", 0.4, 100, "rule")
    monkeypatch.setattr(meta_signal, "require_dataset_folders", lambda *a: None)
    monkeypatch.setattr(meta_signal, "infeasible_splits", lambda *a: {})
    monkeypatch.setattr(meta_signal, "write_summary", lambda results: None)
    monkeypatch.setattr(
        meta_signal, "_run", lambda *a: _cell("letter", 100, "rule", 0.5)
    )
    argv = ["--results-dir", str(tmp_path), "--datasets", "letter", "--noise", "0.4"]
    argv += ["--seeds", "100", "--variants", "rule", "--n-jobs", "1"]
    with pytest.warns(UserWarning, match="1 by an earlier skal_openset, which rec"):
        _main(monkeypatch, *argv)
    assert json.loads(path.read_text())["accuracy"] == 0.8  # kept, as it says
    _main(monkeypatch, *argv, "--rerun-other-versions")
    rerun = json.loads(path.read_text())
    assert rerun["accuracy"] == 0.5 and rerun["versions"] == versions()
    recwarn.clear()
    _main(monkeypatch, *argv)  # of these versions: no word
    assert not [w for w in recwarn if "other versions" in str(w.message)]
