"""ONNX export, int8 quantization, ONNX Runtime sessions, and a store of exported graphs.

Shared by :class:`~sktransfer.PretrainedImageFeaturizer` (``backend="onnxruntime"``) and
:mod:`sktransfer.export`. Graphs are exported with ``torch.onnx.export(dynamo=True)`` with
a dynamic batch dimension, weights inside the file (no external data), and carry their key
in the model's metadata, so a file from another backbone, layer or export is detected.

Layout of the store: ``<location>/sktransfer-onnx/<key>.onnx``, written to a temporary file
and renamed into place; a corrupt, truncated or mismatched file is reported and rebuilt.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from joblib import cpu_count

__all__ = [
    "BACKEND_TOLERANCE",
    "ExportStore",
    "import_onnx",
    "make_session",
    "metadata",
    "module_to_onnx",
    "quantize_model",
    "set_metadata",
    "stored_graph",
]

logger = logging.getLogger("sktransfer")

KEY = "sktransfer.key"
#: ONNX Runtime outputs whose largest difference from the torch backend's, relative to the
#: largest output, is within this share the torch backend's cache entries (float32 graphs
#: measure 2e-6 to 1e-5; int8 graphs never qualify).
BACKEND_TOLERANCE = 1e-4
_EXTRA = "pip install 'sktransfer[onnx]' (onnx, onnxruntime, onnxscript and skl2onnx)"


def import_onnx(what: str = "backend='onnxruntime'") -> tuple[Any, Any]:
    """``(onnx, onnxruntime)``, or an ImportError that names the extra to install."""
    try:
        import onnx
        import onnxruntime
    except ImportError as error:
        raise ImportError(f"{what} needs ONNX Runtime: {_EXTRA}. ({error})") from error
    return onnx, onnxruntime


@contextlib.contextmanager
def _quiet_tools():
    """Silence the exporter's and the quantizer's INFO records while they run: they log
    hundreds of lines per graph (the quantizer on the root logger), none of use to a user."""
    previous = logging.root.manager.disable
    logging.disable(max(previous, logging.INFO))
    try:
        yield
    finally:
        logging.disable(previous)


def module_to_onnx(
    module: Any,
    example: Any,
    *,
    input_name: str | tuple[str, ...] = "images",
    output_name: str = "features",
    sequence: bool = False,
) -> Any:
    """A torch module exported to an ONNX ``ModelProto``.

    ``example`` is the input (or a tuple of inputs, named by ``input_name``); the first
    dimension of each is dynamic (the batch), and the second too with ``sequence`` (tokens).
    """
    import_onnx("exporting to ONNX")
    try:
        import onnxscript  # noqa: F401  (the dynamo exporter's translator)
    except ImportError as error:
        raise ImportError(f"exporting to ONNX needs onnxscript: {_EXTRA}.") from error
    import torch

    inputs = example if isinstance(example, tuple) else (example,)
    names = [input_name] if isinstance(input_name, str) else list(input_name)
    batch = torch.export.Dim("batch", min=1)
    dims = {0: batch, 1: torch.export.Dim("tokens", min=1)} if sequence else {0: batch}
    with torch.random.fork_rng(devices=[]), _quiet_tools(), warnings.catch_warnings():
        # Inputs sharing dynamic dimensions (ids and mask) draw a note on their axis names.
        warnings.filterwarnings("ignore", "# The axis name", UserWarning)
        program = torch.onnx.export(
            module.eval(),
            inputs,
            None,
            input_names=names,
            output_names=[output_name],
            dynamic_shapes=tuple(dims for _ in inputs),
            dynamo=True,
            external_data=False,
            verbose=False,
        )
    return program.model_proto


def set_metadata(model: Any, **entries: str) -> Any:
    """Set (or replace) string entries of a ``ModelProto``'s ``metadata_props``."""
    kept = [p for p in model.metadata_props if p.key not in entries]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    for key, value in entries.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    return model


def metadata(model: Any) -> dict[str, str]:
    """The ``metadata_props`` of a ``ModelProto`` or an ONNX Runtime session, as a dict."""
    if hasattr(model, "get_modelmeta"):
        return dict(model.get_modelmeta().custom_metadata_map)
    return {p.key: p.value for p in model.metadata_props}


def make_session(model: bytes | str | os.PathLike, *, device: str = "cpu") -> Any:
    """An ONNX Runtime session using every CPU that joblib counts (or CUDA where asked and
    available), with its logging limited to errors."""
    try:
        import onnxruntime as ort  # only the runtime: predicting needs neither onnx nor torch
    except ImportError as error:
        raise ImportError(f"running an ONNX graph needs ONNX Runtime: {_EXTRA}.") from error
    options = ort.SessionOptions()
    options.intra_op_num_threads = cpu_count()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    providers = ["CPUExecutionProvider"]
    if device == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, options, providers=providers)


def quantize_model(model: Any, how: str, calibration: np.ndarray | None = None) -> Any:
    """An int8 copy of a float ``ModelProto``.

    ``"dynamic"``: int8 weights (per channel), activations quantized on the fly (ONNX
    Runtime's ``quantize_dynamic``). ``"static"``: int8 weights (per channel, 7-bit range) and uint8
    activations in QDQ format, activation ranges calibrated (min-max) on ``calibration``, a
    batch of network inputs.
    """
    onnx, _ = import_onnx("quantize")
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    input_name = model.graph.input[0].name

    class _Batches(CalibrationDataReader):
        def __init__(self, images: np.ndarray):
            self.batches = iter(images[k : k + 16] for k in range(0, len(images), 16))

        def get_next(self) -> dict | None:
            batch = next(self.batches, None)
            return None if batch is None else {input_name: np.ascontiguousarray(batch)}

    with tempfile.TemporaryDirectory(prefix="sktransfer-quantize-") as folder, _quiet_tools():
        source, prepared, target = (Path(folder) / n for n in ("f.onnx", "p.onnx", "q.onnx"))
        onnx.save(model, source)
        # Dynamic quantization needs no symbolic shapes, whose inference fails on dynamic
        # sequence lengths (transformers) and then leaves files in the working folder.
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=how == "dynamic")
        if how == "dynamic":
            # Per channel: cosine to the float32 embedding 0.96-0.99 (MiniLM on SMS),
            # against 0.82-0.95 per tensor, at the same speed.
            quantize_dynamic(
                str(prepared), str(target), weight_type=QuantType.QInt8, per_channel=True
            )
        else:
            quantize_static(
                str(prepared),
                str(target),
                _Batches(calibration),
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                # 7-bit weights: no int16 overflow in the u8s8 kernels of CPUs without VNNI,
                # and features closer to float32 (correlation 0.86 against 0.73 on LFW).
                reduce_range=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
            )
        quantized = onnx.load(target)
    return set_metadata(quantized, **metadata(model))


def stored_graph(
    location: Path | None,
    key: str,
    float_graph: Callable[[], bytes],
    quantize: str | None = None,
    calibration: np.ndarray | None = None,
) -> bytes:
    """The serialized graph of ``key``: read from the store under ``location``, or made by
    ``float_graph()`` (quantized when asked), tagged with ``key`` and stored there."""
    store = None if location is None else ExportStore(location)
    data = None if store is None else store.get(key)
    if data is not None:
        return data
    onnx, _ = import_onnx()
    model = onnx.load_from_string(float_graph())
    if quantize is not None:
        logger.info("Quantizing the graph to int8 (%s).", quantize)
        model = quantize_model(model, quantize, calibration)
    data = set_metadata(model, **{KEY: key}).SerializeToString()
    if store is not None:
        store.put(key, data)
    return data


class ExportStore:
    """Exported graphs on disk, one file per key, each carrying its key in its metadata."""

    def __init__(self, location: str | os.PathLike):
        self.root = Path(location) / "sktransfer-onnx"

    def path(self, key: str) -> Path:
        return self.root / f"{key}.onnx"

    def get(self, key: str) -> bytes | None:
        """The stored graph of ``key``; None (and a warning in the log) when it is missing,
        unreadable, corrupt, or was exported for another key."""
        onnx, _ = import_onnx()
        path = self.path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            logger.warning("Ignoring exported graph %s (%s); exporting again.", path, error)
            return None
        try:
            model = onnx.load_from_string(data)
            onnx.checker.check_model(model)
        except Exception as error:  # truncated or corrupt protobuf, an invalid graph
            logger.warning("Ignoring corrupt exported graph %s (%s); exporting again.", path, error)
            return None
        found = metadata(model).get(KEY)
        if found != key:
            logger.warning(
                "Ignoring exported graph %s: it was exported for %s, not for this "
                "featurizer; exporting again.",
                path,
                found or "something else",
            )
            return None
        return data

    def put(self, key: str, data: bytes) -> None:
        """Store atomically; a read-only folder is logged and skipped."""
        path = self.path(key)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError as error:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            logger.warning("Could not store the exported graph at %s (%s).", path, error)
