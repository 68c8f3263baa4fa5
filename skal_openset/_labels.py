"""How labels read from a user's file are compared: the CSV loader's and the
campaign's alike."""

import unicodedata


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
