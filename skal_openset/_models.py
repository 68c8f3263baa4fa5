"""Target models: torch backbones, the learning-loss head and skorch nets.

Every backbone maps an input batch to a penultimate embedding (``embed``), a
linear ``head`` maps that to logits, and ``embed_with_intermediates`` also
returns the feature maps the learning-loss head (Yoo & Kweon, CVPR 2019) reads.
The skorch nets train them from scratch on the in-distribution labelled set.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import inspect
import numbers
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from numpy.typing import ArrayLike
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    column_or_1d,
    validate_data,
)
from skorch import NeuralNetClassifier
from skorch.callbacks import LRScheduler, PrintLog
from skorch.dataset import Dataset
from skorch.exceptions import DeviceWarning
from skorch.utils import is_dataset, to_tensor
from torch import nn
from torch.utils.data import DataLoader, RandomSampler

from ._datasets import _to_unit_float
from ._torch_modes import (
    cpu_default_device,
    default_device_is_cpu,
    float32_default,
    grad_enabled,
)
from ._typing import RandomStateLike, RealLike
from ._validation import (
    ADAM_BETAS,
    check_adam_rate,
    check_finite_array,
    check_float32_param,
    check_none_missing,
    check_random_state_not_bool,
    check_scalar_not_bool,
    is_int,
    reject_bool_numbers,
)
from ._warn import warn

_TARGET_OOD_HINT = (
    "target models train on in-distribution examples only, so drop OOD rows "
    "(ood_label) first, and encode the classes as 0..k-1 (e.g. with "
    "sklearn.preprocessing.LabelEncoder), or train through "
    "skal_openset.ActiveLearner, which does both."
)


def _check_class_labels(y, n_classes=None, name="y", hint=_TARGET_OOD_HINT):
    """Return ``y`` as an int64 vector of class indices in ``0..n_classes-1``.

    `hint` ends the message for labels out of that range.
    """
    if y is None:
        raise ValueError(f"{name} is None: give the class index of every row.")
    y = column_or_1d(y, warn=True)
    _check_no_missing_label(y, name)
    if y.dtype.kind not in "biuf":
        raise ValueError(
            f"{name} must hold integer class indices 0..k-1; got dtype {y.dtype}. "
            "Encode the labels first (e.g. with sklearn.preprocessing."
            "LabelEncoder), or train through skal_openset.ActiveLearner, which "
            "takes labels of any kind."
        )
    if y.dtype.kind == "f" and not np.all(np.isfinite(y) & (y == np.round(y))):
        raise ValueError(
            f"{name} must hold integer class indices; got non-integer values."
        )
    y = y.astype(np.int64)
    bad = (y < 0) if n_classes is None else (y < 0) | (y >= n_classes)
    if np.any(bad):
        upper = "k-1" if n_classes is None else n_classes - 1
        raise ValueError(
            f"{name} holds labels outside 0..{upper} (e.g. {y[bad][0]}); {hint}"
        )
    return y


def _check_no_missing_label(y, name="y"):
    """Refuse NaN, None or pandas.NA (which becomes NaN or stays) in a 1-D `y`."""
    check_none_missing(
        y, name, "give the class index of every row, or drop the rows without one."
    )


def _fits(row, shape):
    """Whether ``row`` matches ``shape``, whose None entries match any size."""
    return len(row) == len(shape) and all(
        s is None or r == s for r, s in zip(row, shape)
    )


def _to_input_shape(X, input_shape):
    """`X` as float32 rows of `input_shape`, from the layouts users have.

    Accepted besides the exact shape: flat rows (``(n, 784)`` for
    ``(1, 28, 28)``), rows of a single-channel image without the channel axis
    (``(n, 28, 28)``), channels-last rows (``(n, 32, 32, 3)`` for
    ``(3, 32, 32)``), and image rows for a flat input (``(n, 28, 28)`` for
    ``(784,)``). A None entry of `input_shape` matches any size (no flat
    rows then). uint8 pixels are scaled from 0..255 to [0, 1] where
    `input_shape` is an image's (see :func:`reads_uint8_as_pixels`).
    """
    # dtype=None keeps uint8 to be recognised below
    X = check_array(
        X,
        dtype=None,
        allow_nd=True,
        ensure_2d=False,
        ensure_all_finite=False,
        input_name="X",
    )
    shape, row = tuple(input_shape), X.shape[1:]
    sized = None not in shape
    if X.ndim == 1 and shape != (1,):
        advice = (
            "make one sample a row with X.reshape(1, -1) (a single feature: "
            "X.reshape(-1, 1))"
            if sized
            else f"give images of shape {shape} in an array (n, ...); one image "
            "as image[None]"
        )
        raise ValueError(f"Expected rows, got a 1-D array: {advice}.")
    if _fits(row, shape):
        pass
    elif len(shape) == 3 and _fits(row, (shape[1], shape[2], shape[0])):
        X = X.transpose(0, 3, 1, 2)
    elif len(shape) == 3 and shape[0] == 1 and _fits(row, shape[1:]):
        X = X[:, None]
    elif (
        sized and (len(row) == 1 or len(shape) == 1) and np.prod(row) == np.prod(shape)
    ):
        X = X.reshape(len(X), *shape)
    else:
        accepted = ["flat rows of the same size"] if sized else []
        if len(shape) == 3:
            accepted.append(f"channels-last rows {(shape[1], shape[2], shape[0])}")
            if shape[0] == 1:
                accepted.append(f"rows {shape[1:]}")
        any_size = "" if sized else "None: any size; "
        raise ValueError(
            f"X has rows of shape {row}, but this net takes rows of shape {shape} "
            f"({any_size}also accepted: {', '.join(accepted)}). Build the net "
            "for your data, e.g. make_mlp_classifier(n_features=X.shape[1], ...) "
            "or make_cnn_classifier(..., input_shape=...)."
        )
    if X.dtype == np.uint8 and reads_uint8_as_pixels(shape):
        return _to_unit_float(X)  # one float copy of the pool, not two
    return X


def reads_uint8_as_pixels(input_shape):
    """Whether a net whose rows have `input_shape` reads uint8 rows as pixels
    (scaled from 0..255 to [0, 1]): only an image's shape, of 2 or more
    dimensions. A table's, 1-D, or None takes uint8 columns (one-hot, counts)
    as numbers, as it takes int64 ones."""
    return input_shape is not None and len(input_shape) >= 2


def uint8_if_pixels(X):
    """Integer rows of another dtype with values in 0..255 as uint8, the
    dtype that the image nets read as pixels (scaled to [0, 1])."""
    if X.dtype.kind in "iu" and X.dtype != np.uint8 and X.size:
        if 0 <= X.min() and X.max() <= 255:
            return X.astype(np.uint8)
    return X


def one_pixel_scale(floats, pixels_max):
    """Whether float rows and uint8 pixels whose largest value is `pixels_max`
    are on one scale once a net divides the pixels by 255: floats in [0, 1],
    and pixels that use 0-255 (not 0/1 masks)."""
    return in_unit_range(floats) and pixels_max > 1


def in_unit_range(floats):
    """Whether rows are floats in [0, 1], the scale of uint8 pixels / 255."""
    # nan-aware: a NaN is for check_array to name, with its imputer advice
    return floats.dtype.kind == "f" and 0 <= np.nanmin(floats) <= np.nanmax(floats) <= 1


def integer_rows_on_unit_scale(rows):
    """Integer image rows given beside floats in [0, 1], as float32 rows on
    that scale: a row whose values lie in 0..255 and reach above 1 holds 0-255
    pixels, divided by 255 as uint8 ones are; any other row (a 0/1 mask, or
    values beyond 0..255) is taken as it is. Decided row by row, so that a row
    reads the same whatever rows come with it."""
    flat = rows.reshape(len(rows), -1)
    pixels = (
        (flat.min(axis=1) >= 0) & (flat.max(axis=1) <= 255) & (flat.max(axis=1) > 1)
    )
    out = rows.astype(np.float32)
    out[pixels] = np.true_divide(rows[pixels], np.float32(255), dtype=np.float32)
    return out


def _check_positive_int(value, name):
    if not is_int(value, min_val=1):
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")


# --------------------------------------------------------------------------- modules


class BackboneModule(nn.Module):
    """Base class of the target backbones: ``stages`` -> ``pool`` -> ``head``.

    Subclasses set ``stages`` (an ``nn.ModuleList`` applied in order; each
    stage's output is one intermediate feature map), ``pool`` (maps the last
    stage's output to the ``(n, embedding_dim)`` embedding), ``head`` (a linear
    layer, registered last) and ``intermediate_dims`` (the channel or feature
    count of each stage's output).
    """

    stages: nn.ModuleList
    pool: nn.Module
    head: nn.Module
    intermediate_dims: Sequence[int]

    def embed_with_intermediates(
        self, x: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Return the embedding and the list of every stage's output.

        Parameters
        ----------
        x : torch.Tensor
            Input batch.

        Returns
        -------
        embedding : torch.Tensor of shape (n, embedding_dim)
        intermediates : list of torch.Tensor
            One per stage, shape ``(n, c, h, w)`` or ``(n, d)``.
        """
        intermediates = []
        for stage in self.stages:
            x = stage(x)
            intermediates.append(x)
        return self.pool(x), intermediates

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Return the penultimate embedding.

        Parameters
        ----------
        x : torch.Tensor
            Input batch.

        Returns
        -------
        embedding : torch.Tensor of shape (n, embedding_dim)
        """
        return self.embed_with_intermediates(x)[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))


class MLPModule(BackboneModule):
    """Multi-layer perceptron for tables: (Linear -> ReLU -> Dropout) per hidden layer.

    Parameters
    ----------
    n_features : int
        Number of input columns.
    n_classes : int
        Number of output logits.
    hidden_sizes : sequence of int, default=(256, 128)
        Width of each hidden layer (at least one); the last is the embedding.
    dropout : float, default=0.0
        Dropout probability after each hidden ReLU.
    """

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        hidden_sizes: Sequence[int] = (256, 128),
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        _check_positive_int(n_features, "n_features")
        _check_positive_int(n_classes, "n_classes")
        hidden_sizes = tuple(hidden_sizes)
        if not hidden_sizes:
            raise ValueError("hidden_sizes must name at least one hidden layer.")
        for size in hidden_sizes:
            _check_positive_int(size, "every hidden size")
        # torch's Dropout takes True for p=1, which drops every activation
        check_scalar_not_bool(dropout, "dropout", numbers.Real, min_val=0, max_val=1)
        widths = (n_features,) + hidden_sizes
        self.stages = nn.ModuleList(
            nn.Sequential(nn.Linear(d_in, d_out), nn.ReLU(), nn.Dropout(dropout))
            for d_in, d_out in zip(widths[:-1], widths[1:])
        )
        self.pool = nn.Identity()
        self.head = nn.Linear(hidden_sizes[-1], n_classes)
        self.intermediate_dims = hidden_sizes


class _BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 convs with batch norm, plus a shortcut."""

    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Identity()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride, bias=False),
                nn.BatchNorm2d(planes),
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet18Module(BackboneModule):
    """CIFAR-style ResNet-18: 3x3 stride-1 stem, no max-pool, 512-d embedding.

    Four stages of two basic blocks (64, 128, 256, 512 channels by default;
    the stem is part of the first stage), then global average pooling.

    Parameters
    ----------
    n_classes : int
        Number of output logits.
    in_channels : int, default=3
        Input channels (3 for CIFAR, 1 for grey images).
    width : int, default=64
        Channels of the first stage; the others have 2, 4 and 8 times as
        many. A narrow net (e.g. 8) trains on a CPU in seconds.
    """

    def __init__(self, n_classes: int, in_channels: int = 3, width: int = 64) -> None:
        super().__init__()
        _check_positive_int(n_classes, "n_classes")
        _check_positive_int(in_channels, "in_channels")
        _check_positive_int(width, "width")
        widths = tuple(width * m for m in (1, 2, 4, 8))
        stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, 1, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
        )
        stages, in_planes = [], width
        for i, planes in enumerate(widths):
            stride = 1 if i == 0 else 2
            first = [stem] if i == 0 else []
            stages.append(
                nn.Sequential(
                    *first,
                    _BasicBlock(in_planes, planes, stride),
                    _BasicBlock(planes, planes, 1),
                )
            )
            in_planes = planes
        self.stages = nn.ModuleList(stages)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(widths[-1], n_classes)
        self.intermediate_dims = widths


class SmallCNNModule(BackboneModule):
    """Small CNN for 28x28 grey images (Fashion-MNIST), fast on a CPU.

    Two (3x3 conv -> batch norm -> ReLU -> 2x2 max-pool) stages with 32 and 64
    channels, then a fully connected 128-d stage (after adaptive pooling to
    7x7, so other input sizes work too).

    Parameters
    ----------
    n_classes : int
        Number of output logits.
    in_channels : int, default=1
        Input channels.
    """

    def __init__(self, n_classes: int, in_channels: int = 1) -> None:
        super().__init__()
        _check_positive_int(n_classes, "n_classes")
        _check_positive_int(in_channels, "in_channels")

        def conv_stage(c_in, c_out):
            return nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
                nn.MaxPool2d(2),
            )

        self.stages = nn.ModuleList(
            [
                conv_stage(in_channels, 32),
                conv_stage(32, 64),
                nn.Sequential(
                    nn.AdaptiveAvgPool2d(7),
                    nn.Flatten(),
                    nn.Linear(64 * 7 * 7, 128),
                    nn.ReLU(),
                ),
            ]
        )
        self.pool = nn.Identity()
        self.head = nn.Linear(128, n_classes)
        self.intermediate_dims = (32, 64, 128)

    def embed_with_intermediates(
        self, x: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Return the embedding and every stage's output, of images >= 4x4.

        Parameters
        ----------
        x : torch.Tensor of shape (n, C, H, W)
            Input batch, ``H`` and ``W`` at least 4.

        Returns
        -------
        embedding : torch.Tensor of shape (n, 128)
        intermediates : list of torch.Tensor
            One per stage.
        """
        # Else torch's "Output size is too small" from the second max-pool, for
        # images of sizes make_cnn_classifier's input_shape left open (None).
        if x.ndim == 4 and min(x.shape[-2:]) < 4:
            raise ValueError(
                "SmallCNNModule needs images of at least 4x4 pixels (its two 2x2 "
                f"max-pools halve them twice); got {tuple(x.shape[-2:])}. Enlarge "
                "the images or use make_mlp_classifier on the flat pixels."
            )
        return super().embed_with_intermediates(x)


class LossPredictionModule(nn.Module):
    """Loss-prediction head of learning loss (Yoo & Kweon, CVPR 2019).

    Each intermediate feature map is globally average-pooled (when it has
    spatial dimensions), mapped by Linear -> ReLU to ``hidden_size`` units; the
    concatenation is mapped by a Linear layer to one predicted loss per row.

    Parameters
    ----------
    intermediate_dims : sequence of int
        Channel (or feature) count of each intermediate input.
    hidden_size : int, default=128
        Units per intermediate branch.
    """

    def __init__(
        self, intermediate_dims: Sequence[int], hidden_size: int = 128
    ) -> None:
        super().__init__()
        intermediate_dims = tuple(intermediate_dims)
        if not intermediate_dims:
            raise ValueError("intermediate_dims must name at least one feature map.")
        self.branches = nn.ModuleList(
            nn.Sequential(nn.Linear(d, hidden_size), nn.ReLU())
            for d in intermediate_dims
        )
        self.out = nn.Linear(hidden_size * len(intermediate_dims), 1)

    def forward(self, intermediates: Sequence[torch.Tensor]) -> torch.Tensor:
        # Global average pool over every axis after the channel axis.
        pooled = [f.flatten(2).mean(2) if f.dim() > 2 else f for f in intermediates]
        hidden = [branch(f) for branch, f in zip(self.branches, pooled)]
        return self.out(torch.cat(hidden, dim=1)).squeeze(1)


class LearningLossModule(nn.Module):
    """A backbone plus a learning-loss head; ``forward`` returns ``(logits, loss)``.

    Parameters
    ----------
    backbone : BackboneModule subclass or instance
        The target model. Pass the class (with its arguments as extra keyword
        arguments) so that every skorch ``fit`` builds fresh weights; an
        instance is used as is, like skorch's own ``module``.
    hidden_size : int, default=128
        Units per branch of the loss-prediction head.
    **backbone_kwargs
        Arguments for ``backbone`` when it is a class, e.g. ``n_classes``.

    Attributes
    ----------
    detach_features : bool
        When True, the intermediates are detached before the loss-prediction
        head, so its gradient no longer reaches the backbone.
        :class:`LearningLossNet` sets it each epoch from ``ll_detach_epoch``.
    """

    def __init__(
        self,
        backbone: BackboneModule | type[BackboneModule],
        hidden_size: int = 128,
        **backbone_kwargs: Any,
    ) -> None:
        super().__init__()
        if isinstance(backbone, nn.Module):
            if backbone_kwargs:
                raise TypeError(
                    "backbone is already an instance; got extra arguments "
                    f"{sorted(backbone_kwargs)} that only apply to a class."
                )
        else:
            backbone = backbone(**backbone_kwargs)
        missing = [
            a
            for a in ("embed_with_intermediates", "head", "intermediate_dims")
            if not hasattr(backbone, a)
        ]
        if missing:
            raise TypeError(
                f"backbone {type(backbone).__name__} lacks {missing}; use a "
                "BackboneModule subclass (MLPModule, ResNet18Module, SmallCNNModule)."
            )
        self.backbone = backbone
        self.loss_head = LossPredictionModule(backbone.intermediate_dims, hidden_size)
        self.detach_features = False

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Return the backbone's penultimate embedding.

        Parameters
        ----------
        x : torch.Tensor
            Input batch.

        Returns
        -------
        embedding : torch.Tensor of shape (n, embedding_dim)
        """
        return self.backbone.embed(x)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        embedding, intermediates = self.backbone.embed_with_intermediates(x)
        if self.detach_features:
            intermediates = [f.detach() for f in intermediates]
        return self.backbone.head(embedding), self.loss_head(intermediates)


# ------------------------------------------------------------------------- skorch nets


def min_steps_loader(dataset, batch_size, shuffle=False, min_steps=0, **kwargs):
    """DataLoader that makes at least ``min_steps`` batches per epoch.

    The reference CIFAR recipe runs every epoch for at least 100 SGD steps, so a
    small labelled set is cycled several times (fresh permutations) per epoch.
    Use it as ``iterator_train=min_steps_loader, iterator_train__min_steps=100``.

    Parameters
    ----------
    dataset : torch Dataset
    batch_size : int
    shuffle : bool, default=False
        Shuffle when the dataset already fills ``min_steps`` batches; otherwise
        the cycled permutations are always random.
    min_steps : int, default=0
        Least number of batches per epoch.
    **kwargs
        Passed on to :class:`torch.utils.data.DataLoader`.

    Returns
    -------
    torch.utils.data.DataLoader

    Notes
    -----
    When shuffling, batches hold at least two rows, as in
    :class:`BatchIterator`: batch norm cannot train on one row of 1x1
    feature maps. So ``batch_size=1`` gives batches of two, a last batch of
    a single row is left out (unless ``drop_last`` is given; BatchIterator
    leaves out every partial batch), and a dataset of a single row makes a
    batch of two copies of it.
    """
    if shuffle:
        batch_size = max(batch_size, 2)
    # int: RandomSampler refuses the np.int64 a search grid may set.
    n_samples = int(min_steps * batch_size)
    if shuffle and len(dataset) == 1:
        n_samples = max(n_samples, 2)  # sampled: two copies
    if n_samples <= len(dataset):
        lone_last_row = batch_size < len(dataset) and len(dataset) % batch_size == 1
        kwargs.setdefault("drop_last", shuffle and lone_last_row)
        return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, **kwargs)
    # Without replacement, RandomSampler concatenates whole permutations.
    generator = kwargs.pop("generator", None)
    sampler = RandomSampler(dataset, num_samples=n_samples, generator=generator)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, **kwargs)


def device_error(device):
    """Why torch cannot run on `device` here, or None: not a torch device,
    the meta device, or an accelerator this machine lacks (torch fails only
    at the first use, for CUDA and XPU with a bare AssertionError)."""
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        return f"{device!r} is not a torch device ({error}); use e.g. 'cpu' or 'cuda'"
    if device.type == "meta":
        # Its tensors have shapes but no values: training fails mid-way.
        return (
            f"{str(device)!r} is torch's meta device, whose tensors hold no "
            "values to train on; use e.g. 'cpu' or 'cuda'"
        )
    n_devices = _device_count(device.type)
    if n_devices is not None and (device.index or 0) >= n_devices:
        kind = device.type.upper()
        article = "an" if kind[0] in "AEFHILMNORSX" else "a"  # as it is read out
        others = (
            f", or one of its {kind} devices ({kind.lower()}:0..{n_devices - 1})"
            if n_devices
            else ""
        )
        return (
            f"{str(device)!r} names {article} {kind} device this machine lacks "
            f"(it has {n_devices}); use 'cpu'{others}"
        )
    return None


def _device_count(kind):
    """How many devices of the torch device type `kind` this machine has, or
    None where torch does not say (the CPU, or a backend this torch lacks)."""
    if kind == "mps" and not hasattr(torch.mps, "device_count"):  # torch < 2.5
        return int(torch.backends.mps.is_available())
    count = getattr(getattr(torch, kind, None), "device_count", None)
    return count() if kind != "cpu" and callable(count) else None


def check_device(device):
    """Raise a ValueError if torch cannot run on `device` here (None: skorch's
    "leave the module where it is")."""
    error = device is not None and device_error(device)
    if error:
        raise ValueError(f"device={device!r}: {error}.")


def module_device(module):
    """The device of the torch `module`'s parameters."""
    return next(module.parameters()).device


class CPUPickledModuleMixin:
    """Pickles the fitted torch network ``module_`` from the CPU.

    A pickled tensor names its device, and torch refuses to load a CUDA one
    on a machine without CUDA, before any ``__setstate__`` could move it;
    skorch's nets pickle theirs device-free, and this does it for estimators
    whose network is a plain module. A network off the CPU is pickled as a
    CPU copy, with its device, and goes back there when loaded; on a machine
    that lacks that device it stays on the CPU. As on skorch's nets, fitted
    or not, a ``device`` naming a device the loading machine lacks becomes
    ``"cpu"``, with a ``DeviceWarning``. A network on the CPU pickles as it
    is, to the same bytes as without this mixin.
    """

    def __getstate__(self):
        state = super().__getstate__()  # type: ignore[misc]
        module = state.get("module_")
        device = None if module is None else module_device(module)
        if device is not None and device.type != "cpu":
            # A copy: the object being pickled keeps its network where it is.
            state = {
                **state,
                "module_": copy.deepcopy(module).cpu(),
                "_module_device": str(device),
            }
        return state

    def __setstate__(self, state):
        saved_on = state.pop("_module_device", None)
        super().__setstate__(state)  # type: ignore[misc]
        if saved_on is not None and device_error(saved_on) is None:
            self.module_.to(saved_on)
            return
        # Fitted or not, as skorch's nets: an unfitted template (MQNetQuery's
        # selector) with such a device could not be fitted here.
        device = self.device
        reset = _lacks_device(device)
        if reset:
            self.device = "cpu"
        if saved_on is not None:
            now = f", and device={device!r} is set to 'cpu'" if reset else ""
            warn(
                f"This {type(self).__name__} was saved or copied with its network "
                f"on {saved_on!r}, which this machine lacks: it is loaded on the "
                f"CPU{now}, where it computes (the results may differ from "
                f"{saved_on!r} by rounding). To run it on {saved_on!r}, load the "
                "file on a machine that has it.",
                DeviceWarning,
            )
        elif reset:
            warn(
                f"This {type(self).__name__} was saved or copied with "
                f"device={device!r}, which this machine lacks: it is set to "
                f"'cpu'. To run it on {device!r}, load the file on a machine that "
                "has it.",
                DeviceWarning,
            )


def _lacks_device(device):
    """Whether `device` is a torch device that this machine lacks."""
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):  # not a device: fit says so
        return False
    # No machine computes on the meta device: fit says so.
    return device.type != "meta" and device_error(device) is not None


# torch's RNG is global to the process: two threads seeding it (dask or
# joblib threads running cells side by side) would draw from each other's
# streams. Seeded blocks therefore run one at a time.
TORCH_RNG_LOCK = threading.RLock()
_IN_SEEDED_CALL = contextvars.ContextVar("_IN_SEEDED_CALL", default=False)


def torch_seed(random_state, owner=None):
    """A seed for :func:`seeded_torch`, drawn through ``check_random_state``
    (a bad `random_state` refused, as `owner`'s if given)."""
    rng = check_random_state_not_bool(random_state, owner)
    return int(rng.randint(np.iinfo(np.int32).max))


@contextlib.contextmanager
def seeded_torch(seed, device=None):
    """Run the block on a forked torch RNG: the generators of `device` (the
    CPU's for None or a CPU device) seeded with `seed`, and restored after."""
    cuda = torch.device(device).type == "cuda" if device is not None else False
    devices = list(range(torch.cuda.device_count())) if cuda else []
    with TORCH_RNG_LOCK, torch.random.fork_rng(devices=devices):
        if cuda:
            torch.manual_seed(seed)
        else:
            # torch.manual_seed reseeds CUDA too, which the fork leaves out.
            torch.default_generator.manual_seed(seed)
        yield


_INFERENCE_BATCH_BYTES = 2**22


def _target_array(X, y):
    """``y`` as an array unless ``X`` is a Dataset.

    skorch's ``check_data`` reads ``y`` through ``to_numpy``, which refuses
    lists and tuples, before ``get_dataset`` could convert them.
    """
    if y is None or is_dataset(X):
        return y
    return np.asarray(_tensor_as_array(y))


def _tensor_as_array(X):
    """A floating-point or uint8 tensor as a NumPy array, which the nets
    validate, scale and cast as any array (a float64 tensor reached the
    float32 layers, uint8 pixels went unscaled); anything else as it is.

    Other integer and bool tensors go to the module unchanged: token ids for
    an ``nn.Embedding``, which the array path would cast to float32.
    """
    if not isinstance(X, torch.Tensor) or not (
        X.is_floating_point() or X.dtype == torch.uint8
    ):
        return X
    X = X.detach().cpu()
    if X.is_floating_point() and X.dtype not in _NUMPY_FLOATS:
        X = X.float()  # NumPy has no bfloat16
    return X.numpy()


_NUMPY_FLOATS = (torch.float16, torch.float32, torch.float64)


class _TrainingInterrupted(BaseException):
    """Carries a KeyboardInterrupt past skorch's ``partial_fit``."""


class _ArrayRows(torch.utils.data.Dataset):
    """The rows of in-memory arrays, fetched a batch at a time (``__getitems__``)."""

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        self.X, self.y = X, y

    def __len__(self) -> int:
        return len(self.X)

    def __getitems__(self, indices: list[int]) -> list[torch.Tensor]:
        # What default_collate stacks from single rows: the same values, dtype
        # and shape, in C order (a user's Dataset may hold channels-last images).
        return [
            torch.from_numpy(np.ascontiguousarray(self.X[indices])),
            torch.from_numpy(np.ascontiguousarray(self.y[indices])),
        ]


def _as_batch(batch: list[torch.Tensor]) -> list[torch.Tensor]:
    """The collate function of :class:`_ArrayRows`, whose batches come whole."""
    return batch


_DONE = object()  # the end of an iterator, told apart from any batch

# The optimiser's numbers the factories set: torch takes each as float32.
_OPTIMIZER_NUMBERS = (
    "lr",
    "optimizer__lr",
    "optimizer__momentum",
    "optimizer__weight_decay",
)

# The parameters by which skorch sets the optimiser's learning rate: all
# groups', or one group's.
_RATE_PARAM = re.compile(r"(?:optimizer__(?:param_groups__(?P<group>\d+)__)?)?lr")


class _OnCPUDefault:
    """The batches of an iterable, each drawn with the CPU as torch's
    default device (:func:`cpu_default_device`), not the caller's code
    between them."""

    def __init__(self, batches: Iterable[Any]) -> None:
        self.batches = batches

    def __len__(self) -> int:
        return len(self.batches)  # type: ignore[arg-type]

    def __iter__(self) -> Any:
        with cpu_default_device():
            batches = iter(self.batches)
        while True:
            with cpu_default_device():
                batch = next(batches, _DONE)
            if batch is _DONE:
                return
            yield batch


class _QuietPrintLog(PrintLog):
    """skorch's PrintLog, which builds no table for an epoch it does not print
    (``verbose=0``): formatting it cost a tenth of a small net's training.
    Its header comes with the first epoch it prints (skorch's, with the first
    epoch, printed or not: none after ``verbose`` was turned on)."""

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        if self.sink is print and not net.verbose:
            return
        super().on_epoch_end(net, **kwargs)


class TargetNet(NeuralNetClassifier):
    """A skorch classifier for a module returning logits, trained from scratch.

    A :class:`skorch.NeuralNetClassifier` with defaults for active learning:
    cross-entropy on logits, no internal validation split and shuffled training
    batches. Inputs are validated and cast to float32 (arrays with NaN/inf are
    rejected; floating-point and uint8 tensors are read as arrays, other
    integer and bool tensors, such as token ids for an ``nn.Embedding``, go to
    the module unchanged), targets to int64 class indices in
    ``0..len(classes)-1``; the module is built in float32 whatever torch's
    default dtype. All other parameters are skorch's; pass
    ``classes=np.arange(k)`` so that a labelled set missing some class still
    yields a k-way model.

    Parameters
    ----------
    module : torch module class or instance
        Its ``forward`` returns logits of shape ``(n, k)``. A class is built
        afresh at each ``fit`` (with ``module__*`` parameters); an instance
        without them is trained from its current weights, as skorch does (a
        pretrained backbone is fine-tuned): a second ``fit`` goes on from
        the first, and ``random_state`` cannot fix its initial weights. It
        gets its rows in float32: one of float64 or float16 parameters casts
        them in its ``forward``, or is converted (``module.float()``).
    classes : array-like of shape (k,) or None, default=None
        ``np.arange(k)``: the class indices ``y`` holds, in the order of the
        columns of ``predict_proba``. Other labels must be encoded first
        (e.g. with :class:`sklearn.preprocessing.LabelEncoder`). None makes
        ``classes_`` the classes in the ``y`` of ``fit`` (and of every
        ``partial_fit`` since, or those its ``classes`` declares), which name
        the columns only when they are every class 0..k-1.
    criterion : torch criterion, default=torch.nn.CrossEntropyLoss
    train_split : callable or None, default=None
        The internal validation split of skorch; None trains on all rows.
    input_shape : tuple of int or None, default=None
        Shape of one input row. When set, other common layouts of the same
        data are converted to it (flat rows, missing channel axis,
        channels-last images), and any other shape is rejected with a
        message naming the expected one. A None entry matches any size,
        e.g. ``(3, None, None)`` for 3-channel images of any size. None
        passes the input on as it is.

        uint8 rows are pixels, scaled from 0..255 to [0, 1], only for an
        image's shape, of 2 or more dimensions (``(C, H, W)``, ``(H, W)``),
        whatever the layout the rows come in (flat too). After a fit on
        uint8 pixels, other integers in 0..255 are taken as such pixels and
        floats must be in [0, 1] (scaled already); after a fit on other
        rows, which the net takes as they are, uint8 pixels are refused
        unless those rows were floats in [0, 1], and then each row of other
        integers that uses 0..255 beyond 0 and 1 is taken as such pixels, and
        a row of 0s and 1s (a mask) as it is: row by row, so that a row reads
        the same in any batch. A table's shape, 1-D
        (``(n_features,)``, as :func:`make_mlp_classifier` sets), or None
        takes rows of every dtype as numbers: uint8 columns (one-hot, counts)
        as it takes int64 ones.
    random_state : int, RandomState instance or None, default=None
        When not None, ``fit`` and ``partial_fit`` are reproducible: each
        call runs inside ``torch.random.fork_rng`` with a seed drawn through
        ``check_random_state`` (so an int seeds every call alike, as in
        scikit-learn's ``partial_fit``), which fixes weight initialisation,
        batch shuffling and dropout, and leaves torch's global RNG as it was.
        Bitwise reproducible on CPU at a given torch thread count (which is
        the process's: while MQ-Net's selector fits in another thread, it is
        1); CUDA kernels may add their own nondeterminism. None uses torch's
        global RNG throughout. That RNG is the process's: seeded calls in
        threads wait for each other, but a thread drawing from it meanwhile
        (an unseeded net training) changes the seeded run, so seed every net
        trained in parallel threads. A
        ``train_split`` draws its own split: seed it too (skorch's
        ``ValidSplit(0.2, random_state=0)``).
    **kwargs
        Any other :class:`skorch.NeuralNetClassifier` parameter.
        ``iterator_train__shuffle`` defaults to True.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns of ``fit``'s X when it holds 2-D rows (tables or
        flat images); not set for image rows such as ``(n, C, H, W)``, which
        ``input_shape`` checks instead.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names of ``fit``'s X, if it was a DataFrame with string column
        names; later DataFrames must have these columns, in this order.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_openset import MLPModule, TargetNet
    >>> X = np.random.rand(20, 4).astype("float32"); y = np.arange(20) % 3
    >>> net = TargetNet(MLPModule, module__n_features=4, module__n_classes=3,
    ...                 classes=np.arange(3), max_epochs=2, verbose=0,
    ...                 random_state=0).fit(X, y)
    >>> net.predict_proba(X).shape
    (20, 3)
    """

    # skorch's numbers and those the factories set, which skorch passes on
    # unchecked: True trained one epoch (max_epochs), or at lr 1.
    _numeric_params: tuple[str, ...] = (
        "lr",
        "max_epochs",
        "batch_size",
        "optimizer__lr",
        "optimizer__momentum",
        "optimizer__weight_decay",
        "iterator_train__min_steps",
        "random_state",
    )

    def __init__(
        self,
        module: Any,
        *,
        classes: ArrayLike | None = None,
        criterion: Any = nn.CrossEntropyLoss,
        train_split: Callable[..., Any] | None = None,
        input_shape: tuple[int | None, ...] | None = None,
        random_state: RandomStateLike = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("iterator_train__shuffle", True)
        super().__init__(
            module,
            classes=classes,
            criterion=criterion,
            train_split=train_split,
            **kwargs,
        )
        self.input_shape = input_shape
        self.random_state = random_state

    @property
    def _default_callbacks(self) -> list[tuple[str, Any]]:
        return [
            (name, _QuietPrintLog() if name == "print_log" else callback)
            for name, callback in super()._default_callbacks
        ]

    def initialize(self) -> TargetNet:
        """Initialise the module, criterion and optimiser, as skorch's.

        A device torch cannot run on here is refused first, with a ValueError.

        Returns
        -------
        self : TargetNet
        """
        # skorch moves the module first, and torch's error for a missing CUDA
        # is an AssertionError.
        check_device(self.device)
        return super().initialize()

    def set_params(self, **params: Any) -> TargetNet:
        """Set the parameters, as skorch's; a rate set is where training goes on.

        On an initialised net, skorch sets ``lr``, ``optimizer__lr`` and
        ``optimizer__param_groups__<i>__lr`` on the optimiser (``lr`` also
        on the net). The net's rebuilt learning-rate schedules are told, so
        that the next training call starts from the rate set, even one equal
        to the rate the last call's schedule left.

        Parameters
        ----------
        **params
            The net's parameters, skorch's included.

        Returns
        -------
        self : TargetNet
        """
        super().set_params(**params)
        if not self.initialized_:  # the optimiser is built from them later
            return self
        n_groups = len(self.optimizer_.param_groups)
        groups: set[int] = set()
        for key in params:
            match = _RATE_PARAM.fullmatch(key)
            if match is not None:
                group = match["group"]
                groups.update(range(n_groups) if group is None else [int(group)])
        if not groups:  # no rate set
            return self
        for _, callback in self.callbacks_:
            if isinstance(callback, RebuiltLRScheduler):
                callback._rates_set(self, groups)
        return self

    def initialize_module(self) -> TargetNet:
        """Build the module in float32, whatever torch's default dtype.

        float32 is the dtype :meth:`get_dataset` gives the rows, and the
        initial weights drawn then are those of torch's default settings; a
        module instance is used as it is. With a ``device``, the module is
        built on the CPU whatever torch's default device, and skorch moves it
        there next; ``device=None`` leaves it where torch builds it, as
        skorch does.

        Returns
        -------
        self : TargetNet
        """
        # The seeded generator is the CPU's (for device="cpu" the only one
        # seeded), and torch cannot move a module off a default "meta" device.
        on_cpu = (
            contextlib.nullcontext() if self.device is None else cpu_default_device()
        )
        previous = self.__dict__.get("module_")
        with float32_default(), on_cpu:
            super().initialize_module()
        if self.module_ is not previous:  # untrained: no class seen yet
            self.__dict__.pop("classes_inferred_", None)
        if self.device is None and module_device(self.module_).type == "meta":
            raise ValueError(
                "The module was built on torch's default device 'meta', whose "
                "tensors hold no values to train on, and device=None leaves it "
                "there: pass a device (e.g. device='cpu'), or set torch's "
                "default device to one that computes."
            )
        return self

    def _validate_params(self) -> None:
        super()._validate_params()
        reject_bool_numbers(self, self._numeric_params)
        self._check_optimizer_numbers()
        # skorch trains a net of max_epochs=0 or -3 for no epoch, without a word
        _check_positive_int(self.max_epochs, "max_epochs")
        min_steps = getattr(self, "iterator_train__min_steps", 0)
        if not is_int(min_steps, min_val=0):
            raise ValueError(
                "iterator_train__min_steps (the factories' min_steps_per_epoch) "
                f"must be an integer >= 0; got {min_steps!r}."
            )
        # Targets are class indices: other classes would name the wrong
        # predict_proba columns in classes_ and predict.
        if self.classes is not None and not np.array_equal(
            self.classes, np.arange(len(self.classes))
        ):
            got = np.asarray(self.classes).tolist()
            raise ValueError(
                "classes must be np.arange(k), the class indices 0..k-1 of y and "
                f"the columns of predict_proba; got {got}. Encode the labels "
                "first (e.g. with sklearn.preprocessing.LabelEncoder) and pass "
                "classes=np.arange(k)."
            )
        width = getattr(self, "module__n_classes", None)
        if (
            self.classes is not None
            and width is not None
            and width != len(self.classes)
        ):
            raise ValueError(
                f"classes names {len(self.classes)} classes, but the module "
                f"has module__n_classes={width} outputs, so the columns of "
                "predict_proba would not be those of classes_: give both the "
                "same number of classes."
            )

    def _check_optimizer_numbers(self) -> None:
        # skorch hands them to torch's optimiser, which failed at the first
        # step it took with them (lr, weight_decay) or the second (momentum).
        why = "torch's optimiser takes it as a float32 number"
        # Adamax divides lr by 1 - beta1 at its first step too.
        adam = isinstance(self.optimizer, type) and issubclass(
            self.optimizer, (torch.optim.Adam, torch.optim.AdamW, torch.optim.Adamax)
        )
        beta1 = getattr(self, "optimizer__betas", ADAM_BETAS)[0]
        for name in _OPTIMIZER_NUMBERS:
            if adam and _RATE_PARAM.fullmatch(name) and 0 <= beta1 < 1:
                check_adam_rate(self, name, self.optimizer.__name__, beta1, low="[0")
            else:
                check_float32_param(self, name, why, low="[0")

    @contextlib.contextmanager
    def _rng_context(self):
        # skorch's fit trains through partial_fit: seeding that call again
        # would restart the stream between initialisation and training.
        if self.random_state is None or _IN_SEEDED_CALL.get():
            yield
            return
        check_device(self.device)  # before seeding its generators
        token = _IN_SEEDED_CALL.set(True)
        try:
            with seeded_torch(torch_seed(self.random_state, self), self.device):
                yield
        finally:
            _IN_SEEDED_CALL.reset(token)

    def _check_features(self, X, *, reset):
        """Record (``reset``) or check ``n_features_in_`` and ``feature_names_in_``.

        As scikit-learn does, for arrays and DataFrames: a DataFrame's columns
        must come in the order of fit's. Only 2-D rows have a number of
        features; image rows are checked against ``input_shape`` instead.
        Datasets, dicts and integer or bool tensors other than uint8 are
        passed on unchecked (fitted on, they leave no names or count of an
        earlier fit behind).
        """
        if reset:
            self._record_fit_scale(X)
        if is_dataset(X) or isinstance(X, (dict, torch.Tensor)):
            if reset:
                for name in ("n_features_in_", "feature_names_in_"):
                    self.__dict__.pop(name, None)
            return
        two_d = np.ndim(X) == 2
        validate_data(self, X, reset=reset, skip_check_array=True, ensure_2d=two_d)
        if reset and not two_d:
            # a previous fit on 2-D rows must not leave its count behind
            self.__dict__.pop("n_features_in_", None)

    def _record_fit_scale(self, X):
        """Keep the scale of fit's rows (array, list or DataFrame), which later
        rows must share: ``_uint8_fit_max_``, the largest pixel of uint8 rows,
        which the net scales to [0, 1]; ``_fit_range_``, the smallest and
        largest value of other numeric rows, in their dtype (float64 for
        objects or text holding numbers), which the net takes as they are.
        None for rows passed on unscaled. The trailing underscores keep them
        out of skorch's parameters."""
        self._uint8_fit_max_ = self._fit_range_ = None
        if is_dataset(X) or isinstance(X, (dict, torch.Tensor)):
            return  # passed on as they are, never scaled
        if not reads_uint8_as_pixels(self.input_shape):
            return  # nothing is scaled
        rows = X.toarray() if sp.issparse(X) else np.asarray(X)
        if not rows.size:
            return
        if rows.dtype.kind in "OSU":
            # Objects or text: the net reads them as the numbers they hold.
            try:
                rows = rows.astype(np.float64)
            except (TypeError, ValueError):
                return  # not numbers: fit says so
        if rows.dtype == np.uint8:
            self._uint8_fit_max_ = int(rows.max())
        elif rows.dtype.kind in "biuf":
            self._fit_range_ = np.array([rows.min(), rows.max()], dtype=rows.dtype)

    def _on_fit_scale(self, X):
        """Rows on the scale of fit's. After a fit on uint8 pixels: other
        integers 0..255 as uint8; floats only in [0, 1] (scaled already), and
        not after a fit on 0/1 masks, which the net scaled to 0 and 1/255.
        After a fit on floats in [0, 1]: uint8 rows as pixels, and other
        integer rows, each on its own, as pixels where they use 0-255 (not
        0/1 masks, on that scale already). After a fit on other rows: uint8
        rows refused, other integers as they are."""
        fitted_max = getattr(self, "_uint8_fit_max_", None)
        fitted_range = getattr(self, "_fit_range_", None)
        if not reads_uint8_as_pixels(self.input_shape):
            return X
        if fitted_max is None and fitted_range is not None:
            rows = np.asarray(X)
            if rows.dtype.kind not in "iu" or rows.size == 0:
                return X
            if in_unit_range(fitted_range):
                # uint8 rows are pixels by their dtype; other integers row by row
                return X if rows.dtype == np.uint8 else integer_rows_on_unit_scale(rows)
            if rows.dtype != np.uint8:
                return X  # integers, beside a fit not on floats in [0, 1]
            lo, hi = fitted_range.tolist()
            raise ValueError(
                f"X is uint8, which the net scales to [0, 1], but it was fitted "
                f"on {fitted_range.dtype} rows from {lo} to {hi}, which it took "
                f"as they are: give X as {fitted_range.dtype} on the fit's scale "
                f"(e.g. X.astype(np.{fitted_range.dtype})), or refit the net on "
                "uint8 pixels. (uint8 pixels match only a fit on floats in [0, 1].)"
            )
        if fitted_max is None:
            return X
        X = uint8_if_pixels(np.asarray(X))
        if X.dtype == np.uint8 or X.size == 0 or one_pixel_scale(X, fitted_max):
            return X
        if X.dtype.kind in "iu":
            # not "X is int64": integer pixels in 0..255 are read; a cast to
            # uint8 would wrap these values around
            raise ValueError(
                f"X holds integers from {X.min()} to {X.max()}, beyond the "
                f"0..255 of the uint8 pixels the net was fitted on (largest "
                f"{fitted_max}), which it scales to [0, 1]: give pixels in "
                "0..255 (of any integer dtype), or floats already scaled to "
                "[0, 1] where the pixels use 0-255."
            )
        raise ValueError(
            f"X is {X.dtype}, but the net was fitted on uint8 pixels (largest "
            f"{fitted_max}), which it scales to [0, 1]: give uint8 pixels, or "
            "floats already scaled to [0, 1] where the pixels use 0-255."
        )

    def fit(self, X: Any, y: Any, **fit_params: Any) -> TargetNet:
        """Initialise the module and train it.

        As skorch's ``fit``, with the checks of :meth:`get_dataset`: a module
        class is built afresh, an instance trained from its current weights
        (see ``module``). Unless
        ``warm_start`` keeps the weights, ``n_features_in_`` and
        ``feature_names_in_`` are recorded afresh. It trains inside
        ``torch.no_grad()`` or ``torch.inference_mode()`` too.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame, torch Dataset, dict or tensor
            Training inputs.
        y : array-like of shape (n_samples,)
            Class indices ``0..k-1``.
        **fit_params
            Passed on to skorch's ``fit``.

        Returns
        -------
        self : TargetNet
            The fitted net.
        """
        X = _tensor_as_array(X)
        y = _target_array(X, y)
        self._check_features(X, reset=not (self.warm_start and self.initialized_))
        self.__dict__.pop("classes_inferred_", None)  # fit's y alone names them
        with self._rng_context(), grad_enabled():
            return super().fit(X, y, **fit_params)

    def _classes_seen(self) -> np.ndarray:
        """The classes inferred since the module was built (or the last fit);
        none without."""
        return self.__dict__.get("classes_inferred_", np.array([], dtype=np.int64))

    def check_data(self, X: Any, y: Any) -> None:
        """Check the data as skorch's, keeping the classes of earlier batches.

        skorch infers ``classes_`` (when ``classes`` is None) from the ``y``
        of each call alone: a ``partial_fit`` on a batch lacking a class
        dropped it from ``classes_``, while ``predict_proba`` kept its column.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame, torch Dataset, dict or tensor
            Training inputs.
        y : array-like of shape (n_samples,) or None
            Class indices ``0..k-1``.
        """
        seen = self._classes_seen()
        if y is not None and not is_dataset(X):
            # before skorch sorts them: None among ints was a bare TypeError
            _check_no_missing_label(np.ravel(_tensor_as_array(y)))
        super().check_data(X, y)
        if seen.size and "classes_inferred_" in self.__dict__:
            self.classes_inferred_ = np.union1d(seen, self._classes_seen())

    def fit_loop(
        self, X: Any, y: Any = None, epochs: int | None = None, **fit_params: Any
    ) -> TargetNet:
        """Run skorch's training loop; a Ctrl-C leaves it as an internal signal.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame, torch Dataset, dict or tensor
            Training inputs.
        y : array-like of shape (n_samples,) or None, default=None
            Class indices ``0..k-1``.
        epochs : int or None, default=None
            Number of epochs; None runs ``max_epochs``.
        **fit_params
            Passed on to skorch's ``fit_loop``.

        Returns
        -------
        self : TargetNet
            The trained net.
        """
        # skorch's partial_fit (which fit calls) catches KeyboardInterrupt around
        # fit_loop and returns a half-trained net as if training had finished; a
        # campaign would then go on with it. Smuggle the interrupt past it instead.
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt as exc:
            raise _TrainingInterrupted from exc
        except ValueError as exc:
            # torch's message names neither the cause nor a remedy.
            if "Expected more than 1 value per channel" not in str(exc):
                raise
            raise ValueError(
                "Batch norm cannot train on a batch of one row: the batch size "
                "is 1, or the training rows leave one over it in the last batch. "
                "Pass a batch_size >= 2 that leaves none over, or "
                "iterator_train__drop_last=True, which leaves that row out of "
                "each shuffled epoch; a net with batch norm needs at least 2 "
                "training rows."
            ) from exc

    def partial_fit(
        self, X: Any, y: Any = None, classes: ArrayLike | None = None, **fit_params: Any
    ) -> TargetNet:
        """Train without re-initialising, as skorch's ``partial_fit``.

        Unlike skorch's, a ``KeyboardInterrupt`` (Ctrl-C) during training is
        re-raised rather than ending training early as if it had finished,
        and it trains inside ``torch.inference_mode()`` too.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame, torch Dataset, dict or tensor
            Training inputs; a DataFrame must have the columns of the first
            fit, in that order.
        y : array-like of shape (n_samples,) or None, default=None
            Class indices ``0..k-1``.
        classes : array-like or None, default=None
            With the net's ``classes`` None, class indices ``0..k-1`` that
            ``classes_`` holds from then on, as scikit-learn's ``partial_fit``
            declares the classes a batch may lack; ignored otherwise (the
            net's ``classes`` sets them). Without it, ``classes_`` is every
            class of the batches trained on since the net was initialised.
        **fit_params
            Passed on to skorch's ``partial_fit``.

        Returns
        -------
        self : TargetNet
            The trained net.
        """
        X = _tensor_as_array(X)
        y = _target_array(X, y)
        self._check_features(X, reset=not self.initialized_)
        declared = None
        if classes is not None and self.classes is None:
            width = getattr(self, "module__n_classes", None)
            hint = (
                "class indices are 0..k-1: encode other labels first (e.g. "
                "with sklearn.preprocessing.LabelEncoder)."
            )
            if width is not None:
                hint = (
                    f"the module has module__n_classes={width} outputs, one "
                    "per class index: build it with one output per class "
                    "declared, or " + hint
                )
            declared = _check_class_labels(classes, width, "classes", hint)
        try:
            with self._rng_context(), grad_enabled():
                if not self.initialized_:
                    # as skorch's would, before the classes are declared: a
                    # module built afresh forgets those of an earlier one
                    self.initialize()
                if declared is not None:
                    seen = self._classes_seen()
                    self.classes_inferred_ = np.union1d(seen, declared)
                return super().partial_fit(X, y, classes=classes, **fit_params)
        except _TrainingInterrupted as exc:
            interrupt = exc.__cause__
            assert isinstance(interrupt, KeyboardInterrupt)  # what fit_loop carries
            raise interrupt from None

    def get_iterator(self, dataset: Any, training: bool = False) -> Iterable[Any]:
        """Return the batches of ``dataset``; inference cuts an array in large slices.

        With a ``device`` and another default device than the CPU set in
        torch, the batches are drawn with the CPU as the default device, where
        torch's data loader and the samplers make their seeded index tensors.

        Parameters
        ----------
        dataset : torch Dataset
            What :meth:`get_dataset` returned.
        training : bool, default=False
            Whether the batches are for training (skorch's iterator, shuffled
            by default) or for inference.

        Returns
        -------
        batches : iterable of (X_batch, y_batch)
        """
        batches = self._get_iterator(dataset, training)
        if self.device is None or default_device_is_cpu():
            return batches
        # torch's DataLoader and the nets' samplers make their index and seed
        # tensors on the default device (the meta one holds no values, and a
        # CUDA one refuses the CPU generator); skorch then moves each batch
        # to `device`. device=None leaves them on the default device, as skorch.
        return _OnCPUDefault(batches)

    def _get_iterator(self, dataset: Any, training: bool = False) -> Iterable[Any]:
        """Return the batches of ``dataset``; inference cuts an array in large slices.

        skorch's DataLoader fetches an array row by row in batches of
        ``batch_size``, which on a large pool costs more than the forward
        pass itself. For inference and validation with the default
        ``iterator_valid`` and no ``iterator_valid__*`` parameters, a skorch
        Dataset of in-memory arrays (``y`` an array or None) is cut into
        slices of about 4 MB (at least ``batch_size`` rows) instead.
        Parameters and return as :meth:`get_iterator`'s.
        """
        in_memory = (
            type(dataset) is Dataset
            and isinstance(dataset.X, np.ndarray)
            and (dataset.y is None or isinstance(dataset.y, np.ndarray))
            and len(dataset.X)
        )
        plain = (
            not training
            and in_memory
            and self.iterator_valid is DataLoader
            and not self.get_params_for("iterator_valid")
        )
        if not plain:
            # skorch's, with an integer batch size made a Python int: torch's
            # DataLoader refuses the np.int64 a search over np.array([16, 32]) sets.
            prefix = "iterator_train" if training else "iterator_valid"
            kwargs = self.get_params_for(prefix)
            cut_at_once = (
                training
                and in_memory
                and dataset.y is not None
                and self.iterator_train is DataLoader
                and set(kwargs) <= {"shuffle"}
            )
            batch_size = kwargs.get("batch_size", self.batch_size)
            if isinstance(batch_size, numbers.Integral):
                batch_size = len(dataset) if batch_size == -1 else int(batch_size)
            kwargs["batch_size"] = batch_size
            if cut_at_once:
                # skorch's loader, the same batches in the same order (its
                # sampler draws as before), each cut from the arrays at once
                # rather than collated row by row.
                return DataLoader(
                    _ArrayRows(dataset.X, dataset.y), collate_fn=_as_batch, **kwargs
                )
            return getattr(self, prefix)(dataset, **kwargs)
        X, y = dataset.X, dataset.y
        rows = max(self.batch_size, _INFERENCE_BATCH_BYTES // max(1, X[0].nbytes))

        def cut(a, i):  # C order: a user's Dataset may hold X[::-1]
            return torch.from_numpy(np.ascontiguousarray(a[i : i + rows]))

        # A list (of views), not a generator: skorch's fit iterates the
        # validation batches every epoch, and their y for the loss.
        return [
            (cut(X, i), None if y is None else cut(y, i))
            for i in range(0, len(X), rows)
        ]

    def infer(self, x: Any, **fit_params: Any) -> Any:
        """Run skorch's forward pass, explaining a float64 or float16 module's error.

        A module whose parameters are not float32 meets the net's float32
        rows: see :func:`float_dtypes_explained`.

        Parameters
        ----------
        x : torch.Tensor or dict
            One batch of inputs.
        **fit_params
            Passed on to the module's ``forward``.

        Returns
        -------
        output : torch.Tensor or tuple of torch.Tensor
            The module's output.
        """
        with float_dtypes_explained(self.module_):
            return super().infer(x, **fit_params)

    def get_dataset(self, X: Any, y: Any = None) -> torch.utils.data.Dataset:
        """Validate, bring ``X`` to `input_shape` in float32, ``y`` to int64.

        Datasets, dicts and integer or bool tensors other than uint8 (token
        ids) are passed on unchanged; floating-point and uint8 tensors are
        read as arrays. Every use of the net (predict, forward, the inference
        helpers) comes through here, so a DataFrame must have the columns of
        ``fit``'s, in that order.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame, torch Dataset, dict or tensor
            Inputs.
        y : array-like of shape (n_samples,) or None, default=None
            Class indices ``0..k-1``, or None for inference.

        Returns
        -------
        dataset : torch Dataset
        """
        X = _tensor_as_array(X)
        if is_dataset(X) or isinstance(X, (dict, torch.Tensor)):
            return super().get_dataset(X, y)
        y = _tensor_as_array(y)
        self._check_features(X, reset=False)
        if sp.issparse(X):
            # A one-hot ColumnTransformer's output; the layers are dense, and a
            # pipeline leaves the user no place to call toarray().
            X = X.toarray()
        if self.input_shape is not None:
            X = _to_input_shape(self._on_fit_scale(X), self.input_shape)
        # C order: torch cannot view an array with negative strides (X[::-1])
        # estimator=self: a NaN error then says how to impute missing values
        X = check_finite_array(
            X,
            dtype=np.float32,
            allow_nd=True,
            order="C",
            input_name="X",
            estimator=self,
        )
        if y is not None:
            check_consistent_length(X, y)
            # else the module's width: torch's "Target 7 is out of bounds"
            n_classes = (
                getattr(self, "module__n_classes", None)
                if self.classes is None
                else len(self.classes)
            )
            y = writable(_check_class_labels(y, n_classes))
        return super().get_dataset(writable(X), y)


@contextlib.contextmanager
def float_dtypes_explained(module):
    """Add to a RuntimeError of `module`'s forward pass, where its
    floating-point parameters are not float32, that the net gives it float32
    rows and how to convert it: torch's own error at the first layer ("mat1
    and mat2 must have the same dtype") names neither cause nor remedy. Not
    refused up front: a module that casts the rows in its forward (a frozen
    float16 backbone) works. On Python 3.10, which has no exception notes,
    torch's error goes on alone: another error type would escape a caller's
    ``except torch.OutOfMemoryError``."""
    try:
        yield
    except RuntimeError as error:
        dtypes = {p.dtype for p in module.parameters() if p.is_floating_point()}
        other = sorted(str(dtype) for dtype in dtypes - {torch.float32})
        if other and hasattr(error, "add_note"):
            error.add_note(
                f"The module's parameters are {', '.join(other)}, but the net "
                "gives it float32 rows (it casts arrays and floating-point "
                "tensors to float32). If the error is of these dtypes, convert "
                "the module with module.float() (one built while torch's default "
                "dtype was float64 is float64), or pass its class, which the net "
                "builds in float32; or cast the rows in its forward. For mixed "
                "precision, keep float32 parameters and use torch.autocast in "
                "the module's forward."
            )
        raise


def writable(array):
    """`array`, copied where it is read-only (a memmap, say): torch warns of
    wrapping such an array in a tensor."""
    return np.require(array, requirements="W")


def check_loss_per_row(owner, logits, predicted, must):
    """Refuse a ``(logits, predicted_loss)`` pair whose loss is not one value per row.

    A common forward returns ``(logits, embedding)``, and a loss head may keep
    a last axis of 1: read as the loss, either ranks or trains on numbers of
    the wrong shape (or, one per row of half the batch, on the wrong rows).
    """
    rows = tuple(getattr(logits, "shape", ()))[:1]
    if not rows:
        raise ValueError(
            f"{owner} has no loss-prediction head: the first output of its "
            f"forward is {_shape_shown(logits)}, not logits with one row per "
            f"sample; {must}"
        )
    shape = getattr(predicted, "shape", None)
    if shape != rows:
        raise ValueError(
            f"{owner} has no loss-prediction head: the second output of its "
            f"forward has {_shape_shown(predicted)}, not one predicted loss per "
            f"row {rows}; {must} (A head whose loss has a last axis of 1 "
            "returns it squeezed: loss.squeeze(-1).)"
        )


def _shape_shown(value):
    shape = getattr(value, "shape", None)
    if shape is None:
        return f"a {type(value).__name__}, no array"
    return f"shape {tuple(shape)}"


def _halves_ranking_loss(predicted, target, margin=1.0):
    """Learning-loss ranking loss, pairing row i of each half with row i of the other.

    ``max(0, -sign(t_i - t_j) * (p_i - p_j) + margin)`` averaged over the
    pairs; an odd last row is left out, a batch of one gives 0.
    """
    half = predicted.shape[0] // 2
    if half == 0:
        return predicted.new_zeros(())
    sign = torch.sign(target[:half] - target[half : 2 * half])
    return F.margin_ranking_loss(
        predicted[:half], predicted[half : 2 * half], sign, margin=margin
    )


class LearningLossNet(TargetNet):
    """:class:`TargetNet` for a :class:`LearningLossModule` (Yoo & Kweon, 2019).

    The module returns ``(logits, predicted_loss)``. The training loss is the
    mean cross-entropy plus ``ll_weight`` times the pairwise margin ranking
    loss (margin 1) between the predicted losses and the detached per-sample
    cross-entropies, the batch split into two halves that form the pairs.
    ``predict`` and ``predict_proba`` use the logits (softmax for
    ``predict_nonlinearity="auto"``). The ``criterion`` parameter is not
    used: the loss is cross-entropy by definition.

    Parameters
    ----------
    module : LearningLossModule class or instance
    ll_weight : float, default=1.0
        Weight of the ranking loss (lambda in the paper), 0 or more.
    ll_detach_epoch : int, float or None, default=None
        From epoch ``ll_detach_epoch + 1`` on (epochs count from 1 in each
        ``fit`` or ``partial_fit`` call), the backbone features are detached
        from the loss-prediction head, so the ranking loss no longer trains
        the backbone (paper: 120 of 200 epochs).
        A float in [0, 1] is a share of the epochs,
        ``int(ll_detach_epoch * max_epochs)``, read as each epoch starts (so
        it follows ``set_params(max_epochs=...)``); the factories pass 0.6.
        None never detaches.
    **kwargs
        Any :class:`TargetNet` parameter (``random_state``, ``classes``, ...).
    """

    _numeric_params = (*TargetNet._numeric_params, "ll_weight")

    def __init__(
        self,
        module: Any,
        *,
        ll_weight: float = 1.0,
        ll_detach_epoch: RealLike | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(module, **kwargs)
        self.ll_weight = ll_weight
        self.ll_detach_epoch = ll_detach_epoch

    def _validate_params(self) -> None:
        super()._validate_params()
        check_float32_param(
            self,
            "ll_weight",
            "it weighs the float32 ranking loss, and float32 rounds a larger "
            "one to inf, which makes the loss and then every weight NaN",
            low="[0",
        )
        value = self.ll_detach_epoch
        epoch = isinstance(value, numbers.Integral) and value >= 0
        share = isinstance(value, numbers.Real) and 0 <= value <= 1
        if value is not None and (isinstance(value, bool) or not (epoch or share)):
            raise ValueError(
                "ll_detach_epoch must be None (never detach), an epoch (an "
                "integer >= 0) or a share of max_epochs (a float in [0, 1]); "
                f"got {value!r}."
            )

    def _get_predict_nonlinearity(self) -> Any:
        # The module's first output is logits whatever the (unused) criterion;
        # skorch's "auto" would leave them raw under any other criterion.
        if isinstance(self.predict_nonlinearity, str) and (
            self.predict_nonlinearity == "auto"
        ):
            self.check_is_fitted()
            return partial(torch.softmax, dim=-1)
        return super()._get_predict_nonlinearity()

    def on_train_begin(
        self, net: Any, X: Any = None, y: Any = None, **kwargs: Any
    ) -> None:
        """Start counting epochs for ``ll_detach_epoch`` at this training call.

        Parameters
        ----------
        net : LearningLossNet
            This net (skorch's callback signature).
        X, y : object, default=None
            The call's training data.
        **kwargs
            Passed on to skorch's ``on_train_begin``.
        """
        super().on_train_begin(net, X, y, **kwargs)
        # As the one-cycle schedule, every fit or partial_fit is one whole run.
        self._epochs_before_call_ = len(self.history)

    def on_epoch_begin(
        self,
        net: Any,
        dataset_train: Any = None,
        dataset_valid: Any = None,
        **kwargs: Any,
    ) -> None:
        """Detach the loss head's inputs from this epoch on, per ``ll_detach_epoch``.

        Parameters
        ----------
        net : LearningLossNet
            This net (skorch's callback signature).
        dataset_train, dataset_valid : torch Dataset or None, default=None
            The epoch's datasets.
        **kwargs
            Passed on to skorch's ``on_epoch_begin``.
        """
        super().on_epoch_begin(net, dataset_train, dataset_valid, **kwargs)
        # 1-based within this call: super() just opened this epoch's row
        epoch = len(self.history) - getattr(self, "_epochs_before_call_", 0)
        detach_epoch = self.ll_detach_epoch
        if detach_epoch is not None and not isinstance(detach_epoch, numbers.Integral):
            detach_epoch = int(detach_epoch * self.max_epochs)
        self.module_.detach_features = detach_epoch is not None and epoch > detach_epoch

    def get_loss(
        self,
        y_pred: tuple[torch.Tensor, torch.Tensor],
        y_true: torch.Tensor,
        X: Any = None,
        training: bool = False,
    ) -> torch.Tensor:
        """Return mean cross-entropy + ``ll_weight`` * learning-loss ranking loss.

        Parameters
        ----------
        y_pred : tuple of (logits, predicted_loss)
            The module's output.
        y_true : array-like or torch.Tensor of shape (n,)
            Class indices.
        X : object, default=None
            Not used (skorch's signature).
        training : bool, default=False
            Not used (skorch's signature).

        Returns
        -------
        loss : torch.Tensor
            A scalar.
        """
        if not (isinstance(y_pred, tuple) and len(y_pred) == 2):
            raise TypeError(
                "LearningLossNet needs a module whose forward returns "
                "(logits, predicted_loss), such as LearningLossModule."
            )
        logits, predicted = y_pred
        check_loss_per_row(
            type(self.module_).__name__,
            logits,
            predicted,
            "its forward must return (logits, predicted_loss), such as "
            "LearningLossModule's.",
        )
        y_true = to_tensor(y_true, device=logits.device)
        ce = F.cross_entropy(logits, y_true, reduction="none")
        ranking = _halves_ranking_loss(predicted, ce.detach())
        return ce.mean() + self.ll_weight * ranking


class RebuiltLRScheduler(LRScheduler):
    """skorch's ``LRScheduler``, pickled without its torch scheduler.

    The scheduler holds the net's optimizer, which the net pickles apart,
    from its device: pickled along with the callback too, the optimizer
    (the weights, momenta) would be written twice, and from a GPU where a
    machine without one cannot load it. Nothing is lost: skorch builds the
    scheduler afresh when each training call begins, from the net's
    history and optimizer.

    Each training call (``fit``, ``partial_fit``, a ``warm_start`` fit) runs
    the whole schedule, from the rate it started from in the call before, or
    from one set since on a :class:`TargetNet` (``set_params(lr=...)`` or
    ``optimizer__lr``; ``optimizer__param_groups__<i>__lr`` for group i).
    """

    def _get_scheduler(self, net, policy, **scheduler_kwargs):
        # skorch continues at the epoch count of the history, which a warm
        # continuation carries past the schedule's end (past every milestone,
        # at the last decayed rate throughout): start it afresh, from the
        # rate the last call started from, unless one was set since (a rate
        # left of None: TargetNet.set_params noted it).
        groups = net.optimizer_.param_groups
        for group, rate in zip(groups, self._rates_left(net)):
            start = group.pop("initial_lr", group["lr"])
            if group["lr"] == rate:
                group["lr"] = start
            # where the next call starts: torch's schedules note it too, but
            # not ReduceLROnPlateau
            group["initial_lr"] = group["lr"]
        # ReduceLROnPlateau takes no last_epoch (skorch leaves it out too).
        names = _keyword_names(policy)
        if names is None or "last_epoch" in names:
            scheduler_kwargs.setdefault("last_epoch", -1)
        return super()._get_scheduler(net, policy, **scheduler_kwargs)

    # Noted after every step, not at the end of training: a call that stops
    # early (an exception, Ctrl-C, which TargetNet re-raises past skorch's
    # on_train_end) leaves the rate mid-schedule, and it is no rate set since.
    def on_train_begin(self, net: Any, **kwargs: Any) -> None:
        """Build the schedule as skorch does, and note the rates it starts at.

        Parameters
        ----------
        net : NeuralNet
            The net (skorch's callback signature).
        **kwargs
            Passed on to skorch's ``on_train_begin``.
        """
        super().on_train_begin(net, **kwargs)
        self._note_rates(net)

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        """Step as skorch does, and note the rates the step set.

        Parameters
        ----------
        net : NeuralNet
            The net (skorch's callback signature).
        **kwargs
            Passed on to skorch's ``on_epoch_end``.
        """
        super().on_epoch_end(net, **kwargs)
        self._note_rates(net)

    def on_batch_end(self, net: Any, **kwargs: Any) -> None:
        """Step as skorch does (with ``step_every="batch"``), and note the rates.

        Parameters
        ----------
        net : NeuralNet
            The net (skorch's callback signature).
        **kwargs
            Passed on to skorch's ``on_batch_end``.
        """
        super().on_batch_end(net, **kwargs)
        self._note_rates(net)

    def _note_rates(self, net):
        # what the next call compares with, to tell whether one was set since
        self.rates_left_ = [group["lr"] for group in net.optimizer_.param_groups]

    def _rates_left(self, net):
        left = getattr(self, "rates_left_", None)
        if left is None:
            # Noted by no call (a net saved before they were): a rate other
            # than the net's lr is one the schedule left, not one set since.
            groups = net.optimizer_.param_groups
            left = [None if group["lr"] == net.lr else group["lr"] for group in groups]
        return left

    def _rates_set(self, net, groups):
        # TargetNet.set_params set these groups' rates: where the next call
        # starts, even a rate equal to the one left, which comparing misses
        self.rates_left_ = self._rates_left(net)
        for group in groups:
            self.rates_left_[group] = None

    def __getstate__(self):
        # vars, not super(): skorch's callbacks define no __getstate__, and
        # object has one only from Python 3.11.
        state = vars(self)
        if state.get("lr_scheduler_") is not None:
            state = {**state, "lr_scheduler_": None}  # a copy: this one keeps it
        return state


class FractionalMultiStepLR(RebuiltLRScheduler):
    """skorch's ``LRScheduler`` with torch's ``MultiStepLR`` at shares of the epochs.

    The milestone epochs, ``int(share * max_epochs)`` but at least 1, are
    computed from the net's ``max_epochs`` when training starts, so they
    follow a later ``set_params(max_epochs=...)`` (or a grid search over it).
    A milestone at epoch 0 would lower the rate before the first epoch (with
    one epoch, the defaults trained at a hundredth of it).

    Parameters
    ----------
    policy : torch scheduler class, default=torch.optim.lr_scheduler.MultiStepLR
    milestones : sequence of float, default=(0.5, 0.75)
        Shares of ``max_epochs`` after which the learning rate is multiplied
        by ``gamma``.
    gamma : float, default=0.1
    **kwargs
        Any other :class:`skorch.callbacks.LRScheduler` parameter.
    """

    # skorch clones a callback with its attributes as keyword arguments.
    def __init__(
        self,
        policy: Any = torch.optim.lr_scheduler.MultiStepLR,
        milestones: Sequence[float] = (0.5, 0.75),
        gamma: float = 0.1,
        **kwargs: Any,
    ) -> None:
        super().__init__(policy=policy, milestones=milestones, gamma=gamma, **kwargs)

    def _get_scheduler(self, net, policy, **scheduler_kwargs):
        shares = scheduler_kwargs.pop("milestones")
        milestones = [max(1, int(share * net.max_epochs)) for share in shares]
        return super()._get_scheduler(
            net, policy, milestones=milestones, **scheduler_kwargs
        )


# -------------------------------------------------------------------------- factories


def _image_shape(in_channels, input_shape, default_size):
    """`input_shape` checked against `in_channels`, or the default image shape."""
    if input_shape is None:
        return (in_channels, *default_size)
    shape = tuple(input_shape)
    if len(shape) != 3 or shape[0] != in_channels:
        raise ValueError(
            f"input_shape must be (in_channels, height, width) with "
            f"in_channels={in_channels}; got {shape}. For {in_channels}-channel "
            f"images of h x w pixels pass input_shape=({in_channels}, h, w)."
        )
    return shape


def recipe_with_overrides(recipe, kwargs):
    """A factory's net parameters `recipe` with the user's `kwargs` over them.

    As skorch keeps its default callbacks beside the user's, ``callbacks``
    add to the recipe's: one of the same name, or a learning-rate scheduler
    in place of the recipe's schedule, replaces it. A component given anew
    (``optimizer``, ``iterator_train``) leaves out the recipe's settings of
    it (``optimizer__momentum``) that it does not take.
    """
    params = dict(recipe)
    for component in ("optimizer", "iterator_train"):
        if component in kwargs:
            takes = _keyword_names(kwargs[component])
            for key in [key for key in params if key.startswith(f"{component}__")]:
                if takes is not None and key.split("__", 1)[1] not in takes:
                    del params[key]
    given = kwargs.get("callbacks")
    if isinstance(given, (list, tuple)) and params.get("callbacks"):
        names = {_callback_name(callback) for callback in given}
        schedules = any(_is_lr_scheduler(callback) for callback in given)
        kept = [
            (name, callback)
            for name, callback in params["callbacks"]
            if name not in names and not (schedules and _is_lr_scheduler(callback))
        ]
        kwargs = {**kwargs, "callbacks": [*kept, *given]}
    return {**params, **kwargs}


def _keyword_names(component):
    """The keyword arguments `component` (a class or function) takes, or None
    where it takes any (``**kwargs``) or has no signature to read."""
    try:
        parameters = inspect.signature(component).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters}


def _callback_name(callback):
    """A callback's name, as skorch names one: given, or its class's."""
    if isinstance(callback, tuple):
        return callback[0]
    return (callback if isinstance(callback, type) else type(callback)).__name__


def _is_lr_scheduler(callback):
    callback = callback[1] if isinstance(callback, tuple) else callback
    kind = callback if isinstance(callback, type) else type(callback)
    return issubclass(kind, LRScheduler)


def _make_net(
    backbone,
    backbone_kwargs,
    n_classes,
    learning_loss,
    max_epochs,
    random_state,
    defaults,
    kwargs,
    input_shape,
):
    """Assemble a TargetNet or LearningLossNet; ``kwargs`` override ``defaults``."""
    params = dict(
        max_epochs=max_epochs,
        classes=np.arange(n_classes),
        train_split=None,
        verbose=0,
        input_shape=tuple(input_shape),
        random_state=random_state,
        **defaults,
    )
    module_params = {f"module__{k}": v for k, v in backbone_kwargs.items()}
    if learning_loss:
        # Paper: detach after epoch 120 of 200, a share read at train time.
        params["ll_detach_epoch"] = 0.6
        params.update(module_params, module__backbone=backbone)
        return LearningLossNet(
            LearningLossModule, **recipe_with_overrides(params, kwargs)
        )
    params.update(module_params)
    return TargetNet(backbone, **recipe_with_overrides(params, kwargs))


def make_mlp_classifier(
    n_features: int,
    n_classes: int,
    *,
    learning_loss: bool = False,
    hidden_sizes: Sequence[int] = (256, 128),
    dropout: float = 0.0,
    max_epochs: int = 100,
    lr: float = 1e-3,
    batch_size: int = 64,
    device: str = "cpu",
    random_state: RandomStateLike = None,
    **kwargs: Any,
) -> TargetNet:
    """Ready-to-fit MLP classifier for tables (Adam, no schedule).

    Columns of every dtype are numbers, uint8 ones (one-hot, counts) too: only
    an image-shaped net reads uint8 as pixels (see :class:`TargetNet`'s
    ``input_shape``). Flat uint8 pixels go in as 0..255 then: scale them
    first (``X / 255``), or give them to :func:`make_cnn_classifier`.

    Parameters
    ----------
    n_features : int
        Number of input columns.
    n_classes : int
        Number of in-distribution classes k; the model is k-way whatever
        classes the labelled set holds.
    learning_loss : bool, default=False
        Return a :class:`LearningLossNet` whose module also predicts its loss;
        the backbone features are detached after 60% of the epochs.
    hidden_sizes : sequence of int, default=(256, 128)
    dropout : float, default=0.0
    max_epochs : int, default=100
    lr : float, default=1e-3
    batch_size : int, default=64
    device : str, default="cpu"
    random_state : int, RandomState instance or None, default=None
        See :class:`TargetNet`.
    **kwargs
        Any other net parameter; overrides the defaults above
        (e.g. ``optimizer__weight_decay=1e-4`` or ``verbose=1``).

    Returns
    -------
    TargetNet or LearningLossNet
        Not yet fitted.

    Examples
    --------
    >>> from skal_openset import load_digits_dataset, make_mlp_classifier
    >>> X, y = load_digits_dataset()
    >>> net = make_mlp_classifier(n_features=64, n_classes=10, max_epochs=3,
    ...                           random_state=0).fit(X[:300], y[:300])
    >>> net.predict_proba(X[:5]).shape
    (5, 10)
    """
    return _make_net(
        MLPModule,
        dict(
            n_features=n_features,
            n_classes=n_classes,
            hidden_sizes=tuple(hidden_sizes),
            dropout=dropout,
        ),
        n_classes,
        learning_loss,
        max_epochs,
        random_state,
        dict(optimizer=torch.optim.Adam, lr=lr, batch_size=batch_size, device=device),
        kwargs,
        (n_features,),
    )


def make_cnn_classifier(
    n_classes: int,
    *,
    learning_loss: bool = False,
    in_channels: int = 1,
    input_shape: tuple[int, ...] | None = None,
    max_epochs: int = 30,
    lr: float = 1e-3,
    batch_size: int = 64,
    device: str = "cpu",
    random_state: RandomStateLike = None,
    **kwargs: Any,
) -> TargetNet:
    """Ready-to-fit :class:`SmallCNNModule` classifier for 28x28 images (Adam).

    Inputs are float arrays of shape ``(n, in_channels, 28, 28)``, or the
    same images flat, without the channel axis, channels-last or as uint8
    pixels, scaled to [0, 1] in any of these layouts (see
    :class:`TargetNet`'s ``input_shape``).

    Parameters
    ----------
    n_classes : int
        Number of in-distribution classes k.
    learning_loss : bool, default=False
        See :func:`make_mlp_classifier`.
    in_channels : int, default=1
    input_shape : tuple of int or None, default=None
        Shape of one image, ``(in_channels, height, width)``, at least 4x4
        pixels; None means ``(in_channels, 28, 28)``.
    max_epochs : int, default=30
    lr : float, default=1e-3
    batch_size : int, default=64
    device : str, default="cpu"
    random_state : int, RandomState instance or None, default=None
    **kwargs
        Any other net parameter; overrides the defaults above.

    Returns
    -------
    TargetNet or LearningLossNet

    Examples
    --------
    >>> from skal_openset import load_digits_dataset, make_cnn_classifier
    >>> X, y = load_digits_dataset()  # flat rows of 8x8 images
    >>> net = make_cnn_classifier(10, input_shape=(1, 8, 8), max_epochs=2,
    ...                           random_state=0).fit(X[:300], y[:300])
    >>> net.predict_proba(X[:5]).shape
    (5, 10)
    """
    shape = _image_shape(in_channels, input_shape, (28, 28))
    if min((size for size in shape[1:] if size is not None), default=4) < 4:
        raise ValueError(
            "make_cnn_classifier needs images of at least 4x4 pixels (its two "
            f"2x2 max-pools halve them twice); got input_shape={shape}. Enlarge "
            "the images or use make_mlp_classifier on the flat pixels."
        )
    return _make_net(
        SmallCNNModule,
        dict(n_classes=n_classes, in_channels=in_channels),
        n_classes,
        learning_loss,
        max_epochs,
        random_state,
        dict(optimizer=torch.optim.Adam, lr=lr, batch_size=batch_size, device=device),
        kwargs,
        shape,
    )


def make_resnet18_classifier(
    n_classes: int,
    *,
    learning_loss: bool = False,
    width: int = 64,
    in_channels: int = 3,
    input_shape: tuple[int, ...] | None = None,
    max_epochs: int = 200,
    lr: float = 0.1,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    batch_size: int = 64,
    lr_milestones: Sequence[int] | None = None,
    min_steps_per_epoch: int = 100,
    device: str = "cpu",
    random_state: RandomStateLike = None,
    **kwargs: Any,
) -> TargetNet:
    """Ready-to-fit CIFAR ResNet-18 classifier with the MQ-Net reference recipe.

    SGD (lr 0.1, momentum 0.9, weight decay 5e-4), batch 64, 200 epochs of at
    least 100 steps each, learning rate x0.1 at half and three quarters of the
    epochs (100 and 150 of 200). Inputs are float arrays of shape
    ``(n, in_channels, h, w)`` (or channels-last, or uint8 pixels; see
    :class:`TargetNet`'s ``input_shape``), already normalised; no
    augmentation is applied.

    Parameters
    ----------
    n_classes : int
        Number of in-distribution classes k.
    learning_loss : bool, default=False
        See :func:`make_mlp_classifier` (detach after epoch 120 of 200).
    width : int, default=64
        First-stage channels of :class:`ResNet18Module` (64 is the usual
        ResNet-18; 8 trains on a CPU core in seconds).
    in_channels : int, default=3
    input_shape : tuple of int or None, default=None
        Shape of one image; None means ``(in_channels, 32, 32)``.
    max_epochs : int, default=200
    lr : float, default=0.1
    momentum : float, default=0.9
    weight_decay : float, default=5e-4
    batch_size : int, default=64
    lr_milestones : sequence of int or None, default=None
        Epochs after which the learning rate is multiplied by 0.1; None means
        half and three quarters of the net's ``max_epochs``, read when
        training starts.
    min_steps_per_epoch : int, default=100
        A labelled set smaller than ``min_steps_per_epoch * batch_size`` rows is
        cycled to fill that many steps per epoch (fresh permutations until an
        epoch has that many batches); 0 gives plain epochs.
    device : str, default="cpu"
    random_state : int, RandomState instance or None, default=None
    **kwargs
        Any other net parameter; overrides the defaults above, but
        ``callbacks`` add to the learning-rate schedule (a scheduler among
        them replaces it), and an ``optimizer`` or ``iterator_train`` given
        leaves out the settings above that it does not take.

    Returns
    -------
    TargetNet or LearningLossNet
    """
    if lr_milestones is None:
        scheduler: RebuiltLRScheduler = FractionalMultiStepLR(milestones=(0.5, 0.75))
    else:
        scheduler = RebuiltLRScheduler(
            policy=torch.optim.lr_scheduler.MultiStepLR,
            milestones=list(lr_milestones),
            gamma=0.1,
        )
    return _make_net(
        ResNet18Module,
        dict(n_classes=n_classes, in_channels=in_channels, width=width),
        n_classes,
        learning_loss,
        max_epochs,
        random_state,
        dict(
            optimizer=torch.optim.SGD,
            lr=lr,
            optimizer__momentum=momentum,
            optimizer__weight_decay=weight_decay,
            batch_size=batch_size,
            iterator_train=min_steps_loader,
            iterator_train__min_steps=min_steps_per_epoch,
            callbacks=[("lr_scheduler", scheduler)],
            device=device,
        ),
        kwargs,
        _image_shape(in_channels, input_shape, (32, 32)),
    )
