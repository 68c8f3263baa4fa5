"""Labels as every part of the package reads and checks them: how those read
from a user's file are compared (the CSV loader's and the campaign's alike),
which kinds labels may mix, and which look like a mistyped OOD label (the
split's, the oracle's and the learners' alike)."""

import numbers
import unicodedata
from collections import Counter
from typing import Any

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.validation import column_or_1d

from ._label_text import as_label
from ._validation import NAMES_REPR, missing_mask, shown_names
from ._warn import warn

# Labels that spreadsheets, R and pandas write for a missing value (compared
# case-folded): read as labels they would be classes.
MISSING_MARKERS = frozenset({"na", "n/a", "#n/a", "<na>", "nan", "none", "null", "?"})


def label_array(y, *, class_labels=True, name="y"):
    """`y` as a 1-d array of labels, each of the kind it was given.

    NumPy reads a list that mixes numbers and strings as strings (``[2,
    'unknown']`` as ``['2', 'unknown']``), so class 2 would become the class
    ``'2'`` and an OOD label -1 the class ``'-1'``, and one that mixes bools
    and numbers as numbers (``[True, False, -1]`` as ``[1, 0, -1]``); such a
    list becomes an object array, as pandas reads it. `name` names `y`
    where a row of it is refused.

    A column (shape (n, 1), or a list of lists or tuples of one label) is
    read as its labels, as :func:`column_or_1d` reads it, with
    scikit-learn's DataConversionWarning: its estimators' fit warns so, and
    so does every reader of labels here (fit, teach, score, the oracle, the
    split, the modAL and scikit-activeml adapters), so that all read a
    column alike.

    Integers stay exact: :func:`column_or_1d` reads pandas' nullable
    integers (``Int64``) and booleans (a Series, or a DataFrame of one
    column) as float64, and NumPy a list of
    integers and floats as floats, which round integers beyond 2**53 (two
    classes ``2**53`` and ``2**53 + 1`` would become one).

    An array of one value among objects (a 0-d array) is read as the value
    it holds, and a label that is no single value refused, naming its row
    (:func:`single_labels`). With `class_labels` False (a selector's groups,
    where a tuple is a compound key), `y` is read alike, but neither warned
    of as a column nor its labels refused.
    """
    dtype = getattr(y, "dtype", None)
    if dtype is None and getattr(y, "shape", ())[1:] == (1,) and hasattr(y, "dtypes"):
        dtype = y.dtypes.iloc[0]  # a DataFrame of one column: that column's
    numpy_dtype = getattr(dtype, "numpy_dtype", None)
    if numpy_dtype is not None and numpy_dtype.kind in "biu":
        # pandas' nullable integers or booleans: their own dtype, or, with
        # missing values, objects with NaN where they are missing, as
        # column_or_1d's float64 marked them (pandas.NA has no truth value:
        # ``y == ood_label`` could not be summed, and scikit-activeml's
        # missing_label=NaN matches NaN alone); a column as a column, of which
        # column_or_1d warns.
        if y.isna().to_numpy().any():
            y = y.to_numpy(dtype=object, na_value=np.nan)
        else:
            y = y.to_numpy(dtype=numpy_dtype)
    try:
        labels = column_or_1d(y)
    except ValueError:
        # A list or a tuple in a cell: numpy's "setting an array element
        # with a sequence" names no row, nor does "y should be a 1d array".
        # In a column, each row's list is no mistake: its labels were refused.
        if isinstance(y, list) and not _check_column_rows(y, name):
            single_labels(np.fromiter(y, dtype=object, count=len(y)), name)
        raise
    if class_labels and _is_column(y):
        if isinstance(y, (list, tuple)):
            _check_no_bytearray(y, name)
        # column_or_1d's own warning says y whatever the name, and points
        # into this package.
        warn(
            f"A column-vector {name} was passed when a 1d array was expected "
            "(shape (n, 1), or lists or tuples of one label), and is read as "
            f"one label per row: give {name} 1-d, e.g. np.ravel({name}).",
            DataConversionWarning,
        )
    if labels.dtype.kind == "O":
        if not class_labels:
            return np.fromiter(given_values(labels), dtype=object, count=labels.size)
        return single_labels(labels, name)
    return labels if hasattr(y, "dtype") else _as_given(y, labels)


def _is_column(y):
    """Whether `y`, which :func:`column_or_1d` reads as labels, is a column:
    of shape (n, 1), or a list of rows of one label."""
    if isinstance(y, (list, tuple)):  # not made an array again
        return len(y) > 0 and np.ndim(y[0]) == 1
    ndim = getattr(y, "ndim", None)
    if ndim is None:  # an array-like by its __array__ alone
        ndim = np.asarray(y).ndim
    return ndim == 2


def _check_no_bytearray(rows, name):
    """Refuse a bytearray among `rows`, the labels `name`: numpy reads one
    as a row of its bytes, so that bytearrays of one byte each were read as
    a column of numbers (``bytearray(b'a')`` as 97)."""
    row = next((i for i, v in enumerate(rows) if isinstance(v, bytearray)), None)
    if row is not None:
        raise _bytearray_refused(rows[row], row, name)


def _bytearray_refused(label, row, name):
    """The refusal of `label`, a bytearray at `row` of the labels `name`:
    the remedy is the same whatever its length (one of several bytes is no
    column, but unhashable, no label)."""
    return ValueError(
        f"{name} holds {NAMES_REPR.repr(label)} at row {row}, a bytearray, "
        "which numpy reads as a row of numbers, its bytes: give each label "
        f"as bytes, e.g. [bytes(label) for label in {name}]."
    )


def _as_given(values, held):
    """`held`, numpy's 1-d array of the list `values`, or where it changed a
    value (see :func:`label_array`), an object array of the values given."""
    if held.dtype.kind not in "USiuf":
        return held
    given = given_values(values)
    if held.dtype.kind in "US":  # numpy's strings drop trailing NULs
        changed = held.tolist() != given
    else:  # bools alone would be an array of bools, not of numbers
        # Nor integers beside floats, which round them beyond 2**53; as
        # Python ints: np.int64(2**53 + 1) equals the float it rounds to.
        changed = any(
            is_bool(v)
            or (
                held.dtype.kind == "f"
                and isinstance(v, numbers.Integral)
                and float(v) != _python(v)
            )
            for v in given
        )
    return np.array(given, dtype=object) if changed else held


def _check_column_rows(rows, name):
    """Refuse the odd row of a list `rows`, the labels `name`, that mostly
    holds lists of one label, a column ([[0], [1]], which
    :func:`column_or_1d` reads as labels), naming it: a row of more labels,
    or of none (odd in either reading, so named first), or a label alone.
    Not the first list, which is no mistake there. Rows half in lists of one
    and half labels alone ([[0], 1]) are refused as mixing the two, naming a
    row of each: neither form is the odd one. Returns whether every row is
    in a list of one, a column."""
    in_one = [
        (isinstance(row, (list, tuple)) and len(row) == 1 and _is_single(row[0]))
        or (isinstance(row, np.ndarray) and row.shape == (1,))
        for row in rows
    ]
    if 2 * sum(in_one) < len(rows) or all(in_one):
        return all(in_one)
    first = in_one.index(True)
    odd = next(
        (i for i, row in enumerate(rows) if not (in_one[i] or _is_single(row))),
        in_one.index(False),
    )
    if 2 * sum(in_one) == len(rows) and _is_single(rows[odd]):
        raise ValueError(
            f"{name} mixes labels in lists of one ({NAMES_REPR.repr(rows[first])} "
            f"at row {first}) and labels alone ({NAMES_REPR.repr(rows[odd])} at "
            f"row {odd}), as many of each: give every label alone, or every one "
            "in a list of one (a column)."
        )
    raise ValueError(
        f"{name} gives its labels in lists of one, a column ("
        f"{NAMES_REPR.repr(rows[first])} at row {first}), but row {odd} holds "
        f"{NAMES_REPR.repr(rows[odd])}: give each row one label, every one in "
        "a list of one or none."
    )


def _is_single(value):
    """Whether `value` is one value, not a row of them (a list, a tuple, an
    array of one or more dimensions)."""
    return not isinstance(value, (list, tuple)) and np.ndim(value) == 0


def is_one_label(value):
    """Whether `value` can be one label or class: a single value (not a
    list, a tuple or an array of values) that can be looked up among others
    (hashed): not a set, a dict, nor an array in an object array's cell."""
    if not _is_single(value):
        return False
    try:
        hash(value)
    except TypeError:
        return False
    return True


def given_values(values):
    """`values`, given as a list, a 1-d array, a pandas Series or a column
    (shape (n, 1)), as the list of the values given, not as a numpy array of
    them reads them: its fixed-width strings drop trailing NULs (``'a\\x00'``
    would be ``'a'``), a list that mixes integers and floats becomes floats
    (``2**53 + 1`` would be ``2.0**53``), and one that mixes numbers and
    strings becomes strings.

    - A value in a list or an object array is kept as it is: a string with
      its trailing NULs, an integer beyond 2**53, None, pandas.NA, a date,
      a numpy scalar (see :func:`python_values`).
    - An array of one value (a 0-d array) is read as the value it holds
      (``np.array('a')`` as ``'a'``), as numpy and scikit-learn's
      ``LabelEncoder`` read it.
    - The values of a numpy array of another dtype, or of a Series, are
      those its ``tolist`` gives: Python scalars (a string array's have
      lost their trailing NULs already).

    Raises :func:`column_or_1d`'s ValueError where `values` are neither 1-d
    nor a column.
    """
    return [
        v.item() if _is_one_value(v) else v
        for v in column_or_1d(np.asarray(values, dtype=object)).tolist()
    ]


def _is_one_value(value):
    """Whether `value` is an array of one value (a 0-d array), a label that
    numpy reads as the value it holds; not one of shape (1,), a row of one
    label, which numpy refuses beside other labels."""
    return isinstance(value, np.ndarray) and value.ndim == 0


def python_values(values):
    """:func:`given_values` with each numpy scalar as the Python value it
    holds, to compare them as Python does: ``np.datetime64('2020-01-01')``
    equals ``datetime.date(2020, 1, 1)`` but is hashed apart, and
    ``np.int64(1)`` is shown as ``1``."""
    return [_python(v) for v in given_values(values)]


def labels_as_given(labels):
    """`labels`, given as a list or an array, as an array that holds each as
    given: numpy's array of them, or where that changes one, an object array
    of their :func:`given_values`, as :func:`label_array` keeps them (numpy's
    strings drop trailing NULs, its floats round integers beyond 2**53, and
    a list that mixes numbers with strings or bools makes them strings or
    numbers: ``[True, 2]`` would be ``[1, 2]``)."""
    if isinstance(labels, np.ndarray):  # its values are as numpy holds them
        return labels
    held = np.asarray(labels)
    if held.ndim == 1:
        return _as_given(labels, held)
    # Labels that are not 1-d are the caller's to refuse, shown as given.
    return np.asarray(labels, dtype=object) if held.dtype.kind in "US" else held


def check_one_ood_label(ood_label):
    """Refuse an `ood_label` that is no single label (a list, an array, None):
    it is compared with each label; and one that ends in a NUL character
    (:func:`check_no_trailing_nul`)."""
    if np.ndim(ood_label) != 0 or ood_label is None:
        raise ValueError(
            f"ood_label must be a single label such as -1 or 'unknown', got "
            f"{ood_label!r}."
        )
    check_no_trailing_nul(ood_label, "ood_label", "the OOD labels")


def check_no_trailing_nul(marker, name, marked):
    """Refuse a `marker` label (the parameter `name`, which labels `marked`)
    that ends in a NUL character, which numpy drops from a string it
    compares with an array's labels (``y == "?\\x00"`` is true where y is
    ``"?"``, false where it is ``"?\\x00"``)."""
    if isinstance(marker, (str, bytes)) and marker[-1:] in ("\x00", b"\x00"):
        raise ValueError(
            f"{name}={marker!r} ends in a NUL character, which numpy drops "
            f"where it compares the {name} with the labels, so it would match "
            f"{marker.rstrip(marker[-1:])!r}, not itself: give {name} "
            f"without trailing NULs, and {marked} alike."
        )


def check_unicode_forms(labels, classes, message):
    """Refuse `labels`, none of them one of `classes`, that are strings of
    `classes` in another Unicode form (``é`` one character, or ``e`` and its
    accent apart): they show as the class, so that a message listing both
    would name no difference.

    The message is ``"{message}; ..."``: `message` says what is wrong with
    `labels` (among them those of another Unicode form).
    """
    forms = {unicodedata.normalize("NFC", c): c for c in classes if isinstance(c, str)}
    label = next(
        (
            v
            for v in labels
            if isinstance(v, str) and unicodedata.normalize("NFC", v) in forms
        ),
        None,
    )
    if label is None:
        return
    cls = forms[unicodedata.normalize("NFC", label)]
    # The form that writes the label as the class, if one does: none writes
    # the Ohm sign (U+2126) or a class that mixes forms.
    form = next(
        (f for f in ("NFC", "NFD") if unicodedata.normalize(f, label) == cls), None
    )
    remedy = (
        "write the labels as the classes are, e.g. [unicodedata.normalize("
        f"{form!r}, label) for label in y]"
        if form
        else "write the classes and the labels in one form, each normalised as "
        "unicodedata.normalize('NFC', label)"
    )
    raise ValueError(
        f"{message}; {ascii(label)} is the class {ascii(cls)} written in "
        f"another Unicode form, which shows the same: {remedy}."
    )


def invisible_characters(label):
    """The characters of `label` that show nowhere, not even in a spreadsheet:
    Unicode's format characters (category Cf: zero-width spaces and joiners,
    direction marks, soft hyphens), and variation selectors, which only
    choose how the character before them is drawn (U+FE0F its emoji form:
    ``❤`` and ``❤`` with U+FE0F read as one heart)."""
    return [ch for ch in label if _is_invisible(ch)]


def without_invisible(label):
    """`label` without its :func:`invisible_characters`: how it reads."""
    return "".join(ch for ch in label if not _is_invisible(ch))


def _is_invisible(ch):
    return unicodedata.category(ch) == "Cf" or "VARIATION SELECTOR" in (
        unicodedata.name(ch, "")
    )


def name_characters(characters):
    """The code points and Unicode names of `characters`, each once."""
    return ", ".join(
        f"U+{ord(ch):04X} {unicodedata.name(ch, '')}".rstrip()
        for ch in dict.fromkeys(characters)
    )


def missing_marker_message(labels, where, remedy, classes=()):
    """The message on the labels of `labels` (a list of strings, as
    :func:`as_label` gives them) that write a missing value, one of
    :data:`MISSING_MARKERS` in any case, and are not one of `classes`; None
    where no label does.

    The message is ``"{where(i)}: the label ... reads as a missing value,
    not a class (...); {remedy(label)}"``, for the first such label ``i``.
    """
    missing = [
        i
        for i, label in enumerate(labels)
        if label.casefold() in MISSING_MARKERS and label not in classes
    ]
    if not missing:
        return None
    marker = labels[missing[0]]
    counts = Counter(labels[i] for i in missing).most_common()
    shown = ", ".join(f"{label!r} ({n} row(s))" for label, n in counts)
    return (
        f"{where(missing[0])}: the label {marker!r} reads as a missing value, "
        f"not a class ({len(missing)} row(s) in all: {shown}); {remedy(marker)}"
    )


def check_ood_look_alikes(labels, ood_label, name, *, advice=""):
    """Refuse labels among `labels` that look like a mistyped `ood_label`, and
    warn of those that may be one; either would count as in-distribution.

    A negative number other than `ood_label` is refused: OOD examples are
    commonly marked by one (-1, -2), classes seldom are. A string equal to
    `ood_label` but for its case, surrounding spaces, trailing NULs or
    Unicode form (:func:`look_alikes`) is warned of, as the
    CLI warns of labels that differ from an IN class in case only (some data
    sets keep such labels apart). `name` names the labels in the messages,
    and `advice` ends the remedy (another way out, e.g. declaring them
    classes).
    """
    # Python scalars, as users write them: numpy 2 prints np.int64(-2).
    ood_label = _python(ood_label)
    others = [_python(v) for v in dict.fromkeys(labels.tolist()) if v != ood_label]
    negative = sorted(
        v
        for v in others
        if isinstance(v, numbers.Real) and not isinstance(v, bool) and v < 0
    )
    if negative:
        raise ValueError(
            f"{name} holds negative labels {negative} besides "
            f"ood_label={ood_label!r}; if they mark OOD examples, pass "
            f"ood_label={negative[0]}{advice}."
        )
    if not isinstance(ood_label, str):
        return
    alike = look_alikes(others, ood_label)
    if alike:
        warn(
            f"{name} holds labels {alike} that differ from ood_label="
            f"{ood_label!r} only in case, surrounding spaces, trailing NULs or "
            "Unicode form (an accent typed apart), so they count as "
            "in-distribution; if they mark OOD examples, label them "
            f"{ood_label!r}{advice}."
        )


def look_alikes(labels, ood_label):
    """The strings among `labels` that read as the string `ood_label`, sorted:
    equal but for case, surrounding spaces, Unicode form (:func:`as_label`)
    or trailing NULs, which show nowhere and which numpy's strings drop
    (``np.array(['?\\x00'])`` holds ``'?'``, an OOD label, where a list's
    ``'?\\x00'`` is a class)."""

    def key(label):
        return as_label(label.rstrip("\x00")).casefold()

    return sorted(
        {v for v in labels if isinstance(v, str) and key(v) == key(ood_label)}
    )


def _python(value):
    """`value` as a Python scalar where it is a numpy one; a numpy string as
    the whole string, whose ``item()`` drops trailing NULs
    (``np.str_('a\\x00')`` would be ``'a'``, which it does not equal)."""
    if isinstance(value, np.str_):
        return str.__str__(value)
    if isinstance(value, np.bytes_):
        return bytes(value)
    return value.item() if isinstance(value, np.generic) else value


def labels_not_in(y, labels):
    """The distinct labels of the array `y` that are none of `labels`, in the
    order they first occur, and the number of rows that hold them.

    Looked up in a set, as Python compares them, not as numpy does, whose
    strings drop trailing NULs (``'a\\x00'`` would be ``'a'``) and whose
    floats round integers (``2**53 + 1`` would be ``2.0**53``). A numpy
    scalar counts as the Python value it holds: an object array keeps
    ``np.datetime64('2020-01-01')`` where an array of dates lists
    ``datetime.date(2020, 1, 1)``, equal to it but hashed apart.
    """
    known = {_python(v) for v in labels}
    unknown = [v for v in dict.fromkeys(y.tolist()) if _python(v) not in known]
    # Counted alike (not by np.isin, which compares as numpy does); NaN,
    # never equal to itself, counts in every row.
    n_rows = sum(_python(v) not in known for v in y.tolist()) if unknown else 0
    return unknown, n_rows


def label_kind(y):
    """``"strings"``, ``"bytes"`` or ``"numbers"``: the kind of the labels `y`.

    An object array counts by its first 100 values.
    """
    first = y[:100].tolist()
    if y.dtype.kind == "U" or (
        y.dtype.kind == "O" and all(isinstance(v, str) for v in first)
    ):
        return "strings"
    if y.dtype.kind == "S" or (
        y.dtype.kind == "O" and all(isinstance(v, bytes) for v in first)
    ):
        return "bytes"
    return "numbers"


def value_kind(label):
    """The kind of one label, as :func:`label_kind` names it."""
    if isinstance(label, str):
        return "strings"
    return "bytes" if isinstance(label, bytes) else "numbers"


def check_one_label_kind(labels, subject, advice, *, name, missing_advice):
    """Refuse missing labels (None, NaN or pandas.NA) and labels that mix
    strings, bytes and numbers: they have no order (np.unique sorts them),
    and numpy would turn them into strings.

    The messages are ``"{name} has no label at position i (...): {missing_advice}"``
    and ``"{subject} strings, bytes or numbers (...) ...: {advice}"``. A missing
    label is told apart: among strings it would read as a number, and a cast
    to str, as mixed kinds call for, would make it a class ("nan").
    """
    if labels.dtype.kind != "O":
        return
    check_none_missing_at(labels, name, missing_advice)
    values = labels.ravel().tolist()
    if len({value_kind(v) for v in values}) > 1:
        distinct = list(dict.fromkeys(values))
        # The first of each kind leads: in order, 20 labels of one kind
        # listed first showed no mix.
        firsts = {}
        for v in distinct:
            firsts.setdefault(value_kind(v), v)
        shown = shown_names(dict.fromkeys([*firsts.values(), *distinct]), "labels")
        raise ValueError(
            f"{subject} strings, bytes or numbers ({shown}), which have no common "
            f"order (scikit-learn refuses such targets too): {advice}"
        )


def check_none_missing_at(labels, name, advice):
    """Refuse missing labels (None, NaN or pandas.NA) in the array `labels`,
    naming the position of the first: ``"{name} has no label at position i
    (...): {advice}"``; only float and object arrays can hold them."""
    if labels.dtype.kind not in "fO":
        return
    missing = np.flatnonzero(missing_mask(labels.ravel()))
    if missing.size:
        first = int(missing[0])
        value = _python(labels.flat[first])  # nan, not np.float64(nan)
        raise ValueError(
            f"{name} has no label at position {first} ({value!r}; "
            f"{missing.size} missing in all): {advice}"
        )


def single_labels(labels, name="y"):
    """The object array `labels` (named `name`), each array of one value in
    it (a 0-d array) read as the value it holds, as classes= and in_classes
    read it (:func:`given_values`), and numpy a list of them: fit and the
    oracle refused np.array(1) as no label, where the split kept it as a
    class. A label that is no single value is refused, naming its row: an
    unhashable one (a set, a dict, a list in a cell), which is looked up
    among the classes, where it failed with a bare TypeError, or with
    scikit-learn's "Unknown label type", which names no row; and a tuple,
    which numpy and scikit-learn read as a row of labels (beside others it
    failed with numpy's "setting an array element with a sequence").

    One pass over labels of no 0-d array: such an array, unhashable, is
    found by the check of unhashable labels, and the labels checked again
    once each is read as its value.
    """
    held = False  # a 0-d array among the labels
    for row, label in enumerate(labels.tolist()):
        if isinstance(label, tuple):
            raise ValueError(
                f"{name} holds {NAMES_REPR.repr(label)} at row {row}, a tuple, "
                "which numpy and scikit-learn read as several labels, not one: "
                "give each row one label, e.g. each tuple as a string, "
                f"[str(label) for label in {name}]."
            )
        try:
            hash(label)
        except TypeError:
            if _is_one_value(label):
                held = True
                continue
            if isinstance(label, bytearray):
                raise _bytearray_refused(label, row, name) from None
            raise ValueError(
                f"{name} holds {NAMES_REPR.repr(label)} at row {row}, of type "
                f"{type(label).__name__}, which is no label: give each row one "
                "label, a class such as 1 or 'cat' (or the OOD label)."
            ) from None
    if held:
        values = given_values(labels)
        return single_labels(np.fromiter(values, dtype=object, count=len(values)), name)
    return labels


def check_booleans_alike(labels, classes, *, name="labels", classes_name="classes"):
    """Refuse booleans among labels of numeric classes, and numbers among
    labels of boolean ones: True equals 1 and False 0, so either would
    silently be taken for the other (a mask passed for the labels).

    `name` and `classes_name` are what the message calls `labels` and
    `classes`."""
    if not len(labels) or label_kind(classes) != "numbers":
        return
    boolean_classes = all(map(is_bool, classes.tolist()))
    # Other than objects, the dtype says whether all are booleans or none,
    # so score and teach need not look at each of a large pool's labels.
    if labels.dtype.kind != "O" and (labels.dtype.kind == "b") == boolean_classes:
        return
    bools = list(map(is_bool, labels.tolist()))
    if all(bools) == boolean_classes and (boolean_classes or not any(bools)):
        return
    # The offending labels only: the numbers among boolean classes' labels,
    # or the booleans among numeric ones'.
    odd = [v for v, b in zip(labels.tolist(), bools) if b != boolean_classes]
    shown = shown_names(dict.fromkeys(odd), "labels")
    shown_classes = shown_names(classes.tolist(), "classes")
    if boolean_classes:
        raise ValueError(
            f"The {classes_name} are booleans {shown_classes} but the {name} "
            f"hold numbers {shown}, which would be taken for True (1) and False "
            f"(0): give the {name} as True and False, e.g. .astype(bool) if 1 "
            "and 0 mean True and False."
        )
    raise ValueError(
        f"The {name} hold booleans {shown} but the {classes_name} "
        f"{shown_classes} are numbers, so True would be taken for class 1 "
        f"and False for class 0: give the {name} as classes (a boolean mask is "
        "no label), e.g. np.where(mask, 1, 0) if True means class 1."
    )


def check_booleans_apart(classes, name):
    """Refuse `classes` (the parameter `name`, a list of classes) that mix
    booleans with numbers: numpy's array of ``[True, 2]`` is ``[1, 2]``, so
    True would be taken for class 1 without a word."""
    bools = [v for v in classes if is_bool(v)]
    if bools and any(isinstance(v, numbers.Number) and not is_bool(v) for v in classes):
        raise ValueError(
            f"{name} mix booleans {shown_names(bools, 'classes')} with numbers, "
            "which numpy reads as numbers, True as 1 and False as 0: give every "
            "class as a number (1 for True), or every one as a boolean."
        )


def is_bool(value):
    """Whether `value` is a Python or numpy boolean."""
    return isinstance(value, (bool, np.bool_))


def check_each_once(values: Any, name: str, what: str, why: str = "") -> None:
    """Refuse `values` that list a value more than once, naming each such
    value (as :func:`shown_names` shows them); `name` is the parameter,
    `what` what each value is ("class"), `why` a parenthesis on why it
    matters. Every refusal of a parameter's repeated values words it so.
    Values compare as Python compares them (1 equals 1.0), each as given:
    a fixed-width numpy string would drop a trailing NUL ("a\\x00"); each
    must be hashable (:func:`is_one_label`), as the callers check first."""
    given = python_values(values)
    repeated = [v for v, n in Counter(given).items() if n > 1]
    if repeated:
        # One alone is shortened as in a list: a pasted label can be long.
        shown = (
            NAMES_REPR.repr(repeated[0])
            if len(repeated) == 1
            else shown_names(repeated, "values")
        )
        raise ValueError(
            f"{name} lists {shown} more than once: list each {what} once{why}."
        )


def check_held_apart(values: Any, held: np.ndarray, name: str) -> None:
    """Refuse `values`, each listed once, of which `held`, the numpy array
    made of them, holds two or more as one value, or one as another value,
    naming those as given: numpy's strings drop trailing NULs ("a\\x00" is
    "a"), and a list that mixes integers and floats becomes floats (2**53 +
    1 is 2.0**53). Values of another kind than the array's (NaN among
    strings) are left to the check of the labels' kinds."""
    if held.dtype.kind not in "USf":  # others keep each value (a date its unit aside)
        return
    strings = held.dtype.kind in "US"
    as_one: dict[Any, list[Any]] = {}
    for value, kept in zip(python_values(values), held.tolist()):
        if not strings or isinstance(value, type(kept)):
            as_one.setdefault(kept, []).append(value)
    merged = [group for group in as_one.values() if len(group) > 1]
    why = (
        "its strings drop trailing NUL characters"
        if strings
        else "it makes floats of integers among floats"
    )
    if merged:
        shown = (
            " and ".join(map(NAMES_REPR.repr, merged[0]))
            if len(merged) == 1
            else shown_names(merged, "groups")
        )
        remedy = (
            "by more than trailing NULs" if strings else "as floats, or all integers"
        )
        raise ValueError(
            f"{name} lists {shown}, which numpy holds as one value"
            f"{' each' if len(merged) > 1 else ''} ({why}): give {name} that "
            f"differ {remedy}."
        )
    # Held as another value, a class would match no label given as it was.
    # NaN, which equals nothing, is held as itself: only integers round.
    changed = [
        (group[0], kept)
        for kept, group in as_one.items()
        if (strings or isinstance(group[0], numbers.Integral)) and group[0] != kept
    ]
    if changed:
        value, kept = changed[0]
        remedy = "without trailing NULs" if strings else "as floats, or all integers"
        raise ValueError(
            f"{name} lists {NAMES_REPR.repr(value)}, which numpy holds as "
            f"{NAMES_REPR.repr(kept)} ({why}): give {name} {remedy}, and the "
            "labels alike."
        )
