from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.dummy import DummyClassifier

from _float_events import assert_same_under_raising_errstate
from skal_openset import RandomQuery, SkactivemlQuery, make_open_set_split
from skal_openset._labels import check_each_once, check_held_apart, label_array


def _refusal(values):
    """check_each_once's message on `values`, or None where it takes them."""
    try:
        check_each_once(values, "x", "value")
    except ValueError as error:
        return str(error)
    return None


def test_check_each_once_tells_apart_values_a_numpy_string_would_merge():
    # numpy's fixed-width strings drop trailing NULs: "a\x00" was read as "a"
    assert _refusal(["a", "a\x00"]) is None
    assert _refusal(["a\x00", "b", "a\x00"]) == (
        r"x lists 'a\x00' more than once: list each value once."
    )


def test_check_each_once_names_a_number_as_given():
    # 1 equals 1.0 as Python compares them; the first given is named, not the
    # float numpy would make of the list
    assert _refusal([1, 2, 1.0]) == "x lists 1 more than once: list each value once."
    for values in ((np.int64(2), np.int64(2)), pd.Index([2, 2]), np.array([2, 2])):
        assert _refusal(values) == "x lists 2 more than once: list each value once."


def test_check_each_once_reads_a_0d_array_as_the_value_it_holds():
    # As classes= reads it: a 0-d array in a list (or an object array) was
    # hashed as an array, a bare "unhashable type: 'numpy.ndarray'".
    values = np.array([np.array(1), np.array(2), np.array(1)], dtype=object)
    assert _refusal(values) == "x lists 1 more than once: list each value once."
    assert _refusal([np.array("a"), "a\x00"]) is None


@pytest.mark.parametrize("kind", [np.str_, np.bytes_], ids=["str", "bytes"])
def test_check_each_once_reads_a_numpy_string_whole(kind):
    # np.str_('a\x00').item() is 'a': beside 'a', which it does not equal,
    # both were named as 'a' listed twice.
    nul, plain = ("a\x00", "a") if kind is np.str_ else (b"a\x00", b"a")
    assert _refusal([kind(nul), plain]) is None
    assert _refusal([kind(nul), nul]) == (
        f"x lists {nul!r} more than once: list each value once."
    )


@given(st.lists(st.text(alphabet="ab\x00", max_size=3), max_size=8))
def test_check_each_once_refuses_exactly_the_values_given_twice(values):
    twice = [v for v in dict.fromkeys(values) if values.count(v) > 1]
    message = _refusal(values)
    if not twice:
        assert message is None
    else:
        shown = repr(twice[0]) if len(twice) == 1 else repr(twice)
        assert message == f"x lists {shown} more than once: list each value once."


@given(
    st.lists(
        st.one_of(
            st.booleans(),
            st.integers(-(2**62), 2**62),
            st.sampled_from([2**53 + 1, np.int64(2**53 + 1), np.True_, np.False_]),
            st.floats(allow_nan=False),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_label_array_keeps_bools_and_integers_beside_numbers_as_given(values):
    # numpy's array of [True, False, 0.5] is [1.0, 0.0, 0.5]: bools beside
    # floats became numbers without a word, as beside integers they no longer
    # did, and the learner took them for the classes 0.0 and 1.0.
    labels = label_array(values).tolist()
    assert [isinstance(v, (bool, np.bool_)) for v in labels] == [
        isinstance(v, (bool, np.bool_)) for v in values
    ]
    assert labels == values


def _held_as_one(values):
    """check_held_apart's message on `values` and numpy's array of them."""
    try:
        check_held_apart(values, np.asarray(values), "x")
    except ValueError as error:
        return str(error)
    return None


@given(st.lists(st.text(alphabet="a\x00", max_size=3), unique=True, max_size=6))
def test_check_held_apart_names_the_values_numpy_holds_as_one(values):
    groups = {}
    for value in values:
        groups.setdefault(value.rstrip("\x00"), []).append(value)
    merged = [group for group in groups.values() if len(group) > 1]
    changed = [value for value in values if value.endswith("\x00")]
    message = _held_as_one(values)
    if not merged and not changed:
        assert message is None
    elif not merged:  # held as another value: a class that matches no label
        assert message.startswith(
            f"x lists {changed[0]!r}, which numpy holds as "
            f"{changed[0].rstrip(chr(0))!r} (its strings drop trailing NUL"
        )
    else:
        shown = " and ".join(map(repr, merged[0])) if len(merged) == 1 else merged
        assert message.startswith(f"x lists {shown}, which numpy holds as one value")


def test_check_held_apart_names_numbers_as_given():
    assert _held_as_one([2**53 + 1, 2.0**53, 3]) == (
        "x lists 9007199254740993 and 9007199254740992.0, which numpy holds as "
        "one value (it makes floats of integers among floats): give x that "
        "differ as floats, or all integers."
    )


@pytest.mark.parametrize(
    "values",
    [
        [float("nan"), 1.0],
        [float("nan"), "a"],
        [pd.NA, 1],
        [Decimal("NaN"), 1],
        [np.datetime64("2020-01-01"), np.datetime64("2020-01-02", "ns")],
    ],
)
def test_check_held_apart_takes_values_numpy_neither_merges_nor_rounds(values):
    # NaN equals nothing and pandas.NA has no truth value: they were refused
    # as held as another value (or raised TypeError), and datetimes of two
    # units, held as integers, as "floats of integers among floats".
    assert _held_as_one(values) is None


def _split_rows(X, y):
    split = make_open_set_split(
        X, y, in_classes=[0, 1], X_test=X, y_test=y, random_state=0
    )
    return split.X_pool, split.X_test


def _queried_rows(X, y):
    unlabelled = np.where(np.arange(len(y)) % 2, y, np.nan)
    query = SkactivemlQuery(RandomQuery(random_state=0))
    return query.query(X, unlabelled, DummyClassifier(), batch_size=2)


@pytest.mark.parametrize("rows_of", [_split_rows, _queried_rows])
def test_rows_near_the_float64_limit_of_both_signs_go_to_the_classifier_quietly(
    rows_of,
):
    # scikit-learn's check of rows left to the classifier (NaN allowed)
    # summed them to inf - inf: a RuntimeWarning of this package's own, a
    # FloatingPointError under np.seterr(all="raise"). DummyClassifier checks
    # no value: any warning would be the package's.
    big = np.finfo(np.float64).max
    X = np.c_[np.repeat([big, -big], 6), np.arange(12.0)]
    assert_same_under_raising_errstate(lambda: rows_of(X, np.arange(12) % 3))
