"""How labels read from a user's file are compared: the CSV loader's and the
campaign's alike."""

import unicodedata
from collections import Counter

# Labels that spreadsheets, R and pandas write for a missing value (compared
# case-folded): read as labels they would be classes.
MISSING_MARKERS = frozenset({"na", "n/a", "#n/a", "<na>", "nan", "none", "null", "?"})


def as_label(text):
    """`text` as labels are compared: stripped of surrounding spaces, and in
    Unicode's composed form (NFC), so that a ``café`` saved by macOS (its
    ``e`` and accent apart, NFD) is the ``café`` typed elsewhere."""
    return unicodedata.normalize("NFC", str(text).strip())


def invisible_characters(label):
    """The characters of `label` that show nowhere, not even in a spreadsheet:
    Unicode's format characters (category Cf: zero-width spaces and joiners,
    direction marks, soft hyphens)."""
    return [ch for ch in label if unicodedata.category(ch) == "Cf"]


def without_invisible(label):
    """`label` without its :func:`invisible_characters`: how it reads."""
    return "".join(ch for ch in label if unicodedata.category(ch) != "Cf")


def name_characters(characters):
    """The code points and Unicode names of `characters`, each once."""
    return ", ".join(
        f"U+{ord(ch):04X} {unicodedata.name(ch, '')}".rstrip()
        for ch in dict.fromkeys(characters)
    )


def refuse_missing_markers(labels, where, remedy, classes=()):
    """Raise if one of `labels` (a list of strings, as :func:`as_label` gives
    them) writes a missing value, one of :data:`MISSING_MARKERS` in any
    case, and is not one of `classes`.

    The message is ``"{where(i)}: the label ... reads as a missing value,
    not a class (...); {remedy(label)}"``, for the first such label ``i``.
    """
    missing = [
        i
        for i, label in enumerate(labels)
        if label.casefold() in MISSING_MARKERS and label not in classes
    ]
    if missing:
        marker = labels[missing[0]]
        counts = Counter(labels[i] for i in missing).most_common()
        shown = ", ".join(f"{label!r} ({n} row(s))" for label, n in counts)
        raise ValueError(
            f"{where(missing[0])}: the label {marker!r} reads as a missing value, "
            f"not a class ({len(missing)} row(s) in all: {shown}); {remedy(marker)}"
        )
