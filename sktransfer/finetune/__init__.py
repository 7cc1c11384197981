"""Fine-tuning pretrained backbones as sklearn estimators, on skorch."""

from ._base import FineTunedImageEstimator, default_augmentation
from ._classifier import FineTunedImageClassifier
from ._domain import DomainAdversarialClassifier
from ._lr_find import LRFinderResult, lr_find
from ._regressor import FineTunedImageRegressor
from ._text import FineTunedTextClassifier
from ._transformer import FineTunedTransformerEstimator
from ._transformer_classifier import FineTunedTransformerClassifier
from ._transformer_regressor import FineTunedTransformerRegressor

__all__ = [
    "DomainAdversarialClassifier",
    "FineTunedImageClassifier",
    "FineTunedImageEstimator",
    "FineTunedImageRegressor",
    "FineTunedTextClassifier",
    "FineTunedTransformerClassifier",
    "FineTunedTransformerEstimator",
    "FineTunedTransformerRegressor",
    "LRFinderResult",
    "default_augmentation",
    "lr_find",
]
