"""Helpers shared by the benchmark scripts: timing, machine description, cell files,
the data-folder check. Their argparse types are the CLI's (skal_openset._argtypes)."""

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


def require_data(parser, path, option, what="data folder"):
    """Stop with a usage error naming `path` if the data there are missing."""
    if not Path(path).exists():
        parser.error(f"the {what} {path} is missing; pass {option} with its location")
