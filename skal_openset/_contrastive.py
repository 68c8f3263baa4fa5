"""A contrastive purity encoder in the spirit of CSI (Tack et al., NeurIPS 2020).

:class:`ContrastiveEncoder` learns image features without labels on the
unlabelled pool: SimCLR's contrastive loss where every image also appears
rotated by a random quarter turn as a *different* instance (a shifted
negative), plus a head that predicts the rotation. OOD images then sit
farther from the labelled IN images than IN images do.
:class:`ContrastivePurity` turns a fitted encoder into a purity score for
any strategy: the maximum cosine similarity to the labelled IN examples (the
MQ-Net authors' simplified CSI score), optionally contrasted with the
labelled OOD examples.
"""

import inspect
import math
import sys
import time
from functools import cache
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import ArrayLike
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    clone,
)
from sklearn.exceptions import NotFittedError
from sklearn.utils import gen_batches
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, check_memory
from torch import nn

from . import _augment, _models, _torch_modes
from ._augment import color_jitter, random_hflip, random_resized_crop_flip, rotate90
from ._hashing import content_hash
from ._model_scores import labelled_in_and_ood
from ._models import (
    CPUPickledModuleMixin,
    ResNet18Module,
    check_device,
    seeded_torch,
    torch_seed,
    writable,
)
from ._purity import cosine_purity, knn_contrast_purity
from ._rows import row_keys
from ._torch_modes import float32_default, grad_enabled
from ._typing import IntLike, RandomStateLike, RealLike
from ._validation import (
    ADAM_BETAS,
    check_adam_rate,
    check_finite_array,
    check_float32_param,
    reject_bool_numbers,
)

_N_ROTATIONS = 4


class _EncoderModule(nn.Module):
    """ResNet-18 backbone whose ``head`` predicts the rotation, plus a projection."""

    def __init__(self, in_channels, width, projection_dim):
        super().__init__()
        self.backbone = ResNet18Module(_N_ROTATIONS, in_channels, width)
        dim = 8 * width
        self.projection = nn.Sequential(
            nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, projection_dim)
        )

    def forward(self, x):
        features = self.backbone.embed(x)
        return self.projection(features), self.backbone.head(features)


def _nt_xent(z, temperature):
    """SimCLR's loss for ``z = [view 1; view 2]``: row i's positive is row i +- n."""
    z = F.normalize(z.float(), dim=1)
    n = z.shape[0] // 2
    similarity = z @ z.T / temperature
    similarity.fill_diagonal_(float("-inf"))
    positive = torch.cat(
        [torch.arange(n, 2 * n, device=z.device), torch.arange(n, device=z.device)]
    )
    return F.cross_entropy(similarity, positive)


def _shifted_views(x):
    """CSI's training views of the batch ``x`` and their rotation labels.

    Two copies of ``x``, each mirrored at random, each joined by its images
    turned by the same random 90, 180 or 270 degrees, then cropped and
    colour-jittered: ``[copy 1; copy 1 turned; copy 2; copy 2 turned]``.
    The flip comes before the rotation, as in CSI: a mirrored 90-degree view
    is a 270-degree view of the mirror image, a contradictory label.
    """
    turns = torch.randint(1, _N_ROTATIONS, (len(x),), device=x.device)
    views = [
        color_jitter(
            random_resized_crop_flip(torch.cat([c, rotate90(c, turns)]), flip=False)
        )
        for c in random_hflip(x.repeat(2, 1, 1, 1)).chunk(2)
    ]
    return torch.cat(views), torch.cat([torch.zeros_like(turns), turns]).repeat(2)


class ContrastiveEncoder(
    CPUPickledModuleMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Self-supervised image encoder: SimCLR with rotation-shifted negatives.

    Each step draws ``batch_size`` images and, as CSI, makes two views of
    each: a random horizontal flip, then, with a copy of each view rotated
    by a random 90, 180 or 270 degrees (a distinct instance, as CSI's
    shifting transformations), a random resized crop, colour jitter and
    greyscale of every instance. It minimises the NT-Xent loss between the
    two views plus the cross-entropy of predicting each view's rotation.
    Flipping before the rotation keeps the labels true: a flipped
    90-degree view is a 270-degree view of the mirror image. ``transform``
    returns the L2-normalised projection of the un-augmented images.

    The images of a step are distinct, but each step draws them at random
    independently of the other steps, so an epoch is a number of steps, not
    a pass over the data: it may draw an image several times and leave
    others out (just under ``1/e`` of them, 37%, when the batches are small
    beside the data). An epoch is ``n_samples // batch_size`` steps
    (the whole batches, as with ``drop_last``) when they are at least 10;
    on a smaller set, where that would fall well short of ``n_samples``
    draws, it is ``n_samples / batch_size`` steps (a ``batch_size`` above
    ``n_samples`` counts as ``n_samples``). Training stops after
    ``max_epochs`` times the steps of an epoch, rounded to the nearest whole
    step by Python's ``round`` (a half to the even step, so
    ``max_epochs=1`` on 20 images in batches of 8 takes 2 steps, on 28
    images 4) and at least one, or after ``max_seconds``, whichever comes
    first.

    Parameters
    ----------
    width : int, default=64
        First-stage channels of the :class:`ResNet18Module` backbone.
    projection_dim : int, default=128
        Size of the output features.
    max_epochs : float, default=100
        Epochs of random batches, as above (may be fractional).
    max_seconds : float or None, default=None
        Wall-clock budget of ``fit``; None means no limit. A time limit makes
        the result depend on the machine's speed.
    batch_size : int, default=256
        Images per step (each becomes 4 views).
    lr : float, default=1e-3
        Adam's learning rate.
    temperature : float, default=0.5
        Temperature of the contrastive loss.
    device : str or torch.device, default="cpu"
        Where ``fit`` trains; ``transform`` runs where the fitted network
        is. On CUDA the data live on the device and the forward pass runs
        under bf16 autocast. A fitted encoder loaded on a machine that lacks
        its network's device runs on the CPU, with a warning.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, batches and augmentations, through a
        forked torch RNG seeded from it. None draws that seed from NumPy's
        global RNG (scikit-learn's convention), so ``np.random.seed``, not
        ``torch.manual_seed`` as for :class:`TargetNet`, repeats a fit.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network (in eval mode).
    n_steps_ : int
        Optimisation steps taken.
    n_epochs_ : float
        Images drawn (an image once per draw) over the number of images,
        ``n_steps_ * min(batch_size, n_samples) / n_samples``.
    n_channels_in_ : int
        Channels of the images seen in ``fit``; ``transform`` needs the same.
    image_shape_ : tuple of int
        Shape ``(C, H, H)`` of the images seen in ``fit``, channels first;
        ``transform`` needs the same. Missing from an encoder pickled by a
        version that did not record it, whose ``transform`` then takes any
        size.
    fit_seconds_ : float
        Wall time of ``fit``.
    loss_curve_ : list of float
        Mean training loss of each epoch's steps; an epoch of
        ``n_samples / batch_size`` steps ends at the first step whose draws
        in all reach the next multiple of ``n_samples``. The last one may be
        partial.

    References
    ----------
    J. Tack, S. Mo, J. Jeong and J. Shin. CSI: Novelty Detection via
    Contrastive Learning on Distributionally Shifted Instances. NeurIPS 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_openset import ContrastiveEncoder
    >>> X = np.random.rand(32, 3, 16, 16).astype("float32")
    >>> enc = ContrastiveEncoder(width=4, projection_dim=8, max_epochs=1,
    ...                          batch_size=16, random_state=0).fit(X)
    >>> enc.transform(X).shape
    (32, 8)
    """

    _parameter_constraints: dict = {
        "width": [Interval(Integral, 1, None, closed="left")],
        "projection_dim": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Real, 0, None, closed="neither")],
        "max_seconds": [Interval(Real, 0, None, closed="neither"), None],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        width: IntLike = 64,
        projection_dim: IntLike = 128,
        max_epochs: RealLike = 100,
        max_seconds: RealLike | None = None,
        batch_size: IntLike = 256,
        lr: RealLike = 1e-3,
        temperature: RealLike = 0.5,
        device: str | torch.device = "cpu",
        random_state: RandomStateLike = None,
    ) -> None:
        self.width = width
        self.projection_dim = projection_dim
        self.max_epochs = max_epochs
        self.max_seconds = max_seconds
        self.batch_size = batch_size
        self.lr = lr
        self.temperature = temperature
        self.device = device
        self.random_state = random_state

    def _validate_params(self) -> None:
        super()._validate_params()
        reject_bool_numbers(self)
        check_adam_rate(self, "lr", where=", in which the encoder trains")
        check_float32_param(
            self,
            "temperature",
            "float32 rounds a larger one to inf, which makes every similarity "
            "0 and leaves no contrastive loss",
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # It takes images, (n, C, H, H) or (n, H, H), which no input tag names:
        # no tables.
        tags.input_tags.two_d_array = False
        tags.input_tags.positive_only = True  # pixels in [0, 1] or 0..255
        tags.transformer_tags.preserves_dtype = ["float32"]  # any input gives it
        return tags

    def _check_images(self, X):
        rows = np.asarray(X)
        is_uint8 = rows.dtype == np.uint8
        # The layouts the nets take too (TargetNet's input_shape).
        if rows.ndim == 3:
            X = rows[:, None]  # grey images without the channel axis
        elif rows.ndim == 4 and rows.shape[1] not in (1, 3) and rows.shape[3] in (1, 3):
            X = rows.transpose(0, 3, 1, 2)  # channels-last
        # C order: torch cannot take an array with negative strides (X[::-1])
        X = check_finite_array(
            X, dtype=np.float32, allow_nd=True, order="C", input_name="X"
        )
        if X.ndim != 4 or X.shape[2] != X.shape[3]:
            if rows.ndim == 2:
                fix = " Reshape flat rows to images, e.g. X.reshape(len(X), 1, H, H)."
            elif rows.ndim == 4 and rows.shape[1] == rows.shape[2]:
                fix = " Give channels-last images as X.transpose(0, 3, 1, 2)."
            elif rows.ndim in (3, 4):
                fix = " Crop or resize the images to squares."
            else:
                fix = ""
            raise ValueError(
                "X must hold square images: (n, C, H, H) or channels-last "
                "(n, H, H, C) with C 1 (grey) or 3 (RGB), or grey (n, H, H); got "
                f"shape {rows.shape}.{fix}"
            )
        # The colour jitter and the greyscale views need grey or RGB pixels.
        if X.shape[1] not in (1, 3):
            raise ValueError(
                f"X has {X.shape[1]} channels (axis 1); ContrastiveEncoder takes "
                "grey (1 channel) or RGB (3 channels) images. Drop the alpha "
                "channel first: X[:, :3] for RGBA, X[:, :1] for grey plus alpha."
            )
        if is_uint8:  # as the nets scale uint8 pixels; X is check_array's copy
            return np.divide(X, np.float32(255), out=X)
        # The augmentations clip to [0, 1]: other values would be lost.
        if X.size and not 0 <= X.min() <= X.max() <= 1:
            raise ValueError(
                f"X must hold pixels in [0, 1] (float) or 0..255 (uint8); got "
                f"values in [{X.min():g}, {X.max():g}]. Pass unnormalised images "
                "scaled to [0, 1] (e.g. X / 255)."
            )
        return X

    @staticmethod
    def _autocast(device):
        return torch.autocast(
            "cuda", dtype=torch.bfloat16, enabled=torch.device(device).type == "cuda"
        )

    def fit(self, X: ArrayLike, y: Any = None) -> "ContrastiveEncoder":
        """Train the encoder on the images ``X``; ``y`` is ignored.

        The same fit whatever torch's default dtype, also inside
        ``torch.no_grad()`` or ``torch.inference_mode()``.

        Parameters
        ----------
        X : array-like of shape (n_samples, C, H, H)
            Unlabelled square images, at least 2, grey (C=1) or RGB (C=3):
            float pixels in [0, 1], or uint8 pixels 0..255 (scaled to [0, 1]).
            Also channels-last, (n_samples, H, H, C), or grey without the
            channel axis, (n_samples, H, H).
        y : None
            Ignored.

        Returns
        -------
        self : ContrastiveEncoder

        Raises
        ------
        ValueError
            If training diverges (a non-finite loss or weights; the message
            names the parameter to change). The encoder is then left as it
            was before the call.
        """
        self._validate_params()
        check_device(self.device)  # else torch's AssertionError mid-fit
        X = self._check_images(X)
        if len(X) < 2:
            raise ValueError("ContrastiveEncoder needs at least 2 images to contrast.")
        start = time.perf_counter()
        with (
            seeded_torch(torch_seed(self.random_state), self.device),
            grad_enabled(),
        ):
            module, loss_curve, step = self._train(
                torch.as_tensor(writable(X), device=self.device), start
            )
        # Set only now: an interrupted fit leaves the encoder as it was.
        batch = min(self.batch_size, len(X))
        self.module_ = module.eval()
        self.image_shape_ = tuple(map(int, X.shape[1:]))
        self.loss_curve_ = loss_curve
        self.n_steps_ = step
        self.n_epochs_ = step * batch / len(X)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def _train(self, data, start):
        """Train a new module; return it, the loss curve and the steps taken."""
        n = len(data)
        batch = min(self.batch_size, n)
        # Images drawn per epoch: the whole batches', unless fewer than 10 of
        # them would fall short of a small set by over a tenth.
        pass_size = n // batch * batch if n >= 10 * batch else n
        max_steps = max(1, round(self.max_epochs * (pass_size / batch)))
        # On the CPU whatever torch's default device: the seeded CPU generator
        # draws the initial weights (a CUDA fit's too), then they move.
        with float32_default(), torch.device("cpu"):
            module = _EncoderModule(data.shape[1], self.width, self.projection_dim)
        module.to(self.device).train()
        optimizer = torch.optim.Adam(module.parameters(), lr=self.lr, betas=ADAM_BETAS)
        loss_curve, epoch_losses, step = [], [], 0
        while step < max_steps:
            rows = torch.randperm(n, device=data.device)[:batch]
            views, rotation = _shifted_views(data[rows])
            with self._autocast(self.device):
                projection, rotation_logits = module(views)
            loss = _nt_xent(projection, self.temperature) + F.cross_entropy(
                rotation_logits.float(), rotation
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            last_loss = loss.item()
            epoch_losses.append(last_loss)
            if not math.isfinite(last_loss):
                break  # diverged: no later step recovers
            pass_ended = step * batch // pass_size > (step - 1) * batch // pass_size
            if pass_ended or step == max_steps:
                loss_curve.append(float(np.mean(epoch_losses)))
                epoch_losses = []
            if self.max_seconds is not None:
                if time.perf_counter() - start > self.max_seconds:
                    if epoch_losses:
                        loss_curve.append(float(np.mean(epoch_losses)))
                    break
        # Else transform returns NaN features, which fail far from here.
        if not math.isfinite(last_loss) or not all(
            torch.isfinite(tensor).all() for tensor in module.state_dict().values()
        ):
            raise ValueError(self._divergence_message(step, max_steps, last_loss))
        return module, loss_curve, step

    def _divergence_message(self, step, max_steps, last_loss):
        where = f"non-finite loss or weights at step {step} of {max_steps}"
        # The first loss comes before any update: only the temperature scales it.
        if step == 1 and not math.isfinite(last_loss):
            advice = (
                f"temperature={self.temperature:.3g} is too small: the "
                "similarities divided by it overflow; raise it (e.g. to the "
                "default 0.5)."
            )
        else:
            advice = (
                f"the steps are too large: lower lr (now {self.lr:.3g}), e.g. "
                "to the default 1e-3."
            )
        return f"ContrastiveEncoder training diverged ({where}): {advice}"

    def transform(self, X: ArrayLike) -> np.ndarray:
        """L2-normalised projections of the images, without augmentation.

        Parameters
        ----------
        X : array-like of shape (n_samples, C, H, H)
            Or channels-last, (n_samples, H, H, C), or grey without the
            channel axis, (n_samples, H, H); with the C and H of ``fit``
            (``image_shape_``).

        Returns
        -------
        ndarray of shape (n_samples, projection_dim), dtype=float32
            With the ``projection_dim`` of ``fit``.
        """
        check_is_fitted(self)
        X = self._check_images(X)
        if X.shape[1] != self.n_channels_in_:
            raise ValueError(
                f"X has {X.shape[1]} channels (axis 1), but this encoder was "
                f"fitted on {self.n_channels_in_}-channel images; pass images of "
                f"shape (n, {self.n_channels_in_}, H, H)."
            )
        # The network pools any size, so features of images of another size
        # came back without a word; unchecked for an older pickle without it.
        fitted = getattr(self, "image_shape_", None)
        if fitted is not None and X.shape[2:] != fitted[1:]:
            size, fitted_size = "x".join(map(str, X.shape[2:])), fitted[1]
            raise ValueError(
                f"X holds {size}-pixel images, but this encoder was fitted on "
                f"{fitted_size}x{fitted_size}-pixel images; resize them to shape "
                f"(n, {fitted[0]}, {fitted_size}, {fitted_size}), or fit an encoder "
                "on images of this size."
            )
        # The width and device of fit: parameters take effect at fit, and
        # may have been set since (e.g. device, to fit the next encoder on a GPU).
        out = np.empty((len(X), self._n_features_out), dtype=np.float32)
        device = next(self.module_.parameters()).device
        # Batch norm in train mode would make each row depend on its batch.
        self.module_.eval()
        with torch.no_grad():
            for rows in gen_batches(len(X), 1024):
                x = torch.as_tensor(writable(X[rows]), device=device)
                with self._autocast(device):
                    projection, _ = self.module_(x)
                out[rows] = F.normalize(projection.float(), dim=1).cpu().numpy()
        return out

    # Read from the network rather than stored by fit, so that encoders
    # pickled before this attribute existed (joblib caches) have it too.
    @property
    def n_channels_in_(self) -> int:
        stem = self.module_.backbone.stages[0][0][0]
        assert isinstance(stem, nn.Conv2d)  # ResNet18Module's first convolution
        return stem.in_channels

    @property
    def _n_features_out(self) -> int:
        # The width of transform's output, for get_feature_names_out (and so
        # set_output); from the network, as projection_dim may be set since.
        return self.module_.projection[-1].out_features


@cache
def encoder_code():
    """A hash of the code that trains an encoder (its modules' sources and
    torch's version): a cache of fitted encoders must key by it, since joblib
    keys by the source of the cached function only."""
    modules = (_augment, sys.modules[__name__], _models, _torch_modes)
    return content_hash([inspect.getsource(m) for m in modules] + [torch.__version__])


def _fit_encoder(encoder, X, code):
    """Module-level so that ``joblib.Memory`` can cache it; `code` is
    :func:`encoder_code`, a key of the cache only."""
    return encoder.fit(X)


# What a pickled ContrastivePurity names as the network of its features when
# that is its encoder's: the encoder pickles a copy of one off the CPU.
_ENCODER_MODULE = "encoder_.module_"


class ContrastivePurity:
    """Purity ``score(learner, X)`` from a :class:`ContrastiveEncoder`.

    The purity of a pool example is its maximum cosine similarity to the
    labelled IN examples in the encoder's feature space
    (:func:`cosine_purity`), the MQ-Net authors' score, so that
    :meth:`MQNetQuery.paper`, whose ``exp(z)`` meta-input reads the values
    and not only their order, gets their score. With ``use_ood=True`` it is
    :func:`knn_contrast_purity` instead: the distance to the nearest
    labelled OOD example minus that to the nearest labelled IN one, on
    unit-norm features, so examples that look like OOD already bought lose
    purity (with no OOD labelled, ``-||z - z_nn||``: the cosine's order,
    as ``||z - z'||^2 = 2 - 2 cos``, on another scale).

    Pass it as ``purity=`` to any strategy. It is deliberately not a
    scikit-learn estimator: ``clone`` of a strategy deep-copies it, fitted
    encoder included, so one encoder fitted per trial serves every
    strategy of that trial.

    Parameters
    ----------
    encoder : ContrastiveEncoder, default=None
        Used as is when fitted. Otherwise a clone is fitted on the pool of
        :meth:`fit`, or else on the first pool this score is asked to score
        (the unlabelled pool of the first query), and kept in
        ``encoder_``. None means ``ContrastiveEncoder()``.
    use_ood : bool, default=False
        Contrast with the labelled OOD examples as well.
    memory : str, joblib.Memory or None, default=None
        Caches the fit of an unfitted ``encoder`` on disk, keyed by its
        parameters and the pool, so strategies run apart (e.g. in other
        processes) on the same pool share one fit, as scikit-learn's
        ``Pipeline(memory=...)`` does. The cache holds pickles, which are
        loaded: give it a folder only you (or people you trust) write to.

    Attributes
    ----------
    encoder_ : ContrastiveEncoder
        The fitted encoder in use (set by :meth:`fit` or the first call);
        replaced, and the features dropped, once `encoder` is set to another
        object.
    features_ : dict
        The features of every image scored so far, keyed by a hash of the
        image's pixels as the encoder reads them (channels first, in [0, 1]),
        so later rounds only transform images not seen yet.
        Emptied when the encoder is refitted (in place) or :meth:`fit` is
        called.

    Examples
    --------
    >>> from skal_openset import ContrastiveEncoder, ContrastivePurity, MQNetQuery
    >>> strategy = MQNetQuery(purity=ContrastivePurity(ContrastiveEncoder()))
    """

    def __init__(
        self, encoder: Any = None, use_ood: bool = False, memory: Any = None
    ) -> None:
        self.encoder = encoder
        self.use_ood = use_ood
        self.memory = memory

    def __getstate__(self):
        state = self.__dict__
        module = state.get("_features_module")
        # Pickled, a network off the CPU names its device, which a machine
        # without it cannot load; the encoder pickles a CPU copy of its own.
        # Only whose features these are matters.
        if module is not None and _models.module_device(module).type != "cpu":
            current = module is state["encoder_"].module_
            state = {**state, "_features_module": _ENCODER_MODULE if current else None}
        # Left out while it is the encoder (as __setstate__ restores it): the
        # pickle, and so a checkpoint's fingerprint, stays that of versions
        # that did not record it, whose checkpoints then resume.
        if "_encoder_given" in state and state["_encoder_given"] is state["encoder"]:
            state = {k: v for k, v in state.items() if k != "_encoder_given"}
        return state

    def __setstate__(self, state):
        if state.get("_features_module") == _ENCODER_MODULE:
            state["_features_module"] = state["encoder_"].module_
        # Pickled before the encoder behind encoder_ was recorded: its encoder.
        if "encoder_" in state:
            state.setdefault("_encoder_given", state["encoder"])
        self.__dict__.update(state)

    def __repr__(self):
        return (
            f"ContrastivePurity(encoder={self.encoder!r}, use_ood={self.use_ood}, "
            f"memory={self.memory!r})"
        )

    def fit(self, X: ArrayLike, y: Any = None) -> "ContrastivePurity":
        """Start afresh on the pool ``X``; keep the features of ``X``.

        As scikit-learn's ``fit``, it forgets an earlier fit: a clone of an
        unfitted ``encoder`` is fitted on ``X`` (a fitted one is used as
        is), and the features of earlier pools are dropped. Calling this on
        the whole pool before the strategies are cloned lets every clone
        start with the features at hand.

        Parameters
        ----------
        X : array-like of shape (n_samples, C, H, H)
            Or channels-last, (n_samples, H, H, C), or grey without the
            channel axis, (n_samples, H, H).
        y : None
            Ignored.

        Returns
        -------
        self : ContrastivePurity
        """
        self._forget_encoder()
        self._features(X)
        return self

    def _forget_encoder(self):
        for name in ("encoder_", "_encoder_given", "features_", "_features_module"):
            self.__dict__.pop(name, None)

    def _features(self, X):
        encoder = self._fitted_encoder(X)
        # Checked on every call: rows of another shape (flat rows) with the
        # values of cached images matched them. Keyed as the encoder reads
        # them, so grey images with or without the channel axis are one.
        X = encoder._check_images(X)
        keys = row_keys(X)
        # Features of another network (the encoder refitted in place) are stale.
        if getattr(self, "_features_module", None) is not encoder.module_:
            self.features_ = {}
            self._features_module = encoder.module_
        new = [i for i, key in enumerate(keys) if key not in self.features_]
        if new:
            # An array whatever scikit-learn's transform_output: its rows are kept.
            features = np.asarray(encoder.transform(X[new]))
            self.features_.update(zip([keys[i] for i in new], features))
        return np.array([self.features_[key] for key in keys]).reshape(len(X), -1)

    def _fitted_encoder(self, X):
        if hasattr(self, "encoder_"):
            if self._encoder_given is self.encoder:
                return self.encoder_
            self._forget_encoder()  # another encoder was set since
        given = self.encoder
        encoder = ContrastiveEncoder() if given is None else given
        if not isinstance(encoder, ContrastiveEncoder):
            raise TypeError(
                "encoder must be a ContrastiveEncoder or None; got "
                f"{type(encoder).__name__}."
            )
        try:
            check_is_fitted(encoder)
        except NotFittedError:
            encoder = check_memory(self.memory).cache(_fit_encoder)(
                clone(encoder), X, encoder_code()
            )
        self.encoder_, self._encoder_given = encoder, given
        return encoder

    def __call__(self, learner: Any, X: ArrayLike) -> np.ndarray:
        """Purity of the rows of ``X`` under the learner's labelled set.

        Parameters
        ----------
        learner : ActiveLearner or modAL learner
        X : array-like of shape (n_samples, C, H, H)
            Or channels-last, (n_samples, H, H, C), or grey without the
            channel axis, (n_samples, H, H).

        Returns
        -------
        ndarray of shape (n_samples,)
            Higher means more likely in-distribution.
        """
        X_in, _, X_ood = labelled_in_and_ood(learner)
        if not len(X_in):
            raise ValueError("The learner has no labelled in-distribution example.")
        z_pool, z_in = self._features(X), self._features(X_in)
        if not self.use_ood:
            return cosine_purity(z_pool, z_in)
        z_ood = self._features(X_ood) if len(X_ood) else None
        return knn_contrast_purity(z_pool, z_in, z_ood)
