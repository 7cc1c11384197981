"""Fine-tuning pretrained backbones as sklearn estimators, on skorch."""

from ._base import FineTunedImageEstimator, default_augmentation
from ._classifier import FineTunedImageClassifier
from ._regressor import FineTunedImageRegressor

__all__ = [
    "FineTunedImageClassifier",
    "FineTunedImageEstimator",
    "FineTunedImageRegressor",
    "default_augmentation",
]
