"""Every public callable exported in ``__all__`` carries complete type hints."""

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

import skal_openset


def _public_callables():
    """Yield ``(qualified name, callable)`` for each public function and method."""
    for name in skal_openset.__all__:
        obj = getattr(skal_openset, name)
        if inspect.isfunction(obj):
            yield name, obj
        elif inspect.isclass(obj):
            for attr, member in vars(obj).items():
                # Only methods this package defines; inherited ones belong to
                # scikit-learn, skorch or torch.
                if attr.startswith("_") and attr not in ("__init__", "__call__"):
                    continue
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if inspect.isfunction(member):
                    yield f"{name}.{attr}", member


@pytest.mark.parametrize(
    "func", [f for _, f in _public_callables()], ids=[n for n, _ in _public_callables()]
)
def test_public_callable_is_fully_annotated(func):
    signature = inspect.signature(func)
    missing = [
        p.name
        for p in signature.parameters.values()
        if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty
    ]
    assert not missing, f"parameters without a type hint: {missing}"
    assert signature.return_annotation is not inspect.Signature.empty, "no return hint"


def test_public_api_has_callables():
    assert len(list(_public_callables())) > 50


# Usages the docstrings document and the run time accepts, which a user's type
# checker must accept too. Type-checked, never run.
_USER_SCRIPT = """
import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from skorch.dataset import Dataset
from torch.utils.data import Subset
from typing_extensions import assert_type

import skal_openset as so

# numpy integers (a len, an element of np.arange) where counts and seeds go,
# numpy scalars where numbers go
seed, n, share = np.int64(0), np.int64(3), np.float32(0.5)
split = so.make_open_set_split(
    [[0.0]], [0], n_in_classes=n, noise_ratio=share, initial_size=n,
    test_size=n, ood_label=np.int64(-1), random_state=seed,
)
oracle = so.OpenSetOracle([0, -1], cost_in=share, cost_ood=n)
oracle.fill_budget([0, 1], budget=n)
learner = so.ActiveLearner(object(), so.MQNetQuery(rule_weight=share, diversity_pool=n))
learner.query([[0.0]], n_instances=n)
so.RandomQuery(random_state=seed)(learner, [[0.0]], n_instances=n)
so.run_active_learning(
    split, object(), so.RandomQuery(), n_rounds=n, budget=n, cost_in=n, cost_ood=share
)
so.MetaQueryNetSelector(
    hidden_size=n, margin=share, max_epochs=n, lr=share, batch_size=n,
    steps_per_epoch=n, lr_decay_epoch=n, pair_chunk_size=n, verbose=n,
)
so.ContrastiveEncoder(
    width=n, projection_dim=n, max_epochs=n, max_seconds=share, batch_size=n,
    lr=share, temperature=share,
)
so.knn_purity([[0.0]], [[0.0]], k=n)
so.knn_contrast_purity([[0.0]], [[0.0]], k=n)
so.energy_purity([[0.0]], temperature=share)
so.MetaInputTransformer(clip=share)
so.LfOSAQuery(known_T=share, unknown_T=n)
so.SimilarQuery(eta=share, nu=n, subsample=n)
so.EOALQuery(n_unknown_clusters=n, C=share)
so.CCALQuery(k=n, t=share)
so.PurityAUROC(split, {}, max_samples=n)
so.AugmentedNet(object(), crop_padding=n)
so.LearningLossNet(object(), ll_detach_epoch=share)
so.SkactivemlQuery(so.RandomQuery()).query([[0.0]], [0], object(), batch_size=n)
so.make_cifar_split([], [], [], [], split=n, noise_ratio=share, budget=n)

# a DataFrame where X was one; records as any sequence of dicts or a DataFrame
frame = pd.DataFrame({"a": [0.0, 1.0]})
split = so.make_open_set_split(frame, [0, 1])
rows = split.X_pool.iloc[split.initial_idx]
so.OpenSetSplit(frame, np.zeros(2), np.zeros(1), frame, np.zeros(2), np.zeros(2))
records = so.run_active_learning(split, object(), so.RandomQuery())
so.write_records_csv(tuple(records), "records.csv")
so.summarize_final_round(tuple(records), group_keys=["strategy", "dataset"])
so.summarize_final_round(pd.read_csv("records.csv"))
so.plot_learning_curves(pd.read_csv("records.csv"))
so.plot_learning_curves({"MQ-Net": [records, records], "random": tuple(records)})

# what each call returns, as the docstrings say
X, y = so.load_csv_table("table.csv")
X, y, classes = so.load_csv_table("table.csv", return_classes=True)
so.plot_learning_curves(records).savefig("curves.png")
so.plot_learning_curves(records, ax=Figure()).savefig("curves.png")
assert_type(learner.predict_proba(X), np.ndarray)
assert_type(learner.decision_function(X), np.ndarray)
assert_type(so.MetaInputTransformer().fit(X), so.MetaInputTransformer)
assert_type(so.MetaQueryNetSelector().fit(X, y), so.MetaQueryNetSelector)
assert_type(split.n_classes, int)
assert_type(split.is_ood, np.ndarray)
assert_type(split.noise_ratio, float)


# a strategy may return the indices alone; a callback's return is ignored; fit
# takes y and ignores it, as scikit-learn's transformers do
def first_rows(learner: object, X_pool: object, n_instances: int = 1) -> np.ndarray:
    return np.arange(n_instances)


def keep(record: dict, learner: so.ActiveLearner) -> bool:
    records.append(record)
    return True


so.ActiveLearner(object(), first_rows)
so.run_active_learning(split, object(), first_rows, callback=keep)
so.ContrastiveEncoder(device=torch.device("cpu")).fit(X, y)
so.ContrastivePurity().fit(X, y)
so.BatchIterator(Subset(Dataset(X, y), [0, 1]), batch_size=2)
"""


def test_documented_usages_type_check(tmp_path):
    pytest.importorskip("mypy")
    script = tmp_path / "user_script.py"
    script.write_text(_USER_SCRIPT)
    # An empty configuration: none of the user's or of the repository's applies.
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            f"--config-file={config}",
            # no cache: none is read again, and writing one cost a tenth
            f"--cache-dir={os.devnull}",
            # only the script is checked, against the package's hints
            "--follow-imports=silent",
            "--ignore-missing-imports",
            str(script),
        ],
        env={**os.environ, "MYPYPATH": str(Path(__file__).parents[1])},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
