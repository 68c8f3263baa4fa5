"""Atomic file writes: a file is either complete or not there at all."""

import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to ``path``; move it onto ``path`` on success.

    The temporary file is in the same folder, so :func:`os.replace` is atomic:
    readers see the old file (or none) until the block has finished, never a
    half-written one. If the block raises (including ``KeyboardInterrupt``),
    the temporary file is removed and ``path`` is left as it was. Its name
    ends in ``.tmp``, so give writers that infer a format from the suffix the
    format explicitly.

    Parameters
    ----------
    path : str or path-like
        The file to write; missing parent folders are created.

    Yields
    ------
    tmp : pathlib.Path
        An empty file to write the content to.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
