"""Saving and loading fitted objects: joblib files that carry the package version."""

import contextlib
import hashlib
import importlib.util
import io
import os
import pickle
import re
import sys
import traceback
from pathlib import Path
from typing import Any

import joblib

from ._atomic import atomic_open
from ._hashing import UNHASHABLE
from ._validation import file_at

_FORMAT = "skal_openset"


def _release(version: str) -> tuple[int, int]:
    """The (major, minor) release of a version string such as ``0.1.0.dev0``:
    the package's own, or a header's, which :func:`_is_header` has checked
    begins as X.Y."""
    major, minor = re.findall(r"\d+", version)[:2]
    return int(major), int(minor)


def save_object(obj: Any, path: str | os.PathLike) -> Path:
    """Save any object (learner, strategy, selector, oracle, ...) to a file.

    The file is a small header (the version of skal_openset that wrote it),
    a joblib pickle of the object, and a 24-byte trailer (the pickle's size
    and digest), written atomically (to a temporary file, then renamed), so
    an interrupted save never leaves a truncated file behind, and a file
    damaged later is refused when loaded.

    Parameters
    ----------
    obj : object
        What to save; it must be picklable (every estimator and strategy of
        this package is, fitted or not).
    path : str or path-like
        Destination file; its folder is created if needed.

    Returns
    -------
    path : Path

    Raises
    ------
    OSError
        If `path` is a folder or ends in a separator (``results/``), or a
        folder above it is a file or a link to nothing; or if it cannot be
        written (a full disk), naming it, with ``path`` left as it was.
    KeyboardInterrupt
        On Ctrl-C, with ``path`` left as it was; except that one during the
        final rename waits for it and says that ``path`` was replaced
        completely (an ``InterruptedAfterReplacing``, the file in its
        ``paths``): the new content is saved.

    See Also
    --------
    load_object : The inverse.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skal_openset import OpenSetOracle, load_object, save_object
    >>> oracle = OpenSetOracle([0, -1, 1])
    >>> _ = oracle.label([1])
    >>> path = save_object(oracle, pathlib.Path(tempfile.mkdtemp()) / "oracle.joblib")
    >>> load_object(path).spent_
    1.0
    """
    from . import __version__

    with atomic_open(path, "wb") as f:
        # The header comes first so that the version is checked before the
        # object is unpickled with classes that may have changed; the size and
        # digest of the pickle last, taken as it streams out (no copy of it).
        pickle.dump({"format": _FORMAT, "version": __version__, "trailer": True}, f)
        payload = _Digesting(f)
        try:
            joblib.dump(obj, payload)
        except UNHASHABLE as exc:  # nothing is written: atomic_open
            raise ValueError(
                f"{type(obj).__name__} cannot be pickled ({exc}): define the "
                "functions it holds (e.g. an embedding or a score) at module "
                "level instead of as lambdas or local functions."
            ) from exc
        f.write(payload.size.to_bytes(8, "little") + payload.digest.digest())
    return Path(path)


_TRAILER_BYTES = 8 + 16  # the pickle's size, then its blake2b-128 digest
_HEADER_MAX = 256  # bytes; a header is about 74
# How a header's pickle names its format (after the frame, whose length
# varies): a pickled object of this package names it only in module paths.
_HEADER_MARK = b"\x8c\x06format\x94\x8c\x0c" + _FORMAT.encode()

# The headers save_object has written: the first 0.1 files', those with the
# pickle's size and digest, those with a trailer.
_HEADER_KEYS = (
    {"format", "version"},
    {"format", "version", "size", "digest"},
    {"format", "version", "trailer"},
)


class _FileError(ValueError):
    """A file of :func:`save_object`'s that :func:`load_object` cannot load.

    ``problem`` says what is wrong, without the remedy (the class's, unless
    given) for a file one saved oneself: a caller that wrote it for the user
    (a checkpoint) gives its own.
    """

    remedy = ""

    def __init__(self, problem, remedy=None):
        super().__init__(f"{problem} {self.remedy if remedy is None else remedy}")
        self.problem = problem


class _DamagedFileError(_FileError):
    """A file of :func:`save_object`'s, truncated or damaged since."""

    remedy = "Use another copy, or save again."


class _EarlyFileError(_DamagedFileError):
    """A file of the first 0.1 versions (saved without a digest) whose pickle
    fails to load: damaged, or of classes that have changed since."""


class _UnloadableFileError(_FileError):
    """A file of :func:`save_object`'s, intact, whose pickle fails to load here."""

    remedy = (
        "Keep it: load it on a machine like the one that saved it (the same "
        "devices and library versions)."
    )


class _Digesting:
    """A writer that passes bytes on to `file`, counting and digesting them."""

    def __init__(self, file):
        self.file, self.size = file, 0
        self.digest = hashlib.blake2b(digest_size=16)

    def write(self, data):
        self.size += memoryview(data).nbytes
        self.digest.update(data)
        return self.file.write(data)

    def tell(self):  # joblib aligns arrays on the file's position
        return self.file.tell()


def _digest_matches(f, start, end, size, expected):
    """Whether the bytes of `f` from `start` to `end` are `size` long and have
    the digest `expected`; read a chunk at a time."""
    if end < start or size != end - start:
        return False
    f.seek(start)
    digest = hashlib.blake2b(digest_size=16)
    for chunk in iter(lambda: f.read(min(2**20, end - f.tell())), b""):
        digest.update(chunk)
    return digest.digest() == expected


def _trailer(f, end):
    """The pickle's size and digest in the last bytes of `f`, `end` long
    (a size of -1 if it is too short to hold them)."""
    if end < _TRAILER_BYTES:
        return -1, b""
    f.seek(end - _TRAILER_BYTES)
    trailer = f.read(_TRAILER_BYTES)
    return int.from_bytes(trailer[:8], "little"), trailer[8:]


def _check_digest(f, path, header):
    """Check the pickle from the position of `f` on against its size and
    digest: from the trailer, or from the header in the 0.1 files saved before
    the trailer."""
    start = f.tell()
    end = f.seek(0, os.SEEK_END)
    if header.get("trailer"):
        size, expected = _trailer(f, end)
        end -= _TRAILER_BYTES
    else:
        size, expected = header["size"], bytes.fromhex(header["digest"])
    if not _digest_matches(f, start, end, size, expected):
        raise _DamagedFileError(
            f"{path} is truncated or damaged: its content does not match the "
            "digest written with it."
        )
    f.seek(start)


def _written(f):
    """When and how long the file of `f` was last written, as the system says.

    Not its ctime: a save of the same path (a new file renamed onto it), a
    hard link or a chmod changes that of the file open here, not its bytes.
    """
    stat = os.fstat(f.fileno())
    return stat.st_size, stat.st_mtime_ns


def _check_unchanged(f, written, path):
    """Raise if the file of `f` was written since :func:`_written` gave `written`."""
    if _written(f) != written:
        raise ValueError(
            f"{path} changed while it was being loaded (written by another "
            "program, e.g. a copy still under way): load it again once that "
            "is finished."
        )


def _is_header(header):
    """Whether `header` reads as one of the headers :func:`save_object` wrote."""
    if not (isinstance(header, dict) and set(header) in _HEADER_KEYS):
        return False
    version, digest = header["version"], header.get("digest", "0" * 32)
    return (
        header["format"] == _FORMAT
        and isinstance(version, str)
        and re.match(r"\d+\.\d+", version) is not None
        and header.get("trailer", True) is True
        and type(header.get("size", 0)) is int
        and isinstance(digest, str)
        and re.fullmatch(r"[0-9a-f]{32}", digest) is not None
    )


class _HeaderUnpickler(pickle._Unpickler):
    """Python's own unpickler, for a header: plain values, no class.

    The C one grows its memo to any index a damaged header names (one flipped
    bit asked for 6 GB), and a foreign pickle's classes are not imported.
    """

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"a header holds no {module}.{name}")


def _cut_before_mark(data):
    """Whether `data`, a whole file, is a header's start cut before its
    :data:`_HEADER_MARK` ends: the PROTO and FRAME opcodes (the frame's
    8-byte length varies), a dict's opening, then the mark."""
    start = b"\x80" + data[1:2] + b"\x95" + data[3:11] + b"}\x94(" + _HEADER_MARK
    return 0 < len(data) < len(start) and start.startswith(data)


def _read_header(f, path):
    """The header at the start of `f`; a ValueError if none reads there.

    In a file of ours (its trailer's digest matches what follows the header,
    or it names our format) that is damage, not a foreign file.
    """
    head = io.BytesIO(f.read(_HEADER_MAX))
    failure = None
    try:
        header = _HeaderUnpickler(head).load()
    except Exception as exc:  # a foreign file fails in many ways
        header, failure = None, exc
    if _is_header(header):
        f.seek(head.tell())
        return header
    end = os.fstat(f.fileno()).st_size
    ours = _HEADER_MARK in head.getvalue() or _cut_before_mark(head.getvalue())
    size, expected = _trailer(f, end)
    start = end - _TRAILER_BYTES - size
    intact = 0 < start <= _HEADER_MAX and _digest_matches(
        f, start, end - _TRAILER_BYTES, size, expected
    )
    if intact or (ours and failure is None):
        raise _DamagedFileError(
            f"{path} is damaged: its header (the skal_openset version that "
            "wrote it) does not read."
        )
    if ours or end == 0:  # cut inside its header
        raise _DamagedFileError(
            f"{path} is empty or truncated: it holds no saved object (an "
            "interrupted copy, or a full disk).",
            "Delete it, and save again or start afresh.",
        )
    raise ValueError(
        f"{path} was not written by skal_openset.save_object; load it "
        "with joblib.load if you trust it."
    )


def _class_not_found(path, exc):
    """The ImportError for a file of `path` naming a class not found here."""
    gone = _class_unpickled(exc)
    if gone is not None:  # e.g. a private class of scikit-learn's, since removed
        module, name = gone
        error = _library_lacks(path, module, f"class {module}.{name}")
        if error is not None:
            return error
    # Most likely the environment differs, not the file.
    return ImportError(
        f"{path} holds an object whose class cannot be found here "
        f"({type(exc).__name__}: {exc}), most likely not damage to the "
        "file: import or define that class first (one defined in a "
        "script or notebook must be defined again), or install the "
        "library versions it was saved with."
    )


def _class_unpickled(exc):
    """The module and name of the class that pickle looked up, and found
    missing, raising the AttributeError `exc`; None if `exc` is another.

    Read off the frame of the unpickler's ``find_class``, whose arguments
    they are (joblib unpickles with Python's ``pickle._Unpickler``): the
    message names the module only by its repr.
    """
    if not isinstance(exc, AttributeError):
        return None
    frames = [frame for frame, _ in traceback.walk_tb(exc.__traceback__)]
    found = [f.f_locals for f in frames if f.f_code.co_name == "find_class"]
    if not found:
        return None
    module, name = found[-1].get("module"), found[-1].get("name")
    owner = sys.modules.get(module) if isinstance(module, str) else None
    if owner is None or not isinstance(name, str):
        return None
    for part in name.split("."):  # a nested class: Outer.Inner
        owner = getattr(owner, part, None)
    return None if owner is not None else (module, name)


def _module_not_found(path, exc):
    """The ImportError for a file of `path` naming a module not found here,
    `exc` the ModuleNotFoundError."""
    name = exc.name or ""
    error = _library_lacks(path, name, f"module {name}")
    return _class_not_found(path, exc) if error is None else error


def _library_lacks(path, module_name, what):
    """The ImportError for a file of `path` holding `what` (a module or a
    class) of module `module_name`, which the installed library of that
    module lacks (``numpy._core``, in files of NumPy 2 loaded with NumPy 1):
    no class of the user's to import. None where `module_name` is no module
    of a package's (a script's, or ``__main__``)."""
    package, _, inner = module_name.partition(".")
    module = sys.modules.get(package)
    # From sys.modules where loaded: find_spec raises ValueError for a module
    # whose __spec__ is None (__main__ under python -c or in a REPL).
    if module is not None:
        spec = getattr(module, "__spec__", None)
    else:
        spec = importlib.util.find_spec(package) if inner else None
    # A module of a package (a library's), not of a script's __main__.
    if not inner or spec is None or spec.submodule_search_locations is None:
        return None
    version = getattr(module, "__version__", None)
    installed = package if version is None else f"{package} {version}"
    return ImportError(
        f"{path} holds an object of {what}, which the installed "
        f"{installed} lacks: it was most likely saved with another version of "
        f"{package}. Load it where that version is installed, or install it "
        "here."
    )


@contextlib.contextmanager
def _reads_named(path):
    """Name `path` in an OSError of reading it (a failing disk, a network
    share gone), which names no file."""
    try:
        yield
    except OSError as failed:
        if not _unnamed_system_error(failed):
            raise
        raise OSError(
            failed.errno, f"Could not read {path} ({failed.strerror or failed})"
        ) from failed


def _unnamed_system_error(exc):
    """Whether `exc` is an error of the system that names no file, as a read
    of an open file (a failing disk) raises."""
    return isinstance(exc, OSError) and exc.errno is not None and exc.filename is None


def load_object(path: str | os.PathLike) -> Any:
    """Load an object saved by :func:`save_object`, checking the version.

    Files are compatible within one release: a file written by version
    X.Y.* (including its dev, alpha, beta and rc versions) loads in any
    X.Y.* version, since the attributes of fitted objects change only
    between releases. Any other file is refused with an error rather than
    loaded into objects that may silently misbehave. The exception is a
    development version (such as 0.1.0.dev0), which stays the same over
    many commits whose classes may differ: a file of an earlier commit may
    fail to load (the error names skal_openset's code as a cause) or fail
    when used; load it with the commit that saved it, or fit the object
    again with this one and save that.

    Like any pickle, a file can run code when loaded: load only files you
    trust.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_object`.

    Returns
    -------
    obj : object
        The saved object, in the state it was saved.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    OSError
        If ``path`` cannot be read (a failing disk), naming it.
    ValueError
        If the file is not a skal_openset file, is truncated or damaged, was
        written by an incompatible version, or is intact but does not load
        here (e.g. saved with tensors on a device this machine lacks, or by
        other code of skal_openset whose classes have changed since).
    ImportError
        If the saved object's classes cannot be imported (e.g. a class of
        your own, from a module that is not importable here, or one of a
        module that the installed version of its library lacks).
    """
    from . import __version__

    path = file_at(
        path,
        "file to load",
        folder_remedy="give the path of the file in it that save_object wrote "
        "(e.g. checkpoint.joblib)",
    )
    with path.open("rb") as f, _reads_named(path):
        header = _read_header(f, path)
        saved = header["version"]
        if _release(saved) != _release(__version__):
            major, minor = _release(saved)
            raise ValueError(
                f"{path} was written by skal_openset {saved}, which is not "
                f"compatible with the installed {__version__}: files load only "
                f"within the same X.Y release. Install skal_openset=={major}."
                f"{minor}.* to load it, or re-create it with this version."
            )
        # The check reads the file, and the load reads it again: a file
        # rewritten in place (cp, rsync --inplace) in between is refused
        # below, not loaded unchecked. Reading it once into memory instead
        # would need twice its size there.
        written = _written(f)
        # The first 0.1 files have no digest.
        checked = bool(header.get("trailer") or "digest" in header)
        if checked:
            _check_digest(f, path, header)
        try:
            loaded = joblib.load(f)
        except ModuleNotFoundError as exc:
            raise _module_not_found(path, exc) from exc
        except (ImportError, AttributeError) as exc:
            raise _class_not_found(path, exc) from exc
        except Exception as exc:
            if _unnamed_system_error(exc):  # the read failed: no damage
                raise
            _check_unchanged(f, written, path)
            cause = f"{type(exc).__name__}: {exc}"
            if checked:  # its bytes are those saved: not damage
                raise _UnloadableFileError(
                    f"{path} is intact (it matches the digest saved with it) but "
                    f"cannot be loaded here ({cause}): it was most likely saved "
                    "on a machine with a device this one lacks (such as a CUDA "
                    "GPU), with other code of skal_openset (whose classes change "
                    f"within a development version such as {__version__}), or "
                    "with other versions of the libraries its objects come from "
                    "(torch, skorch, scikit-learn, NumPy)."
                ) from exc
            # Those files are of the first development versions, whose
            # classes have changed since: a likelier cause than damage.
            raise _EarlyFileError(
                f"{path} is truncated or damaged, or was saved by an early "
                f"development version of skal_openset whose classes have "
                f"changed since ({cause}): saved without a digest (before "
                "2026-11-30), it cannot tell which.",
                "Load it with the skal_openset that saved it, use another "
                "copy, or save again.",
            ) from exc
        _check_unchanged(f, written, path)
        return loaded
