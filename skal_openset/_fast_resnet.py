"""A fast CIFAR target model: batched augmentation, a short schedule, a CUDA fast path.

The reference recipe of :func:`make_resnet18_classifier` (batch 64, 200
epochs of at least 100 steps) trains at least 20,000 steps a round, however
few the labelled examples.
:class:`AugmentedNet` keeps the skorch face but removes work: whole batches
are indexed straight from arrays (no per-row collate), augmented with
batched tensor ops, and on CUDA the data live on the device, the forward pass
runs under bf16 autocast and the module is channels-last. The schedule is a
short one-cycle (linear warm-up, then linear decay to a last epoch at
1 / (epochs after warm-up) of the peak, see :func:`one_cycle_factor`) sized
for 500 to 5,500 labelled examples.
"""

import math
from functools import partial
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike
from skorch.dataset import Dataset, unpack_data
from torch.utils.data import Subset

from ._augment import check_padding, random_crop_flip
from ._models import (
    LearningLossModule,
    LearningLossNet,
    RebuiltLRScheduler,
    ResNet18Module,
    TargetNet,
    _check_positive_int,
    _image_shape,
    recipe_with_overrides,
)
from ._typing import IntLike, RandomStateLike
from ._validation import is_int


class BatchIterator:
    """Batches sliced straight from a skorch ``Dataset`` of arrays or tensors.

    A drop-in ``iterator_train`` / ``iterator_valid`` for skorch: indexing a
    whole batch at once is far faster than a ``DataLoader`` collating rows,
    and keeps device-resident tensors on the device.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset or torch.utils.data.Subset of one
        Whose ``X`` (and ``y``, if not None) is an ndarray or a tensor; a
        ``Subset`` is what skorch's ``train_split`` (e.g. ``ValidSplit``)
        gives.
    batch_size : int
    shuffle : bool, default=False
        Random batches drawn from torch's global RNG (training); otherwise
        the rows in order (inference).
    min_steps : int, default=0
        When shuffling, cycle fresh permutations until an epoch has at least
        this many batches.

    Notes
    -----
    When shuffling, batches hold at least two rows (batch norm cannot train
    on a batch of one): ``batch_size=1`` gives batches of two. Only full
    batches are used unless the data hold fewer rows than one batch; a
    single row then makes a batch of two copies of it.
    """

    def __init__(
        self,
        dataset: Dataset | Subset,
        batch_size: int,
        shuffle: bool = False,
        min_steps: int = 0,
    ) -> None:
        data = dataset.dataset if isinstance(dataset, Subset) else dataset
        if not isinstance(data, Dataset) or isinstance(data.X, (dict, list)):
            got = type(dataset).__name__
            if isinstance(data, Dataset):
                got = f"a skorch Dataset of a {type(data.X).__name__}"
            raise TypeError(
                "BatchIterator needs a skorch Dataset of one array or tensor X, "
                f"or a torch Subset of one; got {got}. Pass the net X as one "
                "array or tensor (of a TensorDataset, its .tensors)."
            )
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.min_steps = min_steps

    def _batch(self):
        # batch norm cannot train on a batch of one row
        return max(self.batch_size, 2) if self.shuffle else self.batch_size

    def _n_rows(self):
        """Rows an epoch yields: all in order, or the full batches when shuffling."""
        n, batch = len(self.dataset), self._batch()
        if not self.shuffle or not n:
            return n
        n_full = max(n, self.min_steps * batch) // batch * batch
        return max(n_full, min(max(n, 2), batch))  # one row is cycled to two

    def _order(self):
        n, n_rows = len(self.dataset), self._n_rows()
        if not self.shuffle or not n:
            return torch.arange(n)
        order = torch.cat([torch.randperm(n) for _ in range(math.ceil(n_rows / n))])
        return order[:n_rows]

    # Counted, not drawn: len() (a progress bar's) must leave torch's RNG alone.
    def __len__(self):
        return math.ceil(self._n_rows() / self._batch())

    def __iter__(self):
        data, order = self.dataset, self._order()
        if isinstance(data, Subset):
            data, order = data.dataset, torch.as_tensor(data.indices)[order]
        X, y = data.X, data.y
        for rows in torch.split(order, self._batch()):
            yield _take(X, rows), None if y is None else _take(y, rows)


def _take(data, rows):
    if isinstance(data, torch.Tensor):
        return data[rows.to(data.device)]
    return data[rows.numpy()]


def one_cycle_factor(epoch, max_epochs, warmup=0.2):
    """Learning-rate multiplier of epoch ``epoch`` (from 0): up to 1, then down.

    With ``w = round(warmup * max_epochs)`` (at most ``max_epochs - 1``)
    warm-up epochs, the factor rises linearly to 1 at epoch ``w``, then
    falls linearly to ``1 / (max_epochs - w)`` in the last epoch (never 0).
    Past the last epoch it is 0, never negative.
    """
    w = min(round(warmup * max_epochs), max_epochs - 1)
    if epoch < w:
        return (epoch + 1) / (w + 1)
    return max(0.0, (max_epochs - epoch) / (max_epochs - w))


class OneCycleLR(RebuiltLRScheduler):
    """skorch's ``LRScheduler`` with :func:`one_cycle_factor` over the net's epochs.

    The net's ``max_epochs`` is read when training starts, so a later
    ``set_params(max_epochs=...)`` (or a grid search over it) keeps the
    schedule whole; a schedule fixed when the net was built would go on
    falling past zero, a negative learning rate, when given more epochs.
    Each training call (``fit``, ``partial_fit``, a ``warm_start`` fit) runs
    one whole cycle from the first epoch.
    """

    # skorch clones a callback with its attributes as keyword arguments.
    def __init__(self, policy=torch.optim.lr_scheduler.LambdaLR, **kwargs):
        super().__init__(policy=policy, **kwargs)

    def _get_scheduler(self, net, policy, **scheduler_kwargs):
        lr_lambda = partial(one_cycle_factor, max_epochs=net.max_epochs)
        return super()._get_scheduler(
            net, policy, lr_lambda=lr_lambda, **scheduler_kwargs
        )


class AugmentedNet(TargetNet):
    """:class:`TargetNet` that augments training batches and has a CUDA fast path.

    Parameters
    ----------
    module : torch module class or instance
    crop_padding : int or None, default=4
        Training batches get a random crop after this much zero padding (a
        non-negative number of pixels) and a random horizontal flip
        (:func:`random_crop_flip`); None trains on the images as they are.
    fast_cuda : bool, default=True
        On a CUDA device: keep the data on the device, run the forward pass
        under bf16 autocast and use the channels-last memory format. No
        effect on a CPU.
    **kwargs
        Any :class:`TargetNet` parameter. ``iterator_train`` and
        ``iterator_valid`` default to :class:`BatchIterator`. Pass
        ``input_shape=(C, None, None)`` (as :func:`make_fast_resnet_classifier`
        does) to take uint8 pixels and channels-last images of any size.
    """

    def __init__(
        self,
        module: Any,
        *,
        crop_padding: IntLike | None = 4,
        fast_cuda: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("iterator_train", BatchIterator)
        kwargs.setdefault("iterator_valid", BatchIterator)
        super().__init__(module, **kwargs)
        self.crop_padding = crop_padding
        self.fast_cuda = fast_cuda

    def _validate_params(self) -> None:
        if self.crop_padding is not None:
            check_padding(self.crop_padding, "crop_padding (or None)")
        # BatchIterator slices by it; torch's DataLoader, which it replaces,
        # refuses others (skorch turns -1 into the set's size).
        size = self.batch_size
        if not is_int(size, min_val=-1) or size == 0:
            raise ValueError(
                "batch_size must be a positive integer (rows per batch) or -1 "
                f"(the whole set in one batch); got {size!r}."
            )
        # After its own: this batch_size message names -1 too.
        super()._validate_params()

    def _fast(self):
        # skorch's device=None leaves the module where it is: no fast path
        return (
            self.fast_cuda
            and self.device is not None
            and torch.device(self.device).type == "cuda"
        )

    def initialize_module(self) -> "AugmentedNet":
        """Build the module; channels-last memory on the CUDA fast path.

        Returns
        -------
        self : AugmentedNet
        """
        super().initialize_module()
        if self._fast():
            # Module.to accepts memory_format, which torch's overloads omit.
            self.module_: torch.nn.Module = self.module_.to(
                memory_format=torch.channels_last  # type: ignore[call-overload]
            )
        return self

    def get_dataset(self, X: Any, y: ArrayLike | None = None) -> Any:
        """Validate as :class:`TargetNet`; on the CUDA fast path, move to the device.

        Parameters
        ----------
        X : array-like, DataFrame or tensor
            Inputs. A torch Dataset or a dict is passed on, but the default
            iterators (:class:`BatchIterator`) refuse it.
        y : array-like of shape (n_samples,) or None, default=None
            Class indices ``0..k-1``, or None for inference.

        Returns
        -------
        dataset : torch Dataset
        """
        dataset = super().get_dataset(X, y)
        if self._fast() and isinstance(dataset, Dataset):
            # one host-to-device copy per fit or predict, not one per batch
            dataset = Dataset(
                torch.as_tensor(dataset.X, device=self.device),
                None if y is None else torch.as_tensor(dataset.y, device=self.device),
            )
        return dataset

    def train_step_single(self, batch: Any, **fit_params: Any) -> dict:
        """Augment the batch on its device, then take skorch's training step.

        Parameters
        ----------
        batch : tuple of (X_batch, y_batch)
            One training batch.
        **fit_params
            Passed on to skorch's ``train_step_single``.

        Returns
        -------
        step : dict
            The record skorch keeps of the step (``loss`` and ``y_pred``).
        """
        Xi, yi = unpack_data(batch)
        if self.crop_padding is not None:
            Xi = random_crop_flip(
                torch.as_tensor(Xi, device=self.device), int(self.crop_padding)
            )
        return super().train_step_single((Xi, yi), **fit_params)

    def infer(self, x: Any, **fit_params: Any) -> Any:
        """Run the forward pass; bf16 autocast and channels-last on the CUDA fast path.

        Parameters
        ----------
        x : array-like or torch.Tensor
            One batch of inputs.
        **fit_params
            Passed on to the module's ``forward``.

        Returns
        -------
        output : torch.Tensor or tuple of torch.Tensor
            The module's output, in float32.
        """
        if not self._fast():
            return super().infer(x, **fit_params)
        x = torch.as_tensor(x, device=self.device)
        x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            out = super().infer(x, **fit_params)
        # numpy has no bf16, and the losses want float32
        return tuple(o.float() for o in out) if isinstance(out, tuple) else out.float()


class AugmentedLearningLossNet(AugmentedNet, LearningLossNet):
    """:class:`AugmentedNet` for a :class:`LearningLossModule` (learning loss).

    Parameters
    ----------
    module : LearningLossModule class or instance
    crop_padding : int or None, default=4
        As :class:`AugmentedNet`.
    fast_cuda : bool, default=True
        As :class:`AugmentedNet`.
    **kwargs
        Any :class:`LearningLossNet` parameter (``ll_weight``,
        ``ll_detach_epoch``) or :class:`TargetNet` one.
    """


def make_fast_resnet_classifier(
    n_classes: int,
    *,
    learning_loss: bool = False,
    width: int = 64,
    in_channels: int = 3,
    max_epochs: int = 40,
    batch_size: int = 256,
    min_steps_per_epoch: int = 0,
    lr: float = 0.2,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    crop_padding: int | None = 4,
    input_shape: tuple[int, ...] | None = None,
    device: str = "cpu",
    random_state: RandomStateLike = None,
    **kwargs: Any,
) -> "AugmentedNet":
    """CIFAR ResNet-18 with augmentation and a short one-cycle SGD schedule.

    Nesterov SGD, batch 256, 40 epochs of linear warm-up (first 20%) and
    linear decay; random crop (4-pixel padding) and horizontal flip. On CUDA
    the fast path of :class:`AugmentedNet` applies. Inputs are float arrays
    ``(n, in_channels, h, w)`` (or channels-last, or uint8 pixels; see
    :class:`TargetNet`'s ``input_shape``), as for
    :func:`make_resnet18_classifier`.

    Parameters
    ----------
    n_classes : int
        Number of in-distribution classes k.
    learning_loss : bool, default=False
        Return an :class:`AugmentedLearningLossNet` whose module also
        predicts its loss (detached after 60% of the epochs, as the paper;
        see :class:`LearningLossNet`'s ``ll_detach_epoch``).
    width : int, default=64
        First-stage channels of :class:`ResNet18Module` (64 is the usual
        ResNet-18; 8 trains on a CPU core in seconds).
    in_channels : int, default=3
    max_epochs : int, default=40
    batch_size : int, default=256
    min_steps_per_epoch : int, default=0
        Cycle a small labelled set to at least this many steps per epoch.
    lr : float, default=0.2
        Peak learning rate.
    momentum : float, default=0.9
    weight_decay : float, default=5e-4
    crop_padding : int or None, default=4
        See :class:`AugmentedNet`; None disables augmentation.
    input_shape : tuple of int or None, default=None
        Shape of one image, ``(in_channels, height, width)``; None means
        ``(in_channels, None, None)``, images of any size.
    device : str, default="cpu"
    random_state : int, RandomState instance or None, default=None
        See :class:`TargetNet`.
    **kwargs
        Any other net parameter; overrides the defaults above, but
        ``callbacks`` add to the learning-rate schedule (a scheduler among
        them replaces it), and an ``optimizer`` or ``iterator_train`` given
        leaves out the settings above that it does not take.

    Returns
    -------
    AugmentedNet or AugmentedLearningLossNet
        Not yet fitted.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_openset import make_fast_resnet_classifier
    >>> net = make_fast_resnet_classifier(2, width=4, max_epochs=1, random_state=0)
    >>> X = np.random.rand(8, 3, 16, 16).astype("float32")
    >>> net.fit(X, np.arange(8) % 2).predict(X).shape
    (8,)
    """
    _check_positive_int(max_epochs, "max_epochs")
    shape = _image_shape(in_channels, input_shape, (None, None))
    params: dict[str, Any] = dict(
        module__n_classes=n_classes,
        module__in_channels=in_channels,
        module__width=width,
        classes=np.arange(n_classes),
        max_epochs=max_epochs,
        optimizer=torch.optim.SGD,
        lr=lr,
        optimizer__momentum=momentum,
        optimizer__nesterov=True,
        optimizer__weight_decay=weight_decay,
        batch_size=batch_size,
        iterator_train__min_steps=min_steps_per_epoch,
        callbacks=[("lr_scheduler", OneCycleLR())],
        verbose=0,
        input_shape=shape,
        device=device,
        random_state=random_state,
    )
    if learning_loss:
        params.update(module__backbone=ResNet18Module, ll_detach_epoch=0.6)
        return AugmentedLearningLossNet(
            LearningLossModule,
            crop_padding=crop_padding,
            **recipe_with_overrides(params, kwargs),
        )
    return AugmentedNet(
        ResNet18Module,
        crop_padding=crop_padding,
        **recipe_with_overrides(params, kwargs),
    )
