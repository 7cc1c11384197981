"""Fine-tune a pretrained backbone as an sklearn regressor."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._base import FineTunedImageEstimator
from ._callbacks import TransferRegressorNet
from ._labels import encode_values

__all__ = ["FineTunedImageRegressor"]


class FineTunedImageRegressor(RegressorMixin, FineTunedImageEstimator):
    """A pretrained backbone fine-tuned to predict one or more numbers per image.

    The same network, freezing depth, learning rates, schedule, augmentation, frozen-trunk
    cache and early stopping as :class:`FineTunedImageClassifier` (see it for every
    parameter), with a mean-squared-error loss. Standardise targets of large scale (e.g.
    with ``TransformedTargetRegressor``): the head starts near zero. ``label_smoothing``,
    ``class_weight`` and ``threshold`` apply to classifiers only and must stay 0, None and
    0.5. ``tta`` averages the predictions over views of each image. ``mixup`` and ``cutmix`` mix
    two images and the losses of their two targets. Early stopping uses a plain
    (unstratified) validation split.

    Attributes
    ----------
    n_outputs_ : int
        Number of targets per image.
    net_, featurizer_, trainable_groups_, history_
        As for :class:`FineTunedImageClassifier`.

    Examples
    --------
    How much ink each handwritten digit holds (standardised), from its 8x8 image:

    >>> from sklearn.datasets import load_digits
    >>> from sktransfer.finetune import FineTunedImageRegressor
    >>> images = load_digits().images[:300] / 16
    >>> ink = images.mean(axis=(1, 2))
    >>> ink = (ink - ink.mean()) / ink.std()
    >>> model = FineTunedImageRegressor(unfreeze=1, random_state=0, progress=False)
    >>> model.fit(images[:200], ink[:200]).score(images[200:], ink[200:]) > 0.5
    True
    """

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets, shaped like ``y`` in ``fit``."""
        check_is_fitted(self)
        predictions = self._predict_views(X, self.net_.predict)
        return predictions.ravel() if self._one_target else predictions

    def _encode_targets(self, y, n_samples, *, refit):
        if refit and self.label_smoothing:
            raise ValueError("label_smoothing applies to classifiers; leave it at 0.")
        if refit and self.class_weight is not None:
            raise ValueError("class_weight applies to classifiers; leave it at None.")
        if refit and self.threshold != 0.5:
            raise ValueError("threshold applies to classifiers; leave it at 0.5.")
        return encode_values(self, y, n_samples, refit=refit)

    def _n_outputs(self) -> int:
        return self.n_outputs_

    def _net_options(self):
        return TransferRegressorNet, {
            "mixup": self.mixup,
            "cutmix": self.cutmix,
            "criterion": nn.MSELoss,
        }
