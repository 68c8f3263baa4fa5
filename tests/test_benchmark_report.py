"""The benchmark report's statistics (benchmarks/report.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))

from report import _paired_rank_lines  # noqa: E402


def _final(strategy, trial, accuracy):
    return dict(
        dataset="d",
        noise=0.4,
        trial=trial,
        strategy=strategy,
        round=3,
        test_accuracy=accuracy,
    )


def test_tied_strategies_share_their_average_rank():
    accuracies = {0: (0.9, 0.9, 0.8), 1: (0.7, 0.7, 0.7)}
    records = [
        _final(strategy, trial, accuracy)
        for trial, row in accuracies.items()
        for strategy, accuracy in zip("ABC", row)
    ]
    row = _paired_rank_lines(records, ["A", "B", "C"])[-2]
    # Trial 0: A and B share ranks 1-2, C is 3; trial 1: all share 1-3.
    assert row == "| 40% | **1.75** | **1.75** | 2.50 |"
