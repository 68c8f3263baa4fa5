"""Active learning on a user's own table: simulated from its labels, or interactive.

The engine of ``skal-openset run``. A table is a CSV (or .npz) file with
numeric feature columns and one label column; an empty label marks an
unlabelled row. Labels are handled as strings, so ``3`` and ``"cat"`` work
alike; every label outside the IN classes counts as OOD.
"""

import copy
import csv
import decimal
import hashlib
import io
import itertools
import math
import shlex
import time
from collections import Counter
from pathlib import Path

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.extmath import _approximate_mode

from ._datasets import (
    DAMAGED_ZIP,
    OpenSetSplit,
    _float32_features,
    _initial_indices,
    _is_blank_line,
    _read_csv_table,
    load_npz,
    refuse_encrypted,
)
from ._experiment import saved_sklearn_version, versions, warn_of_other_versions
from ._hashing import Fingerprint
from ._labels import (
    as_label,
    check_each_once,
    invisible_characters,
    missing_marker_message,
    name_characters,
    without_invisible,
)
from ._learner import ActiveLearner, relabelling_advised
from ._oracle import labelling_cost, labels_within
from ._persistence import (
    _DamagedFileError,
    _EarlyFileError,
    _UnloadableFileError,
    atomic_open,
    load_object,
    save_object,
)
from ._validation import file_at, shown_names
from ._warn import warn

# The campaign's state, in its output folder.
STATE_FILE = "state.joblib"


def load_table(
    path,
    label_column="label",
    ignore_columns=(),
    *,
    ood_label=None,
    in_classes=(),
    return_ignored=False,
):
    """Features and string labels ("" for an unlabelled row) of a CSV or .npz file.

    A .npz file holds the features as ``X`` and the labels as `label_column`
    (NaN marks an unlabelled row there, as "" does); `ignore_columns` names
    CSV columns that are no features, returned as a third value, a dict of
    column name to strings, with `return_ignored`. Labels are read as
    :func:`as_label` gives them. A label that marks a missing value (``NA``,
    ``N/A``, ``#N/A``, ``<NA>``, ``nan``, ``None``, ``null`` or ``?``, in any
    case) is refused unless it is exactly `ood_label` or one of `in_classes`:
    it would count as OOD.
    """
    path = file_at(path, "data file")
    suffix = path.suffix.lower()  # T.NPZ is a .npz file
    if suffix == ".npy":  # else read as CSV text, and refused as not UTF-8
        raise ValueError(_npy_message(path, label_column))
    if suffix == ".npz":
        if ignore_columns:
            raise ValueError(
                f"{path} is a .npz file, whose features 'X' have no named columns "
                "to ignore; save X without them."
            )
        with _open_npz(path, label_column) as data:
            missing = {"X", label_column} - set(data.files)
            if missing:
                raise ValueError(
                    f"{path} lacks the arrays {sorted(missing)} (it holds "
                    f"{data.files}); a .npz file needs the features as 'X' and the "
                    f"labels as {label_column!r} (--label-column names another): "
                    f"save them by name, {_savez_call(label_column)}."
                )
            refuse_encrypted(
                [data.zip.getinfo(_npy_member(data, n)) for n in ("X", label_column)],
                f"{path} is not a readable .npz file",
                "unzip it with the password and save the arrays again with "
                f"{_savez_call(label_column)}; if it was not meant to have one, "
                "copy it again.",
            )
            arrays = {}
            for name in ("X", label_column):
                try:
                    _check_announced_size(data, name)
                    arrays[name] = data[name]
                except (ValueError, *DAMAGED_ZIP) as error:
                    # numpy names allow_pickle for object arrays only, which
                    # loading would unpickle; anything else is damage
                    if "allow_pickle" not in str(error):
                        raise ValueError(
                            _unreadable_npz_message(path, label_column, error)
                        ) from None
                    as_str = _savez_labels(label_column, "labels.astype(str)")
                    raise ValueError(
                        f"{path}: {name!r} is an object array ({error}); save the "
                        "features as numbers and the labels as strings or numbers, "
                        f"e.g. np.savez(path, X=X.astype(float), {as_str}) with '' "
                        "for a row not labelled yet."
                    ) from error
        X, labels = arrays["X"], arrays[label_column]
        if X.ndim != 2:
            fix = (
                "for one feature per row, save X.reshape(-1, 1)"
                if X.ndim == 1
                else "flatten each row, X.reshape(len(X), -1)"
                if X.ndim > 2
                else "save an array of rows"
            )
            raise ValueError(
                f"{path}: X has shape {X.shape}, but a table of rows and feature "
                f"columns is 2-D; {fix}."
            )
        if not len(X):  # numpy's "cannot reshape" said it below
            raise ValueError(f"{path} has no rows (X has shape {X.shape}).")
        if not X.shape[1]:  # scikit-learn would refuse "0 feature(s)" mid-run
            raise ValueError(
                f"{path} has no feature column (X has shape {X.shape}); a table "
                "needs at least one column of numeric features."
            )
        if X.dtype.kind == "c":  # astype would drop the imaginary parts
            raise ValueError(
                f"{path}: X holds complex numbers (dtype {X.dtype}); every "
                "feature must be a real number: save the real and imaginary "
                "parts as columns of their own, np.hstack([X.real, X.imag])."
            )
        if X.dtype.kind not in "biuf":
            try:  # numbers written as text are numbers still
                X = X.astype(np.float64)
            except (ValueError, TypeError) as error:
                what = "text" if X.dtype.kind in "US" else "values"
                raise ValueError(
                    f"{path}: X holds {what} of dtype {X.dtype} that are not "
                    f"numbers ({error}); every feature must be a number: encode "
                    "text features as numbers (e.g. with OneHotEncoder) and save "
                    "X.astype(float)."
                ) from None
        if labels.ndim != 1:
            raise ValueError(
                f"{path}: the labels {label_column!r} have shape {labels.shape}; "
                "give one label per row, as a 1-D array."
            )
        if labels.dtype.kind == "S":  # bytes: astype(str) decodes ASCII alone
            try:
                labels = np.char.decode(labels, "utf-8")
            except UnicodeDecodeError as error:
                raise ValueError(
                    f"{path}: the labels {label_column!r} are bytes that are not "
                    f"UTF-8 text ({error}); decode them with their encoding and "
                    "save them as strings, e.g. labels = np.char.decode(labels, "
                    "'latin-1')."
                ) from None
        if labels.dtype.kind == "f":  # NaN marks an unlabelled row, as "" does
            _check_exact_integers(path, label_column, labels)
            # NaN made integer labels float: 3.0 is written 3, as in a CSV.
            # Each in its own precision: float32's 0.1 is "0.1", not its
            # float64 value 0.10000000149011612.
            labels = np.array(
                ["" if v != v else str(int(v)) if v.is_integer() else str(v)
                 for v in labels]
            )  # fmt: skip
        X = _float32_features(
            X,
            path,
            lambda row, col: (
                f"row {row} of X, column {col}: feature value {X[row, col]}"
            ),
            [f"column {c} of X" for c in range(X.shape[1])],
        )
        where, lines, ignored = "row {} of the labels", range(len(labels)), {}
        widest = 0
    else:
        X, labels, lines, ignored, widest = _read_csv_table(
            path, label_column, ignore_columns
        )
        where = "line {}"
    labels = np.asarray(labels).astype(str)
    normalised = [as_label(v) for v in labels.tolist()]
    # The width the labels had (the CSV table's widest cell): the states of
    # campaigns started before table_fingerprint took the labels by value
    # hashed the array so, dtype included, and are matched at this width.
    width = max([widest, labels.dtype.itemsize // 4, *map(len, normalised)])
    labels = np.array(normalised, dtype=f"<U{width}")
    if len(X) != len(labels):  # X is 2-D: the .npz branch checks it
        raise ValueError(
            f"{path}: expected a table of rows and one label per row, got features "
            f"of shape {X.shape} and {len(labels)} labels."
        )
    classes = {*in_classes, *([] if ood_label is None else [ood_label])}
    missing = missing_marker_message(
        labels.tolist(),
        lambda i: f"{path}, {where.format(lines[i])}",
        lambda marker: (
            "as a label it would count as OOD. In an interactive run leave the "
            "label of a row not labelled yet empty ('' or NaN in a .npz); "
            "otherwise drop those rows or give them their label (or, if "
            f"{marker!r} is a class, say so: --ood-label {shlex.quote(marker)} "
            "for the OOD label, or name it in --in-classes)."
        ),
        set(map(as_label, classes)),
    )
    if missing:
        raise ValueError(missing)
    return (X, labels, ignored) if return_ignored else (X, labels)


def _check_exact_integers(path, label_column, labels):
    """Refuse float `labels` of 2**53 or more in absolute value (2**24 in
    float32), where the dtype's integers are exact no more: integer labels
    saved with NaN for unlabelled rows were rounded there, and two classes
    (2**53 and 2**53 + 1) may have become one, which no reader can undo."""
    limit = 2 ** (np.finfo(labels.dtype).nmant + 1)
    beyond = np.flatnonzero(np.isfinite(labels) & (np.abs(labels) >= limit))
    if beyond.size:
        at = int(beyond[0])
        raise ValueError(
            f"{path}: row {at} of the labels {label_column!r} is "
            f"{float(labels[at])!r}, but {labels.dtype} holds integers exactly "
            f"only below 2**{limit.bit_length() - 1} in absolute value: integer "
            f"labels saved as {labels.dtype} were rounded there, and two classes "
            "may have become one. Save the integer labels as strings, with '' "
            "for a row not labelled yet, e.g. np.where(labelled, "
            "labels.astype(str), '') from the integers."
        )


def _open_npz(path, label_column):
    """np.load of the .npz file at `path`, refused with a ValueError that
    says why if it does not read as one."""
    with open(path, "rb") as f:
        is_zip = f.read(2) == b"PK"  # as a .npz file is
    if not is_zip:  # np.load would read a .npy file, or unpickle the bytes
        raise ValueError(_unreadable_npz_message(path, label_column))
    try:
        return load_npz(path, allow_pickle=False)
    except (ValueError, *DAMAGED_ZIP) as error:
        raise ValueError(_unreadable_npz_message(path, label_column, error)) from None


def _check_announced_size(data, name):
    """Refuse the array `name` of the open .npz file `data` if the header of
    its .npy member announces more bytes than the member holds: numpy
    allocates them before reading, and a damaged header can announce more
    than any machine has."""
    member = _npy_member(data, name)
    readers = {
        (1, 0): np.lib.format.read_array_header_1_0,
        (2, 0): np.lib.format.read_array_header_2_0,
        # 2.0's layout with a UTF-8 header (numpy has no public reader of
        # it): read as Latin-1, a non-ASCII field name comes out otherwise,
        # but the shape and the dtype's size are the same.
        (3, 0): np.lib.format.read_array_header_2_0,
    }
    with data.zip.open(member) as f:
        try:
            read_header = readers.get(np.lib.format.read_magic(f))
        except ValueError:  # numpy would give its bytes, as they are
            raise ValueError(
                f"{member} holds no .npy array: it does not begin as one"
            ) from None
        if read_header is None:  # a version numpy does not read: it says so
            return
        shape, _, dtype = read_header(f)
        announced = f.tell() + math.prod(shape) * dtype.itemsize
    size = data.zip.getinfo(member).file_size
    if not dtype.hasobject and announced > size:  # objects are pickled
        raise ValueError(
            f"the header of {member} announces shape {shape} of {dtype}, "
            f"{announced} bytes, but the member holds {size}"
        )


def _npy_member(data, name):
    """The name of the member of the open .npz file `data` that holds the
    array `name`: ``name.npy``, as np.savez writes it, or `name` itself."""
    return name if name in data.zip.namelist() else f"{name}.npy"


def _unreadable_npz_message(path, label_column, error=None):
    """Why the file at `path`, named .npz, does not read as one (`error`, if
    numpy tried it), told by its first bytes."""
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic == b"\x93NUMPY":
        return _npy_message(path, label_column)
    if magic.startswith(b"PK") or not magic:
        state = (
            "begins as a zip archive, as a .npz file does, but is truncated or "
            f"damaged (reading it: {error})"
            if magic
            else "is empty (0 bytes)"
        )
        return (
            f"{path} is not a readable .npz file: it {state}, as an interrupted "
            "copy or download may leave it; copy it again, or save it again with "
            f"{_savez_call(label_column)}."
        )
    return (
        f"{path} is not a .npz file at all: a .npz file is a zip archive, and "
        "this file does not begin as one. If it is a CSV table, give it the "
        "suffix .csv; else save the features and labels with "
        f"{_savez_call(label_column)}."
    )


def _npy_message(path, label_column):
    """Why the .npy file at `path` is no table."""
    return (
        f"{path} is a .npy file, which holds one array, not a table of features "
        f"and labels: save both in a .npz file, e.g. {_savez_call(label_column)}."
    )


def _savez_call(label_column):
    """How a .npz file of features ``X`` and labels ``labels`` is saved."""
    labels = _savez_labels(label_column, "labels")
    return f"np.savez(path, X=X, {labels}) with '' or NaN for a row not labelled yet"


def _savez_labels(label_column, labels):
    """The argument of np.savez that saves the expression `labels` under the
    name `label_column`: by keyword, or unpacked where no keyword can be."""
    return (
        f"{label_column}={labels}"
        if label_column.isidentifier()
        else f"**{{{label_column!r}: {labels}}}"
    )


def check_in_classes(
    in_classes, labels, ood_label, *, interactive=False, resuming=False
):
    """The IN classes as strings, at least 2, each present among the labels.

    An interactive campaign may start without some (a query may find them),
    though with at least one labelled row of an IN class; those it lacks are
    printed when it starts, not when `resuming` (its queries may have found
    them since, which the file does not show). A label that is no IN class
    but equals one as a number (``01`` or ``1.0`` beside ``1``) or once its
    invisible characters are left out (a zero-width space) is refused, and
    one that differs from one in case only (``Cat`` beside ``cat``) warned
    of, since it would count as OOD; either is refused when the IN class as
    typed labels no row. A class or OOD label typed with invisible
    characters is taken where the file writes it so, unless two of them
    read as one. The labels are compared as :func:`as_label` gives them.
    """
    if not ood_label.strip():  # an empty label marks a row not yet labelled
        raise ValueError(
            f"The OOD label must be a non-empty label, got {ood_label!r}: an empty "
            "label marks a row not labelled yet. Keep the default 'unknown' or "
            "name another."
        )
    in_classes, ood_label = list(map(as_label, in_classes)), as_label(ood_label)
    if "" in in_classes:
        raise ValueError(
            "--in-classes must list non-empty labels, got "
            f"{shown_names(in_classes, 'classes')}: "
            "leave out the empty one, which a leading, doubled or trailing comma "
            "makes."
        )
    check_each_once(in_classes, "--in-classes", "IN class")
    present = set(labels.tolist())
    for given in (*in_classes, ood_label):
        # copied from a document, it labels no row as typed (one that does is
        # the file's spelling: an emoji's U+FE0F, a Persian word's joiner)
        if (hidden := invisible_characters(given)) and given not in present:
            raise ValueError(
                f"The label {given!r} holds invisible characters "
                f"({name_characters(hidden)}); type the IN classes and the OOD "
                "label without them."
            )
    # Taken as the file writes them, two such labels may read as one: rows
    # that show one IN class would be split, or count as OOD.
    reads = {}
    for given in (*in_classes, ood_label):
        if (other := reads.setdefault(without_invisible(given), given)) != given:
            hidden = invisible_characters(other) + invisible_characters(given)
            raise ValueError(
                f"The labels {other!r} and {given!r} differ only by invisible "
                f"characters ({name_characters(hidden)}), so they read as one: "
                "write that label one way in the file, and name it once among "
                "the IN classes and the OOD label."
            )
    _check_look_alikes(in_classes, labels, ood_label)
    missing = [c for c in in_classes if c not in present]
    known = shown_names(sorted(present - {""}), "labels")
    if ood_label in in_classes:
        raise ValueError(
            f"--ood-label {ood_label!r} is also one of --in-classes "
            f"{shown_names(in_classes, 'classes')}: "
            "a label is either an IN class or the annotator's mark for OOD rows; "
            "remove it from one of the two."
        )
    if len(in_classes) < 2:
        raise ValueError(
            f"--in-classes must name at least 2 distinct labels, got {in_classes}: "
            f"pick the IN classes from the file's labels {known}."
        )
    if missing and not interactive:
        raise ValueError(
            f"--in-classes names {shown_names(missing, 'classes')}, which label no "
            "row of the file, and a "
            "simulated run only reveals the file's labels: pass IN classes from "
            f"its labels {known}, spelt as the file writes them."
        )
    if len(missing) == len(in_classes):
        raise ValueError(
            "No row of the file is labelled with an IN class "
            f"{shown_names(in_classes, 'classes')} yet "
            f"(its labels: {known}); round 1 trains on the labelled rows: label "
            "at least one row of an IN class first."
        )
    if missing and not resuming:
        print(
            f"No row is labelled {shown_names(missing, 'classes')} yet: round 1 "
            "trains without them, and "
            "a query may find them (if one is a typo, stop and rerun with the "
            "right name, in another --output or after deleting state.joblib in "
            "this one: the campaign is kept under its first options)."
        )
    return in_classes


def _as_number(text):
    """`text` as an exact number (a float would tie 17-digit codes), or None."""
    try:
        value = decimal.Decimal(text)
    except decimal.InvalidOperation:
        return None
    return value if value.is_finite() else None  # NaN equals nothing


def _check_look_alikes(in_classes, labels, ood_label):
    """Labels are compared as strings, so one that is no IN class counts as
    OOD: refuse those that equal an IN class as a number (``01``, ``1.0``
    beside ``1``) or but for invisible characters (``cat`` and a zero-width
    space beside ``cat``), and warn of those that differ from one in case
    only (``Cat`` beside ``cat``: some data sets keep such classes apart);
    an IN class that labels no row as typed, while the file spells it
    otherwise, is refused either way."""
    as_number, in_case, invisible = {}, {}, {}
    for label, count in Counter(labels.tolist()).items():
        if not label or label == ood_label or label in in_classes:
            continue
        number = _as_number(label)
        found = f"{label!r} ({count} row(s))"
        for c in in_classes:
            # It reads as the IN class, with invisible characters that the
            # class lacks (a zero-width space) or without those it has.
            if without_invisible(label) == without_invisible(c):
                hidden = invisible_characters(label)
                apart = "with" if hidden else "without"
                hidden = name_characters(hidden or invisible_characters(c))
                found = f"{label!r} ({count} row(s), {apart} {hidden})"
                invisible.setdefault(c, []).append(found)
                break
            if number is not None and number == _as_number(c):
                as_number.setdefault(c, []).append(found)
                break
            if label.casefold() == c.casefold():
                in_case.setdefault(c, []).append(found)
                break
    if invisible:
        raise ValueError(
            f"The file's labels {_look_alikes(invisible)} but for invisible "
            "characters, so they would silently count as OOD. Remove those "
            "characters from the labels in the file (they come with text "
            "copied from web pages or documents), or write each class one way "
            "there and in --in-classes (an emoji with or without its U+FE0F)."
        )
    present = set(labels.tolist())
    # An IN class as typed labels no row, and the file spells it otherwise
    # (1.0 for 1, as numpy prints the labels of a float .npz; cat for Cat):
    # the file is consistent, --in-classes is not.
    misspelt = {
        c: found for c, found in {**as_number, **in_case}.items() if c not in present
    }
    if misspelt:
        named = ", ".join(map(repr, misspelt))
        raise ValueError(
            f"The IN classes {named} label no row as written, while the file's "
            f"labels {_look_alikes(misspelt)}: pass --in-classes as the file "
            "writes its labels (or, if such a class is one of its own, label a "
            "row of it in the file first)."
        )
    if as_number:
        raise ValueError(
            f"The file's labels {_look_alikes(as_number)}, but are written as "
            "another number, so they would silently count as OOD. Make the "
            "labels consistent in the file (write each IN class one way, as in "
            "--in-classes)."
        )
    if in_case:
        warn(
            f"The file's labels {_look_alikes(in_case)} but for their case; they "
            "count as OOD. If they are that class, make the labels consistent "
            "in the file."
        )


def _look_alikes(found):
    return "; ".join(
        f"{', '.join(labels)} look like the IN class {c!r}"
        for c, labels in found.items()
    )


def simulated_split(X, labels, in_classes, *, initial_size, test_size, random_state):
    """An :class:`OpenSetSplit` that keeps every row of a fully labelled table.

    A stratified `test_size` share of the IN rows is the test set; all other
    rows, OOD included, form the pool, so its noise ratio is the file's own.
    The initial labelled set is `initial_size` random pool rows, IN and OOD
    in the pool's proportions. The IN classes are coded ``0..k-1`` in sorted
    order, as :class:`ActiveLearner` keeps its classes, so the order
    `in_classes` lists them in changes no split or run.
    """
    if (labels == "").any():
        row = int(np.flatnonzero(labels == "")[0])
        raise ValueError(
            f"Data row {row} (counted from 0; in a CSV file, with the header and "
            "blank lines left out) has no label: a simulated run needs every "
            "label; use --interactive to label rows yourself."
        )
    rng = check_random_state(random_state)
    # The stratified test set draws class by class, and a net's outputs are
    # the codes: listed in another order, the same classes were another run.
    in_classes = sorted(in_classes)
    code = {c: j for j, c in enumerate(in_classes)}
    y = np.array([code.get(label, -1) for label in labels.tolist()])
    rows_in = np.flatnonzero(y >= 0)
    # The draw as it was, for a refusal to advise the sizes that work.
    before = copy.deepcopy(rng)
    try:
        train_in, test = train_test_split(
            rows_in, test_size=test_size, stratify=y[rows_in], random_state=rng
        )
    except ValueError:
        message = _no_test_set_message(y[rows_in], in_classes, test_size, before)
        raise ValueError(message) from None
    _check_both_sides(y, rows_in, (train_in, test), in_classes, test_size, before)
    pool = rng.permutation(np.concatenate([train_in, np.flatnonzero(y < 0)]))
    is_ood = y[pool] < 0
    # IN and OOD in the pool's proportions, as make_open_set_split draws it.
    initial = _initial_indices(is_ood, initial_size, is_ood.mean(), rng)
    return OpenSetSplit(
        X[pool], y[pool], initial, X[test], y[test], np.asarray(in_classes)
    )


def _check_both_sides(y, rows_in, split, in_classes, test_size, rng):
    """Refuse a stratified `split` (pool, test set) of the IN rows, drawn
    from `rng`, that left an IN class out of one side: train_test_split
    rounds each class's share, so a class of few rows beside large ones may
    get none of a small test set (or of a small rest)."""
    for rows, side in zip(split[::-1], ("test set", "pool")):
        counts = np.bincount(y[rows], minlength=len(in_classes))
        out = [c for c, n in zip(in_classes, counts) if n == 0]
        if out:
            one = len(out) == 1
            them = "it" if one else "them"
            fit = _test_sizes_that_fit(y[rows_in], len(in_classes), rng)
            raise ValueError(
                f"A test set of {test_size:g} of the {rows_in.size} IN "
                f"rows, drawn class by class, leaves IN class{'es' * (not one)} "
                f"{', '.join(map(repr, out))} out of the {side}: too few of "
                f"{them} for that share. {_choose(fit)}label more rows of {them}."
            )


def _no_test_set_message(y_in, in_classes, test_size, rng):
    """Why no `test_size` share of the IN rows, coded `y_in` and drawn from
    `rng`, holds every IN class with the rest holding every one too, and
    what changes that."""
    counts = np.bincount(y_in, minlength=len(in_classes))
    few = {c: int(n) for c, n in zip(in_classes, counts) if n < 2}
    if few:  # no --test-size splits a class of one row
        one = len(few) == 1
        names = ", ".join(f"{c!r} ({n} row{'s' * (n != 1)})" for c, n in few.items())
        them = "it" if one else "them"
        return (
            "Cannot hold out a test set with every IN class on both sides: IN "
            f"class{'es' * (not one)} {names} ha{'s' if one else 've'} fewer than "
            f"the 2 rows that takes, one a side; drop {them} from --in-classes, "
            f"or label more rows of {them}."
        )
    k = len(in_classes)
    fit = _test_sizes_that_fit(y_in, k, rng)
    return (
        f"Cannot hold out a test set of {test_size:g} of the {y_in.size} IN rows "
        "with every IN class on both sides, which needs a row of each of the "
        f"{k} IN classes on each side. {_choose(fit)}label more rows of the "
        "smallest IN classes."
    )


def _test_sizes_that_fit(y_in, k, rng):
    """The test sizes, in hundredths, whose split of the IN rows coded `y_in`
    (``0..k-1``), drawn from a copy of `rng` as simulated_split draws it,
    keeps every IN class on both sides: each class's share is rounded, so
    they follow from the class counts, not from the totals alone.

    Each class's rows a side are sized from the counts alone, as
    StratifiedShuffleSplit sizes them (the train side first, ties drawn from
    `rng`): drawing the 99 splits themselves took 35 s for a million rows."""
    counts = np.bincount(y_in, minlength=k)
    fit = []
    for t in range(1, 100):
        # train_test_split's sizes for a float test_size
        n_test = math.ceil(t / 100 * y_in.size)
        n_train = y_in.size - n_test
        if min(n_train, n_test) < k:  # which it refuses
            continue
        draw = copy.deepcopy(rng)
        train = _approximate_mode(counts, n_train, draw)
        test = _approximate_mode(counts - train, n_test, draw)
        if train.all() and test.all():
            fit.append(t)
    return fit


def _choose(fit):
    """A remedy's start: the longest run of the test sizes `fit` (in
    hundredths; rounding may leave gaps between them). Never empty: every IN
    class has 2 rows or more here (fewer is refused first), and 0.5 leaves
    each at least one a side."""
    run = max(np.split(fit, np.flatnonzero(np.diff(fit) != 1) + 1), key=len) / 100
    if run.size == 1:
        return f"Choose --test-size {run[0]:g}, or "
    return f"Choose --test-size from {run[0]:g} to {run[-1]:g}, or "


def _read_answers(path, data, ids, allowed, taught=None):
    """The labels of the query file at `path`, whose bytes are `data`, in the
    order of `ids`, "" where blank yet.

    Raises ValueError for a file that is no UTF-8 CSV text, one without the
    id and label columns, rows cut short or longer than the header (an
    unquoted comma), missing or not asked for, a row
    asked twice, or a label that is not allowed, naming them; a missing row
    is named with its `taught` label.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(
            f"{path} is not UTF-8 text (a spreadsheet may have saved it in another "
            "encoding): save it as 'CSV UTF-8', keeping the id and label columns."
        ) from None
    # No label or table value holds one (the table refuses it); Python 3.10's
    # csv reader refuses it in words of separators, 3.11's reads it in.
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise ValueError(
            f"{path}, line {line} holds a NUL character ('\\x00'), which no "
            "label holds; save it as 'CSV UTF-8' (a file saved as UTF-16 has one "
            "beside each letter), keeping the id and label columns."
        )
    # Blank lines above the header are skipped, and spaces after a comma,
    # as in the table: typed `7, "cat"` is read as 7,cat.
    lines = itertools.dropwhile(str.isspace, io.StringIO(text, newline=""))
    reader = csv.DictReader(lines, skipinitialspace=True)
    try:
        # cells past a short row's end are None
        rows = [
            row
            for row in reader
            if not _is_blank_line([v for v in row.values() if v is not None])
        ]
    except csv.Error as exc:
        # A quote never closed takes the rest of the file into one value,
        # until it passes the csv module's limit: no matter of separators.
        if "field limit" in str(exc):
            raise ValueError(
                f"{path} does not read as CSV: a value runs on for more than "
                f"{csv.field_size_limit()} characters, from a quote that is not "
                "closed, most likely; close it or remove it (a label that holds a "
                'comma is written "a, b").'
            ) from None
        raise ValueError(
            f"{path} does not read as CSV ({exc}); save it as CSV with ',' as "
            "the separator, keeping the id and label columns."
        ) from None
    # Without a label column every label reads empty: the wait would never end.
    if not {"id", "label"} <= set(reader.fieldnames or ()):
        raise ValueError(
            f"{path} needs the header 'id,label' as written, got "
            f"{shown_names(reader.fieldnames or [])}; rename the columns back "
            "(and save with ',' as the separator)."
        )
    # Of two columns of one name, only the last is read: the other's labels
    # (the person's, maybe) would be lost without a word.
    doubled = [c for c in ("id", "label") if reader.fieldnames.count(c) > 1]
    if doubled:
        name = doubled[0]
        raise ValueError(
            f"{path} has {reader.fieldnames.count(name)} columns named {name!r} "
            f"(header: {shown_names(reader.fieldnames)}), and which one is meant "
            f"cannot be told; keep the {name}s in one column {name!r} and rename "
            "the extra one (e.g. 'notes')."
        )
    # Cells missing at the end of a row (None) cut its label too, maybe to
    # another valid one; a spreadsheet's trailing empty row "," is no row.
    cut = [
        (row["id"] or "").strip()
        for row in rows
        if None in row.values() and any(row.values())
    ]
    if cut:
        raise ValueError(
            f"{path}: the rows of ids {_first_few(cut)} have fewer cells than "
            f"its header {shown_names(reader.fieldnames)}, as if cut short; save "
            "the file whole, every row with the columns as written."
        )
    # Cells past the header's (under the key None) were dropped without a
    # word: typed `5,brick, face`, the label read 'brick'.
    extra = [
        (row["id"] or "").strip()
        for row in rows
        if any(cell.strip() for cell in row.get(None, ()))
    ]
    if extra:
        raise ValueError(
            f"{path}: the rows of ids {_first_few(extra)} have more cells than "
            f"its header {shown_names(reader.fieldnames)}; a label that holds a "
            'comma must be quoted, e.g. 5,"brick, face" (a spreadsheet saving CSV '
            "does so)."
        )
    answers, unknown = {}, []
    for row in rows:
        row_id, label = (row.get("id") or "").strip(), as_label(row.get("label") or "")
        if not (row_id or label):  # a spreadsheet's trailing empty row: ","
            continue
        if row_id in answers:  # which of its labels is meant cannot be told
            raise ValueError(
                f"{path}: row id {_typed(row_id)} is there twice; keep one row per id."
            )
        if label and label not in allowed:
            unknown.append(f"id {_typed(row_id)} {label!r}{_meant(label, allowed)}")
        answers[row_id] = label
    # All at once: one at a time, each fix would cost the person a rerun.
    if unknown:
        raise ValueError(
            f"{path}: {len(unknown)} row(s) have a label that is not one of "
            f"{shown_names(allowed, 'labels')}: {_first_few(unknown, 10)}; change "
            "them to one of those."
        )
    asked = [str(i) for i in ids]
    taught = dict(zip(asked, map(str, [] if taught is None else taught)))
    missing = [
        f"{i} (taught {taught[i]!r})" if i in taught else i
        for i in asked
        if i not in answers
    ]
    unasked = sorted(set(answers) - set(asked))
    if missing or unasked:
        lists = [("missing", missing), ("not asked for", unasked)]
        named = "; ".join(f"{what}: {_first_few(i)}" for what, i in lists if i)
        raise ValueError(
            f"{path}: the ids must stay those asked for ({len(ids)} rows; "
            f"{named}); change only the label column."
        )
    return np.array([answers[i] for i in asked])


def _meant(label, allowed):
    """ " (did you mean 'cat'?)" for a `label` that is one of the `allowed`
    labels but for its case (spaces around a label are read away), else ""."""
    alike = sorted(c for c in allowed if c.casefold() == label.casefold())
    return f" (did you mean {' or '.join(map(repr, alike))}?)" if alike else ""


def _first_few(items, n=5):
    """The first `n` of `items` (:func:`_typed`), comma-separated, with ", ..."
    for more."""
    return ", ".join(map(_typed, items[:n])) + (", ..." if len(items) > n else "")


def _typed(text):
    """`text` (an id typed into a query file) as a message shows it: as it is,
    or as its repr where it is empty (shown so, it was no id at all) or a
    character of it does not print, which a terminal would act on (an id
    typed as ``\\x1b[31mX`` coloured the rest red)."""
    text = str(text)
    return text if text.isprintable() and text else repr(text)


def _settled(path, seen, *, final=False):
    """The bytes of the file at `path` and for how many seconds they have
    held still, once they are the same at two polls in a row, else None;
    FileNotFoundError if it is gone; a TimeoutError if it does not read at
    the `final` poll.

    An editor that saves in place can be caught half-way, and a label cut
    short may be another valid one (``12`` read as ``1``): only a file that
    holds still is read. `seen` keeps each file's digest at the last poll,
    and since when it has been so.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        seen.pop(path, None)
        raise
    except OSError as exc:  # locked by the program saving it
        seen.pop(path, None)
        if final:  # maybe for good: not to be taken for labels missing
            raise TimeoutError(
                f"{path} could not be read at the last poll ({exc.strerror or exc}): "
                "let this run read it (its permissions, or the program holding it "
                "locked), then rerun the same command to go on waiting."
            ) from None
        return None
    now, digest = time.monotonic(), hashlib.sha256(data).digest()
    last = seen.get(path)
    if last is None or last[0] != digest:
        seen[path] = digest, now
        return None
    return data, now - last[1]


# A save that pauses (a slow network share, a big file) leaves a file cut
# short that holds still meanwhile: one that may be so is judged only once
# it has held still this long.
_SETTLE_SECONDS = 10.0


def _wait_read(path, seen, ids, allowed, *, final):
    """:func:`_read_answers` of the file at `path` while the run waits, or
    None while it cannot be judged yet (:func:`_settled` keeps `seen`).

    A file that does not read, or whose last line has no line end (its last
    label may be cut short to another valid one), is judged only once it has
    held still ``_SETTLE_SECONDS``, or at the `final` poll; its error then
    says to rerun.
    """
    read = _settled(path, seen, final=final)
    if read is None:
        return None
    data, held = read
    ripe = final or held >= _SETTLE_SECONDS
    try:
        answers = _read_answers(path, data, ids, allowed)
    except ValueError as exc:
        if not ripe:
            return None
        raise ValueError(
            f"{exc} Once the file is fixed, rerun the same command to resume."
        ) from None
    return answers if ripe or data.endswith((b"\n", b"\r")) else None


def _said(message):
    """Print `message` at once: in a log file or a pipe (nohup, ``| tee``),
    stdout holds its lines until it is flushed, and a run waiting for labels
    had not said which file to label."""
    print(message, flush=True)


def run_interactive(
    X,
    labels,
    in_classes,
    estimator,
    query_strategy,
    *,
    output,
    fingerprint,
    ood_label="unknown",
    n_rounds=10,
    budget=100,
    cost_in=1.0,
    cost_ood=1.0,
    poll_seconds=2.0,
    timeout=None,
    options=None,
    extra_columns=None,
    log=_said,
):
    """Query, wait for a person's labels in a CSV file, teach; round after round.

    The labelled rows of the table train the first classifier; the unlabelled
    ones are the pool (a new campaign needs both). Each query round writes
    ``queries/round_<r>.csv`` (``id`` = the row's position among the table's
    data rows, counted from 0 with the header and blank lines left out;
    ``label`` empty; then the `extra_columns`, a dict of name, neither ``id``
    nor ``label``, to a value per table row, such as the table's own id, to
    tell the rows apart) under `output`, written again if it goes missing
    (while the run waits too), then reads it every `poll_seconds` until every
    label is filled in: an IN class, `ood_label`, or any other label of the
    table (also OOD); a save that leaves some blank is answered with the ids
    still blank, and while it is blank as written, a file beside it named but
    for its extension (``round_2.xlsx``) is named. A file is read once it is
    the same at two polls, since a save may be caught half-way; one that does
    not read, or whose last line has no line end, once it has held still for
    10 s (a save may pause), or when `timeout` comes. Since a label's cost is
    known only once it is given, a round asks for
    ``floor(budget / max(cost_in, cost_ood))`` rows, as many as the budget is
    sure to pay for, and then charges each label its own cost.

    The state (learner, records, the open query) is saved atomically in
    ``state.joblib`` after every step, so a rerun resumes where it stopped:
    at the open query, without asking anew. A query file the state does not
    know (the state was deleted) is written over only if it is blank as
    written: one that may hold labels, in whatever layout, is refused, before
    a new state is saved (which a rerun would resume, asking anew). So is
    a rerun whose `n_rounds` ends before an open query that is no longer blank,
    and one whose `n_rounds` is fewer than the rounds the state holds.

    `fingerprint` identifies the campaign (:func:`table_fingerprint`): a new
    state holds its ``saved``, and a state it does not match is refused as
    another campaign's. `options`, a dict of the options that
    shape it by the names the person gave them (``{"--budget": 5}``), is
    kept in the state with the table's own hash, so that the refusal names
    the options that changed, or the table. The state records the versions
    of the code, like a checkpoint of :func:`run_active_learning`: a resume
    with other code warns. Like any pickle, the state can run code when
    loaded: resume only in output folders you trust.

    Returns
    -------
    records : list of dict
        Per round: ``round``, ``n_labelled``, ``n_labelled_in``,
        ``query_size``, ``query_in_share`` and ``budget_spent``.
    learner : ActiveLearner
    """
    output = Path(output)
    extra_columns = extra_columns or {}
    state_path = output / STATE_FILE
    known = set(labels.tolist()) - {""}
    # In the order an error lists them: the IN classes and the OOD label come
    # first, not lost among a table's thousands of other labels.
    allowed = dict.fromkeys([*in_classes, ood_label, *sorted(known)])
    most = max(cost_in, cost_ood)
    n_query = labels_within(budget, most)
    if n_query < 1:
        raise ValueError(
            f"budget={budget} does not pay for one label at max(cost_in, "
            f"cost_ood) = {most}: raise the budget or lower the costs "
            "(skal-openset run: --budget, --cost-in, --cost-ood)."
        )

    def as_open_set(answers):
        return np.where(np.isin(answers, in_classes), answers, ood_label)

    table = _table_hash(X, labels)
    if state_path.exists():
        try:
            state = load_object(state_path)
        except _DamagedFileError as exc:  # a rerun without it would be refused
            # Without a digest, it may be intact, of an earlier commit.
            resume = (
                "Resume the campaign with the skal_openset that wrote it, or "
                "start a new one. "
                if isinstance(exc, _EarlyFileError)
                else ""
            )
            raise ValueError(
                f"{exc.problem} {resume}{_how_to_keep_labels(output / 'queries')}"
            ) from exc
        except _UnloadableFileError as exc:  # intact: it can be resumed elsewhere
            raise ValueError(
                f"{exc.problem} Resume the campaign on a machine like the one "
                "that wrote it (the same devices and library versions), or start "
                f"a new one here. {_how_to_keep_labels(output / 'queries')}"
            ) from exc
        widths = (
            _earlier_widths(labels, state.get("learner"), in_classes, ood_label)
            if isinstance(state, dict)
            else []
        )
        sklearn_version = saved_sklearn_version(state)
        if not isinstance(state, dict) or not fingerprint.matches(
            state.get("fingerprint"), widths, sklearn_version
        ):
            # by value, as given (by earlier code), at the widths it had
            tables = [table, joblib.hash([X, labels])]
            tables += [_table_hash(X, labels, width) for width in widths]
            raise ValueError(
                _another_campaign(state, state_path, tables, options)
                + f" {_how_to_keep_labels(output / 'queries')}"
            )
        # Kept by value from now on, as a new state keeps them, with the
        # options as this code gives them (which the fingerprint matched).
        state["fingerprint"], state["table"] = fingerprint.saved, table
        state["options"] = options
        log(f"Resuming from {state_path} after round {len(state['records'])}.")
        warn_of_other_versions(
            state_path,
            state.get("versions"),
            f"the queries after round {len(state['records'])} come from other "
            "code than the earlier ones; the labels taught so far are kept.",
        )
        state["versions"] = versions()  # what its next saves come from
        _check_taught_labels(state.setdefault("taught", {}), output, allowed)
    else:
        # check_in_classes refused a table without a row of an IN class.
        labelled = np.flatnonzero(labels != "")
        # Else round 2 finds no pool and the campaign ends at once, having
        # trained on a placeholder such as -1 as an OOD label.
        if labelled.size == labels.size:
            raise ValueError(_no_pool_message(labels, in_classes))
        # Before a state is saved: one that does not know their labels would
        # be resumed, and ask for the same rows again.
        _refuse_unknown_labels(
            sorted((output / "queries").glob("round_*.csv")), state_path, extra_columns
        )
        learner = ActiveLearner(
            clone(estimator),
            clone(query_strategy),
            classes=in_classes,
            ood_label=ood_label,
        )
        with relabelling_advised(
            "If a label of the table is wrong, correct it there and rerun"
        ):
            learner.fit(X[labelled], as_open_set(labels[labelled]))
        state = {
            "fingerprint": fingerprint.saved,
            "versions": versions(),
            "options": options,
            "table": table,
            "learner": learner,
            "labelled": labelled,
            "pending": None,
            "taught": {},
            "records": [_interactive_record(1, learner, ood_label, 0, np.nan, 0.0)],
        }
        save_object(state, state_path)
    learner, records = state["learner"], state["records"]
    if len(records) > n_rounds:  # as a simulated run's checkpoint refuses it
        raise ValueError(
            f"{STATE_FILE} already holds {len(records)} rounds, more than "
            f"--rounds {n_rounds}: pass --rounds >= {len(records)}, or another "
            "--output to start afresh."
        )
    open_round = len(records) + 1
    if state["pending"] is not None and open_round > n_rounds:
        # Stopping here would leave its labels untaught without a word.
        query_path = output / "queries" / f"round_{open_round}.csv"
        if not _is_blank_query(query_path, extra_columns):
            raise ValueError(
                f"{query_path.name} is open: pass --rounds >= {open_round} to "
                f"teach it (--rounds {n_rounds} ends before it)."
            )
    for round_ in range(len(records) + 1, n_rounds + 1):
        query_path = output / "queries" / f"round_{round_}.csv"
        if state["pending"] is None:
            _refuse_unknown_labels([query_path], state_path, extra_columns)
            pool = np.setdiff1d(np.flatnonzero(labels == ""), state["labelled"])
            if pool.size == 0:
                log(f"Every row is labelled; stopping after round {round_ - 1}.")
                break
            ranked, _ = learner.query(X[pool], n_instances=min(n_query, pool.size))
            state["pending"] = pool[ranked]
            # The state first: a query file it does not know would hold a
            # person's labels that a rerun must refuse.
            save_object(state, state_path)
            _write_query(query_path, state["pending"], extra_columns)
        ids = state["pending"]
        log(
            f"Round {round_}: label the {ids.size} rows of {query_path} (IN classes "
            f"{', '.join(in_classes)}; OOD: {ood_label!r} or another label of the "
            "table), then save it. Waiting..."
        )
        start, seen, judged, said = time.monotonic(), {}, {}, None
        was_missing = True
        as_written, told = False, set()
        while True:
            # At the last poll, whatever holds still is judged.
            final = timeout is not None and time.monotonic() - start > timeout
            try:
                answers = _wait_read(query_path, seen, ids, allowed, final=final)
            except FileNotFoundError:
                # Deleted or moved (its ids are in the state): written again
                # once missing at two polls, not between an editor's delete
                # and write; at the start (a rerun) at once.
                if was_missing:
                    _write_query(query_path, ids, extra_columns)
                    log(f"Wrote {query_path} again: it was missing.")
                was_missing, answers = True, None
            else:
                was_missing = False
            if answers is not None and (answers != "").all():
                break
            # Said once per save, unless blank as written: else the person
            # who saved some labels blank (or elsewhere) waits without a word.
            if answers is not None and said != seen[query_path]:
                said = seen[query_path]
                as_written = _is_blank_query(query_path, extra_columns)
                if not as_written:
                    blank = ids[answers == ""].tolist()
                    log(
                        f"{query_path.name}: {ids.size - len(blank)} of {ids.size} "
                        f"labelled; still blank: ids {_first_few(blank)}"
                        + (
                            " (labels go in its 'label' column)."
                            if len(blank) == ids.size
                            else "."
                        )
                    )
            # Saved beside it (a spreadsheet's own format, a name the editor
            # added to), the labels are never read: said once a file.
            if answers is not None and as_written:
                for other in _saved_beside(query_path, extra_columns):
                    if other not in told:
                        told.add(other)
                        log(
                            f"{other.name} is beside {query_path.name}, which is "
                            f"still blank as written: the run reads only "
                            f"{query_path.name}. If {other.name} holds the labels, "
                            f"save it as CSV (UTF-8) named {query_path.name}, over "
                            "the blank one."
                        )
            _check_taught_labels(
                state["taught"], output, allowed, seen=seen, judged=judged
            )
            if final:
                blank = [] if answers is None else ids[answers == ""].tolist()
                raise TimeoutError(
                    f"No complete labels in {query_path} after {timeout} s"
                    + (
                        f" (still blank: ids {_first_few(blank)})"
                        if 0 < len(blank) < ids.size
                        else ""
                    )
                    + "; rerun the same command to go on waiting."
                )
            time.sleep(poll_seconds)
        y = as_open_set(answers)
        with relabelling_advised(_RELABELLING):
            learner.teach(X[ids], y)
        n_ood = int(np.sum(y == ood_label))
        record = _interactive_record(
            round_, learner, ood_label, ids.size, (ids.size - n_ood) / ids.size, 0.0
        )
        # Bought = labelled now less the table's own labels (round 1).
        bought_in = record["n_labelled_in"] - records[0]["n_labelled_in"]
        bought = record["n_labelled"] - records[0]["n_labelled"]
        spent = labelling_cost(bought_in, bought - bought_in, cost_in, cost_ood)
        record["budget_spent"] = spent
        records.append(record)
        state["taught"][round_] = (ids, answers)
        state["labelled"] = np.concatenate([state["labelled"], ids])
        state["pending"] = None
        save_object(state, state_path)
        log(
            f"Round {round_}: {ids.size - n_ood} IN and {n_ood} OOD labels, "
            f"budget spent {spent:g}."
        )
    _check_taught_labels(state["taught"], output, allowed)
    # Said at the start only, it scrolled away: the classifier never predicts them.
    labelled = set(learner.y_labelled_.tolist())
    if never := [c for c in in_classes if c not in labelled]:
        log(
            f"No row is labelled {shown_names(never, 'classes')} after round "
            f"{len(records)}: the "
            "classifier cannot predict them. Rerun with more --rounds, or "
            "label a row of each in the table."
        )
    return records, learner


def _no_pool_message(labels, in_classes):
    """Why a new campaign on a table whose every row is labelled is refused,
    naming its most frequent label if it looks like a placeholder for "not
    labelled yet" (-1, as scikit-learn's semi-supervised learners write it)."""
    message = (
        "Every row of the table is labelled, so an interactive run has no row "
        "to ask about: its pool is the rows whose label is empty ('' in a CSV, "
        "NaN in a .npz)"
    )
    label, count = Counter(labels.tolist()).most_common(1)[0]
    number = _as_number(label)
    placeholder = (number is not None and number < 0) or label.casefold() in (
        "unlabeled",
        "unlabelled",
    )
    if placeholder and label not in in_classes:
        return (
            f"{message}. Its most frequent label {label!r} ({count} of "
            f"{labels.size} rows) looks like a mark of rows not labelled yet "
            "(scikit-learn's semi-supervised learners use -1): make those "
            "labels empty."
        )
    return (
        f"{message}. Make the labels of the rows to ask about empty, or leave "
        "out --interactive to simulate active learning with the file's labels."
    )


def _another_campaign(state, state_path, tables, options):
    """Why the state at `state_path` is not this campaign's: the options that
    changed, or the table (unless the state keeps one of the `tables`, its
    hashes), where the state keeps them (since they are kept). Options are
    compared by their fingerprints, as the campaign's is."""
    changes = []
    if isinstance(state, dict) and state.get("options"):
        before = state["options"]
        # Not ==: an object loaded from the state (a strategy) equals only
        # itself, and arrays compare element-wise.
        changes = [
            f"{name} was {_shown(before.get(name))}, now {_shown(value)}"
            for name, value in (options or {}).items()
            if Fingerprint(before.get(name)).saved != Fingerprint(value).saved
        ]
        if state.get("table") not in tables:
            # what it is read as: the file, or the columns taken from it
            changes.append(
                "the table's features or labels changed (the file, "
                "--ignore-columns or --label-column)"
            )
    if not changes:
        return (
            f"{state_path} belongs to another campaign (other data or options); "
            "choose another output folder."
        )
    return (
        f"{state_path} is a campaign of other data or options: "
        f"{'; '.join(changes)}. Rerun with its options and table to resume it, "
        "or start a new campaign in another --output."
    )


def _shown(value):
    """An option's value as typed on the command line."""
    if isinstance(value, (list, tuple)):
        return shlex.quote(",".join(map(str, value)))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return shlex.quote(str(value))


def _check_taught_labels(taught, output, allowed, *, seen=None, judged=None):
    """Refuse a query file whose labels were changed after they were taught.

    The learner has trained on them, so a correction cannot be taken up;
    ignoring it would leave the person believing it was. A file that is gone
    is no change; one that no longer reads (a label cleared or made invalid)
    is. While the run waits (`seen`, as :func:`_settled` keeps it), a file is
    judged only once it has held still ``_SETTLE_SECONDS``, since it may be
    half saved, and `judged` keeps the digest of each file found unchanged,
    which is not read again until its bytes change.
    """
    for round_, (ids, answers) in taught.items():
        path = output / "queries" / f"round_{round_}.csv"
        try:
            if seen is None:  # judged at once
                data = path.read_bytes()
            else:
                read = _settled(path, seen)
                if read is None or read[1] < _SETTLE_SECONDS:
                    continue
                # Read again at every poll, the files of a long campaign
                # took a share of a core that grew with its rounds.
                if judged is not None and judged.get(path) == seen[path][0]:
                    continue
                data = read[0]
        except FileNotFoundError:
            continue
        try:
            now = _read_answers(path, data, ids, allowed, taught=answers)
        except ValueError as exc:
            raise ValueError(
                f"{path} was changed after its labels were taught and no longer "
                f"reads ({str(exc).rstrip('.')}); the learner has trained on the "
                "old ones. Put them back to resume, or remove the whole file "
                "(its labels stay taught)."
            ) from None
        cleared = np.flatnonzero(now == "").tolist()
        if cleared:
            named = [f"id {ids[i]}: '{answers[i]}'" for i in cleared]
            raise ValueError(
                f"{path} has labels cleared after they were taught "
                f"({_first_few(named)}); the learner has trained on them. Put "
                "them back to resume."
            )
        changed = np.flatnonzero(now != answers).tolist()
        if changed:
            edits = [f"id {ids[i]}: '{answers[i]}' -> '{now[i]}'" for i in changed]
            raise ValueError(
                f"{path} was changed after its labels were taught "
                f"({_first_few(edits)}); the learner has trained on the old ones. "
                "Put them back to resume, or start a new campaign in another "
                "--output with the corrected labels in the data file."
            )
        if judged is not None:
            judged[path] = seen[path][0]


def _refuse_unknown_labels(paths, state_path, extra_columns):
    """Refuse the first of the query files at `paths` that may hold a person's
    labels (:func:`_is_blank_query`), which the state at `state_path` does
    not know: a new query would be written over them, or ask for them anew."""
    for path in paths:
        if not _is_blank_query(path, extra_columns):
            raise ValueError(
                f"{path} may hold labels that {state_path} does not know (it is "
                "no blank query file as this run writes them; the state was "
                f"deleted, or the folder held another campaign). "
                f"{_how_to_keep_labels(path.parent)}"
            )


def _how_to_keep_labels(queries):
    """How a person carries the labels in the `queries` folder into a new
    campaign, when the state that knew them is gone, damaged or does not
    load here."""
    return (
        f"To keep the labels given, copy those in {queries}/round_*.csv into "
        "the table's label column (a query's id is the row's position among "
        "the table's data rows, counted from 0 without the header and blank "
        "lines), then start again with another --output, or with the queries "
        f"folder and {queries.parent / 'state.joblib'} (if there) moved away: "
        "a state left there is resumed or refused."
    )


def _is_blank_query(path, extra_columns):
    """Whether the query file at `path` is missing or exactly as written, with
    every label blank: only such a file may be written over.

    A person's labels may be in a file that does not read so (saved with ';'
    or tabs, as UTF-16, with the header renamed), so any such file is kept;
    only the names of the `extra_columns` may differ.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        return True
    except (OSError, UnicodeDecodeError):
        return False
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        return False
    rows = [row for row in map(_trimmed, rows) if row]  # no ",," of a spreadsheet
    ids = [row[0] for row in rows[1:]]
    if not all(map(str.isdecimal, ids)):
        return False
    try:
        written = _query_rows([int(i) for i in ids], extra_columns)
    except IndexError:  # an id beyond the table
        return False
    written = [_trimmed(row) for row in written]
    if not rows or len(rows[0]) != len(written[0]):
        return False
    # The extra columns by position: their names hold the data file's name,
    # which a resume may have changed (a renamed copy of the same table).
    rows[0][2:] = written[0][2:]
    return rows == written


def _saved_beside(path, extra_columns):
    """The files beside the query file at `path` named as it is but for what
    follows its stem (``round_2.xlsx``, ``round_2.csv.txt``,
    ``round_2 (1).csv``; not ``round_21.csv``), unless they are blank queries
    as written (a copy): a person's labels may be there."""
    stem = path.stem
    return sorted(
        other
        for other in path.parent.glob(f"{stem}*")
        if other != path
        and not other.name[len(stem) :][:1].isdigit()
        and other.is_file()
        and not _is_blank_query(other, extra_columns)
    )


def _trimmed(row):
    """`row` without spaces around its cells, nor blank cells at its end."""
    row = [cell.strip() for cell in row]
    while row and not row[-1]:
        row.pop()
    return row


def _query_rows(ids, extra_columns):
    """A blank query file's rows: the header, then per id the id, an empty
    label and its values of the `extra_columns`."""
    columns = list(extra_columns.values())
    return [
        ["id", "label", *extra_columns],
        *([str(i), "", *(str(c[i]) for c in columns)] for i in ids),
    ]


def _write_query(path, ids, extra_columns):
    with atomic_open(path, "w") as f:
        csv.writer(f).writerows(_query_rows(ids.tolist(), extra_columns))


# How a label is corrected once taught: never in the campaign itself.
_RELABELLING = (
    "Taught labels cannot be changed in a campaign: if a label (the table's or "
    "an answer) is wrong, give each row its right label in the table and start a "
    "new campaign in another --output"
)


def _interactive_record(round_, learner, ood_label, size, in_share, spent):
    return {
        "round": round_,
        "n_labelled": learner.y_labelled_.size,
        "n_labelled_in": int(np.sum(learner.y_labelled_ != ood_label)),
        "query_size": size,
        "query_in_share": in_share,
        "budget_spent": spent,
    }


def table_fingerprint(X, labels, *options, earlier=()):
    """What identifies a campaign: the table and the options that shape it,
    a :class:`Fingerprint` (an option may hold a fitted encoder), of the
    string `labels` by value (:func:`_by_value`). `earlier`: lists of the
    options as states of earlier code may have held them (the IN classes in
    the order given), which ``matches`` takes too.

    States held ``joblib.hash`` of them, the same as the fingerprint with
    timings where no option holds a torch tensor; a tensor's was of its
    address, so such a state resumed in no other process anyway. States of
    earlier code hashed the labels as wide as :func:`load_table` gives them,
    the table's widest cell, which a re-save of the same values changes
    (``16`` for ``16.0``, a longer note in an ignored column): the
    fingerprint's ``matches`` takes those too, at that width or at the
    `widths` it is given.
    """
    return _TableFingerprint(X, labels, options, earlier)


class _TableFingerprint(Fingerprint):
    """:func:`table_fingerprint`'s :class:`Fingerprint`."""

    def __init__(self, X, labels, options, earlier=()):
        labels = np.asarray(labels)
        super().__init__([X, _by_value(labels), *options])
        # the width load_table gives them, which states of earlier code hashed
        self.given_width = labels.itemsize // 4 if labels.dtype.kind == "U" else None
        self.earlier = [list(each) for each in earlier]

    def matches(self, saved, widths=(), sklearn_version=None):
        """Whether a state that holds the fingerprint `saved` is of the value,
        the labels by value, or, hashed by earlier code, as wide as given or
        at one of the `widths`, with the options or their `earlier` lists,
        under the state's `sklearn_version` (:meth:`Fingerprint.matches`).
        Each try costs hashing the table again."""
        if super().matches(saved, sklearn_version):
            return True
        X, labels, *options = self.value
        if any(
            Fingerprint([X, labels, *each]).matches(saved, sklearn_version)
            for each in self.earlier
        ):
            return True
        tried = {labels.itemsize // 4}
        for width in (self.given_width, *widths):
            # a hash at a narrower width than the labels would cut them short
            if width is None or width < labels.itemsize // 4 or width in tried:
                continue
            tried.add(width)
            wide = labels.astype(f"<U{width}")
            if any(
                Fingerprint([X, wide, *each]).matches(saved, sklearn_version)
                for each in (options, *self.earlier)
            ):
                return True
        return False


def _by_value(labels):
    """String `labels` as wide as the longest (``<U1`` at least), whatever
    the width they come in: :func:`load_table` gives them as wide as the
    table's widest cell, which a re-save of the same values changes."""
    return np.array(np.asarray(labels).tolist(), dtype=str)


def _earlier_widths(labels, learner, in_classes, ood_label):
    """The widths the `labels` may have had in a campaign's state of earlier
    code, which hashed them as wide as its table's widest cell then, told by
    the state's `learner`; at most as many as the longest of `in_classes`
    and `ood_label` has characters.

    Its labels are the table's labelled rows, then the taught ones, each an
    IN class or the `ood_label`: their array is as wide as the table's
    labels were, or as the OOD label, or a taught label, if wider; a taught
    label is a label of the table (no wider than them), an IN class or the
    OOD label.
    """
    y = getattr(learner, "y_labelled_", None)
    if not isinstance(y, np.ndarray) or y.dtype.kind != "U":
        return []
    learnt = y.itemsize // 4
    if learnt > max(map(len, [ood_label, *in_classes])):
        return [learnt]  # only the table's labels were as wide
    return [learnt, *range(_by_value(labels).itemsize // 4, learnt)]


def _table_hash(X, labels, width=None):
    """What a state keeps of its table, to tell whether it changed: its
    labels by value, or at `width`, as states of earlier code kept them."""
    labels = _by_value(labels)
    return joblib.hash([X, labels if width is None else labels.astype(f"<U{width}")])
