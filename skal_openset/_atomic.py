"""Atomic changes: a file is either complete or not there at all, and an
object's attributes change wholly or not at all, Ctrl-C included; an output
folder is written by one run at a time."""

import contextlib
import copy
import errno
import fnmatch
import hashlib
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
import types
from pathlib import Path

import numpy as np
import torch
from sklearn.utils import check_random_state
from skorch import NeuralNet

from ._signals import interrupts_held, sigint_handled_by
from ._warn import warn

if sys.platform == "win32":  # a lock file made only where none is stands in
    fcntl = None
else:
    import fcntl

# mkstemp makes files private (0600); a written file should get the mode any
# new file of this process gets. The umask can only be read by setting it.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


class InterruptedAfterReplacing(KeyboardInterrupt):
    """Ctrl-C that came while :func:`atomic_paths` replaced its files, raised
    once every one was replaced.

    Attributes
    ----------
    paths : list of pathlib.Path
        The files replaced, all with their new content.
    """

    def __init__(self, paths):
        super().__init__(paths)  # args, so that it pickles (a worker's)
        self.paths = paths

    def __str__(self):
        # The default, the list of paths, read as a failed save.
        names = ", ".join(str(path) for path in self.paths)
        return (
            f"Ctrl-C came after {names} had been replaced completely: "
            "the new content is saved, nothing is half-written."
        )


# The characters of a file's name that its temporary and backup files keep:
# room for their suffixes in a name near the file system's limit.
_NAME_KEPT = 48


def _kept(name):
    """What the names of the temporary and backup files of a file `name`
    keep of it: all of it, or, from ``_NAME_KEPT`` characters, its start and
    a hash of the whole, which tells apart the files of names that start
    alike (a benchmark's cells, written at once by parallel workers)."""
    if len(name) < _NAME_KEPT:
        return name
    digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:8]
    return f"{name[:_NAME_KEPT]}.{digest}"


def _prefix(path):
    """The start of the name of a file of ours beside `path`: hidden, and
    short enough to leave room for the suffixes in a name near the file
    system's limit."""
    return f".{_kept(path.name)}."


# The rest of the name of a temporary file of ours (after `_prefix`):
# mkstemp's random part and ".tmp" (_temporary_beside). Not a backup (".old"):
# a failed save may name it as where the old content is.
_LEFTOVER = re.compile(r"\.(.+)\.[a-z0-9_]{8}\.tmp", re.DOTALL)
# The rest of the name of a backup of ours (_backup_of): the old content of a
# file of a set, kept while the set is replaced.
_BACKUP = re.compile(r"\.(.+)\.[0-9a-f]{8}\.old", re.DOTALL)


def check_file_path(path):
    """Raise an OSError saying what to do if no file can be written at
    `path`: it is a folder or ends in a separator (``results/``), or a folder
    above it is a file or a link to nothing (mkdir said only "File exists",
    of the folder)."""
    text = os.fsdecode(path)
    if text.endswith(("/", os.sep)):
        # Path drops the separator: a file took the folder's name.
        raise IsADirectoryError(
            f"{text} ends in {text[-1]}, so it names a folder; give the path of "
            "a file (one inside it, say)."
        )
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(
            f"{path} is a folder; give the path of a file (one inside it, say)."
        )
    # A link to nothing is no folder to make either (mkdir: "File exists").
    existing = next((p for p in path.parents if os.path.lexists(p)), None)
    if existing is not None and not existing.exists():
        raise NotADirectoryError(
            f"{existing} is a link to {os.readlink(existing)}, which is not "
            f"there, so {path} cannot be written inside it; make the folder "
            "it names, or give a path in a folder."
        )
    if existing is not None and not existing.is_dir():
        raise NotADirectoryError(
            f"{existing} is a file, so {path} cannot be written inside it; "
            "give a path in a folder."
        )


def check_writable(path):
    """Raise an OSError saying what to do if no file can be written at
    `path`, found by making a nameless file in the nearest folder above it
    that exists (permissions, a read-only file system): for a check before
    long work, as each write finds it only when it comes."""
    check_file_path(path)
    path = Path(path)
    folder = next(p for p in path.absolute().parents if p.exists())
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise type(error)(
            error.errno,
            f"{path} cannot be written: no file can be made in {folder} "
            f"({error.strerror}); give a path in a folder you can write to.",
        ) from error


def _warn_of_leftovers(paths):
    """Warn of the temporary files and backups that writes of `paths` killed
    before they finished (SIGKILL, the out-of-memory killer) left beside
    them, which no later write removes: a temporary file may be another
    process's, writing now, and no process can tell (a process id may be of
    another host, or another container's on this one); a backup may be the
    only copy left of a file's old content. The backups of the set are
    named in one warning. Each leftover is named once a process.

    Of a name of ``_NAME_KEPT`` characters or more, those that earlier
    versions left, cut short without a hash (:func:`_kept`), are not named:
    they are those of every name that starts alike, so a live write of
    another file (a benchmark's parallel worker) would be named as left.
    """
    backups = []
    for path in paths:
        try:
            entries = list(os.scandir(path.parent))
        except OSError:  # no such folder (yet): nothing left there
            continue
        if left := _unnamed(_files_of(path, entries, _LEFTOVER)):
            given = warn(
                f"{', '.join(left)}: left by a write of {path} that was killed "
                "before it finished (SIGKILL, out of memory); the file holds the "
                "last write that finished. Delete the leftover(s), unless another "
                f"process is writing {path.name} now."
            )
            _note_named(left, given)
        backups += [
            (backup, path) for backup in _unnamed(_files_of(path, entries, _BACKUP))
        ]
    if backups:
        held = "; ".join(f"{backup} holds what {path} held" for backup, path in backups)
        given = warn(
            f"{held} before a write of a set of files (a run's records and "
            "summary) that was killed (SIGKILL, out of memory) or failed while "
            "it replaced them, so a file of the set may be newer than the "
            "others. To have the old set back, rename each backup onto its "
            "file; if the files belong together (a rerun wrote them all again), "
            "delete the backups."
        )
        _note_named([backup for backup, _ in backups], given)


# The leftovers a warning of this process named (absolute paths): each is
# named once, not again at every later write of its file (a checkpoint's, at
# every round of a campaign) while it stays.
_NAMED: set[str] = set()


def _unnamed(files):
    """Those of `files` that no warning of this process has named."""
    return [file for file in files if os.path.abspath(file) not in _NAMED]


def _note_named(files, given):
    """Note `files` as named, if the warning that named them was `given` (an
    ignored block swallows it: then they are named at a later write)."""
    if given:
        _NAMED.update(map(os.path.abspath, files))


def _files_of(path, entries, pattern):
    """The paths of the files of `entries` (of the folder of `path`) that
    `pattern` (:data:`_LEFTOVER` or :data:`_BACKUP`) names as ours of `path`,
    sorted."""
    prefix, kept = _prefix(path), _kept(path.name)
    return sorted(
        entry.path
        for entry in entries
        if entry.name.startswith(prefix)  # a cheap test first: a folder of cells
        and (ours := pattern.fullmatch(entry.name))
        and ours[1] == kept
        and entry.is_file(follow_symlinks=False)
    )


def _temporary_beside(path):
    """An empty temporary file next to ``path``, with the mode, owner and
    group ``path`` will have (see :func:`_owners_kept`)."""
    check_file_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_prefix(path), suffix=".tmp")
    except OSError as exc:
        # Named as the file asked for, not the hidden copy it never became
        # (a read-only folder); same errno, so the same subclass.
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    os.close(fd)
    try:
        # An existing file keeps its mode (a private 0o600 state file stays
        # private) and its owners; a new one gets what open() would give it.
        try:
            old = path.stat()
        except FileNotFoundError:
            mode = 0o666 & ~_UMASK
        else:
            _owners_kept(tmp, old)  # first: chown clears set-user/group-ID
            mode = stat.S_IMODE(old.st_mode)
        try:
            os.chmod(tmp, mode)
        except PermissionError as exc:
            # A file system of fixed modes (FAT, exFAT or NTFS mounts, some
            # network shares) refuses chmod with EPERM: the file keeps the
            # mode it gives every file. Any other refusal is not passed over.
            if exc.errno != errno.EPERM:
                raise
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp)


_OWNERS_NOT_KEPT = (errno.EPERM, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP)


def _owners_kept(tmp, old):
    """Give the file `tmp` the owner and the group of `old` (a file's
    os.stat_result), each where this process may, as ``cp -p`` does: root
    any, another user a group of theirs. A file a user gave their team's
    group (``chgrp``) came back in the user's own group, which the team may
    not read. An owner or group not ours to give is left as the system
    gives it."""
    if not hasattr(os, "chown"):  # Windows: no owners to keep
        return
    new = os.stat(tmp)
    # Apart: a user may give a group of theirs, but no owner.
    changes = [(old.st_uid, -1)] if old.st_uid != new.st_uid else []
    if old.st_gid != new.st_gid:
        changes.append((-1, old.st_gid))
    for uid, gid in changes:
        try:
            os.chown(tmp, uid, gid)
        except OSError as exc:
            # Not ours to give (EPERM), an id this file system or user
            # namespace cannot hold (EINVAL), or a file system with no owners
            # (ENOSYS, EOPNOTSUPP: FUSE): cp -p passes over them all.
            if exc.errno not in _OWNERS_NOT_KEPT:
                raise


def _backup_of(path):
    """A second name for the content of `path`, beside it, to put it back
    from: a hard link, or a copy where the file system has none (FAT, some
    network shares); None if there is no file at `path`."""
    while True:
        backup = path.with_name(f"{_prefix(path)}{secrets.token_hex(4)}.old")
        try:
            os.link(path, backup)
            return backup
        except FileExistsError:  # the name is taken
            continue
        except FileNotFoundError:
            return None
        except OSError:
            break
    try:
        shutil.copy2(path, backup)
    except FileNotFoundError:
        return None
    except BaseException:
        _remove([backup])
        raise
    return backup


def _missing_folders(paths):
    """The folders above `paths` (each a folder, or a file not there) that
    are not there yet, the deepest first: those a failed step removes."""
    missing = {
        folder
        for path in paths
        for folder in (path, *path.parents)
        if not folder.exists()
    }
    return sorted(missing, key=lambda folder: len(folder.parts), reverse=True)


def _remove_folders(folders):
    """Remove those of `folders` (the deepest first) that are empty."""
    for folder in folders:
        with contextlib.suppress(OSError):  # it holds files: not only ours
            folder.rmdir()


def _remove(files):
    """Delete those of `files` that are there (None stands for no file)."""
    for file in files:
        if file is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(file)


def _earlier_files_removed(files):
    """Delete those of `files` (an earlier set's, which the new set has none
    of) that are there; one that cannot be deleted is left with a warning:
    raised, its error came after the new set was in place, and read as if
    nothing had been written."""
    for file in files:
        try:
            os.unlink(file)
        except FileNotFoundError:
            pass
        except OSError as exc:  # a folder of that name, an immutable file
            warn(
                f"{file} is an earlier write's, and could not be removed "
                f"({exc.strerror or exc}): the new files are written; delete "
                "it, or it may be taken for theirs.",
                UserWarning,
            )


@contextlib.contextmanager
def _writes_named(paths, temps):
    """Name `paths` in an OSError of writing their temporary files `temps`:
    a write or flush that fails (a full disk, an I/O error) names no file,
    or the temporary one, which is removed."""
    try:
        yield
    except OSError as failed:
        ours = failed.filename is None or failed.filename in map(str, temps)
        if not ours or failed.errno is None:  # another file's, or no system error
            raise
        what = (
            f"Could not write {', '.join(map(str, paths))} "
            f"({failed.strerror or failed})"
        )
        if len(paths) == 1:
            message = f"{what}; it is as it was."
        else:
            message = f"{what}, so none was replaced: the old files are all intact."
        raise OSError(failed.errno, message) from failed


def _replace_all(temps, paths, backups, kept):
    """Move each of `temps` onto its path; if one move fails, put back the
    paths replaced before it from `backups` (None: a path that was not there)
    and raise an OSError that says so.

    If one cannot be put back either, the error names the files that hold the
    new content and where the rest are; those files are added to `kept`, for
    the caller to leave in place.
    """
    done = 0
    try:
        for tmp, path in zip(temps, paths):
            os.replace(tmp, path)
            done += 1
    except OSError as failed:
        stuck = []  # (path, backup): a path replaced that could not be put back
        for path, backup in zip(paths[:done], backups):
            try:
                if backup is None:
                    os.unlink(path)
                else:
                    os.replace(backup, path)
            except OSError:
                stuck.append((path, backup))
        what = f"Could not replace {paths[done]} ({failed.strerror or failed})"
        if not stuck:
            if len(paths) == 1:
                message = f"{what}; it is as it was."
            else:
                names = ", ".join(path.name for path in paths)
                message = (
                    f"{what}, so none of {names} was replaced: the old files are "
                    "all intact."
                )
            raise OSError(failed.errno, message) from failed
        unplaced = list(zip(paths[done:], temps[done:]))
        kept.extend(
            [backup for _, backup in stuck if backup is not None] + temps[done:]
        )
        where = [
            f"{path} was not there before"
            if backup is None
            else f"the old content of {path} is in {backup}"
            for path, backup in stuck
        ] + [f"the new content of {path} is in {tmp}" for path, tmp in unplaced]
        raise OSError(
            failed.errno,
            f"{what}, nor put back the files replaced before it: the new "
            f"content is now at {', '.join(str(path) for path, _ in stuck)}, "
            f"the old at the others; {'; '.join(where)}. To have the old "
            "set again, rename each file holding old content onto its path (and "
            "delete a file that was not there before), or write the set again; "
            "then delete the files left over.",
        ) from failed


@contextlib.contextmanager
def atomic_paths(paths, removed=()):
    """Yield a temporary path for each of ``paths``; move all onto ``paths`` on success.

    For files that belong together (a run's records and its summary): none is
    replaced unless the block wrote every one, and then all are. If the block
    raises (including ``KeyboardInterrupt``), the temporary files are removed
    and ``paths`` are left as they were; an ``OSError`` of writing them (a
    full disk, which names no file) is raised anew naming ``paths``. The new
    files are flushed to disk before the first rename; Ctrl-C during the
    renames waits for the last one, then raises
    :class:`InterruptedAfterReplacing`. If a rename fails (on Windows, a file
    another program holds open), the files replaced before it are put back
    from a hard link (or copy) to each, made beforehand, and an ``OSError``
    says so; if one cannot be put back, the files not in place are kept and
    the ``OSError`` says which holds what; a Ctrl-C meanwhile, or while a
    failed block's files are removed, is then raised as ``KeyboardInterrupt``
    from that error.
    Each temporary file is in its file's folder, so each :func:`os.replace`
    is atomic, and its name ends in ``.tmp``, so give writers that infer a
    format from the suffix the format explicitly. A replaced file keeps its
    permissions (on a file system that refuses chmod, such as FAT, it has
    those the file system gives), and its owner and group where this
    process may give them (as ``cp -p``: root any, a user a group of
    theirs); a symbolic link is kept, and the file it names replaced.

    Parameters
    ----------
    paths : list of str or path-like
        The files to write, each once; missing parent folders are created
        (and removed again if the block raises).
    removed : list of str or path-like, default=()
        Files of an earlier set that this one has none of (a figure that
        failed to draw), deleted once ``paths`` are all replaced, in the same
        step: Ctrl-C waits for it too. Left as they are if ``paths`` are not;
        one that cannot be deleted is left with a warning.

    Yields
    ------
    temps : list of pathlib.Path
        An empty file for each of ``paths``, in that order, to write its
        content to.
    """
    for path in paths:  # as given: Path drops a final separator
        check_file_path(path)
    given = [Path(path) for path in paths]
    # A link's target is written, as open() would: os.replace would put a
    # file in place of the link, and leave its target old.
    paths = [Path(os.path.realpath(p)) if p.is_symlink() else p for p in given]
    # Twice in one set, a file would get two contents, and a failed set
    # could not be put back as it was.
    seen = {}
    for name, path in zip(given, paths):
        key = os.path.normcase(os.path.realpath(path))  # through linked folders
        if key in seen:
            raise ValueError(
                f"{seen[key]} and {name} are the same file: give each file of "
                "the set once."
            )
        seen[key] = name
    _warn_of_leftovers(paths)
    temps, backups, kept, held = [], [], [], []
    created = _missing_folders([path.parent for path in paths])
    try:
        for path in paths:
            temps.append(_temporary_beside(path))
        with _writes_named(paths, temps):
            yield temps
            for tmp in temps:
                with open(tmp, "rb+") as f:
                    os.fsync(f.fileno())
        # The last rename that can fail is the last one's: no need to put
        # back what it replaces.
        for path in paths[:-1]:
            backups.append(_backup_of(path))
        with interrupts_held() as held:
            _replace_all(temps, paths, backups, kept)
            _remove(backups)
            _earlier_files_removed(removed)
    except BaseException as exc:
        # Held: a second Ctrl-C here left a temporary file behind for good.
        with interrupts_held() as held_in_cleanup:
            _remove(file for file in temps + backups if file not in kept)
            _remove_folders(created)  # a failed save leaves no empty folders
        if (held or held_in_cleanup) and not isinstance(exc, KeyboardInterrupt):
            raise KeyboardInterrupt from exc
        raise
    if held:
        raise InterruptedAfterReplacing(given)


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to ``path``; move it onto ``path`` on success.

    Readers see the old file (or none) until the block has finished, never a
    half-written one: :func:`atomic_paths` for one file.

    Parameters
    ----------
    path : str or path-like
        The file to write; missing parent folders are created.

    Yields
    ------
    tmp : pathlib.Path
        An empty file to write the content to.
    """
    with atomic_paths([path]) as (tmp,):
        yield tmp


@contextlib.contextmanager
def atomic_open(path, mode="wb"):
    """Open ``path`` for writing so that it appears complete or not at all.

    A file object on :func:`atomic_path`'s temporary file.

    Parameters
    ----------
    path : str or path-like
        The file to write; its folder is created if needed.
    mode : {"wb", "w"}, default="wb"
        Binary or text (UTF-8, no newline translation, as ``csv`` wants).

    Yields
    ------
    file : file object
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}.")
    text = {"encoding": "utf-8", "newline": ""} if mode == "w" else {}
    with atomic_path(path) as tmp, open(tmp, mode, **text) as f:
        yield f


@contextlib.contextmanager
def restored_on_error(obj, deep=False):
    """Put ``obj``'s attributes back as they were if the block raises.

    Interrupts included. With ``deep=True`` the attributes are deep-copied
    first, for a block that changes them in place (a strategy's ``update``);
    otherwise the block must only rebind them.
    """
    state = copy.deepcopy(vars(obj)) if deep else dict(vars(obj))
    try:
        yield
    except BaseException:
        obj.__dict__.clear()
        obj.__dict__.update(state)
        raise


@contextlib.contextmanager
def random_state_restored_on_error(random_state):
    """Yield ``check_random_state(random_state)``; rewind it if the block raises.

    A RandomState given to a strategy, or NumPy's global one (``None``),
    outlives the call: a failed or interrupted step that drew from it would
    make its retry draw other numbers than a step that never failed.
    """
    rng = check_random_state(random_state)
    drawn = rng.get_state()
    try:
        yield rng
    except BaseException:
        rng.set_state(drawn)
        raise


@contextlib.contextmanager
def global_random_states_restored_on_error():
    """Rewind NumPy's and torch's global random states if the block raises.

    A scikit-learn estimator with ``random_state=None`` draws from NumPy's,
    an unseeded skorch net from torch's (its initial weights, its batches):
    a failed or interrupted fit would make its retry draw other numbers.
    """
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    drawn = torch.get_rng_state()
    with random_state_restored_on_error(None):
        try:
            yield
        except BaseException:
            torch.set_rng_state(drawn)
            if cuda is not None:
                torch.cuda.set_rng_state_all(cuda)
            raise


def draws_globally(strategy):
    """Whether `strategy` (None: the default one) may draw from NumPy's global
    random state: one with random_state=None, or a function, or one whose
    parameters hold an unseeded estimator (``purity=LfOSAQuery().in_probability``,
    ``ContrastivePurity(ContrastiveEncoder())``)."""
    if getattr(strategy, "random_state", None) is None:
        return True
    return any(
        _unseeded(owner) or any(_unseeded(value) for value in vars(owner).values())
        for owner in objects_held_by(strategy)
    )


# What a strategy's parameter may hold that a query cannot change in place:
# numbers, strings, tuples, functions, classes, modules, and random states
# (rewound apart).
_UNCHANGED = (
    type(None), bool, int, float, complex, str, bytes, tuple, frozenset, type,
    types.FunctionType, types.BuiltinFunctionType, types.ModuleType,
    np.random.RandomState, np.random.Generator,
)  # fmt: skip


@contextlib.contextmanager
def held_objects_restored_on_error(strategy):
    """Put the objects that `strategy`'s parameters hold (:func:`objects_held_by`)
    back as they were, in place, if the block raises: a failed query must not
    leave a purity object's encoder fitted on its pool. One that cannot be
    deep-copied (an open connection) is left to itself."""
    saved = []
    for owner in objects_held_by(strategy):
        try:
            saved.append((owner, copy.deepcopy(vars(owner))))
        except Exception:  # whatever copying it raises
            continue
    try:
        yield
    except BaseException:
        for owner, state in saved:
            owner.__dict__.clear()
            owner.__dict__.update(state)
        raise


def objects_held_by(strategy):
    """The objects that `strategy`'s parameters hold and a query may change in
    place: a purity object that caches its encoder (:class:`ContrastivePurity`),
    a bound method's object (``LfOSAQuery().in_probability`` fits its
    detector). A strategy without parameters (a function) holds none."""
    if not hasattr(strategy, "get_params"):
        return []
    held = {}
    for value in strategy.get_params(deep=False).values():
        owner = getattr(value, "__self__", value)  # a bound method's object
        if owner is not strategy and not isinstance(owner, _UNCHANGED):
            if hasattr(owner, "__dict__"):
                held[id(owner)] = owner
    return list(held.values())


def global_random_states_kept(drawing, estimators):
    """A context that rewinds NumPy's and torch's global random states if it
    raises, where the call may draw from them: a strategy may (`drawing`,
    see :func:`draws_globally`), and so may an unseeded one of `estimators`,
    trained. Not where all are seeded: another thread's draws from them
    would be drawn again."""
    if drawing or any(map(_unseeded, estimators)):
        return global_random_states_restored_on_error()
    return contextlib.nullcontext()


def _unseeded(estimator):
    """Whether `estimator`, or one nested in it, has a random_state left
    None (scikit-learn's estimators then draw from NumPy's global one), or
    is a skorch net without one (it draws from torch's)."""
    if isinstance(estimator, type) or not hasattr(estimator, "get_params"):
        return False
    params = estimator.get_params(deep=True)
    return any(
        value is None and (name == "random_state" or name.endswith("__random_state"))
        for name, value in params.items()
    ) or any(
        isinstance(value, NeuralNet) and not hasattr(value, "random_state")
        for value in (estimator, *params.values())
    )


class _Interrupt(BaseException):
    """Ctrl-C during training, as no fit loop catches it."""


@contextlib.contextmanager
def interrupts_escape_training():
    """Make Ctrl-C during the block raise ``KeyboardInterrupt`` out of it.

    skorch's ``fit`` and ``partial_fit`` catch ``KeyboardInterrupt`` and
    return a half-trained net as if training had finished, and an active
    learning round would go on with it. In the block, SIGINT raises an
    exception no fit loop catches, turned back into ``KeyboardInterrupt`` on
    the way out. An application's own SIGINT handler still runs, and the
    ``KeyboardInterrupt`` it raises, if any, escapes the same way. Only in
    the main thread (see :func:`sigint_handled_by`).
    """

    def interrupt(signum, frame):
        raise _Interrupt(KeyboardInterrupt())

    def around(own):
        def own_interrupting(signum, frame):
            try:
                own(signum, frame)
            except KeyboardInterrupt as exc:
                raise _Interrupt(exc) from None

        return own_interrupting

    with sigint_handled_by(interrupt, around_own=around):
        try:
            yield
        except _Interrupt as escaped:
            raise escaped.args[0] from None


# The lock a run holds on its output folder while it runs (removed as it
# ends): two runs into one folder would write over each other's state. A
# name of its own: a user's ".lock" in the folder is no business of ours.
LOCK_FILE = ".skal-openset.lock"


@contextlib.contextmanager
def folder_lock(output, written=()):
    """Hold the `output` folder for this process alone while the block runs.

    A second run into it is refused: a lagging one would save an older state
    over the newer, losing the rounds taught since, or write a query file
    over one being labelled. The folder is made if missing, and removed
    again if left empty (a refused command leaves nothing behind). Without
    fcntl (Windows), the lock is a file made only where none is, which a
    run killed abruptly leaves behind; the refusal says so. On a file system
    that cannot lock (some network mounts), the block runs unlocked, with a
    warning.

    Once the lock is held, the temporary and backup files that a run killed
    while it wrote (SIGKILL, the OOM killer) left of the files `written`
    are removed (see :func:`_remove_leftovers`): each a hidden copy of its
    file, which no later write removed. Unlocked, none is: a run into the
    folder may be writing them.
    """
    created = _missing_folders([output])
    path = output / LOCK_FILE
    try:
        fd = _take_lock(path)
        if fd is None:
            yield
            return
        try:
            _remove_leftovers(output, written)
            yield
        finally:
            _release_lock(path, fd)
    finally:
        _remove_folders(created)  # unless they hold the run's outputs


def _remove_leftovers(folder, written):
    """Remove the temporary files (``.<name>.<random>.tmp``) that atomic
    writes (:func:`atomic_paths`) of the files `written` in `folder` make
    beside them, which a killed run leaves.

    `written` holds paths relative to `folder`, whose names may be glob
    patterns (``"queries/round_*.csv"``) shorter than ``_NAME_KEPT``
    characters, matched against what those files keep of a name
    (:func:`_kept`). No other file is touched, nor a folder or link of such
    a name.
    """
    patterns = {}  # each folder's names, so that it is listed once
    for name in written:
        patterns.setdefault((folder / name).parent, []).append(_kept(Path(name).name))
    for parent, names in patterns.items():
        try:
            entries = list(os.scandir(parent))
        except OSError:  # no such folder (yet): nothing left there
            continue
        for entry in entries:
            ours = _LEFTOVER.fullmatch(entry.name)
            if (
                ours
                and any(fnmatch.fnmatchcase(ours[1], name) for name in names)
                and entry.is_file(follow_symlinks=False)
            ):
                _remove([entry.path])


def _take_lock(path):
    """A descriptor of the lock file at `path`, made or locked by this
    process, which it names; ValueError if another process holds it; None,
    with a warning, where the file system cannot lock."""
    # O_NOFOLLOW (not on Windows): nor is a link put there after the check
    # below followed.
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    flags |= os.O_EXCL if fcntl is None else 0
    while True:
        path.parent.mkdir(parents=True, exist_ok=True)
        _refuse_foreign_lock(path)
        try:
            fd = os.open(path, flags, 0o666)
        except FileNotFoundError:  # a refused run removed the folder it made
            continue
        except FileExistsError:
            raise ValueError(_in_use(path)) from None
        if fcntl is None:
            break
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ValueError(_in_use(path)) from None
        except OSError as exc:  # ENOLCK, EOPNOTSUPP...: no locks here
            os.close(fd)
            path.unlink(missing_ok=True)
            warn(
                f"Cannot lock {path.parent} ({exc.strerror}): nothing stops another "
                "run into it from writing over this one's files; start one at a "
                "time, or give an --output on a local disk.",
                UserWarning,
            )
            return None
        # The holder before may have removed the file between the open and
        # the lock: a lock on a file gone from the folder holds nothing.
        with contextlib.suppress(FileNotFoundError):
            held = os.fstat(fd)
            if os.path.samestat(held, os.stat(path)):
                if held.st_nlink == 1:
                    break
                # Of more names: a killed run's lock that a backup links to
                # (cp -al, rsync --link-dest), which no run holds (this one
                # locked it). Its process id would be written into the
                # backup's: the name is given a new file.
                path.unlink()
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
    except OSError as failed:  # a full disk: given up, as it is at the end
        _release_lock(path, fd)
        raise OSError(
            failed.errno, f"Could not write {path} ({failed.strerror or failed})"
        ) from failed
    return fd


def _release_lock(path, fd):
    """Remove the lock file at `path` and close its descriptor `fd`.

    A file that cannot be removed (a disk remounted read-only) is left, and
    its error not raised: it would replace the run's own (the failed save)
    or its Ctrl-C. Unlocked, it is taken by the next run, or, without
    fcntl, refused saying to delete it.
    """
    try:
        # Removed while still locked: a run that opened the file meanwhile
        # finds its lock on a file gone from the folder.
        if fcntl is not None:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
    finally:
        os.close(fd)
    if fcntl is None:  # Windows removes no open file
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def _refuse_foreign_lock(path):
    """Refuse the lock file at `path` if it is a symbolic link or no file:
    taking the lock writes the process id into it, which would write over
    the file a link names."""
    try:
        found = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(found.st_mode):
        what = "a symbolic link"
    elif not stat.S_ISREG(found.st_mode):
        what = "something other than a file (a folder, pipe or device)"
    else:  # a file of more names is made anew once locked (_take_lock)
        return
    raise ValueError(
        f"--output {path.parent} holds {path.name} as {what}; a run makes that "
        "file itself (its lock, which it writes its process id into) and writes "
        "into no file it did not make: remove it and run again."
    )


def _in_use(path):
    """Why a run is refused the folder of the lock file at `path`."""
    try:
        pid = path.read_text().strip()
    except OSError:
        pid = ""
    by = f"another run (process {pid})" if pid.isdecimal() else "another run"
    message = (
        f"--output {path.parent} is in use by {by}: wait for it to end, or "
        "give this one another --output."
    )
    if fcntl is None:
        message += (
            f" If no run is going on, delete {path}: a run stopped abruptly left it."
        )
    return message
