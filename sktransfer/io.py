"""Save and load fitted models with skops: loading a file never runs code from it.

``pickle.load`` (and ``joblib.load``) execute whatever callable a file names, so a
pickled model from someone else is a program from someone else. A skops file is a zip of
JSON and numpy arrays; :func:`load` rebuilds only the types it is told to trust: skops's
own safe list (numpy, scipy, most of scikit-learn) and the sktransfer types below. Anything
else fails closed with :class:`~sktransfer.exceptions.UntrustedTypesError`, naming the types.

Fine-tuned estimators are saved as their trained weights (numpy arrays) and rebuilt on
the loading machine's device; the pretrained weights are not copied into the file.

Examples
--------
>>> import tempfile, pathlib
>>> from sklearn.linear_model import LogisticRegression
>>> from sklearn.pipeline import make_pipeline
>>> from sktransfer import Word2VecEmbedder, io
>>> texts = ["free prize now", "lunch at noon", "win cash now", "see you at noon"]
>>> model = make_pipeline(Word2VecEmbedder(), LogisticRegression())
>>> model = model.fit(texts, ["spam", "ham", "spam", "ham"])
>>> path = pathlib.Path(tempfile.mkdtemp()) / "model.skops"
>>> io.save(model, path)
>>> io.load(path).predict(["win a free prize"]).tolist()
['spam']
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable
from typing import Any

from .exceptions import ModelFileError, UntrustedTypesError

__all__ = ["TRUSTED_TYPES", "load", "save"]

#: The types :func:`load` trusts beyond skops's defaults: sktransfer's estimators, what
#: they hold, and the scorer sklearn stores in a search without ``scoring=`` (it only calls
#: the estimator's own ``score``).
TRUSTED_TYPES = (
    "sklearn.metrics._scorer._PassthroughScorer",
    "sktransfer.backbones._base.Preprocessing",
    "sktransfer.finetune._classifier.FineTunedImageClassifier",
    "sktransfer.finetune._regressor.FineTunedImageRegressor",
    "sktransfer.finetune._text.FineTunedTextClassifier",
    "sktransfer.image._featurizer.PretrainedImageFeaturizer",
    "sktransfer.model_selection._split.LeakageSafeKFold",
    "sktransfer.text._embedder.Word2VecEmbedder",
)


def save(model: Any, file: str | os.PathLike) -> None:
    """Write ``model`` (any estimator, pipeline or search) to ``file`` in skops format."""
    import skops.io

    skops.io.dump(model, file)


def load(file: str | os.PathLike, *, trusted: Iterable[str] = ()) -> Any:
    """Load a model written by :func:`save` (or ``skops.io.dump``).

    Parameters
    ----------
    file : str or path
    trusted : iterable of str, default=()
        Further fully qualified type names to trust, beyond skops's defaults and
        :data:`TRUSTED_TYPES`; only for files whose author you trust.

    Raises
    ------
    UntrustedTypesError
        The file holds other types; nothing from it has been constructed.
    ModelFileError
        The file is not a skops file (a pickle, say); a ValueError.
    """
    import skops.io

    try:
        found = skops.io.get_untrusted_types(file=file)
    except zipfile.BadZipFile as error:
        raise ModelFileError(
            f"{os.fspath(file)} is not a skops file (a zip archive); sktransfer does not load "
            "pickles, which can run arbitrary code."
        ) from error
    allowed = set(TRUSTED_TYPES) | set(trusted)
    untrusted = [name for name in found if name not in allowed]
    if untrusted:
        raise UntrustedTypesError(os.fspath(file), untrusted)
    return skops.io.load(file, trusted=found)
