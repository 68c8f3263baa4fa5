"""The CIFAR protocol of MQ-Net's Table 1: class splits, budget and rounds.

CIFAR-10 uses 4 IN classes of 10 in the paper's five class splits, CIFAR-100
40 IN classes of 100. The pool holds every IN training image plus random OOD
training images up to the noise ratio, the initial labelled set is
``int(b(1 - t))`` IN plus ``int(bt)`` OOD pool images, the test set holds the
IN test images only, and ``b = 500`` images are bought in each of 10 rounds.
Load the images with :func:`load_cifar_batches`, or with
:func:`load_image_folder_zip` and ``class_names=CIFAR10_CLASSES``: labels are
read as the standard class indices, and without ``class_names`` the folders
are numbered alphabetically, which is CIFAR-10's order only for folders named
exactly as :data:`CIFAR10_CLASSES` (those of PyTorch's tutorial, ``plane``,
``car``, ..., would silently be other classes); with it, other folder names
are refused.
"""

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from ._datasets import (
    CIFAR10_CLASSES,
    OpenSetSplit,
    _InitialSizeError,
    make_open_set_split,
)
from ._label_text import as_label
from ._typing import IntLike, RandomStateLike, RealLike
from ._validation import is_int, is_one_of

# The splits are those of the authors' code (kaist-dmlab/MQNet,
# load_split_data.py), in its order; the paper's text lists none.

#: The paper's five CIFAR-10 IN class splits (CIFAR-10 label indices), one per trial.
CIFAR10_SPLITS = ((4, 2, 5, 7), (7, 1, 2, 5), (6, 4, 3, 2), (8, 9, 1, 3), (2, 9, 5, 3))

#: The paper's five CIFAR-100 splits of 40 IN classes (fine labels), one per trial.
CIFAR100_SPLITS = (
    (33, 10, 74, 72, 88, 47, 27, 68, 60, 75, 45, 79, 92, 35, 86, 50, 18, 61, 49, 29,
     23, 30, 67, 73, 82, 94, 13, 37, 39, 26, 62, 22, 90, 53, 89, 11, 3, 20, 70, 96),
    (69, 8, 86, 18, 68, 30, 75, 3, 63, 76, 72, 7, 50, 81, 46, 89, 22, 93, 62, 21,
     33, 98, 82, 20, 60, 5, 77, 1, 74, 88, 57, 34, 43, 27, 66, 83, 25, 48, 4, 55),
    (70, 28, 60, 22, 39, 35, 73, 13, 74, 10, 2, 16, 80, 53, 67, 66, 78, 46, 26, 71,
     43, 38, 42, 14, 50, 77, 20, 48, 52, 8, 54, 58, 91, 5, 25, 90, 61, 11, 59, 55),
    (7, 93, 37, 84, 57, 99, 10, 75, 54, 42, 26, 27, 47, 52, 61, 86, 60, 90, 1, 0,
     98, 87, 94, 74, 56, 91, 23, 97, 30, 17, 53, 12, 76, 11, 25, 65, 96, 3, 45, 8),
    (0, 1, 4, 5, 7, 9, 12, 19, 21, 22, 23, 24, 38, 41, 42, 43, 46, 47, 48, 51,
     55, 59, 60, 62, 68, 73, 75, 78, 79, 80, 81, 85, 86, 90, 91, 94, 95, 96, 97, 98),
)  # fmt: skip

#: Labelling budget per round (also the size of the initial set) and rounds.
CIFAR_BUDGET = 500
CIFAR_ROUNDS = 10

_SPLITS = {"cifar10": CIFAR10_SPLITS, "cifar100": CIFAR100_SPLITS}
_N_CLASSES = {"cifar10": 10, "cifar100": 100}


def make_cifar_split(
    X: ArrayLike,
    y: ArrayLike,
    X_test: ArrayLike,
    y_test: ArrayLike,
    *,
    dataset: str = "cifar10",
    split: IntLike = 0,
    noise_ratio: RealLike = 0.4,
    budget: IntLike = CIFAR_BUDGET,
    random_state: RandomStateLike = None,
    class_names: Sequence[str] | None = None,
) -> OpenSetSplit:
    """One trial of the paper's CIFAR protocol.

    Parameters
    ----------
    X, y : array-like
        Training images ``(n, 3, 32, 32)`` and their labels: the standard
        class indices (CIFAR-10 labels 0-9 or CIFAR-100 fine labels 0-99),
        as :func:`load_cifar_batches` gives them, or
        :func:`load_image_folder_zip` with ``class_names=CIFAR10_CLASSES``
        (without it, folders are numbered alphabetically: CIFAR-10's order
        only for folders named exactly so). A subsample is fine as long as it
        holds enough OOD images for the noise ratio.
    X_test, y_test : array-like
        Test images and labels; only the IN ones are kept.
    dataset : {"cifar10", "cifar100"}, default="cifar10"
        Which split table to use.
    split : int, default=0
        Index into :data:`CIFAR10_SPLITS` or :data:`CIFAR100_SPLITS` (0-4);
        the paper runs one trial per split.
    noise_ratio : float, default=0.4
        Share of OOD images in the pool (paper: 0.1, 0.2, 0.4, 0.6).
    budget : int, default=500
        Size of the initial labelled set, as in the paper equal to the
        budget of each round.
    random_state : int, RandomState instance or None, default=None
        Controls the OOD images, the pool order and the initial set.
    class_names : sequence of str, default=None
        The class names of the labels, in label order, e.g. those
        :func:`load_image_folder_zip` returns, checked to be the dataset's:
        :data:`CIFAR10_CLASSES` for CIFAR-10; for CIFAR-100, 100 names in
        alphabetical order (its fine labels' order; the names themselves are
        not checked). ``None`` checks nothing.

    Returns
    -------
    OpenSetSplit

    Raises
    ------
    ValueError
        For an unknown ``dataset`` or ``split``, text labels, labels outside
        the dataset's classes (below 0, or 10 and above for CIFAR-10), ``y``
        with 10 distinct labels or fewer for CIFAR-100, ``class_names``
        that are not the dataset's, a
        ``budget`` that is None or larger than the pool, or data that cannot
        fill the split (see :func:`make_open_set_split`).
    """
    if not is_one_of(dataset, *_SPLITS):
        raise ValueError(f"dataset must be one of {sorted(_SPLITS)}; got {dataset!r}.")
    splits = _SPLITS[dataset]
    if not is_int(split, min_val=0, max_val=len(splits) - 1):
        raise ValueError(
            f"split must be an integer in 0..{len(splits) - 1}; got {split!r}."
        )
    if class_names is not None:
        _check_class_names(dataset, class_names)
    _check_label_range(dataset, y, "y")
    _check_label_range(dataset, y_test, "y_test")
    if dataset == "cifar100":
        _check_cifar100_classes(y)
    if budget is None:
        # make_open_set_split's initial_size=None is a tenth of the pool (at
        # most 500), not the paper's budget
        raise ValueError(
            "budget must be an integer, the size of the initial labelled set "
            f"(the paper's: {CIFAR_BUDGET}); got None."
        )
    try:
        return make_open_set_split(
            X,
            y,
            in_classes=splits[split],
            noise_ratio=noise_ratio,
            initial_size=budget,
            X_test=X_test,
            y_test=y_test,
            random_state=random_state,
        )
    except _InitialSizeError as exc:
        # the caller passed budget, not make_open_set_split's initial_size
        raise ValueError(
            f"budget must be an integer in [1, {exc.n_pool}] (the pool size: "
            "every IN training image plus the OOD images of noise_ratio), got "
            f"{budget!r}. Lower budget or pass more training images."
        ) from None


def _check_class_names(dataset, class_names):
    """Refuse class names other than `dataset`'s, in its label order: an
    image-folder zip numbered alphabetically (folders ``plane``, ``car``,
    ...) gave labels of other classes, and the split's IN classes were not
    the paper's."""
    if isinstance(class_names, str):
        raise ValueError(
            "class_names must be a sequence of class names; got the string "
            f"{class_names!r}."
        )
    names = [as_label(name) for name in class_names]
    if dataset == "cifar100":
        if len(names) != 100 or names != sorted(names):
            raise ValueError(
                "class_names must be CIFAR-100's 100 fine class names in its "
                f"label order, which is alphabetical; got {len(names)} names"
                f"{'' if names == sorted(names) else ', not in that order'}, so "
                "y would name other classes. Pass each image's standard fine "
                "label."
            )
        return
    expected = list(CIFAR10_CLASSES)
    if names != expected:
        wrong = next(
            (j for j, (got, want) in enumerate(zip(names, expected)) if got != want),
            None,
        )
        found = (
            f"{len(names)} names, not 10"
            if wrong is None
            else f"label {wrong} named {names[wrong]!r}, not {expected[wrong]!r}"
        )
        raise ValueError(
            "class_names are not CIFAR-10's classes in its label order "
            f"(CIFAR10_CLASSES): {found}, so y would name other classes. Load "
            "an image-folder zip with class_names=CIFAR10_CLASSES, its folders "
            "named so."
        )


def _label_numbers(dataset, labels, name):
    """`labels` as an array, those of an object array (a pandas object
    column) as the numbers they are, which the checks read: otherwise
    CIFAR-100 labels passed as CIFAR-10's went unchecked. Text labels are
    refused: the split's IN classes are class indices, which they never
    are (a message naming those, not the classes of y, says so)."""
    given = labels = np.asarray(labels)
    if labels.dtype == object and labels.size:
        labels = np.asarray(labels.tolist())
    if labels.dtype.kind in "SU" and labels.size:
        # the first text as given: numbers mixed in are made text above
        text = next(v for v in given.flat if isinstance(v, (str, bytes)))
        text = text.item() if isinstance(text, np.generic) else text
        names = (
            "CIFAR10_CLASSES.index(name)"
            if dataset == "cifar10"
            else "the name's place in alphabetical order"
        )
        raise ValueError(
            f"{name} holds text labels (e.g. {text!r}), but a "
            f"{dataset} split names its IN classes by class index (0.."
            f"{_N_CLASSES[dataset] - 1}): pass each image's class index, as "
            "load_cifar_batches and load_image_folder_zip give them (for "
            f"digits as text, {name}.astype(int); for a class name, {names})."
        )
    return labels


def _check_label_range(dataset, labels, name):
    """Refuse labels outside `dataset`'s classes: CIFAR-100 fine labels passed
    as CIFAR-10's took four of them as the IN classes and 96 as OOD, and
    negative labels (labels from 1, shifted by -1) became OOD classes."""
    labels = _label_numbers(dataset, labels, name)
    n_classes = _N_CLASSES[dataset]
    if not labels.size or labels.dtype.kind not in "iuf":
        return
    lowest, highest = labels.min().item(), labels.max().item()
    # labels counted from 1, e.g. CIFAR-10's 1..10: no CIFAR-100 fine labels,
    # and dataset='cifar100' would refuse them too
    from_one = lowest == 1 and highest == n_classes
    if lowest < 0 or highest >= n_classes:
        outside = lowest if lowest < 0 else highest
        if from_one:
            hint = f": labels counted from 1? Subtract 1 ({name} - 1)"
        elif (
            dataset == "cifar10"
            and 0 <= lowest
            and highest < 100
            and len(np.unique(labels)) > 10
        ):
            hint = ": CIFAR-100 fine labels? Pass dataset='cifar100'"
        else:
            hint = (
                "; pass each image's class index, as load_cifar_batches and "
                "load_image_folder_zip give them"
            )
        raise ValueError(
            f"{name} holds the label {outside!r}, but {dataset} has the classes "
            f"0..{n_classes - 1}{hint}."
        )


def _check_cifar100_classes(y):
    """Refuse CIFAR-10 labels passed as CIFAR-100's: in range, they failed
    later with the 40 IN classes the split lacks. Only the training labels
    must hold them; a test set may be small."""
    y = _label_numbers("cifar100", y, "y")
    if not y.size or y.dtype.kind not in "iuf":
        return
    distinct = np.unique(y)
    if len(distinct) <= 10:
        shift = (
            " and subtract 1 (labels counted from 1)"
            if distinct.min() == 1 and distinct.max() == 10
            else ""
        )
        raise ValueError(
            f"y holds {len(distinct)} distinct labels ({distinct.tolist()}), but "
            "a cifar100 split needs its 40 IN classes of 100: CIFAR-10 labels? "
            f"Pass dataset='cifar10'{shift}."
        )
