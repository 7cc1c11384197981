"""``sktransfer featurize``: pretrained features of a folder or table of images."""

from __future__ import annotations

import argparse
import time

from ._common import UsageError, add_backbone_options, check_output

TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def _read_images(source: str, column: str):
    """A DataFrame with an image-path ``column`` from a folder or a CSV/parquet table."""
    from pathlib import Path

    import pandas as pd

    from .._inputs import list_images
    from ..datasets import load_image_folder

    path = Path(source)
    if path.is_dir():
        if not any(f.is_dir() and not f.name.startswith(".") for f in path.iterdir()):
            return pd.DataFrame({column: list_images(path)})  # a flat folder: no labels
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


def run(args: argparse.Namespace) -> int:
    """Features of every image in a folder or table, written beside its columns."""
    import pandas as pd

    from ..image import PretrainedImageFeaturizer

    frame = _read_images(args.input, args.column)
    if frame.empty:
        raise UsageError(f"{args.input}: no images found.")
    images = [p for p in frame[args.column] if isinstance(p, str)]
    check_output(args.output, [args.input, *images])
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


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "featurize",
        help="pretrained features of a folder of images or a table of image paths",
        description="Write the pretrained features of every image, beside the input's columns "
        "(path, and label/split for a class-per-folder tree), to parquet or CSV.",
    )
    parser.add_argument(
        "input",
        help="a folder (root/<label>/<image>, root/<split>/<label>/<image>, or images "
        "directly in it), or a .csv/.parquet table with an image-path column (relative "
        "paths are read from the table's folder)",
    )
    parser.add_argument(
        "-o", "--output", required=True, help="output table: .parquet (default) or .csv"
    )
    parser.add_argument("--column", default="path", help="the image-path column (default: path)")
    add_backbone_options(parser)
    parser.add_argument(
        "--on-error",
        choices=["raise", "warn"],
        default="raise",
        help="raise: stop at the first unreadable image, naming it; warn: NaN features "
        "for unreadable images and one warning listing them",
    )
    parser.set_defaults(run=run)
