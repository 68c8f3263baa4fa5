"""argparse types shared by the ``skal-openset`` CLI and the benchmark scripts.

A bad value makes argparse exit 2 with one line naming the option and the
value, before anything runs or is logged.
"""

import argparse


def positive_int(text):
    """A count of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def positive_float(text):
    """A finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def ratio(text):
    """A share in [0, 1), such as the noise ratio (0.4 for 40% OOD)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1) (0.4 for 40%), got {text}")
    return value


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
