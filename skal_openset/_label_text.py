"""Labels as typed or read from a file are compared, as text alone: the
command line's parser compares its --ood-label so without loading
scikit-learn (see :mod:`skal_openset._cli_start`)."""

import unicodedata


def as_label(text):
    """`text` as labels are compared: stripped of surrounding spaces, and in
    Unicode's composed form (NFC), so that a ``café`` saved by macOS (its
    ``e`` and accent apart, NFD) is the ``café`` typed elsewhere."""
    return unicodedata.normalize("NFC", str(text).strip())
