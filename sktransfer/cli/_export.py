"""``sktransfer export``: a saved image model as one ONNX file, checked against the model."""

from __future__ import annotations

import argparse
import sys

from ._common import UsageError, check_output, image_files, load_model


def run(args: argparse.Namespace) -> int:
    images = image_files(args.images, option="--images ")
    check_output(args.output, [args.model, *images])
    model = load_model(args.model)
    try:
        from ..export import to_onnx

        report = to_onnx(model, args.output, X=images or None)
    except ImportError as error:
        raise UsageError(str(error)) from None
    checked = f"{report.n_samples} {'images' if images else 'random images'}"
    agreement = (
        "" if report.argmax_agreement is None else f", same class {report.argmax_agreement:.0%}"
    )
    print(
        f"wrote {report.path} ({report.n_bytes / 2**20:.1f} MiB); checked on {checked}: "
        f"largest difference {report.max_abs_difference:.2g}{agreement}",
        file=sys.stderr,
    )
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "export",
        help="export a saved image model to one ONNX file",
        description="Writes the backbone and the head as one ONNX graph from preprocessed "
        "image tensors to probabilities, after checking it against the model (probabilities "
        "within 1e-4, same classes). Run it with `sktransfer predict|serve --backend "
        "onnxruntime`, or sktransfer.export.OnnxImageModel; neither imports torch.",
    )
    parser.add_argument("model", help="a model saved by `sktransfer train` or sktransfer.io.save")
    parser.add_argument("-o", "--output", required=True, help="the ONNX file to write")
    parser.add_argument(
        "--images",
        nargs="*",
        default=[],
        help="image files or folders to check the export on (default: 4 random images)",
    )
    parser.set_defaults(run=run)
