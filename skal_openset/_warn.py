"""Warnings attributed to the caller's code, not to this package."""

import os
import sys
import warnings

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` at the line that called into this package.

    A fixed ``stacklevel`` points into the package whenever the warning is
    reached through another of its functions (a learner's ``query`` calling
    its strategy, ``teach`` updating it, often through scikit-learn's
    wrappers), so the message would name a line of ours, not the user's call.
    The level is that of the caller of the outermost frame in the package.
    """
    level, outermost, frame = 1, 1, sys._getframe()
    while frame is not None:
        if frame.f_code.co_filename.startswith(_PACKAGE_DIR):
            outermost = level
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=outermost + 1)
