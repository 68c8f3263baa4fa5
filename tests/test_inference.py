import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from skorch.dataset import Dataset
from torch import nn

from skal_openset._inference import (
    check_own_probabilities,
    embed,
    embed_and_predict_logits,
    per_sample_loss,
    predict_logits,
    predicted_loss,
)
from skal_openset._models import LearningLossNet, TargetNet, make_mlp_classifier

N_FEATURES, K = 5, 3


@pytest.fixture(scope="module")
def data():
    X, y = make_blobs(60, N_FEATURES, centers=K, cluster_std=3.0, random_state=0)
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def mlp_net(data):
    # Dropout makes a missed eval() visible as run-to-run differences.
    return make_mlp_classifier(
        N_FEATURES,
        K,
        hidden_sizes=(16, 8),
        dropout=0.5,
        max_epochs=2,
        batch_size=16,
        random_state=0,
    ).fit(*data)


@pytest.fixture(scope="module")
def ll_net(data):
    return make_mlp_classifier(
        N_FEATURES,
        K,
        learning_loss=True,
        hidden_sizes=(16, 8),
        max_epochs=2,
        batch_size=16,
        random_state=0,
    ).fit(*data)


def manual_embedding(mlp, X):
    """Embedding from the weights alone: relu(W2 relu(W1 x + b1) + b2)."""
    h = torch.from_numpy(X)
    for stage in mlp.stages:
        h = F.relu(F.linear(h, stage[0].weight, stage[0].bias))
    return h.detach().numpy()


class _NoEmbed(nn.Module):
    """The same network seen only through forward (no embed method)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x)


class _Scale(nn.Module):
    """A module with parameters but no nn.Linear."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x):
        return self.scale * x


def test_shapes_and_dtypes(data, mlp_net, ll_net):
    X, y = data
    n = len(X)
    for net in (mlp_net, ll_net):
        assert predict_logits(net, X).shape == (n, K)
        assert embed(net, X).shape == (n, 8)
        loss = per_sample_loss(net, X, y)
        assert loss.shape == (n,) and np.issubdtype(loss.dtype, np.floating)
    assert predicted_loss(ll_net, X).shape == (n,)


def test_embed_and_logits_match_weights(data, mlp_net):
    X, _ = data
    module = mlp_net.module_
    emb = embed(mlp_net, X)
    np.testing.assert_allclose(emb, manual_embedding(module, X), rtol=1e-5, atol=1e-6)
    head = module.head
    expected = emb @ head.weight.detach().numpy().T + head.bias.detach().numpy()
    logits = predict_logits(mlp_net, X)
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5)


def test_results_of_many_batches_fill_every_row(data):
    # Each batch goes after the rows before it: with the net's own iterator
    # in batches of 7, the 60 rows come in 9 batches.
    X, y = data
    net = make_mlp_classifier(
        N_FEATURES,
        K,
        hidden_sizes=(16, 8),
        max_epochs=1,
        random_state=0,
        iterator_valid__batch_size=7,
    ).fit(X, y)
    module = net.module_
    emb = manual_embedding(module, X)
    np.testing.assert_allclose(embed(net, X), emb, rtol=1e-5, atol=1e-6)
    head = module.head
    expected = emb @ head.weight.detach().numpy().T + head.bias.detach().numpy()
    np.testing.assert_allclose(predict_logits(net, X), expected, rtol=1e-5, atol=1e-5)


class _HeadTwice(nn.Module):
    """A head applied twice (a first guess, then on refined features): the
    logits are those of the last call, the embedding its input."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(N_FEATURES, 8), nn.ReLU())
        self.refine = nn.Linear(8, 8)
        self.head = nn.Linear(8, K)

    def features(self, x):
        h = self.body(x)
        return h + torch.relu(self.refine(h))

    def forward(self, x):
        self.head(self.body(x))  # the first guess, left unused here
        return self.head(self.features(x))


def test_embed_hook_fallback_takes_the_heads_last_call(data):
    X, _ = data
    net = TargetNet(_HeadTwice, classes=np.arange(K)).initialize()
    with torch.no_grad():
        expected = net.module_.features(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(embed(net, X), expected, rtol=1e-6)
    emb, logits = embed_and_predict_logits(net, X)
    np.testing.assert_allclose(emb, expected, rtol=1e-6)
    np.testing.assert_allclose(logits, predict_logits(net, X), rtol=1e-6)


class _OwnEmbed(nn.Module):
    """A module of one's own with an embed method, and no BackboneModule."""

    def __init__(self):
        super().__init__()
        self.body, self.out = nn.Linear(N_FEATURES, 8), nn.Linear(8, K)

    def embed(self, x):
        return torch.tanh(self.body(x))

    def forward(self, x):
        return self.out(self.embed(x))


class _OwnEmbedBesideAHead(nn.Module):
    """An embed method of its own, and a layer named head that reads other
    features than it returns (unit-length ones for distances, raw ones for
    the logits)."""

    def __init__(self):
        super().__init__()
        self.body, self.head = nn.Linear(N_FEATURES, 8), nn.Linear(8, K)

    def embed(self, x):
        return F.normalize(torch.tanh(self.body(x)), dim=-1)

    def forward(self, x):
        return self.head(torch.tanh(self.body(x)))


@pytest.mark.parametrize("module", [_OwnEmbed, _OwnEmbedBesideAHead])
def test_embed_and_logits_of_a_module_with_its_own_embed_method(data, module):
    # Only its embed method knows the embedding: logits would take a second
    # pass, so there are none. Only a BackboneModule's head is known to read
    # the embedding: the input of another layer named head was taken for it.
    X, _ = data
    net = TargetNet(module, classes=np.arange(K)).initialize()
    emb, logits = embed_and_predict_logits(net, X)
    assert logits is None
    with torch.no_grad():
        expected = net.module_.embed(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(emb, expected, rtol=1e-6)


def test_embed_hook_fallback_matches_embed(data, mlp_net):
    X, _ = data
    wrapped = TargetNet(_NoEmbed(mlp_net.module_), classes=np.arange(K)).initialize()
    assert not hasattr(wrapped.module_, "embed")
    np.testing.assert_allclose(embed(wrapped, X), embed(mlp_net, X), rtol=1e-6)
    no_linear = TargetNet(_Scale()).initialize()
    with pytest.raises(ValueError, match="neither an embed method nor an nn.Linear"):
        embed(no_linear, X)


class _UnusedAux(nn.Module):
    """A last registered nn.Linear (an auxiliary head) that forward never calls."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(N_FEATURES, 8), nn.ReLU())
        self.out = nn.Linear(8, K)
        self.aux = nn.Linear(8, 2)

    def forward(self, x):
        return self.out(self.body(x))


@pytest.mark.parametrize("helper", [embed, embed_and_predict_logits])
def test_embed_hook_fallback_names_a_head_forward_never_calls(data, helper):
    # The hook never fired: a bare IndexError, also in every CORESET, BADGE
    # and MQ-Net query (they embed through embed_and_predict_logits).
    X, _ = data
    net = TargetNet(_UnusedAux, classes=np.arange(K)).initialize()
    with pytest.raises(
        ValueError,
        match=r"'aux' .* forward never calls it\. Define .*, or give ActiveLearner an "
        r"embedding \(e\.g\. embedding=PCA",
    ):
        helper(net, X)


class _HeadFirst(nn.Module):
    """The head registered before the body: its last nn.Linear is the body's."""

    def __init__(self):
        super().__init__()
        self.out = nn.Linear(8, K)
        self.body = nn.Sequential(nn.Linear(N_FEATURES, 8), nn.ReLU())

    def forward(self, x):
        return self.out(self.body(x))


class _PooledTokens(nn.Module):
    """A head applied to each of 4 tokens, its outputs pooled into the logits."""

    def __init__(self):
        super().__init__()
        self.body = nn.Linear(N_FEATURES, 4 * 8)
        self.head = nn.Linear(8, K)

    def forward(self, x):
        tokens = torch.relu(self.body(x)).unflatten(-1, (4, 8))
        return self.head(tokens).mean(-2)


class _DictOutput(nn.Module):
    """Logits in a dict, where the fallback cannot tell them."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(N_FEATURES, 8), nn.ReLU())
        self.head = nn.Linear(8, K)

    def forward(self, x):
        return {"logits": self.head(self.body(x))}


class _TwoLayerLossBranch(_UnusedAux):
    """A learning-loss module whose loss branch, registered last, has a hidden layer."""

    def __init__(self):
        super().__init__()
        self.aux = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 1))

    def forward(self, x):
        h = self.body(x)
        return self.out(h), self.aux(h).squeeze(-1)


LOGITS_SHAPE = rf"\(\d+, {K}\)"  # as the message gives it: (n_rows, n_classes)


@pytest.mark.parametrize(
    "make, layer, logits",
    [
        (lambda: TargetNet(_HeadFirst, classes=np.arange(K)), "body.0", LOGITS_SHAPE),
        (
            lambda: LearningLossNet(_TwoLayerLossBranch, classes=np.arange(K)),
            "aux.2",
            LOGITS_SHAPE,
        ),
        (lambda: TargetNet(_PooledTokens, classes=np.arange(K)), "head", LOGITS_SHAPE),
        (lambda: TargetNet(_DictOutput, classes=np.arange(K)), "head", "None"),
    ],
    ids=["head-first", "loss-branch", "pooled-tokens", "dict-output"],
)
@pytest.mark.parametrize("helper", [embed, embed_and_predict_logits])
def test_embed_hook_fallback_refuses_a_layer_that_does_not_output_the_logits(
    data, make, layer, logits, helper
):
    # The embedding was silently another layer's input: the raw X, the loss
    # branch's hidden layer, or (where only the classes' dimension was
    # compared) one row per token; logits in a dict ended in an AttributeError.
    X, _ = data
    with pytest.raises(
        ValueError,
        match=f"'{layer}' .* is not the logits \\(shape {logits}\\)\\. Define",
    ):
        helper(make().initialize(), X)


class _LossAfterFeatures(_TwoLayerLossBranch):
    """Three outputs, the predicted loss after the features."""

    def forward(self, x):
        logits, loss = super().forward(x)
        return logits, self.body(x), loss


class _LossOfOtherShape(_TwoLayerLossBranch):
    """A second output that is no predicted loss per row: the features (a
    common forward returns them beside the logits), or the loss unsqueezed."""

    def __init__(self, features=True):
        super().__init__()
        self.features = features

    def forward(self, x):
        logits, loss = super().forward(x)
        return logits, self.body(x) if self.features else loss.unsqueeze(-1)


class _LogitsInADict(_TwoLayerLossBranch):
    def forward(self, x):
        logits, loss = super().forward(x)
        return {"logits": logits}, loss


class _Tuple(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x), self.inner[:2](x)


@pytest.mark.parametrize(
    "wrap, head_output",
    [
        (lambda m: m, lambda m, x: m(x)),
        (_Tuple, lambda m, x: m(x)[0]),
        (lambda m: nn.Sequential(m, nn.Softmax(-1)), lambda m, x: m[1](m[0](x))),
    ],
    ids=["sequential", "tuple", "softmax"],
)
def test_embed_hook_fallback_takes_the_input_of_the_head(data, wrap, head_output):
    X, _ = data
    layers = nn.Sequential(
        nn.Linear(N_FEATURES, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, K)
    )
    net = TargetNet(wrap(layers), classes=np.arange(K)).initialize()
    with torch.no_grad():
        expected = layers[:2](torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(embed(net, X), expected, rtol=1e-6)
    emb, logits = embed_and_predict_logits(net, X)
    np.testing.assert_allclose(emb, expected, rtol=1e-6)
    np.testing.assert_allclose(logits, predict_logits(net, X), rtol=1e-6)


# torch's dynamo reads .grad of a non-leaf tensor as it traces the criterion:
# its own warning, which as an error (-W error) breaks the trace.
@pytest.mark.filterwarnings(
    "ignore:The .grad attribute of a Tensor that is not a leaf:UserWarning"
)
@pytest.mark.parametrize("learning_loss", [False, True])
def test_helpers_read_a_compiled_net_as_its_module(data, learning_loss):
    # skorch's compile=True wraps the module in torch.compile's wrapper, which
    # hid its layout (embed_and_predict_logits gave no logits) and whose
    # compiled forward can skip the hook on the head ("Cannot identify the
    # classifier head of OptimizedModule", in every MQ-Net query).
    X, y = data

    def fitted(**compiled):
        return make_mlp_classifier(
            N_FEATURES,
            K,
            learning_loss=learning_loss,
            hidden_sizes=(8,),
            max_epochs=1,
            random_state=0,
            **compiled,
        ).fit(X, y)

    plain = fitted()
    # The "eager" backend: dynamo's wrapper without inductor's C++ build.
    net = fitted(compile=True, compile__backend="eager")
    assert type(net.module_) is not type(plain.module_)
    emb, logits = embed_and_predict_logits(net, X)
    np.testing.assert_allclose(emb, embed(plain, X), rtol=1e-5)
    assert logits is not None
    np.testing.assert_allclose(logits, predict_logits(plain, X), rtol=1e-5)
    np.testing.assert_allclose(embed(net, X), emb, rtol=1e-6)


def test_per_sample_loss_matches_cross_entropy_and_skorch_loss(data, mlp_net):
    X, y = data
    loss = per_sample_loss(mlp_net, X, y)
    module = mlp_net.module_
    module.eval()
    with torch.no_grad():
        logits = module(torch.from_numpy(X))
    expected = F.cross_entropy(logits, torch.from_numpy(y), reduction="none").numpy()
    np.testing.assert_allclose(loss, expected, rtol=1e-5, atol=1e-6)
    skorch_loss = mlp_net.get_loss(mlp_net.forward(X), torch.from_numpy(y))
    assert loss.mean() == pytest.approx(float(skorch_loss), rel=1e-5)


class _SoftmaxModule(nn.Module):
    """skorch's README module: ends in a softmax, for its NLLLoss default."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(N_FEATURES, K)

    def forward(self, X):
        return torch.softmax(self.linear(X), dim=-1)


def test_per_sample_loss_of_a_net_that_outputs_probabilities(data):
    # The probabilities were taken for logits and softmaxed again.
    from skorch import NeuralNetClassifier

    X, y = data
    net = NeuralNetClassifier(_SoftmaxModule, max_epochs=3, train_split=None)
    net.set_params(verbose=0).fit(X, y)
    loss = per_sample_loss(net, X, y)
    proba = net.predict_proba(X)[np.arange(len(y)), y]
    np.testing.assert_allclose(loss, -np.log(proba + np.finfo(np.float32).eps))
    skorch_loss = net.get_loss(net.forward(X), torch.from_numpy(y))
    assert loss.mean() == pytest.approx(float(skorch_loss), rel=1e-5)
    # checked against the columns as the logits are, not a bare IndexError
    with pytest.raises(ValueError, match=r"outside 0\.\.2"):
        per_sample_loss(net, X, np.where(y == 0, K, y))


def test_per_sample_loss_ignores_the_predict_nonlinearity(data, mlp_net):
    # Its probabilities once came from predict_proba, which returns the raw
    # logits with predict_nonlinearity=None: NaN losses.
    X, y = data
    plain = clone(mlp_net).set_params(predict_nonlinearity=None).fit(X, y)
    np.testing.assert_allclose(
        per_sample_loss(plain, X, y), per_sample_loss(mlp_net, X, y), rtol=1e-6
    )


class _OwnCrossEntropy(nn.CrossEntropyLoss):
    """A user's subclass of CrossEntropyLoss (one that logs its value, say)."""


@pytest.mark.parametrize(
    "learning_loss, criterion",
    [(False, _OwnCrossEntropy), (True, nn.NLLLoss)],
    ids=["crossentropy-subclass", "learning-loss-under-nllloss"],
)
def test_per_sample_loss_reads_logits_where_the_net_trains_on_them(
    data, learning_loss, criterion
):
    # A subclass of CrossEntropyLoss trains on logits too, and a learning-loss
    # net whatever its (unused) criterion: neither is read through
    # predict_proba (here the raw logits) nor as probabilities.
    X, y = data
    net = make_mlp_classifier(
        N_FEATURES,
        K,
        learning_loss=learning_loss,
        criterion=criterion,
        predict_nonlinearity=None,
        hidden_sizes=(8,),
        max_epochs=1,
        random_state=0,
    ).fit(X, y)
    logits = torch.from_numpy(predict_logits(net, X))
    expected = F.cross_entropy(logits, torch.from_numpy(y), reduction="none")
    np.testing.assert_allclose(per_sample_loss(net, X, y), expected.numpy(), rtol=1e-6)


class _Focal(nn.Module):
    """A criterion on logits that is no CrossEntropyLoss."""

    def forward(self, logits, y):
        ce = F.cross_entropy(logits, y, reduction="none")
        return ((1 - torch.exp(-ce)) ** 2 * ce).mean()


def test_per_sample_loss_under_another_criterion_reads_predict_proba(data):
    # Under a criterion skorch does not know, predict_proba applies the
    # net's predict_nonlinearity: without one it returns the logits, which
    # gave negative "losses".
    from functools import partial

    from skorch import NeuralNetClassifier

    X, y = data

    def make(**kwargs):
        net = NeuralNetClassifier(
            nn.Linear, module__in_features=N_FEATURES, module__out_features=K,
            criterion=_Focal, max_epochs=2, train_split=None, verbose=0, **kwargs,
        )  # fmt: skip
        return net.fit(X, y)

    with pytest.raises(ValueError, match="set it .e.g. predict_nonlinearity="):
        per_sample_loss(make(), X, y)
    net = make(predict_nonlinearity=partial(torch.softmax, dim=-1))
    proba = net.predict_proba(X)[np.arange(len(y)), y]
    np.testing.assert_allclose(
        per_sample_loss(net, X, y), -np.log(proba + np.finfo(np.float32).eps)
    )


@pytest.mark.parametrize("n_classes", [10, 1000])
def test_half_precision_probabilities_are_probabilities(n_classes):
    # Their rows, off by the rounding of float16 (4.9e-4 next to 1), were
    # refused.
    torch.manual_seed(0)
    proba = torch.softmax(3 * torch.randn(2000, n_classes), -1).half().numpy()
    np.testing.assert_array_equal(check_own_probabilities(None, proba), proba)
    # a tolerance that grew with the classes let rows summing to 0.05 pass
    with pytest.raises(ValueError, match="gives no probabilities"):
        check_own_probabilities(None, proba * np.float16(0.05))


def test_rows_with_a_negative_value_are_no_probabilities():
    # [1.5, -0.5] sums to 1, yet is no distribution: a regression head's.
    proba = np.array([[0.5, 0.5], [1.5, -0.5]], np.float32)
    with pytest.raises(ValueError, match="gives no probabilities"):
        check_own_probabilities(None, proba)
    np.testing.assert_array_equal(check_own_probabilities(None, proba[:1]), proba[:1])


@pytest.mark.parametrize("shape", [(4,), (4, 2, 2)])
def test_probabilities_are_one_row_per_sample(shape):
    # Values that sum to 1 along the second axis, or a vector (which had no
    # second axis to sum), are no rows of class probabilities.
    with pytest.raises(ValueError, match="gives no probabilities"):
        check_own_probabilities(None, np.full(shape, 0.5))


@pytest.mark.parametrize(
    "proba",
    [[[0.5, 0.5], [np.nan, 0.0]], [[0.5, 0.5], [np.inf, 0.0]], np.empty((0, 2))],
    ids=["nan", "inf", "no-rows"],
)
def test_probabilities_of_a_diverged_net_or_of_no_rows_are_passed_on(proba):
    # The caller names a NaN or inf as a diverged net's: refused here, it got
    # the predict_nonlinearity remedy. No rows have nothing to refuse.
    proba = np.asarray(proba, np.float32)
    np.testing.assert_array_equal(check_own_probabilities(None, proba), proba)


def test_half_precision_probabilities_reach_the_learner(data):
    # class_probabilities checked them after a cast to float64, refusing
    # float16's rounding again.
    from skorch import NeuralNetClassifier

    from skal_openset import ActiveLearner

    X, y = data

    class HalfSoftmax(_SoftmaxModule):
        def forward(self, X):
            return super().forward(X).half().float().half()

    class Brier(nn.Module):
        def forward(self, proba, target):
            target = F.one_hot(target, K).to(proba.dtype)
            return ((proba.float() - target.float()) ** 2).sum(1).mean()

    net = NeuralNetClassifier(
        HalfSoftmax, criterion=Brier, max_epochs=1, train_split=None, verbose=0
    )
    learner = ActiveLearner(net).fit(X, y)
    proba = learner.predict_proba(X)
    np.testing.assert_allclose(proba, learner.estimator_.predict_proba(X), rtol=1e-6)


def test_a_diverged_net_under_another_criterion_is_named_as_such(data):
    # Its NaN probabilities were refused as "no probabilities", with the
    # predict_nonlinearity remedy, before the caller could name the NaN.
    from skorch import NeuralNetClassifier

    from skal_openset import ActiveLearner

    X, y = data

    class Brier(nn.Module):
        def forward(self, proba, target):
            return ((proba - F.one_hot(target, K).float()) ** 2).sum(1).mean()

    net = NeuralNetClassifier(
        _SoftmaxModule, criterion=Brier, max_epochs=1, train_split=None, verbose=0
    )
    learner = ActiveLearner(net).fit(X, y)
    with torch.no_grad():
        learner.estimator_.module_.linear.weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="a net that diverged"):
        learner.predict_proba(X)


def test_ll_outputs_match_module(data, ll_net):
    X, y = data
    module = ll_net.module_
    module.eval()
    with torch.no_grad():
        logits, pred = module(torch.from_numpy(X))
    tol = dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(predicted_loss(ll_net, X), pred.numpy(), **tol)
    np.testing.assert_allclose(predict_logits(ll_net, X), logits.numpy(), **tol)
    np.testing.assert_allclose(
        embed(ll_net, X), manual_embedding(module.backbone, X), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("set_mode", ["train", "eval", "mixed"])
def test_inference_restores_training_modes(data, mlp_net, set_mode):
    X, y = data
    module = mlp_net.module_
    module.train(set_mode != "eval")
    if set_mode == "mixed":
        module.stages[0].eval()
    before = {name: m.training for name, m in module.named_modules()}
    results = [embed(mlp_net, X) for _ in range(2)]
    per_sample_loss(mlp_net, X, y)
    assert {name: m.training for name, m in module.named_modules()} == before
    # Dropout (p=0.5) was off during inference: identical repeated results.
    np.testing.assert_array_equal(*results)


def test_inference_does_not_change_weights(data, ll_net):
    X, y = data
    before = {k: v.clone() for k, v in ll_net.module_.state_dict().items()}
    for fn in (predict_logits, embed, predicted_loss):
        fn(ll_net, X)
    per_sample_loss(ll_net, X, y)
    after = ll_net.module_.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


@settings(max_examples=10, deadline=None)
@given(batch_size=st.integers(1, 70), seed=st.integers(0, 2**31 - 1))
def test_results_independent_of_batching_and_order(data, mlp_net, batch_size, seed):
    X, y = data
    perm = np.random.RandomState(seed).permutation(len(X))
    ref_loss, ref_emb = per_sample_loss(mlp_net, X, y), embed(mlp_net, X)
    original = mlp_net.batch_size
    mlp_net.batch_size = batch_size
    try:
        np.testing.assert_allclose(
            per_sample_loss(mlp_net, X[perm], y[perm]),
            ref_loss[perm],
            rtol=1e-5,
            atol=1e-6,
        )
        np.testing.assert_allclose(
            embed(mlp_net, X[perm]), ref_emb[perm], rtol=1e-5, atol=1e-6
        )
    finally:
        mlp_net.batch_size = original


def test_errors(data, mlp_net):
    X, y = data
    unfitted = make_mlp_classifier(N_FEATURES, K)
    for fn in (predict_logits, embed, predicted_loss):
        with pytest.raises(NotFittedError):
            fn(unfitted, X)
    with pytest.raises(NotFittedError):
        per_sample_loss(unfitted, X, y)
    # Two rows of logits are no (logits, predicted_loss) pair, nor are three
    # outputs (where the second would be taken for the loss): refused as no
    # pair, not for the shape of a second output read as the loss.
    three = TargetNet(_LossAfterFeatures, classes=np.arange(K)).initialize()
    for net, rows in ((mlp_net, X), (mlp_net, X[:2]), (three, X)):
        with pytest.raises(
            ValueError,
            match=r"no loss-prediction head: its forward must return \(logits, ",
        ):
            predicted_loss(net, rows)
    # A second output of another shape was returned as the loss: the
    # features of a forward giving (logits, features), of shape (n, 8).
    for features, shape in ((True, rf"\({len(X)}, 8\)"), (False, rf"\({len(X)}, 1\)")):
        net = TargetNet(
            _LossOfOtherShape, module__features=features, classes=np.arange(K)
        )
        with pytest.raises(
            ValueError,
            match=rf"has shape {shape}, not one predicted loss per row \({len(X)},\); "
            r"its forward must return \(logits, predicted_loss\)",
        ):
            predicted_loss(net.initialize(), X)
    # Logits in a dict give no rows to count the losses by (said as "per row ()").
    net = TargetNet(_LogitsInADict, classes=np.arange(K)).initialize()
    with pytest.raises(
        ValueError,
        match=r"the first output of its forward is a dict, no array, not logits "
        r"with one row per sample; its forward must return \(logits, ",
    ):
        predicted_loss(net, X)
    with pytest.raises(ValueError, match=r"outside 0\.\.2"):
        per_sample_loss(mlp_net, X, np.where(y == 0, K, y))
    with pytest.raises(ValueError, match=r"outside 0\.\.k-1"):
        per_sample_loss(mlp_net, X, np.where(y == 0, -1, y))
    with pytest.raises(
        ValueError, match="rows but y has .* labels: give one label per row of X"
    ):
        per_sample_loss(mlp_net, X, y[:-1])
    bad = X.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        embed(mlp_net, bad)
    with pytest.raises(TypeError, match="skorch net"):
        embed(mlp_net.module_, X)


@pytest.mark.parametrize("helper", [embed, predict_logits])
def test_no_rows_is_a_clear_error(mlp_net, helper):
    # An empty tensor ended in UnboundLocalError ('is_tuple'); read as an
    # array, it gets scikit-learn's "Found array with 0 sample(s)".
    with pytest.raises(ValueError, match="0 sample"):
        helper(mlp_net, torch.empty(0, N_FEATURES))
    # A Dataset is passed on as it is, and counted here.
    with pytest.raises(ValueError, match=r"^X holds no rows \(0 samples\); give"):
        helper(mlp_net, Dataset(np.empty((0, N_FEATURES), np.float32)))


class _TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(4, 8), nn.Linear(2, 8)
        self.head = nn.Linear(8, 3)

    def forward(self, a, b):
        return self.head(torch.relu(self.a(a) + self.b(b)))


def test_inference_helpers_pass_a_dict_of_inputs_as_keywords():
    from skorch import NeuralNetClassifier

    # skorch calls module(**X) for a dict; the helpers called module(X)
    # (a TypeError) and per_sample_loss counted the dict's keys as its rows.
    rng = np.random.default_rng(0)
    X = {
        "a": rng.normal(size=(30, 4)).astype(np.float32),
        "b": rng.normal(size=(30, 2)).astype(np.float32),
    }
    y = rng.integers(0, 3, 30)
    net = NeuralNetClassifier(
        _TwoInputs,
        criterion=nn.CrossEntropyLoss,
        max_epochs=2,
        train_split=None,
        verbose=0,
    ).fit(X, y)
    logits = predict_logits(net, X)
    np.testing.assert_allclose(
        torch.softmax(torch.from_numpy(logits), 1).numpy(),
        net.predict_proba(X),
        rtol=1e-5,
    )
    assert embed(net, X).shape == (30, 8)
    loss = per_sample_loss(net, X, y)
    assert loss.shape == (30,) and np.isfinite(loss).all()


def test_per_sample_loss_takes_rows_as_a_list(mlp_net, data):
    # skorch's get_len counted a list row's values (5) instead of its rows.
    X, y = data
    np.testing.assert_allclose(
        per_sample_loss(mlp_net, X.tolist(), y), per_sample_loss(mlp_net, X, y)
    )
