"""CIFAR-10 open-set active learning: the paper's Table 1 protocol, and slices of it.

Every (preset, split, noise, strategy) cell runs :func:`make_cifar_split`
(one trial per class split, seeded by the split's index, as the paper) and
:func:`run_active_learning`, and is written to
``results/cells/cifar-<preset>/<cell>.json`` as soon as it finishes; a
rerun skips finished cells (naming those other versions of the code wrote,
which ``--rerun-other-versions`` runs again), and is refused where they were
made from other ``--data`` (the cells record its fingerprint). The contrastive purity
encoder is fitted once per (split, noise) on the unlabelled pool, before the
cells, and cached on disk (``joblib.Memory``), so every strategy of a trial
scores with the same one. On the CPU, encoders and cells run on one thread
each, so that their numbers do not depend on ``--n-jobs``.

    python benchmarks/cifar.py run cpu-slice [--n-jobs 2]  # see the preset below
    python benchmarks/cifar.py run table1 --device cuda --n-jobs 1
    python benchmarks/cifar.py report

``--results-dir DIR`` (before or after the command; ``--results`` is the same)
reads and writes the cells and the report under DIR instead of ``results/``:
a trial run that leaves the committed results alone.

Presets:

* ``table1``: the exact protocol (all 50,000 training images, five splits,
  noise 10-60%, b = 500, 10 rounds), every strategy of the library, the
  fast ResNet-18 recipe; meant for a GPU.
* ``cpu-slice``: a fixed stratified 10,000-image subsample of the training
  images (and 2,500 of the test images, of which the 1,000 IN ones are the
  test set), splits 0-2, noise 20/40/60%, b = 150 (the paper's 500 scaled
  to the smaller pool), 4 rounds, a width-8 ResNet-18 trained 8 epochs, the
  encoder for half an epoch; RANDOM, CONF, BADGE, P*I, MQ-Net (exp-z+latest+top-k),
  MQ-Net, its learnt and no-meta-model columns and the open-set baselines LfOSA,
  EOAL, SIMILAR and CCAL (``--strategies`` runs some columns only). Its
  last whole run, the 108 cells, took 51 minutes on 2 cores; an earlier run
  of the four baselines' 36 cells alone took 18
  (``results/cells/cifar-cpu-slice/_runs.jsonl``).
* ``cpu-validation``: the cpu-slice protocol on splits 3 and 4 with trial
  seeds 103 and 104, the learnt (random-start) and no-meta-model MQ-Net
  columns, the selector started from the rule (the defaults since
  2026-11-29) and fixed balances only; for checking defaults on splits no
  reported run uses.
* ``cpu-validation-starts``: the same on trial seeds 203 and 204, the
  selector's random and rule starts only.
* ``gpu-lease``: split 0 at 40% noise, RANDOM, CONF, MQ-Net and its
  no-meta-model column, b = 500, 10 rounds (see ``benchmarks/gpu_cifar.py``).
* ``gpu-defaults``: the ``gpu-lease`` trial with today's MQ-Net defaults
  (``gpu-lease`` keeps those of its cells).
* ``tiny``: whatever images ``--data`` holds, 2 rounds, 1 encoder epoch; CI.

Purity-based strategies (P+I, P*I and the MQ-Nets, paper presets included)
use the contrastive encoder's purity, as the paper uses CSI's; CCAL uses the
encoder's features for its semantic and distinctive scores. In the presets
whose cells ran before 2026-12-02 (``cpu-slice``, the validation presets and
``gpu-lease``), the MQ-Net columns that leave informativeness or
``rule_weight`` at the library's default take the default of the time those
cells ran instead: least confidence and the learnt selector alone
(``mqnet_defaults``), the selector on the CPU. In MQ-Net cells,
the AUROC of IN vs OOD of every purity score on 1,000 unlabelled pool images
is recorded each round (``purity_auroc_<score>``).
"""

import json
import os
import sys
import time
import warnings
import zipfile
from itertools import product
from pathlib import Path

from _common import (
    INTERRUPTED,
    ResultsError,
    add_results_dir,
    cell_failure,
    cell_threads,
    code_version,
    folder_path,
    joblib_verbosity,
    machine_description,
    missing_device_error,
    require_data,
    stopped_by_signals,
    threads_in_cell,
    torch_device,
)

import numpy as np
import torch
from joblib import Memory, Parallel, delayed, effective_n_jobs
from sklearn.base import clone
from sklearn.model_selection import train_test_split

from _cells import (
    CIFAR_CELLS,
    RERUN_OPTION,
    InvalidCellError,
    UnreadableCellError,
    add_rerun_option,
    cells_to_run,
    data_fingerprint,
    finished_content,
    invalid_cell_message,
    made_from,
    other_data_error,
    write_cell,
)
from openset_benchmark import (
    LOSS_HEAD_STRATEGIES,
    STRATEGIES,
    cell_name,
    make_strategy,
)
from skal_openset import (
    CIFAR10_CLASSES,
    CIFAR_BUDGET,
    CIFAR_ROUNDS,
    ContrastiveEncoder,
    ContrastivePurity,
    MetaQueryNetSelector,
    MQNetQuery,
    PurityAUROC,
    load_cifar_batches,
    load_image_folder_zip,
    make_cifar_split,
    make_fast_resnet_classifier,
    run_active_learning,
)
from skal_openset._argtypes import Parser, Repeatable, job_count, user_path
from skal_openset._contrastive import encoder_code
from skal_openset._experiment import versions

HERE = Path(__file__).parent
RESULTS = HERE / "results"
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "cifar10-jpeg.zip"
DEFAULT_CACHE = HERE / ".cache"

PRESETS = {
    "table1": dict(
        splits=(0, 1, 2, 3, 4),
        noises=(0.1, 0.2, 0.4, 0.6),
        strategies=STRATEGIES,
        budget=CIFAR_BUDGET,
        rounds=CIFAR_ROUNDS,
        pool_size=None,
        test_size=None,
        net=dict(width=64, max_epochs=60, batch_size=256, min_steps_per_epoch=16),
        encoder=dict(width=32, batch_size=256, max_epochs=30, max_seconds=120),
    ),
    "cpu-slice": dict(
        splits=(0, 1, 2),
        noises=(0.4, 0.6, 0.2),  # run in this order: the goals are at 40/60%
        strategies=(
            "RANDOM",
            "CONF",
            "BADGE",
            "P*I",
            "MQ-Net (exp-z+latest+top-k)",
            "MQ-Net",
            "MQ-Net (learnt meta-model)",
            "MQ-Net (no meta-model)",
            "LfOSA",
            "EOAL",
            "SIMILAR",
            "CCAL",
        ),
        budget=150,
        rounds=4,
        pool_size=10_000,
        test_size=2_500,
        net=dict(width=8, max_epochs=8, batch_size=64, min_steps_per_epoch=4),
        encoder=dict(width=8, batch_size=64, max_epochs=0.5),
        # Its cells (and the validation presets') ran with least confidence
        # and rule_weight=0, the defaults until 2026-12-02; a rerun here would
        # not reproduce them anyway, so they keep those rather than mix.
        mqnet_defaults=dict(informativeness="least_confidence", rule_weight=0.0),
    ),
    "gpu-lease": dict(
        splits=(0,),
        noises=(0.4,),
        strategies=("RANDOM", "CONF", "MQ-Net", "MQ-Net (no meta-model)"),
        budget=CIFAR_BUDGET,
        rounds=CIFAR_ROUNDS,
        pool_size=None,
        test_size=None,
        net=dict(width=64, max_epochs=60, batch_size=256, min_steps_per_epoch=16),
        encoder=dict(width=32, batch_size=256, max_epochs=30, max_seconds=90),
        # Its cells ran with those defaults; gpu-defaults runs today's.
        mqnet_defaults=dict(informativeness="least_confidence", rule_weight=0.0),
    ),
    "tiny": dict(
        splits=(0,),
        noises=(0.4,),
        strategies=("RANDOM", "MQ-Net", "CCAL"),
        budget=20,
        rounds=2,
        pool_size=None,
        test_size=None,
        net=dict(width=2, max_epochs=1, batch_size=16),
        encoder=dict(width=2, batch_size=16, max_epochs=1),
    ),
}

# Diagnostics: fixed balances w P + (1 - w) I, to see how far the best one is
# from the rule P + I (w = 0.5) on images.
BALANCES = tuple(f"MQ-Net (fixed balance w={w})" for w in (0.1, 0.25, 0.75, 0.9))
# Defaults are checked here, not on the reported presets: the cpu-slice
# protocol on class splits 3 and 4 with trial seeds 103 and 104, which no
# reported run uses.
PRESETS["cpu-validation"] = {
    **PRESETS["cpu-slice"],
    "splits": (3, 4),
    "seed_offset": 100,
    "strategies": (
        "MQ-Net (learnt meta-model)",
        "MQ-Net (no meta-model)",
        "MQ-Net (started from the rule)",
        *BALANCES,
    ),
}
# More unreported trials of the two selector starts (seeds 203 and 204), which
# the tables and Fashion-MNIST chose between.
PRESETS["cpu-validation-starts"] = {
    **PRESETS["cpu-validation"],
    "seed_offset": 200,
    "strategies": ("MQ-Net (learnt meta-model)", "MQ-Net (started from the rule)"),
}

# The gpu-lease trial with the library's defaults of 2026-12-02 (margin, the
# one-half switch), which no GPU had run; RANDOM and CONF again, as the data
# carried to the GPU are not the gpu-lease's.
PRESETS["gpu-defaults"] = {
    **{k: v for k, v in PRESETS["gpu-lease"].items() if k != "mqnet_defaults"},
    "strategies": ("MQ-Net", "MQ-Net (no meta-model)", "RANDOM", "CONF"),
}

# Every purity score whose AUROC is recorded; the encoder ones are added per cell.
AUROC_SCORES = ("knn", "knn_contrast", "msp", "energy", "mahalanobis")
PURITY_STRATEGIES = (
    "P+I",
    "P*I",
    # The paper's CSI purity is this encoder's cosine score.
    "MQ-Net (paper preset)",
    "MQ-Net (paper preset, LL head)",
    "MQ-Net (exp-z+latest+top-k)",
    "MQ-Net (learnt meta-model)",
    "MQ-Net (no meta-model)",
    "MQ-Net (started from the rule)",
    *BALANCES,
    "MQ-Net",
)


def data_error(data):
    """Why `data` cannot be CIFAR-10's images, or None: a folder without its
    pickle batches (load_cifar_batches also reads CIFAR-100's, whose fine labels
    would run as CIFAR-10 classes)."""
    data = Path(data)
    if not data.exists():
        return f"{data} is missing; pass the CIFAR-10 image-folder zip or folder"
    if data.is_dir() and not (data / "data_batch_1").is_file():
        found = sorted(p.name for p in data.iterdir())
        return (
            f"{data} is no CIFAR-10 pickle folder: it holds {found[:8]}, not "
            "data_batch_1 ... data_batch_5 and test_batch; pass the "
            "cifar-10-batches-py folder or the CIFAR-10 image-folder zip"
        )
    if data.is_file() and not zipfile.is_zipfile(data):
        return (
            f"{data} is no zip file; pass the CIFAR-10 image-folder zip or the "
            "cifar-10-batches-py folder"
        )
    return None


def load_cifar(data, cache_dir, pool_size=None, test_size=None):
    """Training and test images of a zip (image folders) or a pickle folder.

    ``pool_size`` / ``test_size`` keep a fixed stratified random subsample.
    A ValueError if `data` is not CIFAR-10 (see :func:`data_error`) or its
    pickle batches hold labels outside 0..9.
    """
    data = Path(data)
    error = data_error(data)
    if error:
        raise ValueError(error)
    if data.is_dir():  # batches of labels outside 0..9 are refused there
        X, y, X_test, y_test = load_cifar_batches(data)
    else:
        cache_dir.mkdir(parents=True, exist_ok=True)
        X, y, X_test, y_test, _ = load_image_folder_zip(
            data, CIFAR10_CLASSES, cache_path=cache_dir / f"{data.stem}.npz"
        )
    if pool_size is not None:
        keep, _ = train_test_split(
            np.arange(len(y)), train_size=pool_size, stratify=y, random_state=0
        )
        X, y = X[np.sort(keep)], y[np.sort(keep)]
    if test_size is not None:
        keep, _ = train_test_split(
            np.arange(len(y_test)),
            train_size=test_size,
            stratify=y_test,
            random_state=0,
        )
        X_test, y_test = X_test[np.sort(keep)], y_test[np.sort(keep)]
    return X, y, X_test, y_test


def trial_seed(preset, split):
    """The seed of a trial: its split index, plus the preset's `seed_offset`."""
    return split + PRESETS[preset].get("seed_offset", 0)


def make_split(preset, split, noise, data, cache_dir):
    config = PRESETS[preset]
    X, y, X_test, y_test = load_cifar(
        data, cache_dir, config["pool_size"], config["test_size"]
    )
    return make_cifar_split(
        X,
        y,
        X_test,
        y_test,
        split=split,
        noise_ratio=noise,
        budget=config["budget"],
        random_state=trial_seed(preset, split),
    )


def fit_encoder(preset, split, noise, data, cache_dir, device, config):
    """The trial's encoder, fitted on the unlabelled pool (pool less initial set)
    with the threads of a cell (:func:`cell_threads`).

    `config` is ``PRESETS[preset]``, passed so that the cache of encoders is
    keyed by it: an edited preset (its encoder, pool or budget) got the
    encoder fitted before the edit. A failure names the trial: a worker's
    traceback does not.
    """
    try:
        with cell_threads(device):
            s = make_split(preset, split, noise, data, cache_dir)
            unlabelled = np.setdiff1d(np.arange(len(s.y_pool)), s.initial_idx)
            encoder = ContrastiveEncoder(
                device=device,
                random_state=trial_seed(preset, split),
                **config["encoder"],
            )
            return encoder.fit(s.X_pool[unlabelled])
    except Exception as exc:
        what = f"The encoder of preset {preset}, split {split}, noise {noise}"
        raise cell_failure(what, exc) from exc


def _memory(cache_dir, data):
    """The encoders' cache, one folder per data content and encoder code:
    another zip at the same path must not get the encoders fitted on the first
    one's images, nor a fixed encoder those its earlier code trained (joblib
    sees the source of the cached function only)."""
    key = data_fingerprint(data)
    return Memory(cache_dir / "encoders" / key / encoder_code(), verbose=0)


def cell_path(results, cell):
    return results / "cells" / f"cifar-{cell['preset']}" / f"{cell_name(cell)}.json"


def finished(results, cell):
    """The content of `cell`'s file in `results` when it is a valid one, else
    None (a damaged one warns)."""
    rounds = PRESETS[cell["preset"]]["rounds"]
    return finished_content(cell_path(results, cell), cell, CIFAR_CELLS, rounds)


def foreign_data_error(results, preset, data):
    """Why `preset`'s cells in `results` cannot take a run on `data`, or None
    (:func:`_cells.other_data_error`)."""
    paths = (results / "cells" / f"cifar-{preset}").glob("*.json")
    return other_data_error(paths, lambda cell: data, CIFAR_CELLS)


def run_cell(cell, data, results, cache_dir, device):
    """Run one cell with the threads of :func:`cell_threads`; return its result
    file's path.

    A failure names the cell: a worker's traceback does not.
    """
    path = cell_path(results, cell)
    try:
        with cell_threads(device):
            return _run_cell(cell, path, data, cache_dir, device)
    except Exception as exc:
        raise cell_failure(f"The cell {path.name}", exc) from exc


def cifar_strategy(preset, name, seed, device="cpu"):
    """The strategy of column `name` in `preset`, its selector on `device`.

    An MQ-Net column's parameters that are at the library's default take
    the preset's ``mqnet_defaults`` where it has them: the defaults its
    committed cells were measured with. Those a column sets itself (the
    paper presets' informativeness, the no-meta-model column's rule weight)
    are kept. The selector trains on the cell's device, except in those
    presets, whose cells trained it on the CPU: on a GPU its fit on 4,500
    query rows takes 0.8 s against 19 s on 16 CPU cores
    (``issue13-selector-device.json``).
    """
    strategy = make_strategy(name, seed)
    strategy.set_params(**measured_defaults(preset, strategy))
    if (
        isinstance(strategy, MQNetQuery)
        and "mqnet_defaults" not in PRESETS[preset]
        and torch.device(device).type != "cpu"
    ):
        # None is the default selector; it takes the strategy's seed then too.
        template = strategy.selector or MetaQueryNetSelector(init="rule")
        if "device" in template.get_params(deep=False):  # not a fixed balance
            strategy.set_params(selector=clone(template).set_params(device=device))
    return strategy


def measured_defaults(preset, strategy):
    """The parameters `preset`'s cells set on `strategy` (a column's, as
    :func:`make_strategy` makes it): its ``mqnet_defaults`` where the column
    leaves today's default; none for other strategies."""
    if not isinstance(strategy, MQNetQuery):
        return {}
    today, params = MQNetQuery().get_params(), strategy.get_params()
    measured = PRESETS[preset].get("mqnet_defaults", {})
    return {key: v for key, v in measured.items() if params[key] == today[key]}


def _run_cell(cell, path, data, cache_dir, device):
    preset, split_index, noise = cell["preset"], cell["split"], cell["noise"]
    config = PRESETS[preset]
    split = make_split(preset, split_index, noise, data, cache_dir)
    encoder = _memory(cache_dir, data).cache(fit_encoder)(
        preset, split_index, noise, data, cache_dir, device, config
    )
    purity = ContrastivePurity(encoder).fit(split.X_pool)
    seed = trial_seed(preset, split_index)
    strategy = cifar_strategy(preset, cell["strategy"], seed, device)
    if cell["strategy"] in PURITY_STRATEGIES:
        strategy.set_params(purity=purity)
    if cell["strategy"] == "CCAL":
        # The bound method: the learner's clone of the strategy copies it
        # fitted (a clone of the encoder itself would be unfitted).
        strategy.set_params(features=encoder.transform)
    estimator = make_fast_resnet_classifier(
        split.n_classes,
        learning_loss=cell["strategy"] in LOSS_HEAD_STRATEGIES,
        device=device,
        random_state=seed,
        **config["net"],
    )
    callback = None
    if cell["strategy"] == "MQ-Net":
        scores = {name: name for name in AUROC_SCORES}
        scores["encoder"] = purity
        scores["encoder_ood"] = ContrastivePurity(encoder, use_ood=True)
        callback = PurityAUROC(split, scores, random_state=seed)
    start = time.perf_counter()
    records = run_active_learning(
        split,
        estimator,
        strategy,
        n_rounds=config["rounds"],
        budget=config["budget"],
        callback=callback,
    )
    result = {
        "cell": cell,
        "in_classes": split.in_classes.tolist(),
        "n_pool": len(split.y_pool),
        "n_test": len(split.y_test),
        "seconds": time.perf_counter() - start,
        "encoder_seconds": encoder.fit_seconds_,
        "encoder_epochs": encoder.n_epochs_,
        "device": device,
        # which data: a run on other data into these cells is refused
        "data": made_from(data),
        # which code: a rerun names the finished cells of other versions
        "versions": versions(),
        "records": records,
    }
    return write_cell(path, result)


def grid(preset):
    config = PRESETS[preset]
    return [
        dict(preset=preset, split=sp, noise=n, strategy=s)
        for n, sp, s in product(
            config["noises"], config["splits"], config["strategies"]
        )
    ]


def strategies_error(preset, strategies):
    """Why `strategies` cannot restrict `preset`'s run; None if all are its columns."""
    unknown = set(strategies or ()) - set(PRESETS[preset]["strategies"])
    if unknown:
        return (
            f"Strategies {sorted(unknown)} are not columns of preset {preset!r}; "
            f"choose from {list(PRESETS[preset]['strategies'])}."
        )
    return None


def run_preset(
    preset,
    *,
    data,
    results,
    cache_dir,
    device,
    n_jobs,
    strategies=None,
    rerun_other_versions=False,
):
    """Run every cell, ``n_jobs`` trials at a time: their encoders, then their cells.

    `strategies` restricts the run to those columns of the preset (None: all).
    Finished cells are skipped, but those other versions of the code wrote
    are named in a warning, or run again where `rerun_other_versions`.

    Trials go noise by noise, in the preset's order, so an interrupted run
    leaves whole trials, every split of the first noise ratios first. The run
    is logged in ``_runs.jsonl``, also when interrupted (Ctrl-C). Returns the
    paths of the cells.
    """
    # joblib's worker processes must import this folder's modules too.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(HERE), os.environ.get("PYTHONPATH")])
    )
    from cifar import fit_encoder as fit_by_name
    from cifar import run_cell as run_by_name

    error = strategies_error(preset, strategies) or foreign_data_error(
        results, preset, data
    )
    if error:
        raise ValueError(error)
    cells = grid(preset)
    if strategies:
        cells = [c for c in cells if c["strategy"] in strategies]
    todo = cells_to_run(
        cells,
        lambda c: cell_path(results, c),
        lambda c: finished(results, c),
        rerun_other_versions,
    )
    trials = list(dict.fromkeys((c["split"], c["noise"]) for c in todo))
    cached_fit = _memory(cache_dir, data).cache(fit_by_name)
    commit = code_version()  # the code the cells run, not the code at their end
    start, encoder_wall, interrupted = time.perf_counter(), 0.0, True
    threads = None  # the cells' torch threads, for the log
    try:
        # As many trials at a time as jobs run (n_jobs=-1: every core).
        per_chunk = effective_n_jobs(n_jobs)
        with Parallel(n_jobs=n_jobs, verbose=joblib_verbosity(n_jobs)) as parallel:
            # Where the cells run: a worker has fewer threads than this process.
            (threads,) = parallel([delayed(threads_in_cell)(device)])
            for first in range(0, len(trials), per_chunk):
                chunk = trials[first : first + per_chunk]
                encoder_start = time.perf_counter()
                parallel(
                    delayed(cached_fit)(
                        preset, sp, n, data, cache_dir, device, PRESETS[preset]
                    )
                    for sp, n in chunk
                )
                encoder_wall += time.perf_counter() - encoder_start
                parallel(
                    delayed(run_by_name)(c, data, results, cache_dir, device)
                    for c in todo
                    if (c["split"], c["noise"]) in chunk
                )
        interrupted = False
    finally:
        wall = time.perf_counter() - start
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a damaged cell left warned already
            ran = sum(finished(results, c) is not None for c in todo)
        run = {
            "command": f"python benchmarks/cifar.py run {preset} --device {device} "
            f"--n-jobs {n_jobs}"
            + (f" {RERUN_OPTION}" if rerun_other_versions else "")
            + (
                " --strategies " + " ".join(f"'{s}'" for s in strategies)
                if strategies
                else ""
            ),
            "cells": len(cells),
            "ran": ran,
            "interrupted": interrupted,
            "encoder_wall_seconds": encoder_wall,
            "wall_seconds": wall,
            "machine": machine_description(threads),
            "commit": commit,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        }
        log = results / "cells" / f"cifar-{preset}" / "_runs.jsonl"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as f:
            f.write(json.dumps(run) + "\n")
        print(f"{preset}: ran {ran} of {len(cells)} cells in {wall:.0f} s")
    return [cell_path(results, c) for c in cells]


def main():
    parser = Parser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run (or finish) a preset")
    run.add_argument(
        "preset",
        choices=sorted(PRESETS),
        help="the protocol to run: table1 (the paper's, for a GPU), cpu-slice "
        "(a 10,000-image subsample for the CPU), cpu-validation and "
        "cpu-validation-starts (defaults checked on splits no reported run "
        "uses), gpu-lease or gpu-defaults (split 0 at 40%% noise, for "
        "gpu_cifar.py; the second with today's MQ-Net defaults) or tiny "
        "(CI); described at the top of benchmarks/cifar.py",
    )
    run.add_argument(
        "--device",
        type=torch_device,
        default="cpu",
        help="torch device of the networks, e.g. cuda (default: cpu)",
    )
    run.add_argument(
        "--n-jobs",
        type=job_count,
        default=2,
        help="trials run in parallel, as joblib counts: -1 for every core (default: 2)",
    )
    run.add_argument(
        "--data",
        type=user_path,
        default=DEFAULT_DATA,
        help="the CIFAR-10 image-folder zip or pickle folder "
        "(default: ../shared/data/cifar10-jpeg.zip next to the repository)",
    )
    run.add_argument(
        "--cache-dir",
        type=folder_path,
        default=DEFAULT_CACHE,
        help="where the decoded images of a zip and the fitted encoders are kept "
        "between runs (default: benchmarks/.cache, whatever --results-dir is)",
    )
    run.add_argument(
        "--strategies",
        nargs="+",
        action=Repeatable,
        help="run only the cells of these columns (default: all of the preset)",
    )
    add_rerun_option(run)
    report = commands.add_parser("report", help="cifar.md and figures from the cells")
    add_results_dir(
        parser,
        RESULTS,
        "cells and report",
        commands=(run, report),
        aliases=("--results",),
        dest="results",
    )
    args = parser.parse_args()
    try:
        if args.command == "run":
            error = strategies_error(args.preset, args.strategies)
            if error:
                run.error(error)
            require_data(run, args.data, "--data", "CIFAR-10 data")
            # Before any work: else a traceback at the first fit, logged as a run.
            error = (
                data_error(args.data)
                or missing_device_error("--device", args.device)
                or foreign_data_error(args.results, args.preset, args.data)
            )
            if error:
                run.error(error)
            run_preset(
                args.preset,
                data=args.data,
                results=args.results,
                cache_dir=args.cache_dir,
                device=args.device,
                n_jobs=args.n_jobs,
                strategies=args.strategies,
                rerun_other_versions=args.rerun_other_versions,
            )
        else:
            from cifar_report import write_cifar_report

            try:
                print(write_cifar_report(args.results))
            except ResultsError as error:
                report.error(str(error))
            except InvalidCellError as error:  # a damaged or foreign cell file
                sys.exit(invalid_cell_message(error, "report"))
    except UnreadableCellError as error:  # of a run or a report; says what to do
        sys.exit(str(error))


if __name__ == "__main__":
    with stopped_by_signals(*INTERRUPTED):
        main()
