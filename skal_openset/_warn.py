"""Warnings attributed to the caller's code, not to this package."""

import contextlib
import os
import sys
import threading
import warnings
from collections.abc import Iterator

import joblib
import sklearn

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
# scikit-learn runs a fit from cross_val_score or GridSearchCV through joblib.
_WRAPPER_DIRS = tuple(
    os.path.dirname(os.path.abspath(module.__file__)) + os.sep
    for module in (sklearn, joblib)
)


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` at the line that called into this package.

    A fixed ``stacklevel`` points into the package whenever the warning is
    reached through another of its functions (a learner's ``query`` calling
    its strategy, ``teach`` updating it, often through scikit-learn's
    wrappers), so the message would name a line of ours, not the user's call.
    The level is that of the caller of the outermost frame in the package,
    past the scikit-learn and joblib frames that call that frame (the
    ``_fit_context`` wrapper of a ``fit``, a ``Pipeline``, the ``Parallel``
    loop of ``cross_val_score`` or ``GridSearchCV``): those are no more the
    user's code.
    """
    files, frame = [], sys._getframe()
    while frame is not None:
        files.append(frame.f_code.co_filename)
        frame = frame.f_back
    # files[i] is the frame at stacklevel i + 1.
    caller = 1 + max(i for i, name in enumerate(files) if name.startswith(_PACKAGE_DIR))
    while caller < len(files) and files[caller].startswith(_WRAPPER_DIRS):
        caller += 1
    warnings.warn(message, category, stacklevel=caller + 1)


# catch_warnings is not thread-safe: two overlapping blocks can leave one's
# filter in place for good. The package's blocks run one at a time.
_FILTERS_LOCK = threading.RLock()


@contextlib.contextmanager
def ignored(category: type[Warning]) -> Iterator[None]:
    """Ignore warnings of `category` in the block (one block at a time)."""
    with _FILTERS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", category)
        yield
