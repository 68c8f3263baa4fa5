import csv
import errno
import gc
import gzip
import io
import math
import os
import pickle
import re
import struct
import sys
import unicodedata
import warnings
import zipfile
from functools import partial
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from sklearn.datasets import load_digits

from _memory import traced_peak
from skal_openset import _datasets
from skal_openset._argtypes import csv_list
from skal_openset._datasets import (
    OpenSetSplit,
    load_cifar_batches,
    load_csv_table,
    load_digits_dataset,
    load_fashion_mnist,
    load_idx,
    load_image_folder_zip,
    make_open_set_split,
)

# The remedy of every message of a file cut short or damaged.
_WHOLE_COPY = "replace it with a whole copy of the file"


# ---------------------------------------------------------------- split helpers
def _tagged_data(n_per_class, n_classes, row_shape=(2, 3), seed=0):
    """Shuffled labels and features whose every entry is the row's own index."""
    labels = np.repeat(np.arange(n_classes), n_per_class)
    y = np.random.default_rng(seed).permutation(labels)
    ids = np.arange(len(y), dtype=np.float64).reshape(-1, *[1] * len(row_shape))
    return np.broadcast_to(ids, (len(y), *row_shape)).copy(), y


def _ids(X):
    return X.reshape(len(X), -1)[:, 0].astype(int)


def _check_split(split, X, y, in_classes, tau, initial_size, test_size):
    code = {c: j for j, c in enumerate(in_classes)}
    pool, test = _ids(split.X_pool), _ids(split.X_test)
    assert split.X_pool.shape[1:] == X.shape[1:] and split.X_pool.dtype == X.dtype
    np.testing.assert_array_equal(split.in_classes, in_classes)
    assert split.n_classes == len(in_classes)
    # rows are distinct, the test set is IN only and disjoint from the pool
    assert len(set(pool)) == len(pool) and len(set(test)) == len(test)
    assert not set(pool) & set(test)
    assert all(y[i] in code for i in test)
    np.testing.assert_array_equal(split.y_test, [code[y[i]] for i in test])
    np.testing.assert_array_equal(split.y_pool, [code.get(y[i], -1) for i in pool])
    # every IN row is either in the pool or in the test set
    in_rows = {i for i in range(len(y)) if y[i] in code}
    assert in_rows == set(pool[split.y_pool >= 0]) | set(test)
    # test hold-out: sklearn's ceil rule, stratified to within one per class
    n_in_total = len(in_rows)
    assert len(test) == math.ceil(test_size * n_in_total)
    for c in in_classes:
        share = np.sum(y[list(in_rows)] == c) / n_in_total
        assert abs(np.sum(y[test] == c) - share * len(test)) <= 1
    # pool noise follows the protocol's formula
    n_in = int(np.sum(split.y_pool >= 0))
    assert int(split.is_ood.sum()) == round(n_in * tau / (1 - tau))
    # initial labelled set
    idx = split.initial_idx
    assert len(idx) == initial_size and np.all(np.diff(idx) > 0)
    assert 0 <= idx[0] and idx[-1] < len(pool)
    n_init_ood = int(split.is_ood[idx].sum())
    assert n_init_ood >= int(initial_size * tau)
    assert initial_size - n_init_ood >= int(initial_size * (1 - tau))


# ---------------------------------------------------------------- split tests
@settings(max_examples=60, deadline=None)
@given(
    n_classes=st.integers(3, 6),
    n_per_class=st.integers(8, 30),
    tau=st.sampled_from([0.0, 0.1, 0.2, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9]),
    test_size=st.sampled_from([0.25, 0.5]),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_split_counts_and_invariants(
    n_classes, n_per_class, tau, test_size, seed, data
):
    X, y = _tagged_data(n_per_class, n_classes, seed=seed)
    k = data.draw(st.integers(2, n_classes - 1))
    in_classes = data.draw(st.permutations(range(n_classes)))[:k]
    n_in = k * n_per_class - math.ceil(test_size * k * n_per_class)
    needed = round(n_in * tau / (1 - tau))
    available = (n_classes - k) * n_per_class
    if needed > available:
        with pytest.raises(ValueError, match=f"needs {needed} OOD .* only {available}"):
            make_open_set_split(
                X, y, in_classes=in_classes, noise_ratio=tau, test_size=test_size
            )
        return
    b = data.draw(st.integers(1, n_in + needed))
    split = make_open_set_split(
        X,
        y,
        in_classes=in_classes,
        noise_ratio=tau,
        initial_size=b,
        test_size=test_size,
        random_state=seed,
    )
    _check_split(split, X, y, in_classes, tau, b, test_size)


def test_split_reproduces_paper_pool_sizes():
    # CIFAR-10 shaped labels: 5,000 train / 1,000 test images per class
    y = np.repeat(np.arange(10), 5000)
    y_test = np.repeat(np.arange(10), 1000)
    X, X_test = np.zeros((len(y), 1)), np.zeros((len(y_test), 1))
    for tau, n_ood in [(0.1, 2222), (0.2, 5000), (0.4, 13333), (0.6, 30000)]:
        split = make_open_set_split(
            X,
            y,
            in_classes=[4, 2, 5, 7],
            noise_ratio=tau,
            initial_size=500,
            X_test=X_test,
            y_test=y_test,
            random_state=0,
        )
        assert (~split.is_ood).sum() == 20000 and split.is_ood.sum() == n_ood
        assert len(split.y_test) == 4000
        n_init_ood = split.is_ood[split.initial_idx].sum()
        assert n_init_ood == int(500 * tau)


def test_split_with_given_test_set():
    X, y = _tagged_data(10, 5, row_shape=(1, 2, 2))
    X_test, y_test = _tagged_data(4, 5, row_shape=(1, 2, 2), seed=1)
    X_test += 1000  # tell test rows apart from training rows
    split = make_open_set_split(
        X,
        y,
        in_classes=[3, 1],
        noise_ratio=0.5,
        X_test=X_test,
        y_test=y_test,
        random_state=0,
    )
    keep = np.isin(y_test, [3, 1])
    np.testing.assert_array_equal(split.X_test, X_test[keep])
    np.testing.assert_array_equal(split.y_test, np.where(y_test[keep] == 3, 0, 1))
    # every IN row of X goes to the pool
    assert (~split.is_ood).sum() == 20 and split.is_ood.sum() == 20
    pool_in = _ids(split.X_pool[~split.is_ood])
    assert set(pool_in) == set(np.flatnonzero(np.isin(y, [3, 1])))


def test_split_warns_of_a_given_test_set_that_does_not_match_y():
    # Both went by silently: a test set coded 1..5 beside 0..4 tested the IN
    # rows against other classes' labels; one without an IN class left it out.
    X, y = _tagged_data(10, 5)
    X_test, y_test = _tagged_data(4, 5, seed=1)
    split = partial(make_open_set_split, X, y, in_classes=[3, 1], random_state=0)
    with pytest.warns(UserWarning, match=r"y_test holds 1 class\(es\) that y lacks"):
        split(X_test=X_test, y_test=y_test + 1)
    with pytest.warns(UserWarning, match=r"no row of the IN classes \[1\]"):
        split(X_test=X_test[y_test != 1], y_test=y_test[y_test != 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        split(X_test=X_test, y_test=y_test)


@pytest.mark.parametrize("seed", [True, False])
def test_split_refuses_a_bool_seed(seed):
    # True was seed 1, where initial_size=True and test_size=True are refused.
    X, y = _tagged_data(10, 5)
    with pytest.raises(ValueError, match=f"random_state must be .*not {seed}"):
        make_open_set_split(X, y, in_classes=[3, 1], random_state=seed)


@pytest.mark.parametrize(
    "seed", [-1, 2**32, 1.0, np.random.default_rng(0), np.random.SeedSequence(0)]
)
def test_split_refuses_what_check_random_state_refuses_naming_random_state(seed):
    # NumPy's "Seed must be between 0 and 2**32 - 1" or scikit-learn's
    # "Generator(PCG64) cannot be used to seed" named no parameter.
    X, y = _tagged_data(10, 5)
    match = "(?s)^random_state must be an int in .*rng.int"
    with pytest.raises(ValueError, match=match):
        make_open_set_split(X, y, in_classes=[3, 1], random_state=seed)


def test_split_random_in_classes_and_default_share():
    X, y = _tagged_data(8, 10)
    split = make_open_set_split(X, y, n_in_classes=3, random_state=0)
    assert split.n_classes == 3 and np.all(np.diff(split.in_classes) > 0)
    assert set(split.in_classes) <= set(range(10))
    drawn = {
        tuple(make_open_set_split(X, y, noise_ratio=0.1, random_state=s).in_classes)
        for s in range(10)
    }
    assert {len(c) for c in drawn} == {4}  # 40% of 10 classes
    assert len(drawn) > 1
    X3, y3 = _tagged_data(20, 3)
    assert make_open_set_split(X3, y3, noise_ratio=0.1, random_state=0).n_classes == 2
    # rounded to the nearest: 40% of 7 classes is 2.8
    X7, y7 = _tagged_data(10, 7)
    assert make_open_set_split(X7, y7, noise_ratio=0.1, random_state=0).n_classes == 3


def test_split_string_labels_keep_given_order():
    X, y = _tagged_data(6, 4)
    names = np.array(["cat", "dog", "elk", "fox"])[y]
    split = make_open_set_split(
        X, names, in_classes=["fox", "cat"], noise_ratio=0.2, random_state=0
    )
    assert split.in_classes.tolist() == ["fox", "cat"]
    pool = _ids(split.X_pool)
    expected = np.select([names[pool] == "fox", names[pool] == "cat"], [0, 1], -1)
    np.testing.assert_array_equal(split.y_pool, expected)


def test_split_is_reproducible_and_seed_dependent():
    X, y = _tagged_data(20, 5)
    kwargs = dict(in_classes=[0, 1], noise_ratio=0.4, initial_size=10)
    a = make_open_set_split(X, y, random_state=3, **kwargs)
    b = make_open_set_split(X, y, random_state=3, **kwargs)
    c = make_open_set_split(X, y, random_state=4, **kwargs)
    for field in ("X_pool", "y_pool", "initial_idx", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.X_pool, c.X_pool)


def test_split_draws_the_ood_rows_of_the_pool_at_random():
    # OOD rows taken in the data's order would be the same ones for every
    # seed, of the first OOD class alone where y is sorted.
    X, y = _tagged_data(50, 4)
    y = np.sort(y)
    drawn = set()
    for seed in range(5):
        split = make_open_set_split(
            X, y, in_classes=[0, 1], noise_ratio=0.2, random_state=seed
        )
        ood = _ids(split.X_pool)[split.is_ood]
        assert set(y[ood].tolist()) == {2, 3}
        drawn.add(frozenset(ood.tolist()))
    assert len(drawn) == 5


def test_split_default_initial_size_and_custom_ood_label():
    X, y = _tagged_data(50, 4)
    split = make_open_set_split(X, y, in_classes=[0, 1], noise_ratio=0.2, ood_label=7)
    assert len(split.initial_idx) == len(split.y_pool) // 10
    assert set(np.unique(split.y_pool)) == {0, 1, 7}
    assert split.is_ood.sum() == round(75 * 0.2 / 0.8)


def test_the_initial_set_finds_the_ood_rows_of_a_custom_ood_label():
    # Taken as the rows coded -1, the OOD rows of ood_label=7 were none: the
    # initial set drew IN rows where the noise ratio asks for OOD ones.
    X, y = _tagged_data(50, 4)
    kwargs = dict(in_classes=[0, 1], noise_ratio=0.5, initial_size=20, random_state=0)
    default = make_open_set_split(X, y, **kwargs)
    custom = make_open_set_split(X, y, ood_label=7, **kwargs)
    np.testing.assert_array_equal(custom.is_ood, default.is_ood)
    np.testing.assert_array_equal(custom.initial_idx, default.initial_idx)
    assert custom.is_ood[custom.initial_idx].sum() == 10


def test_a_small_initial_set_holds_an_in_row_at_high_noise():
    # int(2 * 0.3) = 0 IN rows were drawn, and the top-up from the whole pool
    # often drew OOD rows only: nothing to train a classifier on.
    X, y = _tagged_data(20, 6)
    for seed in range(20):
        split = make_open_set_split(
            X, y, in_classes=[0, 1], noise_ratio=0.7, initial_size=2, random_state=seed
        )
        assert (~split.is_ood[split.initial_idx]).sum() >= 1


def test_split_keeps_every_ood_example_by_default():
    X, y = _tagged_data(10, 4)  # 10 per class
    split = make_open_set_split(X, y, in_classes=[0, 1], random_state=0)
    # The pool holds all 20 OOD rows and the IN rows left after the test split.
    assert split.is_ood.sum() == 20
    n_in = int((~split.is_ood).sum())
    assert split.noise_ratio == pytest.approx(20 / (20 + n_in))
    assert f"noise_ratio={split.noise_ratio:.3f}" in repr(split)
    chosen = make_open_set_split(X, y, in_classes=[0, 1], noise_ratio=0.2)
    assert chosen.noise_ratio == pytest.approx(0.2, abs=0.05)


def test_split_closed_set_without_noise():
    X, y = _tagged_data(8, 3)
    split = make_open_set_split(X, y, in_classes=[0, 1, 2], noise_ratio=0.0)
    assert not split.is_ood.any() and len(split.y_pool) == 18


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(in_classes=[0, 9]), "do not occur in y"),
        (dict(in_classes=[1]), "at least 2 IN classes"),
        # said before the pool is drawn, which would refuse the noise ratio
        (dict(in_classes=[1], noise_ratio=0.9), r"at least 2 IN classes, got \[1\]"),
        (dict(in_classes=[[0, 1]]), r"1-d sequence of class labels, got \[\[0, 1\]\]"),
        # numpy's "inhomogeneous shape", which named no parameter; an object
        # array's arrays failed in np.isin ("truth value ... is ambiguous"),
        # and sets were named as classes not in y.
        (dict(in_classes=[[0, 1], [2]]), r"1-d sequence of class labels, got \[\[0,"),
        (
            dict(in_classes=np.array([np.array([0, 1]), np.array([2])], object)),
            r"^in_classes must be a 1-d sequence of class labels, got \[array",
        ),
        (dict(in_classes=[{0}, {1}]), r"1-d sequence of class labels, got \[\{0\},"),
        # Shown as given: numpy's strings drop the NUL of 'a\x00'.
        (dict(in_classes=[["a\x00", "b"]]), r"labels, got \[\['a\\x00', 'b'\]\]"),
        # numpy's rows of bytes, shown as [[97], [98]]; and its "could not
        # broadcast input array", which named no parameter.
        (
            dict(in_classes=[bytearray(b"a"), bytearray(b"b")]),
            r"1-d sequence of class labels, got \[bytearray\(b'a'\),",
        ),
        (
            dict(in_classes=[np.zeros((2, 2)), np.zeros((2, 3))]),
            r"1-d sequence of class labels, got \[array\(\[\[0\., 0",
        ),
        # It was "must be a 1-d sequence", which named no remedy.
        (
            dict(in_classes={0, 1, 2}),
            r"in_classes must be in label order, and a set has none: pass a "
            r"list, e\.g\. sorted\(in_classes\)",
        ),
        (dict(in_classes=[0, 1, 1]), "in_classes lists 1 more than once: list each"),
        # It named the first repeated value only.
        (dict(in_classes=[0, 1, 1, 0, 2]), r"in_classes lists \[0, 1\] more than"),
        (dict(in_classes=[0, 1], n_in_classes=2), "not both"),
        (dict(in_classes=None, n_in_classes=1), "n_in_classes"),
        (dict(in_classes=[0, 1, 2, 3], noise_ratio=0.2), "No OOD classes left"),
        (dict(noise_ratio=1.0), "noise_ratio"),
        (dict(noise_ratio=-0.1), "noise_ratio"),
        (dict(initial_size=0), "initial_size"),
        (dict(initial_size=10_000), "initial_size"),
        (dict(initial_size=True), "initial_size.*got True"),
        (dict(ood_label=1), "ood_label"),
        (dict(X_test=np.zeros((4, 2, 3))), "both X_test and y_test"),
        (
            dict(X_test=np.zeros((4, 3)), y_test=np.zeros(4)),
            "X_test rows are arrays of shape",
        ),
        (dict(X_test=np.zeros((4, 2, 3)), y_test=np.full(4, 3)), "none of the IN"),
    ],
)
def test_split_errors(kwargs, match):
    X, y = _tagged_data(10, 4)
    kwargs = {"in_classes": [0, 1], **kwargs}
    with pytest.raises(ValueError, match=match):
        make_open_set_split(X, y, **kwargs)


def test_class_names_beside_integer_codes_are_told_to_use_the_codes(tmp_path):
    # load_csv_table codes string labels as integers: the names, passed as
    # in_classes, did not occur in y, and nothing said why.
    path = tmp_path / "named.csv"
    path.write_text(
        "x0,label\n" + "".join(f"{i},{c}\n" for i, c in enumerate("cdu" * 4))
    )
    X, y, classes = load_csv_table(path, return_classes=True)
    match = r"do not occur in y \(its classes are \[0, 1, 2\]\)\. y holds integer codes"
    with pytest.raises(ValueError, match=match):
        make_open_set_split(X, y, in_classes=["c", "d"])
    split = make_open_set_split(X, classes[y], in_classes=["c", "d"], test_size=0.25)
    assert split.in_classes.tolist() == ["c", "d"]


def test_a_bool_noise_ratio_is_refused():
    # False passed as 0: a pool without OOD examples, without a word.
    X, y = _tagged_data(10, 4)
    for flag in (False, True):
        with pytest.raises(TypeError, match=f"not {flag} .{flag} would silently"):
            make_open_set_split(X, y, in_classes=[0, 1], noise_ratio=flag)


def test_a_noise_ratio_beyond_the_ood_rows_names_the_largest_that_works():
    X, y = _tagged_data(10, 4)  # 15 IN pool rows beside 20 OOD ones
    with pytest.raises(ValueError, match="lower noise_ratio to at most 0.57"):
        make_open_set_split(X, y, in_classes=[0, 1], noise_ratio=0.9)
    make_open_set_split(X, y, in_classes=[0, 1], noise_ratio=0.57)
    with pytest.raises(ValueError, match="only 20 are available"):
        make_open_set_split(X, y, in_classes=[0, 1], noise_ratio=0.58)


def test_the_largest_noise_ratio_advised_is_not_floored_below_an_exact_one():
    # 29 OOD rows beside 71 IN ones allow 0.29 exactly, which floats floored
    # to 0.28 (0.29 * 100 is 28.999999999999996).
    X, y = np.arange(100.0)[:, None], np.r_[np.arange(71) % 2, np.full(29, 2)]
    tests = dict(X_test=np.zeros((4, 1)), y_test=np.arange(4) % 2, random_state=0)
    with pytest.raises(ValueError, match=r"lower noise_ratio to at most 0\.29\.$"):
        make_open_set_split(X, y, in_classes=[0, 1], noise_ratio=0.3, **tests)
    split = make_open_set_split(X, y, in_classes=[0, 1], noise_ratio=0.29, **tests)
    assert split.is_ood.sum() == 29


@pytest.mark.parametrize(
    "kwargs", [dict(noise_ratio=0.9), dict(initial_size=99)], ids=["noise", "initial"]
)
def test_a_split_error_crosses_a_process_boundary(kwargs):
    # Made from numbers, not its message: unpickling it in joblib's parent
    # process raised "__init__() missing 3 required positional arguments".
    X, y = _tagged_data(10, 4)
    with pytest.raises(ValueError) as info:
        make_open_set_split(X, y, in_classes=[0, 1], **kwargs)
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is type(info.value) and str(copy) == str(info.value)
    assert vars(copy) == vars(info.value)


def test_a_split_of_one_class_names_y():
    # "n_in_classes must be an integer in [2, 1], got 2": a parameter not
    # passed, an empty range, and not a word of y.
    X, y = np.zeros((20, 2)), np.full(20, 3)
    with pytest.raises(ValueError, match=r"y holds 1 class\(es\) \[3\]"):
        make_open_set_split(X, y)


def test_labels_of_mixed_kinds_are_counted_where_the_message_lists_some():
    # It listed the first six labels, with nothing to say that there were more.
    X, y = np.zeros((40, 2)), np.array(["unknown", *range(39)], dtype=object)
    with pytest.raises(
        ValueError, match=r"'unknown', 0, 1, .*, \.\.\.\] \(40 labels\)\)"
    ):
        make_open_set_split(X, y, in_classes=[1, 2], random_state=0)


def test_labels_of_mixed_kinds_listed_show_each_kind():
    # Listed in order, the first 20 were all numbers: the one string that
    # made the mix was left out of the message about it.
    X, y = np.zeros((31, 2)), np.array([*range(30), "unknown"], dtype=object)
    with pytest.raises(ValueError, match=r"\(\[0, 'unknown', 1, .*\] \(31 labels\)\)"):
        make_open_set_split(X, y, in_classes=[1, 2], random_state=0)


def test_split_refuses_labels_of_mixed_kinds():
    # np.unique raised a bare "'<' not supported between 'str' and 'int'".
    X = np.zeros((20, 2))
    y = np.array([i % 4 for i in range(20)], dtype=object)
    y[::5] = "unknown"
    match = r"y mixes strings, bytes or numbers \(\['unknown', 1, 2, 3, 0\]\).*one kind"
    with pytest.raises(ValueError, match=match):
        make_open_set_split(X, y, in_classes=[1, 2], random_state=0)
    y_test = np.array([1, "2"], dtype=object)
    with pytest.raises(ValueError, match="y_test mixes strings"):
        make_open_set_split(
            X, y.astype(str), in_classes=["1", "2"], X_test=X[:2], y_test=y_test
        )


def test_split_does_not_take_booleans_for_numeric_classes_nor_numbers_for_bools():
    # True == 1 and False == 0: in_classes [True, False] on digits made 1 and 0
    # the IN classes, and [1, 0] on boolean labels made True and False them.
    X = np.zeros((40, 2))
    digit = np.arange(40) % 4
    match = r"The in_classes hold booleans \[True, False\] but the classes of y"
    with pytest.raises(ValueError, match=match):
        make_open_set_split(X, digit, in_classes=[True, False], random_state=0)
    match = r"The classes of y are booleans \[False, True\] but the in_classes"
    with pytest.raises(ValueError, match=match):
        make_open_set_split(X, digit > 1, in_classes=[1, 0], random_state=0)
    match = r"The y_test hold booleans \[True, False\] but the classes of y"
    with pytest.raises(ValueError, match=match):
        make_open_set_split(
            X, digit, in_classes=[0, 1], X_test=X[:2], y_test=[True, False]
        )


@pytest.mark.parametrize("missing", [None, np.nan, "pandas.NA"])
def test_split_names_a_missing_label_among_strings(missing):
    # A missing label among strings was said to mix kinds, with the advice
    # y.astype(str), which made it a class "nan" (or "None").
    pd = pytest.importorskip("pandas")
    X = np.zeros((20, 2))
    y = np.array(["cat", "dog", "bird", "fish"] * 5, dtype=object)
    y[[6, 13]] = pd.NA if missing == "pandas.NA" else missing
    match = (
        r"y has no label at position 6 \((None|nan|<NA>); 2 missing in all\): every "
        r"row needs a label; drop the rows whose label is missing, e.g. keep = "
        r"pandas.notna\(y\); X\[keep\], y\[keep\]."
    )
    with pytest.raises(ValueError, match=match):
        make_open_set_split(X, y, in_classes=["cat", "dog"], random_state=0)
    with pytest.raises(ValueError, match="y_test has no label at position 6"):
        make_open_set_split(
            X, y.astype(str), in_classes=["cat", "dog"], X_test=X, y_test=y
        )


def test_split_rejects_bad_arrays():
    X, y = _tagged_data(10, 4)
    with pytest.raises(ValueError, match="different lengths"):
        make_open_set_split(X, y[:-1], in_classes=[0, 1])
    X[3, 1, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        make_open_set_split(X, y, in_classes=[0, 1])


def _split_fields():
    """The fields of a small valid OpenSetSplit."""
    return dict(
        X_pool=np.zeros((4, 2)),
        y_pool=np.array([0, 1, -1, 1]),
        initial_idx=np.array([0, 2]),
        X_test=np.zeros((2, 2)),
        y_test=np.array([0, 1]),
        in_classes=np.array([5, 7]),
    )


def test_open_set_split_checks_direct_construction():
    good = _split_fields()
    split = OpenSetSplit(**good)
    np.testing.assert_array_equal(split.is_ood, [False, False, True, False])
    assert "n_pool=4, n_ood_pool=1, noise_ratio=0.250, n_initial=2, n_test=2" in repr(
        split
    )
    with pytest.raises(AttributeError):
        split.ood_label = -2  # frozen
    for change, match in [
        (dict(y_pool=np.array([0, 2, -1, 1])), "y_pool"),
        (dict(y_test=np.array([0, -1])), "y_test"),
        (
            dict(initial_idx=np.array([0, 4])),
            r"initial_idx holds 4, outside the pool's rows 0..3: give positions",
        ),
        (
            dict(initial_idx=np.array([1, 1])),
            r"initial_idx lists 1 more than once: .*np.unique\(initial_idx\)",
        ),
        (dict(ood_label=1), "collides"),
        # it named no remedy
        (dict(ood_label=0), r"ood_label=0 collides .* label outside them \(the"),
    ]:
        with pytest.raises(ValueError, match=match):
            OpenSetSplit(**{**good, **change})


def test_open_set_split_takes_lists_as_arrays():
    # A list y_pool passed its label check unchecked (list != -1 is one bool),
    # is_ood was False and noise_ratio raised AttributeError.
    fields = {
        name: np.asarray(value).tolist() for name, value in _split_fields().items()
    }
    split = OpenSetSplit(**fields)
    np.testing.assert_array_equal(split.is_ood, [False, False, True, False])
    assert split.noise_ratio == 0.25 and split.X_pool.shape == (4, 2)
    assert "in_classes=[5, 7]" in repr(split)
    with pytest.raises(ValueError, match=r"y_pool must hold labels 0..1 or ood_label"):
        OpenSetSplit(**{**fields, "y_pool": [0, 1, -1, 5]})
    with pytest.raises(ValueError, match=r"y_test must hold IN labels 0..1 only"):
        OpenSetSplit(**{**fields, "y_test": [0, 2]})


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(y_pool=[0, 1, np.nan, np.nan]), r"y_pool .* nan at position 2: .*drop"),
        (dict(y_pool=[0, 0.5, -1, 1]), r"y_pool .* 0.5 at position 1: give each"),
        (dict(y_pool=[0.0, 1.0, -1.0, 1.0]), r"y_pool .*: cast them, y_pool.astype"),
        (
            dict(y_pool=["0", "1", "-1", "1"]),
            r"y_pool .*<U2 values such as \['0', '1', '-1'\]",
        ),
        (dict(y_test=[0, np.nan]), r"y_test must hold integer labels \(0..1\)"),
        (dict(initial_idx=np.array([], int)), "initial_idx is empty"),
        (dict(initial_idx=[0.0, 2.0]), r"initial_idx .*initial_idx.astype\(int\)"),
        (dict(initial_idx=[True, False, True, False]), "np.flatnonzero"),
        (
            dict(in_classes=[3, 3]),
            r"in_classes lists 3 more than once: list each IN class once \(label j",
        ),
        (dict(ood_label="unknown"), "ood_label must be an integer .* got 'unknown'"),
        (dict(in_classes=[5]), "needs at least 2 IN classes, got 1"),
        # TypeErrors: "unhashable type: 'list'", "len() of unsized object"
        (
            dict(in_classes=[[5], [7]]),
            r"in_classes must be a 1-d sequence of class labels, got \[\[5\], "
            r"\[7\]\]: list the IN classes, e.g. in_classes=\[3, 7\]\.$",
        ),
        (dict(in_classes=5), "a 1-d sequence of class labels, got 5: list the"),
        # "unhashable type: 'numpy.ndarray'", in the check of repeated classes
        (
            dict(in_classes=np.array([np.array([5, 7]), np.array([9])], object)),
            r"^in_classes must be a 1-d sequence of class labels, got \[array",
        ),
        (
            dict(y_pool=np.zeros((4, 1), int)),
            r"y_pool must be 1-d, one label per example, got shape \(4, 1\)",
        ),
        # Accepted: the run trained its initial model, then failed on no rows.
        (dict(X_test=np.zeros((0, 2)), y_test=np.zeros(0, int)), "test set .* empty"),
    ],
    ids=[
        "nan",
        "fraction",
        "whole-floats",
        "strings",
        "test-nan",
        "no-initial",
        "float-index",
        "mask",
        "duplicate-class",
        "ood-string",
        "one-class",
        "classes-in-a-row",
        "one-class-not-in-a-list",
        "arrays-in-cells",
        "column-of-labels",
        "empty-test",
    ],
)
def test_open_set_split_refuses_labels_and_indices_of_other_kinds(change, match):
    # NaN, fractional and string labels, an empty or float initial set and
    # duplicate IN classes were accepted, or refused by numpy's own error.
    with pytest.raises(ValueError, match=match):
        OpenSetSplit(**{**_split_fields(), **change})


# ---------------------------------------------------------------- loaders
def test_load_digits_dataset():
    X, y = load_digits_dataset()
    ref = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32 and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 1
    np.testing.assert_allclose(X * 16, ref.data, atol=1e-5)
    np.testing.assert_array_equal(y, ref.target)


def test_load_csv_table_encodes_string_labels(tmp_path):
    rows = [(0.5, -1, "b"), (2, 3.25, "a"), (1, 1e-3, "b")]
    path = tmp_path / "t.csv"
    path.write_text("x0,x1,label\n" + "\n".join(", ".join(map(str, r)) for r in rows))
    X, y, classes = load_csv_table(path, return_classes=True)
    assert X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X, np.array([r[:2] for r in rows], dtype=np.float32))
    assert classes[y].tolist() == ["b", "a", "b"] and sorted(classes) == list(classes)
    X2, y2 = load_csv_table(path)
    np.testing.assert_array_equal(y2, y)


def test_load_csv_table_keeps_integer_labels(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,cls,b\n1.5,7,2\n0,3,-4\n\n")  # blank trailing line is fine
    X, y, classes = load_csv_table(path, label_column="cls", return_classes=True)
    np.testing.assert_array_equal(X, [[1.5, 2], [0, -4]])
    assert y.tolist() == [7, 3] and classes.tolist() == [3, 7]


@pytest.mark.parametrize(
    "text, match",
    [
        ("x0,x1\n1,2\n", "no column 'label'"),
        ("x0,label\n1,a\n?,b\n", "numeric"),
        ("x0,label\n1,a\n2\n", "line"),
        ("x0,label\n", "no data rows"),
        # the second one silently became a feature
        ("x0,label,label\n1,3,9\n2,5,9\n", "2 columns named 'label'"),
        # scikit-learn refused "0 feature(s)" only once a campaign had begun
        ("label\na\nb\n", "no feature column: its only column is the label"),
    ],
)
def test_load_csv_table_errors(tmp_path, text, match):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        load_csv_table(path)


def test_load_csv_table_skips_lines_of_spaces_or_tabs(tmp_path):
    # Blank to the eye, they were "line(s) [4] do not have 2 values".
    path = tmp_path / "t.csv"
    path.write_text("x1,label\n1,a\n  \n2,b\n\t \n3,a\n \t\n")
    X, y = load_csv_table(path)
    assert X.ravel().tolist() == [1, 2, 3] and y.tolist() == [0, 1, 0]
    # still counted, and a row of empty cells is no blank line
    path.write_text("x1,label\n1,a\n  \n2,b\n,,\n")
    with pytest.raises(ValueError, match=r"line\(s\) \[5\] do not have 2 values"):
        load_csv_table(path)


@pytest.mark.parametrize(
    "text, match",
    [
        ("x0,x1,label\n1,2,a\n3,,b\n", "line 3, column 'x1': feature value is empty"),
        ("x0,x1,label\n1,2,a\n3,\t,b\n", "line 3, column 'x1': feature value is empty"),
        ("label,x0,x1\na,1,2\nb,?,3\n", r"line 3, column 'x0': .* '\?' is not numeric"),
        # blank lines are skipped but still counted: messages name the file's lines
        ("x0,label\n\n1,a\n\n,b\n", "line 5, column 'x0': feature value is empty"),
        ("x0,label\n\n1,a\n\ninf,b\n", "line 5, column 'x0': feature value 'inf'"),
        # float read them as 1000 and 1, where a label of theirs is no number
        ("x0,label\n1,a\n1_000,b\n", r"line 3, column 'x0': .* '1_000' is not numeric"),
        ("x0,label\n1,a\n\uff11,b\n", "line 3, column 'x0': .* '\uff11' is not"),
        # str.strip takes the separator \x1c, numpy does not: an IndexError
        ("x0,label\n1,a\n\x1c1.5,b\n", r"line 3, column 'x0': .* '\\x1c1.5' is not"),
        # "" was a class of its own, and made the labels 3 and 5 codes 1 and 2
        ("x0,label\n1,3\n2,5\n3, \n4,\n", r"line 4: the label is empty \(2 row"),
    ],
    ids=[
        "empty",
        "blank",
        "not-a-number",
        "empty-after-blank",
        "inf-after-blank",
        "underscore",
        "full-width-digit",
        "file-separator",
        "empty-label",
    ],
)
def test_load_csv_table_errors_name_line_and_column(tmp_path, text, match):
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=f"t.csv, {match}"):
        load_csv_table(path)


def test_load_csv_table_reads_features_in_plain_notation(tmp_path):
    # Plain numbers and the spaces around them, a no-break space included,
    # as around a label; only "1_000" and other scripts' digits are refused.
    values = ["1e5", " -2 ", ".5", "5.", "+1.5E-3", "\xa03\xa0", "007"]
    path = tmp_path / "t.csv"
    rows = "".join(f"{value},{i % 2}\n" for i, value in enumerate(values))
    path.write_text("x0,label\n" + rows, encoding="utf-8")
    X, _ = load_csv_table(path)
    assert X.ravel().tolist() == [1e5, -2, 0.5, 5, np.float32(1.5e-3), 3, 7]


def test_only_a_header_of_one_column_is_said_to_be_separated_otherwise(tmp_path):
    # "a;b" is a name of its own among the commas of a header.
    path = tmp_path / "t.csv"
    path.write_text("a;b,x,y\n1,2,3\n")
    with pytest.raises(ValueError, match="no column 'label'") as error:
        load_csv_table(path)
    assert "looks separated" not in str(error.value)


@pytest.mark.parametrize(
    "text, match",
    [
        # all of these said no more than "has no column 'label'; header: [...]"
        ("x0;x1;label\n1;2;a\n", "looks separated by ';': save it comma-separated"),
        # named only the command line's option, not the function's keyword
        ("1,2,a\n3,4,b\n", r"name the columns.*\(label_column=, or --label-column"),
        # a trailing comma: "column '': feature value is empty"
        ("x0,label,\n1,a,\n2,b,\n", "column 3 of the header has no name"),
        # "fix it or drop that row", for every row
        ("x0,town,label\n1,north,a\n2,south,b\n", "nor is any value of the column"),
        # "fill it in or drop that row", for every row
        ("x1,notes,label\n1,,a\n2,,b\n", "as in every row.*leave it out"),
        # a row id became a feature
        ("ID,x0,label\n1,0.5,a\n2,0.7,b\n", "column 'ID'.*--ignore-columns ID"),
    ],
    ids=[
        "semicolons",
        "no-header",
        "trailing-comma",
        "text-column",
        "empty-column",
        "id-column",
    ],
)
def test_load_csv_table_says_what_is_wrong_with_the_file(tmp_path, text, match):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        load_csv_table(path)


def test_load_csv_table_leaves_out_ignored_columns(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,x0,town,label\n7,0.5,north,a\n9,0.7,south,b\n")
    X, y = load_csv_table(path, ignore_columns=["id", "town"])
    assert X.tolist() == [[0.5], [pytest.approx(0.7)]] and y.tolist() == [0, 1]
    with pytest.raises(ValueError, match=r"no columns \['ids'\] to ignore"):
        load_csv_table(path, ignore_columns=["ids", "town"])
    with pytest.raises(ValueError, match="label column 'label' cannot be ignored"):
        load_csv_table(path, ignore_columns=["id", "town", "label"])
    # Every one was listed: 500 names made 5 KB.
    missing = [f"gone{i:03d}" for i in range(500)]
    shown = r"\['gone000', .*, \.\.\.\] \(500 columns\) to ignore"
    with pytest.raises(ValueError, match=shown) as error:
        load_csv_table(path, ignore_columns=missing)
    assert "gone499" not in str(error.value)
    match = r"no feature column: besides the label column 'label', its columns \['id'"
    with pytest.raises(ValueError, match=match):
        load_csv_table(path, ignore_columns=["id", "x0", "town"])


def test_a_header_name_padded_with_spaces_is_ignored_as_the_command_line_types_it(
    tmp_path,
):
    # The command line strips "ID " to "ID", which matched no column: the
    # error's own advice (--ignore-columns 'ID ') could not be followed.
    path = tmp_path / "t.csv"
    path.write_text("ID ,x0,label\n7,0.5,a\n9,0.7,b\n")
    with pytest.raises(ValueError, match=r"--ignore-columns 'ID '"):
        load_csv_table(path)
    [typed] = csv_list("ID ")
    X, _ = load_csv_table(path, ignore_columns=[typed])
    assert X.tolist() == [[0.5], [pytest.approx(0.7)]]


def test_header_names_saved_decomposed_are_the_names_typed(tmp_path):
    # macOS saves "é" as "e" and a combining accent (NFD): the name typed
    # (NFC) matched no column, and the error showed two names that look alike.
    path = tmp_path / "t.csv"
    id_, label = (unicodedata.normalize("NFD", n) for n in ("café", "étiquette"))
    path.write_text(f"{id_},x0,{label} \n7,0.5,a\n9,0.7,b\n")
    X, y = load_csv_table(path, label_column="étiquette", ignore_columns=["café"])
    assert X.tolist() == [[0.5], [pytest.approx(0.7)]] and y.tolist() == [0, 1]


def test_a_label_column_named_id_is_the_label_not_a_row_index(tmp_path):
    # It was refused as a feature column, and ignoring it as told refused.
    path = tmp_path / "t.csv"
    path.write_text("x0,ID\n0.5,a\n0.7,b\n")
    X, y = load_csv_table(path, label_column="ID")
    assert X.shape == (2, 1) and y.tolist() == [0, 1]


def test_load_csv_table_makes_no_array_as_wide_as_an_ignored_text(
    tmp_path, monkeypatch
):
    # The whole table became one array of strings, each as wide as the
    # widest value: 20,000 rows beside one ignored note of 2,000 characters
    # took 5.7 GB.
    note = "n" * 500
    path = tmp_path / "t.csv"
    path.write_text(f"note,x0,label\n{note},0.5,a\nok,0.7,b\n")
    built = []

    class RecordingNumpy:
        def __getattr__(self, name):
            return getattr(np, name)

        def array(self, *args, **kwargs):
            built.append(np.array(*args, **kwargs))
            return built[-1]

    monkeypatch.setattr(_datasets, "np", RecordingNumpy())
    X, y = load_csv_table(path, ignore_columns=["note"])
    assert X.tolist() == [[0.5], [pytest.approx(0.7)]] and y.tolist() == [0, 1]
    wide = [a.shape for a in built if a.ndim == 2 and a.itemsize >= 4 * len(note)]
    assert not wide


def test_load_csv_table_sorts_out_its_columns_in_linear_time(tmp_path, monkeypatch):
    # Each column was looked up in a list of the kept columns' positions
    # (and in the list of names to ignore): 100,000 columns took a minute.
    # The comparisons of positions and names that lookups make are counted.
    n = 300
    names = [f"x{c}" for c in range(n)]
    path = tmp_path / "wide.csv"
    path.write_text(",".join([*names, "label"]) + "\n" + "1," * n + "a\n")
    comparisons = 0

    def counted(kind):
        class Counted(kind):
            __hash__ = kind.__hash__

            def __eq__(self, other):
                nonlocal comparisons
                comparisons += 1
                return kind(self) == other

        return Counted

    position, name = counted(int), counted(str)
    monkeypatch.setattr(
        _datasets,
        "enumerate",
        lambda *args: ((position(c), v) for c, v in enumerate(*args)),
        raising=False,
    )
    X, _ = load_csv_table(path, ignore_columns=[name(x) for x in names[::2]])
    assert X.shape == (1, n // 2) and comparisons < 5 * n


@pytest.mark.parametrize(
    "label_column, ignore_columns, match",
    [("Label", (), "no column 'Label'"), ("label", ["x_9"], r"no columns \['x_9'\]")],
    ids=["label-column", "ignored-column"],
)
def test_load_csv_table_shows_a_wide_header_shortened(
    tmp_path, label_column, ignore_columns, match
):
    # A table of 300,000 columns made an error of 3 MB, every name of its
    # header, on the terminal; a name of 100,000 characters made one too.
    names = ["a" * 100_000, *(f"x{c}" for c in range(3000))]
    path = tmp_path / "wide.csv"
    path.write_text(",".join([*names, "label"]) + "\n" + "1," * len(names) + "a\n")
    with pytest.raises(ValueError, match=match) as error:
        load_csv_table(path, label_column, ignore_columns=ignore_columns)
    assert "'x18', ...] (3002 columns)" in str(error.value)
    assert len(str(error.value)) < 1000
    assert f"'{'a' * 27}...{'a' * 28}'" in str(error.value)  # 60 characters


@pytest.mark.parametrize(
    "n_columns, shown", [(20, "'x18', 'label']. "), (21, "'x19', ...] (21 columns). ")]
)
def test_a_header_is_shortened_only_beyond_20_names(tmp_path, n_columns, shown):
    names = [*(f"x{c}" for c in range(n_columns - 1)), "label"]
    path = tmp_path / "t.csv"
    path.write_text(",".join(names) + "\n" + "1," * (n_columns - 1) + "a\n")
    with pytest.raises(ValueError, match="no column 'Label'") as error:
        load_csv_table(path, "Label")
    assert shown in str(error.value)


def test_load_csv_table_ragged_error_counts_blank_lines(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x0,label\n\n1,a\n\n2\n")
    with pytest.raises(ValueError, match=r"t.csv: line\(s\) \[5\] do not have 2"):
        load_csv_table(path)


def test_load_csv_table_reads_integer_labels_however_written(tmp_path):
    # Labels as pandas writes a float column ("1.0", "2.0") were encoded as
    # their positions (0, 1), so in_classes=[1, 2] named other classes.
    path = tmp_path / "t.csv"
    for labels in (["01", "007", "+1", "1"], ["1.0", "-0", "2.0"], ["-3", "10", "-3"]):
        rows = "".join(f"{i},{c}\n" for i, c in enumerate(labels))
        path.write_text("x0,label\n" + rows)
        if labels[0] == "01":  # "01", "+1" and "1" all write 1
            with pytest.raises(ValueError, match=r"'\+1' \(line 4\) and '01' \(line"):
                load_csv_table(path)
            continue
        _, y, classes = load_csv_table(path, return_classes=True)
        values = [int(float(c)) for c in labels]
        assert y.tolist() == values and classes.tolist() == sorted(set(values))
        assert y.dtype == np.int64
    # the two spellings named in the refusal are of one number
    path.write_text("x0,label\n0,7\n1,3\n2,7.0\n")
    with pytest.raises(ValueError, match="'7' .* and '7.0' .* both the number 7"):
        load_csv_table(path)
    # ratings are their values, in numeric order (as text, "10.5" came first)
    path.write_text("x0,label\n0,1.5\n1,10.5\n2,2.0\n3,1.5\n")
    _, y, classes = load_csv_table(path, return_classes=True)
    assert y.tolist() == [1.5, 10.5, 2.0, 1.5] and classes.tolist() == [1.5, 2.0, 10.5]
    path.write_text("x0,label\n0,1.5\n1,1.50\n")
    with pytest.raises(ValueError, match="both the number 1.5"):
        load_csv_table(path)
    # only plain ASCII numbers: "1_000" or a full-width digit is a name
    for name in ("1_000", "\uff11"):
        path.write_text(f"x0,label\n0,{name}\n1,7\n2,7\n", encoding="utf-8")
        with pytest.raises(ValueError, match=f"the label '{name}' is no number"):
            load_csv_table(path)


@pytest.mark.parametrize(
    "big",
    ["12345678901234567890", str(2**63), str(-(2**63) - 1), "9" * 5000],
    ids=["20-digits", "int64-max+1", "int64-min-1", "5000-digits"],
)
def test_load_csv_table_keeps_labels_beyond_int64_as_strings(tmp_path, big):
    path = tmp_path / "t.csv"
    path.write_text(f"x0,label\n0,{big}\n1,seven\n")
    _, y, classes = load_csv_table(path, return_classes=True)
    assert classes[y].tolist() == [big, "seven"]
    # beside int64 labels it would renumber them: refused, not overflowed
    path.write_text(f"x0,label\n0,{big}\n1,7\n2,7\n")
    with pytest.raises(ValueError, match="line 2: the label .* that fits int64"):
        load_csv_table(path)
    path.write_text(f"x0,label\n0,{2**63 - 1}\n1,{-(2**63)}\n")
    _, y, classes = load_csv_table(path, return_classes=True)
    assert y.tolist() == [2**63 - 1, -(2**63)] and y.dtype == np.int64


def test_load_csv_table_refuses_integers_that_floats_would_round(tmp_path):
    # An integer label beyond 2**53 beside a label that is not whole became
    # the float64 nearest it: a class 2**53 + 1 alone was silently renamed
    # 2**53, and with a class 2**53 the two were said to be "both the number
    # 9007199254740992.0", two spellings of one number, which they are not.
    path = tmp_path / "t.csv"
    for first in ("", f"0,{2**53}\n"):
        path.write_text(f"x0,label\n{first}1,{2**53 + 1}\n2,0.5\n3,7\n")
        line = 3 if first else 2
        message = (
            rf"line {line}: the label '{2**53 + 1}' is an integer beyond 2\*\*53, "
            rf"and the label '0.5' \(line {line + 1}\) makes the labels floats, "
            rf"which would read it as {2**53}"
        )
        with pytest.raises(ValueError, match=message):
            load_csv_table(path)
    # Integers alone stay exact, and floats hold 2**53 itself.
    path.write_text(f"x0,label\n0,{2**53}\n1,{2**53 + 1}\n")
    assert load_csv_table(path)[1].tolist() == [2**53, 2**53 + 1]
    path.write_text(f"x0,label\n0,{2**53}\n1,0.5\n")
    assert load_csv_table(path)[1].tolist() == [2.0**53, 0.5]


def test_the_labels_floats_would_round_are_named_by_their_first_lines(tmp_path):
    # Of several such labels, and several floats, the message names the
    # earliest in the file, not the first in text order.
    path = tmp_path / "t.csv"
    path.write_text(f"x0,label\n0,{2**53 + 5}\n1,{2**53 + 3}\n2,2.5\n3,0.5\n")
    message = (
        rf"line 2: the label '{2**53 + 5}' is an integer beyond 2\*\*53, and "
        r"the label '2.5' \(line 4\) makes the labels floats"
    )
    with pytest.raises(ValueError, match=message):
        load_csv_table(path)


def test_load_csv_table_refuses_integer_labels_mixed_with_others(tmp_path):
    # One "NA" or "07" among the months 1..12 made every label a string, and
    # their positions in text order ('1', '10', '11', '12', '2', ...) the
    # classes: in_classes=[2, 3, 4] then named other months. ("NA" is now
    # refused as a missing value, before.)
    months = [m for m in range(1, 13) for _ in range(2)]
    path = tmp_path / "t.csv"
    for odd in ("n.a.", "seven"):
        labels = [*map(str, months[:4]), odd, *map(str, months[4:]), odd]
        rows = "".join(f"{i},{c}\n" for i, c in enumerate(labels))
        path.write_text("x0,label\n" + rows)
        match = (
            rf"t.csv, line 6: the label '{odd}' is no number .* 24 other "
            rf"label\(s\) are numbers; the odd labels: '{odd}' \(2 row\(s\)\)"
            r".*renumbered in text order"
        )
        with pytest.raises(ValueError, match=match):
            load_csv_table(path)
    # "07" beside "7" is the same month written two ways
    labels = [*map(str, months[:4]), "07", *map(str, months[4:])]
    path.write_text("x0,label\n" + "".join(f"{i},{c}\n" for i, c in enumerate(labels)))
    with pytest.raises(ValueError, match="'07' .line 6. and '7' .line 15. are both"):
        load_csv_table(path)
    # a stray number among names is named the same way
    path.write_text("x0,label\n0,cat\n1,dog\n2,3\n3,cat\n")
    with pytest.raises(ValueError, match="line 4: the label '3' is a number"):
        load_csv_table(path)


@pytest.mark.parametrize("marker", ["NA", "n/a", "#N/A", "<NA>", "nan", "None", "?"])
def test_load_csv_table_names_missing_value_labels(tmp_path, marker):
    # An R or pandas export's "NA" became a class of its own, silently, where
    # skal-openset run refuses it; among numbers it was said to mix kinds.
    from skal_openset._campaign import load_table

    path = tmp_path / "t.csv"
    rows = ["1", "2", f" {marker} ", "1", marker]
    path.write_text("x,label\n" + "".join(f"{i},{c}\n" for i, c in enumerate(rows)))
    with pytest.raises(
        ValueError,
        match=rf"t.csv, line 4: the label '{re.escape(marker)}' reads as a missing "
        r"value, not a class \(2 row\(s\) in all: .*\); among numbers it can be no "
        "class: drop those rows",
    ):
        load_csv_table(path)
    # Among names it may be a class ("none" of a severity): loaded, and named.
    rows = ["cat", "dog", f" {marker} ", "cat", marker]
    path.write_text("x,label\n" + "".join(f"{i},{c}\n" for i, c in enumerate(rows)))
    with pytest.warns(UserWarning, match=r"line 4: .* missing value.*class of its"):
        _, y, classes = load_csv_table(path, return_classes=True)
    assert sorted(classes.tolist()) == sorted(["cat", "dog", marker])
    assert len(set(y.tolist())) == 3
    with pytest.raises(ValueError, match="line 4: the label .* missing value"):
        load_table(path)


def test_a_label_with_a_character_unicode_does_not_name_is_a_class_of_its_own(
    tmp_path,
):
    # A tab, which has no Unicode name (a control character), shows as a
    # space: only format characters and variation selectors are invisible.
    path = tmp_path / "t.csv"
    path.write_text("x0,label\n0,ab\n1,a\tb\n2,ab\n", encoding="utf-8")
    _, y, classes = load_csv_table(path, return_classes=True)
    assert y.tolist() == [1, 0, 1] and classes.tolist() == ["a\tb", "ab"]


def test_load_csv_table_reads_labels_in_nfc_as_the_campaign_does(tmp_path):
    # A "café" saved by macOS (NFD: its "e" and accent apart) beside one typed
    # elsewhere made two classes that print alike.
    nfd, nfc = unicodedata.normalize("NFD", "café"), "café"
    assert nfd != nfc
    path = tmp_path / "t.csv"
    path.write_text(f"x0,label\n0,{nfd}\n1,{nfc}\n2,dog\n", encoding="utf-8")
    _, y, classes = load_csv_table(path, return_classes=True)
    assert y.tolist() == [0, 0, 1] and classes.tolist() == [nfc, "dog"]


@pytest.mark.parametrize(
    "label, match",
    [
        ("cat\u200b", r"'cat' \(line 2\) and 'cat\\u200b' \(line 3\) differ only"),
        ("\u2060cat", r"\(line 3\) differ only by invisible characters \(U\+2060"),
        ("\u200b", r"line 3: the label '\\u200b' holds only invisible"),
        ("cat\ufe0f", r"\(line 3\) differ only by invisible characters \(U\+FE0F"),
    ],
    ids=["after", "before", "alone", "variation-selector"],
)
def test_load_csv_table_refuses_labels_apart_by_invisible_characters(
    tmp_path, label, match
):
    # A zero-width space (text copied from a web page) made a second class
    # that reads as the first, or one that reads as empty, silently.
    path = tmp_path / "t.csv"
    path.write_text(f"x0,label\n0,cat\n1,{label}\n2,dog\n", encoding="utf-8")
    with pytest.raises(ValueError, match=match + ".*(Remove those|fill it in)"):
        load_csv_table(path)
    # Alone, such a character is part of a class's name (a Persian word's
    # zero-width non-joiner).
    path.write_text("x0,label\n0,cat\u200b\n1,dog\n", encoding="utf-8")
    assert load_csv_table(path, return_classes=True)[2].tolist() == [
        "cat\u200b",
        "dog",
    ]


@pytest.mark.parametrize("name", ["Unnamed: 0", "Unnamed: 12", "index", "Index"])
def test_load_csv_table_refuses_a_row_index_pandas_wrote(tmp_path, name):
    # Sorted by class, the row index leaks the target: it was loaded as a feature.
    path = tmp_path / "t.csv"
    path.write_text(f"{name},x0,label\n0,0.5,a\n1,0.7,a\n2,0.1,b\n")
    quoted = f"'{name}'" if " " in name else name
    match = rf"column '{name}' \(a row index that pandas wrote.*index=False\)"
    with pytest.raises(ValueError, match=match + f".*--ignore-columns {quoted}"):
        load_csv_table(path)
    X, y = load_csv_table(path, ignore_columns=[name])
    assert X.ravel().tolist() == pytest.approx([0.5, 0.7, 0.1])
    # to_csv with its index: the first header cell is empty
    path.write_text(",x0,label\n0,0.5,a\n1,0.7,b\n")
    match = r"column 1 of the header has no name \(a row index that pandas' to_csv"
    # "name it" alone made a named row index a feature, without a word
    leave_out = "or name it and, unless it holds features, leave it out with --ig"
    with pytest.raises(ValueError, match=match + ".*index=False.*" + leave_out):
        load_csv_table(path)


def test_a_closed_value_past_the_csv_field_limit_is_no_unclosed_quote(tmp_path):
    # It was reported as "a quote opened on line 2 is not closed".
    path = tmp_path / "t.csv"
    long = "a" * 200_000
    path.write_text(f'note,x1,label\n"{long}",1,cat\n"short",2,dog\n')
    match = (
        r"t.csv, line 2: a value is longer than 131072 characters, the most the "
        "csv reader takes in one value; delete its column from the file"
    )
    with pytest.raises(ValueError, match=match):
        load_csv_table(path, ignore_columns=["note"])
    # unquoted, or quoted over line breaks, with a quote doubled in it
    path.write_text(f"note,x1,label\n1,2,a\n{long},1,cat\n")
    with pytest.raises(ValueError, match="line 3: a value is longer than"):
        load_csv_table(path)
    path.write_text(f'note,x1,label\n"{long}\n""b""\n",1,cat\n2,2,dog\n')
    match = "line 2: a value, running on over the line breaks to line 4, is longer"
    with pytest.raises(ValueError, match=match):
        load_csv_table(path)
    # a quote doubled at the end of the file closes nothing
    path.write_text(f'note,x1,label\n"{long}""\n')
    with pytest.raises(ValueError, match="line 2: a quote opened on line 2 is not"):
        load_csv_table(path)


def test_load_csv_table_names_the_line_of_an_unclosed_quote(tmp_path):
    path = tmp_path / "t.csv"
    rows = [f"{i},{i % 7},{'ab'[i % 2]}" for i in range(40)]
    rows[3] = '3,"4,a'  # data line 5
    path.write_text("x,y,label\n" + "\n".join(rows) + "\n")
    match = "t.csv, line 5: a quote opened on line 5 is not closed.* to line 41;"
    with pytest.raises(ValueError, match=match):
        load_csv_table(path)
    # past the csv module's field limit (131072 characters): a bare csv.Error
    rows = [f"{i},{i % 7},{'ab'[i % 2]}" for i in range(15_000)]
    rows[3] = '3,"4,a'
    path.write_text("x,y,label\n" + "\n".join(rows) + "\n")
    with pytest.raises(ValueError, match="line 5: a quote opened on line 5 is not"):
        load_csv_table(path)
    # a quote closed by a later one makes a label of three lines
    path.write_text('x,y,label\n1,2,a\n3,4,"b\n5,6,a\n7,8,a"\n9,9,b\n')
    match = "line 3: a quote opened on line 3 is not closed.* to line 5"
    with pytest.raises(ValueError, match=match):
        load_csv_table(path)
    # a text column with line breaks in its values may be left out
    path.write_text('x,notes,label\n1,"two\nlines",a\n2,one,b\n')
    with pytest.raises(ValueError, match="column 'notes'.*--ignore-columns"):
        load_csv_table(path)
    X, y = load_csv_table(path, ignore_columns=["notes"])
    assert X.ravel().tolist() == [1, 2] and y.tolist() == [0, 1]


def test_a_closed_quote_holding_a_line_break_is_no_unclosed_quote(tmp_path):
    # It was reported as "a quote opened on line 3 is not closed".
    path = tmp_path / "t.csv"
    path.write_text('x,y,label\n1,2,cat\n3,4,"cat\nsmall"\n5,6,dog\n')
    match = (
        r"t.csv, line 3: the value 'cat\\nsmall' of column 'label' holds a line "
        r"break inside its quotes \(it runs to line 4\), and labels may not hold "
        r"line breaks: replace them before saving, e.g. df\['label'\] = "
    )
    with pytest.raises(ValueError, match=match) as error:
        load_csv_table(path)
    assert "not closed" not in str(error.value)
    # at the end of the file, a quote never closed is no closed one
    path.write_text('x,y,label\n1,2,cat\n3,4,"cat\nsmall')
    match = "line 3: a quote opened on line 3 is not closed"
    with pytest.raises(ValueError, match=match + ".*labels may not hold line"):
        load_csv_table(path)
    # a stray quote closed by a later one takes in rows, commas and all
    path.write_text('x,y,label\n1,2,"cat\n3,4,dog"\n5,6,dog\n')
    match = "line 2: a quote opened on line 2 is not closed.* to line 3;"
    with pytest.raises(ValueError, match=match + ".*meant to span lines, labels"):
        load_csv_table(path)


def test_an_ignored_value_that_takes_in_rows_is_refused(tmp_path):
    # A quote closed two lines late made one note of three lines, the two
    # rows in it lost without a word: the row count still matched.
    path = tmp_path / "t.csv"
    path.write_text(
        'x1,x2,label,notes\n1,10,a,"Fragile\n2,20,b,ok\n3,30,a,handle with care"\n'
        "4,40,b,fine\n5,50,a,\n6,60,b,\n"
    )
    match = (
        "t.csv, line 2: the quoted value of the ignored column 'notes' runs on "
        "over the line breaks to line 4, and lines within it read as rows"
    )
    with pytest.raises(ValueError, match=match):
        load_csv_table(path, ignore_columns=["notes"])
    # A note of several lines that are no rows is a note, also where a line
    # has as many commas as a row.
    path.write_text('x1,label,notes\n1,a,"Fragile,\nhandle with care"\n2,b,ok\n')
    X, _ = load_csv_table(path, ignore_columns=["notes"])
    assert X.ravel().tolist() == [1, 2]
    path.write_text(
        'x,label,address\n1.0,a,"1 Main St\nSpringfield, IL, USA"\n2.0,b,"2 Elm"\n'
    )
    X, _ = load_csv_table(path, ignore_columns=["address"])
    assert X.ravel().tolist() == [1, 2]


def test_load_csv_table_names_a_zip_archive(tmp_path):
    # A workbook or a .npz named .csv: "not UTF-8 text ...; save it as UTF-8
    # first", which neither can be.
    path = tmp_path / "t.csv"
    np.savez(tmp_path / "t.npz", X=np.ones((2, 2)), label=np.array(["a", "b"]))
    path.write_bytes((tmp_path / "t.npz").read_bytes())
    match = r"t.csv is a zip archive, not CSV text: a .npz file \(give it the suffix"
    with pytest.raises(ValueError, match=match):
        load_csv_table(path)


def test_load_csv_table_strips_label_whitespace(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('x0,label\n0,cat \n1,cat\n2,\tcat\n3, dog\n4,"  dog\t"\n')
    _, y, classes = load_csv_table(path, return_classes=True)
    assert classes.tolist() == ["cat", "dog"] and y.tolist() == [0, 0, 0, 1, 1]
    path.write_text("x0,label\n0,7 \n1,\t7\n2,3\n")
    _, y, classes = load_csv_table(path, return_classes=True)
    assert y.tolist() == [7, 7, 3] and classes.tolist() == [3, 7]


def _write_idx(path, array, type_code, gz):
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(payload)


@pytest.mark.parametrize("gz", [True, False])
def test_load_idx(tmp_path, gz):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 4, 3), dtype=np.uint8)  # H != W catches swaps
    labels = rng.integers(0, 10, 5).astype(np.int32)
    _write_idx(tmp_path / "img", images, 0x08, gz)
    _write_idx(tmp_path / "lab", labels, 0x0C, gz)
    X, y = load_idx(tmp_path / "img", tmp_path / "lab")
    assert X.shape == (5, 1, 4, 3) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X[:, 0], images.astype(np.float32) / 255)
    np.testing.assert_array_equal(y, labels)


def test_read_idx_reads_no_more_than_its_header_announces(tmp_path, monkeypatch):
    # The whole stream was unpacked before its size was checked: a .gz file
    # of 800 KB unpacked to 800 MB.
    path = tmp_path / "x.gz"
    with gzip.open(path, "wb") as f:
        f.write(b"\0\0\x08\x01" + struct.pack(">I", 10) + bytes(2**20))
    read, gzip_open = [], gzip.open

    def counting_open(*args, **kwargs):
        f = gzip_open(*args, **kwargs)
        f_read = f.read
        f.read = lambda *size: read.append(len(block := f_read(*size))) or block
        return f

    monkeypatch.setattr(_datasets.gzip, "open", counting_open)
    match = r"announces shape \(10,\) \(18 bytes\), but the file has more than 18 "
    match += f"bytes; {_WHOLE_COPY}"
    with pytest.raises(ValueError, match=match):
        _datasets._read_idx(path)
    assert sum(read) == 19


def test_load_idx_errors(tmp_path):
    images = np.zeros((3, 2, 2), dtype=np.uint8)
    _write_idx(tmp_path / "img", images, 0x08, gz=True)
    _write_idx(tmp_path / "lab2", np.zeros(2, np.uint8), 0x08, gz=False)
    with pytest.raises(ValueError, match="3 images but .* 2 labels"):
        load_idx(tmp_path / "img", tmp_path / "lab2")
    (tmp_path / "bad").write_bytes(b"\x08\x03\x00\x00" + bytes(20))
    with pytest.raises(ValueError, match="magic number 0x08030000"):
        load_idx(tmp_path / "bad", tmp_path / "lab2")
    # a valid type code and dimensions behind other first bytes
    (tmp_path / "bad2").write_bytes(
        b"\x12\x34\x08\x01" + struct.pack(">I", 3) + bytes(3)
    )
    with pytest.raises(ValueError, match="bad2 is not an IDX file: bad magic number"):
        load_idx(tmp_path / "img", tmp_path / "bad2")
    # 3 dimensions announced, 1 written
    (tmp_path / "cut").write_bytes(b"\0\0\x08\x03" + struct.pack(">I", 3))
    with pytest.raises(
        ValueError, match=f"cut: IDX header is truncated; {_WHOLE_COPY}"
    ):
        load_idx(tmp_path / "cut", tmp_path / "lab2")
    raw = gzip.decompress((tmp_path / "img").read_bytes())
    (tmp_path / "short").write_bytes(raw[:-1])
    with pytest.raises(ValueError, match=f"the file has 27 bytes; {_WHOLE_COPY}"):
        load_idx(tmp_path / "short", tmp_path / "lab2")
    with pytest.raises(ValueError, match="unsigned-byte images"):
        load_idx(tmp_path / "lab2", tmp_path / "lab2")
    # int32 pixels of 0..1000 would be scaled by 255 as bytes are; their
    # type was named as NumPy's big-endian '>i4'
    _write_idx(tmp_path / "img32", np.full((3, 2, 2), 1000, np.int32), 0x0C, gz=False)
    _write_idx(tmp_path / "lab3", np.zeros(3, np.uint8), 0x08, gz=False)
    with pytest.raises(ValueError, match=r"images .* got int32 of shape \(3, 2, 2\)\."):
        load_idx(tmp_path / "img32", tmp_path / "lab3")
    _write_idx(tmp_path / "labf", np.zeros(3, np.float32), 0x0D, gz=False)
    with pytest.raises(ValueError, match="labf must hold a 1-d array of integer"):
        load_idx(tmp_path / "img", tmp_path / "labf")


def test_load_fashion_mnist(tmp_path):
    rng = np.random.default_rng(1)
    parts = {}
    for prefix, n, gz in [("train", 6, True), ("t10k", 4, False)]:
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        suffix = ".gz" if gz else ""
        _write_idx(tmp_path / f"{prefix}-images-idx3-ubyte{suffix}", images, 0x08, gz)
        _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte{suffix}", labels, 0x08, gz)
        parts[prefix] = images, labels
    X_train, y_train, X_test, y_test = load_fashion_mnist(tmp_path)
    for prefix, X, y in [("train", X_train, y_train), ("t10k", X_test, y_test)]:
        images, labels = parts[prefix]
        assert X.shape == (len(images), 1, 28, 28)
        np.testing.assert_array_equal(X[:, 0] * 255, images)
        np.testing.assert_array_equal(y, labels)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_fashion_mnist(tmp_path / "empty")


@pytest.mark.parametrize(
    "t10k_size, t10k_labels, message",
    [
        (28, [200, 11], r"t10k-labels-idx1-ubyte holds the label 200, but Fashion"),
        (28, [10, 1], r"t10k-labels-idx1-ubyte holds the label 10, but Fashion"),
        (27, [1, 2], r"training images in .* are 28x28 pixels and the test images"),
    ],
)
def test_load_fashion_mnist_refuses_files_of_another_data_set(
    tmp_path, t10k_size, t10k_labels, message
):
    # Labels outside 0..9 and test images of another size were returned as
    # Fashion-MNIST's, which the docstring promises are 0..9 and 28x28.
    for prefix, size, labels in [
        ("train", 28, [3, 0]),
        ("t10k", t10k_size, t10k_labels),
    ]:
        images = np.zeros((2, size, size), dtype=np.uint8)
        _write_idx(tmp_path / f"{prefix}-images-idx3-ubyte", images, 0x08, False)
        labels = np.array(labels, dtype=np.uint8)
        _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", labels, 0x08, False)
    with pytest.raises(ValueError, match=message):
        load_fashion_mnist(tmp_path)


def _cifar_rows(images):
    """The CIFAR row layout: the red, then green, then blue 32x32 plane, row-major."""
    planes = [images[:, c].reshape(len(images), -1) for c in range(3)]
    return np.concatenate(planes, axis=1)


def _write_pickle(path, obj):
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def test_load_cifar10_batches(tmp_path):
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (13, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 10, 13)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for i, name in enumerate(names):
        chunk = slice(2 * i, 2 * i + 2) if name != "test_batch" else slice(10, 13)
        _write_pickle(
            tmp_path / name,
            {b"data": _cifar_rows(images[chunk]), b"labels": labels[chunk].tolist()},
        )
    X_train, y_train, X_test, y_test = load_cifar_batches(tmp_path)
    assert X_train.shape == (10, 3, 32, 32) and X_train.dtype == np.float32
    np.testing.assert_array_equal(X_train * 255, images[:10])
    np.testing.assert_array_equal(X_test * 255, images[10:])
    np.testing.assert_array_equal(y_train, labels[:10])
    np.testing.assert_array_equal(y_test, labels[10:])
    assert y_train.dtype == np.int64


def test_load_cifar100_files(tmp_path):
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (5, 3, 32, 32), dtype=np.uint8)
    fine = [99, 0, 42, 7, 13]
    for name, part in [("train", slice(0, 3)), ("test", slice(3, 5))]:
        _write_pickle(
            tmp_path / name,
            {
                b"data": _cifar_rows(images[part]),
                b"fine_labels": fine[part],
                b"coarse_labels": [0] * len(fine[part]),
            },
        )
    X_train, y_train, X_test, y_test = load_cifar_batches(tmp_path)
    np.testing.assert_array_equal(X_test * 255, images[3:])
    assert y_train.tolist() == [99, 0, 42] and y_test.tolist() == [7, 13]


@pytest.mark.parametrize(
    "load, given, error, message",
    [
        # A raw IsADirectoryError, or a message that blamed the file's contents.
        (
            load_csv_table,
            "folder",
            IsADirectoryError,
            "is a folder; give the path of the CSV file in it",
        ),
        (
            load_image_folder_zip,
            "folder",
            IsADirectoryError,
            "is a folder; zip its image folders .*zip -r",
        ),
        (
            load_image_folder_zip,
            "missing",
            FileNotFoundError,
            "No zip file at .*missing: check the spelling",
        ),
        # "holds neither CIFAR-10 batches" of a folder that is not there.
        (
            load_cifar_batches,
            "missing",
            FileNotFoundError,
            "No folder at .*missing; give the folder that holds the CIFAR",
        ),
        (
            load_cifar_batches,
            "file",
            FileNotFoundError,
            "A file at .*file; give the folder",
        ),
        (
            load_fashion_mnist,
            "missing",
            FileNotFoundError,
            "No folder at .*missing; give the folder that holds the four IDX",
        ),
    ],
)
def test_loaders_name_a_folder_or_missing_path_and_what_to_give(
    load, given, error, message, tmp_path
):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(error, match=message):
        load(tmp_path / given)


def test_load_cifar_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="neither CIFAR-10"):
        load_cifar_batches(tmp_path)
    # An unzipped image-folder copy was taken for CIFAR-100 (IsADirectoryError).
    (tmp_path / "folders" / "train" / "cat").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="holds image folders.*zip -r"):
        load_cifar_batches(tmp_path / "folders")
    _write_pickle(tmp_path / "train", {b"data": np.zeros((2, 3072), np.uint8)})
    with pytest.raises(ValueError, match="not a CIFAR batch"):
        load_cifar_batches(tmp_path)
    _write_pickle(
        tmp_path / "train",
        {b"data": np.zeros((2, 100), np.uint8), b"fine_labels": [0, 1]},
    )
    with pytest.raises(ValueError, match=r"shape \(n, 3072\)"):
        load_cifar_batches(tmp_path)
    _write_pickle(
        tmp_path / "train",
        {b"data": np.zeros((2, 3072), np.uint8), b"fine_labels": [0]},
    )
    with pytest.raises(ValueError, match="train: 2 images but 1 labels"):
        load_cifar_batches(tmp_path)


def test_load_cifar_batches_reads_str_keys_and_names_what_it_found(tmp_path):
    # A batch saved from Python 3 ('data', 'labels') was refused without
    # the keys found; uneven rows gave numpy's error without the file.
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        _write_pickle(tmp_path / name, {"data": [[7] * 3072], "labels": [3]})
    X_train, y_train, _, _ = load_cifar_batches(tmp_path)
    assert X_train.shape == (5, 3, 32, 32) and y_train.tolist() == [3] * 5
    _write_pickle(tmp_path / "test_batch", {b"data": [[0] * 3072], "label": [0]})
    with pytest.raises(ValueError, match=r"test_batch .* keys \['label', b'data'\]\."):
        load_cifar_batches(tmp_path)
    # As every list in a message: it showed the first 10, with nothing to
    # say that there were more.
    many = {f"key_{i:02}": [0] for i in range(25)}
    _write_pickle(tmp_path / "test_batch", many)
    with pytest.raises(ValueError, match=r"'key_19', \.\.\.\] \(25 keys\)\."):
        load_cifar_batches(tmp_path)
    _write_pickle(tmp_path / "test_batch", {})
    with pytest.raises(ValueError, match=r"found no keys\."):
        load_cifar_batches(tmp_path)
    ragged = {b"data": [[0] * 3072, [0] * 3071], b"labels": [0, 1]}
    _write_pickle(tmp_path / "test_batch", ragged)
    with pytest.raises(ValueError, match="test_batch: b'data' and b'labels' must be"):
        load_cifar_batches(tmp_path)


@pytest.mark.parametrize(
    "data, labels, match",
    [
        (np.full((2, 3072), 1000.0), [0, 1], "must hold integer pixel .* got float64"),
        (np.full((2, 3072), 0.5), [0, 1], "must hold integer pixel .* got float64"),
        (np.full((2, 3072), 1000), [0, 1], r"must be 0\.\.255, got 1000\.\.1000"),
        (np.arange(2 * 3072).reshape(2, 3072) % 257, [0, 1], r"0\.\.255, got 0\.\.256"),
        (np.arange(-1, 6143).reshape(2, 3072), [0, 1], r"got -1\.\.6142"),
        (np.zeros((2, 3072), np.uint8), [0.7, 1.2], "integer labels, got float64"),
        (np.zeros((2, 3072), np.uint8), ["0", "1"], "integer labels, got <U1"),
        # came back as y of shape (n, 1), though (n,) is promised
        (np.zeros((2, 3072), np.uint8), [[0], [1]], r"one label per image.*\(2, 1\)"),
        # int64 of 2**63 + 1 wrapped to -9223372036854775807
        (
            np.zeros((2, 3072), np.uint8),
            np.array([1, 2**63 + 1], np.uint64),
            r"labels 0\.\.99, got 1\.\.9223372036854775809",
        ),
        (np.zeros((2, 3072), np.uint8), [3, 100], r"labels 0\.\.99, got 3\.\.100"),
    ],
    ids=[
        "float-big",
        "float-unit",
        "int-big",
        "just-past-255",
        "negative",
        "float-labels",
        "str",
        "column",
        "uint64-label",
        "label-out-of-range",
    ],
)
def test_load_cifar_rejects_values_that_would_wrap(tmp_path, data, labels, match):
    # casting these to uint8 / int64 would wrap (1000 -> 232) or truncate (0.7 -> 0)
    _write_pickle(tmp_path / "train", {b"data": data, b"fine_labels": labels})
    _write_pickle(
        tmp_path / "test",
        {b"data": np.zeros((1, 3072), np.uint8), b"fine_labels": [0]},
    )
    with pytest.raises(ValueError, match="train: .*" + match):
        load_cifar_batches(tmp_path)


def test_load_cifar10_refuses_labels_past_its_10_classes(tmp_path):
    # CIFAR-100's fine labels in CIFAR-10's files are no classes of it.
    batch = {b"data": [[0] * 3072], b"labels": [3]}
    for i in range(1, 6):
        _write_pickle(tmp_path / f"data_batch_{i}", batch)
    _write_pickle(tmp_path / "test_batch", {**batch, b"labels": [10]})
    with pytest.raises(
        ValueError, match=r"test_batch: b'labels' must be labels 0\.\.9"
    ):
        load_cifar_batches(tmp_path)


def test_load_cifar_accepts_other_integer_types(tmp_path):
    data = np.arange(2 * 3072).reshape(2, 3072) % 256
    _write_pickle(
        tmp_path / "train",
        {b"data": data.tolist(), b"fine_labels": np.array([3, 99], np.int32)},
    )
    _write_pickle(
        tmp_path / "test",
        {b"data": np.zeros((0, 3072), np.int16), b"fine_labels": []},
    )
    X_train, y_train, X_test, y_test = load_cifar_batches(tmp_path)
    np.testing.assert_array_equal(X_train.reshape(2, -1) * 255, data)
    assert y_train.tolist() == [3, 99] and y_train.dtype == np.int64
    assert X_test.shape == (0, 3, 32, 32) and y_test.dtype == np.int64


def _png_bytes(pixels):
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _write_image_zip(path, layout, size=(5, 4), seed=0):
    """Write random PNGs; layout and result map (split, class) to count / HWC images."""
    rng = np.random.default_rng(seed)
    written = {}
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("README.txt", "not an image")
        for (split, cls), n in layout.items():
            zf.writestr(f"{split}/{cls}/", "")
            images = rng.integers(0, 256, (n, *size, 3), dtype=np.uint8)
            # written in reverse name order: the loader must sort by file name
            for i in reversed(range(n)):
                zf.writestr(f"{split}/{cls}/{i:03d}.png", _png_bytes(images[i]))
            written[split, cls] = images
    return written


def _expected(written, split, class_names):
    present = [
        (j, written[split, c])
        for j, c in enumerate(class_names)
        if (split, c) in written
    ]
    X = np.concatenate([images for _, images in present])
    y = [j for j, images in present for _ in images]
    return X.transpose(0, 3, 1, 2), y


def test_load_image_folder_zip(tmp_path):
    layout = {
        ("train", "dog"): 3,
        ("train", "cat"): 2,
        ("train", "bird"): 2,
        ("test", "cat"): 1,
        ("test", "dog"): 2,
    }
    written = _write_image_zip(tmp_path / "f.zip", layout)
    X_train, y_train, X_test, y_test, names = load_image_folder_zip(tmp_path / "f.zip")
    assert names == ["bird", "cat", "dog"]
    assert X_train.shape == (7, 3, 5, 4) and X_train.dtype == np.float32
    for X, y, split in [(X_train, y_train, "train"), (X_test, y_test, "test")]:
        expected_X, expected_y = _expected(written, split, names)
        np.testing.assert_array_equal(X * 255, expected_X)
        assert y.tolist() == expected_y and y.dtype == np.int64
    order = ["dog", "bird", "cat", "unused"]
    X_train, y_train, _, y_test, names = load_image_folder_zip(
        tmp_path / "f.zip", class_names=order
    )
    assert names == order
    expected_X, expected_y = _expected(written, "train", order)
    np.testing.assert_array_equal(X_train * 255, expected_X)
    assert y_train.tolist() == expected_y and y_test.tolist() == [0, 0, 2]


@pytest.mark.parametrize("kind", [set, frozenset])
def test_load_image_folder_zip_refuses_class_names_in_no_order(tmp_path, kind):
    # A set's order, the labels', changes with PYTHONHASHSEED: label 0 named
    # another class in each process, without a word.
    _write_image_zip(tmp_path / "f.zip", {("train", "a"): 1, ("test", "b"): 1})
    with pytest.raises(ValueError, match="in label order, and a set has none"):
        load_image_folder_zip(tmp_path / "f.zip", class_names=kind(["a", "b"]))


def test_load_image_folder_zip_takes_class_names_spelt_as_the_folders(tmp_path):
    # A folder named with an emoji's variation selector (U+FE0F) reads as the
    # bare emoji: named so in class_names, it is the folder's own spelling;
    # named otherwise, it names no folder.
    emoji = "\u2764\ufe0f"
    _write_image_zip(tmp_path / "f.zip", {("train", emoji): 1, ("test", "b"): 1})
    with pytest.warns(UserWarning, match=r"folder\(s\) \['b'\] are under test/ only"):
        names = load_image_folder_zip(tmp_path / "f.zip", class_names=["b", emoji])[4]
    assert names == ["b", emoji]
    with pytest.raises(ValueError, match=r"U\+FE0F VARIATION SELECTOR-16\); type"):
        load_image_folder_zip(tmp_path / "f.zip", class_names=["b", f"{emoji}x"])


def test_load_image_folder_zip_cache(tmp_path):
    layout = {("train", "a"): 2, ("train", "b"): 1, ("test", "a"): 1}
    _write_image_zip(tmp_path / "f.zip", layout)
    cache = tmp_path / "cache"  # no .npz suffix on purpose
    first = load_image_folder_zip(tmp_path / "f.zip", cache_path=cache)
    assert cache.exists()
    # the images are no longer decoded once the cache exists
    with patch.object(_datasets, "_decode_images", side_effect=AssertionError):
        second = load_image_folder_zip(tmp_path / "f.zip", ["b", "a"], cache_path=cache)
    assert second[4] == ["b", "a"] and second[1].tolist() == [0, 1, 1]
    np.testing.assert_array_equal(second[0], first[0][[2, 0, 1]])
    np.testing.assert_array_equal(second[2], first[2])


def test_a_cache_path_that_cannot_be_written_is_refused_before_decoding(tmp_path):
    # The images were decoded (12-30 s for CIFAR-10), then thrown away as the
    # cache failed to be written.
    _write_image_zip(tmp_path / "f.zip", {("train", "a"): 1, ("test", "a"): 1})
    (tmp_path / "notes.txt").write_text("mine")
    cache = tmp_path / "notes.txt" / "cache.npz"
    with patch.object(_datasets, "_decode_images", side_effect=AssertionError):
        with pytest.raises(NotADirectoryError, match="notes.txt is a file"):
            load_image_folder_zip(tmp_path / "f.zip", cache_path=cache)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_cache_that_fails_to_be_written_warns_and_the_images_are_returned(
    tmp_path, monkeypatch
):
    # A full disk at the write threw the decoded images (12-30 s for
    # CIFAR-10) away with the error; joblib.Memory warns and returns them.
    _write_image_zip(tmp_path / "f.zip", {("train", "a"): 2, ("test", "a"): 1})
    expected = load_image_folder_zip(tmp_path / "f.zip")
    cache = tmp_path / "cache.npz"
    savez = np.savez

    def full_disk(file, **arrays):
        savez(file, **arrays)
        file.truncate(100)  # half written when the disk filled
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(np, "savez", full_disk)
    with pytest.warns(UserWarning) as caught:
        loaded = load_image_folder_zip(tmp_path / "f.zip", cache_path=cache)
    (message,) = [str(w.message) for w in caught]
    assert message == (
        f"The decoded images could not be cached at {cache} (No space left on "
        "device); they are returned, and the next load decodes the zip again: "
        "free space there, or give cache_path another folder."
    )
    for got, wanted in zip(loaded, expected, strict=True):
        np.testing.assert_array_equal(got, wanted)
    assert list(tmp_path.iterdir()) == [tmp_path / "f.zip"]  # no half cache


def test_an_image_cache_of_another_zip_is_not_read(tmp_path):
    # The cache was read for any zip: another zip at the same path (or of the
    # same name, in the benchmark's cache folder) got the first zip's images.
    cache = tmp_path / "cache.npz"
    _write_image_zip(tmp_path / "f.zip", {("train", "a"): 2, ("test", "a"): 1})
    load_image_folder_zip(tmp_path / "f.zip", cache_path=cache)
    layout = {("train", "a"): 3, ("train", "b"): 1, ("test", "a"): 1}
    _write_image_zip(tmp_path / "f.zip", layout)
    X, y, _, _, names = load_image_folder_zip(tmp_path / "f.zip", cache_path=cache)
    assert names == ["a", "b"] and y.tolist() == [0, 0, 0, 1]
    np.testing.assert_array_equal(
        load_image_folder_zip(tmp_path / "f.zip", cache_path=cache)[0], X
    )


def test_an_image_cache_of_other_members_is_not_read(tmp_path):
    # A cache written before 2026-12-04, whose loader read a hidden folder
    # as a class, was read as it was: classes ['.ipynb_checkpoints', 'a',
    # 'b'] and every label one higher than this version gives the zip.
    cache = tmp_path / "cache.npz"
    layout = {("train", "a"): 2, ("train", "b"): 1, ("test", "a"): 1}
    _write_image_zip(tmp_path / "f.zip", layout | {("train", ".ipynb_checkpoints"): 1})
    expected = load_image_folder_zip(tmp_path / "f.zip")
    load_image_folder_zip(tmp_path / "f.zip", cache_path=cache)
    with np.load(cache) as saved:  # as the earlier version cached it
        arrays = dict(saved)
    hidden = "train/.ipynb_checkpoints/000.png"
    arrays["train_names"] = np.array([hidden, *arrays["train_names"]])
    arrays["train_images"] = np.concatenate(
        [arrays["train_images"][:1], arrays["train_images"]]
    )
    np.savez(cache, **arrays)
    loaded = load_image_folder_zip(tmp_path / "f.zip", cache_path=cache)
    assert loaded[4] == expected[4] == ["a", "b"]
    for got, wanted in zip(loaded[:4], expected[:4], strict=True):
        np.testing.assert_array_equal(got, wanted)
    with np.load(cache) as rewritten:  # decoded afresh, cached again
        assert hidden not in rewritten["train_names"].tolist()


def test_a_cache_path_to_another_npz_is_refused_not_overwritten(tmp_path):
    # A file without the cache's arrays was taken for an old cache and replaced.
    _write_image_zip(tmp_path / "f.zip", {("train", "a"): 2, ("test", "a"): 1})
    mine = tmp_path / "features.npz"
    np.savez(mine, X=np.arange(10.0))
    with pytest.raises(ValueError, match="features.npz is not a cache this function"):
        load_image_folder_zip(tmp_path / "f.zip", cache_path=mine)
    with np.load(mine) as kept:
        assert kept.files == ["X"]


def test_an_empty_cache_path_is_said_to_be_empty_and_deletable(tmp_path):
    # It was "not a cache this function wrote (EOFError: No data left in
    # file)", with the advice to give the cache a file name of its own.
    _write_image_zip(tmp_path / "f.zip", {("train", "a"): 2, ("test", "a"): 1})
    cache = tmp_path / "cache.npz"
    cache.touch()
    with pytest.raises(ValueError, match="cache.npz is an empty file .* delete it"):
        load_image_folder_zip(tmp_path / "f.zip", cache_path=cache)
    cache.unlink()
    load_image_folder_zip(tmp_path / "f.zip", cache_path=cache)  # written anew
    assert cache.stat().st_size > 0


def test_a_cached_load_warns_of_the_files_it_leaves_out_too(tmp_path):
    # The cache was read before the warnings: a second load left out the same
    # files without a word.
    _write_image_zip(tmp_path / "f.zip", {("train", "a"): 1, ("test", "a"): 1})
    with zipfile.ZipFile(tmp_path / "f.zip", "a") as zf:
        zf.writestr("train/a/notes.txt", b"not an image")
    cache = tmp_path / "cache.npz"
    for _ in range(2):  # decoded, then read from the cache
        with pytest.warns(UserWarning, match="left out 1 file"):
            load_image_folder_zip(tmp_path / "f.zip", cache_path=cache)


@pytest.mark.parametrize("bit", [0x1, 0x40], ids=["encrypted", "strongly"])
def test_encrypted_images_are_said_to_be_so_not_damaged(tmp_path, bit):
    # Called "not a readable image, e.g. truncated", with the advice to
    # replace it with a whole copy: a password-protected zip is whole.
    _write_image_zip(tmp_path / "f.zip", {("train", "a"): 1, ("test", "a"): 1})
    _edit_central_directory(tmp_path / "f.zip", "train/a/000.png", 8, bit)
    match = (
        r"f.zip: the member\(s\) \['train/a/000.png'\] are encrypted .* read "
        r"only with their password; unzip it with the password and zip it anew"
    )
    with pytest.raises(ValueError, match=match):
        load_image_folder_zip(tmp_path / "f.zip")


def test_an_encrypted_npz_as_cache_path_is_refused_not_overwritten(tmp_path):
    # zipfile's RuntimeError ("password required") was read as damage; no
    # longer counted so, it would escape.
    _write_image_zip(tmp_path / "f.zip", {("train", "a"): 2, ("test", "a"): 1})
    mine = tmp_path / "features.npz"
    np.savez(mine, train_names=np.array(["x"]))
    _edit_central_directory(mine, "train_names.npy", 8, 1)
    kept = mine.read_bytes()
    match = "features.npz is not a cache this function wrote .*encrypted"
    with pytest.raises(ValueError, match=match):
        load_image_folder_zip(tmp_path / "f.zip", cache_path=mine)
    assert mine.read_bytes() == kept


def test_a_npy_file_as_cache_path_is_refused_not_overwritten(tmp_path):
    # np.load gives a .npy file's array, not an archive: a bare TypeError
    # ("does not support the context manager protocol").
    _write_image_zip(tmp_path / "f.zip", {("train", "a"): 2, ("test", "a"): 1})
    mine = tmp_path / "features.npy"
    np.save(mine, np.arange(3))
    with pytest.raises(ValueError, match="features.npy is not a cache this function"):
        load_image_folder_zip(tmp_path / "f.zip", cache_path=mine)
    np.testing.assert_array_equal(np.load(mine), np.arange(3))


def test_a_hidden_folder_is_no_class(tmp_path):
    # .ipynb_checkpoints/ under train/ became a class, which sorts first: every
    # label moved up by one without a word.
    _write_image_zip(tmp_path / "f.zip", {("train", "a"): 1, ("test", "a"): 1})
    with zipfile.ZipFile(tmp_path / "f.zip") as zf:
        image = zf.read(next(n for n in zf.namelist() if n.startswith("train/a/")))
    with zipfile.ZipFile(tmp_path / "f.zip", "a") as zf:
        zf.writestr("train/.ipynb_checkpoints/0-checkpoint.png", image)
    X_train, y_train, _, _, names = load_image_folder_zip(tmp_path / "f.zip")
    assert names == ["a"] and y_train.tolist() == [0] and len(X_train) == 1


def test_macos_appledouble_files_are_no_images(tmp_path):
    # A ._1.png beside each image (a Mac's copy onto a FAT drive) stopped the
    # load as an unreadable image.
    _write_image_zip(tmp_path / "f.zip", {("train", "a"): 1, ("test", "a"): 1})
    with zipfile.ZipFile(tmp_path / "f.zip", "a") as zf:
        zf.writestr("train/a/._000.png", b"\x00\x05\x16\x07 AppleDouble header")
    X, *_ = load_image_folder_zip(tmp_path / "f.zip")
    assert X.shape[0] == 1


def test_load_image_folder_zip_converts_modes(tmp_path):
    grey = np.arange(20, dtype=np.uint8).reshape(5, 4) * 10
    colour = np.full((5, 4, 3), [200, 30, 90], dtype=np.uint8)
    with zipfile.ZipFile(tmp_path / "f.zip", "w") as zf:
        zf.writestr("train/x/0.png", _png_bytes(grey))
        buffer = io.BytesIO()
        Image.fromarray(colour).save(buffer, format="JPEG", quality=95)
        zf.writestr("test/x/0.jpg", buffer.getvalue())
    X_train, _, X_test, _, _ = load_image_folder_zip(tmp_path / "f.zip")
    np.testing.assert_array_equal(X_train[0] * 255, np.stack([grey] * 3))
    np.testing.assert_allclose(X_test[0].mean(axis=(1, 2)) * 255, [200, 30, 90], atol=3)


def test_load_image_folder_zip_scales_16_bit_grey(tmp_path):
    grey16 = np.linspace(0, 65535, 20).astype(np.uint16).reshape(5, 4)
    with zipfile.ZipFile(tmp_path / "f.zip", "w") as zf:
        zf.writestr("train/x/0.png", _png_bytes(grey16))  # Pillow mode I;16
        zf.writestr("test/x/0.png", _png_bytes(grey16))
    X_train, _, X_test, _, _ = load_image_folder_zip(tmp_path / "f.zip")
    # 8 bits, as every other image: within half a step of 0..65535 -> [0, 1]
    for X in (X_train, X_test):
        np.testing.assert_allclose(X[0], np.stack([grey16 / 65535] * 3), atol=0.002)


def test_16_bit_grey_from_an_older_pillow_is_scaled_too():
    # Pillow before 10 opens a 16-bit grey PNG in mode I, not I;16.
    from skal_openset._datasets import _rgb_pixels

    grey16 = np.array([[0, 257, 32896, 65535]], dtype=np.int32)
    image = Image.fromarray(grey16)
    image.format = "PNG"
    assert image.mode == "I"
    np.testing.assert_array_equal(_rgb_pixels(image)[0, :, 0], [0, 1, 128, 255])


def test_load_image_folder_zip_refuses_32_bit_pixels(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(np.full((4, 4), 1000.0, np.float32)).save(buffer, format="TIFF")
    with zipfile.ZipFile(tmp_path / "f.zip", "w") as zf:
        zf.writestr("train/x/0.png", buffer.getvalue())  # a TIFF named .png
        zf.writestr("test/x/0.png", _png_bytes(np.zeros((4, 4, 3), np.uint8)))
    with pytest.raises(ValueError, match=r"train/x/0.png has 32-bit pixels .*mode F"):
        load_image_folder_zip(tmp_path / "f.zip")


def test_load_image_folder_zip_names_a_wrapping_top_folder(tmp_path):
    # as `zip -r cifar.zip cifar/` makes it
    with zipfile.ZipFile(tmp_path / "f.zip", "w") as zf:
        for split in ("train", "test"):
            zf.writestr(
                f"cifar/{split}/cat/0.png", _png_bytes(np.zeros((4, 4), np.uint8))
            )
    match = r"inside the top folder cifar/ .*Zip from inside that folder"
    with pytest.raises(ValueError, match=match):
        load_image_folder_zip(tmp_path / "f.zip")


@pytest.mark.parametrize("prefix", ["./", "/"])
def test_load_image_folder_zip_reads_member_names_from_the_top(tmp_path, prefix):
    # Members written as ./train/a/0.png or /train/a/0.png were refused, with
    # the advice "cd  && zip -r ../data.zip train test".
    pixels = {
        f"{split}/{cls}/0.png": np.full((2, 3, 3), 10 * i, np.uint8)
        for i, (split, cls) in enumerate(
            [("train", "a"), ("train", "b"), ("test", "a"), ("test", "b")]
        )
    }
    with zipfile.ZipFile(tmp_path / "f.zip", "w") as zf:
        for name, image in pixels.items():
            zf.writestr(prefix + name, _png_bytes(image))
    X_train, y_train, X_test, y_test, names = load_image_folder_zip(tmp_path / "f.zip")
    assert names == ["a", "b"] and y_train.tolist() == y_test.tolist() == [0, 1]
    np.testing.assert_array_equal(X_train[:, 0, 0, 0] * 255, [0, 10])
    np.testing.assert_array_equal(X_test[:, 0, 0, 0] * 255, [20, 30])
    # a member is still named as the zip names it
    with zipfile.ZipFile(tmp_path / "f.zip", "a") as zf:
        zf.writestr(prefix + "test/b/1.png", b"not an image")
    with pytest.raises(ValueError, match=f"member {prefix}test/b/1.png is not a"):
        load_image_folder_zip(tmp_path / "f.zip")


def test_load_image_folder_zip_warns_of_images_left_out_deeper(tmp_path):
    pixels = _png_bytes(np.zeros((4, 4, 3), np.uint8))
    with zipfile.ZipFile(tmp_path / "f.zip", "w") as zf:
        for name in ("train/cat/0.png", "train/cat/a/1.png", "train/cat/a/b/2.png"):
            zf.writestr(name, pixels)
        zf.writestr("test/cat/0.png", pixels)
    match = r"left out 2 image\(s\) deeper than train/<class>/"
    with pytest.warns(UserWarning, match=match):
        X_train = load_image_folder_zip(tmp_path / "f.zip")[0]
    assert len(X_train) == 1


def _image_bytes(pixels, fmt):
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt)
    return buffer.getvalue()


def test_load_image_folder_zip_reads_webp_tiff_and_gif(tmp_path):
    # A class saved as .webp or .tif vanished without a word.
    colour = np.full((4, 4, 3), [200, 30, 90], dtype=np.uint8)
    grey16 = np.linspace(0, 65535, 16).astype(np.uint16).reshape(4, 4)
    members = {
        "a/0.png": _image_bytes(colour, "PNG"),
        "b/0.webp": _image_bytes(colour, "WEBP"),
        "c/0.TIF": _image_bytes(colour, "TIFF"),
        "d/0.tiff": _image_bytes(grey16, "TIFF"),  # 16-bit grey, Pillow mode I;16
        "e/0.gif": _image_bytes(colour, "GIF"),
    }
    with zipfile.ZipFile(tmp_path / "f.zip", "w") as zf:
        for split in ("train", "test"):
            for name, data in members.items():
                zf.writestr(f"{split}/{name}", data)
        zf.writestr("train/b/1.heic", b"not read")
        zf.writestr("train/b/.DS_Store", b"")
    with pytest.warns(UserWarning) as record:
        X_train, y_train, X_test, _, names = load_image_folder_zip(tmp_path / "f.zip")
    messages = [str(w.message) for w in record]
    assert len(messages) == 1, messages
    assert "left out 1 file(s) under train/<class>/ whose suffix (.heic)" in messages[0]
    assert names == ["a", "b", "c", "d", "e"] and y_train.tolist() == [0, 1, 2, 3, 4]
    pixels = X_train.transpose(0, 2, 3, 1) * 255
    for j in (0, 2, 4):  # lossless
        np.testing.assert_allclose(pixels[j], colour, atol=1e-3)
    np.testing.assert_allclose(pixels[1], colour, atol=12)  # lossy WebP
    np.testing.assert_allclose(X_train[3], np.stack([grey16 / 65535] * 3), atol=0.002)
    assert len(X_test) == 5


@pytest.mark.parametrize(
    "members, match",
    [
        (["train\\cat\\0.png", "test\\cat\\0.png"], r"backslashes \(e.g. train"),
        (["Train/cat/0.png", "Test/cat/0.png"], "named Train/, and folder names are"),
        (["images/0.png", "notes.txt"], "members include: images/0.png, notes.txt"),
        # a phone's photos were told to "rename train/ to train/"
        (
            ["train/cat/0.HEIC", "train/dog/1.heic", "test/cat/2.HEIC"],
            r", only 2 file\(s\) whose suffix \(.heic\) is not one of .png, .*"
            r"\(e.g. train/cat/0.HEIC\); convert them to PNG",
        ),
    ],
    ids=["backslashes", "case", "other", "unread-suffix"],
)
def test_load_image_folder_zip_says_why_it_found_no_images(tmp_path, members, match):
    pixels = _png_bytes(np.zeros((4, 4, 3), np.uint8))
    with zipfile.ZipFile(tmp_path / "f.zip", "w") as zf:
        for name in members:
            zf.writestr(name, pixels)
    with pytest.raises(ValueError, match="no images under train/<class>/.*" + match):
        load_image_folder_zip(tmp_path / "f.zip")


def test_load_image_folder_zip_without_pillow_says_to_install_it(tmp_path, monkeypatch):
    # Pillow is an optional dependency; a load from the cache needs none.
    _write_image_zip(tmp_path / "f.zip", {("train", "a"): 2, ("test", "a"): 1})
    cache = tmp_path / "cache.npz"
    X_train, *_ = load_image_folder_zip(tmp_path / "f.zip", cache_path=cache)
    monkeypatch.setitem(sys.modules, "PIL", None)  # as if not installed
    with pytest.raises(ImportError, match="needs Pillow: pip install pillow"):
        load_image_folder_zip(tmp_path / "f.zip")
    cached, *_ = load_image_folder_zip(tmp_path / "f.zip", cache_path=cache)
    np.testing.assert_array_equal(cached, X_train)


def test_load_image_folder_zip_shows_many_folders_the_first_20(tmp_path):
    # Its errors and warning listed every folder, and every class name.
    layout = {("train", f"c{i:02d}"): 1 for i in range(30)}
    layout.update({("test", f"t{i:02d}"): 1 for i in range(25)})
    _write_image_zip(tmp_path / "a.zip", layout, size=(2, 2))
    with pytest.raises(ValueError) as unknown:
        load_image_folder_zip(tmp_path / "a.zip", class_names=["c00"])
    assert re.match(
        r"Class folders \['c01', .*, \.\.\.\] \(54 folders\) of .* are not in "
        r"class_names; list every class folder there\.$",
        str(unknown.value),
    )
    names = [f"c{i:02d}" for i in range(30)] * 2
    with pytest.raises(ValueError) as duplicates:
        load_image_folder_zip(tmp_path / "a.zip", class_names=names)
    assert re.match(
        r"class_names lists \['c00', .*, \.\.\.\] \(30 values\) more than "
        r"once: list each class once\.$",
        str(duplicates.value),
    )
    # One repeated name is shortened as several are (it was shown whole).
    with pytest.raises(ValueError) as duplicate:
        load_image_folder_zip(tmp_path / "a.zip", class_names=["c" * 200] * 2)
    assert re.match(
        r"class_names lists 'c{27}\.\.\.c{28}' more than once: list each class "
        r"once\.$",
        str(duplicate.value),
    )
    with pytest.warns(UserWarning) as warned:
        load_image_folder_zip(tmp_path / "a.zip")
    (message,) = [str(w.message) for w in warned if "test/ only" in str(w.message)]
    assert re.search(r"\['t00', .*, \.\.\.\] \(25 folders\) are under", message)
    assert "t24" not in message


def test_load_image_folder_zip_takes_class_names_that_differ_by_a_trailing_nul(
    tmp_path,
):
    # As numpy strings, which drop trailing NULs, they were refused as 'a'
    # listed twice; "a\x00" is a name without a folder, which is allowed.
    _write_image_zip(tmp_path / "a.zip", {("train", "a"): 1, ("test", "a"): 1})
    *_, y_test, names = load_image_folder_zip(
        tmp_path / "a.zip", class_names=["a\x00", "a"]
    )
    assert names == ["a\x00", "a"] and y_test.tolist() == [1]
    with pytest.raises(ValueError, match=r"^class_names lists 'a\\x00' more than"):
        load_image_folder_zip(tmp_path / "a.zip", class_names=["a\x00", "a", "a\x00"])


def test_load_image_folder_zip_errors(tmp_path):
    _write_image_zip(tmp_path / "a.zip", {("train", "a"): 1, ("test", "b"): 1})
    with pytest.raises(ValueError, match=r"\['b'\] .* not in class_names"):
        load_image_folder_zip(tmp_path / "a.zip", class_names=["a"])
    with pytest.raises(
        ValueError, match="^class_names lists 'a' more than once: list each class once"
    ):
        load_image_folder_zip(tmp_path / "a.zip", class_names=["a", "b", "a"])
    _write_image_zip(tmp_path / "b.zip", {("train", "a"): 1})
    with pytest.raises(ValueError, match="no images under test"):
        load_image_folder_zip(tmp_path / "b.zip")
    with zipfile.ZipFile(tmp_path / "c.zip", "w") as zf:
        zf.writestr("train/a/0.png", _png_bytes(np.zeros((4, 4, 3), np.uint8)))
        zf.writestr("train/a/1.png", _png_bytes(np.zeros((4, 5, 3), np.uint8)))
        zf.writestr("test/a/0.png", _png_bytes(np.zeros((4, 4, 3), np.uint8)))
    with pytest.raises(ValueError, match="5x4 pixels, the first image 4x4"):
        load_image_folder_zip(tmp_path / "c.zip")


def test_load_image_folder_zip_rejects_sizes_differing_across_splits(tmp_path):
    path, cache = tmp_path / "f.zip", tmp_path / "cache.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("train/a/0.png", _png_bytes(np.zeros((6, 6, 3), np.uint8)))
        zf.writestr("train/b/0.png", _png_bytes(np.zeros((6, 6, 3), np.uint8)))
        zf.writestr("test/a/0.png", _png_bytes(np.zeros((5, 4, 3), np.uint8)))
    match = r"member test/a/0.png is 4x5 pixels, the first image 6x6 \(train/a/0.png\)"
    with pytest.raises(ValueError, match=match):
        load_image_folder_zip(path, cache_path=cache)
    assert not cache.exists()  # no cache of the mismatched images


# ------------------------------------------------------ damaged files name the file


def _jpeg_bytes(pixels):
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda b: b[: len(b) // 2], "truncated or corrupt gzip file"),
        (lambda b: b[:12] + bytes(len(b) - 12), "truncated or corrupt gzip file"),
        (lambda b: b[:-4] + b"\0\0\0\0", "truncated or corrupt gzip file"),  # size
    ],
)
def test_load_idx_damaged_gzip_names_file(tmp_path, damage, match):
    _write_idx(tmp_path / "img.gz", np.zeros((30, 8, 8), np.uint8), 0x08, gz=True)
    path = tmp_path / "img.gz"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match=f"{match} .*; {_WHOLE_COPY}") as info:
        load_idx(path, path)
    assert str(path) in str(info.value)


def test_load_cifar_truncated_pickle_names_file(tmp_path):
    _write_pickle(
        tmp_path / "train",
        {b"data": np.zeros((2, 3072), np.uint8), b"fine_labels": [0, 1]},
    )
    raw = (tmp_path / "train").read_bytes()
    (tmp_path / "train").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(
        ValueError, match=f"train is not a readable pickle.*; {_WHOLE_COPY}"
    ):
        load_cifar_batches(tmp_path)


@pytest.mark.parametrize(
    "member, data",
    [
        ("train/a/1.png", b"not an image at all"),
        ("train/a/1.jpg", _jpeg_bytes(np.full((16, 16, 3), 90, np.uint8))[:-200]),
        ("train/a/1.png", _png_bytes(np.full((16, 16, 3), 90, np.uint8))[:-30]),
    ],
    ids=["text", "truncated-jpeg", "truncated-png"],
)
def test_load_image_folder_zip_bad_member_names_zip_and_member(tmp_path, member, data):
    path = tmp_path / "f.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("train/a/0.png", _png_bytes(np.zeros((16, 16, 3), np.uint8)))
        zf.writestr(member, data)
        zf.writestr("test/a/0.png", _png_bytes(np.zeros((16, 16, 3), np.uint8)))
    with pytest.raises(ValueError, match=f"member {member} is not a readable image"):
        load_image_folder_zip(path)


def test_load_image_folder_zip_truncated_zip_names_file(tmp_path):
    _write_image_zip(tmp_path / "f.zip", {("train", "a"): 2, ("test", "a"): 1})
    raw = (tmp_path / "f.zip").read_bytes()
    (tmp_path / "f.zip").write_bytes(raw[: len(raw) // 2])
    match = f"f.zip is not a zip file or is truncated .*; {_WHOLE_COPY}, or zip its "
    with pytest.raises(ValueError, match=match + r"image folders again \(zip -r\)\."):
        load_image_folder_zip(tmp_path / "f.zip")


def test_image_cache_is_written_atomically(tmp_path, monkeypatch):
    _write_image_zip(tmp_path / "f.zip", {("train", "a"): 2, ("test", "a"): 1})
    cache = tmp_path / "cache.npz"
    savez = np.savez

    def interrupted_savez(file, **arrays):
        savez(file, **arrays)
        file.truncate(100)  # half written when Ctrl-C arrives
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted_savez)
    with pytest.raises(KeyboardInterrupt):
        load_image_folder_zip(tmp_path / "f.zip", cache_path=cache)
    assert list(tmp_path.iterdir()) == [tmp_path / "f.zip"]
    monkeypatch.setattr(np, "savez", savez)
    expected = load_image_folder_zip(tmp_path / "f.zip")
    for _ in range(2):  # decodes and writes the cache, then reads it
        loaded = load_image_folder_zip(tmp_path / "f.zip", cache_path=cache)
        np.testing.assert_array_equal(loaded[0], expected[0])
    cache.write_bytes(cache.read_bytes()[:100])
    with pytest.raises(ValueError, match="cache.npz is not a cache"):
        load_image_folder_zip(tmp_path / "f.zip", cache_path=cache)


def _table_npz(path):
    from skal_openset._campaign import load_table

    np.savez(path, X=np.zeros((4, 2)), label=np.array(["a", "b"] * 2))
    return partial(load_table, path)


def _image_cache(path):
    _write_image_zip(path.parent / "f.zip", {("train", "a"): 2, ("test", "a"): 1})
    load = partial(load_image_folder_zip, path.parent / "f.zip", cache_path=path)
    load()  # writes the cache
    return load


@pytest.mark.parametrize("make", [_table_npz, _image_cache])
def test_a_damaged_npz_file_is_refused_with_the_file_closed(tmp_path, make):
    # np.load(path) left the file open when the zip was damaged (a
    # ResourceWarning, and on Windows a file that cannot be deleted).
    path = tmp_path / "damaged.npz"
    load = make(path)
    path.write_bytes(path.read_bytes()[:100])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with pytest.raises(ValueError, match="damaged.npz is not a"):
            load()
        gc.collect()
    assert [w.message for w in caught if w.category is ResourceWarning] == []


class _ReaderOfPython310:
    """csv.reader as Python 3.10 has it, which refuses a row holding a NUL."""

    reader = csv.reader  # this Python's, which the test puts it in place of

    def __init__(self, f, **kwargs):
        self._rows = self.reader(f, **kwargs)

    @property
    def line_num(self):
        return self._rows.line_num

    def __iter__(self):
        return self

    def __next__(self):
        row = next(self._rows)
        if "\0" in "".join(row):
            raise csv.Error("line contains NUL")
        return row


@pytest.mark.parametrize("python_3_10", [False, True])
def test_load_csv_table_refuses_a_nul_character(tmp_path, monkeypatch, python_3_10):
    # numpy's strings drop trailing NULs: the label "cat\0" was the class "cat".
    # Python 3.10's reader refused it itself: "line 4: not readable as CSV
    # (line contains NUL)", without a word of UTF-16.
    if python_3_10:
        monkeypatch.setattr(_datasets.csv, "reader", _ReaderOfPython310)
    path = tmp_path / "t.csv"
    path.write_bytes(b"x,label\n1,cat\n\n2,cat\x00\n3,dog\n")
    with pytest.raises(ValueError, match=r"t.csv, line 4 holds a NUL character"):
        load_csv_table(path)
    # a file saved as UTF-16 (without a byte-order mark) reads as UTF-8 with NULs
    path.write_bytes("x,label\n1,cat\n".encode("utf-16-le"))
    with pytest.raises(ValueError, match="line 1 holds a NUL .*UTF-16"):
        load_csv_table(path)
    # in the header, read before the rows
    path.write_bytes(b"x\x00,label\n1,cat\n2,dog\n")
    with pytest.raises(ValueError, match=r"t.csv, line 1 holds a NUL character"):
        load_csv_table(path)


def test_load_csv_table_accepts_utf8_bom(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("\ufefflabel,x0\n1,0.5\n2,1.5\n".encode())
    X, y = load_csv_table(path)
    assert y.tolist() == [1, 2] and X.ravel().tolist() == [0.5, 1.5]


def test_load_csv_table_rejects_latin1(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("x0,label\n1,caf\xe9\n".encode("latin-1"))
    with pytest.raises(ValueError, match="t.csv is not UTF-8"):
        load_csv_table(path)


def test_load_csv_table_names_a_gzip_file(tmp_path):
    # "is not UTF-8 text (... byte 0x8b ...); save it as UTF-8 first"
    import gzip

    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(b"x0,label\n1,a\n2,b\n"))
    match = r"t.csv.gz is gzip-compressed.*gunzip -k .*t.csv.gz\) and give the CSV"
    with pytest.raises(ValueError, match=match):
        load_csv_table(path)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e60", "-2e30"])
def test_load_csv_table_rejects_non_finite_and_huge(tmp_path, value):
    path = tmp_path / "t.csv"
    path.write_text(f"x0,x1,label\n1,2,a\n3,{value},b\n")
    with pytest.raises(ValueError, match="t.csv, line 3, column 'x1'"):
        load_csv_table(path)


def test_load_csv_table_warns_of_columns_whose_differences_float32_loses(tmp_path):
    # Timestamps above 2**24 merged, tiny values became 0, silently.
    rng = np.random.RandomState(0)
    rows = [f"{1_700_000_000 + i},{i}e-46,{rng.normal()!r},{i % 2}" for i in range(500)]
    path = tmp_path / "t.csv"
    path.write_text("ts,tiny,normal,label\n" + "\n".join(rows) + "\n")
    match = (
        r"t.csv: features are stored as float32 .* 'ts' \(values spanning 499 .*"
        r"500 distinct values become \d+\), 'tiny' \(.*nonzero values become 0\)\. "
        r"Centre or rescale"
    )
    with pytest.warns(UserWarning, match=match) as record:
        X, _ = load_csv_table(path)
    assert "'normal'" not in str(record[0].message)  # rounded by 6e-8 at most
    assert X.dtype == np.float32


def test_a_float32_warning_claims_no_merged_values_where_none_merge(tmp_path):
    # float32 spaces values 8 apart near 1e8: these move by up to 3, yet
    # stay distinct, and the warning says no more than that.
    path = tmp_path / "t.csv"
    path.write_text("x,label\n100000000,a\n100000011,b\n100000029,a\n")
    match = r"values of 'x' \(values spanning 29 move by up to 3\)\. Centre"
    with pytest.warns(UserWarning, match=match):
        load_csv_table(path)


@pytest.mark.parametrize("offset, warns", [(1_600, False), (3_400, True)])
def test_the_float32_warning_begins_between_1700_and_3400_times_the_spread(
    tmp_path, offset, warns
):
    # load_csv_table's docstring said "over 1000 times their spread": values
    # 1,600 times it moved by under 1e-4 of it, and no warning came.
    values = offset + np.random.default_rng(0).random(200)
    path = tmp_path / "t.csv"
    path.write_text(
        "x,label\n" + "".join(f"{v!r},{i % 2}\n" for i, v in enumerate(values.tolist()))
    )
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        load_csv_table(path)
    assert any("float32" in str(w.message) for w in record) == warns


def test_a_far_off_value_does_not_hide_the_timestamps_float32_merges(tmp_path):
    # A 0 for an unknown date widened the span beyond what float32 moves any
    # value, and 201 distinct timestamps became 95 without a word.
    times = [0] + [1_700_000_000 + 60 * k for k in range(200)]
    path = tmp_path / "t.csv"
    path.write_text(
        "t,label\n" + "".join(f"{v},{'xy'[i % 2]}\n" for i, v in enumerate(times))
    )
    with pytest.warns(UserWarning, match=r"'t' \(.*201 distinct values become \d+"):
        load_csv_table(path)


def test_checking_the_float32_cast_holds_a_chunk_of_columns_at_a_time():
    # The bound and the float32 checks made temporaries of the whole table
    # (its absolute values, the cast's errors, the table sorted and its
    # gaps): some 30 bytes a value above the float64 features, over 7 times
    # the float32 result.
    X = np.random.default_rng(0).normal(size=(100_000, 32))
    peak, X32 = traced_peak(
        lambda: _datasets._float32_features(X, "t.csv", None, ["x"] * 32)
    )
    np.testing.assert_array_equal(X32, X.astype(np.float32))
    assert peak / X.size < 8


def test_the_float32_warning_and_bound_are_those_of_the_whole_table(monkeypatch):
    # Checked a chunk of columns at a time, the first value out of bounds is
    # still the first row by row, and the warning names each lossy column.
    X = np.random.default_rng(0).normal(size=(50, 7))
    X[:, 1] += 1.7e9  # timestamps
    X[:, 5] *= 1e-44  # tiny
    bad = X.copy()
    bad[30, 6], bad[40, 0] = np.inf, np.nan
    spots = []

    def checked():
        with pytest.warns(UserWarning) as record:
            _datasets._float32_features(X, "t", None, list("abcdefg"))
        with pytest.raises(ValueError):
            _datasets._float32_features(bad, "t", lambda *at: spots.append(at), [])
        return str(record[0].message)

    whole = checked()
    monkeypatch.setattr(_datasets, "_CHUNK_VALUES", 100)  # two columns a chunk
    assert checked() == whole
    assert spots == [(30, 6)] * 2
    assert "b (values spanning" in whole and "f (" in whole


def _edit_central_directory(path, member, offset, value):
    """Set a 2-byte field of a member's central directory header."""
    raw = bytearray(path.read_bytes())
    at = raw.index(b"PK\x01\x02")
    while raw[at + 46 : at + 46 + len(member)] != member.encode():
        at = raw.index(b"PK\x01\x02", at + 1)
    raw[at + offset : at + offset + 2] = struct.pack("<H", value)
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize(
    "offset, value, match",
    [
        (6, 84, "f.zip is not a zip file or is truncated or damaged"),  # version 8.4
        (8, 1, r"f.zip: the member\(s\) \['test/a/000.png'\] are encrypted"),
    ],
    ids=["unsupported-version", "encrypted-flag"],
)
def test_damaged_zip_headers_name_the_file(tmp_path, offset, value, match):
    # zipfile raises NotImplementedError for the first and RuntimeError for
    # the second, whose bit a password sets too.
    _write_image_zip(tmp_path / "f.zip", {("test", "a"): 1, ("train", "a"): 1})
    _edit_central_directory(tmp_path / "f.zip", "test/a/000.png", offset, value)
    with pytest.raises(ValueError, match=match):
        load_image_folder_zip(tmp_path / "f.zip")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_split_rejects_non_finite_labels(bad):
    # NaN was drawn as an IN class with no example in the pool or the test set.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    y = np.repeat(np.arange(5.0), 40)
    y[::7] = bad
    with pytest.raises(ValueError, match="y contains NaN or infinity"):
        make_open_set_split(X, y, n_in_classes=3, random_state=0)
    with pytest.raises(ValueError, match="y_test contains NaN or infinity"):
        make_open_set_split(
            X,
            np.repeat(np.arange(5), 40),
            in_classes=[0, 1],
            X_test=X[:20],
            y_test=y[:20],
        )


def test_load_image_folder_zip_reads_folder_names_as_labels(tmp_path):
    # A train folder "café" named on macOS (NFD) and the test folder in NFC
    # were two classes that printed alike; class_names typed in NFC missed
    # the NFD folder; a zero-width space made a second class silently.
    nfd, nfc = (unicodedata.normalize(form, "café") for form in ("NFD", "NFC"))
    pixels = _png_bytes(np.zeros((4, 4, 3), np.uint8))
    with zipfile.ZipFile(tmp_path / "f.zip", "w") as zf:
        for name in (f"train/{nfd}/0.png", "train/tea/0.png", f"test/{nfc}/0.png"):
            zf.writestr(name, pixels)
    _, y, _, y_test, names = load_image_folder_zip(tmp_path / "f.zip")
    assert names == [nfc, "tea"] and y.tolist() == [0, 1] and y_test.tolist() == [0]
    names = load_image_folder_zip(tmp_path / "f.zip", class_names=["tea", nfc])[4]
    assert names == ["tea", nfc]
    with pytest.raises(ValueError, match="class_names without them"):
        load_image_folder_zip(tmp_path / "f.zip", class_names=["tea\u200b", nfc])
    with zipfile.ZipFile(tmp_path / "f.zip", "a") as zf:
        zf.writestr("test/tea\u200b/0.png", pixels)
    match = r"folder 'tea\\u200b' reads as 'tea' .*U\+200B ZERO WIDTH SPACE"
    with pytest.raises(ValueError, match=match):
        load_image_folder_zip(tmp_path / "f.zip")


def test_load_image_folder_zip_warns_of_a_class_folder_under_test_only(tmp_path):
    # test/Dog beside train/dog silently became a class no training image had.
    layout = {("train", "cat"): 1, ("train", "dog"): 1, ("train", "ood"): 1}
    _write_image_zip(tmp_path / "f.zip", {**layout, ("test", "cat"): 1})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # train/ood/ alone is an untested class
        load_image_folder_zip(tmp_path / "f.zip")
    _write_image_zip(tmp_path / "f.zip", {**layout, ("test", "Dog"): 1})
    match = r"\['Dog'\] are under test/ only.*test/Dog/ and train/dog/ differ only in"
    with pytest.warns(UserWarning, match=match):
        names = load_image_folder_zip(tmp_path / "f.zip")[4]
    assert names == ["Dog", "cat", "dog", "ood"]


def test_load_image_folder_zip_warns_of_images_in_no_class_folder(tmp_path):
    # Images directly under train/ vanished without a word.
    _write_image_zip(tmp_path / "f.zip", {("train", "a"): 1, ("test", "a"): 1})
    with zipfile.ZipFile(tmp_path / "f.zip", "a") as zf:
        for name in ("train/1.png", "train/2.png"):
            zf.writestr(name, _png_bytes(np.zeros((5, 4, 3), np.uint8)))
    match = r"left out 2 image\(s\) directly under train/, in no class folder"
    with pytest.warns(UserWarning, match=match):
        X_train = load_image_folder_zip(tmp_path / "f.zip")[0]
    assert len(X_train) == 1


def test_a_cache_path_to_the_zip_itself_is_refused(tmp_path):
    # The zip given as its own cache was refused with the advice to delete it.
    _write_image_zip(tmp_path / "f.zip", {("train", "a"): 2, ("test", "a"): 1})
    kept = (tmp_path / "f.zip").read_bytes()
    (tmp_path / "sub").mkdir()
    same = tmp_path / "sub" / ".." / "f.zip"
    with pytest.raises(ValueError, match=r"is the zip itself; .* e\.g\. .*f\.npz"):
        load_image_folder_zip(tmp_path / "f.zip", cache_path=same)
    _write_image_zip(tmp_path / "g.zip", {("train", "a"): 1, ("test", "a"): 1})
    with pytest.raises(ValueError, match="not a cache") as error:
        load_image_folder_zip(tmp_path / "f.zip", cache_path=tmp_path / "g.zip")
    assert "delete" not in str(error.value)
    assert (tmp_path / "f.zip").read_bytes() == kept


def test_split_leaves_array_values_to_the_classifier_as_a_dataframe_does():
    # An array of texts or with NaN was refused, while the same DataFrame
    # split fine and the README says texts go in as texts.reshape(-1, 1).
    y = np.repeat(np.arange(5), 20)
    rows = make_open_set_split(
        np.arange(100.0).reshape(-1, 1), y, in_classes=[0, 1], random_state=0
    )
    texts = np.array([f"doc {i}" for i in range(100)], dtype=object).reshape(-1, 1)
    X_nan = np.random.RandomState(0).rand(100, 3)
    X_nan[0, 0] = np.nan
    images = np.arange(100 * 12, dtype=np.uint8).reshape(100, 3, 2, 2)
    for X in (texts, X_nan, images):
        split = make_open_set_split(X, y, in_classes=[0, 1], random_state=0)
        assert split.X_pool.dtype == X.dtype
        for part in ("X_pool", "X_test"):
            picked = getattr(rows, part)[:, 0].astype(int)
            np.testing.assert_array_equal(getattr(split, part), X[picked])
        np.testing.assert_array_equal(split.y_pool, rows.y_pool)


def test_load_image_folder_zip_refuses_a_member_name_written_twice(tmp_path):
    # A zip appended to (zipfile mode "a") held train/a/0.png twice: read by
    # name, the second image loaded twice and the first not at all.
    path, cache = tmp_path / "f.zip", tmp_path / "cache.npz"
    _write_image_zip(path, {("train", "a"): 1, ("train", "b"): 1, ("test", "a"): 1})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile's "Duplicate name"
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr("train/a/000.png", _png_bytes(np.ones((5, 4, 3), np.uint8)))
    match = (
        r"f.zip holds 1 member name\(s\) more than once \(e.g. train/a/000.png\)"
        r".*Create the zip anew"
    )
    with pytest.raises(ValueError, match=match):
        load_image_folder_zip(path, cache_path=cache)
    assert not cache.exists()
    # Nor is a cache read that an older version wrote from that zip: it has
    # the zip's own fingerprint.
    with zipfile.ZipFile(path) as zf:
        fingerprint = _datasets.zip_fingerprint(zf)
    images = np.zeros((1, 5, 4, 3), np.uint8)
    np.savez(
        cache,
        train_names=np.array(["train/a/000.png", "train/a/000.png"]),
        train_images=np.concatenate([images, images]),
        test_names=np.array(["test/a/000.png"]),
        test_images=images,
        zip_fingerprint=np.array(fingerprint),
    )
    with pytest.raises(ValueError, match=match):
        load_image_folder_zip(path, cache_path=cache)


@pytest.mark.parametrize("test_size", [2.0, 0.0, -1, 0, True, "0.25"])
def test_a_test_size_that_is_no_share_nor_row_count_is_named(test_size):
    # train_test_split's refusal read as the data's ("every IN class needs at
    # least 2 rows ... Give more data").
    X, y = load_digits_dataset()
    with pytest.raises(ValueError, match=r"test_size must be a share .* e\.g\. test"):
        make_open_set_split(X, y, in_classes=[0, 1, 2], test_size=test_size)


@pytest.mark.parametrize("test_size", [np.float32(0.25), np.int64(100)])
def test_a_numpy_test_size_holds_out_what_the_python_one_does(test_size):
    # A float32 share was refused by train_test_split, and the refusal read
    # as the data's ("Cannot hold out a stratified test set ...").
    X, y = load_digits_dataset()
    split = make_open_set_split(
        X, y, in_classes=[0, 1, 2], test_size=test_size, random_state=0
    )
    python = make_open_set_split(
        X, y, in_classes=[0, 1, 2], test_size=test_size.item(), random_state=0
    )
    np.testing.assert_array_equal(split.y_test, python.y_test)
    np.testing.assert_array_equal(split.X_pool, python.X_pool)


def test_load_csv_table_holds_the_rows_as_strings_once(tmp_path):
    # The rows as Python strings (some 70 bytes a value) stayed alive until
    # the end, beside the table as a string array made twice (in C, then in
    # Fortran layout) and the features' copy of it: some 170 bytes a value
    # at the peak, 5 GiB for a CSV of a million rows of 30 features. Then,
    # with the rows freed before parsing, still about 110: the rows, then
    # the string table, each held whole. Read a block of rows at a time,
    # only the features as float64 outlive a block.
    rng = np.random.default_rng(0)
    n_rows, n_features = 10_000, 50
    values = rng.uniform(-10, 10, (n_rows, n_features))
    path = tmp_path / "t.csv"
    lines = [",".join([*(f"f{i}" for i in range(n_features)), "label"])]
    lines += [
        ",".join([*(f"{v:.5f}" for v in row), str(label)])
        for row, label in zip(values, rng.integers(0, 8, n_rows))
    ]
    path.write_text("\n".join(lines) + "\n")
    peak, (X, _) = traced_peak(lambda: load_csv_table(path))
    np.testing.assert_array_equal(X, values.round(5).astype(np.float32))
    assert peak / (n_rows * (n_features + 1)) < 25


def test_load_csv_table_reads_each_distinct_label_once(tmp_path):
    # Every row's label made Python objects (normalised, its number, and
    # the check of its spelling as a string array of two rows sorted): some
    # 550 bytes a row, 110 a value of a table of 4 features.
    rng = np.random.default_rng(0)
    n_rows, n_features = 40_000, 4
    values = rng.uniform(-10, 10, (n_rows, n_features)).round(5)
    labels = rng.integers(0, 8, n_rows)
    path = tmp_path / "t.csv"
    path.write_text(
        "a,b,c,d,label\n"
        + "".join(f"{','.join(map(str, row))},{y}\n" for row, y in zip(values, labels))
    )
    peak, (X, y, classes) = traced_peak(
        lambda: load_csv_table(path, return_classes=True)
    )
    np.testing.assert_array_equal(X, values.astype(np.float32))
    np.testing.assert_array_equal(y, labels)
    assert y.dtype == np.int64 and classes.tolist() == list(range(8))
    assert peak / (n_rows * (n_features + 1)) < 50


def _read_whole(monkeypatch):
    """Make _read_csv_table read every table whole, as it reads one that
    fails a check."""
    monkeypatch.setattr(_datasets, "_read_table_in_blocks", lambda *args: None)


def test_a_csv_table_read_in_blocks_is_the_table_read_whole(tmp_path, monkeypatch):
    # Features (their layout too: a campaign's fingerprint hashes it),
    # labels as wide as the kept columns' widest value, lines, the ignored
    # columns and the widest value of all, and the float32 warning.
    long_note = '"a long note,\nover two lines"'
    rows = [
        f"{long_note if i == 41 else 'a note'},{1_700_000_000 + i},{i / 7:.6f},"
        f"  {' cat ' if i % 3 else 'dog'},{i}"
        for i in range(60)
    ]
    rows[20] += "\r\n\n   "  # a blank line
    path = tmp_path / "t.csv"
    path.write_text("\ufeffnote,ts,x,label,note\n" + "\n".join(rows) + "\n")

    def read():
        with pytest.warns(UserWarning, match="'ts'") as record:
            X, labels, lines, ignored, widest = _datasets._read_csv_table(
                path, "label", ["note"]
            )
        ignored = {key: value.tolist() for key, value in ignored.items()}
        return (
            (X.dtype, X.strides, X.tobytes(), labels.dtype, labels.tolist()),
            (list(lines), ignored, widest, str(record[0].message)),
        )

    monkeypatch.setattr(_datasets, "_BLOCK_VALUES", 40)  # 8 rows a block
    # their features merged 3 blocks at a time, the last 2 blocks left over
    monkeypatch.setattr(_datasets, "_PART_VALUES", 40)
    blocks = read()
    with pytest.warns(UserWarning):  # read in blocks indeed
        assert _datasets._read_table_in_blocks(path, "label", ["note"]) is not None
    _read_whole(monkeypatch)
    assert blocks == read()
    assert blocks[1][2] == len("a long note,\nover two lines")


def test_many_short_rows_are_counted(tmp_path):
    # The first 5 were named, with no sign of the others.
    path = tmp_path / "t.csv"
    path.write_text("x,label\n" + "1\n" * 30)
    with pytest.raises(
        ValueError, match=r"line\(s\) \[2, 3, .*, 21, \.\.\.\] \(30 lines\) do not"
    ):
        load_csv_table(path)


def test_ignored_values_read_in_blocks_keep_their_spaces(tmp_path, monkeypatch):
    # as read whole: the csv module strips the spaces before a value alone
    monkeypatch.setattr(_datasets, "_BLOCK_VALUES", 3)  # one row a block
    path = tmp_path / "t.csv"
    path.write_text("x,label,note\n1,a, n \n2,b,m  \n")
    assert _datasets._read_table_in_blocks(path, "label", ["note"]) is not None
    ignored = _datasets._read_csv_table(path, "label", ["note"])[3]
    assert ignored["note"].tolist() == ["n ", "m  "]


def test_labels_read_in_blocks_are_as_wide_as_the_widest_value_of_any_block(
    tmp_path, monkeypatch
):
    # As wide as read whole (a campaign's fingerprint hashes their dtype),
    # where the widest value is in a block before the last.
    monkeypatch.setattr(_datasets, "_BLOCK_VALUES", 4)  # 2 rows a block
    path = tmp_path / "t.csv"
    path.write_text("x,label\n0.000000000001,a\n" + "1,b\n" * 5)
    assert _datasets._read_table_in_blocks(path, "label", ()) is not None
    labels = _datasets._read_csv_table(path, "label", ())[1]
    _read_whole(monkeypatch)
    assert (
        labels.dtype == _datasets._read_csv_table(path, "label", ())[1].dtype == "<U14"
    )


@pytest.mark.parametrize(
    "last, match",
    [
        (b"1,\xff\n", "is not UTF-8"),  # a read error comes first
        (b"1,2\n", r"line\(s\) \[3\] do not have 2 values"),
    ],
)
def test_a_csv_table_read_in_blocks_reports_what_it_did_read_whole(
    tmp_path, monkeypatch, last, match
):
    # The first problem, by the order of the checks of the whole file, not
    # the first in the file: a ragged row in the first block is not said
    # before a byte that is no UTF-8 in the last.
    monkeypatch.setattr(_datasets, "_BLOCK_VALUES", 4)
    path = tmp_path / "t.csv"
    path.write_bytes(b"x,label\n1,a\n1\n" + b"2,b\n" * 10 + last)
    with pytest.raises(ValueError, match=match):
        load_csv_table(path)


def test_a_note_swallowing_rows_in_a_block_yields_to_an_earlier_check(
    tmp_path, monkeypatch
):
    # A note whose quote takes in rows is refused by the block reader's own
    # check in its first block; the whole read says first what it checks
    # first, a byte that is no UTF-8 on the last line (past the first
    # 8 KiB that the file's reader decodes at once).
    monkeypatch.setattr(_datasets, "_BLOCK_VALUES", 6)  # 2 rows a block
    path = tmp_path / "t.csv"
    path.write_bytes(
        b'x,label,note\n1,a,"n\n2,b,m\n"\n' + b"2,b,n\n" * 3000 + b"1,\xff,n\n"
    )
    with pytest.raises(ValueError, match="is not UTF-8"):
        load_csv_table(path, ignore_columns=["note"])
    path.write_bytes(b'x,label,note\n1,a,"n\n2,b,m\n"\n' + b"2,b,n\n" * 10)
    with pytest.raises(ValueError, match="lines within it read as rows"):
        load_csv_table(path, ignore_columns=["note"])


def test_a_header_without_the_label_column_yields_to_an_earlier_check(tmp_path):
    # Its header is read first, but the whole read checks every byte before
    # it looks for the label column: the block reader leaves it to it.
    path = tmp_path / "t.csv"
    path.write_bytes(b"x,y\n" + b"2,b\n" * 3000 + b"1,\xff\n")
    with pytest.raises(ValueError, match="is not UTF-8"):
        load_csv_table(path)


def test_a_short_row_beside_an_ignored_column_is_said_to_be(tmp_path):
    # Read in blocks, the ignored column's values were looked for in a row
    # too short to hold them: an IndexError, not the ragged lines.
    path = tmp_path / "t.csv"
    path.write_text("x,label,note\n1,a,b\n1,a\n")
    with pytest.raises(ValueError, match=r"line\(s\) \[3\] do not have 3 values"):
        load_csv_table(path, ignore_columns=["note"])


def _table_of_50_features(path, n_rows, odd_row=None):
    """Write a CSV table of `n_rows` rows of 50 uniform features (5 decimals)
    and an integer label at `path`, a non-breaking space before the 4th
    feature of row `odd_row`; return the features as float32."""
    rng = np.random.default_rng(0)
    values = rng.uniform(-10, 10, (n_rows, 50))
    rows = [[f"{v:.5f}" for v in row] for row in values]
    if odd_row is not None:
        rows[odd_row][3] = "\xa0" + rows[odd_row][3]
    path.write_text(
        ",".join([*(f"f{i}" for i in range(50)), "label"])
        + "\n"
        + "".join(f"{','.join(row)},{i % 8}\n" for i, row in enumerate(rows))
    )
    return values.round(5).astype(np.float32)


@pytest.mark.parametrize("odd_row", [0, -1])  # in the first block, or past it
def test_a_csv_table_whose_features_hold_a_wider_character_is_read_in_blocks(
    tmp_path, monkeypatch, odd_row
):
    # A non-breaking space beside a number (as a spreadsheet may write one)
    # sent the whole table to the whole read, some 150 bytes a value: where
    # a value holds "_" or a character beyond ASCII every value is checked,
    # and one block could not see that another holds one.
    monkeypatch.setattr(_datasets, "_BLOCK_VALUES", 2**10)  # 20 rows a block
    monkeypatch.setattr(_datasets, "_CHUNK_VALUES", 2**10)  # checks of 1 column
    path = tmp_path / "t.csv"
    expected = _table_of_50_features(path, 1000, odd_row)
    peak, (X, y) = traced_peak(lambda: load_csv_table(path))
    np.testing.assert_array_equal(X, expected)
    np.testing.assert_array_equal(y, np.arange(1000) % 8)
    assert peak / (1000 * 51) < 25


def test_a_wider_character_past_the_first_block_has_the_blocks_before_checked(
    tmp_path, monkeypatch
):
    # Where a value holds "_" or a character beyond ASCII, every value of the
    # table is checked as a number in plain notation, those of the blocks
    # read before it too, as the whole read checks them. Today float reads
    # no ASCII value without "_" that the check refuses; a stricter check
    # stands for one that it would.
    monkeypatch.setattr(_datasets, "_BLOCK_VALUES", 4)  # 2 rows a block
    is_number = _datasets._is_number
    monkeypatch.setattr(
        _datasets, "_is_number", lambda text: text != "7" and is_number(text)
    )
    path = tmp_path / "t.csv"
    path.write_text("x,label\n7,a\n" + "1,a\n" * 5 + "\xa02,b\n")
    with pytest.raises(ValueError, match="line 2, column 'x': feature value '7' is"):
        load_csv_table(path)
    path.write_text("x,label\n7,a\n" + "1,a\n" * 5 + "2,b\n")  # read in blocks
    np.testing.assert_array_equal(load_csv_table(path)[0].ravel(), [7] + [1] * 5 + [2])


def test_a_fault_of_the_block_reader_is_not_hidden_by_the_whole_read(
    tmp_path, monkeypatch
):
    # Every ValueError of the block reader was taken for a check that the
    # table fails, and the table read again whole: a bug of the block reader
    # went unseen, the memory of the whole read its only trace.
    def broken(reader):
        raise ValueError("a bug")

    monkeypatch.setattr(_datasets, "_numbered_rows", broken)
    path = tmp_path / "t.csv"
    path.write_text("x,label\n1,a\n2,b\n")
    with pytest.raises(ValueError, match="a bug"):
        load_csv_table(path)


@pytest.mark.parametrize("n_rows, n_features", [(1, 3), (6, 1), (6, 3)])
def test_a_csv_table_read_in_blocks_is_laid_out_as_one_read_whole(
    tmp_path, monkeypatch, n_rows, n_features
):
    # One row or one feature column makes the whole read's table C-contiguous
    # too, and its cast to float32 C-ordered: a campaign's fingerprint hashes
    # X's strides, so the blocks' X is laid out so as well.
    path = tmp_path / "t.csv"
    header = ",".join([*(f"f{c}" for c in range(n_features)), "label"])
    rows = [
        ",".join([*(f"{r + c / 4}" for c in range(n_features)), "a"])
        for r in range(n_rows)
    ]
    path.write_text("\n".join([header, *rows]) + "\n")
    monkeypatch.setattr(_datasets, "_BLOCK_VALUES", 4)  # a row or two a block
    assert _datasets._read_table_in_blocks(path, "label", []) is not None
    blocks = _datasets._read_csv_table(path, "label", [])[0]
    _read_whole(monkeypatch)
    whole = _datasets._read_csv_table(path, "label", [])[0]
    assert blocks.strides == whole.strides
    np.testing.assert_array_equal(blocks, whole)


def test_a_csv_table_read_in_blocks_is_cast_to_float32_a_block_at_a_time(
    tmp_path, monkeypatch
):
    # The blocks' float64 features were copied into one float64 table, then
    # cast to float32: the blocks and that table, 16 bytes a value, at the
    # peak (17.3 here; as resident memory, the blocks freed to the allocator
    # stay). Cast a block at a time into the float32 result: 12 (14.4 here,
    # the labels and the checks' chunks included).
    monkeypatch.setattr(_datasets, "_BLOCK_VALUES", 2**10)
    monkeypatch.setattr(_datasets, "_CHUNK_VALUES", 2**10)
    path = tmp_path / "t.csv"
    expected = _table_of_50_features(path, 4000)
    peak, (X, _) = traced_peak(lambda: load_csv_table(path))
    np.testing.assert_array_equal(X, expected)
    assert X.flags.f_contiguous and not X.flags.c_contiguous
    assert peak / (4000 * 51) < 15.5


@pytest.mark.parametrize(
    "last, match",
    [
        ("2", "line 2, column 'y': feature value is empty .*; fill it in"),
        ("", "line 2, column 'y': feature value is empty .* as in every row"),
    ],
)
def test_a_feature_column_empty_in_a_block_is_told_by_the_whole_table(
    tmp_path, monkeypatch, last, match
):
    # empty in every row of the first block, not of the table
    monkeypatch.setattr(_datasets, "_BLOCK_VALUES", 6)
    path = tmp_path / "t.csv"
    path.write_text("x,y,label\n" + "1,,a\n" * 5 + f"1,{last},a\n")
    with pytest.raises(ValueError, match=match):
        load_csv_table(path)


def test_load_image_folder_zip_streams_a_huge_member(tmp_path):
    # A zip of kilobytes holding a member of 40 MiB of zeros: read whole
    # before Pillow refused it, it took its size in memory (300 MiB: 950 MB).
    import tracemalloc

    path = tmp_path / "f.zip"
    ok = _png_bytes(np.zeros((4, 4, 3), np.uint8))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for split in ("train", "test"):
            zf.writestr(f"{split}/a/ok.png", ok)
        zf.writestr("train/a/big.png", bytes(40 * 2**20))
    tracemalloc.start()
    try:
        with pytest.raises(
            ValueError, match="member train/a/big.png is not a readable image.*zip -d"
        ):
            load_image_folder_zip(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20


def test_load_image_folder_zip_streamed_members_read_the_same(tmp_path, monkeypatch):
    from skal_openset import _datasets

    _write_image_zip(tmp_path / "f.zip", {("train", "a"): 2, ("test", "a"): 1})
    whole = load_image_folder_zip(tmp_path / "f.zip")
    monkeypatch.setattr(_datasets, "_READ_WHOLE_BYTES", 0)
    streamed = load_image_folder_zip(tmp_path / "f.zip")
    for a, b in zip(whole, streamed):
        np.testing.assert_array_equal(a, b)


def test_load_image_folder_zip_out_of_memory_names_size_and_remedy(
    tmp_path, monkeypatch
):
    _write_image_zip(tmp_path / "f.zip", {("train", "a"): 2, ("test", "a"): 1})

    def empty(shape, dtype=None):
        raise MemoryError  # as numpy does, with no word of the images

    monkeypatch.setattr(np, "empty", empty)
    with pytest.raises(MemoryError, match=r"3 images of .* GiB .* resize them"):
        load_image_folder_zip(tmp_path / "f.zip")


def test_in_classes_not_in_y_are_shown_with_the_first_classes_and_counted():
    # The error listed every class of y: 500 of them made a message of 4 KB.
    y = np.repeat([f"c{i:03d}" for i in range(500)], 2)
    X = np.zeros((len(y), 1))
    with pytest.raises(ValueError) as error:
        make_open_set_split(X, y, in_classes=[f"x{i}" for i in range(30)])
    message = str(error.value)
    assert re.match(
        r"in_classes \['x0', .*, 'x19', \.\.\.\] \(30 classes\) do not occur in y "
        r"\(its classes are \['c000', .*, 'c019', \.\.\.\] \(500 classes\)\)\.$",
        message,
    )


@pytest.mark.parametrize("as_objects", [True, False])
def test_in_classes_and_labels_numpy_strings_would_merge_are_kept_apart(as_objects):
    # numpy's strings drop trailing NULs: in_classes=['a\x00', 'b'] became
    # ['a', 'b'], so the rows of 'a' were IN and those of 'a\x00' OOD, silently.
    y = ["a", "a\x00", "b", "c"] * 5
    y = np.array(y, dtype=object) if as_objects else y
    X = np.arange(len(y)).reshape(-1, 1)
    split = make_open_set_split(
        X, y, in_classes=["a\x00", "b"], test_size=0.5, random_state=0
    )
    assert split.in_classes.tolist() == ["a\x00", "b"]
    code = {"a\x00": 0, "b": 1}
    pool = [code.get(y[i], split.ood_label) for i in split.X_pool[:, 0]]
    assert split.y_pool.tolist() == pool
    assert split.y_test.tolist() == [code[y[i]] for i in split.X_test[:, 0]]


def test_in_classes_numpy_strings_would_change_are_named_as_given():
    # y's array holds no 'a\x00': it was found as 'a', the IN class unasked.
    y = np.array(["a", "b", "c"] * 4)
    with pytest.raises(ValueError, match=r"^in_classes \['a\\x00'\] do not occur"):
        make_open_set_split(np.zeros((12, 1)), y, in_classes=["a\x00", "b"])


def test_open_set_split_keeps_in_classes_numpy_strings_would_merge():
    # ['a\x00', 'a'] was held as ['a', 'a'] and refused as 'a' listed twice.
    split = OpenSetSplit(
        X_pool=np.zeros((2, 1)), y_pool=[0, 1], initial_idx=[0],
        X_test=np.zeros((2, 1)), y_test=[0, 1], in_classes=["a\x00", "a"],
    )  # fmt: skip
    assert split.in_classes.tolist() == ["a\x00", "a"]


def test_in_classes_a_0d_array_beside_strings_is_read_as_the_value_it_holds():
    # The list's object array kept np.array('a') as an array, which the
    # check of classes listed twice hashed: "unhashable type: 'numpy.ndarray'".
    y = np.array(["a", "a\x00", "b"] * 4, dtype=object)
    split = make_open_set_split(
        np.arange(12).reshape(-1, 1), y, in_classes=[np.array("a"), "a\x00"],
        test_size=0.5, random_state=0,
    )  # fmt: skip
    assert split.in_classes.tolist() == ["a", "a\x00"]


def test_in_classes_a_bool_beside_numbers_is_refused_not_read_as_a_number():
    # numpy's array of [True, 2] is [1, 2]: True was taken for class 1,
    # silently, where the learner's labels and y's are checked for it.
    X = np.arange(12).reshape(-1, 1)
    # Refused as mixing booleans with numbers, as the learner's classes are:
    # the advice on boolean labels (np.where(mask, 1, 0)) is about a mask.
    refused = r"^in_classes mix booleans \[True\] with numbers, .* every class as"
    with pytest.raises(ValueError, match=refused):
        make_open_set_split(X, [1, 2, 3] * 4, in_classes=[True, 2])
    # Beside a float too: numpy's [True, 2.5] is [1.0, 2.5].
    with pytest.raises(ValueError, match=refused):
        make_open_set_split(X, [1, 2.5, 3] * 4, in_classes=[True, 2.5])
    with pytest.raises(ValueError, match=refused.replace("True", repr(np.True_))):
        make_open_set_split(X, [1, 2, 3] * 4, in_classes=[np.True_, 2])
    split = make_open_set_split(X, [True, False] * 6, in_classes=[False, True])
    assert split.in_classes.tolist() == [False, True]


def test_in_classes_integers_beyond_2_53_beside_a_float_stay_exact():
    # numpy's array of them is floats: 2**53 + 1 became 2.0**53, which y
    # lacked (or which 2**53 beside it was taken for, listed twice).
    big = 2**53 + 1
    X = np.arange(12).reshape(-1, 1)
    split = make_open_set_split(X, [big, 0.5, 3] * 4, in_classes=[big, 0.5])
    assert split.in_classes.tolist() == [big, 0.5]
    split = OpenSetSplit(
        X_pool=np.zeros((2, 1)), y_pool=[0, 1], initial_idx=[0],
        X_test=np.zeros((2, 1)), y_test=[0, 1], in_classes=[big - 1, big, 0.5],
    )  # fmt: skip
    assert split.in_classes.tolist() == [big - 1, big, 0.5]


def test_in_classes_numpy_strings_are_named_whole():
    # np.str_('a\x00') shows as np.str_('a'): the message named a class y
    # holds as one it lacks; listed beside 'a', it was refused as 'a' twice.
    X = np.arange(12).reshape(-1, 1)
    in_classes = [np.str_("a\x00"), "a"]
    with pytest.raises(ValueError, match=r"^in_classes \['a\\x00'\] do not occur"):
        make_open_set_split(X, ["a", "b", "c"] * 4, in_classes=in_classes)
    split = make_open_set_split(
        X, ["a", "a\x00", "b"] * 4, in_classes=in_classes, random_state=0
    )
    assert split.in_classes.tolist() == ["a\x00", "a"]


def test_in_classes_a_number_beside_strings_is_read_as_given():
    # numpy's array of [1, 'a'] is ['1', 'a']: the class '1' was taken for
    # the 1 given, where in_classes=[1, 2] were refused as not in y.
    y = np.array(["1", "a", "b"] * 4)
    with pytest.raises(ValueError, match=r"^in_classes \[1\] do not occur in y"):
        make_open_set_split(np.zeros((12, 1)), y, in_classes=[1, "a"])


@pytest.mark.parametrize(
    "classes, missing",
    [
        ("abc", None),
        ("abc", "pandas.NA"),
        ("abc", np.nan),
        # Among numbers, a float array holds NaN.
        ([0, 1, 2], np.nan),
        ([0.5, 1.5, 2.5], np.nan),
    ],
)
def test_a_missing_value_in_in_classes_is_named_as_missing(classes, missing):
    # pandas.NA failed the comparison with y's classes, "boolean value of NA
    # is ambiguous", and None and NaN were "not in y", as if a class were
    # misspelt.
    if missing == "pandas.NA":
        missing = pytest.importorskip("pandas").NA
    y = np.array(list(classes) * 4)
    in_classes = [classes[0], missing, classes[1]]
    with pytest.raises(ValueError) as error:
        make_open_set_split(np.zeros((12, 1)), y, in_classes=in_classes)
    assert str(error.value) == (
        f"in_classes has no label at position 1 ({missing!r}; 1 missing in all): "
        "a missing value is no class; list the IN classes without it."
    )


def test_a_tuple_in_y_test_is_refused_naming_y_test():
    # The refusal named y, whose rows are well.
    X = np.zeros((6, 1))
    with pytest.raises(ValueError, match=r"^y_test holds \(1, 2\) at row 1, a tuple"):
        make_open_set_split(
            X, [1, 2, 3] * 2, X_test=X[:3], y_test=[1, (1, 2), 2], in_classes=[1, 2]
        )
