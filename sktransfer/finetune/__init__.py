"""Fine-tuning pretrained backbones as sklearn estimators, on skorch."""

from ._classifier import FineTunedImageClassifier

__all__ = ["FineTunedImageClassifier"]
