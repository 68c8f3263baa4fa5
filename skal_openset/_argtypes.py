"""argparse types shared by the ``skal-openset`` CLI and the benchmark scripts.

A bad value makes argparse exit 2 with one line naming the option and the
value, before anything runs or is logged.
"""

import argparse
import csv
import functools
import os
import sys
from pathlib import Path

from ._label_text import as_label
from ._signals import _RefusalEnding, ended_as_by_sigpipe


class Parser(argparse.ArgumentParser):
    """The parser of the ``skal-openset`` command and of every benchmark
    script: ``--help`` or ``--version`` that stdout refuses (a full disk)
    ends the program with one line and exit status 1.

    Parameters
    ----------
    program : str, default=None
        The program that line names; None: `prog`. Its commands' parsers
        (:meth:`add_subparsers`) name their program's: a full disk is no
        command's ("skal-openset", not "skal-openset demo").
    *args, **kwargs
        Those of ``argparse.ArgumentParser``.
    """

    def __init__(self, *args, program=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.program = program or self.prog

    def add_subparsers(self, **kwargs):
        kwargs.setdefault(
            "parser_class", functools.partial(type(self), program=self.program)
        )
        return super().add_subparsers(**kwargs)

    def _print_message(self, message, file=None):
        # argparse passes over an error of writing: --help into a full disk
        # ended with status 0 having written nothing (unbuffered:
        # PYTHONUNBUFFERED, python -u), or with a traceback as Python wrote
        # its buffer at exit. Flushed here, the error is seen. (Its errors go
        # to stderr, where a failure has nowhere to be reported.) The reader
        # quitting (| head) ends it with status 141 here: gpu_cifar parses its
        # command line outside stopped_by_signals, where it was a traceback.
        if file is None or file is not sys.stdout:
            return super()._print_message(message, file)
        # Written as output_refusal_ends' block writes: one code for both.
        # Around the block's own stdout, which says what a script's work keeps
        # ("no table written"): a --help refused is no work's. A thread's
        # refusal is still recorded on it, for the block's end.
        block = file if type(file) is _RefusalEnding else None
        stream = file if block is None else block._stream
        stdout = _RefusalEnding(stream, self.program, block)
        with ended_as_by_sigpipe(self.program):
            stdout.write(message)
            stdout.flush()


def _checked(text, convert, accept, requirement):
    """``convert(text)`` if it passes `accept`, else a usage error naming it."""
    try:
        value = convert(text)
    except ValueError:
        value = None
    if value is None or not accept(value):
        raise argparse.ArgumentTypeError(f"must be {requirement}, got {text}")
    return value


def positive_int(text):
    """A count of at least 1."""
    return _checked(text, int, lambda v: v >= 1, "a positive integer")


def query_rounds(text):
    """Rounds of a comparison of queries: round 1 only fits the initial set."""
    return _checked(
        text,
        int,
        lambda v: v >= 2,
        "at least 2 (round 1 fits the initial set; queries start at round 2)",
    )


def random_seed(text):
    """A seed of NumPy's random generators: an integer in [0, 2**32)."""
    return _checked(text, int, lambda v: 0 <= v < 2**32, "an integer in [0, 2**32)")


def positive_float(text):
    """A finite number above 0."""
    return _checked(text, float, lambda v: 0 < v < float("inf"), "a positive number")


def ratio(text):
    """A share in [0, 1), such as the noise ratio (0.4 for 40% OOD)."""
    return _checked(text, float, lambda v: 0 <= v < 1, "in [0, 1) (0.4 for 40%)")


def share(text):
    """A share in (0, 1), such as the test set's (0.25 for a quarter)."""
    return _checked(text, float, lambda v: 0 < v < 1, "in (0, 1) (0.25 for 25%)")


def user_path(text):
    """A path with ``~`` expanded: no shell does it after ``=``
    (``--output=~/results``), which made a folder named ``~``.

    ``~user/...`` is expanded only where that user exists; otherwise it is a
    name that begins with ``~`` (``~backup.csv``), which the shell left as is.
    An empty path (an unset variable: ``--output "$OUT"``) is refused: it is
    the current folder.
    """
    if not text.strip():
        raise argparse.ArgumentTypeError(
            f"must be a path, got {text!r} (an unset variable?)"
        )
    path = Path(text)
    try:
        return path.expanduser()
    except RuntimeError:  # no such user, or no home
        if path.parts[0] != "~":
            return path
        raise argparse.ArgumentTypeError(
            f"cannot expand ~ in {text}: give the full path"
        ) from None


def typed_name(text):
    """A name typed for a table's, which are read as UTF-8: under a locale
    that is not UTF-8 (LC_ALL=C), Python gives the UTF-8 bytes of "trés"
    as surrogates, which matched no label or column.

    Only text holding such surrogates is decoded again, as UTF-8 where its
    bytes are UTF-8; text a locale decoded whole is left as it is.
    """
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    try:
        return os.fsencode(text).decode("utf-8")
    except UnicodeError:
        return text


def typed_label(text):
    """A label typed (--ood-label), as :func:`as_label` compares it."""
    return as_label(typed_name(text))


def csv_list(text):
    """Comma-separated names, stripped; a name that holds a comma is quoted."""
    try:
        [names] = csv.reader([typed_name(text)], skipinitialspace=True)
    except (ValueError, csv.Error):
        # An unquoted line break (a list made by "$(cat classes.txt)"): the
        # message printed it as is, over two lines.
        raise argparse.ArgumentTypeError(
            f"must be comma-separated names, got {text!r}: separate the names "
            "with commas, not line breaks (a name that holds a line break goes "
            "in double quotes)"
        ) from None
    return [name.strip() for name in names]


class Repeatable(argparse.Action):
    """Store a list option whose repeats add up: ``--in-classes a
    --in-classes b`` is ``--in-classes a,b``, ``--noise 0.4 --noise 0.6`` is
    ``--noise 0.4 0.6``. argparse's own store keeps the last repeat alone,
    without a word, and its "extend" adds to a default list."""

    def __call__(self, parser, namespace, values, option_string=None):
        earlier = getattr(namespace, self.dest, None)
        if earlier is self.default or not isinstance(earlier, list):
            earlier = []  # the first time given
        setattr(namespace, self.dest, [*earlier, *values])


def job_count(text):
    """joblib's ``n_jobs``: a nonzero int; -1 for every core, -2 all but one..."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be an integer number of jobs, got {text}"
        ) from None
    if value == 0:
        raise argparse.ArgumentTypeError(
            "0 jobs run nothing; give the number of parallel jobs, or -1 for every core"
        )
    return value
