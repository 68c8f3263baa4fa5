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


def warn(message: str, category: type[Warning] = UserWarning) -> bool:
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

    Returns False if an :func:`ignored` block of any thread ignores the
    category (its filter is the process's, so it swallows the warning): a
    warning given once only (per learner, per change) is then to be given at
    a later call.
    """
    files, frame = [], sys._getframe()
    while frame is not None:
        files.append(frame.f_code.co_filename)
        frame = frame.f_back
    # files[i] is the frame at stacklevel i + 1.
    caller = 1 + max(i for i, name in enumerate(files) if name.startswith(_PACKAGE_DIR))
    while caller < len(files) and files[caller].startswith(_WRAPPER_DIRS):
        caller += 1
    # Under the lock, so that no block starts or ends between the two.
    with _IGNORING_LOCK:
        warnings.warn(message, category, stacklevel=caller + 1)
        return not issubclass(category, tuple(_ignoring))


# catch_warnings is not thread-safe: two overlapping blocks can leave one's
# filter in place for good. The package's blocks run one at a time.
_FILTERS_LOCK = threading.RLock()
# The categories the blocks ignore now, which warn reports as not given. It
# does not wait for the blocks to end: one may wait for a lock held by a thread
# that warns (MQ-Net's cross-validation fits selectors in its block, under
# one_torch_thread's lock, under which another thread's fit may warn).
_ignoring: list[type[Warning]] = []
_IGNORING_LOCK = threading.RLock()  # reentrant: a showwarning hook may warn again


@contextlib.contextmanager
def _listed(category: type[Warning]) -> Iterator[None]:
    with _IGNORING_LOCK:
        _ignoring.append(category)
    try:
        yield
    finally:
        with _IGNORING_LOCK:
            _ignoring.remove(category)


@contextlib.contextmanager
def ignored(category: type[Warning]) -> Iterator[None]:
    """Ignore warnings of `category` in the block (one block at a time)."""
    # Listed while its filter is in place: from before it is set to after it
    # is removed.
    with _FILTERS_LOCK, _listed(category), warnings.catch_warnings():
        warnings.simplefilter("ignore", category)
        yield
