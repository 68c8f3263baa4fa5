import sys
import warnings
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skal_openset import _oracle
from skal_openset._oracle import OpenSetOracle, labelling_cost, labels_within

Y = np.array([0, -1, 1, -1, 2, 3, -1, 0])
COSTS = st.sampled_from([0.5, 1.0, 2.0, 4.0])  # Table 6 costs: exact in binary


def _cost(y, indices, cost_in, cost_ood, ood_label=-1):
    return sum(cost_ood if y[i] == ood_label else cost_in for i in indices)


def test_label_returns_truth_and_keeps_accounts():
    oracle = OpenSetOracle(Y, cost_in=1.0, cost_ood=2.5)
    np.testing.assert_array_equal(oracle.label([4, 1, 0]), [2, -1, 0])
    np.testing.assert_array_equal(oracle.label(np.array([6, 2])), [-1, 1])
    assert oracle.spent_ == _cost(Y, [4, 1, 0, 6, 2], 1.0, 2.5) == 8.0
    assert (oracle.n_queried_in_, oracle.n_queried_ood_) == (3, 2)
    np.testing.assert_array_equal(np.flatnonzero(~oracle.queried_), [3, 5, 7])


def test_repr_shows_the_settings_and_accounts():
    # Shown in a notebook, the oracle read "<skal_openset._oracle.OpenSetOracle
    # object at 0x...>", where its accounts are what one looks for.
    oracle = OpenSetOracle(
        np.array(["cat", "unknown", "dog"]), ood_label="unknown", cost_ood=2.5
    )
    oracle.label([1, 0])
    assert repr(oracle) == (
        "OpenSetOracle(n_pool=3, ood_label='unknown', cost_in=1.0, cost_ood=2.5, "
        "n_queried_in_=1, n_queried_ood_=1, spent_=3.5)"
    )
    # NumPy scalars read as Python's, not np.int64(-1) (NumPy 2's repr).
    oracle = OpenSetOracle(
        np.array([3, -1]), ood_label=np.int64(-1), cost_ood=np.float64(2.0)
    )
    oracle.label([1])
    assert "ood_label=-1, cost_in=1.0, cost_ood=2.0, " in repr(oracle)
    assert "spent_=2.0)" in repr(oracle)


def _interrupted_at_line(code, n):
    """Trace function raising KeyboardInterrupt at the `n`-th line run in a
    frame of `code`; its ``hits`` count the lines run."""

    def local(frame, event, arg):
        if event == "line":
            tracer.hits += 1
            if tracer.hits == n:
                raise KeyboardInterrupt
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code is code else None

    tracer.hits = 0
    return tracer


def test_label_keeps_all_accounts_or_none_when_interrupted():
    # A Ctrl-C between its updates left 3 labels counted but not charged, or
    # charged but not bought: a retry then charged them twice.
    def accounts(oracle):
        return (
            oracle.spent_,
            oracle.n_queried_in_,
            oracle.n_queried_ood_,
            oracle.queried_.tolist(),
        )

    before = (0.0, 0, 0, [False] * 8)
    bought = (4.0, 2, 1, [True] * 3 + [False] * 5)
    interrupted = 0
    for n in range(1, 100):
        oracle = OpenSetOracle(Y, cost_in=1.0, cost_ood=2.0)
        tracer = _interrupted_at_line(OpenSetOracle.label.__code__, n)
        old = sys.gettrace()
        sys.settrace(tracer)
        try:
            oracle.label([0, 1, 2])
        except KeyboardInterrupt:
            interrupted += 1
            assert accounts(oracle) in (before, bought), f"line {n}"
        else:
            break
        finally:
            sys.settrace(old)
    assert interrupted >= 6  # every line of label
    assert accounts(oracle) == bought


def test_accounts_do_not_drift_over_many_purchases():
    # Ten costs of 0.1 added one by one make 0.9999999999999999.
    y = np.r_[np.zeros(10, int), -np.ones(10, int)]
    oracle = OpenSetOracle(y, cost_in=0.1, cost_ood=0.3)
    for i in range(20):
        oracle.label([i])
    assert oracle.spent_ == 10 * 0.1 + 10 * 0.3 == 4.0
    # 0.1 + 3 * 0.3, each product rounded, is 0.9999999999999999 too
    oracle = OpenSetOracle(y, cost_in=0.1, cost_ood=0.3)
    oracle.label([0, 10, 11, 12])
    assert oracle.spent_ == 1.0


def test_custom_ood_label():
    oracle = OpenSetOracle([0, 9, 1], ood_label=9, cost_ood=3.0)
    np.testing.assert_array_equal(oracle.label([1, 2]), [9, 1])
    assert (oracle.spent_, oracle.n_queried_ood_) == (4.0, 1)


def test_returned_labels_do_not_alias_state():
    y = Y.copy()
    oracle = OpenSetOracle(y)
    y[0] = 5
    labels = oracle.label([0])
    labels[0] = 7
    assert oracle.y_true[0] == 0


def test_fill_budget_stops_at_the_first_example_that_does_not_fit():
    # Ranked: OOD(4), IN(1), OOD(4), IN(1), IN(1); budget 6 -> 4 + 1, and the
    # second OOD does not fit: skipping it to buy the cheaper IN examples
    # below would let the hidden label choose the purchase.
    oracle = OpenSetOracle(Y, cost_in=1.0, cost_ood=4.0)
    kept, cost = oracle.fill_budget([1, 0, 3, 2, 4], budget=6)
    np.testing.assert_array_equal(kept, [1, 0])
    assert cost == 5.0
    assert oracle.spent_ == 0.0 and not oracle.queried_.any()  # nothing bought yet


def test_fill_budget_equal_costs_takes_prefix():
    oracle = OpenSetOracle(Y)
    kept, cost = oracle.fill_budget([7, 6, 5, 4, 3], budget=3)
    np.testing.assert_array_equal(kept, [7, 6, 5])
    assert cost == 3.0


def test_fill_budget_absorbs_float_rounding():
    oracle = OpenSetOracle([0, 1, 2, 3], cost_in=0.1)
    kept, _ = oracle.fill_budget([0, 1, 2, 3], budget=0.3)
    np.testing.assert_array_equal(kept, [0, 1, 2])


def test_fill_budget_never_buys_past_the_budget():
    # A relative tolerance for float rounding let 1e9 + 1.5 through a budget
    # of 999999999.99, and 28 labels of 0.05 through 2e9 + 0.1 after one 2e9.
    oracle = OpenSetOracle([0, -1], cost_in=1e9, cost_ood=1.5)
    assert oracle.fill_budget([0], 999_999_999.99)[0].size == 0
    oracle = OpenSetOracle([0] * 30 + [-1], cost_in=0.05, cost_ood=2e9)
    kept, cost = oracle.fill_budget([30, *range(30)], 2_000_000_000.1)
    assert kept.tolist() == [30, 0, 1] and cost == 2_000_000_000.1


def test_decimal_costs_add_up_to_decimal_totals():
    oracle = OpenSetOracle([-1, -1, -1, 0], cost_ood=0.7)
    kept, cost = oracle.fill_budget([0, 1, 2, 3], budget=2.1)
    assert kept.tolist() == [0, 1, 2] and cost == 2.1  # not 2.0999999999999996
    assert labelling_cost(0, 3, 0.1, 0.3) == 0.9
    assert labels_within(1.2, 0.4) == 3


@given(st.integers(0, 400), st.integers(1, 40))
def test_labels_within_is_the_most_labels_that_fit(eighths, cost_eighths):
    # Rounded up, a budget 0.1 short of a multiple of the cost was read as
    # buying one label more than it pays for (campaigns size rounds by it).
    budget, cost = eighths / 8, cost_eighths / 8  # exact in binary
    n = labels_within(budget, cost)
    assert n * cost <= budget < (n + 1) * cost


def test_numpy_float_costs_and_budgets_count_as_the_decimals_they_print_as():
    # float() made np.float32(0.1) 0.10000000149011612, so three labels of it
    # did not fit a budget of 0.3, and np.float32(0.7) 0.699999988...
    oracle = OpenSetOracle([0, 1, 2, 3], cost_in=np.float32(0.1))
    kept, cost = oracle.fill_budget([0, 1, 2, 3], budget=0.3)
    assert kept.tolist() == [0, 1, 2] and cost == 0.3 and oracle.cost_in == 0.1
    oracle = OpenSetOracle(np.zeros(8, int), cost_in=0.1)
    assert oracle.fill_budget(range(8), budget=np.float32(0.7))[0].size == 7
    assert labels_within(np.float32(0.7), np.float16(0.1)) == 7


def test_fill_budget_returns_the_cost_that_label_charges():
    # The cost was summed one label at a time: 0.9999999999999999 for ten
    # labels of 0.1, while label() set spent_ to 1.0.
    oracle = OpenSetOracle(np.r_[np.zeros(9, int), -1], cost_in=0.1, cost_ood=0.1)
    kept, cost = oracle.fill_budget(range(10), budget=1.0)
    oracle.label(kept)
    assert kept.size == 10 and cost == oracle.spent_ == 1.0


def test_fill_budget_zero_and_empty():
    oracle = OpenSetOracle(Y)
    assert oracle.fill_budget([0, 1], budget=0)[0].size == 0
    kept, cost = oracle.fill_budget([], budget=5)
    assert kept.size == 0 and cost == 0.0
    assert oracle.label([]).size == 0 and oracle.spent_ == 0.0


@given(
    st.lists(st.booleans(), min_size=1, max_size=30),
    COSTS,
    COSTS,
    st.integers(0, 60).map(lambda q: q / 4),
    st.randoms(use_true_random=False),
)
def test_fill_budget_prefix_invariants(is_ood, cost_in, cost_ood, budget, rnd):
    y = np.where(is_ood, -1, 0)
    ranked = list(range(len(y)))
    rnd.shuffle(ranked)
    oracle = OpenSetOracle(y, cost_in=cost_in, cost_ood=cost_ood)
    kept, cost = oracle.fill_budget(ranked, budget)
    kept = kept.tolist()
    # The kept examples are a prefix of the ranking, at the reported cost,
    # and the next example would have broken the budget.
    assert kept == ranked[: len(kept)]
    assert cost == _cost(y, kept, cost_in, cost_ood) <= budget
    if len(kept) < len(ranked):
        assert _cost(y, ranked[: len(kept) + 1], cost_in, cost_ood) > budget
    # Buying them charges exactly the reported cost.
    oracle.label(kept)
    assert oracle.spent_ == cost
    assert oracle.n_queried_in_ + oracle.n_queried_ood_ == len(kept)


def test_cannot_buy_twice():
    oracle = OpenSetOracle(Y)
    oracle.label([2, 3])
    with pytest.raises(ValueError, match="already labelled") as err:
        oracle.label([3])
    # The message says how to find indices still for sale, and that
    # learner.query's positions index the unlabelled rows, not the pool.
    assert r"np.flatnonzero(~oracle.queried_)" in str(err.value)
    assert "unlabelled[positions]" in str(err.value)
    with pytest.raises(ValueError, match="already labelled"):
        oracle.fill_budget([0, 2], budget=2)
    # Worded as every refusal of a parameter's repeated values: the
    # parameter, the values, and what to do.
    with pytest.raises(
        ValueError,
        match=r"^indices lists 0 more than once: list each index once \(an "
        r"example cannot be bought twice\)\.$",
    ):
        oracle.label([0, 0])
    with pytest.raises(ValueError, match=r"ranked_indices lists \[1, 4\] more"):
        oracle.fill_budget([1, 4, 1, 4], budget=2)
    assert oracle.spent_ == 2.0  # failed calls charge nothing
    assert oracle.queried_.sum() == 2


@pytest.mark.parametrize(
    "indices, match",
    [
        ([8], "outside the pool"),
        ([-1], "outside the pool"),
        ([0.0, 1.0], "integer pool indices"),
        ([[0, 1]], "1-D"),
        ([True, False], "integer pool indices"),
    ],
)
def test_bad_indices(indices, match):
    oracle = OpenSetOracle(Y)
    with pytest.raises(ValueError, match=match):
        oracle.label(indices)
    with pytest.raises(ValueError, match=match):
        oracle.fill_budget(indices, budget=1)


@pytest.mark.parametrize("name", ["cost_in", "cost_ood"])
@pytest.mark.parametrize("value", [0.0, -1.0, np.inf, np.nan])
def test_bad_costs(name, value):
    with pytest.raises(ValueError, match=name):
        OpenSetOracle(Y, **{name: value})


def test_a_cost_set_later_prices_only_the_labels_bought_from_then_on():
    # spent_ was recomputed from the counts at the current costs, so a new
    # price for OOD labels repriced the ones bought before it.
    oracle = OpenSetOracle([0, -1, 1, -1, 2, 0], cost_ood=1.0)
    oracle.label([0, 1])
    oracle.cost_ood = 3.0
    oracle.label([2])
    assert oracle.spent_ == 3.0
    kept, cost = oracle.fill_budget([3, 4], budget=3)
    assert kept.tolist() == [3] and cost == 3.0
    oracle.label(kept)
    assert oracle.spent_ == 6.0


@pytest.mark.parametrize(
    "name, value, match",
    [
        ("cost_in", -5.0, "cost_in == -5.0, must be > 0"),
        ("cost_ood", np.inf, "cost_ood must be a finite float"),
        ("ood_label", None, "ood_label must be a single label"),
        ("ood_label", -2, r"negative labels \[-1\] besides ood_label=-2"),
    ],
)
def test_a_setting_changed_later_is_checked_where_it_is_used(name, value, match):
    # They were checked in __init__ only: a negative cost set later was charged.
    oracle = OpenSetOracle(Y)
    setattr(oracle, name, value)
    with pytest.raises(ValueError, match=match):
        oracle.fill_budget([0, 1], budget=2)
    with pytest.raises(ValueError, match=match):
        oracle.label([0, 1])
    assert oracle.spent_ == 0.0 and not oracle.queried_.any()


def test_an_ood_label_set_later_marks_the_ood_examples():
    # Which examples were OOD was computed once, from the first ood_label.
    oracle = OpenSetOracle(["a", "x", "b", "b"], ood_label="x", cost_ood=2.0)
    oracle.ood_label = "b"
    kept, cost = oracle.fill_budget([2, 1], budget=2.5)
    assert kept.tolist() == [2] and cost == 2.0
    np.testing.assert_array_equal(oracle.label([2, 1]), ["b", "x"])
    assert (oracle.n_queried_in_, oracle.n_queried_ood_, oracle.spent_) == (1, 1, 3.0)


def test_an_ood_label_set_between_purchases_recounts_the_examples_bought():
    # The counts kept the earlier label's: under "y", "x" bought before was
    # still counted OOD, so the counts matched neither label.
    oracle = OpenSetOracle(["a", "x", "y", "b"], ood_label="x", cost_ood=5.0)
    oracle.label([0, 1])
    oracle.ood_label = "y"
    oracle.label([2])
    assert (oracle.n_queried_in_, oracle.n_queried_ood_) == (2, 1)
    assert oracle.spent_ == 11.0  # each label at its price when bought


def test_an_ood_label_set_again_is_checked_again_only_if_it_is_another(monkeypatch):
    # It was compared by identity: an equal string made elsewhere (read from a
    # config, joined) was checked again, repeating the look-alike warning.
    with pytest.warns(UserWarning, match=r"\['Unknown'\] that differ from ood_label"):
        oracle = OpenSetOracle(["a", "Unknown", "unknown", "b"], ood_label="unknown")
    oracle.ood_label = "".join(["unk", "nown"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        oracle.label([0])
    # Equal values of other types (-1, np.int64(-1), -1.0) are other labels.
    oracle = OpenSetOracle([0, 1, -1, 2, 0])
    checked = []
    monkeypatch.setattr(
        _oracle, "_check_labels", lambda y, label: checked.append(label)
    )
    for label in (-1, np.int64(-1), -1.0, float("-1")):
        oracle.ood_label = label
        oracle.fill_budget([0], budget=1)
    assert [type(label) for label in checked] == [np.int64, float]


@pytest.mark.parametrize("budget", [-1.0, np.inf, np.nan, 10**400])
def test_bad_budget(budget):
    # 10**400, beyond the floats' range, raised OverflowError in math.isfinite.
    with pytest.raises(ValueError, match="budget"):
        OpenSetOracle(Y).fill_budget([0], budget)


@pytest.mark.parametrize("name", ["cost_in", "cost_ood"])
def test_a_cost_beyond_the_floats_range_is_refused(name):
    with pytest.raises(ValueError, match=f"{name} must be a finite float"):
        OpenSetOracle(Y, **{name: 10**400})


def test_a_total_beyond_the_floats_range_is_refused_with_what_to_do():
    # Each cost is a finite float; their sum raised a bare OverflowError.
    oracle = OpenSetOracle(Y, cost_in=1e308)
    oracle.label([0])
    with pytest.raises(ValueError, match="in a larger unit"):
        oracle.label([2])
    assert oracle.spent_ == 1e308 and oracle.queried_.tolist() == [
        True, *[False] * 7
    ]  # fmt: skip


def test_a_cost_of_no_real_number_type_is_named_as_what_it_is():
    # Both were told to be "an instance of float", which an int also is not.
    with pytest.raises(TypeError, match=r"real number .*Decimal\('0\.1'\) of "
                       r"type Decimal: pass float\(value\)"):  # fmt: skip
        OpenSetOracle(Y, cost_in=Decimal("0.1"))
    # A NumPy bool is no Integral: it would not have meant 1.
    with pytest.raises(TypeError, match=r"budget must be a number, not np\.True_\.$"):
        OpenSetOracle(Y).fill_budget([0], budget=np.True_)


def test_bool_costs_and_budget_are_refused():
    # bool is an Integral: True was taken for a cost or budget of 1.
    for name in ("cost_in", "cost_ood"):
        with pytest.raises(TypeError, match=f"{name} must be a number, not True"):
            OpenSetOracle(Y, **{name: True})
    with pytest.raises(TypeError, match="budget must be a number, not True"):
        OpenSetOracle(Y).fill_budget([0], budget=True)


def test_bad_labels():
    with pytest.raises(ValueError, match="NaN"):
        OpenSetOracle([0.0, 1.0, np.nan])
    with pytest.raises(ValueError):
        OpenSetOracle([[0, 1], [1, 0]])


@pytest.mark.parametrize(
    "y_true",
    [
        np.array([0, 1, None, -1], dtype=object),
        np.array([0, 1, np.nan, -1], dtype=object),
        [0.0, 1.0, np.inf],
    ],
)
def test_a_missing_label_of_any_dtype_is_rejected(y_true):
    # None or NaN would be bought (and charged) as an IN example.
    with pytest.raises(ValueError, match="None, NaN or inf; every example needs"):
        OpenSetOracle(y_true)


@pytest.mark.parametrize("dtype", [object, "string"])
def test_a_pandas_na_label_is_rejected_as_missing(dtype):
    # It failed compared with ood_label: "boolean value of NA is ambiguous".
    pd = pytest.importorskip("pandas")
    y_true = pd.Series(["a", "b", pd.NA, "unknown"], dtype=dtype)
    with pytest.raises(ValueError, match="None, NaN or inf; every example needs"):
        OpenSetOracle(y_true, ood_label="unknown")


@pytest.mark.parametrize(
    "y_true",
    [[0, 1, -2, -1], [0.0, 1.0, -2.0, -1.0], np.array([0, 1, -2, -1], dtype=object)],
)
def test_a_mistyped_ood_label_is_rejected(y_true):
    # -2 marks OOD here; with ood_label=-1 those rows would be charged as IN.
    with pytest.raises(ValueError, match=r"negative labels \[-2(\.0)?\].*ood_label=-2"):
        OpenSetOracle(y_true)


@pytest.mark.parametrize(
    "y_true, ood_label, match",
    [
        (np.array([0, 1, 255], dtype=np.uint8), -1, "from 0 to 255, or labels"),
        (np.array([0, 1, 2], dtype=np.int8), 300, "from -128 to 127, or labels"),
        ([0, 1, 2], 1.5, "OOD examples, a whole number\\.$"),
        ([0, 1, 2], np.inf, "OOD examples, a whole number\\.$"),  # no int() of it
        (np.array([0, 1, 2, 7], dtype=object), 1.5, "OOD examples, a whole number"),
        # No NumPy integer holds it: no type to cast the labels to.
        (np.array([0, 1]), 10**30, "to 9223372036854775807\\.$"),
    ],
)
def test_an_ood_label_integer_labels_cannot_equal_is_rejected(y_true, ood_label, match):
    # Every example counted as IN: -1 in uint8 reads 255.
    with pytest.raises(ValueError, match="never equal ood_label=.*" + match):
        OpenSetOracle(y_true, ood_label=ood_label)


@pytest.mark.parametrize(
    "y_true, ood_label",
    [(np.array([0, 1], dtype=np.uint8), np.int64(3)), ([0, 1, 2], -1.0)],
)
def test_an_ood_label_integer_labels_can_equal_is_taken(y_true, ood_label):
    assert OpenSetOracle(y_true, ood_label=ood_label).label([0]).tolist() == [0]


def test_a_label_that_is_the_string_ood_label_but_for_case_is_warned_of():
    # "Unknown" beside ood_label="unknown" was charged and returned as IN
    # without a word, as the learner then trained on it as a class.
    with pytest.warns(UserWarning, match=r"\['Unknown'\] that differ from ood_label="):
        oracle = OpenSetOracle(["cat", "unknown", "Unknown"], ood_label="unknown")
    assert oracle.fill_budget([2], budget=1)[1] == 1.0


def test_look_alike_labels_are_named_as_users_write_them():
    # numpy 2 printed them as numpy scalars: "ood_label=np.str_('unknown')".
    with pytest.warns(UserWarning, match=r"\['Unknown'\] .* ood_label='unknown' "):
        labels = np.array(["cat", "unknown", "Unknown"])
        OpenSetOracle(labels, ood_label=np.str_("unknown"))
    labels = np.array([0, 1, -2], dtype=object)
    labels[2] = np.int64(-2)
    with pytest.raises(ValueError, match=r"labels \[-2\] besides ood_label=-1;"):
        OpenSetOracle(labels, ood_label=np.int64(-1))


def test_string_labels():
    oracle = OpenSetOracle(["cat", "unknown", "dog"], ood_label="unknown", cost_ood=2)
    kept, cost = oracle.fill_budget([1, 0, 2], budget=4)
    assert cost == 4.0 and oracle.label(kept).tolist() == ["unknown", "cat", "dog"]
    assert oracle.n_queried_ood_ == 1 and oracle.n_queried_in_ == 2


def test_the_oracle_takes_number_classes_with_a_string_ood_label():
    # An object array (a pandas column) of IN classes 0, 1 and OOD "unknown":
    # the OOD label is right there, yet was refused as one that never matches.
    y = np.array([0, 1, "unknown", 1], dtype=object)
    oracle = OpenSetOracle(y, ood_label="unknown", cost_ood=2.0)
    kept, cost = oracle.fill_budget([2, 0, 1], budget=3)
    assert kept.tolist() == [2, 0] and cost == 3.0
    assert oracle.label(kept).tolist() == ["unknown", 0]
    with pytest.raises(ValueError, match="None, NaN or inf"):
        OpenSetOracle(np.array(["a", "b", None], dtype=object), ood_label="b")


def test_y_true_numpy_integers_beyond_2_53_beside_a_float_stay_exact():
    # numpy compares np.int64(2**53 + 1) with the float 2.0**53 it rounds to
    # as equal: read as floats beside 0.5, the two classes would be one.
    oracle = OpenSetOracle([np.int64(2**53 + 1), 2.0**53, 0.5], ood_label=0.5)
    assert oracle.y_true.tolist() == [2**53 + 1, 2**53, 0.5]


@pytest.mark.parametrize(
    ("y_true", "refused"),
    [
        ([0, (1, 2), 1], r"^y_true holds \(1, 2\) at row 1, a tuple"),
        ([0, {1}, 1], r"^y_true holds \{1\} at row 1, of type set"),
        ([[0], [1], [0, 1]], r"^y_true gives its labels in lists of one"),
    ],
    ids=["tuple", "set", "column"],
)
def test_a_row_that_is_no_label_is_refused_naming_y_true(y_true, refused):
    # The refusals named y, which the oracle does not take: a tuple or set
    # in y_true failed with numpy's "setting an array element with a sequence"
    # or a bare "unhashable type" before they were checked.
    with pytest.raises(ValueError, match=refused):
        OpenSetOracle(y_true)
