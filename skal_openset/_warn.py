"""Warnings attributed to the caller's code, not to this package."""

import contextlib
import copy
import os
import sys
import threading
import warnings
from collections.abc import Iterator
from contextvars import ContextVar

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


def warn_once(
    owner: object,
    attribute: str,
    key: object,
    message: str,
    category: type[Warning] = UserWarning,
) -> None:
    """:func:`warn`, unless `owner` has warned of `key` already.

    A note of `key` (:class:`_Noted`) is kept in `owner`'s `attribute` once
    the warning is given; set the attribute to None to warn again. Python's
    once-per-line registry does not dedupe a warning given at every round of
    a campaign: every ``catch_warnings`` block (scikit-learn's
    ``check_array``, ours) resets it. An `owner` of None stands for that of
    the :func:`noted_on` block the call runs in; out of any, the warning is
    given at every call.

    The note is this process's, as Python's registry is: a copy of `owner`
    keeps it, a pickle (a checkpoint resumed, a worker's copy) does not.
    """
    if owner is None:
        owner = _NOTED_ON.get()
    if owner is None:
        warn(message, category)
        return
    noted = getattr(owner, attribute, None)
    # Not a _Noted: None, or a key a checkpoint of an earlier version saved.
    if (not isinstance(noted, _Noted) or noted.key != key) and warn(message, category):
        setattr(owner, attribute, _Noted(key))


class _Noted:
    """The `key` a :func:`warn_once` warned of, kept on its owner: shared by
    its copies (a strategy's, which teach updates), and left out of its
    pickle, which loads as None, so that a campaign resumed from a checkpoint
    in a new process is warned again, as scikit-learn's state carries no
    warnings given."""

    __slots__ = ("key",)

    def __init__(self, key: object) -> None:
        self.key = key

    def __copy__(self) -> "_Noted":
        return self

    def __deepcopy__(self, memo: dict) -> "_Noted":
        return self

    def __reduce__(self) -> tuple:
        # copy.copy(None) is None: a pickle names no skal_openset object, so
        # earlier versions load a checkpoint of this one too. Not NoneType():
        # joblib's hash (and so Memory, and content_hash) cannot pickle it.
        return copy.copy, (None,)


# The owner that warn_once notes a warning on for code that has none of its
# own: a score function, called by a strategy at each of its queries.
_NOTED_ON: ContextVar[object] = ContextVar("warnings_noted_on", default=None)


@contextlib.contextmanager
def noted_on(owner: object) -> Iterator[None]:
    """Have the :func:`warn_once` calls of the block that name no owner note
    their warnings on `owner` (a strategy, or a callback, that calls a score
    function at every round of a campaign)."""
    token = _NOTED_ON.set(owner)
    try:
        yield
    finally:
        _NOTED_ON.reset(token)


# The categories the running ignored blocks ignore (one entry a block), which
# warn reports as not given. The lock is held only to change them, never for
# a block's run: a block holding one (MQ-Net's cross-validation) waited for
# one_torch_thread's lock to fit its selectors, while a command of the CLI
# held that lock waiting to enter a block of its strategy: a deadlock.
_ignoring: list[type[Warning]] = []
_IGNORING_LOCK = threading.RLock()  # reentrant: a showwarning hook may warn again


class _ListedMeta(type):
    def __subclasscheck__(cls, category):
        return issubclass(category, tuple(_ignoring))


class _Listed(Warning, metaclass=_ListedMeta):
    """The categories listed in ``_ignoring``, for a warnings filter."""


# One filter for all the blocks. Blocks of several threads overlap: a filter
# of each, put in and taken out in turn, could be left in place for good by
# another thread's catch_warnings (it is not thread-safe); this one ignores
# nothing once the blocks are done, wherever a catch_warnings leaves it. Such a
# catch_warnings, begun before a block and ended inside it, still takes it out
# until the next block begins and puts it in again.
_IGNORE_LISTED = ("ignore", None, _Listed, None, 0)


@contextlib.contextmanager
def ignored(category: type[Warning]) -> Iterator[None]:
    """Ignore warnings of `category` in the block.

    The filter is the process's: while the block runs, the category's warnings
    of other threads are ignored too. Blocks of several threads overlap, none
    waiting for another to end.
    """
    with _IGNORING_LOCK:
        # Put in again by each block: another thread's catch_warnings may have
        # put back the filters from before the running blocks began.
        warnings.simplefilter("ignore", _Listed)
        _ignoring.append(category)
    try:
        yield
    finally:
        with _IGNORING_LOCK:
            _ignoring.remove(category)
            if not _ignoring:
                # Gone if another thread's catch_warnings put back the filters
                # from before it. A list (typeshed says a Sequence).
                with contextlib.suppress(ValueError):
                    warnings.filters.remove(_IGNORE_LISTED)  # type: ignore[attr-defined]
