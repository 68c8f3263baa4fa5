"""Hashes of values by content, to tell settings and experiments apart."""

import pickle

import joblib.hashing
import numpy as np
import sklearn
import torch
from sklearn.base import BaseEstimator

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


def _is_timing_or_version(name):
    """Whether `name` is a timing (:func:`_is_timing`) or the scikit-learn
    version a scikit-learn estimator pickles with: another Python gets
    another scikit-learn, which runs the same experiment with other code."""
    return _is_timing(name) or name == "_sklearn_version"


class _ContentHasher(joblib.hashing.NumpyHasher):
    """joblib's hash, with torch tensors hashed by their values: their pickles
    differ from one process (or clone) to the next. The attributes whose
    names `left_out` (a predicate, None: none) accepts are left out of an
    object's pickled state; a scikit-learn estimator pickles with
    `sklearn_version` (None: the one installed), as another would have."""

    def __init__(self, left_out=None, sklearn_version=None):
        super().__init__()
        self.left_out = left_out
        self.sklearn_version = sklearn_version

    def save(self, obj):
        if isinstance(obj, torch.Tensor):
            values = obj.detach().cpu().contiguous().reshape(-1).view(torch.uint8)
            obj = ("torch.Tensor", str(obj.dtype), tuple(obj.shape), values.numpy())
        super().save(obj)

    def reducer_override(self, obj):
        versioned = self.sklearn_version is not None and isinstance(obj, BaseEstimator)
        if (self.left_out is None and not versioned) or isinstance(obj, type):
            return NotImplemented  # a class: its methods
        names = [*getattr(obj, "__dict__", ()), *_slot_names(type(obj))]
        if isinstance(obj, BaseEstimator):
            names.append("_sklearn_version")  # what its __getstate__ adds
        if not versioned and not any(map(self.left_out, names)):
            return NotImplemented  # pickled as usual
        reduced = list(obj.__reduce_ex__(self.proto))
        state = reduced[2] if len(reduced) > 2 else None
        if isinstance(state, dict):
            reduced[2] = self._kept(state)
        elif isinstance(state, tuple) and len(state) == 2:
            # (__dict__ or None, slots): an object of a class with __slots__
            reduced[2] = tuple(
                self._kept(part) if isinstance(part, dict) else part for part in state
            )
        return tuple(reduced)

    def _kept(self, attributes):
        kept = {
            k: v
            for k, v in attributes.items()
            if self.left_out is None or not self.left_out(k)
        }
        if self.sklearn_version is not None and "_sklearn_version" in kept:
            kept["_sklearn_version"] = self.sklearn_version
        return kept


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
    same seed and data, runs the same experiment. So is the scikit-learn
    version its estimators pickle with: the checkpoint records the versions,
    and a resume with others warns. A checkpoint that holds it, or what
    checkpoints held before (the hash with that version; before that, with
    the timings too: those whose timings are the same, an encoder loaded
    from a cache, still resume), :meth:`matches`, also under another
    scikit-learn than the one it records. Those hashes are made only when
    the first does not match: hashing the value (a whole pool) again on
    every resume costs as much.
    """

    def __init__(self, value):
        self.value = value
        self.saved = _ContentHasher(_is_timing_or_version).hash(value)

    def matches(self, saved, sklearn_version=None):
        """Whether a checkpoint that holds the fingerprint `saved` is of the
        value (as it is now). `sklearn_version`: the scikit-learn version the
        checkpoint records (None: none), which earlier code hashed in its
        estimators' pickles."""
        versions = [None]  # the one installed
        if sklearn_version not in (None, sklearn.__version__):
            versions.append(sklearn_version)
        return saved == self.saved or any(
            saved == _ContentHasher(left_out, version).hash(self.value)
            for version in versions
            for left_out in (_is_timing, None)
        )

    def parts(self, names):
        """``saved`` of each item of the value, a sequence, by `names`: a
        checkpoint that holds them tells which items differ where the whole
        does not match."""
        return {
            name: _ContentHasher(_is_timing_or_version).hash(part)
            for name, part in zip(names, self.value, strict=True)
        }

    def parts_that_differ(self, names, saved_parts, sklearn_version=None):
        """The `names` of the items whose hash in `saved_parts`, a checkpoint's
        :meth:`parts`, does not match them as :meth:`matches` tells: an item
        of a checkpoint hashed with the scikit-learn version in (that one,
        `sklearn_version`, where it records one) differs only if it does
        otherwise."""
        return [
            name
            for name, part in zip(names, self.value, strict=True)
            if not Fingerprint(part).matches(saved_parts.get(name), sklearn_version)
        ]
