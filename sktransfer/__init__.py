"""sktransfer: transfer learning as a first-class citizen of scikit-learn."""

from .backbones import list_backbones, load_backbone
from .image import PretrainedImageFeaturizer

__version__ = "0.1.0"

__all__ = ["PretrainedImageFeaturizer", "__version__", "list_backbones", "load_backbone"]
