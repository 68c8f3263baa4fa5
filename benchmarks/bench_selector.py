"""MetaQueryNetSelector: fit and predict speed, against the authors' training schedule.

Fits the selector on self-validation sets of |Q| = 500 and, in the same run,
trains the same monotone network with the schedule of the authors' code
(SGD lr 1e-3 without momentum, 100 epochs of max(100, n/32) mini-batches of
32, loss on the 16 reversed pairs of each batch with ties read as "i below
j", lr x 0.1 at epoch 50, weights initialised uniform [0, 1)). Reports the
median fit time of each, their ratio and the held-out pairwise ranking
accuracy of each (mean over the seeds), and of that network untrained (its
initial weights), to show how far each training moves it; then the median
time to predict pools of 50,000 and 1,000,000 rows; then the median fit of
MQNetQuery's default selector (``init="rule"``: fitted to the rule, then to
the target; all pairs) on the query set that the paper's CIFAR protocol
accumulates by round 10 (|Q| = 4,500), with its pair matrices kept in memory
(this version) and, in the same run, recomputed every epoch (the memory
limit before 2026-11-30, 2**24 pair elements, below that set's 4,500**2);
then the median fit on |Q| = 500 with one torch thread (as the selector
runs, whatever the caller's count) and, alternating with it, with the
process's torch thread count (as it ran before).

Both networks of the first table train on one torch thread, as the selector
does: the comparison is of the training schedules.

The self-validation sets are synthetic, with a known structure: purity
decides whether an example is IN (else its masked loss is 0) and the masked
loss of IN examples grows with informativeness, with noise on both.

Run: python benchmarks/bench_selector.py [--repeats 5] [--seeds 3]
    [--large-repeats 3] [--results-dir DIR]
"""

import contextlib
import json
import math
import statistics
from functools import partial
from pathlib import Path

from _common import (
    NO_TABLE,
    add_results_dir,
    machine_description,
    median_seconds,
    stopped_by_signals,
    write_tables_then_print,
)

import numpy as np
import torch

from skal_openset import (
    MetaQueryNetSelector,
    MonotoneMLP,
    _selector,
    pairwise_ranking_accuracy,
)
from skal_openset._argtypes import Parser, positive_int
from skal_openset._selector import _PairChunks
from skal_openset._threads import one_torch_thread

RESULTS = Path(__file__).parent / "results"


def self_validation_set(n, rng):
    Z = rng.uniform(0.05, 4.0, size=(n, 2))
    is_in = Z[:, 0] + rng.normal(scale=0.3, size=n) > 1.5
    y = np.where(is_in, Z[:, 1] * rng.lognormal(sigma=0.2, size=n), 0.0)
    return Z, y


@one_torch_thread()  # as the selector trains
def fit_official_schedule(Z, y, seed, epochs=100, batch_size=32):
    """The authors' schedule, written here from its description (no code copied)."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    module = MonotoneMLP(Z.shape[1], 64).double()
    with torch.no_grad():
        module.hidden.bias.uniform_(0.0, 1.0)
    optimizer = torch.optim.SGD(module.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, [epochs // 2], 0.1)
    X, target = torch.as_tensor(Z), torch.as_tensor(y)
    steps = max(100, math.ceil(len(y) / batch_size))
    half = batch_size // 2
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=generator)
        for step in range(steps):
            batch = order.roll(-step * batch_size)[:batch_size]
            scores = module(X[batch])
            first, second = batch[:half], batch.flip(0)[:half]
            # Ties count as "first below second" (sign -1), as in that code.
            sign = torch.where(target[first] > target[second], 1.0, -1.0)
            diff = scores[:half] - scores.flip(0)[:half]
            loss = torch.relu(1.0 - sign * diff).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
    return module.eval()


def fit_large(Z, y, cache_limit, repeats):
    """Median fit seconds of MQNetQuery's default selector with `cache_limit`
    pair elements kept between epochs."""
    kept = _PairChunks._CACHE_LIMIT
    _PairChunks._CACHE_LIMIT = cache_limit
    try:
        seconds, selector = median_seconds(
            lambda: MetaQueryNetSelector(init="rule", random_state=0).fit(Z, y),
            repeats,
        )
    finally:
        _PairChunks._CACHE_LIMIT = kept
    return seconds, selector


def fit_by_threads(Z, y, repeats):
    """Median fit seconds of the selector with one torch thread (as it runs)
    and with the process's count (as before), the two alternating so that a
    change in the machine's load falls on both."""

    def fit():
        return MetaQueryNetSelector(random_state=0).fit(Z, y)

    one, default = [], []
    for _ in range(repeats):
        one.append(median_seconds(fit, 1)[0])
        kept = _selector.one_torch_thread
        _selector.one_torch_thread = contextlib.nullcontext
        try:
            default.append(median_seconds(fit, 1)[0])
        finally:
            _selector.one_torch_thread = kept
    return statistics.median(one), statistics.median(default)


def main():
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=5,
        help="timed fits of the selector on 500 rows (also of each thread count "
        "compared) and timed predictions of 50,000 and 1,000,000 rows; the "
        "medians are reported (default: 5)",
    )
    parser.add_argument(
        "--baseline-repeats",
        type=positive_int,
        default=3,
        help="timed fits of the network with the authors' training schedule on "
        "the same 500 rows; the median is reported (default: 3)",
    )
    parser.add_argument(
        "--large-repeats",
        type=positive_int,
        default=3,
        help="timed fits of MQNetQuery's default selector on 4,500 rows, its "
        "pair matrices kept, then recomputed every epoch (default: 3)",
    )
    parser.add_argument(
        "--seeds",
        type=positive_int,
        default=3,
        help="synthetic data sets (500 rows to fit, 20,000 held out) whose "
        "held-out pair accuracies are averaged (default: 3)",
    )
    add_results_dir(parser, RESULTS, "selector.md and selector.json")
    args = parser.parse_args()

    rng = np.random.RandomState(0)
    datasets = [
        (self_validation_set(500, rng), self_validation_set(20_000, rng))
        for _ in range(args.seeds)
    ]
    (Z, y), _ = datasets[0]

    ours_s, _ = median_seconds(
        lambda: MetaQueryNetSelector(random_state=0).fit(Z, y), args.repeats
    )
    base_s, _ = median_seconds(
        lambda: fit_official_schedule(Z, y, seed=0), args.baseline_repeats
    )

    ours_acc, base_acc, init_acc = [], [], []
    for seed, ((Z_tr, y_tr), (Z_te, y_te)) in enumerate(datasets):
        selector = MetaQueryNetSelector(random_state=seed).fit(Z_tr, y_tr)
        ours_acc.append(selector.score(Z_te, y_te))
        for accuracies, epochs in ((base_acc, 100), (init_acc, 0)):
            module = fit_official_schedule(Z_tr, y_tr, seed=seed, epochs=epochs)
            with torch.no_grad():
                scores = module(torch.as_tensor(Z_te)).numpy()
            accuracies.append(pairwise_ranking_accuracy(y_te, scores))

    selector = MetaQueryNetSelector(random_state=0).fit(Z, y)
    predict_s = {}
    for n_rows in (50_000, 1_000_000):
        pool = np.random.RandomState(1).uniform(0.05, 4.0, size=(n_rows, 2))
        predict_s[n_rows], _ = median_seconds(
            partial(selector.predict, pool), args.repeats
        )

    Z_large, y_large = self_validation_set(4_500, np.random.RandomState(2))
    kept_s, kept = fit_large(
        Z_large, y_large, _PairChunks._CACHE_LIMIT, args.large_repeats
    )
    recomputed_s, recomputed = fit_large(Z_large, y_large, 2**24, args.large_repeats)
    same = bool(np.array_equal(kept.predict(Z_large), recomputed.predict(Z_large)))
    one_thread_s, default_threads_s = fit_by_threads(Z, y, args.repeats)

    result = {
        "machine": machine_description(),
        "n_query": len(y),
        "fit_seconds_median": {"ours": ours_s, "official_schedule": base_s},
        "fit_speedup": base_s / ours_s,
        "ours_epochs": selector.n_iter_,
        "held_out_pair_accuracy_mean": {
            "ours": float(np.mean(ours_acc)),
            "official_schedule": float(np.mean(base_acc)),
            "untrained": float(np.mean(init_acc)),
        },
        "held_out_pair_accuracy_per_seed": {
            "ours": ours_acc,
            "official": base_acc,
            "untrained": init_acc,
        },
        "predict_seconds_median": {str(k): v for k, v in predict_s.items()},
        "large_fit_seconds_median": {"kept": kept_s, "recomputed": recomputed_s},
        "large_fit_speedup": recomputed_s / kept_s,
        "large_same_predictions": same,
        "threads_fit_seconds_median": {
            "one": one_thread_s,
            "process_default": default_threads_s,
        },
        "threads_fit_speedup": default_threads_s / one_thread_s,
        "repeats": {
            "ours": args.repeats,
            "official": args.baseline_repeats,
            "large": args.large_repeats,
        },
    }
    lines = [
        "# MetaQueryNetSelector benchmark",
        "",
        f"Machine: {result['machine']}",
        f"Command: `python benchmarks/bench_selector.py --repeats {args.repeats} "
        f"--baseline-repeats {args.baseline_repeats} --seeds {args.seeds} "
        f"--large-repeats {args.large_repeats}`",
        "",
        "| fit on |Q| = 500 | median fit (s) | held-out pair accuracy (mean of "
        f"{args.seeds} sets) |",
        "| --- | --- | --- |",
        f"| ours (full-batch Adam, all pairs, {selector.n_iter_} epochs) | "
        f"{ours_s:.3f} | {np.mean(ours_acc):.4f} |",
        f"| authors' schedule (SGD, 16 reversed pairs / batch, 100 x 100 steps) | "
        f"{base_s:.3f} | {np.mean(base_acc):.4f} |",
        "| authors' network before training (its initial weights) | - | "
        f"{np.mean(init_acc):.4f} |",
        "",
        f"Fit speed-up: **{base_s / ours_s:.1f}x** (ratio of medians, same run).",
        "",
        "| predict | median (s) |",
        "| --- | --- |",
        *(f"| {k:,} rows | {v:.3f} |" for k, v in predict_s.items()),
        "",
        "| fit on |Q| = 4,500 (MQNetQuery's default selector, init='rule') | "
        "median fit (s) |",
        "| --- | --- |",
        f"| pair matrix kept between epochs (this version) | {kept_s:.2f} |",
        f"| recomputed every epoch (the limit before, 2**24 elements) | "
        f"{recomputed_s:.2f} |",
        "",
        f"Speed-up: **{recomputed_s / kept_s:.1f}x** (ratio of medians, same run); "
        f"the two fits predict {'the same' if same else 'DIFFERENT'} scores.",
        "",
        "| fit on |Q| = 500 | median fit (s) |",
        "| --- | --- |",
        f"| one torch thread (this version) | {one_thread_s:.3f} |",
        f"| the process's {torch.get_num_threads()} torch threads (before) | "
        f"{default_threads_s:.3f} |",
        "",
        f"Speed-up: **{default_threads_s / one_thread_s:.1f}x** (ratio of medians, "
        "same run, the two alternating).",
    ]
    args.results_dir.mkdir(parents=True, exist_ok=True)
    write_tables_then_print(
        {
            args.results_dir / "selector.json": json.dumps(result, indent=2) + "\n",
            args.results_dir / "selector.md": "\n".join(lines) + "\n",
        },
        "\n".join(lines),
    )


if __name__ == "__main__":
    with stopped_by_signals(NO_TABLE):
        main()
