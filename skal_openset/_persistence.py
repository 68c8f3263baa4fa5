"""Saving and loading fitted objects: joblib files that carry the package version."""

import hashlib
import os
import pickle
import re
from pathlib import Path
from typing import Any

import joblib

from ._atomic import atomic_open
from ._hashing import UNHASHABLE

_FORMAT = "skal_openset"


def _release(version: str) -> tuple[int, int]:
    """The (major, minor) release of a version string such as ``0.1.0.dev0``."""
    match = re.match(r"(\d+)\.(\d+)", version)
    if match is None:
        raise ValueError(f"Cannot read a release from the version {version!r}.")
    return int(match[1]), int(match[2])


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


def _check_digest(f, path, header):
    """Check the pickle after the header against its size and digest, a chunk
    at a time: from the trailer, or from the header in the 0.1 files saved
    before the trailer."""
    start = f.tell()
    end = os.fstat(f.fileno()).st_size
    damaged = ValueError(
        f"{path} is truncated or damaged: its content does not match the "
        "digest written with it. Use another copy, or save again."
    )
    if header.get("trailer"):
        end -= _TRAILER_BYTES
        if end < start:
            raise damaged
        f.seek(end)
        trailer = f.read(_TRAILER_BYTES)
        size, expected = int.from_bytes(trailer[:8], "little"), trailer[8:]
        f.seek(start)
    else:
        size, expected = header["size"], bytes.fromhex(header["digest"])
    digest = hashlib.blake2b(digest_size=16)
    for chunk in iter(lambda: f.read(min(2**20, end - f.tell())), b""):
        digest.update(chunk)
    if size != end - start or digest.digest() != expected:
        raise damaged
    f.seek(start)


def load_object(path: str | os.PathLike) -> Any:
    """Load an object saved by :func:`save_object`, checking the version.

    Files are compatible within one release: a file written by version
    X.Y.* (including its dev, alpha, beta and rc versions) loads in any
    X.Y.* version, since the attributes of fitted objects change only
    between releases. Any other file is refused with an error rather than
    loaded into objects that may silently misbehave.

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
    ValueError
        If the file is not a skal_openset file, is truncated, or was written
        by an incompatible version.
    ImportError
        If the saved object's classes cannot be imported (e.g. a class of
        your own, from a module that is not importable here).
    """
    from . import __version__

    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(
            f"{path} is a folder; give the path of the file in it that "
            "save_object wrote (e.g. checkpoint.joblib)."
        )
    if not path.is_file():
        raise FileNotFoundError(f"No file to load at {path}.")
    with path.open("rb") as f:
        truncated = ValueError(
            f"{path} is empty or truncated: it holds no saved object (an "
            "interrupted copy, or a full disk). Delete it, and save again "
            "or start afresh."
        )
        try:
            header = pickle.load(f)
        except EOFError:
            raise truncated from None
        except Exception:  # a foreign file fails in many ways
            f.seek(0)
            if _FORMAT.encode() in f.read(256):  # ours, cut inside its header
                raise truncated from None
            header = None
        if not (isinstance(header, dict) and header.get("format") == _FORMAT):
            raise ValueError(
                f"{path} was not written by skal_openset.save_object; load it "
                "with joblib.load if you trust it."
            )
        saved = header["version"]
        if _release(saved) != _release(__version__):
            major, minor = _release(saved)
            raise ValueError(
                f"{path} was written by skal_openset {saved}, which is not "
                f"compatible with the installed {__version__}: files load only "
                f"within the same X.Y release. Install skal_openset=={major}."
                f"{minor}.* to load it, or re-create it with this version."
            )
        if header.get("trailer") or "digest" in header:  # the first 0.1 files: none
            _check_digest(f, path, header)
        try:
            return joblib.load(f)
        except (ImportError, AttributeError) as exc:
            # A class the file names cannot be found: most likely the
            # environment differs, not the file.
            raise ImportError(
                f"{path} holds an object whose class cannot be found here "
                f"({type(exc).__name__}: {exc}), most likely not damage to the "
                "file: import or define that class first (one defined in a "
                "script or notebook must be defined again), or install the "
                "library versions it was saved with."
            ) from exc
        except Exception as exc:
            raise ValueError(
                f"{path} is truncated or damaged ({type(exc).__name__}: {exc})."
            ) from exc
