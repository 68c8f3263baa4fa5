"""Benchmark cell files: written atomically with a checksum, validated on read.

A cell file is the JSON object of one finished (suite, dataset, noise,
strategy, trial, variant) run of ``openset_benchmark.py``, or (preset, split,
noise, strategy) run of ``cifar.py``. :func:`read_cell` is the one check that
the runs (is this cell finished?), the reports and ``compare_cells.py`` (may
its numbers be used?) apply: a truncated, foreign, incomplete or edited file
is never counted as a result. A cell records the versions that computed it
(:func:`skal_openset._experiment.versions`: this package's version and source
hash, scikit-learn's, torch's and numpy's): a run names its finished cells of
other versions, or computes them again (:func:`cells_to_run`), and a report
names the versions it mixes (:func:`warn_of_mixed_versions`).
"""

import errno
import hashlib
import json
import warnings
import zipfile
from pathlib import Path
from typing import NamedTuple

from skal_openset._atomic import atomic_path
from skal_openset._datasets import zip_fingerprint
from skal_openset._experiment import other_versions
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


class UnreadableCellError(OSError):
    """A cell file that cannot be read (permissions, an I/O error, a folder in
    its place): not known to be damaged, so never run again and replaced;
    names the file and says what to do."""

    def __str__(self):
        return self.strerror  # the whole message, without OSError's "[Errno n]"


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
    UnreadableCellError
        Naming the file and the OSError reading it gave.
    """

    def invalid(reason):
        return InvalidCellError(f"benchmark cell {path}: {reason}")

    try:
        content = json.loads(path.read_text())
    except OSError as exc:
        raise UnreadableCellError(
            exc.errno,
            f"benchmark cell {path} cannot be read ({exc.strerror or exc}); it is "
            "left as it is: make it readable, or move it out of the cells folder "
            "(a run of its suite runs the cell again), then run again.",
        ) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
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


def _gone(error):
    """Whether the UnreadableCellError `error` is of a file never written, or
    gone since it was listed: no cell there, not one to stop at."""
    return error.errno == errno.ENOENT


def finished_content(path, cell, layout=TABULAR_CELLS, rounds=None):
    """The content of ``path`` when it holds a valid result of ``cell`` (see
    :func:`read_cell`), else None: the cell is run.

    An invalid file is reported with a warning naming it and counts as not
    finished, so the cell is run again; one that cannot be read raises
    :class:`UnreadableCellError`, as running the cell would replace it.
    """
    try:
        return read_cell(path, cell, layout, rounds)
    except UnreadableCellError as exc:
        if _gone(exc):
            return None
        raise
    except InvalidCellError as exc:
        warnings.warn(f"{exc}; running it again.", UserWarning, stacklevel=2)
        return None


def data_fingerprint(data):
    """What tells data apart (a hex string): a zip's member names, sizes and
    CRCs, a folder's file names and contents, a file's contents (not their
    times, which a copy changes; hashing CIFAR's ~180 MB of pickles is one
    read of them, short next to any run)."""
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
    was recorded) are of any data; a damaged file is run again, one gone
    since it was listed is passed, and one that cannot be read raises
    :class:`UnreadableCellError`."""
    fingerprints = {}
    for path in sorted(paths):
        try:
            content = read_cell(path, layout=layout)
        except InvalidCellError:
            continue
        except UnreadableCellError as exc:
            if _gone(exc):
                continue
            raise
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


RERUN_OPTION = "--rerun-other-versions"  # the runs' option that recomputes them


def add_rerun_option(run):
    """Add :data:`RERUN_OPTION` to the parser of a script's run command."""
    run.add_argument(
        RERUN_OPTION,
        action="store_true",
        help="run again the finished cells that other versions of skal_openset, "
        "scikit-learn, torch or numpy wrote, or that record none (default: "
        "count them as finished, with a warning naming them)",
    )


def cells_to_run(cells, path_of, finished, rerun_other_versions):
    """The `cells` a run runs, in their order: those not `finished`, and those
    other versions wrote where `rerun_other_versions`; where not, those are
    named in a warning.

    `finished` gives the content of a cell's file when the cell is finished,
    None when not: each file is read once. `path_of` gives a cell's file.
    """
    contents = [finished(cell) for cell in cells]
    # By version: the versions that differ in words (other_versions); cells
    # that record none form one group.
    groups = {}
    done = [(path_of(c), x) for c, x in zip(cells, contents) if x is not None]
    for path, content in sorted(done, key=lambda pair: pair[0]):
        other = other_versions(content.get("versions"))
        if other is not None:
            groups.setdefault(other, []).append(path)
    stale = set()
    if rerun_other_versions:
        stale = {path for paths in groups.values() for path in paths}
    else:
        warn_of_other_versions(groups)
    return [
        cell
        for cell, content in zip(cells, contents)
        if content is None or path_of(cell) in stale
    ]


def warn_of_other_versions(groups):
    """Warn that the finished cells `groups` ({(those versions, these):
    [paths]}, of :func:`cells_to_run`) count as finished though other
    versions wrote them, and say what to do."""
    if not groups:
        return
    written = "; ".join(
        f"{len(paths)} by {then} (this run has {now}), e.g. {paths[0]}"
        for (then, now), paths in groups.items()
    )
    warnings.warn(
        f"finished cells of this run were written with other versions: {written}. "
        "They count as finished, and a report would mix them with the cells "
        f"these versions write: run again with {RERUN_OPTION} to compute them "
        "again, or keep them as they are.",
        UserWarning,
        stacklevel=2,
    )


def warn_of_mixed_versions(folder, contents):
    """Warn when the cells of `folder` a report reads, `contents` ({path:
    content}), were written with different versions: name each version's
    cells by the versions that differ, and say what to do."""
    groups = {}
    for path, content in sorted(contents.items()):
        recorded = content.get("versions")
        key = json.dumps(recorded, sort_keys=True)
        groups.setdefault(key, (recorded, []))[1].append(path)
    if len(groups) < 2:
        return
    recorded = [r for r, _ in groups.values() if r is not None]
    names = list(dict.fromkeys(name for r in recorded for name in r))
    differ = [n for n in names if len({r.get(n) for r in recorded}) > 1] or names
    mixed = "; ".join(
        f"{len(paths)} with "
        + (
            "versions not recorded (written before cells recorded them)"
            if r is None
            else ", ".join(f"{n} {r.get(n)}" for n in differ)
        )
        + f", e.g. {paths[0]}"
        for r, paths in groups.values()
    )
    warnings.warn(
        f"the report mixes cells of {folder} written with different versions: "
        f"{mixed}. Run their suite again with {RERUN_OPTION} to compute them "
        "with one version, or keep them as they are.",
        UserWarning,
        stacklevel=2,
    )
