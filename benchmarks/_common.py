"""Helpers shared by the benchmark scripts: timing, machine description, cell files,
command-line checks."""

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from skal_openset._atomic import atomic_open


def median_seconds(fn, repeats):
    """Run ``fn`` ``repeats`` times; return (median seconds, last result)."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def machine_description():
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores "
        f"({torch.get_num_threads()} torch threads), {device}, "
        f"Python {platform.python_version()}, torch {torch.__version__}"
    )


def write_json_atomic(path, obj):
    """Write ``obj`` as JSON so that no reader ever sees half a file."""
    with atomic_open(path, "w") as f:
        f.write(json.dumps(obj))


# argparse types: a bad value exits 2 with one line naming the option, before
# anything runs or is logged.


def noise_ratio(text):
    """A noise ratio: a float in [0, 1), the share of OOD examples in the pool."""
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(
            f"a noise ratio is in [0, 1) (0.4 for 40%), got {text}"
        )
    return value


def positive_int(text):
    """A count of at least 1 (trials)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def job_count(text):
    """joblib's ``n_jobs``: a nonzero int; -1 for every core, -2 all but one..."""
    value = int(text)
    if value == 0:
        raise argparse.ArgumentTypeError(
            "0 jobs run nothing; give the number of parallel jobs, or -1 for every core"
        )
    return value


def require_data(parser, path, option, what="data folder"):
    """Stop with a usage error naming `path` if the data there are missing."""
    if not Path(path).exists():
        parser.error(f"the {what} {path} is missing; pass {option} with its location")
