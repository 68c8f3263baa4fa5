"""Open-set active learning with Meta-Query-Net."""

from ._meta_input import MetaInputTransformer
from ._selector import MetaQueryNetSelector, MonotoneMLP, pairwise_ranking_accuracy

__version__ = "0.1.0.dev0"

__all__ = [
    "MetaInputTransformer",
    "MetaQueryNetSelector",
    "MonotoneMLP",
    "pairwise_ranking_accuracy",
]
