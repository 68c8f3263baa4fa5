"""Model outputs of a fitted skorch net, without re-initialising it.

Everything runs through one batched loop over the net's own validation
iterator (``net.get_iterator(net.get_dataset(X), training=False)``), under
``torch.inference_mode`` with the module in eval mode; the previous train/eval
mode of every submodule is restored afterwards. Results are float numpy arrays.
"""

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import ArrayLike
from sklearn.utils.validation import _num_samples
from skorch import NeuralNet
from skorch.dataset import get_len, unpack_data
from skorch.utils import to_tensor
from torch import nn

from ._models import (
    BackboneModule,
    LearningLossNet,
    _check_class_labels,
    check_loss_per_row,
    float_dtypes_explained,
)
from ._validation import check_one_label_per_row


def _batched_apply(net, X, fn):
    """Concatenate ``fn(module, X_batch)`` over the net's batches, as numpy.

    `fn` returns a tensor, or a tuple of tensors (then so does this).
    Raises skorch's ``NotInitializedError`` (a sklearn ``NotFittedError``) when
    the net has no module yet.
    """
    module = _fitted_module(net)
    modes = [(m, m.training) for m in module.modules()]
    dataset = net.get_dataset(X)
    if not len(dataset):
        raise ValueError("X holds no rows (0 samples); give at least one.")
    iterator = net.get_iterator(dataset, training=False)
    # Filled in place: concatenating at the end would hold the result twice.
    outs, start = None, 0
    module.eval()
    try:
        with torch.inference_mode(), float_dtypes_explained(module):
            for batch in iterator:
                Xi, _ = unpack_data(batch)
                parts = fn(module, to_tensor(Xi, device=net.device))
                is_tuple = isinstance(parts, tuple)
                parts = [p.cpu().numpy() for p in (parts if is_tuple else (parts,))]
                if outs is None:
                    outs = [
                        np.empty((len(dataset), *p.shape[1:]), p.dtype) for p in parts
                    ]
                for out, part in zip(outs, parts):
                    out[start : start + len(part)] = part
                start += len(parts[0])
    finally:
        for m, training in modes:
            m.training = training
    return tuple(outs) if is_tuple else outs[0]


def _fitted_module(net):
    if not isinstance(net, NeuralNet):
        raise TypeError(f"net must be a fitted skorch net; got {type(net).__name__}.")
    net.check_is_fitted()
    # torch.compile's wrapper (skorch's compile=True): its compiled forward
    # skips the hook that captures the embedding, and it hides the module's
    # layout. The helpers run the module itself, as skorch unwraps a criterion.
    return getattr(net.module_, "_orig_mod", net.module_)


def _call(method, x):
    """`method` on a batch as skorch's ``infer`` passes it: a dict as keywords."""
    return method(**x) if isinstance(x, dict) else method(x)


def _logits(module, x):
    out = _call(module, x)
    return out[0] if isinstance(out, tuple) else out


def _head(module):
    """The layer whose input is the embedding, or None if only ``embed`` knows it.

    The ``head`` of a :class:`BackboneModule` (also as the ``backbone`` of a
    learning-loss module); for a module without ``embed``, its last
    registered ``nn.Linear``, which `_embedding_and_logits` checks outputs the
    logits.
    """
    if hasattr(module, "embed"):
        backbone = getattr(module, "backbone", module)
        return backbone.head if isinstance(backbone, BackboneModule) else None
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(
            f"{type(module).__name__} has neither an embed method nor an nn.Linear "
            "layer whose input could serve as the embedding."
        )
    return linears[-1]


def _embedding_and_logits(module, x):
    """Both from one forward pass: the head's input is captured on the way."""
    head = _head(module)
    captured = []
    handle = head.register_forward_hook(
        lambda mod, inputs, output: captured.append((inputs[0], output))
    )
    try:
        logits = _logits(module, x)
    finally:
        handle.remove()
    if not captured:
        raise _unidentified_head(module, head, "forward never calls it")
    embedding, output = captured[-1]
    # Another layer's output (a body registered after the head, a loss
    # branch): its input would be a wrong embedding, silently.
    shape = getattr(logits, "shape", None)
    if output.shape != shape:
        raise _unidentified_head(
            module,
            head,
            f"its output, of shape {tuple(output.shape)}, is not the logits "
            f"(shape {None if shape is None else tuple(shape)})",
        )
    return embedding, logits


def _unidentified_head(module, head, why):
    """The error for a module whose guessed head (see `_head`) is not its head."""
    name = type(module).__name__
    layer = next(n for n, m in module.named_modules() if m is head)
    return ValueError(
        f"Cannot identify the classifier head of {name}: without an embed "
        "method, its embedding is the input of its last registered nn.Linear, "
        f"{layer!r} ({head}), but {why}. Define {name}.embed(x) to return the "
        "input of the layer that outputs the logits, or give ActiveLearner an "
        "embedding (e.g. embedding=PCA(10) or a callable embedding(estimator, X))."
    )


def _embedding(module, x):
    if hasattr(module, "embed"):
        return _call(module.embed, x)
    return _embedding_and_logits(module, x)[0]


def _predicted_loss(module, x):
    out = _call(module, x)
    must = (
        "its forward must return (logits, predicted_loss); build the net with "
        "learning_loss=True."
    )
    if not (isinstance(out, tuple) and len(out) == 2):
        raise ValueError(f"{type(module).__name__} has no loss-prediction head: {must}")
    check_loss_per_row(type(module).__name__, out[0], out[1], must)
    return out[1]


def _module_output(net):
    """What a skorch net's module outputs, as its criterion reads it.

    ``"logits"`` under a ``CrossEntropyLoss`` (and for a
    :class:`LearningLossNet`, which trains on cross-entropy whatever its
    criterion); ``"probabilities"`` under an ``NLLLoss`` (skorch's default,
    for a module that ends in a softmax, of which skorch takes the log);
    ``"unknown"`` under any other criterion, whose probabilities are the
    net's own ``predict_proba`` (its ``predict_nonlinearity`` says how).
    """
    if isinstance(net, LearningLossNet):
        return "logits"
    criterion = net.criterion
    kind = criterion if isinstance(criterion, type) else type(criterion)
    if issubclass(kind, nn.CrossEntropyLoss):
        return "logits"
    if issubclass(kind, nn.NLLLoss):
        return "probabilities"
    return "unknown"


def check_own_probabilities(net, proba):
    """`proba`, from the ``predict_proba`` of `net` (under a criterion that
    says nothing of its output), if they are probabilities."""
    proba = np.asarray(proba, dtype=np.result_type(proba, np.float16))
    if proba.ndim == 2 and not (len(proba) and np.isfinite(proba).all()):
        return proba  # NaN: the caller names a net that diverged
    # Summed in float64, within the rounding of the dtype (float16: 4e-3).
    tolerance = max(1e-4, 4 * np.finfo(proba.dtype).eps)
    if (
        proba.ndim != 2
        or proba.min() < 0
        or not np.allclose(proba.sum(axis=1, dtype=np.float64), 1.0, atol=tolerance)
    ):
        raise ValueError(
            f"The predict_proba of {type(net).__name__} gives no probabilities "
            "(rows that are negative or do not sum to 1): under a criterion other "
            "than CrossEntropyLoss or NLLLoss, skorch applies predict_nonlinearity "
            "to the module's output, so set it (e.g. predict_nonlinearity="
            "functools.partial(torch.softmax, dim=-1) for logits)."
        )
    return proba


def predict_logits(net: NeuralNet, X: ArrayLike) -> np.ndarray:
    """Logits of a fitted net (the first output when the module returns a tuple).

    The module's output as it is: logits for a net trained on them (a
    ``CrossEntropyLoss`` criterion), probabilities for a module that ends in
    a softmax (skorch's ``NLLLoss`` default).

    Parameters
    ----------
    net : skorch.NeuralNet
        Fitted (or at least initialised) net.
    X : array-like
        Input accepted by the net.

    Returns
    -------
    logits : ndarray of shape (n_samples, n_classes)

    Examples
    --------
    >>> from skal_openset import (load_digits_dataset, make_mlp_classifier,
    ...                           predict_logits)
    >>> X, y = load_digits_dataset()
    >>> net = make_mlp_classifier(64, 10, max_epochs=3, random_state=0)
    >>> net = net.fit(X[:300], y[:300])
    >>> predict_logits(net, X[:5]).shape
    (5, 10)
    """
    return _batched_apply(net, X, _logits)


def embed(net: NeuralNet, X: ArrayLike) -> np.ndarray:
    """Penultimate embedding of a fitted net.

    Uses ``net.module_.embed``. A module without ``embed`` falls back to a
    forward hook that captures the input of its last registered ``nn.Linear``
    layer, which must be the classifier head: the layer whose output is the
    logits (the module's output, or its first output when it returns a
    tuple), or of their shape when forward transforms them (e.g. a softmax).
    A module that registers another linear layer after its head (e.g. a
    loss-prediction branch, or an auxiliary head), or its head before its
    body, must define ``embed`` instead. The fallback raises a ValueError
    when that layer's output does not have the logits' shape; another layer
    of their shape goes unnoticed.

    Parameters
    ----------
    net : skorch.NeuralNet
        Fitted net.
    X : array-like
        Input accepted by the net.

    Returns
    -------
    embedding : ndarray of shape (n_samples, embedding_dim)

    Examples
    --------
    >>> from skal_openset import embed, load_digits_dataset, make_mlp_classifier
    >>> X, y = load_digits_dataset()
    >>> net = make_mlp_classifier(64, 10, max_epochs=3, random_state=0)
    >>> net = net.fit(X[:300], y[:300])
    >>> embed(net, X[:5]).shape  # the input of the last layer
    (5, 128)
    """
    return _batched_apply(net, X, _embedding)


def embed_and_predict_logits(
    net: NeuralNet, X: ArrayLike
) -> tuple[np.ndarray, np.ndarray | None]:
    """Embedding and logits of a fitted net from one pass over `X`.

    One pass where the module's layout says how its logits follow from its
    embedding (a :class:`BackboneModule`, a learning-loss module around one,
    or a module without ``embed``, see :func:`embed`); otherwise only the
    embedding, since the logits would cost a second pass.

    Parameters
    ----------
    net : skorch.NeuralNet
        Fitted net.
    X : array-like
        Input accepted by the net.

    Returns
    -------
    embedding : ndarray of shape (n_samples, embedding_dim)
        As :func:`embed` returns it.
    logits : ndarray of shape (n_samples, n_classes) or None
        As :func:`predict_logits` returns them, or None.
    """
    if _head(_fitted_module(net)) is None:
        return embed(net, X), None
    return _batched_apply(net, X, _embedding_and_logits)


def per_sample_loss(net: NeuralNet, X: ArrayLike, y: ArrayLike) -> np.ndarray:
    """Cross-entropy of every row, computed from the net's logits.

    Read by the net's criterion: from the module's logits under a
    ``CrossEntropyLoss``; as skorch's ``NLLLoss`` training does
    (``-log(p + eps)``) from the module's probabilities under an ``NLLLoss``;
    and from the net's own ``predict_proba`` under any other criterion
    (a ValueError if that gives no probabilities: set its
    ``predict_nonlinearity``).

    Parameters
    ----------
    net : skorch.NeuralNet
        Fitted net whose module returns logits (or ``(logits, ...)``), or
        probabilities.
    X : array-like
        Input accepted by the net.
    y : array-like of shape (n_samples,)
        Class indices in ``0..k-1`` where k is the number of logits.

    Returns
    -------
    loss : ndarray of shape (n_samples,)
        Its mean equals the mean cross-entropy on ``(X, y)``.

    Examples
    --------
    >>> from skal_openset import (load_digits_dataset, make_mlp_classifier,
    ...                           per_sample_loss)
    >>> X, y = load_digits_dataset()
    >>> net = make_mlp_classifier(64, 10, max_epochs=3, random_state=0)
    >>> net = net.fit(X[:300], y[:300])
    >>> loss = per_sample_loss(net, X[:5], y[:5])
    >>> loss.shape, bool((loss >= 0).all())
    ((5,), True)
    """
    y = _check_class_labels(y)
    # skorch counts a dict's rows; get_len would count a list row's values
    n_rows = get_len(X) if isinstance(X, dict) else _num_samples(X)
    check_one_label_per_row(n_rows, y)
    output = _module_output(net)
    if output != "logits":  # -log(p + eps), as skorch's NLLLoss training
        if output == "probabilities":
            proba = predict_logits(net, X)
        else:
            proba = check_own_probabilities(net, net.predict_proba(X))
        y = _check_class_labels(y, n_classes=proba.shape[1])
        p = proba[np.arange(len(y)), y]
        return -np.log(p + np.finfo(proba.dtype).eps)
    logits = predict_logits(net, X)
    y = _check_class_labels(y, n_classes=logits.shape[1])
    return F.cross_entropy(
        torch.from_numpy(logits), torch.from_numpy(y), reduction="none"
    ).numpy()


def predicted_loss(net: NeuralNet, X: ArrayLike) -> np.ndarray:
    """Loss predicted by a learning-loss net's loss-prediction head.

    Parameters
    ----------
    net : skorch.NeuralNet
        Fitted net whose module returns ``(logits, predicted_loss)``, e.g. a
        :class:`LearningLossNet`.
    X : array-like
        Input accepted by the net.

    Returns
    -------
    loss : ndarray of shape (n_samples,)
        Higher = larger expected loss (more informative).

    Raises
    ------
    ValueError
        If the module has no loss-prediction head: its forward returns no
        pair, or a pair whose second item is not one value per row (such as
        the embedding beside the logits).
    """
    return _batched_apply(net, X, _predicted_loss)
