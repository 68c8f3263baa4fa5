"""Do two results folders hold the same cells? A check that committed numbers reproduce.

Rerun a suite into another folder, then compare it with the committed one::

    python benchmarks/openset_benchmark.py --results-dir /tmp/again run tabular \\
        --trials 5 --strategies 'P*I' --n-jobs 2
    python benchmarks/compare_cells.py benchmarks/results /tmp/again tabular

Every cell of the second folder is matched with the same cell of the first;
two cells are the same run if every round's test accuracy and IN share of the
query are equal (timings always differ). Prints one line per cell that
differs (its final accuracy in each folder), then the counts and how much the
final accuracies of the differing cells moved; exits 1 if a
cell differs or has no counterpart, 3 if a cell file is damaged (2 is
a usage error, as for every argparse script; 141 if the command reading
its output quit first, as ``| head`` does).
"""

import json
import sys
from pathlib import Path

from _common import NOTHING_WRITTEN, stopped_by_signals

import numpy as np

from _cells import (
    CIFAR_CELLS,
    TABULAR_CELLS,
    InvalidCellError,
    UnreadableCellError,
    invalid_cell_message,
    read_cell,
)
from skal_openset._argtypes import Parser

COMPARED = ("round", "test_accuracy", "query_size", "query_in_share")


def _runs(folder, suite):
    """``{file name: (the cell's key, its records, compared keys only, as
    JSON, its final accuracy (%))}``; JSON text compares round 1's NaN IN share
    as equal."""
    runs = {}
    for path in sorted((Path(folder) / "cells" / suite).glob("*.json")):
        layout = CIFAR_CELLS if suite.startswith("cifar-") else TABULAR_CELLS
        content = read_cell(path, layout=layout)
        records = [{k: r[k] for k in COMPARED} for r in content["records"]]
        final = 100 * records[-1]["test_accuracy"]
        runs[path.name] = content["cell"], json.dumps(records), final
    return runs


def matched_cells(reference, other, suite):
    """Each cell of `other` beside the same cell of `reference`.

    A list of ``(file name, cell key, final accuracy (%) in reference or None
    where it has no such cell, final accuracy (%) in other, same run?)``.
    """
    theirs, ours = _runs(reference, suite), _runs(other, suite)
    matched = []
    for name, (cell, records, after) in ours.items():
        if name not in theirs:
            matched.append((name, cell, None, after, False))
            continue
        _, their_records, before = theirs[name]
        matched.append((name, cell, before, after, records == their_records))
    return matched


def compare(reference, other, suite):
    """Lines naming the cells of `other` that differ from or are missing in
    `reference`, and whether all of them are the same."""
    matched = matched_cells(reference, other, suite)
    lines, changes = [], []
    for name, _, before, after, same in matched:
        if before is None:
            lines.append(f"{name}: not in {reference}")
        elif not same:
            changes.append(after - before)
            lines.append(f"{name}: final accuracy {before:.2f} -> {after:.2f}")
    n_same = sum(same for *_, same in matched)
    lines.append(
        f"{suite}: {n_same} of {len(matched)} cells of {other} are the same runs "
        f"as in {reference}"
    )
    if changes:
        lines.append(
            f"final accuracy of the {len(changes)} that differ: mean change "
            f"{np.mean(changes):+.2f}, mean absolute {np.mean(np.abs(changes)):.2f}, "
            f"from {min(changes):+.2f} to {max(changes):+.2f} points"
        )
    return lines, n_same == len(matched)


def main(argv=None):
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", help="a results folder, e.g. benchmarks/results")
    parser.add_argument("other", help="the results folder of a rerun")
    parser.add_argument("suite", help="the suite, e.g. tabular or fashion")
    args = parser.parse_args(argv)
    for folder in (args.reference, args.other):
        if not any((Path(folder) / "cells" / args.suite).glob("*.json")):
            parser.error(f"{folder} has no cells of the suite {args.suite!r}")
    try:
        lines, all_same = compare(args.reference, args.other, args.suite)
    except InvalidCellError as error:  # neither "differs" (1) nor usage (2)
        print(invalid_cell_message(error, "compare"), file=sys.stderr)
        return 3
    except UnreadableCellError as error:
        print(error, file=sys.stderr)
        return 3
    print("\n".join(lines))
    return 0 if all_same else 1


if __name__ == "__main__":
    with stopped_by_signals(NOTHING_WRITTEN, output_last=True):
        sys.exit(main())
