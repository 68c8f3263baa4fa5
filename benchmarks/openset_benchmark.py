"""Open-set active learning on real data, on the CPU: suites, ablations, report.

Every (suite, dataset, noise, strategy, trial, variant) cell runs the
split-dataset protocol with :func:`skal_openset.run_active_learning` and is
written to ``results/cells/<suite>/<cell>.json`` as soon as it finishes
(atomically, with a checksum, and the path and fingerprint of its data); a rerun
skips finished cells and reruns invalid ones, so an interrupted run loses
nothing (finished cells that other versions of the code wrote are named, and
``--rerun-other-versions`` runs them again), and is refused where a cell of one
of its data sets there was made from other data (the report would mix them);
the cells of a class split that cannot be drawn (too few OOD examples for a
high noise ratio) are skipped, with a message, and the run goes on. Ctrl-C
stops a run with exit status 130 and writes nothing from the cells it
interrupted. Cells run in parallel through joblib (``--n-jobs``), so the same
command can run on a Dask cluster through joblib's backend (``--backend
dask``, ``--scheduler``).

    python benchmarks/openset_benchmark.py run tabular [--quick] [--n-jobs 2]
    python benchmarks/openset_benchmark.py run fashion [--quick]
    python benchmarks/openset_benchmark.py run ablations [--quick]
    python benchmarks/openset_benchmark.py run classifiers [--quick]
    python benchmarks/openset_benchmark.py report

``--results-dir DIR``, before or after the command, writes the cells and the
report under DIR instead of ``results/``: a trial run that leaves the committed
results alone. ``--quick`` runs one trial at 40% noise, so it takes neither
``--trials`` nor ``--noise``.

Data are read from ``--data-dir`` (default ``../shared/data`` next to the
repository). Tabular features are standardised with statistics of the whole
table (label-free). IN classes are drawn at random per trial (about 40%), the
same draw for every strategy and noise ratio of that trial, so comparisons
within a trial are paired.
"""

import json
import os
import shlex
import sys
import time
from collections import Counter
from functools import cache
from itertools import product
from pathlib import Path

from _common import (
    INTERRUPTED,
    ResultsError,
    add_results_dir,
    cell_failure,
    cell_threads,
    code_version,
    joblib_verbosity,
    machine_description,
    path_option,
    percent,
    refuse_repeats,
    require_data,
    stopped_by_signals,
    threads_in_cell,
)

import joblib
import numpy as np
from joblib import Parallel, delayed, parallel_backend
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from _cells import (
    RERUN_OPTION,
    InvalidCellError,
    UnreadableCellError,
    add_rerun_option,
    cells_to_run,
    finished_content,
    invalid_cell_message,
    made_from,
    other_data_error,
    write_cell,
)
from skal_openset import (
    BadgeQuery,
    CCALQuery,
    CoreSetQuery,
    EOALQuery,
    LearningLossQuery,
    LfOSAQuery,
    MetaQueryNetSelector,
    MQNetQuery,
    PurityInformativenessQuery,
    RandomQuery,
    SimilarQuery,
    UncertaintyQuery,
    load_csv_table,
    load_fashion_mnist,
    make_cnn_classifier,
    make_mlp_classifier,
    make_open_set_split,
    run_active_learning,
)
from skal_openset._argtypes import (
    Parser,
    Repeatable,
    job_count,
    positive_int,
    ratio,
    user_path,
)
from skal_openset._datasets import _TooFewOODError
from skal_openset._experiment import versions
from skal_openset._model_scores import check_rows, ood_label_of
from skal_openset._rows import row_keys

HERE = Path(__file__).parent
RESULTS = HERE / "results"
DEFAULT_DATA = HERE.parent.parent / "shared" / "data"

NOISE_RATIOS = (0.1, 0.2, 0.4, 0.6)
BACKEND = "loky"
TRIALS = 3
STRATEGIES = (
    "RANDOM",
    "CONF",
    "CORESET",
    "BADGE",
    "LL",
    "P+I",
    "P*I",
    # MQNetQuery.paper() on the net every column shares (so CONF informativeness),
    # and on a net with a learning-loss head (so LL, the paper's default).
    "MQ-Net (paper preset)",
    "MQ-Net (paper preset, LL head)",
    "MQ-Net (exp-z+latest+top-k)",  # the learnt one with those three undone
    # The selector from its random start, as in the paper (the defaults before
    # they started it from the rule).
    "MQ-Net (learnt meta-model)",
    "MQ-Net (no meta-model)",  # the defaults, but the rule P + I ranks
    "MQ-Net",  # MQNetQuery() with this library's defaults
    # The open-set baselines (issue 12).
    "LfOSA",
    "EOAL",
    "SIMILAR",
    "CCAL",
)
# The columns whose net has a learning-loss head: LL needs it, and the paper
# preset takes it as its informativeness where it is there.
LOSS_HEAD_STRATEGIES = ("LL", "MQ-Net (paper preset, LL head)")

# Budget per round and rounds scaled to the pool (about 1-2% of it per round).
DATASETS = {
    "letter": dict(budget=100, rounds=8),
    "penbased": dict(budget=50, rounds=8),
    "satimage": dict(budget=40, rounds=8),
    "segment": dict(budget=20, rounds=8),
    # A random 1/10 of Fashion-MNIST's training images keeps the CNN suite
    # to minutes on a CPU; the test set is complete.
    "fashion": dict(budget=50, rounds=6, train_fraction=0.1),
}


class FixedBalance(MetaQueryNetSelector):
    """Diagnostic: the fixed ranking ``w P + (1 - w) I`` instead of a fitted one.

    Measures how much any balance of purity and informativeness on these
    meta-inputs could gain over ``P + I`` (``w = 0.5``); ``fit`` learns nothing.
    """

    def __init__(self, purity_weight=0.5):
        # The selector's defaults: MQNetQuery checks them (a warm start, the
        # device), though none is used here.
        super().__init__()
        self.purity_weight = purity_weight

    def fit(self, X, y, sample_weight=None, groups=None):
        self.module_ = None  # marks it fitted: the strategy ranks with `predict`
        return self

    def predict(self, X):
        X = np.asarray(X, dtype=np.float64)
        return self.purity_weight * X[:, 0] + (1 - self.purity_weight) * X[:, 1]


class RandomValidationMQNet(MQNetQuery):
    """Table 3: the learnt MQ-Net trained on a random labelled sample, not its query.

    Each update draws as many examples as the query had, uniformly from the
    pool with their true labels (an independent validation set the paper's
    ablation assumes; here it may overlap the unlabelled pool, but these
    labels only reach the meta-model, never the classifier).
    """

    def __init__(self, X_source=None, y_source=None, random_state=None):
        super().__init__(
            selector=MetaQueryNetSelector(random_state=random_state),  # random start
            rule_weight=0.0,
            random_state=random_state,
        )
        self.X_source = X_source
        self.y_source = y_source

    def _query_of(self, X_query, modal=False):
        # The validation rows come from anywhere in the pool, which no query
        # returned: the latest query's scale, none of them learnt yet.
        keys = row_keys(X_query)
        latest = self._recent_queries[0]
        return keys, latest._replace(row_keys=Counter(keys), learnt=Counter())

    def update(self, learner, X_query, y_query):
        X_query = check_rows(X_query, getattr(learner, "estimator", learner), "X_query")
        y_query = np.asarray(y_query)
        if len(y_query) != len(X_query):  # update checks the validation rows only
            raise ValueError(
                f"X_query has {len(X_query)} rows but y_query has {len(y_query)}."
            )
        if not hasattr(self, "validation_rng_"):
            self.validation_rng_ = np.random.RandomState(self.random_state)
        rows = self.validation_rng_.choice(
            len(self.y_source), size=len(y_query), replace=False
        )
        taught = getattr(self, "_taught_in_keys", None)
        super().update(learner, self.X_source[rows], self.y_source[rows])
        # Those rows reach the meta-model only; the learner is taught the query,
        # whose IN rows (if any) a learner continuing this campaign holds, keyed
        # as update keys them.
        is_in = y_query != ood_label_of(learner)
        if is_in.any():
            taught = set(row_keys(X_query[is_in]))
        self._taught_in_keys = taught
        return self


# The defaults with one thing changed, and the learnt meta-model
# (``rule_weight=0``, the paper's ranking, the default until the one-half
# switch, set explicitly)
# alone and with one thing changed; all with the selector's random start
# (`random_start`), on which they were measured.
LEARNT = dict(rule_weight=0.0)
MQNET_CONFIGS = {
    "exp_zscore": dict(meta_input="exp_zscore"),
    "no-diversity": dict(diversity_pool=None),
    "batch-skyline": dict(batch_skyline=True),
    "learnt": LEARNT,
    "rule": dict(rule_weight=1),  # no meta-model at any noise ratio
    "learnt-rule-weight-0.5": dict(rule_weight=0.5),  # half rule, half selector
    "learnt-no-accumulate": dict(LEARNT, accumulate=False),
    # IN-IN pairs of one round only (the audit's fix, no longer the default)
    "learnt-within-round-pairs": dict(LEARNT, pairs="within_round"),
    "learnt-validate-selector": dict(LEARNT, validate_selector=True),
    # The configuration the "MQ-Net (paper)" column ran before the paper
    # preset, with least confidence, the default then.
    "learnt-exp-z+latest+top-k": dict(
        LEARNT,
        meta_input="exp_zscore",
        accumulate=False,
        diversity_pool=None,
        informativeness="least_confidence",
    ),
}


# The paper's Table 2 (meta-input scores), Table 3 (random validation) and
# Table 4 (no skyline), and the configurations above.
ABLATIONS = (
    "input=knn_contrast+margin",  # the defaults
    "input=knn_contrast+least_confidence",  # the defaults until 2026-12-02
    "input=energy+least_confidence",
    "input=mahalanobis+least_confidence",
    "input=knn_contrast+learning_loss",
    "input=auto+least_confidence",  # purity chosen each round by held-out AUROC
    "input=lfosa+least_confidence",  # LfOSA's IN probability as the purity
    "learnt-random-validation",
    "learnt-no-skyline",
    *MQNET_CONFIGS,
    # The paper preset, and with the defaults' purity or selector training:
    # where its gap to the other MQ-Nets on letter comes from.
    "paper-preset",
    "paper-preset+purity=knn_contrast",
    "paper-preset+adam-selector",
)


def random_start(strategy):
    """`strategy` with the selector's random start, if it has the default selector.

    The columns and ablations measured before the defaults started the
    selector from the rule keep the start they were measured with.
    """
    if strategy.selector is None:
        strategy.set_params(
            selector=MetaQueryNetSelector(random_state=strategy.random_state)
        )
    return strategy


def make_strategy(name, seed, variant="default", split=None):
    """The strategy of a cell; `variant` selects an ablation of MQ-Net."""
    if name.startswith("MQ-Net (paper preset"):
        return MQNetQuery.paper(random_state=seed)
    if name == "MQ-Net (exp-z+latest+top-k)":
        config = MQNET_CONFIGS["learnt-exp-z+latest+top-k"]
        return random_start(MQNetQuery(random_state=seed, **config))
    if name == "MQ-Net (learnt meta-model)":
        return random_start(MQNetQuery(random_state=seed, **LEARNT))
    if name == "MQ-Net (no meta-model)":
        return MQNetQuery(rule_weight=1, random_state=seed)
    # The selector's two starts, and fixed balances (a diagnostic), each
    # ranking alone at any OOD share, as the learnt column does.
    if name == "MQ-Net (started from the rule)":
        return MQNetQuery(
            selector=MetaQueryNetSelector(init="rule", random_state=seed),
            rule_weight=0.0,
            random_state=seed,
        )
    if name.startswith("MQ-Net (fixed balance w="):
        weight = float(name.removeprefix("MQ-Net (fixed balance w=").rstrip(")"))
        return MQNetQuery(
            selector=FixedBalance(purity_weight=weight),
            rule_weight=0.0,
            random_state=seed,
        )
    if name == "MQ-Net":
        if variant.startswith("paper-preset"):
            strategy = MQNetQuery.paper(random_state=seed)
            if "+purity=" in variant:
                strategy.set_params(purity=variant.split("+purity=")[1])
            if variant.endswith("+adam-selector"):  # the library's full-batch Adam
                strategy.set_params(selector=MetaQueryNetSelector(random_state=seed))
            return strategy
        if variant == "learnt-random-validation":
            return RandomValidationMQNet(split.X_pool, split.y_pool, random_state=seed)
        params = dict(MQNET_CONFIGS.get(variant, {}), random_state=seed)
        if variant.startswith("input="):
            params["purity"], params["informativeness"] = variant.removeprefix(
                "input="
            ).split("+")
            if params["purity"] == "lfosa":
                params["purity"] = LfOSAQuery(random_state=seed).in_probability
        elif variant == "learnt-no-skyline":
            params.update(
                LEARNT,
                selector=MetaQueryNetSelector(monotone=False, random_state=seed),
            )
        strategy = MQNetQuery(**params)
        return strategy if variant == "default" else random_start(strategy)
    return {
        "RANDOM": lambda: RandomQuery(random_state=seed),
        "CONF": lambda: UncertaintyQuery(random_state=seed),
        "CORESET": lambda: CoreSetQuery(random_state=seed),
        "BADGE": lambda: BadgeQuery(random_state=seed),
        "LL": lambda: LearningLossQuery(random_state=seed),
        "P+I": lambda: PurityInformativenessQuery(random_state=seed),
        "P*I": lambda: PurityInformativenessQuery(combine="product", random_state=seed),
        "LfOSA": lambda: LfOSAQuery(random_state=seed),
        "EOAL": lambda: EOALQuery(random_state=seed),
        # FLCMI costs the square of the pool: a 5,000-row subset keeps letter
        # and the 60% pools (up to 14,000 rows) to seconds per query.
        "SIMILAR": lambda: SimilarQuery(subsample=5000, random_state=seed),
        "CCAL": lambda: CCALQuery(random_state=seed),
    }[name]()


# The classifiers of the "classifiers" suite: what scikit-learn users bring.
CLASSIFIERS = {
    "random_forest": lambda seed: RandomForestClassifier(random_state=seed),
    "logreg_pipeline": lambda seed: make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=1000)
    ),
    "hist_gradient_boosting": lambda seed: HistGradientBoostingClassifier(
        random_state=seed
    ),
}
CLASSIFIER_STRATEGIES = ("RANDOM", "CONF", "BADGE", "P*I", "MQ-Net")


def make_estimator(dataset, n_features, n_classes, learning_loss, seed, kind="mlp"):
    if kind != "mlp":
        return CLASSIFIERS[kind](seed)
    if dataset == "fashion":
        return make_cnn_classifier(
            n_classes, learning_loss=learning_loss, max_epochs=15, random_state=seed
        )
    return make_mlp_classifier(
        n_features,
        n_classes,
        learning_loss=learning_loss,
        hidden_sizes=(128,),
        max_epochs=40,
        random_state=seed,
    )


def data_folder(dataset):
    """The folder of ``--data-dir`` that holds `dataset`."""
    return "fashion-mnist" if dataset == "fashion" else "tabular"


def add_data_dir(parser):
    """Add ``--data-dir``, the folder of the data sets, to `parser`."""
    parser.add_argument(
        "--data-dir",
        type=user_path,
        default=DEFAULT_DATA,
        help="the folder of tabular/ and fashion-mnist/ (default: ../shared/data "
        "next to the repository)",
    )


def require_dataset_folders(parser, data_dir, datasets):
    """Stop with a usage error where `data_dir`, the folder of one of
    `datasets` or one of their tables is missing."""
    require_data(parser, data_dir, "--data-dir")
    # a --data-dir one level too deep failed at the first run, a traceback
    for folder in sorted({data_folder(d) for d in datasets}):
        require_data(parser, Path(data_dir) / folder, "--data-dir", f"{folder}/ folder")
    # a missing table too ended in a traceback at its first cell
    for dataset in sorted(set(datasets) - {"fashion"}):
        table = Path(data_dir) / data_folder(dataset) / f"{dataset}.csv"
        require_data(parser, table, "--data-dir", f"{dataset} table")


@cache
def load_dataset(dataset, data_dir):
    """(X, y, X_test, y_test); the test arrays are None where the split makes them."""
    source = dataset_source(dataset, data_dir)
    if dataset == "fashion":
        X, y, X_test, y_test = load_fashion_mnist(source)
        keep = (
            np.random.RandomState(0).rand(len(y)) < DATASETS[dataset]["train_fraction"]
        )
        return X[keep], y[keep], X_test, y_test
    X, y = load_csv_table(source)
    return StandardScaler().fit_transform(X).astype(np.float32), y, None, None


def dataset_source(dataset, data_dir):
    """The file (a table) or folder (Fashion-MNIST) `dataset` is read from."""
    folder = Path(data_dir) / data_folder(dataset)
    return folder if dataset == "fashion" else folder / f"{dataset}.csv"


def check_all_rounds(records, dataset, n_rounds):
    """Raise unless `records` hold all `n_rounds` rounds: a run whose pool ran
    out would be written as a result that no report takes."""
    if len(records) < n_rounds:
        raise ValueError(
            f"The pool ran out after round {len(records)} of {n_rounds}: the "
            f"{dataset} table is too small for a budget of "
            f"{DATASETS[dataset]['budget']} a round: give it more rows"
        )


def cell_name(cell):
    return (
        "_".join(f"{k}={v}" for k, v in cell.items() if k != "suite")
        .replace("*", "x")
        .replace("+", "p")
        .replace(" (", "_")
        .replace(")", "")
        .replace(" ", "-")
    )


def cell_path(cell, results=RESULTS):
    return Path(results) / "cells" / cell["suite"] / f"{cell_name(cell)}.json"


def make_split(dataset, noise, trial, data_dir):
    """The open-set split of a cell; its trial draws the IN classes and the pool."""
    X, y, X_test, y_test = load_dataset(dataset, str(data_dir))
    return make_open_set_split(
        X,
        y,
        n_in_classes=round(0.4 * len(np.unique(y))),
        noise_ratio=noise,
        initial_size=DATASETS[dataset]["budget"],
        X_test=X_test,
        y_test=y_test,
        random_state=trial,
    )


def infeasible_splits(cells, data_dir):
    """``{(dataset, noise, trial): reason}`` for the splits that cannot be drawn.

    A class split whose OOD classes hold too few examples for a high noise
    ratio cannot be drawn; its cells are skipped, not run and not written.
    Any other error (a data file that cannot be read) is raised.
    """
    reasons = {}
    for key in sorted({(c["dataset"], c["noise"], c["trial"]) for c in cells}):
        try:
            make_split(*key, data_dir)
        except _TooFewOODError as error:  # a data error stops the run
            reasons[key] = str(error)
    return reasons


def run_cell(cell, data_dir, results=RESULTS):
    """Run one cell and write its result file; return the file's path.

    A failure names the cell: a worker's traceback does not.
    """
    try:
        with cell_threads("cpu"):  # parallelism comes from joblib, one cell a core
            return _run_cell(cell, data_dir, results)
    except Exception as exc:
        raise cell_failure(f"The cell {cell_path(cell, results).name}", exc) from exc


def _run_cell(cell, data_dir, results):
    dataset, trial = cell["dataset"], cell["trial"]
    config = DATASETS[dataset]
    split = make_split(dataset, cell["noise"], trial, data_dir)
    learning_loss = cell["strategy"] in LOSS_HEAD_STRATEGIES or (
        "learning_loss" in cell.get("variant", "")
    )
    estimator = make_estimator(
        dataset,
        split.X_pool.shape[1],
        split.n_classes,
        learning_loss,
        trial,
        cell.get("estimator", "mlp"),
    )
    strategy = make_strategy(
        cell["strategy"], trial, cell.get("variant", "default"), split
    )
    snapshots = []

    def snapshot(record, learner):
        state = learner.query_strategy_
        if hasattr(state, "purity_auroc_"):  # purity="auto": every score's AUROC
            record["purity"] = state.purity_
            record["purity_auroc"] = state.purity_auroc_
        # Figure 4 data of the learnt meta-model, from the first trial only,
        # to keep the files small.
        learnt = cell["strategy"] == "MQ-Net (learnt meta-model)"
        if (
            learnt
            and trial == 0
            and hasattr(state, "selector_")
            and record["round"] > 1
        ):
            snapshots.append(_landscape_snapshot(record["round"], state))

    start = time.perf_counter()
    records = run_active_learning(
        split,
        estimator,
        strategy,
        n_rounds=cell["rounds"],
        budget=config["budget"],
        cost_ood=cell.get("cost_ood", 1.0),
        callback=snapshot if cell["strategy"].startswith("MQ-Net") else None,
    )
    check_all_rounds(records, dataset, cell["rounds"])
    result = {
        "cell": cell,
        "in_classes": split.in_classes.tolist(),
        "seconds": time.perf_counter() - start,
        "records": records,
        "landscapes": snapshots,
        # which data: a run on other data into these cells is refused
        "data": made_from(dataset_source(dataset, data_dir)),
        # which code: a rerun names the finished cells of other versions
        "versions": versions(),
    }
    return write_cell(cell_path(cell, results), result)


def _landscape_snapshot(round_, strategy):
    """What Figure 4 needs: pool and query meta-inputs and the selector's grid.

    The query is the one this round bought.
    """
    pool = strategy.pool_meta_input_
    hi = np.quantile(pool, 0.99, axis=0)
    grid_i, grid_p = np.meshgrid(np.linspace(0, hi[1], 40), np.linspace(0, hi[0], 40))
    scores = strategy.selector_.predict(
        np.column_stack([grid_p.ravel(), grid_i.ravel()])
    )
    keep = np.random.RandomState(round_).permutation(len(pool))[:500]
    # This round's query only: accumulate=True keeps the earlier ones too.
    latest = strategy.validation_round_ == strategy.validation_round_.max()
    return {
        "round": round_,
        "pool": pool[keep].round(4).tolist(),
        "query": strategy.validation_meta_input_[latest].round(4).tolist(),
        "query_is_in": (strategy.validation_target_[latest] > 0).tolist(),
        "grid_informativeness": grid_i[0].tolist(),
        "grid_purity": grid_p[:, 0].tolist(),
        "grid_scores": scores.reshape(grid_i.shape).round(4).tolist(),
    }


def grid(suite, quick, trials, noises=NOISE_RATIOS):
    """The cells of a suite; quick cells run 3 rounds and never pass for full ones.

    `noises` restricts the tabular and fashion suites to some noise ratios.
    """
    trials = range(1 if quick else trials)
    cells = _cells(suite, quick, trials, tuple(noises))
    for cell in cells:
        cell["rounds"] = 3 if quick else DATASETS[cell["dataset"]]["rounds"]
    return cells


def _cells(suite, quick, trials, noise_ratios=NOISE_RATIOS):
    name = (
        f"{suite}-quick" if quick else suite
    )  # quick results never mix with full ones
    if suite == "tabular":
        datasets = (
            ["segment"] if quick else ["letter", "penbased", "satimage", "segment"]
        )
        noises = (0.4,) if quick else noise_ratios
        return [
            dict(suite=name, dataset=d, noise=n, strategy=s, trial=t)
            for d, n, s, t in product(datasets, noises, STRATEGIES, trials)
        ]
    if suite == "fashion":
        noises = (0.4,) if quick else noise_ratios
        return [
            dict(suite=name, dataset="fashion", noise=n, strategy=s, trial=t)
            for n, s, t in product(noises, STRATEGIES, trials)
        ]
    if suite == "ablations":
        # The ABLATIONS of MQ-Net; Table 6 (OOD labelling cost) at the end.
        def mqnet_cells(dataset, noises, chosen, trial_list):
            return [
                dict(
                    suite=name,
                    dataset=dataset,
                    noise=n,
                    strategy="MQ-Net",
                    trial=t,
                    variant=v,
                )
                for n, v, t in product(noises, chosen, trial_list)
            ]

        if quick:
            variants = ("input=knn_contrast+margin", "input=energy+least_confidence")
            return mqnet_cells("segment", (0.4,), variants, trials)
        paper_variants = tuple(v for v in ABLATIONS if v.startswith("paper-preset"))
        penbased_variants = tuple(v for v in ABLATIONS if v not in paper_variants)
        cells = mqnet_cells("penbased", (0.2, 0.6), penbased_variants, trials)
        # letter is where the exp-z, latest-set, top-k MQ-Net and the paper
        # preset trail most.
        letter_variants = (*ABLATIONS[:2], *MQNET_CONFIGS, *paper_variants)
        cells += mqnet_cells("letter", (0.4, 0.6), letter_variants, trials)
        # A CNN cell costs about ten tabular ones: the main comparisons only.
        fashion_variants = (*ABLATIONS[:3], "input=auto+least_confidence", "learnt")
        cells += mqnet_cells("fashion", (0.4,), fashion_variants, trials[:2])
        cells += [
            dict(
                suite=name,
                dataset="penbased",
                noise=0.4,
                strategy=s,
                trial=t,
                cost_ood=c,
            )
            for c, s, t in product(
                (0.5, 1.0, 2.0, 4.0),
                (
                    "CONF",
                    "CORESET",
                    "P+I",
                    "MQ-Net (paper preset)",
                    "MQ-Net (learnt meta-model)",
                    "MQ-Net",
                ),
                trials,
            )
        ]
        return cells
    if suite == "classifiers":
        # MQ-Net and the baselines with scikit-learn classifiers, 40% noise.
        datasets = (
            ["segment"] if quick else ["letter", "penbased", "satimage", "segment"]
        )
        estimators = ("random_forest",) if quick else ("mlp", *CLASSIFIERS)
        return [
            dict(suite=name, dataset=d, noise=0.4, estimator=e, strategy=s, trial=t)
            for d, e, s, t in product(
                datasets, estimators, CLASSIFIER_STRATEGIES, trials
            )
        ]
    raise ValueError(f"unknown suite {suite!r}")


def run_suite(args):
    # joblib's worker processes must import this folder's modules too.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(HERE), os.environ.get("PYTHONPATH")])
    )
    # Referenced through the module, not __main__, so workers unpickle it by name.
    from openset_benchmark import run_cell as run_cell_by_name

    cells = grid(args.suite, args.quick, args.trials, args.noise)
    if args.strategies:
        cells = [c for c in cells if c["strategy"] in args.strategies]
    suite = cells[0]["suite"]
    skipped = infeasible_splits(cells, args.data_dir)
    for (dataset, noise, trial), reason in skipped.items():
        print(
            f"Skipped the cells of {dataset} at {percent(noise)} noise, trial {trial}: "
            f"{reason}",
            file=sys.stderr,
        )
    cells = [c for c in cells if (c["dataset"], c["noise"], c["trial"]) not in skipped]
    if not cells:  # logged, it would be a run that ran nothing
        raise ResultsError(
            "None of the class splits asked for can be drawn (see above), so "
            "nothing was run; ask for a lower --noise."
        )
    # Finished cells too: all of another data set's, it would say nothing ran.
    folders = {cell_path(c, args.results_dir).parent for c in cells}
    datasets = {c["dataset"] for c in cells}
    error = other_data_error(
        [path for folder in folders for path in folder.glob("*.json")],
        lambda cell: (
            dataset_source(cell["dataset"], args.data_dir)
            if cell.get("dataset") in datasets
            else None
        ),
    )
    if error:  # the report would average cells of both
        raise ResultsError(error)
    todo = cells_to_run(
        cells,
        lambda c: cell_path(c, args.results_dir),
        lambda c: finished_content(cell_path(c, args.results_dir), c),
        args.rerun_other_versions,
    )
    if not todo:  # logged, it would be listed as a run that made the results
        print(f"{args.suite}: all {len(cells)} cells had finished; nothing ran")
        return
    commit = code_version()  # the code the cells run, not the code at their end
    start = time.perf_counter()
    with parallel_backend(args.backend, n_jobs=args.n_jobs):
        Parallel(verbose=joblib_verbosity(args.n_jobs))(
            delayed(run_cell_by_name)(cell, args.data_dir, args.results_dir)
            for cell in todo
        )
    wall = time.perf_counter() - start
    # As a person would copy it: with where it read and wrote, when not the
    # defaults (copied without them, it wrote into the committed results).
    command = (
        "python benchmarks/openset_benchmark.py"
        + path_option("--results-dir", args.results_dir, RESULTS)
        + f" run {args.suite}"
        + (" --quick" if args.quick else f" --trials {args.trials}")
        + path_option("--data-dir", args.data_dir, DEFAULT_DATA)
    )
    if tuple(args.noise) != NOISE_RATIOS:
        command += " --noise " + " ".join(map(str, args.noise))
    if args.strategies:
        command += " --strategies " + " ".join(f"'{s}'" for s in args.strategies)
    command += f" --n-jobs {args.n_jobs}"
    if args.rerun_other_versions:
        command += f" {RERUN_OPTION}"
    if args.backend != BACKEND:
        command += f" --backend {args.backend}"
    if args.scheduler is not None:
        command += f" --scheduler {shlex.quote(args.scheduler)}"
    run = {
        "command": command,
        "cells": len(cells),
        "ran": len(todo),  # the others had finished in an earlier run
        "skipped_splits": [list(key) for key in skipped],
        "wall_seconds": wall,
        "machine": machine_description(threads_in_cell("cpu")),
        "commit": commit,
        "date": time.strftime("%Y-%m-%d"),
    }
    log = args.results_dir / "cells" / suite / "_runs.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as f:
        f.write(json.dumps(run) + "\n")
    print(
        f"{args.suite}: ran {len(todo)} of {len(cells)} cells in {wall:.0f} s"
        + (f"; skipped class splits: {len(skipped)}" if skipped else "")
    )


def check_run_args(parser, args):
    """Refuse a run whose options would not apply, would run a cell twice or
    leave none; fill defaults.

    The run log records the options as given: one that did not apply would
    log a run that never happened.
    """
    if args.quick and (args.trials is not None or args.noise is not None):
        parser.error(
            "--quick runs one trial at 40% noise; drop --trials and --noise, or --quick"
        )
    if args.noise is not None and args.suite not in ("tabular", "fashion"):
        parser.error(
            f"--noise applies to the tabular and fashion suites; the {args.suite} "
            "suite has its own noise ratios"
        )
    refuse_repeats(parser, args, "--noise", "--strategies")
    # Else an unknown backend failed after the data were loaded, and a scheduler
    # went unused.
    backends = sorted({*joblib.parallel.BACKENDS, *joblib.parallel.EXTERNAL_BACKENDS})
    if args.backend not in backends:
        parser.error(
            f"--backend {args.backend!r} is no joblib backend; choose from {backends}"
        )
    if args.scheduler is not None and args.backend != "dask":
        parser.error(
            "--scheduler applies to --backend dask only; add that or drop --scheduler"
        )
    if args.backend == "dask":
        try:
            import distributed  # noqa: F401  (joblib's dask backend needs a client)
        except ImportError:
            parser.error(
                "--backend dask needs dask's distributed package: pip install "
                "'dask[distributed]', or choose another --backend"
            )
    args.trials = TRIALS if args.trials is None else args.trials
    args.noise = NOISE_RATIOS if args.noise is None else args.noise
    cells = grid(args.suite, args.quick, args.trials, args.noise)
    available = list(dict.fromkeys(c["strategy"] for c in cells))
    unknown = [s for s in args.strategies or () if s not in available]
    if unknown:
        parser.error(
            f"the {args.suite}{' --quick' if args.quick else ''} suite has no cells "
            f"of {unknown}; choose from {available}"
        )
    require_dataset_folders(parser, args.data_dir, {c["dataset"] for c in cells})


def main():
    parser = Parser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run (or finish) a suite")
    run.add_argument(
        "suite",
        choices=["tabular", "fashion", "ablations", "classifiers"],
        help="the cells to run: tabular (every strategy on letter, penbased, "
        "satimage and segment), fashion (every strategy on Fashion-MNIST), "
        "ablations (MQ-Net's variants, and the cost of labelling OOD) or "
        "classifiers (MQ-Net and the baselines with scikit-learn classifiers)",
    )
    run.add_argument(
        "--quick", action="store_true", help="one dataset, one trial, 40%% noise"
    )
    run.add_argument(
        "--trials", type=positive_int, help=f"trials per cell (default: {TRIALS})"
    )
    run.add_argument(
        "--noise",
        type=ratio,
        nargs="+",
        action=Repeatable,
        help="noise ratios of the tabular and fashion suites, each in [0, 1) "
        f"(default: {' '.join(map(str, NOISE_RATIOS))})",
    )
    run.add_argument(
        "--strategies",
        nargs="+",
        action=Repeatable,
        choices=STRATEGIES,
        metavar="STRATEGY",
        help="run only the cells of these strategies, each one of "
        f"{', '.join(map(repr, STRATEGIES))} (default: all of the suite)",
    )
    run.add_argument(
        "--n-jobs",
        type=job_count,
        default=2,
        help="cells run in parallel, as joblib counts: -1 for every core (default: 2)",
    )
    run.add_argument(
        "--backend",
        default=BACKEND,
        help="the joblib backend the cells run on, e.g. dask for a cluster "
        "(default: loky, processes of this machine)",
    )
    run.add_argument(
        "--scheduler",
        help="with --backend dask: the scheduler address (default: a local cluster)",
    )
    add_rerun_option(run)
    add_data_dir(run)
    report = commands.add_parser(
        "report", help="tables, figures and RESULTS.md from the cells"
    )
    add_results_dir(parser, RESULTS, "cells and report", commands=(run, report))
    args = parser.parse_args()
    if args.command == "run":
        check_run_args(run, args)
    try:
        if args.command == "run" and args.backend == "dask":
            from distributed import Client

            with Client(args.scheduler):  # joblib's dask backend needs a client
                run_suite(args)
        elif args.command == "run":
            run_suite(args)
        else:
            from report import write_report

            if write_report(args.results_dir) is None:
                sys.exit(1)  # nothing to report: said why
    except InvalidCellError as error:  # a foreign or damaged file among the cells
        sys.exit(invalid_cell_message(error, "report"))
    except UnreadableCellError as error:  # says what to do
        sys.exit(str(error))
    except ResultsError as error:  # a damaged run log, or nothing could run
        sys.exit(str(error))


if __name__ == "__main__":
    # Cells are written whole or not at all, so a rerun finishes the suite.
    with stopped_by_signals(*INTERRUPTED):
        main()
