"""Hashes of values by content, to tell settings and experiments apart."""

import pickle

import joblib.hashing
import numpy as np
import torch

# What hashing a value that does not pickle (a lambda, a lock) raises.
UNHASHABLE = (pickle.PicklingError, AttributeError, TypeError)

# Settings whose state changes as they are used (drawn from, trained): the
# same setting is the same object, whatever its state.
STATEFUL_SETTINGS = (np.random.RandomState, np.random.Generator, torch.nn.Module)


class SameObject:
    """A setting compared by identity, `value` itself held (not its id), so a
    copy of whatever holds both the setting and this (a pickle, a deep copy)
    still compares equal. Settings are compared, never hashed: with __eq__
    alone, it is unhashable."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, SameObject) and other.value is self.value


def _is_timing(name):
    """Whether `name` is a fitted object's wall-clock timing (``fit_seconds_``
    of :class:`ContrastiveEncoder`), which two fits that are the same
    otherwise do not share."""
    return name.endswith("_seconds_")


class _ContentHasher(joblib.hashing.NumpyHasher):
    """joblib's hash, with torch tensors hashed by their values: their pickles
    differ from one process (or clone) to the next. Without `timings`, an
    object's timing attributes are left out of its pickled state."""

    def __init__(self, timings=True):
        super().__init__()
        self.timings = timings

    def save(self, obj):
        if isinstance(obj, torch.Tensor):
            values = obj.detach().cpu().contiguous().reshape(-1).view(torch.uint8)
            obj = ("torch.Tensor", str(obj.dtype), tuple(obj.shape), values.numpy())
        super().save(obj)

    def reducer_override(self, obj):
        if self.timings or isinstance(obj, type):  # a class's __dict__: methods
            return NotImplemented
        names = [*getattr(obj, "__dict__", ()), *_slot_names(type(obj))]
        if not any(map(_is_timing, names)):
            return NotImplemented  # pickled as usual
        reduced = list(obj.__reduce_ex__(self.proto))
        state = reduced[2] if len(reduced) > 2 else None
        if isinstance(state, dict):
            reduced[2] = _untimed(state)
        elif isinstance(state, tuple) and len(state) == 2:
            # (__dict__ or None, slots): an object of a class with __slots__
            reduced[2] = tuple(
                _untimed(part) if isinstance(part, dict) else part for part in state
            )
        return tuple(reduced)


def _untimed(attributes):
    return {k: v for k, v in attributes.items() if not _is_timing(k)}


def _slot_names(cls):
    """The names in the __slots__ of `cls` and of the classes it derives from."""
    slots = (klass.__dict__.get("__slots__", ()) for klass in cls.__mro__)
    return [name for s in slots for name in ((s,) if isinstance(s, str) else s)]


def content_hash(value):
    """joblib's hash of `value`, tensors by value: the same in a copy, a
    clone, or another process (a RandomState by its state, a function by
    its name). Raises one of `UNHASHABLE` if `value` does not pickle."""
    return _ContentHasher().hash(value)


class Fingerprint:
    """What identifies `value` to a checkpoint of it. Raises one of
    `UNHASHABLE` if `value` does not pickle.

    ``saved``, what a checkpoint saves, is :func:`content_hash` with the
    wall-clock timings of fitted objects (attributes ending in
    ``_seconds_``) left out: a script that fits its encoder again, with the
    same seed and data, runs the same experiment. A checkpoint that holds it,
    or the hash with the timings (what checkpoints held before; those whose
    timings are the same, an encoder loaded from a cache, still resume),
    :meth:`matches`. That hash is made only when the first does not match:
    hashing the value (a whole pool) again on every resume costs as much.
    """

    def __init__(self, value):
        self.value = value
        self.saved = _ContentHasher(timings=False).hash(value)

    def matches(self, saved):
        """Whether a checkpoint that holds the fingerprint `saved` is of the
        value (as it is now)."""
        return saved == self.saved or saved == content_hash(self.value)

    def parts(self, names):
        """``saved`` of each item of the value, a sequence, by `names`: a
        checkpoint that holds them tells which items differ where the whole
        does not match."""
        return {
            name: _ContentHasher(timings=False).hash(part)
            for name, part in zip(names, self.value, strict=True)
        }
