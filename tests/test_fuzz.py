"""Property-based fuzzing of entry points: a correct answer or a clean error.

A clean error is a ValueError or TypeError raised inside this package (or by
scikit-learn's input validation, which the package calls on purpose) whose
message names the argument or file at fault; never an exception from deep in
numpy, torch, gzip or zipfile, never NaN in an answer, and an object that
raised keeps its state. Examples per test: the hypothesis profile
(``HYPOTHESIS_PROFILE=slow`` for a long run; see conftest.py).
"""

import copy
import gzip
import io
import pickle
import struct
import tempfile
import traceback
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from skal_openset import (
    MetaInputTransformer,
    OpenSetOracle,
    load_cifar_batches,
    load_csv_table,
    load_idx,
    load_image_folder_zip,
    make_open_set_split,
)

# Where a clean error may be raised: this package, or scikit-learn's input
# and parameter validation that it calls.
CLEAN_ORIGINS = ("skal_openset", "sklearn/utils/validation.py", "sklearn/utils/_param")


def answer_or_clean_error(fn, *names):
    """``fn()``, or None once checked that it raised a clean error naming a `names`."""
    try:
        return fn()
    except (ValueError, TypeError) as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        origin = frame.filename.replace("\\", "/")
        assert any(o in origin for o in CLEAN_ORIGINS), (
            f"{type(exc).__name__} raised in {origin}:{frame.lineno}: {exc}"
        )
        assert any(name in str(exc) for name in names), f"{exc!r} names none of {names}"
        return None


def state_of(obj):
    """Every attribute, nested objects (e.g. a fitted transformer) unfolded."""

    def unfold(value):
        if hasattr(value, "__dict__") and not isinstance(value, np.ndarray):
            return {k: unfold(v) for k, v in vars(value).items()}
        return value

    return copy.deepcopy(unfold(obj))


def assert_same_state(before, after):
    assert before.keys() == after.keys()
    for key, value in before.items():
        np.testing.assert_equal(after[key], value, err_msg=key)


# ------------------------------------------------------------------- loaders


@st.composite
def corrupted(draw, data, kinds=("truncate", "flip", "insert", "delete")):
    """``data`` after a few random edits (possibly none)."""
    data = bytearray(data)
    for _ in range(draw(st.integers(0, 3))):
        if not data:
            break
        kind = draw(st.sampled_from(kinds))
        pos = draw(st.integers(0, len(data) - 1))
        if kind == "truncate":
            del data[pos:]
        elif kind == "flip":
            data[pos] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[pos : pos + draw(st.integers(1, 16))]
    return bytes(data)


def written(data, name):
    """A fresh file holding ``data`` (hypothesis reruns a test many times)."""
    folder = Path(tempfile.mkdtemp(prefix="fuzz-"))
    (folder / name).write_bytes(data)
    return folder / name


CSV = "x0,x1,label\n0.5,-1,a\n2,3.25,b\n1e-3,7,a\n".encode()
TOKENS = ["1", "-2.5", "nan", "inf", "-1e60", "1e29", "abc", "", "0x1F", "1,2", '"3"']
TABLES = st.lists(
    st.lists(st.sampled_from(TOKENS), min_size=3, max_size=3), max_size=4
).map(lambda rows: "x0,label,x1\n" + "\n".join(map(",".join, rows)))


@given(
    data=st.one_of(
        corrupted(CSV),
        st.tuples(TABLES, st.sampled_from(["utf-8", "utf-8-sig", "latin-1"])).map(
            lambda table_encoding: str.encode(*table_encoding)
        ),
        st.binary(max_size=40),
    )
)
def test_load_csv_table(data):
    path = written(data, "t.csv")
    result = answer_or_clean_error(lambda: load_csv_table(path), path.name)
    if result is not None:
        X, y = result
        assert X.dtype == np.float32 and y.dtype == np.int64 and len(X) == len(y)
        assert np.all(np.abs(X) <= 1e30)


def idx_bytes(array, type_code):
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


IMAGES = idx_bytes(np.arange(3 * 4 * 4, dtype=np.uint8).reshape(3, 4, 4), 0x08)
LABELS = idx_bytes(np.array([1, 0, 2], np.uint8), 0x08)


@given(gz=st.booleans(), images=corrupted(IMAGES), labels=corrupted(LABELS))
def test_load_idx(gz, images, labels):
    pack = gzip.compress if gz else bytes
    img = written(pack(images), "img")
    lab = written(pack(labels), "lab")
    result = answer_or_clean_error(lambda: load_idx(img, lab), str(img), str(lab))
    if result is not None:
        X, y = result
        assert X.ndim == 4 and len(X) == len(y) and np.all((X >= 0) & (X <= 1))


@given(data=corrupted(gzip.compress(IMAGES)))
def test_load_idx_damaged_gzip(data):
    img = written(data, "img.gz")
    lab = written(LABELS, "lab")
    answer_or_clean_error(lambda: load_idx(img, lab), str(img))


def cifar_pickle():
    batch = {b"data": np.zeros((2, 3072), np.uint8), b"fine_labels": [0, 1]}
    return pickle.dumps(batch)


# Truncation only: an edited pickle could name any callable to run.
@given(train=corrupted(cifar_pickle(), kinds=("truncate",)))
def test_load_cifar_batches(train):
    folder = written(train, "train").parent
    (folder / "test").write_bytes(cifar_pickle())
    result = answer_or_clean_error(lambda: load_cifar_batches(folder), "train")
    if result is not None:
        assert result[0].shape == (2, 3, 32, 32)


def image_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for i, member in enumerate(["train/a/0.png", "train/b/0.png", "test/a/0.png"]):
            image = io.BytesIO()
            Image.fromarray(np.full((4, 4, 3), 40 * i, np.uint8)).save(image, "PNG")
            zf.writestr(member, image.getvalue())
    return buffer.getvalue()


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(data=corrupted(image_zip()))
def test_load_image_folder_zip(data):
    path = written(data, "images.zip")
    result = answer_or_clean_error(lambda: load_image_folder_zip(path), str(path))
    if result is not None:
        X_train, y_train, X_test, y_test, names = result
        assert len(X_train) == len(y_train) and np.all((X_train >= 0) & (X_train <= 1))


# -------------------------------------------------------------------- oracle

costs = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-2, 5),
    st.sampled_from([True, "1", None]),
)
index_lists = st.one_of(
    st.lists(st.integers(-3, 12), max_size=8),
    st.lists(st.floats(0, 5), max_size=3),
    st.sampled_from([[[0, 1]], "0", None]),
)


@given(
    y_true=st.lists(st.integers(-1, 3), min_size=1, max_size=10),
    ood_label=st.one_of(st.integers(-2, 4), st.sampled_from([1.5, "x", None])),
    cost_in=costs,
    cost_ood=costs,
    calls=st.lists(
        st.tuples(st.sampled_from(["fill_budget", "label"]), index_lists, costs),
        max_size=4,
    ),
)
def test_open_set_oracle(y_true, ood_label, cost_in, cost_ood, calls):
    oracle = answer_or_clean_error(
        lambda: OpenSetOracle(
            y_true, ood_label=ood_label, cost_in=cost_in, cost_ood=cost_ood
        ),
        "y_true",
        "ood_label",
        "cost_in",
        "cost_ood",
    )
    if oracle is None:
        return
    y = np.asarray(y_true)
    for method, indices, budget in calls:
        before = state_of(oracle)
        if method == "fill_budget":
            result = answer_or_clean_error(
                lambda: oracle.fill_budget(indices, budget), "ranked_indices", "budget"
            )
            assert_same_state(before, state_of(oracle))  # fill_budget buys nothing
            if result is not None:
                kept, cost = result
                assert set(kept) <= set(indices) and np.isfinite(cost)
                assert cost <= budget + 1e-9 * max(1, budget)
        else:
            labels = answer_or_clean_error(lambda: oracle.label(indices), "indices")
            if labels is None:
                assert_same_state(before, state_of(oracle))
                continue
            rows = np.asarray(indices, dtype=np.intp)
            np.testing.assert_array_equal(labels, y[rows])
            paid = np.where(y[rows] == ood_label, oracle.cost_ood, oracle.cost_in)
            assert oracle.spent_ == pytest.approx(before["spent_"] + paid.sum())
            assert oracle.queried_[rows].all()


# ----------------------------------------------------------- meta-input scale

score_arrays = hnp.arrays(
    np.float64,
    st.tuples(st.integers(0, 12), st.integers(1, 3)),
    elements=st.floats(allow_nan=True, allow_infinity=True),
)


@given(
    X_fit=score_arrays,
    X_new=score_arrays,
    scaling=st.sampled_from(["exp_zscore", "quantile", "other"]),
    clip=st.one_of(st.floats(allow_nan=True), st.just(20.0)),
)
def test_meta_input_transformer(X_fit, X_new, scaling, clip):
    transformer = MetaInputTransformer(scaling=scaling, clip=clip)
    names = ("X", "scaling", "clip", "features", "MetaInputTransformer")
    Z = answer_or_clean_error(lambda: transformer.fit_transform(X_fit), *names)
    if Z is None:
        return
    assert Z.shape == X_fit.shape and np.all(np.isfinite(Z)) and np.all(Z >= 0)
    before = state_of(transformer)
    Z_new = answer_or_clean_error(lambda: transformer.transform(X_new), *names)
    if Z_new is None:
        assert_same_state(before, state_of(transformer))
    else:
        assert np.all(np.isfinite(Z_new)) and np.all(Z_new >= 0)
    answer_or_clean_error(lambda: transformer.fit(X_new), *names)
    if not (np.all(np.isfinite(X_new)) and X_new.size):
        assert_same_state(before, state_of(transformer))  # a refused fit


# ------------------------------------------------------------------- split


@pytest.mark.xfail(
    reason="make_open_set_split passes some inputs on to train_test_split, whose "
    "errors come from sklearn.model_selection (e.g. a class with one IN row, "
    "or test_size=1 below the number of classes); the lead is changing it",
    strict=False,
)
@given(
    n=st.integers(0, 60),
    n_classes=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    params=st.fixed_dictionaries(
        {},
        optional={
            "n_in_classes": st.one_of(st.integers(-1, 7), st.sampled_from([2.0, "2"])),
            "noise_ratio": st.one_of(st.floats(-0.5, 1.5), st.sampled_from([np.nan])),
            "initial_size": st.one_of(st.integers(-2, 80), st.sampled_from([3.0])),
            "ood_label": st.one_of(st.integers(-3, 6), st.sampled_from([0.5])),
            "test_size": st.one_of(st.floats(0, 1), st.integers(0, 30)),
        },
    ),
)
def test_make_open_set_split(n, n_classes, seed, params):
    rng = np.random.RandomState(seed)
    X, y = rng.normal(size=(n, 3)), rng.randint(n_classes, size=n)
    split = answer_or_clean_error(
        lambda: make_open_set_split(X, y, random_state=seed, **params),
        *params,
        "X",
        "y",
        "class",
        "OOD",
    )
    if split is None:
        return
    tau = params.get("noise_ratio", 0.4)
    n_in = int((~split.is_ood).sum())
    assert split.is_ood.sum() == round(n_in * tau / (1 - tau))
    assert np.all((split.y_test >= 0) & (split.y_test < split.n_classes))
    assert np.all(np.isfinite(split.X_pool))
