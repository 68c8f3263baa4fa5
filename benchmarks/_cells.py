"""Benchmark cell files: written atomically with a checksum, validated on read.

A cell file is the JSON object of one finished (suite, dataset, noise,
strategy, trial, variant) run of ``openset_benchmark.py``, or (preset, split,
noise, strategy) run of ``cifar.py``. :func:`read_cell` is the one check that
the runs (is this cell finished?), the reports and ``compare_cells.py`` (may
its numbers be used?) apply: a truncated, foreign, incomplete or edited file
is never counted as a result.
"""

import hashlib
import json
import warnings
import zipfile
from pathlib import Path
from typing import NamedTuple

from skal_openset._atomic import atomic_path
from skal_openset._datasets import zip_fingerprint
from skal_openset._hashing import content_hash
from skal_openset._signals import sigterm_as_ctrl_c

# What the report reads from every record; run_active_learning writes more.
RECORD_KEYS = (
    "round",
    "test_accuracy",
    "query_size",
    "query_in_share",
    "train_seconds",
    "query_seconds",
)
CELL_KEYS = ("suite", "dataset", "noise", "strategy", "trial", "rounds")


class CellLayout(NamedTuple):
    """What the cell files of a script hold."""

    keys: tuple[str, ...]  # top-level keys, the checksum left out
    cell_keys: tuple[str, ...]  # keys of its "cell"
    checksum_required: bool


TABULAR_CELLS = CellLayout(
    ("cell", "in_classes", "seconds", "records", "landscapes"), CELL_KEYS, True
)
# cifar.py's cells: the committed ones, written before it used write_cell, have
# no checksum, nor the "data" (path and fingerprint) later ones record; the
# rest of the check still finds a truncated or foreign file.
CIFAR_CELLS = CellLayout(
    (
        "cell",
        "in_classes",
        "n_pool",
        "n_test",
        "seconds",
        "encoder_seconds",
        "encoder_epochs",
        "device",
        "records",
    ),
    ("preset", "split", "noise", "strategy"),
    False,
)


class InvalidCellError(ValueError):
    """A cell file that is not a complete, intact result; names the file."""


def invalid_cell_message(error, command):
    """The line a script that stopped at `error` prints: what to do, then
    `command` again."""
    return (
        f"{error}. Move it out of the cells folder or delete it (a run of its "
        f"suite runs the cell again), then {command} again."
    )


def _checksum(content):
    """SHA-256 of the content's canonical JSON (keys sorted), the checksum left out."""
    body = {k: v for k, v in content.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def write_cell(path, content):
    """Write a cell's content with its checksum, atomically (temp file + rename).

    A SIGTERM meanwhile, which a joblib worker gets as the whole run is
    stopped (``timeout``, SLURM), removes the temporary file, as Ctrl-C does.
    """
    with sigterm_as_ctrl_c(), atomic_path(path) as tmp:
        tmp.write_text(json.dumps({**content, "checksum": _checksum(content)}))
    return path


def read_cell(path, expected_cell=None, layout=TABULAR_CELLS, rounds=None):
    """Load a cell file and check it is a complete, intact result.

    Parameters
    ----------
    path : pathlib.Path
        The cell file.
    expected_cell : dict, default=None
        When given, the file must hold exactly this cell (not another one
        saved under its name).
    layout : CellLayout, default=TABULAR_CELLS
        The keys the file holds; :data:`CIFAR_CELLS` for ``cifar.py``'s.
    rounds : int, default=None
        The number of records the cell must hold; None: its cell's
        ``"rounds"``, not checked where it has none (CIFAR cells, whose
        preset sets their rounds).

    Returns
    -------
    content : dict

    Raises
    ------
    InvalidCellError
        Naming the file and what is wrong: not JSON, a missing key, fewer or
        more records than the cell's rounds, a non-finite accuracy, a checksum
        that does not match the content, or a different cell.
    """

    def invalid(reason):
        return InvalidCellError(f"benchmark cell {path}: {reason}")

    try:
        content = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise invalid(f"cannot be read as JSON ({exc})") from None
    if not isinstance(content, dict):
        raise invalid("is not a JSON object")
    missing = {*layout.keys, *("checksum",) * layout.checksum_required}
    missing -= set(content)
    if missing:
        raise invalid(f"lacks the keys {sorted(missing)}")
    if "checksum" in content and content["checksum"] != _checksum(content):
        raise invalid("checksum does not match its content (edited or damaged)")
    cell, records = content["cell"], content["records"]
    if not isinstance(cell, dict) or not set(layout.cell_keys) <= set(cell):
        raise invalid(
            f"'cell' must be an object with the keys {list(layout.cell_keys)}"
        )
    if expected_cell is not None and cell != expected_cell:
        raise invalid(f"holds the cell {cell}, not {expected_cell}")
    rounds = cell.get("rounds") if rounds is None else rounds
    if (
        not isinstance(records, list)
        or not records
        or rounds not in (None, len(records))
    ):
        n = len(records) if isinstance(records, list) else "no"
        raise invalid(f"has {n} records for a cell of {rounds} rounds")
    for i, record in enumerate(records, start=1):
        if not isinstance(record, dict) or not set(RECORD_KEYS) <= set(record):
            raise invalid(f"record {i} lacks some of the keys {list(RECORD_KEYS)}")
        if record["round"] != i:
            raise invalid(f"record {i} is of round {record['round']}")
        accuracy = record["test_accuracy"]
        if not isinstance(accuracy, (int, float)) or not 0 <= accuracy <= 1:
            raise invalid(f"record {i} has test_accuracy {accuracy!r}")
    return content


def is_finished(path, cell, layout=TABULAR_CELLS, rounds=None):
    """True when ``path`` holds a valid result of ``cell`` (see :func:`read_cell`).

    An invalid file is reported with a warning naming it and counts as not
    finished, so the cell is run again.
    """
    if not path.exists():
        return False
    try:
        read_cell(path, cell, layout, rounds)
    except InvalidCellError as exc:
        warnings.warn(f"{exc}; running it again.", UserWarning, stacklevel=2)
        return False
    return True


def data_fingerprint(data):
    """What tells data apart (a hex string): a zip's member names, sizes and
    CRCs, a folder's file names and contents, a file's contents (not their
    times, which a copy changes; hashing CIFAR's ~180 MB of pickles takes well
    under a second)."""
    data = Path(data)
    if data.is_dir():
        files = sorted(p for p in data.iterdir() if p.is_file())
        return content_hash([(p.name, _file_digest(p)) for p in files])
    if zipfile.is_zipfile(data):
        with zipfile.ZipFile(data) as zf:
            return zip_fingerprint(zf)
    return _file_digest(data)


def _file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def made_from(data):
    """What a cell records of the data it was made from, for
    :func:`other_data_error`."""
    return {"path": str(Path(data).resolve()), "fingerprint": data_fingerprint(data)}


def other_data_error(paths, data_of, layout=TABULAR_CELLS):
    """Why the cells a run makes cannot join the cell files `paths`, or None:
    one of them was made from other data than ``data_of(cell)``, the data
    its cell is made from now (None: a cell the run does not make), and a
    report would mix the two. Cells that record no data (written before it
    was recorded) are of any data; a damaged file is run again."""
    fingerprints = {}
    for path in sorted(paths):
        try:
            content = read_cell(path, layout=layout)
        except InvalidCellError:
            continue
        recorded, data = content.get("data"), data_of(content["cell"])
        if not recorded or data is None:
            continue
        if data not in fingerprints:
            fingerprints[data] = data_fingerprint(data)
        if recorded["fingerprint"] != fingerprints[data]:
            return (
                f"{path} was made from {recorded['path']} (fingerprint "
                f"{recorded['fingerprint']}), not from {Path(data).resolve()} "
                f"(fingerprint {fingerprints[data]}); write into another results "
                "folder (--results-dir), or delete the cells of the other data"
            )
    return None
