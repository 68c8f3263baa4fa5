import os
import signal
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import settings

from _learners import ESTIMATORS, N_POOL, _fitted_learner
from skal_openset import _models, load_digits_dataset, make_open_set_split
from skal_openset._threads import one_torch_thread


@pytest.fixture(autouse=True)
def ctrl_c_raises():
    """Python's own SIGINT handler in every test: a run started in the
    background ignores SIGINT, and its subprocesses would too, so the tests
    of Ctrl-C would fail there."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture(scope="session", autouse=True)
def torch_on_one_thread():
    # The test nets are tiny: on a busy 2-core machine torch's intra-op
    # threads made them 10-40x slower than one thread.
    with one_torch_thread():
        yield


@pytest.fixture
def keep_default_dtype():
    """torch's default dtype put back after a test that sets another (as
    GPyTorch and BoTorch users set float64)."""
    previous = torch.get_default_dtype()
    yield
    torch.set_default_dtype(previous)


@pytest.fixture
def keep_default_device():
    """torch's default device put back after a test that sets another (as
    ``torch.set_default_device("cuda")`` users do)."""
    previous = torch.get_default_device()
    yield
    torch.set_default_device(previous)


@pytest.fixture(params=["no_grad", "inference_mode"])
def grad_off(request):
    """A caller's context without gradients: torch.no_grad or
    torch.inference_mode (a notebook cell that evaluates a model)."""
    return getattr(torch, request.param)


@pytest.fixture
def saved_on_cuda(monkeypatch):
    """``saved_on_cuda(*modules)``: from then on torch pickles tensors as a
    CUDA machine writes those on its GPU, which a machine without CUDA
    refuses to load (torch's "Attempting to deserialize object on a CUDA
    device").

    Without `modules`, every tensor. Else the torch modules given (on the
    CPU here) count as on 'cuda:0', for the package too, and only their
    tensors are written so: a CPU copy of them is written as the CPU's.
    """

    def place(*modules):
        tag = torch.serialization.location_tag
        gpu = {
            t.untyped_storage().data_ptr()
            for m in modules
            for t in m.state_dict().values()
        }
        monkeypatch.setattr(
            torch.serialization,
            "location_tag",
            lambda s: "cuda:0" if not modules or s.data_ptr() in gpu else tag(s),
        )
        if modules:
            device = _models.module_device
            monkeypatch.setattr(
                _models,
                "module_device",
                lambda m: (
                    torch.device("cuda:0")
                    if any(m is g for g in modules)
                    else device(m)
                ),
            )

    return place


@pytest.fixture(scope="session")
def split():
    """Digits, 4 IN / 6 OOD classes, 40% noise, 40 initially labelled."""
    X, y = load_digits_dataset()
    return make_open_set_split(
        X, y, n_in_classes=4, noise_ratio=0.4, initial_size=40, random_state=0
    )


@pytest.fixture(scope="module")
def unlabelled(split):
    """Positions of a small unlabelled pool (not in the initial set)."""
    rest = np.setdiff1d(np.arange(len(split.y_pool)), split.initial_idx)
    return rest[:N_POOL]


@pytest.fixture(scope="module")
def pool(split, unlabelled):
    return split.X_pool[unlabelled]


@pytest.fixture(scope="module")
def learner(split):
    """The skorch MLP learner, for tests of net-specific behaviour."""
    return _fitted_learner(split)


@pytest.fixture(scope="module", params=list(ESTIMATORS))
def estimator_kind(request):
    return request.param


@pytest.fixture(scope="module")
def any_learner(split, estimator_kind):
    """A learner of every classifier kind, for the shared strategy template."""
    return _fitted_learner(split, kind=estimator_kind)


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory):
    """A benchmark data folder whose tabular/segment.csv is 7 blobs of 40 rows."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(280, 19, centers=7, random_state=0)
    root = tmp_path_factory.mktemp("data")
    (root / "tabular").mkdir()
    lines = [",".join([f"f{i}" for i in range(19)] + ["label"])]
    lines += [",".join([*(f"{v:.4f}" for v in row), str(c)]) for row, c in zip(X, y)]
    (root / "tabular" / "segment.csv").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="session")
def four_tables_data_dir(tiny_data_dir, tmp_path_factory):
    """`tiny_data_dir`'s table under each name of the tabular suite, for
    commands that check every table of the suite is there (their runs faked)."""
    root = tmp_path_factory.mktemp("four_tables")
    (root / "tabular").mkdir()
    table = (tiny_data_dir / "tabular" / "segment.csv").read_bytes()
    for name in ("letter", "penbased", "satimage", "segment"):
        (root / "tabular" / f"{name}.csv").write_bytes(table)
    return root


# Hypothesis: a small "ci" profile by default (every test run, CI included),
# the same examples at every run, so that a run passes or fails as the last
# did (warnings are errors: a draw may give a warning the test does not
# expect); HYPOTHESIS_PROFILE=slow fuzzes much longer, with new draws each
# time. Tests that set max_examples themselves keep their own count.
settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True)
settings.register_profile("slow", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def count_reads(monkeypatch):
    """A function that starts counting the reads of each file through
    Path.read_text and returns the counts, a Counter by path."""

    def start():
        reads = Counter()
        read_text = Path.read_text

        def counted(path, *args, **kwargs):
            reads[path] += 1
            return read_text(path, *args, **kwargs)

        monkeypatch.setattr(Path, "read_text", counted)
        return reads

    return start
