"""Floating-point events that the package's arithmetic expects at numpy's defaults.

A caller's ``np.seterr(all="raise")`` (common in scientific code) serves its
other work: steps written for numpy's default handling of an event must
neither fail under it nor give other results.
"""

import numpy as np


def flushing_underflow() -> np.errstate:
    """``np.errstate`` in which results too small for the float type round to
    subnormals or 0 silently, as under numpy's defaults.

    For the steps written for that rounding: exact power-of-2 rescalings,
    exponentials of very negative numbers, tiny probabilities cast to float32.
    A new context at each call, so blocks nest and threads do not share one.
    """
    return np.errstate(under="ignore")
