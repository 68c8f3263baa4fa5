"""MQNetQuery's default selector on the CPU and on a GPU, at CIFAR's round-10 size.

Fits ``MetaQueryNetSelector(init="rule")`` (MQNetQuery's default: fitted to
the rule, then to the target; all pairs) on the synthetic self-validation set
of ``bench_selector.py`` with |Q| = 4,500 rows, the query set the paper's CIFAR
protocol accumulates by round 10, on each ``--devices`` entry in the same run.
Reports the median fit time per device, each device's ratio to the first, and
the Spearman correlation of each device's meta-scores with the first's (float
rounding differs between devices, so the fits need not be identical).

Run: python benchmarks/bench_selector_device.py [--devices cpu cuda]
    [--repeats 3] [--out FILE.json]
"""

import json
import time

from _common import (
    WHOLE_OR_NONE,
    file_path,
    machine_description,
    median_seconds,
    missing_device_error,
    stopped_by_signals,
    torch_device,
    write_text_atomic,
)

import numpy as np
import torch
from scipy.stats import spearmanr

from bench_selector import self_validation_set
from skal_openset import MetaQueryNetSelector
from skal_openset._argtypes import Parser, Repeatable, positive_int


def timed_fit(Z, y, device):
    selector = MetaQueryNetSelector(init="rule", device=device, random_state=0)
    selector.fit(Z, y)
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()
    return selector


def main(argv=None):
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--devices",
        type=torch_device,
        nargs="+",
        action=Repeatable,
        default=["cpu", "cuda"],
        help="torch devices to fit on, each given once (cpu, cuda or "
        "cuda:<index>); the others' times and scores are compared with the "
        "first's (default: cpu cuda)",
    )
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=3,
        help="timed fits per device, after one untimed warm-up; the median is "
        "reported (default: 3)",
    )
    parser.add_argument(
        "--rows",
        type=positive_int,
        default=4_500,
        help="rows of the synthetic self-validation set (default: 4500, the query "
        "set of the paper's CIFAR protocol by round 10)",
    )
    parser.add_argument(
        "--out",
        type=file_path,
        default=None,
        help="a JSON file to write the result to, as well as printing it "
        "(default: printed only)",
    )
    args = parser.parse_args(argv)
    if len(set(args.devices)) < len(args.devices):
        parser.error(f"--devices lists a device twice: {args.devices}")
    for device in args.devices:
        # Before any fit: else the CPU fits ran for minutes, then a traceback.
        error = missing_device_error("--devices", device)
        if error:
            parser.error(error)

    Z, y = self_validation_set(args.rows, np.random.RandomState(2))
    seconds, scores = {}, {}
    for device in args.devices:
        timed_fit(Z, y, device)  # warm-up: CUDA context, kernels
        seconds[device], selector = median_seconds(
            lambda device=device: timed_fit(Z, y, device), args.repeats
        )
        scores[device] = selector.predict(Z)
    first = args.devices[0]
    result = {
        "machine": machine_description(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "rows": args.rows,
        "repeats": args.repeats,
        "fit_seconds_median": seconds,
        f"speedup_against_{first}": {d: seconds[first] / s for d, s in seconds.items()},
        f"spearman_with_{first}": {
            d: float(spearmanr(scores[first], s).statistic) for d, s in scores.items()
        },
    }
    text = json.dumps(result, indent=1)
    # Written first: printed first, the file was not written under | head.
    if args.out is not None:
        write_text_atomic(args.out, text + "\n")
    print(text)


if __name__ == "__main__":
    with stopped_by_signals(WHOLE_OR_NONE, output_last=True):
        main()
