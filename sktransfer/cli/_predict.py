"""``sktransfer predict``: the class and class probabilities of image files."""

from __future__ import annotations

import argparse
import sys

from ._common import UsageError, add_runtime_option, check_output, image_files, load_model


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    paths = image_files(args.files)
    if not paths:
        raise UsageError("no images found in " + ", ".join(args.files))
    if args.output:
        check_output(args.output, [args.model, *paths])
    model = load_model(args.model, backend=args.backend)
    table = pd.DataFrame({"path": paths})
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(paths)
        table["class"] = model.classes_[proba.argmax(1)]
        for k, name in enumerate(model.classes_):
            table[f"proba_{name}"] = proba[:, k]
    else:
        table["prediction"] = model.predict(paths)
    if args.output:
        table.to_csv(args.output, index=False)
        print(f"wrote {len(table)} predictions to {args.output}", file=sys.stderr)
    else:
        table.to_csv(sys.stdout, index=False)
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "predict",
        help="predict the class of image files with a saved model",
        description="Writes one CSV row per image: path, class and one proba_<class> column "
        "per class (or path and prediction for a regressor).",
    )
    parser.add_argument("model", help="a model saved by `sktransfer train` or sktransfer.io.save")
    parser.add_argument("files", nargs="+", help="image files or folders (searched recursively)")
    parser.add_argument("-o", "--output", default=None, help="CSV file (default: standard output)")
    add_runtime_option(parser)
    parser.set_defaults(run=run)
