"""Hashes of values by content, to tell settings and experiments apart."""

import pickle

import joblib.hashing
import torch

# What hashing a value that does not pickle (a lambda, a lock) raises.
UNHASHABLE = (pickle.PicklingError, AttributeError, TypeError)


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
