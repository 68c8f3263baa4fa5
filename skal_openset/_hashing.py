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
    still compares equal."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, SameObject) and other.value is self.value

    def __hash__(self):
        return id(self.value)


class _ContentHasher(joblib.hashing.NumpyHasher):
    """joblib's hash, with torch tensors hashed by their values: their pickles
    differ from one process (or clone) to the next."""

    def save(self, obj):
        if isinstance(obj, torch.Tensor):
            values = obj.detach().cpu().contiguous().reshape(-1).view(torch.uint8)
            obj = ("torch.Tensor", str(obj.dtype), tuple(obj.shape), values.numpy())
        super().save(obj)


def content_hash(value):
    """joblib's hash of `value`, tensors by value: the same in a copy, a
    clone, or another process (a RandomState by its state, a function by
    its name). Raises one of `UNHASHABLE` if `value` does not pickle."""
    return _ContentHasher().hash(value)
