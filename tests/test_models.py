import functools
import pickle
import re
import sys
import warnings

import numpy as np
import pytest
import sklearn
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback, EpochScoring, LRScheduler, PrintLog
from skorch.dataset import Dataset
from torch import nn
from torch.utils.data import DataLoader

from skal_openset import ActiveLearner, make_fast_resnet_classifier
from skal_openset._inference import (
    embed,
    per_sample_loss,
    predict_logits,
    predicted_loss,
)
from skal_openset._models import (
    LearningLossModule,
    LearningLossNet,
    LossPredictionModule,
    MLPModule,
    RebuiltLRScheduler,
    ResNet18Module,
    SmallCNNModule,
    TargetNet,
    _as_batch,
    _BasicBlock,
    _halves_ranking_loss,
    _to_input_shape,
    make_cnn_classifier,
    make_mlp_classifier,
    make_resnet18_classifier,
    min_steps_loader,
)
from skal_openset._validation import is_int


def blobs(n=128, n_features=4, k=3, std=2.0, seed=0):
    X, y = make_blobs(n, n_features, centers=k, cluster_std=std, random_state=seed)
    return X, y


def state(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


def states_equal(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


# ------------------------------------------------------------------------- modules


@pytest.mark.parametrize(
    "module, x, dims, spatial",
    [
        (
            MLPModule(6, 4, hidden_sizes=(16, 8)),
            torch.randn(5, 6),
            (16, 8),
            [None, None],
        ),
        (SmallCNNModule(4), torch.randn(5, 1, 28, 28), (32, 64, 128), [14, 7, None]),
        (
            ResNet18Module(4),
            torch.randn(2, 3, 32, 32),
            (64, 128, 256, 512),
            [32, 16, 8, 4],
        ),
        (
            ResNet18Module(4, in_channels=1),
            torch.randn(2, 1, 28, 28),
            (64, 128, 256, 512),
            [28, 14, 7, 4],
        ),
    ],
)
def test_backbone_shapes_and_forward(module, x, dims, spatial):
    module.eval()
    with torch.no_grad():
        emb, inter = module.embed_with_intermediates(x)
        logits = module(x)
    n = x.shape[0]
    assert emb.shape == (n, module.head.in_features)
    assert logits.shape == (n, 4)
    assert torch.allclose(logits, module.head(emb))
    assert torch.equal(module.embed(x), emb)
    assert tuple(module.intermediate_dims) == dims
    for f, d, s in zip(inter, dims, spatial, strict=True):
        assert f.shape[:2] == (n, d)
        assert f.shape[2:] == (() if s is None else (s, s))


def test_resnet18_is_cifar_style():
    module = ResNet18Module(10)
    stem = module.stages[0][0][0]
    assert stem.kernel_size == (3, 3) and stem.stride == (1, 1)
    assert not any(isinstance(m, nn.MaxPool2d) for m in module.modules())
    n_blocks = sum(type(m).__name__ == "_BasicBlock" for m in module.modules())
    assert n_blocks == 8
    n_params = sum(p.numel() for p in module.parameters())
    assert 11.1e6 < n_params < 11.3e6  # the usual CIFAR ResNet-18 size (~11.17M)


def test_a_basic_block_adds_its_shortcut_before_the_last_relu():
    torch.manual_seed(0)
    block = _BasicBlock(4, 4, 1).eval()
    x = torch.randn(2, 4, 5, 5)
    with torch.no_grad():
        out = block.bn2(block.conv2(F.relu(block.bn1(block.conv1(x)))))
        torch.testing.assert_close(block(x), F.relu(out + x))


def test_mlp_rejects_bad_arguments():
    with pytest.raises(ValueError, match="hidden_sizes"):
        MLPModule(4, 2, hidden_sizes=())
    with pytest.raises(ValueError, match="n_classes"):
        MLPModule(4, 0)
    # ours, not torch's Dropout's, which names no parameter of MLPModule
    with pytest.raises(ValueError, match="dropout == 1.5, must be <= 1"):
        MLPModule(4, 2, dropout=1.5)


def test_mlp_dropout_drops_activations_in_training_only():
    x = torch.randn(4, 6, generator=torch.Generator().manual_seed(0))
    nets = []
    for dropout in (0.0, 0.5):
        torch.manual_seed(0)
        nets.append(MLPModule(6, 3, hidden_sizes=(32,), dropout=dropout))
    assert not torch.equal(nets[0].train()(x), nets[1].train()(x))
    assert torch.equal(nets[0].eval()(x), nets[1].eval()(x))


def test_loss_prediction_refuses_a_backbone_without_feature_maps():
    # Else its output layer would have no input: a module predicting a constant.
    with pytest.raises(ValueError, match="at least one feature map"):
        LossPredictionModule(())


def test_loss_prediction_pools_and_shapes():
    torch.manual_seed(0)
    head = LossPredictionModule((3, 5), hidden_size=7)
    maps = [torch.randn(4, 3, 6, 6), torch.randn(4, 5)]
    out = head(maps)
    assert out.shape == (4,)
    assert head([f[:1] for f in maps]).shape == (1,)  # one row: still a vector
    # Independent computation: mean over space, branch, concat, linear.
    hidden = torch.cat(
        [
            F.relu(head.branches[0][0](maps[0].mean(dim=(2, 3)))),
            F.relu(head.branches[1][0](maps[1])),
        ],
        dim=1,
    )
    assert torch.allclose(out, head.out(hidden).squeeze(1))


def test_learning_loss_module_wraps_backbone():
    torch.manual_seed(0)
    ll = LearningLossModule(MLPModule, n_features=6, n_classes=3, hidden_sizes=(8, 4))
    x = torch.randn(5, 6)
    logits, pred = ll(x)
    assert logits.shape == (5, 3) and pred.shape == (5,)
    assert torch.allclose(logits, ll.backbone(x))
    assert torch.equal(ll.embed(x), ll.backbone.embed(x))
    backbone = MLPModule(6, 3)
    assert LearningLossModule(backbone).backbone is backbone
    with pytest.raises(TypeError, match="already an instance"):
        LearningLossModule(backbone, n_classes=3)
    with pytest.raises(TypeError, match="lacks"):
        LearningLossModule(nn.Linear(6, 3))
    del backbone.intermediate_dims  # the loss head's branches need them
    with pytest.raises(TypeError, match=r"lacks \['intermediate_dims'\]"):
        LearningLossModule(backbone)


@pytest.mark.parametrize("detach", [False, True])
def test_detach_features_stops_backbone_gradient(detach):
    ll = LearningLossModule(MLPModule, n_features=6, n_classes=3, hidden_sizes=(8, 4))
    ll.detach_features = detach
    _, pred = ll(torch.randn(5, 6))
    pred.sum().backward()
    grads = [p.grad for p in ll.backbone.parameters()]
    reached = any(g is not None and g.abs().sum() > 0 for g in grads)
    assert reached != detach
    assert all(p.grad is not None for p in ll.loss_head.parameters())


# --------------------------------------------------------------------- ranking loss


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 9), st.integers(0, 2**31 - 1))
def test_halves_ranking_loss_matches_pairwise_formula(n, seed):
    g = torch.Generator().manual_seed(seed)
    pred, target = torch.randn(n, generator=g), torch.rand(n, generator=g)
    half = n // 2
    terms = [
        max(
            0.0,
            -float(torch.sign(target[i] - target[half + i]))
            * float(pred[i] - pred[half + i])
            + 1.0,
        )
        for i in range(half)
    ]
    expected = np.mean(terms) if terms else 0.0
    loss = float(_halves_ranking_loss(pred, target))
    assert loss == pytest.approx(expected, abs=1e-6)


# ----------------------------------------------------------------------- skorch nets


def test_target_net_reproducible_and_leaves_global_rng():
    X, y = blobs()
    before = torch.get_rng_state()
    nets = [
        make_mlp_classifier(
            4, 3, hidden_sizes=(16,), dropout=0.2, max_epochs=3, random_state=7
        ).fit(X, y)
        for _ in range(2)
    ]
    assert torch.equal(torch.get_rng_state(), before)
    assert states_equal(state(nets[0].module_), state(nets[1].module_))
    np.testing.assert_array_equal(nets[0].predict_proba(X), nets[1].predict_proba(X))
    other = make_mlp_classifier(
        4, 3, hidden_sizes=(16,), max_epochs=3, random_state=8
    ).fit(X, y)
    assert not np.array_equal(other.predict_proba(X), nets[0].predict_proba(X))
    # A RandomState instance is accepted and advanced (sklearn semantics).
    rs = np.random.RandomState(0)
    net = make_mlp_classifier(4, 3, hidden_sizes=(16,), max_epochs=1, random_state=rs)
    a = state(net.fit(X, y).module_)
    assert not states_equal(a, state(net.fit(X, y).module_))


def test_partial_fit_is_seeded_too_and_leaves_global_rng():
    # partial_fit used torch's global RNG, so a warm-start campaign
    # (whose first training is a partial_fit) gave another net each run.
    X, y = blobs()
    before = torch.get_rng_state()
    nets = []
    for _ in range(2):
        net = make_mlp_classifier(
            4, 3, hidden_sizes=(16,), dropout=0.2, max_epochs=2, random_state=7
        )
        first = state(net.partial_fit(X, y, classes=np.arange(3)).module_)
        nets.append((first, state(net.partial_fit(X, y).module_)))
    assert torch.equal(torch.get_rng_state(), before)
    assert states_equal(nets[0][0], nets[1][0])
    assert states_equal(nets[0][1], nets[1][1])


def test_seeded_fits_on_the_cpu_leave_the_cuda_seeds_alone(monkeypatch):
    # They seeded through torch.manual_seed, which reseeds every CUDA device
    # too, outside their CPU-only fork: each seeded CPU fit (a net, MQ-Net's
    # selector, the contrastive encoder) reset the user's CUDA stream.
    from skal_openset import ContrastiveEncoder, MetaQueryNetSelector

    cuda_seeds = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", cuda_seeds.append)
    X, y = blobs()
    make_mlp_classifier(4, 3, hidden_sizes=(8,), max_epochs=1, random_state=0).fit(X, y)
    Z = np.random.RandomState(0).rand(20, 2)
    MetaQueryNetSelector(max_epochs=2, random_state=1).fit(Z, Z.sum(axis=1))
    images = np.random.RandomState(0).rand(4, 1, 8, 8).astype(np.float32)
    ContrastiveEncoder(width=2, max_epochs=1, random_state=0).fit(images)
    assert cuda_seeds == []


def test_a_seeded_block_for_a_cuda_device_seeds_it_and_the_cpu_alike(monkeypatch):
    # Where CUDA is, a CUDA fit's block seeds its devices too; the CPU draws
    # (its initial weights) are those of a CPU fit. Run here on its CPU part.
    from skal_openset._models import seeded_torch

    cuda_seeds = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", cuda_seeds.append)
    before = torch.get_rng_state()
    draws = []
    for device in ("cuda", "cpu"):
        with seeded_torch(7, device):
            draws.append(torch.rand(5))
    assert cuda_seeds == [7]  # the CUDA block's only
    assert torch.equal(draws[0], draws[1])
    assert torch.equal(torch.get_rng_state(), before)


def test_a_seeded_net_on_a_cuda_device_seeds_its_generators(monkeypatch):
    # A seeded CUDA fit must seed CUDA's generators too (its dropout draws
    # there). Run here on its CPU part, as if this machine had CUDA.
    from skal_openset import _models

    cuda_seeds = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", cuda_seeds.append)
    monkeypatch.setattr(_models, "check_device", lambda device: None)
    net = make_mlp_classifier(4, 3, device="cuda", random_state=7)
    with net._rng_context():
        pass
    assert cuda_seeds == [_models.torch_seed(7, net)]


TABLE_OR_IMAGE_NETS = {
    "mlp": lambda: make_mlp_classifier(16, 3, hidden_sizes=(8,), max_epochs=2),
    "learning_loss": lambda: make_mlp_classifier(
        16, 3, learning_loss=True, hidden_sizes=(8,), max_epochs=2
    ),
    "cnn": lambda: make_cnn_classifier(3, input_shape=(1, 4, 4), max_epochs=2),
    "fast_resnet": lambda: make_fast_resnet_classifier(
        3, in_channels=1, width=2, max_epochs=2, batch_size=32
    ),
}


def rows_for(kind):
    """64 rows of 3 blobs for the net `kind`: 16 columns, or 4x4 grey images."""
    X, y = blobs(64, n_features=16)
    return (X.reshape(-1, 1, 4, 4) if kind in ("cnn", "fast_resnet") else X), y


@pytest.mark.parametrize("kind", TABLE_OR_IMAGE_NETS)
def test_the_nets_train_alike_whatever_torchs_default_dtype(kind, keep_default_dtype):
    # Under a float64 default the module was float64 and refused the float32
    # rows of get_dataset ("mat1 and mat2 must have the same dtype").
    X, y = rows_for(kind)

    def outputs():
        net = TABLE_OR_IMAGE_NETS[kind]().set_params(random_state=0).fit(X, y)
        return net.predict_proba(X), embed(net, X), state(net.module_)

    expected = outputs()
    torch.set_default_dtype(torch.float64)
    proba, embedding, weights = outputs()
    assert torch.get_default_dtype() == torch.float64  # the caller's, kept
    np.testing.assert_array_equal(proba, expected[0])
    np.testing.assert_array_equal(embedding, expected[1])
    assert states_equal(weights, expected[2])


@pytest.mark.parametrize("kind", TABLE_OR_IMAGE_NETS)
def test_the_nets_train_alike_whatever_torchs_default_device(kind, keep_default_device):
    # skorch built the module on the default device ("Cannot copy out of meta
    # tensor"; on "cuda", other initial weights than the seeded CPU ones),
    # and torch's DataLoader drew its seed there ("cannot be called on meta
    # tensors"; on "cuda", "Expected a 'cuda' device type for generator").
    X, y = rows_for(kind)

    def outputs():
        net = TABLE_OR_IMAGE_NETS[kind]().set_params(random_state=0).fit(X, y)
        proba, embedding = net.predict_proba(X), embed(net, X)
        return proba, embedding, state(net.partial_fit(X, y).module_)

    expected = outputs()
    torch.set_default_device("meta")
    got = outputs()
    assert torch.empty(0).device.type == "meta"  # the caller's, kept
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    assert states_equal(got[2], expected[2])


def test_the_batches_drawn_on_the_cpu_under_another_default_device_count_alike(
    keep_default_device,
):
    # Under another default device the nets wrap their batches; len() of
    # them (a progress bar's) counts those of the wrapped iterator.
    X, y = rows_for("mlp")
    net = TABLE_OR_IMAGE_NETS["mlp"]().set_params(batch_size=16).fit(X, y)
    dataset = net.get_dataset(X, y)
    expected = [len(net.get_iterator(dataset, training)) for training in (1, 0)]
    torch.set_default_device("meta")
    for training, count in zip((True, False), expected):
        batches = net.get_iterator(dataset, training=training)
        assert len(batches) == count == len(list(batches))


def test_a_module_left_on_a_meta_default_device_names_the_device_parameter(
    keep_default_device,
):
    # device=None leaves the module where torch builds it, as skorch does:
    # there, on the meta device, training failed in torch ("Tensor.item()").
    X, y = blobs(n_features=16)
    torch.set_default_device("meta")
    net = TABLE_OR_IMAGE_NETS["mlp"]().set_params(device=None)
    with pytest.raises(ValueError, match="pass a device"):
        net.fit(X, y)


@pytest.mark.parametrize("kind", TABLE_OR_IMAGE_NETS)
def test_the_nets_train_alike_inside_no_grad_and_inference_mode(kind, grad_off):
    # skorch's step survives no_grad, not inference_mode: the weights made
    # there were inference tensors, which autograd cannot train.
    X, y = rows_for(kind)

    def weights():  # after a fit, then after a partial_fit
        net = TABLE_OR_IMAGE_NETS[kind]().set_params(random_state=0).fit(X, y)
        return state(net.module_), state(net.partial_fit(X, y).module_)

    expected = weights()
    with grad_off():
        got = weights()
    assert all(states_equal(a, b) for a, b in zip(got, expected, strict=True))


def test_fit_seeds_once_for_initialisation_and_training():
    # The seeded partial_fit that fit trains through must not restart the
    # stream: fit's runs (every committed benchmark cell) stay as they were.
    from skorch import NeuralNetClassifier

    from skal_openset._models import seeded_torch, torch_seed

    X, y = blobs()
    net = make_mlp_classifier(4, 3, hidden_sizes=(16,), dropout=0.2, max_epochs=2)
    with seeded_torch(torch_seed(5), None):
        net.initialize()
        NeuralNetClassifier.partial_fit(net, X, y)
    seeded = clone(net).set_params(random_state=5).fit(X, y)
    assert states_equal(state(net.module_), state(seeded.module_))


def test_torch_seeds_are_drawn_from_the_whole_int32_range():
    # fewer seeds would give more random_states one and the same torch stream
    from skal_openset._models import torch_seed

    assert max(torch_seed(seed) for seed in range(20)) > 2**16


def test_fit_restarts_from_scratch_partial_fit_continues():
    X, y = blobs()
    net = make_mlp_classifier(4, 3, hidden_sizes=(16,), max_epochs=2, random_state=0)
    first = state(net.fit(X, y).module_)
    assert states_equal(first, state(net.fit(X, y).module_))
    assert len(net.history) == 2
    net.partial_fit(X, y)
    assert not states_equal(first, state(net.module_))
    assert len(net.history) == 4


class _CtrlCAtEpoch(Callback):
    """Raises KeyboardInterrupt at the end of epoch ``epoch``, like a Ctrl-C."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


@pytest.mark.parametrize("learning_loss", [False, True])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_keyboard_interrupt_is_reraised_not_swallowed(learning_loss, method):
    # skorch 1.4's partial_fit swallows it and returns a half-trained net.
    X, y = blobs()
    net = make_mlp_classifier(
        4,
        3,
        learning_loss=learning_loss,
        hidden_sizes=(16,),
        max_epochs=5,
        callbacks=[("ctrl_c", _CtrlCAtEpoch(2))],
        random_state=0,
    )
    with pytest.raises(KeyboardInterrupt):
        getattr(net, method)(X, y)
    assert len(net.history) == 2


@pytest.mark.parametrize(
    "make",
    [
        lambda: make_mlp_classifier(16, 3, hidden_sizes=(16,), batch_size=24),
        lambda: make_mlp_classifier(16, 3, learning_loss=True, batch_size=-1),
        lambda: make_cnn_classifier(3, input_shape=(1, 4, 4), batch_size=50),
    ],
    ids=["mlp", "learning-loss-full-batch", "cnn"],
)
def test_training_batches_cut_at_once_train_as_collated_rows(make):
    # The batches are cut from the arrays a batch at once (fast), not
    # collated row by row as skorch's DataLoader does: the same weights.
    X, y = blobs(n=130, n_features=16)
    X = X.astype(np.float32)
    rows = make().set_params(max_epochs=3, random_state=0).fit(X, y)
    batches = rows.get_iterator(rows.get_dataset(X, y), training=True)
    assert batches.collate_fn is _as_batch  # cut at once
    collated = make().set_params(
        max_epochs=3,
        random_state=0,
        iterator_train__collate_fn=torch.utils.data.default_collate,  # skorch's path
    )
    assert not collated.get_params_for("iterator_train").keys() <= {"shuffle"}
    collated.fit(X, y)
    assert states_equal(state(rows.module_), state(collated.module_))
    assert rows.history[:, "train_loss"] == collated.history[:, "train_loss"]


def test_training_batches_of_a_users_channels_last_dataset_train_as_collated():
    # Cut at once, they kept the array's strides: the convolutions trained on
    # other weights than on the C-order batches skorch stacks.
    X = np.random.RandomState(0).rand(40, 4, 4, 2).astype(np.float32)
    X, y = X.transpose(0, 3, 1, 2), np.arange(40) % 2  # (n, C, H, W), not C order

    def fit(**params):
        net = make_cnn_classifier(
            2, in_channels=2, input_shape=(2, 4, 4), max_epochs=2, random_state=0
        )
        return net.set_params(**params).fit(Dataset(X, y), None)

    collated = fit(iterator_train__collate_fn=torch.utils.data.default_collate)
    assert states_equal(state(fit().module_), state(collated.module_))


def test_a_float_batch_size_is_refused_as_skorch_refuses_it():
    # Cut at once, batch_size=2.5 trained in batches of 2.
    X, y = blobs()
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        make_mlp_classifier(4, 3, batch_size=2.5, max_epochs=1).fit(X, y)


def test_a_quiet_net_builds_no_log_table_and_a_verbose_one_prints_it(
    capsys, monkeypatch
):
    # skorch's PrintLog tabulated every epoch, printed or not.
    X, y = blobs()
    with monkeypatch.context() as patch:
        patch.setattr(PrintLog, "table", _no_table)
        make_mlp_classifier(4, 3, max_epochs=2, verbose=0, random_state=0).fit(X, y)
    assert capsys.readouterr().out == ""
    make_mlp_classifier(4, 3, max_epochs=2, verbose=1, random_state=0).fit(X, y)
    printed = capsys.readouterr().out.splitlines()
    assert "train_loss" in printed[0] and len(printed) == 4  # header, rule, 2 epochs
    # as skorch's: a sink other than print gets every epoch, quiet or not
    lines = []
    make_mlp_classifier(
        4, 3, max_epochs=2, verbose=0, callbacks__print_log__sink=lines.append
    ).fit(X, y)
    assert len(lines) == 4 and "train_loss" in lines[0]  # as printed above


def _no_table(self, row):
    raise AssertionError("a log table was built for an epoch not printed")


def test_a_batch_norm_batch_of_one_row_names_the_remedy():
    # torch's "Expected more than 1 value per channel when training" came
    # up from teach, rounds into a campaign, with no cause or remedy.
    X, y = blobs()
    X, y = X[:17], y[:17]  # batches of 16 leave one row over

    def net(**kwargs):
        module = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 3))
        return TargetNet(
            module, classes=np.arange(3), batch_size=16, max_epochs=1, **kwargs
        )

    with pytest.raises(ValueError, match="iterator_train__drop_last=True"):
        net().fit(X, y)
    assert net(iterator_train__drop_last=True).fit(X, y).predict(X).shape == (17,)


@pytest.mark.parametrize("learning_loss", [False, True])
def test_missing_classes_still_k_way(learning_loss):
    X, y = blobs(k=2)
    y = np.where(y == 1, 3, 0)  # classes 1 and 2 of 0..4 never seen
    net = make_mlp_classifier(
        4,
        5,
        learning_loss=learning_loss,
        hidden_sizes=(16,),
        max_epochs=2,
        random_state=0,
    ).fit(X, y)
    proba = net.predict_proba(X)
    assert proba.shape == (len(X), 5)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(net.classes_, np.arange(5))


def test_partial_fit_keeps_the_classes_of_earlier_batches_and_declared_ones():
    # With classes=None, skorch inferred classes_ from each call's y alone: a
    # batch lacking a class dropped it, and partial_fit's classes was ignored
    # (an ActiveLearner with warm_start=True declares every class there), while
    # predict_proba kept a column for it.
    X, y = blobs()

    def net(**params):
        return TargetNet(
            MLPModule,
            module__n_features=4,
            module__n_classes=3,
            max_epochs=1,
            verbose=0,
            random_state=0,
            **params,
        )

    first_two = y < 2
    declared = net().partial_fit(X[first_two], y[first_two], classes=np.arange(3))
    np.testing.assert_array_equal(declared.classes_, np.arange(3))
    continued = net().partial_fit(X, y).partial_fit(X[first_two], y[first_two])
    np.testing.assert_array_equal(continued.classes_, np.arange(3))
    # classes declared later add to those trained on, and do not replace them
    redeclared = net().partial_fit(X, y)
    redeclared.partial_fit(X[first_two], y[first_two], classes=[0])
    np.testing.assert_array_equal(redeclared.classes_, np.arange(3))
    # fit starts afresh, from its y alone, as before
    np.testing.assert_array_equal(
        continued.fit(X[first_two], y[first_two]).classes_, [0, 1]
    )
    # also where fit keeps the module (warm_start): no class of an earlier fit
    warm = net(warm_start=True).fit(X, y).fit(X[first_two], y[first_two])
    np.testing.assert_array_equal(warm.classes_, [0, 1])
    assert net().partial_fit(X[first_two], y[first_two]).classes_.tolist() == [0, 1]
    with pytest.raises(ValueError, match="classes holds labels outside 0..2"):
        net().partial_fit(X, y, classes=[3, 7, 9])

    # a module given built has no module__n_classes to name
    built = TargetNet(MLPModule(n_features=4, n_classes=3), max_epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"outside 0..k-1 \(e.g. -1\); class ind"):
        built.partial_fit(X, y, classes=[-1, 0, 1])
    built.partial_fit(X[first_two], y[first_two], classes=[2])
    np.testing.assert_array_equal(built.classes_, np.arange(3))


def test_partial_fit_forgets_the_classes_of_a_module_built_afresh():
    # classes_ kept the classes trained on before initialize() or a
    # set_params that rebuilt the module: after set_params(module__n_classes=2)
    # it named three classes for two predict_proba columns.
    X, y = blobs()
    first_two = y < 2

    def net(module=MLPModule, **params):
        return TargetNet(module, max_epochs=1, verbose=0, random_state=0, **params)

    widths = dict(module__n_features=4, module__n_classes=3)
    rebuilt = net(**widths).fit(X, y).initialize()
    rebuilt.partial_fit(X[first_two], y[first_two])
    assert rebuilt.classes_.tolist() == [0, 1]
    narrowed = net(**widths).fit(X, y).set_params(module__n_classes=2)
    narrowed.partial_fit(X[first_two], y[first_two])
    assert narrowed.classes_.tolist() == [0, 1]
    assert narrowed.predict_proba(X).shape == (len(X), 2)
    # a module instance is used as it is: initialize() keeps its training
    kept = net(MLPModule(n_features=4, n_classes=3)).fit(X, y).initialize()
    assert kept.partial_fit(X[first_two], y[first_two]).classes_.tolist() == [0, 1, 2]
    # classes declared to the partial_fit that initialises the net still count
    declared = net(**widths).partial_fit(X[first_two], y[first_two], classes=[2])
    assert declared.classes_.tolist() == [0, 1, 2]


def test_partial_fit_classes_beyond_the_module_say_so():
    # The message for y told an ActiveLearner(warm_start=True) user, whose
    # known classes outnumbered the net's outputs, to drop OOD rows and to
    # train through ActiveLearner.
    X, y = blobs()
    net = TargetNet(
        MLPModule, module__n_features=4, module__n_classes=3, max_epochs=1, verbose=0
    )
    with pytest.raises(ValueError, match="module__n_classes=3") as error:
        net.partial_fit(X, y, classes=np.arange(4))
    assert "OOD" not in str(error.value)
    learner = ActiveLearner(clone(net), classes=np.arange(4), warm_start=True)
    with pytest.raises(ValueError, match="module__n_classes=3"):
        learner.fit(X, y)


def test_learning_loss_net_predicts_like_a_classifier():
    X, y = blobs()
    net = make_mlp_classifier(
        4, 3, learning_loss=True, hidden_sizes=(16, 8), max_epochs=3, random_state=0
    ).fit(X, y)
    assert isinstance(net, LearningLossNet)
    assert isinstance(net.module_, LearningLossModule)
    proba = net.predict_proba(X)
    logits = torch.from_numpy(predict_logits(net, X))
    expected = torch.softmax(logits, 1).numpy()
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(net.predict(X), proba.argmax(1))
    assert net.score(X, y) == pytest.approx(np.mean(net.predict(X) == y))


def test_learning_loss_net_loss_is_ce_plus_weighted_ranking():
    X, y = blobs(n=16)
    net = make_mlp_classifier(
        4,
        3,
        learning_loss=True,
        hidden_sizes=(8,),
        max_epochs=1,
        ll_weight=0.5,
        random_state=0,
    ).fit(X, y)
    logits, pred = net.forward(X.astype(np.float32))
    yt = torch.from_numpy(y)
    ce = F.cross_entropy(logits, yt, reduction="none")
    half = len(y) // 2
    sign = torch.sign(ce[:half] - ce[half:])
    ranking = F.relu(-sign * (pred[:half] - pred[half:]) + 1)
    expected = ce.mean() + 0.5 * ranking.mean()
    loss = float(net.get_loss((logits, pred), yt))
    assert loss == pytest.approx(float(expected), rel=1e-5)
    for wrong in (logits, (logits, pred, pred)):  # a third output: an embedding
        with pytest.raises(TypeError, match="logits, predicted_loss"):
            net.get_loss(wrong, yt)


def test_learning_loss_net_refuses_a_predicted_loss_not_one_per_row():
    # A loss of shape (n, 1) or an embedding (n, 8) reached torch's bare
    # "All input tensors should have same dimension"; one loss for half the
    # rows trained silently on the wrong pairs.
    X, y = blobs(n=16)
    net = make_mlp_classifier(
        4, 3, learning_loss=True, hidden_sizes=(8,), max_epochs=1, random_state=0
    ).fit(X, y)
    logits, pred = net.forward(X.astype(np.float32))
    yt = torch.from_numpy(y)
    for wrong in (pred[:, None], torch.zeros(16, 8), pred[:8]):
        with pytest.raises(
            ValueError,
            match=rf"LearningLossModule has no loss-prediction head: the second "
            rf"output of its forward has shape {re.escape(str(tuple(wrong.shape)))}, "
            r"not one predicted loss per row \(16,\); .*loss\.squeeze\(-1\)",
        ):
            net.get_loss((logits, wrong), yt)
    with pytest.raises(ValueError, match="second output of its forward has a list, no"):
        net.get_loss((logits, pred.tolist()), yt)
    with pytest.raises(
        ValueError, match=r"first output of its forward is a dict, no array, not logits"
    ):
        net.get_loss(({"logits": logits}, pred), yt)


def test_learning_loss_net_trains_and_ranks_losses():
    # A 20-epoch toy fit; Spearman was >= 0.86 over 20 seeds (>= 0.49 after 10 epochs,
    # and anywhere in -0.9..0.6 with ll_weight=0), so 0.5 is a safe bar.
    X, y = blobs(n=128, seed=3)
    net = make_mlp_classifier(
        4,
        3,
        learning_loss=True,
        hidden_sizes=(32, 16),
        max_epochs=20,
        batch_size=32,
        random_state=3,
    ).fit(X, y)
    losses = net.history[:, "train_loss"]
    assert losses[-1] < 0.7 * losses[0]
    rho = spearmanr(predicted_loss(net, X), per_sample_loss(net, X, y)).statistic
    assert rho > 0.5


class _RecordDetach(Callback):
    def initialize(self):
        self.flags = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.flags.append(net.module_.detach_features)


def test_ll_detach_epoch_switches_flag_and_isolates_backbone():
    X, y = blobs(n=64)
    rec = _RecordDetach()

    def fit(**kw):
        return make_mlp_classifier(
            4,
            3,
            learning_loss=True,
            hidden_sizes=(8,),
            max_epochs=3,
            random_state=0,
            **kw,
        ).fit(X, y)

    def backbone(**kw):
        return state(fit(**kw).module_.backbone)

    fit(ll_detach_epoch=1, callbacks=[rec])
    assert rec.flags == [False, True, True]
    # Detached from the start, the ranking loss cannot move the backbone.
    detached = [backbone(ll_detach_epoch=0, ll_weight=w) for w in (0, 1)]
    assert states_equal(*detached)
    joint = [backbone(ll_detach_epoch=None, ll_weight=w) for w in (0, 1)]
    assert not states_equal(*joint)


@pytest.mark.parametrize(
    "X_bad, y_bad, match",
    [
        (None, -1, r"outside 0\.\.2"),
        (None, 3, r"outside 0\.\.2"),
        (None, 0.5, "non-integer"),
        (np.nan, None, "NaN"),
    ],
)
def test_fit_validates_inputs(X_bad, y_bad, match):
    X, y = blobs(n=20)
    if X_bad is not None:
        X[0, 0] = X_bad
    if y_bad is not None:
        y = y.astype(float)
        y[0] = y_bad
    net = make_mlp_classifier(4, 3, hidden_sizes=(8,), max_epochs=1)
    with pytest.raises(ValueError, match=match):
        net.fit(X, y)


def test_boolean_labels_train_as_the_class_indices_0_and_1():
    # NumPy counts bool as an integer dtype: False and True are classes 0, 1.
    X, y = blobs(n=20, k=2)
    nets = [
        make_mlp_classifier(4, 2, hidden_sizes=(8,), max_epochs=1, random_state=0)
        for _ in range(2)
    ]
    nets[0].fit(X, y == 1)
    nets[1].fit(X, y)
    assert states_equal(state(nets[0].module_), state(nets[1].module_))


@pytest.mark.parametrize("bad, message", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_fit_rejects_non_finite_rows_under_assume_finite(bad, message):
    # Under sklearn.set_config(assume_finite=True) a net fitted on them
    # silently trained to NaN weights, and predicted NaN probabilities.
    X, y = blobs(n=20)
    X[0, 0] = bad
    net = make_mlp_classifier(4, 3, hidden_sizes=(8,), max_epochs=1)
    with sklearn.config_context(assume_finite=True):
        with pytest.raises(ValueError, match=f"Input X contains {message}"):
            net.fit(X, y)


def test_fit_rejects_length_mismatch_and_casts_dtypes():
    X, y = blobs(n=20)
    net = make_mlp_classifier(4, 3, hidden_sizes=(8,), max_epochs=1)
    with pytest.raises(ValueError, match=r"inconsistent numbers.*\[20, 19\]"):
        net.fit(X, y[:-1])
    ds = net.get_dataset(X.astype(np.float64), y.astype(np.int32))
    assert ds.X.dtype == np.float32 and ds.y.dtype == np.int64


def test_clone_gives_fresh_equivalent_net():
    X, y = blobs(n=32)
    net = make_mlp_classifier(
        4, 3, learning_loss=True, hidden_sizes=(8,), max_epochs=1, random_state=0
    ).fit(X, y)
    twin = clone(net).fit(X, y)
    assert states_equal(state(net.module_), state(twin.module_))


# ------------------------------------------------------------------------- factories


def test_resnet18_factory_reference_recipe():
    net = make_resnet18_classifier(4, learning_loss=True)
    assert isinstance(net, LearningLossNet)
    assert net.optimizer is torch.optim.SGD
    assert net.lr == 0.1
    assert (net.optimizer__momentum, net.optimizer__weight_decay) == (0.9, 5e-4)
    assert (net.batch_size, net.max_epochs, net.ll_detach_epoch) == (64, 200, 0.6)
    assert net.train_split is None and net.verbose == 0
    np.testing.assert_array_equal(net.classes, np.arange(4))
    scheduler = dict(net.callbacks)["lr_scheduler"]
    assert isinstance(scheduler, LRScheduler)
    # shares of max_epochs, read when training starts: epochs 100 and 150 of 200
    assert (scheduler.milestones, scheduler.gamma) == ((0.5, 0.75), 0.1)
    assert isinstance(make_resnet18_classifier(4, max_epochs=8), TargetNet)


@pytest.mark.parametrize("learning_loss", [False, True])
def test_mlp_and_cnn_factories_have_their_documented_defaults(learning_loss):
    # Adam at lr 1e-3 in shuffled batches of 64, 100 epochs for the MLP and
    # 30 for the CNN, as their docstrings say; the loss head detaches after
    # 60% of the epochs.
    mlp = make_mlp_classifier(4, 3, learning_loss=learning_loss)
    cnn = make_cnn_classifier(3, learning_loss=learning_loss)
    for net, max_epochs in ((mlp, 100), (cnn, 30)):
        assert net.optimizer is torch.optim.Adam
        assert (net.lr, net.batch_size, net.max_epochs) == (1e-3, 64, max_epochs)
        assert net.get_params()["iterator_train__shuffle"] is True
        assert net.device == "cpu" and net.train_split is None
        np.testing.assert_array_equal(net.classes, np.arange(3))
        assert isinstance(net, LearningLossNet) == learning_loss
        if learning_loss:  # the paper's lambda of 1, LearningLossNet's default
            assert (net.ll_detach_epoch, net.ll_weight) == (0.6, 1.0)
    assert (mlp.module__hidden_sizes, mlp.module__dropout) == ((256, 128), 0.0)


def test_the_factories_pass_on_each_setting_they_take():
    # Each value differs from its default, so a setting dropped on the way
    # to the net shows.
    common = dict(max_epochs=7, lr=0.5, batch_size=9, device="cuda:1", random_state=3)
    mlp = make_mlp_classifier(4, 3, hidden_sizes=(5,), dropout=0.25, **common)
    cnn = make_cnn_classifier(3, in_channels=2, **common)
    resnet = make_resnet18_classifier(
        3,
        width=8,
        in_channels=2,
        momentum=0.5,
        weight_decay=0.0,
        min_steps_per_epoch=2,
        **common,
    )
    for net in (mlp, cnn, resnet):
        assert {key: net.get_params()[key] for key in common} == common
    assert (mlp.module__hidden_sizes, mlp.module__dropout) == ((5,), 0.25)
    assert (cnn.module__in_channels, cnn.input_shape) == (2, (2, 28, 28))
    assert (resnet.module__in_channels, resnet.input_shape) == (2, (2, 32, 32))
    assert resnet.module__width == 8 and resnet.iterator_train__min_steps == 2
    assert (resnet.optimizer__momentum, resnet.optimizer__weight_decay) == (0.5, 0.0)


def test_lr_schedule_decays_at_milestones():
    X, y = blobs(n=16)
    net = make_mlp_classifier(
        4,
        3,
        hidden_sizes=(8,),
        max_epochs=4,
        optimizer=torch.optim.SGD,
        lr=1.0,
        callbacks=[
            (
                "lr",
                LRScheduler(
                    torch.optim.lr_scheduler.MultiStepLR, milestones=[2], gamma=0.1
                ),
            )
        ],
    ).fit(X, y)
    assert net.history[:, "event_lr"] == pytest.approx([1.0, 1.0, 0.1, 0.1])


def test_kwargs_override_factory_defaults():
    net = make_mlp_classifier(
        4,
        3,
        verbose=1,
        optimizer=torch.optim.SGD,
        module__dropout=0.3,
        ll_detach_epoch=None,
        learning_loss=True,
    )
    assert net.verbose == 1 and net.optimizer is torch.optim.SGD
    assert net.module__dropout == 0.3 and net.ll_detach_epoch is None
    assert net.module__backbone is MLPModule


def test_cnn_classifier_fits_images():
    rng = np.random.RandomState(0)
    X, y = rng.rand(12, 1, 28, 28), rng.randint(0, 3, 12)
    net = make_cnn_classifier(
        3, learning_loss=True, max_epochs=1, batch_size=6, random_state=0
    ).fit(X, y)
    assert net.predict_proba(X).shape == (12, 3)


@pytest.mark.slow
def test_resnet18_classifier_fits_one_epoch():
    rng = np.random.RandomState(0)
    X, y = rng.rand(8, 3, 32, 32).astype(np.float32), rng.randint(0, 4, 8)
    net = make_resnet18_classifier(
        4,
        learning_loss=True,
        max_epochs=1,
        batch_size=4,
        min_steps_per_epoch=0,
        random_state=0,
    ).fit(X, y)
    assert net.predict_proba(X).shape == (8, 4)
    assert predicted_loss(net, X).shape == (8,)


@pytest.mark.parametrize(
    "n, min_steps, expected_batches", [(10, 5, 5), (10, 1, 3), (10, 0, 3)]
)
def test_min_steps_loader(n, min_steps, expected_batches):
    dataset = torch.utils.data.TensorDataset(torch.arange(n))
    loader = min_steps_loader(dataset, batch_size=4, shuffle=True, min_steps=min_steps)
    seen = torch.cat([b[0] for b in loader])
    assert len(loader) == expected_batches
    # Whole permutations first: every row appears once before any repeats.
    full = (len(seen) // n) * n
    counts = torch.bincount(seen[:full], minlength=n)
    assert torch.all(counts == full // n)


def test_min_steps_loader_draws_each_epochs_order_from_the_seeded_torch_rng():
    # A net's random_state seeds torch's RNG for training: the cycled
    # permutations must follow it, and each epoch (a new loader) draw anew.
    from skal_openset._models import seeded_torch

    dataset = torch.utils.data.TensorDataset(torch.arange(10))

    def order():
        loader = min_steps_loader(dataset, batch_size=4, shuffle=True, min_steps=5)
        return torch.cat([b[0] for b in loader]).tolist()

    with seeded_torch(0):
        first, second = order(), order()
    with seeded_torch(0):
        assert order() == first
    with seeded_torch(1):
        assert order() != first
    assert second != first

    # a generator given draws them in the torch RNG's stead
    def drawn_by(seed):
        generator = torch.Generator().manual_seed(seed)
        loader = min_steps_loader(dataset, 4, True, 5, generator=generator)
        return torch.cat([b[0] for b in loader]).tolist()

    with seeded_torch(0):
        assert drawn_by(0) == drawn_by(0) != drawn_by(1)


def test_min_steps_loader_trains_on_one_row_as_two_copies():
    # min_steps 0 gave a batch of one row, which batch norm refuses in training.
    dataset = torch.utils.data.TensorDataset(torch.arange(1))
    loader = min_steps_loader(dataset, batch_size=4, shuffle=True, min_steps=0)
    assert [b[0].tolist() for b in loader] == [[0, 0]]
    X, y = np.random.RandomState(0).rand(1, 3, 8, 8).astype(np.float32), [0]
    net = make_resnet18_classifier(
        2, module__width=2, max_epochs=1, min_steps_per_epoch=0, input_shape=(3, 8, 8)
    )
    # Seeded: one step from torch's global state predicted 0 or 1 with the
    # order the tests ran in.
    assert net.set_params(random_state=0).fit(X, np.array(y)).predict(X).shape == (1,)


def test_min_steps_loader_trains_with_batch_size_1_on_batches_of_two():
    # 8x8 images reach 1x1 maps: batch norm refused every batch of one row.
    dataset = torch.utils.data.TensorDataset(torch.arange(5))
    assert [len(b[0]) for b in min_steps_loader(dataset, 1, True)] == [2, 2]
    assert [len(b[0]) for b in min_steps_loader(dataset, 1, True, 3)] == [2, 2, 2]
    assert [len(b[0]) for b in min_steps_loader(dataset, 1, False)] == [1] * 5
    X = np.random.RandomState(0).rand(5, 3, 8, 8).astype(np.float32)
    net = make_resnet18_classifier(
        2,
        module__width=2,
        max_epochs=1,
        batch_size=1,
        min_steps_per_epoch=0,
        input_shape=(3, 8, 8),
        random_state=0,
    )
    assert net.fit(X, np.arange(5) % 2).predict(X).shape == (5,)


def test_numpy_integer_batch_sizes_train_as_their_python_ints():
    # A search over np.array([16, 32]) sets np.int64, which torch's
    # DataLoader and RandomSampler refused.
    X, y = blobs(n=40)
    X = X.astype(np.float32)
    params = dict(max_epochs=2, hidden_sizes=(8,), random_state=0)
    sizes = dict(batch_size=16, iterator_train__min_steps=5)
    sizes.update(iterator_train=min_steps_loader, iterator_valid__batch_size=8)
    expected = make_mlp_classifier(4, 3, **params).set_params(**sizes).fit(X, y)
    as_numpy = {k: np.int64(v) if isinstance(v, int) else v for k, v in sizes.items()}
    net = make_mlp_classifier(4, 3, **params).set_params(**as_numpy).fit(X, y)
    np.testing.assert_array_equal(net.predict_proba(X), expected.predict_proba(X))
    search = GridSearchCV(
        make_mlp_classifier(4, 3, **params),
        {"batch_size": np.array([16, 32])},
        cv=2,
        error_score="raise",
    )
    assert np.isfinite(search.fit(X, y).cv_results_["mean_test_score"]).all()


def test_inference_on_an_array_takes_large_slices_with_the_same_result():
    X, y = blobs(n=3000)
    net = make_mlp_classifier(4, 3, hidden_sizes=(16,), max_epochs=2, random_state=0)
    net.fit(X, y)
    batches = list(net.get_iterator(net.get_dataset(X), training=False))
    assert len(batches) == 1 and batches[0][0].shape == (3000, 4)
    # Any iterator_valid parameter keeps skorch's own row-by-row DataLoader.
    rowwise = clone(net).set_params(iterator_valid__batch_size=64)
    rowwise.initialize()
    rowwise.module_.load_state_dict(net.module_.state_dict())
    assert len(rowwise.get_iterator(rowwise.get_dataset(X))) == 47
    np.testing.assert_allclose(
        net.predict_proba(X), rowwise.predict_proba(X), rtol=1e-5, atol=1e-7
    )


def test_inference_cuts_rows_larger_than_a_slice_batch_size_at_a_time(monkeypatch):
    # A row of more than a slice's 4 MB (a large image) gives slices of
    # batch_size rows, not of none.
    from skal_openset import _models

    X, y = blobs(n=300)
    net = make_mlp_classifier(4, 3, hidden_sizes=(8,), max_epochs=1, batch_size=128)
    expected = net.fit(X, y).predict_proba(X)
    monkeypatch.setattr(_models, "_INFERENCE_BATCH_BYTES", 8)  # a row holds 16
    batches = net.get_iterator(net.get_dataset(X), training=False)
    assert [len(X_batch) for X_batch, _ in batches] == [128, 128, 44]
    np.testing.assert_array_equal(net.predict_proba(X), expected)


def test_validation_on_a_predefined_dataset_takes_its_targets():
    # The inference slices dropped y, and skorch validates through them:
    # predefined_split failed with "Cannot convert this data type" (and, a
    # generator, they were spent after the first epoch).
    from skorch.helper import predefined_split

    X, y = blobs(n=200)
    X = X.astype(np.float32)  # a Dataset is passed on as it is
    valid = Dataset(X[150:], y[150:])
    net = make_mlp_classifier(
        4, 3, max_epochs=2, random_state=0, train_split=predefined_split(valid)
    ).fit(X[:150], y[:150])
    losses = net.history[:, "valid_loss"]
    assert len(losses) == 2 and np.all(np.isfinite(losses))
    assert len(net.history[:, "valid_acc"]) == 2
    expected = F.cross_entropy(
        torch.from_numpy(predict_logits(net, X[150:])), torch.from_numpy(y[150:]).long()
    )
    np.testing.assert_allclose(losses[-1], expected.item(), rtol=1e-5)
    # a Dataset of an array with negative strides, which torch cannot view
    np.testing.assert_array_equal(
        net.predict(Dataset(X[::-1])), net.predict(X[::-1].copy())
    )


def test_seeded_fits_in_threads_do_not_share_the_torch_rng():
    # Dask or joblib threads fit nets side by side in one process.
    from concurrent.futures import ThreadPoolExecutor

    X, y = blobs()

    def fit(seed):
        net = make_mlp_classifier(
            4, 3, hidden_sizes=(16,), max_epochs=6, batch_size=8, random_state=seed
        )
        return state(net.fit(X, y).module_)

    expected = [fit(seed) for seed in range(4)]
    with ThreadPoolExecutor(4) as pool:
        concurrent = list(pool.map(fit, range(4)))
    assert all(states_equal(a, b) for a, b in zip(expected, concurrent))


@pytest.mark.parametrize("make", [make_cnn_classifier, make_resnet18_classifier])
@pytest.mark.parametrize(
    "input_shape", [(8, 8), (64,), (2, 8, 8), (1, 8), (1, 8, 8, 1)]
)
def test_an_image_shape_that_does_not_fit_the_channels_is_refused_up_front(
    make, input_shape
):
    match = r"input_shape must be \(in_channels.* pass input_shape=\(1, h, w\)\.$"
    with pytest.raises(ValueError, match=match):
        make(10, in_channels=1, input_shape=input_shape)


def test_the_one_cycle_schedule_follows_max_epochs_set_after_the_net_was_built():
    from skal_openset import make_fast_resnet_classifier
    from skal_openset._fast_resnet import one_cycle_factor

    net = make_fast_resnet_classifier(
        2, width=2, max_epochs=2, batch_size=8, lr=0.2, random_state=0
    )
    net.set_params(max_epochs=5)
    X = np.random.RandomState(0).rand(8, 3, 8, 8).astype(np.float32)
    lrs = net.fit(X, np.arange(8) % 2).history[:, "event_lr"]
    expected = [0.2 * one_cycle_factor(e, 5) for e in range(5)]
    np.testing.assert_allclose(lrs, expected)
    assert min(lrs) > 0


# ------------------------------------------------- settings that follow max_epochs


def test_the_detach_epoch_follows_max_epochs_set_after_the_net_was_built():
    # The factories detach after 60% of the epochs: 3 of 5, not 60% of 100.
    X, y = blobs(n=16)
    net = make_mlp_classifier(
        4, 3, learning_loss=True, hidden_sizes=(8,), max_epochs=100
    )
    rec = _RecordDetach()
    clone(net).set_params(max_epochs=5, callbacks=[rec], random_state=0).fit(X, y)
    assert rec.flags == [False, False, False, True, True]


@pytest.mark.parametrize(
    "max_epochs, share, flags",
    [
        (3, 0.6, [False, True, True]),
        (5, 1.0, [False] * 5),
        (5, np.float32(0.6), [False] * 3 + [True] * 2),
    ],
    ids=["rounded-down", "1.0", "float32"],
)
def test_a_detach_share_of_any_float_type_is_a_share_of_the_epochs(
    max_epochs, share, flags
):
    # int(0.6 * 3) = 1, as documented: detached from the second of three
    # epochs on (rounded to nearest, 2, it trained one epoch more jointly).
    # 1.0 is the whole run (never detached), where the integer 1 is epoch 1;
    # a NumPy float32, no Python float, is a share as much as 0.6 is.
    X, y = blobs(n=16)
    rec = _RecordDetach()
    make_mlp_classifier(
        4,
        3,
        learning_loss=True,
        hidden_sizes=(8,),
        max_epochs=max_epochs,
        ll_detach_epoch=share,
        callbacks=[rec],
        random_state=0,
    ).fit(X, y)
    assert rec.flags == flags


@pytest.mark.parametrize("value", [-1, 1.5, "60%", True])
def test_a_bad_detach_epoch_is_refused_at_fit(value):
    X, y = blobs(n=16)
    net = make_mlp_classifier(
        4, 3, learning_loss=True, hidden_sizes=(8,), ll_detach_epoch=value
    )
    with pytest.raises(ValueError, match="ll_detach_epoch must be"):
        net.fit(X, y)


@pytest.mark.parametrize(
    "value, bounds, expected",
    [
        (3, {}, True),
        (np.int64(3), dict(min_val=1), True),  # as a search over np.arange sets
        (np.uint8(0), dict(min_val=0), True),
        (-1, dict(min_val=-1, max_val=-1), True),
        (5, dict(min_val=1, max_val=5), True),  # both bounds included
        (1, dict(min_val=1, max_val=5), True),
        (0, dict(min_val=1), False),
        (-2, dict(min_val=-1), False),
        (6, dict(min_val=1, max_val=5), False),
        (True, dict(min_val=0), False),  # an Integral, which would mean 1
        (False, {}, False),
        (np.True_, {}, False),
        (2.0, {}, False),  # a whole float is no integer
        (np.float64(2), {}, False),
        ("2", {}, False),
        (None, {}, False),
    ],
)
def test_is_int_takes_integers_within_the_bounds_and_no_bools(value, bounds, expected):
    assert is_int(value, **bounds) is expected


@pytest.mark.parametrize(
    "module, kwargs, match",
    [
        (MLPModule, dict(n_features=True), "n_features must be a positive integer"),
        (MLPModule, dict(hidden_sizes=(True,)), "every hidden size must be"),
        (MLPModule, dict(dropout=True), "dropout must be a number, not True"),
        # NumPy's, named as a bool, not as a number of an unknown type
        (
            MLPModule,
            dict(dropout=np.True_),
            r"dropout must be a number, not np\.True_\.$",
        ),
        (ResNet18Module, dict(in_channels=True), "in_channels must be"),
        (SmallCNNModule, dict(n_classes=True), "n_classes must be"),
    ],
    ids=[
        "n_features",
        "hidden size",
        "dropout",
        "numpy dropout",
        "in_channels",
        "n_classes",
    ],
)
def test_the_modules_refuse_booleans_for_numbers(module, kwargs, match):
    # bool is an Integral: in_channels=True built a grey-image ResNet and
    # dropout=True dropped every activation, silently.
    defaults = dict(n_features=3, n_classes=2) if module is MLPModule else {}
    with pytest.raises((ValueError, TypeError), match=match):
        module(**{"n_classes": 2, **defaults, **kwargs})


@pytest.mark.parametrize(
    "param",
    [
        "max_epochs",
        "lr",
        "batch_size",
        "optimizer__lr",
        "optimizer__momentum",
        "optimizer__weight_decay",
        "iterator_train__min_steps",
        "ll_weight",
        "random_state",  # True seeded as 1
    ],
)
def test_booleans_are_refused_for_the_nets_numeric_parameters(param):
    # bool is an Integral and skorch passes these on unchecked: True trained
    # one epoch (max_epochs), at lr 1, or failed in torch (weight_decay).
    X = np.random.RandomState(0).rand(8, 3, 8, 8).astype(np.float32)
    net = make_resnet18_classifier(
        2, learning_loss=True, input_shape=(3, 8, 8), max_epochs=1, batch_size=4
    )
    net.set_params(module__width=2, **{param: True})
    with pytest.raises(ValueError, match=f"'{param}' parameter.*not True"):
        net.fit(X, np.arange(8) % 2)


@pytest.mark.parametrize(
    "params, param, high",
    [
        ({"lr": 1e39}, "lr", r"3\.402e\+38"),  # SGD's step
        ({"optimizer__momentum": 1e39}, "optimizer__momentum", r"3\.402e\+38"),
        ({"weight_decay": 1e39}, "optimizer__weight_decay", r"3\.402e\+38"),
        # Adam's first step is lr / (1 - beta1)
        ({"optimizer": torch.optim.Adam, "lr": 1e38}, "lr", r"3\.402e\+37"),
        (
            {
                "optimizer": torch.optim.AdamW,
                "optimizer__betas": (0.5, 0.9),
                "lr": 2e38,
            },
            "lr",
            r"1\.701e\+38",
        ),
        ({"optimizer": torch.optim.Adamax, "lr": 1e38}, "lr", r"3\.402e\+37"),
    ],
)
def test_optimizer_numbers_float32_cannot_hold_are_refused_naming_them(
    params, param, high
):
    # torch failed at the step that took them ("value cannot be converted to
    # type float without overflow"), naming no parameter.
    X = np.random.RandomState(0).rand(8, 3, 8, 8).astype(np.float32)
    net = make_resnet18_classifier(
        2,
        width=2,
        input_shape=(3, 8, 8),
        max_epochs=1,
        batch_size=4,
        min_steps_per_epoch=0,
        **params,
    )
    with pytest.raises(InvalidParameterError, match=rf"'{param}' .* \[0, {high}\]"):
        net.fit(X, np.arange(8) % 2)


@pytest.mark.parametrize("ll_weight", [1e39, -0.5, float("nan")])
def test_a_ranking_weight_out_of_range_is_refused_naming_it(ll_weight):
    # float32 made 1e39 inf: the first loss was inf, the net's weights NaN,
    # and the fit ended without a word; so did NaN, and a negative weight
    # trained the loss-prediction head to rank the losses backwards.
    X, y = blobs(n=16)
    net = make_mlp_classifier(
        4,
        3,
        learning_loss=True,
        hidden_sizes=(8,),
        max_epochs=1,
        ll_weight=ll_weight,
        random_state=0,
    )
    with pytest.raises(
        InvalidParameterError, match=r"'ll_weight' .* \[0, 3\.402e\+38\]"
    ):
        net.fit(X, y)


@pytest.mark.parametrize(
    "seed", [-1, 2**32, 1.0, np.random.default_rng(0), np.random.SeedSequence(0)]
)
def test_a_net_refuses_what_check_random_state_refuses_naming_its_random_state(seed):
    # Seeding at fit failed in NumPy's words ("Seed must be between 0 and
    # 2**32 - 1"), which named neither the net nor its parameter.
    X = np.random.RandomState(0).rand(8, 3).astype(np.float32)
    net = make_mlp_classifier(3, 2, max_epochs=1, random_state=seed)
    match = "(?s)'random_state' parameter of TargetNet must be an int in .*rng.int"
    with pytest.raises(InvalidParameterError, match=match):
        net.fit(X, np.arange(8) % 2)


def _tiny_resnet18(**params):
    """The schedule tests' resnet18 (width 2, batches of 4, no minimum of
    steps, seeded), and 8 images of 8x8 with 2 classes to train it on."""
    X = np.random.RandomState(0).rand(8, 3, 8, 8).astype(np.float32)
    y = np.arange(8) % 2
    params = dict(input_shape=(3, 8, 8), batch_size=4, min_steps_per_epoch=0, **params)
    params.update(module__width=2, random_state=0)
    return make_resnet18_classifier(2, **params), X, y


def _saved_before_its_rates_were_noted(net):
    """`net`, pickled as before its schedule noted the rates it left."""
    del dict(net.callbacks_)["lr_scheduler"].rates_left_
    return pickle.loads(pickle.dumps(net))


def test_the_resnet18_milestones_follow_max_epochs_set_after_the_net_was_built():
    net, X, y = _tiny_resnet18()
    net = clone(net).set_params(max_epochs=4)
    lrs = net.fit(X, y).history[:, "event_lr"]
    assert lrs == pytest.approx([0.1, 0.1, 0.01, 0.001])  # drops after epochs 2, 3
    fresh = _tiny_resnet18(max_epochs=4)[0].fit(X, y)
    assert fresh.history[:, "event_lr"] == pytest.approx(lrs)
    given = _tiny_resnet18(max_epochs=4, lr_milestones=[1])[0]
    lrs = given.fit(X, y).history[:, "event_lr"]
    assert lrs == pytest.approx([0.1, 0.01, 0.01, 0.01])
    # Shares of epochs rounded down, as documented: after epochs 1 and 2 of 3.
    three = _tiny_resnet18(max_epochs=3)[0].fit(X, y)
    assert three.history[:, "event_lr"] == pytest.approx([0.1, 0.01, 0.001])
    # A milestone at epoch 0 lowered the rate from the start (0.001 for one epoch).
    one = _tiny_resnet18(max_epochs=1)[0].fit(X, y)
    assert one.history[:, "event_lr"] == pytest.approx([0.1])


@pytest.mark.parametrize("milestones", [None, [1]])
def test_each_training_call_runs_the_whole_resnet18_schedule(milestones):
    # A partial_fit (a teach of ActiveLearner(warm_start=True)) went on past
    # the milestones: every epoch at the last decayed rate, 0.001.
    net, X, y = _tiny_resnet18(max_epochs=4, lr_milestones=milestones)
    net.fit(X, y)
    schedule = net.history[:, "event_lr"]
    net.partial_fit(X, y)
    assert net.history[:, "event_lr"] == pytest.approx(2 * schedule)
    # A rate set between calls is where the next one starts.
    net.set_params(lr=0.05)
    net.partial_fit(X, y)
    assert net.history[-4:, "event_lr"] == pytest.approx(np.multiply(schedule, 0.5))


def test_a_rate_set_to_exactly_the_one_the_schedule_left_is_where_the_next_starts():
    # Taken as unchanged: the next call ran the whole schedule from 0.1.
    net, X, y = _tiny_resnet18(max_epochs=4)
    net.fit(X, y)
    schedule = net.history[:, "event_lr"]
    net.set_params(lr=schedule[-1])
    net.partial_fit(X, y)
    expected = np.multiply(schedule, schedule[-1] / 0.1)
    assert net.history[-4:, "event_lr"] == pytest.approx(expected)


@pytest.mark.parametrize("key", ["optimizer__lr", "optimizer__param_groups__0__lr"])
def test_an_optimizer_rate_set_to_exactly_the_one_left_is_where_the_next_starts(key):
    # skorch sets these on the optimizer alone, not on the net's lr: taken as
    # unchanged, the next call ran the whole schedule from 0.1.
    net, X, y = _tiny_resnet18(max_epochs=4)
    net.fit(X, y)
    schedule = net.history[:, "event_lr"]
    net.set_params(**{key: schedule[-1]})
    net.partial_fit(X, y)
    expected = np.multiply(schedule, schedule[-1] / 0.1)
    assert net.history[-4:, "event_lr"] == pytest.approx(expected)


class _StartRates(Callback):
    # The rate each training call starts at, read off the optimizer: torch
    # 2.1's ReduceLROnPlateau has no get_last_lr, so skorch records no event_lr.
    def __init__(self):
        self.rates = []

    def on_train_begin(self, net, **kwargs):
        self.rates.append(net.optimizer_.param_groups[0]["lr"])


def test_a_rebuilt_plateau_schedule_trains_and_each_call_starts_it_afresh():
    # ReduceLROnPlateau takes no last_epoch: the first fit raised a TypeError.
    X, y = blobs(n=40)
    scheduler = RebuiltLRScheduler(
        policy=torch.optim.lr_scheduler.ReduceLROnPlateau,
        monitor="train_loss",
        patience=0,
        factor=0.5,
    )
    starts = _StartRates()
    callbacks = [("plateau", scheduler), ("starts", starts)]
    params = dict(max_epochs=5, lr=0.1, random_state=0)
    net = make_mlp_classifier(4, 3, callbacks=callbacks, **params)
    net.fit(X, y)
    assert net.optimizer_.param_groups[0]["lr"] < 0.1  # lowered on a plateau
    net.partial_fit(X, y)
    assert starts.rates == [0.1, 0.1]  # not where the last call left it


class _StepLROfAnyKeyword(torch.optim.lr_scheduler.StepLR):
    def __init__(self, optimizer, **kwargs):
        super().__init__(optimizer, **kwargs)


def test_a_schedule_of_any_keyword_runs_whole_in_each_call():
    # Its signature does not tell whether it takes last_epoch: given skorch's,
    # the epochs of the calls before, a second call went on past them.
    X, y = blobs(n=40)
    scheduler = RebuiltLRScheduler(policy=_StepLROfAnyKeyword, step_size=1, gamma=0.5)
    params = dict(max_epochs=3, lr=0.1, random_state=0)
    net = make_mlp_classifier(4, 3, callbacks=[("step", scheduler)], **params)
    net.fit(X, y).partial_fit(X, y)
    assert net.history[:, "event_lr"] == pytest.approx(2 * [0.1, 0.05, 0.025])


class _StopAtBatchEnd(Callback):
    armed = False

    def on_batch_end(self, net, **kwargs):
        if self.armed:
            raise RuntimeError("stopped")


def test_a_call_stopped_between_batch_steps_leaves_the_next_its_whole_schedule():
    # Stepped every batch, the schedule left the rate mid-epoch where the
    # call stopped: unless noted, the next call took it for a rate set since.
    X, y = blobs(n=40)
    scheduler = RebuiltLRScheduler(
        policy=torch.optim.lr_scheduler.StepLR,
        step_size=1,
        gamma=0.5,
        step_every="batch",
    )
    starts, stop = _StartRates(), _StopAtBatchEnd()
    callbacks = [("step", scheduler), ("starts", starts), ("stop", stop)]
    net = make_mlp_classifier(4, 3, callbacks=callbacks, max_epochs=2, lr=0.1)
    stop.armed = True
    with pytest.raises(RuntimeError, match="stopped"):
        net.partial_fit(X, y)
    stop.armed = False
    net.partial_fit(X, y)
    assert starts.rates == [0.1, 0.1]


def test_one_group_s_rate_set_to_the_one_left_is_where_that_group_goes_on():
    # The group set starts from its rate set; the other runs its whole schedule.
    X, y = blobs(n=40)
    scheduler = RebuiltLRScheduler(
        policy=torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.5
    )
    groups = [("head.*", {"lr": 0.2})]  # group 0; group 1 is at lr 0.1
    params = dict(max_epochs=3, lr=0.1, random_state=0)
    params.update(callbacks=[("step", scheduler)], optimizer__param_groups=groups)
    net = make_mlp_classifier(4, 3, **params).fit(X, y)
    left = [group["lr"] for group in net.optimizer_.param_groups]
    assert left == pytest.approx([0.025, 0.0125])
    net.set_params(optimizer__param_groups__1__lr=left[1])
    net.partial_fit(X, y)
    rates = [group["lr"] for group in net.optimizer_.param_groups]
    assert rates == pytest.approx([0.025, 0.0125 / 8])


@pytest.mark.parametrize("lr", [None, 0.05])
def test_a_resnet18_saved_before_its_rates_were_noted_runs_the_whole_schedule(lr):
    # Such a net (pickled before the scheduler noted the rates it left) went
    # on from the last decayed rate, 0.001, and decayed it further to 1e-05.
    net, X, y = _tiny_resnet18(max_epochs=4)
    net.fit(X, y)
    schedule = net.history[:, "event_lr"]
    net = _saved_before_its_rates_were_noted(net)
    if lr is not None:  # a rate set since is still where the next call starts
        net.set_params(lr=lr)
    net.partial_fit(X, y)
    expected = schedule if lr is None else np.multiply(schedule, lr / 0.1)
    assert net.history[-4:, "event_lr"] == pytest.approx(expected)


def test_a_rate_set_on_a_resnet18_then_saved_before_rates_were_noted_is_kept():
    # Saved after its rate was set, by code that noted no rates: the rate,
    # the net's lr, is the one set, and the next call starts from it, not
    # from the rate the schedule started the last call at.
    net, X, y = _tiny_resnet18(max_epochs=4)
    net.fit(X, y)
    schedule = net.history[:, "event_lr"]
    net.set_params(lr=0.05)
    net = _saved_before_its_rates_were_noted(net)
    net.partial_fit(X, y)
    assert net.history[-4:, "event_lr"] == pytest.approx(np.multiply(schedule, 0.5))


def test_an_optimizer_rate_set_on_a_resnet18_saved_before_its_rates_were_noted():
    # Told from the net's lr, which optimizer__lr leaves: the rate set was
    # taken as one the schedule left, and the next call started from 0.1.
    net, X, y = _tiny_resnet18(max_epochs=4)
    net.fit(X, y)
    schedule = net.history[:, "event_lr"]
    net = _saved_before_its_rates_were_noted(net)
    net.set_params(optimizer__lr=0.05)
    net.partial_fit(X, y)
    assert net.history[-4:, "event_lr"] == pytest.approx(np.multiply(schedule, 0.5))


@pytest.mark.parametrize("stop", [RuntimeError, KeyboardInterrupt])
def test_a_resnet18_training_call_stopped_midway_leaves_the_next_its_whole_schedule(
    stop,
):
    # The rates were noted at the end of training only: a call stopped after
    # a milestone left the next one starting from the decayed rate, 0.01.
    class Stop(Callback):
        armed = False

        def on_epoch_end(self, net, **kwargs):
            if self.armed and len(net.history) == 6:  # two epochs in
                raise stop

    stopper = Stop()
    net, X, y = _tiny_resnet18(max_epochs=4, callbacks=[stopper])
    net.fit(X, y)
    schedule = net.history[:, "event_lr"]
    stopper.armed = True
    with pytest.raises(stop):
        net.partial_fit(X, y)
    stopper.armed = False
    net.partial_fit(X, y)
    assert net.history[-4:, "event_lr"] == pytest.approx(schedule)


# ---------------------------------------------------------------- input checks


def test_classes_other_than_0_to_k_minus_1_are_refused_at_fit():
    X, y = blobs(n=30)
    net = TargetNet(
        MLPModule,
        module__n_features=4,
        module__n_classes=3,
        classes=np.array([1, 2, 3]),
        max_epochs=1,
        verbose=0,
    )
    with pytest.raises(
        ValueError, match=r"classes must be np\.arange\(k\).*LabelEncoder"
    ):
        net.fit(X, y + 1)
    net.set_params(classes=["a", "b", "c"])
    with pytest.raises(ValueError, match="LabelEncoder"):
        net.fit(X, y)
    # every index, out of order: classes_ would misname the columns
    net.set_params(classes=[2, 0, 1])
    with pytest.raises(ValueError, match=r"got \[2, 0, 1\]"):
        net.fit(X, y)
    net.set_params(classes=[0, 1, 2]).fit(X, y)  # a list of 0..k-1 is fine


def test_arrays_with_negative_strides_are_accepted_everywhere():
    X, y = blobs(n=40)
    X = X.astype(np.float32)
    net = make_mlp_classifier(4, 3, hidden_sizes=(8,), max_epochs=1, random_state=0)
    net.fit(X[::-1], y[::-1])
    np.testing.assert_array_equal(net.predict(X[::-1]), net.predict(X)[::-1])
    np.testing.assert_array_equal(
        predict_logits(net, X[::-1]), predict_logits(net, X)[::-1]
    )
    flipped = np.ascontiguousarray(X[:, ::-1])
    np.testing.assert_array_equal(
        net.predict_proba(X[:, ::-1]), net.predict_proba(flipped)
    )


def test_sparse_rows_train_and_predict_as_their_dense_form():
    # A one-hot ColumnTransformer's sparse output was refused ("call
    # toarray()"), which a pipeline gives no place to do; skorch takes it.
    X = sparse.random(30, 6, density=0.3, format="csr", random_state=0)
    y = np.arange(30) % 3
    net = make_mlp_classifier(6, 3, max_epochs=2, random_state=0).fit(X, y)
    dense = make_mlp_classifier(6, 3, max_epochs=2, random_state=0).fit(X.toarray(), y)
    np.testing.assert_array_equal(
        net.predict_proba(X), dense.predict_proba(X.toarray())
    )


@pytest.mark.parametrize("size", [(2, 2), (3, 3), (8, 3)])
def test_images_too_small_for_the_cnn_are_refused_when_it_is_built(size):
    with pytest.raises(ValueError, match="at least 4x4"):
        make_cnn_classifier(2, input_shape=(1, *size))
    make_cnn_classifier(2, input_shape=(1, 4, 4))  # the smallest that works


@pytest.mark.parametrize("size", [(3, 3), (8, 3)])
def test_images_too_small_for_the_cnn_are_refused_when_the_size_is_left_open(size):
    # input_shape=(1, None, None) took them, then torch failed with "Output
    # size is too small".
    X = np.random.RandomState(0).rand(20, 1, *size).astype(np.float32)
    net = make_cnn_classifier(2, input_shape=(1, None, None), max_epochs=1)
    with pytest.raises(
        ValueError, match="at least 4x4 pixels.*got " + re.escape(str(size))
    ):
        net.fit(X, np.arange(20) % 2)


def test_cnn_takes_images_of_any_size_as_the_other_factories_do():
    # input_shape=(1, None, None) failed on comparing None with 4.
    X = np.random.RandomState(0).rand(8, 1, 6, 6).astype(np.float32)
    net = make_cnn_classifier(
        2, input_shape=(1, None, None), max_epochs=1, batch_size=4
    )
    assert net.fit(X, np.arange(8) % 2).predict(X[:, :, :5]).shape == (8,)


@pytest.mark.parametrize("min_steps", [-5, -1, 2.5])
def test_a_bad_min_steps_per_epoch_is_refused_at_fit(min_steps):
    # -5 trained as 0, without a word.
    X = np.random.RandomState(0).rand(8, 1, 8, 8).astype(np.float32)
    net = make_resnet18_classifier(
        2, in_channels=1, min_steps_per_epoch=min_steps, max_epochs=1, module__width=2
    )
    with pytest.raises(ValueError, match="min_steps_per_epoch.* >= 0; got"):
        net.fit(X, np.arange(8) % 2)


def test_cnn_fits_the_smallest_images():
    X = np.random.RandomState(0).rand(8, 1, 4, 4).astype(np.float32)
    net = make_cnn_classifier(2, input_shape=(1, 4, 4), max_epochs=1, batch_size=4)
    assert net.fit(X, np.arange(8) % 2).predict(X).shape == (8,)


def test_resnet18_on_tiny_images_never_trains_on_a_batch_of_one():
    # 8x8 images reach 1x1 maps: batch norm cannot train on one row of them.
    X = np.random.RandomState(0).rand(9, 3, 8, 8).astype(np.float32)
    net = make_resnet18_classifier(
        2,
        input_shape=(3, 8, 8),
        max_epochs=1,
        batch_size=4,
        min_steps_per_epoch=0,
        module__width=2,
        random_state=0,
    )
    assert net.fit(X, np.arange(9) % 2).predict(X).shape == (9,)


@pytest.mark.parametrize("shuffle, sizes", [(True, [4, 4]), (False, [4, 4, 1])])
def test_min_steps_loader_leaves_out_a_lone_last_row_when_shuffling(shuffle, sizes):
    dataset = torch.utils.data.TensorDataset(torch.arange(9))
    loader = min_steps_loader(dataset, batch_size=4, shuffle=shuffle)
    assert [len(b[0]) for b in loader] == sizes
    assert [len(b[0]) for b in min_steps_loader(dataset, 4, shuffle, 3)] == [4, 4, 4]
    kept = min_steps_loader(dataset, 4, shuffle, drop_last=False)  # the caller's
    assert [len(b[0]) for b in kept] == [4, 4, 1]


def test_min_steps_loader_keeps_the_order_of_rows_that_fill_its_steps():
    # Unshuffled (as for predictions), only a dataset short of min_steps
    # batches is drawn in random permutations.
    from skal_openset._models import seeded_torch

    dataset = torch.utils.data.TensorDataset(torch.arange(8))
    with seeded_torch(0):
        loader = min_steps_loader(dataset, batch_size=4, shuffle=False, min_steps=2)
        assert torch.cat([b[0] for b in loader]).tolist() == list(range(8))
        one_row = torch.utils.data.TensorDataset(torch.arange(1))
        assert [b[0].tolist() for b in min_steps_loader(one_row, 4, False)] == [[0]]


# ------------------------------------------------------------ inputs as users give them

_FACTORIES = {
    "mlp": lambda: make_mlp_classifier(64, 2, hidden_sizes=(4,)),
    "cnn": lambda: make_cnn_classifier(2, input_shape=(1, 8, 8)),
    "resnet18": lambda: make_resnet18_classifier(
        2, in_channels=1, input_shape=(1, 8, 8), min_steps_per_epoch=0, module__width=2
    ),
    "fast_resnet": lambda: make_fast_resnet_classifier(2, in_channels=1, width=2),
}


@pytest.mark.parametrize("random_state", [None, 0])
@pytest.mark.parametrize("device", ["cuda", "cdua", "xpu", "mps", "meta"])
@pytest.mark.parametrize("factory", [*_FACTORIES, "encoder"])
def test_a_device_torch_cannot_use_here_is_a_value_error_before_training(
    factory, device, random_state, monkeypatch
):
    # torch's AssertionError ("Torch not compiled with CUDA enabled") or
    # RuntimeError came from inside skorch's initialisation or the first step;
    # for a seeded net, from seeding the device's generators, before any check.
    from skal_openset import ContrastiveEncoder

    for name in ("cuda", "xpu", "mps"):  # the backends this torch has
        if (backend := getattr(torch, name, None)) is not None:
            monkeypatch.setattr(backend, "device_count", lambda: 0, raising=False)
    X = np.random.RandomState(0).rand(4, 64).astype(np.float32)
    params = {"max_epochs": 1, "device": device, "random_state": random_state}
    if factory == "encoder":
        model = ContrastiveEncoder(width=2, **params)
        fit = lambda: model.fit(X.reshape(4, 1, 8, 8))  # noqa: E731
    else:
        model = _FACTORIES[factory]().set_params(**params)
        fit = lambda: model.fit(X, [0, 1, 0, 1])  # noqa: E731
    with pytest.raises(ValueError, match=f"device='{device}': '{device}' "):
        fit()


@pytest.mark.parametrize("factory", list(_FACTORIES))
def test_read_only_arrays_fit_and_predict_without_a_warning(factory):
    # torch warned of wrapping a non-writable array (a memmap, say), in
    # training's batches and in predict's.
    X = np.random.RandomState(0).rand(8, 1, 8, 8).astype(np.float32)
    y = np.arange(8) % 2
    X.flags.writeable = y.flags.writeable = False
    net = _FACTORIES[factory]().set_params(max_epochs=1, batch_size=4, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.fit(X, y).predict_proba(X)


@pytest.mark.parametrize("sequence", [list, tuple])
@pytest.mark.parametrize("factory", list(_FACTORIES))
def test_labels_may_be_a_list_or_a_tuple(factory, sequence):
    X = np.random.RandomState(0).rand(8, 1, 8, 8).astype(np.float32)
    y = [0, 1] * 4

    def make():
        net = _FACTORIES[factory]()
        return net.set_params(batch_size=4, max_epochs=1, random_state=0)

    expected = make().fit(X, np.array(y)).predict_proba(X)
    np.testing.assert_array_equal(make().fit(X, sequence(y)).predict_proba(X), expected)
    net = make().fit(X, np.array(y))
    net.partial_fit(X, sequence(y))
    np.testing.assert_array_equal(
        net.predict_proba(X),
        make().fit(X, np.array(y)).partial_fit(X, np.array(y)).predict_proba(X),
    )


def test_a_dataframe_must_come_with_the_columns_of_fit():
    pd = pytest.importorskip("pandas")
    X, y = blobs(n=40)
    frame = pd.DataFrame(X, columns=list("abcd"))
    net = make_mlp_classifier(4, 3, hidden_sizes=(8,), max_epochs=1, random_state=0)
    net.fit(frame, y)
    assert net.n_features_in_ == 4 and net.feature_names_in_.tolist() == list("abcd")
    reordered = frame[list("dcba")]
    for method in (net.predict, net.predict_proba, lambda X: net.partial_fit(X, y)):
        with pytest.raises(ValueError, match="same order as they were in fit"):
            method(reordered)
    np.testing.assert_array_equal(net.predict(frame), net.predict(frame.copy()))
    # The inference helpers and forward took the reordered columns silently.
    for helper in (predict_logits, embed, type(net).forward):
        with pytest.raises(ValueError, match="same order as they were in fit"):
            helper(net, reordered)
    # a first partial_fit records them, and a warm_start fit, which trains
    # the same weights on, checks them
    assert clone(net).partial_fit(frame, y).feature_names_in_.tolist() == list("abcd")
    warm = clone(net).set_params(warm_start=True).fit(frame, y)
    with pytest.raises(ValueError, match="same order as they were in fit"):
        warm.fit(reordered, y)
    net.fit(
        Dataset(X.astype(np.float32), y), None
    )  # a Dataset leaves no names of the DataFrame fit
    assert not hasattr(net, "feature_names_in_")
    net.fit(X, y)  # refit on an array: no names left from the DataFrame
    assert not hasattr(net, "feature_names_in_") and net.n_features_in_ == 4
    with pytest.raises(
        ValueError, match="X has 3 features, but TargetNet is expecting 4"
    ):
        net.predict(X[:, :3])


def test_image_rows_have_no_number_of_features_and_take_every_layout():
    X = np.random.RandomState(0).rand(8, 1, 8, 8).astype(np.float32)
    y = np.arange(8) % 2
    net = make_cnn_classifier(2, input_shape=(1, 8, 8), max_epochs=1, random_state=0)
    flat = net.fit(X.reshape(8, 64), y).predict_proba(X.reshape(8, 64))
    assert net.n_features_in_ == 64
    np.testing.assert_array_equal(net.predict_proba(X), flat)
    net.fit(X, y)
    assert not hasattr(net, "n_features_in_")  # a channel count is no feature count
    np.testing.assert_array_equal(net.predict_proba(X.reshape(8, 64)), flat)


def test_rows_are_read_in_the_layouts_listed_and_no_other():
    X = np.arange(20, dtype=np.float32).reshape(5, 4, 1)
    # rows (4, 1) hold the 4 features of a flat net
    np.testing.assert_array_equal(_to_input_shape(X, (4,)), X.reshape(5, 4))
    # a 1-D X holds one row per value for a net of one feature
    np.testing.assert_array_equal(_to_input_shape(X[:, 0, 0], (1,)), X[:, :1, 0])
    # rows without a channel axis are single-channel images only
    with pytest.raises(
        ValueError,
        match=r"of shape \(8, 8\).*accepted: flat rows of the same size, "
        r"channels-last rows \(8, 8, 3\)\)",
    ):
        _to_input_shape(np.zeros((2, 8, 8), np.float32), (3, 8, 8))


def test_labels_beyond_the_classes_name_the_encoder_and_the_module_width():
    # IN classes 3, 5, 7, 9 of digits: the message blamed OOD rows only, and a
    # TargetNet without `classes` failed in torch ("Target 7 is out of bounds").
    X = np.random.RandomState(0).rand(8, 4).astype(np.float32)
    y = np.array([3, 5, 7, 9] * 2)
    nets = [
        make_mlp_classifier(4, 4, hidden_sizes=(8,), max_epochs=1),
        TargetNet(MLPModule, module__n_features=4, module__n_classes=4, max_epochs=1),
    ]
    for net in nets:
        with pytest.raises(ValueError, match=r"outside 0\.\.3.*LabelEncoder"):
            net.fit(X, y)


@pytest.mark.parametrize("n_labels", [3, 5])
@pytest.mark.parametrize("k, width", [(5, 3), (3, 5)])
def test_classes_and_module_width_must_agree(k, width, n_labels):
    # With 5 classes and 3 outputs, a fit on 3 labels gave predict_proba 3
    # columns under a classes_ of 5; one on 5 labels failed in torch. With 3
    # classes and 5 outputs, predict_proba had 5 columns under a classes_ of 3.
    X = np.random.RandomState(0).rand(10, 4).astype(np.float32)
    nets = [
        make_mlp_classifier(4, width, hidden_sizes=(8,), classes=np.arange(k)),
        TargetNet(MLPModule, module__n_features=4, module__n_classes=width),
    ]
    nets[1].set_params(classes=np.arange(k))
    message = f"names {k} classes.*n_classes={width} outputs"
    for net in nets:
        with pytest.raises(ValueError, match=message):
            net.set_params(max_epochs=1).fit(X, np.arange(10) % n_labels)


def test_string_labels_name_the_encoder():
    X = np.random.RandomState(0).rand(8, 64).astype(np.float32)
    with pytest.raises(ValueError, match="dtype <U3.*LabelEncoder.*ActiveLearner"):
        _FACTORIES["mlp"]().set_params(max_epochs=1).fit(X, ["cat", "dog"] * 4)


class _RecordDetached(Callback):
    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            net.history.record("detached", net.module_.detach_features)


def test_each_training_call_detaches_the_loss_head_from_its_own_epochs():
    # A second call (partial_fit, a warm-started round) counted the first
    # call's epochs too, so its loss head was detached from its first epoch.
    X, y = blobs()
    net = make_mlp_classifier(
        4, 3, max_epochs=5, learning_loss=True, random_state=0, ll_detach_epoch=0.6
    )
    net.set_params(callbacks=[("detached", _RecordDetached())])
    net.partial_fit(X, y).partial_fit(X, y)
    per_call = [False, False, False, True, True]
    assert net.history[:, "detached"] == per_call + per_call


def test_learning_loss_probabilities_are_a_softmax_whatever_the_criterion():
    # The criterion is not used, but skorch's "auto" nonlinearity followed it:
    # under NLLLoss predict_proba returned the raw logits.
    X, y = blobs()
    net = make_mlp_classifier(
        4, 3, max_epochs=2, learning_loss=True, random_state=0, criterion=nn.NLLLoss
    ).fit(X, y)
    proba = net.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    expected = torch.softmax(torch.from_numpy(predict_logits(net, X)), 1).numpy()
    np.testing.assert_allclose(proba, expected, rtol=1e-5)
    # Another nonlinearity than "auto" is the net's, as skorch's: None, logits.
    net.set_params(predict_nonlinearity=None)
    np.testing.assert_array_equal(net.predict_proba(X), predict_logits(net, X))


def test_a_net_fitted_on_uint8_pixels_reads_them_in_any_integer_dtype():
    # Pixels given as int64 (or a list) were not scaled as the uint8 ones of
    # fit were: the net saw values 255 times too large.
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (64, 1, 8, 8)).astype(np.uint8)
    y = np.arange(64) % 2
    net = make_cnn_classifier(2, input_shape=(1, 8, 8), max_epochs=1, random_state=0)
    net.fit(X, y)
    expected = net.predict_proba(X)
    for pixels in (X.astype(np.int64), X.astype(np.uint16), X.tolist()):
        np.testing.assert_array_equal(net.predict_proba(pixels), expected)
    np.testing.assert_allclose(net.predict_proba(X / 255.0), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="fitted on uint8 pixels.*0-255"):
        net.predict_proba(X.astype(np.float32))


def test_integers_beyond_0_to_255_beside_uint8_pixels_name_their_values():
    # The message said "X is int64", which the net reads in 0..255, and
    # advised uint8 pixels: X.astype(np.uint8) wraps 256 around to 0.
    X = np.random.default_rng(0).integers(0, 256, (32, 1, 8, 8)).astype(np.uint8)
    net = make_cnn_classifier(2, input_shape=(1, 8, 8), max_epochs=1, random_state=0)
    net.fit(X, np.arange(32) % 2)
    for shift, values in [(1, "from 1 to 256"), (-1, "from -1 to 254")]:
        with pytest.raises(ValueError, match=f"X holds integers {values}, beyond"):
            net.predict_proba(X.astype(np.int64) + shift)


def test_the_uint8_rule_holds_for_dataframes_masks_and_sparse_rows():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (64, 16)).astype(np.uint8)  # flat 4x4 images
    y = np.arange(64) % 2

    def image_net():
        return make_cnn_classifier(
            2, input_shape=(1, 4, 4), max_epochs=1, random_state=0
        )

    # A uint8 DataFrame was scaled at fit, but its flag was not recorded.
    net = image_net().fit(pd.DataFrame(X), y)
    np.testing.assert_array_equal(
        net.predict_proba(pd.DataFrame(X.astype(np.int64))), net.predict_proba(X)
    )
    # Masks (0/1) were scaled to 1/255, float masks read as 1.0.
    masks = (X > 127).astype(np.uint8)
    net = image_net().fit(masks, y)
    with pytest.raises(ValueError, match=r"largest 1\), which it scales"):
        net.predict_proba(masks.astype(np.float32))
    # Bool masks are taken as they are: uint8 ones, scaled, are refused.
    bools = image_net().fit(masks.astype(bool), y)
    with pytest.raises(ValueError, match="fitted on bool rows from False to True"):
        bools.predict_proba(masks)
    # Sparse rows are their dense form, on the fit's scale.
    np.testing.assert_array_equal(
        net.predict_proba(sparse.csr_matrix(masks)), net.predict_proba(masks)
    )
    sparse_fit = image_net().fit(sparse.csr_matrix(masks), y)
    with pytest.raises(ValueError, match=r"largest 1\), which it scales"):
        sparse_fit.predict_proba(masks.astype(np.float32))


def test_a_table_net_takes_uint8_columns_as_numbers():
    # make_mlp_classifier divided uint8 columns (one-hot, counts) by 255 as
    # pixels: 0/1 columns trained to 0.23 accuracy where int64 gave 0.97, and
    # float rows were then refused as "not uint8 pixels".
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, (120, 6))
    y = X[:, 0] + 2 * X[:, 1]
    net = make_mlp_classifier(6, 4, max_epochs=2, random_state=0)
    expected = net.fit(X, y).predict_proba(X)
    net.fit(X.astype(np.uint8), y)
    for rows in (X.astype(np.uint8), X, X.astype(np.float32)):
        np.testing.assert_allclose(net.predict_proba(rows), expected, rtol=1e-6)
    # A net with no input_shape takes them as they are too.
    bare = clone(net).set_params(input_shape=None)
    np.testing.assert_allclose(
        bare.fit(X.astype(np.uint8), y).predict_proba(X), expected, rtol=1e-6
    )


class _FlatLinear(nn.Sequential):
    """A linear classifier of 4x4 images, flattened."""

    def __init__(self):
        super().__init__(nn.Flatten(), nn.Linear(16, 2))


def test_a_net_for_images_without_a_channel_axis_reads_uint8_as_pixels():
    # input_shape (H, W) is an image's, as (C, H, W) is: uint8 rows are
    # pixels, scaled to [0, 1], and train as those floats do.
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (40, 4, 4)).astype(np.uint8)
    y = np.arange(40) % 2

    def net():  # a class: each fit draws the same seeded weights
        return TargetNet(
            _FlatLinear,
            classes=np.arange(2),
            input_shape=(4, 4),
            max_epochs=2,
            verbose=0,
            random_state=0,
        )

    scaled = (pixels / 255).astype(np.float32)
    np.testing.assert_allclose(net().get_dataset(pixels).X, scaled, rtol=1e-6)
    expected = net().fit(scaled, y).predict_proba(scaled)
    np.testing.assert_allclose(
        net().fit(pixels, y).predict_proba(pixels), expected, rtol=1e-5
    )


def test_a_net_fitted_on_unscaled_pixels_refuses_uint8_ones():
    # Fitted on 0..255 floats or int64, the net took them as they were, then
    # scaled the same pixels as uint8 to [0, 1]: accuracy 1.0 fell to 0.5.
    X = np.random.default_rng(0).integers(0, 256, (32, 1, 8, 8)).astype(np.uint8)
    y = np.arange(32) % 2
    net = make_cnn_classifier(2, input_shape=(1, 8, 8), max_epochs=1, random_state=0)
    net.fit(X, y)  # each fit records its own scale, not the uint8 one of this
    # uint16 too: only uint8 rows are pixels
    for dtype in (np.float32, np.int64, np.uint16):
        net.fit(X.astype(dtype), y)
        message = f"fitted on {dtype.__name__} rows from.*refit the net on uint8 pixels"
        with pytest.raises(ValueError, match=message):
            net.predict_proba(X)
        net.predict_proba(X.astype(dtype))  # the advice works
    # Fitted on floats in [0, 1], the net reads uint8 pixels on that scale.
    net.fit(X / 255.0, y)
    np.testing.assert_allclose(
        net.predict_proba(X), net.predict_proba(X / 255.0), rtol=1e-5
    )


@pytest.mark.parametrize("dtype", [object, str])
def test_a_net_fitted_on_object_or_text_pixels_refuses_uint8_ones(dtype):
    # Objects or text holding 0..255 were taken as the numbers they hold, but
    # left no scale behind: the same pixels as uint8 were then scaled to [0, 1]
    # without a word, and the predictions changed.
    X = np.random.default_rng(0).integers(0, 256, (32, 1, 8, 8)).astype(np.uint8)
    y = np.arange(32) % 2
    net = make_cnn_classifier(2, input_shape=(1, 8, 8), max_epochs=1, random_state=0)
    net.fit(X.astype(dtype), y)
    with pytest.raises(ValueError, match="fitted on float64 rows from 0.0 to 255.0"):
        net.predict_proba(X)
    np.testing.assert_array_equal(
        net.predict_proba(X.astype(np.float64)), net.predict_proba(X.astype(dtype))
    )
    # Fitted on such rows in [0, 1], the net reads uint8 pixels on that scale.
    net.fit((X / 255.0).astype(dtype), y)
    np.testing.assert_allclose(
        net.predict_proba(X), net.predict_proba(X / 255.0), rtol=1e-5
    )


def test_a_net_fitted_on_scaled_floats_reads_integer_pixels_as_uint8_ones():
    # int64 pixels 0..255 went in unscaled where uint8 ones were scaled to
    # [0, 1], the fit's scale: 18% of Fashion-MNIST predictions changed.
    X = np.random.default_rng(0).integers(0, 256, (32, 1, 8, 8)).astype(np.uint8)
    y = np.arange(32) % 2
    net = make_cnn_classifier(2, input_shape=(1, 8, 8), max_epochs=1, random_state=0)
    net.fit(X / 255.0, y)
    expected = net.predict_proba(X)
    for pixels in (X.astype(np.int64), X.astype(np.int16).tolist()):
        np.testing.assert_array_equal(net.predict_proba(pixels), expected)
    # 0/1 integers are on the fit's scale already, but uint8 ones are pixels
    masks = X > 127
    np.testing.assert_array_equal(
        net.predict_proba(masks.astype(np.int64)), net.predict_proba(masks / 1.0)
    )
    np.testing.assert_allclose(
        net.predict_proba(masks.astype(np.uint8)),
        net.predict_proba(masks / 255.0),
        rtol=1e-5,
    )
    # rows with values beyond 0..255, which are no pixels, are taken as they are
    beyond = X.astype(np.int64)
    beyond[:, 0, 0, 0] = -1
    np.testing.assert_array_equal(
        net.predict_proba(beyond), net.predict_proba(beyond / 1.0)
    )
    # fitted on integers, which it took as they were, the net keeps them so
    net.fit(X.astype(np.int64), y)
    np.testing.assert_array_equal(
        net.predict_proba(X.astype(np.int32)), net.predict_proba(X.astype(np.float32))
    )


def test_a_fit_on_no_image_rows_is_refused_as_any_empty_fit():
    # No scale to record from no rows: fit's own check says what is wrong.
    net = make_cnn_classifier(2, input_shape=(1, 8, 8), max_epochs=1)
    for dtype in (np.uint8, np.float32):
        with pytest.raises(ValueError, match=r"0 sample\(s\) \(shape=\(0, 1, 8, 8\)"):
            net.fit(np.zeros((0, 1, 8, 8), dtype), np.zeros(0, int))
    # nor from predict's, beside the scale of a fit on uint8 pixels
    net.fit(np.zeros((4, 1, 8, 8), np.uint8), np.arange(4) % 2)
    with pytest.raises(ValueError, match=r"0 sample\(s\) \(shape=\(0, 1, 8, 8\)"):
        net.predict_proba(np.zeros((0, 1, 8, 8), np.float32))


def test_image_rows_of_no_real_numbers_are_refused_at_fit():
    # They leave no scale behind, and fit's own checks name what they hold.
    net = make_cnn_classifier(2, input_shape=(1, 4, 4), max_epochs=1)
    for rows, match in [
        (np.full((4, 1, 4, 4), "dark"), "could not convert string to float"),
        (np.ones((4, 1, 4, 4), complex), "Complex data not supported"),
    ]:
        with pytest.raises(ValueError, match=match):
            net.fit(rows, np.arange(4) % 2)


def test_a_fit_on_a_list_of_uint8_rows_is_a_fit_on_uint8_pixels():
    # The list was scaled at fit (as uint8) but not recorded as such, so
    # int64 pixels went in unscaled.
    X = np.random.default_rng(0).integers(0, 256, (32, 1, 8, 8)).astype(np.uint8)
    net = make_cnn_classifier(2, input_shape=(1, 8, 8), max_epochs=1, random_state=0)
    net.fit(list(X), np.arange(32) % 2)
    np.testing.assert_array_equal(
        net.predict_proba(X.astype(np.int64)), net.predict_proba(X)
    )
    # A NaN in scaled floats gets scikit-learn's imputer advice, not pixel advice.
    scaled = X / 255.0
    scaled[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        net.predict_proba(scaled)


def test_a_net_reads_tensors_as_the_arrays_they_hold():
    # Tensors went to the module as they were: a float64 one met the float32
    # layers with torch's "mat1 and mat2 must have the same dtype", and uint8
    # pixels were never scaled to [0, 1].
    X, y = blobs()
    net = make_mlp_classifier(4, 3, max_epochs=2, random_state=0)
    expected = net.fit(X, y).predict_proba(X)
    net.fit(torch.from_numpy(X.astype(np.float64)), torch.from_numpy(y))
    for rows in (torch.from_numpy(X.astype(np.float64)), torch.from_numpy(X)):
        np.testing.assert_array_equal(net.predict_proba(rows), expected)
        np.testing.assert_array_equal(embed(net, rows), embed(net, X))
    pixels = np.random.default_rng(0).integers(0, 256, (32, 1, 8, 8), np.uint8)
    labels = np.arange(32) % 2
    cnn = make_cnn_classifier(2, input_shape=(1, 8, 8), max_epochs=1, random_state=0)
    expected = cnn.fit(pixels, labels).predict_proba(pixels)
    cnn.fit(torch.from_numpy(pixels), labels)
    np.testing.assert_array_equal(cnn.predict_proba(torch.from_numpy(pixels)), expected)
    np.testing.assert_array_equal(cnn.predict_proba(pixels), expected)
    # NumPy has no bfloat16: such a tensor is read as the float32 it holds.
    half = torch.from_numpy(X).bfloat16()
    np.testing.assert_array_equal(
        net.predict_proba(half), net.predict_proba(half.float().numpy())
    )


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception notes: 3.11+")
@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_a_module_of_another_float_dtype_than_float32_is_explained(dtype):
    # The net gives its rows in float32: a module instance built under a
    # float64 default, or halved, met them with torch's "mat1 and mat2 must
    # have the same dtype", which names neither the cause nor a remedy.
    X, y = blobs()
    module = MLPModule(n_features=4, n_classes=3, hidden_sizes=(8,)).to(dtype)
    net = TargetNet(module, classes=np.arange(3), max_epochs=1, verbose=0)

    def note(call, *args):
        # Read directly: pytest's match reads the notes from pytest 8 only.
        with pytest.raises(RuntimeError) as raised:
            call(*args)
        return "\n".join(getattr(raised.value, "__notes__", []))

    assert re.search(rf"parameters are {dtype}.*module\.float\(\)", note(net.fit, X, y))
    net.module_.float()
    net.fit(X, y)
    net.module_.to(dtype)  # after fit: predicting says so too, as do the helpers
    assert f"parameters are {dtype}" in note(net.predict_proba, X)
    assert f"parameters are {dtype}" in note(predict_logits, net, X)


class _NoteFreeError(RuntimeError):
    """An error as Python 3.10 raises it: without ``add_note``."""

    def __getattribute__(self, name):
        if name == "add_note":
            raise AttributeError(name)
        return super().__getattribute__(name)


class _FailingFloat64Module(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(4, 3).double()

    def forward(self, x):
        raise _NoteFreeError("out of memory")


def test_a_float64_module_error_goes_on_unchanged_without_exception_notes():
    # Python 3.10 has no add_note: its AttributeError hid the module's error.
    X, y = blobs()
    net = TargetNet(_FailingFloat64Module, classes=np.arange(3), max_epochs=1)
    with pytest.raises(_NoteFreeError, match="out of memory"):
        net.fit(X, y)


class _CastingModule(nn.Module):
    """A frozen float16 layer under a float32 head: it casts the rows itself."""

    def __init__(self):
        super().__init__()
        self.frozen = nn.Linear(4, 8).half().requires_grad_(False)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.frozen(x.half()).float())


class _NonCastingModule(_CastingModule):
    """The same, but for the cast: the frozen layer meets float32 rows."""

    def forward(self, x):
        return self.head(self.frozen(x).float())


class _FailingFloat32Module(_FailingFloat64Module):
    def __init__(self):
        super().__init__()
        self.layer.float()

    def forward(self, x):
        raise RuntimeError("out of memory")


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception notes: 3.11+")
@pytest.mark.parametrize(
    "module, noted",
    [(_NonCastingModule, "torch.float16"), (_FailingFloat32Module, None)],
)
def test_the_dtype_note_counts_frozen_parameters_and_spares_float32_modules(
    module, noted
):
    # A frozen layer's dtype is what the rows meet, as a trained one's is; a
    # float32 module's error is of no dtype, and a note would mislead.
    X, y = blobs()
    net = TargetNet(module, classes=np.arange(3), max_epochs=1, verbose=0)
    with pytest.raises(RuntimeError) as raised:
        net.fit(X, y)
    notes = getattr(raised.value, "__notes__", [])
    if noted is None:
        assert notes == []
    else:
        assert len(notes) == 1 and f"parameters are {noted}, but" in notes[0]


@pytest.mark.parametrize("module", [_CastingModule, _CastingModule()])
def test_a_module_of_other_parameter_dtypes_that_casts_its_rows_is_trained(module):
    # It was refused up front as soon as a parameter was not float32.
    X, y = blobs()
    net = TargetNet(module, classes=np.arange(3), max_epochs=2, verbose=0)
    proba = net.fit(X, y).predict_proba(X)
    assert proba.dtype == np.float32 and np.allclose(proba.sum(axis=1), 1)
    assert predict_logits(net, X).shape == (len(X), 3)


class _BagOfTokens(nn.Module):
    def __init__(self, vocab=50, n_classes=2):
        super().__init__()
        self.bag = nn.EmbeddingBag(vocab, 8)
        self.out = nn.Linear(8, n_classes)

    def forward(self, X):
        return self.out(self.bag(X))


def test_a_net_takes_token_ids_in_an_integer_tensor_as_they_are():
    # Read as arrays, integer tensors were cast to float32, which an
    # nn.EmbeddingBag refuses ("Expected tensor for argument #1 'indices'").
    rng = np.random.default_rng(0)
    tokens = torch.from_numpy(rng.integers(0, 50, (64, 12)))
    labels = torch.from_numpy(rng.integers(0, 2, 64))
    net = TargetNet(_BagOfTokens, classes=np.arange(2), max_epochs=1, verbose=0)
    net.fit(tokens, labels)
    assert net.predict_proba(tokens).shape == (64, 2)
    assert embed(net, tokens.int()).shape == (64, 8)
    net.partial_fit(tokens, labels)


def test_the_nets_record_no_parameter_when_fitted():
    # skorch takes any attribute without a trailing underscore for a
    # parameter: a fit changed get_params, and clone() carried it.
    X, y = blobs()
    for learning_loss in (False, True):
        net = make_mlp_classifier(
            4, 3, max_epochs=1, random_state=0, learning_loss=learning_loss
        )
        before = set(net.get_params(deep=False))
        net.fit(X.astype(np.uint8), y)
        assert set(net.get_params(deep=False)) == before


def test_one_sample_as_a_1d_row_gets_the_reshape_advice():
    X, y = blobs()
    net = make_mlp_classifier(4, 3, max_epochs=1, random_state=0).fit(X, y)
    with pytest.raises(
        ValueError, match=r"1-D array: make one sample a row with X\.reshape\(1, -1\)"
    ):
        net.predict(X[0])
    # where rows may have any size, a flat row is no remedy
    images = np.random.default_rng(0).random((8, 3, 4, 4), dtype=np.float32)
    resnet = make_fast_resnet_classifier(2, width=2, max_epochs=1, random_state=0)
    resnet.fit(images, np.arange(8) % 2)
    with pytest.raises(ValueError, match=r"of shape \(3, None, None\).*image\[None\]"):
        resnet.predict(images[0].ravel())
    resnet.predict(images[0][None])  # the advice works


def test_uint8_pixels_become_one_float_copy_of_the_pool():
    # astype(float32) / 255 held two float copies of the whole pool at once.
    import tracemalloc

    X = np.random.default_rng(0).integers(0, 256, (2000, 16, 16, 3), dtype=np.uint8)
    tracemalloc.start()
    try:
        scaled = _to_input_shape(X, (3, 16, 16))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * scaled.nbytes
    expected = X.transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    np.testing.assert_array_equal(scaled, expected)  # the same bits


def test_an_image_net_reads_each_integer_row_whatever_rows_come_with_it():
    # Fitted on floats in [0, 1], the net took integer rows for 0-255 pixels
    # or as they were by the largest value of the whole call: a row of ones
    # was 1.0 alone and 1/255 beside a row of 200s, and a dark uint8 image
    # alone was refused, though accepted in a larger batch.
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (32, 1, 8, 8)).astype(np.uint8)
    y = np.arange(32) % 2
    net = make_cnn_classifier(2, input_shape=(1, 8, 8), max_epochs=1, random_state=0)
    net.fit(X / 255.0, y)
    ones, bright = np.ones((1, 1, 8, 8), np.int64), np.full((1, 1, 8, 8), 200)
    # (atol: a batch's size moves a conv net's outputs by ~1e-7)
    close = functools.partial(np.testing.assert_allclose, rtol=0, atol=1e-6)
    close(
        net.predict_proba(np.concatenate([ones, bright]))[:1], net.predict_proba(ones)
    )
    close(net.predict_proba(ones), net.predict_proba(ones * 1.0))
    close(
        net.predict_proba(np.concatenate([bright, X[:1]]))[:1],
        net.predict_proba(bright.astype(np.uint8)),
    )
    dark = np.zeros((1, 1, 8, 8), np.uint8)
    close(net.predict_proba(dark), net.predict_proba(np.concatenate([dark, X[:1]]))[:1])


def test_callbacks_given_to_a_factory_keep_its_learning_rate_schedule():
    # callbacks=[...] replaced the factories' scheduler: the net trained at a
    # constant lr, ignoring the lr_milestones given in the same call.
    X = np.random.RandomState(0).rand(32, 1, 8, 8).astype(np.float32)
    y = np.arange(32) % 2
    scorer = EpochScoring("accuracy", on_train=True)
    net = make_resnet18_classifier(
        2,
        in_channels=1,
        input_shape=(1, 8, 8),
        width=4,
        max_epochs=3,
        min_steps_per_epoch=1,
        lr_milestones=[1, 2],
        callbacks=[("acc", scorer)],
        random_state=0,
    ).fit(X, y)
    assert net.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-3)
    assert "accuracy" in net.history[-1]  # the scorer given ran
    fast = make_fast_resnet_classifier(
        2, in_channels=1, width=4, max_epochs=2, callbacks=[scorer], random_state=0
    ).fit(X, y)
    assert fast.optimizer_.param_groups[0]["lr"] == 0  # the one-cycle's end
    # A scheduler given replaces the recipe's.
    constant = LRScheduler(torch.optim.lr_scheduler.ConstantLR, factor=1.0)
    own = make_fast_resnet_classifier(
        2, in_channels=1, width=4, max_epochs=2, callbacks=[constant], random_state=0
    ).fit(X, y)
    assert own.optimizer_.param_groups[0]["lr"] == pytest.approx(0.2)


@pytest.mark.parametrize(
    "given, keeps_schedule",
    [
        ((("acc", EpochScoring("accuracy")),), True),  # a tuple adds as a list does
        ([("lr_scheduler", EpochScoring("accuracy"))], False),  # the same name
        ([("step", LRScheduler(torch.optim.lr_scheduler.StepLR, step_size=1))], False),
        ([LRScheduler], False),  # a scheduler class, which skorch builds
    ],
    ids=["tuple", "same-name", "named-scheduler", "scheduler-class"],
)
def test_callbacks_given_to_a_factory_replace_its_own_by_name_or_by_kind(
    given, keeps_schedule
):
    callbacks = make_resnet18_classifier(2, callbacks=given).callbacks
    assert callbacks[len(callbacks) - len(given) :] == list(given)
    assert len(callbacks) == len(given) + keeps_schedule


def test_a_component_given_to_a_factory_leaves_out_the_settings_it_does_not_take():
    # Adam was given the recipe's SGD momentum, a DataLoader its min_steps:
    # TypeErrors naming arguments the user never passed.
    X = np.random.RandomState(0).rand(16, 1, 8, 8).astype(np.float32)
    net = make_resnet18_classifier(
        2,
        in_channels=1,
        input_shape=(1, 8, 8),
        width=4,
        max_epochs=1,
        optimizer=torch.optim.Adam,
        iterator_train=DataLoader,
        random_state=0,
    ).fit(X, np.arange(16) % 2)
    assert isinstance(net.optimizer_, torch.optim.Adam)
    assert net.optimizer_.param_groups[0]["weight_decay"] == 5e-4  # Adam takes it


class _SGDOfAnyKeyword(torch.optim.SGD):
    def __init__(self, params, **kwargs):
        super().__init__(params, **kwargs)


class _SGDOfNoSignature:
    """An optimizer whose signature Python cannot read, as a C extension's."""

    __signature__ = "unreadable"

    def __new__(cls, params, **kwargs):
        return torch.optim.SGD(params, **kwargs)


@pytest.mark.parametrize("optimizer", [_SGDOfAnyKeyword, _SGDOfNoSignature])
def test_a_component_that_may_take_any_setting_is_given_every_one(optimizer):
    # Nothing tells which settings it does not take: the recipe's are all given.
    net = make_resnet18_classifier(
        2, input_shape=(3, 8, 8), width=4, optimizer=optimizer
    ).initialize()
    assert net.optimizer_.param_groups[0]["momentum"] == 0.9  # the recipe's


@pytest.mark.parametrize("max_epochs", [0, -3, 2.5])
def test_a_net_of_no_epochs_is_refused(max_epochs):
    # skorch trained no epoch and the "fitted" net predicted at random.
    X, y = blobs()
    with pytest.raises(ValueError, match="max_epochs must be a positive integer"):
        make_mlp_classifier(4, 3, max_epochs=max_epochs).fit(X, y)
    fast = make_fast_resnet_classifier(2, width=4).set_params(max_epochs=max_epochs)
    with pytest.raises(ValueError, match="max_epochs must be a positive integer"):
        fast.fit(np.zeros((4, 3, 8, 8), np.float32), np.arange(4) % 2)


def test_missing_class_labels_are_named_as_missing():
    # pandas.NA read "got non-integer values", None among ints a bare
    # TypeError from sorting, and per_sample_loss(net, X, None) "y should be
    # a 1d array, got an array of shape ()".
    pd = pytest.importorskip("pandas")
    X, y = blobs(n=30)
    with_na = pd.Series(y, dtype="Int64")
    with_na[3] = pd.NA
    with_none = y.astype(object)
    with_none[3] = None
    for labels in (with_na, with_none):
        with pytest.raises(ValueError, match="y is missing in 1 of its 30 rows"):
            make_mlp_classifier(4, 3, max_epochs=1).fit(X, labels)
    net = make_mlp_classifier(4, 3, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="y is None: give the class index"):
        per_sample_loss(net, X, None)


def test_the_resnet18_factory_takes_a_width_as_its_fast_sibling_does():
    # width=8, which ResNet18Module's docs advise for a CPU, was refused with
    # skorch's "unexpected argument(s) width ... a typo?".
    net = make_resnet18_classifier(2, width=4, input_shape=(3, 8, 8)).initialize()
    assert net.module_.stages[0][0][0].out_channels == 4  # the stem


def test_a_device_this_machine_lacks_is_refused_without_offering_devices_it_lacks(
    monkeypatch,
):
    # With no CUDA device, the advice ended "or one of the CUDA devices it has".
    from skal_openset import _models

    _models.check_device("cpu:1")  # torch counts 1 CPU, and runs on any index
    monkeypatch.setattr(_models, "_device_count", lambda kind: 0)
    with pytest.raises(ValueError, match=r"lacks \(it has 0\); use 'cpu'\.$"):
        _models.check_device("cuda")
    monkeypatch.setattr(_models, "_device_count", lambda kind: 2)
    with pytest.raises(
        ValueError, match=r"use 'cpu', or one of its CUDA devices \(cuda:0\.\.1\)"
    ):
        _models.check_device("cuda:2")


def test_a_torch_without_an_mps_device_count_counts_mps_by_its_availability(
    monkeypatch,
):
    # torch < 2.5 has no torch.mps.device_count; setup.cfg allows torch >= 2.1.
    from skal_openset import _models

    monkeypatch.delattr(torch.mps, "device_count", raising=False)
    count = int(torch.backends.mps.is_available())
    assert _models._device_count("mps") == count
    with pytest.raises(
        ValueError, match=rf"'mps:1' names an MPS device .* has {count}"
    ):
        _models.check_device("mps:1")
