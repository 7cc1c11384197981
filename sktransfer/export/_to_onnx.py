"""``to_onnx``: a fitted image model as one ONNX graph, checked against the model."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .. import __version__
from .._inputs import as_sample_list
from .._onnx import import_onnx, module_to_onnx, set_metadata
from ._runtime import CLASSES, KIND, PREPROCESSING, SOURCE, OnnxImageModel

__all__ = ["PARITY_TOLERANCE", "ExportReport", "to_onnx"]

#: Largest difference allowed between the model's and the exported graph's probabilities
#: (or predictions, relative to their scale) on the samples checked at export time.
PARITY_TOLERANCE = 1e-4
_ML_OPSET = 3


@dataclass(frozen=True)
class ExportReport:
    """What :func:`to_onnx` wrote and how closely the file reproduces the model.

    Attributes
    ----------
    path : Path
        The ONNX file.
    n_bytes : int
        Its size.
    n_samples : int
        Images the parity check ran on.
    max_abs_difference : float
        Largest difference between the model's and the file's probabilities (or
        predictions) on them.
    argmax_agreement : float or None
        Share of those images given the same class (None for a regressor).
    """

    path: Path
    n_bytes: int
    n_samples: int
    max_abs_difference: float
    argmax_agreement: float | None


def to_onnx(model: Any, path: str | os.PathLike, *, X: Any = None) -> ExportReport:
    """Write a fitted image model as one ONNX file, checked against the model.

    The graph takes preprocessed image tensors, ``images`` of shape ``(n, 3, S, S)``
    float32 (resize the shorter side, center crop, scale RGB to [0, 1], normalise: the
    settings are in the file's metadata, and :class:`~sktransfer.export.OnnxImageModel`
    applies them), and returns ``probabilities`` ``(n, n_classes)`` for a classifier (the
    classes are in the metadata) or ``predictions`` for a regressor.

    Parameters
    ----------
    model : fitted estimator
        A :class:`~sklearn.pipeline.Pipeline` whose first step is a
        :class:`~sktransfer.PretrainedImageFeaturizer` and whose other steps skl2onnx
        converts (scalers, PCA, LogisticRegression, SVC, RandomForest...); a fine-tuned
        image classifier or regressor; or a search whose best estimator is one of these.
        A featurizer with ``backend="onnxruntime"`` exports the graph it runs (int8 when
        quantized).
    path : str or path
        Where to write the file. It is written only once the check below passes.
    X : collection of images or None, default=None
        Images for the parity check: the model's own ``predict_proba`` (or ``predict``)
        and the written file run through :class:`OnnxImageModel` must agree within
        ``PARITY_TOLERANCE`` (1e-4) and on every argmax. None checks four seeded
        random images; real images are the better check.

    Returns
    -------
    report : ExportReport

    Raises
    ------
    ValueError
        For a model that is not one of the above, a step skl2onnx cannot convert (named),
        or a failed parity check (with its numbers; nothing is written).
    """
    onnx, _ = import_onnx("sktransfer.export.to_onnx")
    model = _unwrap(model)
    check_is_fitted(model)
    classifier = is_classifier(model)
    graph, preprocessing = _graph(model, classifier)
    entries = {
        KIND: "classifier" if classifier else "regressor",
        PREPROCESSING: json.dumps(preprocessing),
        SOURCE: type(model).__name__,
        "sktransfer.version": __version__,
    }
    if classifier:
        entries[CLASSES] = json.dumps(np.asarray(model.classes_).tolist())
    set_metadata(graph, **entries)
    graph.doc_string = (
        "sktransfer export. Input 'images': (n, 3, S, S) float32, preprocessed as the "
        "metadata 'sktransfer.preprocessing' says. Output: 'probabilities' (classifiers, "
        "columns in the order of 'sktransfer.classes') or 'predictions' (regressors)."
    )
    onnx.checker.check_model(graph)

    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    onnx.save(graph, tmp)
    try:
        report = _check(model, tmp, path, X, classifier)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return report


def _unwrap(model: Any) -> Any:
    while hasattr(model, "best_estimator_"):
        model = model.best_estimator_
    return model


def _graph(model: Any, classifier: bool) -> tuple[Any, dict]:
    """The whole graph, images to outputs, and the preprocessing of its input."""
    from ..finetune import FineTunedImageEstimator
    from ..image import PretrainedImageFeaturizer

    output = "probabilities" if classifier else "predictions"
    if isinstance(model, FineTunedImageEstimator):
        return _fine_tuned_graph(model, classifier, output)
    steps = [step for _, step in getattr(model, "steps", [])]
    if not steps or not isinstance(steps[0], PretrainedImageFeaturizer) or len(steps) < 2:
        raise ValueError(
            f"to_onnx exports a Pipeline that starts with a PretrainedImageFeaturizer "
            f"followed by sklearn steps, or a fine-tuned image estimator; got "
            f"{type(model).__name__}."
        )
    featurizer = steps[0]
    head = _sklearn_head(model.steps[1:], featurizer.n_features_out_, classifier)
    found = [o.name for o in head.graph.output]
    wanted = "probabilities" if classifier else "variable"  # skl2onnx's output names
    if wanted not in found:
        raise ValueError(f"skl2onnx gave the outputs {found}; expected {wanted!r}.")
    graph = _joined(featurizer.onnx_model(), head, wanted, output)
    return graph, asdict(featurizer.preprocessing_)


def _fine_tuned_graph(model: Any, classifier: bool, output: str) -> tuple[Any, dict]:
    import torch
    from torch import nn

    from ..backbones import load_backbone

    top = model.net_.module_
    network = nn.Sequential(top, nn.Softmax(dim=1)) if classifier else top
    network = network.cpu().eval()
    featurizer = model.featurizer_
    if featurizer is None:  # trained above the frozen groups themselves (augmented inputs)
        settings = load_backbone(model.backbone, model.weights).preprocessing
        size = settings.input_size
        graph = module_to_onnx(network, torch.zeros(2, 3, size, size), output_name=output)
        return graph, asdict(settings)
    width = int(np.prod(featurizer.output_shape_)) if top.trunk else featurizer.n_features_out_
    head = module_to_onnx(network, torch.zeros(2, width), input_name="features", output_name=output)
    graph = _joined(featurizer.onnx_model(), head, output, output)
    return graph, asdict(featurizer.preprocessing_)


def _sklearn_head(steps: list, n_features: int, classifier: bool) -> Any:
    """The sklearn steps after the featurizer, converted by skl2onnx; input ``features``."""
    try:
        from skl2onnx import convert_sklearn
        from skl2onnx._supported_operators import sklearn_operator_name_map
        from skl2onnx.common.data_types import FloatTensorType
    except ImportError as error:
        raise ImportError(
            "exporting sklearn steps needs skl2onnx: pip install 'sktransfer[onnx]'."
        ) from error
    for name, step in steps:
        if step not in (None, "passthrough") and type(step) not in sklearn_operator_name_map:
            raise ValueError(
                f"skl2onnx cannot convert step {name!r} ({type(step).__name__}); export a "
                "pipeline whose steps after the featurizer skl2onnx supports (scalers, PCA, "
                "LogisticRegression, SVC, RandomForest, ...), see skl2onnx's "
                "supported_converters()."
            )
    head = Pipeline(steps)
    final = head.steps[-1][1]
    options = {id(final): {"zipmap": False}} if classifier else None
    converted = convert_sklearn(
        head,
        initial_types=[("features", FloatTensorType([None, n_features]))],
        target_opset={"": _opset(), "ai.onnx.ml": _ML_OPSET},
        options=options,
    )
    return converted


def _opset() -> int:
    """The default opset of torch's exporter, which the sklearn head must match."""
    from torch.onnx._constants import ONNX_DEFAULT_OPSET

    return ONNX_DEFAULT_OPSET


def _joined(backbone: Any, head: Any, head_output: str, output: str) -> Any:
    """The backbone's ``features`` fed into the head: one graph from ``images`` to the
    head's ``head_output``, renamed ``output``."""
    from onnx import compose, helper

    head = compose.add_prefix(head, "head/")
    backbone.ir_version = head.ir_version = max(backbone.ir_version, head.ir_version)
    domains = {entry.domain or "" for entry in backbone.opset_import}
    for entry in head.opset_import:  # the head may need a domain the backbone lacks (ai.onnx.ml)
        if (entry.domain or "") not in domains:
            backbone.opset_import.append(entry)
    joined = compose.merge_models(
        backbone, head, io_map=[("features", "head/features")], outputs=[f"head/{head_output}"]
    )
    kept = joined.graph.output[0]
    renamed = helper.make_tensor_value_info(output, kept.type.tensor_type.elem_type, None)
    renamed.type.CopyFrom(kept.type)
    joined.graph.node.append(helper.make_node("Identity", [kept.name], [output], name=output))
    del joined.graph.output[:]
    joined.graph.output.append(renamed)
    return joined


def _check(model: Any, tmp: Path, path: Path, X: Any, classifier: bool) -> ExportReport:
    """Run the model and the written file on the same images; raise unless they agree."""
    if X is None:
        rng = np.random.default_rng(0)
        samples = list(rng.integers(0, 256, (4, 96, 128, 3), dtype=np.uint8))
    else:
        samples = as_sample_list(X)
    exported = OnnxImageModel(tmp)
    if classifier:
        expected = model.predict_proba(samples)
        found = exported.predict_proba(samples)
        agreement = float(np.mean(expected.argmax(1) == found.argmax(1)))
        difference = float(np.abs(expected - found).max()) if len(samples) else 0.0
        ok = difference <= PARITY_TOLERANCE and agreement == 1.0
    else:
        expected = np.asarray(model.predict(samples), dtype=np.float64)
        found = exported.predict(samples).astype(np.float64).reshape(expected.shape)
        agreement = None
        difference = float(np.abs(expected - found).max()) if len(samples) else 0.0
        scale = max(1.0, float(np.abs(expected).max())) if len(samples) else 1.0
        ok = difference <= PARITY_TOLERANCE * scale
    if not ok:
        raise ValueError(
            f"The exported graph does not reproduce the {type(model).__name__} on the "
            f"{len(samples)} images checked: largest difference {difference:.3g} (tolerance "
            f"{PARITY_TOLERANCE:g})"
            + ("" if agreement is None else f", same class for {agreement:.1%}")
            + f". Nothing was written to {path}."
        )
    return ExportReport(path, tmp.stat().st_size, len(samples), difference, agreement)
