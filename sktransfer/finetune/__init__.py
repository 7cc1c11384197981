"""Fine-tuning pretrained backbones as sklearn estimators, on skorch."""

from ._base import FineTunedImageEstimator, default_augmentation
from ._classifier import FineTunedImageClassifier
from ._regressor import FineTunedImageRegressor
from ._text import FineTunedTextClassifier

__all__ = [
    "FineTunedImageClassifier",
    "FineTunedImageEstimator",
    "FineTunedImageRegressor",
    "FineTunedTextClassifier",
    "default_augmentation",
]
