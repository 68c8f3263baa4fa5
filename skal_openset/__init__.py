"""Open-set active learning with Meta-Query-Net."""

import logging
import threading

import lazy_loader

from ._signals import interrupts_deferred

# The public names load on first use, from the imports listed in
# __init__.pyi (which type checkers read): `import skal_openset` is instant,
# and the command line can handle a Ctrl-C while torch loads.
_load, _lazy_dir, __all__ = lazy_loader.attach_stub(__name__, __file__)
# lazy_loader 0.1 lists them in a set's order, which each process's hash seed
# changes: pytest-xdist's workers, parametrizing tests by __all__, then
# collected different lists and the run stopped.
__all__.sort()

# torch's and scikit-learn's first imports are not thread-safe (cpython
# #91238): threads' first uses of names load them one at a time.
_LOADING = threading.RLock()


def __getattr__(name: str) -> object:
    if name not in __all__:  # e.g. `from . import _models`: then imported
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # A Ctrl-C is held while torch, scikit-learn and skorch load, and raised
    # once they have; a second one raises at once, so that a hung import can
    # still be stopped.
    with _LOADING, interrupts_deferred():
        try:
            loaded = _load(name)
        except AttributeError as exc:
            # A dependency's, which `from skal_openset import name` would
            # report as "cannot import name", its cause lost (skorch under
            # python -OO reads a docstring that is gone).
            raise ImportError(f"importing {__name__}.{name} failed: {exc}") from exc
        # Kept, before a held Ctrl-C is raised, so that later uses skip this
        # lock and handler: lazy_loader 0.1 keeps no name of ours.
        globals()[name] = loaded
    return loaded


def __dir__() -> list[str]:
    # lazy_loader's lists __all__ only: no __version__ for dir() or completion.
    return sorted({*globals(), *_lazy_dir()})


__version__ = "0.1.0.dev0"

# Quiet unless the application configures logging (the library convention).
logging.getLogger("skal_openset").addHandler(logging.NullHandler())
