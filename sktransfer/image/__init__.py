"""Image loading and the pretrained image featurizer."""

from ._featurizer import PretrainedImageFeaturizer, preprocess_transform
from ._loading import as_sample_list, open_rgb

__all__ = ["PretrainedImageFeaturizer", "as_sample_list", "open_rgb", "preprocess_transform"]
