"""Names of skal_openset: the package loads each on first use (see __init__.py)."""

from ._augment import random_crop_flip
from ._cifar import (
    CIFAR10_SPLITS,
    CIFAR100_SPLITS,
    CIFAR_BUDGET,
    CIFAR_ROUNDS,
    make_cifar_split,
)
from ._contrastive import ContrastiveEncoder, ContrastivePurity
from ._datasets import (
    CIFAR10_CLASSES,
    OpenSetSplit,
    load_cifar_batches,
    load_csv_table,
    load_digits_dataset,
    load_fashion_mnist,
    load_idx,
    load_image_folder_zip,
    make_open_set_split,
)
from ._experiment import run_active_learning, summarize_final_round, write_records_csv
from ._fast_resnet import (
    AugmentedLearningLossNet,
    AugmentedNet,
    BatchIterator,
    make_fast_resnet_classifier,
)
from ._inference import embed, per_sample_loss, predict_logits, predicted_loss
from ._informativeness import (
    entropy_informativeness,
    gradient_embedding,
    least_confidence,
    margin_informativeness,
)
from ._learner import ActiveLearner
from ._meta_input import MetaInputTransformer
from ._modal import teach_open_set
from ._models import (
    BackboneModule,
    LearningLossModule,
    LearningLossNet,
    LossPredictionModule,
    MLPModule,
    ResNet18Module,
    SmallCNNModule,
    TargetNet,
    make_cnn_classifier,
    make_mlp_classifier,
    make_resnet18_classifier,
)
from ._oracle import OpenSetOracle
from ._persistence import load_object, save_object
from ._plots import plot_learning_curves
from ._purity import (
    cosine_purity,
    energy_purity,
    knn_contrast_purity,
    knn_purity,
    mahalanobis_purity,
    msp_purity,
)
from ._purity_auroc import PurityAUROC
from ._selector import MetaQueryNetSelector, MonotoneMLP, pairwise_ranking_accuracy
from ._skactiveml import SkactivemlQuery
from ._strategies._badge import BadgeQuery
from ._strategies._base import QueryStrategy
from ._strategies._ccal import CCALQuery
from ._strategies._coreset import CoreSetQuery
from ._strategies._eoal import EOALQuery
from ._strategies._learning_loss import LearningLossQuery
from ._strategies._lfosa import LfOSAQuery
from ._strategies._meta_query import (
    MQNetQuery,
    PurityInformativenessQuery,
    learning_loss_or_confidence,
)
from ._strategies._random import RandomQuery
from ._strategies._similar import SimilarQuery
from ._strategies._uncertainty import UncertaintyQuery

__version__: str

__all__ = [
    "ActiveLearner",
    "BackboneModule",
    "BadgeQuery",
    "CCALQuery",
    "CIFAR10_CLASSES",
    "CoreSetQuery",
    "EOALQuery",
    "LearningLossModule",
    "LearningLossNet",
    "LearningLossQuery",
    "LfOSAQuery",
    "LossPredictionModule",
    "MLPModule",
    "MQNetQuery",
    "MetaInputTransformer",
    "MetaQueryNetSelector",
    "MonotoneMLP",
    "OpenSetOracle",
    "OpenSetSplit",
    "PurityInformativenessQuery",
    "QueryStrategy",
    "RandomQuery",
    "ResNet18Module",
    "SimilarQuery",
    "SkactivemlQuery",
    "SmallCNNModule",
    "TargetNet",
    "UncertaintyQuery",
    "cosine_purity",
    "embed",
    "energy_purity",
    "entropy_informativeness",
    "gradient_embedding",
    "knn_contrast_purity",
    "knn_purity",
    "learning_loss_or_confidence",
    "least_confidence",
    "load_cifar_batches",
    "load_csv_table",
    "load_digits_dataset",
    "load_fashion_mnist",
    "load_idx",
    "load_image_folder_zip",
    "load_object",
    "mahalanobis_purity",
    "make_cnn_classifier",
    "make_mlp_classifier",
    "make_open_set_split",
    "make_resnet18_classifier",
    "margin_informativeness",
    "msp_purity",
    "pairwise_ranking_accuracy",
    "plot_learning_curves",
    "per_sample_loss",
    "predict_logits",
    "predicted_loss",
    "run_active_learning",
    "save_object",
    "summarize_final_round",
    "teach_open_set",
    "write_records_csv",
    # issue 11
    "AugmentedLearningLossNet",
    "AugmentedNet",
    "BatchIterator",
    "CIFAR100_SPLITS",
    "CIFAR10_SPLITS",
    "CIFAR_BUDGET",
    "CIFAR_ROUNDS",
    "ContrastiveEncoder",
    "ContrastivePurity",
    "PurityAUROC",
    "make_cifar_split",
    "make_fast_resnet_classifier",
    "random_crop_flip",
]
