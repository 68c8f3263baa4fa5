"""MQ-Net inside modAL's own ActiveLearner.

modAL's ``teach`` does not let the strategy learn from the query, and would
train the classifier on OOD rows. ``teach_open_set`` does it the open-set way:
MQ-Net's update (with the classifier that chose the query), the OOD rows kept
for the purity score, the in-distribution rows taught.

modAL 0.4.2.1 needs scikit-learn < 1.8:
    pip install "scikit-learn>=1.7,<1.8" && pip install --no-deps modAL-python

Run: python examples/modal_loop.py   (SKAL_EXAMPLE_QUICK=1: seconds)
"""

import os
import sys
import warnings

import numpy as np
import sklearn
from sklearn.ensemble import RandomForestClassifier

from skal_openset import (
    MQNetQuery,
    OpenSetOracle,
    load_digits_dataset,
    make_open_set_split,
    teach_open_set,
)

INSTALL = 'pip install "scikit-learn>=1.7,<1.8" && pip install --no-deps modAL-python'
# Said first: modAL missing, or with scikit-learn 1.8 a TypeError from inside
# its teach ('force_all_finite').
try:
    from modAL.models import ActiveLearner
except ImportError:
    sys.exit(f"This example needs modAL: {INSTALL}")
if tuple(map(int, sklearn.__version__.split(".")[:2])) >= (1, 8):
    sys.exit(
        f"modAL 0.4.2.1 fails with scikit-learn {sklearn.__version__} (it passes "
        f"check_X_y an argument 1.8 removed); use scikit-learn 1.7: {INSTALL}"
    )


QUICK = os.environ.get("SKAL_EXAMPLE_QUICK") == "1"
# modAL 0.4.2.1 still passes scikit-learn 1.7 a renamed argument at every teach.
warnings.filterwarnings("ignore", "'force_all_finite' was renamed", FutureWarning)

X, y = load_digits_dataset()
split = make_open_set_split(
    X, y, n_in_classes=4, noise_ratio=0.4, initial_size=30, random_state=0
)
oracle = OpenSetOracle(split.y_pool)
initial = oracle.label(split.initial_idx)
is_in = initial != split.ood_label
learner = ActiveLearner(  # modAL's: it only ever sees in-distribution rows
    estimator=RandomForestClassifier(random_state=0),
    query_strategy=MQNetQuery(random_state=0),
    X_training=split.X_pool[split.initial_idx][is_in],
    y_training=initial[is_in],
)
# The labelled OOD rows, which modAL's X_training never holds: the default
# kNN-contrast purity scores the pool against them (teach_open_set adds more).
learner.X_ood_ = split.X_pool[split.initial_idx][~is_in]


def report(round_):
    print(
        f"round {round_}: accuracy {learner.score(split.X_test, split.y_test):.3f}, "
        f"{len(learner.X_training)} IN rows taught, {len(learner.X_ood_)} OOD kept"
    )


# Rounds numbered as run_active_learning's records: round 1 fits the initial set.
report(1)
for round_ in range(2, (3 if QUICK else 6) + 1):
    unlabelled = np.flatnonzero(~oracle.queried_)
    ranked, _ = learner.query(split.X_pool[unlabelled], n_instances=20)
    bought, _ = oracle.fill_budget(unlabelled[ranked], budget=20)
    teach_open_set(learner, split.X_pool[bought], oracle.label(bought))
    report(round_)
