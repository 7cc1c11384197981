"""Save and load fitted models with skops: loading a file never runs code from it.

``pickle.load`` (and ``joblib.load``) execute whatever callable a file names, so a
pickled model from someone else is a program from someone else. A skops file is a zip of
JSON and numpy arrays; :func:`load` rebuilds only the types it is told to trust: skops's
own safe list (numpy, scipy, most of scikit-learn) and the sktransfer types below. Anything
else fails closed with :class:`~sktransfer.exceptions.UntrustedTypesError`, naming the types.

Fine-tuned estimators are saved as their trained weights (numpy arrays) and rebuilt on
the loading machine's device; the pretrained weights are not copied into the file.

A model file is also checked for what it would make the loading process *open*. Parameters
that name files (word vectors, weights, a feature cache, a timm hub or local-dir backbone)
come from the file's author, so :func:`load` refuses a model that names a file, URL or
downloadable name unless the caller lists it in ``files=``; word-vector formats that gensim
stores as pickles (``.kv``, ``.model``, gensim-data downloads) are refused even then, unless
the caller trusts the whole file (``trusted=True``). The bundled defaults (GloVe 6B 50-d,
the registry's backbones and weights names) name no file. A feature-cache folder that the
caller did not list is dropped (with a warning): features are the same without it.
The zip archive's member sizes are checked from its directory before anything is parsed.

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
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ._inputs import open_regular_file, same_path
from .exceptions import ModelFileError, SktransferWarning, UntrustedFileError, UntrustedTypesError

__all__ = ["DEFAULT_MAX_SIZE", "TRUSTED_TYPES", "load", "save"]

#: The types :func:`load` trusts beyond skops's defaults: sktransfer's estimators, what
#: they hold, and the scorer sklearn stores in a search without ``scoring=`` (it only calls
#: the estimator's own ``score``).
TRUSTED_TYPES = (
    "sklearn.metrics._scorer._PassthroughScorer",
    "sktransfer.backbones._base.Preprocessing",
    "sktransfer.finetune._classifier.FineTunedImageClassifier",
    "sktransfer.finetune._regressor.FineTunedImageRegressor",
    "sktransfer.finetune._text.FineTunedTextClassifier",
    "sktransfer.finetune._transformer_classifier.FineTunedTransformerClassifier",
    "sktransfer.finetune._transformer_regressor.FineTunedTransformerRegressor",
    "sktransfer.image._featurizer.PretrainedImageFeaturizer",
    "sktransfer.model_selection._split.LeakageSafeKFold",
    "sktransfer.text._embedder.Word2VecEmbedder",
    "sktransfer.text._transformer.TransformerTextEmbedder",
)

#: Default of ``max_size``: the most bytes a model file may hold once decompressed.
DEFAULT_MAX_SIZE = 2**30
_MAX_SCHEMA = 64 * 2**20  # schema.json is parsed into Python objects: ~10x its size in memory
_MAX_MEMBERS = 100_000
_MAX_RATIO = 100  # decompressed / compressed, for members over 1 MiB: a zip bomb's signature


def save(model: Any, file: str | os.PathLike) -> None:
    """Write ``model`` (any estimator, pipeline or search) to ``file`` in skops format.

    The file is written beside its destination and renamed into place: a failure half-way
    leaves any earlier file of that name whole.
    """
    import tempfile

    import skops.io

    target = Path(file)
    handle, scratch = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    try:
        skops.io.dump(model, scratch)
        os.replace(scratch, target)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise


def load(
    file: str | os.PathLike,
    *,
    trusted: Iterable[str] | Literal[True] = (),
    files: Iterable[str | os.PathLike] = (),
    max_size: int = DEFAULT_MAX_SIZE,
) -> Any:
    """Load a model written by :func:`save` (or ``skops.io.dump``).

    Parameters
    ----------
    file : str or path
    trusted : iterable of str or True, default=()
        Further fully qualified type names to trust, beyond skops's defaults and
        :data:`TRUSTED_TYPES`; only for files whose author you trust. ``True`` trusts the
        file completely: every type in it, and every file it names in any format,
        pickles included. Never pass it for a file from someone else.
    files : iterable of str or path, default=()
        The word-vector files, weights files or URLs, feature-cache folders and downloadable
        names (gensim-data vectors, ``timm:hf-hub:...`` backbones) that the model may open.
        A model naming anything else is refused.
    max_size : int, default=1 GiB
        The most bytes the file may hold, compressed or decompressed.

    Raises
    ------
    UntrustedTypesError
        The file holds other types; nothing from it has been constructed.
    UntrustedFileError
        The model names a file, folder, URL or downloadable name that is not in ``files``,
        or a pickle format without ``trusted=True``; the model is not returned.
    ModelFileError
        The file is not a skops file (a pickle, say), is damaged, or is over ``max_size``;
        a ValueError.
    """
    import skops.io

    name = os.fspath(file)
    data = _read(name, max_size)
    try:
        found = skops.io.get_untrusted_types(data=data)
        if trusted is not True:
            allowed = set(TRUSTED_TYPES) | set(trusted)
            untrusted = [type_name for type_name in found if type_name not in allowed]
            if untrusted:
                raise UntrustedTypesError(name, untrusted)
        model = skops.io.loads(data, trusted=found)
    except UntrustedTypesError:
        raise
    except Exception as error:  # skops raises JSON, key, type and recursion errors alike
        raise ModelFileError(
            f"{name} is damaged or was not written by sktransfer.io.save / skops "
            f"({type(error).__name__}: {str(error)[:200]})."
        ) from error
    _check_references(model, name, files, trust_all=trusted is True)
    return model


def _read(name: str, max_size: int) -> bytes:
    """The file's bytes, read once (the checks and the load see the same bytes)."""
    try:
        with open_regular_file(name, max_size=max_size) as stream:
            data = stream.read()
    except (IsADirectoryError, ValueError) as error:
        raise ModelFileError(f"Cannot load a model from {name}: {error}.") from error
    try:
        members = zipfile.ZipFile(BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise ModelFileError(
            f"{name} is not a skops file (a zip archive); sktransfer does not load "
            "pickles, which can run arbitrary code."
        ) from error
    total = sum(member.file_size for member in members)
    if len(members) > _MAX_MEMBERS or total > max_size:
        raise ModelFileError(
            f"{name} decompresses to {total} bytes in {len(members)} members; the limit is "
            f"{max_size} bytes (pass max_size= to load a larger model you trust)."
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        too_big = member.filename == "schema.json" and member.file_size > _MAX_SCHEMA
        if too_big or (member.file_size > 2**20 and ratio > _MAX_RATIO):
            raise ModelFileError(
                f"{name}: member {member.filename!r} decompresses from {member.compress_size} "
                f"to {member.file_size} bytes, more than a model file holds; refusing to parse it."
            )
    return data


# -- what a loaded model would open --------------------------------------------------------


def _check_references(model: Any, name: str, files: Iterable, trust_all: bool) -> None:
    if trust_all:
        return
    listed = [os.fspath(f) for f in files]
    for owner, parameter, value, pickled in _references(model):
        allowed = any(_same_reference(value, entry) for entry in listed)
        if parameter == "cache" and not allowed:
            owner.cache = None  # features are a pure function of the input: same predictions
            warnings.warn(
                f"{name}: {type(owner).__name__}.cache named the folder {os.fspath(value)!r}, "
                "which was not passed in files=; the loaded model runs without a feature cache.",
                SktransferWarning,
                stacklevel=3,
            )
            continue
        if not allowed:
            raise UntrustedFileError(name, type(owner).__name__, parameter, value, "files")
        if pickled:
            raise UntrustedFileError(name, type(owner).__name__, parameter, value, "pickle")


def _same_reference(value: Any, entry: str) -> bool:
    value = os.fspath(value)
    return value == entry or (_is_local(value) and _is_local(entry) and same_path(value, entry))


def _is_local(value: str) -> bool:
    return "://" not in value and not value.startswith(("hf-hub:", "hf_hub:"))


def _references(model: Any) -> Iterator[tuple[Any, str, Any, bool]]:
    """``(estimator, parameter, value, is_pickle_format)`` for everything the model may open."""
    from .backbones import is_weights_path
    from .text import DEFAULT_VECTORS, is_bundled_transformer, pickles_on_load

    for estimator in _sktransfer_objects(model):
        attributes = vars(estimator)
        vectors = attributes.get("vectors")
        if "vectors" in attributes and vectors != DEFAULT_VECTORS:
            yield estimator, "vectors", vectors, pickles_on_load(vectors)
        weights = attributes.get("weights")
        if isinstance(weights, (str, os.PathLike)) and (
            is_weights_path(weights) or "://" in os.fspath(weights)
        ):
            yield estimator, "weights", weights, False
        backbone = attributes.get("backbone")
        if isinstance(backbone, str) and backbone.startswith("timm:") and ":" in backbone[5:]:
            # timm's "hf-hub:org/name" downloads a model; "local-dir:/path" reads a folder.
            yield estimator, "backbone", backbone.split(":", 2)[2], False
        model_name = attributes.get("model")
        if isinstance(model_name, (str, os.PathLike)) and not is_bundled_transformer(model_name):
            # a transformer folder, or a hub name that downloads (safetensors only, no code)
            yield estimator, "model", model_name, False
        cache = attributes.get("cache")
        if cache is not None:
            yield estimator, "cache", getattr(cache, "location", cache), False


def _sktransfer_objects(root: Any) -> Iterator[Any]:
    """Every sktransfer object reachable from ``root``: steps, searches, fitted attributes."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (str, bytes, int, float, Path)):
            continue
        seen.add(id(obj))
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif isinstance(obj, np.ndarray):
            if obj.dtype == object:
                stack.extend(obj.ravel().tolist())
        elif hasattr(obj, "__dict__"):
            if type(obj).__module__.startswith("sktransfer."):
                yield obj
            stack.extend(vars(obj).values())
