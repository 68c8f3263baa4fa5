"""The ``skal-openset`` command's start: its parser, and its streams' escaping
of the characters they cannot encode.

Nothing here loads torch, scikit-learn, skorch or pandas, which take seconds:
:mod:`skal_openset.__main__` parses the command line with it, so that
``--help``, ``--version`` and a usage error answer at once, and loads the
command itself, :mod:`skal_openset._cli`, only for a command to run.
"""

import argparse
import codecs
import contextlib
import os
import re
import sys
import threading
from pathlib import Path

from . import __version__
from ._argtypes import (
    Parser,
    Repeatable,
    csv_list,
    positive_float,
    positive_int,
    query_rounds,
    random_seed,
    ratio,
    share,
    typed_label,
    typed_name,
    user_path,
)

# The query strategies, in the demo's order: _cli.STRATEGIES holds their classes.
STRATEGY_NAMES = ("MQ-Net", "RANDOM", "CONF", "CORESET", "BADGE", "P+I")


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults in the help, except None: its help says what unset means."""

    def _get_help_string(self, action):
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


class _Parser(Parser):
    """Bad input: one line on stderr and exit status 2, no usage dump."""

    def parse_known_args(self, args=None, namespace=None):
        # Kept for error(): which hint fits depends on what was typed.
        self._typed = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message):
        typed = getattr(self, "_typed", [])
        if match := re.fullmatch(r"argument (\S+): expected one argument", message):
            # argparse reads a value such as -1,a as an option of its own.
            options = match[1].split("/")
            after = [typed[i + 1] for i, t in enumerate(typed[:-1]) if t in options]
            if any(value.startswith("-") for value in after):
                message += (
                    f" (a value that begins with - goes after =: {options[-1]}=VALUE)"
                )
        elif message.startswith("the following arguments are required: data") and (
            dashed := next(
                (t for t in typed if t.startswith("-") and os.path.isfile(t)), None
            )
        ):
            # argparse reads a file named -t.csv as an option.
            message += f" (a file whose name begins with -: ./{dashed})"
        elif (
            self._subparsers is not None
            and "invalid choice" in message
            and typed[:1]
            and typed[0].startswith("-")
        ):
            # `skal-openset --output o run ...`: an option before the command.
            message += (
                "; the command comes first, its options after it: "
                "skal-openset run DATA --in-classes ... --output ..."
            )
        self.exit(2, f"{self.prog}: error: {message}\n")


def _strategy(text):
    names = {name.lower(): name for name in STRATEGY_NAMES}
    if text.lower() not in names:
        raise argparse.ArgumentTypeError(
            f"must be one of {', '.join(STRATEGY_NAMES)}, got {text}"
        )
    return names[text.lower()]


def build_parser():
    parser = _Parser(
        prog="skal-openset",
        description="Open-set active learning with Meta-Query-Net.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="MQ-Net against RANDOM, CONF, CORESET, BADGE and P+I on digits",
        description="Compare MQ-Net with RANDOM, CONF, CORESET, BADGE and P+I on "
        "the embedded digits data (4 IN / 6 OOD classes); print a line per "
        "strategy as it ends, then a table, and write records.csv, summary.md, "
        "summary.json and learning_curves.png.",
        formatter_class=_Help,
    )
    demo.add_argument(
        "--output",
        type=user_path,
        default=Path("demo-output"),
        help="folder for the outputs, written once all runs end",
    )
    demo.add_argument(
        "--trials",
        type=positive_int,
        default=3,
        help="trials (seeds 0, 1, ...) per strategy",
    )
    demo.add_argument(
        "--rounds",
        type=query_rounds,
        default=6,
        help="rounds, the initial fit included",
    )
    demo.add_argument(
        "--budget",
        type=positive_int,
        default=20,
        help="labels bought per round; also the initial set's size",
    )
    demo.add_argument(
        "--noise",
        type=ratio,
        default=0.4,
        help="share of OOD examples in the unlabelled pool",
    )
    demo.add_argument(
        "--progress", action="store_true", help="show a progress bar per run"
    )
    _add_run_parser(commands)
    # Named in the error for a missing command, which shows no usage line.
    commands.metavar = "{" + ",".join(commands.choices) + "}"
    return parser


def _add_run_parser(commands):
    run = commands.add_parser(
        "run",
        help="active learning on your own table (CSV or .npz)",
        description="Active learning on your own table: a CSV with a header row "
        "(or a .npz with arrays X and the label column), numeric features and "
        "one label column. Rows whose label is not an IN class are OOD. "
        "Simulated (default): every row is labelled; labels are revealed as they "
        "are bought, a share of the IN rows is the test set, and a rerun resumes "
        "from OUTPUT/checkpoint.joblib. Interactive: rows with an empty label "
        "are the pool; each round from round 2 (round 1 trains on the labelled "
        "rows) writes the chosen row ids to "
        "OUTPUT/queries/round_<r>.csv and waits until you fill in its label "
        "column; rerun the same command to resume. The state a run resumes from "
        "is a pickle, which can run code when loaded: resume only in output "
        "folders you made.",
        formatter_class=_Help,
    )
    add = run.add_argument
    add("data", type=user_path, help="the table, .csv or .npz")
    add(
        "--in-classes",
        type=csv_list,
        action=Repeatable,
        required=True,
        help="comma-separated IN labels, e.g. 1,2,3; repeated, the option adds "
        "labels (quote one that holds a comma: '\"brick, face\",sky')",
    )
    add(
        "--label-column",
        type=typed_name,
        default="label",
        help="label column (array for .npz)",
    )
    add(
        "--ignore-columns",
        type=csv_list,
        action=Repeatable,
        help="comma-separated CSV columns that are no features, e.g. a row id; "
        "repeated, the option adds columns",
    )
    add(
        "--ood-label",
        type=typed_label,
        default="unknown",
        help="the OOD label in your answers",
    )
    add(
        "--strategy",
        type=_strategy,
        default="MQ-Net",
        help=f"query strategy: {', '.join(STRATEGY_NAMES)}",
    )
    add(
        "--classifier",
        choices=("mlp", "forest"),
        default="mlp",
        help="standardised MLP (skorch) or random forest",
    )
    add(
        "--budget",
        type=positive_float,
        default=40,
        help="budget per round: a simulated run buys the strategy's ranking in "
        "order until the next label does not fit; --interactive asks "
        "floor(budget / max cost) rows a round, since their labels are unknown",
    )
    add("--rounds", type=query_rounds, default=6, help="rounds, the first fit too")
    add("--cost-in", type=positive_float, default=1.0, help="cost of an IN label")
    add("--cost-ood", type=positive_float, default=1.0, help="cost of an OOD label")
    add(
        "--initial-size",
        type=positive_int,
        help="simulated: rows labelled at the start (default: as many as a "
        "round's budget buys)",
    )
    add(
        "--test-size",
        type=share,
        help="simulated: share of the IN rows held out as test set (default: 0.25)",
    )
    add("--seed", type=random_seed, default=0, help="seed of split, nets and strategy")
    add(
        "--output",
        type=user_path,
        default=Path("run-output"),
        help="folder for the outputs and the resumable state",
    )
    add(
        "--progress",
        action=argparse.BooleanOptionalAction,
        help="simulated: show a progress bar over the rounds on stderr (default: "
        "where stderr is a terminal, not a log file)",
    )
    add(
        "--interactive",
        action="store_true",
        help="you label the queried rows in a CSV file",
    )
    add(
        "--poll-seconds",
        type=positive_float,
        help="interactive: how often to look for your labels (default: 2)",
    )
    add(
        "--timeout",
        type=positive_float,
        help="interactive: stop waiting after this many seconds (default: wait on)",
    )


# The streams main escapes while commands run (in any thread): each one's
# errors from before and the number of commands escaping it, put back when the
# last of them ends.
_ESCAPING_LOCK = threading.Lock()
_escaping: dict = {}


@contextlib.contextmanager
def _unencodable_escaped():
    """Characters stdout and stderr cannot encode (PYTHONIOENCODING=ascii, a
    latin-1 terminal, the C locale) written escaped, "d\\xe9mo", in the block.

    A path or class name printed failed with UnicodeEncodeError, which was
    then reported as a mistake in the options, after the work was done.
    The streams are the process's: blocks in threads overlap, and a stream's
    errors are put back when the last block escaping it ends (the first to
    end put back "strict" while another command still printed).
    """
    with _ESCAPING_LOCK:
        # Not a stream of pytest's or a user's without reconfigure. One that
        # is both stdout and stderr counts twice.
        streams = [
            stream
            for stream in (sys.stdout, sys.stderr)
            if hasattr(stream, "reconfigure")
            and (
                stream in _escaping
                or getattr(stream, "errors", "") in ("strict", "surrogateescape")
            )
        ]
        for stream in streams:
            if stream not in _escaping:
                errors = stream.errors
                stream.reconfigure(errors=_ESCAPED)
                _escaping[stream] = [errors, 0]
            _escaping[stream][1] += 1
    try:
        yield
    finally:
        with _ESCAPING_LOCK:
            for stream in streams:
                _escaping[stream][1] -= 1
                if _escaping[stream][1] == 0:
                    stream.reconfigure(errors=_escaping.pop(stream)[0])


def _escaped(error):
    """Surrogates written as the bytes they were decoded from (as the C
    locale's surrogateescape writes an argument back), any other character
    the encoding lacks backslash-escaped."""
    try:
        return codecs.lookup_error("surrogateescape")(error)
    except UnicodeError:
        return codecs.lookup_error("backslashreplace")(error)


_ESCAPED = "skal_openset.escaped"
codecs.register_error(_ESCAPED, _escaped)
