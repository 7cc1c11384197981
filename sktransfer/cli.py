"""The ``sktransfer`` command line."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Sequence

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    """Raw pixels vs pretrained features on real photos, cross-validated, offline."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    from .image import PretrainedImageFeaturizer

    try:
        from skimage.data import lfw_subset
    except ImportError:
        print(
            "The demo uses scikit-image's photos: pip install 'sktransfer[demo]'", file=sys.stderr
        )
        return 2
    images = lfw_subset()  # 100 faces then 100 non-faces, 25x25 gray, real photographs
    labels = np.array(["face"] * 100 + ["not face"] * 100)
    cv = StratifiedKFold(args.folds, shuffle=True, random_state=0)
    flatten = FunctionTransformer(lambda X: np.asarray(X).reshape(len(X), -1))
    print(
        f"sktransfer demo: faces vs non-faces, scikit-image lfw_subset ({len(images)} real "
        f"photos), {args.folds}-fold stratified cross-validation\n"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="sktransfer-demo-") as scratch:
        cache = args.cache or scratch  # featurize each image once across the folds
        models = {
            "raw pixels + LogisticRegression": make_pipeline(
                flatten, StandardScaler(), LogisticRegression(max_iter=2000)
            ),
            f"{args.backbone} features + LogisticRegression": make_pipeline(
                PretrainedImageFeaturizer(args.backbone, cache=cache, progress=True),
                LogisticRegression(max_iter=2000),
            ),
        }
        for name, model in models.items():
            start = time.perf_counter()
            scores = cross_val_score(model, images, labels, cv=cv)
            rows.append((name, scores.mean(), scores.std(), time.perf_counter() - start))
    width = max(len(r[0]) for r in rows)
    print(f"{'model':<{width}}  accuracy         seconds")
    for name, mean, std, seconds in rows:
        print(f"{name:<{width}}  {mean:.3f} ± {std:.3f}   {seconds:7.1f}")
    return 0


TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


class UsageError(Exception):
    """Bad command-line input: printed without a traceback, exit status 2."""


def _read_images(source: str, column: str):
    """A DataFrame with an image-path ``column`` from a folder or a CSV/parquet table."""
    from pathlib import Path

    import pandas as pd

    from .datasets import _list_images, load_image_folder

    path = Path(source)
    if path.is_dir():
        if not any(f.is_dir() and not f.name.startswith(".") for f in path.iterdir()):
            return pd.DataFrame({column: _list_images(path)})  # a flat folder: no labels
        try:
            return load_image_folder(path).rename(columns={"path": column})
        except (FileNotFoundError, ValueError) as error:  # a malformed class-folder tree
            raise UsageError(str(error)) from error
    kind = TABLE_SUFFIXES.get(path.suffix.lower())
    if kind is None or not path.is_file():
        raise UsageError(f"{source}: expected a folder of images or a .csv/.parquet table.")
    frame = pd.read_csv(path) if kind == "csv" else pd.read_parquet(path)
    if column not in frame.columns:
        raise UsageError(
            f"{source} has no column {column!r} (columns: {', '.join(map(str, frame.columns))});"
            " name the image-path column with --column."
        )
    relative = frame[column].map(lambda p: isinstance(p, str) and not Path(p).is_absolute())
    frame.loc[relative, column] = [str(path.parent / p) for p in frame.loc[relative, column]]
    return frame


def _write_table(frame, output: str) -> None:
    from pathlib import Path

    if Path(output).suffix.lower() == ".csv":
        frame.to_csv(output, index=False)
    else:
        frame.to_parquet(output, index=False)


def _featurize(args: argparse.Namespace) -> int:
    """Features of every image in a folder or table, written beside its columns."""
    import pandas as pd

    from .image import PretrainedImageFeaturizer

    frame = _read_images(args.input, args.column)
    if frame.empty:
        raise UsageError(f"{args.input}: no images found.")
    start = time.perf_counter()
    featurizer = PretrainedImageFeaturizer(
        args.backbone,
        batch_size=args.batch_size,
        device=args.device,
        cache=args.cache,
        on_error=args.on_error,
        progress=True,
    ).set_output(transform="pandas")
    features = featurizer.fit_transform(frame[args.column]).set_axis(frame.index)
    table = pd.concat([frame, features], axis=1)
    _write_table(table, args.output)
    failed = int(features.isna().any(axis=1).sum())
    print(
        f"wrote {len(table)} images x {features.shape[1]} features ({args.backbone}) to "
        f"{args.output} in {time.perf_counter() - start:.1f} s"
        + (f"; {failed} unreadable image(s) have NaN features" if failed else "")
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sktransfer", description="Transfer learning for scikit-learn."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="cross-validate pretrained features on real photos")
    demo.add_argument("--backbone", default="efficientnet_lite0", help="backbone name")
    demo.add_argument("--folds", type=int, default=5, help="cross-validation folds")
    demo.add_argument(
        "--cache", default=None, help="feature cache folder (default: a temporary one)"
    )
    demo.set_defaults(run=_demo)

    featurize = commands.add_parser(
        "featurize",
        help="pretrained features of a folder of images or a table of image paths",
        description="Write the pretrained features of every image, beside the input's columns "
        "(path, and label/split for a class-per-folder tree), to parquet or CSV.",
    )
    featurize.add_argument(
        "input",
        help="a folder (root/<label>/<image>, root/<split>/<label>/<image>, or images "
        "directly in it), or a .csv/.parquet table with an image-path column (relative "
        "paths are read from the table's folder)",
    )
    featurize.add_argument(
        "-o", "--output", required=True, help="output table: .parquet (default) or .csv"
    )
    featurize.add_argument("--column", default="path", help="the image-path column (default: path)")
    featurize.add_argument("--backbone", default="efficientnet_lite0", help="backbone name")
    featurize.add_argument("--batch-size", type=int, default=32, help="images per forward pass")
    featurize.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    featurize.add_argument("--cache", default=None, help="feature cache folder")
    featurize.add_argument(
        "--on-error",
        choices=["raise", "warn"],
        default="raise",
        help="raise: stop at the first unreadable image, naming it; warn: NaN features "
        "for unreadable images and one warning listing them",
    )
    featurize.set_defaults(run=_featurize)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sktransfer`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    from .exceptions import SktransferError

    try:
        return args.run(args)
    except UsageError as error:
        parser.exit(2, f"sktransfer {args.command}: error: {error}\n")
    except SktransferError as error:  # bad data or missing weights: a message, no traceback
        hint = " (here: --on-error warn)" if "on_error='warn'" in str(error) else ""
        parser.exit(1, f"sktransfer {args.command}: error: {error}{hint}\n")


if __name__ == "__main__":
    sys.exit(main())
