"""Helpers shared by the benchmark scripts: timing, peak memory, machine
description, noise labels, cell files, the data-folder check, the
results-folder option, child processes. Their argparse types are the CLI's
(skal_openset._argtypes)."""

import argparse
import contextlib
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from skal_openset._signals import (  # instant: signal and threading only
    ended_as_by_sigpipe,
    interrupts_deferred,
    interrupts_held,
    output_flushed,
    output_refusal_ends,
    sigterm_as_ctrl_c,
    stop_reason,
    stopped_while_starting,
    stops_held_to_the_end,
)

# Set as a script's run begins (stopped_by_signals): a Ctrl-C while a module
# loads after that (the report's, as a run writes it) is the run's to report.
_run_begun = False


def _script_name():
    """The name of the benchmark script run as the program, or None where
    another program runs (pytest collecting the tests, a joblib worker
    loading a script's module by name)."""
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    if main is None or Path(main).resolve().parent != Path(__file__).resolve().parent:
        return None
    return Path(main).name


def _imported_by_main():
    """Whether the code importing this module is ``__main__``'s, the script's
    own: preset_reproduction's worker imports it through openset_benchmark,
    and runs no :func:`stopped_by_signals` that would end a hold."""
    frame = sys._getframe(1)  # this module's body
    while (frame := frame.f_back) is not None:
        if not frame.f_code.co_filename.startswith("<frozen importlib"):
            return frame.f_globals.get("__name__") == "__main__"
    return False


# A script's start, held from its import of this module to its run
# (stopped_by_signals): a stop as its own imports loaded (compare_cells'
# _cells, the package's _experiment) was swallowed there, or a traceback.
# Ended at once where a stop is held as a block of imports ends
# (held_while_loading): one line, "stopped while starting".
_start = contextlib.ExitStack()
_start_stops = []
_start_held = (_name := _script_name()) is not None and _imported_by_main()
if _start_held:
    _start_stops = _start.enter_context(stopped_while_starting(_name))


def held_while_loading():
    """Hold a Ctrl-C while the block loads modules that take seconds (torch,
    scikit-learn, matplotlib): raised inside them, it could be swallowed, and
    the script ran on to its end, status 0.

    As a script run as the program starts (each imports this module first:
    ruff's isort section order), a Ctrl-C or SIGTERM then ends it with one
    line, status 130 or 143 (:func:`stopped_while_starting`); one after the
    block, as the script's own imports load, is held until its run begins
    (:func:`stopped_by_signals`), then ends it so. Once its run has begun,
    or where another program imports the module (pytest collecting the
    tests, a joblib worker loading a script's module by name), the Ctrl-C is
    raised as the block ends, for that run or program to handle
    (:func:`interrupts_deferred`): ended there, a run said "nothing was
    written" of the cells it kept, pytest reported an internal error, and a
    worker said it beside its script's own line.
    """
    name = _script_name()
    if _run_begun or name is None:
        return interrupts_deferred()
    if _start_held:
        return _held_start_ended_if_stopped()
    return stopped_while_starting(name)  # preset_reproduction's worker


@contextlib.contextmanager
def _held_start_ended_if_stopped():
    """End the script's held start (:data:`_start`) as the block ends where
    it held a stop, or in it where one raised there (SIGINT's own handler,
    which the start left alone), with the start's line; a second stop ends
    it at once. Not a hold of the block's own: where SIGINT is ignored (a
    background job), that took the SIGTERM the start's handler received, and
    said "Ctrl-C", 130."""
    try:
        yield
    except KeyboardInterrupt as exc:
        _start.__exit__(type(exc), exc, exc.__traceback__)
        raise
    if _start_stops:
        _start.close()


with held_while_loading():
    import numpy as np
    import torch
    from joblib import effective_n_jobs
    from sklearn.utils import gen_batches
    from threadpoolctl import threadpool_limits

    from skal_openset._argtypes import user_path
    from skal_openset._atomic import (
        InterruptedAfterReplacing,
        atomic_open,
        atomic_paths,
    )
    from skal_openset._cli_start import _unencodable_escaped
    from skal_openset._models import device_error


class ResultsError(ValueError):
    """Results a script cannot resume or summarise from; the message names the
    file or folder and what to do. One class for every copy of a script's
    module (``__main__`` and the one its joblib workers import by name)."""


def median_seconds(fn, repeats):
    """Run ``fn`` ``repeats`` times; return (median seconds, last result)."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def timed_run(call):
    """`call()`, timed: its value, and a run of :func:`timed_runs_summary`,
    the call's wall ``seconds``, its ``cpu_seconds`` (all threads) and the
    1-minute ``load`` average as it started."""
    load = os.getloadavg()[0]
    start, cpu_start = time.perf_counter(), time.process_time()
    value = call()
    seconds = time.perf_counter() - start
    return value, {
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu_start,
        "load": load,
    }


def timed_runs_summary(runs):
    """The median and range of `runs`' wall ``seconds``, their median
    ``cpu_seconds``, and the lowest and highest ``load`` as they started."""
    seconds = [r["seconds"] for r in runs]
    loads = [r["load"] for r in runs]
    return {
        "seconds": statistics.median(seconds),
        "min_seconds": min(seconds),
        "max_seconds": max(seconds),
        "cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
        "min_load": min(loads),
        "max_load": max(loads),
    }


def timed_runs_text(row, digits=1):
    """A :func:`timed_runs_summary` as a progress line's end, its seconds to
    `digits` decimals."""
    return (
        f"{row['seconds']:.{digits}f} s ({row['min_seconds']:.{digits}f}-"
        f"{row['max_seconds']:.{digits}f}; {row['cpu_seconds']:.{digits}f} s CPU), "
        f"load {row['min_load']:.1f}-{row['max_load']:.1f}"
    )


def timed_runs_legend():
    """What the CPU seconds and load of :func:`timed_runs_cells` are, in words
    for a table's heading."""
    return (
        "CPU seconds: their median; load: the 1-minute load average as each run "
        f"started, lowest and highest ({os.cpu_count()} cores: above that, other "
        "processes shared them and the wall time grew with it)."
    )


def timed_runs_cells(row, digits=1):
    """A :func:`timed_runs_summary` as a Markdown table's seconds, range, CPU
    seconds and load cells, its seconds to `digits` decimals."""
    return (
        f"{row['seconds']:.{digits}f} | {row['min_seconds']:.{digits}f}-"
        f"{row['max_seconds']:.{digits}f} | {row['cpu_seconds']:.{digits}f} "
        f"| {row['min_load']:.1f}-{row['max_load']:.1f}"
    )


# Rows drawn at a time by gaussian_rows: their float64 draws take 8 MiB at
# 1,024 features.
_GAUSSIAN_BLOCK_ROWS = 1024


def gaussian_rows(rng, n_rows, n_features, dtype):
    """`n_rows` rows of `n_features` standard normal values in `dtype`, drawn
    from `rng` (a RandomState) a block of rows at a time, the same values as
    one draw: a float64 draw of the whole would set a peak of memory of its
    own (98 MiB at 200,000 rows of 64), below which a measured call's would
    not show."""
    X = np.empty((n_rows, n_features), dtype=dtype)
    for block in gen_batches(n_rows, _GAUSSIAN_BLOCK_ROWS):
        X[block] = rng.standard_normal((len(X[block]), n_features))
    return X


def machine_description(threads=None):
    """This machine in words; `threads`: the torch threads to name, when the
    work ran with other than this process's (see :func:`cell_threads`)."""
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    if threads is None:
        threads = torch.get_num_threads()
    return (
        f"{cpu_model()}, {os.cpu_count()} cores "
        f"({threads} torch threads), {device}, "
        f"Python {platform.python_version()}, torch {torch.__version__}"
    )


def cpu_model():
    """The CPU's model name where the system tells it (Linux), else its
    architecture. Two x86_64 machines take other float paths: the name tells
    which ran a cell."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def code_version():
    """The commit the benchmarks run at, with "+changes" where the package's or
    the benchmarks' tracked files differ from it; None outside a git checkout
    of this project (a copy inside another repository names no commit)."""
    root = Path(__file__).resolve().parent.parent

    def git(*args):
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    try:
        if Path(git("rev-parse", "--show-toplevel")).resolve() != root:
            return None
        head = git("rev-parse", "--short=12", "HEAD")
        paths = ["skal_openset", "benchmarks/*.py"]
        changed = git("status", "--porcelain", "--untracked-files=no", "--", *paths)
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+changes" if changed else "")


@contextlib.contextmanager
def cell_threads(device):
    """Run the block with the threads of a benchmark cell on `device`: on the
    CPU one torch thread and one in each BLAS and OpenMP library, the process's
    counts restored after; on other devices the process's counts.

    Parallelism comes from joblib, one cell a core. Pinned, a cell's numbers
    do not depend on ``--n-jobs``: with one job it ran in the main process on
    every core, with several in workers on ``cores // n_jobs`` threads, and
    float sums differ in the last bits. Yields torch's thread count.
    """
    if torch.device(device).type != "cpu":
        yield torch.get_num_threads()
        return
    threads = torch.get_num_threads()
    try:
        with threadpool_limits(1):
            torch.set_num_threads(1)
            yield 1
    finally:
        torch.set_num_threads(threads)


def threads_in_cell(device):
    """The torch threads a cell on `device` runs with in this process."""
    with cell_threads(device) as threads:
        return threads


def cell_failure(what, exc):
    """The RuntimeError to raise from `exc`, the failure of `what` (``"The
    cell <file name>"``...): a joblib worker's traceback names no cell."""
    return RuntimeError(
        f"{what} failed: {type(exc).__name__}: {exc}. Cells written before it "
        "are kept; a rerun of the same command skips them."
    )


def percent(ratio):
    """`ratio` as the percentage it writes, exactly: 0.29 as "29%", 0.285 as
    "28.5%", so that distinct ratios never share a label (``int(100 * 0.29)``
    is 28)."""
    return f"{(Decimal(str(ratio)) * 100).normalize():f}%"


@contextlib.contextmanager
def open_atomic(path, mode):
    """Open `path` so that no reader ever sees half a file: an interrupted
    write keeps the old file (a report's, a committed result).

    A joblib worker gets the SIGTERM that stops a run too (``timeout`` and
    SLURM signal every process of it): as Ctrl-C, it removes the temporary
    file instead of leaving it behind.
    """
    with sigterm_as_ctrl_c(), atomic_open(path, mode) as f:
        yield f


def write_text_atomic(path, text):
    """Write `text` to `path` with :func:`write_texts_atomic`."""
    write_texts_atomic({path: text})


def write_texts_atomic(texts):
    """Write each text of the dict `texts` to its path, all or none
    (:func:`atomic_paths`): a failure between two writes (a full disk) left
    a result's new JSON beside the table of an earlier run. A SIGTERM is
    handled as in :func:`open_atomic`."""
    with sigterm_as_ctrl_c(), atomic_paths(list(texts)) as temps:
        for tmp, text in zip(temps, texts.values()):
            # As atomic_open's "w": UTF-8, no newline translation.
            tmp.write_text(text, encoding="utf-8", newline="")


def write_json_atomic(path, obj):
    """Write ``obj`` as JSON with :func:`write_text_atomic`."""
    write_text_atomic(path, json.dumps(obj))


# The width of a figure with panels side by side, in inches. GitHub shows
# a figure at most 900 px wide, scaled down: a 16 in one's panel titles were
# 6 px tall there. At 10 in a point is 1.25 px there, whatever the dpi: the
# smallest text these figures use, 8 pt, is 10 px tall.
FIGURE_WIDTH = 10.0


def panel_grid(n_panels):
    """The rows and columns of a grid of `n_panels` and its width in inches:
    3 panels a row where they fill rows of 3, else 2, FIGURE_WIDTH wide; a
    single panel 4 in wide. Four a row left each 2.5 in, too narrow for its
    axis labels and a dozen lines."""
    n_cols = 3 if n_panels % 3 == 0 else min(2, n_panels)
    n_rows = -(-n_panels // n_cols)
    return n_rows, n_cols, FIGURE_WIDTH if n_cols > 1 else 4.0


def save_figure_atomic(fig, path, dpi):
    """Save `fig` as the PNG `path` with :func:`open_atomic`: a Ctrl-C while it
    was saved left a truncated figure in place of the old one."""
    with open_atomic(path, "wb") as f:
        fig.savefig(f, format="png", dpi=dpi)


def read_record(path, keys, what):
    """The JSON object the results file `path` holds, with at least `keys`.

    Raises ResultsError naming the file and saying what to do if it holds
    none; `what` says what such a file is ("a run of meta_signal.py").
    """
    try:
        record = json.loads(path.read_text())
    except OSError as error:  # not known to be damaged: left as it is
        raise ResultsError(
            f"{path} cannot be read ({error.strerror or error}); make it "
            "readable, or move it out of the folder to run it again"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ResultsError(
            f"{path} cannot be read as JSON ({error}); delete it to run it again"
        ) from None
    if not isinstance(record, dict) or not set(keys) <= set(record):
        raise ResultsError(
            f"{path} is not {what} (one has the keys {list(keys)}); move it out "
            "of the folder or delete it"
        )
    return record


# What an interrupted run or report of cells keeps, and how to go on (see
# stopped_by_signals): each file is written whole or not at all, a report's too.
INTERRUPTED = (
    "finished cells and report files are kept whole",
    "rerun to finish the rest",
)
# What a stopped timing script (bench_*.py) keeps: it writes its table at
# the end, and its children remove their temporary files as they stop.
NO_TABLE = "no table written"
# What a stopped script that writes no file (compare_cells.py) keeps, and
# one that writes its result's file at its end, atomically: stopped, it
# cannot tell whether the file was put in place a moment before.
NOTHING_WRITTEN = "nothing written"
WHOLE_OR_NONE = "its file is written whole or not at all"


@contextlib.contextmanager
def stopped_by_signals(kept, rerun=None, output_last=False):
    """A script's run: Ctrl-C or SIGTERM (``timeout``, ``kill``, SLURM) in the
    block ends it with one line saying what is `kept` and, where given, how
    to go on, `rerun`, not a traceback; so does the command reading its
    output quitting (``| head``, ``| less``), with status 141; its stdout
    refusing text (a full disk) ends it with one line and status 1, when
    unbuffered too, which says them too, before its remedy, where the
    refusal comes amid the work (:func:`output_refusal_ends`). Characters
    its streams cannot encode (PYTHONIOENCODING=ascii, a C locale) are
    escaped, "r\\xe9sultats", as the package's command escapes them: a
    printed path raised UnicodeEncodeError once the work was done.

    With `output_last`, the script's output is the last of its work (its
    verdict, the file it wrote): the reader quitting ends it with status
    141 alone, as a Unix command, and a refusal says no `kept`, the work
    being done. Every script runs in one: those that had the output
    handling alone (compare_cells.py...) ended on a Ctrl-C with a
    traceback, on a SIGTERM with no word.

    SIGTERM runs the same cleanup as Ctrl-C (no temporary file is left); the
    exit status is the shell's for either signal, 130 or 143, or for SIGPIPE,
    141 (see :func:`ended_as_by_sigpipe`). What is kept changes as the work
    writes its results (:func:`write_tables_then_print`). The output still
    held as the block ends is written in it (:func:`output_flushed`): a stop
    while a reader that stopped reading holds it up is said too.
    """
    global _run_begun
    _start.close()  # said, where a stop was held as the script started
    _run_begun = True

    def said(stopped, status):
        then = f"; {rerun}" if rerun else ""
        print(f"Interrupted ({stopped}): {kept}{then}.", file=sys.stderr)
        sys.exit(status)

    with (
        # A stop once the work and its output are done is said as it ends.
        stops_held_to_the_end() as hold_to_the_end,
        _unencodable_escaped(),
        ended_as_by_sigpipe(),
        output_refusal_ends(
            kept="" if output_last else f"{kept}: ", rerun=rerun or "rerun it"
        ) as refusal_keeps,
        sigterm_as_ctrl_c() as terminated,
    ):

        def keep(now):
            nonlocal kept
            kept = now
            refusal_keeps(f"{now}: ")

        _keepers.append(keep)
        try:
            try:
                yield
            except SystemExit:  # a verdict's status (compare_cells')
                output_flushed()
                hold_to_the_end(terminated, said)
                raise
            output_flushed()
            hold_to_the_end(terminated, said)
        except (KeyboardInterrupt, BrokenPipeError) as exc:
            reason = stop_reason(exc, terminated)
            # Another pipe than the output's: a failure; the output's, where
            # it was the last of the work: ended_as_by_sigpipe's.
            if reason is None or (output_last and isinstance(exc, BrokenPipeError)):
                raise
            said(*reason)
        finally:
            _keepers.pop()


# The `keep` of each stopped_by_signals block running, innermost last: the
# function that changes what its lines say is kept.
_keepers = []


def now_kept(kept):
    """Make `kept` what the lines of the running :func:`stopped_by_signals`
    say is kept, as the work goes on (none where main is called alone: the
    tests)."""
    if _keepers:
        _keepers[-1](kept)


def write_tables_then_print(texts, table):
    """A timing script's end: write each text of the dict `texts` to its path
    (:func:`write_texts_atomic`), then print `table`, flushed.

    Once the files are written, a Ctrl-C, SIGTERM or refused output says so,
    and where, in place of what the script's :func:`stopped_by_signals` keeps
    ("no table written"); printed before them, the table was lost under
    ``| head``. Flushed here, a full disk's line says it too: as the script
    ended, the line said nothing of what is kept.
    """
    # Held until the line is changed: stopped after the last file was
    # written, it said "no table written".
    with interrupts_held() as held:
        try:
            write_texts_atomic(texts)
        except InterruptedAfterReplacing as interrupt:
            # SIGINT ignored (sh's cmd &), atomic_paths' own hold, the
            # innermost, took a SIGTERM as the files were put in place.
            held.append(interrupt)
        now_kept(f"{' and '.join(map(str, texts))} written")
    if held:
        raise KeyboardInterrupt
    print(table, flush=True)


def report_module_run_alone(command):
    """End a module of a script's report (report.py) run alone: one line
    naming `command`, which writes the report, exit status 1. In a run
    (:func:`stopped_by_signals`): a stop held as it started, after its last
    block of imports, was dropped, the status 1."""
    with stopped_by_signals(NOTHING_WRITTEN):
        sys.exit(
            f"{os.path.basename(sys.argv[0])} only holds the report's code; run "
            f"{command}"
        )


def require_data(parser, path, option, what="data folder"):
    """Stop with a usage error naming `path` if the data there are missing."""
    if not Path(path).exists():
        parser.error(f"the {what} {path} is missing; pass {option} with its location")


def torch_device(text):
    """argparse type of a torch device, kept as written (a JSON key)."""
    try:
        torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is no torch device; pass cpu, cuda or cuda:<index>"
        ) from None
    return text


def missing_device_error(option, device):
    """Why the `device` of `option` (a :func:`torch_device`) is not on this
    machine, or None: a CUDA device it lacks, which fails only at the first fit."""
    error = device_error(device)
    return f"{option} {error}" if error else None


def refuse_repeats(parser, args, *options):
    """Stop with a usage error where one of `options` (``"--seeds"``...) lists
    a value twice: each of its runs would be run, and counted, twice."""
    for option in options:
        values = getattr(args, option.removeprefix("--").replace("-", "_")) or ()
        repeated = [v for i, v in enumerate(values) if v in values[:i]]
        if repeated:
            parser.error(f"{option} lists {repeated[0]} twice; give each value once")


def refuse_with_summary_only(parser, args, *options, argv=None):
    """Stop with a usage error where ``--summary-only`` comes with one of
    `options`, which only a run takes: they would be ignored silently.
    `argv`: the command line `args` were parsed from (default: sys.argv's)."""
    if not args.summary_only:
        return
    unset = object()  # argparse sets a default only where the namespace has none
    dests = {option: option.removeprefix("--").replace("-", "_") for option in options}
    seen = parser.parse_args(
        argv, namespace=argparse.Namespace(**dict.fromkeys(dests.values(), unset))
    )
    given = [
        option for option, dest in dests.items() if getattr(seen, dest) is not unset
    ]
    if given:
        parser.error(
            f"--summary-only summarises every finished run and runs none, so "
            f"{' and '.join(given)} would not apply; drop "
            f"{'it' if len(given) == 1 else 'them'}, or --summary-only"
        )


def path_option(name, value, default):
    """``" <name> <value>"`` for a command line to copy, quoted for a shell;
    ``""`` where `value` is `default` (the option need not be given)."""
    if Path(value).resolve() == Path(default).resolve():
        return ""
    return f" {name} {shlex.quote(str(value))}"


def folder_path(text):
    """An argparse type: a path that is a folder or can be made one (the part
    of it that exists is no file); refused before any work, where a run would
    fail at its first write."""
    path = user_path(text)
    # A link to nothing does not exist, yet cannot be made a folder.
    existing = next(p for p in (path, *path.parents) if p.exists() or p.is_symlink())
    if not existing.is_dir():
        what = "a file" if existing.exists() else "a link to nothing"
        raise argparse.ArgumentTypeError(f"{existing} is {what}; give a folder")
    return path


def file_path(text):
    """An argparse type: a path to write a file at, in a folder that exists or
    can be made (see :func:`folder_path`); not a folder itself."""
    path = user_path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a folder; give a file name")
    folder_path(str(path.parent))
    return path


def add_results_dir(parser, default, what, commands=(), aliases=(), dest=None):
    """Add ``--results-dir`` (where `what` go; `default`, the committed results,
    unless given) to `parser` and to each of its subcommands' parsers `commands`,
    so that it may come before or after the command."""
    # A subcommand's copy has no default: it would override one given before.
    for p, value in ((parser, default), *((c, argparse.SUPPRESS) for c in commands)):
        p.add_argument(
            "--results-dir",
            *aliases,
            dest=dest or "results_dir",
            type=folder_path,
            default=value,
            help=f"{what} go here (default: benchmarks/results, the committed results)",
        )


# How long a child script is given to stop by itself, when it was signalled
# with this one (Ctrl-C at a terminal and ``timeout`` signal the whole group),
# and then to stop after a SIGTERM, before it is killed.
CHILD_GRACE_SECONDS = 10


@contextlib.contextmanager
def stopped_with_child(command, after_interrupt=None, **kwargs):
    """``subprocess.Popen(command, **kwargs)`` for the block, stopped with this
    script and waited for; its pipes are closed as the block ends.

    A Ctrl-C here (or a SIGTERM handled as one) gives the child time to stop
    by itself, then sends it SIGTERM, which the scripts handle as Ctrl-C (a
    SIGINT would not reach a child of a background job, which ignores it): a
    child signalled alone was left running on its own, and ``subprocess.run``
    killed it 0.25 s after a Ctrl-C, its temporary files and its results of
    the moment lost. ``after_interrupt(process)`` is then called, before the
    pipes are closed (to read what the child printed before it stopped).
    Another error here sends it SIGTERM at once; a child that outlasts the
    grace after SIGTERM, or a second Ctrl-C, kills it.

    A Ctrl-C as the child starts is held until it can be stopped: raised in
    Popen, after the fork, or just after Popen returned, it left the child
    running on its own.
    """
    with contextlib.ExitStack() as pipes:  # Popen's own exit closes them
        process = None
        try:
            with interrupts_held() as held:
                process = pipes.enter_context(subprocess.Popen(command, **kwargs))
            if held:
                raise KeyboardInterrupt
            yield process
            process.wait()
        except BaseException as exc:
            if process is None:  # not started
                raise
            try:
                if isinstance(exc, KeyboardInterrupt):
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        process.wait(timeout=CHILD_GRACE_SECONDS)
                if process.poll() is None:
                    process.terminate()
                    process.wait(timeout=CHILD_GRACE_SECONDS)
            except (KeyboardInterrupt, subprocess.TimeoutExpired):
                process.kill()
                process.wait()
            if isinstance(exc, KeyboardInterrupt) and after_interrupt is not None:
                after_interrupt(process)
            raise


def run_script(command, **kwargs):
    """``subprocess.run(command, check=True, **kwargs)``, stopped with this
    script (see :func:`stopped_with_child`)."""
    with stopped_with_child(command, **kwargs) as process:
        process.wait()
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)


def child_lines(command, on_line, **kwargs):
    """Call ``on_line(line)`` on each line the process `command` prints, as it
    prints it; if it fails, exit with the end of its stderr, which capturing
    its output would otherwise hide. Stopped with this script (see
    :func:`stopped_with_child`)."""

    def rest(process):
        # What it printed before it stopped (runs it finished) counts.
        for line in process.stdout.read().splitlines(keepends=True):
            if line.endswith("\n"):
                on_line(line)

    with tempfile.TemporaryFile("w+") as stderr:
        with stopped_with_child(
            command, rest, stdout=subprocess.PIPE, stderr=stderr, text=True, **kwargs
        ) as process:
            for line in process.stdout:
                on_line(line)
        if process.returncode:
            stderr.seek(0)
            tail = "\n".join(stderr.read().strip().splitlines()[-10:])
            sys.exit(
                f"{Path(command[1]).name} {' '.join(map(str, command[2:]))} stopped "
                f"with exit status {process.returncode}:\n{tail}"
            )


def peak_mb():
    """This process's peak resident memory so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child_output(command, **kwargs):
    """The stdout of the process `command`, as :func:`child_lines` runs it."""
    lines = []
    child_lines(command, lines.append, **kwargs)
    return "".join(lines)


def child_result(command, **kwargs):
    """The JSON value that the process `command` prints last, on a line of
    its own (:func:`child_output`): a timing script's child's measurement."""
    return json.loads(child_output(command, **kwargs).splitlines()[-1])


def joblib_verbosity(n_jobs):
    """joblib's progress lines, but none where one job runs (``n_jobs=1``, a
    negative count that leaves one core, the sequential backend): joblib >= 1.5
    then hides a failing task's error behind its own AttributeError
    ('_pre_dispatch_amount'). Call it under the backend the tasks run on."""
    return 0 if effective_n_jobs(n_jobs) == 1 else 5
