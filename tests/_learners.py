"""The learners the strategy tests share: a small skorch MLP and every
classifier kind a user may bring, fitted on the initial set of ``split``."""

from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skal_openset import ActiveLearner, make_mlp_classifier

K = 4  # the IN classes of the `split` fixture
N_POOL = 150


def _net(learning_loss=False):
    return make_mlp_classifier(
        64,
        K,
        learning_loss=learning_loss,
        hidden_sizes=(32, 16),
        max_epochs=15,
        lr=1e-2,
        batch_size=16,
        iterator_valid__batch_size=1024,
        random_state=0,
    )


# Every classifier kind a user may bring; the strategy template runs on each.
ESTIMATORS = {
    "mlp": _net,
    "mlp_pipeline": lambda: make_pipeline(StandardScaler(), _net()),
    "random_forest": lambda: RandomForestClassifier(n_estimators=20, random_state=0),
    "logreg_pipeline": lambda: make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=500)
    ),
    # Leaves of 5 rows: at the default 20 no tree of the 24 IN rows split,
    # every row got the class priors and the msp purity warned it was constant.
    "hist_gradient_boosting": lambda: HistGradientBoostingClassifier(
        max_iter=20, min_samples_leaf=5, random_state=0
    ),
}


def _fitted_learner(split, strategy=None, learning_loss=False, kind="mlp"):
    X0, y0 = split.X_pool[split.initial_idx], split.y_pool[split.initial_idx]
    estimator = _net(learning_loss) if learning_loss else ESTIMATORS[kind]()
    return ActiveLearner(estimator, strategy).fit(X0, y0)
