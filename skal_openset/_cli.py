"""Command line of skal_openset (loaded by :mod:`skal_openset.__main__` once
:mod:`skal_openset._cli_start` has parsed it).

``skal-openset demo`` compares MQ-Net with the baselines on the embedded
digits data; ``skal-openset run`` runs active learning on your own table,
simulated from its labels or labelled by you (``--interactive``).
"""

import contextlib
import errno
import io
import itertools
import json
import math
import os
import platform
import re
import sys
import tempfile
import threading
import time
import warnings
from functools import partial

import torch
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import (
    BadgeQuery,
    CoreSetQuery,
    MQNetQuery,
    PurityInformativenessQuery,
    RandomQuery,
    UncertaintyQuery,
    load_digits_dataset,
    make_mlp_classifier,
    make_open_set_split,
    plot_learning_curves,
    run_active_learning,
    summarize_final_round,
)
from ._atomic import InterruptedAfterReplacing, atomic_paths, folder_lock
from ._campaign import (
    STATE_FILE,
    check_in_classes,
    load_table,
    run_interactive,
    simulated_split,
    table_fingerprint,
)
from ._datasets import _floor2, _InitialSizeError, _TooFewOODError
from ._experiment import (
    _FINGERPRINT_PARTS,
    _check_budget,
    _OtherExperimentError,
    records_csv_text,
)
from ._oracle import as_decimal, labels_within
from ._plots import wrap_to_width
from ._signals import (
    output_flushed,
    output_refused,
    sigterm_as_ctrl_c,
    stop_reason,
)
from ._threads import one_torch_thread
from ._warn import warn

# Named as the parser names them (_cli_start.STRATEGY_NAMES), in its order.
STRATEGIES = {
    "MQ-Net": MQNetQuery,
    "RANDOM": RandomQuery,
    "CONF": UncertaintyQuery,
    "CORESET": CoreSetQuery,
    "BADGE": BadgeQuery,
    "P+I": PurityInformativenessQuery,
}


def _count(n, noun):
    """`n` and `noun`, plural unless `n` is 1: "1 round", "3 rounds"."""
    return f"{n} {noun}{'s' * (n != 1)}"


def _leaves_a_choice(n_unlabelled, n_queries, per_round):
    """Whether `n_queries` rounds of `per_round` labels from `n_unlabelled`
    rows leave the last round a choice among at least twice its labels.

    A last round that buys (nearly) every row left makes the strategies end
    with (nearly) the same labelled set, whatever they chose before.
    """
    return n_unlabelled >= (n_queries + 1) * per_round


def demo_records(seeds, n_rounds, budget, noise_ratio, *, progress=False, out=None):
    """Records of every demo strategy on digits (4 IN / 6 OOD), one run per seed.

    Each seed draws the IN classes, the pool, the initial set (of size
    `budget`) and the nets' initialisation; every strategy runs on the same
    draws. A line per strategy goes to `out` as soon as its runs end.
    """
    X, y = load_digits_dataset()
    # Every seed's draw, so that a refusal names what works for all of them.
    splits, pools, largest_noise = [], [], []
    for seed in seeds:
        try:
            split = make_open_set_split(
                X,
                y,
                n_in_classes=4,
                noise_ratio=noise_ratio,
                initial_size=budget,
                random_state=seed,
            )
        except _TooFewOODError as exc:
            largest_noise.append(exc.largest)
        except _InitialSizeError as exc:  # refused below, in --budget's words
            pools.append(exc.n_pool)
        else:
            splits.append(split)
            pools.append(split.y_pool.size)
    if largest_noise:
        raise ValueError(
            f"--noise {noise_ratio:g} needs more OOD digits than the 6 OOD "
            "classes hold beside some draws of the 4 IN ones: lower --noise to "
            f"at most {_floor2(min(largest_noise))}."
        )
    n_pool = min(pools)
    if not _leaves_a_choice(n_pool - budget, n_rounds - 1, budget):
        most = n_pool // (n_rounds + 1)
        remedy = (
            f"lower --budget to at most {most}"
            + (", or --rounds" if n_rounds > 2 else "")  # 2 is the fewest
            if most >= 1
            else f"lower --rounds to at most {n_pool - 1} with --budget 1"
        )
        raise ValueError(
            f"The pool holds {n_pool} examples: the initial set and "
            f"{_count(n_rounds - 1, 'round')} of {budget} labels must "
            f"leave the last round at least twice its {budget} to choose from, or "
            f"every strategy ends with the same labels; {remedy} (budget x "
            "(rounds + 1) <= pool)."
        )
    records = []
    for name, strategy in STRATEGIES.items():
        start = time.perf_counter()
        runs = []
        for seed, split in zip(seeds, splits):
            estimator = make_mlp_classifier(
                X.shape[1],
                split.n_classes,
                hidden_sizes=(128,),
                max_epochs=50,
                random_state=seed,
            )
            runs += [
                {"strategy": name, "trial": seed, **record}
                for record in run_active_learning(
                    split,
                    estimator,
                    strategy(random_state=seed),
                    n_rounds=n_rounds,
                    budget=budget,
                    progress=progress,
                )
            ]
        records += runs
        if out is not None:
            (row,) = summarize_final_round(runs)
            print(
                f"{name:8s} final accuracy {row['accuracy_mean']:.3f}  "
                f"AUC {row['auc_mean']:.3f}  OOD labels bought "
                f"{row['ood_labels_mean']:5.1f} of {budget * (n_rounds - 1)}  "
                f"({time.perf_counter() - start:.0f} s)",
                file=out,
                flush=True,
            )
    return records


def summary_table(rows):
    """Markdown table of `summarize_final_round` rows, best AUC first.

    The spread over trials only where there are several: the std of one
    trial is 0 whatever its accuracy, which would read as a sure result.
    """
    rows = sorted(rows, key=lambda r: -r["auc_mean"])
    spread = any(r["n_trials"] > 1 for r in rows)

    def accuracy(r):
        if r["n_trials"] == 1:
            return f"{r['accuracy_mean']:.3f}"
        return f"{r['accuracy_mean']:.3f} +- {r['accuracy_std']:.3f}"

    return [
        (
            f"| strategy | final accuracy{' (mean +- std)' * spread} | AUC "
            "| OOD labels bought | IN share of queries | s per run |"
        ),
        "| --- | --- | --- | --- | --- | --- |",
        *(
            f"| {r['strategy']} | {accuracy(r)} "
            f"| {r['auc_mean']:.3f} | {r['ood_labels_mean']:.1f} "
            f"| {r['in_share_mean']:.2f} | {r['seconds_mean']:.1f} |"
            for r in rows
        ),
    ]


def run_demo(output, n_trials, n_rounds, budget, noise_ratio, progress=False):
    """Run the demo, print its table and write its outputs once all is done;
    return their paths (see :func:`_write_outputs`)."""
    _check_no_other_run_in(output)
    _check_outputs_free(output, DEMO)
    setting = (
        f"Digits, 4 IN / 6 OOD classes, noise {noise_ratio:.0%}, initial set and "
        f"budget {budget} labels x {_count(n_rounds - 1, 'round')}, "
        f"{_count(n_trials, 'trial')}"
    )
    print(setting, flush=True)
    start = time.perf_counter()
    records = demo_records(
        list(range(n_trials)),
        n_rounds,
        budget,
        noise_ratio,
        progress=progress,
        out=sys.stdout,
    )
    rows = summarize_final_round(records)
    table = summary_table(rows)
    print("\n" + "\n".join(table))
    lines = [
        setting,
        "",
        *table,
        "",
        _auc_note(every_label_costs_1=True),
        "",
        _machine_note(time.perf_counter() - start),
    ]
    return _write_outputs(output, DEMO, records, rows, lines, setting)


def _machine_note(seconds):
    """Where and how fast the runs ran, so that a summary's seconds and the
    README's timing can be traced to a machine."""
    return (
        f"Ran in {seconds:.0f} s (every run, without Python's start-up) on "
        f"{platform.machine() or 'an unknown architecture'} with "
        f"{_count(os.cpu_count() or 1, 'CPU')}, torch {torch.__version__} "
        f"on {_count(torch.get_num_threads(), 'thread')}."
    )


def _auc_note(every_label_costs_1):
    """What the summary's AUC is, as summarize_final_round computes it: over
    the budget spent, which is the labels bought when every label costs 1."""
    over = (
        "the labels bought"
        if every_label_costs_1
        else "the budget spent, the figure's x axis, rather than the labels bought"
    )
    return (
        f"AUC: test accuracy averaged over {over} (area under the learning "
        "curve). OOD labels bought are budget wasted: they never train the "
        "classifier."
    )


# What a demo or a simulated run writes to its --output folder.
_DATA_FILES = ["records.csv", "summary.md", "summary.json"]
_FIGURE_FILE = "learning_curves.png"
OUTPUT_FILES = [*_DATA_FILES, _FIGURE_FILE]

# How every output's text is written, as atomic_open's "w" writes it.
_TEXT = {"encoding": "utf-8", "newline": ""}

# The state file each kind of run resumes from (the demo has none).
CHECKPOINT_FILE = "checkpoint.joblib"  # a simulated run's, in its output folder
_RUN_STATES = {CHECKPOINT_FILE: "a simulated", STATE_FILE: "an interactive"}

# Each command, with the outputs it replaces at its end and its state.
DEMO, SIMULATED, INTERACTIVE = (
    "skal-openset demo",
    "skal-openset run",
    "skal-openset run --interactive",
)
_WRITES = {
    DEMO: (OUTPUT_FILES, None),
    SIMULATED: (OUTPUT_FILES, CHECKPOINT_FILE),
    INTERACTIVE: (["records.csv"], STATE_FILE),
}
# Written with the outputs, it names the command that wrote them: a rerun
# may replace that command's outputs, and no file of a user's of those names.
MARKER_FILE = ".skal-openset-outputs"
# Every file a command writes in its --output, each atomically: the hidden
# copies of them that a killed run left are removed by the next (folder_lock).
_WRITTEN = [*OUTPUT_FILES, MARKER_FILE, *_RUN_STATES, "queries/round_*.csv"]


@contextlib.contextmanager
def _outputs(output, command, names, removed=()):
    """:func:`atomic_paths` of `names` in `output`, with the marker saying
    that `command` wrote them, and the files `removed` of `output` deleted."""
    paths = [*(output / name for name in names), output / MARKER_FILE]
    removed = [output / name for name in removed]
    with atomic_paths(paths, removed) as (*temps, marker):
        marker.write_text(f"{command}\n", encoding="utf-8")
        yield temps


def _write_outputs(output, command, records, rows, summary_lines, title, x="labels"):
    """records.csv, summary.json, summary.md and learning_curves.png (against
    `x`, see plot_learning_curves), marked as `command`'s.

    Everything is computed before anything is written, and the files replace
    those of an earlier run all together or, if the command is interrupted or
    fails (a full disk), not at all: never a mix of two runs' files. A figure
    that fails to draw costs only itself: the other files are written, an
    earlier run's figure is removed, and a warning says why. Returns the
    paths of the files written, for a stop after them to say so.
    """
    try:
        figure = _learning_curves_png(records, title, x)
    except Exception as exc:  # the whole run's records outweigh its figure
        figure, failure = None, exc
    names = OUTPUT_FILES if figure is not None else _DATA_FILES
    # An earlier run's figure goes as the new files come, whatever stops the
    # command after (a Ctrl-C during the renames, a print to a closed pipe).
    stale = [] if figure is not None else [_FIGURE_FILE]
    with _outputs(output, command, names, stale) as (
        records_csv,
        summary_md,
        summary_json,
        *curves_png,
    ):
        # As text to the outputs' own temporary file: a failure names the
        # output, not a second temporary file that write_records_csv made.
        records_csv.write_text(records_csv_text(records), **_TEXT)
        summary_md.write_text("\n".join(summary_lines) + "\n", **_TEXT)
        summary_json.write_text(json.dumps(rows, indent=2) + "\n", **_TEXT)
        for path in curves_png:
            path.write_bytes(figure)
    written = [output / name for name in names]
    with _stops_after_writing(written):
        print(f"\nWrote {output}/{', '.join(names)}")
        output_flushed()  # the command's last output: a stop there is said
        if figure is None:
            warn(
                f"{_FIGURE_FILE} was not written: drawing it failed "
                f"({type(failure).__name__}: {failure}). The records and summary "
                f"are written: plot them with skal_openset.plot_learning_curves("
                f"pandas.read_csv({str(output / 'records.csv')!r}), x={x!r})."
            )
    return written


@contextlib.contextmanager
def _stops_after_writing(written):
    """A stop in the block, the command's last output once its outputs
    `written` are complete (held up by a reader that stopped reading or not),
    is raised as :class:`InterruptedAfterReplacing` of them, for
    :func:`run_command` to say so."""
    try:
        yield
    except KeyboardInterrupt:
        raise InterruptedAfterReplacing(written) from None


def _check_no_other_run_in(output, own_state=None):
    """Refuse an `output` folder holding the state of another kind of run than
    the one resuming from `own_state`: its records and summary would be
    replaced, beside a state that no longer matches them."""
    for state, kind in _RUN_STATES.items():
        if state != own_state and (output / state).exists():
            raise ValueError(
                f"--output {output} holds {state}, the state of {kind} run: "
                "choose another --output for this one."
            )


def _check_outputs_free(output, command, data=None):
    """Refuse, before any work, an `output` folder where `command` would write
    over the `data` file, or over files of its outputs' names that no earlier
    run of it wrote (no marker of it beside them), or make a file outside the
    folder through a link to no file, or find a folder where it writes a
    file."""
    names, state = _WRITES[command]
    marker = output / MARKER_FILE
    if marker.is_symlink():  # writing the marker would write the file it names
        raise ValueError(
            f"--output {output} holds {MARKER_FILE} as a symbolic link; a run "
            "makes that file itself (it says which command wrote the outputs "
            "beside it) and writes into no file it did not make: remove it and "
            "run again."
        )
    written = [output / name for name in (*names, state) if name is not None]
    if command == INTERACTIVE:  # and its query files, where blank, in their folder
        written += [output / "queries", *sorted(output.glob("queries/round_*.csv"))]
    # Found only as the run wrote the file there, after the work.
    folders = [
        str(path.relative_to(output))
        for path in (*written, marker)
        if path.is_dir() and path != output / "queries"
    ]
    if folders:
        one = len(folders) == 1
        raise ValueError(
            f"--output {output} holds {', '.join(folders)} as "
            f"{'a folder' if one else 'folders'}, where a run writes a file of "
            f"that name: remove or rename {'it' if one else 'them'} and run again."
        )
    if data is not None and data.exists():
        # Through links too: the outputs replace the file a link names.
        for path in written:
            if path.exists() and os.path.samefile(data, path):
                raise ValueError(
                    f"--output {output}: this run writes its "
                    f"{path.relative_to(output)} there, which is the data file "
                    f"{data}; choose another --output, or the data would be lost."
                )
    # Refused even where the marker or state says the command wrote there:
    # it makes no link, and would make the missing file, outside the folder.
    # (A link to an existing file is kept, and that file replaced, as
    # atomic_paths writes a user's link.)
    dangling = [
        str(path.relative_to(output))
        for path in written
        if path.is_symlink() and not path.exists()
    ]
    if dangling:
        raise ValueError(
            f"--output {output} holds {', '.join(dangling)} as a symbolic link to "
            "no file; a run would make the file it names, outside the folder: "
            "remove the link and run again."
        )
    # A state is no proof: a run stopped before its first outputs leaves one
    # without them, beside which a user's file of their names may lie.
    existing = [name for name in names if (output / name).exists()]
    if not existing:
        return
    try:
        marked = marker.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        marked = None
    if marked == command:
        return
    them = "it" if len(existing) == 1 else "them"
    held = f"--output {output} holds {', '.join(existing)}, which {command} would "
    if marked in _WRITES:
        raise ValueError(
            f"{held}write over, and {marked} wrote {them}: move {them} out of the "
            "folder, or choose another --output."
        )
    # Before the marker, a run marked nothing: its outputs may be these.
    raise ValueError(
        f"{held}write over, and no {MARKER_FILE} there says that {command} wrote "
        f"{them} (versions of skal-openset before it wrote none): if an earlier "
        f"run of {command} wrote {them}, delete {them}; else move {them} out of "
        "the folder, or choose another --output."
    )


def _make_estimator(kind, n_features, n_classes, seed):
    if kind == "forest":
        return RandomForestClassifier(n_estimators=200, random_state=seed)
    # Features of a user's table can have any scale; the net wants them standard.
    return make_pipeline(
        StandardScaler(),
        make_mlp_classifier(
            n_features,
            n_classes,
            hidden_sizes=(128,),
            max_epochs=50,
            random_state=seed,
        ),
    )


# The options of a simulated run that shape each item of its checkpoint's
# fingerprint: the split's initial set defaults to a round's labels.
_OPTIONS_OF_PARTS = dict(
    zip(
        _FINGERPRINT_PARTS,
        (
            "the split of the table (the file, --label-column, --ignore-columns, "
            "--in-classes, --test-size, --seed, or --initial-size, whose default "
            "follows --budget and the costs)",
            "the classifier (--classifier or --seed)",
            "the strategy (--strategy or --seed)",
            "--budget",
            "--cost-in",
            "--cost-ood",
        ),
        strict=True,
    )
)


def _another_run(checkpoint, differ, other_code):
    """Why a simulated run's `checkpoint` is not this run's, in the command
    line's words: `differ`, the parts that differ (None: it does not tell);
    `other_code`, the versions that wrote it and these where they differ."""
    what = ""
    if differ is not None:
        what = f" What differs: {'; '.join(_OPTIONS_OF_PARTS[n] for n in differ)}."
    if other_code is None:
        return (
            f"{checkpoint} holds a run of other data or options.{what} Rerun "
            "with its table and options to resume it, or start a new run in "
            "another --output (or delete it to start over)."
        )
    # The same command after an upgrade: its table and options are these.
    return (
        f"{checkpoint} holds a run of other data or options, or of these "
        f"written with {other_code[0]} (this is {other_code[1]}), which may "
        f"count them as others.{what} Rerun with its table and options under "
        "the versions that wrote it to resume it, or start a new run in "
        "another --output (or delete it to start over)."
    )


def _simulated_sizes(budget, cost_in, cost_ood, initial_size=None):
    """A simulated run's initial set, by default as many labels as a round of
    `budget` buys at most (as the paper's), and the fewest a round buys."""
    initial = initial_size or labels_within(budget, min(cost_in, cost_ood))
    return initial, labels_within(budget, max(cost_in, cost_ood))


def _fits_the_pool(n_pool, n_rounds, budget, cost_in, cost_ood, initial_size=None):
    """Whether a simulated run's initial set and rounds of `budget` leave its
    last round a choice (:func:`_leaves_a_choice`) in a pool of `n_pool` rows."""
    initial, fewest = _simulated_sizes(budget, cost_in, cost_ood, initial_size)
    return fewest >= 1 and _leaves_a_choice(n_pool - initial, n_rounds - 1, fewest)


def _largest_budget(n_pool, n_rounds, budget, cost_in, cost_ood, initial_size=None):
    """The largest budget up to `budget` that fits the pool (:func:`_fits_the_pool`),
    or None where not even the least that buys a label does.

    The labels a budget buys change only at multiples of a cost, and a
    smaller budget than one that fits fits too: the largest such multiple
    that fits, found by bisection.
    """
    best = None
    for cost in (cost_in, cost_ood):
        step = as_decimal(cost)
        # From the least multiple that buys the dearer label.
        low = math.ceil(as_decimal(max(cost_in, cost_ood)) / step)
        high = labels_within(budget, cost)
        while low <= high:
            k = (low + high) // 2
            if _fits_the_pool(
                n_pool, n_rounds, float(k * step), cost_in, cost_ood, initial_size
            ):
                best = max(best or 0.0, float(k * step))
                low = k + 1
            else:
                high = k - 1
    return best


def _lower_budget(n_pool, args):
    """The advice to lower --budget to the largest budget with which the run
    fits a pool of `n_pool` rows, or None where none does."""
    costs = args.cost_in, args.cost_ood
    most = _largest_budget(n_pool, args.rounds, args.budget, *costs, args.initial_size)
    if most is None:
        return None
    return f"lower --budget to at most {_exact(most)}"


def _exact(number):
    """`number` printed so that it reads back as the same number."""
    return f"{number:g}" if float(f"{number:g}") == number else repr(number)


_MORE_UNLABELLED = (
    "leave the pool more unlabelled rows: lower --initial-size or --test-size"
)


def _lower_budget_and_rounds(n_pool, args):
    """Where no budget fits a pool of `n_pool` rows in --rounds: the least,
    and the most rounds it fits."""
    least = max(args.cost_in, args.cost_ood)  # buys a label a round, no more
    initial, _ = _simulated_sizes(least, args.cost_in, args.cost_ood, args.initial_size)
    if n_pool - initial < 2:  # fewer rounds cannot help: one needs two rows
        return _MORE_UNLABELLED
    return (
        f"lower --budget to {_exact(least)} and --rounds to at most {n_pool - initial}"
    )


# The most IN classes the figure's title of a run names.
_TITLE_CLASSES = 8


def _file_name(path):
    """The name of `path` as files and figures show it: a name that is not
    UTF-8 (bytes of another encoding, kept by Python as surrogates) with its
    bytes escaped, "caf\\xe9.csv", which UTF-8 files could not hold."""
    return path.name.encode("utf-8", "surrogateescape").decode(
        "utf-8", "backslashreplace"
    )


def run_own_data(args):
    """``skal-openset run``: simulated from the file's labels, or interactive.
    Returns the paths of the outputs written."""
    other_mode = (
        {
            "--initial-size": args.initial_size,
            "--test-size": args.test_size,
            # Named as given: --progress or --no-progress.
            f"--{'' if args.progress else 'no-'}progress": args.progress,
        }
        if args.interactive
        else {"--poll-seconds": args.poll_seconds, "--timeout": args.timeout}
    )
    wrong = [option for option, value in other_mode.items() if value is not None]
    if wrong:
        mode = "runs without" if args.interactive else "runs with"
        them = "it" if len(wrong) == 1 else "them"
        raise ValueError(
            f"{', '.join(wrong)}: for {mode} --interactive; leave {them} out."
        )
    _check_no_other_run_in(
        args.output, STATE_FILE if args.interactive else CHECKPOINT_FILE
    )
    command = INTERACTIVE if args.interactive else SIMULATED
    _check_outputs_free(args.output, command, args.data)
    data_name = _file_name(args.data)
    X, labels, ignored = load_table(
        args.data,
        args.label_column,
        args.ignore_columns or (),
        ood_label=args.ood_label,
        in_classes=args.in_classes,
        return_ignored=True,
    )
    in_classes = check_in_classes(
        args.in_classes,
        labels,
        args.ood_label,
        interactive=args.interactive,
        resuming=(args.output / STATE_FILE).exists(),
    )
    estimator = _make_estimator(args.classifier, X.shape[1], len(in_classes), args.seed)
    strategy = STRATEGIES[args.strategy](random_state=args.seed)
    costs = dict(cost_in=args.cost_in, cost_ood=args.cost_ood)
    output = args.output
    if args.interactive:
        options = {
            # Sorted, as the learner keeps its classes: listed in another
            # order, they are the same campaign.
            "--in-classes": sorted(in_classes),
            "--ood-label": args.ood_label,
            "--strategy": args.strategy,
            "--classifier": args.classifier,
            "--budget": args.budget,
            "--cost-in": args.cost_in,
            "--cost-ood": args.cost_ood,
            "--seed": args.seed,
        }
        records, _ = run_interactive(
            X,
            labels,
            in_classes,
            estimator,
            strategy,
            output=output,
            ood_label=args.ood_label,
            n_rounds=args.rounds,
            budget=args.budget,
            poll_seconds=args.poll_seconds or 2.0,
            timeout=args.timeout,
            # In this order, the fingerprint of the states written before
            # the options were kept; those written before the classes were
            # sorted hashed them in the order given.
            fingerprint=table_fingerprint(
                X,
                labels,
                *options.values(),
                earlier=[[*{**options, "--in-classes": in_classes}.values()]]
                if in_classes != options["--in-classes"]
                else [],
            ),
            options=options,
            # The table's own id (left out as a feature) beside the query's,
            # which is the row's position: "id" names both.
            extra_columns={
                f"{name} in {data_name}": values for name, values in ignored.items()
            },
            **costs,
        )
        records_text = records_csv_text(records)
        with _outputs(output, command, ["records.csv"]) as (records_csv,):
            records_csv.write_text(records_text, **_TEXT)
        written = [output / "records.csv"]
        # A stop as it said so said "rerun the same command to resume".
        with _stops_after_writing(written):
            print(
                f"\nLabelled {records[-1]['n_labelled']} rows "
                f"({records[-1]['n_labelled_in']} IN), budget spent "
                f"{records[-1]['budget_spent']:g}. Wrote {output}/records.csv; the "
                f"learner is skal_openset.load_object("
                f"{str(output / 'state.joblib')!r})['learner']."
            )
        return written
    _check_budget(args.budget, args.cost_in, args.cost_ood)
    initial_size, fewest = _simulated_sizes(
        args.budget, args.cost_in, args.cost_ood, args.initial_size
    )
    try:
        split = simulated_split(
            X,
            labels,
            in_classes,
            initial_size=initial_size,
            test_size=args.test_size or 0.25,
            random_state=args.seed,
        )
    except _InitialSizeError as exc:
        if args.initial_size is not None:
            raise ValueError(
                f"--initial-size {initial_size} is more than the {exc.n_pool} rows "
                "of the pool: lower --initial-size."
            ) from None
        # Defaulted to a round's labels: the mistake is --budget's.
        remedy = _lower_budget(exc.n_pool, args) or _lower_budget_and_rounds(
            exc.n_pool, args
        )
        # --budget 1e308 buys a number of 309 digits
        labels = initial_size if initial_size < 10**15 else f"{initial_size:.3g}"
        raise ValueError(
            f"The pool holds {exc.n_pool} rows, fewer than the {labels} "
            f"labels --budget {args.budget:g} buys a round (the initial set "
            f"defaults to as many): {remedy}."
        ) from None
    n_pool = split.y_pool.size
    n_unlabelled = n_pool - initial_size
    # A run checkpointed under the earlier rule resumes as it began.
    resuming = (output / CHECKPOINT_FILE).exists()
    fits = _fits_the_pool(
        n_pool, args.rounds, args.budget, args.cost_in, args.cost_ood, args.initial_size
    )
    if not resuming and not fits:
        budget = _lower_budget(n_pool, args)
        if n_unlabelled >= 2 * fewest:  # fewer rounds of this budget fit
            rounds = f"--rounds to at most {n_unlabelled // fewest}"
            remedy = f"{budget}, or {rounds}" if budget else f"lower {rounds}"
        else:
            budget = budget or _lower_budget_and_rounds(n_pool, args)
            remedy = budget
            if budget != _MORE_UNLABELLED:
                remedy += ", or --initial-size to leave more rows unlabelled"
        raise ValueError(
            f"The pool holds {n_unlabelled} unlabelled rows: "
            f"{_count(args.rounds - 1, 'round')} of at least {fewest} labels "
            f"(--budget {args.budget:g}) must leave the last round at least twice "
            f"its {fewest} to choose from, or it buys what is left, whatever the "
            f"strategy; {remedy}."
        )
    rest = (
        f"{int(split.is_ood.sum())} OOD of {split.y_pool.size} pool rows, "
        f"{args.strategy}, budget {args.budget:g} x "
        f"{_count(args.rounds - 1, 'round')}"
    )

    def setting_of(shown):  # each name as `shown` gives it
        classes = ", ".join(map(shown, in_classes))
        return f"{shown(data_name)}: IN classes {classes}, {rest}"

    setting = setting_of(str)
    # The figure's title counts a long class list, which filled lines of it;
    # the printed setting and summary.md name every class.
    title = setting
    if len(in_classes) > _TITLE_CLASSES:
        title = f"{data_name}: {len(in_classes)} IN classes, {rest}"
    print(setting, flush=True)
    try:
        records = run_active_learning(
            split,
            estimator,
            strategy,
            n_rounds=args.rounds,
            budget=args.budget,
            # A bar redrawn with \r is one endless line in a log file (nohup,
            # CI); a closed stderr (2>&-) is None.
            progress=bool(sys.stderr and sys.stderr.isatty())
            if args.progress is None
            else args.progress,
            checkpoint=output / CHECKPOINT_FILE,
            **costs,
        )
    except _OtherExperimentError as exc:  # its words are the function's
        raise ValueError(
            _another_run(output / CHECKPOINT_FILE, exc.differ, exc.other_code)
        ) from None
    ran_out = ""
    if len(records) < args.rounds:  # the pool ran out (a warning said so)
        ran_out = f" (the pool ran out after round {len(records)})"
    records = [{"strategy": args.strategy, "trial": args.seed, **r} for r in records]
    rows = summarize_final_round(records)
    table = summary_table(rows)
    print("\n" + "\n".join(table))
    # Labels of other costs than 1 make the budget spent, over which the AUC
    # is averaged, differ from the labels bought: the figure shows the budget.
    every_label_costs_1 = args.cost_in == args.cost_ood == 1
    note = _auc_note(every_label_costs_1)
    if not every_label_costs_1:
        print("\n" + note)
    x = "labels" if every_label_costs_1 else "budget"
    lines = [setting_of(_markdown_text) + ran_out, "", *table, "", note]
    return _write_outputs(output, command, records, rows, lines, title + ran_out, x)


def _markdown_text(text):
    """`text` escaped so that markdown shows it as written, e.g. a class name
    in summary.md: "c*d*" was in italics, "__x__" in bold, "$x$" math on
    GitHub."""
    text = re.sub(r"([\\`*_\[\]<>|~$&])", r"\\\1", text)
    # A line break (in a file's name) started a line of its own, maybe a
    # heading: shown escaped, as _file_name shows bytes that are not UTF-8.
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    # And what starts a heading or a list at the start of a line.
    text = re.sub(r"^([#+=-])", r"\\\1", text)
    return re.sub(r"^(\d+)([.)])(?=\s|$)", r"\1\\\2", text)


def _learning_curves_png(records, title, x="labels"):
    # A Figure of its own: pyplot's backend (a notebook's) is the caller's.
    from matplotlib.figure import Figure

    # Half an inch below the panels for the legend, which covered curves in
    # the accuracy panel.
    width = 10
    fig = Figure(figsize=(width, 4.5), layout="constrained")
    with _missing_glyphs_in_one_warning():
        plot_learning_curves(records, ax=fig, x=x)
        # A long file name or class list ran off both sides on one line. A "$"
        # in a name is no math: "price_$_low" failed to parse once the run ended.
        fig.suptitle(
            wrap_to_width(title, width - 0.2), fontsize="medium", parse_math=False
        )
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=120)
    return buffer.getvalue()


class _WarningsHook:
    """`hook` in the warnings module's `name` (``showwarning``,
    ``formatwarning``) while blocks of any thread run, and the function it
    found put back when the last of them ends.

    Not a ``catch_warnings`` block each: those of two threads overlapping
    passed one's warnings through the other's hook, and left one's hook in
    place for good. The hook passes on to :attr:`caller` what it leaves as it
    was.
    """

    def __init__(self, name, hook):
        self._name, self._hook = name, hook
        self._lock = threading.Lock()
        self._running = 0
        self.caller = getattr(warnings, name)

    @contextlib.contextmanager
    def installed(self):
        """The hook in place for the block."""
        with self._lock:
            # Still in place where another thread's catch_warnings, begun in a
            # block, put it back after: it would pass on to itself.
            found = getattr(warnings, self._name)
            if self._running == 0 and found is not self._hook:
                self.caller = found
                setattr(warnings, self._name, self._hook)
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                # Not over a hook another thread installed since: it puts ours
                # back.
                ours = getattr(warnings, self._name) is self._hook
                if self._running == 0 and ours:
                    setattr(warnings, self._name, self.caller)


class _ThreadHandlers(threading.local):
    """The handlers of this thread's blocks, innermost first: each takes a
    warning's message and returns whether it has dealt with it."""

    handlers: tuple = ()


_HANDLERS = _ThreadHandlers()
# The handlers of the blocks of any thread that take the warnings of threads
# with no block of their own too: a forest's fit warned in each of the workers
# joblib starts where a caller of main asks for them (parallel_config).
_WORKERS_LOCK = threading.Lock()
_for_workers: list = []


def _show_unless_handled(message, category, filename, lineno, file=None, line=None):
    """A warning no block of this thread deals with, shown as the caller's
    hook shows it."""
    handlers = _HANDLERS.handlers
    if not handlers:
        with _WORKERS_LOCK:
            handlers = tuple(_for_workers)
    if not any(handled(message) for handled in handlers):
        _SHOWWARNING.caller(message, category, filename, lineno, file, line)


_SHOWWARNING = _WarningsHook("showwarning", _show_unless_handled)


@contextlib.contextmanager
def _warnings_handled(handler, workers=False):
    """The warnings of the block's thread given to `handler` first, then to
    those of the blocks around it, and shown unless one returns True.

    With `workers`, those of threads with no block of their own too.
    """
    outer = _HANDLERS.handlers
    _HANDLERS.handlers = (handler, *outer)
    if workers:
        with _WORKERS_LOCK:
            _for_workers.append(handler)
    try:
        with _SHOWWARNING.installed():
            yield
    finally:
        _HANDLERS.handlers = outer
        if workers:
            with _WORKERS_LOCK:
                _for_workers.remove(handler)


@contextlib.contextmanager
def _missing_glyphs_in_one_warning():
    """matplotlib's warnings of characters its font lacks (class names in
    Chinese, say) as one warning of the block, naming them and the remedy:
    matplotlib gives one a character, and no remedy."""
    missing = {}

    def collect(message):
        glyph = re.match(r"Glyph (\d+) .*missing from", str(message))
        if glyph is not None:
            missing[chr(int(glyph[1]))] = None
        return glyph is not None

    with _warnings_handled(collect):
        yield
    if missing:
        warn(
            f"{_FIGURE_FILE} draws {' '.join(missing)} as boxes: matplotlib's "
            "font lacks them. To draw them, install a font that has them (e.g. "
            "Noto Sans CJK JP for Chinese, Japanese and Korean) and add it to "
            "matplotlib's font.family after the font in use, in a matplotlibrc "
            "file: font.family: DejaVu Sans, Noto Sans CJK JP."
        )


# Room a run needs in a path beyond its --output, for the names it writes
# there: the longest, a temporary file beside a query file
# ("queries/.round_<r>.csv.<random>.tmp"), is under 40 characters.
_ROOM = "x" * 40


def _check_writable(folder):
    """Fail before any training if the results could not be written (without
    making the folder: a refused command leaves nothing behind)."""
    _check_name_lengths(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--output {folder} is a file; give a folder.")
    existing = next(p for p in (folder, *folder.parents) if os.path.lexists(p))
    if not existing.exists():
        # Making the folder failed with "File exists", naming the link only.
        raise ValueError(
            f"--output {folder}: {existing} is a link to {os.readlink(existing)}, "
            "which leads to no folder (it is missing, or the links loop); make "
            "the folder it names, or remove the link."
        )
    try:
        if not existing.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, f"{existing} is a file")
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise ValueError(
            f"cannot write to --output {folder} ({exc.strerror or exc}): choose a "
            "folder you can write to."
        ) from exc


def _check_name_lengths(folder):
    """Refuse a `folder` with a name in it, or a path to the files a run
    writes in it, longer than its file system allows: looking it up failed
    with a traceback (ENAMETOOLONG), and making it would fail after the
    work."""
    # The file system's own verdict, without making anything: each name to
    # make looked up in the folder that is there (below a missing folder, a
    # name of any length is only missing).
    existing = next(p for p in (folder, *folder.parents) if os.path.exists(p))
    for name in folder.relative_to(existing).parts:
        if _too_long(existing / name):
            raise ValueError(
                f"--output {folder}: the name {name} is too long for the file "
                "system; choose a shorter one."
            )
    if _too_long(folder / _ROOM):
        raise ValueError(
            f"--output is a path of {len(str(folder))} characters, too long for "
            "the file system with the names of the files a run writes in it: "
            "choose a shorter path."
        )


def _too_long(path):
    """Whether the file system refuses `path` as too long a name or path."""
    try:
        os.lstat(path)
    except OSError as exc:
        return exc.errno == errno.ENAMETOOLONG
    return False


@contextlib.contextmanager
def _shown_once(message):
    """Show the warnings whose text starts with `message` once in the block.

    A "once" filter shows them again after any change to the filters, which
    scikit-learn makes (and undoes) in every tree of a forest.
    """
    # A count, not a list appended to and then measured: workers warning at
    # once each found two and showed none.
    shown = itertools.count()

    def shown_before(warning):
        return str(warning).startswith(message) and next(shown) > 0

    with _warnings_handled(shown_before, workers=True):
        yield


class _CommandWarnings(threading.local):
    """The prog of the command running in this thread, if any."""

    prog = None


_COMMAND_WARNINGS = _CommandWarnings()


def _command_or_caller_format(message, category, filename, lineno, line=None):
    """A command's warning as one line; any other as its caller's format."""
    prog = _COMMAND_WARNINGS.prog
    if prog is None:
        return _FORMATWARNING.caller(message, category, filename, lineno, line)
    return f"{prog}: warning: {' '.join(str(message).split())}\n"


_FORMATWARNING = _WarningsHook("formatwarning", _command_or_caller_format)


@contextlib.contextmanager
def _warnings_as_lines(prog):
    """Warnings of the block's thread written as ``<prog>: warning:
    <message>``, as errors are, rather than at a line of Python (the entry
    script's ``sys.exit(main())``, ``<frozen runpy>``).

    The format, not ``showwarning``: replacing that would write to stderr
    the warnings a caller of main records (``catch_warnings(record=True)``).
    The format is the process's: other threads' warnings keep the caller's,
    and the caller's is put back when the last command ends (blocks in
    threads overlap: each putting back what it found left a command's).
    """
    _COMMAND_WARNINGS.prog = prog
    try:
        with _FORMATWARNING.installed():
            yield
    finally:
        _COMMAND_WARNINGS.prog = None


def _kept_state(args):
    """The state file a stopped ``run`` resumes from, or None (other commands,
    or stopped before its first round was saved)."""
    if args.command != "run":
        return None
    states = [args.output / name for name in _RUN_STATES]
    # Not Path.exists, which raises where the error came from a path that
    # cannot be looked up (too long a name): a second traceback.
    return next((path for path in states if os.path.exists(path)), None)


def run_command(parser, args, hold_to_the_end):
    """Run the command `args`, parsed by `parser` (see
    :func:`skal_openset.__main__.main`, which parses the command line before
    it loads this module); `hold_to_the_end`: main's
    :func:`~skal_openset._signals.stops_held_to_the_end`, called once the
    work and its output are done."""
    # A SIGTERM (timeout, kill, SLURM) too cleans up and says how to go on.
    with _warnings_as_lines(parser.prog), sigterm_as_ctrl_c() as terminated:
        # The outputs, once written: a stop as the command ends after them
        # (the lock released) said "nothing was written", or of a finished
        # run "rerun the same command to resume".
        written = []
        try:
            _check_writable(args.output)
            # Every command: a demo wrote its outputs over a running run's.
            # Leftovers are removed only from a folder of a run's outputs, or
            # of its state (a first run killed before its outputs): a user's
            # own files may be named alike.
            ours = any(
                path.is_file() and not path.is_symlink()
                for path in (
                    args.output / MARKER_FILE,
                    *(args.output / name for name in _RUN_STATES),
                )
            )
            with folder_lock(args.output, _WRITTEN if ours else ()):
                if args.command == "demo":
                    # The demo's nets are tiny: torch's intra-op threads cost
                    # more CPU time than they save, and most where other
                    # processes keep the cores busy. Scoped: main may be
                    # called in a user's process.
                    with one_torch_thread():
                        written = run_demo(
                            args.output,
                            args.trials,
                            args.rounds,
                            args.budget,
                            args.noise,
                            progress=args.progress,
                        )
                else:
                    # scikit-learn's, for a labelled set of few rows a class:
                    # each tree of a forest gave it (~100 copies).
                    with _shown_once(
                        "The number of unique classes is greater than 50%"
                    ):
                        written = run_own_data(args)
            output_flushed()  # the last output: a stop there is said
            hold_to_the_end(terminated, partial(_stopped, parser, args, written))
        except (
            ValueError,
            TypeError,
            ImportError,
            FileNotFoundError,
            IsADirectoryError,
            TimeoutError,
        ) as exc:
            # A problem with the user's data or options: one line, exit status 2.
            parser.error(" ".join(str(exc).split()))
        except (KeyboardInterrupt, OSError) as exc:
            reason = stop_reason(exc, terminated)
            if reason is None:  # an OSError other than the output's reader quitting
                _machine_error(parser, args, exc)
            if isinstance(exc, InterruptedAfterReplacing):
                written = exc.paths
            _stopped(parser, args, written, *reason)


def _stopped(parser, args, replaced, stopped, status):
    """End the command `args`, stopped by `stopped` (Ctrl-C, SIGTERM, the
    reader of its output quitting) once it had replaced the files
    `replaced`, with one line saying what it keeps, and `status`."""
    # A run keeps its checkpoint (an interactive one, its state); the demo
    # writes its outputs only at the end, all at once.
    replaced = [path.name for path in replaced if path.name != MARKER_FILE]
    # Written at the end: a run's state has nothing left to resume. Not the
    # state alone, replaced after each round as a stop came: rounds are left.
    if set(replaced) - set(_RUN_STATES):
        then = "its outputs are complete"
        if args.command == "run":
            then = f"the run has finished: {then}"
    elif _kept_state(args) is not None:
        then = "rerun the same command to resume"
    elif args.command == "run":  # stopped before its first checkpoint
        then = "no round was saved yet; rerun it to start again"
    else:
        then = "nothing was written; rerun it to start again"
    after = f" after writing {', '.join(replaced)}" if replaced else ""
    parser.exit(status, f"{parser.prog}: stopped ({stopped}){after}; {then}.\n")


def _machine_error(parser, args, exc):
    """Exit with one line for `exc`, an OSError of the machine's, not of the
    user's input: a full disk (the checkpoint's save, stdout), a folder made
    read-only meanwhile, a worker's pipe broken. Exit status 1. What stdout
    still holds is dropped where it refuses it too: its flush as the command
    ends would say the full disk a second time."""
    kept = _kept_state(args)
    if kept is None:
        output_refused(parser.prog, exc)
    else:
        output_refused(
            parser.prog,
            exc,
            kept=f"the rounds finished are kept in {kept}: ",
            rerun="rerun the same command to resume",
        )
