"""The open-set teach step for modAL learners."""

import contextlib
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike

from ._atomic import (
    draws_globally,
    global_random_states_kept,
    interrupts_escape_training,
    restored_on_error,
)
from ._frames import check_columns
from ._labels import (
    check_booleans_alike,
    check_one_ood_label,
    check_ood_look_alikes,
    label_array,
    label_kind,
    labels_as_given,
    value_kind,
)
from ._learner import ActiveLearner, _check_discrete
from ._model_scores import (
    check_every_row_labelled,
    check_fitted_rows,
    check_label_kind,
    check_no_ood_in_training,
    check_rows,
    framed,
    kept_ood_rows,
)
from ._strategies._base import called_strategy
from ._validation import check_one_label_per_row, shown_names


def teach_open_set(
    learner: Any,
    X: ArrayLike,
    y: ArrayLike,
    *,
    ood_label: Any = None,
    **teach_kwargs: Any,
) -> Any:
    """Teach labelled query rows to a modAL learner the open-set way.

    modAL's ``teach`` neither lets the strategy learn from the query nor
    keeps OOD rows out of training. This does, in the order MQ-Net needs:

    1. ``learner.query_strategy.update(learner, X, y)`` while the learner
       still holds the classifier that chose the query (strategies without
       ``update`` skip this; a ``functools.partial`` of a strategy, as modAL
       presets ``n_instances``, updates the strategy it wraps);
    2. the OOD rows are kept in ``learner.X_ood_`` (purity scores such as
       ``knn_contrast`` read them; modAL's ``X_training`` never holds OOD);
    3. ``learner.teach`` with the in-distribution rows only, skipped when
       there are none (modAL cannot teach an empty set). They are given to
       modAL as `X` was given (array, DataFrame or torch tensor), so that
       modAL can stack them onto its ``X_training`` (modAL 0.4.2.1 stacks
       DataFrames with ``DataFrame.append``, which pandas 2 removed: give it
       arrays there), and their labels in the form of ``y_training`` (a
       torch tensor of its dtype where it is one).

    The learner's classifier stays the object it holds (``learner.estimator``,
    which modAL trains in place). If any step fails (an interrupt included),
    the learner's attributes, that classifier's attributes and the strategy's
    state are put back as they were, so the call can be retried; the
    classifier's attributes are deep-copied while it trains, so objects
    inside it (a pipeline's steps, a net's module instance) come back as
    those copies, not as the objects you may hold. Our
    :class:`ActiveLearner` does all this in its own ``teach``; it is called
    as is.

    Parameters
    ----------
    learner : modAL ActiveLearner or ActiveLearner
        One learner; modAL's ``Committee`` is not supported (a TypeError),
        nor a modAL learner whose ``y_training`` holds `ood_label` (a
        ValueError: the OOD rows go in ``learner.X_ood_``).
    X : array-like of shape (n_samples, ...)
        The labelled query rows, of the shape of those in
        ``learner.X_training``; a DataFrame's columns must be those the
        classifier was fitted on, in the same order (a ValueError).
    y : array-like of shape (n_samples,)
        Their labels: known classes, or `ood_label`; a list keeps each
        label's kind (``[2, 'unknown']``; NumPy would read both as strings).
        Labels of another kind than the classes modAL has trained on, but
        `ood_label`, are refused (a ValueError). A label modAL's
        classifier has not trained on becomes a class: a negative one other
        than `ood_label` is refused as a mistyped OOD label, and a string
        equal to it but for case or surrounding spaces is warned of, as our
        :class:`ActiveLearner` does when it infers its classes; where no
        label of `y` spells `ood_label` exactly, such a string is refused (a
        ValueError).
    ood_label : int or str, default=None
        The OOD label, one label (a list or array is refused, a
        ValueError); None takes ``learner.ood_label`` if set, else -1. It is
        stored as ``learner.ood_label`` so the strategies read the same one.
        Our :class:`ActiveLearner` has its own, which another value here
        must not contradict (a ValueError).
    **teach_kwargs
        Passed on to modAL's ``teach`` (e.g. ``bootstrap=True``), but for
        ``only_new=True`` (a ValueError): modAL then leaves the rows out of
        ``X_training``, which the strategies read as the labelled set. Our
        :class:`ActiveLearner`'s ``teach`` takes none: any raises a TypeError.

    Returns
    -------
    learner : the same learner
    """
    if ood_label is not None:
        check_one_ood_label(ood_label)
    if isinstance(learner, ActiveLearner):
        # The one it was fitted with, if it was.
        own = getattr(learner, "ood_label_", learner.ood_label)
        if ood_label is not None and ood_label != own:
            raise ValueError(
                f"ood_label={ood_label!r} differs from the learner's "
                f"{own!r}, which our ActiveLearner uses; set it there "
                "(learner.set_params(ood_label=...), then fit)."
            )
        if teach_kwargs:
            raise TypeError(
                f"teach_open_set got the keyword argument(s) "
                f"{', '.join(sorted(teach_kwargs))}, which are for modAL's "
                "teach; our ActiveLearner's teach takes X and y only (and "
                "trains on every labelled row): leave them out."
            )
        return learner.teach(X, y)
    if getattr(learner, "estimator", None) is None:
        raise TypeError(
            f"{type(learner).__name__} holds no single classifier (estimator); "
            "teach_open_set needs one learner, not a committee: use "
            "skal_openset.ActiveLearner or modAL's ActiveLearner."
        )
    if teach_kwargs.get("only_new"):
        raise ValueError(
            "only_new=True: modAL would leave these rows out of "
            "learner.X_training, from which the strategies read the labelled "
            "set (the IN rows purity compares the pool with), while their OOD "
            "rows went into learner.X_ood_. Teach without it: modAL then "
            "retrains on X_training, these rows included."
        )
    # One set on purpose may be of another kind than the classes, as the
    # strategies take it (_check_modal_training): then modAL takes every
    # label of the classes' kind for a class, so a query of IN rows alone is
    # no mistake. Not every label: learner.ood_label is stored below even
    # where it was left at -1, and labels of neither kind (strings read back
    # from a CSV beside integer classes) would be a class of their own.
    chosen = ood_label is not None or hasattr(learner, "ood_label")
    if ood_label is None:
        ood_label = getattr(learner, "ood_label", -1)
    check_no_ood_in_training(learner, ood_label)
    # Before the rows become an array: its columns would be stored as given.
    check_columns(X, learner, "X")
    given, view = X, framed(learner, X)
    X = check_rows(X, learner.estimator, "X")
    # Before anything is stored: rows of another width would go into
    # X_ood_, or fail in the strategy's update for another cause.
    check_fitted_rows(given, X, "X", learner)
    kept = kept_ood_rows(learner, X)
    y = label_array(y)
    check_every_row_labelled(y)
    trained = getattr(learner, "y_training", None)
    check_label_kind(y, ood_label, _in_labels(y, trained) if chosen else None)
    _check_class_kind(y[y != ood_label], trained, ood_label)
    if trained is not None and len(trained):
        check_booleans_alike(
            y[y != ood_label],
            np.unique(np.asarray(trained)),
            classes_name="classes the learner has trained on",
        )
    check_one_label_per_row(len(X), y)
    # modAL's classifier takes a label it has not trained on for a new class,
    # as our ActiveLearner's fit infers classes: the same rule for both.
    known = set() if trained is None else set(np.asarray(trained).tolist())
    check_ood_look_alikes(
        y[np.array([v not in known for v in y.tolist()], dtype=bool)],
        ood_label,
        "y",
        advice=" (if they are classes, start the learner with a row of each)",
    )
    # A partial presets n_instances (as modAL's docs do): its strategy learns.
    strategy = called_strategy(learner.query_strategy)
    update = getattr(strategy, "update", None)
    with contextlib.ExitStack() as rollback:
        # A retry then draws as this call did, as with our ActiveLearner.
        rollback.enter_context(
            global_random_states_kept(
                # modAL draws its bootstrap sample from NumPy's global state.
                draws_globally(strategy) or bool(teach_kwargs.get("bootstrap")),
                [learner.estimator],
            )
        )
        rollback.enter_context(restored_on_error(learner))
        if update is not None:  # it changes the strategy's state in place
            rollback.enter_context(restored_on_error(strategy, deep=True))
        learner.ood_label = ood_label
        if update is not None:
            update(view, X, y)
        is_ood = y == ood_label
        if not is_ood.all():
            # modAL trains the user's classifier object in place: keep that
            # object (the user may hold it), and its state to put back.
            rollback.enter_context(restored_on_error(learner.estimator, deep=True))
            X_in = _rows_as_given(given, X, np.flatnonzero(~is_ood))
            y_in = _labels_as_trained(y[~is_ood], trained)
            with interrupts_escape_training():
                learner.teach(X_in, y_in, **teach_kwargs)
        if is_ood.any():
            learner.X_ood_ = (
                X[is_ood] if kept is None else np.concatenate([kept, X[is_ood]])
            )
    return learner


def _in_labels(y, trained):
    """The labels of `y` of the kind of the classes in `trained` (all of `y`
    where the learner has trained on none): those modAL takes for classes."""
    if trained is None or not len(trained):
        return y
    kind = label_kind(np.asarray(trained))
    return [v for v in y.tolist() if value_kind(v) == kind]


def _check_class_kind(labels, trained, ood_label):
    """Refuse IN labels of another kind than those modAL trained on: it would
    stack them onto ``y_training`` (strings beside numbers make every class a
    string, objects fail in scikit-learn), or take a misspelt OOD label for a
    class; and numbers that are no classes (1.5, as our learner refuses)."""
    _check_discrete(labels)
    if trained is None or not len(trained) or not len(labels):
        return
    classes = np.asarray(trained)
    kind = label_kind(classes)
    others = [v for v in dict.fromkeys(labels.tolist()) if value_kind(v) != kind]
    if others:
        raise ValueError(
            f"Labels {shown_names(others, 'labels')} are not {kind}, as the "
            "classes the learner has trained on "
            f"({shown_names(np.unique(classes).tolist(), 'classes')}) are, nor "
            f"ood_label={ood_label!r}; modAL would train on them as classes "
            f"of their own: give the classes as {kind}, and label OOD rows "
            f"{ood_label!r}."
        )


def _labels_as_trained(labels, trained):
    """IN labels in the form of ``y_training``, which modAL stacks them onto:
    an object array (from a list that mixed in the OOD label) as the array of
    its values (objects where a string array would change one), and a torch
    tensor as a tensor of its dtype."""
    if labels.dtype == object:
        labels = labels_as_given(labels.tolist())
    if isinstance(trained, torch.Tensor):
        return torch.as_tensor(labels, dtype=trained.dtype)
    return labels


def _rows_as_given(given, checked, rows):
    """Rows `rows` of X as the user gave it, for modAL to stack onto X_training.

    modAL stacks DataFrames onto DataFrames and tensors onto tensors only;
    anything else (a list of rows) goes as the checked array, which modAL
    stacks onto arrays and lists alike.
    """
    if hasattr(given, "iloc"):
        return given.iloc[rows]
    if hasattr(given, "shape") and hasattr(given, "__getitem__"):
        return given[rows]  # an array or a torch tensor
    return checked[rows]
