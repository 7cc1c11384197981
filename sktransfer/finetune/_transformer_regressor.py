"""Fine-tune a pretrained transformer (BERT-style) as an sklearn regressor."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._callbacks import TransferRegressorNet
from ._labels import encode_values
from ._transformer import FineTunedTransformerEstimator

__all__ = ["FineTunedTransformerRegressor"]


class FineTunedTransformerRegressor(RegressorMixin, FineTunedTransformerEstimator):
    """A pretrained transformer fine-tuned to predict one or more numbers per text.

    The same encoder, freezing depth, layer-wise learning rates, schedule, frozen-layer
    cache and early stopping as :class:`FineTunedTransformerClassifier` (see it for every
    parameter), with a mean-squared-error loss on a linear head. Standardise targets of
    large scale (e.g. with ``TransformedTargetRegressor``): the head starts near zero.
    ``class_weight`` and ``threshold`` apply to classifiers only and must stay None and
    0.5. Early stopping uses a plain (unstratified) validation split.

    Attributes
    ----------
    n_outputs_ : int
        Number of targets per text.
    featurizer_, trainable_groups_, net_, history_
        As for :class:`FineTunedTransformerClassifier`.

    Examples
    --------
    How long a message is (standardised), from its words:

    >>> import numpy as np
    >>> from sktransfer import FineTunedTransformerRegressor, load_sms_spam
    >>> texts = load_sms_spam()["text"].to_numpy()[:400]
    >>> words = np.log([len(t.split()) for t in texts])
    >>> target = (words - words.mean()) / words.std()
    >>> model = FineTunedTransformerRegressor(unfreeze=1, max_epochs=3, random_state=0,
    ...                                       progress=False)
    >>> model.fit(texts[:300], target[:300]).score(texts[300:], target[300:]) > 0.5
    True
    """

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets, shaped like ``y`` in ``fit``."""
        check_is_fitted(self)
        predictions = self._net_output(X, "predict").astype(np.float64)
        return predictions.ravel() if self._one_target else predictions

    def _encode_targets(self, y, n_samples, *, refit):
        if refit and self.class_weight is not None:
            raise ValueError("class_weight applies to classifiers; leave it at None.")
        if refit and self.threshold != 0.5:
            raise ValueError("threshold applies to classifiers; leave it at 0.5.")
        return encode_values(self, y, n_samples, refit=refit)

    def _n_outputs(self) -> int:
        return self.n_outputs_

    def _net_options(self):
        return TransferRegressorNet, {"criterion": nn.MSELoss, **self._collate_options()}
